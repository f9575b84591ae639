import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import type { FakeAws } from '../../testing/fake-aws.js';
import {
  deliverToIntake,
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
} from '../../testing/harness.js';
import {
  ACCOUNT,
  PRODUCT,
  findingArn,
  findingEvent,
  lastPayload as lastPayloadOf,
  setUpWriteback,
  testFinding,
} from '../../testing/securityhub-writeback.js';

/**
 * What a finding's update does is decided by what it changes, not by the state it is in: auto-close
 * closes an alert when the finding becomes RESOLVED, SUPPRESSED or ARCHIVED (so an alert opened on a
 * finding already in that state, by alertOnHandledFindings or by a person's custom action, is not closed
 * by the next routine update still saying so); the provider's update (its UpdatedAt moved) is never taken
 * for Vigil's own echo; the second echo of a write made in two requests is no new occurrence; and an
 * Insight Results event opens each integration's own alert.
 */

const T1 = '2026-11-27T10:00:00Z';
const T2 = '2026-11-27T12:00:00Z';
const T3 = '2026-11-27T14:00:00Z';

let server: TestServer;
let aws: FakeAws;
/** Default settings, writing back. */
let hub: { id: string; path: string };
/** alertOnHandledFindings on, default autoClose. */
let handled: { id: string; path: string };

async function addIntegration(name: string, team: string, more: Json = {}) {
  const created = await server.callOk('POST', '/v2/integrations', {
    type: 'AmazonSecurityHub',
    name,
    ownerTeam: { name: team },
    verifySignatures: false,
    ...more,
  });
  const url = new URL(created.data.endpointUrl as string);
  return { id: created.data.id as string, path: `${url.pathname}${url.search}` };
}

before(async () => {
  server = await startTestServer({ writeback: { baseDelayMs: 100, maxDelayMs: 1000 } });
  ({ aws, integration: hub } = await setUpWriteback(server));
  handled = await addIntegration('Handled Hub', 'SecOps', { alertOnHandledFindings: true });
});

after(async () => {
  await server.stop();
  await aws.close();
});

const findingAt = (suffix: string, updatedAt: string, change?: (f: Json) => void): Json =>
  testFinding(aws, suffix, { createdAt: T1, updatedAt, change });

const imported = (to: { id: string; path: string }, f: Json) =>
  deliverToIntake(server, to, findingEvent('Security Hub Findings - Imported', f, [f.Id as string]));

const customAction = (to: { id: string; path: string }, f: Json) =>
  deliverToIntake(
    server,
    to,
    findingEvent(
      'Security Hub Findings - Custom Action',
      f,
      [`arn:aws:securityhub:us-east-1:${ACCOUNT}:action/custom/SendToVigil`],
      { actionName: 'SendToVigil', actionDescription: 'Page the on-call' },
    ),
  );

const alertOf = async (alertId: string): Promise<Json> =>
  (await server.callOk('GET', `/v2/alerts/${alertId}`)).data;

async function writesDone(alertId: string, count: number): Promise<void> {
  await waitFor('the changes sent', async () => {
    const rows = await sql<{ status: string }>`
      SELECT status FROM securityhub_writebacks WHERE alert_id = ${alertId}`.execute(server.app.context.db);
    return rows.rows.length === count && rows.rows.every((r) => r.status === 'done');
  });
}

async function writtenBack(suffix: string): Promise<Json> {
  const rows = await sql<{ written_back: Json | null }>`
    SELECT written_back FROM securityhub_findings
    WHERE integration_id = ${hub.id} AND finding_id = ${findingArn(suffix)}`.execute(server.app.context.db);
  return rows.rows[0]?.written_back ?? {};
}

