import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { FakeAws } from '../../testing/fake-aws.js';
import { deliverToIntake, startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import {
  ACCOUNT,
  PRODUCT,
  findingArn,
  findingEvent,
  heldBackingOff,
  lastPayload as lastPayloadOf,
  statusOfChange as changeStatus,
  setUpWriteback,
  testFinding,
} from '../../testing/securityhub-writeback.js';
import { ShiftedClock } from '../../work/clock.js';

/**
 * A Custom Action event carries the findings as they were when a person chose the action in the console
 * (AWS-FACTS §2), which may be before the last Imported event Vigil applied. It still opens or bumps the
 * alert, but its older state must not replace the newer one recorded, nor end Vigil's waiting changes.
 */

const T1 = '2026-11-27T10:00:00Z';
const BETWEEN = '2026-11-27T11:00:00Z';
const T2 = '2026-11-27T12:00:00Z';

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

const findingAt = (suffix: string, updatedAt: string, change?: (f: Json) => void): Json =>
  testFinding(aws, suffix, { createdAt: T1, updatedAt, change });

const imported = (f: Json) =>
  deliverToIntake(server, integration, findingEvent('Security Hub Findings - Imported', f, [f.Id]));

const customAction = (f: Json) =>
  deliverToIntake(
    server,
    integration,
    findingEvent(
      'Security Hub Findings - Custom Action',
      f,
      [`arn:aws:securityhub:us-east-1:${ACCOUNT}:action/custom/SendToVigil`],
      { actionName: 'SendToVigil', actionDescription: 'Page the on-call' },
    ),
  );

async function storedState(suffix: string): Promise<Json> {
  const rows = await sql<Json>`
    SELECT alert_id, provider_severity, severity_label, workflow_status, record_state, compliance_status,
      note_text, finding_updated_at
    FROM securityhub_findings
    WHERE integration_id = ${integration.id} AND finding_id = ${findingId(suffix)}`.execute(
    server.app.context.db,
  );
  assert.equal(rows.rows.length, 1);
  return rows.rows[0];
}

const lastPayload = () => lastPayloadOf(server, integration.id);
const statusOfChange = (alertId: string, value: Json) => changeStatus(server, alertId, value);

const alertOf = async (alertId: string): Promise<Json> =>
  (await server.callOk('GET', `/v2/alerts/${alertId}`)).data;

describe('a Custom Action event older than the update already applied', () => {
  it('bumps the alert but keeps the newer state, so a later stale update is still ignored', async () => {
    const suffix = 'late-action';
    const alertId = await imported(findingAt(suffix, T1));
    const atT1 = await alertOf(alertId);
    await imported(
      findingAt(suffix, T2, (f) => {
        f.Workflow = { Status: 'NOTIFIED' };
        f.Severity = { Label: 'HIGH' };
        f.FindingProviderFields = { Severity: { Label: 'HIGH' } };
      }),
    );
    const atT2 = await alertOf(alertId);
    assert.notEqual(atT2.priority, atT1.priority, 'the provider raised the severity');
    const stateAtT2 = await storedState(suffix);
    assert.equal(stateAtT2.workflow_status, 'NOTIFIED');
    assert.equal(stateAtT2.finding_updated_at, T2);

    // A person chose the action on the finding as it was at T1; the event comes after T2's.
    assert.equal(await customAction(findingAt(suffix, T1)), alertId);
    const payload = await lastPayload();
    assert.equal(payload.verdict, 'updated', JSON.stringify(payload));
    const bumped = await alertOf(alertId);
    assert.equal(bumped.count, atT2.count + 1, 'the custom action still bumps the alert');
    assert.equal(bumped.priority, atT2.priority, 'the older severity is not followed');
    assert.deepEqual(await storedState(suffix), stateAtT2);
    // Nor do the alert's details go back to T1's: only the action's own are new.
    for (const key of ['SeverityLabel', 'WorkflowStatus', 'RecordState'])
      assert.equal(bumped.details[key], atT2.details[key], key);
    assert.equal(atT2.details.WorkflowStatus, 'NOTIFIED');
    assert.equal(atT2.details.SeverityLabel, 'HIGH');
    assert.equal(bumped.details.ActionName, 'SendToVigil');
    assert.equal(bumped.details.ActionDescription, 'Page the on-call');
    const logs = await server.callOk('GET', `/v2/alerts/${alertId}/logs?order=asc&limit=100`);
    const repeats = logs.data.filter((l: Json) => l.type === 'deduplicate').map((l: Json) => l.log);
    assert.match(repeats.at(-1) ?? '', /sent again .*custom action SendToVigil/, repeats.at(-1));
    assert.doesNotMatch(repeats.at(-1) ?? '', /updated/);

    // An Imported event between T1 and T2, held back by a retry, is older than what was applied.
    await imported(findingAt(suffix, BETWEEN));
    const stale = await lastPayload();
    assert.equal(stale.verdict, 'ignored', JSON.stringify(stale));
    assert.match(stale.reason ?? '', /older version/);
    assert.deepEqual(await storedState(suffix), stateAtT2);
    assert.equal((await alertOf(alertId)).count, bumped.count);
  });

  it("does not end Vigil's change waiting to be sent", async () => {
    const suffix = 'late-action-waiting';
    const alertId = await imported(findingAt(suffix, T1));
    // Someone set NOTIFIED in Security Hub's console at T2.
    await imported(findingAt(suffix, T2, (f) => (f.Workflow = { Status: 'NOTIFIED' })));
    let release: (() => void) | undefined;
    try {
      release = await heldBackingOff({ server, clock, aws }, alertId, suffix, () =>
        server.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, {}),
      );
      // The action was chosen on the finding as it was at T1 (NEW): no newer value set in Security Hub.
      assert.equal(await customAction(findingAt(suffix, T1)), alertId);
      assert.equal((await lastPayload()).verdict, 'updated');
      assert.equal(await statusOfChange(alertId, { Status: 'NOTIFIED' }), 'pending');
      assert.equal((await storedState(suffix)).workflow_status, 'NOTIFIED');
    } finally {
      release?.();
      aws.refuseFinding(findingId(suffix), PRODUCT, 'ConcurrentUpdateError', 0);
    }
  });
});
