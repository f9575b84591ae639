import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool, type Db } from '../../db/database.js';
import { createTestDatabase } from '../../testing/harness.js';
import { eventDeliveriesRepository as repo } from './repository.js';

/** The alert events' backlogs for the metrics (the outbox's, each consumer's), on real PostgreSQL. */

let db: Db;
const now = new Date('2026-03-02T10:00:00Z');

before(async () => {
  db = createDb(createPool(await createTestDatabase({ migrated: true }), 2));
});

after(async () => {
  await db?.destroy();
});

const event = () =>
  JSON.stringify({ eventId: randomUUID(), alertId: randomUUID(), orgId: randomUUID(), type: 'closed' });

async function outbox(createdAt: Date): Promise<void> {
  await sql`
    INSERT INTO outbox_jobs (task, payload, created_at)
    VALUES ('alert-event', ${event()}::jsonb, ${createdAt})`.execute(db);
}

async function delivery(
  consumer: string,
  dueAt: Date,
  more: { leaseUntil?: Date; deadAt?: Date } = {},
): Promise<void> {
  await sql`
    INSERT INTO event_deliveries (consumer, seq, event, due_at, lease_until, dead_at)
    VALUES (${consumer}, 1, ${event()}::jsonb, ${dueAt}, ${more.leaseUntil ?? null}, ${more.deadAt ?? null})`.execute(
    db,
  );
}

describe('the alert events backlog', () => {
  it('of the outbox: every event in it, the oldest first written', async () => {
    assert.deepEqual(await repo.outboxBacklog(db, 1000), { due: 0, oldestDueAt: null });
    const first = new Date(now.getTime() - 5000);
    await outbox(first);
    assert.deepEqual(await repo.outboxBacklog(db, 1000), { due: 1, oldestDueAt: first });
    await outbox(now);
    assert.deepEqual(await repo.outboxBacklog(db, 1000), { due: 2, oldestDueAt: first });
    // The count stops at its limit.
    assert.equal((await repo.outboxBacklog(db, 1)).due, 1);
  });

  it('of a consumer: its deliveries due and not held by a live lease, from when each fell due', async () => {
    assert.deepEqual(await repo.backlog(db, 'backlog-a', now, 1000), { due: 0, oldestDueAt: null });
    const dueAt = new Date(now.getTime() - 20_000);
    await delivery('backlog-a', dueAt);
    // Not yet due; dead; claimed under a live lease; another consumer's.
    await delivery('backlog-a', new Date(now.getTime() + 60_000));
    await delivery('backlog-a', new Date(now.getTime() - 90_000), { deadAt: now });
    await delivery('backlog-a', new Date(now.getTime() - 60_000), {
      leaseUntil: new Date(now.getTime() + 1000),
    });
    await delivery('backlog-b', new Date(now.getTime() - 90_000));
    assert.deepEqual(await repo.backlog(db, 'backlog-a', now, 1000), { due: 1, oldestDueAt: dueAt });

    // A lease that ran out: due again from when it ran out.
    const ranOut = new Date(now.getTime() - 40_000);
    await delivery('backlog-a', new Date(now.getTime() - 80_000), { leaseUntil: ranOut });
    assert.deepEqual(await repo.backlog(db, 'backlog-a', now, 1000), { due: 2, oldestDueAt: ranOut });
    assert.equal((await repo.backlog(db, 'backlog-a', now, 1)).due, 1);
  });
});
