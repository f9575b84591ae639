import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { startTestServer, type TestServer } from '../testing/harness.js';
import { relayOutbox } from './relay.js';

/** The relay on its own: an API-only server runs no relay or worker, so the jobs it makes stay put. */

let server: TestServer;
before(async () => {
  server = await startTestServer({ role: 'api' });
});
after(async () => {
  await server.stop();
});

describe('outbox relay', () => {
  it('turns the wanted event types into jobs, in order, and drops the rest from the outbox', async () => {
    const db = server.app.context.db;
    const event = (type: string) =>
      JSON.stringify({ eventId: randomUUID(), alertId: randomUUID(), orgId: randomUUID(), type });
    await db
      .insertInto('outbox_jobs')
      .values(
        ['deduplicated', 'acknowledged', 'tags_added', 'closed'].map((type) => ({
          task: 'alert-event',
          payload: event(type),
        })),
      )
      .execute();
    assert.equal(await relayOutbox(db, ['acknowledged', 'closed']), 4);
    const jobs = await sql<{ type: string; seq: number }>`
      SELECT payload->>'type' AS type, (payload->>'seq')::int AS seq
      FROM graphile_worker._private_jobs j JOIN graphile_worker._private_tasks t ON t.id = j.task_id
      WHERE t.identifier = 'alert-event' ORDER BY j.id`.execute(db);
    assert.deepEqual(
      jobs.rows.map((j) => j.type),
      ['acknowledged', 'closed'],
    );
    assert.ok((jobs.rows[0]?.seq ?? 0) < (jobs.rows[1]?.seq ?? 0), 'the outbox order is kept as seq');
    const left = await db.selectFrom('outbox_jobs').select('id').execute();
    assert.equal(left.length, 0);
  });
});
