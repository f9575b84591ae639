import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';

/**
 * Which teams' notification policies apply to an alert: as Opsgenie's team policies ("Team Policies"),
 * only those of the teams of its policy scope, decided at its create: made with the team's integration,
 * made with a global integration (here the bootstrap key) and routed to that team alone, or made from an
 * incident of the team. Team Quiet has a match-all suppress policy, meant for its own noisy integration:
 * it must not swallow the page of an alert team Loud's integration sends to both teams, nor of one Quiet
 * is added to later, while it still quiets Quiet's own alerts and those routed to Quiet alone. An alert
 * made before the scope was kept (policy_team_ids null) has every team responder's policies apply.
 */

let server: TestServer;
let db: pg.Client;
const run = randomUUID().slice(0, 8);
const loudName = `Loud ${run}`;
const quietName = `Quiet ${run}`;
let loud: string;
let quiet: string;
let loudKey: string;
let quietKey: string;

const call = (method: string, path: string, body?: unknown) => server.callOk(method, path, body);

before(async () => {
  server = await startTestServer();
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  const team = async (name: string, local: string) => {
    await call('POST', '/v2/users', {
      username: `${local}-${run}@example.com`,
      fullName: local,
      role: { name: 'User' },
    });
    return (
      await call('POST', '/v2/teams', {
        name,
        members: [{ user: { username: `${local}-${run}@example.com` }, role: 'user' }],
      })
    ).data.id as string;
  };
  loud = await team(loudName, 'loud');
  quiet = await team(quietName, 'quiet');
  const key = async (name: string, teamId: string) =>
    (await call('POST', '/v2/integrations', { type: 'API', name, ownerTeam: { id: teamId } })).data
      .apiKey as string;
  loudKey = await key(`Loud API ${run}`, loud);
  quietKey = await key(`Quiet API ${run}`, quiet);
  await call('POST', `/v2/policies?teamId=${quiet}`, {
    type: 'notification',
    name: `Hush ${run}`,
    filter: { type: 'match-all' },
    suppress: true,
  });
});

after(async () => {
  await db?.end();
  await server?.stop();
});

/** Creates an alert with `key` (the bootstrap key by default) and waits until it is made; its id. */
async function alert(body: Json, key?: string): Promise<string> {
  const res = await server.callOk('POST', '/v2/alerts', body, key);
  return waitFor('the alert', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${res.requestId}`);
    return status.body.data?.alertId as string | undefined;
  });
}

const both = () => [
  { type: 'team', id: loud },
  { type: 'team', id: quiet },
];

async function logs(alertId: string): Promise<string[]> {
  const { rows } = await db.query<{ log: string }>(
    'SELECT log FROM alert_logs WHERE alert_id = $1 ORDER BY id',
    [alertId],
  );
  return rows.map((r) => r.log);
}

/** What the engine did for team Quiet: 'suppressed' or 'paged', once it handled the team. */
async function quietOutcome(alertId: string): Promise<'suppressed' | 'paged'> {
  const lines = await waitFor('the engine to handle team Quiet', async () => {
    const all = await logs(alertId);
    return all.some((l) => l.startsWith(`Team ${quietName}:`) || l.includes(`(team ${quietName})`)) && all;
  });
  const suppressed = lines.includes(`Notifications suppressed by policy 'Hush ${run}' (team ${quietName})`);
  const { rows } = await db.query('SELECT 1 FROM alert_escalations WHERE alert_id = $1 AND source = $2', [
    alertId,
    `team:${quiet}`,
  ]);
  assert.equal(rows.length, suppressed ? 0 : 1, lines.join('\n'));
  return suppressed ? 'suppressed' : 'paged';
}

/** Adds team Quiet to the alert as a responder, once the engine has handled its creation. */
async function addQuietLater(alertId: string): Promise<void> {
  await waitFor('the creation to be handled', async () =>
    (await logs(alertId)).some((l) => l.startsWith(`Team ${loudName}:`)),
  );
  await call('POST', `/v2/alerts/${alertId}/responders`, { responder: { type: 'team', id: quiet } });
}

describe("a team's notification policies apply to the alerts of its policy scope only", () => {
  it("pages a team another team's integration names, whatever that team's policies say", async () => {
    const alertId = await alert({ message: `loud for both ${run}`, responders: both() }, loudKey);
    assert.equal(await quietOutcome(alertId), 'paged');
    const { rows } = await db.query('SELECT policy_team_ids FROM alerts WHERE id = $1', [alertId]);
    assert.deepEqual(rows[0].policy_team_ids, [loud]);
  });

  it("applies them to the team's own integration's alerts", async () => {
    const alertId = await alert({ message: `quiet own ${run}`, responders: both() }, quietKey);
    assert.equal(await quietOutcome(alertId), 'suppressed');
  });

  it('applies them to an alert a global key routes to that team alone, not to one for two teams', async () => {
    const alone = await alert({
      message: `global to quiet ${run}`,
      responders: [{ type: 'team', id: quiet }],
    });
    assert.equal(await quietOutcome(alone), 'suppressed');
    const two = await alert({ message: `global to both ${run}`, responders: both() });
    assert.equal(await quietOutcome(two), 'paged');
  });

  it('does not apply them to a team added later outside the scope', async () => {
    const alertId = await alert({ message: `loud then quiet ${run}` }, loudKey);
    await addQuietLater(alertId);
    assert.equal(await quietOutcome(alertId), 'paged');
  });

  it("applies every team responder's to an alert made before the scope was kept", async () => {
    const alertId = await alert({ message: `legacy ${run}` }, loudKey);
    await db.query('UPDATE alerts SET policy_team_ids = NULL WHERE id = $1', [alertId]);
    await addQuietLater(alertId);
    assert.equal(await quietOutcome(alertId), 'suppressed');
  });
});
