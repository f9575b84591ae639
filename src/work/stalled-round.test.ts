import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { createPool } from '../db/database.js';
import { createLogger } from '../logger.js';
import { freezingProxy } from '../testing/freezing-proxy.js';
import { createTestDatabase, waitFor } from '../testing/harness.js';
import { ShiftedClock } from './clock.js';
import { createWorkRunner } from './runner.js';

describe('a round whose database connection goes silent', () => {
  let url: string;
  before(async () => {
    url = await createTestDatabase();
  });

  let proxy: Awaited<ReturnType<typeof freezingProxy>> | undefined;
  after(async () => {
    await proxy?.close();
  });

  it('is warned of while it is stuck, naming its queue and what to check', { timeout: 15_000 }, async () => {
    proxy = await freezingProxy(url);
    // The rounds' pool goes through the proxy; the runner's own (wake-ups) does not, so it can stop.
    const stalled = createPool(proxy.url, 1);
    const runnerPool = new pg.Pool({ connectionString: url, max: 2 });
    const lines: string[] = [];
    const slowRoundMs = 500;
    const runner = createWorkRunner({
      pool: runnerPool,
      clock: new ShiftedClock(),
      log: createLogger(
        'warn',
        new Writable({ write: (chunk: Buffer, _enc, done) => done(void lines.push(chunk.toString())) }),
      ),
      slowRoundMs,
    });
    let started = 0;
    let finished = 0;
    runner.register({
      name: 'test-stalled',
      idleMs: 50,
      async round() {
        started++;
        await stalled.query('SELECT 1');
        finished++;
        return { more: false };
      },
    });
    await runner.start();
    try {
      await waitFor('rounds through the proxy', async () => finished >= 2, 5_000);
      // Only what is logged from the silence on: a warm-up round slow on a busy machine (the connection's
      // set-up through the proxy) may have been warned of before.
      const before = lines.length;
      proxy.freeze();
      const silencedAt = Date.now();
      const since = () => lines.slice(before);
      await waitFor('a warning of the stuck round', async () => since().length > 0, 8 * slowRoundMs);
      assert.equal(finished, started - 1, 'the warned round is still stuck');
      const [warning] = since().map(
        (l) => JSON.parse(l) as { queue?: string; runningMs?: number; msg: string },
      );
      assert.equal(warning?.queue, 'test-stalled');
      assert.ok((warning?.runningMs ?? 0) >= slowRoundMs - 10, `runningMs ${warning?.runningMs}`);
      assert.ok(Date.now() - silencedAt < 8 * slowRoundMs);
      assert.match(
        warning?.msg ?? '',
        /^test-stalled: a round has been running for \d+\.\d s and has not ended;/,
      );
      assert.match(warning?.msg ?? '', /database is reachable/);
      assert.match(warning?.msg ?? '', /lock/);
      // Once per round, however long it stays stuck.
      await sleep(2 * slowRoundMs);
      assert.equal(since().length, 1, since().join(''));
    } finally {
      // Cutting the proxy's connections fails the stuck query, so the round ends and the runner stops.
      await proxy.close();
      proxy = undefined;
      await runner.stop();
      await stalled.end().catch(() => {});
      await runnerPool.end();
    }
  });
});
