// The pages around a meeting: the home page in both languages, the join
// field, refused or missing devices, unknown addresses.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, shot, tile } from './harness.mjs';

let server;
before(async () => {
  server = await startServer('pages-server');
});
after(async () => {
  await server?.stop();
});

test('an English browser gets the app in English; the join field accepts links and explains bad codes', async () => {
  const browser = await launchBrowser();
  try {
    const page = await newPage(browser, { locale: 'en-GB' });
    await page.goto(server.url);
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    await page.getByRole('button', { name: 'New meeting' }).waitFor();

    const field = page.getByLabel('Meeting code or link');
    await field.fill('not a code');
    await page.getByRole('button', { name: 'Join', exact: true }).click();
    const alert = page.getByRole('alert');
    assert.match(await alert.textContent(), /abc-defg-hij/);
    assert.equal(await field.getAttribute('aria-invalid'), 'true');
    await shot(page, '10-home-bad-code-en');

    await field.fill(`${server.url}/ABC-DEFG-HIJ`);
    await field.press('Enter');
    await page.waitForURL(`${server.url}/abc-defg-hij`);
    await page.getByRole('heading', { name: 'Ready to join?' }).waitFor();

    // The choice of language is kept.
    await page.goto(server.url);
    await page.getByRole('combobox', { name: 'Language' }).selectOption('fr');
    await page.getByRole('button', { name: 'Nouvelle réunion' }).waitFor();
    await page.reload();
    await page.getByRole('button', { name: 'Nouvelle réunion' }).waitFor();
    assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  } finally {
    await browser.close();
  }
});

test('a browser in a language Visio does not offer gets French', async () => {
  const browser = await launchBrowser();
  try {
    const page = await newPage(browser, { locale: 'es-ES' });
    await page.goto(server.url);
    await page.getByRole('button', { name: 'Nouvelle réunion' }).waitFor();
  } finally {
    await browser.close();
  }
});

test('refused camera and microphone get a clear message, and one can still join', async () => {
  const browser = await launchBrowser({ allow: false });
  try {
    const page = await newPage(browser, { permissions: [] });
    await page.goto(`${server.url}/abc-defg-hij`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.textContent(), /bloque la caméra et le micro/);
    await page.getByRole('button', { name: 'Réessayer' }).waitFor();
    await shot(page, '11-devices-refused');

    await page.getByLabel('Votre nom').fill('Sans caméra');
    await page.getByRole('button', { name: 'Rejoindre la réunion' }).click();
    await page.getByRole('status').filter({ hasText: 'Connecté' }).waitFor({ timeout: 20000 });
    const self = tile(page, 'Sans caméra (Vous)');
    await self.getByRole('img', { name: 'Caméra coupée' }).waitFor();
    await self.getByRole('img', { name: 'Micro coupé' }).waitFor();
  } finally {
    await browser.close();
  }
});

test('missing devices get a clear message', async () => {
  const browser = await launchBrowser({ devices: false });
  try {
    const page = await newPage(browser); // allowed, but there is nothing to capture
    await page.goto(`${server.url}/abc-defg-hij`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(await alert.textContent(), /Aucune caméra ni aucun micro/);
    await shot(page, '12-devices-missing');
  } finally {
    await browser.close();
  }
});

test('an address that is not a meeting shows a way back', async () => {
  const res = await fetch(`${server.url}/nothing-here`);
  assert.equal(res.status, 404);
  const browser = await launchBrowser();
  try {
    const page = await newPage(browser);
    await page.goto(`${server.url}/nothing-here`);
    await page.getByRole('heading', { name: 'Page introuvable' }).waitFor();
    await page.getByRole('link', { name: 'Retour à l’accueil' }).click();
    await page.getByRole('button', { name: 'Nouvelle réunion' }).waitFor();
  } finally {
    await browser.close();
  }
});
