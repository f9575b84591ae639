import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool, type Db } from '../../db/database.js';
import { alertEventQueues, consumerQueue } from '../../engine/events/queues.js';
import { createLogger } from '../../logger.js';
import { createTestDatabase } from '../../testing/harness.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../testing/webhook-receiver.js';
import type { Clock } from '../../work/clock.js';
import { QUEUES } from '../../work/queue-names.js';
import type { WorkRound, WorkSignal } from '../../work/runner.js';
import { localDeliverySender } from '../../testing/team-deliveries.js';
import { teamDestinationsConsumer } from './deliveries.js';
import { teamDestinationsRepository as repo, TEAM_DESTINATIONS_CONSUMER } from './repository.js';

/**
 * A change held back for an earlier change to its alert still among the consumer's events goes as soon
 * as that event leaves the consumer's queue, not at the next recheck; and while the consumer retries that
 * event, the sender looks again when the event is next due rather than every second. On real PostgreSQL,
 * on a clock that never moves (no worker runs, nothing sleeps): the rounds run only when woken.
 */

let db: Db;
let receiver: WebhookReceiver;
let orgId: string;
let teamId: string;
let destinationId: string;
// Near the real time: the receiver refuses a signature made long ago. It never moves.
const now = new Date();
const clock: Clock = { now: () => now, fromSystemTime: (t) => t, toSystemTime: (t) => t };
const log = createLogger('silent');

function eventOf(alertId: string, type: string, seq: number) {
  return {
    type,
    eventId: randomUUID(),
    alertId,
    orgId,
    at: now.toISOString(),
    actor: { kind: 'system', name: 'test' },
    seq,
    ...(type === 'created' ? { priority: 'P3' } : {}),
  };
}

/** The change on its way to the team destinations' consumer. */
async function onItsWay(
  alertId: string,
  type: string,
  seq: number,
  at: { dueAt?: Date; leaseUntil?: Date } = {},
): Promise<void> {
  await sql`
    INSERT INTO event_deliveries (consumer, seq, event, due_at, lease_until)
    VALUES (${TEAM_DESTINATIONS_CONSUMER}, ${seq}, ${JSON.stringify(eventOf(alertId, type, seq))}::jsonb,
      ${at.dueAt ?? now}, ${at.leaseUntil ?? null})`.execute(db);
}

/** A delivery of the change to the destination, as the consumer writes it. */
async function delivery(alertId: string, type: string, seq: number, dueAt = now): Promise<void> {
  const event = eventOf(alertId, type, seq);
  await sql`
    INSERT INTO team_destination_deliveries
      (destination_id, event_id, alert_id, event_type, event, seq, due_at)
    VALUES (${destinationId}, ${event.eventId}, ${alertId}, ${type}, ${JSON.stringify(event)}::jsonb, ${seq},
      ${dueAt})`.execute(db);
}

async function states(alertId: string): Promise<Record<string, string>> {
  const { rows } = await sql<{ event_type: string; state: string }>`
    SELECT event_type, state FROM team_destination_deliveries WHERE alert_id = ${alertId}`.execute(db);
  return Object.fromEntries(rows.map((r) => [r.event_type, r.state]));
}

before(async () => {
  receiver = await startWebhookReceiver();
  const url = await createTestDatabase({ migrated: true });
  db = createDb(createPool(url, 4));
  const org = await sql<{ id: string }>`
    INSERT INTO organizations (name) VALUES ('Held') RETURNING id`.execute(db);
  orgId = org.rows[0]?.id ?? '';
  const team = await sql<{ id: string }>`
    INSERT INTO teams (org_id, name) VALUES (${orgId}, 'Held') RETURNING id`.execute(db);
  teamId = team.rows[0]?.id ?? '';
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  receiver.endpoint('/held', secret);
  const destination = await sql<{ id: string }>`
    INSERT INTO team_destinations (org_id, team_id, type, name, config)
    VALUES (${orgId}, ${teamId}, 'webhook', 'Held hook',
            ${JSON.stringify({ url: `${receiver.url}/held`, secret })}::jsonb)
    RETURNING id`.execute(db);
  destinationId = destination.rows[0]?.id ?? '';
});

beforeEach(async () => {
  await sql`DELETE FROM team_destination_deliveries`.execute(db);
  await sql`DELETE FROM event_deliveries`.execute(db);
  await sql`DELETE FROM outbox_jobs`.execute(db);
});

after(async () => {
  await db?.destroy();
  await receiver?.close();
});

