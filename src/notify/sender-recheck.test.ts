import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { AliasNode, SelectQueryNode, sql, TableNode, type KyselyPlugin, type OperationNode } from 'kysely';
import { createDb, createPool, type Db } from '../db/database.js';
import { createLogger } from '../logger.js';
import { createTestDatabase, waitFor } from '../testing/harness.js';
import { systemClock } from '../work/clock.js';
import type { DeliveryResult, NotificationChannel, OutgoingNotification } from './channel.js';
import type { Channels } from './destinations/registry.js';
import { createNotificationSender, RECHECK_ALERT_AFTER_MS } from './sender.js';

/**
 * A page is checked against its alert at the moment it is sent, not only when its round began: with a
 * slow email relay, the round's later emails wait their turn (the pool sends 8 at once), and one whose
 * alert was acknowledged meanwhile, or whose contact method was disabled or deleted, is not sent. A round
 * whose sends are quick reads its alerts and recipients once, whatever its size. On real PostgreSQL, with
 * a stub email channel, the sender's rounds run by hand.
 */

let db: Db;
let orgId: string;
const log = createLogger('silent');
const PAGES = 24;

/** The name of a table a query reads, whether aliased or not. */
function tableName(node: OperationNode): string | undefined {
  const table = AliasNode.is(node) ? node.node : node;
  return TableNode.is(table) ? table.table.identifier.name : undefined;
}

/**
 * Counts the reads of a table (from or joined), and fails them while `failing` is set: the alerts table
 * for the sender's round read and any read again, contact_methods for its recipients' reads.
 */
function tableReads(table: string): { plugin: KyselyPlugin; readonly count: number; failing: boolean } {
  const reads = {
    count: 0,
    failing: false,
    plugin: {
      transformQuery: ({ node }) => {
        if (
          SelectQueryNode.is(node) &&
          [...(node.from?.froms ?? []), ...(node.joins ?? []).map((j) => j.table)].some(
            (f) => tableName(f) === table,
          )
        ) {
          reads.count++;
          if (reads.failing) throw new Error(`the ${table} read failed (as the test asked)`);
        }
        return node;
      },
      transformResult: async ({ result }) => result,
    } satisfies KyselyPlugin,
  };
  return reads;
}

const alertReads = () => tableReads('alerts');
const recipientReads = () => tableReads('contact_methods');

/** As many sends as the stub takes at once, as the email channel's pool of connections does. */
const POOL = 8;

/** An email channel whose sends finish only when `hold` lets them (at once while it is undefined). */
function emailStub() {
  const handed: OutgoingNotification[] = [];
  const stub = {
    handed,
    hold: undefined as Promise<void> | undefined,
    channel: {
      type: 'email',
      sendsAtOnce: POOL,
      async send(message): Promise<DeliveryResult> {
        handed.push(message);
        await stub.hold;
        return { status: 'sent', providerId: `mail-${handed.length}` };
      },
    } satisfies NotificationChannel,
  };
  return stub;
}

function senderWith(channel: NotificationChannel, onDb: Db) {
  const channels: Channels = {
    get: (name) => (name === channel.type ? channel : undefined),
    whyUnavailable: () => 'not in this test',
    close: async () => {},
  };
  return createNotificationSender({
    db: onDb,
    log,
    clock: systemClock,
    channels,
    links: { url: () => 'https://vigil.test/act' },
    publicUrl: 'https://vigil.test',
  });
}

/** An open alert with PAGES emails due now, each to a list of its own, stopping on acknowledgement. */
async function pagedAlert(): Promise<string> {
  const alert = await sql<{ id: string }>`
    INSERT INTO alerts (org_id, alias, message) VALUES (${orgId}, ${randomUUID()}, 'Disk full')
    RETURNING id`.execute(db);
  const alertId = alert.rows[0]?.id ?? '';
  for (let i = 0; i < PAGES; i++) {
    await sql`
      INSERT INTO notifications (idempotency_key, org_id, alert_id, user_id, destination_name,
        contact_method_id, method, address, kind, escalation_run_id, stop_on, due_at)
      VALUES (${randomUUID()}, ${orgId}, ${alertId}, NULL, ${`List ${i}`}, NULL, 'email',
        ${`list-${i}@example.com`}, 'create-alert', NULL, 'acknowledged', now() - interval '1 second')`.execute(
      db,
    );
  }
  return alertId;
}

/**
 * An open alert with PAGES emails due now to one person, each to a contact method of its own, stopping on
 * acknowledgement.
 */