describe('alertOnHandledFindings with the default autoClose', () => {
  for (const status of ['RESOLVED', 'SUPPRESSED', 'NOTIFIED']) {
    it(`opens an alert for a finding that first arrives ${status}, which the next update still ${status} does not close`, async () => {
      const suffix = `handled-${status}-${randomUUID()}`;
      const alertId = await imported(
        handled,
        findingAt(suffix, T1, (f) => (f.Workflow = { Status: status })),
      );
      const payload = await lastPayloadOf(server, handled.id);
      assert.equal(payload.verdict, 'created', JSON.stringify(payload));
      assert.ok(alertId);

      // The provider's routine update: the finding is still in the state it arrived in.
      await imported(
        handled,
        findingAt(suffix, T2, (f) => {
          f.Workflow = { Status: status };
          f.Resources = [{ Type: 'AwsEc2Instance', Id: 'i-0fedcba9876543210' }];
        }),
      );
      const update = await lastPayloadOf(server, handled.id);
      assert.equal(update.verdict, 'updated', JSON.stringify(update));
      const a = await alertOf(alertId);
      assert.equal(a.status, 'open');
      assert.equal(a.count, 2);

      // Reopened, then handled again: that is a change, and auto-close closes the alert.
      if (status === 'NOTIFIED') return;
      await imported(
        handled,
        findingAt(suffix, T3, (f) => (f.Workflow = { Status: 'NEW' })),
      );
      assert.equal((await lastPayloadOf(server, handled.id)).verdict, 'updated');
      await imported(
        handled,
        findingAt(suffix, T3, (f) => (f.Workflow = { Status: status })),
      );
      const closed = await lastPayloadOf(server, handled.id);
      assert.equal(closed.verdict, 'closed', JSON.stringify(closed));
      assert.match(closed.reason ?? '', new RegExp(`Workflow.Status is ${status}`));
      assert.equal((await alertOf(alertId)).status, 'closed');
    });
  }

  it('still opens none for a finding that first arrives ARCHIVED', async () => {
    const suffix = `handled-archived-${randomUUID()}`;
    await imported(
      handled,
      findingAt(suffix, T1, (f) => (f.RecordState = 'ARCHIVED')),
    );
    const payload = await lastPayloadOf(server, handled.id);
    assert.equal(payload.verdict, 'ignored', JSON.stringify(payload));
    assert.match(payload.reason ?? '', /RecordState is ARCHIVED, and it has no open alert/);
  });

  it('is off by default: a finding that first arrives RESOLVED opens nothing, and neither does its next update', async () => {
    const suffix = `default-resolved-${randomUUID()}`;
    await imported(
      hub,
      findingAt(suffix, T1, (f) => (f.Workflow = { Status: 'RESOLVED' })),
    );
    const first = await lastPayloadOf(server, hub.id);
    assert.equal(first.verdict, 'ignored', JSON.stringify(first));
    assert.match(first.reason ?? '', /RESOLVED/);
    await imported(
      hub,
      findingAt(suffix, T2, (f) => (f.Workflow = { Status: 'RESOLVED' })),
    );
    const again = await lastPayloadOf(server, hub.id);
    assert.equal(again.verdict, 'ignored', JSON.stringify(again));
    assert.match(again.reason ?? '', /RESOLVED, and it has no open alert/);
  });
});

describe('an alert a person opened with the custom action on a handled finding', () => {
  for (const [what, change] of [
    ['RESOLVED', (f: Json) => (f.Workflow = { Status: 'RESOLVED' })],
    ['ARCHIVED', (f: Json) => (f.RecordState = 'ARCHIVED')],
  ] as const) {
    it(`is not closed by the next routine update of the finding still ${what}`, async () => {
      const suffix = `asked-${what}-${randomUUID()}`;
      await imported(hub, findingAt(suffix, T1, change));
      assert.equal((await lastPayloadOf(server, hub.id)).verdict, 'ignored');
      const alertId = await customAction(hub, findingAt(suffix, T1, change));
      assert.equal((await lastPayloadOf(server, hub.id)).verdict, 'created');

      await imported(hub, findingAt(suffix, T2, change));
      const update = await lastPayloadOf(server, hub.id);
      assert.equal(update.verdict, 'updated', JSON.stringify(update));
      assert.equal((await alertOf(alertId)).status, 'open');
    });
  }

  it('is closed when, acknowledged in Vigil (NOTIFIED written back), its finding is resolved again', async () => {
    const suffix = `asked-acked-${randomUUID()}`;
    const resolved = (f: Json) => (f.Workflow = { Status: 'RESOLVED' });
    await imported(hub, findingAt(suffix, T1, resolved));
    const alertId = await customAction(hub, findingAt(suffix, T1, resolved));
    assert.equal((await alertOf(alertId)).details.WorkflowStatus, 'RESOLVED');
    await server.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, {});
    await writesDone(alertId, 1);
    // The echo of the acknowledge: the finding is NOTIFIED; the alert still shows RESOLVED.
    await imported(
      hub,
      findingAt(suffix, T1, (f) => (f.Workflow = { Status: 'NOTIFIED' })),
    );
    assert.equal((await lastPayloadOf(server, hub.id)).verdict, 'ignored');
    // A person resolves it again in Security Hub's console: it became RESOLVED since Vigil's NOTIFIED.
    await imported(hub, findingAt(suffix, T1, resolved));
    const last = await lastPayloadOf(server, hub.id);
    assert.equal(last.verdict, 'closed', JSON.stringify(last));
    assert.equal((await alertOf(alertId)).status, 'closed');
  });
});

