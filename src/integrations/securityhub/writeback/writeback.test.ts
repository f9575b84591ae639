import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { sql } from 'kysely';
import { ocsfKey, type FakeAws, type OcsfIdentifier } from '../../../testing/fake-aws.js';
import { VIGIL_COMMAND } from '../../../testing/vigil-cli.js';
import {
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
  deliverToIntake,
} from '../../../testing/harness.js';
import { daysBefore } from '../../../engine/retention.js';
import {
  ACCOUNT,
  PRODUCT,
  ROLE,
  awsEnv,
  findingEvent,
  lastPayload,
  setUpWriteback,
  testFinding,
  type WritebackSetUp,
} from '../../../testing/securityhub-writeback.js';
import { ShiftedClock } from '../../../work/clock.js';

/**
 * The write-back end to end: the real server and workers, the official AWS SDK, and local STS and
 * Security Hub servers that check SigV4 with the assumed credentials, the 100-finding limit and the
 * 10 requests/s (burst 30) throttle.
 */

let server: TestServer;
const clock = new ShiftedClock();
let aws: FakeAws;
let integration: { id: string; path: string; externalId: string };
/** The roles the fake knows, by ARN (a test adds its own once Vigil has made its external ID). */
let roles: WritebackSetUp['roles'];
const children: ChildProcess[] = [];

before(async () => {
  server = await startTestServer({ clock, writeback: { baseDelayMs: 100, maxDelayMs: 1000 } });
  ({ aws, integration, roles } = await setUpWriteback(server));
});

after(async () => {
  for (const child of children) child.kill('SIGKILL');
  await server.stop();
  await aws.close();
});

/**
 * The echo of an acknowledge, a note and a P1 changed nothing: the alert is as it was, and its delivery
 * was ignored as what Vigil wrote back.
 */
async function assertEchoChangedNothing(alertId: string, before: Json): Promise<void> {
  const afterEcho = (await server.call('GET', `/v2/alerts/${alertId}`)).body.data;
  assert.equal(afterEcho.count, before.count);
  assert.equal(afterEcho.priority, 'P1');
  assert.equal(afterEcho.acknowledged, true);
  const payload = await lastPayload(server, integration.id);
  assert.equal(payload.verdict, 'ignored');
  assert.match(payload.reason ?? '', /what Vigil wrote back/);
}

/**
 * A workflow change written straight into the table for a finding the intake knows, as the recorder, a
 * retry or a crash leaves one (created when it falls due); returns its id.
 */
async function insertWorkflowChange(
  client: pg.Client,
  findingId: string,
  change: { value: Json; status: string; seq: number; notBefore: Date; leaseUntil?: Date },
): Promise<string> {
  const row = await client.query<{ id: string }>(
    `INSERT INTO securityhub_writebacks
       (integration_id, alert_id, finding_key, product_arn, finding_id, field, value, event_id, seq,
        status, attempts, not_before, lease_until, created_at, updated_at)
     SELECT f.integration_id, f.alert_id, f.finding_key, f.product_arn, f.finding_id, 'workflow',
       $3, gen_random_uuid(), $4, $5, 1, $6, $7, $6, $6
     FROM securityhub_findings f WHERE f.integration_id = $1 AND f.finding_id = $2
     RETURNING id`,
    [
      integration.id,
      findingId,
      JSON.stringify(change.value),
      change.seq,
      change.status,
      change.notBefore,
      change.leaseUntil ?? null,
    ],
  );
  const id = row.rows[0]?.id;
  assert.ok(id, `the finding ${findingId} is known`);
  return id;
}

async function changeStatus(client: pg.Client, changeId: string): Promise<string | undefined> {
  const row = await client.query<{ status: string }>(
    `SELECT status FROM securityhub_writebacks WHERE id = $1`,
    [changeId],
  );
  return row.rows[0]?.status;
}

/** A finding sent through intake (and known to the fake Security Hub); returns its alert id. */
async function finding(
  suffix: string,
  change: (f: Json) => void = () => {},
): Promise<{ alertId: string; id: string }> {
  const f = testFinding(aws, suffix, { change });
  const id = f.Id as string;
  return { alertId: await deliver(findingEvent('Security Hub Findings - Imported', f, [id])), id };
}

/** Posts an event to the intake and waits for it to be processed; returns the alert id it names. */
const deliver = (event: Json): Promise<string> => deliverToIntake(server, integration, event);

const OCSF_PRODUCT = 'arn:aws:securityhub:us-east-1::productv2/aws/securityhub';

/**
 * An OCSF finding of the new Security Hub sent through intake as a "Findings Imported V2" event (and known
 * to the fake Security Hub); returns its alert id and identifier. The finding's shape is the one
 * findings.test.ts reads: no real V2 event is among the fixtures.
 */
async function ocsfFinding(
  suffix: string,
  change: (f: Json) => void = () => {},
): Promise<{ alertId: string; identifier: OcsfIdentifier }> {
  const identifier: OcsfIdentifier = {
    CloudAccountUid: ACCOUNT,
    FindingInfoUid: `arn:aws:securityhub:us-east-1:${ACCOUNT}:security-control/S3.2/finding/${suffix}`,
    MetadataProductUid: OCSF_PRODUCT,
  };
  const f: Json = {
    activity_id: 1,
    class_uid: 2003,
    category_uid: 2,
    time: Date.parse('2026-11-27T10:00:00Z'),
    severity: 'Medium',
    severity_id: 3,
    status: 'New',
    status_id: 1,
    message: `Test OCSF finding ${suffix}`,
    finding_info: {
      uid: identifier.FindingInfoUid,
      title: `Test OCSF finding ${suffix}`,
      desc: 'An OCSF finding for the write-back tests',
      types: ['Software and Configuration Checks'],
      created_time_dt: '2026-11-27T10:00:00.000Z',
      modified_time_dt: '2026-11-27T10:00:00.000Z',
    },
    metadata: {
      uid: `metadata-${suffix}`,
      version: '1.5.0',
      product: { uid: OCSF_PRODUCT, name: 'Security Hub', vendor_name: 'AWS' },
    },
    cloud: { account: { uid: ACCOUNT }, region: 'us-east-1', provider: 'AWS' },
    resources: [{ uid: 'arn:aws:s3:::example-bucket', type: 'AWS::S3::Bucket', region: 'us-east-1' }],
    compliance: { status: 'Fail', status_id: 3, control: 'S3.2' },
  };
  change(f);
  if (!aws.ocsfFindings.has(ocsfKey(identifier)))
    aws.addOcsfFinding({ ...identifier, MetadataUid: `metadata-${suffix}` });
  const alertId = await deliver({
    version: '0',
    id: randomUUID(),
    'detail-type': 'Findings Imported V2',
    source: 'aws.securityhub',
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [],
    detail: { findings: [f] },
  });
  return { alertId, identifier };
}

type Made = { alertId: string; id: string };

/**
 * `count` findings named `<prefix>-<i>`, delivered 25 at a time: one at a time, the 250 of the bulk test
 * took 39 s of a busy machine's time before the test itself began.
 */
async function findings(prefix: string, count: number): Promise<Made[]> {
  const made: Made[] = [];
  for (let start = 0; start < count; start += 25) {
    const chunk = Array.from({ length: Math.min(25, count - start) }, (_, i) => `${prefix}-${start + i}`);
    made.push(...(await Promise.all(chunk.map((suffix) => finding(suffix)))));
  }
  return made;
}
const held = (id: string) => aws.findings.get(`${PRODUCT}|${id}`);
const batchRequests = () => aws.securityHubRequests.filter((r) => r.operation === 'BatchUpdateFindings');
const heldOcsf = (identifier: OcsfIdentifier) => aws.ocsfFindings.get(ocsfKey(identifier));
/** The status of the alert's write-back change that sends this value. */
async function statusOfValue(alertId: string, value: Json): Promise<string | undefined> {
  const rows = await sql<{ status: string }>`
    SELECT status FROM securityhub_writebacks WHERE alert_id = ${alertId} AND value = ${JSON.stringify(value)}::jsonb`.execute(
    server.app.context.db,
  );
  return rows.rows[0]?.status;
}
/** The requests of either API that name this finding (its ASFF Id, or its OCSF finding_info.uid). */
const requestsNaming = (findingId: string) =>
  aws.securityHubRequests.filter(
    (r) => r.operation.startsWith('BatchUpdateFindings') && JSON.stringify(r.body).includes(findingId),
  );
