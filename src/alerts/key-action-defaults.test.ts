import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { alertLogs, startTestServer, type Json, type TestServer } from '../testing/harness.js';

/**
 * What a key's integration actions do with what the request left out, on the real server: a create
 * naming no responder goes to the integration's team, whatever the create action's ignore*FromPayload
 * flags (they drop what the request sent, and it sent none); an add-note whose action's note comes out
 * empty adds nothing, and its request status says so rather than 'Added note'.
 */

let server: TestServer;
let db: pg.Client;
const run = randomUUID().slice(0, 8);
let teamB: string;
let userId: string;
const username = `pager-${run}@example.com`;

before(async () => {
  server = await startTestServer();
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  teamB = (await server.callOk('POST', '/v2/teams', { name: `Team B ${run}` })).data.id;
  userId = (await server.callOk('POST', '/v2/users', { username, fullName: 'Pager', role: { name: 'User' } }))
    .data.id;
});
after(async () => {
  await db?.end();
  await server?.stop();
});

/** A Grafana integration of team B with these actions: its id and key. */
async function grafana(name: string, actions: Json): Promise<{ id: string; key: string }> {
  const made = (
    await server.callOk('POST', '/v2/integrations', {
      type: 'Grafana',
      name: `${name} ${run}`,
      ownerTeam: { id: teamB },
    })
  ).data;
  await server.callOk('PUT', `/v2/integrations/${made.id}/actions`, actions);
  return { id: made.id, key: made.apiKey };
}

/** The request's status once processed. */
async function statusOf(answer: { status: number; body: Json }): Promise<Json> {
  assert.equal(answer.status, 202, JSON.stringify(answer.body));
  return (await server.callOk('GET', `/v2/alerts/requests/${answer.body.requestId}`)).data;
}

/** Creates through `key`; the alert made (responders and team ids as stored). */
async function createVia(key: string, body: Json): Promise<Json> {
  const status = await statusOf(await server.call('POST', '/v2/alerts', body, key));
  assert.equal(status.success, true, JSON.stringify(status));
  return (await server.callOk('GET', `/v2/alerts/${status.alertId}`)).data;
}

const responderKeys = (alert: Json) =>
  (alert.responders as { type: string; id: string }[]).map((r) => `${r.type}:${r.id}`).sort();

describe("a create naming no responder, through a create action's ignore*FromPayload", () => {
  for (const flag of ['ignoreTeamsFromPayload', 'ignoreRespondersFromPayload']) {
    it(`${flag}: the integration's team is a responder, with the action's`, async () => {
      const sender = await grafana(flag, {
        create: [{ name: 'c', responders: [{ type: 'user', username }], [flag]: true }],
        close: [{ name: 'cl' }],
      });
      // Grafana and Alertmanager send no responders unless told to.
      const alert = await createVia(sender.key, { alias: `${flag}-${run}`, message: 'itp' });
      assert.deepEqual(responderKeys(alert), [`team:${teamB}`, `user:${userId}`].sort());
      // The teams it pages and whose alert it is.
      const { rows } = await db.query('SELECT team_ids FROM alerts WHERE id = $1', [alert.id]);
      assert.deepEqual(rows[0]?.team_ids, [teamB]);
    });
  }

  it('with no responder of its own either, goes to the integration team alone', async () => {
    const sender = await grafana('no responders', {
      create: [{ name: 'c', ignoreTeamsFromPayload: true, ignoreRespondersFromPayload: true }],
    });
    const alert = await createVia(sender.key, { alias: `alone-${run}`, message: 'alone' });
    assert.deepEqual(responderKeys(alert), [`team:${teamB}`]);
  });

  it('one naming only a responder that names nothing is one naming none', async () => {
    const sender = await grafana('names nothing', {
      create: [{ name: 'c', responders: [{ type: 'user', username }], ignoreTeamsFromPayload: true }],
    });
    // Alertmanager's `{name: "{{ .CommonLabels.team }}"}` without that label.
    const alert = await createVia(sender.key, {
      alias: `nothing-${run}`,
      message: 'nothing',
      responders: [{ type: 'team' }],
    });
    assert.deepEqual(responderKeys(alert), [`team:${teamB}`, `user:${userId}`].sort());
  });

  it('the flag still drops the teams a request names, and the integration team is not added', async () => {
    const other = (await server.callOk('POST', '/v2/teams', { name: `Other ${run}` })).data.id;
    const sender = await grafana('names a team', {
      create: [{ name: 'c', responders: [{ type: 'user', username }], ignoreTeamsFromPayload: true }],
    });
    const alert = await createVia(sender.key, {
      alias: `named-${run}`,
      message: 'named',
      responders: [{ type: 'team', id: other }],
    });
    assert.deepEqual(responderKeys(alert), [`user:${userId}`]);
  });
});

describe('an add-note action whose note comes out empty', () => {
  it('adds no note, and the request status says so', async () => {
    const sender = await grafana('empty note', {
      create: [{ name: 'c' }],
      addNote: [{ name: 'n', note: '{{details.missing}}' }],
    });
    const alias = `nn-${run}`;
    const alert = await createVia(sender.key, { alias, message: 'nn' });
    const status = await statusOf(
      await server.call(
        'POST',
        `/v2/alerts/${alias}/notes?identifierType=alias`,
        { note: 'hello' },
        sender.key,
      ),
    );
    assert.equal(status.success, false, JSON.stringify(status));
    assert.match(status.status, /the note came out empty/);
    assert.match(status.status, /action 'n'/);
    const notes = await server.callOk('GET', `/v2/alerts/${alert.id}/notes`);
    assert.deepEqual(notes.data, []);
    assert.ok(!(await alertLogs(server, alert.id)).some((l) => l.startsWith('Note added')));
  });

  it('a note of only white space, sent by anyone, is not reported added either', async () => {
    const alias = `blank-note-${run}`;
    const alert = await createVia(server.key, { alias, message: 'b' });
    const status = await statusOf(
      await server.call('POST', `/v2/alerts/${alias}/notes?identifierType=alias`, { note: '  \n ' }),
    );
    assert.equal(status.success, false, JSON.stringify(status));
    assert.match(status.status, /empty/);
    assert.deepEqual((await server.callOk('GET', `/v2/alerts/${alert.id}/notes`)).data, []);
  });
});
