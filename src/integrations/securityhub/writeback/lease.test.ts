import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
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
import { writebacksRepository } from './repository.js';
import { createWriteback } from './writeback.js';

/**
 * A write-back claim and its lease, without processes or timing: what a sender whose lease ran out may
 * still do (nothing), two claims racing for one finding's field, and rounds of two "processes" (two
 * write-backs on one database) where one's changes wait behind a request held open while the clock
 * passes its lease.
 */

const LEASE_MS = 30_000;

let db: Db;
let integrationId: string;
const clock = new ShiftedClock();

before(async () => {
  db = createDb(createPool(await createTestDatabase({ migrated: true }), 6));
  integrationId = (await insertHubIntegrations(db, ['Hub']))[0]!;
});

after(async () => {
  await db?.destroy();
});

beforeEach(async () => {
  // Every test starts with nothing waiting: a claim takes whatever is due.
  await sql`DELETE FROM securityhub_writebacks`.execute(db);
});

/** A change of `findingId` recorded 10 s ago (so gathered and due), by the alert event `seq`. */
async function insertChange(
  findingId: string,
  field: 'workflow' | 'note',
  value: Record<string, string>,
  seq: number,
): Promise<string> {
  const at = new Date(clock.now().getTime() - 10_000);
  const row = await sql<{ id: string }>`
    INSERT INTO securityhub_writebacks
      (integration_id, finding_key, product_arn, finding_id, field, value, event_id, seq, status,
       not_before, created_at, updated_at)
    VALUES (${integrationId}, ${findingId}, ${PRODUCT}, ${findingId}, ${field}, ${JSON.stringify(value)}::jsonb,
      gen_random_uuid(), ${seq}, 'pending', ${at}, ${at}, ${at})
    RETURNING id`.execute(db);
  return row.rows[0]!.id;
}

async function rowOf(id: string) {
  const row = await sql<{
    status: string;
    claim_id: string | null;
    lease_until: Date | null;
    attempts: number;
  }>`
    SELECT status, claim_id, lease_until, attempts FROM securityhub_writebacks WHERE id = ${id}`.execute(db);
  return row.rows[0]!;
}

async function statusOf(id: string): Promise<string> {
  return (await rowOf(id)).status;
}

/** A claim at `now` of everything due, as a round makes it, committed. */
function claimAt(now: Date, claimId: string) {
  return db.transaction().execute((tx) => claimIn(tx, now, claimId));
}

function claimIn(tx: Parameters<typeof writebacksRepository.claimDue>[0], now: Date, claimId: string) {
  return writebacksRepository.claimDue(tx, {
    now,
    leaseUntil: new Date(now.getTime() + LEASE_MS),
    firstCreatedBefore: now,
    quietSince: now,
    eventsInFlight: false,
    limit: 1000,
    claimId,
  });
}

interface Deferred<T = void> {
  promise: Promise<T>;
  resolve: (value: T) => void;
}

function deferred<T = void>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

describe('a claim whose lease ran out', () => {
  it('renews, settles and gives back nothing once another claim took its change over', async () => {
    const id = await insertChange('lapsed', 'workflow', { Status: 'NOTIFIED' }, 1);
    const [a, b] = [randomUUID(), randomUUID()];
    const t0 = clock.now();
    assert.deepEqual(
      (await claimAt(t0, a)).map((c) => c.id),
      [id],
    );
    // A's lease is over: B takes the change over.
    const t1 = new Date(t0.getTime() + 2 * LEASE_MS);
    assert.deepEqual(
      (await claimAt(t1, b)).map((c) => c.id),
      [id],
    );
    const taken = await rowOf(id);
    assert.equal(taken.status, 'sending');
    assert.equal(taken.claim_id, b);

    // A, late: nothing of it lands.
    const later = new Date(t1.getTime() + 1000);
    assert.deepEqual(
      await writebacksRepository.keepClaim(db, a, [id], new Date(later.getTime() + 10 * LEASE_MS)),
      [],
    );
    assert.deepEqual(await writebacksRepository.markDone(db, a, [id], later), []);
    assert.deepEqual(await writebacksRepository.markFailed(db, a, [id], 'late', later), []);
    await writebacksRepository.reschedule(db, a, [id], later, 'late', later);
    await writebacksRepository.release(db, a, [id]);
    await writebacksRepository.supersede(db, [id], later, 'late', a);
    assert.deepEqual(await rowOf(id), taken);

    // B's own claim still renews and settles it.
    assert.deepEqual(
      await writebacksRepository.keepClaim(db, b, [id], new Date(later.getTime() + LEASE_MS)),
      [id],
    );
    assert.deepEqual(await writebacksRepository.markDone(db, b, [id], later), [id]);
    assert.equal(await statusOf(id), 'done');
  });
});

