import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  addUserWithKey,
  startTestServer,
  type Json,
  type TestServer,
  type TestUser,
} from '../testing/harness.js';

/**
 * What the key of an API integration may do (Opsgenie's rules): only its own team's alerts, and only the
 * kinds of request its access flags allow.
 */

let server: TestServer;
let teamA: string;
let teamB: string;

before(async () => {
  server = await startTestServer();
  teamA = await createTeam('Payments');
  teamB = await createTeam('Security');
});
after(async () => {
  await server.stop();
});

async function createTeam(name: string): Promise<string> {
  const created = await server.call('POST', '/v2/teams', { name });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return created.body.data.id;
}

async function createIntegration(body: Json): Promise<{ id: string; key: string; data: Json }> {
  const created = await server.call('POST', '/v2/integrations', body);
  assert.equal(created.status, 201, JSON.stringify(created.body));
  return { id: created.body.data.id, key: created.body.data.apiKey, data: created.body.data };
}

/** Creates an alert with `key` and answers its id, tinyId and alias (read with the owner's key). */
async function createAlert(
  body: Json,
  key = server.key,
): Promise<{ id: string; tiny: string; alias: string }> {
  const created = await server.call('POST', '/v2/alerts', body, key);
  assert.equal(created.status, 202, JSON.stringify(created.body));
  const status = await server.call('GET', `/v2/alerts/requests/${created.body.requestId}`);
  assert.equal(status.status, 200, JSON.stringify(status.body));
  const alert = await server.call('GET', `/v2/alerts/${status.body.data.alertId}`);
  assert.equal(alert.status, 200);
  return { id: alert.body.data.id, tiny: alert.body.data.tinyId, alias: alert.body.data.alias };
}

/** The outcome of an action request, read with the key that made it. */
async function outcome(requestId: string, key: string): Promise<Json> {
  const status = await server.call('GET', `/v2/alerts/requests/${requestId}`, undefined, key);
  assert.equal(status.status, 200, JSON.stringify(status.body));
  return status.body.data;
}

describe("an API integration's key sees and acts on its own team's alerts only", () => {
  let key: string;
  let ours: { id: string; tiny: string; alias: string };
  let theirs: { id: string; tiny: string; alias: string };
  let nobodys: { id: string; tiny: string; alias: string };

  before(async () => {
    ({ key } = await createIntegration({ type: 'API', name: 'Grafana', ownerTeam: { id: teamA } }));
    ours = await createAlert({ message: 'payments slow', alias: 'scope-ours' }, key);
    theirs = await createAlert({
      message: 'root login without MFA',
      alias: 'scope-theirs',
      responders: [{ type: 'team', id: teamB }],
    });
    nobodys = await createAlert({ message: 'nobody owns this', alias: 'scope-nobodys' });
    for (const a of [ours, theirs, nobodys]) {
      assert.equal(
        (await server.call('POST', `/v2/alerts/${a.id}/notes`, { note: `a note on ${a.alias}` })).status,
        202,
      );
    }
  });

  it('lists and counts only its team’s alerts', async () => {
    const list = await server.call('GET', '/v2/alerts?limit=100', undefined, key);
    assert.equal(list.status, 200);
    assert.deepEqual(
      list.body.data.map((a: Json) => a.alias),
      ['scope-ours'],
    );
    const all = await server.call('GET', '/v2/alerts?limit=100');
    assert.ok(
      all.body.data.some((a: Json) => a.alias === 'scope-theirs'),
      'the owner sees every alert',
    );

    const count = await server.call('GET', '/v2/alerts/count', undefined, key);
    assert.equal(count.body.data.count, 1);
    const searched = await server.call(
      'GET',
      `/v2/alerts/count?query=${encodeURIComponent('alias:scope-theirs OR alias:scope-nobodys')}`,
      undefined,
      key,
    );
    assert.equal(searched.body.data.count, 0);
    const listed = await server.call(
      'GET',
      `/v2/alerts?query=${encodeURIComponent('message:root*')}`,
      undefined,
      key,
    );
    assert.deepEqual(listed.body.data, []);
  });

  it('gets another team’s alert by no identifier, nor its notes or logs', async () => {
    for (const a of [theirs, nobodys]) {
      for (const [identifier, type] of [
        [a.id, 'id'],
        [a.alias, 'alias'],
        [a.tiny, 'tiny'],
      ]) {
        for (const suffix of ['', '/notes', '/logs']) {
          const got = await server.call(
            'GET',
            `/v2/alerts/${identifier}${suffix}?identifierType=${type}`,
            undefined,
            key,
          );
          assert.equal(got.status, 404, `${a.alias} ${type} ${suffix}: ${JSON.stringify(got.body)}`);
          assert.match(got.body.message, /does not exist/);
          assert.doesNotMatch(JSON.stringify(got.body), /root login|a note on/);
        }
      }
    }
  });

  it('gets its own team’s alert by any identifier, with notes and logs', async () => {
    for (const [identifier, type] of [
      [ours.id, 'id'],
      [ours.alias, 'alias'],
      [ours.tiny, 'tiny'],
    ]) {
      const got = await server.call('GET', `/v2/alerts/${identifier}?identifierType=${type}`, undefined, key);
      assert.equal(got.status, 200, `${type}: ${JSON.stringify(got.body)}`);
      assert.equal(got.body.data.id, ours.id);
    }
    const notes = await server.call('GET', `/v2/alerts/${ours.id}/notes`, undefined, key);
    assert.equal(notes.status, 200);
    assert.deepEqual(
      notes.body.data.map((n: Json) => n.note),
      ['a note on scope-ours'],
    );
    const logs = await server.call('GET', `/v2/alerts/${ours.id}/logs`, undefined, key);
    assert.equal(logs.status, 200);
    assert.ok(logs.body.data.length > 0);
  });

  it('acts on another team’s alert as on an alert that does not exist', async () => {
    for (const [method, path] of [
      ['POST', `/v2/alerts/${theirs.id}/acknowledge`],
      ['POST', `/v2/alerts/${theirs.alias}/close?identifierType=alias`],
      ['POST', `/v2/alerts/${theirs.tiny}/notes?identifierType=tiny`],
      ['DELETE', `/v2/alerts/${theirs.id}`],
      ['DELETE', `/v2/alerts/${nobodys.id}`],
    ] as const) {
      const acted = await server.call(
        method,
        path,
        method === 'POST' ? { note: 'not yours' } : undefined,
        key,
      );
      assert.equal(acted.status, 202, `${method} ${path}: ${JSON.stringify(acted.body)}`);
      const status = await outcome(acted.body.requestId, key);
      assert.equal(status.success, false, path);
      assert.equal(status.status, 'Alert does not exist', path);
      assert.equal(status.alertId, '', path);
    }
    const unchanged = await server.call('GET', `/v2/alerts/${theirs.id}`);
    assert.equal(unchanged.status, 200, 'the alert was not deleted');
    assert.equal(unchanged.body.data.acknowledged, false);
    assert.equal(unchanged.body.data.status, 'open');
    const notes = await server.call('GET', `/v2/alerts/${theirs.id}/notes`);
    assert.deepEqual(
      notes.body.data.map((n: Json) => n.note),
      ['a note on scope-theirs'],
    );
    assert.equal((await server.call('GET', `/v2/alerts/${nobodys.id}`)).status, 200);
  });

  it('does not read the outcome of requests about other teams’ alerts', async () => {
    const byOwner = await server.call('POST', `/v2/alerts/${theirs.id}/notes`, { note: 'owner note' });
    assert.equal(byOwner.status, 202);
    const status = await server.call('GET', `/v2/alerts/requests/${byOwner.body.requestId}`, undefined, key);
    assert.equal(status.status, 404, JSON.stringify(status.body));
  });

  it('reads the outcome of its own create that counted another team’s alert, without that alert’s id', async () => {
    const other = await createAlert({
      message: 'disk full on the bastion',
      alias: 'scope-dedup',
      responders: [{ type: 'team', id: teamB }],
    });
    const created = await server.call('POST', '/v2/alerts', { message: 'mine', alias: 'scope-dedup' }, key);
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const status = await server.call('GET', `/v2/alerts/requests/${created.body.requestId}`, undefined, key);
    assert.equal(status.status, 200, JSON.stringify(status.body));
    assert.equal(status.body.data.success, true);
    assert.equal(status.body.data.alertId, '');
    assert.doesNotMatch(JSON.stringify(status.body), new RegExp(other.id));
    assert.ok(status.body.data.integrationId.length > 0, 'the request names the integration that made it');
    const byOwner = await server.call('GET', `/v2/alerts/requests/${created.body.requestId}`);
    assert.equal(
      byOwner.body.data.integrationId,
      status.body.data.integrationId,
      'the requester’s integration',
    );
    assert.equal((await server.call('GET', `/v2/alerts/${other.id}`, undefined, key)).status, 404);
  });

  it('acknowledges, closes and deletes its own team’s alert', async () => {
    const ack = await server.call('POST', `/v2/alerts/${ours.tiny}/acknowledge?identifierType=tiny`, {}, key);
    assert.equal((await outcome(ack.body.requestId, key)).status, 'Acknowledged');
    const close = await server.call('POST', `/v2/alerts/${ours.alias}/close?identifierType=alias`, {}, key);
    assert.equal((await outcome(close.body.requestId, key)).status, 'Closed');
    const closed = await server.call('GET', `/v2/alerts/${ours.id}`);
    assert.equal(closed.body.data.status, 'closed');
    assert.equal(closed.body.data.acknowledged, true);
    const deleted = await server.call('DELETE', `/v2/alerts/${ours.id}`, undefined, key);
    const status = await outcome(deleted.body.requestId, key);
    assert.equal(status.status, 'Deleted');
    assert.equal(status.integrationId.length > 0, true, 'the request names the integration that made it');
    assert.equal((await server.call('GET', `/v2/alerts/${ours.id}`)).status, 404);
  });

  it('sees the alerts of its assignee team, not its owner team’s', async () => {
    const assigned = await createIntegration({
      type: 'API',
      name: 'Grafana for Security',
      ownerTeam: { id: teamA },
      assigneeTeam: { id: teamB },
    });
    const list = await server.call('GET', '/v2/alerts?limit=100', undefined, assigned.key);
    assert.ok(list.body.data.every((a: Json) => a.alias !== 'scope-nobodys'));
    assert.ok(list.body.data.some((a: Json) => a.alias === 'scope-theirs'));
  });
});

