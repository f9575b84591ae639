import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';
import { startTestSmtpServer, type TestSmtpServer } from '../testing/smtp.js';
import { ShiftedClock } from '../work/clock.js';

/**
 * Opsgenie's Add Responder, Add Team and Get Recipients, end to end: the real server, a real SMTP server.
 *
 * Team Database (dana, erin; no routing rule, so every member is paged) with an API integration of its own;
 * frank, on no team.
 */

const clock = new ShiftedClock();
let server: TestServer;
let smtp: TestSmtpServer;
let teamKey: string;
let teamId: string;
const run = randomUUID().slice(0, 8);
const dana = `dana-${run}@example.com`;
const erin = `erin-${run}@example.com`;
const frank = `frank-${run}@example.com`;

before(async () => {
  smtp = await startTestSmtpServer();
  server = await startTestServer({
    clock,
    engineIntervalMs: 100,
    env: { VIGIL_SMTP_URL: smtp.url, VIGIL_EMAIL_FROM: 'Vigil <vigil@example.com>' },
  });
  for (const username of [dana, erin, frank]) {
    await server.callOk('POST', '/v2/users', {
      username,
      fullName: username.split('-')[0],
      role: { name: 'User' },
    });
  }
  const team = await server.callOk('POST', '/v2/teams', {
    name: `Database ${run}`,
    members: [dana, erin].map((username) => ({ user: { username }, role: 'user' })),
  });
  teamId = team.data.id;
  const integration = await server.callOk('POST', '/v2/integrations', {
    type: 'API',
    name: `Database API ${run}`,
    ownerTeam: { id: teamId },
  });
  teamKey = integration.data.apiKey;
});

after(async () => {
  await server?.stop();
  await smtp?.stop();
});

