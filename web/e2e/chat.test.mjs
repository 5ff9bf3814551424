// The meeting's chat and reactions, in real Chromium: messages with names,
// times and links, the unread badge, history for who joins late, a host
// deleting a message, a shared file downloaded byte for byte, messages
// written while the connection is down, and a reaction on a tile. Sign-in
// is off on the test server: whoever creates a room from the home page owns
// it, everyone else is a guest.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { startServer, startProxy, launchBrowser, join, shot, tile, eventually, createMeeting, connected, announced } from './harness.mjs';

// Small, so that a refused file is quick to send.
const maxFile = 1024 * 1024;

let server;
let proxy;
let browser;
before(async () => {
  server = await startServer('chat-server', { settings: [`--chat.max_file_bytes=${maxFile}`] });
  proxy = await startProxy(server.port);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await proxy?.stop();
  await server?.stop();
});


// host creates a room from the home page and enters it as its owner.
const host = (name) => createMeeting(browser, server, name);

const chatButton = (page) => page.getByRole('group', { name: 'Outils de la réunion' }).getByRole('button', { name: /^Discussion/ });

async function openChat(page) {
  await chatButton(page).click();
  const panel = page.getByRole('complementary', { name: 'Discussion' });
  await panel.waitFor();
  return panel;
}

// say writes text in the chat's box and sends it with Enter.
async function say(panel, text) {
  const box = panel.getByRole('textbox', { name: 'Votre message' });
  await box.fill(text);
  await box.press('Enter');
}

// posted is the message holding text, once the server posted it.
const posted = (panel, text) => panel.locator('li.chat-message[data-id]').filter({ hasText: text });
const texts = (panel) => panel.locator('li.chat-message[data-id] .chat-text').allTextContents();

