// Test harness for browser tests: a real `visio serve` process on free ports
// and Debian's Chromium with fake camera, microphone and screen, driven by
// playwright-core. Screenshots go to test-artifacts/e2e/.

import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createSocket } from 'node:dgram';
import { mkdirSync, createWriteStream } from 'node:fs';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const artifacts = resolve(root, 'test-artifacts/e2e');
mkdirSync(artifacts, { recursive: true });

const chromiumPath = process.env.CHROMIUM ?? '/usr/bin/chromium';

async function freeTCPPort() {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.once('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

async function freeUDPPort() {
  return new Promise((ok, fail) => {
    const s = createSocket('udp4');
    s.once('error', fail);
    s.bind(0, () => {
      const { port } = s.address();
      s.close(() => ok(port));
    });
  });
}

// startServer runs bin/visio and resolves once it serves.
export async function startServer(name = 'server') {
  const [http, udp, tcp] = [await freeTCPPort(), await freeUDPPort(), await freeTCPPort()];
  const bin = resolve(root, 'bin/visio');
  const proc = spawn(bin, ['serve', `--http.addr=127.0.0.1:${http}`, `--media.udp_port=${udp}`, `--media.tcp_port=${tcp}`, '--log.level=info'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const log = createWriteStream(resolve(artifacts, `${name}.log`));
  proc.stderr.pipe(log);
  const url = `http://127.0.0.1:${http}`;
  const deadline = Date.now() + 15000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`visio exited with ${proc.exitCode}; see ${name}.log`);
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
    stop: () =>
      new Promise((ok) => {
        proc.once('exit', ok);
        proc.kill('SIGTERM');
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
export async function launchBrowser({ devices = true, allow = true } = {}) {
  const args = [...baseArgs];
  if (devices) args.push('--use-fake-device-for-media-stream');
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

// join goes through the pre-join screen of a meeting link, with the
// microphone off when micOff is set.
export async function join(browser, url, name, { micOff = false, ...options } = {}) {
  const page = await newPage(browser, options);
  await page.goto(url);
  await page.getByLabel('Votre nom').fill(name);
  if (micOff) await page.getByRole('button', { name: 'Couper le micro' }).click();
  await page.getByRole('button', { name: 'Rejoindre la réunion' }).click();
  await page.getByRole('status').filter({ hasText: 'Connecté' }).waitFor({ timeout: 20000 });
  return page;
}

export async function shot(page, name) {
  await page.screenshot({ path: resolve(artifacts, `${name}.png`) });
}

export function tile(page, name) {
  return page.getByRole('listitem', { name, exact: true });
}

// framesAdvance checks that a video element decodes new frames.
export async function framesAdvance(video, wait = 1500) {
  await video.waitFor();
  await video.evaluate((v) => new Promise((ok) => (v.readyState >= 2 ? ok() : v.addEventListener('loadeddata', ok, { once: true }))));
  const before = await video.evaluate((v) => v.getVideoPlaybackQuality().totalVideoFrames);
  await new Promise((r) => setTimeout(r, wait));
  const after = await video.evaluate((v) => v.getVideoPlaybackQuality().totalVideoFrames);
  return { before, after, advanced: after > before };
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

export async function eventually(check, { timeout = 15000, interval = 250, message = 'condition not met' } = {}) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    last = await check();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`${message} (last value: ${JSON.stringify(last)})`);
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
            return { frameHeight: r.frameHeight ?? 0, framesDecoded: r.framesDecoded ?? 0, bytes: r.bytesReceived, tileHeight: el.getBoundingClientRect().height };
          }
        }
      }
      return null;
    },
    [participantId, source],
  );
}
