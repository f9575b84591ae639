import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, describe, it } from 'node:test';
import { freePort } from '../../src/db/embedded.js';
import { createTestDatabase, waitFor } from '../../src/testing/harness.js';
import { cleanUp, cli, healthy, start } from './vigil-command.js';

/**
 * The real `vigil` command: its help, its concurrent migrations, its roles in separate processes. Its
 * embedded PostgreSQL is in cli-embedded-postgres*.test.ts, files of their own so that they run in parallel.
 */

after(cleanUp);

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
