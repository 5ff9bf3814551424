// Rooms with hosts, in real Chromium: the lobby (a guest knocks, the host
// hears it and lets them in), removal with a ban, muting everyone, and the
// room's rules (a pinned participant, a source participants may not send).
// Sign-in is off on the test server: whoever creates a room from the home
// page owns it (their browser's guest cookie), everyone else is a guest.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, join, shot, tile, framesAdvance, eventually, createMeeting, connected } from './harness.mjs';

let server;
let browser;
before(async () => {
  server = await startServer('lobby-server');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});


// host creates a room from the home page and enters it as its owner.
const host = (name) => createMeeting(browser, server, name);

// knock goes through the pre-join screen of a room whose lobby makes
// guests wait, until the waiting screen.
async function knock(page, link, name) {
  await page.goto(link);
  await page.getByLabel('Votre nom').fill(name);
  await page.locator('video').first().waitFor();
  await page.getByRole('button', { name: 'Rejoindre la réunion' }).click();
}

async function openPanel(page, button, name) {
  await page.getByRole('button', { name: button }).click();
  const panel = page.getByRole('complementary', { name });
  await panel.waitFor();
  return panel;
}

async function personActions(panel, name) {
  await panel.getByRole('button', { name: `Actions (${name})`, exact: true }).click();
  return panel.getByRole('list', { name: `Actions pour ${name}` });
}

// seesVideo checks that other's video plays on page, allowing it a few
// seconds to settle after the layout or the tracks changed.
async function seesVideo(page, other, step) {
  let frames;
  await eventually(async () => (frames = await framesAdvance(tile(page, other).locator('video'))).advanced, {
    timeout: 10000,
    message: `${step}: ${other}'s video is not playing`,
  }).catch(() => assert.fail(`${step}: ${other}'s video is not playing (${frames?.before} then ${frames?.after} frames)`));
}

test('in a trusted room a guest knocks, the host hears it and lets them in, and they meet without a reload', async () => {
  const { page: doctor, link } = await host('Doctor Who');

  // The host makes guests wait.
  await doctor.getByRole('button', { name: 'Paramètres de la réunion' }).click();
  const dialog = doctor.getByRole('dialog', { name: 'Paramètres de la réunion' });
  await dialog.getByRole('radio', { name: 'Personnes connectées' }).check();
  await shot(doctor, 'lobby-01-settings-dialog');
  await dialog.getByRole('button', { name: 'Enregistrer' }).click();
  await doctor.getByRole('alert').filter({ hasText: 'Paramètres de la réunion enregistrés' }).waitFor();
  const lobbyButton = doctor.getByRole('button', { name: /^Salle d’attente/ });
  assert.equal(await lobbyButton.getAttribute('data-knocks'), '0');

  // A guest knocks: they wait, and the host is told.
  const guest = await newPage(browser);
  await knock(guest, link, 'Gaston');
  await guest.getByRole('heading', { name: 'En attente : un hôte va vous laisser entrer' }).waitFor({ timeout: 15000 });
  await guest.evaluate(() => (window.__sameDocument = true));
  await shot(guest, 'lobby-02-waiting');

  await lobbyButton.locator('.count-badge').filter({ hasText: '1' }).waitFor({ timeout: 10000 });
  assert.equal(await lobbyButton.getAttribute('aria-label'), 'Salle d’attente, 1 personne attend');
  await doctor.locator('[aria-live]').filter({ hasText: 'Gaston demande à entrer.' }).waitFor({ state: 'attached', timeout: 5000 });
  await eventually(async () => Number(await lobbyButton.getAttribute('data-knocks')) >= 1, { message: 'the knock did not ring' });

  await lobbyButton.click();
  const panel = doctor.getByRole('complementary', { name: 'Salle d’attente' });
  const waiting = panel.getByRole('listitem').filter({ hasText: 'Gaston' });
  await waiting.waitFor();
  // Sign-in is off on this server: everyone is a guest, and no badge says so.
  assert.equal(await waiting.getByText('invité', { exact: true }).count(), 0, 'a guest badge where nobody can sign in');
  await shot(doctor, 'lobby-03-lobby-panel');
  await panel.getByRole('button', { name: 'Faire entrer (Gaston)', exact: true }).click();

  // The guest is in, in the same page, and the two see each other.
  await connected(guest);
  assert.equal(await guest.evaluate(() => window.__sameDocument), true, 'the page reloaded on entering');
  await guest.locator('[aria-live]').filter({ hasText: 'Un hôte vous a fait entrer' }).waitFor({ state: 'attached', timeout: 5000 });
  await panel.getByText('Personne n’attend.').waitFor();
  assert.equal(await lobbyButton.locator('.count-badge').count(), 0);
  await seesVideo(doctor, 'Gaston', 'after admission');
  await seesVideo(guest, 'Doctor Who', 'after admission');
  await shot(doctor, 'lobby-04-admitted');

  // A second guest is denied.
  const other = await newPage(browser);
  await knock(other, link, 'Rose');
  await panel.getByRole('button', { name: 'Refuser (Rose)', exact: true }).click();
  await other.getByText('Un hôte ne vous a pas laissé entrer.').waitFor({ timeout: 10000 });
  for (const page of [doctor, guest, other]) await page.context().close();
});