async function alertLogs(alertId: string): Promise<string[]> {
  const logs = await server.call('GET', `/v2/alerts/${alertId}/logs`);
  return logs.body.data.map((l: Json) => l.log as string);
}

describe('write-back settings', () => {
  it('refuses a role ARN without the prefix, write-back without role or region, and the standard plan', async () => {
    const base = { type: 'AmazonSecurityHub', ownerTeam: { name: 'SecOps' } };
    const prefix = await server.call('POST', '/v2/integrations', {
      ...base,
      name: 'bad role',
      roleArn: `arn:aws:iam::${ACCOUNT}:role/AdminRole`,
    });
    assert.equal(prefix.status, 422);
    assert.match(prefix.body.errors.roleArn, /VigilSecurityHubRole/);
    const notArn = await server.call('POST', '/v2/integrations', {
      ...base,
      name: 'not arn',
      roleArn: 'VigilSecurityHubRole',
    });
    assert.equal(notArn.status, 422);
    const missing = await server.call('POST', '/v2/integrations', {
      ...base,
      name: 'missing',
      sendUpdatesBack: true,
    });
    assert.equal(missing.status, 422);
    assert.match(JSON.stringify(missing.body.errors), /roleArn and region/);

    await server.call('PATCH', '/v2/organization', { plan: 'standard' });
    try {
      const standard = await server.call('PATCH', `/v2/integrations/${integration.id}`, {
        sendUpdatesBack: true,
      });
      assert.equal(standard.status, 403);
      assert.match(standard.body.message, /standard plan/);
    } finally {
      await server.call('PATCH', '/v2/organization', { plan: 'enterprise' });
    }
  });

  it('tests the role: AssumeRole with the external ID, one harmless read, and both write permissions', async () => {
    const requestsBefore = aws.securityHubRequests.length;
    const res = await server.call('POST', `/v2/integrations/${integration.id}/test-writeback`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data, {
      ok: true,
      steps: [
        { step: 'AssumeRole', ok: true },
        { step: 'AssumeRoleWithoutExternalId', ok: true },
        { step: 'GetFindings', ok: true },
        { step: 'BatchUpdateFindings', ok: true },
        { step: 'BatchUpdateFindingsV2', ok: true },
      ],
    });
    const call = aws.assumeRoleCalls.find((c) => c.status === 200);
    assert.equal(call?.externalId, integration.externalId);
    assert.equal(call?.roleArn, ROLE);
    assert.match(call?.sessionName ?? '', /^Vigil-Prod-Hub/);
    // The write checks name a finding that does not exist: AWS answers it unprocessed, nothing changes.
    const writes = aws.securityHubRequests
      .slice(requestsBefore)
      .filter((r) => r.operation.startsWith('BatchUpdateFindings'));
    assert.deepEqual(
      writes.map((r) => [r.operation, r.status]),
      [
        ['BatchUpdateFindings', 200],
        ['BatchUpdateFindingsV2', 200],
      ],
    );
    assert.ok(writes.every((r) => JSON.stringify(r.body).includes('vigil-permission-check')));
  });

  it('tests the role before write-back is turned on: it needs only the role ARN and the region', async () => {
    const role = 'arn:aws:iam::210987654321:role/VigilSecurityHubRoleNotYetOn';
    const created = await server.call('POST', '/v2/integrations', {
      type: 'AmazonSecurityHub',
      name: 'Hub not yet writing back',
      ownerTeam: { name: 'SecOps' },
      verifySignatures: false,
      roleArn: role,
      region: 'us-east-1',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.data.sendUpdatesBack, false);
    roles[role] = { externalId: created.body.data.externalId };
    const res = await server.call('POST', `/v2/integrations/${created.body.data.id}/test-writeback`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.data, {
      ok: true,
      steps: [
        { step: 'AssumeRole', ok: true },
        { step: 'AssumeRoleWithoutExternalId', ok: true },
        { step: 'GetFindings', ok: true },
        { step: 'BatchUpdateFindings', ok: true },
        { step: 'BatchUpdateFindingsV2', ok: true },
      ],
    });
    assert.ok(aws.assumeRoleCalls.some((c) => c.roleArn === role && c.status === 200));
    // Without a role ARN there is nothing to test, and the answer says what is missing.
    const bare = await server.call('POST', '/v2/integrations', {
      type: 'AmazonSecurityHub',
      name: 'Hub without a role',
      ownerTeam: { name: 'SecOps' },
      verifySignatures: false,
      region: 'us-east-1',
    });
    assert.equal(bare.status, 201, JSON.stringify(bare.body));
    const missing = await server.call('POST', `/v2/integrations/${bare.body.data.id}/test-writeback`);
    assert.deepEqual(missing.body.data, {
      ok: false,
      steps: [{ step: 'settings', ok: false, error: 'roleArn is missing' }],
    });
  });

  it('tests the role: a role made before OCSF support, without BatchUpdateFindingsV2, does not pass', async () => {
    const oldRole = 'arn:aws:iam::210987654321:role/VigilSecurityHubRoleBeforeOcsf';
    const created = await server.call('POST', '/v2/integrations', {
      type: 'AmazonSecurityHub',
      name: 'Old Hub',
      ownerTeam: { name: 'SecOps' },
      verifySignatures: false,
      sendUpdatesBack: true,
      roleArn: oldRole,
      region: 'us-east-1',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    roles[oldRole] = {
      externalId: created.body.data.externalId,
      actions: ['securityhub:BatchUpdateFindings', 'securityhub:GetFindings'],
    };
    try {
      const res = await server.call('POST', `/v2/integrations/${created.body.data.id}/test-writeback`);
      assert.equal(res.status, 200);
      const result = res.body.data as { ok: boolean; steps: { step: string; ok: boolean; error?: string }[] };
      assert.equal(result.ok, false);
      assert.deepEqual(
        result.steps.map((s) => [s.step, s.ok]),
        [
          ['AssumeRole', true],
          ['AssumeRoleWithoutExternalId', true],
          ['GetFindings', true],
          ['BatchUpdateFindings', true],
          ['BatchUpdateFindingsV2', false],
        ],
      );
      // AWS's own text, as for every step; the console and the CLI say what to add.
      assert.match(
        result.steps.at(-1)?.error ?? '',
        /^AccessDeniedException: User: arn:aws:sts::210987654321:assumed-role\/VigilSecurityHubRoleBeforeOcsf\/Vigil-Old-Hub is not authorized to perform: securityhub:BatchUpdateFindingsV2/,
      );
    } finally {
      await server.call('DELETE', `/v2/integrations/${created.body.data.id}`);
    }
  });
});

describe('the four mappings', () => {
  it('acknowledge, note, priority and close reach the finding, and their echoes change nothing', async () => {
    const { alertId, id } = await finding('mappings');
    await server.call('POST', `/v2/alerts/${alertId}/acknowledge`, { user: 'Alice Example' });
    await waitFor('NOTIFIED', async () => held(id)?.Workflow?.Status === 'NOTIFIED');

    await server.call('POST', `/v2/alerts/${alertId}/notes`, {
      note: 'Isolating the instance',
      user: 'Alice Example',
    });
    await waitFor('the note', async () => held(id)?.Note?.Text === 'Isolating the instance');
    assert.equal(held(id)?.Note?.UpdatedBy, 'Alice Example');

    await server.call('PUT', `/v2/alerts/${alertId}/priority`, { priority: 'P1' });
    await waitFor('CRITICAL', async () => held(id)?.Severity?.Label === 'CRITICAL');

    // The echo: Security Hub emits Findings - Imported with what Vigil wrote. Nothing changes.
    const before = (await server.call('GET', `/v2/alerts/${alertId}`)).body.data;
    const echo = await finding('mappings', (f) => {
      f.Workflow = { Status: 'NOTIFIED' };
      f.Severity = { Label: 'CRITICAL' };
      f.Note = {
        Text: 'Isolating the instance',
        UpdatedBy: 'Alice Example',
        UpdatedAt: new Date().toISOString(),
      };
    });
    assert.equal(echo.alertId, alertId);
    await assertEchoChangedNothing(alertId, before);

    await server.call('POST', `/v2/alerts/${alertId}/close`, { user: 'Alice Example' });
    await waitFor('RESOLVED', async () => held(id)?.Workflow?.Status === 'RESOLVED');
    const requestsBefore = batchRequests().length;
    // The echo of the close neither reopens the alert nor opens a new one, nor writes anything.
    const closedEcho = await finding('mappings', (f) => (f.Workflow = { Status: 'RESOLVED' }));
    assert.equal(closedEcho.alertId, undefined);
    const count = await server.call(
      'GET',
      `/v2/alerts/count?query=${encodeURIComponent(`details.FindingId:"${id}"`)}`,
    );
    assert.equal(count.body.data.count, 1);
    await server.idle();
    assert.equal(batchRequests().length, requestsBefore);

    const logs = await server.call('GET', `/v2/alerts/${alertId}/logs`);
    assert.ok(
      logs.body.data.some((l: Json) =>
        /Finding updated in Security Hub: Workflow.Status RESOLVED/.test(l.log),
      ),
    );
  });

  it('acts on a value Vigil once wrote back when someone else sets it later', async () => {
    const { alertId, id } = await finding('echo-then-console');
    await server.call('POST', `/v2/alerts/${alertId}/close`, { user: 'Alice Example' });
    await waitFor('RESOLVED', async () => held(id)?.Workflow?.Status === 'RESOLVED');
    await finding('echo-then-console', (f) => (f.Workflow = { Status: 'RESOLVED' }));
    const echo = await server.call('GET', `/v2/integrations/${integration.id}/payloads?limit=1`);
    assert.match(echo.body.data[0].reason, /what Vigil wrote back/);

    // The provider finds it again: Security Hub sets the workflow back to NEW, and a new alert opens.
    const reopened = await finding('echo-then-console', (f) => {
      f.UpdatedAt = '2026-11-27T11:00:00Z';
      f.Workflow = { Status: 'NEW' };
    });
    assert.ok(reopened.alertId && reopened.alertId !== alertId, 'a new alert for the new occurrence');
    // An analyst resolves it in Security Hub's console (BatchUpdateFindings keeps UpdatedAt): the same
    // value Vigil once wrote, but not Vigil's doing this time.
    await finding('echo-then-console', (f) => {
      f.UpdatedAt = '2026-11-27T11:00:00Z';
      f.Workflow = { Status: 'RESOLVED' };
    });
    assert.equal((await server.call('GET', `/v2/alerts/${reopened.alertId}`)).body.data.status, 'closed');
  });

  it("drops the earlier alert's workflow change still waiting when the finding opens a new alert", async () => {
    const { alertId, id } = await finding('reopened-while-waiting');
    await server.call('POST', `/v2/alerts/${alertId}/close`, { user: 'Alice Example' });
    await waitFor('RESOLVED', async () => held(id)?.Workflow?.Status === 'RESOLVED');
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    try {
      // The close's change as a retry would be: waiting, due in ten minutes.
      const waiting = await insertWorkflowChange(client, id, {
        value: { Status: 'RESOLVED' },
        status: 'pending',
        seq: 0,
        notBefore: new Date(clock.now().getTime() + 600_000),
      });
      // The provider finds it again: Security Hub sets it back to NEW, and a new alert opens.
      const reopened = await finding('reopened-while-waiting', (f) => {
        f.UpdatedAt = '2026-11-27T12:00:00Z';
        f.Workflow = { Status: 'NEW' };
      });
      assert.ok(reopened.alertId && reopened.alertId !== alertId);
      assert.equal(
        await changeStatus(client, waiting),
        'superseded',
        'sent later, it would mark the open alert handled',
      );
    } finally {
      await client.end();
    }
  });

  it('closes on an archive that comes with a value Vigil wrote back', async () => {
    const { alertId, id } = await finding('echo-and-archive');
    await server.call('POST', `/v2/alerts/${alertId}/acknowledge`, { user: 'Alice Example' });
    await waitFor('NOTIFIED', async () => held(id)?.Workflow?.Status === 'NOTIFIED');
    await finding('echo-and-archive', (f) => {
      f.Workflow = { Status: 'NOTIFIED' };
      f.RecordState = 'ARCHIVED';
    });
    assert.equal((await server.call('GET', `/v2/alerts/${alertId}`)).body.data.status, 'closed');
  });

  it('writes nothing back for what Security Hub itself changed', async () => {
    const { alertId, id } = await finding('auto-closed');
    const before = batchRequests().length;
    await finding('auto-closed', (f) => (f.Workflow = { Status: 'RESOLVED' }));
    assert.equal((await server.call('GET', `/v2/alerts/${alertId}`)).body.data.status, 'closed');
    await server.idle();
    assert.equal(batchRequests().length, before);
    assert.equal(held(id)?.updates ?? 0, 0);
  });

  it("writes back what a script does with an API integration's key, signed with the user it names", async () => {
    const apiKey = (
      await server.callOk('POST', '/v2/integrations', {
        type: 'API',
        name: 'SecOps scripts',
        ownerTeam: { name: 'SecOps' },
      })
    ).data.apiKey as string;
    const { alertId, id } = await finding('api-integration');
    const ack = await server.call('POST', `/v2/alerts/${alertId}/acknowledge`, { user: 'alice' }, apiKey);
    assert.equal(ack.status, 202, JSON.stringify(ack.body));
    await waitFor('NOTIFIED', async () => held(id)?.Workflow?.Status === 'NOTIFIED');
    const request = requestsNaming(id).at(-1);
    assert.equal(request?.operation, 'BatchUpdateFindings');
    assert.deepEqual((request?.body as Json).Workflow, { Status: 'NOTIFIED' });

    await server.call(
      'POST',
      `/v2/alerts/${alertId}/notes`,
      { note: 'Ticket SEC-42', user: 'alice' },
      apiKey,
    );
    await waitFor('the note', async () => held(id)?.Note?.Text === 'Ticket SEC-42');
    assert.equal(held(id)?.Note?.UpdatedBy, 'alice');
  });
});

/**
 * Closes these alerts at one instant of the server's clock, and lets it go on only once every close is
 * recorded for the write-back: their changes are then claimed together, whatever the machine's pace.
 */
async function closeTogether(made: readonly Made[]): Promise<void> {
  const release = clock.hold();
  try {
    await Promise.all(made.map((m) => server.call('POST', `/v2/alerts/${m.alertId}/close`, {})));
    await waitFor('every close recorded for the write-back', async () => {
      const rows = await query<{ n: number }>(
        `SELECT count(*)::int AS n FROM securityhub_writebacks
         WHERE finding_id = ANY($1) AND field = 'workflow' AND status = 'pending'`,
        [made.map((m) => m.id)],
      );
      return rows[0]?.n === made.length;
    });
  } finally {
    release();
  }
}

async function query<T extends object>(text: string, values: unknown[]): Promise<T[]> {
  const client = new pg.Client({ connectionString: server.databaseUrl });
  await client.connect();
  try {
    return (await client.query<T>(text, values)).rows;
  } finally {
    await client.end();
  }
}

describe('findings of the new Security Hub (OCSF)', () => {
  it('acknowledge, note, priority and close reach the finding through BatchUpdateFindingsV2, and their echoes change nothing', async () => {
    const { alertId, identifier } = await ocsfFinding('ocsf-mappings');
    const v1Before = batchRequests().length;
    await server.call('POST', `/v2/alerts/${alertId}/acknowledge`, { user: 'Alice Example' });
    await waitFor('In Progress', async () => heldOcsf(identifier)?.StatusId === 2);

    const note = `Isolating the bucket ${'x'.repeat(600)}`;
    await server.call('POST', `/v2/alerts/${alertId}/notes`, { note, user: 'Alice Example' });
    await waitFor('the comment', async () => heldOcsf(identifier)?.Comment !== undefined);
    const comment = heldOcsf(identifier)?.Comment ?? '';
    // Cut to BatchUpdateFindingsV2's 512 characters as a Note's Text is.
    assert.equal(comment.length, 512);
    assert.ok(comment.startsWith('Isolating the bucket xxx'));

    await server.call('PUT', `/v2/alerts/${alertId}/priority`, { priority: 'P1' });
    await waitFor('Critical', async () => heldOcsf(identifier)?.SeverityId === 5);

    const mine = requestsNaming(identifier.FindingInfoUid);
    assert.deepEqual(
      mine.map((r) => [r.operation, r.status]),
      mine.map(() => ['BatchUpdateFindingsV2', 200]),
    );
    assert.deepEqual(
      mine.map((r) => {
        const { FindingIdentifiers, ...update } = r.body as Json;
        assert.deepEqual(FindingIdentifiers, [identifier]);
        return update;
      }),
      [{ StatusId: 2 }, { Comment: comment }, { SeverityId: 5 }],
    );
    assert.equal(batchRequests().length, v1Before, 'nothing through BatchUpdateFindings');

    // The echo: Security Hub emits Findings Imported V2 with what Vigil wrote. Nothing changes.
    const before = (await server.call('GET', `/v2/alerts/${alertId}`)).body.data;
    const echo = await ocsfFinding('ocsf-mappings', (f) => {
      f.status = 'In Progress';
      f.status_id = 2;
      f.severity = 'Critical';
      f.severity_id = 5;
      f.comment = comment;
    });
    assert.equal(echo.alertId, alertId);
    await assertEchoChangedNothing(alertId, before);

    await server.call('POST', `/v2/alerts/${alertId}/close`, { user: 'Alice Example' });
    await waitFor('Resolved', async () => heldOcsf(identifier)?.StatusId === 4);
    const requestsBefore = aws.securityHubRequests.length;
    // The echo of the close neither reopens the alert nor opens a new one, nor writes anything.
    const closedEcho = await ocsfFinding('ocsf-mappings', (f) => {
      f.status = 'Resolved';
      f.status_id = 4;
      f.severity = 'Critical';
      f.severity_id = 5;
      f.comment = comment;
    });
    assert.equal(closedEcho.alertId, alertId);
    const closedPayload = await server.call('GET', `/v2/integrations/${integration.id}/payloads?limit=1`);
    assert.match(closedPayload.body.data[0].reason, /what Vigil wrote back/);
    assert.equal((await server.call('GET', `/v2/alerts/${alertId}`)).body.data.status, 'closed');
    await server.idle();
    assert.equal(aws.securityHubRequests.length, requestsBefore);
    assert.equal(heldOcsf(identifier)?.updates, 4);
    assert.ok((await alertLogs(alertId)).includes('Finding updated in Security Hub: StatusId 4 (RESOLVED)'));
  });

  for (const order of [
    [4, 5],
    [5, 4],
  ] as const) {
    it(`takes the echoes of a P2 and then a P1 (come back ${order.join(' then ')}) for Vigil's own`, async () => {
      const { alertId, identifier } = await ocsfFinding(`ocsf-priority-echoes-${order.join('-')}`);
      assert.equal((await server.call('GET', `/v2/alerts/${alertId}`)).body.data.priority, 'P3');
      await server.call('PUT', `/v2/alerts/${alertId}/priority`, { priority: 'P2' });
      await waitFor('High', async () => heldOcsf(identifier)?.SeverityId === 4);
      await server.call('PUT', `/v2/alerts/${alertId}/priority`, { priority: 'P1' });
      await waitFor('Critical', async () => heldOcsf(identifier)?.SeverityId === 5);
      const before = (await server.call('GET', `/v2/alerts/${alertId}`)).body.data;
      // Each echo carries the finding's modified_time as it was (BatchUpdateFindingsV2 keeps it).
      for (const severityId of order) {
        await ocsfFinding(`ocsf-priority-echoes-${order.join('-')}`, (f) => {
          f.severity = severityId === 4 ? 'High' : 'Critical';
          f.severity_id = severityId;
        });
        const payload = await server.call('GET', `/v2/integrations/${integration.id}/payloads?limit=1`);
        assert.equal(payload.body.data[0].verdict, 'ignored', `the echo of ${severityId}`);
        assert.match(payload.body.data[0].reason, /what Vigil wrote back/);
        const now = (await server.call('GET', `/v2/alerts/${alertId}`)).body.data;
        assert.equal(now.priority, 'P1', `after the echo of ${severityId}`);
        assert.equal(now.count, before.count);
      }
      assert.ok(!(await alertLogs(alertId)).some((l) => /from P1 to P2/.test(l)));
    });
  }

  it('closes an ASFF and an OCSF finding together in two requests, one per API', async () => {
    const asff = await finding('mixed-asff');
    const ocsf = await ocsfFinding('mixed-ocsf');
    // "Together": both closes recorded at one instant of the server's clock, so they are claimed together.
    await closeTogether([asff, { alertId: ocsf.alertId, id: ocsf.identifier.FindingInfoUid }]);
    await waitFor(
      'both written',
      async () => held(asff.id)?.Workflow?.Status === 'RESOLVED' && heldOcsf(ocsf.identifier)?.StatusId === 4,
    );
    const v1 = requestsNaming(asff.id);
    const v2 = requestsNaming(ocsf.identifier.FindingInfoUid);
    assert.deepEqual(
      v1.map((r) => [r.operation, r.body]),
      [
        [
          'BatchUpdateFindings',
          { FindingIdentifiers: [{ Id: asff.id, ProductArn: PRODUCT }], Workflow: { Status: 'RESOLVED' } },
        ],
      ],
    );
    assert.deepEqual(
      v2.map((r) => [r.operation, r.body]),
      [['BatchUpdateFindingsV2', { FindingIdentifiers: [ocsf.identifier], StatusId: 4 }]],
    );
  });

  it('does not give up the ASFF finding when BatchUpdateFindingsV2 refuses the OCSF one', async () => {
    const asff = await finding('refused-v2-asff');
    const ocsf = await ocsfFinding('refused-v2-ocsf');
    aws.failNext(1, 400, 'BatchUpdateFindingsV2');
    await closeTogether([asff, { alertId: ocsf.alertId, id: ocsf.identifier.FindingInfoUid }]);
    await waitFor('the ASFF finding RESOLVED', async () => held(asff.id)?.Workflow?.Status === 'RESOLVED');
    const refused = await waitFor('the OCSF write-back given up', async () =>
      (await alertLogs(ocsf.alertId)).find((l) => l.startsWith('Could not update the finding')),
    );
    assert.equal(
      refused,
      'Could not update the finding in Security Hub (StatusId 4 (RESOLVED)): ValidationException: The request failed validation',
    );
    // Security Hub holds the update before Vigil has logged its answer: wait for the log line.
    await waitFor('the ASFF write-back logged', async () =>
      (await alertLogs(asff.alertId)).includes('Finding updated in Security Hub: Workflow.Status RESOLVED'),
    );
    await server.idle();
    // A 400 is not retried: one request for the OCSF finding, and it holds nothing.
    assert.deepEqual(
      requestsNaming(ocsf.identifier.FindingInfoUid).map((r) => [r.operation, r.status]),
      [['BatchUpdateFindingsV2', 400]],
    );
    assert.equal(heldOcsf(ocsf.identifier)?.updates, 0);
  });

  it('closes the alert when the provider closes the finding (activity Close), and opens none for one first seen closed', async () => {
    const close = (f: Json) => {
      f.activity_id = 3;
      f.activity_name = 'Close';
    };
    const { alertId, identifier } = await ocsfFinding(
      'ocsf-provider-close',
      (f) => (f.activity_name = 'Create'),
    );
    assert.ok(alertId);
    const closed = await ocsfFinding('ocsf-provider-close', close);
    assert.equal(closed.alertId, alertId);
    assert.equal((await server.call('GET', `/v2/alerts/${alertId}`)).body.data.status, 'closed');
    const notes = await server.call('GET', `/v2/alerts/${alertId}/notes`);
    assert.match(notes.body.data[0].note, /RecordState is ARCHIVED/);
    // The close is Security Hub's own: nothing goes back.
    await server.idle();
    assert.deepEqual(requestsNaming(identifier.FindingInfoUid), []);

    const firstSeen = await ocsfFinding('ocsf-first-seen-closed', (f) => {
      f.activity_id = undefined;
      f.activity_name = 'close';
    });
    assert.equal(firstSeen.alertId, undefined);
    const payload = await server.call('GET', `/v2/integrations/${integration.id}/payloads?limit=1`);
    assert.match(payload.body.data[0].reason, /ARCHIVED, and it has no open alert/);
  });

  it('leaves the alert open when the provider closes the finding and autoClose.archived is off', async () => {
    const patched = await server.call('PATCH', `/v2/integrations/${integration.id}`, {
      autoClose: { archived: false },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    try {
      const { alertId } = await ocsfFinding('ocsf-close-kept-open');
      await ocsfFinding('ocsf-close-kept-open', (f) => {
        f.activity_id = 3;
        f.activity_name = 'Close';
      });
      const alert = (await server.call('GET', `/v2/alerts/${alertId}`)).body.data;
      assert.equal(alert.status, 'open');
      assert.equal(alert.details.RecordState, 'ARCHIVED');
    } finally {
      await server.call('PATCH', `/v2/integrations/${integration.id}`, { autoClose: { archived: true } });
    }
  });

  it('closes on a provider Close that comes with a value Vigil wrote back', async () => {
    const { alertId, identifier } = await ocsfFinding('ocsf-echo-and-close');
    await server.call('POST', `/v2/alerts/${alertId}/acknowledge`, { user: 'Alice Example' });
    await waitFor('In Progress', async () => heldOcsf(identifier)?.StatusId === 2);
    await ocsfFinding('ocsf-echo-and-close', (f) => {
      f.status = 'In Progress';
      f.status_id = 2;
      f.activity_id = 3;
      f.activity_name = 'Close';
    });
    assert.equal((await server.call('GET', `/v2/alerts/${alertId}`)).body.data.status, 'closed');
  });
});

/** How many of these findings have a close waiting to be written back. */
async function pendingCloses(findingIds: string[]): Promise<number> {
  const client = new pg.Client({ connectionString: server.databaseUrl });
  await client.connect();
  try {
    const result = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM securityhub_writebacks
       WHERE finding_id = ANY($1) AND field = 'workflow' AND status = 'pending' AND value->>'Status' = 'RESOLVED'`,
      [findingIds],
    );
    return result.rows[0]?.n ?? 0;
  } finally {
    await client.end();
  }
}

describe('batching, limits and failures', () => {
  it('closes 250 alerts in at most 3 requests', async () => {
    const made = await findings('bulk', 250);
    const before = batchRequests().length;
    // "At once": all 250 closes sent together, and recorded for the write-back at one instant of the
    // server's clock, however long a busy machine takes to handle them.
    const release = clock.hold();
    try {
      await Promise.all(made.map((m) => server.call('POST', `/v2/alerts/${m.alertId}/close`, {})));
      await waitFor(
        'every close recorded for the write-back',
        async () => (await pendingCloses(made.map((m) => m.id))) === made.length,
        60_000,
      );
    } finally {
      release();
    }
    await waitFor(
      'all RESOLVED',
      async () => made.every((m) => held(m.id)?.Workflow?.Status === 'RESOLVED'),
      20_000,
    );
    const used = batchRequests().slice(before);
    assert.ok(
      used.length <= 3,
      `${used.length} requests: ${used.map((r) => `${((r.body as Json).FindingIdentifiers as unknown[]).length}@${r.at - (used[0]?.at ?? 0)}ms`).join(', ')}`,
    );
    assert.ok(used.every((r) => ((r.body as Json).FindingIdentifiers as unknown[]).length <= 100));
  });

  it('rides out 429 and 500 storms and loses nothing', async () => {
    const made = await findings('storm', 5);
    aws.failNext(3, 429);
    aws.failNext(3, 500);
    await Promise.all(made.map((m) => server.call('POST', `/v2/alerts/${m.alertId}/acknowledge`, {})));
    await waitFor(
      'all NOTIFIED',
      async () => made.every((m) => held(m.id)?.Workflow?.Status === 'NOTIFIED'),
      20_000,
    );
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    try {
      const rows = await client.query(
        `SELECT status, count(*)::int AS n FROM securityhub_writebacks WHERE alert_id = ANY($1::uuid[]) GROUP BY status`,
        [made.map((m) => m.alertId)],
      );
      assert.deepEqual(rows.rows, [{ status: 'done', n: 5 }]);
    } finally {
      await client.end();
    }
  });

  it('retries ConcurrentUpdateError, and shows FindingNotFound on the alert and the integration', async () => {
    const retried = await finding('concurrent');
    aws.refuseFinding(retried.id, PRODUCT, 'ConcurrentUpdateError', 2);
    await server.call('POST', `/v2/alerts/${retried.alertId}/acknowledge`, {});
    await waitFor(
      'NOTIFIED after retries',
      async () => held(retried.id)?.Workflow?.Status === 'NOTIFIED',
      20_000,
    );

    const gone = await finding('gone');
    aws.findings.delete(`${PRODUCT}|${gone.id}`);
    await server.call('POST', `/v2/alerts/${gone.alertId}/acknowledge`, {});
    await waitFor('the failure on the activity log', async () => {
      const logs = await server.call('GET', `/v2/alerts/${gone.alertId}/logs`);
      return logs.body.data.some((l: Json) => /FindingNotFound/.test(l.log));
    });
    // The integration's status is written after the alerts' log lines: waited for, not read at once.
    let status: Json;
    await waitFor('the failure on the integration', async () => {
      status = (await server.call('GET', `/v2/integrations/${integration.id}`)).body.data.writebackStatus;
      return status?.ok === false;
    });
    assert.match(status.error, /FindingNotFound/);
  });

  it('gives up after 24 hours of retries and tells the owner team', async () => {
    const { alertId } = await finding('day-old');
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    try {
      // A change that has been failing for a day: the clock is moved by ageing the row, not by waiting.
      aws.failNext(1, 500);
      await server.call('POST', `/v2/alerts/${alertId}/acknowledge`, {});
      await waitFor('the write-back row', async () => {
        const rows = await client.query(`SELECT id FROM securityhub_writebacks WHERE alert_id = $1`, [
          alertId,
        ]);
        return rows.rows.length > 0;
      });
      await client.query(
        `UPDATE securityhub_writebacks SET created_at = now() - interval '25 hours' WHERE alert_id = $1`,
        [alertId],
      );
      await waitFor('the give-up alert', async () => {
        const res = await server.call(
          'GET',
          `/v2/alerts?query=${encodeURIComponent('tag:writeback status:open')}`,
        );
        return res.body.data.some((a: Json) =>
          /Write-back to Amazon Security Hub is failing for Prod Hub/.test(a.message),
        );
      });
      const row = await client.query(
        `SELECT status, last_error FROM securityhub_writebacks WHERE alert_id = $1`,
        [alertId],
      );
      assert.equal(row.rows[0].status, 'failed');
      assert.match(row.rows[0].last_error, /24 hours/);
    } finally {
      await client.end();
    }
  });

  it('ends RESOLVED when a close follows an acknowledge in flight', async () => {
    const { alertId, id } = await finding('ordering');
    aws.setLatency(800);
    try {
      const before = batchRequests().length;
      await server.call('POST', `/v2/alerts/${alertId}/acknowledge`, {});
      await waitFor('the acknowledge in flight', async () => batchRequests().length > before);
      await server.call('POST', `/v2/alerts/${alertId}/close`, {});
      await waitFor('RESOLVED', async () => held(id)?.Workflow?.Status === 'RESOLVED', 20_000);
      await server.idle();
      assert.equal(held(id)?.Workflow?.Status, 'RESOLVED');
      const mine = batchRequests()
        .slice(before)
        .map((r) => (r.body as Json).Workflow?.Status);
      assert.deepEqual(mine, ['NOTIFIED', 'RESOLVED']);
    } finally {
      aws.setLatency(0);
    }
  });

  /**
   * An older change of a field refused for a retry while a newer one of the same field was made: the
   * newer goes first, and the older must not follow it. Returns the values this finding was sent, and
   * the statuses the alert's changes ended with.
   */
  async function retriedBehindNewer(
    suffix: string,
    change: {
      fail: (findingId: string) => void;
      older: (alertId: string) => Promise<unknown>;
      newer: (alertId: string) => Promise<unknown>;
      newerValue: Json;
    },
  ): Promise<{ id: string; sent: Json[]; statuses: string[] }> {
    const { alertId, id } = await finding(suffix);
    await server.idle();
    const before = batchRequests().length;
    const mine = () =>
      batchRequests()
        .slice(before)
        .filter((r) => ((r.body as Json).FindingIdentifiers as Json[]).some((f) => f.Id === id));
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    try {
      change.fail(id);
      aws.setLatency(800);
      try {
        await change.older(alertId);
        await waitFor('the older change in flight', async () => mine().length > 0);
        await change.newer(alertId);
        await waitFor('the newer change recorded', async () => {
          const rows = await client.query(
            `SELECT 1 FROM securityhub_writebacks WHERE alert_id = $1 AND value = $2::jsonb`,
            [alertId, JSON.stringify(change.newerValue)],
          );
          return rows.rows.length > 0;
        });
      } finally {
        aws.setLatency(0);
      }
      // Waited for by the rows, not server.idle(): a retry backing off is not due, so not waited for.
      const statuses = await waitFor(
        'every change of the alert settled',
        async () => {
          const rows = await client.query<{ status: string }>(
            `SELECT status FROM securityhub_writebacks WHERE alert_id = $1 ORDER BY id`,
            [alertId],
          );
          const all = rows.rows.map((r) => r.status);
          return all.some((s) => s === 'pending' || s === 'sending') ? undefined : all;
        },
        20_000,
      );
      return { id, sent: mine().map((r) => r.body as Json), statuses };
    } finally {
      await client.end();
    }
  }

  it('never sends a retried acknowledge after the close made while it was in flight', async () => {
    const { id, sent, statuses } = await retriedBehindNewer('retried-workflow', {
      fail: (findingId) => aws.refuseFinding(findingId, PRODUCT, 'ConcurrentUpdateError', 1),
      older: (alertId) => server.call('POST', `/v2/alerts/${alertId}/acknowledge`, {}),
      newer: (alertId) => server.call('POST', `/v2/alerts/${alertId}/close`, {}),
      newerValue: { Status: 'RESOLVED' },
    });
    assert.equal(held(id)?.Workflow?.Status, 'RESOLVED');
    assert.deepEqual(
      sent.map((b) => b.Workflow?.Status),
      ['NOTIFIED', 'RESOLVED'],
    );
    assert.deepEqual(statuses, ['superseded', 'done']);
  });

  it('never sends a priority retried after a 500 behind the priority made while it was in flight', async () => {
    const { id, sent, statuses } = await retriedBehindNewer('retried-severity', {
      fail: () => aws.failNext(1, 500),
      older: (alertId) => server.call('PUT', `/v2/alerts/${alertId}/priority`, { priority: 'P1' }),
      newer: (alertId) => server.call('PUT', `/v2/alerts/${alertId}/priority`, { priority: 'P5' }),
      newerValue: { Label: 'INFORMATIONAL' },
    });
    assert.equal(held(id)?.Severity?.Label, 'INFORMATIONAL');
    assert.deepEqual(
      sent.map((b) => b.Severity?.Label),
      ['CRITICAL', 'INFORMATIONAL'],
    );
    assert.deepEqual(statuses, ['superseded', 'done']);
  });

  /**
   * A change of Vigil's that Security Hub keeps refusing (ConcurrentUpdateError) while someone sets a newer
   * value of its field in Security Hub: once the intake has seen that value, the change is never sent
   * again, though Security Hub would now take it. Waiting: the delivery comes while the change backs off
   * (the server's clock held, so that no retry falls due meanwhile). In flight: it comes while AWS is
   * still answering one attempt (the fake holds its answer until the delivery has been processed, and the
   * change is seen 'sending' just before it). Returns the change's status and what was sent after the
   * delivery.
   */
  async function retriedBehindSecurityHub(
    suffix: string,
    change: {
      when: 'waiting' | 'in flight';
      older: (alertId: string) => Promise<unknown>;
      olderValue: Json;
      /** The newer value as Security Hub holds it and delivers it. */
      inHub: (f: Json) => void;
    },
  ): Promise<{ alertId: string; id: string; status: string; sentAfter: Json[] }> {
    const { alertId, id } = await finding(suffix);
    await server.idle();
    const sentSince = (index: number) =>
      batchRequests()
        .slice(index)
        .filter((r) => ((r.body as Json).FindingIdentifiers as Json[]).some((f) => f.Id === id))
        .map((r) => r.body as Json);
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    const row = async () =>
      (
        await client.query<{ status: string; not_before: Date }>(
          `SELECT status, not_before FROM securityhub_writebacks WHERE alert_id = $1 AND value = $2::jsonb`,
          [alertId, JSON.stringify(change.olderValue)],
        )
      ).rows[0];
    let release: (() => void) | undefined;
    let answer: (() => void) | undefined;
    try {
      aws.refuseFinding(id, PRODUCT, 'ConcurrentUpdateError');
      const before = batchRequests().length;
      await change.older(alertId);
      await waitFor('the change refused twice', async () => sentSince(before).length >= 2, 20_000);
      if (change.when === 'waiting') {
        release = clock.hold();
        const heldAt = clock.now();
        await waitFor('the change backing off', async () => {
          const r = await row();
          return r?.status === 'pending' && r.not_before > heldAt;
        });
      } else {
        answer = aws.holdAnswers();
        const attempts = batchRequests().length;
        await waitFor('an attempt in flight', async () =>
          batchRequests()
            .slice(attempts)
            .some((r) => JSON.stringify(r.body).includes(id)),
        );
        // Its answer is held: the change is being sent, and stays so until the delivery is processed.
        assert.equal((await row())?.status, 'sending');
      }
      // Someone changes the finding in Security Hub: the fake holds the value, and its event comes.
      const hub = held(id);
      assert.ok(hub);
      change.inHub(hub as unknown as Json);
      const delivered = batchRequests().length;
      await finding(suffix, (f) => {
        f.UpdatedAt = '2026-11-27T10:30:00Z';
        change.inHub(f);
      });
      // From now on Security Hub would take the change: only the intake's supersede keeps it out.
      aws.refuseFinding(id, PRODUCT, 'ConcurrentUpdateError', 0);
      const reset = batchRequests().length;
      // The attempt in flight is answered (refused, as decided when it came) only now, after the delivery:
      // its outcome is what could put it back to be retried.
      answer?.();
      answer = undefined;
      release?.();
      release = undefined;
      if (change.when === 'in flight') {
        // The sender's rounds run one at a time (one process here): a change made now goes in a later
        // round than the held attempt's, so once it is done, that attempt's refusal has been settled.
        const later = await finding(`${suffix}-later`);
        await server.call('POST', `/v2/alerts/${later.alertId}/acknowledge`, {});
        await waitFor(
          'a later round of the sender',
          async () =>
            (
              await client.query(
                `SELECT 1 FROM securityhub_writebacks WHERE alert_id = $1 AND status = 'done'`,
                [later.alertId],
              )
            ).rowCount === 1,
          20_000,
        );
      }
      const status = await waitFor(
        'the change settled',
        async () => {
          const r = await row();
          return r && r.status !== 'pending' && r.status !== 'sending' ? r.status : undefined;
        },
        20_000,
      );
      await server.idle();
      assert.deepEqual(sentSince(reset), [], 'nothing is sent once Security Hub would take it');
      return { alertId, id, status, sentAfter: sentSince(change.when === 'waiting' ? delivered : reset) };
    } finally {
      answer?.();
      release?.();
      await client.end();
    }
  }

  for (const when of ['waiting', 'in flight'] as const) {
    it(`never sends an acknowledge retried (${when}) after the finding was resolved in Security Hub`, async () => {
      const { alertId, id, status, sentAfter } = await retriedBehindSecurityHub(
        `hub-resolved-${when.replace(' ', '-')}`,
        {
          when,
          older: (alertId) => server.call('POST', `/v2/alerts/${alertId}/acknowledge`, {}),
          olderValue: { Status: 'NOTIFIED' },
          inHub: (f) => (f.Workflow = { Status: 'RESOLVED' }),
        },
      );
      assert.equal((await server.call('GET', `/v2/alerts/${alertId}`)).body.data.status, 'closed');
      assert.equal(held(id)?.Workflow?.Status, 'RESOLVED');
      assert.equal(status, 'superseded');
      assert.deepEqual(
        sentAfter.filter((b) => b.Workflow?.Status === 'NOTIFIED'),
        [],
      );
    });
  }

  it('sends a close held back while the echo of the acknowledge before it comes: the finding ends RESOLVED', async () => {
    const { alertId, id } = await finding('echo-before-close');
    await server.idle();
    const statusOf = (value: Json) => statusOfValue(alertId, value);
    try {
      // The acknowledge is sent; its echo is not delivered yet.
      await server.call('POST', `/v2/alerts/${alertId}/acknowledge`, {});
      await waitFor('the acknowledge sent', async () => (await statusOf({ Status: 'NOTIFIED' })) === 'done');
      assert.equal(held(id)?.Workflow?.Status, 'NOTIFIED');
      // The close is recorded (written_back now remembers RESOLVED), and Security Hub refuses it.
      aws.refuseFinding(id, PRODUCT, 'ConcurrentUpdateError');
      const before = batchRequests().length;
      await server.call('POST', `/v2/alerts/${alertId}/close`, {});
      await waitFor('the close refused', async () =>
        batchRequests()
          .slice(before)
          .some((r) => r.status === 200 && JSON.stringify(r.body).includes(id)),
      );
      // The acknowledge's echo comes (BatchUpdateFindings left UpdatedAt as it was): Vigil's own NOTIFIED.
      await finding('echo-before-close', (f) => (f.Workflow = { Status: 'NOTIFIED' }));
      assert.notEqual(await statusOf({ Status: 'RESOLVED' }), 'superseded');
      // Security Hub takes the close now: it is sent, and the finding ends RESOLVED.
      aws.refuseFinding(id, PRODUCT, 'ConcurrentUpdateError', 0);
      await waitFor(
        'the close sent',
        async () => (await statusOf({ Status: 'RESOLVED' })) === 'done',
        20_000,
      );
      assert.equal(held(id)?.Workflow?.Status, 'RESOLVED');
      assert.equal((await server.call('GET', `/v2/alerts/${alertId}`)).body.data.status, 'closed');
    } finally {
      aws.refuseFinding(id, PRODUCT, 'ConcurrentUpdateError', 0);
    }
  });

  it("takes the echo of an unacknowledge, come back while the close after it waits, for Vigil's own", async () => {
    const { alertId, id } = await finding('unack-echo-before-close');
    await server.idle();
    const statusOf = (value: Json) => statusOfValue(alertId, value);
    try {
      await server.call('POST', `/v2/alerts/${alertId}/acknowledge`, {});
      await waitFor('NOTIFIED', async () => held(id)?.Workflow?.Status === 'NOTIFIED');
      await finding('unack-echo-before-close', (f) => (f.Workflow = { Status: 'NOTIFIED' }));
      await server.call('POST', `/v2/alerts/${alertId}/unacknowledge`, {});
      await waitFor('the unacknowledge sent', async () => (await statusOf({ Status: 'NEW' })) === 'done');
      // The close is recorded (written_back now remembers RESOLVED), and Security Hub refuses it.
      aws.refuseFinding(id, PRODUCT, 'ConcurrentUpdateError');
      const before = batchRequests().length;
      await server.call('POST', `/v2/alerts/${alertId}/close`, {});
      await waitFor('the close refused', async () =>
        batchRequests()
          .slice(before)
          .some((r) => r.status === 200 && JSON.stringify(r.body).includes(id)),
      );
      // The unacknowledge's echo comes: Vigil's own NEW, not a new occurrence of the finding.
      await finding('unack-echo-before-close', (f) => (f.Workflow = { Status: 'NEW' }));
      const payload = await server.call('GET', `/v2/integrations/${integration.id}/payloads?limit=1`);
      assert.equal(payload.body.data[0].verdict, 'ignored', JSON.stringify(payload.body.data[0]));
      assert.match(payload.body.data[0].reason, /what Vigil wrote back/);
      assert.notEqual(await statusOf({ Status: 'RESOLVED' }), 'superseded');
      const count = await server.call(
        'GET',
        `/v2/alerts/count?query=${encodeURIComponent(`details.FindingId:"${id}"`)}`,
      );
      assert.equal(count.body.data.count, 1, 'no new alert');
      aws.refuseFinding(id, PRODUCT, 'ConcurrentUpdateError', 0);
      await waitFor(
        'the close sent',
        async () => (await statusOf({ Status: 'RESOLVED' })) === 'done',
        20_000,
      );
      assert.equal(held(id)?.Workflow?.Status, 'RESOLVED');
    } finally {
      aws.refuseFinding(id, PRODUCT, 'ConcurrentUpdateError', 0);
    }
  });

  it('never sends a priority retried after the severity was changed in Security Hub', async () => {
    const { alertId, id, status, sentAfter } = await retriedBehindSecurityHub('hub-severity', {
      when: 'waiting',
      older: (alertId) => server.call('PUT', `/v2/alerts/${alertId}/priority`, { priority: 'P1' }),
      olderValue: { Label: 'CRITICAL' },
      inHub: (f) => (f.Severity = { Label: 'LOW' }),
    });
    assert.equal(held(id)?.Severity?.Label, 'LOW');
    assert.equal(status, 'superseded');
    assert.deepEqual(sentAfter, []);
    // The alert stays open, at the priority its people set: Security Hub's change is not theirs.
    const alert = (await server.call('GET', `/v2/alerts/${alertId}`)).body.data;
    assert.equal(alert.status, 'open');
    assert.equal(alert.priority, 'P1');
  });

  it('drops a retry that a later change of its field overtook, however the two were timed', async () => {
    // A retry put back just before the close it raced was committed: the close is sent first, and the
    // retry, due later, finds it done.
    const { id } = await finding('overtaken-retry');
    await server.idle();
    const before = batchRequests().length;
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    try {
      const notBefore = new Date(clock.now().getTime() - 60_000);
      const older = await insertWorkflowChange(client, id, {
        value: { Status: 'NOTIFIED' },
        status: 'pending',
        seq: 1,
        notBefore,
      });
      await insertWorkflowChange(client, id, {
        value: { Status: 'RESOLVED' },
        status: 'done',
        seq: 2,
        notBefore,
      });
      const status = await waitFor(
        'the retry settled',
        async () => {
          const now = await changeStatus(client, older);
          return now !== 'pending' && now;
        },
        20_000,
      );
      assert.equal(status, 'superseded');
      await server.idle();
      assert.equal(
        batchRequests()
          .slice(before)
          .filter((r) => ((r.body as Json).FindingIdentifiers as Json[]).some((f) => f.Id === id)).length,
        0,
      );
    } finally {
      await client.end();
    }
  });

  it('takes over a change whose lease lapsed, though no other change of its integration is due', async () => {
    const { id } = await finding('lapsed');
    // Nothing else of the integration waiting: only the lapsed change can make its integration due.
    await server.idle();
    const before = batchRequests().length;
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    try {
      // As a worker killed mid-request leaves it: claimed, and its lease over.
      const now = clock.now();
      const lapsed = await insertWorkflowChange(client, id, {
        value: { Status: 'NOTIFIED' },
        status: 'sending',
        seq: 0,
        notBefore: new Date(now.getTime() - 60_000),
        leaseUntil: new Date(now.getTime() - 30_000),
      });
      await waitFor(
        'the lapsed change sent again',
        async () => (await changeStatus(client, lapsed)) === 'done',
        20_000,
      );
      assert.equal(held(id)?.Workflow?.Status, 'NOTIFIED');
      const sent = batchRequests()
        .slice(before)
        .filter((r) => ((r.body as Json).FindingIdentifiers as Json[]).some((f) => f.Id === id));
      assert.deepEqual(
        sent.map((r) => (r.body as Json).Workflow?.Status),
        ['NOTIFIED'],
      );
      await server.idle();
    } finally {
      await client.end();
    }
  });

  it('coalesces changes still pending for the same field', async () => {
    const { alertId, id } = await finding('coalesce');
    const before = batchRequests().length;
    // The three changes at one instant of the server's clock, so that its gathering window (quiet for
    // 250 ms) does not end between them, however slowly a busy machine answers the calls.
    const release = clock.hold();
    try {
      await server.call('POST', `/v2/alerts/${alertId}/acknowledge`, {});
      await server.call('POST', `/v2/alerts/${alertId}/unacknowledge`, {});
      await server.call('POST', `/v2/alerts/${alertId}/close`, {});
      await waitFor('the close recorded for the write-back', async () => (await pendingCloses([id])) === 1);
    } finally {
      release();
    }
    await waitFor('RESOLVED', async () => held(id)?.Workflow?.Status === 'RESOLVED');
    await server.idle();
    const statuses = batchRequests()
      .slice(before)
      .filter((r) => ((r.body as Json).FindingIdentifiers as Json[]).some((f) => f.Id === id))
      .map((r) => (r.body as Json).Workflow?.Status);
    assert.deepEqual(statuses, ['RESOLVED']);
  });

  it('stays under the limit with a burst of 1,000 changes, and applies them all', async () => {
    const made = await findings('burst', 40);
    const before = aws.securityHubRequests.length;
    // 40 alerts x (acknowledge, a note of its own, 23 priority flips) = 1,000 changes; distinct notes
    // make 40 requests of their own, well past the burst.
    await Promise.all(
      made.map(async (m, i) => {
        await server.call('POST', `/v2/alerts/${m.alertId}/acknowledge`, {});
        await server.call('POST', `/v2/alerts/${m.alertId}/notes`, { note: `note ${i}` });
        for (let k = 0; k < 23; k++) {
          await server.call('PUT', `/v2/alerts/${m.alertId}/priority`, {
            priority: k % 2 === 0 ? 'P4' : 'P2',
          });
        }
      }),
    );
    await waitFor(
      'every change applied',
      async () =>
        made.every(
          (m, i) =>
            held(m.id)?.Workflow?.Status === 'NOTIFIED' &&
            held(m.id)?.Note?.Text === `note ${i}` &&
            held(m.id)?.Severity?.Label === 'LOW',
        ),
      // A bound for a failure to show, not the pace under test: 40+ requests at 10/s take seconds, and a
      // busy machine's workers take a while to turn 1,000 API calls into changes.
      120_000,
    );
    const mine = aws.securityHubRequests.slice(before);
    assert.equal(mine.filter((r) => r.status === 429).length, 0, 'never throttled');
    assert.ok(mine.length > 30, `${mine.length} requests: enough to pass the burst`);
  });
});

describe('retention', () => {
  it('purges finished write-backs past the retention, and keeps those still to send', async () => {
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    try {
      const insert = (status: string, daysAgo: number) =>
        client.query(
          `INSERT INTO securityhub_writebacks
             (integration_id, finding_key, product_arn, finding_id, field, value, event_id, status, updated_at, lease_until)
           VALUES ($1, md5($3), $2, $3, 'workflow', '{"Status":"NOTIFIED"}', gen_random_uuid(), $4,
             now() - make_interval(days => $5), now() + interval '1 day')
           RETURNING id`,
          [integration.id, PRODUCT, `retention-${status}-${daysAgo}`, status, daysAgo],
        );
      const oldDone = (await insert('done', 30)).rows[0].id;
      const oldFailed = (await insert('failed', 30)).rows[0].id;
      const recentDone = (await insert('done', 1)).rows[0].id;
      // Leased far ahead, so no sender takes it while the test runs: in flight, whatever its age.
      const inFlight = (await insert('sending', 30)).rows[0].id;
      await server.app.context.integrations.purge(daysBefore(clock.now(), 14), clock.now());
      const left = await client.query(
        `SELECT id FROM securityhub_writebacks WHERE id = ANY($1) ORDER BY id`,
        [[oldDone, oldFailed, recentDone, inFlight]],
      );
      assert.deepEqual(
        left.rows.map((r: { id: string }) => r.id),
        [recentDone, inFlight],
      );
    } finally {
      await client.end();
    }
  });

  it('keeps a finished write-back for as long as its echo may come, however short the retention', async () => {
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    try {
      const now = clock.now();
      const doneHoursAgo = (hours: number) =>
        client.query(
          `INSERT INTO securityhub_writebacks
             (integration_id, finding_key, product_arn, finding_id, field, value, event_id, status, updated_at)
           VALUES ($1, md5($3), $2, $3, 'workflow', '{"Status":"NOTIFIED"}', gen_random_uuid(), 'done', $4)
           RETURNING id`,
          [
            integration.id,
            PRODUCT,
            `retention-echo-${hours}-${now.getTime()}`,
            new Date(now.getTime() - hours * 3_600_000),
          ],
        );
      const withinEcho = (await doneHoursAgo(24.5)).rows[0].id;
      const pastEcho = (await doneHoursAgo(26)).rows[0].id;
      // VIGIL_PAYLOAD_RETENTION_DAYS=1: the payloads go after 24 hours, the echo may come for 25.
      await server.app.context.integrations.purge(daysBefore(now, 1), now);
      const left = await client.query(`SELECT id FROM securityhub_writebacks WHERE id = ANY($1)`, [
        [withinEcho, pastEcho],
      ]);
      assert.deepEqual(
        left.rows.map((r: { id: string }) => r.id),
        [withinEcho],
      );
    } finally {
      await client.end();
    }
  });
});

describe('processes', () => {
  function startWorker(): { child: ChildProcess; exited: Promise<number | null> } {
    const child = spawn(process.execPath, [...VIGIL_COMMAND, 'start', '--role', 'worker'], {
      env: {
        ...process.env,
        ...awsEnv(aws),
        DATABASE_URL: server.databaseUrl,
        PORT: '0',
        LOG_LEVEL: process.env.VIGIL_TEST_WORKER_OUTPUT ? 'info' : 'warn',
        VIGIL_WRITEBACK_LEASE_SECONDS: '2',
      },
      stdio: ['ignore', process.env.VIGIL_TEST_WORKER_OUTPUT ? 'inherit' : 'ignore', 'inherit'],
    });
    children.push(child);
    return { child, exited: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
  }

  it(
    'loses nothing when a worker is killed mid-batch, and two workers together stay under the limit',
    // Bounds for a failure to show: starting worker processes (tsx) takes long on a busy machine.
    { timeout: 300_000 },
    async () => {
      // Only the spawned workers send from here on: the in-process server keeps serving the API.
      const api = await startTestServer({ databaseUrl: server.databaseUrl, role: 'api', apiKey: server.key });
      await server.stop();
      server = api;
      try {
        // Deliveries are made into alerts by workers: from here on, only the spawned ones.
        const first = startWorker();
        const made = await findings('kill', 10);
        aws.setLatency(3000);
        const before = batchRequests().length;
        await Promise.all(made.map((m) => server.call('POST', `/v2/alerts/${m.alertId}/close`, {})));
        await waitFor('a request in flight', async () => batchRequests().length > before, 20_000);
        first.child.kill('SIGKILL');
        await first.exited;
        aws.setLatency(0);
        const second = startWorker();
        const third = startWorker();
        await waitFor(
          'all RESOLVED after the restart',
          async () => made.every((m) => held(m.id)?.Workflow?.Status === 'RESOLVED'),
          120_000,
        );

        // Now 60 distinct notes through the two workers: more than the burst, never throttled.
        const notes = await findings('two-workers', 60);
        const start = aws.securityHubRequests.length;
        await Promise.all(
          notes.map((m, i) =>
            server.call('POST', `/v2/alerts/${m.alertId}/notes`, { note: `two workers ${i}` }),
          ),
        );
        await waitFor(
          'all notes applied',
          async () => notes.every((m, i) => held(m.id)?.Note?.Text === `two workers ${i}`),
          120_000,
        );
        const mine = aws.securityHubRequests.slice(start);
        assert.equal(mine.filter((r) => r.status === 429).length, 0, 'never throttled');

        // Every change settles. Not at once: a worker that stalled past its 2 s lease on a busy machine
        // cannot record what it sent, and the change is sent again by the other (the lease's price; that a
        // worker sends only what is still its own is shown without timing in lease.test.ts).
        const client = new pg.Client({ connectionString: server.databaseUrl });
        await client.connect();
        try {
          await waitFor(
            'every change done or superseded',
            async () => {
              const open = await client.query(
                `SELECT count(*)::int AS n FROM securityhub_writebacks WHERE status NOT IN ('done', 'superseded') AND alert_id = ANY($1::uuid[])`,
                [[...made, ...notes].map((m) => m.alertId)],
              );
              return open.rows[0].n === 0;
            },
            60_000,
          );
        } finally {
          await client.end();
        }
        second.child.kill('SIGTERM');
        third.child.kill('SIGTERM');
        await Promise.all([second.exited, third.exited]);
      } finally {
        aws.setLatency(0);
      }
    },
  );
});
