import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool, type Db } from '../../db/database.js';
import type { TeamDestinationDeliveryRow } from '../../db/schema.js';
import { createTestDatabase } from '../../testing/harness.js';
import type { Clock } from '../../work/clock.js';
import { insertOrgWithTeam, localDeliverySender } from '../../testing/team-deliveries.js';
import { DESTINATION_HOLD_MAX_MS, RATE_LIMIT_MAX_WAIT_MS, type TeamDeliverySender } from './deliveries.js';
import { teamDestinationsRepository as repo } from './repository.js';
import { deliveryViewOf } from './service.js';

/**
 * The end of a 429's hold: the deliveries it kept waiting were put off to its end when it began, and go
 * then, each alert's changes in order, whatever arrived meanwhile with them (those made meanwhile are
 * due at its end); the hold counts from the answer, not the round's start; it is capped lower than a delivery's own wait; a
 * save that changes nothing does not lift it; a hold that has ended holds nothing. Driven round by round
 * on a clock the test sets (no worker runs), against a receiver that takes one request a second per
 * endpoint and answers 429 with `Retry-After: 1` otherwise (paths under /open take every request).
 */

let db: Db;
let sender: TeamDeliverySender;
let orgId: string;
let teamId: string;
let server: http.Server;
let base: string;
let at = new Date();
const clock: Clock = { now: () => at, fromSystemTime: (t) => t, toSystemTime: (t) => t };
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** Per endpoint: when it last took a request (the test's clock). */
const lastTaken = new Map<string, number>();
/** Per endpoint: what it answers instead, while set. */
const scripted = new Map<string, () => { status: number; retryAfter?: string }>();
const answered: { path: string; at: number; status: number }[] = [];

async function destination(
  path: string,
  type: 'webhook' | 'slack-webhook' = 'webhook',
  team = teamId,
): Promise<string> {
  const config = type === 'webhook' ? { url: `${base}${path}`, secret } : { url: `${base}${path}` };
  const { rows } = await sql<{ id: string }>`
    INSERT INTO team_destinations (org_id, team_id, type, name, config)
    VALUES (${orgId}, ${team}, ${type}, ${path + randomUUID()}, ${JSON.stringify(config)}::jsonb)
    RETURNING id`.execute(db);
  assert.ok(rows[0]);
  return rows[0].id;
}

async function insert(destinationId: string, alertId: string, seq: number, type: string): Promise<string> {
  const eventId = randomUUID();
  const event = {
    type,
    eventId,
    alertId,
    orgId,
    at: at.toISOString(),
    actor: { type: 'system', name: 't' },
    seq,
  };
  const { rows } = await sql<{ id: string }>`
    INSERT INTO team_destination_deliveries (destination_id, event_id, alert_id, event_type, event, seq, due_at)
    VALUES (${destinationId}, ${eventId}, ${alertId}, ${type}, ${JSON.stringify(event)}::jsonb, ${seq}, ${at})
    RETURNING id`.execute(db);
  return rows[0]?.id ?? '';
}

/** An alert to tell of (a Slack post is made from the alert as it is). */
async function alert(team = teamId): Promise<string> {
  const { rows } = await sql<{ id: string }>`
    INSERT INTO alerts (org_id, alias, message, team_ids)
    VALUES (${orgId}, ${randomUUID()}, 'Disk full', ${[team]}::uuid[]) RETURNING id`.execute(db);
  return rows[0]?.id ?? '';
}

async function heldUntil(id: string): Promise<Date | null> {
  const { rows } = await sql<{ until: Date | null }>`
    SELECT rate_limited_until AS until FROM team_destinations WHERE id = ${id}`.execute(db);
  return rows[0]?.until ?? null;
}

async function rows(destinationId: string) {
  const { rows } = await sql<{ id: string; alert_id: string; seq: number; state: string; due_at: Date }>`
    SELECT id, alert_id, seq::int AS seq, state, due_at FROM team_destination_deliveries
    WHERE destination_id = ${destinationId} ORDER BY due_at, seq`.execute(db);
  return rows;
}

/** Rounds as the queue runs them: at once while something is due, else at the next due time. */
async function drain(maxRounds: number) {
  for (let round = 0; round < maxRounds; round++) {
    const next = await repo.nextDueAt(db, at);
    if (!next) return;
    if (next > at) at = next;
    await sender.deliverDue(at);
  }
  assert.fail(`not drained in ${maxRounds} rounds`);
}

before(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const path = req.url ?? '/';
      const script = scripted.get(path);
      let status: number;
      let retryAfter: string | undefined = '1';
      if (script) ({ status, retryAfter } = script());
      else if (path.startsWith('/open')) status = 204;
      else {
        const last = lastTaken.get(path);
        const takes = last === undefined || at.getTime() - last >= 1000;
        if (takes) lastTaken.set(path, at.getTime());
        status = takes ? 204 : 429;
      }
      answered.push({ path, at: at.getTime(), status });
      res.writeHead(status, status === 429 && retryAfter ? { 'retry-after': retryAfter } : {}).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  db = createDb(createPool(await createTestDatabase({ migrated: true }), 2));
  ({ orgId, teamId } = await insertOrgWithTeam(db, { org: 'Release', team: 'Release team' }));
  sender = localDeliverySender(db, clock);
});