test('a guest removed and banned sees why, and cannot come back from the same browser', async () => {
  const { page: doctor, link } = await host('Doctor Who');
  const guest = await join(browser, link, 'Gaston');
  await tile(doctor, 'Gaston').waitFor();

  const panel = await openPanel(doctor, 'Participants', /^Participants \(2\)/);
  const row = panel.getByRole('listitem').filter({ hasText: 'Gaston' }).first();
  await row.waitFor();
  await panel.getByRole('listitem').filter({ hasText: 'Doctor Who (Vous)' }).first().getByText('Propriétaire').waitFor();
  const actions = await personActions(panel, 'Gaston');
  await shot(doctor, 'lobby-05-participants-panel');
  await actions.getByRole('button', { name: 'Retirer et bannir (Gaston)', exact: true }).click();
  const confirm = doctor.getByRole('dialog', { name: 'Retirer et bannir Gaston ?' });
  await confirm.waitFor();
  assert.equal(await confirm.getByRole('button', { name: 'Annuler' }).evaluate((b) => b === document.activeElement), true, 'focus does not start on Cancel');
  await shot(doctor, 'lobby-06-ban-confirmation');
  await confirm.getByRole('button', { name: 'Retirer et bannir', exact: true }).click();

  await guest.getByRole('heading', { name: 'Vous avez été retiré de la réunion' }).waitFor({ timeout: 10000 });
  assert.match(await guest.getByRole('alert').textContent(), /retiré de la réunion et ne vous permet pas de revenir/);
  await shot(guest, 'lobby-07-banned');
  await tile(doctor, 'Gaston').waitFor({ state: 'detached', timeout: 10000 });

  // The same browser (its guest cookie) opens the link again.
  await knock(guest, link, 'Gaston');
  await guest.getByRole('heading', { name: 'Vous ne pouvez pas rejoindre cette réunion' }).waitFor({ timeout: 10000 });
  assert.match(await guest.getByRole('alert').textContent(), /ne vous permet pas d’y revenir/);
  assert.equal(await tile(doctor, 'Gaston').count(), 0);

  // The owner finds the room among their recent ones on the home page.
  const code = new URL(link).pathname.slice(1);
  await doctor.goto(server.url);
  const recent = doctor.getByRole('region', { name: 'Vos réunions récentes' }).getByRole('link', { name: code });
  await recent.waitFor();
  await shot(doctor, 'lobby-14-home-recent-rooms');
  await recent.click();
  await doctor.waitForURL(link);
  for (const page of [doctor, guest]) await page.context().close();
});

