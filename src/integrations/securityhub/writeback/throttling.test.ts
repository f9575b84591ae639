import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { BatchUpdateFindingsCommandInput } from '@aws-sdk/client-securityhub';
import { sql } from 'kysely';
import type pg from 'pg';
import type { AlertsService } from '../../../alerts/service.js';
import { createDb, createPool, type Db } from '../../../db/database.js';
import { createLogger } from '../../../logger.js';
import { createTestDatabase } from '../../../testing/harness.js';
import { insertHubIntegrations, PRODUCT } from '../../../testing/securityhub-writeback.js';
import { ShiftedClock } from '../../../work/clock.js';
import type { WorkQueueSpec } from '../../../work/runner.js';
import type { AwsAccess } from './aws.js';
import { MAX_FINDINGS_PER_REQUEST } from './batching.js';
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
      });
    }
    answers.push({ status: 200, ids, at });
    return { ProcessedFindings: input.FindingIdentifiers, UnprocessedFindings: [] };
  },
} as unknown as AwsAccess;

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
  await sql`DELETE FROM aws_rate_buckets`.execute(db);
  answers.length = 0;
});

/** `count` closes of findings `<prefix>-<i>`, all recorded at `createdAt` (gathered by now). */
async function closes(prefix: string, count: number, createdAt: Date): Promise<void> {
  await sql`
    INSERT INTO securityhub_writebacks
      (integration_id, finding_key, product_arn, finding_id, field, value, event_id, seq, status,
       not_before, created_at, updated_at)
    SELECT ${hub}, ${prefix} || '-' || i, ${PRODUCT}, ${prefix} || '-' || i, 'workflow',
      ${JSON.stringify({ Status: 'RESOLVED' })}::jsonb, gen_random_uuid(), i, 'pending',
      ${createdAt}, ${createdAt}, ${createdAt}
    FROM generate_series(1, ${count}::int) AS i`.execute(db);
}

function queue(): WorkQueueSpec {
  return createWriteback({
    db,
    log: createLogger('silent'),
    aws,
    alerts: {} as AlertsService,
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
async function drive(spec: WorkQueueSpec, untilMs: number, maxRounds: number): Promise<number> {
  let rounds = 0;
  while (clock.now().getTime() < untilMs && rounds < maxRounds) {
    const round = await spec.round(clock.now());
    rounds++;
    if (round.more) continue;
    if (!round.nextDueAt) break;
    clock.advance(Math.max(0, round.nextDueAt.getTime() - clock.now().getTime()));
  }
  return rounds;
}

const sentOk = () => answers.filter((a) => a.status === 200);
const throttled = () => answers.filter((a) => a.status === 429);

describe('a throttle', () => {
  it('is ridden out without sending into it, and the changes then go in as few requests as before', async () => {
    const start = clock.now().getTime();
    await closes('bulk', 250, new Date(start - 2000));
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
    await closes('one', 1, new Date(start - 2000));
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
});
