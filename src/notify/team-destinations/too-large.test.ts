import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool, type Db } from '../../db/database.js';
import { createTestDatabase } from '../../testing/harness.js';
import { insertTeamDelivery, localDeliverySender } from '../../testing/team-deliveries.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../testing/webhook-receiver.js';
import type { Clock } from '../../work/clock.js';
import { RETRY_SCHEDULE_MS } from './deliveries.js';

/**
 * A receiver whose body limit is below Vigil's bodies answers 413 to the same body on every attempt:
 * the delivery fails at the first, saying what to change, instead of spending the retry schedule over
 * hours. Driven round by round on a clock the test sets (no worker runs).
 */

let db: Db;
let receiver: WebhookReceiver;
let destinationId: string;
let orgId: string;
let at = new Date();
const clock: Clock = { now: () => at, fromSystemTime: (t) => t, toSystemTime: (t) => t };

before(async () => {
  receiver = await startWebhookReceiver();
  const url = await createTestDatabase({ migrated: true });
  db = createDb(createPool(url, 2));
  const org = await sql<{ id: string }>`
    INSERT INTO organizations (name) VALUES ('Small receivers') RETURNING id`.execute(db);
  orgId = org.rows[0]?.id ?? '';
  const team = await sql<{ id: string }>`
    INSERT INTO teams (org_id, name) VALUES (${orgId}, 'Small') RETURNING id`.execute(db);
  const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
  receiver.endpoint('/small', secret);
  const destination = await sql<{ id: string }>`
    INSERT INTO team_destinations (org_id, team_id, type, name, config)
    VALUES (${orgId}, ${team.rows[0]?.id}, 'webhook', 'Small hook',
            ${JSON.stringify({ url: `${receiver.url}/small`, secret })}::jsonb)
    RETURNING id`.execute(db);
  destinationId = destination.rows[0]?.id ?? '';
});

after(async () => {
  await db?.destroy();
  await receiver?.close();
});

describe('a webhook receiver that answers 413', () => {
  it('gets one request, and the delivery fails with what to do, the destination left on', async () => {
    const sender = localDeliverySender(db, clock);
    const id = await insertTeamDelivery(db, { orgId, destinationId, at, dueAt: at });
    receiver.answerNext(
      '/small',
      ...Array.from({ length: RETRY_SCHEDULE_MS.length + 1 }, () => ({ status: 413, body: 'too big' })),
    );
    assert.equal(await sender.deliverDue(at), 1);
    // Past every step of the schedule: nothing is due again.
    for (const step of RETRY_SCHEDULE_MS) {
      at = new Date(at.getTime() + step + 60_000);
      assert.equal(await sender.deliverDue(at), 0);
    }
    assert.equal(receiver.received('/small').length, 1);

    const { rows } = await sql<{ state: string; attempts: number; last_error: string | null }>`
      SELECT state, attempts, last_error FROM team_destination_deliveries WHERE id = ${id}`.execute(db);
    assert.equal(rows[0]?.state, 'failed');
    assert.equal(rows[0]?.attempts, 1);
    assert.match(rows[0]?.last_error ?? '', /answered 413: too big/);
    assert.match(rows[0]?.last_error ?? '', /Raise its request body limit: Vigil's bodies are at most 20 KB/);

    // This body alone was too large: the destination's health is not marked down for it.
    const destination = await sql<{ enabled: boolean; failing_since: Date | null }>`
      SELECT enabled, failing_since FROM team_destinations WHERE id = ${destinationId}`.execute(db);
    assert.deepEqual(destination.rows[0], { enabled: true, failing_since: null });
  });
});
