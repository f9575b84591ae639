import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../src/db/embedded.js';
import { createTestDatabase, waitFor } from '../../src/testing/harness.js';

/** The real `vigil` command: its embedded PostgreSQL, its signals, its concurrent migrations. */

const cli = ['--import', 'tsx', 'src/cli/main.ts'];
const children: ChildProcess[] = [];
after(() => {
  for (const child of children) child.kill('SIGKILL');
});

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
      const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-e2e-'));
      try {
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
          const res = await fetch(`http://127.0.0.1:${port}/v2/alerts`, {
            method: 'POST',
            headers: { authorization: `GenieKey ${key}`, 'content-type': 'application/json' },
            body: JSON.stringify({ message: `round ${round}`, alias: 'e2e' }),
          });
          assert.equal(res.status, 202);
          const list = await fetch(`http://127.0.0.1:${port}/v2/alerts?query=alias:e2e`, {
            headers: { authorization: `GenieKey ${key}` },
          });
          const body = (await list.json()) as { data: { count: number }[] };
          // The second start sees the first start's alert: the same cluster, reused.
          assert.equal(body.data[0]?.count, round);
          assert.ok(!vigil.output().includes(key), 'the key never appears in the logs');
          vigil.child.kill('SIGTERM');
          assert.equal(await vigil.exited, 0, vigil.output());
          assert.match(vigil.output(), /embedded PostgreSQL stopped/);
          await assert.rejects(fs.access(path.join(dataDir, 'postgres', 'postmaster.pid')));
        }
      } finally {
        await fs.rm(dataDir, { recursive: true, force: true });
      }
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
