// Several nodes as one service, in real Chromium: people who open the
// meeting's link on different nodes meet in it, and when the node hosting
// the meeting dies, their apps find it on another node by themselves and
// they are back in it, as the same participants, within seconds.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newPage, join, shot, tile, eventually, framesAdvance, plays } from './harness.mjs';
import { startPostgres, startCluster, hostOf } from './cluster.mjs';

let pg;
let nodes = [];
let browser;
before(async () => {
  pg = await startPostgres();
  if (!pg) {
    if (process.env.VISIO_REQUIRE_TEST_SERVICES === '1') throw new Error('PostgreSQL is not installed: run scripts/deps.sh');
    return;
  }
  nodes = await startCluster(pg.url);
  browser = await launchBrowser();
});
after(async () => {
  await browser?.close();
  await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
  await pg?.stop();
});

test('people entering through different nodes meet, and are back in the meeting within seconds when its node dies', async (t) => {
  if (!pg) return t.skip('needs PostgreSQL (scripts/deps.sh installs it)');
  const page = await newPage(browser);
  await page.goto(nodes[0].url);
  await page.getByRole('button', { name: 'Nouvelle réunion' }).click();
  await page.waitForURL(/\/[a-z]{3}-[a-z]{4}-[a-z]{3}$/);
  const code = page.url().split('/').pop();
  await page.context().close();

  const host = await hostOf(nodes, code);
  assert.ok(host, 'the join API names no node for the meeting');
  const [first, second] = nodes.filter((n) => n !== host);
  const alice = await join(browser, `${first.url}/${code}`, 'Alice');
  const bob = await join(browser, `${second.url}/${code}`, 'Bob');
  const bobOnAlice = tile(alice, 'Bob');
  const aliceOnBob = tile(bob, 'Alice');
  assert.ok((await plays(bobOnAlice.locator('video'))).advanced, "Alice does not see Bob's video");
  assert.ok((await plays(aliceOnBob.locator('video'))).advanced, "Bob does not see Alice's video");
  const bobID = await bobOnAlice.getAttribute('data-participant');
  const aliceID = await aliceOnBob.getAttribute('data-participant');
  t.diagnostic(`meeting ${code} hosted by ${host.name}; Alice entered through ${first.name}, Bob through ${second.name}`);

  const killed = Date.now();
  await host.stop('SIGKILL');
  await eventually(async () => (await framesAdvance(bobOnAlice.locator('video'), 500)).advanced && (await framesAdvance(aliceOnBob.locator('video'), 500)).advanced, {
    timeout: 30000,
    message: 'they do not see each other again after the node hosting the meeting died',
  });
  const back = (Date.now() - killed) / 1000;
  t.diagnostic(`back in the meeting, seeing each other, ${back.toFixed(1)} s after its node was killed`);
  assert.ok(back <= 12, `it took ${back.toFixed(1)} s`);
  assert.equal(await bobOnAlice.getAttribute('data-participant'), bobID, 'Bob came back as another participant');
  assert.equal(await aliceOnBob.getAttribute('data-participant'), aliceID, 'Alice came back as another participant');
  await alice.getByRole('status').filter({ hasText: 'Connecté' }).waitFor({ timeout: 10000 });
  await shot(alice, '50-cluster-back-after-node-loss');
});
