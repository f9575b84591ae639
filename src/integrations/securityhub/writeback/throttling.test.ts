import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { BatchUpdateFindingsCommandInput } from '@aws-sdk/client-securityhub';
import { sql } from 'kysely';
import type pg from 'pg';
import type { AlertsService } from '../../../alerts/service.js';
import { createDb, createPool, type Db } from '../../../db/database.js';
import { createLogger } from '../../../logger.js';
import { createTestDatabase } from '../../../testing/harness.js';
import {
  ACCOUNT,
  PRODUCT,
  insertCloses,
  insertHubIntegrations,
} from '../../../testing/securityhub-writeback.js';
import { ShiftedClock, type Clock } from '../../../work/clock.js';
import type { WorkQueueSpec } from '../../../work/runner.js';
import type { AwsAccess } from './aws.js';
import { MAX_FINDINGS_PER_REQUEST } from './batching.js';
import { createRateLimiter } from './rate-limit.js';
import { writebacksRepository } from './repository.js';
import { createWriteback } from './writeback.js';

/**
 * The write-back through a throttle (AWS-FACTS §4: 10 requests/s, burst 30, per account and region,
 * shared with every other caller). A throttled request's changes once each drew a backoff of their own,
 * so they came back one by one, each round sending the few that fell due: closing 1,000 findings after
 * an hour's throttle made 837 requests instead of 10. Nothing held the account's bucket meanwhile, so
 * Vigil kept sending into the throttle; and while changes backed off the sender looked every 50 ms.
 */

let pool: pg.Pool;
let db: Db;
let hub: string;
const clock = new ShiftedClock();
/** Security Hub throttles every request until then (the clock's time). */
let throttledUntil = 0;
/** The Retry-After its 429s carry, if any. */
let retryAfter: string | undefined;
const answers: { status: 200 | 429; ids: string[]; at: number }[] = [];

const aws = {
  async batchUpdate(_target: unknown, input: BatchUpdateFindingsCommandInput) {
    const ids = (input.FindingIdentifiers ?? []).map((f) => f.Id ?? '');
    const at = clock.now().getTime();
    if (at < throttledUntil) {
      answers.push({ status: 429, ids, at });
      // As the SDK throws BatchUpdateFindings' throttle.
      throw Object.assign(new Error('Rate exceeded'), {
        name: 'LimitExceededException',
        $metadata: { httpStatusCode: 429 },
        $response: {
          statusCode: 429,
          headers: retryAfter === undefined ? {} : { 'retry-after': retryAfter },
        },
      });
    }
    answers.push({ status: 200, ids, at });
    return { ProcessedFindings: input.FindingIdentifiers, UnprocessedFindings: [] };
  },
} as unknown as AwsAccess;

/** The aliases of the alerts raised to owner teams. */
const told: string[] = [];
const alerts = {
  async create(_caller: unknown, _id: string, alert: { alias?: string }) {
    told.push(alert.alias ?? '');
  },
} as unknown as AlertsService;

before(async () => {
  pool = createPool(await createTestDatabase({ migrated: true }), 6);
  db = createDb(pool);
  [hub] = (await insertHubIntegrations(db, ['Hub'])) as [string];
});

after(async () => {
  await db?.destroy();
});

beforeEach(async () => {
  await sql`DELETE FROM securityhub_writebacks`.execute(db);
  await sql`DELETE FROM securityhub_findings`.execute(db);
  await sql`DELETE FROM aws_rate_buckets`.execute(db);
  answers.length = 0;
  told.length = 0;
  retryAfter = undefined;
});

function queue(): WorkQueueSpec {
  return createWriteback({
    db,
    log: createLogger('silent'),
    aws,
    alerts,
    clock,
    signal: { wake() {} },
    // The defaults: from 1 s doubling up to 5 minutes.
    options: { baseDelayMs: 1000, maxDelayMs: 300_000 },
  }).queue();
}

/**
 * Runs the queue's rounds as the work runner does, but jumps the clock to a round's next due time
 * instead of sleeping, until the clock passes `untilMs`, nothing is left to do, or `maxRounds` ran.
 * Returns how many rounds ran.
 */
