import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { offsetPagingOf } from '../http/cursor-paging.js';
import {
  addOrganization,
  addUserWithKey,
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
} from '../testing/harness.js';
import { startTestSmtpServer, type TestSmtpServer } from '../testing/smtp.js';

/**
 * Opsgenie's Incident API on the real server and a real SMTP server: an incident pages its responders
 * through its alert, and what is done to it is done to that alert.
 *
 * Team Ops (alice; no routing rule, so every member is paged) with an API integration of its own; bob, on
 * no team, added as a responder later; plain (the User role, no custom role, on no team), who sees only
 * their own alerts.
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

  it('pages a responder added to an open incident whose alert was closed, with an alert of its own', async () => {
    const message = `Still burning ${run}`;
    const incident = await createIncident({ message, responders: [{ type: 'team', name: teamName }] });
    const [first] = await alertIdsOf(incident.id);
    assert.ok(first);
    // Its alert is closed (from a phone, Slack, a policy) while the incident burns on.
    await server.callOk('POST', `/v2/alerts/${first}/close`, { user: 'alice on her phone' });
    assert.equal((await alertOf(first)).status, 'closed');
    assert.equal((await incidentOf(incident.id)).status, 'open');

    const added = await act(incident.id, '/responders', { responder: { type: 'user', username: bob } });
    assert.equal(added.success, true, JSON.stringify(added));
    assert.match(
      added.status,
      /^Added responder; alert #\d+ raised to page it \(the incident had no open alert\)$/,
    );
    // A new alert pages the added responder, and only them: the team closed its own alert already.
    const bobId = (await server.callOk('GET', `/v2/users/${encodeURIComponent(bob)}`)).data.id as string;
    const ids = await alertIdsOf(incident.id);
    assert.deepEqual(ids.slice(1), [first], 'newest first');
    const raised = await alertOf(ids[0] as string);
    assert.deepEqual(
      [raised.status, raised.message, raised.priority, raised.responders],
      ['open', message, incident.priority, [{ type: 'user', id: bobId }]],
    );
    assert.equal(
      added.status,
      `Added responder; alert #${raised.tinyId} raised to page it (the incident had no open alert)`,
    );
    await mailTo(bob, message);
    assert.equal((await alertOf(first)).status, 'closed', 'the closed alert stays closed');
    const [addedLog, raisedLog] = (await logsOf(incident.id)).slice(-2);
    assert.ok(String(addedLog).startsWith(`User ${bob} added as a responder by `), addedLog);
    assert.equal(
      raisedLog,
      `Alert #${raised.tinyId} raised: it pages the added responders (the incident had no open alert)`,
    );
  });

  it('reopened after a responder was deleted, leaves it out of the new alert, and both logs say so', async () => {
    const gone = `gone-${run}@example.com`;
    const goneId = (
      await server.callOk('POST', '/v2/users', { username: gone, fullName: 'gone', role: { name: 'User' } })
    ).data.id as string;
    const message = `Burns again ${run}`;
    const incident = await createIncident({ message, responders: [{ type: 'user', username: gone }] });
    assert.equal((await act(incident.id, '/resolve')).success, true);
    // Nothing stops the delete: no foreign key ties a user to an incident's responders.
    await server.callOk('DELETE', `/v2/users/${encodeURIComponent(gone)}`);

    const reopened = await act(incident.id, '/reopen');
    assert.equal(reopened.success, true, JSON.stringify(reopened));
    const [raisedId] = await alertIdsOf(incident.id);
    const raised = await alertOf(raisedId as string);
    assert.deepEqual(raised.responders, []);
    const leftOut = `Responder user "${goneId}" of the incident no longer exists: left out`;
    assert.deepEqual((await logsOf(incident.id)).slice(-2), [
      `Alert #${raised.tinyId} raised, but none of the responders it would page exists any more: nobody is paged`,
      leftOut,
    ]);
    // The alert's log says it too, and the engine that it notifies nobody.
    const alertLog = async () =>
      ((await server.callOk('GET', `/v2/alerts/${raised.id}/logs?order=asc`)).data as Json[]).map(
        (l) => l.log as string,
      );
    await waitFor('the engine to start the alert', async () =>
      (await alertLog()).includes('The alert has no responders: nobody is notified') ? true : undefined,
    );
    const lines = await alertLog();
    assert.ok(
      lines.some((l) => l.startsWith('Alert created via') && l.endsWith(`. ${leftOut}`)),
      lines.join('\n'),
    );
    await act(incident.id, '/close');
  });

  it("acts on an incident's alerts only as far as the caller may through the Alert API", async () => {
    const plain = await addUserWithKey(server, 'plain', run);
    const message = `Not plain's ${run}`;
    const incident = await createIncident({ message, responders: [{ type: 'team', name: teamName }] });
    const [teamAlert] = await alertIdsOf(incident.id);
    assert.ok(teamAlert);
    // Anyone of the organization reads the incident; its alert is the team's, not theirs.
    assert.equal(
      (await server.call('GET', `/v1/incidents/${incident.id}`, undefined, plain.key)).status,
      200,
    );
    assert.equal((await server.call('GET', `/v2/alerts/${teamAlert}`, undefined, plain.key)).status, 404);

    // Nothing they do to the incident reaches the alert: each action is refused, the incident unchanged.
    const scope = "out of the caller's alert scope";
    for (const [path, body, what] of [
      ['/close', {}, 'closed'],
      ['/resolve', {}, 'resolved'],
      ['/priority', { priority: 'P1' }, 'given the priority'],
      ['/responders', { responder: { type: 'user', username: plain.username } }, 'given the responder'],
    ] as const) {
      const refused = await act(incident.id, path, body, plain.key);
      assert.deepEqual(
        [refused.success, refused.status],
        [false, `Incident was not ${what}: none of its open alerts can be acted on (${scope}).`],
        path,
      );
    }
    const unchanged = await incidentOf(incident.id);
    assert.deepEqual(
      [unchanged.status, unchanged.priority, unchanged.responders],
      ['open', incident.priority, incident.responders],
    );
    const alert = await alertOf(teamAlert);
    assert.deepEqual(
      [alert.status, alert.priority, alert.responders],
      ['open', incident.priority, [{ type: 'team', id: teamId }]],
    );

    // An alert of the incident that is theirs is acted on, the other left as it was and counted. Linked
    // here by hand: the API keeps one open alert per incident, but which of them a caller may act on
    // changes as responders and teams do.
    const made = await server.callOk('POST', '/v2/alerts', {
      message: `${message}, theirs`,
      responders: [{ type: 'user', username: plain.username }],
    });
    const theirs = await waitFor('their alert', async () => {
      const status = await server.call('GET', `/v2/alerts/requests/${made.requestId}`);
      return status.body.data?.alertId as string | undefined;
    });
    const db = new pg.Client({ connectionString: server.databaseUrl });
    await db.connect();
    try {
      await db.query('INSERT INTO incident_alerts (incident_id, alert_id) VALUES ($1, $2)', [
        incident.id,
        theirs,
      ]);
    } finally {
      await db.end();
    }
    const closed = await act(incident.id, '/close', {}, plain.key);
    assert.deepEqual(
      [closed.success, closed.status],
      [true, `Closed; 1 open alert of the incident left untouched (${scope})`],
    );
    assert.equal((await incidentOf(incident.id)).status, 'closed');
    assert.equal((await alertOf(theirs)).status, 'closed');
    assert.equal((await alertOf(teamAlert)).status, 'open');
    assert.deepEqual((await logsOf(incident.id)).slice(-2), [
      `Alert #${(await alertOf(theirs)).tinyId} closed with the incident`,
      `1 open alert left untouched (${scope})`,
    ]);
  });

  it("runs no close for an integration's key that its close actions would not run", async () => {
    const name = `Gated API ${run}`;
    const gated = await server.callOk('POST', '/v2/integrations', {
      type: 'API',
      name,
      ownerTeam: { id: teamId },
    });
    await server.callOk('PUT', `/v2/integrations/${gated.data.id}/actions`, {
      close: [
        {
          type: 'close',
          name: 'Close what is marked so',
          filter: {
            conditionMatchType: 'match-all-conditions',
            conditions: [{ field: 'tags', operation: 'contains', expectedValue: `closable-${run}` }],
          },
        },
      ],
    });
    const incident = await createIncident({ message: `Gated ${run}` }, gated.data.apiKey);
    const [alertId] = await alertIdsOf(incident.id);
    assert.ok(alertId);
    // The key's own close of the alert is refused by its actions; so is the incident's close of it.
    const refused = await act(incident.id, '/close', {}, gated.data.apiKey);
    assert.equal(refused.success, false, JSON.stringify(refused));
    assert.match(refused.status, new RegExp(`^Incident was not closed: .*integration \\[${name}\\]`));
    assert.equal((await incidentOf(incident.id)).status, 'open');
    assert.equal((await alertOf(alertId)).status, 'open');
  });

  it("closes an incident's alert for an integration's key whose close actions match it", async () => {
    const made = await server.callOk('POST', '/v2/integrations', {
      type: 'API',
      name: `Shaping API ${run}`,
      ownerTeam: { id: teamId },
    });
    // Adding one action keeps Opsgenie's default close action, which matches every alert.
    await server.callOk('POST', `/v2/integrations/${made.data.id}/actions`, {
      type: 'create',
      name: 'Tag it',
      filter: { conditionMatchType: 'match-all' },
      tags: ['shaped'],
    });
    const incident = await createIncident({ message: `Shaped ${run}` }, made.data.apiKey);
    const [alertId] = await alertIdsOf(incident.id);
    assert.ok(alertId);
    const closed = await act(incident.id, '/close', {}, made.data.apiKey);
    assert.deepEqual([closed.success, closed.status], [true, 'Closed'], JSON.stringify(closed));
    assert.equal((await alertOf(alertId)).status, 'closed');
  });

  it("lets the incident's first responders act on the alert raised for a responder added later", async () => {
    const member = await addUserWithKey(server, 'member', run);
    const team = `Firsts ${run}`;
    await server.callOk('POST', '/v2/teams', {
      name: team,
      members: [{ user: { username: member.username }, role: 'user' }],
    });
    const incident = await createIncident({
      message: `Firsts' incident ${run}`,
      responders: [{ type: 'team', name: team }],
    });
    const [first] = await alertIdsOf(incident.id);
    await server.callOk('POST', `/v2/alerts/${first}/close`, {});
    await waitFor('the alert closed', async () => (await alertOf(first as string)).status === 'closed');
    await act(incident.id, '/responders', { responder: { type: 'user', username: bob } });
    const raised = (await alertIdsOf(incident.id)).find((id: string) => id !== first);
    assert.ok(raised, 'an alert raised for bob');
    // Paged to bob only, and seen by the team that was the incident's first responder.
    const alert = await alertOf(raised);
    assert.equal(alert.responders.length, 1);
    assert.equal((await server.call('GET', `/v2/alerts/${raised}`, undefined, member.key)).status, 200);
    const resolved = await act(incident.id, '/resolve', {}, member.key);
    assert.deepEqual([resolved.success, resolved.status], [true, 'Resolved'], JSON.stringify(resolved));
    assert.equal((await alertOf(raised)).status, 'closed');
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

  it('lets an integration key see and resolve an incident it opened for another team', async () => {
    const other = await server.callOk('POST', '/v2/teams', { name: `Other team ${run}` });
    const incident = await createIncident(
      { message: `For the other team ${run}`, responders: [{ type: 'team', id: other.data.id }] },
      teamKey,
    );
    assert.deepEqual(incident.responders, [{ type: 'team', id: other.data.id }]);
    const resolved = await act(incident.id, '/resolve', {}, teamKey);
    assert.equal(resolved.success, true, JSON.stringify(resolved));
    assert.equal((await incidentOf(incident.id)).status, 'resolved');
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

describe("Opsgenie's Go SDK", () => {
  /** A request as the SDK sends it: its struct encoded by encoding/json, unknown fields and all. */
  async function sdkRequest(method: string, path: string, body: string) {
    const response = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `GenieKey ${server.key}`,
        'content-type': 'application/json; charset=utf-8',
      },
      body,
    });
    return { status: response.status, body: (await response.json()) as Json };
  }

  it('changes the priority with a PUT, and adds the responders of its list', async () => {
    const incident = await createIncident({
      message: `Go SDK ${run}`,
      priority: 'P3',
      responders: [{ type: 'team', id: teamId }],
    });
    const [alertId] = await alertIdsOf(incident.id);
    assert.ok(alertId);

    // incident.UpdatePriorityRequest: PUT, its Identifier and Id fields in the body.
    const prioritised = await accepted(
      await sdkRequest(
        'PUT',
        `/v1/incidents/${incident.id}/priority?identifierType=id`,
        `{"Identifier":"id","Id":"${incident.id}","priority":"P1"}\n`,
      ),
    );
    assert.deepEqual([prioritised.success, prioritised.action], [true, 'UpdatePriority']);
    assert.equal((await incidentOf(incident.id)).priority, 'P1');
    assert.equal((await alertOf(alertId)).priority, 'P1');

    // incident.AddResponderRequest: its responders as a list under "responder", and an empty note.
    const addResponders = async (responders: string) =>
      accepted(
        await sdkRequest(
          'POST',
          `/v1/incidents/${incident.id}/responders?identifierType=id`,
          `{"Identifier":"id","incidentId":"${incident.id}","note":"","responder":${responders}}\n`,
        ),
      );
    const added = await addResponders(`[{"type":"user","username":"${bob}"}]`);
    assert.deepEqual([added.success, added.action, added.status], [true, 'AddResponder', 'Added responder']);
    const bobId = (await server.callOk('GET', `/v2/users/${encodeURIComponent(bob)}`)).data.id as string;
    const withBob = [
      { type: 'team', id: teamId },
      { type: 'user', id: bobId },
    ];
    assert.deepEqual((await incidentOf(incident.id)).responders, withBob);
    assert.deepEqual((await alertOf(alertId)).responders, withBob);
    await mailTo(bob, `Go SDK ${run}`);
    // Each of a longer list.
    const [second, third] = await Promise.all(
      ['second', 'third'].map(
        async (n) => (await server.callOk('POST', '/v2/teams', { name: `Go SDK ${n} ${run}` })).data.id,
      ),
    );
    const both = await addResponders(`[{"type":"team","id":"${second}"},{"type":"team","id":"${third}"}]`);
    assert.deepEqual([both.success, both.status], [true, 'Added responder']);
    const withAll = [...withBob, { type: 'team', id: second }, { type: 'team', id: third }];
    assert.deepEqual((await incidentOf(incident.id)).responders, withAll);
    // Its open alert gets each of them too, not only the last.
    assert.deepEqual((await alertOf(alertId)).responders, withAll);
    assert.deepEqual((await server.callOk('GET', `/v1/incidents/${incident.id}/notes`)).data, []);

    // An empty list adds nobody.
    const none = await sdkRequest('POST', `/v1/incidents/${incident.id}/responders`, '{"responder":[]}');
    assert.equal(none.status, 422, JSON.stringify(none.body));
  });

  it('accepts the last page link the list gives before its window ends', async () => {
    // A full page just before the 20,000 window's end would take 20,000 incidents to list: its links are
    // made as the route makes them, and followed.
    const { host, protocol } = new URL(server.url);
    const paging = offsetPagingOf(
      { url: '/v1/incidents?query=status%3Aopen', host, protocol: protocol === 'https:' ? 'https' : 'http' },
      undefined,
      { offset: 19_970, limit: 20 },
      20,
      { sort: 'createdAt', order: 'desc' },
    );
    assert.ok(paging.next);
    const last = await fetch(paging.next, { headers: { authorization: `GenieKey ${server.key}` } });
    assert.equal(last.status, 200, await last.text());
  });
});
