// Test harness for browser tests: a real `visio serve` process on free ports
// and Debian's Chromium with fake camera, microphone and screen, driven by
// playwright-core. Screenshots go to test-artifacts/e2e/.

import { spawn, execFileSync } from 'node:child_process';
import { createServer, connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { createRequire } from 'node:module';
import { mkdirSync, createWriteStream, writeFileSync, readFileSync, chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const artifacts = resolve(root, 'test-artifacts/e2e');
mkdirSync(artifacts, { recursive: true });

const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

// freePorts returns count TCP ports and count UDP ports that are free now.
// They are held open together, so no two coincide; another program can still
// take one before visio binds it, which startServer handles by trying again.
export async function freePorts(tcpCount, udpCount) {
  const held = [];
  const hold = (make, listen) =>
    new Promise((ok, fail) => {
      const s = make();
      s.once('error', fail);
      listen(s, () => {
        held.push(s);
        ok(s.address().port);
      });
    });
  try {
    const tcp = [];
    for (let i = 0; i < tcpCount; i++) tcp.push(await hold(() => createServer(), (s, ok) => s.listen(0, '0.0.0.0', ok)));
    const udp = [];
    for (let i = 0; i < udpCount; i++) udp.push(await hold(() => createSocket('udp4'), (s, ok) => s.bind(0, '0.0.0.0', ok)));
    return { tcp, udp };
  } finally {
    await Promise.all(held.map((s) => new Promise((ok) => s.close(() => ok()))));
  }
}

// startServer runs bin/visio and resolves once it serves. The TURN relay is
// off unless turn is set; iceTCP: false turns ICE-TCP off; allInterfaces
// makes the web server reachable from a test network (see isolatedHost).
// unregistered: false makes a room code with no room behind it a meeting
// that does not exist, as in production; settings are more --key=value flags;
// node makes it a node of a cluster reached at its own address (see
// cluster.mjs).
export async function startServer(name = 'server', options = {}) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServerOnce(name, options);
    } catch (err) {
      // A port chosen free was taken before visio bound it (browsers open
      // many sockets): try again on other ports.
      if (!err.portTaken || attempt === 3) throw err;
    }
  }
}