describe("the provider's update and Vigil's echo", () => {
  it("is the provider's when its UpdatedAt moved, even when it comes before the echo and carries Vigil's value", async () => {
    const suffix = `overtaken-echo-${randomUUID()}`;
    const alertId = await imported(hub, findingAt(suffix, T1));
    assert.equal((await alertOf(alertId)).priority, 'P3');
    await server.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, {});
    await writesDone(alertId, 1);
    assert.deepEqual(await writtenBack(suffix), { workflowStatus: 'NOTIFIED' });
    const before = await alertOf(alertId);

    // The provider raises its own severity and finds another resource, after Vigil's NOTIFIED was
    // applied (Workflow and the top-level Severity stay as Security Hub holds them); its event is
    // processed first.
    await imported(
      hub,
      findingAt(suffix, T2, (f) => {
        f.Workflow = { Status: 'NOTIFIED' };
        f.FindingProviderFields = { Severity: { Label: 'HIGH' } };
        f.Resources = [{ Type: 'AwsEc2Instance', Id: 'i-0fedcba9876543210' }];
      }),
    );
    const update = await lastPayloadOf(server, hub.id);
    assert.equal(update.verdict, 'updated', JSON.stringify(update));
    const raised = await alertOf(alertId);
    assert.equal(raised.priority, 'P2');
    assert.equal(raised.count, before.count + 1);
    assert.equal(raised.details.ResourceIds, 'i-0fedcba9876543210');
    // The value Vigil wrote has landed: a later NOTIFIED from someone else is theirs.
    assert.deepEqual(await writtenBack(suffix), {});

    // Vigil's own echo, late: older than what was applied.
    await imported(
      hub,
      findingAt(suffix, T1, (f) => (f.Workflow = { Status: 'NOTIFIED' })),
    );
    const echo = await lastPayloadOf(server, hub.id);
    assert.equal(echo.verdict, 'ignored', JSON.stringify(echo));
    assert.equal((await alertOf(alertId)).count, raised.count);
  });

  it('counts the second echo of an acknowledge with a note (two requests, two events) as no new occurrence', async () => {
    const suffix = `two-echoes-${randomUUID()}`;
    const alertId = await imported(hub, findingAt(suffix, T1));
    await server.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, {
      user: 'Alice',
      note: 'looking into it',
    });
    await writesDone(alertId, 2);
    const before = await alertOf(alertId);
    // Both requests applied before Security Hub emitted either event: both carry both values.
    const inHub = aws.findings.get(`${PRODUCT}|${findingArn(suffix)}`);
    assert.equal(inHub?.Workflow?.Status, 'NOTIFIED');
    assert.ok(inHub?.Note);
    const echo = () =>
      findingAt(suffix, T1, (f) => {
        f.Workflow = { Status: 'NOTIFIED' };
        f.Note = inHub?.Note;
      });
    for (const n of [1, 2]) {
      await imported(hub, echo());
      const payload = await lastPayloadOf(server, hub.id);
      assert.equal(payload.verdict, 'ignored', `echo ${n}: ${JSON.stringify(payload)}`);
      assert.match(payload.reason ?? '', /what Vigil wrote back/);
      assert.equal((await alertOf(alertId)).count, before.count, `echo ${n}`);
    }
    // Someone then changes a field the alert shows, in Security Hub's console: a repeat as ever.
    await imported(
      hub,
      findingAt(suffix, T1, (f) => {
        f.Workflow = { Status: 'NOTIFIED' };
        f.Note = inHub?.Note;
        f.Types = ['Effects/Data Exposure'];
      }),
    );
    assert.equal((await lastPayloadOf(server, hub.id)).verdict, 'updated');
    const after = await alertOf(alertId);
    assert.equal(after.count, before.count + 1);
    assert.equal(after.details.Types, 'Effects/Data Exposure');
  });
});

