import assert from 'node:assert/strict';
import { createECDH, randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createLogger } from '../logger.js';
import { startTestServer, waitFor, type TestServer } from '../testing/harness.js';
import { textedPerson } from '../testing/texted-person.js';
import { ShiftedClock } from '../work/clock.js';
import type { DeliveryResult, NotificationChannel } from './channel.js';
import { createPushChannel } from './push/channel.js';
import { MAX_RETRY_AFTER_MS, RATE_LIMITED_FOR_AT_MOST_MS, rateLimitedDelayMs } from './sender.js';
import { createTwilioClient } from './twilio/client.js';
import { deliveryResultOf } from './twilio/result.js';

/**
 * A provider's Retry-After on a page to a person: Web Push and Twilio say it, their channels pass it on,
 * and the sender waits that long (bounded) before trying again. A rate-limited answer (429) spends none
 * of the message's attempts: it is tried again less and less often, said once on the alert's log, and
 * given up once it has been rate limited too long, all on the engine's clock.
 */

const log = createLogger('silent');
const HOUR = 3600_000;

/** A clock a day ahead of the system clock: an HTTP date in a Retry-After is read on the system clock. */
function dayAheadClock(): ShiftedClock {
  const clock = new ShiftedClock();
  clock.advance(24 * HOUR);
  return clock;
}

/** fetch that answers every request with `status`, `headers` and `body`. */
function answering(status: number, headers: Record<string, string>, body = '') {
  return async () => new Response(body, { status, headers });
}

describe('Twilio answers', () => {
  const settings = {
    accountSid: `AC${'2e'.repeat(16)}`,
    authToken: 'token',
    from: '+15005550006',
    apiUrl: 'https://api.twilio.example',
    publicUrl: 'https://vigil.example',
  };
  const busy = JSON.stringify({ code: 20429, message: 'Too Many Requests', status: 429 });
  const send = async (status: number, headers: Record<string, string>, body = busy) => {
    const client = createTwilioClient(settings, answering(status, headers, body), dayAheadClock());
    return deliveryResultOf(await client.sendSms('+14155550100', 'hello'));
  };

  it('a 429 is rate limited, with its Retry-After in seconds', async () => {
    const result = await send(429, { 'retry-after': '3600' });
    assert.equal(result.status, 'retry');
    assert.deepEqual(result.status === 'retry' ? [result.rateLimited, result.retryAfterMs] : [], [
      true,
      HOUR,
    ]);
  });

  it('a Retry-After as an HTTP date is read on the system clock', async () => {
    const at = new Date(Date.now() + 90_000).toUTCString();
    const result = await send(429, { 'retry-after': at });
    const ms = result.status === 'retry' ? result.retryAfterMs : undefined;
    assert.ok(ms !== undefined && ms > 80_000 && ms <= 90_000, `waits ${ms} ms for ${at}`);
  });

  it('a 429 without a readable Retry-After is still rate limited, with no wait of its own', async () => {
    for (const headers of [{}, { 'retry-after': 'soon' }] as Record<string, string>[]) {
      const result = await send(429, headers);
      assert.deepEqual(result, {
        status: 'retry',
        error: 'Twilio answered 429 (error 20429): Too Many Requests',
        rateLimited: true,
      });
    }
  });

  it('a 503 with a Retry-After is a failure to wait out, not a rate limit', async () => {
    const result = await send(503, { 'retry-after': '120' }, 'down');
    assert.deepEqual(result.status === 'retry' ? [result.rateLimited, result.retryAfterMs] : [], [
      undefined,
      120_000,
    ]);
  });
});

/** Every send by the stub SMS channel, by number; and what it answers next, by number (else sent). */
const sent = new Map<string, number>();
const script = new Map<string, DeliveryResult[]>();
const texts: NotificationChannel = {
  type: 'sms',
  async send(message) {
    const phone = message.to.address;
    sent.set(phone, (sent.get(phone) ?? 0) + 1);
    return script.get(phone)?.shift() ?? { status: 'sent', providerId: `sms-${randomUUID()}` };
  },
};

const run = randomUUID().slice(0, 8);
const clock = new ShiftedClock();
let server: TestServer;
let db: pg.Client;

before(async () => {
  server = await startTestServer({ engineIntervalMs: 100, channels: [texts], clock });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
});

after(async () => {
  await db?.end();
  await server?.stop();
});

