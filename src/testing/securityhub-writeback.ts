import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import type { ShiftedClock } from '../work/clock.js';
import { startFakeAws, type FakeAws } from './fake-aws.js';
import { waitFor, type Json, type TestServer } from './harness.js';

/**
 * The write-back's end-to-end set-up on a test server: the team "SecOps", a Security Hub integration
 * that sends updates back through a role of the test account, and the local STS and Security Hub that
 * the server's AWS SDK clients reach (through AWS_ENDPOINT_URL_*, set here before they are first made).
 */

export const CALLER = { id: 'AKIAVIGILTESTCALLER1', secret: 'vigil-test-caller-secret-key-0123456789' };
export const ACCOUNT = '123456789012';
export const ROLE = `arn:aws:iam::${ACCOUNT}:role/VigilSecurityHubRoleTest`;
export const PRODUCT = 'arn:aws:securityhub:us-east-1::product/aws/securityhub';

export interface WritebackSetUp {
  aws: FakeAws;
  /** The integration's id, its endpoint's path and query for deliverToIntake, and its external ID. */
  integration: { id: string; path: string; externalId: string };
  /** The roles the local IAM knows, by ARN: a test may add its own once Vigil has made its external ID. */
  roles: Record<string, { externalId: string; actions?: string[] }>;
}

/**
 * Security Hub integrations that send updates back through ROLE, one per name, inserted straight into
 * the database (with the organization and the team "SecOps" they belong to) for tests without a server.
 * Their ids, in the order of `names`.
 */
export async function insertHubIntegrations(db: Db, names: string[]): Promise<string[]> {
  const org = await sql<{ id: string }>`INSERT INTO organizations (name) VALUES ('Org') RETURNING id`.execute(
    db,
  );
  const orgId = org.rows[0]!.id;
  const team = await sql<{ id: string }>`
    INSERT INTO teams (org_id, name) VALUES (${orgId}, 'SecOps') RETURNING id`.execute(db);
  const settings = { sendUpdatesBack: true, roleArn: ROLE, region: 'us-east-1' };
  const ids: string[] = [];
  for (const name of names) {
    const integration = await sql<{ id: string }>`
      INSERT INTO integrations (org_id, type, name, owner_team_id, api_key_lookup, api_key_hash, external_id, settings)
      VALUES (${orgId}, 'AmazonSecurityHub', ${name}, ${team.rows[0]!.id}, ${`lookup-${name}`},
        ${Buffer.from(name)}, ${`external-${name}`}, ${JSON.stringify(settings)}::jsonb)
      RETURNING id`.execute(db);
    ids.push(integration.rows[0]!.id);
  }
  return ids;
}

/** A finding's ARN in the test account. */
/** `count` closes of findings `<prefix>-<i>` of `integrationId`, pending, all recorded at `createdAt`. */
export async function insertCloses(
  db: Db,
  integrationId: string,
  prefix: string,
  count: number,
  createdAt: Date,
): Promise<void> {
  await sql`
    INSERT INTO securityhub_writebacks
      (integration_id, finding_key, product_arn, finding_id, field, value, event_id, seq, status,
       not_before, created_at, updated_at)
    SELECT ${integrationId}, ${prefix} || '-' || i, ${PRODUCT}, ${prefix} || '-' || i, 'workflow',
      ${JSON.stringify({ Status: 'RESOLVED' })}::jsonb, gen_random_uuid(), i, 'pending',
      ${createdAt}, ${createdAt}, ${createdAt}
    FROM generate_series(1, ${count}::int) AS i`.execute(db);
}

export const findingArn = (suffix: string) => `arn:aws:securityhub:us-east-1:${ACCOUNT}:finding/${suffix}`;

/** The variables that point the AWS SDK at the local STS and Security Hub, as the caller. */
export function awsEnv(aws: FakeAws): Record<string, string> {
  return {
    AWS_ACCESS_KEY_ID: CALLER.id,
    AWS_SECRET_ACCESS_KEY: CALLER.secret,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_STS: aws.stsUrl,
    AWS_ENDPOINT_URL_SECURITYHUB: aws.securityHubUrl,
  };
}

export async function setUpWriteback(server: TestServer): Promise<WritebackSetUp> {
  const roles: WritebackSetUp['roles'] = {};
  await server.callOk('POST', '/v2/teams', { name: 'SecOps' });
  const created = await server.callOk('POST', '/v2/integrations', {
    type: 'AmazonSecurityHub',
    name: 'Prod Hub',
    ownerTeam: { name: 'SecOps' },
    verifySignatures: false,
    sendUpdatesBack: true,
    roleArn: ROLE,
    region: 'us-east-1',
  });
  const url = new URL(created.data.endpointUrl as string);
  const externalId = created.data.externalId as string;
  const aws = await startFakeAws({
    callerAccessKeyId: CALLER.id,
    callerSecretAccessKey: CALLER.secret,
    roles,
  });
  roles[ROLE] = { externalId };
  // The server's SDK clients are made on first use, after this.
  Object.assign(process.env, awsEnv(aws));
  return {
    aws,
    integration: { id: created.data.id as string, path: `${url.pathname}${url.search}`, externalId },
    roles,
  };
}

