import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import {
  addUserWithKey,
  createAlert,
  startTestServer,
  waitFor,
  type TestServer,
  type TestUser,
} from '../../testing/harness.js';

/**
 * A destination's delivery log names the alerts it was sent and quotes what the receiver answered, so it
 * is read as an integration's payload log is: whoever sees only some alerts (a user without
 * alerts-access-all, an integration's key) reads it only of the destinations they manage, while anyone of
 * the organization still reads the destination itself. A key reads nothing of another team's destinations:
 * those are a 404 to it.
 */

const run = randomUUID().slice(0, 8);
let server: TestServer;
let receiver: http.Server;
let teamA: string;
let teamB: string;

describe("a destination's delivery log", () => {
  before(async () => {
    // The receiver's answer is what the log quotes: the "secret" a reader of another team must not see.
    receiver = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.statusCode = 200;
        res.end(`secret answer ${run}`);
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    server = await startTestServer({
      engineIntervalMs: 100,
      env: { VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1' },
    });
    teamA = (await server.callOk('POST', '/v2/teams', { name: `Log A ${run}` })).data.id;
    teamB = (await server.callOk('POST', '/v2/teams', { name: `Log B ${run}` })).data.id;
  });

  after(async () => {
    await server?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it('is read only by those who see every alert or manage the destination', async () => {
    const port = (receiver.address() as AddressInfo).port;
    const destination = await server.callOk('POST', '/v2/destinations', {
      name: `Logged ${run}`,
      type: 'webhook',
      team: { id: teamA },
      config: { url: `http://127.0.0.1:${port}/hook` },
    });
    const id = destination.data.id as string;
    const alertId = await createAlert(server, {
      message: `logged alert ${run}`,
      responders: [{ type: 'team', id: teamA }],
    });
    const path = `/v2/destinations/${id}/deliveries`;
    await waitFor('the delivery to be answered', async () => {
      const log = await server.callOk('GET', path);
      return log.data.some(
        (d: { alertId: string; responseExcerpt: string | null }) =>
          d.alertId === alertId && d.responseExcerpt?.includes('secret answer'),
      )
        ? true
        : undefined;
    });

    const addUser = (local: string) => addUserWithKey(server, `log-${local}`, run);
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

    const refusedTo: [string, TestUser][] = [
      ['an admin of another team', outsider],
      ['a plain member of the team', member],
    ];
    for (const [who, user] of refusedTo) {
      const refused = await server.call('GET', path, undefined, user.key);
      assert.equal(refused.status, 403, `${who}: ${JSON.stringify(refused.body)}`);
      assert.doesNotMatch(JSON.stringify(refused.body), new RegExp(`${alertId}|secret answer`), who);
      // The destination itself stays readable by anyone of the organization, secrets masked.
      const read = await server.call('GET', `/v2/destinations/${id}`, undefined, user.key);
      assert.equal(read.status, 200, `${who} reads the destination: ${JSON.stringify(read.body)}`);
    }
    const readBy: [string, TestUser][] = [
      ['an admin of the team', teamAdmin],
      ['an org admin', orgAdmin],
      ['a user who sees every alert', seesAll],
    ];
    for (const [who, user] of readBy) {
      const read = await server.call('GET', path, undefined, user.key);
      assert.equal(read.status, 200, `${who}: ${JSON.stringify(read.body)}`);
      assert.match(JSON.stringify(read.body), new RegExp(`secret answer ${run}`), who);
    }

    // Integrations' keys: one of the team with configuration access may change the destination, so
    // reads its log; another team's does not see the destination at all (a 404, as for reading it); one
    // without configuration access uses only the Alert and Incident APIs (a 403).
    const keyOf = async (name: string, team: string, allowConfigurationAccess: boolean) =>
      (
        await server.callOk('POST', '/v2/integrations', {
          type: 'API',
          name: `${name} ${run}`,
          ownerTeam: { id: team },
          allowConfigurationAccess,
        })
      ).data.apiKey as string;
    const [configures, otherTeams, alertsOnly] = await Promise.all([
      keyOf('Configures A', teamA, true),
      keyOf('Configures B', teamB, true),
      keyOf('Alerts of A', teamA, false),
    ]);
    const byKey = await server.call('GET', path, undefined, configures);
    assert.equal(byKey.status, 200, `the key of the team's integration: ${JSON.stringify(byKey.body)}`);
    assert.match(JSON.stringify(byKey.body), new RegExp(`secret answer ${run}`));
    for (const [who, key, status] of [
      ["another team's integration key", otherTeams, 404],
      ['a key of the team without configuration access', alertsOnly, 403],
    ] as const) {
      const refused = await server.call('GET', path, undefined, key);
      assert.equal(refused.status, status, `${who}: ${JSON.stringify(refused.body)}`);
      assert.doesNotMatch(JSON.stringify(refused.body), new RegExp(`${alertId}|secret answer`), who);
    }
    // It sees (its owner team's) but may not change a destination on an integration given to another
    // team, whose alerts that one gets: a 403.
    const given = await server.callOk('POST', '/v2/integrations', {
      type: 'API',
      name: `Given to B ${run}`,
      ownerTeam: { id: teamA },
      assigneeTeam: { id: teamB },
    });
    const onGiven = await server.callOk('POST', '/v2/destinations', {
      name: `On given ${run}`,
      type: 'webhook',
      integration: { id: given.data.id },
      config: { url: `http://127.0.0.1:${port}/given` },
    });
    const givenPath = `/v2/destinations/${onGiven.data.id}`;
    assert.equal((await server.call('GET', givenPath, undefined, configures)).status, 200);
    const notItsToChange = await server.call('GET', `${givenPath}/deliveries`, undefined, configures);
    assert.equal(notItsToChange.status, 403, JSON.stringify(notItsToChange.body));

    // A destination that does not exist is a 404 to anyone, as before: nothing is said of it.
    const missing = await server.call(
      'GET',
      `/v2/destinations/${randomUUID()}/deliveries`,
      undefined,
      member.key,
    );
    assert.equal(missing.status, 404);
  });
});
