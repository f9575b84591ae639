import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { BatchUpdateFindingsCommandInput } from '@aws-sdk/client-securityhub';
import { sql } from 'kysely';
import type pg from 'pg';
import type { AlertsService } from '../../../alerts/service.js';
import { createDb, createPool, type Db } from '../../../db/database.js';
import { createLogger } from '../../../logger.js';
import { createTestDatabase } from '../../../testing/harness.js';
import { insertCloses, insertHubIntegrations, ROLE } from '../../../testing/securityhub-writeback.js';
import { ShiftedClock } from '../../../work/clock.js';
import { accountOf, type AwsAccess, type RoleTarget } from './aws.js';
import { FILLING_MAX_WAIT_MS, gatherCutoffs } from './batching.js';
import { writebacksRepository } from './repository.js';
import { createWriteback } from './writeback.js';

/**
 * One integration's backlog must not hold up another's write-back. The claim took the oldest changes of
 * all integrations together, up to 1,000, and the round sent their requests one after another: with an
 * organization closing thousands of findings, another organization's acknowledgement, to another AWS
 * account, waited behind every one of them (1,000 requests at 9 a second: minutes).
 */

const OTHER_ROLE = 'arn:aws:iam::210987654321:role/VigilSecurityHubRoleOther';

let pool: pg.Pool;
let db: Db;
let busy: string;
let quiet: string;
const clock = new ShiftedClock();
/** The account each BatchUpdateFindings request went to, in the order Security Hub received them. */
const received: string[] = [];

const aws = {
  async batchUpdate(target: RoleTarget, input: BatchUpdateFindingsCommandInput) {
    received.push(accountOf(target.roleArn));
    // AssumeRole and BatchUpdateFindings take a while: the busy account's requests queue behind it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { ProcessedFindings: input.FindingIdentifiers, UnprocessedFindings: [] };
  },
} as unknown as AwsAccess;

before(async () => {
  pool = createPool(await createTestDatabase({ migrated: true }), 6);
  db = createDb(pool);
  [busy, quiet] = (await insertHubIntegrations(db, ['Busy', 'Quiet'])) as [string, string];
  await sql`
    UPDATE integrations SET settings = settings || ${JSON.stringify({ roleArn: OTHER_ROLE })}::jsonb
    WHERE id = ${quiet}`.execute(db);
});

after(async () => {
  await db?.destroy();
});

/** 2,000 closes of the busy integration, then one of the quiet one's, its alert event the latest. */
async function backlogThenOne(at: Date): Promise<void> {
  await insertCloses(db, busy, 'busy', 2000, at);
  await insertCloses(db, quiet, 'quiet', 1, at);
  await sql`UPDATE securityhub_writebacks SET seq = 1000000 WHERE integration_id = ${quiet}`.execute(db);
}

beforeEach(async () => {
  await sql`DELETE FROM securityhub_writebacks`.execute(db);
  await sql`DELETE FROM aws_rate_buckets`.execute(db);
  received.length = 0;
});

describe('an integration behind another one’s backlog', () => {
  it('has its change in the first claim', async () => {
    const t0 = clock.now();
    await backlogThenOne(t0);
    const now = new Date(t0.getTime() + FILLING_MAX_WAIT_MS + 1000);
    const claimed = await db.transaction().execute((tx) =>
      writebacksRepository.claimDue(tx, {
        now,
        leaseUntil: new Date(now.getTime() + 30_000),
        ...gatherCutoffs(now),
        eventsInFlight: false,
        limit: 1000,
        claimId: randomUUID(),
      }),
    );
    assert.equal(claimed.length, 1000);
    assert.equal(claimed.filter((c) => c.integrationId === quiet).length, 1);
    // The busy integration's oldest, in order: its turn is taken from its oldest change on.
    const busyIds = claimed
      .filter((c) => c.integrationId === busy)
      .map((c) => Number(c.id))
      .sort((a, b) => a - b);
    const oldest = await sql<{ id: string }>`
      SELECT id FROM securityhub_writebacks WHERE integration_id = ${busy} ORDER BY id LIMIT 999`.execute(db);
    assert.deepEqual(
      busyIds,
      oldest.rows.map((r) => Number(r.id)),
    );
  });

  it('has its request among the first that Security Hub receives', async () => {
    const t0 = clock.now();
    await backlogThenOne(t0);
    clock.advance(FILLING_MAX_WAIT_MS + 1000);
    const queue = createWriteback({
      db,
      log: createLogger('silent'),
      aws,
      alerts: {} as AlertsService,
      clock,
      signal: { wake() {} },
    }).queue();
    const round = await queue.round(clock.now());
    assert.equal(round.more, true);
    const other = accountOf(OTHER_ROLE);
    assert.notEqual(accountOf(ROLE), other);
    // Its lane starts beside the busy one's, though its own AssumeRole and bucket may let a few of the
    // busy lane's requests out first on a loaded machine; behind the busy lane it would be the last.
    const firstHalf = Math.floor(received.length / 2);
    assert.ok(
      received.slice(0, firstHalf).includes(other),
      `the other account's request was not among the first ${firstHalf} of ${received.length}: ${received.join(', ')}`,
    );
  });
});