async function startServerOnce(name, { turn = false, iceTCP = true, allInterfaces = false, unregistered = true, settings = [], node = false }) {
  const { tcp: [http, tcp, turnTCP], udp: [udp, turnUDP] } = await freePorts(3, 2);
  const args = ['serve', `--database.url=sqlite:${resolve(mkdtempSync(resolve(tmpdir(), 'visio-db-')), 'visio.db')}`, `--rooms.allow_unregistered=${unregistered}`, `--http.addr=${allInterfaces ? '0.0.0.0' : '127.0.0.1'}:${http}`, `--media.udp_port=${udp}`, `--media.tcp_port=${iceTCP ? tcp : 0}`, '--log.level=info', ...settings];
  if (node) args.push(`--cluster.url=http://127.0.0.1:${http}`);
  args.push(...(turn ? [`--turn.udp_port=${turnUDP}`, `--turn.tcp_port=${turnTCP}`] : ['--turn.udp_port=0', '--turn.tcp_port=0']));
  const bin = resolve(root, 'bin/visio');
  // The server runs before the browsers in the CPU's queue, as it would on
  // a machine of its own: on a shared one, three browsers' encoders and
  // decoders can hold it back for tens of milliseconds, and the delay that
  // adds to the publishers' feedback reads as a congested link. Without the
  // right to raise a priority, nice runs it as it is.
  const proc = spawn('nice', ['-n', '-10', bin, ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logPath = resolve(artifacts, `${name}.log`);
  const log = createWriteStream(logPath);
  proc.stderr.pipe(log);
  const url = `http://127.0.0.1:${http}`;
  const deadline = Date.now() + 15000;
  for (;;) {
    if (proc.exitCode !== null) {
      await new Promise((ok) => log.end(ok));
      const err = new Error(`visio exited with ${proc.exitCode}; see ${name}.log`);
      err.portTaken = /address already in use/i.test(readFileSync(logPath, 'utf8'));
      throw err;
    }
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error('visio did not start within 15 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    port: http,
    stop: (signal = 'SIGTERM') =>
      new Promise((ok) => {
        if (proc.exitCode !== null || proc.signalCode !== null) return ok();
        proc.once('exit', ok);
        proc.kill(signal);
      }),
  };
}

// startProxy relays TCP connections to the web server on port. cut(ms)
// resets every connection it relays, the signalling WebSocket included,
// without a close frame, and turns new ones away for ms, as a short network
// outage does; unlike isolatedHost it needs no root. Browsers go through
// it at url.
export async function startProxy(port) {
  const pairs = new Set();
  let refuseUntil = 0;
  const proxy = createServer((client) => {
    if (Date.now() < refuseUntil) {
      client.resetAndDestroy();
      return;
    }
    const upstream = connect(port, '127.0.0.1');
    const pair = { client, upstream };
    pairs.add(pair);
    const close = () => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    for (const s of [client, upstream]) {
      s.on('error', close);
      s.on('close', close);
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise((ok, fail) => {
    proxy.once('error', fail);
    proxy.listen(0, '127.0.0.1', ok);
  });
  return {
    url: `http://127.0.0.1:${proxy.address().port}`,
    cut: async (ms) => {
      refuseUntil = Date.now() + ms;
      for (const { client, upstream } of pairs) {
        client.resetAndDestroy();
        upstream.resetAndDestroy();
      }
      pairs.clear();
      await new Promise((r) => setTimeout(r, ms));
    },
    stop: () =>
      new Promise((ok) => {
        for (const { client, upstream } of pairs) {
          client.destroy();
          upstream.destroy();
        }
        proxy.close(ok);
      }),
  };
}

const baseArgs = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
  '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage', '--autoplay-policy=no-user-gesture-required',
];

// launchBrowser starts Chromium. With devices, it has a fake camera and
// microphone (a moving pattern and a beep); with allow, it grants access to
// them, and to the screen, without asking.
// With udpBlocked, WebRTC may only use TCP, as behind a firewall that lets
// nothing else out. With audioFile (a 16-bit WAV), the fake microphone
// plays that file over and over instead of the beep.
export async function launchBrowser({ devices = true, allow = true, udpBlocked = false, audioFile = '' } = {}) {
  const args = [...baseArgs];
  if (udpBlocked) args.push('--force-webrtc-ip-handling-policy=disable_non_proxied_udp');
  if (devices) args.push('--use-fake-device-for-media-stream');
  if (devices && audioFile) args.push(`--use-file-for-fake-audio-capture=${audioFile}`);
  if (allow) args.push('--use-fake-ui-for-media-stream');
  return chromium.launch({ executablePath: chromiumPath, headless: true, args });
}

// newPage opens a page in a fresh browser profile, recording its peer
// connections in window.__pcs so that tests can read their statistics.
export async function newPage(browser, { locale = 'fr-FR', permissions = ['camera', 'microphone'] } = {}) {
  const ctx = await browser.newContext({ locale, permissions, viewport: { width: 1280, height: 720 } });
  await ctx.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    window.__pcs = [];
    window.RTCPeerConnection = class extends Native {
      constructor(...args) {
        super(...args);
        window.__pcs.push(this);
      }
    };
  });
  const page = await ctx.newPage();
  page.on('pageerror', (err) => console.error(`page error: ${err.message}`));
  return page;
}

// connected waits until the page says it is connected to the meeting.
export const connected = (page) => page.getByRole('status').filter({ hasText: 'Connecté' }).waitFor({ timeout: 20000 });

// enterMeeting goes through the pre-join screen the page shows, with the
// microphone off when micOff is set and the camera off when camOff is.
async function enterMeeting(page, name, { micOff = false, camOff = false } = {}) {
  await page.getByLabel('Votre nom').fill(name);
  await page.locator('video').first().waitFor(); // the camera is on: its preview plays
  if (camOff) await page.getByRole('button', { name: 'Couper la caméra' }).click();
  if (micOff) await page.getByRole('button', { name: 'Couper le micro' }).click();
  await page.getByRole('button', { name: 'Rejoindre la réunion' }).click();
  await connected(page);
}

// join opens a meeting link in a new page and enters the meeting (see
// enterMeeting for micOff and camOff; the rest goes to newPage).
export async function join(browser, url, name, { micOff = false, camOff = false, ...options } = {}) {
  const page = await newPage(browser, options);
  await page.goto(url);
  await enterMeeting(page, name, { micOff, camOff });
  return page;
}

// announced waits until a live region of the page says text, as a screen
// reader would.
export const announced = (page, text) => page.locator('[aria-live]').filter({ hasText: text }).waitFor({ state: 'attached', timeout: 10000 });

// createMeeting creates a room from server's home page and enters it as
// its owner, under name.
export async function createMeeting(browser, server, name) {
  const page = await newPage(browser);
  await page.goto(server.url);
  await page.getByRole('button', { name: 'Nouvelle réunion' }).click();
  await page.waitForURL(/\/[a-z]{3}-[a-z]{4}-[a-z]{3}$/);
  await enterMeeting(page, name);
  return { page, link: page.url() };
}

// axeScript is axe-core's browser build, from node_modules: the version
// package.json pins, not one fetched at run time.
const axeScript = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

// axe runs axe-core in the page against the WCAG 2.0 and 2.1 A and AA
// rules, and returns its violations: each with its rule id, impact, help
// text and the nodes (selector, HTML, what failed) it found. disabled
// names rules not to run; a caller says why next to it.
export async function axe(page, { disabled = [] } = {}) {
  // Evaluated rather than added as a <script>: the app's Content Security
  // Policy, which the tests keep, refuses inline scripts.
  if (!(await page.evaluate(() => 'axe' in window))) await page.evaluate(readFileSync(axeScript, 'utf8'));
  return page.evaluate(async (off) => {
    const rules = Object.fromEntries(off.map((id) => [id, { enabled: false }]));
    const result = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] }, rules, resultTypes: ['violations'] });
    return result.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), html: n.html, why: n.failureSummary })),
    }));
  }, disabled);
}

