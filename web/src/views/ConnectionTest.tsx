import { useEffect, useRef, useState } from 'preact/hooks';
import { t, type MessageKey } from '../i18n';
import { classify, stopStream, type DeviceProblem } from '../media';
import { fetchServers, level, maxGoodLoss, maxGoodRTT, measure, ProbeFailure, type PathResult, type TestServers } from '../connectiontest';
import { followLink } from '../router';
import { Video } from './media';

type Status = 'waiting' | 'running' | 'ok' | 'warning' | 'failed' | 'skipped';
type StepId = 'camera' | 'microphone' | 'network' | 'relay';
interface Step {
  status: Status;
  result?: string;
}
type Verdict = { kind: 'good' } | { kind: 'limited'; reasons: string[] } | { kind: 'failed' };

const stepIds: StepId[] = ['camera', 'microphone', 'network', 'relay'];
const stepTitle: Record<StepId, MessageKey> = {
  camera: 'check.camera',
  microphone: 'check.microphone',
  network: 'check.network',
  relay: 'check.relay',
};
const statusLabel: Record<Status, MessageKey> = {
  waiting: 'check.status.waiting',
  running: 'check.status.running',
  ok: 'check.status.ok',
  warning: 'check.status.warning',
  failed: 'check.status.failed',
  skipped: 'check.status.skipped',
};
const cameraProblem: Record<DeviceProblem, MessageKey> = {
  denied: 'check.camera.denied',
  missing: 'check.camera.missing',
  busy: 'check.camera.busy',
  failed: 'check.camera.failed',
  insecure: 'check.camera.insecure',
};
const micProblem: Record<DeviceProblem, MessageKey> = {
  denied: 'check.mic.denied',
  missing: 'check.mic.missing',
  busy: 'check.mic.busy',
  failed: 'check.mic.failed',
  insecure: 'check.mic.insecure',
};

// A level above this, within micWait, means the microphone hears the user.
const heardLevel = 25;
const micWait = 10000;

const initialSteps = (): Record<StepId, Step> => ({ camera: { status: 'waiting' }, microphone: { status: 'waiting' }, network: { status: 'waiting' }, relay: { status: 'waiting' } });

async function open(kind: 'audio' | 'video'): Promise<{ stream?: MediaStream; problem?: DeviceProblem }> {
  if (!navigator.mediaDevices?.getUserMedia) return { problem: 'insecure' };
  try {
    const constraints = kind === 'video' ? { video: { width: { ideal: 1280 }, height: { ideal: 720 } } } : { audio: true };
    return { stream: await navigator.mediaDevices.getUserMedia(constraints) };
  } catch (err) {
    return { problem: classify(err) };
  }
}

const percent = (loss: number) => Math.round(loss * 100);

// quality tells what is wrong with a path that works, if anything.
function quality(r: PathResult): string[] {
  const out: string[] = [];
  if (r.rtt > maxGoodRTT) out.push(t('check.quality.slow', { rtt: r.rtt }));
  if (r.loss > maxGoodLoss) out.push(t('check.quality.lossy', { loss: percent(r.loss) }));
  return out;
}

function failureText(err: unknown, fallback: MessageKey): string {
  if (!(err instanceof ProbeFailure)) return t(fallback);
  switch (err.reason) {
    case 'unreachable':
      return t('check.unreachable');
    case 'rate_limited':
      return t('check.rateLimited', { seconds: err.retryAfter });
    case 'refused':
      return t('check.refused', { message: err.message });
  }
  return t(fallback);
}

