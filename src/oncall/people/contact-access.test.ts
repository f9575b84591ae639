import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';

/**
 * Contact methods and notification rules hold phone numbers and email addresses: only the user, org
 * admins and the admins of the user's teams read them.
 */

let server: TestServer;
const keys: Record<string, string> = {};
const PHONE = '+14155550199';
let ruleId: string;
let stepId: string;
let contactId: string;

async function createUser(username: string, role: string): Promise<void> {
  const created = await server.call('POST', '/v2/users', {
    username,
    fullName: username,
    role: { name: role },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const key = await server.call('POST', '/v2/api-keys', { name: username, user: { username } });
  assert.equal(key.status, 201, JSON.stringify(key.body));
  keys[username] = key.body.data.key;
}

before(async () => {
  server = await startTestServer();
  await createUser('grace@example.com', 'User');
  await createUser('hedy@example.com', 'User');
  await createUser('lead@example.com', 'User');
  await createUser('boss@example.com', 'Admin');
  // hedy and the lead are in one team, the lead as its admin; grace is in none.
  const team = await server.call('POST', '/v2/teams', {
    name: 'Radio',
    members: [
      { user: { username: 'hedy@example.com' }, role: 'user' },
      { user: { username: 'lead@example.com' }, role: 'admin' },
    ],
  });
  assert.equal(team.status, 201, JSON.stringify(team.body));

  const contact = await server.call('POST', '/v2/users/hedy@example.com/contacts', {
    method: 'sms',
    to: PHONE,
  });
  assert.equal(contact.status, 201, JSON.stringify(contact.body));
  contactId = contact.body.data.id;
  const rule = await server.call('POST', '/v2/users/hedy@example.com/notification-rules', {
    name: 'Texts',
    actionType: 'create-alert',
    steps: [{ contact: { method: 'sms', to: PHONE } }],
  });
  assert.equal(rule.status, 201, JSON.stringify(rule.body));
  ruleId = rule.body.data.id;
  const steps = await server.call('GET', `/v2/users/hedy@example.com/notification-rules/${ruleId}/steps`);
  stepId = steps.body.data[0].id;
});
after(async () => {
  await server.stop();
});

/** Every read of a user's contact methods and notification rules. */
function readPaths(user: string, ids?: { contact: string; rule: string; step: string }): string[] {
  const base = `/v2/users/${user}`;
  return [
    `${base}/contacts`,
    `${base}/notification-rules`,
    ...(ids
      ? [
          `${base}/contacts/${ids.contact}`,
          `${base}/notification-rules/${ids.rule}`,
          `${base}/notification-rules/${ids.rule}/steps`,
          `${base}/notification-rules/${ids.rule}/steps/${ids.step}`,
        ]
      : []),
  ];
}

const hedys = () => readPaths('hedy@example.com', { contact: contactId, rule: ruleId, step: stepId });

describe("reading a user's contact methods and notification rules", () => {
  it('is refused to another plain user, with a 403 that says whom to ask', async () => {
    for (const path of hedys()) {
      const refused = await server.call('GET', path, undefined, keys['grace@example.com']);
      assert.equal(refused.status, 403, `${path}: ${JSON.stringify(refused.body)}`);
      assert.match(refused.body.message, /organization admins and the admins of hedy@example\.com's teams/);
      assert.doesNotMatch(JSON.stringify(refused.body), new RegExp(`\\${PHONE}`));
    }
  });

  it('is refused to a fellow member of the user’s team who is not its admin', async () => {
    for (const path of readPaths('lead@example.com')) {
      const refused = await server.call('GET', path, undefined, keys['hedy@example.com']);
      assert.equal(refused.status, 403, path);
    }
  });

  it('is open to the user themselves', async () => {
    for (const path of hedys()) {
      const got = await server.call('GET', path, undefined, keys['hedy@example.com']);
      assert.equal(got.status, 200, `${path}: ${JSON.stringify(got.body)}`);
    }
    const own = await server.call(
      'GET',
      '/v2/users/grace@example.com/contacts',
      undefined,
      keys['grace@example.com'],
    );
    assert.equal(own.status, 200);
    assert.deepEqual(
      own.body.data.map((c: Json) => c.to),
      ['grace@example.com'],
    );
  });

  it('is open to an admin of a team the user belongs to, and not for users outside it', async () => {
    for (const path of hedys()) {
      const got = await server.call('GET', path, undefined, keys['lead@example.com']);
      assert.equal(got.status, 200, `${path}: ${JSON.stringify(got.body)}`);
    }
    const rule = await server.call(
      'GET',
      `/v2/users/hedy@example.com/notification-rules/${ruleId}`,
      undefined,
      keys['lead@example.com'],
    );
    assert.deepEqual(rule.body.data.steps[0].contact, { method: 'sms', to: PHONE });
    for (const path of readPaths('grace@example.com')) {
      const refused = await server.call('GET', path, undefined, keys['lead@example.com']);
      assert.equal(refused.status, 403, path);
    }
  });

  it('is open to organization admins', async () => {
    for (const path of [...hedys(), ...readPaths('grace@example.com')]) {
      const got = await server.call('GET', path, undefined, keys['boss@example.com']);
      assert.equal(got.status, 200, `${path}: ${JSON.stringify(got.body)}`);
    }
  });

  it('a team admin still may not change the member’s contacts', async () => {
    const refused = await server.call(
      'POST',
      '/v2/users/hedy@example.com/contacts',
      { method: 'voice', to: PHONE },
      keys['lead@example.com'],
    );
    assert.equal(refused.status, 403);
  });

  it('users and user lists carry no contact details', async () => {
    const grace = keys['grace@example.com'];
    const one = await server.call('GET', '/v2/users/hedy@example.com', undefined, grace);
    assert.equal(one.status, 200);
    const list = await server.call('GET', '/v2/users', undefined, grace);
    assert.equal(list.status, 200);
    const team = await server.call('GET', '/v2/teams/Radio?identifierType=name', undefined, grace);
    assert.equal(team.status, 200);
    for (const body of [one.body, list.body, team.body]) {
      assert.doesNotMatch(JSON.stringify(body), new RegExp(`\\${PHONE}|contacts|notificationRules`));
    }
  });
});

describe('the contacts of owners and org admins', () => {
  it('are not open to a team admin who adds them to the team, nor to an integration key with configuration access', async () => {
    const lead = keys['lead@example.com'];
    // A team admin may add anyone to their team: that must not open an owner's or admin's contacts.
    for (const username of ['admin@vigil.local', 'boss@example.com']) {
      const added = await server.call(
        'POST',
        '/v2/teams/Radio/members?teamIdentifierType=name',
        { user: { username }, role: 'user' },
        lead,
      );
      assert.equal(added.status, 200, JSON.stringify(added.body));
      for (const path of readPaths(username)) {
        const refused = await server.call('GET', path, undefined, lead);
        assert.equal(refused.status, 403, `${path}: ${JSON.stringify(refused.body)}`);
      }
    }
    // Plain members stay readable: the console's person page shows them to their team's admins.
    for (const path of readPaths('hedy@example.com')) {
      assert.equal((await server.call('GET', path, undefined, lead)).status, 200, path);
    }

    // An integration's key acts as an admin of its owner team, yet reads no member's contacts.
    const team = await server.call('GET', '/v2/teams/Radio?identifierType=name');
    const integration = await server.call('POST', '/v2/integrations', {
      type: 'API',
      name: 'Radio config',
      ownerTeam: { id: team.body.data.id },
      allowConfigurationAccess: true,
    });
    assert.equal(integration.status, 201, JSON.stringify(integration.body));
    for (const path of hedys()) {
      const refused = await server.call('GET', path, undefined, integration.body.data.apiKey);
      assert.equal(refused.status, 403, `${path}: ${JSON.stringify(refused.body)}`);
    }

    for (const username of ['admin@vigil.local', 'boss@example.com']) {
      await server.callOk('DELETE', `/v2/teams/Radio/members/${username}?teamIdentifierType=name`);
    }
    await server.callOk('DELETE', `/v2/integrations/${integration.body.data.id}`);
  });

  it("are changed only by owners: an org admin reads an owner's contacts and rules but changes none", async () => {
    const boss = keys['boss@example.com'];
    const owner = '/v2/users/admin@vigil.local';
    const contact = await server.call('POST', `${owner}/contacts`, { method: 'sms', to: PHONE });
    assert.equal(contact.status, 201, JSON.stringify(contact.body));
    const id: string = contact.body.data.id;
    const rule = await server.call('POST', `${owner}/notification-rules`, {
      name: 'Owner texts',
      actionType: 'create-alert',
      steps: [{ contact: { method: 'sms', to: PHONE } }],
    });
    assert.equal(rule.status, 201, JSON.stringify(rule.body));
    const ruleOfOwner = `${owner}/notification-rules/${rule.body.data.id}`;

    for (const path of readPaths('admin@vigil.local')) {
      assert.equal((await server.call('GET', path, undefined, boss)).status, 200, path);
    }
    const changes: [string, string, unknown][] = [
      ['POST', `${owner}/contacts`, { method: 'voice', to: PHONE }],
      ['PATCH', `${owner}/contacts/${id}`, { to: '+14155550100' }],
      ['POST', `${owner}/contacts/${id}/disable`, undefined],
      ['DELETE', `${owner}/contacts/${id}`, undefined],
      ['POST', `${owner}/notification-rules`, { name: 'Quiet', actionType: 'create-alert' }],
      ['PATCH', ruleOfOwner, { name: 'Renamed' }],
      ['DELETE', ruleOfOwner, undefined],
    ];
    for (const [method, path, body] of changes) {
      const refused = await server.call(method, path, body, boss);
      assert.equal(refused.status, 403, `${method} ${path}: ${JSON.stringify(refused.body)}`);
      assert.match(refused.body.message, /Only an owner can change an owner's contact methods/);
    }
    const after = await server.call('GET', `${owner}/contacts/${id}`);
    assert.equal(after.body.data.to, PHONE);
    assert.equal(after.body.data.status.enabled, true);

    // The owner still changes their own; an admin anyone else's.
    assert.equal((await server.call('DELETE', ruleOfOwner)).status, 200);
    assert.equal((await server.call('DELETE', `${owner}/contacts/${id}`)).status, 200);
    const hedysContact = await server.call(
      'POST',
      '/v2/users/hedy@example.com/contacts',
      { method: 'voice', to: PHONE },
      boss,
    );
    assert.equal(hedysContact.status, 201, JSON.stringify(hedysContact.body));
  });
});

describe('what the console is told the caller may change (GET /api/console/people/{identifier}/rights)', () => {
  const rightsOf = (user: string, key?: string) =>
    server.call('GET', `/api/console/people/${user}/rights`, undefined, key);
  const both = { contactsEdit: true, notificationRulesEdit: true };
  const neither = { contactsEdit: false, notificationRulesEdit: false };

  it('says what the checks that refuse a change say, to each caller', async () => {
    const self = await rightsOf('hedy@example.com', keys['hedy@example.com']);
    assert.equal(self.status, 200, JSON.stringify(self.body));
    assert.deepEqual(self.body, both);
    assert.deepEqual((await rightsOf('hedy@example.com', keys['boss@example.com'])).body, both);
    // The team's admin reads hedy's contacts and rules but changes none of them.
    assert.deepEqual((await rightsOf('hedy@example.com', keys['lead@example.com'])).body, neither);
    // An org admin changes no owner's; the owner (the bootstrap key's user) changes their own.
    assert.deepEqual((await rightsOf('admin@vigil.local', keys['boss@example.com'])).body, neither);
    assert.deepEqual((await rightsOf('admin@vigil.local')).body, both);
  });

  it('follows a custom role that takes notification-rules-edit or contacts-edit away', async () => {
    await server.callOk('POST', '/v2/roles', {
      name: 'Onlooker',
      extendedRole: 'observer',
      grantedRights: [],
      disallowedRights: ['contacts-edit'],
    });
    await server.callOk('PATCH', '/v2/users/grace@example.com', { role: { name: 'Onlooker' } });
    try {
      const got = await rightsOf('grace@example.com', keys['grace@example.com']);
      assert.equal(got.status, 200, JSON.stringify(got.body));
      assert.deepEqual(got.body, neither);
      // As the server refuses: the console hides only what would be refused.
      const refused = await server.call(
        'POST',
        '/v2/users/grace@example.com/notification-rules',
        { name: 'Mine', actionType: 'create-alert' },
        keys['grace@example.com'],
      );
      assert.equal(refused.status, 403, JSON.stringify(refused.body));
      await server.callOk('PUT', '/v2/roles/Onlooker?identifierType=name', {
        name: 'Onlooker',
        extendedRole: 'observer',
        grantedRights: ['notification-rules-edit'],
        disallowedRights: [],
      });
      assert.deepEqual((await rightsOf('grace@example.com', keys['grace@example.com'])).body, both);
    } finally {
      await server.callOk('PATCH', '/v2/users/grace@example.com', { role: { name: 'User' } });
      await server.callOk('DELETE', '/v2/roles/Onlooker?identifierType=name');
    }
  });

  it('is refused, as reading them is, to whoever may not read them', async () => {
    const outsider = await rightsOf('hedy@example.com', keys['grace@example.com']);
    assert.equal(outsider.status, 403, JSON.stringify(outsider.body));
    assert.equal((await rightsOf('nobody@example.com')).status, 404);
  });
});
