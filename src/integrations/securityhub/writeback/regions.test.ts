import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { ocsfKey, startFakeAws, type FakeAws, type OcsfIdentifier } from '../../../testing/fake-aws.js';
import {
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
  deliverToIntake,
} from '../../../testing/harness.js';
import { ShiftedClock } from '../../../work/clock.js';

/**
 * The write-back of an integration whose findings come from two regions (`vigil aws setup --region
 * us-east-1,eu-west-1`, no cross-region aggregation): a finding lives in the Security Hub of the region
 * it was imported in, so its change must be sent there, signed for that region, whatever region the
 * integration names. The local Security Hub records the region of each request's credential scope.
 */

const CALLER = { id: 'AKIAVIGILTESTCALLER1', secret: 'vigil-test-caller-secret-key-0123456789' };
const ACCOUNT = '123456789012';
const ROLE = `arn:aws:iam::${ACCOUNT}:role/VigilSecurityHubRoleRegions`;
const HOME = 'us-east-1';
const OTHER = 'eu-west-1';
const productIn = (region: string) => `arn:aws:securityhub:${region}::product/aws/guardduty`;
const ocsfProductIn = (region: string) => `arn:aws:securityhub:${region}::productv2/aws/securityhub`;

let server: TestServer;
const clock = new ShiftedClock();
let aws: FakeAws;
let integration: { id: string; path: string };
const roles: Record<string, { externalId: string }> = {};

before(async () => {
  server = await startTestServer({ clock, writeback: { baseDelayMs: 100, maxDelayMs: 1000 } });
  await server.callOk('POST', '/v2/teams', { name: 'SecOps' });
  const created = await server.callOk('POST', '/v2/integrations', {
    type: 'AmazonSecurityHub',
    name: 'Two Regions',
    ownerTeam: { name: 'SecOps' },
    verifySignatures: false,
    sendUpdatesBack: true,
    roleArn: ROLE,
    region: HOME,
  });
  const url = new URL(created.data.endpointUrl);
  integration = { id: created.data.id, path: `${url.pathname}${url.search}` };
  aws = await startFakeAws({
    callerAccessKeyId: CALLER.id,
    callerSecretAccessKey: CALLER.secret,
    roles,
    regions: [HOME, OTHER],
  });
  roles[ROLE] = { externalId: created.data.externalId };
  // The server's SDK clients are made on first use, after this.
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: CALLER.id,
    AWS_SECRET_ACCESS_KEY: CALLER.secret,
    AWS_REGION: HOME,
    AWS_ENDPOINT_URL_STS: aws.stsUrl,
    AWS_ENDPOINT_URL_SECURITYHUB: aws.securityHubUrl,
  });
});

after(async () => {
  await server.stop();
  await aws.close();
});

/** Posts an event to the intake and waits for it to be processed; returns the alert id it names. */
const deliver = (event: Json): Promise<string> => deliverToIntake(server, integration, event);

function envelope(region: string, detailType: string, finding: Json): Json {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': detailType,
    source: 'aws.securityhub',
    account: ACCOUNT,
    time: new Date().toISOString(),
    region,
    resources: [],
    detail: { findings: [finding] },
  };
}

type Made = { alertId: string; id: string; region: string };

/** An ASFF finding imported in `region`, sent by that region's rule (and held by the fake Security Hub). */
async function finding(suffix: string, region: string): Promise<Made> {
  const id = `arn:aws:guardduty:${region}:${ACCOUNT}:detector/d/finding/${suffix}`;
  const productArn = productIn(region);
  aws.addFinding({ Id: id, ProductArn: productArn });
  const alertId = await deliver(
    envelope(region, 'Security Hub Findings - Imported', {
      SchemaVersion: '2018-10-08',
      Id: id,
      ProductArn: productArn,
      GeneratorId: 'test',
      AwsAccountId: ACCOUNT,
      Region: region,
      Types: ['TTPs/Discovery'],
      CreatedAt: '2026-11-27T10:00:00Z',
      UpdatedAt: '2026-11-27T10:00:00Z',
      Severity: { Label: 'HIGH' },
      Title: `Finding ${suffix} in ${region}`,
      Description: 'A finding of the multi-region write-back tests',
      Resources: [{ Type: 'AwsEc2Instance', Id: 'i-0123456789abcdef0', Region: region }],
      Workflow: { Status: 'NEW' },
      RecordState: 'ACTIVE',
    }),
  );
  return { alertId, id, region };
}

/** An OCSF finding of the new Security Hub imported in `region`. */
async function ocsfFinding(
  suffix: string,
  region: string,
): Promise<{ alertId: string; identifier: OcsfIdentifier }> {
  const identifier: OcsfIdentifier = {
    CloudAccountUid: ACCOUNT,
    FindingInfoUid: `arn:aws:securityhub:${region}:${ACCOUNT}:security-control/S3.2/finding/${suffix}`,
    MetadataProductUid: ocsfProductIn(region),
  };
  aws.addOcsfFinding(identifier);
  const alertId = await deliver(
    envelope(region, 'Findings Imported V2', {
      activity_id: 1,
      class_uid: 2003,
      severity_id: 4,
      status_id: 1,
      finding_info: { uid: identifier.FindingInfoUid, title: `OCSF finding ${suffix} in ${region}` },
      metadata: {
        uid: `metadata-${suffix}`,
        version: '1.5.0',
        product: { uid: identifier.MetadataProductUid },
      },
      cloud: { account: { uid: ACCOUNT }, region, provider: 'AWS' },
    }),
  );
  return { alertId, identifier };
}