async function drive(
  spec: WorkQueueSpec,
  untilMs: number,
  maxRounds: number,
  beforeRound: () => Promise<void> = async () => {},
): Promise<number> {
  let rounds = 0;
  while (clock.now().getTime() < untilMs && rounds < maxRounds) {
    await beforeRound();
    const round = await spec.round(clock.now());
    rounds++;
    if (round.more) continue;
    if (!round.nextDueAt) break;
    clock.advance(Math.max(0, round.nextDueAt.getTime() - clock.now().getTime()));
  }
  return rounds;
}

/**
 * The findings `<prefix>-<i>` of insertCloses' changes, with written_back remembering their RESOLVED as
 * the recorder does when it records a close.
 */
async function insertClosedFindings(prefix: string, count: number): Promise<void> {
  await sql`
    INSERT INTO securityhub_findings (integration_id, finding_key, product_arn, finding_id, written_back)
    SELECT ${hub}, ${prefix} || '-' || i, ${PRODUCT}, ${prefix} || '-' || i,
      ${JSON.stringify({ workflowStatus: 'RESOLVED' })}::jsonb
    FROM generate_series(1, ${count}::int) AS i`.execute(db);
}

/** How many of the findings `<prefix>-<i>` written_back still takes a RESOLVED for Vigil's echo. */
async function rememberedResolved(prefix: string): Promise<number> {
  const rows = await sql<{ count: string }>`
    SELECT count(*) FROM securityhub_findings
    WHERE finding_key LIKE ${`${prefix}-%`} AND written_back ->> 'workflowStatus' = 'RESOLVED'`.execute(db);
  return Number(rows.rows[0]?.count);
}

/** Other callers on the account and region keep its bucket held (as another process's 429s do). */
const othersThrottled = async () => {
  await sql`
    INSERT INTO aws_rate_buckets (key, tokens, updated_at) VALUES (${`${ACCOUNT}:us-east-1`}, -1000, ${clock.now()})
    ON CONFLICT (key) DO UPDATE SET tokens = -1000, updated_at = ${clock.now()}`.execute(db);
};

const sentOk = () => answers.filter((a) => a.status === 200);
const throttled = () => answers.filter((a) => a.status === 429);

