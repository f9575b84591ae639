import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, afterEach, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { alertsRepository } from '../alerts/repository.js';
import { createDb, createPool, type Db } from '../db/database.js';
import { retentionQueue } from '../engine/retention.js';
import { createLogger } from '../logger.js';
import { createTestDatabase } from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';
import type { NotificationChannel, OutgoingNotification } from './channel.js';
import type { Channels } from './destinations/registry.js';
import { createNotificationSender } from './sender.js';

/**
 * The SMS and voice throttles count what went to a number whatever becomes of the messages: deleting the
 * alert a text or call was about (DELETE /v2/alerts, one by one or a storm's noisy alerts in bulk) does
 * not let the next one to that number go before its turn, nor does deleting it while its text is being
 * sent. Retention deletes what the throttles counted once past the longest window (voice's 15 minutes),
 * on the engine's clock. Real PostgreSQL, channels that record what they were handed, the clock moved by
 * hand.
 */

const MINUTE = 60_000;
let db: Db;
let orgId: string;
const clock = new ShiftedClock();
const log = createLogger('silent');

/** What the channels were handed: to which address, about which alert. */
const handed: { address: string; message: string }[] = [];
/** Sends about these alerts (by id) wait until their promise settles. */
const held = new Map<string, Promise<void>>();

function channel(type: string): NotificationChannel {
  return {
    type,
    async send(message: OutgoingNotification) {
      handed.push({ address: message.to.address, message: message.alert.message });
      await held.get(message.alert.id);
      return { status: 'sent', providerId: randomUUID() };
    },
  };
}

const channels: Channels = {
  get: (name) => (name === 'sms' || name === 'voice' ? channel(name) : undefined),
  whyUnavailable: () => 'not in this test',
  close: async () => {},
};

const sender = () =>
  createNotificationSender({
    db,
    log,
    clock,
    channels,
    links: { url: () => 'https://vigil.test/act' },
    publicUrl: 'https://vigil.test',
  });

before(async () => {
  db = createDb(createPool(await createTestDatabase({ migrated: true }), 6));
  const org = await sql<{ id: string }>`
    INSERT INTO organizations (name) VALUES ('Throttle') RETURNING id`.execute(db);
  orgId = org.rows[0]?.id ?? '';
});

afterEach(async () => {
  // What a test left waiting would fall due in the next one's rounds.
  await sql`UPDATE notifications SET state = 'cancelled' WHERE state = 'pending'`.execute(db);
});

after(async () => {
  await db?.destroy();
});

/** A person with a verified contact of `method` on `phone`. */
async function person(
  method: 'sms' | 'voice',
  phone: string,
): Promise<{ userId: string; contactId: string }> {
  const user = await sql<{ id: string }>`
    INSERT INTO users (org_id, username, full_name, role)
    VALUES (${orgId}, ${`pat.${randomUUID()}@example.com`}, 'Pat', 'user') RETURNING id`.execute(db);
  const userId = user.rows[0]?.id ?? '';
  const contact = await sql<{ id: string }>`
    INSERT INTO contact_methods (user_id, method, address, verified_at)
    VALUES (${userId}, ${method}, ${phone}, now()) RETURNING id`.execute(db);
  return { userId, contactId: contact.rows[0]?.id ?? '' };
}

/** An open alert with a page of `method` to `to` at `phone`, due now; returns the alert's and page's ids. */
async function pagedAlert(
  message: string,
  method: 'sms' | 'voice',
  to: { userId: string; contactId: string },
  phone: string,
): Promise<{ alertId: string; pageId: string }> {
  const alert = await sql<{ id: string }>`
    INSERT INTO alerts (org_id, alias, message) VALUES (${orgId}, ${randomUUID()}, ${message})
    RETURNING id`.execute(db);
  const alertId = alert.rows[0]?.id ?? '';
  const page = await sql<{ id: string }>`
    INSERT INTO notifications (idempotency_key, org_id, alert_id, user_id, contact_method_id, method,
      address, kind, stop_on, due_at)
    VALUES (${randomUUID()}, ${orgId}, ${alertId}, ${to.userId}, ${to.contactId}, ${method}, ${phone},
      'create-alert', 'acknowledged', ${clock.now()})
    RETURNING id`.execute(db);
  return { alertId, pageId: page.rows[0]?.id ?? '' };
}

async function pageNow(id: string): Promise<{ state: string; due_at: Date; last_error: string | null }> {
  const row = await sql<{ state: string; due_at: Date; last_error: string | null }>`
    SELECT state, due_at, last_error FROM notifications WHERE id = ${id}`.execute(db);
  assert.ok(row.rows[0], 'the page is still there');
  return row.rows[0];
}

