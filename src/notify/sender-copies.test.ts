import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { loadConfig } from '../config.js';
import { createDb, createPool, type Db } from '../db/database.js';
import { createLogger } from '../logger.js';
import { startFakeTwilio, type FakeTwilio } from '../testing/fake-twilio.js';
import { createTestDatabase } from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';
import type { NotificationChannel } from './channel.js';
import type { Channels } from './destinations/registry.js';
import { createNotificationSender } from './sender.js';
import { twilioChannels } from './twilio/channels.js';

/**
 * After a provider outage, the pages each repeat round planned come due together, retried: once one page
 * about an alert reaches a phone, the other copies to that phone that are due or retrying end, unsent,
 * and say so on the alert's log. Pages of other alerts, to other phones, and the repeat still to come are
 * left alone. Real PostgreSQL, the SMS channel on the local Twilio, the engine's clock moved by hand.
 */

let db: Db;
let orgId: string;
let twilio: FakeTwilio;
const clock = new ShiftedClock();
const log = createLogger('silent');
const FROM = '+15005550006';
const PAT = '+14155550161';
const QUINN = '+14155550162';

before(async () => {
  db = createDb(createPool(await createTestDatabase({ migrated: true }), 4));
  const org = await sql<{ id: string }>`
    INSERT INTO organizations (name) VALUES ('Copies') RETURNING id`.execute(db);
  orgId = org.rows[0]?.id ?? '';
  twilio = await startFakeTwilio({ accountSid: `AC${'4c'.repeat(16)}`, authToken: 'token', numbers: [FROM] });
});

after(async () => {
  await twilio?.close();
  await db?.destroy();
});

function sender() {
  const config = loadConfig({
    VIGIL_PUBLIC_URL: 'https://vigil.test',
    VIGIL_TWILIO_ACCOUNT_SID: twilio.accountSid,
    VIGIL_TWILIO_AUTH_TOKEN: 'token',
    VIGIL_TWILIO_FROM: FROM,
    VIGIL_TWILIO_API_URL: twilio.url,
  });
  const { sms } = twilioChannels({ config, log, db, fetch, clock });
  assert.ok('send' in sms, 'the SMS channel is set up');
  const channel: NotificationChannel = sms;
  const channels: Channels = {
    get: (name) => (name === 'sms' ? channel : undefined),
    whyUnavailable: () => 'not in this test',
    close: async () => {},
  };
  return createNotificationSender({
    db,
    log,
    clock,
    channels,
    links: { url: () => 'https://vigil.test/act' },
    publicUrl: 'https://vigil.test',
  });
}

/** A person with a verified SMS contact on `phone`. */
async function person(name: string, phone: string): Promise<{ userId: string; contactId: string }> {
  const user = await sql<{ id: string }>`
    INSERT INTO users (org_id, username, full_name, role)
    VALUES (${orgId}, ${`${name.toLowerCase()}.${randomUUID()}@example.com`}, ${name}, 'user')
    RETURNING id`.execute(db);
  const userId = user.rows[0]?.id ?? '';
  const contact = await sql<{ id: string }>`
    INSERT INTO contact_methods (user_id, method, address, verified_at)
    VALUES (${userId}, 'sms', ${phone}, now()) RETURNING id`.execute(db);
  return { userId, contactId: contact.rows[0]?.id ?? '' };
}

async function openAlert(message: string): Promise<{ id: string; tinyId: string }> {
  const alert = await sql<{ id: string; tiny_id: string }>`
    INSERT INTO alerts (org_id, alias, message) VALUES (${orgId}, ${randomUUID()}, ${message})
    RETURNING id, tiny_id`.execute(db);
  const row = alert.rows[0];
  assert.ok(row);
  return { id: row.id, tinyId: String(row.tiny_id) };
}

/** A page by SMS, pending: due `inMs` from now on the engine's clock, after `attempts` tries. */
async function page(
  alertId: string,
  to: { userId: string; contactId: string },
  phone: string,
  inMs: number,
  attempts: number,
): Promise<string> {
  const due = new Date(clock.now().getTime() + inMs);
  const row = await sql<{ id: string }>`
    INSERT INTO notifications (idempotency_key, org_id, alert_id, user_id, contact_method_id, method,
      address, kind, stop_on, due_at, attempts, last_error)
    VALUES (${randomUUID()}, ${orgId}, ${alertId}, ${to.userId}, ${to.contactId}, 'sms', ${phone},
      'create-alert', 'acknowledged', ${due}, ${attempts},
      ${attempts > 0 ? 'Twilio answered 503 (20500)' : null})
    RETURNING id`.execute(db);
  return row.rows[0]?.id ?? '';
}

async function stateOf(id: string): Promise<string | undefined> {
  const row = await sql<{ state: string }>`SELECT state FROM notifications WHERE id = ${id}`.execute(db);
  return row.rows[0]?.state;
}

describe('copies of a page held back by a provider outage', () => {
  it('end once one page reaches the phone, and are not sent later', async () => {
    const pat = await person('Pat', PAT);
    const quinn = await person('Quinn', QUINN);
    const disk = await openAlert('Disk full');
    const cpu = await openAlert('CPU high');
    // Two earlier rounds' pages, backing off after 503s, and this round's page, due now.
    const retrying = [await page(disk.id, pat, PAT, 30_000, 1), await page(disk.id, pat, PAT, 120_000, 2)];
    await page(disk.id, pat, PAT, -1000, 0);
    // Left alone: the repeat still to come, another alert's page and another person's.
    const nextRepeat = await page(disk.id, pat, PAT, 5 * 60_000, 0);
    const otherAlert = await page(cpu.id, pat, PAT, 60_000, 1);
    const otherPhone = await page(disk.id, quinn, QUINN, 60_000, 1);

    const notify = sender();
    assert.equal(await notify.sendDue(clock.now()), 1);
    const toPat = () => twilio.messages.filter((m) => m.to === PAT);
    assert.equal(toPat().length, 1);
    assert.match(toPat()[0]?.body ?? '', new RegExp(`^Vigil \\[P\\d\\] Disk full \\(#${disk.tinyId}\\)\\.`));
    for (const id of retrying) assert.equal(await stateOf(id), 'cancelled');
    assert.equal(await stateOf(nextRepeat), 'pending');
    assert.equal(await stateOf(otherAlert), 'pending');
    assert.equal(await stateOf(otherPhone), 'pending');
    const logs = await sql<{ log: string }>`
      SELECT log FROM alert_logs WHERE alert_id = ${disk.id} AND log LIKE 'SMS to Pat%'
      ORDER BY created_at, log`.execute(db);
    assert.deepEqual(
      logs.rows.map((r) => r.log).filter((l) => l.includes('not sent')),
      [
        'SMS to Pat not sent: a page about this alert was just sent to the same address',
        'SMS to Pat not sent: a page about this alert was just sent to the same address',
      ],
    );

    // Past the copies' retry times: only the other alert's page goes to Pat, and Quinn gets theirs.
    clock.advance(3 * 60_000);
    assert.equal(await notify.sendDue(clock.now()), 2);
    assert.equal(toPat().length, 2);
    assert.doesNotMatch(toPat()[1]?.body ?? '', /Disk full/);
    assert.match(toPat()[1]?.body ?? '', /CPU high/);
    assert.equal(twilio.messages.filter((m) => m.to === QUINN).length, 1);
    for (const id of retrying) assert.equal(await stateOf(id), 'cancelled');
    assert.equal(await stateOf(nextRepeat), 'pending');
  });
});