/** How many of these findings have a close waiting to be sent. */
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

/** The write requests (either API) that name this finding. */
const requestsNaming = (findingId: string) =>
  aws.securityHubRequests.filter(
    (r) => r.operation.startsWith('BatchUpdateFindings') && JSON.stringify(r.body).includes(findingId),
  );
const identifiersOf = (r: { body: unknown }): { Id: string; ProductArn: string }[] =>
  (r.body as Json).FindingIdentifiers;

describe('write-back to findings of several regions', () => {
  it("sends an acknowledge to the Security Hub of the finding's own region, not the integration's", async () => {
    const { alertId, id } = await finding('ack', OTHER);
    await server.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, { user: 'Alice Example' });
    await waitFor(
      'NOTIFIED',
      async () => aws.findings.get(`${productIn(OTHER)}|${id}`)?.Workflow?.Status === 'NOTIFIED',
    );
    const sent = requestsNaming(id);
    assert.deepEqual(
      sent.map((r) => [r.operation, r.region, r.status]),
      [['BatchUpdateFindings', OTHER, 200]],
    );
    // The role is assumed where the customer picked (and Test connection proved), whichever region its
    // credentials then update findings in.
    const assumed = aws.assumeRoleCalls.filter((c) => c.status === 200);
    assert.ok(assumed.length > 0);
    assert.deepEqual([...new Set(assumed.map((c) => c.region))], [HOME]);
    // Settled as done: the integration reads "ok", not "failing".
    await waitFor(
      'the write-back status',
      async () =>
        (await server.callOk('GET', `/v2/integrations/${integration.id}`)).data.writebackStatus?.ok === true,
    );

    // AWS's limit is per account and region: the request took a token of eu-west-1's bucket.
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    try {
      const buckets = await client.query<{ key: string }>(`SELECT key FROM aws_rate_buckets ORDER BY key`);
      assert.ok(
        buckets.rows.some((b) => b.key === `${ACCOUNT}:${OTHER}`),
        JSON.stringify(buckets.rows),
      );
    } finally {
      await client.end();
    }
  });

  it('sends an OCSF finding’s change through BatchUpdateFindingsV2 in its own region', async () => {
    const { alertId, identifier } = await ocsfFinding('ocsf-ack', OTHER);
    await server.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, {});
    await waitFor('In Progress', async () => aws.ocsfFindings.get(ocsfKey(identifier))?.StatusId === 2);
    assert.deepEqual(
      requestsNaming(identifier.FindingInfoUid).map((r) => [r.operation, r.region, r.status]),
      [['BatchUpdateFindingsV2', OTHER, 200]],
    );
  });

  it('closes findings of two regions at once in one request per region', async () => {
    const made: Made[] = [];
    for (const [region, count] of [
      [HOME, 40],
      [OTHER, 30],
    ] as const)
      for (let start = 0; start < count; start += 10)
        made.push(
          ...(await Promise.all(
            Array.from({ length: Math.min(10, count - start) }, (_, i) =>
              finding(`bulk-${region}-${start + i}`, region),
            ),
          )),
        );
    // All closed, and recorded for the write-back, at one instant of the server's clock, so that they
    // are sent together however long a busy machine takes to handle them.
    const release = clock.hold();
    try {
      await Promise.all(made.map((m) => server.callOk('POST', `/v2/alerts/${m.alertId}/close`, {})));
      await waitFor(
        'every close recorded for the write-back',
        async () => (await pendingCloses(made.map((m) => m.id))) === made.length,
      );
    } finally {
      release();
    }
    await waitFor(
      'all RESOLVED',
      async () =>
        made.every(
          (m) => aws.findings.get(`${productIn(m.region)}|${m.id}`)?.Workflow?.Status === 'RESOLVED',
        ),
      30_000,
    );
    const ids = new Set(made.map((m) => m.id));
    const used = aws.securityHubRequests.filter(
      (r) => r.operation === 'BatchUpdateFindings' && identifiersOf(r).some((f) => ids.has(f.Id)),
    );
    for (const request of used) {
      const regions = new Set(identifiersOf(request).map((f) => f.ProductArn.split(':')[3]));
      assert.deepEqual(
        [...regions],
        [request.region],
        'a request names only findings of the region it is signed for',
      );
      assert.ok(identifiersOf(request).length <= 100);
      assert.equal(request.status, 200);
    }
    assert.deepEqual(
      used.map((r) => [r.region, identifiersOf(r).length]).sort(),
      [
        [OTHER, 30],
        [HOME, 40],
      ],
      'one request per region',
    );
  });

  it("tests the role in the integration's own region", async () => {
    const before = aws.securityHubRequests.length;
    const res = await server.callOk('POST', `/v2/integrations/${integration.id}/test-writeback`);
    assert.equal(res.data.ok, true, JSON.stringify(res.data));
    const probes = aws.securityHubRequests.slice(before);
    assert.ok(probes.length > 0);
    assert.ok(probes.every((r) => r.region === HOME));
  });
});
