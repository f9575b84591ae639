import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { BatchUpdateFindingsCommandInput } from '@aws-sdk/client-securityhub';
import { sql } from 'kysely';
import type { AlertsService } from '../../../alerts/service.js';
import { createDb, createPool, type Db } from '../../../db/database.js';
import { createLogger } from '../../../logger.js';
import { createTestDatabase } from '../../../testing/harness.js';
import { insertHubIntegrations, PRODUCT } from '../../../testing/securityhub-writeback.js';
import { ShiftedClock } from '../../../work/clock.js';
import type { WorkSignal } from '../../../work/runner.js';
import type { AwsAccess } from './aws.js';
import { createWriteback, type WritebackObserver } from './writeback.js';

/**
 * The write-back's metrics count a finding written once, by the process that settled it: one whose lease
 * ran out while AWS held its request open, and whose changes another process took over and sent again,
 * counts the request it made but none of the changes (the other process does).
 */

const LEASE_MS = 30_000;

let db: Db;
let integrationId: string;
const clock = new ShiftedClock();

before(async () => {
  db = createDb(createPool(await createTestDatabase({ migrated: true }), 4));
  integrationId = (await insertHubIntegrations(db, ['Hub']))[0]!;
});

after(async () => {
  await db?.destroy();
});

/** A change of `findingId` recorded 10 s ago (so gathered and due). */
async function insertChange(findingId: string, seq: number): Promise<string> {
  const at = new Date(clock.now().getTime() - 10_000);
  const row = await sql<{ id: string }>`
    INSERT INTO securityhub_writebacks
      (integration_id, finding_key, product_arn, finding_id, field, value, event_id, seq, status,
       not_before, created_at, updated_at)
    VALUES (${integrationId}, ${findingId}, ${PRODUCT}, ${findingId}, 'workflow',
      ${JSON.stringify({ Status: 'NOTIFIED' })}::jsonb, gen_random_uuid(), ${seq}, 'pending', ${at}, ${at}, ${at})
    RETURNING id`.execute(db);
  return row.rows[0]!.id;
}

/** What one process's observer heard. */
function observed() {
  const heard = { answered: 0, written: 0, retry: 0, refused: 0 };
  const observer: WritebackObserver = {
    requested: (outcome) => {
      if (outcome === 'answered') heard.answered += 1;
    },
    changes: (counts) => {
      heard.written += counts.written;
      heard.retry += counts.retry;
      heard.refused += counts.refused;
    },
  };
  return { heard, observer };
}

/** A Security Hub that applies every finding, and holds the first request open until `release`. */
function heldAws() {
  let resolveReached!: () => void;
  let resolveRelease!: () => void;
  const reached = new Promise<void>((r) => (resolveReached = r));
  const release = new Promise<void>((r) => (resolveRelease = r));
  let first = true;
  const aws = {
    async batchUpdate(_target: unknown, input: BatchUpdateFindingsCommandInput) {
      if (first) {
        first = false;
        resolveReached();
        await release;
      }
      return { ProcessedFindings: input.FindingIdentifiers, UnprocessedFindings: [] };
    },
  } as unknown as AwsAccess;
  return { aws, reached, release: () => resolveRelease() };
}

function writebackWith(aws: AwsAccess, observer: WritebackObserver) {
  return createWriteback({
    db,
    log: createLogger('silent'),
    aws,
    alerts: {} as AlertsService,
    clock,
    signal: { wake() {} } as WorkSignal,
    options: { leaseSeconds: LEASE_MS / 1000 },
    observer,
  });
}

describe('the findings a write-back request wrote', () => {
  it('are counted by the process that settled them, not again by one whose lease ran out', async () => {
    const id = await insertChange('counted-once', 1);
    const a = heldAws();
    const b = heldAws();
    b.release();
    const late = observed();
    const taker = observed();
    const roundA = writebackWith(a.aws, late.observer).queue().round(clock.now());
    await a.reached;
    // A's lease runs out while AWS holds its request: B takes the change over, sends and settles it.
    clock.advance(2 * LEASE_MS);
    await writebackWith(b.aws, taker.observer).queue().round(clock.now());
    a.release();
    await roundA;

    const { status } = (
      await sql<{ status: string }>`SELECT status FROM securityhub_writebacks WHERE id = ${id}`.execute(db)
    ).rows[0]!;
    assert.equal(status, 'done');
    assert.deepEqual(taker.heard, { answered: 1, written: 1, retry: 0, refused: 0 });
    // A's request was made and answered, but the change it named was no longer A's to settle.
    assert.deepEqual(late.heard, { answered: 1, written: 0, retry: 0, refused: 0 });
  });
});
