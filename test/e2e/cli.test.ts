import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../src/db/embedded.js';
import { createTestDatabase, waitFor } from '../../src/testing/harness.js';

/** The real `vigil` command: its embedded PostgreSQL, its signals, its concurrent migrations. */

const cli = ['--import', 'tsx', 'src/cli/main.ts'];
const children: ChildProcess[] = [];
const dataDirs: string[] = [];
after(async () => {
  for (const child of children) child.kill('SIGKILL');
  // A test that failed half-way may leave an embedded PostgreSQL running (it has its own process
  // group, so killing Vigil does not end it): end it, and remove its cluster wherever it lives.
  for (const dataDir of dataDirs) {
    const cluster = await clusterDir(dataDir);
    const server = await postmaster(cluster);
    if (server) {
      // SIGQUIT, not SIGKILL, so the postmaster ends its backends (each in a process group of its own).
      signal(server.pid, 'SIGQUIT');
      await waitFor('the leftover PostgreSQL to stop', async () => !alive(server.pid), 10_000).catch(() =>
        signal(server.pid, 'SIGKILL'),
      );
    }
    await fs.rm(dataDir, { recursive: true, force: true });
    if (path.dirname(cluster) !== dataDir)
      await fs.rm(path.dirname(cluster), { recursive: true, force: true });
  }
});

function signal(pid: number, name: NodeJS.Signals) {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

async function freshDataDir(): Promise<string> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-e2e-'));
  dataDirs.push(dataDir);
  return dataDir;
}

/**
 * Where the cluster of a data folder lives: in it, or, when Vigil runs as root and "nobody" cannot
 * reach the data folder, in the folder that src/db/embedded.ts names in postgres-location.
 */
async function clusterDir(dataDir: string): Promise<string> {
  const location = await fs.readFile(path.join(dataDir, 'postgres-location'), 'utf8').catch(() => '');
  return path.join(/ lives in (.+?): /.exec(location)?.[1] ?? dataDir, 'postgres');
}

/** The PostgreSQL running on a cluster, from its postmaster.pid (pid on line 1, port on line 4). */
async function postmaster(cluster: string): Promise<{ pid: number; port: number } | undefined> {
  const lines = (await fs.readFile(path.join(cluster, 'postmaster.pid'), 'utf8').catch(() => '')).split('\n');
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  if (!Number.isInteger(pid) || pid <= 0 || !alive(pid)) return undefined;
  return { pid, port };
}