async function pagedPerson(): Promise<{ alertId: string; addresses: string[] }> {
  const run = randomUUID().slice(0, 8);
  const user = await sql<{ id: string }>`
    INSERT INTO users (org_id, username, full_name, role)
    VALUES (${orgId}, ${`pat.${run}@example.com`}, 'Pat', 'user') RETURNING id`.execute(db);
  const userId = user.rows[0]?.id ?? '';
  const alert = await sql<{ id: string }>`
    INSERT INTO alerts (org_id, alias, message) VALUES (${orgId}, ${randomUUID()}, 'Disk full')
    RETURNING id`.execute(db);
  const alertId = alert.rows[0]?.id ?? '';
  const addresses: string[] = [];
  for (let i = 0; i < PAGES; i++) {
    const address = `pat.${i}.${run}@example.com`;
    addresses.push(address);
    const contact = await sql<{ id: string }>`
      INSERT INTO contact_methods (user_id, method, address) VALUES (${userId}, 'email', ${address})
      RETURNING id`.execute(db);
    await sql`
      INSERT INTO notifications (idempotency_key, org_id, alert_id, user_id, destination_name,
        contact_method_id, method, address, kind, escalation_run_id, stop_on, due_at)
      VALUES (${randomUUID()}, ${orgId}, ${alertId}, ${userId}, NULL, ${contact.rows[0]?.id ?? ''}, 'email',
        ${address}, 'create-alert', NULL, 'acknowledged', now() - interval '1 second')`.execute(db);
  }
  return { alertId, addresses };
}

async function outcomes(alertId: string) {
  const { rows } = await sql<{
    address: string;
    state: string;
    last_error: string | null;
    attempts: number;
    lease_until: Date | null;
  }>`
    SELECT address, state, last_error, attempts, lease_until
    FROM notifications WHERE alert_id = ${alertId}`.execute(db);
  return rows;
}