interface Row {
  state: string;
  attempts: number;
  due_at: Date;
  last_error: string | null;
  rate_limited_since: Date | null;
}

async function rowOf(phone: string): Promise<Row> {
  const rows = await db.query<Row>(
    `SELECT state, attempts, due_at, last_error, rate_limited_since FROM notifications WHERE address = $1`,
    [phone],
  );
  assert.equal(rows.rows.length, 1);
  return rows.rows[0] as Row;
}

/** Pages the person texted at `phone`, answered by `answers` (then sent); resolves once the first is recorded. */
async function page(name: string, phone: string, answers: DeliveryResult[]): Promise<string> {
  script.set(phone, answers);
  const team = await textedPerson(server, db, { name, phone, run, afterMinutes: 0 });
  const created = await server.callOk('POST', '/v2/alerts', {
    message: `${name} ${run}`,
    responders: [{ type: 'team', name: team }],
  });
  await answered(phone, 1);
  return created.requestId as string;
}

/** Waits until the `n`-th send to `phone` is recorded (the message is no longer being sent). */
async function answered(phone: string, n: number): Promise<Row> {
  return waitFor(`send ${n} to ${phone} recorded`, async () => {
    if ((sent.get(phone) ?? 0) < n) return undefined;
    const row = await rowOf(phone);
    return row.state !== 'sending' ? row : undefined;
  });
}

async function logsOf(name: string): Promise<string[]> {
  const found = await db.query<{ log: string }>(
    `SELECT l.log FROM alert_logs l JOIN alerts a ON a.id = l.alert_id WHERE a.message = $1 ORDER BY l.created_at`,
    [`${name} ${run}`],
  );
  return found.rows.map((r) => r.log);
}

const limited = (retryAfterMs?: number): DeliveryResult => ({
  status: 'retry',
  error: 'Twilio answered 429 (error 20429): Too Many Requests',
  rateLimited: true,
  ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
});

/**
 * Moves the clock on to when the message to `phone` is due again and waits for that send to be recorded,
 * until it is no longer pending; the instants of the clock its sends were made at.
 */
async function followRetries(phone: string, atMost: number): Promise<number[]> {
  const at = [clock.now().getTime()];
  for (let n = 2; (await rowOf(phone)).state === 'pending'; n++) {
    assert.ok(n <= atMost, `more than ${atMost} requests to the provider`);
    const row = await rowOf(phone);
    clock.advance(Math.max(0, row.due_at.getTime() - clock.now().getTime()) + 1000);
    at.push(clock.now().getTime());
    await answered(phone, n);
  }
  return at;
}

describe('how long a rate-limited message waits', () => {
  it('grows with how long it has been limited, from 15 s to 15 min, never below the Retry-After', () => {
    const middle = () => 0.5;
    assert.equal(rateLimitedDelayMs(0, undefined, middle), 15_000);
    assert.equal(rateLimitedDelayMs(60_000, undefined, middle), 30_000);
    assert.equal(rateLimitedDelayMs(10 * 60_000, undefined, middle), 5 * 60_000);
    assert.equal(rateLimitedDelayMs(HOUR, undefined, middle), 15 * 60_000);
    assert.equal(rateLimitedDelayMs(0, 20 * 60_000, middle), 20 * 60_000);
    assert.equal(rateLimitedDelayMs(0, 100 * HOUR, middle), MAX_RETRY_AFTER_MS);
    // Jitter of ±20 %, so that pages limited together (a Twilio 429 is account-wide) spread out.
    assert.equal(
      rateLimitedDelayMs(0, undefined, () => 0),
      12_000,
    );
    assert.equal(
      rateLimitedDelayMs(HOUR, undefined, () => 0.99),
      1_076_400,
    );
  });
});