test('a host mutes every microphone: the others see their own muted, and the host sees them muted', async () => {
  const { page: doctor, link } = await host('Doctor Who');
  const guests = [await join(browser, link, 'Amy'), await join(browser, link, 'Rory')];
  for (const name of ['Amy', 'Rory']) {
    await tile(doctor, name).waitFor();
    assert.equal(await tile(doctor, name).getByRole('img', { name: 'Micro coupé' }).count(), 0, `${name} starts muted`);
  }

  const panel = await openPanel(doctor, 'Participants', /^Participants \(3\)/);
  await panel.getByRole('button', { name: 'Couper tous les micros' }).click();
  const confirm = doctor.getByRole('dialog', { name: 'Couper tous les micros ?' });
  await confirm.getByRole('button', { name: 'Couper tous les micros' }).click();
  await confirm.waitFor({ state: 'detached' });

  for (const page of guests) {
    await page.getByRole('toolbar').getByRole('button', { name: 'Activer le micro', exact: true }).waitFor({ timeout: 10000 });
    await page.getByRole('alert').filter({ hasText: 'Doctor Who a coupé votre micro' }).waitFor();
  }
  for (const name of ['Amy', 'Rory']) {
    await tile(doctor, name).getByRole('img', { name: 'Micro coupé' }).waitFor({ timeout: 10000 });
    await panel.getByRole('listitem').filter({ hasText: name }).first().getByRole('img', { name: 'Micro coupé' }).waitFor();
  }
  // The host's own microphone stays on.
  await doctor.getByRole('toolbar').getByRole('button', { name: 'Couper le micro', exact: true }).waitFor();
  await shot(doctor, 'lobby-08-muted-all');
  await shot(guests[0], 'lobby-09-muted-by-host');

  // Amy may speak again.
  await guests[0].getByRole('button', { name: 'Activer le micro', exact: true }).click();
  await tile(doctor, 'Amy').getByRole('img', { name: 'Micro coupé' }).waitFor({ state: 'detached', timeout: 10000 });
  for (const page of [doctor, ...guests]) await page.context().close();
});

test('raised hands show in the order they were raised, and a host lowers them all', async () => {
  const { page: doctor, link } = await host('Doctor Who');
  const [amy, rory] = [await join(browser, link, 'Amy'), await join(browser, link, 'Rory')];
  for (const [page, name, rank] of [[rory, 'Rory', 1], [amy, 'Amy', 2]]) {
    const hand = page.getByRole('toolbar').getByRole('button', { name: 'Lever la main', exact: true });
    await hand.click();
    await eventually(async () => (await hand.getAttribute('aria-pressed')) === 'true', { message: `${name}'s hand button is not pressed` });
    await tile(doctor, name).getByRole('img', { name: `Main levée (${rank})` }).waitFor({ timeout: 10000 });
  }
  await doctor.locator('[aria-live]').filter({ hasText: 'Amy lève la main.' }).waitFor({ state: 'attached' });
  const panel = await openPanel(doctor, 'Participants', /^Participants \(3\)/);
  const names = await panel.locator('.person-name').allTextContents();
  assert.deepEqual(names.slice(0, 2), ['Rory', 'Amy'], `raised hands first, in order: ${names}`);
  await shot(doctor, 'lobby-15-hands');

  await panel.getByRole('button', { name: 'Baisser toutes les mains' }).click();
  for (const page of [amy, rory]) {
    await page.getByRole('alert').filter({ hasText: 'Doctor Who a baissé votre main' }).waitFor();
    const hand = page.getByRole('toolbar').getByRole('button', { name: 'Lever la main', exact: true });
    await eventually(async () => (await hand.getAttribute('aria-pressed')) === 'false', { message: 'a lowered hand still shows raised' });
  }
  assert.equal(await doctor.getByRole('img', { name: /^Main levée/ }).count(), 0, 'a hand still shows on the host\'s page');
  for (const page of [doctor, amy, rory]) await page.context().close();
});