/** Running: signal 0 also reaches a zombie, which this machine's init may take a while to reap. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // The state follows the command name, which may itself hold ')'.
  return stat[stat.lastIndexOf(')') + 2] !== 'Z';
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

function start(env: Record<string, string>, args: string[] = ['start']) {
  const child = spawn(process.execPath, [...cli, ...args], {
    env: { ...process.env, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

async function healthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/healthz`)).status === 200;
  } catch {
    return false;
  }
}

async function postAlert(port: number, key: string, message: string, alias: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/v2/alerts`, {
    method: 'POST',
    headers: { authorization: `GenieKey ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ message, alias }),
  });
  return res.status;
}

async function alertCount(port: number, key: string, alias: string): Promise<number | undefined> {
  const list = await fetch(`http://127.0.0.1:${port}/v2/alerts?query=alias:${alias}`, {
    headers: { authorization: `GenieKey ${key}` },
  });
  const body = (await list.json()) as { data: { count: number }[] };
  return body.data[0]?.count;
}

describe('vigil command', () => {
  it('prints help for every command', () => {
    for (const args of [['--help'], ['start', '--help'], ['migrate', '--help'], ['init', '--help']]) {
      const result = spawnSync(process.execPath, [...cli, ...args], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      assert.match(result.stdout, /Usage: vigil/);
    }
    const bad = spawnSync(process.execPath, [...cli, 'start', '--role', 'everything'], { encoding: 'utf8' });
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /all, api, worker/);
  });

  it(
    'starts its own PostgreSQL, stops it on SIGTERM, and reuses it on the next start',
    { timeout: 120_000 },
    async () => {
      const dataDir = await freshDataDir();
      const key = '0f8fad5b-d9cb-469f-a165-70867728950e';
      for (const round of [1, 2]) {
        const port = await freePort();
        const env = {
          PORT: String(port),
          VIGIL_DATA_DIR: dataDir,
          VIGIL_BOOTSTRAP_API_KEY: key,
          DATABASE_URL: '',
        };
        const vigil = start(env);
        await waitFor(`round ${round} to serve`, () => healthy(port), 60_000);
        assert.equal(await postAlert(port, key, `round ${round}`, 'e2e'), 202);
        // The second start sees the first start's alert: the same cluster, reused.
        assert.equal(await alertCount(port, key, 'e2e'), round);
        assert.ok(!vigil.output().includes(key), 'the key never appears in the logs');
        vigil.child.kill('SIGTERM');
        assert.equal(await vigil.exited, 0, vigil.output());
        assert.match(vigil.output(), /embedded PostgreSQL stopped/);
        await assert.rejects(fs.access(path.join(await clusterDir(dataDir), 'postmaster.pid')));
      }
    },
  );

  it(
    'stops on SIGTERM the PostgreSQL it attached to after a Vigil was killed',
    { timeout: 180_000 },
    async () => {
      const dataDir = await freshDataDir();
      const key = '9b2c4e1a-3f5d-4a6b-8c7d-0e1f2a3b4c5d';
      const env = (port: number) => ({
        PORT: String(port),
        VIGIL_DATA_DIR: dataDir,
        VIGIL_BOOTSTRAP_API_KEY: key,
        DATABASE_URL: '',
      });
      const firstPort = await freePort();
      const first = start(env(firstPort));
      await waitFor('the first Vigil to serve', () => healthy(firstPort), 60_000);
      assert.equal(await postAlert(firstPort, key, 'before the crash', 'crash'), 202);
      assert.equal(await alertCount(firstPort, key, 'crash'), 1);
      first.child.kill('SIGKILL');
      await first.exited;
      const cluster = await clusterDir(dataDir);
      const server = await postmaster(cluster);
      assert.ok(server, 'the embedded PostgreSQL outlives a Vigil killed with SIGKILL');

      const secondPort = await freePort();
      const second = start(env(secondPort));
      await waitFor('the second Vigil to serve', () => healthy(secondPort), 60_000);
      assert.match(second.output(), /attaching to the embedded PostgreSQL/);
      assert.equal(await alertCount(secondPort, key, 'crash'), 1, 'the data from before the crash');
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0, second.output());
      assert.match(second.output(), /embedded PostgreSQL stopped/);
      assert.equal(alive(server.pid), false, 'the PostgreSQL the second Vigil attached to is gone');
      assert.equal(await accepts(server.port), false);
      await assert.rejects(fs.access(path.join(cluster, 'postmaster.pid')));
    },
  );

  it(
    'leaves running, on SIGTERM, the PostgreSQL of a Vigil that still runs on the same data folder',
    { timeout: 180_000 },
    async () => {
      const dataDir = await freshDataDir();
      const key = '3d6f8a1c-5b7e-4c9d-a2f4-6e8b0c1d3f5a';
      const env = (port: number) => ({
        PORT: String(port),
        VIGIL_DATA_DIR: dataDir,
        VIGIL_BOOTSTRAP_API_KEY: key,
        DATABASE_URL: '',
      });
      const firstPort = await freePort();
      const first = start(env(firstPort));
      await waitFor('the first Vigil to serve', () => healthy(firstPort), 60_000);
      const secondPort = await freePort();
      const second = start(env(secondPort), ['start', '--role', 'api']);
      await waitFor('the second Vigil to serve', () => healthy(secondPort), 60_000);
      assert.match(second.output(), /attaching to the embedded PostgreSQL/);
      const cluster = await clusterDir(dataDir);
      const server = await postmaster(cluster);
      assert.ok(server);

      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0, second.output());
      assert.doesNotMatch(second.output(), /embedded PostgreSQL stopped/);
      // The first Vigil still serves from its database.
      assert.ok(alive(server.pid), "the first Vigil's PostgreSQL still runs");
      assert.equal(await postAlert(firstPort, key, 'after the second left', 'shared'), 202);
      assert.equal(await alertCount(firstPort, key, 'shared'), 1);

      first.child.kill('SIGTERM');
      assert.equal(await first.exited, 0, first.output());
      assert.match(first.output(), /embedded PostgreSQL stopped/);
      assert.equal(alive(server.pid), false);
      await assert.rejects(fs.access(path.join(cluster, 'postmaster.pid')));
    },
  );

  it('migrates once when several processes start together', { timeout: 60_000 }, async () => {
    const databaseUrl = await createTestDatabase();
    const runs = Array.from({ length: 3 }, () => start({ DATABASE_URL: databaseUrl }, ['migrate']));
    const codes = await Promise.all(runs.map((r) => r.exited));
    assert.deepEqual(codes, [0, 0, 0], runs.map((r) => r.output()).join('\n'));
    const applied = runs.filter((r) => r.output().includes('Applied: 0001_foundation'));
    assert.equal(applied.length, 1);
  });

  it('serves the API and runs the workers in separate processes', { timeout: 60_000 }, async () => {
    const databaseUrl = await createTestDatabase();
    const key = '7c9e6679-7425-40de-944b-e07fc1f90ae7';
    const port = await freePort();
    const api = start({ DATABASE_URL: databaseUrl, PORT: String(port), VIGIL_BOOTSTRAP_API_KEY: key }, [
      'start',
      '--role',
      'api',
    ]);
    const worker = start({ DATABASE_URL: databaseUrl, PORT: '0' }, ['start', '--role', 'worker']);
    await waitFor('the API to serve', () => healthy(port), 30_000);
    const headers = { authorization: `GenieKey ${key}`, 'content-type': 'application/json' };
    const created = await fetch(`http://127.0.0.1:${port}/v2/alerts`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ message: 'split', alias: 'split' }),
    });
    assert.equal(created.status, 202);
    await fetch(`http://127.0.0.1:${port}/v2/alerts/split/snooze?identifierType=alias`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ endTime: new Date(Date.now() + 1000).toISOString() }),
    });
    // Only the worker process can end the snooze.
    await waitFor(
      'the worker to end the snooze',
      async () => {
        const alert = await fetch(`http://127.0.0.1:${port}/v2/alerts/split?identifierType=alias`, {
          headers,
        });
        const body = (await alert.json()) as { data: { snoozed: boolean } };
        return body.data.snoozed === false;
      },
      20_000,
    );
    api.child.kill('SIGTERM');
    worker.child.kill('SIGTERM');
    assert.equal(await api.exited, 0);
    assert.equal(await worker.exited, 0);
  });
});