after(async () => {
  await db?.destroy();
  await new Promise((resolve) => server?.close(resolve));
});

describe('the end of a hold', () => {
  it('of Slack: its backlog waits out the hold and then goes, each alert in order, every delivery arriving', async () => {
    const id = await destination('/slack', 'slack-webhook');
    // Four alerts, each created, acknowledged and closed: twelve deliveries waiting.
    const order = new Map<string, string[]>();
    for (let a = 0; a < 4; a++) {
      const alertId = await alert();
      const changes: string[] = [];
      for (const [i, type] of ['created', 'acknowledged', 'closed'].entries()) {
        changes.push(await insert(id, alertId, i + 1, type));
      }
      order.set(alertId, changes);
    }
    // The endpoint has just taken a request: the round's four posts (one per alert) meet a 429.
    lastTaken.set('/slack', at.getTime());
    assert.equal(await sender.deliverDue(at), 4);
    const until = (await heldUntil(id))!;
    assert.ok(until.getTime() >= at.getTime() + 1000, 'held');
    // Put off to the hold's end, so that no claim walks them meanwhile.
    assert.ok((await rows(id)).every((r) => r.due_at.getTime() >= until.getTime()));
    assert.equal(await sender.deliverDue(new Date(until.getTime() - 1)), 0, 'nothing before its end');

    await drain(200);

    const mine = answered.filter((a) => a.path === '/slack');
    assert.equal(mine.filter((a) => a.status === 204).length, 12, 'every delivery arrived');
    // Each hold's end sends one post per alert with changes waiting, as the receiver limits them: the
    // 429s are those of the hold's ends, never of a round while a hold ran.
    for (const answer of mine.filter((a) => a.status === 429)) {
      assert.ok(answer.at >= until.getTime() || answer.at === mine[0]!.at, 'no post while held');
    }
    const sent = await sql<{ id: string }>`
      SELECT id FROM team_destination_deliveries WHERE destination_id = ${id} AND state = 'sent'
      ORDER BY sent_at, seq`.execute(db);
    const sentOrder = sent.rows.map((r) => r.id);
    assert.equal(sentOrder.length, 12);
    for (const changes of order.values()) {
      assert.deepEqual(
        sentOrder.filter((e) => changes.includes(e)),
        changes,
        "an alert's changes arrive in order",
      );
    }
  });

  it("of a webhook: its backlog, and what was added during the hold, goes at the hold's end", async () => {
    const id = await destination('/open-hook');
    for (let a = 0; a < 3; a++) await insert(id, randomUUID(), 1, 'created');
    scripted.set('/open-hook', () => ({ status: 429, retryAfter: '30' }));
    assert.equal(await sender.deliverDue(at), 3);
    scripted.delete('/open-hook');
    const until = (await heldUntil(id))!;
    assert.ok(until.getTime() >= at.getTime() + 30_000 && until.getTime() <= at.getTime() + 33_000);
    assert.ok(
      (await rows(id)).every((r) => r.due_at.getTime() === until.getTime()),
      'all at its end',
    );

    at = new Date(at.getTime() + 10_000);
    const added = [
      await insert(id, randomUUID(), 1, 'created'),
      await insert(id, randomUUID(), 1, 'created'),
    ];
    assert.equal(await sender.deliverDue(at), 0, 'added during the hold: due, but it waits');
    assert.equal((await repo.nextDueAt(db, at))?.getTime(), until.getTime(), 'looked at again at its end');
    at = new Date(until.getTime() - 1);
    assert.equal(await sender.deliverDue(at), 0, 'not before its end');

    at = until;
    assert.equal(await sender.deliverDue(at), 5, 'all five in one round at its end');
    const after = await rows(id);
    assert.ok(after.every((r) => r.state === 'sent'));
    assert.ok(added.every((a) => after.some((r) => r.id === a)));
  });

  it("makes a delivery for a destination held already due at the hold's end, so that no round claims it before", async () => {
    // A team of its own: the alert's delivery goes to this test's destination alone.
    const team = await sql<{ id: string }>`
      INSERT INTO teams (org_id, name) VALUES (${orgId}, ${`Held ${randomUUID()}`}) RETURNING id`.execute(db);
    const ownTeam = team.rows[0]!.id;
    const id = await destination('/open-made-during', 'webhook', ownTeam);
    const until = new Date(at.getTime() + 60_000);
    await sql`UPDATE team_destinations SET rate_limited_until = ${until} WHERE id = ${id}`.execute(db);

    const alertId = await alert(ownTeam);
    const eventId = randomUUID();
    const actor = { type: 'system', name: 't' };
    const event = { type: 'created', eventId, alertId, orgId, at: at.toISOString(), actor, seq: 1 };
    const made = [{ eventId, alertId, orgId, type: 'created', event, seq: 1, kinds: ['webhook'] }];
    assert.equal(await repo.insertDeliveries(db, made, at), 1);
    assert.deepEqual(
      (await rows(id)).map((r) => r.due_at.getTime()),
      [until.getTime()],
    );
    assert.equal(await sender.deliverDue(at), 0);
    at = until;
    assert.equal(await sender.deliverDue(at), 1, 'sent at its end');
    assert.deepEqual(
      (await rows(id)).map((r) => r.state),
      ['sent'],
    );
  });

  it('holds from the answer: a Retry-After of 1 s after a round that took 5 s has not already ended', async () => {
    const id = await destination('/open-slow');
    const delivery = await insert(id, randomUUID(), 1, 'created');
    const started = at.getTime();
    scripted.set('/open-slow', () => {
      at = new Date(at.getTime() + 5000);
      return { status: 429, retryAfter: '1' };
    });
    assert.equal(await sender.deliverDue(at), 1);
    scripted.delete('/open-slow');
    const answeredAt = started + 5000;
    const until = (await heldUntil(id))!.getTime();
    assert.ok(
      until >= answeredAt + 1000 && until <= answeredAt + 2000,
      `held ${until - answeredAt} ms from the answer`,
    );
    const row = (await rows(id)).find((r) => r.id === delivery)!;
    assert.ok(row.due_at.getTime() >= until, 'the limited delivery is not due before the hold ends');

    const other = await insert(id, randomUUID(), 1, 'created');
    at = new Date(answeredAt + 500);
    assert.equal(await sender.deliverDue(at), 0, 'half a second after the answer: still held');
    at = new Date(until);
    assert.equal(await sender.deliverDue(at), 2);
    assert.ok(
      (await rows(id)).every((r) => r.state === 'sent'),
      `${other} sent`,
    );
  });

  it('holds the destination a few minutes at most, while the delivery waits its own Retry-After', async () => {
    const id = await destination('/open-long');
    const limited = await insert(id, randomUUID(), 1, 'created');
    scripted.set('/open-long', () => ({ status: 429, retryAfter: String(6 * 3600) }));
    try {
      assert.equal(await sender.deliverDue(at), 1);
    } finally {
      scripted.delete('/open-long');
    }
    const until = (await heldUntil(id))!.getTime();
    assert.ok(until >= at.getTime() + DESTINATION_HOLD_MAX_MS, 'held the capped wait');
    assert.ok(until <= at.getTime() + DESTINATION_HOLD_MAX_MS * 1.1, 'plus at most a tenth of jitter');
    const own = (await rows(id)).find((r) => r.id === limited)!;
    assert.ok(own.due_at.getTime() >= at.getTime() + RATE_LIMIT_MAX_WAIT_MS, "the delivery's own wait");

    const other = await insert(id, randomUUID(), 1, 'created');
    at = new Date(until);
    assert.equal(await sender.deliverDue(at), 1, "the others go at the hold's end");
    assert.equal((await rows(id)).find((r) => r.id === other)?.state, 'sent');
  });

  it('that has passed holds nothing: what is due goes, and no time already past is given to look again', async () => {
    const id = await destination('/open-past');
    await sql`UPDATE team_destinations SET rate_limited_until = ${new Date(at.getTime() - 1000)} WHERE id = ${id}`.execute(
      db,
    );
    const pending = await insert(id, randomUUID(), 1, 'created');
    const stale = await insert(id, randomUUID(), 2, 'created');
    // One left 'sending' by a process that died: its lease has run out.
    await sql`UPDATE team_destination_deliveries SET due_at = ${new Date(at.getTime() - 120_000)} WHERE id = ${pending}`.execute(
      db,
    );
    await sql`UPDATE team_destination_deliveries SET state = 'sending', attempts = 1,
                lease_until = ${new Date(at.getTime() - 5000)} WHERE id = ${stale}`.execute(db);
    const claimed = await repo.claim(db, at, new Date(at.getTime() + 60_000), 50);
    assert.deepEqual(new Set(claimed.map((r) => r.id)).size, 2);
    assert.ok(claimed.some((r) => r.id === pending) && claimed.some((r) => r.id === stale));
    const next = await repo.nextDueAt(db, at);
    assert.ok(
      next === null || next > at,
      `looked at again at ${next?.toISOString()}, now ${at.toISOString()}`,
    );
    await sql`UPDATE team_destination_deliveries SET state = 'sent' WHERE destination_id = ${id}`.execute(db);
  });
});