export async function shot(page, name) {
  await page.screenshot({ path: resolve(artifacts, `${name}.png`) });
}

export function tile(page, name) {
  return page.getByRole('listitem', { name, exact: true });
}

// framesAdvance checks that a video element decodes new frames, waiting
// up to timeout for the element.
export async function framesAdvance(video, wait = 1500, timeout = 30000) {
  await video.waitFor({ timeout });
  await video.evaluate((v) => new Promise((ok) => (v.readyState >= 2 ? ok() : v.addEventListener('loadeddata', ok, { once: true }))));
  const before = await video.evaluate((v) => v.getVideoPlaybackQuality().totalVideoFrames);
  await new Promise((r) => setTimeout(r, wait));
  const after = await video.evaluate((v) => v.getVideoPlaybackQuality().totalVideoFrames);
  return { before, after, advanced: after > before };
}

// plays waits until a video element decodes new frames, for up to timeout:
// on a busy machine a new stream may take a few seconds (it starts on a
// keyframe). It returns the frame counts of the last window it watched.
export async function plays(video, timeout = 10000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const frames = await framesAdvance(video, 1000);
    if (frames.advanced || Date.now() > deadline) return frames;
  }
}

// audioFrom reports the audio a page receives from a participant: the
// statistics of the inbound stream feeding that participant's audio element.
export async function audioFrom(page, participantId) {
  return page.evaluate(async (id) => {
    const el = document.querySelector(`audio[data-participant="${id}"]`);
    const track = el?.srcObject?.getAudioTracks()[0];
    if (!track) return null;
    for (const pc of window.__pcs) {
      const stats = await pc.getStats();
      for (const r of stats.values()) {
        if (r.type === 'inbound-rtp' && r.kind === 'audio' && r.trackIdentifier === track.id) {
          return { packets: r.packetsReceived, energy: r.totalAudioEnergy, playing: !el.paused };
        }
      }
    }
    return null;
  }, participantId);
}

