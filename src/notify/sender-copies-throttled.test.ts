import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool, type Db } from '../db/database.js';
import { createLogger } from '../logger.js';
import { createTestDatabase } from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';
import type { NotificationChannel, OutgoingNotification } from './channel.js';
import type { Channels } from './destinations/registry.js';
import { createNotificationSender } from './sender.js';

/**
 * A copy of a page that waits for its phone's throttle is cancelled as the copies due or retrying are
 * once a page about the same alert reaches that phone: two rounds side by side, one sending an earlier
 * repeat round's page (retrying after an outage), the other claiming this round's, due a moment later,
 * and putting it back behind the first one's mark. Without that, the second went a minute later: two
 * texts about one alert. The repeat still to come is left to come. Real PostgreSQL, an SMS channel that
 * records what it was handed, the engine's clock moved by hand.
 */

const PHONE = '+14155550181';
let db: Db;
let orgId: string;
const clock = new ShiftedClock();
const log = createLogger('silent');

before(async () => {
  db = createDb(createPool(await createTestDatabase({ migrated: true }), 6));
  const org = await sql<{ id: string }>`
    INSERT INTO organizations (name) VALUES ('Copies') RETURNING id`.execute(db);
  orgId = org.rows[0]?.id ?? '';
});

after(async () => {
  await db?.destroy();
});

async function stateOf(id: string): Promise<{ state: string; last_error: string | null }> {
  const row = await sql<{ state: string; last_error: string | null }>`
    SELECT state, last_error FROM notifications WHERE id = ${id}`.execute(db);
  assert.ok(row.rows[0]);
  return row.rows[0];
}

describe('a copy of a page waiting for the throttle behind the page sent', () => {
  it('is cancelled with the copies due, and the repeat still to come is not', async () => {
    const user = await sql<{ id: string }>`
      INSERT INTO users (org_id, username, full_name, role)
      VALUES (${orgId}, ${`pat.${randomUUID()}@example.com`}, 'Pat', 'user') RETURNING id`.execute(db);
    const userId = user.rows[0]?.id ?? '';
    const contact = await sql<{ id: string }>`
      INSERT INTO contact_methods (user_id, method, address, verified_at)
      VALUES (${userId}, 'sms', ${PHONE}, now()) RETURNING id`.execute(db);
    const alert = await sql<{ id: string }>`
      INSERT INTO alerts (org_id, alias, message) VALUES (${orgId}, ${randomUUID()}, 'Disk full')
      RETURNING id`.execute(db);
    const page = async (inMs: number, attempts: number) =>
      (
        await sql<{ id: string }>`
          INSERT INTO notifications (idempotency_key, org_id, alert_id, user_id, contact_method_id, method,
            address, kind, stop_on, due_at, attempts)
          VALUES (${randomUUID()}, ${orgId}, ${alert.rows[0]?.id}, ${userId}, ${contact.rows[0]?.id}, 'sms',
            ${PHONE}, 'create-alert', 'acknowledged', ${new Date(clock.now().getTime() + inMs)}, ${attempts})
          RETURNING id`.execute(db)
      ).rows[0]?.id ?? '';
    const retrying = await page(-1000, 2);
    const fresh = await page(2000, 0);
    const nextRepeat = await page(5 * 60_000, 0);

    const handed: string[] = [];
    let release = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    const channel: NotificationChannel = {
      type: 'sms',
      async send(message: OutgoingNotification) {
        handed.push(message.notificationId);
        if (message.notificationId === retrying) await held;
        return { status: 'sent', providerId: randomUUID() };
      },
    };
    const channels: Channels = {
      get: (name) => (name === 'sms' ? channel : undefined),
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
    // Two rounds side by side (the queue's two, or two processes).
    const a = sender();
    const b = sender();
    const first = a.sendDue(clock.now());
    try {
      while (handed.length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
      clock.advance(3000);
      assert.equal(await b.sendDue(clock.now()), 1, 'the fresh page claimed');
      assert.match((await stateOf(fresh)).last_error ?? '', /^throttled:/, 'it waits behind the first');
    } finally {
      release();
      await first;
    }
    assert.deepEqual(handed, [retrying]);
    assert.deepEqual(await stateOf(fresh), {
      state: 'cancelled',
      last_error: 'a page about this alert was just sent to the same address',
    });
    assert.equal((await stateOf(nextRepeat)).state, 'pending');

    clock.advance(61_000);
    assert.equal(await a.sendDue(clock.now()), 0);
    assert.deepEqual(handed, [retrying], 'no second text about the alert');
    clock.advance(5 * 60_000);
    assert.equal(await a.sendDue(clock.now()), 1);
    assert.deepEqual(handed, [retrying, nextRepeat], 'the repeat still goes');
  });
});
