import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';

/**
 * The aliases Vigil gives its own alerts (`heartbeat:<id>`, `incident-<id>`) are not the callers': an open
 * alias is one alert per organization, so an alert made first with one would swallow the heartbeat's
 * expiry alert or the reopened incident's (its message, priority and responders kept, nobody paged). The
 * Alert API refuses them with a 422; an alert policy whose alias template comes out as one leaves the
 * alert its own alias. Senders' own aliases of a like look ("incident-4711") stay theirs.
 */

const clock = new ShiftedClock();
let server: TestServer;
let db: pg.Client;
const run = randomUUID().slice(0, 8);
const MINUTE = 60_000;
let team: string;
let plainKey: string;

const call = (method: string, path: string, body?: unknown, key?: string) =>
  server.callOk(method, path, body, key);

async function alertsWithAlias(alias: string): Promise<Json[]> {
  const { rows } = await db.query(
    `SELECT message, priority, count, responders, status FROM alerts WHERE alias = $1 ORDER BY created_at`,
    [alias],
  );
  return rows as Json[];
}

function assertRefused(answer: { status: number; body: Json }, alias: string) {
  assert.equal(answer.status, 422, JSON.stringify(answer.body));
  assert.match(
    answer.body.message,
    /reserved for Vigil's heartbeat and incident alerts: choose another alias/,
  );
  assert.match(answer.body.errors.alias, new RegExp(alias.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
}

before(async () => {
  server = await startTestServer({ clock, engineIntervalMs: 100 });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  team = (await call('POST', '/v2/teams', { name: `Backups ${run}` })).data.id;
  const user = await call('POST', '/v2/users', {
    username: `plain-${run}@example.com`,
    fullName: 'Plain User',
    role: { name: 'User' },
  });
  plainKey = (await call('POST', '/v2/api-keys', { name: `plain ${run}`, user: { id: user.data.id } })).data
    .key;
});

after(async () => {
  await db?.end();
  await server?.stop();
});

describe("a heartbeat's alias", () => {
  it('is refused to the Alert API, and the expiry alert pages the owner team', async () => {
    const name = `backup-${run}`;
    await call('POST', '/v2/heartbeats', {
      name,
      interval: 10,
      intervalUnit: 'minutes',
      enabled: true,
      ownerTeam: { id: team },
      alertPriority: 'P1',
    });
    const { rows } = await db.query('SELECT id FROM heartbeats WHERE name = $1', [name]);
    const alias = `heartbeat:${rows[0].id as string}`;

    for (const given of [alias, ` ${alias} `, `heartbeat:${(rows[0].id as string).toUpperCase()}`]) {
      const answer = await server.call(
        'POST',
        '/v2/alerts',
        { message: 'all fine', alias: given, priority: 'P5' },
        plainKey,
      );
      assertRefused(answer, given);
    }
    // An integration's key too.
    const key = (
      await call('POST', '/v2/integrations', { type: 'API', name: `Cron ${run}`, ownerTeam: { id: team } })
    ).data.apiKey as string;
    assertRefused(
      await server.call('POST', '/v2/alerts', { message: 'all fine', alias, priority: 'P5' }, key),
      alias,
    );
    await server.idle();
    assert.deepEqual(await alertsWithAlias(alias), []);

    clock.advance(11 * MINUTE);
    await waitFor('the heartbeat to expire', async () =>
      (await call('GET', `/v2/heartbeats/${name}`)).data.expired ? true : undefined,
    );
    const made = await alertsWithAlias(alias);
    assert.equal(made.length, 1, JSON.stringify(made));
    assert.equal(made[0]?.priority, 'P1');
    assert.equal(made[0]?.count, 1);
    assert.deepEqual(made[0]?.responders, [{ type: 'team', id: team }]);
  });
});

describe("an incident's alias", () => {
  it('is refused to the Alert API, and the reopened incident pages its responders', async () => {
    const message = `db down ${run}`;
    await call('POST', '/v1/incidents/create', {
      message,
      priority: 'P1',
      responders: [{ type: 'team', id: team }],
    });
    const { rows } = await db.query('SELECT id FROM incidents WHERE message = $1', [message]);
    const id = rows[0].id as string;
    const alias = `incident-${id}`;
    await call('POST', `/v1/incidents/${id}/resolve`, {});
    await server.idle();

    assertRefused(
      await server.call('POST', '/v2/alerts', { message: 'noise', alias, priority: 'P5' }, plainKey),
      alias,
    );
    await call('POST', `/v1/incidents/${id}/reopen`, {});
    await server.idle();
    const open = (await alertsWithAlias(alias)).filter((a) => a.status === 'open');
    assert.equal(open.length, 1, JSON.stringify(open));
    assert.equal(open[0]?.message, message);
    assert.equal(open[0]?.priority, 'P1');
    assert.deepEqual(open[0]?.responders, [{ type: 'team', id: team }]);
  });
});

describe('aliases of a like look', () => {
  it("stay the senders' own: only the exact forms with a UUID are Vigil's", async () => {
    for (const alias of [
      'incident-4711',
      'heartbeat:nightly-backup',
      `incident-${randomUUID()}-retry`,
      `Heartbeat:${randomUUID()}`,
      `heartbeat-${randomUUID()}`,
    ]) {
      const answer = await server.call('POST', '/v2/alerts', { message: `${alias} ${run}`, alias }, plainKey);
      assert.equal(answer.status, 202, `${alias}: ${JSON.stringify(answer.body)}`);
    }
  });
});

describe('an alert policy whose alias template comes out as a reserved alias', () => {
  it('leaves the alert its own alias, and says so in its log', async () => {
    const token = `policy-alias-${run}`;
    await call('POST', '/v2/policies', {
      type: 'alert',
      name: `Alias from details ${run}`,
      filter: {
        type: 'match-all-conditions',
        conditions: [{ field: 'message', operation: 'contains', expectedValue: token }],
      },
      alias: '{{details.target}}',
    });
    const reserved = `incident-${randomUUID()}`;
    const answer = await server.call(
      'POST',
      '/v2/alerts',
      { message: token, alias: `own-${run}`, details: { target: reserved } },
      plainKey,
    );
    assert.equal(answer.status, 202, JSON.stringify(answer.body));
    await server.idle();
    assert.deepEqual(await alertsWithAlias(reserved), []);
    const kept = await alertsWithAlias(`own-${run}`);
    assert.equal(kept.length, 1, JSON.stringify(kept));
    const { rows } = await db.query(
      `SELECT l.log FROM alert_logs l JOIN alerts a ON a.id = l.alert_id WHERE a.alias = $1`,
      [`own-${run}`],
    );
    assert.match(
      JSON.stringify(rows),
      /reserved for Vigil's heartbeat and incident alerts: the alert kept its own/,
    );
  });
});
