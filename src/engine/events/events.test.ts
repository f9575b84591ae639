import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createLogger } from '../../logger.js';
import { alertLogs, createAlert, startTestServer, type TestServer } from '../../testing/harness.js';
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

function queuesFor(consumers: AlertEventConsumer[], log = createLogger('silent')) {
  const woken: string[] = [];
  const queues = alertEventQueues({
    db: server.app.context.db,
    log,
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
      label: 'A test consumer',
      types: ['acknowledged', 'closed'],
      handles: () => true,
      handle: async (e) => void seen.push(`acks:${e.type}`),
    };
    const everything: AlertEventConsumer = {
      name: 'everything',
      label: 'A test consumer',
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
      label: 'A test consumer',
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
      label: 'A test consumer',
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
      label: 'A test consumer',
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

  it("says once, in the log and on the alert's activity log, that a delivery went dead; one of a deleted alert dies quietly", async () => {
    const db = server.app.context.db;
    await db.deleteFrom('event_deliveries').execute();
    const alertId = await createAlert(server, { message: `dead delivery ${randomUUID()}` });
    const deletedId = await createAlert(server, { message: `dead delivery, deleted ${randomUUID()}` });
    const { org_id: orgId } = await db
      .selectFrom('alerts')
      .select('org_id')
      .where('id', '=', alertId)
      .executeTakeFirstOrThrow();
    await db.deleteFrom('alerts').where('id', '=', deletedId).execute();
    const now = new Date();
    // One attempt short of giving up, rather than 24 rounds through the backoff (the test above does those).
    const created = (id: string) =>
      JSON.stringify({
        eventId: randomUUID(),
        alertId: id,
        orgId,
        type: 'created',
        actor: {},
        priority: 'P3',
      });
    await db
      .insertInto('event_deliveries')
      .values(
        [alertId, deletedId].map((id, i) => ({
          consumer: 'escalation',
          seq: String(i + 1),
          event: created(id),
          due_at: now,
          attempts: MAX_ATTEMPTS - 1,
        })),
      )
      .execute();
    let down = true;
    let calls = 0;
    const escalation: AlertEventConsumer = {
      name: 'escalation',
      label: 'Escalation',
      types: ['created'],
      handles: () => true,
      handle: async () => {
        calls++;
        if (down) throw new Error('the engine is down');
      },
    };
    const lines: { level: number; msg: string; [key: string]: unknown }[] = [];
    const log = createLogger('info', {
      write: (line: string) => void lines.push(JSON.parse(line)),
    } as unknown as NodeJS.WritableStream);
    const { byName } = queuesFor([escalation], log);
    await byName.get(consumerQueue('escalation'))?.round(now);
    await byName.get(consumerQueue('escalation'))?.round(new Date(now.getTime() + 86_400_000));
    assert.equal(calls, 2, 'each tried once, and not again once dead');

    const dead = await db.selectFrom('event_deliveries').selectAll().orderBy('seq').execute();
    assert.equal(dead.length, 2);
    assert.ok(
      dead.every((d) => d.dead_at),
      "both dead, the deleted alert's too",
    );
    const said = lines.filter((l) => l.msg.startsWith('alert event delivery dead'));
    assert.equal(said.length, 2, 'said once per delivery');
    // A second process giving up on it too (its lease ran out meanwhile) is told it was not the one.
    const [alreadyDead] = dead;
    assert.ok(alreadyDead);
    assert.equal(await repo.giveUp(db, alreadyDead.id, new Date(), 'again'), false);
    const [first] = said;
    assert.ok(first && first.level >= 40, 'a warning or worse');
    assert.deepEqual(
      {
        consumer: first.consumer,
        eventType: first.eventType,
        eventId: first.eventId,
        alertId: first.alertId,
        orgId: first.orgId,
        attempts: first.attempts,
        lastError: first.lastError,
      },
      {
        consumer: 'escalation',
        eventType: 'created',
        eventId: (dead[0]?.event as { eventId: string }).eventId,
        alertId,
        orgId,
        attempts: MAX_ATTEMPTS,
        lastError: 'the engine is down',
      },
    );
    assert.match(first.msg, /replay/);
    assert.deepEqual(
      lines.filter((l) => l.msg.includes('could not be told')),
      [],
      "a deleted alert's line is skipped, not an error",
    );
    const told = (await alertLogs(server, alertId)).filter((l) => l.includes('gave up'));
    assert.deepEqual(told, [
      `Escalation could not handle the alert's creation and gave up after ${MAX_ATTEMPTS} attempts: the engine is down; an operator can replay it (docs/operations.md, "Dead event deliveries")`,
    ]);

    // The statement the log gives replays it (the consumer is idempotent by eventId): handled, and gone.
    down = false;
    await sql.raw(String(first.replay)).execute(db);
    await byName.get(consumerQueue('escalation'))?.round(new Date(Date.now() + 1000));
    assert.equal(calls, 3);
    assert.deepEqual(
      (await db.selectFrom('event_deliveries').select('seq').execute()).map((d) => d.seq),
      ['2'],
      'the replayed one is handled; the other stays dead',
    );
  });
});
