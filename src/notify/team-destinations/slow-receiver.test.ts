import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { loadConfig } from '../../config.js';
import { createDb, createPool, type Db } from '../../db/database.js';
import { createLogger } from '../../logger.js';
import { createTestDatabase } from '../../testing/harness.js';
import { insertOrgWithTeam, insertTeamDelivery, localDeliveryConfig } from '../../testing/team-deliveries.js';
import type { Clock } from '../../work/clock.js';
import { createTeamDeliverySender } from './deliveries.js';
import { teamDestinationsRepository as repo } from './repository.js';

/**
 * A receiver slow to answer, fed a storm, must not hold every other organization's deliveries: a round
 * beside the one sending its burst reaches past the burst, a healthy burst goes a whole claim at a time,
 * two claims at once each take a full share, and a receiver that fails after keeping a request waiting
 * (no answer, or a gateway's 504) is held, while one that fails at once is not. The threshold is
 * shortened here (HOLD_AFTER_MS) rather than waited for.
 */

const HOLD_AFTER_MS = 150;
let db: Db;
let server: http.Server;
let base: string;
/** Answers to `/held` wait here until the test lets them go (with a 504). */
const held: http.ServerResponse[] = [];
const at = new Date();
const clock: Clock = { now: () => at, fromSystemTime: (t) => t, toSystemTime: (t) => t };

async function destination(orgId: string, teamId: string, type: string, config: object): Promise<string> {
  const { rows } = await sql<{ id: string }>`
    INSERT INTO team_destinations (org_id, team_id, type, name, config)
    VALUES (${orgId}, ${teamId}, ${type}, ${randomUUID()}, ${JSON.stringify(config)}::jsonb)
    RETURNING id`.execute(db);
  assert.ok(rows[0]);
  return rows[0].id;
}

const webhook = (orgId: string, teamId: string, path: string) =>
  destination(orgId, teamId, 'webhook', {
    url: `${base}${path}`,
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  });

async function state(id: string): Promise<string> {
  const { rows } = await sql<{ state: string }>`
    SELECT state FROM team_destination_deliveries WHERE id = ${id}`.execute(db);
  return rows[0]?.state ?? 'none';
}

