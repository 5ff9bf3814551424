// The participants panel, the home page's language menu, the dialogs' focus
// trap and picture-in-picture, in real Chromium: the search finds people
// whatever their name's accents and says how many it found; whoever's
// microphone makes sound shows as speaking; the home page switches to each
// of the four languages and remembers it; Tab goes round inside a dialog;
// the picture-in-picture window plays the active speaker's camera and
// follows the speaker.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';
import { startServer, launchBrowser, newPage, join, createMeeting, shot, axe, eventually, announced, plays } from './harness.mjs';

let server;
let browser; // the fake microphone plays a voice-like sound
let quiet; // the fake microphone beeps now and then
let dir;

// voiceFile writes 4 s of a sound loud enough to count as speech: a hum
// whose pitch and loudness wander as a voice's do, with no silence in it.
// A steady tone would do for the server, but the browser's noise
// suppression learns a steady sound and removes it.
function voiceFile() {
  const rate = 48000;
  const samples = rate * 4;
  const data = Buffer.alloc(samples * 2);
  let phase = 0;
  for (let i = 0; i < samples; i++) {
    const time = i / rate;
    const pitch = 150 + 60 * Math.sin(2 * Math.PI * 0.7 * time) + 25 * Math.sin(2 * Math.PI * 3.1 * time);
    phase += (2 * Math.PI * pitch) / rate;
    const envelope = 0.6 + 0.4 * Math.sin(2 * Math.PI * 4 * time);
    let v = 0;
    for (let h = 1; h <= 6; h++) v += Math.sin(h * phase) / h;
    data.writeInt16LE(Math.round(Math.max(-1, Math.min(1, 0.35 * envelope * v)) * 32767), i * 2);
  }
  const header = Buffer.alloc(44);
  header.write('RIFF', 0);
  header.writeUInt32LE(36 + data.length, 4);
  header.write('WAVEfmt ', 8);
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20); // PCM
  header.writeUInt16LE(1, 22); // mono
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36);
  header.writeUInt32LE(data.length, 40);
  const file = resolve(dir, 'voice.wav');
  writeFileSync(file, Buffer.concat([header, data]));
  return file;
}

