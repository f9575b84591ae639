import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import type { BatchUpdateFindingsCommandInput } from '@aws-sdk/client-securityhub';
import { sql } from 'kysely';
import type pg from 'pg';
import type { AlertsService } from '../../../alerts/service.js';
import { createDb, createPool, type Db } from '../../../db/database.js';
import { createLogger } from '../../../logger.js';
import { createTestDatabase, waitFor } from '../../../testing/harness.js';
import { insertCloses, insertHubIntegrations, PRODUCT } from '../../../testing/securityhub-writeback.js';
import { ShiftedClock } from '../../../work/clock.js';
import { QUEUES } from '../../../work/queue-names.js';
import { createWorkRunner, type WorkQueueSpec, type WorkSignal } from '../../../work/runner.js';
import type { AwsAccess } from './aws.js';
import { FILLING_MAX_WAIT_MS, PARTIAL_MAX_WAIT_MS, planRequests, type BatchableChange } from './batching.js';
import { createWriteback } from './writeback.js';

/**
 * A batch held back to fill (batching.ts) while the sender waits: its rounds meanwhile. Held changes
 * stay due, so a round that reported them as work done ran again at once, claiming and releasing them
 * hundreds of times a second, each under the global claim lock, until the wait was over.
 */

let pool: pg.Pool;
let db: Db;
const integrations: string[] = [];
const clock = new ShiftedClock();
const requests: { integration: string; ids: string[]; at: number }[] = [];

const aws = {
  async batchUpdate(target: { integrationId: string }, input: BatchUpdateFindingsCommandInput) {
    const ids = (input.FindingIdentifiers ?? []).map((f) => f.Id ?? '');
    requests.push({ integration: target.integrationId, ids, at: clock.now().getTime() });
    return { ProcessedFindings: input.FindingIdentifiers, UnprocessedFindings: [] };
  },
} as unknown as AwsAccess;

before(async () => {
  pool = createPool(await createTestDatabase({ migrated: true }), 6);
  db = createDb(pool);
  integrations.push(...(await insertHubIntegrations(db, ['Hub A', 'Hub B'])));
});

after(async () => {
  await db?.destroy();
});

beforeEach(async () => {
  await sql`DELETE FROM securityhub_writebacks`.execute(db);
  requests.length = 0;
});

function writeback(signal: WorkSignal = { wake() {} }) {
  return createWriteback({
    db,
    log: createLogger('silent'),
    aws,
    alerts: {} as AlertsService,
    clock,
    signal,
  });
}

/**
 * Runs `queue`'s rounds as the work runner does, but jumps the clock to a round's next due time instead
 * of sleeping, until `done` or `maxRounds`; returns how many rounds ran.
 */
async function drive(queue: WorkQueueSpec, done: () => boolean, maxRounds = 200): Promise<number> {
  let rounds = 0;
  while (!done() && rounds < maxRounds) {
    const round = await queue.round(clock.now());
    rounds++;
    if (round.more || !round.nextDueAt) continue;
    clock.advance(Math.max(0, round.nextDueAt.getTime() - clock.now().getTime()));
  }
  return rounds;
}

describe('when held changes stop waiting', () => {
  it('is the first moment the plan holds fewer of them, if nothing more comes', () => {
    // A fixed pseudo-random sequence: the same cases on every run.
    let state = 7;
    const random = (n: number) => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return (state >>> 8) % n;
    };
    const t0 = Date.parse('2026-11-27T10:00:00Z');
    let cases = 0;
    for (let round = 0; round < 300; round++) {
      const changes: BatchableChange[] = Array.from({ length: 1 + random(250) }, (_, i) => ({
        id: String(i + 1),
        integrationId: `hub-${random(2)}`,
        format: 'asff',
        productArn: PRODUCT,
        findingId: `finding-${i}`,
        field: 'workflow',
        value: { Status: ['NOTIFIED', 'RESOLVED'][random(2)] ?? '' },
        seq: String(i + 1),
        createdAt: new Date(t0 + random(1 + random(4000))),
      }));
      const now = new Date(t0 + random(6000));
      const plan = planRequests(changes, { now, eventsInFlight: false });
      if (plan.heldUntil === null) {
        assert.equal(plan.held.length, 0);
        continue;
      }
      cases++;
      const heldAt = (ms: number) =>
        planRequests(changes, { now: new Date(ms), eventsInFlight: false }).held.length;
      assert.ok(plan.heldUntil > now);
      assert.equal(heldAt(plan.heldUntil.getTime() - 1), plan.held.length);
      assert.ok(heldAt(plan.heldUntil.getTime()) < plan.held.length);
    }
    assert.ok(cases > 20, `${cases} plans held changes`);
  });
});

