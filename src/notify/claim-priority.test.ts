import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool, type Db } from '../db/database.js';
import { createTestDatabase } from '../testing/harness.js';
import { notificationsRepository } from './repository.js';

/**
 * The sender claims the most urgent messages first: by priority, then due time. A lane sends one round
 * at a time (email), so a P1 page due now must not wait behind a flood of P5 pages due before it.
 */

let db: Db;
let orgId: string;
let alertId: string;
const BATCH = 24;

before(async () => {
  db = createDb(createPool(await createTestDatabase({ migrated: true }), 2));
  const org = await sql<{ id: string }>`
    INSERT INTO organizations (name) VALUES ('Priorities') RETURNING id`.execute(db);
  orgId = org.rows[0]?.id ?? '';
  const alert = await sql<{ id: string }>`
    INSERT INTO alerts (org_id, alias, message) VALUES (${orgId}, ${randomUUID()}, 'Disk full')
    RETURNING id`.execute(db);
  alertId = alert.rows[0]?.id ?? '';
});

after(async () => {
  await db?.destroy();
});

/** A pending email to `address`, due at `dueAt`; its priority as planned, or the column's default. */
async function insertEmail(address: string, dueAt: Date, priority?: number, method = 'email'): Promise<void> {
  await db
    .insertInto('notifications')
    .values({
      idempotency_key: randomUUID(),
      org_id: orgId,
      alert_id: alertId,
      user_id: null,
      destination_name: `To ${address}`,
      contact_method_id: null,
      method,
      address,
      kind: 'create-alert',
      escalation_run_id: null,
      due_at: dueAt,
      ...(priority === undefined ? {} : { priority }),
    })
    .execute();
}

describe('claiming due messages', () => {
  it('takes a P1 due now before P5s due earlier, and a message without a priority as P3', async () => {
    const now = new Date();
    const minuteAgo = new Date(now.getTime() - 60_000);
    for (let i = 0; i < 30; i++) await insertEmail(`p5-${i}@example.com`, minuteAgo, 5);
    await insertEmail('p1@example.com', now, 1);
    // A row written without one (as before migration 0074): P3, ahead of the P5s.
    await insertEmail('p3@example.com', now);

    const leaseUntil = new Date(now.getTime() + 60_000);
    const first = await notificationsRepository.claimDue(db, now, leaseUntil, BATCH);
    assert.equal(first.length, BATCH);
    assert.deepEqual(
      first.slice(0, 2).map((r) => [r.address, r.priority]),
      [
        ['p1@example.com', 1],
        ['p3@example.com', 3],
      ],
    );

    // A claim whose lease ran out is taken again, in its place among the pending ones.
    await sql`UPDATE notifications SET lease_until = ${minuteAgo} WHERE address = 'p1@example.com'`.execute(
      db,
    );
    const again = await notificationsRepository.claimDue(db, now, leaseUntil, BATCH);
    assert.deepEqual(
      again.map((r) => r.priority),
      [1, ...Array<number>(30 - (BATCH - 2)).fill(5)],
    );
    assert.equal(again[0]?.address, 'p1@example.com');
  });

  it('locks no more than it keeps: a round beside it finds the rest free', async () => {
    await sql`DELETE FROM notifications`.execute(db);
    const now = new Date();
    const minuteAgo = new Date(now.getTime() - 60_000);
    for (let i = 0; i < 30; i++) await insertEmail(`p1-${i}@example.com`, minuteAgo, 1);
    for (let i = 0; i < 10; i++) await insertEmail(`+1415555${1000 + i}`, minuteAgo, 4, 'sms');
    const leaseUntil = new Date(now.getTime() + 60_000);
    // The email lane's round, its transaction still open: its row locks held.
    await db.transaction().execute(async (tx) => {
      const emails = await notificationsRepository.claimDue(tx, now, leaseUntil, BATCH);
      assert.equal(emails.length, BATCH);
      assert.ok(emails.every((r) => r.priority === 1));
      // The round beside it, which leaves email out, takes the SMS at once (not locked by the first).
      const texts = await notificationsRepository.claimDue(db, now, leaseUntil, BATCH, ['email']);
      assert.equal(texts.length, 10);
    });
  });
});
