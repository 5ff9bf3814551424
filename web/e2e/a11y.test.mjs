// Accessibility of the main screens, in real Chromium: axe-core's WCAG 2.1
// A and AA rules on each screen (home, pre-join, the meeting and its panels
// and dialog, the lobby, the ended and not-found pages; in English and in a
// dark theme too), with a screenshot of each, and the meeting's footer
// driven by the keyboard alone. Every violation axe finds is printed, with
// its nodes, to help fix it; those of serious or critical impact fail the
// test. Sign-in is off on the test server: whoever creates a room from the
// home page owns it.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, join, shot, tile, createMeeting, axe } from './harness.mjs';

let server;
let browser;
before(async () => {
  // An engine makes the room offer captions: the hosts' speech panel and
  // the captions button then show too.
  server = await startServer('a11y-server', { settings: ['--speech.engine=pocketsphinx'] });
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

const blocking = new Set(['serious', 'critical']);

// contrast is the WCAG contrast ratio of two CSS rgb() colours.
function contrast(a, b) {
  const luminance = (css) => {
    const [r, g, b] = css.match(/[\d.]+/g).slice(0, 3).map((v) => {
      const c = Number(v) / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const [hi, lo] = [luminance(a), luminance(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}

// audit screenshots a screen as a11y-<name>.png, runs axe on it, prints
// what it found and returns the serious and critical violations, named
// after the screen, so that a test reports every screen before failing.
async function audit(page, name) {
  await shot(page, `a11y-${name}`);
  const violations = await axe(page);
  for (const v of violations) {
    console.log(`[${name}] ${v.impact} ${v.id}: ${v.help}`);
    for (const n of v.nodes) console.log(`    ${n.target}\n      ${n.html}\n      ${n.why?.replaceAll('\n', '\n      ')}`);
  }
  return violations.filter((v) => blocking.has(v.impact)).map((v) => `${name}: ${v.id} (${v.nodes.length} nodes)`);
}

test('the home, pre-join and not-found pages have no serious accessibility violations, in French, in English and in a dark theme', async () => {
  const found = [];
  const fr = await newPage(browser);
  await fr.goto(server.url);
  await fr.getByRole('button', { name: 'Nouvelle réunion' }).waitFor();
  found.push(...(await audit(fr, 'home')));

  await fr.goto(`${server.url}/abc-defg-hij`);
  await fr.getByRole('heading', { name: 'Prêt à rejoindre ?' }).waitFor();
  await fr.locator('video').first().waitFor();
  await fr.getByLabel('Votre nom').fill('Alice');
  found.push(...(await audit(fr, 'prejoin')));

  await fr.goto(`${server.url}/nothing-here`);
  await fr.getByRole('heading', { name: 'Page introuvable' }).waitFor();
  found.push(...(await audit(fr, 'not-found')));

  // axe does check: grey text on grey, planted in the page, is reported.
  await fr.locator('main').evaluate((main) => {
    const p = main.appendChild(document.createElement('p'));
    p.textContent = 'illisible';
    Object.assign(p.style, { color: '#777', background: '#888' }); // the CSP refuses a style attribute, not the CSSOM
  });
  assert.ok((await axe(fr)).some((v) => v.id === 'color-contrast' && v.impact === 'serious'), 'axe missed text of 1.2:1 contrast');
  await fr.context().close();

  const en = await newPage(browser, { locale: 'en-GB' });
  await en.goto(server.url);
  await en.getByRole('button', { name: 'New meeting' }).waitFor();
  found.push(...(await audit(en, 'home-en')));
  await en.goto(`${server.url}/abc-defg-hij`);
  await en.getByRole('heading', { name: 'Ready to join?' }).waitFor();
  await en.locator('video').first().waitFor();
  found.push(...(await audit(en, 'prejoin-en')));

  // The pages follow a dark system theme, with colours of their own.
  await en.emulateMedia({ colorScheme: 'dark' });
  found.push(...(await audit(en, 'prejoin-dark')));
  await en.goto(server.url);
  await en.getByRole('button', { name: 'New meeting' }).waitFor();
  found.push(...(await audit(en, 'home-dark')));
  // axe leaves placeholders out; the join field's example code is read too.
  for (const scheme of ['light', 'dark']) {
    await en.emulateMedia({ colorScheme: scheme });
    const [text, background] = await en.getByLabel('Meeting code or link').evaluate((el) => [getComputedStyle(el, '::placeholder').color, getComputedStyle(el).backgroundColor]);
    assert.ok(contrast(text, background) >= 4.5, `the ${scheme} placeholder (${text} on ${background}) has a contrast of ${contrast(text, background).toFixed(2)}:1`);
  }
  await en.context().close();

  assert.deepEqual(found, [], 'serious or critical violations; the log lists their nodes');
});

test('a meeting, its panels, its settings dialog, the lobby and the ended screen have no serious accessibility violations', async () => {
  const found = [];
  const { page: alice, link } = await createMeeting(browser, server, 'Alice');
  const bob = await join(browser, link, 'Bob');
  await tile(alice, 'Bob').waitFor();
  found.push(...(await audit(alice, 'meeting')));

  const tools = alice.getByRole('group', { name: 'Outils de la réunion' });
  await tools.getByRole('button', { name: 'Participants' }).click();
  await alice.getByRole('complementary', { name: /^Participants/ }).getByRole('listitem').filter({ hasText: 'Bob' }).first().waitFor();
  found.push(...(await audit(alice, 'participants-panel')));

  await tools.getByRole('button', { name: /^Discussion/ }).click();
  const chat = alice.getByRole('complementary', { name: 'Discussion' });
  const box = chat.getByRole('textbox', { name: 'Votre message' });
  await box.fill('Bonjour Bob, voici le lien : https://example.org/ordre-du-jour');
  await box.press('Enter');
  await chat.locator('li.chat-message[data-id]').filter({ hasText: 'Bonjour Bob' }).waitFor({ timeout: 10000 });
  found.push(...(await audit(alice, 'chat-panel')));

  const speech = tools.getByRole('button', { name: 'Sous-titres et transcription' });
  if ((await speech.count()) > 0) {
    await speech.click();
    await alice.getByRole('complementary', { name: 'Sous-titres et transcription' }).waitFor();
    found.push(...(await audit(alice, 'speech-panel')));
  } else {
    console.log('no speech panel: the server offers no captions');
  }

  // The settings dialog, then guests of a trusted room wait in the lobby.
  await tools.getByRole('button', { name: 'Paramètres de la réunion' }).click();
  const dialog = alice.getByRole('dialog', { name: 'Paramètres de la réunion' });
  await dialog.waitFor();
  found.push(...(await audit(alice, 'settings-dialog')));
  await dialog.getByRole('radio', { name: 'Personnes connectées' }).check();
  await dialog.getByRole('button', { name: 'Enregistrer' }).click();
  await dialog.waitFor({ state: 'detached' });

  const guest = await newPage(browser);
  await guest.goto(link);
  await guest.getByLabel('Votre nom').fill('Gaston');
  await guest.locator('video').first().waitFor();
  await guest.getByRole('button', { name: 'Rejoindre la réunion' }).click();
  await guest.getByRole('heading', { name: 'En attente : un hôte va vous laisser entrer' }).waitFor({ timeout: 15000 });
  found.push(...(await audit(guest, 'waiting')));

  await tools.getByRole('button', { name: /^Salle d’attente/ }).click();
  await alice.getByRole('complementary', { name: 'Salle d’attente' }).getByRole('listitem').filter({ hasText: 'Gaston' }).waitFor();
  found.push(...(await audit(alice, 'lobby-panel')));

  await bob.getByRole('toolbar').getByRole('button', { name: 'Quitter' }).click();
  await bob.getByRole('heading', { name: 'Vous avez quitté la réunion' }).waitFor({ timeout: 10000 });
  found.push(...(await audit(bob, 'ended')));

  for (const page of [alice, bob, guest]) await page.context().close();
  assert.deepEqual(found, [], 'serious or critical violations; the log lists their nodes');
});

test('Tab reaches every control of the meeting footer in order, each with a visible focus indicator', async () => {
  const { page } = await createMeeting(browser, server, 'Alice');
  const footer = page.locator('footer');
  // What the footer offers, in the order it shows it.
  const controls = await footer.evaluate((f) =>
    [...f.querySelectorAll('button, a[href], input, select, textarea, [tabindex]')]
      .filter((el) => el.tabIndex >= 0 && !el.disabled && el.getClientRects().length > 0)
      .map((el) => el.getAttribute('aria-label') || el.textContent.trim()),
  );
  assert.ok(controls.length >= 8, `too few controls in the footer: ${controls}`);
  for (const name of ['Couper le micro', 'Couper la caméra', 'Lever la main', 'Réagir', 'Quitter', 'Participants', 'Discussion', 'Paramètres de la réunion']) {
    assert.ok(controls.includes(name), `no "${name}" in the footer: ${controls}`);
  }

  // Tab from the top of the page until focus leaves the footer.
  await page.locator('body').evaluate((b) => {
    document.activeElement?.blur();
    b.focus();
  });
  const reached = [];
  for (let i = 0; i < 60; i++) {
    await page.keyboard.press('Tab');
    const focus = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const style = getComputedStyle(el);
      return {
        inFooter: !!el.closest('footer'),
        name: el.getAttribute('aria-label') || el.textContent.trim(),
        outline: style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) > 0 ? `${style.outlineWidth} ${style.outlineStyle} ${style.outlineColor}` : '',
        shadow: style.boxShadow !== 'none' ? style.boxShadow : '',
        focusVisible: el.matches(':focus-visible'),
      };
    });
    if (focus?.inFooter) reached.push(focus);
    else if (reached.length > 0) break;
    if (reached.length === 1 && focus?.inFooter) await shot(page, 'a11y-footer-focus');
  }
  assert.deepEqual(reached.map((f) => f.name), controls, 'Tab does not go through the footer in the order it shows');
  const background = await page.locator('.meeting').evaluate((m) => getComputedStyle(m).backgroundColor);
  for (const f of reached) {
    assert.ok(f.focusVisible, `${f.name} does not match :focus-visible after Tab`);
    assert.ok(f.outline || f.shadow, `${f.name} shows no focus indicator`);
    // WCAG 1.4.11: the outline, drawn beside the control, stands out from
    // the meeting's background.
    if (f.outline) {
      const ratio = contrast(f.outline.match(/rgba?\([^)]*\)/)[0], background);
      assert.ok(ratio >= 3, `${f.name}'s focus outline (${f.outline}) has a contrast of ${ratio.toFixed(2)}:1 on ${background}`);
    }
  }
  await page.context().close();
});