describe('an alert opened while a close of the earlier one was written back', () => {
  it('is closed when the finding, resolved in the console and taken for that echo, comes again RESOLVED', async () => {
    const suffix = `echo-before-close-${randomUUID()}`;
    const first = await imported(hub, findingAt(suffix, T1));
    assert.ok(first);
    await server.callOk('POST', `/v2/alerts/${first}/close`, {});
    await writesDone(first, 1);
    assert.deepEqual(await writtenBack(suffix), { workflowStatus: 'RESOLVED' });

    // The provider's import, emitted before Vigil's RESOLVED landed: the finding is still NEW, and the
    // occurrence opens a new alert (what was written back stays remembered).
    const second = await imported(hub, findingAt(suffix, T2));
    assert.equal((await lastPayloadOf(server, hub.id)).verdict, 'created');
    assert.ok(second && second !== first);
    assert.equal((await alertOf(second)).details.WorkflowStatus, 'NEW');

    // Someone resolves the finding in the console (UpdatedAt unchanged): it carries the value Vigil last
    // wrote, and is taken for its echo; the new alert stays open, and shows the finding as NEW.
    await imported(
      hub,
      findingAt(suffix, T2, (f) => (f.Workflow = { Status: 'RESOLVED' })),
    );
    const taken = await lastPayloadOf(server, hub.id);
    assert.equal(taken.verdict, 'ignored', JSON.stringify(taken));
    assert.match(taken.reason ?? '', /what Vigil wrote back/);
    assert.equal((await alertOf(second)).status, 'open');

    // The provider's next import still says RESOLVED: against what the open alert shows, the finding
    // became RESOLVED, and auto-close closes it.
    await imported(
      hub,
      findingAt(suffix, T3, (f) => (f.Workflow = { Status: 'RESOLVED' })),
    );
    const closed = await lastPayloadOf(server, hub.id);
    assert.equal(closed.verdict, 'closed', JSON.stringify(closed));
    assert.match(closed.reason ?? '', /Workflow.Status is RESOLVED/);
    assert.equal((await alertOf(second)).status, 'closed');
  });
});

describe('Insight Results', () => {
  it("opens each integration's own alert for one event, paging each one's team", async () => {
    await server.callOk('POST', '/v2/teams', { name: 'Team A' });
    const teamB = (await server.callOk('POST', '/v2/teams', { name: 'Team B' })).data;
    const a = await addIntegration('Hub A', 'Team A');
    const b = await addIntegration('Hub B', 'Team B');
    const event = {
      version: '0',
      id: randomUUID(),
      'detail-type': 'Security Hub Insight Results',
      source: 'aws.securityhub',
      account: ACCOUNT,
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: [`arn:aws:securityhub:us-east-1:${ACCOUNT}:action/custom/SendInsight`],
      detail: {
        actionName: 'SendInsight',
        actionDescription: 'Send the insight to Vigil',
        insightArn: `arn:aws:securityhub:us-east-1:${ACCOUNT}:insight/${ACCOUNT}/custom/abc`,
        insightName: 'Hosts with critical findings',
        resultType: 'ResourceId',
        'number of results': '1',
        insightResults: [{ 'i-0123456789abcdef0': 7 }],
      },
    };
    const alertA = await deliverToIntake(server, a, event);
    const alertB = await deliverToIntake(server, b, event);
    assert.ok(alertA && alertB);
    assert.notEqual(alertA, alertB, "B's insight is not counted into A's alert");
    const [ofA, ofB] = [await alertOf(alertA), await alertOf(alertB)];
    assert.equal(ofA.count, 1);
    assert.equal(ofB.count, 1);
    assert.equal(ofB.integration.id, b.id);
    assert.deepEqual(
      ofB.responders.map((r: Json) => r.id),
      [teamB.id],
    );
    // The form is reserved: no one else's alert can take it.
    const taken = await server.call('POST', '/v2/alerts', {
      message: 'mine',
      alias: `securityhub-insight-${b.id}-${randomUUID()}`,
    });
    assert.equal(taken.status, 422, JSON.stringify(taken.body));
  });
});