describe('a page the provider asks to wait for', () => {
  it('is not tried again before the Retry-After, nor counted as an attempt', async () => {
    const phone = '+14155550301';
    await page('Rhea', phone, [limited(HOUR)]);
    const row = await rowOf(phone);
    const waits = row.due_at.getTime() - clock.now().getTime();
    assert.equal(row.state, 'pending');
    assert.ok(waits > HOUR - 60_000, `tried again after ${waits} ms, not the hour asked`);
    assert.equal(row.attempts, 0, 'a 429 spends no attempt');
    // When it was first rate limited, on the engine's clock (a day ahead of the database's by now).
    const since = row.rate_limited_since?.getTime() ?? 0;
    assert.ok(
      Math.abs(since - clock.now().getTime()) < 60_000,
      `rate limited since ${row.rate_limited_since}`,
    );
    clock.advance(HOUR + 1000);
    assert.equal((await answered(phone, 2)).state, 'sent');
  });

  it('waits for a Retry-After on a failure too, counting the attempt', async () => {
    const phone = '+14155550302';
    await page('Remy', phone, [{ status: 'retry', error: '503 down', retryAfterMs: 10 * 60_000 }]);
    const row = await rowOf(phone);
    const waits = row.due_at.getTime() - clock.now().getTime();
    assert.ok(waits > 9 * 60_000, `tried again after ${waits} ms, not the 10 min asked`);
    assert.equal(row.attempts, 1);
    assert.equal(row.rate_limited_since, null, 'a 503 is no rate limit');
  });

  it('waits at most an hour, however long it is asked to', async () => {
    const phone = '+14155550303';
    await page('Rosa', phone, [limited(100 * HOUR)]);
    const waits = (await rowOf(phone)).due_at.getTime() - clock.now().getTime();
    assert.ok(waits <= MAX_RETRY_AFTER_MS && waits > MAX_RETRY_AFTER_MS - 60_000, `waits ${waits} ms`);
  });

  it('outlasts more 429s than it has attempts, said once, and is sent', async () => {
    const phone = '+14155550304';
    const answers = Array.from({ length: 10 }, () => limited());
    await page('Ravi', phone, answers);
    const at = await followRetries(phone, 11);
    assert.equal(at.length, 11);
    const row = await rowOf(phone);
    assert.equal(row.state, 'sent', `${row.state}: ${row.last_error}`);
    assert.equal(row.attempts, 1, 'only the send that went through is an attempt');
    const limitedLogs = (await logsOf('Ravi')).filter((l) => l.includes('rate limited'));
    assert.equal(limitedLogs.length, 1, limitedLogs.join('\n'));
    assert.match(limitedLogs[0] ?? '', /is rate limited by its provider \(not counted as an attempt\)/);
  });

  it('answered 429 for ever, is tried less and less often, and given up two hours after the first', async () => {
    const phone = '+14155550305';
    // Twilio's 429 comes without a Retry-After: the waits are all our own.
    await page(
      'Rudi',
      phone,
      Array.from({ length: 200 }, () => limited()),
    );
    const at = await followRetries(phone, 30);
    const row = await rowOf(phone);
    assert.equal(row.state, 'failed', `${row.state}: ${row.last_error}`);
    // No 429 spent an attempt: only the last claim, which gave it up, counts.
    assert.equal(row.attempts, 1);
    // Bounded: a score of requests over the two hours, not one every 15 s (400 and more).
    assert.ok(at.length >= 10 && at.length <= 30, `${at.length} requests to the provider`);
    const limitedFor = (at.at(-1) ?? 0) - (at[0] ?? 0);
    assert.ok(limitedFor > RATE_LIMITED_FOR_AT_MOST_MS, `given up after ${limitedFor} ms`);
    assert.ok(limitedFor <= RATE_LIMITED_FOR_AT_MOST_MS + 20 * 60_000, `given up after ${limitedFor} ms`);
    // The spacing grows: from 15 s or so at first to the cap of 15 min (±20 %) at the end.
    const gaps = at.slice(1).map((t, i) => t - (at[i] ?? 0));
    assert.ok((gaps[0] ?? 0) < 20_000, `first gap ${gaps[0]} ms`);
    assert.ok((gaps.at(-2) ?? 0) > 10 * 60_000, `gaps ${gaps.join(', ')} ms`);
    for (let i = 4; i < gaps.length; i++) {
      // After the first three (each 15 s ± 20 %), each wait is at least the one before less its jitter.
      assert.ok((gaps[i] ?? 0) >= (gaps[i - 1] ?? 0) * 0.66, `gaps ${gaps.join(', ')} ms`);
    }
    // One line when it was first limited, and one when it was given up: not one per try.
    const logs = (await logsOf('Rudi')).filter((l) => l.includes('rate limited'));
    assert.equal(logs.length, 2, logs.join('\n'));
    assert.match(logs[0] ?? '', /is rate limited by its provider/);
    assert.match(logs[1] ?? '', /failed \(gave up: still rate limited 2 h \d+ min after the first 429\)/);
  });

  it('counts the Retry-After waited out towards the two hours, on the engine clock only', async () => {
    const phone = '+14155550306';
    await page('Rory', phone, [limited(HOUR), limited(HOUR), limited(HOUR)]);
    assert.equal((await rowOf(phone)).state, 'pending');
    clock.advance(HOUR + 1000);
    assert.equal((await answered(phone, 2)).state, 'pending');
    clock.advance(HOUR + 1000);
    const row = await answered(phone, 3);
    assert.equal(row.state, 'failed', `${row.state}: ${row.last_error}`);
    const gaveUp = (await logsOf('Rory')).find((l) => l.includes('failed (gave up'));
    assert.match(gaveUp ?? '', /gave up: still rate limited 2 h 0 min after the first 429/);
  });
});

