import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { AlertEvent } from '../../alerts/events.js';
import type { AlertEventConsumer } from '../../engine/consumers.js';
import {
  addUserWithKey,
  alertLogs,
  createAlert,
  startTestServer,
  waitFor,
  type TestServer,
  type TestUser as User,
} from '../../testing/harness.js';

/**
 * Two rights a custom role takes away that other requests used to reach around: alert-add-team, which a
 * team added through Add Responder (alerts and incidents) needs as Add Team does; and alert-add-note,
 * whose note given with any other action (one alert, in bulk, an incident's, a create counting one more
 * occurrence of an open alert) is left out, the action still done and the log saying why.
 */

let server: TestServer;
const run = randomUUID().slice(0, 6);
const events: AlertEvent[] = [];
const recorder: AlertEventConsumer = {
  name: 'test-event-recorder',
  label: 'The test recorder',
  types: 'all',
  handles: () => true,
  async handle(event) {
    events.push(event);
  },
};

before(async () => {
  server = await startTestServer({ consumers: [recorder] });
});

after(async () => {
  await server?.stop();
});

async function userWithRole(local: string, role: { name: string; disallowedRights: string[] }) {
  await server.callOk('POST', '/v2/roles', { ...role, extendedRole: 'user' });
  const user = await addUserWithKey(server, local, run);
  await server.callOk('PATCH', `/v2/users/${user.id}`, { role: { name: role.name } });
  return user;
}

const alertFor = (user: User, extra: Record<string, unknown> = {}) =>
  createAlert(server, {
    message: `rights ${randomUUID()}`,
    visibleTo: [{ type: 'user', id: user.id }],
    ...extra,
  });

const teamIdsOf = async (alertId: string) =>
  (
    await server.app.context.db
      .selectFrom('alerts')
      .select('team_ids')
      .where('id', '=', alertId)
      .executeTakeFirstOrThrow()
  ).team_ids;

const alertNotes = async (alertId: string): Promise<string[]> =>
  ((await server.callOk('GET', `/v2/alerts/${alertId}/notes`)).data as { note: string }[]).map((n) => n.note);

async function createIncident(responder: User): Promise<string> {
  const made = await server.callOk('POST', '/v1/incidents/create', {
    message: `incident ${randomUUID()}`,
    responders: [{ type: 'user', id: responder.id }],
  });
  return (await server.callOk('GET', `/v1/incidents/requests/${made.requestId}`)).data.incidentId;
}

describe('custom roles: a team added through Add Responder needs alert-add-team', () => {
  it('is refused for alerts and incidents alike; users are still added, and a plain user adds teams', async () => {
    const team = `ops-${run}`;
    const teamId = (await server.callOk('POST', '/v2/teams', { name: team })).data.id as string;
    const holder = await userWithRole('no-team', {
      name: `No team ${run}`,
      disallowedRights: ['alert-add-team'],
    });
    const other = await addUserWithKey(server, 'other-responder', run);

    const alertId = await alertFor(holder);
    const addTeam = await server.call(
      'POST',
      `/v2/alerts/${alertId}/teams`,
      { team: { name: team } },
      holder.key,
    );
    assert.equal(addTeam.status, 403, JSON.stringify(addTeam.body));
    assert.match(addTeam.body.message, /alert-add-team/);
    const asResponder = await server.call(
      'POST',
      `/v2/alerts/${alertId}/responders`,
      { responder: { type: 'team', name: team } },
      holder.key,
    );
    assert.equal(asResponder.status, 403, JSON.stringify(asResponder.body));
    assert.match(asResponder.body.message, /alert-add-team/);
    assert.deepEqual(await teamIdsOf(alertId), []);

    // alert-add-recipient still adds a user.
    const user = await server.call(
      'POST',
      `/v2/alerts/${alertId}/responders`,
      { responder: { type: 'user', username: other.username } },
      holder.key,
    );
    assert.equal(user.status, 202, JSON.stringify(user.body));
    assert.ok((await alertLogs(server, alertId)).some((l) => l.includes('added as a responder')));

    const incidentId = await createIncident(holder);
    const incidentTeam = await server.call(
      'POST',
      `/v1/incidents/${incidentId}/responders`,
      { responder: { type: 'team', name: team } },
      holder.key,
    );
    assert.equal(incidentTeam.status, 403, JSON.stringify(incidentTeam.body));
    assert.match(incidentTeam.body.message, /alert-add-team/);
    const incidentUser = await server.call(
      'POST',
      `/v1/incidents/${incidentId}/responders`,
      { responder: { type: 'user', id: other.id } },
      holder.key,
    );
    assert.equal(incidentUser.status, 202, JSON.stringify(incidentUser.body));
    const incident = (await server.callOk('GET', `/v1/incidents/${incidentId}`)).data;
    assert.deepEqual((incident.responders as { type: string; id: string }[]).map((r) => r.type).sort(), [
      'user',
      'user',
    ]);

    // A user of the built-in User role adds the team either way.
    const plain = await addUserWithKey(server, 'plain-team', run);
    const theirs = await alertFor(plain);
    const added = await server.call(
      'POST',
      `/v2/alerts/${theirs}/responders`,
      { responder: { type: 'team', name: team } },
      plain.key,
    );
    assert.equal(added.status, 202, JSON.stringify(added.body));
    assert.deepEqual(await teamIdsOf(theirs), [teamId]);
  });
});

