// A cluster for browser tests: three `visio serve` processes whose embedded
// NATS servers join over loopback routes, sharing a private PostgreSQL
// started here from Debian's server programs.

import { spawn, execFileSync } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtempSync, chownSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { resolve } from 'node:path';
import { startServer, freePorts } from './harness.mjs';

// postgresBin finds Debian's PostgreSQL server programs.
function postgresBin() {
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return null;
  const versions = readdirSync(base).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => resolve(base, v, 'bin')).find((d) => existsSync(resolve(d, 'initdb'))) ?? null;
}

// startPostgres starts a throw-away PostgreSQL on a free loopback port and
// returns its URL, or null when it is not installed. PostgreSQL refuses to
// run as root: as root it runs as the postgres user.
export async function startPostgres() {
  const bin = postgresBin();
  if (!bin) return null;
  const dir = mkdtempSync(resolve(tmpdir(), 'visio-e2e-pg-'));
  const asUser = {};
  if (userInfo().uid === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres']).toString());
    const gid = Number(execFileSync('id', ['-g', 'postgres']).toString());
    chownSync(dir, uid, gid);
    Object.assign(asUser, { uid, gid });
  }
  const data = resolve(dir, 'data');
  execFileSync(resolve(bin, 'initdb'), ['-D', data, '-U', 'visio', '--auth=trust', '--no-sync'], { ...asUser, stdio: 'ignore' });
  const { tcp: [port] } = await freePorts(1, 0);
  const proc = spawn(resolve(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1', '-F'], { ...asUser, stdio: 'ignore' });
  const deadline = Date.now() + 30000;
  while (!(await accepts(port))) {
    if (proc.exitCode !== null) throw new Error('postgres exited while starting');
    if (Date.now() > deadline) throw new Error('postgres did not start within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  await new Promise((r) => setTimeout(r, 300)); // accepting before it takes logins
  return {
    url: `postgres://visio@127.0.0.1:${port}/postgres?sslmode=disable`,
    stop: () =>
      new Promise((ok) => {
        proc.once('exit', () => {
          rmSync(dir, { recursive: true, force: true });
          ok();
        });
        proc.kill('SIGINT'); // fast shutdown
      }),
  };
}

function accepts(port) {
  return new Promise((ok) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => (s.destroy(), ok(true)));
    s.once('error', () => ok(false));
  });
}

// startCluster starts count nodes on the database at dbURL and resolves
// once every one is ready (/readyz): each has a url, a name and stop(signal).
export async function startCluster(dbURL, count = 3, settings = []) {
  const { tcp: routes } = await freePorts(count, 0);
  const nodes = [];
  try {
    for (let i = 0; i < count; i++) {
      const name = `node-${i + 1}`;
      const peers = routes.filter((_, j) => j !== i).map((p) => `127.0.0.1:${p}`);
      const node = await startServer(`cluster-${name}`, {
        node: true,
        settings: [
          `--database.url=${dbURL}`, `--cluster.node=${name}`, `--cluster.route_addr=127.0.0.1:${routes[i]}`,
          `--cluster.routes=${peers.join(',')}`, '--cluster.secret=the route secret of the browser test cluster',
          `--cluster.data_dir=${mkdtempSync(resolve(tmpdir(), 'visio-nats-'))}`,
          '--tokens.secret=a secret shared by the nodes of the browser tests', '--chat.max_file_bytes=0', ...settings,
        ],
      });
      nodes.push({ ...node, name });
    }
    const deadline = Date.now() + 60000;
    for (const node of nodes) {
      while (!(await fetch(`${node.url}/readyz`).then((r) => r.ok, () => false))) {
        if (Date.now() > deadline) throw new Error(`${node.name} is not ready within 60 s`);
        await new Promise((r) => setTimeout(r, 200));
      }
    }
    return nodes;
  } catch (err) {
    await Promise.all(nodes.map((n) => n.stop('SIGKILL')));
    throw err;
  }
}

// hostOf returns the node whose address the join API gives for a room.
export async function hostOf(nodes, code) {
  const res = await fetch(`${nodes[0].url}/api/v1/rooms/${code}/join`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ name: 'Curieux' }),
  });
  const grant = await res.json();
  return nodes.find((n) => grant.signal_url === `${n.url.replace('http://', 'ws://')}/ws`);
}
