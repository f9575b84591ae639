import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { SelectQueryNode, sql, TableNode, type KyselyPlugin } from 'kysely';
import { createDb, createPool, type Db } from '../db/database.js';
import { createLogger } from '../logger.js';
import { createTestDatabase } from '../testing/harness.js';
import { systemClock } from '../work/clock.js';
import type { DeliveryResult, NotificationChannel, OutgoingNotification } from './channel.js';
import type { Channels } from './destinations/registry.js';
import { createNotificationSender, RECHECK_ALERT_AFTER_MS } from './sender.js';

/**
 * A page is checked against its alert at the moment it is sent, not only when its round began: with a
 * slow email relay, the round's later emails wait their turn (the pool sends 8 at once), and one whose
 * alert was acknowledged meanwhile is not sent. A round whose sends are quick reads its alerts once,
 * whatever its size. On real PostgreSQL, with a stub email channel, the sender's rounds run by hand.
 */

let db: Db;
let orgId: string;
const log = createLogger('silent');
const PAGES = 24;

/** Counts the reads of the alerts table (the sender's round read, and any read again). */
function alertReads(): { plugin: KyselyPlugin; readonly count: number } {
  let count = 0;
  return {
    plugin: {
      transformQuery: ({ node }) => {
        if (
          SelectQueryNode.is(node) &&
          node.from?.froms.some((f) => TableNode.is(f) && f.table.identifier.name === 'alerts')
        ) {
          count++;
        }
        return node;
      },
      transformResult: async ({ result }) => result,
    },
    get count() {
      return count;
    },
  };
}

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

async function outcomes(alertId: string) {
  const { rows } = await sql<{ state: string; last_error: string | null }>`
    SELECT state, last_error FROM notifications WHERE alert_id = ${alertId}`.execute(db);
  return rows;
}

async function logLines(alertId: string): Promise<string[]> {
  const { rows } = await sql<{ log: string }>`
    SELECT log FROM alert_logs WHERE alert_id = ${alertId} AND type = 'notification'`.execute(db);
  return rows.map((r) => r.log);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
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
    await until('the first emails handed to the channel', () => stub.handed.length >= 8);
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
    const round = senderWith(stub.channel, db).sendDue(new Date());
    await until('the first emails handed to the channel', () => stub.handed.length >= 8);
    await sleep(RECHECK_ALERT_AFTER_MS + 300);
    release();
    assert.equal(await round, PAGES);
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
});
