// The meeting's keyboard shortcuts in real Chromium: Ctrl+D, Ctrl+E,
// Ctrl+Alt+H and Ctrl+Alt+C do what the microphone, camera, hand and chat
// buttons do, as the other participant sees; "?" opens the list of
// shortcuts in a modal dialog; Escape closes panels and dialogs; none of
// them fires while one types in a text field.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, join, shot, tile, announced, eventually, axe } from './harness.mjs';

let server;
let browser;
before(async () => {
  server = await startServer('shortcuts-server');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

// Focus on nothing in particular, as after clicking the page's background:
// shortcuts are for when no field has the keyboard.
const focusNothing = (page) => page.evaluate(() => (document.activeElement instanceof HTMLElement ? document.activeElement.blur() : undefined));

test('shortcuts toggle the microphone, camera and hand for everyone, and open the chat', async () => {
  const url = `${server.url}/kbd-shor-tcu`;
  const alice = await join(browser, url, 'Alice');
  const bob = await join(browser, url, 'Bob');
  await announced(alice, 'Bob a rejoint la réunion');
  const aliceSeen = tile(bob, 'Alice');
  await aliceSeen.waitFor();
  const toolbar = alice.getByRole('toolbar', { name: 'Commandes de la réunion' });

  // Microphone: the button flips, Alice hears what happened, Bob sees it.
  await focusNothing(alice);
  assert.equal(await aliceSeen.getByRole('img', { name: 'Micro coupé' }).count(), 0);
  await alice.keyboard.press('Control+d');
  await toolbar.getByRole('button', { name: 'Activer le micro', exact: true }).waitFor();
  await announced(alice, 'Micro coupé');
  await aliceSeen.getByRole('img', { name: 'Micro coupé' }).waitFor({ timeout: 10000 });
  await alice.keyboard.press('Control+d');
  await toolbar.getByRole('button', { name: 'Couper le micro', exact: true }).waitFor();
  await announced(alice, 'Micro activé');
  await aliceSeen.getByRole('img', { name: 'Micro coupé' }).waitFor({ state: 'detached', timeout: 10000 });

  // Camera.
  await alice.keyboard.press('Control+e');
  await toolbar.getByRole('button', { name: 'Activer la caméra', exact: true }).waitFor();
  await announced(alice, 'Caméra coupée');
  await aliceSeen.getByRole('img', { name: 'Caméra coupée' }).waitFor({ timeout: 10000 });
  await alice.keyboard.press('Control+e');
  await toolbar.getByRole('button', { name: 'Couper la caméra', exact: true }).waitFor({ timeout: 10000 });
  await aliceSeen.locator('video').waitFor({ timeout: 10000 });

  // Hand: pressed for Alice, announced and ranked for Bob.
  const hand = toolbar.getByRole('button', { name: 'Lever la main', exact: true });
  await alice.keyboard.press('Control+Alt+h');
  await eventually(async () => (await hand.getAttribute('aria-pressed')) === 'true', { message: 'Ctrl+Alt+H did not raise the hand' });
  await announced(bob, 'Alice lève la main.');
  await aliceSeen.getByRole('img', { name: 'Main levée (1)' }).waitFor();
  await alice.keyboard.press('Control+Alt+h');
  await eventually(async () => (await hand.getAttribute('aria-pressed')) === 'false', { message: 'Ctrl+Alt+H did not lower the hand' });
  await aliceSeen.getByRole('img', { name: 'Main levée (1)' }).waitFor({ state: 'detached' });

  // Chat: opens with focus on its heading, closes with the same keys.
  const chatButton = alice.getByRole('group', { name: 'Outils de la réunion' }).getByRole('button', { name: 'Discussion' });
  await alice.keyboard.press('Control+Alt+c');
  const chat = alice.getByRole('complementary', { name: 'Discussion' });
  await chat.waitFor();
  assert.equal(await chatButton.getAttribute('aria-expanded'), 'true');
  await shot(alice, 'shortcuts-chat');
  await alice.keyboard.press('Control+Alt+c');
  await chat.waitFor({ state: 'detached' });
  assert.equal(await chatButton.getAttribute('aria-expanded'), 'false');

  // Escape closes an open panel even when focus is not in it.
  await alice.keyboard.press('Control+Alt+c');
  await chat.waitFor();
  await focusNothing(alice);
  await alice.keyboard.press('Escape');
  await chat.waitFor({ state: 'detached' });

  for (const p of [alice, bob]) await p.context().close();
});

test('shortcuts do nothing while typing in the chat', async () => {
  const alice = await join(browser, `${server.url}/kbd-typi-ngc`, 'Alice');
  const toolbar = alice.getByRole('toolbar', { name: 'Commandes de la réunion' });
  await alice.getByRole('group', { name: 'Outils de la réunion' }).getByRole('button', { name: 'Discussion' }).click();
  const box = alice.getByLabel('Votre message');
  await box.focus();
  await alice.keyboard.press('Control+d');
  await alice.keyboard.press('Control+Alt+h');
  await alice.keyboard.type('Pourquoi ?');
  assert.equal(await box.inputValue(), 'Pourquoi ?');
  assert.equal(await alice.getByRole('dialog').count(), 0, '"?" typed in the chat opened a dialog');
  await toolbar.getByRole('button', { name: 'Couper le micro', exact: true }).waitFor();
  assert.equal(await toolbar.getByRole('button', { name: 'Lever la main', exact: true }).getAttribute('aria-pressed'), 'false');
  await alice.context().close();
});

test('"?" and the shortcuts button open a modal list of the shortcuts; Escape closes it and focus goes back', async () => {
  const alice = await join(browser, `${server.url}/kbd-help-dia`, 'Alice');
  const button = alice.getByRole('group', { name: 'Outils de la réunion' }).getByRole('button', { name: 'Raccourcis clavier' });
  const dialog = alice.getByRole('dialog', { name: 'Raccourcis clavier' });

  await focusNothing(alice);
  await alice.keyboard.press('Shift+?');
  await dialog.waitFor();
  const rows = await dialog.getByRole('row').allTextContents();
  for (const [what, keys] of [
    ['Activer ou couper le micro', 'Ctrl+D'],
    ['Activer ou couper la caméra', 'Ctrl+E'],
    ['Lever ou baisser la main', 'Ctrl+Alt+H'],
    ['Ouvrir ou fermer la discussion', 'Ctrl+Alt+C'],
    ['Afficher les raccourcis clavier', '?'],
    ['Fermer le panneau ou la fenêtre ouverte', 'Échap'],
  ]) {
    assert.ok(rows.some((r) => r.includes(what) && r.includes(keys)), `no row "${what}" with ${keys}: ${rows.join(' | ')}`);
  }
  await shot(alice, 'shortcuts-help');
  const serious = (await axe(alice)).filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(serious, [], 'the shortcuts dialog has serious accessibility violations');

  // Focus stays in the dialog, and the shortcuts sleep while it is open.
  for (let i = 0; i < 4; i++) {
    await alice.keyboard.press('Tab');
    assert.ok(await alice.evaluate(() => !!document.activeElement?.closest('dialog')), `Tab ${i + 1} left the dialog`);
  }
  await alice.keyboard.press('Control+d');
  await alice.getByRole('toolbar').getByRole('button', { name: 'Couper le micro', exact: true }).waitFor();

  await alice.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });

  // Opened from its button, it gives focus back to the button.
  await button.click();
  await dialog.waitFor();
  await alice.keyboard.press('Escape');
  await dialog.waitFor({ state: 'detached' });
  assert.ok(await button.evaluate((b) => b === document.activeElement), 'focus did not go back to the shortcuts button');

  // Ctrl+/ opens it too, as in Google Meet.
  await alice.keyboard.press('Control+/');
  await dialog.waitFor();
  await dialog.getByRole('button', { name: 'Fermer' }).click();
  await dialog.waitFor({ state: 'detached' });
  await alice.context().close();
});