describe('an assignee team other than the owner team takes the same right on it', () => {
  // The key reads, acts on and deletes its assignee team's alerts: an admin of the owner team alone
  // would otherwise reach another team's alerts through a key of their own making.
  let run: string;
  let teamAdmin: TestUser;
  let bothAdmin: TestUser;
  let assignedByOrgAdmin: { id: string; key: string };

  before(async () => {
    run = randomUUID().slice(0, 6);
    [teamAdmin, bothAdmin] = await Promise.all([
      addUserWithKey(server, 'assignee-team-admin', run),
      addUserWithKey(server, 'assignee-both-admin', run),
    ]);
    for (const [user, team] of [
      [teamAdmin, teamA],
      [bothAdmin, teamA],
      [bothAdmin, teamB],
    ] as const) {
      await server.callOk('POST', `/v2/teams/${team}/members`, {
        user: { username: user.username },
        role: 'admin',
      });
    }
    assignedByOrgAdmin = await createIntegration({
      type: 'API',
      name: `Assigned by an org admin ${run}`,
      ownerTeam: { id: teamA },
      assigneeTeam: { id: teamB },
    });
  });

  it('refuses to create an integration given to a team the user is no admin of', async () => {
    const refused = await server.call(
      'POST',
      '/v2/integrations',
      { type: 'API', name: `Reaches Security ${run}`, ownerTeam: { id: teamA }, assigneeTeam: { id: teamB } },
      teamAdmin.key,
    );
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.match(refused.body.message, /assignee team/);
    const listed = await server.call('GET', '/v2/integrations');
    assert.ok(listed.body.data.every((i: Json) => i.name !== `Reaches Security ${run}`));

    for (const assigneeTeam of [undefined, { id: teamA }]) {
      const own = await server.call(
        'POST',
        '/v2/integrations',
        {
          type: 'API',
          name: `Payments ${run} ${assigneeTeam ? 'assigned' : 'owned'}`,
          ownerTeam: { id: teamA },
          assigneeTeam,
        },
        teamAdmin.key,
      );
      assert.equal(own.status, 201, JSON.stringify(own.body));
    }
    const both = await server.call(
      'POST',
      '/v2/integrations',
      {
        type: 'API',
        name: `Payments for Security ${run}`,
        ownerTeam: { id: teamA },
        assigneeTeam: { id: teamB },
      },
      bothAdmin.key,
    );
    assert.equal(both.status, 201, JSON.stringify(both.body));
  });

  it('refuses to give an integration of the owner team to a team the user is no admin of', async () => {
    const { id } = await createIntegration({ type: 'API', name: `To move ${run}`, ownerTeam: { id: teamA } });
    for (const method of ['PATCH', 'PUT'] as const) {
      const refused = await server.call(
        method,
        `/v2/integrations/${id}`,
        { assigneeTeam: { id: teamB } },
        teamAdmin.key,
      );
      assert.equal(refused.status, 403, `${method}: ${JSON.stringify(refused.body)}`);
      assert.match(refused.body.message, /assignee team/);
    }
    assert.equal((await server.call('GET', `/v2/integrations/${id}`)).body.data.assigneeTeam, undefined);

    const own = await server.call(
      'PATCH',
      `/v2/integrations/${id}`,
      { assigneeTeam: { id: teamA } },
      teamAdmin.key,
    );
    assert.equal(own.status, 200, JSON.stringify(own.body));
    const moved = await server.call(
      'PATCH',
      `/v2/integrations/${id}`,
      { assigneeTeam: { id: teamB } },
      bothAdmin.key,
    );
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(moved.body.data.assigneeTeam.id, teamB);
  });

  it('refuses an admin of the owner team alone an integration given to another team: its key, access, on/off and deletion', async () => {
    const { id, key } = assignedByOrgAdmin;
    for (const [method, path, body] of [
      ['POST', `/v2/integrations/${id}/api-key`, undefined],
      ['PATCH', `/v2/integrations/${id}`, { allowDeleteAccess: true }],
      ['PATCH', `/v2/integrations/${id}`, { assigneeTeam: null }],
      ['POST', `/v2/integrations/${id}/disable`, undefined],
      ['GET', `/v2/integrations/${id}/payloads`, undefined],
      ['DELETE', `/v2/integrations/${id}`, undefined],
    ] as const) {
      const refused = await server.call(method, path, body, teamAdmin.key);
      assert.equal(refused.status, 403, `${method} ${path}: ${JSON.stringify(refused.body)}`);
      assert.match(refused.body.message, /assigned to another team/);
    }
    const untouched = await server.call('GET', `/v2/integrations/${id}`);
    assert.equal(untouched.body.data.enabled, true);
    assert.equal(untouched.body.data.assigneeTeam.id, teamB);
    assert.equal(
      (await server.call('GET', '/v2/alerts', undefined, key)).status,
      200,
      'the key was not regenerated',
    );

    const regenerated = await server.call('POST', `/v2/integrations/${id}/api-key`, undefined, bothAdmin.key);
    assert.equal(regenerated.status, 200, JSON.stringify(regenerated.body));
    assert.notEqual(regenerated.body.data.apiKey, key);
  });
});

