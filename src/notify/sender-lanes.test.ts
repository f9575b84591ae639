import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type pg from 'pg';
import { createDb, createPool, type Db } from '../db/database.js';
import { createLogger } from '../logger.js';
import { startFakeTwilio, type FakeTwilio } from '../testing/fake-twilio.js';
import { createTestDatabase, waitFor } from '../testing/harness.js';
import { systemClock } from '../work/clock.js';
import { createWorkRunner } from '../work/runner.js';
import type { DeliveryResult, NotificationChannel } from './channel.js';
import type { Channels } from './destinations/registry.js';
import { createEmailChannel } from './email.js';
import { createNotificationSender } from './sender.js';
import { createTwilioClient } from './twilio/client.js';
import { deliveryResultOf } from './twilio/result.js';

/**
 * A slow email relay must not hold up the other channels: while rounds wait on emails that never get
 * an answer, another round (the queue runs three) sends an SMS page due meanwhile at once. Nor may the
 * email lane stick: it passes on once a round's emails have taken their turns on the pool (the queue is
 * woken for it), and at a deadline from a round that never ends. Real PostgreSQL, the email channel
 * against a relay that accepts connections and never greets (or one that sends when the test says), and
 * an SMS channel on the local Twilio.
 */

let db: Db;
let pool: pg.Pool;
let orgId: string;
let twilio: FakeTwilio;
let relay: net.Server;
const sockets = new Set<net.Socket>();
const log = createLogger('silent');
/** How long the email channel waits for the silent relay's greeting: every email takes this long. */
const GREETING_MS = 10_000;
const BATCH = 8;
const FROM = '+15005550006';

