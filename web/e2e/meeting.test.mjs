// A meeting in real Chromium: two, then three participants see and hear each
// other, see mute and screen share, and see someone leave.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, join, shot, tile, framesAdvance, plays, audioFrom, eventually } from './harness.mjs';

let server;
let browser;
before(async () => {
  server = await startServer('meeting-server');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function idOf(page, name) {
  return tile(page, name).getAttribute('data-participant');
}

async function seesAndHears(page, other, otherId, step) {
  const video = tile(page, other).locator('video');
  const frames = await plays(video);
  assert.ok(frames.advanced, `${step}: ${other}'s video is not playing (${frames.before} then ${frames.after} frames)`);
  const first = await eventually(() => audioFrom(page, otherId), { message: `${step}: no audio element for ${other}` });
  const later = await eventually(
    async () => {
      const a = await audioFrom(page, otherId);
      return a && a.packets > first.packets + 20 && a.energy > 0 ? a : null;
    },
    { message: `${step}: ${other}'s audio is not arriving` },
  );
  assert.ok(later.playing, `${step}: ${other}'s audio element is paused`);
}

test('two then three participants meet, mute, share a screen and leave', async () => {
  // Alice creates the meeting from the home page.
  const alice = await newPage(browser);
  await alice.goto(server.url);
  await shot(alice, '01-home');
  await alice.getByRole('button', { name: 'Nouvelle réunion' }).click();
  await alice.waitForURL(/\/[a-z]{3}-[a-z]{4}-[a-z]{3}$/);
  const link = alice.url();
  await alice.getByLabel('Votre nom').fill('Alice');
  await alice.locator('video').first().waitFor();
  await shot(alice, '02-prejoin');
  await alice.getByRole('button', { name: 'Rejoindre la réunion' }).click();
  await alice.getByRole('status').filter({ hasText: 'Connecté' }).waitFor({ timeout: 20000 });

  // Bob joins by the link.
  const bob = await join(browser, link, 'Bob');
  await tile(alice, 'Bob').waitFor();
  await tile(bob, 'Alice').waitFor();
  const aliceId = await idOf(bob, 'Alice');
  const bobId = await idOf(alice, 'Bob');
  await seesAndHears(alice, 'Bob', bobId, 'two people');
  await seesAndHears(bob, 'Alice', aliceId, 'two people');
  await shot(alice, '03-two-participants');

  // Alice mutes her microphone: Bob sees it on her tile.
  await alice.getByRole('button', { name: 'Couper le micro' }).click();
  await tile(bob, 'Alice').getByRole('img', { name: 'Micro coupé' }).waitFor({ timeout: 5000 });
  await alice.getByRole('button', { name: 'Activer le micro' }).click();
  await tile(bob, 'Alice').getByRole('img', { name: 'Micro coupé' }).waitFor({ state: 'detached', timeout: 5000 });

  // Alice turns her camera off and on: Bob sees her avatar, then her video.
  await alice.getByRole('button', { name: 'Couper la caméra' }).click();
  await tile(bob, 'Alice').getByRole('img', { name: 'Caméra coupée' }).waitFor({ timeout: 5000 });
  await shot(bob, '04-alice-camera-off');
  await alice.getByRole('button', { name: 'Activer la caméra' }).click();
  const back = await eventually(async () => (await framesAdvance(tile(bob, 'Alice').locator('video'), 800)).advanced, {
    message: "Alice's video did not come back",
  });
  assert.ok(back);

  // Carol joins with her microphone off, then turns it on: everyone sees and
  // hears the two others.
  const carol = await join(browser, link, 'Carol', { micOff: true });
  const carolId = await idOf(alice, 'Carol');
  await tile(alice, 'Carol').getByRole('img', { name: 'Micro coupé' }).waitFor({ timeout: 5000 });
  await carol.getByRole('button', { name: 'Activer le micro' }).click();
  await tile(alice, 'Carol').getByRole('img', { name: 'Micro coupé' }).waitFor({ state: 'detached', timeout: 5000 });
  await seesAndHears(carol, 'Alice', aliceId, 'three people');
  await seesAndHears(carol, 'Bob', bobId, 'three people');
  await seesAndHears(alice, 'Carol', carolId, 'three people');
  await seesAndHears(bob, 'Carol', carolId, 'three people');
  for (const page of [alice, bob, carol]) assert.equal(await page.getByRole('listitem').count(), 3);
  await shot(carol, '05-three-participants');

  // Carol shares her screen: it is shown large to the others.
  await carol.getByRole('button', { name: 'Présenter l’écran' }).click();
  for (const page of [alice, bob]) {
    const stage = page.getByRole('region', { name: 'Écran de Carol' });
    const video = stage.locator('video');
    const frames = await plays(video);
    assert.ok(frames.advanced, 'the shared screen is not playing');
    const screenBox = await video.boundingBox();
    const tileBox = await tile(page, 'Carol').boundingBox();
    assert.ok(screenBox.width * screenBox.height > 4 * tileBox.width * tileBox.height, 'the screen share is not shown large');
  }
  await shot(alice, '06-carol-shares-her-screen');
  await carol.getByRole('button', { name: 'Arrêter la présentation' }).click();
  await alice.getByRole('region', { name: 'Écran de Carol' }).waitFor({ state: 'detached', timeout: 5000 });

  // Bob leaves: his tile disappears for the others.
  await bob.getByRole('button', { name: 'Quitter' }).click();
  await bob.getByRole('heading', { name: 'Vous avez quitté la réunion' }).waitFor();
  await shot(bob, '07-bob-left');
  for (const page of [alice, carol]) {
    await tile(page, 'Bob').waitFor({ state: 'detached', timeout: 10000 });
    assert.equal(await page.getByRole('listitem').count(), 2);
  }
  await shot(alice, '08-after-bob-left');

  // Carol closes her tab without leaving.
  await carol.context().close();
  await tile(alice, 'Carol').waitFor({ state: 'detached', timeout: 15000 });
  await alice.getByText('Vous êtes seul dans la réunion').waitFor();
  await shot(alice, '09-alone');
  await alice.context().close();
  await bob.context().close();
});
