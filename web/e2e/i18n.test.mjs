// Visio's four languages in real Chromium: a German and a Dutch browser get
// the home page, the pre-join screen, the meeting's controls, its
// announcements and the shortcuts dialog in their language; regional
// variants count; a French choice made in the app is kept.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, shot, tile, announced } from './harness.mjs';

let server;
let browser;
before(async () => {
  server = await startServer('i18n-server');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

// What each language calls the things the tests look for, written here by
// hand: a test that read them from the app's tables would pass with any
// translation, a French one included.
const words = {
  de: {
    newMeeting: 'Neue Besprechung',
    joinField: 'Code oder Link der Besprechung',
    ready: 'Bereit zum Teilnehmen?',
    name: 'Ihr Name',
    join: 'An der Besprechung teilnehmen',
    connected: 'Verbunden',
    you: 'Sie',
    alone: 'Sie sind allein in der Besprechung',
    controls: 'Steuerung der Besprechung',
    tools: 'Werkzeuge der Besprechung',
    buttons: ['Mikrofon ausschalten', 'Kamera ausschalten', 'Hand heben', 'Reagieren', 'Verlassen'],
    toolButtons: ['Teilnehmende', 'Chat', 'Tastenkürzel'],
    joined: (n) => `${n} ist der Besprechung beigetreten`,
    left: (n) => `${n} hat die Besprechung verlassen`,
    handRaised: (n) => `${n} hebt die Hand.`,
    raiseHand: 'Hand heben',
    leave: 'Verlassen',
    shortcuts: 'Tastenkürzel',
    microphoneRow: 'Mikrofon ein- oder ausschalten',
    ctrl: 'Strg',
    close: 'Schließen',
  },
  nl: {
    newMeeting: 'Nieuwe vergadering',
    joinField: 'Code of link van de vergadering',
    ready: 'Klaar om deel te nemen?',
    name: 'Uw naam',
    join: 'Deelnemen aan de vergadering',
    connected: 'Verbonden',
    you: 'u',
    alone: 'U bent alleen in de vergadering',
    controls: 'Bediening van de vergadering',
    tools: 'Hulpmiddelen van de vergadering',
    buttons: ['Microfoon uitzetten', 'Camera uitzetten', 'Hand opsteken', 'Reageren', 'Verlaten'],
    toolButtons: ['Deelnemers', 'Chat', 'Sneltoetsen'],
    joined: (n) => `${n} is de vergadering binnengekomen`,
    left: (n) => `${n} heeft de vergadering verlaten`,
    handRaised: (n) => `${n} steekt de hand op.`,
    raiseHand: 'Hand opsteken',
    leave: 'Verlaten',
    shortcuts: 'Sneltoetsen',
    microphoneRow: 'Microfoon aan- of uitzetten',
    ctrl: 'Ctrl',
    close: 'Sluiten',
  },
};

// French words that must not show on a German or Dutch page: a key missing
// from a table would fall back to nothing, but a copied French string would
// show as French.
const french = ['Réunion', 'Rejoindre', 'Couper', 'Quitter', 'Participants', 'Discussion', 'Lever la main', 'Raccourcis'];

async function joinIn(locale, words, url, name) {
  const page = await newPage(browser, { locale });
  await page.goto(url);
  await page.getByRole('heading', { name: words.ready }).waitFor();
  await page.getByLabel(words.name).fill(name);
  await page.locator('video').first().waitFor();
  await page.getByRole('button', { name: words.join }).click();
  await page.getByRole('status').filter({ hasText: words.connected }).waitFor({ timeout: 20000 });
  return page;
}

for (const [lang, locale, other] of [['de', 'de-DE', 'Mia'], ['nl', 'nl-NL', 'Sem']]) {
  const w = words[lang];
  test(`a ${locale} browser gets the home page, the meeting and its announcements in its language`, async () => {
    const page = await newPage(browser, { locale });
    await page.goto(server.url);
    assert.equal(await page.getAttribute('html', 'lang'), lang);
    await page.getByRole('button', { name: w.newMeeting }).waitFor();
    await page.getByLabel(w.joinField).waitFor();
    await shot(page, `i18n-home-${lang}`);
    await page.context().close();

    const url = `${server.url}/${lang === 'de' ? 'deu-tsch-abc' : 'ned-erla-nds'}`;
    const host = await joinIn(locale, w, url, 'Anna');
    await tile(host, `Anna (${w.you})`).waitFor();
    await host.getByText(w.alone).waitFor();
    const toolbar = host.getByRole('toolbar', { name: w.controls });
    for (const name of w.buttons) await toolbar.getByRole('button', { name, exact: true }).waitFor();
    const tools = host.getByRole('group', { name: w.tools });
    for (const name of w.toolButtons) await tools.getByRole('button', { name, exact: true }).waitFor();
    const footer = await host.locator('footer').evaluate((f) =>
      [...f.querySelectorAll('*')].map((el) => `${el.getAttribute('aria-label') ?? ''} ${el.getAttribute('title') ?? ''}`).join(' ') + f.textContent,
    );
    for (const word of french) assert.ok(!footer.includes(word), `the ${lang} footer says "${word}": ${footer}`);

    // A join, a raised hand and a leave are announced in the language.
    const guest = await joinIn(locale, w, url, other);
    await announced(host, w.joined(other));
    await guest.getByRole('toolbar').getByRole('button', { name: w.raiseHand, exact: true }).click();
    await announced(host, w.handRaised(other));
    await shot(host, `i18n-meeting-${lang}`);
    await guest.getByRole('toolbar').getByRole('button', { name: w.leave, exact: true }).click();
    await announced(host, w.left(other));

    // The shortcuts dialog too.
    await tools.getByRole('button', { name: w.shortcuts, exact: true }).click();
    const dialog = host.getByRole('dialog', { name: w.shortcuts });
    await dialog.waitFor();
    const row = dialog.getByRole('row', { name: new RegExp(`^${w.microphoneRow}`) });
    assert.match(await row.textContent(), new RegExp(`${w.ctrl}\\+D`));
    await shot(host, `i18n-shortcuts-${lang}`);
    await dialog.getByRole('button', { name: w.close }).click();
    await dialog.waitFor({ state: 'hidden' });
    for (const p of [host, guest]) await p.context().close();
  });
}

test('regional variants get their language, and French chosen in the app is kept', async () => {
  for (const [locale, word] of [['de-AT', 'Neue Besprechung'], ['de-CH', 'Neue Besprechung'], ['nl-BE', 'Nieuwe vergadering'], ['es-ES', 'Nouvelle réunion']]) {
    const page = await newPage(browser, { locale });
    await page.goto(server.url);
    await page.getByRole('button', { name: word }).waitFor();
    await page.context().close();
  }

  const page = await newPage(browser, { locale: 'de-DE' });
  await page.goto(server.url);
  await page.getByRole('combobox', { name: 'Sprache' }).selectOption('fr');
  await page.getByRole('button', { name: 'Nouvelle réunion' }).waitFor();
  await page.reload();
  await page.getByRole('button', { name: 'Nouvelle réunion' }).waitFor();
  assert.equal(await page.getAttribute('html', 'lang'), 'fr');
  await page.context().close();
});
