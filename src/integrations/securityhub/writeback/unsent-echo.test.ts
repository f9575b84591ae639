import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { FakeAws } from '../../../testing/fake-aws.js';
import {
  deliverToIntake,
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
} from '../../../testing/harness.js';
import {
  PRODUCT,
  findingArn,
  findingEvent,
  heldBackingOff,
  lastPayload as lastPayloadOf,
  statusOfChange as changeStatus,
  requestsAbout,
  setUpWriteback,
  testFinding,
  untilBackingOff,
} from '../../../testing/securityhub-writeback.js';
import { ShiftedClock } from '../../../work/clock.js';

/**
 * What Vigil takes for the echo of its own write-back, end to end: a change that never reached AWS
 * (refused, superseded while waiting, or never sendable) leaves nothing that would make a person's later
 * setting of the same value pass for Vigil's echo; and the echo of a write of a value the finding already
 * had is no new occurrence of it.
 */

let server: TestServer;
const clock = new ShiftedClock();
let aws: FakeAws;
let integration: { id: string; path: string };

before(async () => {
  server = await startTestServer({ clock, writeback: { baseDelayMs: 100, maxDelayMs: 1000 } });
  ({ aws, integration } = await setUpWriteback(server));
});

after(async () => {
  await server.stop();
  await aws.close();
});

const findingId = findingArn;

/** A finding sent through intake (and known to the fake Security Hub); returns the alert id it names. */
async function finding(suffix: string, change?: (f: Json) => void): Promise<string> {
  const f = testFinding(aws, suffix, { change });
  return deliverToIntake(
    server,
    integration,
    findingEvent('Security Hub Findings - Imported', f, [f.Id as string]),
  );
}

const lastPayload = () => lastPayloadOf(server, integration.id);
const statusOfChange = (alertId: string, value: Json) => changeStatus(server, alertId, value);

const alertOf = async (alertId: string): Promise<Json> =>
  (await server.callOk('GET', `/v2/alerts/${alertId}`)).data;

/**
 * After Vigil's close of `closedAlert` ended unsent, the provider finds the finding again (a new alert
 * opens), and then a person resolves it in Security Hub's console: that RESOLVED is theirs, and closes
 * the new alert.
 */
async function reopenAndResolveInConsole(suffix: string, closedAlert: string): Promise<void> {
  const reopened = await finding(suffix, (f) => {
    f.UpdatedAt = '2026-11-27T11:00:00Z';
    f.Workflow = { Status: 'NEW' };
  });
  assert.ok(reopened && reopened !== closedAlert, 'the finding opens a new alert');
  await finding(suffix, (f) => {
    f.UpdatedAt = '2026-11-27T11:00:00Z';
    f.Workflow = { Status: 'RESOLVED' };
  });
  const payload = await lastPayload();
  assert.equal(payload.verdict, 'closed', JSON.stringify(payload));
  assert.equal((await alertOf(reopened)).status, 'closed');
}

describe('a write-back that never reached Security Hub', () => {
  it('is not taken for the source of a value a person sets later, once AWS refused it (FindingNotFound)', async () => {
    const alertId = await finding('refused-close');
    aws.refuseFinding(findingId('refused-close'), PRODUCT, 'FindingNotFound', 1);
    await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
    await waitFor(
      'the close refused',
      async () => (await statusOfChange(alertId, { Status: 'RESOLVED' })) === 'failed',
    );
    await reopenAndResolveInConsole('refused-close', alertId);
  });

  it('is not, once superseded while waiting to be retried', async () => {
    const suffix = 'superseded-close';
    const alertId = await finding(suffix);
    let release: (() => void) | undefined;
    try {
      // Backing off while the finding opens a new alert (which supersedes it).
      release = await heldBackingOff({ server, clock, aws }, alertId, suffix, () =>
        server.callOk('POST', `/v2/alerts/${alertId}/close`, {}),
      );
      aws.refuseFinding(findingId(suffix), PRODUCT, 'ConcurrentUpdateError', 0);
      const reopened = await finding(suffix, (f) => {
        f.UpdatedAt = '2026-11-27T11:00:00Z';
        f.Workflow = { Status: 'NEW' };
      });
      assert.notEqual(reopened, alertId);
      assert.equal(await statusOfChange(alertId, { Status: 'RESOLVED' }), 'superseded');
      await finding(suffix, (f) => {
        f.UpdatedAt = '2026-11-27T11:00:00Z';
        f.Workflow = { Status: 'RESOLVED' };
      });
      const payload = await lastPayload();
      assert.equal(payload.verdict, 'closed', JSON.stringify(payload));
      assert.equal((await alertOf(reopened)).status, 'closed');
    } finally {
      release?.();
      aws.refuseFinding(findingId(suffix), PRODUCT, 'ConcurrentUpdateError', 0);
    }
  });

  it('is not, when the finding could never be sent (an Id longer than Security Hub takes)', async () => {
    const suffix = `unsendable-${'x'.repeat(520)}`;
    const alertId = await finding(suffix);
    await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
    await waitFor(
      'the close recorded',
      async () => (await statusOfChange(alertId, { Status: 'RESOLVED' })) === 'failed',
    );
    await reopenAndResolveInConsole(suffix, alertId);
  });
});

