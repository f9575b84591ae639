import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { alertsRepository } from '../alerts/repository.js';
import type { Db } from '../db/database.js';
import { startPhonePages, type Phoned, type PhonePages } from '../testing/phone-pages.js';
import { notificationsRepository as repo } from './repository.js';

/**
 * A round marks what its throttle lets through (`throttle_sends`, no reference to the message) before it
 * reads the alerts: an alert deleted between the two takes its message with it, and the round records
 * that message cancelled ("the alert was deleted") on no row. Its mark counted a text never sent against
 * the number, and held the next real page back for the rest of the window. A mark whose message is still
 * there is not the recording round's to take back: another round may have taken the message over and
 * marked it again. Real PostgreSQL, the clock moved by hand.
 */

let db: Db;
let clock: PhonePages['clock'];
let phones: PhonePages;
let handed: PhonePages['handed'];
const sender = () => phones.sender();
const person = (phone: string) => phones.person('sms', phone);
const pagedAlert = (message: string, to: Phoned, phone: string) =>
  phones.pagedAlert(message, 'sms', to, phone);

before(async () => {
  phones = await startPhonePages('Orphan marks', 4);
  ({ db, clock, handed } = phones);
});

afterEach(async () => {
  await sql`UPDATE notifications SET state = 'cancelled' WHERE state = 'pending'`.execute(db);
});

after(async () => {
  await phones?.close();
});

/** Claims the page as a round does (attempt `attempts`) and lets it through its throttle: the mark. */
async function claimAndLetThrough(pageId: string, phone: string, attempts: number): Promise<void> {
  await sql`
    UPDATE notifications SET state = 'sending', attempts = ${attempts},
      lease_until = ${new Date(clock.now().getTime() + 60_000)}
    WHERE id = ${pageId}`.execute(db);
  await repo.letThrough(
    db,
    [{ type: 'sms', address: phone }],
    new Date(clock.now().getTime() - 60_000),
    [pageId],
    [pageId],
    clock.now(),
  );
}

const marks = async (phone: string) =>
  (
    await sql<{ notification_id: string; sent: boolean }>`
      SELECT notification_id, sent FROM throttle_sends WHERE address = ${phone}`.execute(db)
  ).rows;

describe('a mark whose message went with its alert before the round read it', () => {
  it('is taken back when the round records it cancelled: the next text to the number goes at once', async () => {
    const phone = '+14155550191';
    const pat = await person(phone);
    const first = await pagedAlert('Disk full', pat, phone);
    await claimAndLetThrough(first.pageId, phone, 1);
    assert.equal((await marks(phone)).length, 1, 'the round marked it');

    // Deleted (in bulk) between the mark and the round's read of the alerts: the message goes with it.
    await alertsRepository.delete(db, first.alertId);
    const mine = await repo.recordOutcomes(
      db,
      [{ id: first.pageId, attempts: 1, state: 'cancelled', error: 'the alert was deleted' }],
      clock.now(),
    );
    assert.equal(mine.size, 0, 'no row to record on');
    assert.deepEqual(await marks(phone), [], 'a text never sent does not count');

    clock.advance(5_000);
    await pagedAlert('CPU high', pat, phone);
    assert.equal(await sender().sendDue(clock.now()), 1);
    assert.deepEqual(
      handed.filter((h) => h.address === phone).map((h) => h.message),
      ['CPU high'],
      'the next real text is not held back',
    );
  });
});

describe('a mark whose message is still there', () => {
  it('is kept when the message is being sent under another claim', async () => {
    const phone = '+14155550192';
    const pat = await person(phone);
    const page = await pagedAlert('Disk full', pat, phone);
    await claimAndLetThrough(page.pageId, phone, 1);
    // The first round's lease ran out; another round took the message over and marked it again.
    clock.advance(61_000);
    await claimAndLetThrough(page.pageId, phone, 2);

    const mine = await repo.recordOutcomes(
      db,
      [{ id: page.pageId, attempts: 1, state: 'cancelled', error: 'the alert was deleted' }],
      clock.now(),
    );
    assert.equal(mine.size, 0, 'the claim was taken over');
    assert.deepEqual(await marks(phone), [{ notification_id: page.pageId, sent: false }]);
    const row = await sql<{ state: string }>`
      SELECT state FROM notifications WHERE id = ${page.pageId}`.execute(db);
    assert.equal(row.rows[0]?.state, 'sending');
  });
});