async function createAlert(message: string): Promise<string> {
  const res = await server.callOk('POST', '/v2/alerts', { message });
  return waitFor('the alert', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${res.requestId}`);
    return status.body.data?.alertId as string | undefined;
  });
}

/** A request on the alert, answered 202, and its request status. */
async function act(alertId: string, path: string, body: Json): Promise<Json> {
  const res = await server.call('POST', `/v2/alerts/${alertId}${path}`, body);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const status = await server.call('GET', `/v2/alerts/requests/${res.body.requestId}`);
  assert.equal(status.status, 200);
  return status.body.data;
}

const mailsTo = (address: string, message: string) =>
  smtp.messages.filter((m) => m.subject.includes(message) && m.to.includes(address));

const mailTo = (address: string, message: string) =>
  waitFor(`an email to ${address} about "${message}"`, async () => mailsTo(address, message)[0], 15_000);

async function logs(alertId: string): Promise<string[]> {
  const res = await server.call('GET', `/v2/alerts/${alertId}/logs?order=asc&limit=100`);
  return (res.body.data as Json[]).map((l) => l.log as string);
}

describe('add team and add responder', () => {
  it("pages a team added to an alert, and the alert becomes the team's", async () => {
    const message = `Add team ${run}`;
    const alertId = await createAlert(message);
    // Created without responders: the team's key does not see it, and nobody is paged.
    assert.equal((await server.call('GET', `/v2/alerts/${alertId}`, undefined, teamKey)).status, 404);

    const status = await act(alertId, '/teams', { team: { name: `Database ${run}` }, user: 'Ops lead' });
    assert.deepEqual(
      { success: status.success, action: status.action, status: status.status, alertId: status.alertId },
      { success: true, action: 'AddTeam', status: 'Added team', alertId },
    );
    await mailTo(dana, message);
    await mailTo(erin, message);

    const seen = await server.call('GET', `/v2/alerts/${alertId}`, undefined, teamKey);
    assert.equal(seen.status, 200, 'the team key sees the alert');
    assert.deepEqual(seen.body.data.responders, [{ type: 'team', id: teamId }]);
    const listed = await server.call(
      'GET',
      `/v2/alerts?query=${encodeURIComponent(message)}`,
      undefined,
      teamKey,
    );
    assert.deepEqual(
      (listed.body.data as Json[]).map((a) => a.id),
      [alertId],
    );
    assert.ok((await logs(alertId)).includes(`Team Database ${run} added as a responder by Ops lead`));
  });

  it('pages a team once however often it is added', async () => {
    const message = `Add twice ${run}`;
    const alertId = await createAlert(message);
    await act(alertId, '/teams', { team: { id: teamId } });
    await mailTo(dana, message);
    const again = await act(alertId, '/responders', { responder: { type: 'team', name: `Database ${run}` } });
    assert.equal(again.success, true);
    assert.equal(again.status, `Team Database ${run} is already a responder`);
    assert.equal(again.action, 'AddResponder');
    await server.idle();
    assert.equal(mailsTo(dana, message).length, 1);
    assert.equal(mailsTo(erin, message).length, 1);
    const alert = await server.call('GET', `/v2/alerts/${alertId}`);
    assert.equal(alert.body.data.responders.length, 1);
  });

  it('starts one escalation for a responder_added event handed out twice', async () => {
    const message = `Event twice ${run}`;
    const alertId = await createAlert(message);
    // Made before the add: the copies below are of that add (a responder added again later starts over).
    const addedAt = new Date();
    await act(alertId, '/responders', { responder: { type: 'user', username: frank } });
    await mailTo(frank, message);
    await server.idle();
    // The same event again, and a copy under another id (a lost mark): neither pages again.
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    try {
      const row = await client.query(`SELECT org_id FROM alerts WHERE id = $1`, [alertId]);
      const frankId = (await server.callOk('GET', `/v2/users/${frank}`)).data.id;
      const event = {
        eventId: randomUUID(),
        alertId,
        orgId: row.rows[0].org_id,
        at: addedAt.toISOString(),
        actor: { kind: 'system', name: 'test' },
        type: 'responder_added',
        responder: { type: 'user', id: frankId },
        name: `User ${frank}`,
      };
      for (const payload of [event, event, { ...event, eventId: randomUUID() }]) {
        await client.query(`INSERT INTO outbox_jobs (task, payload) VALUES ('alert-event', $1)`, [
          JSON.stringify(payload),
        ]);
      }
    } finally {
      await client.end();
    }
    // Another change wakes the alert-events queue, which takes the outbox along.
    await act(alertId, '/notes', { note: 'wake up' });
    await server.idle();
    assert.equal(mailsTo(frank, message).length, 1);
  });

  it('pages a user added as a responder', async () => {
    const message = `Add user ${run}`;
    const alertId = await createAlert(message);
    const status = await act(alertId, '/responders', { responder: { type: 'user', username: frank } });
    assert.equal(status.status, 'Added responder');
    await mailTo(frank, message);
    await server.idle();
    assert.equal(mailsTo(dana, message).length, 0, 'only the user added');
    const alert = await server.call('GET', `/v2/alerts/${alertId}`);
    assert.equal(alert.body.data.responders[0].type, 'user');
    assert.equal((await server.call('GET', `/v2/alerts/${alertId}`, undefined, teamKey)).status, 404);
  });

  it('adds nobody to a closed alert, and says so in the request status', async () => {
    const message = `Closed alert ${run}`;
    const alertId = await createAlert(message);
    await act(alertId, '/close', {});
    const status = await act(alertId, '/teams', { team: { id: teamId } });
    assert.equal(status.success, false);
    assert.match(status.status, /closed/);
    await server.idle();
    assert.equal(mailsTo(dana, message).length, 0);
    assert.equal((await server.call('GET', `/v2/alerts/${alertId}`, undefined, teamKey)).status, 404);
  });

  it('refuses an unknown team or user with a 422, as assign and escalate do', async () => {
    const alertId = await createAlert(`Unknown ${run}`);
    const team = await server.call('POST', `/v2/alerts/${alertId}/teams`, { team: { name: 'No such team' } });
    assert.equal(team.status, 422);
    assert.match(team.body.errors.team, /No team "No such team"/);
    const user = await server.call('POST', `/v2/alerts/${alertId}/responders`, {
      responder: { type: 'user', username: 'nobody@example.com' },
    });
    assert.equal(user.status, 422);
    const unknownAlert = await act(randomUUID(), '/teams', { team: { id: teamId } });
    assert.equal(unknownAlert.status, 'Alert does not exist');
  });

  it('reads an empty id or username as not given, and finds the responder by its name', async () => {
    const created = await server.call('POST', '/v2/alerts', {
      message: `Empty ids ${run}`,
      responders: [
        { type: 'team', id: '', name: `Database ${run}` },
        { type: 'user', id: '', username: '', name: dana },
      ],
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const alertId = await waitFor('the alert', async () => {
      const status = await server.call('GET', `/v2/alerts/requests/${created.body.requestId}`);
      return status.body.data?.alertId as string | undefined;
    });
    const alert = await server.callOk('GET', `/v2/alerts/${alertId}`);
    assert.deepEqual(
      alert.data.responders.map((r: Json) => r.type).sort(),
      ['team', 'user'],
      JSON.stringify(alert.data.responders),
    );
  });
});

describe('get recipients', () => {
  it('lists who was paged, by which channel, and who acknowledged', async () => {
    const message = `Recipients ${run}`;
    const alertId = await createAlert(message);
    const empty = await server.call('GET', `/v2/alerts/${alertId}/recipients`);
    assert.equal(empty.status, 200);
    assert.deepEqual(empty.body.data, []);

    await act(alertId, '/teams', { team: { id: teamId } });
    await mailTo(dana, message);
    await mailTo(erin, message);
    const recipients = async () =>
      waitFor('both recipients', async () => {
        const res = await server.call('GET', `/v2/alerts/${alertId}/recipients`);
        return (res.body.data as Json[]).length === 2 ? (res.body.data as Json[]) : undefined;
      });
    const paged = await recipients();
    const users = await Promise.all(
      [dana, erin].map(async (u) => (await server.callOk('GET', `/v2/users/${u}`)).data.id as string),
    );
    assert.deepEqual(paged.map((r) => [r.user.username, r.user.id, r.state, r.method]).sort(), [
      [dana, users[0], 'notified', 'email'],
      [erin, users[1], 'notified', 'email'],
    ]);
    for (const r of paged) {
      assert.ok(!Number.isNaN(Date.parse(r.createdAt)) && !Number.isNaN(Date.parse(r.updatedAt)));
    }

    await act(alertId, '/acknowledge', { user: dana });
    const after = await recipients();
    assert.deepEqual(after.map((r) => [r.user.username, r.state]).sort(), [
      [dana, 'acknowledged'],
      [erin, 'notified'],
    ]);
    // The team's key reads the recipients of its alert; by tiny id too.
    const tinyId = (await server.call('GET', `/v2/alerts/${alertId}`)).body.data.tinyId;
    const byTeam = await server.call(
      'GET',
      `/v2/alerts/${tinyId}/recipients?identifierType=tiny`,
      undefined,
      teamKey,
    );
    assert.equal(byTeam.status, 200);
    assert.equal(byTeam.body.data.length, 2);
  });

  it('dates the pages on the system clock, as the acknowledgement, when the engine’s clock is ahead', async () => {
    clock.advance(30 * 60_000);
    const message = `Recipients ahead ${run}`;
    const alertId = await createAlert(message);
    await act(alertId, '/teams', { team: { id: teamId } });
    await mailTo(dana, message);
    const recipients = async (): Promise<Json[]> =>
      (await server.callOk('GET', `/v2/alerts/${alertId}/recipients`)).data;
    await waitFor('both pages recorded as sent', async () =>
      (await recipients()).length === 2 ? true : undefined,
    );
    const ackFrom = Date.now();
    await act(alertId, '/acknowledge', { user: dana });
    await waitFor('the acknowledgement', async () =>
      (await server.callOk('GET', `/v2/alerts/${alertId}`)).data.acknowledged ? true : undefined,
    );

    const alert = (await server.callOk('GET', `/v2/alerts/${alertId}`)).data;
    const now = Date.now();
    const all = await recipients();
    const acked = all.find((r) => r.user.username === dana);
    assert.equal(acked?.state, 'acknowledged');
    assert.ok(Date.parse(acked.updatedAt) >= ackFrom, `updated when acknowledged: ${acked.updatedAt}`);
    for (const r of all) {
      assert.ok(
        Date.parse(r.createdAt) >= Date.parse(alert.createdAt),
        `paged after the alert: ${r.createdAt}`,
      );
      assert.ok(Date.parse(r.updatedAt) <= now, `not in the future: ${r.updatedAt}`);
    }
  });
});
