import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool, type Db } from '../../db/database.js';
import { createTestDatabase } from '../../testing/harness.js';
import { insertOrgWithTeam, insertTeamDelivery, localDeliverySender } from '../../testing/team-deliveries.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../testing/webhook-receiver.js';
import type { Clock } from '../../work/clock.js';
import { DESTINATION_HOLD_MAX_MS, type TeamDeliverySender } from './deliveries.js';
import { teamDestinationsRepository as repo } from './repository.js';

/**
 * A 429 limits the receiver's endpoint, not the one delivery that met it: the destination is held for the
 * Retry-After, and no other alert's delivery to it is sent meanwhile (each would only meet its own 429).
 * Driven round by round on a clock the test sets (no worker runs).
 */

let db: Db;
let receiver: WebhookReceiver;
let sender: TeamDeliverySender;
let orgId: string;
let teamId: string;
// Now: the receiver checks the signature's timestamp against its own clock.
let at = new Date();
const clock: Clock = { now: () => at, fromSystemTime: (t) => t, toSystemTime: (t) => t };
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

async function destination(path: string): Promise<string> {
  receiver.endpoint(path, secret);
  const { rows } = await sql<{ id: string }>`
    INSERT INTO team_destinations (org_id, team_id, type, name, config)
    VALUES (${orgId}, ${teamId}, 'webhook', ${path},
            ${JSON.stringify({ url: `${receiver.url}${path}`, secret })}::jsonb)
    RETURNING id`.execute(db);
  assert.ok(rows[0]);
  return rows[0].id;
}

async function delivery(id: string) {
  const row = await db
    .selectFrom('team_destination_deliveries')
    .select(['state', 'attempts', 'due_at'])
    .where('id', '=', id)
    .executeTakeFirst();
  assert.ok(row);
  return row;
}

const later = (ms: number) => new Date(at.getTime() + ms);

before(async () => {
  receiver = await startWebhookReceiver();
  db = createDb(createPool(await createTestDatabase({ migrated: true }), 2));
  ({ orgId, teamId } = await insertOrgWithTeam(db, { org: 'Held', team: 'Held team' }));
  sender = localDeliverySender(db, clock);
});

after(async () => {
  await db?.destroy();
  await receiver?.close();
});

describe('a destination that answered 429 with a Retry-After', () => {
  it("sends none of its other deliveries until then, nor spends their attempts; others' go", async () => {
    const limited = await destination('/limited');
    const other = await destination('/other');
    const first = await insertTeamDelivery(db, { orgId, destinationId: limited, at, dueAt: at });
    receiver.answerNext('/limited', { status: 429, headers: { 'retry-after': '60' } });
    assert.equal(await sender.deliverDue(at), 1);
    assert.equal(receiver.received('/limited').length, 1);
    // The Retry-After, and up to a tenth more of jitter (no later than the limited delivery is due).
    const holdEnds = (
      await sql<{
        until: Date;
      }>`SELECT rate_limited_until AS until FROM team_destinations WHERE id = ${limited}`.execute(db)
    ).rows[0]!.until.getTime();
    assert.ok(holdEnds >= at.getTime() + 60_000 && holdEnds <= at.getTime() + 66_000);

    // New alerts every 1.5 s while the endpoint said "retry after 60 s": none is sent to it, and another
    // destination's are.
    const waiting: string[] = [];
    for (let i = 0; i < 5; i++) {
      at = later(1500);
      waiting.push(await insertTeamDelivery(db, { orgId, destinationId: limited, at, dueAt: at }));
      const elsewhere = await insertTeamDelivery(db, { orgId, destinationId: other, at, dueAt: at });
      assert.equal(await sender.deliverDue(at), 1, `round ${i + 1} claims only the other destination's`);
      assert.equal((await delivery(elsewhere)).state, 'sent');
    }
    assert.equal(receiver.received('/limited').length, 1, 'nothing more sent within the Retry-After');
    for (const id of waiting) {
      const row = await delivery(id);
      assert.equal(row.state, 'pending');
      assert.equal(row.attempts, 0);
    }

    // The queue sleeps until the hold ends (not a past due time, which would have it look again at once).
    assert.equal((await repo.nextDueAt(db, at))?.getTime(), holdEnds);

    // Then they go, each on its first attempt (hold-release.test.ts: the end of a hold).
    at = new Date(holdEnds);
    for (let round = 0; round < 20; round++) {
      const states = await Promise.all(waiting.map(async (id) => (await delivery(id)).state));
      if (states.every((state) => state === 'sent')) break;
      const next = await repo.nextDueAt(db, at);
      if (next && next > at) at = next;
      await sender.deliverDue(at);
    }
    for (const id of waiting) {
      const row = await delivery(id);
      assert.equal(row.state, 'sent');
      assert.equal(row.attempts, 1);
    }
    // The limited one follows at its own Retry-After (and jitter), not counted as an attempt.
    const limitedRow = await delivery(first);
    assert.equal(limitedRow.attempts, limitedRow.state === 'sent' ? 1 : 0);
    if (limitedRow.state === 'pending') {
      at = new Date(Math.max(at.getTime(), limitedRow.due_at.getTime()) + 1000);
      await sender.deliverDue(at);
    }
    assert.equal((await delivery(first)).state, 'sent');
  });

  it('holds no longer than a few minutes, and no longer once its URL changes', async () => {
    const id = await destination('/long');
    await insertTeamDelivery(db, { orgId, destinationId: id, at, dueAt: at });
    receiver.answerNext('/long', { status: 429, headers: { 'retry-after': String(6 * 3600) } });
    await sender.deliverDue(at);
    const held = await sql<{ until: Date }>`
      SELECT rate_limited_until AS until FROM team_destinations WHERE id = ${id}`.execute(db);
    const until = held.rows[0]?.until.getTime() ?? 0;
    assert.ok(
      until >= at.getTime() + DESTINATION_HOLD_MAX_MS &&
        until <= at.getTime() + DESTINATION_HOLD_MAX_MS * 1.1,
    );

    const next = await insertTeamDelivery(db, { orgId, destinationId: id, at, dueAt: at });
    at = later(1000);
    assert.equal(await sender.deliverDue(at), 0);
    // Another URL is another receiver: its limits are not the old one's.
    await repo.update(db, id, { config: { url: `${receiver.url}/long-new`, secret } }, at);
    receiver.endpoint('/long-new', secret);
    assert.equal(await sender.deliverDue(at), 1);
    assert.equal((await delivery(next)).state, 'sent');
  });
});
