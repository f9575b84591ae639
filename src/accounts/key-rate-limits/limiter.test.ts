import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createDb, createPool, type Db } from '../../db/database.js';
import { createTestDatabase } from '../../testing/harness.js';
import { ShiftedClock, systemClock, type Clock } from '../../work/clock.js';
import { requestDomainOf } from './domains.js';
import { createKeyRateLimiter, timeOf, type KeyRateLimit } from './limiter.js';

/**
 * The API keys' request rate limit on the real PostgreSQL, on a clock the test sets: a burst goes through
 * at once, the rest at the steady rate, per key and per domain, and processes side by side (two limiters
 * on two pools) count against the same limit, however their requests interleave.
 */

let db: Db;
let otherDb: Db;
let at = new Date('2026-12-07T10:00:00Z');
const clock: Clock = { now: () => at, fromSystemTime: (t) => t, toSystemTime: (t) => t };
const advance = (ms: number) => (at = new Date(at.getTime() + ms));

// 60 a minute: one a second, 3 at once.
const LIMIT: KeyRateLimit = { perMinute: 60, burst: 3 };

before(async () => {
  const url = await createTestDatabase({ migrated: true });
  db = createDb(createPool(url, 10));
  otherDb = createDb(createPool(url, 10));
});

after(async () => {
  await db?.destroy();
  await otherDb?.destroy();
});

async function takeMany(take: () => Promise<{ allowed: boolean }>, count: number): Promise<number> {
  let allowed = 0;
  for (let i = 0; i < count; i++) if ((await take()).allowed) allowed++;
  return allowed;
}

describe('the request rate limit of a key', () => {
  it('lets the burst through at once, then one request per interval, and says when to retry', async () => {
    const limiter = createKeyRateLimiter({ db, clock, limit: LIMIT });
    const key = randomUUID();
    assert.equal(await takeMany(() => limiter.take(key, 'alert'), 3), 3);
    assert.deepEqual(await limiter.take(key, 'alert'), { allowed: false, retryAfterSeconds: 1 });
    advance(999);
    assert.equal((await limiter.take(key, 'alert')).allowed, false, 'a millisecond early');
    advance(1);
    assert.equal((await limiter.take(key, 'alert')).allowed, true, 'on the interval');
    assert.equal((await limiter.take(key, 'alert')).allowed, false);
    // A pause fills the burst again, never beyond it.
    advance(60_000);
    assert.equal(await takeMany(() => limiter.take(key, 'alert'), 5), 3);
  });

  it('says how long until the next request fits, a slow limit in whole seconds', async () => {
    const limiter = createKeyRateLimiter({ db, clock, limit: { perMinute: 2, burst: 1 } });
    const key = randomUUID();
    assert.equal((await limiter.take(key, 'heartbeat')).allowed, true);
    assert.deepEqual(await limiter.take(key, 'heartbeat'), { allowed: false, retryAfterSeconds: 30 });
    advance(10_500);
    assert.deepEqual(await limiter.take(key, 'heartbeat'), { allowed: false, retryAfterSeconds: 20 });
  });

  it('counts each key and each domain on its own', async () => {
    const limiter = createKeyRateLimiter({ db, clock, limit: LIMIT });
    const [first, second] = [randomUUID(), randomUUID()];
    assert.equal(await takeMany(() => limiter.take(first, 'alert'), 4), 3);
    assert.equal(await takeMany(() => limiter.take(first, 'heartbeat'), 4), 3);
    assert.equal(await takeMany(() => limiter.take(second, 'alert'), 4), 3);
  });

  it('counts the requests of processes side by side against one limit, sent at the same instant', async () => {
    const limit: KeyRateLimit = { perMinute: 600, burst: 20 };
    const one = createKeyRateLimiter({ db, clock, limit });
    const two = createKeyRateLimiter({ db: otherDb, clock, limit });
    const key = randomUUID();
    const verdicts = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 === 0 ? one : two).take(key, 'alert')),
    );
    assert.equal(verdicts.filter((v) => v.allowed).length, 20);
  });

  it("by default counts on PostgreSQL's clock for the system clock, on any other Clock (a test's) on that", () => {
    assert.equal(timeOf(systemClock), 'database');
    assert.equal(timeOf(new ShiftedClock()), 'clock');
    assert.equal(timeOf(clock), 'clock');
    assert.equal(timeOf(clock, 'database'), 'database');
    assert.equal(timeOf(systemClock, 'clock'), 'clock');
  });

  it("counts on PostgreSQL's clock when told, so a process whose clock runs ahead holds no one back", async () => {
    const limit: KeyRateLimit = { perMinute: 60, burst: 2 };
    const ahead = createKeyRateLimiter({
      db,
      clock: { ...systemClock, now: () => new Date(Date.now() + 10_000) },
      limit,
      time: 'database',
    });
    const right = createKeyRateLimiter({ db: otherDb, clock: systemClock, limit });
    const key = randomUUID();
    assert.equal((await ahead.take(key, 'alert')).allowed, true);
    // On the processes' own clocks the one ahead would have pushed the key's standing 10 s on.
    assert.equal((await right.take(key, 'alert')).allowed, true);
    const refused = await right.take(key, 'alert');
    assert.equal(refused.allowed, false);
    assert.ok(!refused.allowed && refused.retryAfterSeconds >= 1 && refused.retryAfterSeconds <= 2);
  });

  it('adds nothing for a clock behind the one that last counted (another process)', async () => {
    const limiter = createKeyRateLimiter({ db, clock, limit: LIMIT });
    const key = randomUUID();
    assert.equal(await takeMany(() => limiter.take(key, 'alert'), 3), 3);
    const behind = createKeyRateLimiter({
      db,
      clock: { ...clock, now: () => new Date(at.getTime() - 5_000) },
      limit: LIMIT,
    });
    assert.equal((await behind.take(key, 'alert')).allowed, false);
  });
});

describe('the domain of a request', () => {
  const cases: [method: string, route: string, domain: ReturnType<typeof requestDomainOf>][] = [
    ['POST', '/v2/alerts', 'alert'],
    ['POST', '/v2/alerts/', 'alert'],
    ['GET', '/v2/alerts', 'search'],
    ['GET', '/v2/alerts/', 'search'],
    ['GET', '/v2/alerts/count', 'search'],
    ['GET', '/v2/alerts/:identifier', 'alert'],
    ['POST', '/v2/alerts/:identifier/acknowledge', 'alert'],
    ['POST', '/v2/bulk/alerts/close', 'alert'],
    ['GET', '/v2/alerts/saved-searches', 'alert'],
    ['GET', '/v2/users', 'search'],
    ['POST', '/v2/users', 'configuration'],
    ['GET', '/v2/heartbeats/:heartbeatName/ping', 'heartbeat'],
    ['POST', '/v1/incidents/create', 'incident'],
    ['GET', '/v2/schedules/:identifier/on-calls', 'oncall'],
    ['GET', '/v2/schedules/on-calls/:userIdentifier.ics', 'oncall'],
    ['GET', '/v2/schedules/:identifier/timeline', 'configuration'],
    ['GET', '/v2/alertsomething', 'configuration'],
    ['GET', '/v2/teams', 'configuration'],
  ];
  for (const [method, route, domain] of cases) {
    it(`${method} ${route} is ${domain}`, () => assert.equal(requestDomainOf(method, route), domain));
  }
});
