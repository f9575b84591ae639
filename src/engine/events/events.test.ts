import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createLogger } from '../../logger.js';
import { startTestServer, type TestServer } from '../../testing/harness.js';
import { withPlanMadeSmall } from '../../testing/plan-made-small.js';
import type { AlertEventConsumer } from '../consumers.js';
import { alertEventQueues, consumerQueue, MAX_ATTEMPTS } from './queues.js';
import { eventDeliveriesRepository as repo } from './repository.js';

/**
 * Alert events from the outbox to their consumers, driven round by round (an API-only server runs no
 * queues, so nothing else takes the rows).
 */

let server: TestServer;
before(async () => {
  server = await startTestServer({ role: 'api' });
});
after(async () => {
  await server.stop();
});

const event = (type: string) =>
  JSON.stringify({ eventId: randomUUID(), alertId: randomUUID(), orgId: randomUUID(), type, actor: {} });

function queuesFor(consumers: AlertEventConsumer[]) {
  const woken: string[] = [];
  const queues = alertEventQueues({
    db: server.app.context.db,
    log: createLogger('silent'),
    signal: { wake: (q) => woken.push(q) },
    consumers,
  });
  const byName = new Map(queues.map((q) => [q.name, q]));
  return { byName, woken };
}

describe('alert events', () => {
  it('leave the outbox as one delivery per consumer that takes their type, in order, and wake them', async () => {
    const db = server.app.context.db;
    await db.deleteFrom('event_deliveries').execute();
    await db
      .insertInto('outbox_jobs')
      .values(
        ['deduplicated', 'acknowledged', 'tags_added', 'closed'].map((type) => ({
          task: 'alert-event',
          payload: event(type),
        })),
      )
      .execute();
    const seen: string[] = [];
    const acks: AlertEventConsumer = {
      name: 'acks',
      types: ['acknowledged', 'closed'],
      handles: () => true,
      handle: async (e) => void seen.push(`acks:${e.type}`),
    };
    const everything: AlertEventConsumer = {
      name: 'everything',
      types: 'all',
      handles: () => true,
      handle: async (e) => void seen.push(`all:${e.type}`),
    };
    const { byName, woken } = queuesFor([acks, everything]);
    const now = new Date();
    await byName.get('alert-events')?.round(now);
    assert.equal(
      (await db.selectFrom('outbox_jobs').select('id').execute()).length,
      0,
      'the outbox is empty',
    );
    assert.deepEqual(woken.sort(), [consumerQueue('acks'), consumerQueue('everything')].sort());
    const rows = await db
      .selectFrom('event_deliveries')
      .select(['consumer', 'seq', 'event'])
      .orderBy('consumer')
      .orderBy('seq')
      .execute();
    assert.deepEqual(
      rows.filter((r) => r.consumer === 'acks').map((r) => (r.event as { type: string }).type),
      ['acknowledged', 'closed'],
    );
    assert.equal(rows.filter((r) => r.consumer === 'everything').length, 4);
    const seqs = rows.filter((r) => r.consumer === 'everything').map((r) => Number(r.seq));
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
      'the outbox order is kept as seq',
    );

    await byName.get(consumerQueue('acks'))?.round(now);
    await byName.get(consumerQueue('everything'))?.round(now);
    assert.deepEqual(seen, [
      'acks:acknowledged',
      'acks:closed',
      'all:deduplicated',
      'all:acknowledged',
      'all:tags_added',
      'all:closed',
    ]);
    assert.equal((await db.selectFrom('event_deliveries').select('id').execute()).length, 0);
  });

  it('retries a failed delivery with backoff on its own, and keeps it as dead after too many attempts', async () => {
    const db = server.app.context.db;
    await db.deleteFrom('event_deliveries').execute();
    await db
      .insertInto('outbox_jobs')
      .values({ task: 'alert-event', payload: event('closed') })
      .execute();
    let calls = 0;
    const failing: AlertEventConsumer = {
      name: 'failing',
      types: 'all',
      handles: () => true,
      handle: async () => {
        calls++;
        throw new Error('the consumer is down');
      },
    };
    let fine = 0;
    const healthy: AlertEventConsumer = {
      name: 'healthy',
      types: 'all',
      handles: () => true,
      handle: async () => void fine++,
    };
    const { byName } = queuesFor([failing, healthy]);
    let now = new Date();
    await byName.get('alert-events')?.round(now);
    await byName.get(consumerQueue('healthy'))?.round(now);
    await byName.get(consumerQueue('failing'))?.round(now);
    assert.equal(fine, 1, 'the other consumer got it once');
    assert.equal(calls, 1);
    const first = await db.selectFrom('event_deliveries').selectAll().executeTakeFirstOrThrow();
    assert.equal(first.consumer, 'failing');
    assert.ok(first.due_at.getTime() > now.getTime(), 'it waits before the next attempt');
    assert.equal(first.last_error, 'the consumer is down');
    // Not due yet: nothing happens.
    await byName.get(consumerQueue('failing'))?.round(now);
    assert.equal(calls, 1);
    assert.equal((await repo.nextDue(db, 'failing'))?.getTime(), first.due_at.getTime());
    // Move time past each backoff until it gives up.
    for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
      const row = await db.selectFrom('event_deliveries').selectAll().executeTakeFirstOrThrow();
      now = new Date(row.due_at.getTime() + 1);
      await byName.get(consumerQueue('failing'))?.round(now);
    }
    assert.equal(calls, MAX_ATTEMPTS);
    const dead = await db.selectFrom('event_deliveries').selectAll().executeTakeFirstOrThrow();
    assert.ok(dead.dead_at, 'kept as dead, with its error');
    assert.equal(dead.last_error, 'the consumer is down');
    await byName.get(consumerQueue('failing'))?.round(new Date(now.getTime() + 86_400_000));
    assert.equal(calls, MAX_ATTEMPTS, 'a dead delivery is not tried again');
    assert.equal(await repo.nextDue(db, 'failing'), null);
  });

  it("hands a team destinations' consumer only the events of organizations with an enabled destination", async () => {
    const db = server.app.context.db;
    await db.deleteFrom('event_deliveries').execute();
    const org = await db.selectFrom('organizations').select('id').executeTakeFirstOrThrow();
    const team = await server.callOk('POST', '/v2/teams', { name: `destinations-${randomUUID()}` });
    const destination = await db
      .insertInto('team_destinations')
      .values({ org_id: org.id, team_id: team.data.id, type: 'webhook', name: 'ops webhook', config: '{}' })
      .returning('id')
      .executeTakeFirstOrThrow();
    const eventOf = (orgId: string, type: string) =>
      JSON.stringify({ eventId: randomUUID(), alertId: randomUUID(), orgId, type, actor: {} });
    const fanOut = async (events: string[]) => {
      await db
        .insertInto('outbox_jobs')
        .values(events.map((payload) => ({ task: 'alert-event', payload })))
        .execute();
      await byName.get('alert-events')?.round(new Date());
      const rows = await db
        .selectFrom('event_deliveries')
        .select(['consumer', 'event'])
        .orderBy('seq')
        .execute();
      await db.deleteFrom('event_deliveries').execute();
      return rows.map((r) => `${r.consumer}:${(r.event as { type: string }).type}`);
    };
    const destinations: AlertEventConsumer = {
      name: 'destinations',
      types: 'all',
      onlyWhereEnabled: 'team_destinations',
      handles: () => true,
      handle: async () => {},
    };
    const everything: AlertEventConsumer = {
      ...destinations,
      name: 'everything',
      onlyWhereEnabled: undefined,
    };
    const { byName } = queuesFor([destinations, everything]);

    // Another organization, and one whose orgId is not even a UUID: neither reaches the consumer.
    assert.deepEqual(
      await fanOut([
        eventOf(org.id, 'created'),
        eventOf(randomUUID(), 'closed'),
        eventOf('not-a-uuid', 'acknowledged'),
      ]),
      ['destinations:created', 'everything:created', 'everything:closed', 'everything:acknowledged'],
    );
    await db
      .updateTable('team_destinations')
      .set({ enabled: false })
      .where('id', '=', destination.id)
      .execute();
    assert.deepEqual(
      await fanOut([eventOf(org.id, 'created')]),
      ['everything:created'],
      'a disabled one counts not',
    );
    await db
      .updateTable('team_destinations')
      .set({ enabled: true })
      .where('id', '=', destination.id)
      .execute();
    assert.deepEqual(await fanOut([eventOf(org.id, 'closed')]), ['destinations:closed', 'everything:closed']);
    await db.deleteFrom('team_destinations').where('id', '=', destination.id).execute();
  });

  // Written as `id IN (subquery ... FOR UPDATE SKIP LOCKED)`, a cached plan made while the table looked
  // empty ran the locking subquery again for every row of the table, and each run skipped the rows the
  // statement had just taken: here the old claim leased all 2,000 deliveries (the old fan-out moved all
  // 2,000 events); under load one claim among 7,388 deliveries took 104 s.
  it('claims a batch of deliveries in one pass, even under a plan made while the table looked empty', async () => {
    const consumer = `one-pass-${randomUUID()}`;
    try {
      const claimed = await withPlanMadeSmall(
        server.databaseUrl,
        'event_deliveries',
        (db) => repo.claim(db, consumer, new Date(), 50, 60_000),
        (db) =>
          sql`INSERT INTO event_deliveries (consumer, seq, event, due_at)
              SELECT ${consumer}, g, jsonb_build_object('eventId', g::text), ${new Date()}
              FROM generate_series(1, 2000) g`.execute(db),
      );
      assert.deepEqual(
        claimed.map((d) => Number(d.seq)),
        Array.from({ length: 50 }, (_, i) => i + 1),
        'the 50 oldest, and no more',
      );
    } finally {
      await server.app.context.db.deleteFrom('event_deliveries').where('consumer', '=', consumer).execute();
    }
  });

  it('moves a batch of the outbox in one pass, even under a plan made while the table looked empty', async () => {
    const consumer = `one-pass-${randomUUID()}`;
    const db = server.app.context.db;
    try {
      const { moved } = await withPlanMadeSmall(
        server.databaseUrl,
        'outbox_jobs',
        (small) =>
          repo.fanOut(small, [{ name: consumer, types: null, onlyWhereEnabled: null }], new Date(), 50),
        (small) =>
          sql`INSERT INTO outbox_jobs (task, payload)
              SELECT 'alert-event', jsonb_build_object('eventId', ${consumer} || '-' || g, 'type', 'created')
              FROM generate_series(1, 2000) g`.execute(small),
      );
      assert.equal(moved, 50);
    } finally {
      await sql`DELETE FROM outbox_jobs WHERE payload->>'eventId' LIKE ${`${consumer}-%`}`.execute(db);
      await db.deleteFrom('event_deliveries').where('consumer', '=', consumer).execute();
    }
  });
});