describe('the destinations of an integration given to another team take the same right on it', () => {
  // A destination on an integration gets its assignee team's alerts (a Webhook integration's own one sends
  // them out): an admin of the owner team alone would otherwise reach them through /v2/destinations.
  let run: string;
  let teamAdmin: TestUser;
  let bothAdmin: TestUser;
  let assignedWebhook: string;
  let assignedApi: string;
  let ownedWebhook: string;

  const url = (path: string) => `https://hooks.example.com/${path}`;

  /** The destination a Webhook integration keeps its settings in. */
  async function destinationOf(integrationId: string): Promise<Json> {
    const listed = await server.call('GET', '/v2/destinations');
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const found = listed.body.data.find((d: Json) => d.integration?.id === integrationId);
    assert.ok(found, `integration ${integrationId} has its destination`);
    return found;
  }

  async function teamDestination(name: string): Promise<string> {
    const created = await server.call('POST', '/v2/destinations', {
      name: `${name} ${run}`,
      type: 'webhook',
      team: { id: teamA },
      config: { url: url(name) },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    return created.body.data.id;
  }

  before(async () => {
    run = randomUUID().slice(0, 6);
    [teamAdmin, bothAdmin] = await Promise.all([
      addUserWithKey(server, 'destinations-team-admin', run),
      addUserWithKey(server, 'destinations-both-admin', run),
    ]);
    for (const [user, team] of [
      [teamAdmin, teamA],
      [bothAdmin, teamA],
      [bothAdmin, teamB],
    ] as const) {
      await server.callOk('POST', `/v2/teams/${team}/members`, {
        user: { username: user.username },
        role: 'admin',
      });
    }
    const webhook = (name: string, assigneeTeam?: Json) =>
      createIntegration({
        type: 'Webhook',
        name: `${name} ${run}`,
        ownerTeam: { id: teamA },
        assigneeTeam,
        webhookUrl: url(name),
      });
    assignedWebhook = (await webhook('assigned-webhook', { id: teamB })).id;
    ownedWebhook = (await webhook('owned-webhook')).id;
    assignedApi = (
      await createIntegration({
        type: 'API',
        name: `Assigned API ${run}`,
        ownerTeam: { id: teamA },
        assigneeTeam: { id: teamB },
      })
    ).id;
  });

  it("refuses an admin of the owner team alone: the integration's own destination, a new one on it, a move onto it", async () => {
    const own = await destinationOf(assignedWebhook);
    const movable = await teamDestination('movable');
    for (const [method, path, body] of [
      ['PATCH', `/v2/destinations/${own.id}`, { config: { url: url('mine') } }],
      ['POST', `/v2/destinations/${own.id}/test`, undefined],
      ['DELETE', `/v2/destinations/${own.id}`, undefined],
      ...[assignedWebhook, assignedApi].map(
        (id) =>
          [
            'POST',
            '/v2/destinations',
            { name: `Mine ${id} ${run}`, type: 'webhook', integration: { id }, config: { url: url('mine') } },
          ] as const,
      ),
      ['PATCH', `/v2/destinations/${movable}`, { integration: { id: assignedApi } }],
    ] as const) {
      const refused = await server.call(method, path, body, teamAdmin.key);
      assert.equal(refused.status, 403, `${method} ${path}: ${JSON.stringify(refused.body)}`);
      assert.match(refused.body.message, /assigned to another team/);
    }

    assert.deepEqual(await destinationOf(assignedWebhook), own);
    const integration = await server.call('GET', `/v2/integrations/${assignedWebhook}`);
    assert.equal(integration.body.data.webhookUrl, url('assigned-webhook'));
    const listed = await server.call('GET', '/v2/destinations');
    assert.ok(listed.body.data.every((d: Json) => !String(d.name).startsWith('Mine ')));
    const kept = await server.call('GET', `/v2/destinations/${movable}`);
    assert.equal(kept.body.data.team.id, teamA);
    assert.equal(kept.body.data.integration, null);
  });

  /**
   * Manages every way the destinations of `integrationId` (webhook-typed, its own destination among them)
   * with `key`: changes its own destination's URL, tests it, makes one on it, moves one onto it, deletes
   * the one made. Each must succeed.
   */
  async function managesEveryWay(key: string, integrationId: string, label: string): Promise<void> {
    const own = await destinationOf(integrationId);
    const changed = await server.call(
      'PATCH',
      `/v2/destinations/${own.id}`,
      { config: { url: url(`${label}-changed`) } },
      key,
    );
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
    const integration = await server.call('GET', `/v2/integrations/${integrationId}`);
    assert.equal(integration.body.data.webhookUrl, url(`${label}-changed`));
    const tested = await server.call('POST', `/v2/destinations/${own.id}/test`, undefined, key);
    assert.equal(tested.status, 200, JSON.stringify(tested.body));
    const created = await server.call(
      'POST',
      '/v2/destinations',
      {
        name: `${label} ${run}`,
        type: 'webhook',
        integration: { id: integrationId },
        config: { url: url(label) },
      },
      key,
    );
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const moved = await server.call(
      'PATCH',
      `/v2/destinations/${await teamDestination(`moved-by-${label}`)}`,
      { integration: { id: integrationId } },
      key,
    );
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal(moved.body.data.integration.id, integrationId);
    const removed = await server.call('DELETE', `/v2/destinations/${created.body.data.id}`, undefined, key);
    assert.equal(removed.status, 204, JSON.stringify(removed.body));
  }

  it('lets an admin of both teams manage them', async () => {
    await managesEveryWay(bothAdmin.key, assignedWebhook, 'both');
  });

  it('lets an admin of the owner team manage those of an integration given to no other team', async () => {
    await managesEveryWay(teamAdmin.key, ownedWebhook, 'owned');
  });
});

describe("who reads an integration's payload log", () => {
  // Deliveries hold whole findings and the alerts they made: a user who sees only their own alerts
  // reads the log only of integrations they manage, as an integration's key does.
  it('a user without alerts-access-all only of integrations they manage; admins and those who see every alert of all', async () => {
    const run = randomUUID().slice(0, 6);
    const hub = await createIntegration({
      type: 'AmazonSecurityHub',
      name: `Hub ${run}`,
      ownerTeam: { id: teamA },
      verifySignatures: false,
    });
    const delivered = await fetch(`${server.url}/v1/json/integrations/webhooks/amazonsecurityhub`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-api-key': hub.key },
      body: JSON.stringify({
        id: `event-${run}`,
        'detail-type': 'Security Hub Findings - Imported',
        source: 'aws.securityhub',
        detail: {
          findings: [
            {
              Id: `finding-${run}`,
              ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty',
              Title: `secret finding ${run}`,
              Severity: { Label: 'HIGH' },
            },
          ],
        },
      }),
    });
    const { payloadId } = (await delivered.json()) as { payloadId: string };
    assert.equal(delivered.status, 200, payloadId);
    const paths = [
      `/v2/integrations/${hub.id}/payloads?includeBody=true`,
      `/v2/integrations/${hub.id}/payloads/${payloadId}`,
    ];

    const addUser = (local: string) => addUserWithKey(server, `payloads-${local}`, run);
    const [outsider, member, teamAdmin, orgAdmin, seesAll] = await Promise.all([
      addUser('outsider'),
      addUser('member'),
      addUser('team-admin'),
      addUser('org-admin'),
      addUser('sees-all'),
    ]);
    for (const [user, team, role] of [
      [outsider, teamB, 'admin'],
      [member, teamA, 'user'],
      [teamAdmin, teamA, 'admin'],
    ] as const) {
      await server.callOk('POST', `/v2/teams/${team}/members`, { user: { username: user.username }, role });
    }
    await server.callOk('PATCH', `/v2/users/${orgAdmin.id}`, { role: { name: 'Admin' } });
    await server.callOk('POST', '/v2/roles', {
      name: `Sees all ${run}`,
      extendedRole: 'user',
      grantedRights: ['alerts-access-all'],
    });
    await server.callOk('PATCH', `/v2/users/${seesAll.id}`, { role: { name: `Sees all ${run}` } });

    for (const [who, user] of [
      ['an admin of another team', outsider],
      ['a plain member of the owner team', member],
    ] as const) {
      for (const path of paths) {
        const refused = await server.call('GET', path, undefined, user.key);
        assert.equal(refused.status, 403, `${who}, ${path}: ${JSON.stringify(refused.body)}`);
        assert.doesNotMatch(JSON.stringify(refused.body), /secret finding/);
      }
    }
    for (const [who, user] of [
      ['an admin of the owner team', teamAdmin],
      ['an org admin', orgAdmin],
      ['a user who sees every alert', seesAll],
    ] as const) {
      for (const path of paths) {
        const read = await server.call('GET', path, undefined, user.key);
        assert.equal(read.status, 200, `${who}, ${path}: ${JSON.stringify(read.body)}`);
        assert.match(JSON.stringify(read.body), new RegExp(`secret finding ${run}`), `${who}, ${path}`);
      }
    }
  });
});

describe('the access flags of API integrations', () => {
  it("have Opsgenie's defaults, shown in get and list", async () => {
    const { id, data } = await createIntegration({ type: 'API', name: 'Defaults', ownerTeam: { id: teamA } });
    const defaults = {
      allowReadAccess: true,
      allowWriteAccess: true,
      allowDeleteAccess: true,
      allowConfigurationAccess: false,
    };
    const flags = (d: Json) => ({
      allowReadAccess: d.allowReadAccess,
      allowWriteAccess: d.allowWriteAccess,
      allowDeleteAccess: d.allowDeleteAccess,
      allowConfigurationAccess: d.allowConfigurationAccess,
    });
    assert.deepEqual(flags(data), defaults);
    const got = await server.call('GET', `/v2/integrations/${id}`);
    assert.deepEqual(flags(got.body.data), defaults);
    const list = await server.call('GET', '/v2/integrations?type=API');
    assert.deepEqual(flags(list.body.data.find((i: Json) => i.id === id)), defaults);

    const openapi = await server.call('GET', '/openapi.json');
    const body = JSON.stringify(openapi.body.paths['/v2/integrations'].post);
    for (const flag of Object.keys(defaults)) assert.match(body, new RegExp(flag));
  });

  it('are accepted on create and update, and refused for other types with a 422 naming the field', async () => {
    const created = await createIntegration({
      type: 'API',
      name: 'Read only',
      ownerTeam: { id: teamA },
      allowWriteAccess: false,
      allowDeleteAccess: false,
    });
    assert.equal(created.data.allowWriteAccess, false);
    assert.equal(created.data.allowDeleteAccess, false);
    assert.equal(created.data.allowReadAccess, true);
    const patched = await server.call('PATCH', `/v2/integrations/${created.id}`, { allowDeleteAccess: true });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.data.allowDeleteAccess, true);
    assert.equal(patched.body.data.allowWriteAccess, false, 'flags not given keep their value');

    // Opsgenie's PUT, as the Go SDK (and so Terraform) sends it: flags left out go back to their defaults.
    const put = await server.call('PUT', `/v2/integrations/${created.id}`, {
      name: 'Read only (renamed)',
      type: 'API',
      enabled: true,
      ownerTeam: { id: teamA },
      allowWriteAccess: false,
      suppressNotifications: false,
      ignoreRespondersFromPayload: true,
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    assert.equal(put.body.data.name, 'Read only (renamed)');
    assert.equal(put.body.data.allowWriteAccess, false);
    assert.equal(put.body.data.allowDeleteAccess, true, 'a flag left out is back to its default');
    assert.equal(put.body.data.allowConfigurationAccess, false);
    const got = await server.call('GET', `/v2/integrations/${created.id}`);
    assert.equal(got.body.data.name, 'Read only (renamed)');
    const otherType = await server.call('PUT', `/v2/integrations/${created.id}`, {
      name: 'x',
      type: 'AmazonSecurityHub',
    });
    assert.equal(otherType.status, 422, JSON.stringify(otherType.body));
    assert.match(JSON.stringify(otherType.body.errors), /type cannot change/);

    const refused = await server.call('POST', '/v2/integrations', {
      type: 'AmazonSecurityHub',
      name: 'Hub with flags',
      ownerTeam: { id: teamA },
      allowReadAccess: false,
    });
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.ok(refused.body.errors.allowReadAccess);
    const hub = await createIntegration({ type: 'AmazonSecurityHub', name: 'Hub', ownerTeam: { id: teamA } });
    assert.equal(hub.data.allowReadAccess, undefined);
    const refusedPatch = await server.call('PATCH', `/v2/integrations/${hub.id}`, {
      allowConfigurationAccess: true,
    });
    assert.equal(refusedPatch.status, 422, JSON.stringify(refusedPatch.body));
    assert.ok(refusedPatch.body.errors.allowConfigurationAccess);
  });

  it('each refuses its kind of request with a 403 that names it and says how to change it', async () => {
    const { id, key } = await createIntegration({ type: 'API', name: 'Flags', ownerTeam: { id: teamA } });
    const alert = await createAlert({ message: 'flags' }, key);
    const cases = [
      { flag: 'allowReadAccess', method: 'GET', path: `/v2/alerts/${alert.id}` },
      { flag: 'allowReadAccess', method: 'GET', path: '/v2/alerts' },
      { flag: 'allowWriteAccess', method: 'POST', path: '/v2/alerts', body: { message: 'refused' } },
      { flag: 'allowWriteAccess', method: 'POST', path: `/v2/alerts/${alert.id}/acknowledge`, body: {} },
      {
        flag: 'allowWriteAccess',
        method: 'PUT',
        path: `/v2/alerts/${alert.id}/priority`,
        body: { priority: 'P1' },
      },
      { flag: 'allowDeleteAccess', method: 'DELETE', path: `/v2/alerts/${alert.id}` },
      { flag: 'allowDeleteAccess', method: 'DELETE', path: `/v2/alerts/${alert.id}/tags?tags=a` },
    ];
    for (const c of cases) {
      const allowed = await server.call(c.method, c.path, c.body, key);
      assert.notEqual(allowed.status, 403, `${c.method} ${c.path} before ${c.flag} is false`);
    }
    // The delete above removed the alert; the later requests need one to act on.
    const again = await createAlert({ message: 'flags again' }, key);
    for (const c of cases) {
      const path = c.path.replace(alert.id, again.id);
      const off = await server.call('PATCH', `/v2/integrations/${id}`, { [c.flag]: false });
      assert.equal(off.status, 200, JSON.stringify(off.body));
      const refused = await server.call(c.method, path, c.body, key);
      assert.equal(refused.status, 403, `${c.method} ${path} with ${c.flag} false`);
      assert.match(refused.body.message, new RegExp(`\\b${c.flag}\\b`));
      assert.ok(
        refused.body.message.includes(`PATCH /v2/integrations/${id} with {"${c.flag}": true}`),
        refused.body.message,
      );
      // The other kinds still work.
      for (const other of cases.filter((o) => o.flag !== c.flag && o.method !== 'DELETE')) {
        const res = await server.call(other.method, other.path.replace(alert.id, again.id), other.body, key);
        assert.notEqual(res.status, 403, `${other.method} ${other.path} while ${c.flag} is false`);
      }
      const on = await server.call('PATCH', `/v2/integrations/${id}`, { [c.flag]: true });
      assert.equal(on.status, 200);
    }
  });

  it('allowConfigurationAccess false keeps the key to the Alert API', async () => {
    const { id, key } = await createIntegration({
      type: 'API',
      name: 'Alerts only',
      ownerTeam: { id: teamA },
    });
    for (const path of ['/v2/teams', `/v2/teams/${teamA}`, '/v2/users', `/v2/integrations/${id}`]) {
      const refused = await server.call('GET', path, undefined, key);
      assert.equal(refused.status, 403, path);
      assert.match(refused.body.message, /can only use the Alert API/);
      assert.match(refused.body.message, /allowConfigurationAccess/);
    }
  });

  it('allowConfigurationAccess true gives the rights of an admin of its owner team, and no more', async () => {
    const { id, key } = await createIntegration({
      type: 'API',
      name: 'Terraform',
      ownerTeam: { id: teamA },
      allowConfigurationAccess: true,
    });
    // It reads its own team, not another (Opsgenie's Team API answers a team key 40301 for another team).
    const teams = await server.call('GET', '/v2/teams', undefined, key);
    assert.equal(teams.status, 200, JSON.stringify(teams.body));
    assert.deepEqual(
      teams.body.data.map((t: Json) => t.id),
      [teamA],
    );
    assert.equal((await server.call('GET', `/v2/teams/${teamA}`, undefined, key)).status, 200);
    assert.equal((await server.call('GET', `/v2/teams/${teamB}`, undefined, key)).status, 403);

    const own = await server.call(
      'PATCH',
      `/v2/teams/${teamA}`,
      { description: 'changed by Terraform' },
      key,
    );
    assert.equal(own.status, 200, JSON.stringify(own.body));
    const other = await server.call('PATCH', `/v2/teams/${teamB}`, { description: 'not yours' }, key);
    assert.equal(other.status, 403, JSON.stringify(other.body));
    assert.equal((await server.call('POST', '/v2/teams', { name: 'Rogue' }, key)).status, 403);
    assert.equal((await server.call('DELETE', `/v2/teams/${teamA}`, undefined, key)).status, 403);
    assert.equal(
      (await server.call('PATCH', '/v2/organization', { name: 'Taken over' }, key)).status,
      403,
      'not an org admin',
    );

    // It may not escape its team: no user-less API keys, no integration given to another team.
    assert.equal((await server.call('POST', '/v2/api-keys', { name: 'escape' }, key)).status, 403);
    const keys = await server.call('GET', '/v2/api-keys', undefined, key);
    assert.equal(keys.status, 200);
    assert.deepEqual(keys.body.data, []);
    const reassigned = await server.call(
      'PATCH',
      `/v2/integrations/${id}`,
      { assigneeTeam: { id: teamB } },
      key,
    );
    assert.equal(reassigned.status, 403, JSON.stringify(reassigned.body));
    const sibling = await server.call(
      'POST',
      '/v2/integrations',
      { type: 'API', name: 'Sibling', ownerTeam: { id: teamA }, assigneeTeam: { id: teamB } },
      key,
    );
    assert.equal(sibling.status, 403, JSON.stringify(sibling.body));
    const foreign = await server.call(
      'POST',
      '/v2/integrations',
      { type: 'API', name: 'Foreign', ownerTeam: { id: teamB } },
      key,
    );
    assert.equal(foreign.status, 403, JSON.stringify(foreign.body));

    // Nor may it manage an integration of its team that is assigned to a third team, whose alerts
    // that integration's key reads.
    const third = await createIntegration({
      type: 'API',
      name: 'Terraform for Security',
      ownerTeam: { id: teamA },
      assigneeTeam: { id: teamB },
    });
    for (const [method, path, body] of [
      ['POST', `/v2/integrations/${third.id}/api-key`, undefined],
      ['PATCH', `/v2/integrations/${third.id}`, { allowConfigurationAccess: true }],
      ['PATCH', `/v2/integrations/${third.id}`, { name: 'Renamed' }],
      ['POST', `/v2/integrations/${third.id}/disable`, undefined],
      ['POST', `/v2/integrations/${third.id}/enable`, undefined],
      ['GET', `/v2/integrations/${third.id}/payloads`, undefined],
      ['DELETE', `/v2/integrations/${third.id}`, undefined],
    ] as const) {
      const refused = await server.call(method, path, body, key);
      assert.equal(refused.status, 403, `${method} ${path}: ${JSON.stringify(refused.body)}`);
      assert.match(refused.body.message, /assigned to another team/);
    }
    const untouched = await server.call('GET', `/v2/integrations/${third.id}`);
    assert.equal(untouched.body.data.name, 'Terraform for Security');
    assert.equal(untouched.body.data.enabled, true);
    assert.equal(untouched.body.data.allowConfigurationAccess, false);
    const stillWorks = await server.call('GET', '/v2/alerts', undefined, third.key);
    assert.equal(stillWorks.status, 200, 'the key was not regenerated');
    // Its own team's integrations it still manages.
    const mine = await createIntegration({
      type: 'API',
      name: 'Terraform for Payments',
      ownerTeam: { id: teamA },
    });
    for (const [method, path, body] of [
      ['POST', `/v2/integrations/${mine.id}/api-key`, undefined],
      ['PATCH', `/v2/integrations/${mine.id}`, { name: 'Terraform for Payments, renamed' }],
      ['POST', `/v2/integrations/${mine.id}/disable`, undefined],
      ['POST', `/v2/integrations/${mine.id}/enable`, undefined],
      ['GET', `/v2/integrations/${mine.id}/payloads`, undefined],
      ['DELETE', `/v2/integrations/${mine.id}`, undefined],
    ] as const) {
      const allowed = await server.call(method, path, body, key);
      assert.equal(allowed.status, 200, `${method} ${path}: ${JSON.stringify(allowed.body)}`);
    }

    // Its alerts are still only its team's.
    const theirs = await createAlert({ message: 'security only', responders: [{ type: 'team', id: teamB }] });
    assert.equal((await server.call('GET', `/v2/alerts/${theirs.id}`, undefined, key)).status, 404);

    // And the method flags apply to the other APIs too.
    assert.equal(
      (await server.call('PATCH', `/v2/integrations/${id}`, { allowWriteAccess: false })).status,
      200,
    );
    const readOnly = await server.call('PATCH', `/v2/teams/${teamA}`, { description: 'again' }, key);
    assert.equal(readOnly.status, 403);
    assert.match(readOnly.body.message, /allowWriteAccess/);
    assert.equal((await server.call('GET', '/v2/teams', undefined, key)).status, 200);
  });

  it('allowConfigurationAccess true reaches only its owner team’s schedules and escalations (403 otherwise)', async () => {
    const { key } = await createIntegration({
      type: 'API',
      name: 'Terraform for on-call',
      ownerTeam: { id: teamA },
      allowConfigurationAccess: true,
    });
    const schedule = async (name: string, ownerTeam?: string) =>
      (
        await server.callOk('POST', '/v2/schedules', {
          name,
          timezone: 'UTC',
          ...(ownerTeam ? { ownerTeam: { id: ownerTeam } } : {}),
          rotations: [
            {
              startDate: '2026-01-05T00:00:00Z',
              type: 'weekly',
              participants: [{ type: 'team', id: teamB }],
            },
          ],
        })
      ).data.id as string;
    const escalation = async (name: string, ownerTeam?: string) =>
      (
        await server.callOk('POST', '/v2/escalations', {
          name,
          ...(ownerTeam ? { ownerTeam: { id: ownerTeam } } : {}),
          rules: [
            {
              condition: 'if-not-acked',
              notifyType: 'default',
              delay: { timeAmount: 0 },
              recipient: { type: 'team', id: teamB },
            },
          ],
        })
      ).data.id as string;
    const schedules = {
      ours: { name: 'Payments on call', id: await schedule('Payments on call', teamA) },
      theirs: { name: 'Security on call', id: await schedule('Security on call', teamB) },
      nobodys: { name: 'Everyone on call', id: await schedule('Everyone on call') },
    };
    const escalations = {
      ours: { name: 'Payments escalation', id: await escalation('Payments escalation', teamA) },
      theirs: { name: 'Security escalation', id: await escalation('Security escalation', teamB) },
      nobodys: { name: 'Everyone escalation', id: await escalation('Everyone escalation') },
    };
    const date = `date=${encodeURIComponent('2026-03-23T12:00:00Z')}`;
    const schedulePaths = (s: { id: string; name: string }) => [
      `/v2/schedules/${s.id}`,
      `/v2/schedules/${encodeURIComponent(s.name)}?identifierType=name`,
      `/v2/schedules/${s.id}/on-calls?${date}`,
      `/v2/schedules/${s.id}/next-on-calls?${date}`,
      `/v2/schedules/${s.id}/timeline?${date}`,
      `/v2/schedules/${s.id}/rotations`,
      `/v2/schedules/${s.id}/overrides`,
      `/v2/schedules/${s.id}.ics`,
    ];
    const escalationPaths = (e: { id: string; name: string }) => [
      `/v2/escalations/${e.id}`,
      `/v2/escalations/${encodeURIComponent(e.name)}?identifierType=name`,
    ];
    const names = (listed: Json) => (listed.data as Json[]).map((x) => x.name ?? x._parent.name).sort();

    assert.deepEqual(names(await server.callOk('GET', '/v2/schedules', undefined, key)), [
      schedules.ours.name,
    ]);
    assert.deepEqual(names(await server.callOk('GET', `/v2/schedules/on-calls?${date}`, undefined, key)), [
      schedules.ours.name,
    ]);
    assert.deepEqual(names(await server.callOk('GET', '/v2/escalations', undefined, key)), [
      escalations.ours.name,
    ]);
    for (const path of [...schedulePaths(schedules.ours), ...escalationPaths(escalations.ours)]) {
      const read = await server.call('GET', path, undefined, key);
      assert.equal(read.status, 200, `${path}: ${JSON.stringify(read.body)}`);
    }
    for (const other of ['theirs', 'nobodys'] as const) {
      for (const path of [...schedulePaths(schedules[other]), ...escalationPaths(escalations[other])]) {
        const refused = await server.call('GET', path, undefined, key);
        assert.equal(refused.status, 403, `${path}: ${JSON.stringify(refused.body)}`);
        assert.match(refused.body.message, /reaches only its owner team's configuration/);
      }
    }
    const changed = await server.call(
      'PATCH',
      `/v2/schedules/${schedules.theirs.id}`,
      { description: 'not yours' },
      key,
    );
    assert.equal(changed.status, 403, JSON.stringify(changed.body));

    // A user's key and the bootstrap key still read every one.
    const everything = names(await server.callOk('GET', '/v2/schedules'));
    for (const s of Object.values(schedules)) assert.ok(everything.includes(s.name), s.name);
    const plain = await addUserWithKey(server, 'schedule-reader', randomUUID().slice(0, 6));
    for (const path of schedulePaths(schedules.theirs)) {
      const read = await server.call('GET', path, undefined, plain.key);
      assert.equal(read.status, 200, `${path}: ${JSON.stringify(read.body)}`);
    }
  });

  it('allowConfigurationAccess true reaches only its owner team’s teams, integrations, heartbeats, policies, routing rules and roles', async () => {
    const { id: terraformId, key } = await createIntegration({
      type: 'API',
      name: 'Terraform for everything',
      ownerTeam: { id: teamA },
      allowConfigurationAccess: true,
    });
    const teamNames = new Map<string, string>();
    for (const t of (await server.callOk('GET', '/v2/teams')).data as Json[]) teamNames.set(t.id, t.name);
    const integrationB = await createIntegration({
      type: 'API',
      name: 'Security’s Grafana',
      ownerTeam: { id: teamB },
    });
    const heartbeat = async (name: string, ownerTeam?: string) => {
      await server.callOk('POST', '/v2/heartbeats', {
        name,
        interval: 10,
        intervalUnit: 'minutes',
        enabled: false,
        ...(ownerTeam ? { ownerTeam: { id: ownerTeam } } : {}),
      });
      return name;
    };
    const heartbeats = {
      ours: await heartbeat('payments-cron', teamA),
      theirs: await heartbeat('security-cron', teamB),
      nobodys: await heartbeat('everyone-cron'),
    };
    const policy = async (name: string, teamId?: string) =>
      (
        await server.callOk('POST', `/v2/policies${teamId ? `?teamId=${teamId}` : ''}`, {
          type: 'alert',
          name,
          filter: {
            type: 'match-all-conditions',
            conditions: [{ field: 'message', operation: 'contains', expectedValue: name }],
          },
          tags: ['x'],
        })
      ).data.id as string;
    const policies = {
      ours: await policy('Payments policy', teamA),
      theirs: await policy('Security policy', teamB),
      nobodys: await policy('Everyone policy'),
    };

    const refused = async (path: string) => {
      const answer = await server.call('GET', path, undefined, key);
      assert.equal(answer.status, 403, `${path}: ${JSON.stringify(answer.body)}`);
      assert.match(answer.body.message, /reaches only its owner team's configuration/);
    };
    const read = async (path: string, k = key) => {
      const answer = await server.call('GET', path, undefined, k);
      assert.equal(answer.status, 200, `${path}: ${JSON.stringify(answer.body)}`);
      return answer.body as Json;
    };

    // Teams: its own only, by id or by name.
    assert.deepEqual(
      ((await read('/v2/teams')).data as Json[]).map((t) => t.id),
      [teamA],
    );
    await read(`/v2/teams/${teamA}`);
    await read(`/v2/teams/${encodeURIComponent(teamNames.get(teamA) ?? '')}?identifierType=name`);
    await refused(`/v2/teams/${teamB}`);
    await refused(`/v2/teams/${encodeURIComponent(teamNames.get(teamB) ?? '')}?identifierType=name`);
    // Nor through a person's teams.
    const both = await addUserWithKey(server, 'in-both-teams', randomUUID().slice(0, 6));
    for (const team of [teamA, teamB])
      await server.callOk('POST', `/v2/teams/${team}/members`, {
        user: { username: both.username },
        role: 'user',
      });
    assert.deepEqual(
      ((await read(`/v2/users/${both.username}/teams`)).data as Json[]).map((t) => t.id),
      [teamA],
    );
    assert.equal(((await read(`/v2/users/${both.username}/teams`, server.key)).data as Json[]).length, 2);

    // Integrations: its owner team's only.
    const listed = ((await read('/v2/integrations')).data as Json[]).map((i) => i.id);
    assert.ok(listed.includes(terraformId), 'its own');
    assert.ok(!listed.includes(integrationB.id), 'not another team’s');
    // Those of its owner team assigned to team B stay; team B's own do not.
    const ofB = ((await read(`/v2/integrations?teamId=${teamB}`)).data as Json[]).map((i) => i.ownerTeam.id);
    assert.ok(!ofB.includes(teamB), JSON.stringify(ofB));
    await read(`/v2/integrations/${terraformId}`);
    await refused(`/v2/integrations/${integrationB.id}`);

    // Heartbeats: its owner team's only.
    assert.deepEqual(
      ((await read('/v2/heartbeats')).data.heartbeats as Json[]).map((h) => h.name),
      [heartbeats.ours],
    );
    await read(`/v2/heartbeats/${heartbeats.ours}`);
    await refused(`/v2/heartbeats/${heartbeats.theirs}`);
    await refused(`/v2/heartbeats/${heartbeats.nobodys}`);

    // Alert policies: its owner team's only, not another team's nor the global ones.
    assert.deepEqual(
      ((await read(`/v2/policies/alert?teamId=${teamA}`)).data as Json[]).map((x) => x.id),
      [policies.ours],
    );
    await read(`/v2/policies/${policies.ours}?teamId=${teamA}`);
    await refused(`/v2/policies/alert?teamId=${teamB}`);
    await refused('/v2/policies/alert');
    await refused(`/v2/policies/${policies.theirs}?teamId=${teamB}`);
    await refused(`/v2/policies/${policies.nobodys}`);

    // A team's routing rules, roles and notification policies: its owner team's only.
    await read(`/v2/teams/${teamA}/routing-rules`);
    await refused(`/v2/teams/${teamB}/routing-rules`);
    await read(`/v2/teams/${teamA}/roles`);
    await refused(`/v2/teams/${teamB}/roles`);
    await read(`/v2/policies/notification?teamId=${teamA}`);
    await refused(`/v2/policies/notification?teamId=${teamB}`);

    // A user's key and the bootstrap key still read every one.
    const plain = await addUserWithKey(server, 'config-reader', randomUUID().slice(0, 6));
    for (const k of [server.key, plain.key]) {
      const teamIds = ((await read('/v2/teams', k)).data as Json[]).map((t) => t.id);
      assert.ok(teamIds.includes(teamA) && teamIds.includes(teamB), JSON.stringify(teamIds));
      await read(`/v2/teams/${teamB}`, k);
      assert.ok(((await read('/v2/integrations', k)).data as Json[]).some((i) => i.id === integrationB.id));
      await read(`/v2/integrations/${integrationB.id}`, k);
      const names = ((await read('/v2/heartbeats', k)).data.heartbeats as Json[]).map((h) => h.name);
      for (const name of Object.values(heartbeats)) assert.ok(names.includes(name), name);
      await read(`/v2/heartbeats/${heartbeats.theirs}`, k);
      await read(`/v2/policies/${policies.theirs}?teamId=${teamB}`, k);
      await read(`/v2/policies/${policies.nobodys}`, k);
      await read(`/v2/teams/${teamB}/routing-rules`, k);
      await read(`/v2/teams/${teamB}/roles`, k);
      await read(`/v2/policies/notification?teamId=${teamB}`, k);
    }
  });

  /**
   * With a key of allowConfigurationAccess, a `kind` made without an owner team is the key's owner team's,
   * one for another team is a 403, and a user's key still makes one no team owns.
   */
  async function ownerTeamDefaultsToTheKeys(kind: 'schedules' | 'escalations', body: (name: string) => Json) {
    const { key } = await createIntegration({
      type: 'API',
      name: `Terraform for ${kind}`,
      ownerTeam: { id: teamA },
      allowConfigurationAccess: true,
    });
    const made = await server.call('POST', `/v2/${kind}`, body('Made by a team key'), key);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const got = await server.callOk('GET', `/v2/${kind}/${made.body.data.id}`, undefined, key);
    assert.equal(got.data.ownerTeam?.id, teamA);
    const foreign = await server.call(
      'POST',
      `/v2/${kind}`,
      { ...body('For another team'), ownerTeam: { id: teamB } },
      key,
    );
    assert.equal(foreign.status, 403, JSON.stringify(foreign.body));
    const unowned = await server.callOk('POST', `/v2/${kind}`, body(`Nobody’s ${kind}`));
    const plain = await server.callOk('GET', `/v2/${kind}/${unowned.data.id}`);
    assert.equal(plain.data.ownerTeam, undefined);
  }

  it('allowConfigurationAccess true makes a schedule its owner team’s when the request names none, as Opsgenie does', async () => {
    await ownerTeamDefaultsToTheKeys('schedules', (name) => ({ name, timezone: 'UTC' }));
  });

  it('allowConfigurationAccess true makes an escalation its owner team’s when the request names none, as a schedule', async () => {
    await ownerTeamDefaultsToTheKeys('escalations', (name) => ({
      name,
      rules: [
        {
          condition: 'if-not-acked',
          notifyType: 'default',
          delay: { timeAmount: 0 },
          recipient: { type: 'team', id: teamA },
        },
      ],
    }));
  });

  it('allowConfigurationAccess true adds, demotes and removes admins of its owner team, as Terraform does', async () => {
    const teamId = await createTeam('Platform');
    const { key } = await createIntegration({
      type: 'API',
      name: 'Terraform for Platform',
      ownerTeam: { id: teamId },
      allowConfigurationAccess: true,
    });
    const username = 'platform-admin@example.com';
    await server.callOk('POST', '/v2/users', {
      username,
      fullName: 'Platform Admin',
      role: { name: 'User' },
    });
    const members = async () =>
      Object.fromEntries(
        (await server.callOk('GET', `/v2/teams/${teamId}`)).data.members.map((m: Json) => [
          m.user.username,
          m.role,
        ]),
      );

    const added = await server.call(
      'POST',
      `/v2/teams/${teamId}/members`,
      { user: { username }, role: 'admin' },
      key,
    );
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.deepEqual(await members(), { [username]: 'admin' });
    const demoted = await server.call(
      'POST',
      `/v2/teams/${teamId}/members`,
      { user: { username }, role: 'user' },
      key,
    );
    assert.equal(demoted.status, 200, JSON.stringify(demoted.body));
    assert.deepEqual(await members(), { [username]: 'user' });
    // The whole-team update Terraform's opsgenie_team sends.
    const replaced = await server.call(
      'PATCH',
      `/v2/teams/${teamId}`,
      { members: [{ user: { username }, role: 'admin' }] },
      key,
    );
    assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
    assert.deepEqual(await members(), { [username]: 'admin' });
    const removed = await server.call(
      'DELETE',
      `/v2/teams/${teamId}/members/${encodeURIComponent(username)}`,
      undefined,
      key,
    );
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    assert.deepEqual(await members(), {});

    // Still no deleting its own team.
    const deleted = await server.call('DELETE', `/v2/teams/${teamId}`, undefined, key);
    assert.equal(deleted.status, 403, JSON.stringify(deleted.body));
    assert.equal((await server.call('GET', `/v2/teams/${teamId}`)).status, 200);
  });
});