before(async () => {
  dir = mkdtempSync(resolve(tmpdir(), 'visio-people-'));
  server = await startServer('people-server');
  browser = await launchBrowser({ audioFile: voiceFile() });
  quiet = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await quiet?.close();
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const toolbar = (page) => page.getByRole('toolbar', { name: 'Commandes de la réunion' });
const tools = (page) => page.getByRole('group', { name: 'Outils de la réunion' });
// Buttons are pressed from the keyboard: a layout may lay a video over
// the footer, which a mouse click would hit instead.
const mute = (page) => toolbar(page).getByRole('button', { name: 'Couper le micro', exact: true }).press('Enter');
const unmute = (page) => toolbar(page).getByRole('button', { name: 'Activer le micro', exact: true }).press('Enter');

async function openPeople(page) {
  await tools(page).getByRole('button', { name: 'Participants', exact: true }).press('Enter');
  const panel = page.getByRole('complementary', { name: /^Participants/ });
  await panel.waitFor();
  return panel;
}

// row is a person's line in the panel; its text is what a screen reader
// reads, the visually hidden parts included.
const row = (panel, name) => panel.locator('li.person').filter({ hasText: name });
const names = (panel) => panel.locator('li.person .person-name').allTextContents();
const speakingRows = async (panel) =>
  (await panel.locator('li.person').evaluateAll((rows) => rows.filter((r) => r.querySelector('.speaking-icon')).map((r) => r.textContent.match(/^[^,]*, parle/)?.[0] ?? r.textContent))).sort();

test('the participants panel finds people whatever their accents, says how many it found, and shows who speaks', async () => {
  const url = `${server.url}/peo-plea-bcd`;
  const alice = await join(browser, url, 'Alice', { micOff: true, camOff: true });
  const eloise = await join(browser, url, 'Éloïse', { camOff: true });
  const bob = await join(browser, url, 'Bob', { micOff: true, camOff: true });
  await announced(alice, 'Bob a rejoint la réunion');
  const panel = await openPeople(alice);
  await eventually(async () => (await names(panel)).length === 3, { message: 'the panel does not list three people' });

  // Only Éloïse's microphone makes sound: only she shows as speaking, with
  // words for screen readers.
  await eventually(async () => JSON.stringify(await speakingRows(panel)) === JSON.stringify(['Éloïse, parle']), {
    timeout: 20000,
    message: 'Éloïse, whose microphone makes sound, is not shown as the only one speaking',
  });
  assert.match(await row(panel, 'Éloïse').textContent(), /^Éloïse, parle/);
  assert.doesNotMatch(await row(panel, 'Bob').textContent(), /parle/);
  assert.ok(await row(panel, 'Éloïse').locator('.speaking-icon span').first().evaluate((el) => el.getAnimations().length > 0), 'the speaking bars do not move');
  await alice.emulateMedia({ reducedMotion: 'reduce' });
  assert.equal(await row(panel, 'Éloïse').locator('.speaking-icon span').first().evaluate((el) => el.getAnimations().length), 0, 'the bars move despite prefers-reduced-motion');
  await alice.emulateMedia({ reducedMotion: 'no-preference' });
  await shot(alice, 'people-01-speaking');

  // She mutes: she no longer speaks.
  await mute(eloise);
  await eventually(async () => (await speakingRows(panel)).length === 0, { timeout: 15000, message: 'Éloïse still shows as speaking once muted' });

  // The search: accents and case do not matter, and the count is said.
  const search = panel.getByRole('searchbox', { name: 'Rechercher un participant' });
  const result = panel.getByRole('status');
  await search.fill('eloise');
  assert.deepEqual(await names(panel), ['Éloïse']);
  assert.equal(await result.textContent(), '1 participant correspond');
  assert.equal(await search.getAttribute('aria-describedby'), await result.getAttribute('id'));
  await search.fill('B');
  assert.deepEqual(await names(panel), ['Bob']);
  await search.fill('I');
  assert.deepEqual((await names(panel)).sort(), ['Alice (Vous)', 'Éloïse']);
  assert.equal(await result.textContent(), '2 participants correspondent');
  await shot(alice, 'people-02-search');
  const violations = (await axe(alice)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(violations, [], 'the panel with a search has serious accessibility violations');

  await search.fill('Zoé');
  assert.equal(await panel.locator('li.person').count(), 0, 'someone is listed although nobody matches');
  assert.equal(await result.textContent(), 'Aucun participant ne correspond à « Zoé ». Vérifiez l’orthographe ou effacez la recherche.');
  await shot(alice, 'people-03-nobody');

  // Escape in the field clears it and leaves the panel open.
  await search.press('Escape');
  assert.equal(await search.inputValue(), '');
  assert.equal((await names(panel)).length, 3, 'clearing the search does not list everyone again');
  assert.equal(await result.textContent(), '');
  await panel.waitFor();
  // A second Escape, in the empty field, closes the panel.
  await search.press('Escape');
  await panel.waitFor({ state: 'detached' });
  for (const p of [alice, eloise, bob]) await p.context().close();
});

test('the home page offers the four languages, each in its own, switches to the one chosen and remembers it', async () => {
  const page = await newPage(quiet);
  await page.goto(server.url);
  const menu = page.getByRole('combobox', { name: 'Langue' });
  const options = await menu.locator('option').evaluateAll((all) => all.map((o) => `${o.value}:${o.lang}:${o.textContent}`));
  assert.deepEqual(options, ['fr:fr:Français', 'en:en:English', 'de:de:Deutsch', 'nl:nl:Nederlands']);
  assert.equal(await menu.inputValue(), 'fr');
  await shot(page, 'people-04-home-language');
  const violations = (await axe(page)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(violations, [], 'the home page has serious accessibility violations');

  // Each language: its words for the menu and the main button, and the
  // page's lang, before and after a reload.
  let label = 'Langue';
  for (const [code, menuLabel, newMeeting, check] of [
    ['en', 'Language', 'New meeting', 'Test my connection'],
    ['de', 'Sprache', 'Neue Besprechung', 'Meine Verbindung testen'],
    ['nl', 'Taal', 'Nieuwe vergadering', 'Mijn verbinding testen'],
    ['fr', 'Langue', 'Nouvelle réunion', 'Tester ma connexion'],
  ]) {
    await page.getByRole('combobox', { name: label }).selectOption(code);
    for (let round = 0; round < 2; round++) {
      await page.getByRole('button', { name: newMeeting }).waitFor();
      await page.getByRole('link', { name: check }).waitFor();
      assert.equal(await page.getAttribute('html', 'lang'), code);
      assert.equal(await page.getByRole('combobox', { name: menuLabel }).inputValue(), code);
      if (round === 0) await page.reload();
    }
    label = menuLabel;
  }

  // The connection test is a page of the app, opened without a reload.
  const link = page.getByRole('link', { name: 'Tester ma connexion' });
  assert.equal(await link.getAttribute('href'), '/check');
  await page.evaluate(() => (window.__samePage = true));
  await link.click();
  await page.waitForURL(`${server.url}/check`);
  assert.equal(await page.evaluate(() => window.__samePage), true, 'the link reloaded the page');
  await page.context().close();
});

test('Tab and Shift+Tab go round inside a dialog, which starts on its first field and gives focus back when closed', async () => {
  const { page } = await createMeeting(quiet, server, 'Alice');
  const opener = tools(page).getByRole('button', { name: 'Paramètres de la réunion' });
  await opener.press('Enter');
  const dialog = page.getByRole('dialog', { name: 'Paramètres de la réunion' });
  await dialog.waitFor();
  // What has focus, as a person would name it.
  const focused = () =>
    page.evaluate(() => {
      const el = document.activeElement;
      return { inDialog: !!el?.closest('dialog[open]'), name: (el?.labels?.[0]?.textContent ?? el?.textContent ?? '').trim(), tag: el?.tagName };
    });
  const first = await focused();
  assert.equal(first.inDialog, true, 'focus is not in the dialog once open');
  assert.equal(first.tag, 'INPUT', `focus starts on ${first.tag} "${first.name}", not on the first field`);

  // Forward: every stop is in the dialog, and after the last comes the first again.
  const stops = [first.name];
  for (let i = 0; i < 20; i++) {
    await page.keyboard.press('Tab');
    const now = await focused();
    assert.equal(now.inDialog, true, `Tab ${i + 1} left the dialog`);
    if (now.name === first.name) break;
    stops.push(now.name);
  }
  assert.ok(stops.length >= 4, `too few stops: ${stops.join(' | ')}`);
  assert.equal(stops.at(-1), 'Enregistrer', `the last stop is not the Save button: ${stops.join(' | ')}`);
  assert.equal((await focused()).name, first.name, `Tab from the last control did not come back to the first: ${stops.join(' | ')}`);

  // Backward: from the first, Shift+Tab goes to the last, then on backwards.
  await page.keyboard.press('Shift+Tab');
  assert.deepEqual(await focused(), { inDialog: true, name: 'Enregistrer', tag: 'BUTTON' });
  await page.keyboard.press('Shift+Tab');
  assert.equal((await focused()).name, stops.at(-2));
  await shot(page, 'people-05-dialog-focus');

  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.ok(await opener.evaluate((b) => b === document.activeElement), 'focus did not go back to the settings button');
  // Open again, Escape again: still closes (Chrome skips the cancel event
  // on a second Escape without a click).
  await page.keyboard.press('Enter');
  await dialog.waitFor();
  await page.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  await page.context().close();
});

test('picture-in-picture plays the active speaker’s camera and follows the speaker', async (t) => {
  const url = `${server.url}/pic-inpi-ctu`;
  const alice = await join(browser, url, 'Alice', { micOff: true });
  const supported = await alice.evaluate(() => ({
    api: 'pictureInPictureEnabled' in document && 'requestPictureInPicture' in HTMLVideoElement.prototype,
    enabled: document.pictureInPictureEnabled === true,
  }));
  const button = tools(alice).getByRole('button', { name: 'Image dans l’image' });
  if (!supported.api || !supported.enabled) {
    t.diagnostic(`picture-in-picture is not available in this Chromium (API present: ${supported.api}, document.pictureInPictureEnabled: ${supported.enabled}): checking that its button is absent`);
    const bob = await join(browser, url, 'Bob', { micOff: true });
    await announced(alice, 'Bob a rejoint la réunion');
    await new Promise((r) => setTimeout(r, 2000)); // Bob's camera has come
    assert.equal(await button.count(), 0, 'the button shows although the browser has no picture-in-picture');
    for (const p of [alice, bob]) await p.context().close();
    return;
  }

  // Alone, nobody's camera to show: no button.
  assert.equal(await button.count(), 0, 'the button shows with no camera to put in the window');
  const bob = await join(browser, url, 'Bob', { micOff: true });
  const carol = await join(browser, url, 'Carol', { micOff: true });
  await announced(alice, 'Carol a rejoint la réunion');
  const panel = await openPeople(alice);
  const idOf = (name) => row(panel, name).getAttribute('data-participant');
  const [bobId, carolId] = [await idOf('Bob'), await idOf('Carol')];

  // Carol speaks: she becomes the active speaker.
  await unmute(carol);
  await eventually(async () => JSON.stringify(await speakingRows(panel)) === JSON.stringify(['Carol, parle']), { timeout: 20000, message: 'Carol does not show as speaking' });
  await button.waitFor({ timeout: 10000 });
  assert.equal(await button.getAttribute('aria-pressed'), 'false');
  await button.press('Enter');
  await eventually(async () => (await button.getAttribute('aria-pressed')) === 'true', { timeout: 5000, message: 'the button is not pressed once the window is open' });

  // Whose camera the window plays: the same track as that person's tile.
  const inWindow = () =>
    alice.evaluate(() => {
      const v = document.pictureInPictureElement;
      if (!(v instanceof HTMLVideoElement)) return null;
      const track = v.srcObject?.getVideoTracks()[0];
      const tile = [...document.querySelectorAll('video[data-source="camera"]')].find((el) => el.srcObject?.getVideoTracks()[0] === track);
      return { participant: tile?.dataset.participant ?? null, live: track?.readyState === 'live', paused: v.paused };
    });
  await eventually(async () => (await inWindow())?.participant === carolId, { timeout: 10000, message: 'the window does not play Carol’s camera' });
  assert.deepEqual(await inWindow(), { participant: carolId, live: true, paused: false });
  const frames = await plays(alice.locator('video.pip-video'));
  assert.ok(frames.advanced, `the window’s video does not play: ${JSON.stringify(frames)}`);
  await shot(alice, 'people-06-picture-in-picture');

  // Bob speaks instead: the same window now plays Bob.
  await mute(carol);
  await unmute(bob);
  await eventually(async () => (await inWindow())?.participant === bobId, { timeout: 25000, message: 'the window does not follow Bob once he speaks' });
  assert.equal(await button.getAttribute('aria-pressed'), 'true', 'the window closed when the speaker changed');
  assert.ok((await plays(alice.locator('video.pip-video'))).advanced, 'the window’s video does not play Bob');

  // The button closes it; leaving closes it too.
  await button.press('Enter');
  await eventually(async () => (await alice.evaluate(() => document.pictureInPictureElement)) === null, { timeout: 5000, message: 'the button does not close the window' });
  assert.equal(await button.getAttribute('aria-pressed'), 'false');
  await button.press('Enter');
  await eventually(async () => (await inWindow()) !== null, { timeout: 5000, message: 'the window does not open again' });
  await toolbar(alice).getByRole('button', { name: 'Quitter' }).press('Enter');
  await eventually(async () => (await alice.evaluate(() => document.pictureInPictureElement)) === null, { timeout: 5000, message: 'leaving the meeting leaves the window open' });
  for (const p of [alice, bob, carol]) await p.context().close();
});
