// Media quality in real Chromium: simulcast layers follow the size of the
// tile that shows them.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, launchBrowser, newPage, join, shot, tile, eventually, videoFrom, framesAdvance, plays, selectedPaths, isolatedHost, sentLayers, keepResolution } from './harness.mjs';

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
  return newMeetingOn(server.url);
}

// newMeetingOn creates a meeting from the home page of a server and returns
// its link.
async function newMeetingOn(url) {
  const page = await newPage(browser);
  await page.goto(url);
  await page.getByRole('button', { name: 'Nouvelle réunion' }).click();
  await page.waitForURL(/\/[a-z]{3}-[a-z]{4}-[a-z]{3}$/);
  const link = page.url();
  await page.context().close();
  return link;
}

test('a subscriber whose tile shrinks receives a lower simulcast layer', async () => {
  const link = await newMeeting();
  const alice = await join(browser, link, 'Alice');
  await keepResolution(alice);
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

// onIsolatedHost runs body in a meeting on a fresh server that a test host
// (isolatedHost: a network namespace, impaired as hostOptions say) can
// reach. body gets here and there, which join the meeting from a browser on
// this machine and from one on the test host.
async function onIsolatedHost(t, name, hostOptions, serverOptions, body) {
  const host = isolatedHost(hostOptions);
  if (!host) return t.skip('needs root, to make a network namespace');
  let srv;
  let remote;
  const pages = [];
  try {
    srv = await startServer(name, { ...serverOptions, allInterfaces: true });
    remote = await host.launch(srv.port);
    const code = `/${(await newMeetingOn(srv.url)).split('/').pop()}`;
    const track = async (page) => (pages.push(await page), page);
    const here = (who, options) => track(join(browser, `${srv.url}${code}`, who, options));
    const there = (who, options) => track(join(remote, `http://${host.hostIP}:${srv.port}${code}`, who, options));
    await body({ host, srv, here, there });
  } finally {
    for (const page of pages) await page.context().close();
    await remote?.close();
    await srv?.stop();
    host.remove();
  }
}

for (const [name, options, expect] of [
  ['through ICE over TCP', { iceTCP: true, turn: false }, (p) => p.type !== 'relay' && p.protocol === 'tcp'],
  ['through the TURN relay over TCP', { iceTCP: false, turn: true }, (p) => p.type === 'relay' && p.relayProtocol === 'tcp'],
]) {
  const label = options.turn ? 'turn' : 'icetcp';
  test(`a participant whose network blocks UDP joins ${name}`, (t) =>
    onIsolatedHost(t, `udp-blocked-${label}-server`, { blockUDP: true }, options, async ({ here, there }) => {
      const alice = await here('Alice');
      const bob = await there('Bob derrière un pare-feu');
      for (const [viewer, other] of [[alice, 'Bob derrière un pare-feu'], [bob, 'Alice']]) {
        const frames = await plays(tile(viewer, other).locator('video'));
        assert.ok(frames.advanced, `${other}'s video does not play`);
      }
      const paths = await eventually(async () => {
        const p = await selectedPaths(bob);
        return p.length >= 2 ? p : null;
      }, { message: 'no selected candidate pairs' });
      assert.ok(paths.every(expect), `Bob's connections do not go ${name}: ${JSON.stringify(paths)}`);
      await shot(bob, `22-udp-blocked-${label}`);
    }));
}

test('a subscriber on a narrow link gets a lower layer while the others keep the full one', (t) =>
  onIsolatedHost(t, 'narrow-link-server', { rateKbit: 900 }, {}, async ({ here, there }) => {
    const alice = await here('Alice');
    await keepResolution(alice);
    // Bob and Carol only watch, which spares the machine's two cores three
    // video encoders (Chromium drops its top layer when short of CPU).
    const bob = await here('Bob', { camOff: true });
    const carol = await there('Carol', { camOff: true });
    await bob.setViewportSize({ width: 1920, height: 1080 });
    await carol.setViewportSize({ width: 1920, height: 1080 });
    const aliceId = await tile(bob, 'Alice').getAttribute('data-participant');

    // Both show Alice large. Bob's link carries Alice's top layer (720 rows,
    // 1.5 Mbit/s); Carol's 900 kbit/s does not, so she gets a lower one.
    // Alice's browser may send less for a while (its own bandwidth estimate
    // starts low and ramps up, and it drops layers when short of CPU): the
    // test waits for the top layer to reach Bob.
    const topOf = (layers) => Math.max(0, ...layers.filter((l) => l.active !== false).map((l) => l.frameHeight));
    let top = 0;
    let sent = [];
    await eventually(async () => {
      sent = await sentLayers(alice);
      top = topOf(sent);
      const v = await videoFrom(bob, aliceId);
      return top >= 720 && v && v.frameHeight >= top ? v : null;
    }, { timeout: 45000, message: () => `Bob does not get Alice's top layer of ${top} rows; Alice sends ${JSON.stringify(sent)}` });
    const before = await eventually(async () => {
      const v = await videoFrom(carol, aliceId);
      return v && v.frameHeight > 0 && v.frameHeight < 720 ? v : null;
    }, { timeout: 30000, message: 'Carol, on a narrow link, does not get a lower layer' });
    await shot(carol, '23-narrow-link-lower-layer');

    // Some seconds later Carol's video still plays, at a lower layer, and
    // Bob still gets the top one that Alice sends.
    await new Promise((r) => setTimeout(r, 4000));
    const after = await videoFrom(carol, aliceId);
    const bobNow = await videoFrom(bob, aliceId);
    sent = await sentLayers(alice);
    top = topOf(sent);
    // Alice sends 15 frames a second (keepResolution).
    assert.ok(after.framesDecoded > before.framesDecoded + 10, `Carol's video stalls: ${before.framesDecoded} then ${after.framesDecoded} frames`);
    assert.ok(after.frameHeight < 720, `Carol got ${after.frameHeight} rows through 900 kbit/s (${JSON.stringify(after)}); Alice sends ${JSON.stringify(sent)}`);
    assert.ok(bobNow.frameHeight >= top, `Bob went down to ${bobNow.frameHeight} rows of ${top} (${JSON.stringify(bobNow)}); Alice sends ${JSON.stringify(sent)}`);
  }));

test('a participant on a lossy link is shown with a poor connection', (t) =>
  onIsolatedHost(t, 'lossy-link-server', { lossPercent: 15 }, {}, async ({ here, there }) => {
    const alice = await here('Alice');
    const carol = await there('Carol');
    await tile(alice, 'Carol').getByRole('img', { name: 'Connexion mauvaise' }).waitFor({ timeout: 20000 });
    await tile(carol, 'Carol (Vous)').getByRole('img', { name: 'Connexion mauvaise' }).waitFor({ timeout: 20000 });
    await tile(alice, 'Alice (Vous)').getByRole('img', { name: 'Connexion bonne' }).waitFor({ timeout: 20000 });
    await shot(alice, '24-lossy-participant-poor-connection');
  }));

test('after a network outage of a few seconds, a participant comes back as the same one', (t) =>
  onIsolatedHost(t, 'outage-server', {}, {}, async ({ host, here, there }) => {
    const alice = await here('Alice');
    const bob = await there('Bob');
    const bobTile = tile(alice, 'Bob');
    const id = await bobTile.getAttribute('data-participant');
    assert.ok((await plays(bobTile.locator('video'))).advanced, "Bob's video does not play before the outage");

    await host.cut(6000);
    await bob.getByRole('status').filter({ hasText: 'Connecté' }).waitFor({ timeout: 30000 });
    const back = await eventually(async () => (await framesAdvance(bobTile.locator('video'), 800)).advanced, {
      timeout: 30000,
      message: "Bob's video does not come back after the outage",
    });
    assert.ok(back);
    assert.equal(await bobTile.getAttribute('data-participant'), id, 'Bob came back as someone else');
    assert.ok((await plays(tile(bob, 'Alice').locator('video'))).advanced, "Alice's video does not come back for Bob");
    await shot(alice, '25-after-outage');
  }));

test('when the signalling connection drops, the app comes back as the same participant', (t) =>
  onIsolatedHost(t, 'resume-server', {}, {}, async ({ host, srv, here, there }) => {
    const alice = await here('Alice');
    const bob = await there('Bob');
    const bobTile = tile(alice, 'Bob');
    const id = await bobTile.getAttribute('data-participant');
    await framesAdvance(bobTile.locator('video'));

    host.dropConnections(srv.port);
    await bob.getByRole('status').filter({ hasText: 'Reconnexion' }).waitFor({ timeout: 10000 });
    await bob.getByRole('status').filter({ hasText: 'Connecté' }).waitFor({ timeout: 20000 });
    await shot(bob, '26-resumed');
    assert.equal(await bobTile.getAttribute('data-participant'), id, 'Bob came back as someone else');
    // The ICE restart that follows the resume may take a few seconds.
    await eventually(async () => (await framesAdvance(bobTile.locator('video'))).advanced, { timeout: 10000, message: "Bob's video stops after he came back" });
    assert.ok((await plays(tile(bob, 'Alice').locator('video'))).advanced, "Alice's video stops for Bob after he came back");
    // He is in the meeting once.
    assert.equal(await alice.getByRole('listitem').count(), 2);
  }));
