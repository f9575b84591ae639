import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool, type Db } from '../db/database.js';
import { createLogger } from '../logger.js';
import { startFakeTwilio, type FakeTwilio } from '../testing/fake-twilio.js';
import { createTestDatabase, waitFor } from '../testing/harness.js';
import { systemClock } from '../work/clock.js';
import type { NotificationChannel } from './channel.js';
import type { Channels } from './destinations/registry.js';
import { createEmailChannel } from './email.js';
import { createNotificationSender } from './sender.js';
import { createTwilioClient } from './twilio/client.js';
import { deliveryResultOf } from './twilio/result.js';

/**
 * A slow email relay must not hold up the other channels: while one round waits on emails that never get
 * an answer, the other round (the queue runs two) sends an SMS page due meanwhile at once. Real
 * PostgreSQL, the email channel against a relay that accepts connections and never greets, and an SMS
 * channel on the local Twilio.
 */

let db: Db;
let orgId: string;
let twilio: FakeTwilio;
let relay: net.Server;
const sockets = new Set<net.Socket>();
const log = createLogger('silent');
/** How long the email channel waits for the silent relay's greeting: every email takes this long. */
const GREETING_MS = 3000;
const BATCH = 8;
const FROM = '+15005550006';

before(async () => {
  const url = await createTestDatabase({ migrated: true });
  db = createDb(createPool(url, 6));
  const org = await sql<{ id: string }>`
    INSERT INTO organizations (name) VALUES ('Lanes') RETURNING id`.execute(db);
  orgId = org.rows[0]?.id ?? '';
  twilio = await startFakeTwilio({ accountSid: `AC${'3f'.repeat(16)}`, authToken: 'token', numbers: [FROM] });
  relay = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
});

after(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise<void>((resolve) => relay?.close(() => resolve()));
  await twilio?.close();
  await db?.destroy();
});

function smsChannel(): NotificationChannel {
  const client = createTwilioClient(
    {
      accountSid: twilio.accountSid,
      authToken: 'token',
      from: FROM,
      apiUrl: twilio.url,
      publicUrl: 'https://vigil.test',
    },
    fetch,
    systemClock,
  );
  return {
    type: 'sms',
    send: async (message) =>
      deliveryResultOf(await client.sendSms(message.to.address, `Vigil: ${message.alert.message}`)),
  };
}

async function insertPage(alertId: string, method: string, address: string, dueAgo: string) {
  await sql`
    INSERT INTO notifications (idempotency_key, org_id, alert_id, user_id, destination_name,
      contact_method_id, method, address, kind, escalation_run_id, stop_on, due_at)
    VALUES (${randomUUID()}, ${orgId}, ${alertId}, NULL, ${`To ${address}`}, NULL, ${method}, ${address},
      'create-alert', NULL, 'acknowledged', now() - ${dueAgo}::interval)`.execute(db);
}

describe('an email relay that never answers', () => {
  it('does not hold up an SMS page due meanwhile', async () => {
    const port = (relay.address() as net.AddressInfo).port;
    const email = createEmailChannel({
      smtpUrl: `smtp://127.0.0.1:${port}`,
      from: 'Vigil <vigil@example.com>',
      log,
      timeouts: { connectionTimeout: GREETING_MS, greetingTimeout: GREETING_MS, socketTimeout: GREETING_MS },
    });
    const byType: Record<string, NotificationChannel> = { email, sms: smsChannel() };
    const channels: Channels = {
      get: (name) => byType[name],
      whyUnavailable: () => 'not in this test',
      close: async () => {},
    };
    const sender = createNotificationSender({
      db,
      log,
      clock: systemClock,
      channels,
      links: { url: () => 'https://vigil.test/act' },
      publicUrl: 'https://vigil.test',
      batchSize: BATCH,
    });
    const alert = await sql<{ id: string }>`
      INSERT INTO alerts (org_id, alias, message) VALUES (${orgId}, ${randomUUID()}, 'Disk full')
      RETURNING id`.execute(db);
    const alertId = alert.rows[0]?.id ?? '';
    // Older email retries than the page: claimed first by due time.
    for (let i = 0; i < 3 * BATCH; i++)
      await insertPage(alertId, 'email', `list-${i}@example.com`, '1 minute');
    try {
      // The queue's first round: it waits on the relay for GREETING_MS.
      const first = sender.sendDue(new Date());
      await waitFor(
        'the first round to claim its emails',
        async () => {
          const { rows } = await sql<{ n: string }>`
          SELECT count(*) AS n FROM notifications WHERE state = 'sending'`.execute(db);
          return Number(rows[0]?.n) > 0;
        },
        5000,
      );
      await insertPage(alertId, 'sms', '+14155550100', '0 seconds');
      // The queue's second round, side by side with the first.
      const startedAt = performance.now();
      const second = sender.sendDue(new Date());
      await twilio.waitForMessages(1, GREETING_MS / 2).catch(() => {});
      const tookMs = performance.now() - startedAt;
      assert.equal(
        twilio.messages.length,
        1,
        `the SMS page reached Twilio only after ${Math.round(tookMs)} ms, behind the emails`,
      );
      assert.equal(twilio.messages[0]?.to, '+14155550100');
      await Promise.all([first, second]);
      const { rows } = await sql<{ method: string; state: string; n: string }>`
        SELECT method, state, count(*) AS n FROM notifications WHERE alert_id = ${alertId}
        GROUP BY method, state ORDER BY method, state`.execute(db);
      const states = rows.map((r) => `${r.method} ${r.state} ${r.n}`);
      assert.ok(states.includes('sms sent 1'), states.join(', '));
      // The emails the first round took failed for now and wait for their retry.
      assert.ok(!states.some((s) => s.startsWith('email sending')), states.join(', '));
    } finally {
      await email.close?.();
    }
  });
});
