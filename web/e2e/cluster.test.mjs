// Several nodes as one service, in real Chromium: people who open the
// meeting's link on different nodes meet in it, and when the node hosting
// the meeting dies, or is drained, their apps find it on another node by
// themselves and they are back in it, as the same participants, within
// seconds.

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

// meetAcrossNodes creates a meeting on the first node, and has Alice and
// Bob enter it through the two nodes that do not host it.
async function meetAcrossNodes(t, nodes) {
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
  t.diagnostic(`meeting ${code} hosted by ${host.name}; Alice entered through ${first.name}, Bob through ${second.name}`);
  return {
    host,
    alice,
    bobOnAlice,
    aliceOnBob,
    ids: [await bobOnAlice.getAttribute('data-participant'), await aliceOnBob.getAttribute('data-participant')],
  };
}

// backTogether waits until Alice and Bob see each other's video again, as
// the same participants, and returns how long it took since since.
async function backTogether({ alice, bobOnAlice, aliceOnBob, ids }, since) {
  await eventually(
    async () => {
      for (const video of [bobOnAlice.locator('video'), aliceOnBob.locator('video')]) {
        // A tile's video comes and goes while its media reconnect.
        const frames = await framesAdvance(video, 500, 2000).catch(() => null);
        if (!frames?.advanced) return false;
      }
      return true;
    },
    { timeout: 30000, message: 'they do not see each other again' },
  );
  const back = (Date.now() - since) / 1000;
  assert.deepEqual([await bobOnAlice.getAttribute('data-participant'), await aliceOnBob.getAttribute('data-participant')], ids, 'they came back as other participants');
  await alice.getByRole('status').filter({ hasText: 'Connecté' }).waitFor({ timeout: 10000 });
  return back;
}

test('people entering through different nodes meet, and are back in the meeting within seconds when its node dies', async (t) => {
  if (!pg) return t.skip('needs PostgreSQL (scripts/deps.sh installs it)');
  const meeting = await meetAcrossNodes(t, nodes);
  const killed = Date.now();
  await meeting.host.stop('SIGKILL');
  const back = await backTogether(meeting, killed);
  t.diagnostic(`back in the meeting, seeing each other, ${back.toFixed(1)} s after its node was killed`);
  // The Go cluster test holds the 10 s of the issue; browsers restart
  // their media and wait for a keyframe too, on a machine shared with them.
  assert.ok(back <= 15, `it took ${back.toFixed(1)} s`);
  await shot(meeting.alice, '50-cluster-back-after-node-loss');
});

test('when the node hosting a meeting is drained, the meeting moves to another node and its people follow', async (t) => {
  if (!pg) return t.skip('needs PostgreSQL (scripts/deps.sh installs it)');
  // A cluster of its own: the first test left this one without a node.
  const drainable = await startCluster(pg.url, 3, ['--cluster.drain_timeout=2s']);
  try {
    const meeting = await meetAcrossNodes(t, drainable);
    const asked = Date.now();
    // The drained node waits 2 s for the meeting to end, hands it over, and
    // stops once its people have gone: they are elsewhere from then on.
    await meeting.host.stop('SIGTERM');
    const back = await backTogether(meeting, asked);
    t.diagnostic(`back in the meeting on another node ${back.toFixed(1)} s after the drain began, 2 s of it waiting for the meeting to end`);
  } finally {
    await Promise.all(drainable.map((n) => n.stop('SIGKILL')));
  }
});