test('a pinned participant is shown large to everyone, and a camera the room forbids goes off with the reason', async () => {
  const { page: doctor, link } = await host('Doctor Who');
  const amy = await join(browser, link, 'Amy');
  const rory = await join(browser, link, 'Rory');
  await tile(doctor, 'Rory').waitFor();

  const panel = await openPanel(doctor, 'Participants', /^Participants \(3\)/);
  const actions = await personActions(panel, 'Amy');
  await actions.getByRole('button', { name: 'Épingler pour tous (Amy)', exact: true }).click();
  for (const page of [doctor, rory]) {
    const stage = page.getByRole('region', { name: 'Amy, épinglé pour tous' });
    // The stage asks for the full layer, which starts on a keyframe.
    await eventually(async () => (await framesAdvance(stage.locator('video'))).advanced, { timeout: 10000, message: 'the pinned camera is not playing' });
    const stageBox = await stage.locator('video').boundingBox();
    const tileBox = await tile(page, 'Amy').boundingBox();
    assert.ok(stageBox.width * stageBox.height > 4 * tileBox.width * tileBox.height, 'the pinned participant is not shown large');
  }
  await shot(rory, 'lobby-10-pinned');

  // Cameras are no longer allowed for participants: theirs go off.
  await doctor.getByRole('button', { name: 'Paramètres de la réunion' }).click();
  const dialog = doctor.getByRole('dialog', { name: 'Paramètres de la réunion' });
  await dialog.getByRole('checkbox', { name: 'Caméra' }).uncheck();
  await dialog.getByRole('button', { name: 'Enregistrer' }).click();
  for (const name of ['Amy', 'Rory']) await tile(doctor, name).getByRole('img', { name: 'Caméra coupée' }).waitFor({ timeout: 10000 });
  const camera = rory.getByRole('toolbar').getByRole('button', { name: 'Activer la caméra', exact: true });
  await camera.waitFor({ timeout: 10000 });
  assert.equal(await camera.getAttribute('aria-disabled'), 'true');
  const reason = await camera.evaluate((b) => document.getElementById(b.getAttribute('aria-describedby'))?.textContent);
  assert.match(reason, /ne permettent pas aux participants d’activer leur caméra/);
  // Still reachable from the keyboard, it says why when pressed (once the
  // notice that the host stopped it has come, so as not to race it).
  await rory.getByRole('alert').filter({ hasText: 'Doctor Who a arrêté votre caméra' }).waitFor();
  await camera.focus();
  await rory.keyboard.press('Enter');
  await rory.getByRole('alert').filter({ hasText: 'ne permettent pas aux participants d’activer leur caméra' }).waitFor();
  // The host's own camera is not concerned.
  await seesVideo(amy, 'Doctor Who', 'cameras forbidden to participants');
  await shot(rory, 'lobby-11-camera-forbidden');
  for (const page of [doctor, amy, rory]) await page.context().close();
});

test('a link to no room says so, and too many attempts say how long to wait', async () => {
  // As in production: a code is a meeting only once a room was created.
  const strict = await startServer('lobby-strict-server', { unregistered: false, settings: ['--limits.joins_per_minute=1'] });
  try {
    const page = await newPage(browser);
    await knock(page, `${strict.url}/abc-defg-hij`, 'Gaston');
    await page.getByRole('heading', { name: 'Cette réunion n’existe pas' }).waitFor({ timeout: 10000 });
    await page.getByRole('link', { name: 'Retour à l’accueil' }).waitFor();
    await shot(page, 'lobby-12-no-such-room');

    // The one attempt a minute is spent.
    await knock(page, `${strict.url}/abc-defg-hij`, 'Gaston');
    await page.getByRole('heading', { name: 'Trop de tentatives' }).waitFor({ timeout: 10000 });
    assert.match(await page.getByRole('alert').textContent(), /Réessayez dans \d+ secondes/);
    const retry = page.getByRole('button', { name: /^Réessayer dans \d+ s$/ });
    assert.equal(await retry.isDisabled(), true);
    await shot(page, 'lobby-13-rate-limited');
    await page.context().close();
  } finally {
    await strict.stop();
  }
});
