// The measurements of the connection test page (/check): a data channel to
// the media server, answered on the very sockets meetings use, that echoes
// what it receives, directly or through the TURN relay. The server side is
// POST /api/v1/connection-test (docs/connection-test.md).

const endpoint = '/api/v1/connection-test';

// Thresholds past which a path works but a meeting on it suffers: beyond
// 300 ms a conversation starts to stumble, beyond 5 % loss video freezes.
export const maxGoodRTT = 300;
export const maxGoodLoss = 0.05;

const echoes = 50;
const echoInterval = 20; // ms between two echo requests
const echoGrace = 1000; // ms to wait for the last echoes
const gatherTimeout = 5000;
const openTimeout = 20000; // from the offer: gathering, the answer, ICE, DTLS and SCTP

export interface TestServers {
  iceServers: RTCIceServer[];
  turn: boolean; // whether the server offers a relay at all
}

export interface PathResult {
  rtt: number; // median round trip, ms
  loss: number; // 0..1
  protocol: string; // udp or tcp, between the browser and what it reached
  relayProtocol?: string; // through the relay: how the browser reaches it
}

// ProbeFailure says why a path could not be measured: the server could not
// be asked (unreachable), refused (with its message and, when rate
// limited, the seconds to wait), or the connection did not come up.
export class ProbeFailure extends Error {
  constructor(
    readonly reason: 'unreachable' | 'refused' | 'rate_limited' | 'no_connection' | 'no_relay',
    message = '',
    readonly retryAfter = 0,
  ) {
    super(message);
  }
}

async function request(init: RequestInit, signal: AbortSignal): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(endpoint, { ...init, signal });
  } catch (err) {
    if (signal.aborted) throw err;
    throw new ProbeFailure('unreachable');
  }
  const body = (await res.json().catch(() => ({}))) as { message?: string };
  if (res.status === 429) throw new ProbeFailure('rate_limited', body.message ?? '', Number(res.headers.get('Retry-After')) || 60);
  if (!res.ok) throw new ProbeFailure('refused', body.message ?? `HTTP ${res.status}`);
  return body;
}

// fetchServers asks for the TURN servers, which the relayed test needs
// before it makes its offer.
export async function fetchServers(signal: AbortSignal): Promise<TestServers> {
  const body = (await request({ method: 'GET' }, signal)) as { ice_servers?: RTCIceServer[]; turn?: boolean };
  return { iceServers: body.ice_servers ?? [], turn: !!body.turn };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((ok, fail) => {
    const timer = setTimeout(ok, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      fail(signal.reason);
    }, { once: true });
  });

function gathered(pc: RTCPeerConnection, signal: AbortSignal): Promise<void> {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise<void>((ok) => {
    const done = () => {
      clearTimeout(timer);
      ok();
    };
    // What was gathered by then is offered: a slow relay is the relayed
    // test's failure to report, not a reason to wait forever.
    const timer = setTimeout(done, gatherTimeout);
    pc.addEventListener('icegatheringstatechange', () => pc.iceGatheringState === 'complete' && done());
    signal.addEventListener('abort', done, { once: true });
  });
}

// opened resolves when dc opens. Made before the answer is applied: on a
// fast path the channel can open before setRemoteDescription's promise
// returns to the caller.
function opened(pc: RTCPeerConnection, dc: RTCDataChannel, signal: AbortSignal): Promise<void> {
  return new Promise<void>((ok, fail) => {
    if (dc.readyState === 'open') return ok();
    const failed = () => {
      clearTimeout(timer);
      fail(signal.aborted ? signal.reason : new ProbeFailure('no_connection'));
    };
    const timer = setTimeout(failed, openTimeout);
    dc.addEventListener('open', () => {
      clearTimeout(timer);
      ok();
    });
    pc.addEventListener('connectionstatechange', () => pc.connectionState === 'failed' && failed());
    signal.addEventListener('abort', failed, { once: true });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

// selectedPath reads, from the statistics, how the connection goes: the
// local candidate of the selected pair.
async function selectedPath(pc: RTCPeerConnection): Promise<{ protocol: string; relayProtocol?: string }> {
  const stats = await pc.getStats();
  let pair: RTCIceCandidatePairStats | undefined;
  stats.forEach((r) => {
    if (r.type === 'transport' && r.selectedCandidatePairId) pair = stats.get(r.selectedCandidatePairId);
  });
  if (!pair) stats.forEach((r) => r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded' && (pair = r));
  const local = pair && stats.get(pair.localCandidateId);
  return { protocol: local?.protocol ?? 'udp', relayProtocol: local?.candidateType === 'relay' ? local.relayProtocol : undefined };
}

// measure connects to the media server, directly (no ICE servers) or only
// through the relay, and sends small echo requests on an unordered channel
// that never retransmits, so that a lost message is a lost packet.
export async function measure(servers: TestServers, relay: boolean, signal: AbortSignal): Promise<PathResult> {
  const pc = new RTCPeerConnection(relay ? { iceServers: servers.iceServers, iceTransportPolicy: 'relay' } : { iceServers: [] });
  try {
    const dc = pc.createDataChannel('echo', { ordered: false, maxRetransmits: 0 });
    const open = opened(pc, dc, signal);
    open.catch(() => {}); // awaited below, unless the offer fails first
    await pc.setLocalDescription(await pc.createOffer());
    await gathered(pc, signal);
    const offer = pc.localDescription?.sdp ?? '';
    if (relay && !/ typ relay/.test(offer)) throw new ProbeFailure('no_relay');
    const answer = (await request({ method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ sdp: offer }) }, signal)) as { sdp: string };
    await pc.setRemoteDescription({ type: 'answer', sdp: answer.sdp });
    await open;

    const sentAt = new Map<number, number>();
    const rtts: number[] = [];
    dc.onmessage = (e) => {
      try {
        const seq = (JSON.parse(String(e.data)) as { seq?: unknown }).seq;
        const at = typeof seq === 'number' ? sentAt.get(seq) : undefined;
        if (at === undefined) return;
        sentAt.delete(seq as number);
        rtts.push(performance.now() - at);
      } catch {
        // not one of ours: ignored
      }
    };
    for (let seq = 0; seq < echoes; seq++) {
      sentAt.set(seq, performance.now());
      dc.send(JSON.stringify({ seq }));
      await sleep(echoInterval, signal);
    }
    for (let waited = 0; waited < echoGrace && sentAt.size > 0; waited += 50) await sleep(50, signal);
    if (rtts.length === 0) throw new ProbeFailure('no_connection');
    return { rtt: Math.round(median(rtts)), loss: (echoes - rtts.length) / echoes, ...(await selectedPath(pc)) };
  } finally {
    pc.close();
  }
}

// level returns the loudness of an analyser's input now, 0..100.
export function level(analyser: AnalyserNode, buffer: Float32Array<ArrayBuffer>): number {
  analyser.getFloatTimeDomainData(buffer);
  let sum = 0;
  for (const v of buffer) sum += v * v;
  const rms = Math.sqrt(sum / buffer.length);
  // Speech at a normal distance is around -30 dBFS; the scale runs from
  // -60 dBFS (silence) to -10 (shouting).
  const db = 20 * Math.log10(rms || 1e-6);
  return Math.max(0, Math.min(100, Math.round(((db + 60) / 50) * 100)));
}
