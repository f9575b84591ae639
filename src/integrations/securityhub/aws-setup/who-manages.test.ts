import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startFakeAws, type FakeAws } from '../../../testing/fake-aws.js';
import { addUserWithKey, startTestServer, type TestServer } from '../../../testing/harness.js';

/**
 * Who may use an integration's AWS side (the facts `vigil aws setup` starts from, the CloudFormation
 * templates) and test its write-back role: whoever may update the integration, and no one else. Team
 * rights (a team's admins, a custom team role with edit-integrations), org admins in no team, a custom
 * user role with configurations-edit and an API integration's key with configuration access, on an
 * integration of their team and on one given to another team, whose right updating it needs too.
 */

const CALLER = { id: 'AKIAVIGILWHOMANAGES1', secret: 'vigil-who-manages-caller-secret-012345' };
const roleOf = (name: string) => `arn:aws:iam::123456789012:role/VigilSecurityHubRole${name}`;

let server: TestServer;
let aws: FakeAws;
const roles: Record<string, { externalId: string }> = {};
const run = randomUUID().slice(0, 6);
/** Each caller's API key, by who they are. */
const keys: Record<string, string> = {};
/** The integrations: one of SecOps alone, one SecOps owns and gave to AppSec. */
const hubs: Record<string, string> = {};

before(async () => {
  // The write-back test assumes the role: a local STS and Security Hub, reached through the SDK's own env.
  aws = await startFakeAws({ callerAccessKeyId: CALLER.id, callerSecretAccessKey: CALLER.secret, roles });
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: CALLER.id,
    AWS_SECRET_ACCESS_KEY: CALLER.secret,
    AWS_REGION: 'us-east-1',
    AWS_ENDPOINT_URL_STS: aws.stsUrl,
    AWS_ENDPOINT_URL_SECURITYHUB: aws.securityHubUrl,
  });
  server = await startTestServer();
  const team = async (name: string) => (await server.callOk('POST', '/v2/teams', { name })).data.id as string;
  const secops = await team('SecOps');
  const appsec = await team('AppSec');
  const payments = await team('Payments');
  // Custom team roles: one without edit-integrations, one with it.
  await server.callOk('POST', `/v2/teams/${secops}/roles`, {
    name: 'Scheduler',
    rights: [{ right: 'edit-schedules', granted: true }],
  });
  await server.callOk('POST', `/v2/teams/${secops}/roles`, {
    name: 'Integrator',
    rights: [{ right: 'edit-integrations', granted: true }],
  });
  const member = async (local: string, teamId: string, role: string) => {
    const u = await addUserWithKey(server, local, run);
    await server.callOk('POST', `/v2/teams/${teamId}/members`, { user: { username: u.username }, role });
    keys[local] = u.key;
    return u;
  };
  await member('owner-admin', secops, 'admin');
  await member('owner-plain', secops, 'user');
  await member('owner-scheduler', secops, 'scheduler');
  await member('owner-integrator', secops, 'integrator');
  await member('other-admin', payments, 'admin');
  const both = await member('both-admin', secops, 'admin');
  await server.callOk('POST', `/v2/teams/${appsec}/members`, {
    user: { username: both.username },
    role: 'admin',
  });
  // An org admin in no team, and a user whose custom user role edits every team's configuration.
  const orgAdmin = await addUserWithKey(server, 'org-admin', run);
  await server.callOk('PATCH', `/v2/users/${orgAdmin.id}`, { role: { name: 'Admin' } });
  keys['org-admin'] = orgAdmin.key;
  await server.callOk('POST', '/v2/roles', {
    name: `Configurer ${run}`,
    grantedRights: ['configurations-edit'],
  });
  const configurer = await addUserWithKey(server, 'configurer', run);
  await server.callOk('PATCH', `/v2/users/${configurer.id}`, { role: { name: `Configurer ${run}` } });
  keys.configurer = configurer.key;
  // API integrations' keys with configuration access: they act as admins of their owner team.
  const apiKey = async (name: string, ownerTeam: string) =>
    (
      await server.callOk('POST', '/v2/integrations', {
        type: 'API',
        name,
        ownerTeam: { id: ownerTeam },
        allowConfigurationAccess: true,
      })
    ).data.apiKey as string;
  keys['owner-integration-key'] = await apiKey('SecOps API', secops);
  keys['other-integration-key'] = await apiKey('Payments API', payments);
  const hub = async (name: string, assignee?: string) => {
    const made = await server.callOk('POST', '/v2/integrations', {
      type: 'AmazonSecurityHub',
      name,
      ownerTeam: { id: secops },
      ...(assignee ? { assigneeTeam: { id: assignee } } : {}),
      sendUpdatesBack: true,
      roleArn: roleOf(name),
      region: 'us-east-1',
    });
    roles[roleOf(name)] = { externalId: made.data.externalId };
    return made.data.id as string;
  };
  hubs.owned = await hub('Owned');
  hubs.assigned = await hub('Assigned', appsec);
});
after(async () => {
  await server.stop();
  await aws.close();
});

/** Who may update each integration (PATCH /v2/integrations/{id}), and so use its AWS side. */
const MANAGE: Record<string, string[]> = {
  owned: [
    'owner-admin',
    'owner-integrator',
    'both-admin',
    'org-admin',
    'configurer',
    'owner-integration-key',
  ],
  assigned: ['both-admin', 'org-admin', 'configurer'],
};

async function status(method: string, path: string, key: string): Promise<number> {
  const body = method === 'PATCH' ? { minimumSeverity: 'LOW' } : undefined;
  return (await server.call(method, path, body, key)).status;
}

/** For each integration and caller: whether updating it, and `path`, answer 2xx (else 403). */
async function allowedBy(method: string, path: (id: string) => string) {
  const got: Record<string, string[]> = {};
  for (const [hub, id] of Object.entries(hubs)) {
    got[hub] = [];
    for (const [who, key] of Object.entries(keys)) {
      const answer = await status(method, path(id), key);
      assert.ok(answer < 300 || answer === 403, `${method} ${path(id)} as ${who}: ${answer}`);
      if (answer < 300) got[hub].push(who);
    }
  }
  return got;
}

describe('who may use a Security Hub integration’s AWS side', () => {
  it('updating it: those with edit-integrations on its owner team, and on its assignee team when another', async () => {
    assert.deepEqual(await allowedBy('PATCH', (id) => `/v2/integrations/${id}`), MANAGE);
  });

  for (const path of ['aws-setup', 'cloudformation/role', 'cloudformation/intake']) {
    it(`GET ${path}: those who may update it`, async () => {
      assert.deepEqual(await allowedBy('GET', (id) => `/v2/integrations/${id}/${path}`), MANAGE);
    });
  }

  it('refuses an admin of the owner team alone the AWS side of one given to another team, saying why', async () => {
    const refused = await server.call(
      'GET',
      `/v2/integrations/${hubs.assigned}/aws-setup`,
      undefined,
      keys['owner-admin'],
    );
    assert.equal(refused.status, 403);
    assert.match(refused.body.message, /assigned to another team/);
    const ofKey = await server.call(
      'GET',
      `/v2/integrations/${hubs.assigned}/cloudformation/role`,
      undefined,
      keys['owner-integration-key'],
    );
    assert.equal(ofKey.status, 403);
    assert.match(ofKey.body.message, /assigned to another team/);
  });

  it('POST test-writeback: those who may update it', async () => {
    assert.deepEqual(await allowedBy('POST', (id) => `/v2/integrations/${id}/test-writeback`), MANAGE);
  });
});
