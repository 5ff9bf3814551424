// Layouts and bandwidth in real Chromium: pages of tiles in a meeting of 14
// where only the visible videos arrive, the speaker layout and a local pin,
// the low-bandwidth modes checked with getStats, and what large meetings
// change (joining muted, no more sounds). The other participants are
// synthetic ones from bin/visio-load (a camera each, three layers), far
// lighter for the machine than as many browsers.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, launchBrowser, join, shot, tile, eventually, announced, axe, audioFrom } from './harness.mjs';

const loadBin = resolve(dirname(fileURLToPath(import.meta.url)), '../../bin/visio-load');

let server;
let browser;
before(async () => {
  server = await startServer('layout-server');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

let rooms = 0;
const newRoom = () => `${server.url}/lay-outt-es${String.fromCharCode(97 + rooms++)}`;

// robots keeps synthetic participants in the meeting at link until stopped:
// Robot 1, Robot 2… with a camera each, the first speakers of them with a
// microphone too (they speak all the time).
async function robots(link, cameras, speakers = 0) {
  const [base, code] = [new URL(link).origin, new URL(link).pathname.slice(1)];
  const proc = spawn(loadBin, ['fill', `--url=${base}`, `--room=${code}`, `--cameras=${cameras}`, `--speakers=${speakers}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  proc.stderr.on('data', (d) => (err += d));
  await new Promise((ok, fail) => {
    proc.stdout.on('data', (d) => String(d).includes('participants in') && ok());
    proc.once('exit', (c) => fail(new Error(`visio-load fill exited with ${c}: ${err}`)));
  });
  return { stop: () => new Promise((ok) => (proc.exitCode !== null ? ok() : (proc.once('exit', ok), proc.kill('SIGTERM')))) };
}

// receiving returns the ids of the inbound video streams whose bytes grow
// by more than a trickle over two seconds: the videos that really arrive.
async function receiving(page) {
  const sample = () =>
    page.evaluate(async () => {
      const out = {};
      for (const pc of window.__pcs)
        for (const r of (await pc.getStats()).values()) if (r.type === 'inbound-rtp' && r.kind === 'video') out[r.trackIdentifier] = r.bytesReceived;
      return out;
    });
  const before = await sample();
  await new Promise((r) => setTimeout(r, 2000));
  const after = await sample();
  return Object.keys(after).filter((id) => after[id] - (before[id] ?? 0) > 4000);
}

// shownTracks returns the track ids of the remote videos on screen.
const shownTracks = (page) =>
  page.evaluate(() => [...document.querySelectorAll('video[data-participant]')].map((v) => v.srcObject?.getVideoTracks()[0]?.id).filter(Boolean));

const sameSet = (a, b) => a.length === b.length && a.every((x) => b.includes(x));

async function chooseInLayoutDialog(page, ...labels) {
  await page.getByRole('button', { name: 'Disposition' }).click();
  const dialog = page.getByRole('dialog', { name: 'Disposition et vidéo reçue' });
  for (const label of labels) await dialog.getByRole('radio', { name: label, exact: true }).check();
  return dialog;
}

test('with 14 people the meeting shows pages of tiles and receives video only for the visible ones', async () => {
  const link = newRoom();
  const alice = await join(browser, link, 'Alice', { camOff: true });
  await alice.setViewportSize({ width: 800, height: 600 });
  const crowd = await robots(link, 13);
  try {
    const pager = alice.getByRole('navigation', { name: 'Pages des participants' });
    await pager.getByText(/^Page 1 sur [2-9]$/).waitFor({ timeout: 20000 });
    const tiles = alice.getByRole('list', { name: 'Vignettes des participants' }).getByRole('listitem');
    const onFirst = await tiles.count();
    assert.ok(onFirst > 1 && onFirst < 14, `${onFirst} tiles on the first page`);
    await shot(alice, 'layout-01-pages-of-tiles');

    // Only the videos on this page arrive; the others are paused.
    const firstPage = await eventually(async () => {
      const [shown, got] = [await shownTracks(alice), await receiving(alice)];
      return shown.length === onFirst - 1 && sameSet(shown, got) ? shown : null;
    }, { timeout: 20000, message: 'the videos received are not those of the first page' });

    await pager.getByRole('button', { name: 'Page suivante' }).click();
    await pager.getByText(/^Page 2 sur/).waitFor();
    const secondPage = await eventually(async () => {
      const [shown, got] = [await shownTracks(alice), await receiving(alice)];
      return shown.length > 0 && sameSet(shown, got) ? shown : null;
    }, { timeout: 20000, message: 'the videos received are not those of the second page' });
    assert.ok(secondPage.every((id) => !firstPage.includes(id)), 'the second page repeats the first');
    await shot(alice, 'layout-02-second-page');
  } finally {
    await crowd.stop();
    await alice.context().close();
  }
});

test('audio only stops every video while the sound goes on; speaker only keeps one video', async () => {
  const link = newRoom();
  const alice = await join(browser, link, 'Alice', { camOff: true });
  const crowd = await robots(link, 3, 1);
  try {
    await tile(alice, 'Robot 3').waitFor();
    const speakerId = await tile(alice, 'Robot 1').getAttribute('data-participant');
    await eventually(async () => (await receiving(alice)).length === 3, { timeout: 20000, message: 'the three cameras do not arrive' });

    const dialog = await chooseInLayoutDialog(alice, 'Audio seulement');
    assert.deepEqual(await axe(alice), []);
    await shot(alice, 'layout-03-layout-dialog');
    await dialog.getByRole('button', { name: 'Fermer' }).click();
    await alice.getByText('Audio seulement', { exact: true }).waitFor(); // the header says so
    await eventually(async () => (await receiving(alice)).length === 0, { message: 'video still arrives in audio-only mode' });
    await tile(alice, 'Robot 1').getByRole('img', { name: 'Vidéo non reçue (économie de bande passante)' }).waitFor();
    // Robot 1 speaks on: its sound still arrives.
    const a = await audioFrom(alice, speakerId);
    await new Promise((r) => setTimeout(r, 1000));
    const b = await audioFrom(alice, speakerId);
    assert.ok(b.packets > a.packets, 'the sound stopped with the video');
    await shot(alice, 'layout-04-audio-only');

    await chooseInLayoutDialog(alice, 'Seulement la personne qui parle');
    await alice.keyboard.press('Escape');
    // Robot 1 speaks: its video alone arrives.
    await eventually(async () => sameSet(await receiving(alice), await shownTracks(alice)) && (await shownTracks(alice)).length === 1, {
      message: 'not exactly one video in speaker-only mode',
    });
    await tile(alice, 'Robot 1').locator('video').waitFor();

    await chooseInLayoutDialog(alice, 'Toutes les vidéos');
    await alice.keyboard.press('Escape');
    await eventually(async () => (await receiving(alice)).length === 3, { message: 'the videos do not come back' });
  } finally {
    await crowd.stop();
    await alice.context().close();
  }
});

test('the speaker layout shows someone large; a pin is one\'s own and shows the pinned one large', async () => {
  const link = newRoom();
  const alice = await join(browser, link, 'Alice', { camOff: true });
  const bob = await join(browser, link, 'Bob', { camOff: true, micOff: true });
  const crowd = await robots(link, 3);
  try {
    await tile(alice, 'Robot 3').waitFor();
    await chooseInLayoutDialog(alice, 'Personne qui parle');
    await alice.keyboard.press('Escape');
    // No one else has spoken: the stage shows the first other person.
    const stage = alice.locator('section.stage');
    await stage.waitFor();
    assert.match(await stage.getAttribute('aria-label'), /, qui parle$/);

    await tile(alice, 'Robot 1').getByRole('button', { name: 'Épingler Robot 1 pour moi' }).click();
    await alice.getByRole('region', { name: 'Robot 1, épinglé par vous' }).waitFor();
    await announced(alice, 'Robot 1 est affiché en grand pour vous.');
    const robot1 = await tile(alice, 'Robot 1').getAttribute('data-participant');
    // The stage asks for a larger layer than the tile did.
    const big = await eventually(async () => {
      const stats = await alice.evaluate(async (id) => {
        const v = document.querySelector(`section.stage video[data-participant="${id}"]`);
        return v ? v.getBoundingClientRect().height : 0;
      }, robot1);
      return stats > 300 ? stats : null;
    }, { message: 'the pinned video is not shown large' });
    assert.ok(big > 300);
    await shot(alice, 'layout-05-pinned-for-me');
    // Bob's view has not changed: the pin is Alice's own.
    assert.equal(await bob.locator('section.stage').count(), 0);

    await alice.getByRole('button', { name: 'Ne plus épingler Robot 1' }).first().click();
    await alice.getByRole('region', { name: /, qui parle$/ }).waitFor();
  } finally {
    await crowd.stop();
    for (const p of [alice, bob]) await p.context().close();
  }
});

test('who joins a large meeting starts muted and is told why; sounds stop above the threshold', async () => {
  const small = await startServer('layout-large-server', { settings: ['--rooms.muted_join_from=2', '--rooms.quiet_above=2'] });
  try {
    const link = `${small.url}/lar-gemt-ngs`;
    const alice = await join(browser, link, 'Alice', { camOff: true });
    const sounds = async () => Number(await alice.locator('.meeting').getAttribute('data-sounds'));
    const bob = await join(browser, link, 'Bob', { camOff: true });
    await tile(alice, 'Bob').waitFor();
    // Two people: a chime for Bob's arrival, one for his message.
    await eventually(async () => (await sounds()) === 1, { message: 'no sound when Bob joined' });
    await bob.getByRole('group', { name: 'Outils de la réunion' }).getByRole('button', { name: /^Discussion/ }).click();
    await bob.getByRole('textbox', { name: /message/i }).fill('Bonjour');
    await bob.keyboard.press('Enter');
    await eventually(async () => (await sounds()) === 2, { message: 'no sound for a chat message' });
    // Bob joined a meeting of one: his microphone is as he left it.
    assert.equal(await tile(alice, 'Bob').getByRole('img', { name: 'Micro coupé' }).count(), 0);

    const carol = await join(browser, link, 'Carol', { camOff: true });
    await carol.getByRole('alert').filter({ hasText: 'Vous êtes arrivé micro coupé : la réunion compte déjà 2 personnes.' }).waitFor();
    await carol.getByRole('button', { name: 'Activer le micro' }).waitFor();
    await tile(alice, 'Carol').getByRole('img', { name: 'Micro coupé' }).waitFor();
    await shot(carol, 'layout-06-joined-muted');
    // Three people, above the threshold: no sound for Carol, nor her message.
    await carol.getByRole('group', { name: 'Outils de la réunion' }).getByRole('button', { name: /^Discussion/ }).click();
    await carol.getByRole('textbox', { name: /message/i }).fill('Bonjour à tous');
    await carol.keyboard.press('Enter');
    await alice.getByRole('group', { name: 'Outils de la réunion' }).getByRole('button', { name: /^Discussion, 2/ }).waitFor();
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(await sounds(), 2, 'a sound played in a meeting above the threshold');
    for (const p of [alice, bob, carol]) await p.context().close();
  } finally {
    await small.stop();
  }
});