// ConnectionTest is the page at /check: it tries the camera, the
// microphone, the network path to the media server and the TURN relay, one
// after the other, and sums up whether meetings will work from here. It
// starts when asked, so that the camera does not turn on by surprise.
export function ConnectionTest() {
  const [steps, setSteps] = useState(initialSteps);
  const [running, setRunning] = useState(false);
  const [current, setCurrent] = useState<StepId | null>(null);
  const [verdict, setVerdict] = useState<Verdict | null>(null);
  const [video, setVideo] = useState<MediaStreamTrack | null>(null);
  const [micLevel, setMicLevel] = useState<number | null>(null);
  const run = useRef<{ abort: AbortController; streams: MediaStream[]; audio?: AudioContext; timer?: number } | null>(null);

  const stop = () => {
    const r = run.current;
    if (!r) return;
    r.abort.abort();
    r.streams.forEach(stopStream);
    if (r.timer) clearInterval(r.timer);
    void r.audio?.close();
    run.current = null;
  };

  useEffect(() => {
    document.title = `${t('check.title')} · Visio`;
    return () => {
      stop();
      document.title = 'Visio';
    };
  }, []);

  const start = async () => {
    stop();
    const r = { abort: new AbortController(), streams: [] as MediaStream[] } as NonNullable<typeof run.current>;
    run.current = r;
    const { signal } = r.abort;
    const all = initialSteps();
    const set = (id: StepId, step: Step) => {
      if (signal.aborted) return;
      all[id] = step;
      setSteps({ ...all });
    };
    setSteps(all);
    setVerdict(null);
    setVideo(null);
    setMicLevel(null);
    setRunning(true);

    setCurrent('camera');
    set('camera', { status: 'running' });
    const cam = await open('video');
    const camTrack = cam.stream?.getVideoTracks()[0];
    if (cam.stream) r.streams.push(cam.stream);
    if (signal.aborted) return;
    if (camTrack) {
      const { width = 0, height = 0 } = camTrack.getSettings();
      setVideo(camTrack);
      set('camera', { status: 'ok', result: t('check.camera.ok', { width, height }) });
    } else {
      set('camera', { status: 'failed', result: t(cameraProblem[cam.problem ?? 'failed']) });
    }

    setCurrent('microphone');
    set('microphone', { status: 'running', result: t('check.mic.listening') });
    const mic = await open('audio');
    if (mic.stream) r.streams.push(mic.stream);
    if (signal.aborted) return;
    // The microphone is listened to while the network is tested: a silent
    // user costs the test no more than the ten seconds it waits anyway.
    const heard = mic.stream
      ? listen(r, mic.stream, signal, setMicLevel).then((ok) =>
          set('microphone', ok ? { status: 'ok', result: t('check.mic.heard') } : { status: 'warning', result: t('check.mic.silent') }),
        )
      : (set('microphone', { status: 'failed', result: t(micProblem[mic.problem ?? 'failed']) }), Promise.resolve());

    let servers: TestServers | null = null;
    let direct: PathResult | null = null;
    let relayed: PathResult | null = null;
    setCurrent('network');
    set('network', { status: 'running' });
    try {
      servers = await fetchServers(signal);
      direct = await measure(servers, false, signal);
      const problems = quality(direct);
      const text = direct.protocol === 'tcp' ? 'check.network.tcpOnly' : 'check.network.direct';
      set('network', {
        status: problems.length || direct.protocol === 'tcp' ? 'warning' : 'ok',
        result: [t(text, { protocol: direct.protocol.toUpperCase(), rtt: direct.rtt, loss: percent(direct.loss) }), ...problems].join(' '),
      });
    } catch (err) {
      if (signal.aborted) return;
      set('network', { status: 'failed', result: failureText(err, 'check.network.failed') });
    }

    setCurrent('relay');
    if (!servers) {
      set('relay', { status: 'failed', result: t('check.unreachable') });
    } else if (!servers.turn) {
      set('relay', { status: 'skipped', result: t('check.relay.none') });
    } else {
      set('relay', { status: 'running' });
      try {
        relayed = await measure(servers, true, signal);
        const problems = quality(relayed);
        set('relay', {
          status: problems.length ? 'warning' : 'ok',
          result: [t('check.relay.ok', { protocol: (relayed.relayProtocol ?? relayed.protocol).toUpperCase(), rtt: relayed.rtt, loss: percent(relayed.loss) }), ...problems].join(' '),
        });
      } catch (err) {
        if (signal.aborted) return;
        set('relay', { status: 'failed', result: failureText(err, 'check.relay.failed') });
      }
    }

    setCurrent(null);
    await heard;
    if (signal.aborted) return;
    setVerdict(judge(all, servers?.turn ?? false, direct, relayed));
    setRunning(false);
  };

  const progress = current ? t('check.progress', { step: t(stepTitle[current]), n: stepIds.indexOf(current) + 1, total: stepIds.length }) : '';

  return (
    <main class="page check">
      <h1>{t('check.title')}</h1>
      <p>{t('check.intro')}</p>
      <div class="check-body">
        <section class="preview" aria-label={t('prejoin.preview')}>
          {video ? <Video track={video} mirrored label={t('prejoin.preview')} /> : <div class="preview-off">{t('prejoin.noPreview')}</div>}
        </section>
        <div>
          <ol class="check-steps" aria-label={t('check.steps')}>
            {stepIds.map((id) => (
              <li key={id} class={`check-step ${steps[id].status}`}>
                <span class="check-icon" aria-hidden="true" />
                <div>
                  <h2>
                    {t(stepTitle[id])} <span class="check-state">{t(statusLabel[steps[id].status])}</span>
                  </h2>
                  {steps[id].result && <p>{steps[id].result}</p>}
                  {id === 'microphone' && micLevel !== null && (
                    <div class="check-meter" role="meter" aria-label={t('check.mic.level')} aria-valuemin={0} aria-valuemax={100} aria-valuenow={micLevel}>
                      <span style={{ width: `${micLevel}%` }} />
                    </div>
                  )}
                </div>
              </li>
            ))}
          </ol>
          <div role="status" class={`check-verdict ${verdict?.kind ?? ''}`}>
            {running && <p>{progress}</p>}
            {verdict && <VerdictText verdict={verdict} />}
          </div>
          <p class="row">
            {/* aria-disabled rather than disabled: the button keeps the focus while the test runs. */}
            <button type="button" class="primary" aria-disabled={running} onClick={() => !running && void start()}>
              {verdict ? t('check.again') : running ? t('check.status.running') : t('check.start')}
            </button>
            <a class="button" href="/" onClick={(e) => followLink(e, '/')}>
              {t('ended.home')}
            </a>
          </p>
        </div>
      </div>
    </main>
  );
}