const to = (address: string) => handed.filter((h) => h.address === address);
const counted = async (address: string) =>
  Number(
    (
      await sql<{ n: string }>`SELECT count(*) AS n FROM throttle_sends WHERE address = ${address}`.execute(
        db,
      )
    ).rows[0]?.n,
  );

describe('a text whose alert was deleted', () => {
  it('still counts against the phone: the next alert’s text waits the rest of the minute', async () => {
    const phone = '+14155550171';
    const pat = await person('sms', phone);
    const first = await pagedAlert('Disk full', 'sms', pat, phone);
    const notify = sender();
    const sentAt = clock.now();
    assert.equal(await notify.sendDue(sentAt), 1);
    assert.equal(to(phone).length, 1);
    await alertsRepository.delete(db, first.alertId);

    clock.advance(10_000);
    const next = await pagedAlert('CPU high', 'sms', pat, phone);
    assert.equal(await notify.sendDue(clock.now()), 1);
    assert.deepEqual(
      to(phone).map((h) => h.message),
      ['Disk full'],
      'no second text inside the minute',
    );
    const waiting = await pageNow(next.pageId);
    assert.equal(waiting.state, 'pending');
    assert.match(waiting.last_error ?? '', /^throttled:/);
    assert.equal(waiting.due_at.getTime(), sentAt.getTime() + MINUTE);

    clock.advance(50_000);
    assert.equal(await notify.sendDue(clock.now()), 1);
    assert.deepEqual(
      to(phone).map((h) => h.message),
      ['Disk full', 'CPU high'],
    );
  });

  it('counts when deleted while the text is being sent', async () => {
    const phone = '+14155550172';
    const pat = await person('sms', phone);
    const first = await pagedAlert('Disk full', 'sms', pat, phone);
    let release = () => {};
    held.set(first.alertId, new Promise<void>((resolve) => (release = resolve)));
    const letThroughAt = clock.now();
    const sending = sender().sendDue(letThroughAt);
    try {
      while (to(phone).length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      await alertsRepository.delete(db, first.alertId);
      clock.advance(10_000);
      const next = await pagedAlert('CPU high', 'sms', pat, phone);
      assert.equal(await sender().sendDue(clock.now()), 1);
      assert.equal(to(phone).length, 1, 'no second text while the first is being sent');
      assert.equal((await pageNow(next.pageId)).due_at.getTime(), letThroughAt.getTime() + MINUTE);
    } finally {
      held.delete(first.alertId);
      release();
      await sending;
    }
    // The first's outcome had no message left to be recorded on: it counts as let through.
    assert.equal(await counted(phone), 1);
  });
});

describe('calls whose alerts were deleted in bulk', () => {
  it('still count: a fourth call inside 15 minutes waits for the first to age out', async () => {
    const phone = '+14155550173';
    const pat = await person('voice', phone);
    const notify = sender();
    const calls: { alertId: string }[] = [];
    const callsAt: Date[] = [];
    for (const message of ['Disk full', 'CPU high', 'Memory low']) {
      calls.push(await pagedAlert(message, 'voice', pat, phone));
      callsAt.push(clock.now());
      assert.equal(await notify.sendDue(callsAt.at(-1) ?? clock.now()), 1);
      clock.advance(MINUTE);
    }
    assert.equal(to(phone).length, 3);
    for (const call of calls) await alertsRepository.delete(db, call.alertId);

    const fourth = await pagedAlert('Latency', 'voice', pat, phone);
    assert.equal(await notify.sendDue(clock.now()), 1);
    assert.equal(to(phone).length, 3, 'no fourth call inside 15 minutes');
    assert.equal((await pageNow(fourth.pageId)).due_at.getTime(), (callsAt[0]?.getTime() ?? 0) + 15 * MINUTE);
  });
});

describe('retention of what the throttles counted', () => {
  it('keeps the sends of the longest window and deletes the older ones, on the engine’s clock', async () => {
    const phone = '+14155550174';
    const pat = await person('voice', phone);
    const notify = sender();
    const call = await pagedAlert('Disk full', 'voice', pat, phone);
    assert.equal(await notify.sendDue(clock.now()), 1);
    await alertsRepository.delete(db, call.alertId);
    assert.equal(await counted(phone), 1);

    const queue = retentionQueue({ db, log, purges: [] });
    const start = clock.now();
    await queue.round(start); // plans the first run, five minutes on
    await queue.round(new Date(start.getTime() + 14 * MINUTE));
    assert.equal(await counted(phone), 1, 'kept while inside 15 minutes');
    // The next run, an hour later, finds it past the longest window.
    await queue.round(new Date(start.getTime() + 75 * MINUTE));
    assert.equal(await counted(phone), 0);
  });
});