describe('a change superseded while being sent', () => {
  it('holds back a newer change of its field until its lease has passed: its request may still land', async () => {
    const ack = await insertChange('superseded-in-flight', 'workflow', { Status: 'NOTIFIED' }, 1);
    const t0 = clock.now();
    assert.deepEqual(
      (await claimAt(t0, randomUUID())).map((c) => c.id),
      [ack],
    );
    // While its request is out, a value set in Security Hub ends it (the intake's supersedeUnsent)...
    await db
      .transaction()
      .execute((tx) =>
        writebacksRepository.supersedeUnsent(
          tx,
          { integrationId, findingKey: 'superseded-in-flight', fields: ['workflow'] },
          'a newer value was set in Security Hub',
          t0,
        ),
      );
    const superseded = await rowOf(ack);
    assert.equal(superseded.status, 'superseded');
    assert.ok(superseded.lease_until && superseded.lease_until > t0);
    // ...and then the alert is closed in Vigil: its RESOLVED must not go out beside the NOTIFIED.
    const close = await insertChange('superseded-in-flight', 'workflow', { Status: 'RESOLVED' }, 2);
    assert.deepEqual(await claimAt(new Date(t0.getTime() + 1000), randomUUID()), []);
    assert.equal(await statusOf(close), 'pending');
    // Once the lease has passed, the acknowledge's request is over (or its process is gone).
    assert.deepEqual(
      (await claimAt(new Date(t0.getTime() + LEASE_MS + 1000), randomUUID())).map((c) => c.id),
      [close],
    );
  });
});

