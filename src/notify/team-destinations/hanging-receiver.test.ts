import assert from 'node:assert/strict';
import net, { type AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { createDb, createPool, type Db } from '../../db/database.js';
import { createLogger } from '../../logger.js';
import { createTestDatabase } from '../../testing/harness.js';
import { insertOrgWithTeam, insertTeamDelivery, localDeliveryConfig } from '../../testing/team-deliveries.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../testing/webhook-receiver.js';
import type { Clock } from '../../work/clock.js';
import { createTeamDeliverySender } from './deliveries.js';

/**
 * One organization's receiver that never answers, fed a storm, must not hold every other organization's
 * deliveries behind its timeouts: a claim takes a few of its deliveries at most, the others' outcomes are
 * recorded as they finish (not when the round's slowest send gives up), and a receiver that left its
 * requests unanswered is held for a while, as after a 429. Driven round by round (no worker runs); the
 * test ends the hanging requests itself rather than wait for the webhook's 15 s timeout.
 */

let db: Db;
let receiver: WebhookReceiver;
/** Takes connections and requests, and never answers. */
let tarpit: net.Server;
const hanging = new Set<net.Socket>();
let connections = 0;
// Now: the receiver checks the signature's timestamp against its own clock.
const at = new Date();
const clock: Clock = { now: () => at, fromSystemTime: (t) => t, toSystemTime: (t) => t };
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

async function destination(orgId: string, teamId: string, name: string, url: string): Promise<string> {
  const { rows } = await sql<{ id: string }>`
    INSERT INTO team_destinations (org_id, team_id, type, name, config)
    VALUES (${orgId}, ${teamId}, 'webhook', ${name}, ${JSON.stringify({ url, secret })}::jsonb)
    RETURNING id`.execute(db);
  assert.ok(rows[0]);
  return rows[0].id;
}

async function state(id: string): Promise<string> {
  const row = await db
    .selectFrom('team_destination_deliveries')
    .select('state')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return row.state;
}

async function countOf(destinationId: string, states: string[]): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM team_destination_deliveries
    WHERE destination_id = ${destinationId} AND state = ANY(${states}::text[])`.execute(db);
  return rows[0]?.n ?? 0;
}

/** Polls until `check` holds, at most `limitMs` (a bound for a failing run, not what is asserted). */
async function until(check: () => Promise<boolean>, limitMs = 20_000): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(20);
  }
  return false;
}

before(async () => {
  receiver = await startWebhookReceiver();
  tarpit = net.createServer((socket) => {
    connections++;
    hanging.add(socket);
    socket.on('close', () => hanging.delete(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => tarpit.listen(0, '127.0.0.1', resolve));
  db = createDb(createPool(await createTestDatabase({ migrated: true }), 4));
});

after(async () => {
  for (const socket of hanging) socket.destroy();
  await new Promise<void>((resolve) => tarpit?.close(() => resolve()));
  await db?.destroy();
  await receiver?.close();
});

describe("a receiver that never answers, fed a storm's deliveries", () => {
  it("does not hold another organization's delivery due after them", async () => {
    const a = await insertOrgWithTeam(db, { org: 'Storm', team: 'Storm team' });
    const b = await insertOrgWithTeam(db, { org: 'Quiet', team: 'Quiet team' });
    const { port } = tarpit.address() as AddressInfo;
    const hangs = await destination(a.orgId, a.teamId, 'hangs', `http://127.0.0.1:${port}/hook`);
    receiver.endpoint('/quiet', secret);
    const quiet = await destination(b.orgId, b.teamId, 'quiet', `${receiver.url}/quiet`);
    for (let i = 0; i < 200; i++) {
      const dueAt = new Date(at.getTime() - 60_000 + i);
      await insertTeamDelivery(db, { orgId: a.orgId, destinationId: hangs, at: dueAt, dueAt });
    }
    const other = await insertTeamDelivery(db, {
      orgId: b.orgId,
      destinationId: quiet,
      at,
      dueAt: new Date(at.getTime() - 1000),
    });
    const sender = createTeamDeliverySender({
      db,
      log: createLogger('silent'),
      clock,
      config: localDeliveryConfig(),
      fetch: (input, init) => fetch(input, init),
      // The test ends the hanging requests itself, at once.
      noAnswerHoldAfterMs: 0,
    });

    // The first round: its claim takes a share of the storm's deliveries (its 50 over the two destinations
    // it sees) and the other organization's.
    const share = 25;
    const first = sender.deliverDue(at);
    let firstEnded = false;
    void first.finally(() => (firstEnded = true));
    assert.ok(await until(async () => (await state(other)) !== 'pending' || firstEnded));
    assert.notEqual(await state(other), 'pending', "the first round took the other organization's delivery");
    assert.equal(await countOf(hangs, ['sending']), share);

    // It is sent and recorded while the hanging requests are still open, not once they give up.
    assert.ok(await until(async () => (await state(other)) === 'sent' || firstEnded));
    assert.equal(await state(other), 'sent');
    assert.equal(receiver.received('/quiet').length, 1);
    assert.equal(firstEnded, false, 'the round still waits for the hanging receiver');
    assert.ok(await until(async () => connections === share));
    assert.equal(hanging.size, share, 'its requests are all still unanswered');

    // The hanging requests end without an answer: the receiver is held a while, as after a 429, and the
    // next rounds send none of its deliveries meanwhile, and another organization's at once.
    for (const socket of hanging) socket.destroy();
    assert.equal(await first, share + 1);
    assert.equal(await countOf(hangs, ['pending']), 200);
    const { rows } = await sql<{ until: Date | null }>`
      SELECT rate_limited_until AS until FROM team_destinations WHERE id = ${hangs}`.execute(db);
    assert.ok(rows[0]?.until && rows[0].until > at, 'the receiver that did not answer is held');
    const next = await insertTeamDelivery(db, { orgId: b.orgId, destinationId: quiet, at, dueAt: at });
    assert.equal(await sender.deliverDue(at), 1);
    assert.equal(await state(next), 'sent');
    assert.equal(connections, share, 'nothing more was sent to the held receiver');
  });

  it('is not held for a failure that cost no wait', async () => {
    // The first test's deliveries are not this one's to send.
    await sql`DELETE FROM team_destination_deliveries`.execute(db);
    const c = await insertOrgWithTeam(db, { org: 'Reset', team: 'Reset team' });
    // Closes every connection as soon as it is made: a failure, but nothing that holds a round.
    const resets = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => resets.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = resets.address() as AddressInfo;
      const id = await destination(c.orgId, c.teamId, 'resets', `http://127.0.0.1:${port}/hook`);
      await insertTeamDelivery(db, { orgId: c.orgId, destinationId: id, at, dueAt: at });
      const sender = createTeamDeliverySender({
        db,
        log: createLogger('silent'),
        clock,
        config: localDeliveryConfig(),
        fetch: (input, init) => fetch(input, init),
      });
      assert.equal(await sender.deliverDue(at), 1);
      assert.equal(await countOf(id, ['pending']), 1);
      const { rows } = await sql<{ until: Date | null }>`
        SELECT rate_limited_until AS until FROM team_destinations WHERE id = ${id}`.execute(db);
      assert.equal(rows[0]?.until, null);
    } finally {
      await new Promise<void>((resolve) => resets.close(() => resolve()));
    }
  });
});