describe('saving a held destination', () => {
  it('lifts the hold only when its config changes or it is turned on from off', async () => {
    const id = await destination('/saved');
    const config = { url: `${base}/saved`, secret };
    const hold = async () => {
      await sql`UPDATE team_destinations SET rate_limited_until = ${new Date(at.getTime() + 60_000)}
                WHERE id = ${id}`.execute(db);
    };
    await hold();
    await repo.update(db, id, { enabled: true }, at);
    assert.ok(await heldUntil(id), '"enabled": true of one already on keeps the hold');
    await repo.update(db, id, { config, enabled: true }, at);
    assert.ok(await heldUntil(id), 'a save with the same config keeps it');
    await repo.update(db, id, { name: `renamed ${randomUUID()}` }, at);
    assert.ok(await heldUntil(id), 'a rename keeps it');

    await repo.update(db, id, { enabled: false }, at);
    await repo.update(db, id, { enabled: true }, at);
    assert.equal(await heldUntil(id), null, 'turned on from off: lifted');

    await hold();
    const putOff = await insert(id, randomUUID(), 1, 'created');
    const ownRetry = await insert(id, randomUUID(), 1, 'created');
    const until = (await heldUntil(id))!;
    await sql`UPDATE team_destination_deliveries SET due_at = ${until} WHERE id = ${putOff}`.execute(db);
    const later = new Date(until.getTime() + 60_000);
    await sql`UPDATE team_destination_deliveries SET due_at = ${later} WHERE id = ${ownRetry}`.execute(db);
    await repo.update(db, id, { config: { ...config, url: `${base}/saved-elsewhere` } }, at);
    assert.equal(await heldUntil(id), null, 'another URL: lifted');
    const due = new Map((await rows(id)).map((r) => [r.id, r.due_at.getTime()]));
    assert.equal(due.get(putOff), at.getTime(), 'what the hold put off goes at once');
    assert.equal(due.get(ownRetry), later.getTime(), 'a retry due later keeps its time');
  });
});

describe("a held destination's delivery log", () => {
  it('shows a pending delivery due when the hold ends, not at a due time already past', () => {
    const due = new Date(at.getTime() - 5000);
    const hold = new Date(at.getTime() + 60_000);
    const row = { state: 'pending', due_at: due } as TeamDestinationDeliveryRow;
    assert.equal(deliveryViewOf(row, hold).nextAttemptAt, hold);
    assert.equal(deliveryViewOf(row, null).nextAttemptAt, due);
    assert.equal(deliveryViewOf(row, new Date(due.getTime() - 1)).nextAttemptAt, due);
    assert.equal(deliveryViewOf({ ...row, state: 'sent' }, hold).nextAttemptAt, null);
  });
});