describe('a throttle', () => {
  it('is ridden out without sending into it, and the changes then go in as few requests as before', async () => {
    const start = clock.now().getTime();
    await insertCloses(db, hub, 'bulk', 250, new Date(start - 2000));
    throttledUntil = start + 60_000;
    const rounds = await drive(queue(), start + 10 * 60_000, 2000);
    const ids = new Set(sentOk().flatMap((a) => a.ids));
    assert.equal(ids.size, 250, `all applied after ${rounds} rounds`);
    // Backing off from 1 s doubling: a few tries in the minute's throttle, each holding every request to
    // the account and region back; not hundreds of requests AWS refuses.
    assert.ok(
      throttled().length <= 10,
      `${throttled().length} requests throttled: ${throttled()
        .slice(0, 12)
        .map((a) => `${a.ids.length}@${a.at - start}ms`)
        .join(', ')}...`,
    );
    assert.ok(
      sentOk().length <= Math.ceil(250 / MAX_FINDINGS_PER_REQUEST) + 1,
      `${sentOk().length} requests after the throttle: ${sentOk()
        .map((a) => a.ids.length)
        .join(', ')}`,
    );
  });

  it('lets the sender sleep through the backoff instead of looking every few ms', async () => {
    const start = clock.now().getTime();
    await insertCloses(db, hub, 'one', 1, new Date(start - 2000));
    throttledUntil = start + 10 * 60_000;
    const stretch = start + 10 * 60_000;
    const rounds = await drive(queue(), stretch, 300);
    assert.ok(
      clock.now().getTime() >= stretch,
      `${rounds} rounds made only ${Math.round((clock.now().getTime() - start) / 1000)} s of the 600 s pass`,
    );
    // One try after each backoff (1 s, 2 s, ... 256 s, then 5 minutes), a round to send and one to find
    // nothing due: a handful of rounds in 10 minutes, where looking every 50 ms made 12,000.
    assert.ok(throttled().length <= 12, `${throttled().length} tries`);
    assert.ok(rounds <= 2 * throttled().length + 4, `${rounds} rounds for ${throttled().length} tries`);
  });

  it('sends the changes it held back with those it retried, when AWS said how long to wait', async () => {
    const start = clock.now().getTime();
    // Long done filling (batching.ts): the tail of 50 goes in the first round too.
    await insertCloses(db, hub, 'asked', 150, new Date(start - 10_000));
    // A Retry-After longer than the backoff: the throttled request's changes and those held back behind
    // it must fall due at one time, not a few ms apart, or they go again as three requests, not two.
    throttledUntil = start + 45_000;
    retryAfter = '30';
    const spec = queue();
    // The first round: one request throttled, the other held back behind it.
    await drive(spec, start + 10 * 60_000, 1);
    const due = await sql<{ notBefore: Date }>`
      SELECT DISTINCT not_before AS "notBefore" FROM securityhub_writebacks WHERE status = 'pending'`.execute(
      db,
    );
    assert.equal(
      due.rows.length,
      1,
      `due at ${due.rows.map((r) => r.notBefore.getTime() - start).join(', ')} ms`,
    );
    const rounds = await drive(spec, start + 10 * 60_000, 200);
    assert.equal(new Set(sentOk().flatMap((a) => a.ids)).size, 150, `all applied after ${rounds} rounds`);
    assert.equal(
      sentOk().length,
      Math.ceil(150 / MAX_FINDINGS_PER_REQUEST),
      `requests after the throttle: ${sentOk()
        .map((a) => `${a.ids.length}@${a.at - start}ms`)
        .join(', ')}`,
    );
  });

  it('gives up, after a day, on changes it only ever held back, and tells the owner team', async () => {
    const start = clock.now().getTime();
    // A minute short of a day old: given up on at the first look past the minute.
    await insertCloses(db, hub, 'old', 150, new Date(start - 24 * 3600_000 + 60_000));
    await insertClosedFindings('old', 150);
    throttledUntil = Number.POSITIVE_INFINITY;
    // Other callers on the account and region are throttled too: no request of these changes goes at
    // all, every round holds them back.
    await drive(queue(), start + 10 * 60_000, 100, othersThrottled);
    assert.equal(answers.length, 0, 'no request was made');
    const statuses = await sql<{ status: string; count: string }>`
      SELECT status, count(*) FROM securityhub_writebacks GROUP BY status`.execute(db);
    assert.deepEqual(
      statuses.rows.map((r) => [r.status, Number(r.count)]),
      [['failed', 150]],
    );
    // Once per request given up on: the alias keeps them one open alert.
    assert.ok(told.length > 0, 'the owner team is told');
    assert.deepEqual(new Set(told), new Set([`securityhub-writeback-failing-${hub}`]));
    // Never sent: a person resolving the findings in Security Hub later is no echo of Vigil's.
    assert.equal(await rememberedResolved('old'), 0, 'written_back forgets the RESOLVED never sent');
  });

  it('forgets, giving up after a day held back, the value of a change whose one request was throttled', async () => {
    const start = clock.now().getTime();
    await insertCloses(db, hub, 'once', 1, new Date(start - 24 * 3600_000 + 60_000));
    await insertClosedFindings('once', 1);
    throttledUntil = Number.POSITIVE_INFINITY;
    // Sent once, and answered 429: AWS did not apply it.
    await drive(queue(), start + 10 * 60_000, 1);
    assert.deepEqual(
      answers.map((a) => a.status),
      [429],
    );
    // Then held back by the others' throttle until it is given up on.
    await drive(queue(), start + 10 * 60_000, 100, othersThrottled);
    assert.equal(answers.length, 1, 'no other request was made');
    const rows = await sql<{ status: string; attempts: number; last_error: string }>`
      SELECT status, attempts, last_error FROM securityhub_writebacks`.execute(db);
    assert.equal(rows.rows[0]?.status, 'failed');
    assert.equal(rows.rows[0]?.attempts, 1, 'one request was made');
    // What AWS answered stays readable, as the reason it cannot have landed.
    assert.match(rows.rows[0]?.last_error ?? '', /^LimitExceededException: .*held these back/);
    assert.equal(await rememberedResolved('once'), 0, 'written_back forgets the RESOLVED AWS refused');
  });
});