async function logLines(alertId: string): Promise<string[]> {
  const { rows } = await sql<{ log: string }>`
    SELECT log FROM alert_logs WHERE alert_id = ${alertId} AND type = 'notification'`.execute(db);
  return rows.map((r) => r.log);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What `promise` gives, or a failure once `ms` passed without it (a round that would hang). */
async function within<T>(ms: number, what: string, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

before(async () => {
  const url = await createTestDatabase({ migrated: true });
  db = createDb(createPool(url, 4));
  const org = await sql<{ id: string }>`
    INSERT INTO organizations (name) VALUES ('Recheck') RETURNING id`.execute(db);
  orgId = org.rows[0]?.id ?? '';
});

beforeEach(async () => {
  await sql`DELETE FROM notifications`.execute(db);
});

after(async () => {
  await db?.destroy();
});

describe('a round of emails to a slow relay', () => {
  it('does not send the pages still waiting for their turn once the alert is acknowledged', async () => {
    const alertId = await pagedAlert();
    const stub = emailStub();
    let release = () => {};
    stub.hold = new Promise<void>((resolve) => (release = resolve));
    const reads = alertReads();
    const round = senderWith(stub.channel, db.withPlugin(reads.plugin)).sendDue(new Date());

    // The pool's worth go out; the rest wait in the sender, not inside the channel.
    await waitFor('the first emails handed to the channel', async () => stub.handed.length >= 8, 10_000);
    await sleep(200);
    assert.equal(stub.handed.length, 8, 'only as many emails at once as the pool has connections');

    await sql`UPDATE alerts SET acknowledged = true WHERE id = ${alertId}`.execute(db);
    // The relay is slow: the waiting emails' turn comes after the round's read is old.
    await sleep(RECHECK_ALERT_AFTER_MS + 300);
    release();
    assert.equal(await round, PAGES);

    assert.equal(stub.handed.length, 8, 'no email went after the acknowledgement');
    const ended = await outcomes(alertId);
    assert.equal(ended.filter((o) => o.state === 'sent').length, 8);
    const cancelled = ended.filter((o) => o.state === 'cancelled');
    assert.equal(cancelled.length, PAGES - 8);
    assert.ok(cancelled.every((o) => o.last_error === 'the alert was acknowledged'));
    const lines = await logLines(alertId);
    assert.equal(
      lines.filter((l) => /^Email to List \d+ not sent: the alert was acknowledged$/.test(l)).length,
      16,
    );
    // One read for the round, one read again for the sends that waited (they share it).
    assert.equal(reads.count, 2);
  });

  it('sends them all, reading the alert again, when nothing changed', async () => {
    const alertId = await pagedAlert();
    const stub = emailStub();
    let release = () => {};
    stub.hold = new Promise<void>((resolve) => (release = resolve));
    const reads = alertReads();
    const round = senderWith(stub.channel, db.withPlugin(reads.plugin)).sendDue(new Date());
    await waitFor('the first emails handed to the channel', async () => stub.handed.length >= 8, 10_000);
    await sleep(RECHECK_ALERT_AFTER_MS + 300);
    release();
    assert.equal(await round, PAGES);
    assert.equal(stub.handed.length, PAGES);
    assert.ok((await outcomes(alertId)).every((o) => o.state === 'sent'));
    // The sends that waited read it again, and went on what they read.
    assert.equal(reads.count, 2);
  });

  it('does not send the pages still waiting for their turn to a contact disabled or deleted meanwhile', async () => {
    const { alertId, addresses } = await pagedPerson();
    const stub = emailStub();
    let release = () => {};
    stub.hold = new Promise<void>((resolve) => (release = resolve));
    const [alerts, recipients] = [alertReads(), recipientReads()];
    const round = senderWith(
      stub.channel,
      db.withPlugin(alerts.plugin).withPlugin(recipients.plugin),
    ).sendDue(new Date());

    await waitFor('the first emails handed to the channel', async () => stub.handed.length >= 8, 10_000);
    await sleep(200);
    const handed = new Set(stub.handed.map((m) => m.to.address));
    const waiting = addresses.filter((a) => !handed.has(a));
    assert.equal(waiting.length, PAGES - 8);
    const [disabled, deleted] = [waiting.slice(0, 8), waiting.slice(8)];
    await sql`UPDATE contact_methods SET enabled = false WHERE address = ANY(${disabled})`.execute(db);
    await sql`DELETE FROM contact_methods WHERE address = ANY(${deleted})`.execute(db);
    await sleep(RECHECK_ALERT_AFTER_MS + 300);
    release();
    assert.equal(await round, PAGES);

    assert.equal(stub.handed.length, 8, 'no email went to a contact disabled or deleted meanwhile');
    const ended = new Map((await outcomes(alertId)).map((o) => [o.address, o]));
    assert.ok([...handed].every((a) => ended.get(a)?.state === 'sent'));
    for (const [addresses, why] of [
      [disabled, 'the contact method is disabled'],
      [deleted, 'the contact method was deleted'],
    ] as const) {
      for (const address of addresses) {
        assert.deepEqual(
          { state: ended.get(address)?.state, error: ended.get(address)?.last_error },
          { state: 'cancelled', error: why },
        );
      }
      const lines = await logLines(alertId);
      assert.equal(lines.filter((l) => l === `Email to Pat not sent: ${why}`).length, 8);
    }
    // The round's reads, then for the sends that waited one read of the alert (shared) and one of the
    // recipients each.
    assert.equal(alerts.count, 2);
    assert.equal(recipients.count, 1 + PAGES - 8);
  });

  it('gives the pages back at once, and their turns, when reading them again fails', async () => {
    const alertId = await pagedAlert();
    const stub = emailStub();
    let release = () => {};
    stub.hold = new Promise<void>((resolve) => (release = resolve));
    const reads = alertReads();
    const sender = senderWith(stub.channel, db.withPlugin(reads.plugin));
    const round = sender.sendDue(new Date());

    await waitFor('the first emails handed to the channel', async () => stub.handed.length >= 8, 10_000);
    // The database fails just as the waiting emails' turn comes.
    reads.failing = true;
    await sleep(RECHECK_ALERT_AFTER_MS + 300);
    release();
    assert.equal(await within(10_000, 'the round', round), PAGES);

    assert.equal(stub.handed.length, 8, 'no email went unchecked');
    const ended = await outcomes(alertId);
    assert.equal(ended.filter((o) => o.state === 'sent').length, 8);
    const back = ended.filter((o) => o.state !== 'sent');
    assert.equal(back.length, PAGES - 8);
    // Not left claimed until the lease runs out, and the claim is no attempt.
    assert.ok(
      back.every((o) => o.state === 'pending' && o.lease_until === null && o.attempts === 0),
      JSON.stringify(back),
    );

    // Every turn was given back: the next round of the same sender sends them all.
    reads.failing = false;
    stub.hold = undefined;
    assert.equal(await within(10_000, 'the next round', sender.sendDue(new Date())), PAGES - 8);
    assert.equal(stub.handed.length, PAGES);
    assert.ok((await outcomes(alertId)).every((o) => o.state === 'sent'));
  });
});

describe('a round of quick emails', () => {
  it('sends every page with one read of the alert', async () => {
    const alertId = await pagedAlert();
    const stub = emailStub();
    const reads = alertReads();
    assert.equal(await senderWith(stub.channel, db.withPlugin(reads.plugin)).sendDue(new Date()), PAGES);
    assert.equal(stub.handed.length, PAGES);
    assert.ok((await outcomes(alertId)).every((o) => o.state === 'sent'));
    assert.equal(reads.count, 1, 'no read of its own for any send');
  });

  it('sends every page to a person with one read of the alert and one of the recipients', async () => {
    const { alertId } = await pagedPerson();
    const stub = emailStub();
    const [alerts, recipients] = [alertReads(), recipientReads()];
    const sender = senderWith(stub.channel, db.withPlugin(alerts.plugin).withPlugin(recipients.plugin));
    assert.equal(await sender.sendDue(new Date()), PAGES);
    assert.equal(stub.handed.length, PAGES);
    assert.ok((await outcomes(alertId)).every((o) => o.state === 'sent'));
    assert.equal(alerts.count, 1, 'no alert read of its own for any send');
    assert.equal(recipients.count, 1, 'no recipients read of its own for any send');
  });
});
