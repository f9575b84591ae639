import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { alertsRepository } from '../alerts/repository.js';
import type { Db } from '../db/database.js';
import { retentionQueue } from '../engine/retention.js';
import { createLogger } from '../logger.js';
import { throttleSendsPurge } from './destinations/throttle.js';
import { startPhonePages, type Phoned, type PhonePages } from '../testing/phone-pages.js';

/**
 * The SMS and voice throttles count what went to a number whatever becomes of the messages: deleting the
 * alert a text or call was about (DELETE /v2/alerts, one by one or a storm's noisy alerts in bulk) does
 * not let the next one to that number go before its turn, nor does deleting it while its text is being
 * sent. Retention deletes what the throttles counted once past the longest window (voice's 15 minutes),
 * on the engine's clock. Real PostgreSQL, channels that record what they were handed, the clock moved by
 * hand.
 */

const MINUTE = 60_000;
const log = createLogger('silent');
let db: Db;
let clock: PhonePages['clock'];
let phones: PhonePages;
let handed: PhonePages['handed'];
let held: PhonePages['held'];
const sender = () => phones.sender();
const person = (method: 'sms' | 'voice', phone: string) => phones.person(method, phone);
const pagedAlert = (message: string, method: 'sms' | 'voice', to: Phoned, phone: string) =>
  phones.pagedAlert(message, method, to, phone);

before(async () => {
  phones = await startPhonePages('Throttle');
  ({ db, clock, handed, held } = phones);
});

afterEach(async () => {
  // What a test left waiting would fall due in the next one's rounds.
  await sql`UPDATE notifications SET state = 'cancelled' WHERE state = 'pending'`.execute(db);
});

after(async () => {
  await phones?.close();
});

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

    const queue = retentionQueue({ db, log, purges: [throttleSendsPurge(db)] });
    const start = clock.now();
    await queue.round(start); // plans the first run, five minutes on
    await queue.round(new Date(start.getTime() + 14 * MINUTE));
    assert.equal(await counted(phone), 1, 'kept while inside 15 minutes');
    // The next run, an hour later, finds it past the longest window.
    await queue.round(new Date(start.getTime() + 75 * MINUTE));
    assert.equal(await counted(phone), 0);
  });
});