test('a conversation: names, times and links, the unread badge, history for a late arrival, and a host deleting a message', async () => {
  const { page: alice, link } = await host('Alice');
  const bob = await join(browser, link, 'Bob', { camOff: true });
  await tile(alice, 'Bob').waitFor();

  const alicePanel = await openChat(alice);
  await alicePanel.getByText('Aucun message pour l’instant.', { exact: false }).waitFor();
  const first = 'Bonjour Bob,\nle compte rendu est là : https://example.org/compte-rendu?id=7.';
  await say(alicePanel, first);
  const box = alicePanel.getByRole('textbox', { name: 'Votre message' });
  assert.equal(await box.inputValue(), '', 'the box still holds the message sent');
  assert.equal(await box.evaluate((el) => el === document.activeElement), true, 'the box lost focus on sending');
  const own = posted(alicePanel, 'Bonjour Bob');
  await own.waitFor({ timeout: 10000 });
  await own.getByText('Alice (Vous)').waitFor();

  // Bob's panel is closed: a badge counts the message, and a screen reader
  // hears it.
  const badge = chatButton(bob).locator('.count-badge');
  await badge.filter({ hasText: '1' }).waitFor({ timeout: 10000 });
  assert.equal(await chatButton(bob).getAttribute('aria-label'), 'Discussion, 1 message non lu');
  await announced(bob, 'Alice : Bonjour Bob,');
  await shot(bob, 'chat-01-unread-badge');

  const bobPanel = await openChat(bob);
  assert.equal(await badge.count(), 0, 'the badge stays once the chat is open');
  assert.equal(await chatButton(bob).getAttribute('aria-label'), null);
  const message = posted(bobPanel, 'Bonjour Bob');
  await message.locator('.chat-name').filter({ hasText: /^Alice$/ }).waitFor();
  assert.match(await message.locator('time').textContent(), /^\d{2}:\d{2}$/);
  assert.equal(await message.locator('.chat-text').evaluate((el) => el.innerText), first, 'the text or its line break changed');
  const url = message.getByRole('link', { name: 'https://example.org/compte-rendu?id=7', exact: true });
  assert.equal(await url.getAttribute('href'), 'https://example.org/compte-rendu?id=7', 'the sentence’s full stop went into the link');
  assert.equal(await url.getAttribute('rel'), 'noopener noreferrer');
  assert.equal(await url.getAttribute('target'), '_blank');

  // Markup is shown as typed, and only http(s) addresses become links.
  const markup = '<b>gras</b> <img src=x onerror="window.__injected=1"> javascript:alert(1)';
  await say(bobPanel, markup);
  const shown = posted(alicePanel, 'gras');
  await shown.waitFor({ timeout: 10000 });
  assert.equal(await shown.locator('.chat-text').textContent(), markup);
  assert.equal(await shown.locator('b, img').count(), 0, 'a message’s markup was rendered');
  assert.equal(await shown.getByRole('link').count(), 0, 'a javascript: text became a link');
  assert.equal(await alice.evaluate(() => window.__injected), undefined);

  // Shift+Enter goes to the line, Enter sends.
  const bobBox = bobPanel.getByRole('textbox', { name: 'Votre message' });
  await bobBox.fill('Première ligne');
  await bobBox.press('Shift+Enter');
  await bobBox.pressSequentially('deuxième ligne');
  await bobBox.press('Enter');
  await posted(alicePanel, 'deuxième ligne').waitFor({ timeout: 10000 });
  assert.equal(await posted(alicePanel, 'deuxième ligne').locator('.chat-text').textContent(), 'Première ligne\ndeuxième ligne');
  await shot(alice, 'chat-02-conversation');

  // Carol arrives late: the history shows, in order, and is not unread.
  const carol = await join(browser, link, 'Carol', { camOff: true });
  await eventually(async () => (await chatButton(carol).count()) === 1, { message: 'Carol has no chat button' });
  await new Promise((r) => setTimeout(r, 500)); // the history has come
  assert.equal(await chatButton(carol).locator('.count-badge').count(), 0, 'the history counts as unread');
  const carolPanel = await openChat(carol);
  await posted(carolPanel, 'deuxième ligne').waitFor({ timeout: 10000 });
  assert.deepEqual(await texts(carolPanel), [first, markup, 'Première ligne\ndeuxième ligne']);
  await shot(carol, 'chat-03-history');

  // Only hosts may delete; Alice deletes Bob's markup, after confirming.
  assert.equal(await bobPanel.getByRole('button', { name: /^Supprimer le message/ }).count(), 0, 'a participant who is not a host may delete');
  const time = await shown.locator('time').textContent();
  await alicePanel.getByRole('button', { name: `Supprimer le message de Bob de ${time} : <b>gras</b>`, exact: false }).click();
  const confirm = alice.getByRole('dialog', { name: 'Supprimer ce message ?' });
  await confirm.waitFor();
  await shot(alice, 'chat-04-delete-confirmation');
  await confirm.getByRole('button', { name: 'Supprimer', exact: true }).click();
  for (const page of [bob, carol, alice]) {
    const panel = page.getByRole('complementary', { name: 'Discussion' });
    await panel.locator('li.chat-message.deleted').getByText('Message supprimé par un hôte').waitFor({ timeout: 10000 });
    assert.equal(await panel.getByText('gras').count(), 0, 'the deleted text still shows');
  }
  assert.deepEqual(await texts(carolPanel), [first, 'Première ligne\ndeuxième ligne']);
  // The delete button went with the text; focus did not go with it.
  await eventually(async () => (await alice.evaluate(() => document.activeElement?.getAttribute('aria-label'))) === 'Messages de la discussion', {
    timeout: 5000,
    message: 'focus is lost after deleting a message',
  });
  await shot(bob, 'chat-05-deleted');
  for (const page of [alice, bob, carol]) await page.context().close();
});

