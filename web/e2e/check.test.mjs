// The connection test page (/check), in real Chromium with fake devices:
// camera preview and resolution, the microphone's level, echoes over a data
// channel to the media server directly and through the TURN relay, and the
// verdict read out in a status region. Also what happens without a relay,
// and with the camera refused.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, shot, axe, eventually, isolatedHost } from './harness.mjs';

let withTURN;
let withoutTURN;
let browser;
before(async () => {
  withTURN = await startServer('check-turn-server', { turn: true });
  withoutTURN = await startServer('check-server');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await withTURN?.stop();
  await withoutTURN?.stop();
});

const step = (page, name) => page.getByRole('list', { name: 'Étapes du test' }).getByRole('listitem').filter({ has: page.getByRole('heading', { name }) });
const verdict = (page) => page.getByRole('status');

// runTest opens the page, starts the test and waits for its verdict.
async function runTest(page, url) {
  await page.goto(`${url}/check`);
  await page.getByRole('heading', { level: 1, name: 'Tester ma connexion' }).waitFor();
  // The title is set once the page is drawn.
  await eventually(async () => (await page.title()) === 'Tester ma connexion · Visio', { message: 'the tab is not titled' });
  // Started from the keyboard, which keeps the focus on the button.
  await page.getByRole('button', { name: 'Lancer le test' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('button', { name: 'Relancer le test' }).waitFor({ timeout: 60000 });
  return (await verdict(page).textContent()).trim();
}

test('with a relay, every step passes and the verdict is good', async () => {
  const page = await newPage(browser);
  try {
    const said = await runTest(page, withTURN.url);
    assert.match(said, /^Tout est prêt/, `verdict: ${said}; steps: ${await page.getByRole('list', { name: 'Étapes du test' }).innerText()}`);

    assert.match(await step(page, /^Caméra/).textContent(), /Réussi.*Votre caméra fonctionne \(\d+ × \d+\)/);
    const preview = page.getByRole('region', { name: 'Aperçu de votre caméra' }).locator('video');
    await eventually(async () => (await preview.evaluate((v) => v.videoWidth)) > 0, { message: 'the preview does not play' });

    const mic = step(page, /^Micro/);
    assert.match(await mic.textContent(), /Réussi.*Nous vous entendons/);
    const meter = mic.getByRole('meter', { name: 'Niveau du micro' });
    // The fake microphone beeps: the meter moves between beeps and silence.
    const levels = new Set();
    await eventually(async () => {
      levels.add(await meter.getAttribute('aria-valuenow'));
      return levels.size > 2;
    }, { message: 'the level meter does not move' });

    const network = await step(page, /^Réseau/).textContent();
    assert.match(network, /Réussi.*Connexion directe en UDP : aller-retour \d+ ms, pertes \d+ %/, network);
    const relay = await step(page, /^Relais/).textContent();
    assert.match(relay, /Réussi.*Le relais répond, en (UDP|TCP) : aller-retour \d+ ms/, relay);

    assert.deepEqual(await axe(page), []);
    await shot(page, '13-connection-test-good');

    // It can be run again, and says where it is meanwhile.
    await page.getByRole('button', { name: 'Relancer le test' }).click();
    await verdict(page).filter({ hasText: /Test en cours : .* \(étape \d sur 4\)/ }).waitFor();
    await page.getByRole('button', { name: 'Relancer le test' }).waitFor({ timeout: 60000 });
    assert.match(await verdict(page).textContent(), /^Tout est prêt/);
  } finally {
    await page.context().close();
  }
});

// Without a relay the page cannot test one, and says the server does not
// offer it: that is the operator's choice, not a problem of the user's
// network, whose direct path worked; so the verdict stays good (limited
// would only come from the direct path itself).
test('without a relay, the relay step says it is not offered and the verdict is still good', async () => {
  const page = await newPage(browser);
  try {
    const said = await runTest(page, withoutTURN.url);
    assert.match(await step(page, /^Relais/).textContent(), /Non proposé.*ne propose pas de relais/);
    assert.match(await step(page, /^Réseau/).textContent(), /Réussi.*Connexion directe en UDP/);
    assert.match(said, /^Tout est prêt/, `verdict: ${said}`);
    assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Relancer le test', 'the focus left the button while the test ran');
    await shot(page, '14-connection-test-no-relay');
  } finally {
    await page.context().close();
  }
});

test('a refused camera fails its step with what to do, and the verdict says it', async () => {
  const refusing = await launchBrowser({ allow: false });
  try {
    const page = await newPage(refusing, { permissions: [] });
    const said = await runTest(page, withoutTURN.url);
    const camera = await step(page, /^Caméra/).textContent();
    assert.match(camera, /Échec.*Le navigateur bloque la caméra\. Autorisez-la dans les réglages du site/, camera);
    assert.match(said, /^Vous pouvez rejoindre une réunion, avec des réserves/, `verdict: ${said}`);
    assert.match(said, /Votre caméra ne fonctionne pas/);
    assert.equal(await page.getByRole('region', { name: 'Aperçu de votre caméra' }).locator('video').count(), 0);
    assert.deepEqual(await axe(page), []);
    await shot(page, '15-connection-test-camera-refused');
  } finally {
    await refusing.close();
  }
});

// Behind a firewall that drops all UDP: with ICE-TCP the media server is
// still reached, which is limited; with neither ICE-TCP nor a relay it is
// not, and the page says what to tell the IT department.
for (const [name, iceTCP, expect] of [
  ['only TCP gets through: limited', true, /^Vous pouvez rejoindre une réunion, avec des réserves.*Votre réseau bloque l’UDP/],
  ['nothing gets through: failed, with a message for IT', false, /^Les réunions ne fonctionneront pas depuis ce réseau.*Contactez votre service informatique.*10\.\d+\.\d+\.1:\d+/],
]) {
  test(`behind a firewall that blocks UDP, ${name}`, async (t) => {
    const host = isolatedHost({ blockUDP: true });
    if (!host) return t.skip('needs root, to make a network namespace');
    let srv;
    let remote;
    try {
      srv = await startServer(`check-udp-blocked-${iceTCP ? 'tcp' : 'none'}-server`, { allInterfaces: true, iceTCP });
      remote = await host.launch(srv.port);
      const page = await newPage(remote);
      const said = await runTest(page, `http://${host.hostIP}:${srv.port}`);
      assert.match(said, expect, `verdict: ${said}`);
      const network = await step(page, /^Réseau/).textContent();
      if (iceTCP) assert.match(network, /À vérifier.*Connexion directe seulement en TCP/, network);
      else assert.match(network, /Échec.*ne peut pas être joint directement/, network);
      assert.deepEqual(await axe(page), []);
      await shot(page, iceTCP ? '16-connection-test-tcp-only' : '17-connection-test-failed');
    } finally {
      await remote?.close();
      await srv?.stop();
      host.remove();
    }
  });
}

test('the pre-join screen links to the test, and the test back to the home page', async () => {
  const page = await newPage(browser, { locale: 'en-US' });
  try {
    await page.goto(`${withoutTURN.url}/abc-defg-hij`);
    await page.getByRole('link', { name: 'Test your connection' }).click();
    await page.getByRole('heading', { level: 1, name: 'Test your connection' }).waitFor();
    assert.equal(new URL(page.url()).pathname, '/check');
    await page.getByRole('link', { name: 'Back to home' }).click();
    await page.waitForURL(`${withoutTURN.url}/`);
  } finally {
    await page.context().close();
  }
});
