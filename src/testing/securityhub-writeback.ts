import { startFakeAws, type FakeAws } from './fake-aws.js';
import type { TestServer } from './harness.js';

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
  /** The integration's id, and its endpoint's path and query for deliverToIntake. */
  integration: { id: string; path: string };
}

/** A finding's ARN in the test account. */
export const findingArn = (suffix: string) => `arn:aws:securityhub:us-east-1:${ACCOUNT}:finding/${suffix}`;

export async function setUpWriteback(server: TestServer): Promise<WritebackSetUp> {
  const roles: Record<string, { externalId: string }> = {};
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
  const aws = await startFakeAws({
    callerAccessKeyId: CALLER.id,
    callerSecretAccessKey: CALLER.secret,
    roles,
  });
  roles[ROLE] = { externalId: created.data.externalId as string };
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: CALLER.id,
    AWS_SECRET_ACCESS_KEY: CALLER.secret,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_STS: aws.stsUrl,
    AWS_ENDPOINT_URL_SECURITYHUB: aws.securityHubUrl,
  });
  return { aws, integration: { id: created.data.id as string, path: `${url.pathname}${url.search}` } };
}