test('a file shared in the chat is downloaded by another participant with the same bytes', async () => {
  const { page: alice, link } = await host('Alice');
  const bob = await join(browser, link, 'Bob', { camOff: true });
  const alicePanel = await openChat(alice);
  const bobPanel = await openChat(bob);

  const content = Buffer.from('Ordre du jour\n1. Budget\n2. Calendrier — réunion du 3 décembre\n', 'utf8');
  const chooser = alice.waitForEvent('filechooser');
  await alicePanel.getByRole('button', { name: 'Joindre un fichier' }).click();
  await (await chooser).setFiles({ name: 'ordre-du-jour.txt', mimeType: 'text/plain', buffer: content });

  const card = bobPanel.getByRole('group', { name: 'Fichier ordre-du-jour.txt' });
  await card.waitFor({ timeout: 15000 });
  await card.getByText(`${content.length} o`, { exact: true }).waitFor();
  await alicePanel.getByRole('group', { name: 'Fichier ordre-du-jour.txt' }).waitFor();
  await announced(bob, 'Alice a partagé le fichier ordre-du-jour.txt');
  await shot(bob, 'chat-06-file');

  const downloading = bob.waitForEvent('download');
  await card.getByRole('link', { name: `Télécharger ordre-du-jour.txt (${content.length} o)` }).click();
  const download = await downloading;
  assert.equal(download.suggestedFilename(), 'ordre-du-jour.txt');
  assert.deepEqual(await readFile(await download.path()), content, 'the downloaded file differs from the one shared');
  for (const page of [alice, bob]) await page.context().close();
});

test('a file over the limit is refused with the reason, and a large upload shows its progress', async () => {
  const { page: alice } = await host('Alice');
  const panel = await openChat(alice);
  const attach = async (name, buffer) => {
    const chooser = alice.waitForEvent('filechooser');
    await panel.getByRole('button', { name: 'Joindre un fichier' }).click();
    await (await chooser).setFiles({ name, mimeType: 'application/octet-stream', buffer });
  };

  await attach('trop-gros.bin', Buffer.alloc(maxFile + 512 * 1024, 1));
  const refusal = panel.getByRole('alert').filter({ hasText: 'Le fichier trop-gros.bin (1,5 Mo) est trop volumineux.' });
  await refusal.waitFor({ timeout: 15000 });
  assert.match(await refusal.textContent(), /1 MiB/, 'the server’s reason is not shown');
  await shot(alice, 'chat-07-file-too-large');
  assert.equal(await panel.getByRole('group', { name: /^Fichier / }).count(), 0, 'a refused file was shared');

  // A slow uplink, so that the upload takes a few seconds.
  const cdp = await alice.context().newCDPSession(alice);
  await cdp.send('Network.enable');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 150 * 1024 });
  await attach('diaporama.bin', Buffer.alloc(maxFile - 64 * 1024, 2));
  const bar = panel.getByRole('progressbar', { name: /^Envoi de diaporama\.bin : \d+ %$/ });
  await bar.waitFor({ timeout: 10000 });
  await eventually(async () => {
    const value = Number(await bar.getAttribute('value').catch(() => null));
    return value > 0 && value < 100;
  }, { timeout: 10000, interval: 100, message: 'the progress bar does not move' });
  assert.equal(await refusal.count(), 0, 'the earlier refusal still shows');
  await shot(alice, 'chat-08-upload-progress');
  await cdp.send('Network.emulateNetworkConditions', { offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1 });
  await panel.getByRole('group', { name: 'Fichier diaporama.bin' }).waitFor({ timeout: 30000 });
  assert.equal(await bar.count(), 0, 'the progress bar stays after the upload');
  await alice.context().close();
});

