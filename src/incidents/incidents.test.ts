import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { addOrganization, startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';
import { startTestSmtpServer, type TestSmtpServer } from '../testing/smtp.js';

/**
 * Opsgenie's Incident API on the real server and a real SMTP server: an incident pages its responders
 * through its alert, and what is done to it is done to that alert.
 *
 * Team Ops (alice; no routing rule, so every member is paged) with an API integration of its own; bob, on
 * no team, added as a responder later.
 */

let server: TestServer;
let smtp: TestSmtpServer;
let teamKey: string;
let teamId: string;
const run = randomUUID().slice(0, 8);
const alice = `alice-${run}@example.com`;
const bob = `bob-${run}@example.com`;
const teamName = `Ops ${run}`;

before(async () => {
  smtp = await startTestSmtpServer();
  server = await startTestServer({
    engineIntervalMs: 100,
    env: { VIGIL_SMTP_URL: smtp.url, VIGIL_EMAIL_FROM: 'Vigil <vigil@example.com>' },
  });
  for (const username of [alice, bob])
    await server.callOk('POST', '/v2/users', {
      username,
      fullName: username.split('-')[0],
      role: { name: 'User' },
    });
  const team = await server.callOk('POST', '/v2/teams', {
    name: teamName,
    members: [{ user: { username: alice }, role: 'user' }],
  });
  teamId = team.data.id;
  const integration = await server.callOk('POST', '/v2/integrations', {
    type: 'API',
    name: `Ops API ${run}`,
    ownerTeam: { id: teamId },
  });
  teamKey = integration.data.apiKey;
});

after(async () => {
  await server?.stop();
  await smtp?.stop();
});

const mailTo = (address: string, subject: string) =>
  waitFor(
    `an email to ${address} about "${subject}"`,
    async () => smtp.messages.find((m) => m.to.includes(address) && m.subject.includes(subject)),
    15_000,
  );

/** A request's outcome: answered 202, then its status by GET /v1/incidents/requests/{id}. */
async function accepted(res: { status: number; body: Json }): Promise<Json> {
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal(res.body.result, 'Request will be processed');
  return (await server.callOk('GET', `/v1/incidents/requests/${res.body.requestId}`)).data;
}

async function act(incidentId: string, path: string, body: Json = {}, key?: string): Promise<Json> {
  return accepted(await server.call('POST', `/v1/incidents/${incidentId}${path}`, body, key));
}

async function createIncident(body: Json, key?: string): Promise<Json> {
  const status = await accepted(await server.call('POST', '/v1/incidents/create', body, key));
  assert.equal(status.isSuccess, true, JSON.stringify(status));
  return (await server.callOk('GET', `/v1/incidents/${status.incidentId}`, undefined, key)).data;
}

const incidentOf = async (id: string) => (await server.callOk('GET', `/v1/incidents/${id}`)).data;
const alertOf = async (id: string) => (await server.callOk('GET', `/v2/alerts/${id}`)).data;
const alertIdsOf = async (id: string, path = 'associated-alert-ids') =>
  (await server.callOk('GET', `/v1/incidents/${id}/${path}`)).data as string[];
const logsOf = async (id: string) =>
  ((await server.callOk('GET', `/v1/incidents/${id}/logs?order=asc`)).data as Json[]).map((l) => l.log);

describe('the Incident API', () => {
  it('creates, pages, changes, resolves, reopens, closes and deletes an incident through its alert', async () => {
    const message = `Checkout down ${run}`;
    const tag = `inc${run}`;
    const created = await server.call('POST', '/v1/incidents/create', {
      message,
      description: 'Payments fail for every customer',
      responders: [{ type: 'team', name: teamName }],
      tags: [tag, 'checkout'],
      details: { region: 'eu-west-1', shard: 7 },
      priority: 'P2',
      note: 'first look',
      impactedServices: ['svc-checkout'],
      statusPageEntry: { title: 'Checkout degraded', detail: 'We are on it' },
      user: 'Ops lead',
      source: 'runbook',
    });
    const status = await accepted(created);
    assert.deepEqual(
      { success: status.success, action: status.action, status: status.status },
      { success: true, action: 'Create', status: 'Created incident' },
    );
    const id = status.incidentId as string;

    // Get by id and by tinyId give the same incident, in Opsgenie's shape.
    const incident = await incidentOf(id);
    assert.deepEqual(
      (await server.callOk('GET', `/v1/incidents/${incident.tinyId}?identifierType=tiny`)).data,
      incident,
    );
    assert.deepEqual(
      {
        message: incident.message,
        description: incident.description,
        status: incident.status,
        priority: incident.priority,
        tags: incident.tags,
        extraProperties: incident.extraProperties,
        responders: incident.responders,
        ownerTeam: incident.ownerTeam,
        impactedServices: incident.impactedServices,
        statusPageEntry: incident.statusPageEntry,
        notifyStakeholders: incident.notifyStakeholders,
      },
      {
        message,
        description: 'Payments fail for every customer',
        status: 'open',
        priority: 'P2',
        tags: [tag, 'checkout'],
        extraProperties: { region: 'eu-west-1', shard: '7' },
        responders: [{ type: 'team', id: teamId }],
        ownerTeam: teamId,
        impactedServices: ['svc-checkout'],
        statusPageEntry: { title: 'Checkout degraded', detail: 'We are on it' },
        notifyStakeholders: false,
      },
    );
    assert.match(incident.tinyId, /^\d+$/);

    // Its alert carries what the incident says, and pages the team.
    const [alertId] = await alertIdsOf(id);
    assert.ok(alertId);
    assert.deepEqual(await alertIdsOf(id, 'responder-alert-ids'), [alertId]);
    const alert = await alertOf(alertId);
    assert.deepEqual(
      {
        message: alert.message,
        priority: alert.priority,
        tags: alert.tags,
        responders: alert.responders,
        status: alert.status,
        region: alert.details.region,
        incidentId: alert.details.incidentId,
      },
      {
        message,
        priority: 'P2',
        tags: [tag, 'checkout'],
        responders: [{ type: 'team', id: teamId }],
        status: 'open',
        region: 'eu-west-1',
        incidentId: id,
      },
    );
    await mailTo(alice, message);

    // List with a query.
    const listed = await server.callOk(
      'GET',
      `/v1/incidents?query=${encodeURIComponent(`tag:"${tag}" AND status:open`)}`,
    );
    assert.deepEqual(
      (listed.data as Json[]).map((i) => i.id),
      [id],
    );
    assert.deepEqual(listed.data[0], incident);
    const none = await server.callOk(
      'GET',
      `/v1/incidents?query=${encodeURIComponent(`tag:"${tag}" AND status:resolved`)}`,
    );
    assert.deepEqual(none.data, []);

    // A note.
    const noted = await act(id, '/notes', { note: 'rolled back', user: 'Dana' });
    assert.deepEqual([noted.success, noted.action, noted.incidentId], [true, 'AddNote', id]);
    const notes = (await server.callOk('GET', `/v1/incidents/${id}/notes?order=asc`)).data as Json[];
    assert.deepEqual(
      notes.map((n) => [n.note, n.owner]),
      [
        ['first look', 'Ops lead'],
        ['rolled back', 'Dana'],
      ],
    );

    // The priority, the incident's and its alert's.
    const prioritised = await act(id, '/priority', { priority: 'P1' });
    assert.deepEqual([prioritised.success, prioritised.action], [true, 'UpdatePriority']);
    assert.equal((await incidentOf(id)).priority, 'P1');
    assert.equal((await alertOf(alertId)).priority, 'P1');

    // A responder added to the incident is added to its alert, and paged.
    const added = await act(id, '/responders', { responder: { type: 'user', username: bob } });
    assert.deepEqual([added.success, added.action, added.status], [true, 'AddResponder', 'Added responder']);
    const bobId = (await server.callOk('GET', `/v2/users/${encodeURIComponent(bob)}`)).data.id as string;
    assert.deepEqual((await incidentOf(id)).responders, [
      { type: 'team', id: teamId },
      { type: 'user', id: bobId },
    ]);
    assert.deepEqual((await alertOf(alertId)).responders, [
      { type: 'team', id: teamId },
      { type: 'user', id: bobId },
    ]);
    await mailTo(bob, message);

    // Resolving closes the alert.
    const resolved = await act(id, '/resolve', { note: 'fixed by rollback' });
    assert.deepEqual([resolved.success, resolved.action], [true, 'Resolve']);
    assert.equal((await incidentOf(id)).status, 'resolved');
    assert.equal((await alertOf(alertId)).status, 'closed');
    assert.equal(
      (
        await server.callOk(
          'GET',
          `/v1/incidents?query=${encodeURIComponent(`tag:"${tag}" AND status:resolved`)}`,
        )
      ).data.length,
      1,
    );

    // Reopening raises a new alert for the responders; the closed one stays closed.
    const reopened = await act(id, '/reopen', {});
    assert.deepEqual([reopened.success, reopened.action], [true, 'Reopen']);
    assert.equal((await incidentOf(id)).status, 'open');
    const alertIds = await alertIdsOf(id);
    assert.equal(alertIds.length, 2);
    assert.equal(alertIds[1], alertId, 'newest first');
    const second = await alertOf(alertIds[0] as string);
    assert.deepEqual([second.status, second.priority, second.message], ['open', 'P1', message]);
    assert.deepEqual(second.responders, [
      { type: 'team', id: teamId },
      { type: 'user', id: bobId },
    ]);
    assert.equal((await alertOf(alertId)).status, 'closed');

    // Closing closes the new alert too; resolving a closed incident is refused in its status.
    const closed = await act(id, '/close', { user: 'Ops lead' });
    assert.deepEqual([closed.success, closed.action], [true, 'Close']);
    assert.equal((await incidentOf(id)).status, 'closed');
    assert.equal((await alertOf(second.id)).status, 'closed');
    const refused = await act(id, '/resolve');
    assert.deepEqual(
      [refused.success, refused.status],
      [false, 'Incident is closed: it can not be resolved.'],
    );

    // Everything is on the incident's log.
    const tiny = (await alertOf(alertId)).tinyId;
    const logs = await logsOf(id);
    // Requests that name no user are the key's owner's.
    const me = String(logs[4]).replace('Priority changed from P2 to P1 by ', '');
    assert.ok(me.length > 0 && !me.includes('Priority'));
    assert.deepEqual(logs, [
      'Incident created via API by Ops lead',
      'Note added by Ops lead: first look',
      `Alert #${tiny} raised: it pages the incident's responders`,
      'Note added by Dana: rolled back',
      `Priority changed from P2 to P1 by ${me}`,
      `User ${bob} added as a responder by ${me}`,
      `Incident resolved by ${me}`,
      `Alert #${tiny} closed with the incident`,
      `Note added by ${me}: fixed by rollback`,
      `Incident reopened by ${me}`,
      `Alert #${second.tinyId} raised: it pages the incident's responders`,
      'Incident closed by Ops lead',
      `Alert #${second.tinyId} closed with the incident`,
    ]);
    // The alert's own log says who closed it.
    const alertLogs = (
      (await server.callOk('GET', `/v2/alerts/${alertId}/logs?order=asc`)).data as Json[]
    ).map((l) => l.log);
    assert.ok(alertLogs.includes(`Alert closed by ${me}`), JSON.stringify(alertLogs));

    // Deleting it leaves its alerts.
    const deleted = await accepted(
      await server.call('DELETE', `/v1/incidents/${incident.tinyId}?identifierType=tiny`),
    );
    assert.deepEqual([deleted.success, deleted.action, deleted.incidentId], [true, 'Delete', id]);
    assert.equal((await server.call('GET', `/v1/incidents/${id}`)).status, 404);
    assert.equal((await alertOf(alertId)).status, 'closed');
  });

  it("gives an integration key the incidents of its team only, and makes its incidents its team's", async () => {
    const message = `Team incident ${run}`;
    const incident = await createIncident({ message }, teamKey);
    assert.deepEqual(incident.responders, [{ type: 'team', id: teamId }]);
    const [alertId] = await alertIdsOf(incident.id);
    assert.equal((await alertOf(alertId as string)).integration.name, `Ops API ${run}`);
    await mailTo(alice, message);

    // One the team is not a responder of answers as missing, and acting on it does nothing.
    const other = await createIncident({ message: `Not the team's ${run}` });
    assert.equal((await server.call('GET', `/v1/incidents/${other.id}`, undefined, teamKey)).status, 404);
    const outcome = await act(other.id, '/close', {}, teamKey);
    assert.deepEqual([outcome.success, outcome.status], [false, 'Incident does not exist']);
    assert.equal((await incidentOf(other.id)).status, 'open');
    const listed = (await server.callOk('GET', '/v1/incidents?limit=100', undefined, teamKey)).data as Json[];
    assert.ok(listed.every((i) => i.responders.some((r: Json) => r.id === teamId)));
    assert.ok(listed.some((i) => i.id === incident.id));

    // Another organization sees none of them.
    const elsewhere = await addOrganization(server, `Elsewhere ${run}`);
    assert.equal((await elsewhere.call('GET', `/v1/incidents/${incident.id}`)).status, 404);
    assert.deepEqual((await elsewhere.call('GET', '/v1/incidents')).body.data, []);
  });

  it('answers hostile input with a 4xx, and makes nothing of it', async () => {
    const before = (await server.callOk('GET', '/v1/incidents?limit=100')).data.length as number;
    const refusedCreates: Json[] = [
      {},
      { message: '' },
      { message: 'x', priority: 'P9' },
      { message: 'x'.repeat(15001) },
      { message: 'x', responders: [{ type: 'team', name: `No such team ${run}` }] },
      { message: 'x', responders: [{ type: 'robot', name: 'r2' }] },
      { message: 'x', tags: Array.from({ length: 201 }, (_, i) => `t${i}`) },
      { message: 'x', details: { nested: { a: 1 } } },
      { message: 'x', impactedServices: [{ id: 'svc' }] },
      { message: 'x', notifyStakeholders: 'maybe' },
    ];
    for (const body of refusedCreates) {
      const res = await server.call('POST', '/v1/incidents/create', body);
      assert.equal(res.status, 422, `${JSON.stringify(body).slice(0, 100)}: ${JSON.stringify(res.body)}`);
    }
    assert.equal((await server.callOk('GET', '/v1/incidents?limit=100')).data.length, before, 'nothing made');

    // NUL bytes are stored as U+FFFD, not a 500.
    const nul = await createIncident({ message: `nul\u0000byte ${run}` });
    assert.equal(nul.message, `nul\uFFFDbyte ${run}`);

    for (const [path, status] of [
      ['/v1/incidents/not-a-uuid', 404],
      ['/v1/incidents/abc?identifierType=tiny', 404],
      ['/v1/incidents/99999999999999999999999999?identifierType=tiny', 404],
      [`/v1/incidents/${nul.id}?identifierType=alias`, 422],
      ['/v1/incidents?limit=1000', 422],
      ['/v1/incidents?offset=-1', 422],
      ['/v1/incidents?offset=19990&limit=100', 422],
      ['/v1/incidents?sort=nope', 422],
      [`/v1/incidents?query=${encodeURIComponent('status:bogus')}`, 422],
      [`/v1/incidents?query=${encodeURIComponent('acknowledged:true')}`, 422],
      [`/v1/incidents?query=${encodeURIComponent('tinyId>99999999999999999999')}`, 422],
      [`/v1/incidents?query=${encodeURIComponent('('.repeat(50))}`, 422],
      [`/v1/incidents/${nul.id}/notes?limit=0`, 422],
      [`/v1/incidents/${nul.id}/logs?offset=abc`, 422],
      [`/v1/incidents/${nul.id}/associated-alert-ids?limit=1000`, 422],
      [`/v1/incidents/requests/${randomUUID()}`, 404],
    ] as const) {
      const res = await server.call('GET', path);
      assert.equal(res.status, status, `${path}: ${JSON.stringify(res.body)}`);
    }

    // Actions: an unknown incident is accepted and its status says so; bad bodies are refused.
    const unknown = await act(randomUUID(), '/close');
    assert.deepEqual(
      [unknown.success, unknown.status, unknown.incidentId],
      [false, 'Incident does not exist', ''],
    );
    for (const [path, body] of [
      ['/notes', {}],
      ['/notes', { note: '' }],
      ['/priority', { priority: 'urgent' }],
      ['/responders', {}],
      ['/responders', { responder: { type: 'user', username: `nobody-${run}@example.com` } }],
      ['/resolve', { note: 'x'.repeat(25001) }],
    ] as const) {
      const res = await server.call('POST', `/v1/incidents/${nul.id}${path}`, body);
      assert.equal(
        res.status,
        422,
        `${path} ${JSON.stringify(body).slice(0, 80)}: ${JSON.stringify(res.body)}`,
      );
    }
    assert.deepEqual((await incidentOf(nul.id)).responders, []);
    assert.equal((await incidentOf(nul.id)).status, 'open');
    const notes = (await server.callOk('GET', `/v1/incidents/${nul.id}/notes`)).data;
    assert.deepEqual(notes, []);

    // A body that is not JSON, or too large.
    const bad = await fetch(`${server.url}/v1/incidents/create`, {
      method: 'POST',
      headers: { authorization: `GenieKey ${server.key}`, 'content-type': 'application/json' },
      body: '{"message":',
    });
    assert.equal(bad.status, 400);
    const huge = await fetch(`${server.url}/v1/incidents/create`, {
      method: 'POST',
      headers: { authorization: `GenieKey ${server.key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'x', description: 'y'.repeat(20 * 1024 * 1024) }),
    });
    assert.equal(huge.status, 413);
    assert.equal((await server.call('GET', '/v1/incidents')).status, 200);
    assert.equal((await server.call('GET', '/v1/incidents', undefined, 'not-a-key')).status, 401);
  });
});
