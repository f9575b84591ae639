import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../testing/harness.js';
import { otherTransaction, whenWaitedFor } from '../testing/lock-waits.js';

/**
 * Deleting a team that owns heartbeats. The heartbeats' owner team is ON DELETE SET NULL, and an expired
 * heartbeat without an owner team raises its alert with no responders: nobody is paged. So the delete is a
 * 409 naming the heartbeats (as one for a team that owns integrations), checked under the team's lock so
 * that a heartbeat given to the team while it is deleted is seen.
 */

let server: TestServer;
const run = randomUUID().slice(0, 8);

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.stop();
});

async function createTeam(name: string): Promise<string> {
  return (await server.callOk('POST', '/v2/teams', { name })).data.id as string;
}

async function createHeartbeat(name: string, ownerTeamId: string): Promise<void> {
  await server.callOk('POST', '/v2/heartbeats', {
    name,
    interval: 10,
    intervalUnit: 'minutes',
    enabled: true,
    ownerTeam: { id: ownerTeamId },
  });
}

describe('deleting a team that owns heartbeats', () => {
  it('is a 409 naming a few of them and how many, until they are moved or deleted', async () => {
    const teamName = `hb-owner-${run}`;
    const teamId = await createTeam(teamName);
    const otherId = await createTeam(`hb-heir-${run}`);
    const names = ['a', 'b', 'c', 'd'].map((n) => `${n}-cron-${run}`);
    for (const name of names) await createHeartbeat(name, teamId);

    const refused = await server.call('DELETE', `/v2/teams/${teamId}`);
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.equal(
      refused.body.message,
      `Team [${teamName}] owns 4 heartbeats ([${names[0]}], [${names[1]}], [${names[2]}] and 1 more), ` +
        'which would page nobody when they expire: move them to another team ' +
        '(PATCH /v2/heartbeats/{name} with an ownerTeam) or delete them first.',
    );
    assert.equal((await server.call('GET', `/v2/teams/${teamId}`)).status, 200);
    for (const name of names)
      assert.equal((await server.callOk('GET', `/v2/heartbeats/${name}`)).data.ownerTeam.id, teamId);

    // Moved or deleted, all but one: still refused, naming that one.
    await server.callOk('PATCH', `/v2/heartbeats/${names[0]}`, { ownerTeam: { id: otherId } });
    await server.callOk('DELETE', `/v2/heartbeats/${names[1]}`);
    await server.callOk('DELETE', `/v2/heartbeats/${names[2]}`);
    const last = await server.call('DELETE', `/v2/teams/${teamId}`);
    assert.equal(last.status, 409, JSON.stringify(last.body));
    assert.match(
      last.body.message,
      new RegExp(`^Team \\[${teamName}\\] owns 1 heartbeat \\(\\[${names[3]}\\]\\),`),
    );

    await server.callOk('PATCH', `/v2/heartbeats/${names[3]}`, { ownerTeam: { name: `hb-heir-${run}` } });
    const deleted = await server.call('DELETE', `/v2/teams/${teamId}`);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.equal((await server.call('GET', `/v2/teams/${teamId}`)).status, 404);
    assert.equal((await server.callOk('GET', `/v2/heartbeats/${names[0]}`)).data.ownerTeam.id, otherId);
  });

  it('sees a heartbeat given to the team while the delete waits for the team', async () => {
    const teamName = `hb-race-${run}`;
    const teamId = await createTeam(teamName);
    const name = `race-cron-${run}`;
    const giving = await otherTransaction(server.databaseUrl);
    try {
      // Saving the owner team takes KEY SHARE on the team's row until this transaction ends.
      await giving.query(
        `INSERT INTO heartbeats (org_id, name, interval_amount, interval_unit, owner_team_id)
         SELECT org_id, $1, 10, 'minutes', id FROM teams WHERE id = $2`,
        [name, teamId],
      );
      const deleting = server.call('DELETE', `/v2/teams/${teamId}`);
      await whenWaitedFor(giving, { never: 'the delete never waited for the heartbeat being saved' });
      await giving.query('COMMIT');
      const refused = await deleting;
      assert.equal(refused.status, 409, JSON.stringify(refused.body));
      assert.match(
        refused.body.message,
        new RegExp(`^Team \\[${teamName}\\] owns 1 heartbeat \\(\\[${name}\\]\\),`),
      );
    } finally {
      await giving.end();
    }
    assert.equal((await server.callOk('GET', `/v2/heartbeats/${name}`)).data.ownerTeam.id, teamId);
  });
});