describe('two claims at once', () => {
  it('never sends a change while an earlier change of its field is claimed by a claim not yet committed', async () => {
    const ack = await insertChange('race', 'workflow', { Status: 'NOTIFIED' }, 1);
    const now = clock.now();
    const [a, b] = [randomUUID(), randomUUID()];
    const commitA = deferred();
    const claimedByA = deferred<string[]>();
    // A claims the acknowledge and holds its transaction open.
    const roundA = db.transaction().execute(async (tx) => {
      claimedByA.resolve((await claimIn(tx, now, a)).map((c) => c.id));
      await commitA.promise;
    });
    assert.deepEqual(await claimedByA.promise, [ack]);
    // The close is recorded meanwhile; B claims while A has not committed.
    const close = await insertChange('race', 'workflow', { Status: 'RESOLVED' }, 2);
    let bDone = false;
    const roundB = claimAt(now, b).finally(() => (bDone = true));
    // B either finished already, or waits on a lock A holds: only then does A commit.
    for (;;) {
      if (bDone) break;
      const waiting = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_locks
        WHERE locktype = 'advisory' AND NOT granted
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`.execute(db);
      if (waiting.rows[0]!.n > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    commitA.resolve();
    await roundA;
    assert.deepEqual(await roundB, [], 'the close waits for the acknowledge in flight');
    assert.equal(await statusOf(close), 'pending');
    assert.equal((await rowOf(ack)).claim_id, a);
  });
});

/** A fake Security Hub for one "process": records each request, and can hold the first one open. */
function fakeAws(name: string, log: { by: string; ids: string[]; body: Record<string, unknown> }[]) {
  let hold: { reached: Deferred; release: Deferred } | undefined;
  const aws = {
    async batchUpdate(_target: unknown, input: BatchUpdateFindingsCommandInput) {
      const { FindingIdentifiers, ...body } = input;
      log.push({ by: name, ids: (FindingIdentifiers ?? []).map((f) => f.Id ?? ''), body });
      const held = hold;
      hold = undefined;
      if (held) {
        held.reached.resolve();
        await held.release.promise;
      }
      return { ProcessedFindings: FindingIdentifiers, UnprocessedFindings: [] };
    },
  } as unknown as AwsAccess;
  return {
    aws,
    /** Holds the next request open until `release` resolves; `reached` resolves once it is made. */
    holdNext() {
      const held = { reached: deferred(), release: deferred() };
      hold = held;
      return held;
    },
  };
}

function writebackWith(aws: AwsAccess) {
  return createWriteback({
    db,
    log: createLogger('silent'),
    aws,
    alerts: {} as AlertsService,
    clock,
    signal: { wake() {} } as WorkSignal,
    options: { leaseSeconds: LEASE_MS / 1000 },
  });
}

describe('a round whose changes wait past their lease', () => {
  /**
   * Process A's round sends its first request, which AWS holds open while the clock passes A's lease
   * and `meanwhile` runs; process B's round then takes over what A claimed. Returns every request made.
   */
  async function takenOverWhileWaiting(meanwhile: () => Promise<void>) {
    const requests: { by: string; ids: string[]; body: Record<string, unknown> }[] = [];
    const a = fakeAws('A', requests);
    const b = fakeAws('B', requests);
    const held = a.holdNext();
    const roundA = writebackWith(a.aws).queue().round(clock.now());
    await held.reached.promise;
    await meanwhile();
    clock.advance(2 * LEASE_MS);
    await writebackWith(b.aws).queue().round(clock.now());
    held.release.resolve();
    await roundA;
    return requests;
  }

  it('does not send an acknowledge a close overtook after its lease ran out: the finding ends RESOLVED', async () => {
    // The note goes first (an earlier event), and the acknowledge waits behind it.
    const note = await insertChange('slow-note', 'note', { Text: 'slow', UpdatedBy: 'Vigil' }, 1);
    const ack = await insertChange('acked-then-closed', 'workflow', { Status: 'NOTIFIED' }, 2);
    let close = '';
    const requests = await takenOverWhileWaiting(async () => {
      close = await insertChange('acked-then-closed', 'workflow', { Status: 'RESOLVED' }, 3);
    });
    const naming = requests.filter((r) => r.ids.includes('acked-then-closed'));
    assert.deepEqual(
      naming.map((r) => [r.by, (r.body.Workflow as { Status: string }).Status]),
      [['B', 'RESOLVED']],
    );
    assert.equal(await statusOf(ack), 'superseded');
    assert.equal(await statusOf(close), 'done');
    assert.equal(await statusOf(note), 'done');
  });

  it('sends each note once: what the late process had not sent yet is not sent again', async () => {
    // A's first request (an acknowledge of another finding) is the one held open; the notes wait behind it.
    await insertChange('first', 'workflow', { Status: 'NOTIFIED' }, 1);
    const notes = Array.from({ length: 6 }, (_, i) => `note-${i}`);
    const ids: string[] = [];
    for (const [i, finding] of notes.entries())
      ids.push(await insertChange(finding, 'note', { Text: `note ${i}`, UpdatedBy: 'Vigil' }, 2 + i));
    const requests = await takenOverWhileWaiting(async () => {});
    for (const finding of notes) {
      const naming = requests.filter((r) => r.ids.includes(finding));
      assert.equal(naming.length, 1, `${finding} sent ${naming.length} times`);
    }
    assert.equal(requests.filter((r) => r.by === 'A').length, 1, 'A sent only its request in flight');
    for (const id of ids) assert.equal(await statusOf(id), 'done');
  });
});

describe('the backlog', () => {
  it('counts the changes due and those whose lease ran out, each from when it became due', async () => {
    const t0 = clock.now();
    assert.deepEqual(await writebacksRepository.backlog(db, t0, 1000), { due: 0, oldestDueAt: null });
    const due = await insertChange('backlog-due', 'workflow', { Status: 'NOTIFIED' }, 1);
    const later = await insertChange('backlog-later', 'workflow', { Status: 'NOTIFIED' }, 2);
    const notBefore = new Date(t0.getTime() + 10 * LEASE_MS);
    await sql`UPDATE securityhub_writebacks SET not_before = ${notBefore} WHERE id = ${later}`.execute(db);
    const { not_before: dueAt } = (
      await sql<{ not_before: Date }>`
        SELECT not_before FROM securityhub_writebacks WHERE id = ${due}`.execute(db)
    ).rows[0]!;
    assert.deepEqual(await writebacksRepository.backlog(db, t0, 1000), { due: 1, oldestDueAt: dueAt });

    // Being sent: waits for nothing until its lease runs out, then from then on.
    assert.deepEqual(
      (await claimAt(t0, randomUUID())).map((c) => c.id),
      [due],
    );
    assert.deepEqual(await writebacksRepository.backlog(db, t0, 1000), { due: 0, oldestDueAt: null });
    const lapsed = new Date(t0.getTime() + 2 * LEASE_MS);
    assert.deepEqual(await writebacksRepository.backlog(db, lapsed, 1000), {
      due: 1,
      oldestDueAt: (await rowOf(due)).lease_until,
    });
    assert.equal((await writebacksRepository.backlog(db, notBefore, 1000)).due, 2);
    assert.equal((await writebacksRepository.backlog(db, notBefore, 1)).due, 1);
  });
});