async function writtenBack(suffix: string): Promise<Json> {
  const rows = await sql<{ written_back: Json | null }>`
    SELECT written_back FROM securityhub_findings
    WHERE integration_id = ${integration.id} AND finding_id = ${findingId(suffix)}`.execute(
    server.app.context.db,
  );
  return rows.rows[0]?.written_back ?? {};
}

describe('a write-back sent and answered with a 5xx, then ended before a retry', () => {
  it('keeps its value: AWS may still apply it, and its echo changes nothing', async () => {
    const suffix = 'server-error-close';
    const alertId = await finding(suffix);
    // The close's request is answered 500 only once time stands still: it then waits to be retried.
    const releaseAnswers = aws.holdAnswers();
    let releaseClock: (() => void) | undefined;
    try {
      aws.failNext(1, 500);
      await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
      await waitFor('the close sent', async () => requestsAbout(aws, suffix) > 0);
      releaseClock = clock.hold();
      const heldAt = clock.now();
      releaseAnswers();
      await untilBackingOff(server, alertId, heldAt);
      // The provider finds the finding again: a new alert, which ends the close before its retry.
      const reopened = await finding(suffix, (f) => {
        f.UpdatedAt = '2026-11-27T11:00:00Z';
        f.Workflow = { Status: 'NEW' };
      });
      assert.notEqual(reopened, alertId);
      assert.equal(await statusOfChange(alertId, { Status: 'RESOLVED' }), 'superseded');
      assert.equal((await writtenBack(suffix)).workflowStatus, 'RESOLVED');
      // AWS applied the request answered 500 after all: its echo is Vigil's, and closes nothing.
      await finding(suffix, (f) => {
        f.UpdatedAt = '2026-11-27T11:00:00Z';
        f.Workflow = { Status: 'RESOLVED' };
      });
      const payload = await lastPayload();
      assert.equal(payload.verdict, 'ignored', JSON.stringify(payload));
      assert.match(payload.reason ?? '', /what Vigil wrote back/);
      assert.equal((await alertOf(reopened)).status, 'open');
    } finally {
      releaseClock?.();
      releaseAnswers();
    }
  });
});

describe('a write-back answered a 5xx, then refused on its retry, then ended', () => {
  it('keeps its value: the first request may still land after the refusal', async () => {
    const suffix = 'server-error-then-refused';
    const alertId = await finding(suffix);
    let releaseClock: (() => void) | undefined;
    try {
      // The first request fails whole (500); the retries are refused (ConcurrentUpdateError).
      aws.failNext(1, 500);
      aws.refuseFinding(findingId(suffix), PRODUCT, 'ConcurrentUpdateError');
      await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
      await waitFor('the close refused on a retry', async () => requestsAbout(aws, suffix) >= 2);
      releaseClock = clock.hold();
      await untilBackingOff(server, alertId, clock.now(), 2);
      const reopened = await finding(suffix, (f) => {
        f.UpdatedAt = '2026-11-27T11:00:00Z';
        f.Workflow = { Status: 'NEW' };
      });
      assert.notEqual(reopened, alertId);
      assert.equal(await statusOfChange(alertId, { Status: 'RESOLVED' }), 'superseded');
      assert.equal((await writtenBack(suffix)).workflowStatus, 'RESOLVED');
    } finally {
      releaseClock?.();
      aws.refuseFinding(findingId(suffix), PRODUCT, 'ConcurrentUpdateError', 0);
    }
  });
});

