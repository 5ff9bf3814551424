// Media quality in real Chromium: simulcast layers follow the size of the
// tile that shows them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, join, shot, tile, eventually, videoFrom } from './harness.mjs';

let server;
let browser;
before(async () => {
  server = await startServer('media-server');
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await server?.stop();
});

async function newMeeting() {
  const page = await newPage(browser);
  await page.goto(server.url);
  await page.getByRole('button', { name: 'Nouvelle réunion' }).click();
  await page.waitForURL(/\/[a-z]{3}-[a-z]{4}-[a-z]{3}$/);
  return page.url();
}

test('a subscriber whose tile shrinks receives a lower simulcast layer', async () => {
  const link = await newMeeting();
  const alice = await join(browser, link, 'Alice');
  const bob = await join(browser, link, 'Bob');
  await tile(bob, 'Alice').locator('video').waitFor();
  const aliceId = await tile(bob, 'Alice').getAttribute('data-participant');

  // Bob's window is large: Alice's tile gets the full layer (720 rows).
  await bob.setViewportSize({ width: 1920, height: 1080 });
  const large = await eventually(async () => {
    const v = await videoFrom(bob, aliceId);
    return v && v.frameHeight >= 720 ? v : null;
  }, { timeout: 30000, message: 'a large tile does not get the full layer' });
  await shot(bob, '20-large-tile-full-layer');

  // Bob makes his window small: the tile shrinks, and the picture he gets
  // drops to the lowest layer (a quarter: 180 rows).
  await bob.setViewportSize({ width: 480, height: 360 });
  const small = await eventually(async () => {
    const v = await videoFrom(bob, aliceId);
    return v && v.frameHeight > 0 && v.frameHeight <= 180 && v.framesDecoded > large.framesDecoded ? v : null;
  }, { timeout: 20000, message: 'a small tile still gets a high layer' });
  assert.ok(small.tileHeight < 200, `the tile is ${small.tileHeight} px tall`);
  await shot(bob, '21-small-tile-low-layer');

  // The video keeps playing at the lower layer.
  const later = await eventually(async () => {
    const v = await videoFrom(bob, aliceId);
    return v && v.framesDecoded > small.framesDecoded + 10 ? v : null;
  }, { message: 'the low layer does not play' });
  assert.ok(later.frameHeight <= 180);
  await alice.context().close();
  await bob.context().close();
});