before(async () => {
  const url = await createTestDatabase({ migrated: true });
  pool = createPool(url, 8);
  db = createDb(pool);
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

async function newAlert(): Promise<string> {
  const alert = await sql<{ id: string }>`
    INSERT INTO alerts (org_id, alias, message) VALUES (${orgId}, ${randomUUID()}, 'Disk full')
    RETURNING id`.execute(db);
  return alert.rows[0]?.id ?? '';
}

async function countOf(method: string, state: string, address?: string): Promise<number> {
  const { rows } = await sql<{ n: string }>`
    SELECT count(*) AS n FROM notifications
    WHERE method = ${method} AND state = ${state} AND (${address ?? null}::text IS NULL OR address = ${address ?? null})
  `.execute(db);
  return Number(rows[0]?.n);
}

/**
 * An email channel of `sendsAtOnce` connections that sends at once, except to addresses starting with
 * "hang": those wait until `release` (a relay that never answers, a send that never ends).
 */
function heldEmail(sendsAtOnce: number) {
  const sent: string[] = [];
  const held: (() => void)[] = [];
  let released = false;
  const channel: NotificationChannel = {
    type: 'email',
    sendsAtOnce,
    async send(message): Promise<DeliveryResult> {
      if (message.to.address.startsWith('hang') && !released)
        await new Promise<void>((resolve) => held.push(resolve));
      sent.push(message.to.address);
      return { status: 'sent' };
    },
  };
  return {
    channel,
    sent,
    release() {
      released = true;
      for (const resolve of held.splice(0)) resolve();
    },
  };
}

function channelsOf(byType: Record<string, NotificationChannel>): Channels {
  return { get: (name) => byType[name], whyUnavailable: () => 'not in this test', close: async () => {} };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('an email relay that never answers', () => {
  it('does not hold up an SMS page due meanwhile, and passes the email lane on', async () => {
    await sql`DELETE FROM notifications`.execute(db);
    const port = (relay.address() as net.AddressInfo).port;
    const email = createEmailChannel({
      smtpUrl: `smtp://127.0.0.1:${port}`,
      from: 'Vigil <vigil@example.com>',
      log,
      timeouts: { connectionTimeout: GREETING_MS, greetingTimeout: GREETING_MS, socketTimeout: GREETING_MS },
    });
    const sender = createNotificationSender({
      db,
      log,
      clock: systemClock,
      channels: channelsOf({ email, sms: smsChannel() }),
      links: { url: () => 'https://vigil.test/act' },
      publicUrl: 'https://vigil.test',
      batchSize: BATCH,
    });
    const alertId = await newAlert();
    // Older email retries than the page: claimed first by due time.
    for (let i = 0; i < 3 * BATCH; i++)
      await insertPage(alertId, 'email', `list-${i}@example.com`, '1 minute');
    try {
      // The queue's first round: its emails take the pool's 8 connections and wait on the relay for
      // GREETING_MS. Each took its turn at once, so the email lane is the next round's.
      const first = sender.sendDue(new Date());
      await waitFor("the first round's emails to be on the wire", async () => sockets.size >= BATCH, 5000);
      const second = sender.sendDue(new Date());
      await waitFor(
        'the second round to claim the next emails (the lane passed on)',
        async () => (await countOf('email', 'sending')) >= 2 * BATCH,
        GREETING_MS - 1000,
      );
      // Both rounds now wait on emails: the second holds the lane while they wait for the pool. Due a
      // second ago, not now: PostgreSQL's now() keeps microseconds and the round's time is a JS Date
      // (milliseconds), so a page due "now" can still be in the round's future when both fall in the
      // same millisecond, and the round claims nothing.
      await insertPage(alertId, 'sms', '+14155550100', '1 second');
      const third = sender.sendDue(new Date());
      // Which comes first: the SMS, or the end of the first round's emails (the relay's timeout)? Held
      // up behind the emails, the SMS could only go once a round was free. An order, not a time: a busy
      // machine slows both alike.
      const winner = await Promise.race([
        twilio.waitForMessages(1, 3 * GREETING_MS).then(() => 'the SMS'),
        first.then(() => "the first round's emails"),
      ]);
      assert.equal(winner, 'the SMS', 'the SMS page waited behind the emails');
      await twilio.waitForMessages(1, 3 * GREETING_MS);
      assert.equal(twilio.messages[0]?.to, '+14155550100');
      await Promise.all([first, second, third]);
      assert.equal(await countOf('sms', 'sent'), 1);
      // The emails the rounds took failed for now and wait for their retry.
      assert.equal(await countOf('email', 'sending'), 0);
      // No lane is left taken: a fresh round claims the emails still due.
      assert.equal(await sender.sendDue(new Date()), BATCH, 'a fresh round claimed no email');
    } finally {
      await email.close?.();
    }
  });

  it('passes the email lane on at a deadline when its round never ends', async () => {
    await sql`DELETE FROM notifications`.execute(db);
    const leaseMs = 1500;
    // One connection: the round's second email waits for a turn the first, which never ends, holds.
    const email = heldEmail(1);
    const sender = createNotificationSender({
      db,
      log,
      clock: systemClock,
      channels: channelsOf({ email: email.channel }),
      links: { url: () => 'https://vigil.test/act' },
      publicUrl: 'https://vigil.test',
      batchSize: 2,
      leaseMs,
    });
    const alertId = await newAlert();
    await insertPage(alertId, 'email', 'hang-1@example.com', '1 minute');
    await insertPage(alertId, 'email', 'hang-2@example.com', '1 minute');
    const rounds: Promise<number>[] = [];
    try {
      rounds.push(sender.sendDue(new Date()));
      await waitFor(
        'the hanging round to claim',
        async () => (await countOf('email', 'sending')) === 2,
        5000,
      );
      await insertPage(alertId, 'email', 'later@example.com', '0 seconds');
      // Past the lane's deadline (a third of the lease), a round claims email again.
      await sleep(leaseMs / 3 + 300);
      rounds.push(sender.sendDue(new Date()));
      await waitFor(
        'a round to claim email after the lane deadline',
        async () => (await countOf('email', 'sending', 'later@example.com')) === 1,
        3000,
      );
    } finally {
      email.release();
      await Promise.all(rounds);
    }
    assert.equal(await countOf('email', 'sent'), 3);
  });
});

describe('the notifications queue', () => {
  it('sends an email falling due while the lane-holding round is still on the wire, without a wake', async () => {
    await sql`DELETE FROM notifications`.execute(db);
    const idleMs = 30_000;
    const email = heldEmail(2);
    const runner = createWorkRunner({ pool, clock: systemClock, log });
    const sender = createNotificationSender({
      db,
      log,
      clock: systemClock,
      channels: channelsOf({ email: email.channel }),
      links: { url: () => 'https://vigil.test/act' },
      publicUrl: 'https://vigil.test',
      signal: runner,
    });
    runner.register(sender.queue({ idleMs }));
    const alertId = await newAlert();
    // A round takes the lane for this one, whose send does not end while the test runs; the other loops
    // leave email out meanwhile.
    await insertPage(alertId, 'email', 'hang-1@example.com', '1 minute');
    // Due a second from now: no one wakes the queue for it.
    await insertPage(alertId, 'email', 'soon@example.com', '-1 second');
    const startedAt = performance.now();
    try {
      await runner.start();
      await waitFor(
        'the email due soon to be sent',
        async () => email.sent.includes('soon@example.com'),
        6000,
      );
      const tookMs = performance.now() - startedAt;
      assert.ok(tookMs < idleMs / 5, `sent after ${Math.round(tookMs)} ms`);
    } finally {
      email.release();
      await runner.stop();
    }
  });
});