test('messages written while the connection is down go once it is back, once each, and none sent meanwhile is lost', async () => {
  const { page: alice, link } = await host('Alice');
  // Bob reaches the server through a relay that can cut his connection.
  const bob = await join(browser, `${proxy.url}${new URL(link).pathname}`, 'Bob', { camOff: true });
  const alicePanel = await openChat(alice);
  const bobPanel = await openChat(bob);
  await say(alicePanel, 'Avant la coupure');
  await posted(bobPanel, 'Avant la coupure').waitFor({ timeout: 10000 });

  const outage = proxy.cut(4000);
  await bob.getByRole('status').filter({ hasText: 'reconnexion' }).waitFor({ timeout: 10000 });
  await say(bobPanel, 'Écrit pendant la coupure');
  const pending = bobPanel.locator('li.chat-message.pending').filter({ hasText: 'Écrit pendant la coupure' });
  await pending.getByText('Envoi…').waitFor();
  await bobPanel.getByText('Connexion interrompue : vos messages partiront dès son retour.').waitFor();
  assert.equal(await pending.evaluate((el) => Number(getComputedStyle(el).opacity) < 1), true, 'a message on its way is not dimmed');
  await say(alicePanel, 'Pendant que Bob était coupé');
  await shot(bob, 'chat-09-pending');
  await outage;

  await connected(bob);
  await posted(alicePanel, 'Écrit pendant la coupure').waitFor({ timeout: 15000 });
  await posted(bobPanel, 'Écrit pendant la coupure').waitFor({ timeout: 10000 });
  await posted(bobPanel, 'Pendant que Bob était coupé').waitFor({ timeout: 10000 });
  assert.equal(await pending.count(), 0, 'the message still shows as on its way');
  await new Promise((r) => setTimeout(r, 1000)); // a second copy would have come by now
  for (const panel of [alicePanel, bobPanel]) {
    assert.deepEqual(await texts(panel), ['Avant la coupure', 'Pendant que Bob était coupé', 'Écrit pendant la coupure']);
  }
  await shot(bob, 'chat-10-after-outage');
  for (const page of [alice, bob]) await page.context().close();
});

test('a reaction picked from the keyboard floats on the sender’s tile for everyone, then goes', async () => {
  const { page: alice, link } = await host('Alice');
  const bob = await join(browser, link, 'Bob', { camOff: true });
  await tile(alice, 'Bob').waitFor();
  await alice.emulateMedia({ reducedMotion: 'reduce' });

  const react = bob.getByRole('toolbar').getByRole('button', { name: 'Réagir', exact: true });
  await react.focus();
  await bob.keyboard.press('Enter');
  const picker = bob.getByRole('menu', { name: 'Réactions' });
  await picker.waitFor();
  const focused = (name) =>
    eventually(async () => (await bob.evaluate(() => document.activeElement?.getAttribute('aria-label'))) === name, { timeout: 2000, message: `focus is not on ${name}` });
  await focused('Pouce levé');
  await bob.keyboard.press('ArrowRight');
  await focused('Applaudir');
  await bob.keyboard.press('End');
  await focused('Merci');
  await bob.keyboard.press('ArrowRight');
  await focused('Pouce levé');
  await shot(bob, 'chat-11-reaction-picker');
  await bob.keyboard.press('Escape');
  await picker.waitFor({ state: 'detached' });
  assert.equal(await react.evaluate((el) => el === document.activeElement), true, 'focus did not go back to the button');

  await bob.keyboard.press('Enter');
  await picker.waitFor();
  await focused('Pouce levé');
  await bob.keyboard.press('Enter');
  const floating = tile(alice, 'Bob').locator('.reaction');
  await floating.filter({ hasText: '👍' }).waitFor({ timeout: 10000 });
  assert.equal(await floating.first().evaluate((el) => el.closest('[aria-hidden="true"]') !== null), true, 'the animation is not hidden from screen readers');
  await announced(alice, 'Bob a réagi 👍');
  const own = tile(bob, 'Bob (Vous)').locator('.reaction').filter({ hasText: '👍' });
  await own.waitFor({ timeout: 5000 });
  // It rises where motion is welcome, and stays still where it is not.
  assert.ok(await own.evaluate((el) => el.getAnimations().length > 0), 'the reaction does not move');
  assert.equal(await floating.first().evaluate((el) => el.getAnimations().length), 0, 'the reaction moves despite prefers-reduced-motion');
  await shot(alice, 'chat-12-reaction');
  await floating.first().waitFor({ state: 'detached', timeout: 6000 });
  for (const page of [alice, bob]) await page.context().close();
});