async function countOf(destinationId: string, st: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM team_destination_deliveries
    WHERE destination_id = ${destinationId} AND state = ${st}`.execute(db);
  return rows[0]?.n ?? 0;
}

async function heldUntil(destinationId: string): Promise<Date | null> {
  const { rows } = await sql<{ until: Date | null }>`
    SELECT rate_limited_until AS until FROM team_destinations WHERE id = ${destinationId}`.execute(db);
  return rows[0]?.until ?? null;
}

async function until(check: () => Promise<boolean>, limitMs = 5_000): Promise<boolean> {
  const end = Date.now() + limitMs;
  while (Date.now() < end) {
    if (await check()) return true;
    await sleep(20);
  }
  return false;
}

function sender(config = localDeliveryConfig(), fetchFn: typeof fetch = (input, init) => fetch(input, init)) {
  return createTeamDeliverySender({
    db,
    log: createLogger('silent'),
    clock,
    config,
    fetch: fetchFn,
    noAnswerHoldAfterMs: HOLD_AFTER_MS,
  });
}

async function storm(orgId: string, destinationId: string, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const dueAt = new Date(at.getTime() - 600_000 + i);
    await insertTeamDelivery(db, { orgId, destinationId, at: dueAt, dueAt });
  }
}

before(async () => {
  server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url === '/held') held.push(res);
      else if (req.url === '/slow504')
        setTimeout(() => res.writeHead(504).end('gateway timeout'), HOLD_AFTER_MS + 100);
      else if (req.url === '/fast500') res.writeHead(500).end('boom');
      else res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  db = createDb(createPool(await createTestDatabase({ migrated: true }), 6));
});

after(async () => {
  for (const res of held.splice(0)) res.destroy();
  await new Promise<void>((resolve) => server?.close(() => resolve()));
  await db?.destroy();
});

async function clean(): Promise<void> {
  await sql`DELETE FROM team_destination_deliveries`.execute(db);
}

describe("a receiver slow to answer, with a storm's deliveries at the head", () => {
  it("does not keep the round beside it from another organization's delivery due after them", async () => {
    await clean();
    const a = await insertOrgWithTeam(db, { org: 'Storm', team: 'Storm team' });
    const b = await insertOrgWithTeam(db, { org: 'Quiet', team: 'Quiet team' });
    const slow = await webhook(a.orgId, a.teamId, '/held');
    const quiet = await webhook(b.orgId, b.teamId, '/ok');
    await storm(a.orgId, slow, 600);
    const other = await insertTeamDelivery(db, { orgId: b.orgId, destinationId: quiet, at, dueAt: at });
    const s = sender();

    // The first round takes a whole claim of the storm (nothing else in its look-ahead) and waits on it.
    const first = s.deliverDue(at);
    assert.ok(await until(async () => held.length === 50));
    // The round beside it passes the busy receiver by and reaches the other organization's delivery.
    const second = s.deliverDue(at);
    const reached = await until(async () => (await state(other)) === 'sent');
    await sleep(HOLD_AFTER_MS);
    for (const res of held.splice(0)) res.writeHead(504).end('gateway timeout');
    const [firstClaimed, secondClaimed] = await Promise.all([first, second]);
    for (const res of held.splice(0)) res.writeHead(504).end('gateway timeout');
    assert.ok(reached, "the other organization's delivery was sent beside the storm's round");
    assert.equal(firstClaimed, 50);
    assert.equal(secondClaimed, 1);
    // The 504s came after the threshold: the receiver is held, its deliveries put off.
    const until_ = await heldUntil(slow);
    assert.ok(until_ && until_ > at, 'the receiver that answered 504 that late is held');
    assert.equal(await s.deliverDue(at), 0);
  });
});

describe('a claim', () => {
  it("takes a whole claim of a lone destination's burst, and shares it among several", async () => {
    await clean();
    const a = await insertOrgWithTeam(db, { org: 'Burst', team: 'Burst team' });
    const one = await webhook(a.orgId, a.teamId, '/ok');
    const two = await webhook(a.orgId, a.teamId, '/ok');
    await storm(a.orgId, one, 100);
    const lease = new Date(at.getTime() + 60_000);
    assert.equal((await repo.claim(db, at, lease, 50)).length, 50);
    await clean();
    await storm(a.orgId, one, 100);
    await storm(a.orgId, two, 100);
    const rows = await repo.claim(db, at, lease, 50);
    assert.equal(rows.filter((r) => r.destination_id === one).length, 25);
    assert.equal(rows.filter((r) => r.destination_id === two).length, 25);
  });

  it('beside another one still open takes a full share of its own', async () => {
    await clean();
    const a = await insertOrgWithTeam(db, { org: 'Many', team: 'Many team' });
    const ids: string[] = [];
    for (let d = 0; d < 20; d++) {
      const id = await webhook(a.orgId, a.teamId, '/ok');
      ids.push(id);
      await storm(a.orgId, id, 5);
    }
    const lease = new Date(at.getTime() + 60_000);
    const [mine, theirs] = await db.transaction().execute(async (trx) => {
      const first = await repo.claim(trx, at, lease, 50);
      // Another connection, while the first claim's rows are still locked (not yet committed).
      const second = await repo.claim(db, at, lease, 50);
      return [first, second];
    });
    assert.equal(mine.length, 50);
    assert.equal(theirs.length, 50, 'the second claim took the picks past the first one’s');
    assert.equal(new Set([...mine, ...theirs].map((r) => r.id)).size, 100);
  });
});

describe('a send that fails', () => {
  it('holds the destination when a 504 comes after the threshold, not when a 500 comes at once', async () => {
    await clean();
    const a = await insertOrgWithTeam(db, { org: 'Gateway', team: 'Gateway team' });
    const late = await webhook(a.orgId, a.teamId, '/slow504');
    const fast = await webhook(a.orgId, a.teamId, '/fast500');
    await insertTeamDelivery(db, { orgId: a.orgId, destinationId: late, at, dueAt: at });
    await insertTeamDelivery(db, { orgId: a.orgId, destinationId: fast, at, dueAt: at });
    assert.equal(await sender().deliverDue(at), 2);
    assert.equal(await countOf(late, 'pending'), 1);
    assert.equal(await countOf(fast, 'pending'), 1);
    const lateHold = await heldUntil(late);
    assert.ok(lateHold && lateHold > at, 'a 504 after the threshold holds');
    assert.equal(await heldUntil(fast), null, 'a 500 at once does not');
  });

  it('holds a Slack destination whose API answered an error after the threshold', async () => {
    await clean();
    const a = await insertOrgWithTeam(db, { org: 'Slack', team: 'Slack team' });
    const slack = await destination(a.orgId, a.teamId, 'slack', { channel: 'C0123456789' });
    const eventId = randomUUID();
    const event = {
      type: 'test',
      eventId,
      orgId: a.orgId,
      at: at.toISOString(),
      actor: { type: 'system', name: 't' },
    };
    await sql`
      INSERT INTO team_destination_deliveries (destination_id, event_id, alert_id, event_type, event, seq, due_at)
      VALUES (${slack}, ${eventId}, ${randomUUID()}, 'test', ${JSON.stringify(event)}::jsonb, 1, ${at})`.execute(
      db,
    );
    const config = loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: 'postgres://unused/unused',
      VIGIL_SLACK_BOT_TOKEN: 'xoxb-test-token',
    });
    const slowError: typeof fetch = async () => {
      await sleep(HOLD_AFTER_MS + 100);
      return new Response(JSON.stringify({ ok: false, error: 'internal_error' }), {
        status: 200,
        headers: { 'content-type': 'application/json' },
      });
    };
    assert.equal(await sender(config, slowError).deliverDue(at), 1);
    assert.equal(await countOf(slack, 'pending'), 1);
    const hold = await heldUntil(slack);
    assert.ok(hold && hold > at, "Slack's error answered after the threshold holds");
  });
});