/**
 * A finding of the test account, as Security Hub sends it, that the local Security Hub knows (added the
 * first time only: adding it again would reset what it holds, and hide a write made since).
 */
export function testFinding(
  aws: FakeAws,
  suffix: string,
  options: { createdAt?: string; updatedAt?: string; change?: (f: Json) => void } = {},
): Json {
  const createdAt = options.createdAt ?? '2026-11-27T10:00:00Z';
  const f: Json = {
    SchemaVersion: '2018-10-08',
    Id: findingArn(suffix),
    ProductArn: PRODUCT,
    GeneratorId: 'test',
    AwsAccountId: ACCOUNT,
    Types: ['Software and Configuration Checks'],
    CreatedAt: createdAt,
    UpdatedAt: options.updatedAt ?? createdAt,
    Severity: { Label: 'MEDIUM' },
    FindingProviderFields: { Severity: { Label: 'MEDIUM' } },
    Title: `Test finding ${suffix}`,
    Description: 'A finding for the write-back tests',
    Resources: [{ Type: 'AwsEc2Instance', Id: 'i-0123456789abcdef0' }],
    Workflow: { Status: 'NEW' },
    RecordState: 'ACTIVE',
  };
  options.change?.(f);
  if (!aws.findings.get(`${PRODUCT}|${f.Id as string}`)) aws.addFinding({ Id: f.Id, ProductArn: PRODUCT });
  return f;
}

/** An EventBridge event of Security Hub carrying `f`. */
export function findingEvent(detailType: string, f: Json, resources: string[], detail: Json = {}): Json {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': detailType,
    source: 'aws.securityhub',
    account: ACCOUNT,
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources,
    detail: { ...detail, findings: [f] },
  };
}

/** The status of the alert's write-back change carrying `value` (none: undefined). */
export async function statusOfChange(
  server: TestServer,
  alertId: string,
  value: Json,
): Promise<string | undefined> {
  const rows = await sql<{ status: string }>`
    SELECT status FROM securityhub_writebacks
    WHERE alert_id = ${alertId} AND value = ${JSON.stringify(value)}::jsonb`.execute(server.app.context.db);
  return rows.rows[0]?.status;
}

/** The integration's last delivery in its payload log, with its verdict. */
export async function lastPayload(
  server: TestServer,
  integrationId: string,
): Promise<{ verdict: string; reason?: string; alertIds: string[] }> {
  const payloads = await server.callOk('GET', `/v2/integrations/${integrationId}/payloads?limit=1`);
  return payloads.data[0];
}

/** How many BatchUpdateFindings requests the local Security Hub took that name the finding of `suffix`. */
export function requestsAbout(aws: FakeAws, suffix: string): number {
  return aws.securityHubRequests.filter(
    (r) => r.operation === 'BatchUpdateFindings' && JSON.stringify(r.body).includes(suffix),
  ).length;
}

/**
 * Until the alert's change waits to be retried after `heldAt` (the server's clock held then), tried at
 * least `attempts` times: it stays waiting, not being sent, while the clock is held.
 */
export async function untilBackingOff(
  server: TestServer,
  alertId: string,
  heldAt: Date,
  attempts = 1,
): Promise<void> {
  await waitFor('the change backing off', async () => {
    const rows = await sql<{ status: string; not_before: Date; attempts: number }>`
      SELECT status, not_before, attempts FROM securityhub_writebacks WHERE alert_id = ${alertId}`.execute(
      server.app.context.db,
    );
    const row = rows.rows[0];
    return row?.status === 'pending' && row.attempts >= attempts && row.not_before > heldAt;
  });
}

/**
 * Runs `act` (an action on the alert whose change the local Security Hub refuses with
 * ConcurrentUpdateError), waits for the refusal, then holds the server's clock once the change is backing
 * off: it stays waiting, not being sent, until the returned release is called.
 */
export async function heldBackingOff(
  setUp: { server: TestServer; clock: ShiftedClock; aws: FakeAws },
  alertId: string,
  suffix: string,
  act: () => Promise<unknown>,
): Promise<() => void> {
  const { server, clock, aws } = setUp;
  aws.refuseFinding(findingArn(suffix), PRODUCT, 'ConcurrentUpdateError');
  await act();
  await waitFor('the change refused', async () => requestsAbout(aws, suffix) > 0);
  const release = clock.hold();
  try {
    await untilBackingOff(server, alertId, clock.now());
  } catch (error) {
    release();
    throw error;
  }
  return release;
}
