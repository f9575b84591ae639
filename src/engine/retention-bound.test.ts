import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool } from '../db/database.js';
import { createLogger } from '../logger.js';
import { deleteInBatches } from '../db/delete-in-batches.js';
import { createTestDatabase } from '../testing/harness.js';
import { retentionQueue } from './retention.js';

const MINUTE = 60_000;

/**
 * A retention purge scans what it purges, some without an index: on a big table a batch may rightly take
 * longer than the workers' pool's bound on a statement (VIGIL_DATABASE_QUERY_TIMEOUT_SECONDS), which
 * failed it every hour for good. The purges run without the bound.
 */
describe("retention under the workers' pool's bound on a statement", () => {
  it('lets a purge take longer than the bound', { timeout: 30_000 }, async () => {
    const BOUND_MS = 300;
    const pool = createPool(await createTestDatabase({ migrated: true }), 2, { queryTimeoutMs: BOUND_MS });
    const db = createDb(pool);
    try {
      const failures: unknown[] = [];
      const queue = retentionQueue({
        db,
        log: createLogger('silent'),
        purges: [
          {
            what: 'slow',
            purge: async () => {
              try {
                await sql`SELECT pg_sleep(${(2 * BOUND_MS) / 1000})`.execute(db);
              } catch (error) {
                failures.push(error);
                throw error;
              }
              return 1;
            },
          },
        ],
      });
      const start = new Date('2026-06-01T00:00:00Z');
      await queue.round(start); // plans the first run, five minutes on
      const now = new Date(start.getTime() + 6 * MINUTE);
      const round = await queue.round(now);
      assert.deepEqual(failures, []);
      assert.equal(round.nextDueAt?.getTime(), now.getTime() + 60 * MINUTE, 'next in an hour, not a retry');
    } finally {
      await db.destroy();
    }
  });
});

/** A stop during a run: the purge under way ends after its batch, the next are left, the run comes again soon. */
describe('retention when the process stops during a run', () => {
  it('ends after the batch under way and leaves the rest to a run in a few minutes', async () => {
    const pool = createPool(await createTestDatabase({ migrated: true }), 2);
    const db = createDb(pool);
    try {
      await sql`
        INSERT INTO engine_handled_events (event_id, handled_at)
        SELECT gen_random_uuid(), '2026-01-01'::timestamptz FROM generate_series(1, 25)`.execute(db);
      const stop = new AbortController();
      const ran: string[] = [];
      const queue = retentionQueue({
        db,
        log: createLogger('silent'),
        purges: [
          {
            what: 'batched',
            purge: () => {
              ran.push('batched');
              stop.abort(); // the process is asked to stop while this purge runs
              return deleteInBatches(db, 'engine_handled_events', sql`true`, 10);
            },
          },
          { what: 'next', purge: async () => (ran.push('next'), 0) },
        ],
      });
      const start = new Date('2026-06-01T00:00:00Z');
      await queue.round(start);
      const now = new Date(start.getTime() + 6 * MINUTE);
      const round = await queue.round(now, stop.signal);
      assert.deepEqual(ran, ['batched']);
      const left = await sql<{ n: number }>`SELECT count(*)::int AS n FROM engine_handled_events`.execute(db);
      assert.equal(left.rows[0]?.n, 15, 'one batch went');
      assert.equal(round.nextDueAt?.getTime(), now.getTime() + 5 * MINUTE, 'again in a few minutes');
    } finally {
      await db.destroy();
    }
  });
});