describe('a change ended unsent', () => {
  /** Records, as the recorder does, a later close of finding `key`: written_back remembers RESOLVED again. */
  async function recordCloseAgain(key: string): Promise<void> {
    await sql`
      UPDATE securityhub_findings SET written_back = ${JSON.stringify({ workflowStatus: 'RESOLVED' })}::jsonb
      WHERE integration_id = ${hub} AND finding_key = ${key}`.execute(db);
    await sql`
      INSERT INTO securityhub_writebacks
        (integration_id, finding_key, product_arn, finding_id, field, value, event_id, seq, status,
         not_before, created_at, updated_at)
      VALUES (${hub}, ${key}, ${PRODUCT}, ${key}, 'workflow', ${JSON.stringify({ Status: 'RESOLVED' })}::jsonb,
        gen_random_uuid(), 1000, 'pending', ${clock.now()}, ${clock.now()}, ${clock.now()})`.execute(db);
  }

  /** A value set in Security Hub ends the finding's waiting changes (finding-sync.ts). */
  async function setInSecurityHub(key: string): Promise<void> {
    await db
      .transaction()
      .execute((tx) =>
        writebacksRepository.supersedeUnsent(
          tx,
          { integrationId: hub, findingKey: key, fields: ['workflow'] },
          'a newer value was set in Security Hub',
          clock.now(),
        ),
      );
  }

  it('is not read as perhaps landed, once its one request was throttled, when the next change of its value ends', async () => {
    const start = clock.now().getTime();
    await insertCloses(db, hub, 'refused', 1, new Date(start - 10_000));
    await insertClosedFindings('refused', 1);
    throttledUntil = Number.POSITIVE_INFINITY;
    await drive(queue(), start + 10 * 60_000, 1);
    assert.deepEqual(
      answers.map((a) => a.status),
      [429],
    );
    // Ended while it backs off: never applied, its value is forgotten.
    await setInSecurityHub('refused-1');
    assert.equal(await rememberedResolved('refused'), 0);
    // Another close, ended unsent too: the first, ended within the echo window, is no echo still to come.
    await recordCloseAgain('refused-1');
    await setInSecurityHub('refused-1');
    assert.equal(await rememberedResolved('refused'), 0, 'written_back forgets the RESOLVED never applied');
  });

  it('is not counted as a request, once claimed and found turned off, when the next change of its value ends', async () => {
    const start = clock.now().getTime();
    await insertCloses(db, hub, 'off', 1, new Date(start - 10_000));
    await insertClosedFindings('off', 1);
    await sql`UPDATE integrations SET enabled = false WHERE id = ${hub}`.execute(db);
    try {
      await drive(queue(), start + 10 * 60_000, 1);
    } finally {
      await sql`UPDATE integrations SET enabled = true WHERE id = ${hub}`.execute(db);
    }
    assert.equal(answers.length, 0, 'nothing was sent');
    const rows = await sql<{ status: string; attempts: number }>`
      SELECT status, attempts FROM securityhub_writebacks`.execute(db);
    assert.deepEqual(rows.rows, [{ status: 'superseded', attempts: 0 }]);
    assert.equal(await rememberedResolved('off'), 0);
    await recordCloseAgain('off-1');
    await setInSecurityHub('off-1');
    assert.equal(await rememberedResolved('off'), 0, 'written_back forgets the RESOLVED never sent');
  });
});

describe("a throttle's hold", () => {
  it('ends, as a request held back by it reads it, at the very ms it was held until', async () => {
    // The changes held back then fall due with the throttled request's, which fall due at that ms.
    const t0 = Date.parse('2026-11-27T10:00:00Z');
    let at = t0;
    const fixed: Clock = { now: () => new Date(at), fromSystemTime: (t) => t, toSystemTime: (t) => t };
    const limiter = createRateLimiter({ db, clock: fixed, limit: { ratePerSecond: 9, burst: 25 } });
    // Holds and reads whose floating-point wait comes out a hair over the hold's end.
    for (const [holdMs, readAfterMs] of [
      [30_000, 7],
      [30_001, 7],
      [30_001, 5003],
    ] as const) {
      await sql`DELETE FROM aws_rate_buckets`.execute(db);
      at = t0;
      await limiter.hold('123456789012:us-east-1', new Date(t0 + holdMs));
      at = t0 + readAfterMs;
      assert.deepEqual(await limiter.acquire('123456789012:us-east-1'), {
        taken: false,
        heldUntil: new Date(t0 + holdMs),
      });
    }
  });
});