describe('a push service', () => {
  it('that answers 429 with a Retry-After gives a rate-limited retry with its wait', async () => {
    const user = await server.callOk('POST', '/v2/users', {
      username: `pia-${run}@example.com`,
      fullName: 'Pia',
      role: { name: 'User' },
    });
    const id = randomUUID();
    const contact = await db.query(
      `INSERT INTO contact_methods (user_id, method, address) VALUES ($1, 'mobile', $2) RETURNING id`,
      [user.data.id, id],
    );
    const ecdh = createECDH('prime256v1');
    ecdh.generateKeys();
    await db.query(
      `INSERT INTO push_subscriptions (id, user_id, endpoint, p256dh, auth, device_name, contact_method_id)
       VALUES ($1, $2, 'https://fcm.googleapis.com/fcm/send/vigil-test-1', $3, $4, 'Pia''s phone', $5)`,
      [
        id,
        user.data.id,
        ecdh.getPublicKey().toString('base64url'),
        randomBytes(16).toString('base64url'),
        contact.rows[0].id,
      ],
    );
    const at = new Date(Date.now() + 30 * 60_000).toUTCString();
    const cases: [number, Record<string, string>, boolean | undefined, number | undefined][] = [
      [429, { 'retry-after': '3600' }, true, HOUR],
      [429, { 'retry-after': 'later' }, true, undefined],
      [503, { 'retry-after': '120' }, undefined, 120_000],
    ];
    for (const [status, headers, rateLimited, waits] of cases) {
      const channel = createPushChannel({
        db: server.app.context.db,
        log,
        config: server.app.context.config,
        fetch: answering(status, headers, 'slow down'),
        clock,
      });
      const result = await channel.sendNotice!({ address: id, name: 'Pia' }, { subject: 'Test', text: 'hi' });
      assert.equal(result.status, 'retry', JSON.stringify(result));
      if (result.status !== 'retry') continue;
      assert.deepEqual(
        [result.rateLimited, result.retryAfterMs],
        [rateLimited, waits],
        `${status} ${headers['retry-after']}`,
      );
    }
    // An HTTP date, on the system clock (the test's clock is hours ahead by now).
    const channel = createPushChannel({
      db: server.app.context.db,
      log,
      config: server.app.context.config,
      fetch: answering(429, { 'retry-after': at }),
      clock,
    });
    const result = await channel.sendNotice!({ address: id, name: 'Pia' }, { subject: 'Test', text: 'hi' });
    const ms = result.status === 'retry' ? result.retryAfterMs : undefined;
    assert.ok(ms !== undefined && ms > 29 * 60_000 && ms <= 30 * 60_000, `waits ${ms} ms for ${at}`);
  });
});