function VerdictText({ verdict }: { verdict: Verdict }) {
  switch (verdict.kind) {
    case 'good':
      return <p class="check-verdict-title">{t('check.verdict.good')}</p>;
    case 'limited':
      return (
        <>
          <p class="check-verdict-title">{t('check.verdict.limited')}</p>
          <ul>
            {verdict.reasons.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        </>
      );
    case 'failed':
      return (
        <>
          <p class="check-verdict-title">{t('check.verdict.failed')}</p>
          <p>{t('check.tellIT', { host: location.host })}</p>
        </>
      );
  }
}

// judge sums up: meetings fail when the media server can be reached
// neither directly nor through the relay; they work with reservations when
// a device is missing, only TCP or only the relay works, the path is slow or
// lossy, or the relay that should rescue a closed network does not answer.
function judge(steps: Record<StepId, Step>, turn: boolean, direct: PathResult | null, relayed: PathResult | null): Verdict {
  if (!direct && !relayed) return { kind: 'failed' };
  const reasons: string[] = [];
  if (steps.camera.status !== 'ok') reasons.push(t('check.reason.camera'));
  if (steps.microphone.status !== 'ok') reasons.push(t('check.reason.mic'));
  const used = direct ?? relayed!;
  if (!direct) reasons.push(t('check.reason.relayOnly'));
  else if (direct.protocol === 'tcp') reasons.push(t('check.reason.tcp'));
  reasons.push(...quality(used));
  if (turn && !relayed) reasons.push(t('check.reason.relayFailed'));
  return reasons.length ? { kind: 'limited', reasons } : { kind: 'good' };
}

// listen shows the microphone's level until the run ends, and resolves
// whether it went past heardLevel within micWait.
function listen(
  r: { audio?: AudioContext; timer?: number },
  stream: MediaStream,
  signal: AbortSignal,
  show: (level: number) => void,
): Promise<boolean> {
  const audio = new AudioContext();
  r.audio = audio;
  void audio.resume();
  const analyser = audio.createAnalyser();
  analyser.fftSize = 1024;
  audio.createMediaStreamSource(stream).connect(analyser);
  const buffer = new Float32Array(analyser.fftSize);
  const started = performance.now();
  return new Promise<boolean>((done) => {
    let decided = false;
    const decide = (heard: boolean) => {
      if (decided) return;
      decided = true;
      done(heard);
    };
    r.timer = window.setInterval(() => {
      const now = level(analyser, buffer);
      show(now);
      if (now >= heardLevel) decide(true);
      else if (performance.now() - started > micWait) decide(false);
    }, 100);
    signal.addEventListener('abort', () => decide(false), { once: true });
  });
}
