import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Kysely, PostgresDialect, sql } from 'kysely';
import { createDb, createPool, type Db } from './database.js';
import { deleteInBatches, stoppingAt } from './delete-in-batches.js';
import type { Database } from './schema.js';
import { createTestDatabase } from '../testing/harness.js';
import { queryCounter } from '../testing/query-counter.js';

/** Retention's deletes: a batch a statement, until what the condition picks is gone, and nothing else. */

let db: Db;
let pool: ReturnType<typeof createPool>;
const cutOff = new Date('2026-11-01T00:00:00Z');

before(async () => {
  pool = createPool(await createTestDatabase({ migrated: true }), 2);
  db = createDb(pool);
});

after(async () => {
  await db?.destroy();
});

describe('deleteInBatches', () => {
  it('deletes what the condition picks a batch a statement, and keeps the rest', async () => {
    await sql`
      INSERT INTO engine_handled_events (event_id, handled_at)
      SELECT gen_random_uuid(), ${cutOff}::timestamptz - make_interval(mins => n) FROM generate_series(1, 23) n
      UNION ALL
      SELECT gen_random_uuid(), ${cutOff}::timestamptz + make_interval(mins => n) FROM generate_series(0, 2) n`.execute(
      db,
    );
    const counter = queryCounter();
    const counted = new Kysely<Database>({
      dialect: new PostgresDialect({ pool }),
      plugins: [counter.plugin],
    });

    const deleted = await deleteInBatches(
      counted,
      'engine_handled_events',
      sql`handled_at < ${cutOff}::timestamptz`,
      10,
    );
    assert.equal(deleted, 23);
    assert.equal(counter.count, 3, 'batches of 10, 10 and 3');
    const left = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM engine_handled_events WHERE handled_at >= ${cutOff}::timestamptz`.execute(
      db,
    );
    assert.equal(left.rows[0]?.n, 3);
    const all = await sql<{ n: number }>`SELECT count(*)::int AS n FROM engine_handled_events`.execute(db);
    assert.equal(all.rows[0]?.n, 3);

    assert.equal(
      await deleteInBatches(counted, 'engine_handled_events', sql`handled_at < ${cutOff}::timestamptz`, 10),
      0,
    );
  });

  it('ends after the batch under way once the process stops, leaving the rest for the next purge', async () => {
    await sql`DELETE FROM engine_handled_events`.execute(db);
    await sql`
      INSERT INTO engine_handled_events (event_id, handled_at)
      SELECT gen_random_uuid(), ${cutOff}::timestamptz - make_interval(mins => n) FROM generate_series(1, 25) n`.execute(
      db,
    );
    const stop = new AbortController();
    const purge = () =>
      deleteInBatches(db, 'engine_handled_events', sql`handled_at < ${cutOff}::timestamptz`, 10);
    // Stopped already: the batch under way (the first) goes, and no other.
    stop.abort();
    assert.equal(await stoppingAt(stop.signal, purge), 10, 'one batch, then it stops');
    const left = await sql<{ n: number }>`SELECT count(*)::int AS n FROM engine_handled_events`.execute(db);
    assert.equal(left.rows[0]?.n, 15);
    assert.equal(await stoppingAt(new AbortController().signal, purge), 15);
  });
});