// eventually calls check until it gives a value; message (or message())
// says what did not happen.
export async function eventually(check, { timeout = 15000, interval = 250, message = 'condition not met' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`${typeof message === 'function' ? message() : message} (last value: ${JSON.stringify(last)})`);
    await new Promise((r) => setTimeout(r, interval));
  }
}

// videoFrom reports the video a page receives from a participant's camera:
// the statistics of the inbound stream feeding the video in their tile.
export async function videoFrom(page, participantId, source = 'camera') {
  return page.evaluate(
    async ([id, src]) => {
      const el = document.querySelector(`video[data-participant="${id}"][data-source="${src}"]`);
      const track = el?.srcObject?.getVideoTracks()[0];
      if (!track) return null;
      for (const pc of window.__pcs) {
        const stats = await pc.getStats();
        for (const r of stats.values()) {
          if (r.type === 'inbound-rtp' && r.kind === 'video' && r.trackIdentifier === track.id) {
            return { frameHeight: r.frameHeight ?? 0, framesDecoded: r.framesDecoded ?? 0, bytes: r.bytesReceived, packetsLost: r.packetsLost, jitter: r.jitter, tileHeight: el.getBoundingClientRect().height };
          }
        }
      }
      return null;
    },
    [participantId, source],
  );
}

// keepResolution makes a page's camera keep its resolution when the
// machine is short of CPU (Chromium otherwise lowers every layer, which
// tests of layer selection cannot tell from the server's choice): it drops
// frames instead. It also sends 15 frames a second, not 30, which halves
// the work of its encoder and of the decoders that receive it.
export async function keepResolution(page) {
  await eventually(
    () =>
      page.evaluate(async () => {
        let done = false;
        for (const pc of window.__pcs) {
          for (const sender of pc.getSenders()) {
            if (sender.track?.kind !== 'video') continue;
            const params = sender.getParameters();
            if (params.encodings?.length) {
              const encodings = params.encodings.map((e) => ({ ...e, maxFramerate: 15 }));
              await sender.setParameters({ ...params, encodings, degradationPreference: 'maintain-resolution' });
              done = true;
            }
          }
        }
        return done;
      }),
    { message: 'the page sends no camera' },
  );
}

// sentLayers lists the camera layers a page sends: rid, rows, and why the
// browser holds a layer below what it was asked for (Chromium lowers every
// layer when short of CPU).
export async function sentLayers(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const pc of window.__pcs) {
      const stats = await pc.getStats();
      let available;
      for (const r of stats.values()) {
        if (r.type === 'candidate-pair' && r.nominated && r.state === 'succeeded') available = r.availableOutgoingBitrate;
      }
      for (const r of stats.values()) {
        if (r.type === 'outbound-rtp' && r.kind === 'video' && r.frameHeight) {
          out.push({ rid: r.rid, frameHeight: r.frameHeight, limitedBy: r.qualityLimitationReason, active: r.active, available });
        }
      }
    }
    return out;
  });
}

// selectedPath describes the candidate pairs a page's connections use: the
// local candidate's type (host, relay...) and protocol.
export async function selectedPaths(page) {
  return page.evaluate(async () => {
    const out = [];
    for (const pc of window.__pcs) {
      if (pc.connectionState === 'closed') continue;
      const stats = await pc.getStats();
      for (const r of stats.values()) {
        if (r.type === 'transport' && r.selectedCandidatePairId) {
          const pair = stats.get(r.selectedCandidatePairId);
          const local = pair && stats.get(pair.localCandidateId);
          if (local) out.push({ type: local.candidateType, protocol: local.protocol, relayProtocol: local.relayProtocol });
        }
      }
    }
    return out;
  });
}

