import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';

/**
 * A ping closes the alert of a heartbeat's expiry, whatever team it is for: a holder of a custom role
 * that may not close alerts (an observer's or stakeholder's, or one that takes alert-close away) is
 * refused it with their own key, and nothing changes; plain users, admins and API integrations' keys
 * (cron jobs) go on pinging.
 */

const clock = new ShiftedClock();
let server: TestServer;
let db: pg.Client;
const run = randomUUID().slice(0, 8);
const team = `Nightly ${run}`;
const MINUTE = 60_000;
let made = 0;

/** A user holding `role` (a built-in one, or a custom role made here) and a key of their own. */
async function userWithKey(role: { name: string; extendedRole?: string; disallowedRights?: string[] }) {
  if (role.extendedRole) {
    await server.callOk('POST', '/v2/roles', {
      name: role.name,
      extendedRole: role.extendedRole,
      grantedRights: [],
      disallowedRights: role.disallowedRights ?? [],
    });
  }
  const username = `pinger-${++made}-${run}@example.com`;
  await server.callOk('POST', '/v2/users', { username, fullName: username, role: { name: role.name } });
  return (await server.callOk('POST', '/v2/api-keys', { name: username, user: { username } })).data
    .key as string;
}

/** An expired heartbeat of another team, with its expiry's alert open. */
async function expiredHeartbeat(): Promise<{ name: string; alertId: string }> {
  const name = `backup-${++made}-${run}`;
  await server.callOk('POST', '/v2/heartbeats', {
    name,
    interval: 10,
    intervalUnit: 'minutes',
    enabled: true,
    ownerTeam: { name: team },
  });
  clock.advance(11 * MINUTE);
  await waitFor(`${name} to expire`, async () => (await heartbeatOf(name)).expired === true || undefined);
  const alertId = await waitFor(`${name}'s alert`, async () => {
    const rows = await db.query(
      `SELECT a.id FROM alerts a JOIN heartbeats h ON a.org_id = h.org_id AND a.alias = 'heartbeat:' || h.id
        WHERE h.name = $1 AND a.status = 'open'`,
      [name],
    );
    return rows.rows[0]?.id as string | undefined;
  });
  return { name, alertId };
}

const heartbeatOf = async (name: string): Promise<Json> =>
  (await server.callOk('GET', `/v2/heartbeats/${name}`)).data;

const statusOf = async (alertId: string): Promise<string> =>
  (await server.callOk('GET', `/v2/alerts/${alertId}`)).data.status as string;

before(async () => {
  server = await startTestServer({ clock, engineIntervalMs: 100 });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  await server.callOk('POST', '/v2/teams', { name: team });
});

after(async () => {
  await db?.end();
  await server?.stop();
});

describe('pinging a heartbeat with a user key', () => {
  for (const role of [
    { name: `Watcher ${run}`, extendedRole: 'observer' },
    { name: `Stakeholder ${run}`, extendedRole: 'stakeholder' },
    { name: `No closing ${run}`, extendedRole: 'user', disallowedRights: ['alert-close'] },
  ]) {
    it(`is refused to a holder of ${role.name} (${role.extendedRole}-based, without alert-close)`, async () => {
      const key = await userWithKey(role);
      const { name, alertId } = await expiredHeartbeat();
      const before = await heartbeatOf(name);
      for (const method of ['GET', 'POST']) {
        const refused = await server.call(method, `/v2/heartbeats/${name}/ping`, undefined, key);
        assert.equal(refused.status, 403, JSON.stringify(refused.body));
        assert.match(refused.body.message, new RegExp(`\\[${role.name}\\].*lacks the alert-close right`));
      }
      assert.equal(await statusOf(alertId), 'open');
      const after = await heartbeatOf(name);
      assert.equal(after.expired, true);
      assert.equal(after.lastPingTime, before.lastPingTime);
    });
  }

  it('closes the alert for a plain user, an observer-based role that grants alert-close, an admin', async () => {
    const grantedName = `Closing watcher ${run}`;
    await server.callOk('POST', '/v2/roles', {
      name: grantedName,
      extendedRole: 'observer',
      grantedRights: ['alert-close'],
      disallowedRights: [],
    });
    for (const key of [
      await userWithKey({ name: 'User' }),
      await userWithKey({ name: grantedName }),
      await userWithKey({ name: 'Admin' }),
      undefined, // the organization's bootstrap key
    ]) {
      const { name, alertId } = await expiredHeartbeat();
      const pong = await server.call('POST', `/v2/heartbeats/${name}/ping`, undefined, key);
      assert.equal(pong.status, 202, JSON.stringify(pong.body));
      assert.equal(await statusOf(alertId), 'closed');
      assert.equal((await heartbeatOf(name)).expired, false);
    }
  });

  it("still closes it for an API integration's key", async () => {
    const key = (
      await server.callOk('POST', '/v2/integrations', {
        type: 'API',
        name: `Cron ${run}`,
        ownerTeam: { name: team },
      })
    ).data.apiKey as string;
    const { name, alertId } = await expiredHeartbeat();
    const pong = await server.call('GET', `/v2/heartbeats/${name}/ping`, undefined, key);
    assert.equal(pong.status, 202, JSON.stringify(pong.body));
    assert.equal(await statusOf(alertId), 'closed');
  });
});