describe('custom roles: a note given with an action needs alert-add-note', () => {
  it('does the action and leaves the note out, saying why; a user who may add notes adds them', async () => {
    const role = `No notes ${run}`;
    const holder = await userWithRole('no-notes', { name: role, disallowedRights: ['alert-add-note'] });
    const leftOut = `Note of no-notes left out: their role [${role}] lacks the alert-add-note right`;
    const noteEvents = (alertId: string) =>
      events.filter((e) => e.alertId === alertId && e.type === 'note_added');

    // Add Note itself is refused.
    const single = await alertFor(holder);
    const refused = await server.call('POST', `/v2/alerts/${single}/notes`, { note: 'x' }, holder.key);
    assert.equal(refused.status, 403, JSON.stringify(refused.body));

    const acked = await server.call(
      'POST',
      `/v2/alerts/${single}/acknowledge`,
      { note: 'secret ack note' },
      holder.key,
    );
    assert.equal(acked.status, 202, JSON.stringify(acked.body));
    const closed = await server.call(
      'POST',
      `/v2/alerts/${single}/close`,
      { note: 'close note' },
      holder.key,
    );
    assert.equal(closed.status, 202, JSON.stringify(closed.body));
    const row = (await server.callOk('GET', `/v2/alerts/${single}`)).data;
    assert.equal(row.acknowledged, true);
    assert.equal(row.status, 'closed');
    assert.deepEqual(await alertNotes(single), []);
    const logs = await alertLogs(server, single);
    assert.equal(logs.filter((l) => l === leftOut).length, 2, logs.join('\n'));
    assert.ok(!logs.some((l) => l.includes('secret ack note')), logs.join('\n'));

    // In bulk: done to each, no note on any.
    const many = [await alertFor(holder), await alertFor(holder)];
    const bulk = await server.call(
      'POST',
      '/v2/bulk/alerts/acknowledge',
      { identifiers: many, note: 'bulk note' },
      holder.key,
    );
    assert.equal(bulk.status, 200, JSON.stringify(bulk.body));
    assert.deepEqual(bulk.body.data.succeeded, many);
    for (const id of many) {
      assert.deepEqual(await alertNotes(id), []);
      assert.ok((await alertLogs(server, id)).includes(leftOut));
    }

    // A create that counts one more occurrence of an open alert does not add its note to it.
    const alias = `repeat-${randomUUID()}`;
    const repeated = await alertFor(holder, { alias });
    const again = await server.call(
      'POST',
      '/v2/alerts',
      { message: 'again', alias, note: 'repeat note' },
      holder.key,
    );
    assert.equal(again.status, 202, JSON.stringify(again.body));
    await waitFor('the repeat to be counted', async () => {
      const status = await server.call('GET', `/v2/alerts/requests/${again.body.requestId}`);
      return status.body.data?.isSuccess ? true : undefined;
    });
    assert.equal((await server.callOk('GET', `/v2/alerts/${repeated}`)).data.count, 2);
    assert.deepEqual(await alertNotes(repeated), []);
    assert.ok((await alertLogs(server, repeated)).includes(leftOut));

    // An incident's action: done, the note left off the incident.
    const incidentId = await createIncident(holder);
    const closedIncident = await server.call(
      'POST',
      `/v1/incidents/${incidentId}/close`,
      { note: 'incident note' },
      holder.key,
    );
    assert.equal(closedIncident.status, 202, JSON.stringify(closedIncident.body));
    assert.equal((await server.callOk('GET', `/v1/incidents/${incidentId}`)).data.status, 'closed');
    const incidentNotes = (await server.callOk('GET', `/v1/incidents/${incidentId}/notes`)).data as unknown[];
    assert.deepEqual(incidentNotes, []);
    const incidentLogs = (
      (await server.callOk('GET', `/v1/incidents/${incidentId}/logs?order=asc`)).data as { log: string }[]
    ).map((l) => l.log);
    assert.ok(incidentLogs.includes(leftOut), incidentLogs.join('\n'));

    // A user who may add notes gives them with actions, as before.
    const plain = await addUserWithKey(server, 'plain-notes', run);
    const theirs = await alertFor(plain);
    await server.callOk('POST', `/v2/alerts/${theirs}/acknowledge`, { note: 'plain note' }, plain.key);
    assert.deepEqual(await alertNotes(theirs), ['plain note']);

    await server.idle();
    for (const id of [single, ...many, repeated]) assert.deepEqual(noteEvents(id), [], id);
    const ack = events.find((e) => e.alertId === single && e.type === 'acknowledged');
    assert.ok(ack && !('note' in ack && ack.note), JSON.stringify(ack));
    assert.equal(noteEvents(theirs).length, 1);
  });
});