// isolatedHost makes a test host: a network namespace joined to this one by
// a veth pair, in which a browser can run behind a firewall (blockUDP drops
// every UDP packet on its link), a narrow link (rateKbit shapes what it
// receives, as tc's tbf does) or a lossy one (lossPercent of UDP packets
// dropped each way). Start the server after it, so that the server
// listens on the link too; the browser reaches it at `http://${hostIP}:port`.
// It needs root, as CI has; elsewhere it returns null.
export function isolatedHost({ blockUDP = false, rateKbit = 0, lossPercent = 0 } = {}) {
  if (process.getuid?.() !== 0) return null;
  const id = `${process.pid % 10000}${Math.floor(Math.random() * 100)}`;
  const ns = `visio-e2e-${id}`;
  const outer = `ve${id}a`;
  const inner = `ve${id}b`;
  const subnet = `10.${100 + (Number(id) % 100)}.${Math.floor(Number(id) / 100) % 250}`;
  const run = (...args) => execFileSync(args[0], args.slice(1), { stdio: ['ignore', 'ignore', 'pipe'] });
  run('ip', 'netns', 'add', ns);
  try {
    run('ip', 'link', 'add', outer, 'type', 'veth', 'peer', 'name', inner);
    run('ip', 'link', 'set', inner, 'netns', ns);
    run('ip', 'addr', 'add', `${subnet}.1/24`, 'dev', outer);
    run('ip', '-n', ns, 'addr', 'add', `${subnet}.2/24`, 'dev', inner);
    run('ip', 'link', 'set', outer, 'up');
    run('ip', '-n', ns, 'link', 'set', 'lo', 'up');
    run('ip', '-n', ns, 'link', 'set', inner, 'up');
    if (blockUDP) {
      const rules = `table inet visio_block_udp {
  chain in {
    type filter hook input priority 0; policy accept;
    iifname "${inner}" meta l4proto udp drop
  }
  chain out {
    type filter hook output priority 0; policy accept;
    oifname "${inner}" meta l4proto udp drop
  }
}
`;
      const file = resolve(tmpdir(), `${ns}.nft`);
      writeFileSync(file, rules);
      run('ip', 'netns', 'exec', ns, 'nft', '-f', file);
      rmSync(file);
    }
    if (lossPercent > 0) {
      const rules = `table inet visio_lossy {
  chain in {
    type filter hook input priority 0; policy accept;
    iifname "${inner}" meta l4proto udp numgen random mod 100 < ${lossPercent} drop
  }
  chain out {
    type filter hook output priority 0; policy accept;
    oifname "${inner}" meta l4proto udp numgen random mod 100 < ${lossPercent} drop
  }
}
`;
      const file = resolve(tmpdir(), `${ns}-loss.nft`);
      writeFileSync(file, rules);
      run('ip', 'netns', 'exec', ns, 'nft', '-f', file);
      rmSync(file);
    }
    if (rateKbit > 0) {
      // Shape what the host receives: the egress of the outer end.
      run('tc', 'qdisc', 'add', 'dev', outer, 'root', 'tbf', 'rate', `${rateKbit}kbit`, 'burst', '16kb', 'latency', '100ms');
    }
  } catch (err) {
    run('ip', 'netns', 'del', ns);
    throw err;
  }
  const dir = mkdtempSync(resolve(tmpdir(), 'visio-e2e-'));
  const wrapper = resolve(dir, 'chromium');
  writeFileSync(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} ${chromiumPath} "$@"\n`);
  chmodSync(wrapper, 0o755);
  return {
    hostIP: `${subnet}.1`,
    // launch starts Chromium inside the namespace, allowed to use the camera
    // on the server's plain-HTTP origin there.
    launch: (port) =>
      chromium.launch({
        executablePath: wrapper,
        headless: true,
        args: [...baseArgs, '--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream',
          `--unsafely-treat-insecure-origin-as-secure=http://${subnet}.1:${port}`],
      }),
    // dropConnections kills the host's TCP connections to port (the
    // signalling WebSocket), as a NAT or proxy that forgets them does.
    dropConnections: (port) => {
      try {
        run('ip', 'netns', 'exec', ns, 'ss', '-K', 'dst', `${subnet}.1`, 'dport', '=', String(port));
      } catch {
        // ss reports an error for sockets it could not kill, after killing the others
      }
    },
    // cut takes the host's link down for ms, as a network outage does.
    cut: async (ms) => {
      run('ip', 'link', 'set', outer, 'down');
      await new Promise((r) => setTimeout(r, ms));
      run('ip', 'link', 'set', outer, 'up');
    },
    remove: () => {
      try {
        run('ip', 'netns', 'del', ns);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
