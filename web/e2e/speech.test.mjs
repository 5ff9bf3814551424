// Live captions and transcripts in real Chromium, with a real recogniser:
// the server runs pocketsphinx (English only), Alice's fake microphone plays
// an English sentence spoken by espeak-ng, and Bob reads her captions. Then
// Alice makes a transcript, everyone is told while it runs, and she
// downloads it. Sign-in is off on the test server: whoever creates a room
// from the home page owns it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { startServer, launchBrowser, join, shot, eventually, createMeeting, connected, announced } from './harness.mjs';

const required = process.env.VISIO_REQUIRE_TEST_SERVICES === '1';
// Common words, which pocketsphinx's general model knows best.
const sentence = 'hello everyone this is a test of the meeting';

let dir;
let missing = '';
let server;
let aliceBrowser;
let bobBrowser;

function missingTool() {
  for (const tool of ['espeak-ng', 'sox']) {
    try {
      execFileSync(tool, ['--version'], { stdio: 'ignore' });
    } catch {
      return tool;
    }
  }
  return '';
}

// speechFile writes the sentence as Chromium's fake microphone wants it:
// a 16-bit WAV, here at 48 kHz, with silence after it so that each time it
// plays is an utterance of its own.
function speechFile() {
  const raw = resolve(dir, 'raw.wav');
  const out = resolve(dir, 'speech.wav');
  execFileSync('espeak-ng', ['-v', 'en-us', '-s', '140', '-w', raw, sentence]);
  execFileSync('sox', [raw, '-r', '48000', '-c', '1', '-b', '16', out, 'pad', '0.5', '2']);
  return out;
}

before(async () => {
  missing = missingTool();
  if (missing) return;
  dir = mkdtempSync(resolve(tmpdir(), 'visio-speech-'));
  const audioFile = speechFile();
  server = await startServer('speech-server', { settings: ['--speech.engine=pocketsphinx'] });
  aliceBrowser = await launchBrowser({ audioFile });
  bobBrowser = await launchBrowser();
});
after(async () => {
  await aliceBrowser?.close();
  await bobBrowser?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});


// host creates a room from the home page and enters it as its owner.
const host = (browser, name) => createMeeting(browser, server, name);

// watchAnnouncements counts what the captions' live region adds (what a
// screen reader reads out) and the changes to what it already holds (which
// a screen reader would read again).
async function watchAnnouncements(region) {
  await region.locator('[aria-live="polite"]').evaluate((el) => {
    window.__captions = { added: 0, changed: 0 };
    new MutationObserver((records) => {
      for (const r of records) {
        if (r.type === 'childList') window.__captions.added += [...r.addedNodes].filter((n) => n.nodeName === 'P').length;
        else window.__captions.changed++;
      }
    }).observe(el, { childList: true, characterData: true, subtree: true });
  });
}
const announcements = (page) => page.evaluate(() => window.__captions);

