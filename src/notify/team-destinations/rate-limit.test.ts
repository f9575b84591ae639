import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool, type Db } from '../../db/database.js';
import { createTestDatabase } from '../../testing/harness.js';
import { insertTeamDelivery, localDeliverySender } from '../../testing/team-deliveries.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../testing/webhook-receiver.js';
import type { Clock } from '../../work/clock.js';
import { RATE_LIMIT_WAIT_MS, RETRY_SCHEDULE_MS } from './deliveries.js';

/**
 * A destination that answers 429 asks to slow down; it has not failed. Driven round by round on a clock
 * the test sets (no worker runs): each 429 puts the delivery back for the Retry-After (or a few seconds)
 * without counting the attempt, so more 429s than the retry schedule has steps neither give it up nor
 * push it onto the schedule's minutes and hours, and the destination's health is not marked failing.
 */

let db: Db;
let receiver: WebhookReceiver;
let destinationId: string;
let orgId: string;
let at = new Date();
const clock: Clock = { now: () => at, fromSystemTime: (t) => t, toSystemTime: (t) => t };

interface Row {
  id: string;
  state: string;
  attempts: number;
  due_at: Date;
  last_error: string | null;
}

async function delivery(id: string): Promise<Row> {
  const { rows } = await sql<Row>`
    SELECT id, state, attempts, due_at, last_error FROM team_destination_deliveries WHERE id = ${id}`.execute(
    db,
  );
  assert.ok(rows[0]);
  return rows[0];
}

async function addDelivery(): Promise<string> {
  return insertTeamDelivery(db, { orgId, destinationId, at, dueAt: at });
}

before(async () => {
  receiver = await startWebhookReceiver();
  const url = await createTestDatabase({ migrated: true });
  db = createDb(createPool(url, 2));
  const org = await sql<{ id: string }>`
    INSERT INTO organizations (name) VALUES ('Rate limits') RETURNING id`.execute(db);
  orgId = org.rows[0]?.id ?? '';
  const team = await sql<{ id: string }>`
    INSERT INTO teams (org_id, name) VALUES (${orgId}, 'Limited') RETURNING id`.execute(db);
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  receiver.endpoint('/limited', secret);
  const destination = await sql<{ id: string }>`
    INSERT INTO team_destinations (org_id, team_id, type, name, config)
    VALUES (${orgId}, ${team.rows[0]?.id}, 'webhook', 'Limited hook',
            ${JSON.stringify({ url: `${receiver.url}/limited`, secret })}::jsonb)
    RETURNING id`.execute(db);
  destinationId = destination.rows[0]?.id ?? '';
});

after(async () => {
  await db?.destroy();
  await receiver?.close();
});

describe('a destination that answers 429', () => {
  it('gets the delivery again after its Retry-After, never counted as a failed attempt nor given up', async () => {
    const sender = localDeliverySender(db, clock);
    const id = await addDelivery();
    // More 429s (without Retry-After) than the schedule has attempts before it gives up.
    const limited = RETRY_SCHEDULE_MS.length + 3;
    receiver.answerNext('/limited', ...Array.from({ length: limited }, () => 429));
    for (let round = 1; round <= limited; round++) {
      assert.equal(await sender.deliverDue(at), 1, `round ${round} claims the delivery`);
      const row = await delivery(id);
      assert.equal(row.state, 'pending', `after 429 number ${round}: ${row.last_error}`);
      assert.equal(row.attempts, 0, `429 number ${round} is not a counted attempt`);
      assert.match(row.last_error ?? '', /answered 429/);
      const wait = row.due_at.getTime() - at.getTime();
      // A few seconds, plus at most a second of jitter: never the schedule's 5 minutes and more.
      assert.ok(wait >= RATE_LIMIT_WAIT_MS && wait <= RATE_LIMIT_WAIT_MS + 1000, `waits ${wait} ms`);
      at = row.due_at;
    }

    // With a Retry-After, that long (and the jitter).
    receiver.answerNext('/limited', { status: 429, headers: { 'retry-after': '2' } });
    await sender.deliverDue(at);
    const told = await delivery(id);
    assert.equal(told.attempts, 0);
    const wait = told.due_at.getTime() - at.getTime();
    assert.ok(wait >= 2000 && wait <= 3000, `waits ${wait} ms after Retry-After: 2`);
    at = told.due_at;

    await sender.deliverDue(at);
    const sent = await delivery(id);
    assert.equal(sent.state, 'sent');
    assert.equal(sent.attempts, 1);
    assert.equal(receiver.received('/limited').length, limited + 2);

    const { rows } = await sql<{ enabled: boolean; failing_since: Date | null }>`
      SELECT enabled, failing_since FROM team_destinations WHERE id = ${destinationId}`.execute(db);
    assert.deepEqual(rows[0], { enabled: true, failing_since: null });
  });

  it('still counts a 503 as a failed attempt on the schedule', async () => {
    const id = await addDelivery();
    const sender = localDeliverySender(db, clock);
    receiver.answerNext('/limited', 503);
    await sender.deliverDue(at);
    const row = await delivery(id);
    assert.equal(row.state, 'pending');
    assert.equal(row.attempts, 1);
  });
});