describe('a limited period ends at any answer other than a 429', () => {
  const failing = (retryAfterMs: number): DeliveryResult => ({
    status: 'retry',
    error: 'Twilio answered 503: Service Unavailable',
    retryAfterMs,
  });

  /** Moves the clock on to when the message to `phone` is due again; its `n`-th send, recorded. */
  async function tryAgain(phone: string, n: number): Promise<Row> {
    return (await tryAgainFrom(phone, n)).row;
  }

  /** As tryAgain, with the clock's time before the send: the clock also moves on with real time. */
  async function tryAgainFrom(phone: string, n: number): Promise<{ row: Row; from: number }> {
    clock.advance((await rowOf(phone)).due_at.getTime() - clock.now().getTime() + 1000);
    const from = clock.now().getTime();
    return { row: await answered(phone, n), from };
  }

  it('a 429 after a 503 starts a new period: backed off from 15 s and said again', async () => {
    const phone = '+14155550307';
    // 429, then a 503 asking for an hour (an attempt), then 429s again, then sent.
    await page('Raya', phone, [limited(), failing(HOUR), limited(), limited()]);
    const firstSince = (await rowOf(phone)).rate_limited_since;
    assert.notEqual(firstSince, null);
    const afterFailure = await tryAgain(phone, 2);
    assert.equal(afterFailure.rate_limited_since, null, 'the 503 ended the limited period');
    assert.equal(afterFailure.attempts, 1, 'the 503 is an attempt');
    const { row: limitedAgain, from } = await tryAgainFrom(phone, 3);
    // Sent between `from` and now, on a clock that moves with real time too (a busy machine's seconds):
    // its wait lies between these two.
    const longest = limitedAgain.due_at.getTime() - from;
    const shortest = limitedAgain.due_at.getTime() - clock.now().getTime();
    // Limited for an hour and more since the first 429, it would wait the 15 min cap: a new period starts
    // at 15 s (±20 %).
    assert.ok(longest >= 12_000 && shortest <= 18_000, `tried again after ${shortest}-${longest} ms`);
    assert.ok(
      (limitedAgain.rate_limited_since?.getTime() ?? 0) > (firstSince?.getTime() ?? 0) + HOUR,
      `rate limited since ${limitedAgain.rate_limited_since}, not the first period's ${firstSince}`,
    );
    assert.equal((await tryAgain(phone, 4)).state, 'pending');
    const row = await tryAgain(phone, 5);
    assert.equal(row.state, 'sent', `${row.state}: ${row.last_error}`);
    assert.equal(row.rate_limited_since, null);
    const logs = (await logsOf('Raya')).filter((l) => l.includes('rate limited'));
    assert.equal(logs.length, 2, logs.join('\n'));
    for (const line of logs)
      assert.match(line, /is rate limited by its provider \(not counted as an attempt\)/);
  });

  it('is not given up at once when a 429 comes two hours after a 429 that 503s followed', async () => {
    const phone = '+14155550308';
    await page('Reza', phone, [limited(), failing(HOUR), failing(HOUR), limited()]);
    const at = await followRetries(phone, 5);
    assert.ok((at[3] ?? 0) - (at[0] ?? 0) > RATE_LIMITED_FOR_AT_MOST_MS, `requests at ${at.join(', ')}`);
    const row = await rowOf(phone);
    assert.equal(row.state, 'sent', `${row.state}: ${row.last_error}`);
    assert.equal(row.attempts, 3, 'two 503s and the send that went through');
    const logs = await logsOf('Reza');
    assert.equal(logs.filter((l) => l.includes('gave up')).length, 0, logs.join('\n'));
    assert.equal(
      logs.filter((l) => l.includes('is rate limited by its provider')).length,
      2,
      logs.join('\n'),
    );
  });

  it("a throttle's wait keeps the period: nothing was asked of the provider", async () => {
    const phone = '+14155550309';
    await page('Rina', phone, [limited()]);
    const first = await rowOf(phone);
    const ofAlert = async (message: string): Promise<Row | undefined> => {
      const rows = await db.query<Row>(
        `SELECT n.state, n.attempts, n.due_at, n.last_error, n.rate_limited_since
         FROM notifications n JOIN alerts a ON a.id = n.alert_id WHERE a.message = $1`,
        [message],
      );
      return rows.rows[0];
    };
    // A second page to the number goes at once (a 429 is no send to the throttle's count)...
    await server.callOk('POST', '/v2/alerts', {
      message: `Rina again ${run}`,
      responders: [{ type: 'team', name: `Rina ${run}` }],
    });
    await waitFor('the second page sent', async () => (await ofAlert(`Rina again ${run}`))?.state === 'sent');
    // ... so the first, due 15 s later, waits its turn (one text a minute to one number).
    clock.advance(first.due_at.getTime() - clock.now().getTime() + 1000);
    const waited = await waitFor('the first page to wait its turn', async () => {
      const row = await ofAlert(`Rina ${run}`);
      return row?.state === 'pending' && row.last_error?.startsWith('throttled:') ? row : undefined;
    });
    assert.equal(sent.get(phone), 2, 'the wait asked nothing of the provider');
    assert.deepEqual(waited.rate_limited_since, first.rate_limited_since);
  });
});