describe("an alert's second change in one batch of the consumer", () => {
  it('is delivered once the batch has left the queue, without waiting for a recheck', async () => {
    const alert = await sql<{ id: string }>`
      INSERT INTO alerts (org_id, alias, message, team_ids)
      VALUES (${orgId}, ${randomUUID()}, 'Disk full', ${[teamId]}::uuid[]) RETURNING id`.execute(db);
    const alertId = alert.rows[0]?.id ?? '';
    await onItsWay(alertId, 'created', 1);
    await onItsWay(alertId, 'closed', 2);

    const sender = localDeliverySender(db, clock, log).queue();
    // The sender runs a round when woken, and only then (the clock never reaches a recheck).
    const senderRounds: Promise<WorkRound>[] = [];
    const signal: WorkSignal = {
      wake(queue) {
        if (queue === QUEUES.teamDestinations) senderRounds.push(sender.round(clock.now()));
      },
    };
    const consumer = teamDestinationsConsumer({ db, clock, signal });
    let firstRound: Record<string, string> = {};
    const queue = alertEventQueues({
      db,
      log,
      signal,
      // The worst order: the sender's round woken by the new deliveries ends before the batch leaves the
      // consumer's queue, the `closed` held by the `created` still there.
      consumers: [
        {
          ...consumer,
          async handleBatch(events, context) {
            const result = (await consumer.handleBatch?.(events, context)) ?? { failed: [] };
            await Promise.all(senderRounds);
            firstRound = await states(alertId);
            return result;
          },
        },
      ],
    }).find((q) => q.name === consumerQueue(TEAM_DESTINATIONS_CONSUMER));
    assert.ok(queue);
    await queue.round(now);
    assert.deepEqual(firstRound, { created: 'sent', closed: 'pending' }, 'the round the new deliveries woke');
    await Promise.all(senderRounds);
    assert.deepEqual(await states(alertId), { created: 'sent', closed: 'sent' });
    assert.deepEqual(
      receiver.received('/held').map((w) => (w.body as { type: string }).type),
      ['alert.created', 'alert.closed'],
    );
  });
});

describe('a delivery held by a change the consumer is retrying', () => {
  const recheckAt = new Date(now.getTime() + 1000);
  const fallbackAt = new Date(now.getTime() + 10_000);

  it('is looked at again when that change is next due to the consumer, within the fallback', async () => {
    const alertId = randomUUID();
    await onItsWay(alertId, 'created', 10, { dueAt: new Date(now.getTime() + 4000) });
    await delivery(alertId, 'closed', 11);
    assert.equal((await repo.nextDueAt(db, now, recheckAt, fallbackAt))?.getTime(), now.getTime() + 4000);

    // Retried much later: the fallback.
    await sql`UPDATE event_deliveries SET due_at = ${new Date(now.getTime() + 3600_000)}`.execute(db);
    assert.equal((await repo.nextDueAt(db, now, recheckAt, fallbackAt))?.getTime(), fallbackAt.getTime());

    // Being handled now: when its lease runs out, within the fallback (the consumer wakes the sender when done).
    await sql`UPDATE event_deliveries SET due_at = ${now}, lease_until = ${new Date(now.getTime() + 3000)}`.execute(
      db,
    );
    assert.equal((await repo.nextDueAt(db, now, recheckAt, fallbackAt))?.getTime(), now.getTime() + 3000);

    // Due again at once: no sooner than the recheck.
    await sql`UPDATE event_deliveries SET lease_until = NULL`.execute(db);
    assert.equal((await repo.nextDueAt(db, now, recheckAt, fallbackAt))?.getTime(), recheckAt.getTime());
  });

  it('is looked at no sooner than it falls due, and at the recheck while a change is in the outbox', async () => {
    const alertId = randomUUID();
    await onItsWay(alertId, 'created', 20, { dueAt: new Date(now.getTime() + 4000) });
    await delivery(alertId, 'acknowledged', 21, new Date(now.getTime() + 7000));
    assert.equal((await repo.nextDueAt(db, now, recheckAt, fallbackAt))?.getTime(), now.getTime() + 7000);

    const other = randomUUID();
    const { rows } = await sql<{ id: string }>`
      INSERT INTO outbox_jobs (task, payload)
      VALUES ('alert-event', ${JSON.stringify({ type: 'created', eventId: randomUUID(), alertId: other, orgId })}::jsonb)
      RETURNING id`.execute(db);
    await delivery(other, 'closed', Number(rows[0]?.id) + 1);
    assert.equal((await repo.nextDueAt(db, now, recheckAt, fallbackAt))?.getTime(), recheckAt.getTime());
  });
});
