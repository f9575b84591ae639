import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool, type Db } from '../../db/database.js';
import { createTestDatabase } from '../../testing/harness.js';
import { teamDestinationsRepository as repo, TEAM_DESTINATIONS_CONSUMER } from './repository.js';

/**
 * The order of one alert's changes at one destination, on real PostgreSQL, round by round (no worker
 * runs): a change is handed out only once every earlier change to its alert has been delivered (or given
 * up) there — whether the earlier one is a delivery still to send (retrying, or claimed by another
 * worker) or an event not yet turned into deliveries (the consumer of alert events is retrying it, or
 * another process is still moving it out of the outbox). A Slack message is posted on `created` and
 * edited later; a webhook receiver reads the changes as they come: a `closed` before the `created` is
 * an edit of nothing, or an alert that opens after it closed.
 */

let db: Db;
let orgId: string;
let destinationId: string;
const now = new Date('2026-03-02T10:00:00Z');
const lease = new Date(now.getTime() + 60_000);

interface Change {
  alertId: string;
  type: string;
  seq: number;
}

function eventOf(change: Change) {
  return {
    type: change.type,
    eventId: randomUUID(),
    alertId: change.alertId,
    orgId,
    at: now.toISOString(),
    actor: { kind: 'system', name: 'test' },
    seq: change.seq,
  };
}

/** A delivery of the change to the destination, as the consumer writes it. Its id. */
async function delivery(change: Change, state = 'pending', dueAt = now): Promise<string> {
  const event = eventOf(change);
  const { rows } = await sql<{ id: string }>`
    INSERT INTO team_destination_deliveries
      (destination_id, event_id, alert_id, event_type, event, seq, due_at, state)
    VALUES (${destinationId}, ${event.eventId}, ${change.alertId}, ${change.type},
      ${JSON.stringify(event)}::jsonb, ${change.seq}, ${dueAt}, ${state})
    RETURNING id`.execute(db);
  assert.ok(rows[0]);
  return rows[0].id;
}

/** The change on its way to the team destinations' consumer (fanned out, not yet handled). Its id. */
async function onItsWay(change: Change, dueAt = now): Promise<string> {
  const { rows } = await sql<{ id: string }>`
    INSERT INTO event_deliveries (consumer, seq, event, due_at)
    VALUES (${TEAM_DESTINATIONS_CONSUMER}, ${change.seq}, ${JSON.stringify(eventOf(change))}::jsonb, ${dueAt})
    RETURNING id`.execute(db);
  assert.ok(rows[0]);
  return rows[0].id;
}

/** The change still in the outbox (another process's fan-out has it, uncommitted). Its seq. */
async function inOutbox(alertId: string, type: string): Promise<number> {
  const { rows } = await sql<{ id: string }>`
    INSERT INTO outbox_jobs (task, payload)
    VALUES ('alert-event', ${JSON.stringify({ type, eventId: randomUUID(), alertId, orgId })}::jsonb)
    RETURNING id`.execute(db);
  assert.ok(rows[0]);
  return Number(rows[0].id);
}

async function claimedTypes(at = now): Promise<string[]> {
  const rows = await repo.claim(db, at, lease, 50);
  return rows.map((r) => r.event_type).sort();
}