test('a host turns captions on, another participant reads what she says, and her transcript can be downloaded', { timeout: 180000 }, async (t) => {
  if (missing) {
    if (required) assert.fail(`${missing} is not installed: apt-get install espeak-ng sox`);
    t.skip(`${missing} is not installed (apt-get install espeak-ng sox); the speech browser test needs it`);
    return;
  }
  const { page: alice, link } = await host(aliceBrowser, 'Alice');
  const bob = await join(bobBrowser, link, 'Bob');
  const code = new URL(link).pathname.slice(1);

  // Alice opens the hosts' panel; the engine must work.
  await alice.getByRole('button', { name: 'Sous-titres et transcription' }).click();
  const panel = alice.getByRole('complementary', { name: 'Sous-titres et transcription' });
  await panel.waitFor();
  const unavailable = panel.locator('#speech-unavailable');
  if ((await unavailable.count()) > 0) {
    const reason = (await unavailable.innerText()).replace(/\s+/g, ' ');
    const fix = 'bin/visio needs -tags pocketsphinx (make build does it when libpocketsphinx-dev and pocketsphinx-en-us are installed)';
    if (required) assert.fail(`the server has no speech engine: ${reason}; ${fix}`);
    t.skip(`the server has no speech engine (${reason}); ${fix}`);
    return;
  }
  await panel.getByText(/Moteur de reconnaissance vocale : pocketsphinx/i).waitFor();
  await panel.getByText('fonctionne', { exact: true }).waitFor();
  assert.equal(await bob.getByRole('button', { name: 'Sous-titres et transcription' }).count(), 0, 'a participant who is not a host sees the hosts’ panel button');
  const captionsButton = bob.getByRole('toolbar').getByRole('button', { name: 'Sous-titres', exact: true });
  assert.equal(await captionsButton.count(), 0, 'the captions button shows while the room has no captions');

  // pocketsphinx knows English only.
  const language = panel.getByLabel('Langue parlée');
  await language.selectOption('en');
  await panel.getByRole('button', { name: 'Activer les sous-titres pour tous' }).click();
  await panel.getByRole('button', { name: 'Désactiver les sous-titres' }).waitFor({ timeout: 10000 });
  assert.equal(await language.inputValue(), 'en', 'the server did not keep English as the spoken language');
  await shot(alice, 'speech-01-host-panel');

  // Bob is told captions are there, and chooses to show them.
  await announced(bob, 'Les sous-titres sont disponibles');
  await captionsButton.waitFor();
  assert.equal(await captionsButton.getAttribute('aria-pressed'), 'false', 'captions show before Bob chose them');
  await captionsButton.click();
  assert.equal(await captionsButton.getAttribute('aria-pressed'), 'true');
  const region = bob.getByRole('region', { name: 'Sous-titres' });
  await region.waitFor();
  assert.equal(await region.locator('[aria-live="polite"]').count(), 1, 'the captions region has no polite live region');
  await watchAnnouncements(region);

  const caption = await eventually(
    async () => {
      const lines = await region.locator('.caption-line').evaluateAll((ls) =>
        ls.map((l) => ({ name: l.querySelector('.caption-name')?.textContent ?? '', text: l.querySelector('.caption-text')?.textContent ?? '' })),
      );
      return lines.find((l) => l.name === 'Alice' && l.text.trim() !== '');
    },
    { timeout: 20000, message: 'no caption of Alice’s speech on Bob’s page' },
  );
  console.log(`Bob's caption of Alice: "${caption.text}" (Alice said "${sentence}")`);
  await shot(bob, 'speech-02-captions');

  // Screen readers hear whole sentences, not every partial.
  const spoken = await eventually(
    async () => (await region.locator('[aria-live="polite"] p').allTextContents()).find((text) => text.startsWith('Alice : ')),
    { timeout: 30000, message: 'no final caption was announced to screen readers' },
  );
  console.log(`announced to screen readers: "${spoken}"`);
  assert.equal((await announcements(bob)).changed, 0, 'an announced caption changed in place: screen readers would read partials');

  // Alice starts a transcript, after being told everyone will know.
  await panel.getByRole('button', { name: 'Démarrer la transcription' }).click();
  const confirm = alice.getByRole('dialog', { name: 'Démarrer la transcription ?' });
  await confirm.getByText('Tous les participants verront qu’une transcription est en cours').waitFor();
  await shot(alice, 'speech-03-transcription-confirm');
  await confirm.getByRole('button', { name: 'Démarrer la transcription' }).click();
  for (const page of [alice, bob]) await page.locator('header').getByText(/^Transcription en cours depuis \d\d:\d\d$/).waitFor({ timeout: 10000 });
  await announced(bob, 'Une transcription de la réunion a commencé');
  await shot(bob, 'speech-04-transcribing-badge');

  // Let Alice say her sentence twice into the transcript.
  const before = (await announcements(bob)).added;
  await eventually(async () => (await announcements(bob)).added >= before + 2, { timeout: 40000, message: 'no new final caption while transcribing' });

  await panel.getByRole('button', { name: 'Arrêter la transcription' }).click();
  for (const page of [alice, bob]) await page.locator('header').getByText(/^Transcription en cours/).waitFor({ state: 'detached', timeout: 10000 });
  await announced(bob, 'La transcription de la réunion est arrêtée.');
  await alice.getByRole('alert').filter({ hasText: 'La transcription est prête' }).waitFor({ timeout: 15000 });

  // The transcript is listed, and every format downloads.
  const markdown = panel.getByRole('link', { name: /^Markdown/ }).first();
  await markdown.waitFor({ timeout: 15000 });
  await markdown.scrollIntoViewIfNeeded();
  await shot(alice, 'speech-05-transcripts');
  const [download] = await Promise.all([alice.waitForEvent('download'), markdown.click()]);
  const md = readFileSync(await download.path(), 'utf8');
  console.log(`transcript (Markdown):\n${md}`);
  assert.match(md, /Alice/, 'the Markdown transcript does not name Alice');
  const checks = { WebVTT: (body) => body.startsWith('WEBVTT'), SRT: (body) => body.includes('-->'), JSON: (body) => JSON.parse(body) !== null };
  for (const [format, valid] of Object.entries(checks)) {
    const href = await panel.getByRole('link', { name: new RegExp(`^${format}`) }).first().getAttribute('href');
    const res = await alice.context().request.get(new URL(href, alice.url()).href);
    assert.equal(res.status(), 200, `${format} download: ${res.status()}`);
    assert.match(res.headers()['content-disposition'] ?? '', /attachment/, `${format} is not sent as a download`);
    assert.ok(valid(await res.text()), `the ${format} transcript is not ${format}`);
  }

  // The transcripts are the hosts' only.
  const refused = await bob.context().request.get(`${server.url}/api/v1/rooms/${code}/transcripts`);
  assert.equal(refused.status(), 403, 'a participant who is not a host may list the transcripts');

  // Bob's choice to show captions outlives the page.
  await bob.reload();
  await bob.getByLabel('Votre nom').fill('Bob');
  await bob.locator('video').first().waitFor();
  await bob.getByRole('button', { name: 'Rejoindre la réunion' }).click();
  await connected(bob);
  await eventually(async () => (await captionsButton.getAttribute('aria-pressed').catch(() => null)) === 'true', { message: 'Bob’s choice to show captions was forgotten' });
  for (const page of [alice, bob]) await page.context().close();
});