describe('a part-filled batch waiting to fill', () => {
  it('is claimed a few times a second while it waits, not in a loop, and still goes when its wait ends', async () => {
    // 40 closes at one instant: a bulk close, whose batch waits up to FILLING_MAX_WAIT_MS to fill.
    const closedAt = new Date(clock.now().getTime() - 1100);
    await insertCloses(db, integrations[0]!, 'bulk', 40, closedAt);
    const rounds = await drive(writeback().queue(), () => requests.length > 0);
    assert.equal(requests.length, 1, `no request after ${rounds} rounds`);
    assert.equal(requests[0]!.ids.length, 40);
    assert.ok(requests[0]!.at >= closedAt.getTime() + FILLING_MAX_WAIT_MS, 'sent only once its wait is over');
    // About one claim per GATHER_QUIET_MS of the ~3.9 s left to wait; the loop made one every few ms.
    assert.ok(rounds <= 25, `${rounds} rounds while the batch waited`);
  });

  it("does not keep another integration's changes waiting behind it", async () => {
    const now = clock.now();
    await insertCloses(db, integrations[0]!, 'bulk', 40, new Date(now.getTime() - 1100));
    // Recorded now: gathered once they pause, nothing wakes the sender then.
    await insertCloses(db, integrations[1]!, 'single', 1, now);
    const queue = writeback().queue();
    await drive(queue, () => requests.length > 0);
    assert.deepEqual(
      requests.map((r) => [r.integration, r.ids.length]),
      [[integrations[1], 1]],
    );
    assert.ok(
      requests[0]!.at < now.getTime() + PARTIAL_MAX_WAIT_MS,
      `sent ${requests[0]!.at - now.getTime()} ms after it was recorded`,
    );
  });
});

describe('the sender in the work runner', () => {
  it('sleeps while a batch waits to fill, and sends it at once when it fills', async () => {
    const runner = createWorkRunner({ pool, clock, log: createLogger('silent') });
    const queue = writeback(runner).queue();
    let rounds = 0;
    runner.register({
      ...queue,
      round: (now) => {
        rounds++;
        return queue.round(now);
      },
    });
    await runner.start();
    try {
      // Waits PARTIAL_MAX_WAIT_MS of real time: the hold ends FILLING_MAX_WAIT_MS after the closes.
      const closedAt = new Date(clock.now().getTime() - (FILLING_MAX_WAIT_MS - PARTIAL_MAX_WAIT_MS));
      await insertCloses(db, integrations[0]!, 'waits', 40, closedAt);
      const roundsBefore = rounds;
      runner.wake(QUEUES.writeback);
      await waitFor('a request', async () => requests.length > 0, 10_000);
      assert.equal(requests[0]!.ids.length, 40);
      assert.ok(rounds - roundsBefore <= 15, `${rounds - roundsBefore} rounds while the batch waited`);

      // A batch that fills while it waits goes at once: recording a change wakes the sender.
      requests.length = 0;
      const startedAt = clock.now().getTime();
      await insertCloses(db, integrations[0]!, 'fills', 40, new Date(startedAt - 1100));
      runner.wake(QUEUES.writeback);
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(requests.length, 0, 'the part-filled batch waits');
      await insertCloses(db, integrations[0]!, 'fills-more', 60, clock.now());
      runner.wake(QUEUES.writeback);
      await waitFor('a request', async () => requests.length > 0, 10_000);
      assert.deepEqual(
        requests.map((r) => r.ids.length),
        [100],
      );
      assert.ok(
        requests[0]!.at < startedAt + 2000,
        `sent ${requests[0]!.at - startedAt} ms after the first closes`,
      );
    } finally {
      await runner.stop();
    }
  });
});