before(async () => {
  const url = await createTestDatabase({ migrated: true });
  db = createDb(createPool(url, 4));
  const org = await sql<{ id: string }>`
    INSERT INTO organizations (name) VALUES ('Ordering') RETURNING id`.execute(db);
  orgId = org.rows[0]?.id ?? '';
  const team = await sql<{ id: string }>`
    INSERT INTO teams (org_id, name) VALUES (${orgId}, 'Ordered') RETURNING id`.execute(db);
  const destination = await sql<{ id: string }>`
    INSERT INTO team_destinations (org_id, team_id, type, name, config)
    VALUES (${orgId}, ${team.rows[0]?.id}, 'webhook', 'Ordered hook',
            ${JSON.stringify({ url: 'https://hooks.example.com/x', secret: 'whsec_x' })}::jsonb)
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
});

describe("one alert's changes at a destination", () => {
  it('wait for an earlier delivery being retried, and for one another worker has claimed', async () => {
    const alertId = randomUUID();
    // The `created` failed (a 503) and waits for its retry; the `closed` is due now.
    const created = await delivery(
      { alertId, type: 'created', seq: 10 },
      'pending',
      new Date(now.getTime() + 5000),
    );
    await delivery({ alertId, type: 'closed', seq: 11 });
    assert.deepEqual(await claimedTypes(), []);
    assert.equal((await repo.nextDueAt(db, now))?.getTime(), now.getTime() + 5000);

    // Two workers at once: the one whose claim is not yet committed holds the `created`; the other gets
    // neither it (locked) nor the `closed` (its earlier change is unsent), before and after that commits.
    await sql`UPDATE team_destination_deliveries SET due_at = ${now} WHERE id = ${created}`.execute(db);
    await db.transaction().execute(async (tx) => {
      const first = await repo.claim(tx, now, lease, 50);
      assert.deepEqual(
        first.map((r) => r.event_type),
        ['created'],
      );
      assert.deepEqual(await claimedTypes(), []);
    });
    assert.deepEqual(await claimedTypes(), []);
    const [row] = await sql<{ attempts: number }>`
      SELECT attempts FROM team_destination_deliveries WHERE id = ${created}`
      .execute(db)
      .then((r) => r.rows);
    await repo.recordOutcomes(
      db,
      [{ id: created, attempts: row?.attempts ?? 0, state: 'sent', sentAt: now }],
      now,
    );
    assert.deepEqual(await claimedTypes(), ['closed']);
  });

  it('wait for an earlier change still on its way to the consumer, until it is handled or given up', async () => {
    const alertId = randomUUID();
    // The consumer failed on the `created` (it retries it later) and has already handled the `closed`.
    const createdEvent = await onItsWay(
      { alertId, type: 'created', seq: 20 },
      new Date(now.getTime() + 2000),
    );
    await delivery({ alertId, type: 'closed', seq: 21 });
    // Another alert's changes are not held by it.
    const other = randomUUID();
    await onItsWay({ alertId: other, type: 'created', seq: 19 });
    await delivery(
      { alertId: other, type: 'acknowledged', seq: 22 },
      'pending',
      new Date(now.getTime() + 1000),
    );
    await sql`UPDATE event_deliveries SET dead_at = ${now} WHERE seq = 19`.execute(db);

    assert.deepEqual(await claimedTypes(), [], 'the `closed` waits for the `created`');
    // Held, it is not what the queue wakes for (else it would look again every few milliseconds).
    assert.equal((await repo.nextDueAt(db, now))?.getTime(), now.getTime() + 1000);
    // The queue looks again soon, though: the consumer may finish the `created` without waking it.
    const recheckAt = new Date(now.getTime() + 500);
    assert.equal((await repo.nextDueAt(db, now, recheckAt))?.getTime(), recheckAt.getTime());
    assert.deepEqual(await claimedTypes(new Date(now.getTime() + 1000)), ['acknowledged']);

    // The consumer handles the `created`: its delivery goes first, then the `closed`.
    const created = await delivery({ alertId, type: 'created', seq: 20 });
    await sql`DELETE FROM event_deliveries WHERE id = ${createdEvent}`.execute(db);
    const first = await repo.claim(db, now, lease, 50);
    assert.deepEqual(
      first.map((r) => r.event_type),
      ['created'],
    );
    await repo.recordOutcomes(db, [{ id: created, attempts: 1, state: 'sent', sentAt: now }], now);
    assert.deepEqual(await claimedTypes(), ['closed']);
  });

  it('go once an earlier change the consumer gave up on is dead', async () => {
    const alertId = randomUUID();
    const createdEvent = await onItsWay({ alertId, type: 'created', seq: 30 });
    await delivery({ alertId, type: 'acknowledged', seq: 31 });
    assert.deepEqual(await claimedTypes(), []);
    await sql`UPDATE event_deliveries SET dead_at = ${now} WHERE id = ${createdEvent}`.execute(db);
    assert.deepEqual(await claimedTypes(), ['acknowledged']);
  });

  it('wait for an earlier change still in the outbox', async () => {
    const alertId = randomUUID();
    const seq = await inOutbox(alertId, 'created');
    await delivery({ alertId, type: 'closed', seq: seq + 1 });
    assert.deepEqual(await claimedTypes(), []);
    await sql`DELETE FROM outbox_jobs WHERE id = ${seq}`.execute(db);
    assert.deepEqual(await claimedTypes(), ['closed']);
  });
});

describe('a destination with a burst on its way', () => {
  it('is not a time to look again at while its claim is out, but its leases running out are', async () => {
    // Five of its deliveries claimed (a live lease), and more of its alerts' first changes due now.
    for (let i = 0; i < 5; i++) await delivery({ alertId: randomUUID(), type: 'created', seq: 100 + i });
    assert.equal((await repo.claim(db, now, lease, 5)).length, 5);
    for (let i = 0; i < 20; i++) await delivery({ alertId: randomUUID(), type: 'created', seq: 200 + i });
    // The claim beside the one sending its burst passes it by ...
    assert.deepEqual(await repo.claim(db, now, lease, 50), []);
    // ... so its due deliveries are no time to look again at (that round would look every few
    // milliseconds): the leases' end is.
    assert.deepEqual(await repo.nextDueAt(db, now), lease);
  });
});

describe('the backlog', () => {
  it('counts what a claim could take now, each from when it became due', async () => {
    assert.deepEqual(await repo.backlog(db, now, 1000), { due: 0, oldestDueAt: null });
    const alertId = randomUUID();
    const createdDue = new Date(now.getTime() - 3000);
    await delivery({ alertId, type: 'created', seq: 50 }, 'pending', createdDue);
    // Behind the `created`: it waits for that one, though due earlier (its retry came sooner).
    await delivery({ alertId, type: 'closed', seq: 51 }, 'pending', new Date(now.getTime() - 5000));
    // Not yet due: after the claim below has let its lease run out.
    const laterDue = new Date(lease.getTime() + 60_000);
    await delivery({ alertId: randomUUID(), type: 'created', seq: 52 }, 'pending', laterDue);
    assert.deepEqual(await repo.backlog(db, now, 1000), { due: 1, oldestDueAt: createdDue });

    // Claimed: nothing is due until its lease runs out, then it is, from then on (the `closed` still waits).
    assert.deepEqual(await claimedTypes(), ['created']);
    assert.deepEqual(await repo.backlog(db, now, 1000), { due: 0, oldestDueAt: null });
    const lapsed = new Date(lease.getTime() + 1000);
    assert.deepEqual(await repo.backlog(db, lapsed, 1000), { due: 1, oldestDueAt: lease });
    assert.deepEqual(await repo.backlog(db, laterDue, 1000), { due: 2, oldestDueAt: lease });
    // Counted up to `limit`; the walk reaches past it (the first, the waiting `closed`, is walked and not
    // counted, and what may go behind it is).
    assert.deepEqual(await repo.backlog(db, laterDue, 1), { due: 1, oldestDueAt: lease });
    assert.equal((await repo.backlog(db, laterDue, 2)).due, 2);
  });
});

describe('a claimed delivery', () => {
  it('is handed out again only once its lease ran out, and the first claim can no longer record its outcome', async () => {
    const id = await delivery({ alertId: randomUUID(), type: 'created', seq: 40 });
    const [first] = await repo.claim(db, now, lease, 50);
    assert.equal(first?.id, id);
    assert.deepEqual(await claimedTypes(new Date(lease.getTime() - 1)), []);
    const later = new Date(lease.getTime() + 1);
    const [again] = await repo.claim(db, later, new Date(later.getTime() + 60_000), 50);
    assert.equal(again?.id, id);
    const late = await repo.recordOutcomes(
      db,
      [{ id, attempts: first?.attempts ?? 0, state: 'sent', sentAt: later }],
      later,
    );
    assert.equal(late.size, 0, "the first claim's outcome does not land over the second's");
  });
});
