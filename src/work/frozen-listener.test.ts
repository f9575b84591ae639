import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Writable } from 'node:stream';
import pg from 'pg';
import { createPool } from '../db/database.js';
import { createLogger } from '../logger.js';
import { freezingProxy } from '../testing/freezing-proxy.js';
import { serverUrl, waitFor } from '../testing/harness.js';
import { ShiftedClock } from './clock.js';
import { createWorkRunner } from './runner.js';

/**
 * The wake-up connection going silent without closing (a failover behind a pooler or NAT): nothing told
 * the runner, which stayed deaf to every wake and announcement, and queued a presence check on the dead
 * connection every few seconds. Its unanswered presence check now gives it away.
 */
describe('a wake-up connection that goes silent', () => {
  let proxy: Awaited<ReturnType<typeof freezingProxy>>;
  before(async () => {
    proxy = await freezingProxy(serverUrl());
  });
  after(async () => {
    await proxy.close();
  });

  // Without the bound the test would wait for good (stop() too, behind a statement on the frozen connection).
  const timeout = 15_000;
  it(
    'is taken for lost after an unanswered presence check, and the runner listens again',
    { timeout },
    async () => {
      const lines: string[] = [];
      const pool = createPool(proxy.url, 4);
      const runner = createWorkRunner({
        pool,
        clock: new ShiftedClock(),
        log: createLogger(
          'warn',
          new Writable({ write: (chunk: Buffer, _enc, done) => done(void lines.push(chunk.toString())) }),
        ),
        presenceCheckMs: 100,
        listenerAnswerMs: 300,
      });
      const events: string[] = [];
      const heard: string[] = [];
      runner.listenTo('vigil_frozen_listener_test', (payload) => heard.push(payload), {
        listening: (resumed) => events.push(resumed ? 'resumed' : 'listening'),
        lost: () => events.push('lost'),
      });
      // pg's word for statements queued behind one still running: checks piling up on the dead connection.
      const warnings: string[] = [];
      const onWarning = (warning: Error) => warnings.push(warning.message);
      process.on('warning', onWarning);
      const notifier = new pg.Client({ connectionString: serverUrl() });
      await notifier.connect();
      try {
        await runner.start();
        assert.deepEqual(events, ['listening']);
        proxy.freeze();
        const frozenAt = Date.now();
        await waitFor('the frozen listener to be lost', async () => events.includes('lost'), 5_000);
        // One presence check in flight at most, answered or not, plus its period.
        assert.ok(Date.now() - frozenAt < 300 + 100 + 1_000, `noticed after ${Date.now() - frozenAt} ms`);
        assert.match(lines.join(''), /the work wake-up connection was lost/);
        assert.deepEqual(
          warnings.filter((w) => /already executing a query/.test(w)),
          [],
        );
        await waitFor('listening again', async () => events.includes('resumed'), 5_000);
        assert.deepEqual(events, ['listening', 'lost', 'resumed']);
        await notifier.query(`NOTIFY vigil_frozen_listener_test, 'heard again'`);
        await waitFor('the announcement on the new connection', async () => heard.length > 0, 5_000);
        assert.deepEqual(heard, ['heard again']);
      } finally {
        process.off('warning', onWarning);
        await runner.stop();
        await notifier.end();
        await pool.end();
      }
    },
  );
});