describe('the echo of a write of a value the finding already had', () => {
  it("is still Vigil's when a newer change of the field was recorded before it came", async () => {
    const alertId = await finding('notified-then-unacked');
    await finding('notified-then-unacked', (f) => (f.Workflow = { Status: 'NOTIFIED' }));
    const before = await alertOf(alertId);
    await server.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, {});
    await waitFor(
      'the acknowledge sent',
      async () => (await statusOfChange(alertId, { Status: 'NOTIFIED' })) === 'done',
    );
    // The unacknowledge is recorded (written_back now says NEW) before the acknowledge's echo comes.
    await server.callOk('POST', `/v2/alerts/${alertId}/unacknowledge`, {});
    await waitFor(
      'the unacknowledge recorded',
      async () => (await statusOfChange(alertId, { Status: 'NEW' })) !== undefined,
    );
    await finding('notified-then-unacked', (f) => (f.Workflow = { Status: 'NOTIFIED' }));
    const payload = await lastPayload();
    assert.equal(payload.verdict, 'ignored', JSON.stringify(payload));
    assert.equal((await alertOf(alertId)).count, before.count);
  });

  it('changes nothing: no new occurrence of the finding', async () => {
    const alertId = await finding('already-notified');
    // Someone sets NOTIFIED in Security Hub's console (UpdatedAt stays as it was).
    await finding('already-notified', (f) => (f.Workflow = { Status: 'NOTIFIED' }));
    const before = await alertOf(alertId);
    await server.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, {});
    await waitFor(
      'the acknowledge sent',
      async () => (await statusOfChange(alertId, { Status: 'NOTIFIED' })) === 'done',
    );
    // BatchUpdateFindings emits an Imported event, though it moved nothing.
    await finding('already-notified', (f) => (f.Workflow = { Status: 'NOTIFIED' }));
    const payload = await lastPayload();
    assert.equal(payload.verdict, 'ignored', JSON.stringify(payload));
    assert.match(payload.reason ?? '', /what Vigil wrote back/);
    assert.equal((await alertOf(alertId)).count, before.count);
    // The provider's own update (UpdatedAt moved) is a new occurrence as ever.
    await finding('already-notified', (f) => {
      f.UpdatedAt = '2026-11-27T11:00:00Z';
      f.Workflow = { Status: 'NOTIFIED' };
    });
    assert.equal((await lastPayload()).verdict, 'updated');
    assert.equal((await alertOf(alertId)).count, before.count + 1);
  });

  it('is the echo only once: a later update moving nothing Vigil writes is a repeat again', async () => {
    const suffix = 'acknowledged-then-retyped';
    const alertId = await finding(suffix);
    await server.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, {});
    await waitFor(
      'the acknowledge sent',
      async () => (await statusOfChange(alertId, { Status: 'NOTIFIED' })) === 'done',
    );
    const before = await alertOf(alertId);
    await finding(suffix, (f) => (f.Workflow = { Status: 'NOTIFIED' }));
    const echo = await lastPayload();
    assert.equal(echo.verdict, 'ignored', JSON.stringify(echo));
    assert.equal((await alertOf(alertId)).count, before.count);
    // Someone's BatchUpdateFindings of a field Vigil does not write: UpdatedAt stays as it was.
    await finding(suffix, (f) => {
      f.Workflow = { Status: 'NOTIFIED' };
      f.Types = ['Effects/Data Exposure'];
    });
    const payload = await lastPayload();
    assert.equal(payload.verdict, 'updated', JSON.stringify(payload));
    const after = await alertOf(alertId);
    assert.equal(after.count, before.count + 1);
    assert.equal(after.details.Types, 'Effects/Data Exposure');
  });
});
