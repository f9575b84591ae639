import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';

/**
 * What becomes of an expired heartbeat's open alert, and who may close it: deleting the heartbeat closes
 * it (nothing could ping it any more), disabling does not (a ping still closes it); only the heartbeats of
 * its own team are pinged with an API integration's key, as the rest of the Heartbeat API; and an update
 * takes the owner team away with `ownerTeam: null`.
 */

const clock = new ShiftedClock();
let server: TestServer;
let db: pg.Client;
const run = randomUUID().slice(0, 8);
const ours = `Ours ${run}`;
const theirs = `Theirs ${run}`;
const MINUTE = 60_000;
const logLines: Json[] = [];

async function create(name: string, ownerTeam?: string): Promise<void> {
  const answer = await server.call('POST', '/v2/heartbeats', {
    name,
    interval: 5,
    intervalUnit: 'minutes',
    enabled: true,
    ...(ownerTeam ? { ownerTeam: { name: ownerTeam } } : {}),
  });
  assert.equal(answer.status, 201, JSON.stringify(answer.body));
}

/** The alert a heartbeat's expiry raised, read from the database (its heartbeat may be gone). */
async function alertOf(name: string): Promise<{ id: string; status: string }> {
  const rows = await db.query(
    `SELECT id, status FROM alerts WHERE details->>'heartbeat' = $1 AND source = 'Heartbeat'
      ORDER BY created_at`,
    [name],
  );
  assert.equal(rows.rows.length, 1, JSON.stringify(rows.rows));
  return rows.rows[0] as { id: string; status: string };
}

/** Expires each heartbeat named (made with a 5-minute interval) and waits for their alerts. */
async function expire(...names: string[]): Promise<void> {
  clock.advance(6 * MINUTE);
  for (const name of names)
    await waitFor(`${name} to expire`, async () => {
      const hb = (await server.callOk('GET', `/v2/heartbeats/${name}`)).data as Json;
      return hb.expired === true ? hb : undefined;
    });
}

async function apiKeyOf(team: string): Promise<string> {
  const made = await server.callOk('POST', '/v2/integrations', {
    type: 'API',
    name: `Cron of ${team}`,
    ownerTeam: { name: team },
  });
  return made.data.apiKey as string;
}

before(async () => {
  const logs = new PassThrough();
  let pending = '';
  logs.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    const lines = pending.split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) if (line.trim()) logLines.push(JSON.parse(line) as Json);
  });
  server = await startTestServer({ clock, engineIntervalMs: 100, logTo: logs });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  for (const name of [ours, theirs]) await server.callOk('POST', '/v2/teams', { name });
});

after(async () => {
  await db?.end();
  await server?.stop();
});

describe('an expired heartbeat', () => {
  it('deleted, closes its open alert with a note and a log line; disabled, keeps it for a ping', async () => {
    const gone = `gone-${run}`;
    const paused = `paused-${run}`;
    await create(gone, ours);
    await create(paused, ours);
    await expire(gone, paused);
    const goneAlert = await alertOf(gone);
    assert.equal(goneAlert.status, 'open');

    const deleted = await server.callOk('DELETE', `/v2/heartbeats/${gone}`);
    assert.equal(deleted.result, 'Deleted');
    assert.equal((await server.call('GET', `/v2/heartbeats/${gone}`)).status, 404);
    const closed = (await server.callOk('GET', `/v2/alerts/${goneAlert.id}`)).data as Json;
    assert.equal(closed.status, 'closed');
    assert.equal(closed.report.closedBy, 'Heartbeat');
    const notes = (await server.callOk('GET', `/v2/alerts/${goneAlert.id}/notes`)).data as Json[];
    assert.ok(
      notes.some((n) => String(n.note).startsWith(`Heartbeat ${gone} was deleted at `)),
      JSON.stringify(notes),
    );
    assert.ok(
      logLines.some(
        (l) =>
          l.heartbeat === gone &&
          l.alertId === goneAlert.id &&
          String(l.msg).startsWith('closed the open alert of a deleted heartbeat'),
      ),
      'the log says why the alert was closed',
    );

    // Disabled, it still takes pings, and the next one closes its alert: until then the alert stays.
    await server.callOk('POST', `/v2/heartbeats/${paused}/disable`);
    assert.equal((await alertOf(paused)).status, 'open');
    assert.equal((await server.call('POST', `/v2/heartbeats/${paused}/ping`)).status, 202);
    assert.equal((await alertOf(paused)).status, 'closed');
  });
});

describe("an API integration's key", () => {
  // Opsgenie's model: a cron job pings with an integration's key, often the Default API's, which the
  // importer moves into one team; it must go on pinging every heartbeat, whatever its access flags.
  it("pings any heartbeat of the organization, another team's and an unowned one too", async () => {
    const mine = `mine-${run}`;
    const other = `other-${run}`;
    const nobodys = `nobodys-${run}`;
    await create(mine, ours);
    await create(other, theirs);
    await create(nobodys);
    await expire(mine, other, nobodys);
    const key = await apiKeyOf(ours);
    for (const name of [mine, other, nobodys]) {
      const pinged = await server.call('POST', `/v2/heartbeats/${name}/ping`, undefined, key);
      assert.equal(pinged.status, 202, `${name}: ${JSON.stringify(pinged.body)}`);
      assert.equal((await alertOf(name)).status, 'closed', `${name}'s alert is closed`);
      const hb = (await server.callOk('GET', `/v2/heartbeats/${name}`)).data as Json;
      assert.equal(hb.expired, false);
    }
  });
});

describe('an update', () => {
  it('takes the owner team away with ownerTeam null, and keeps it when {} or left out', async () => {
    const name = `unowned-later-${run}`;
    await create(name, ours);
    const path = `/v2/heartbeats/${name}`;
    const kept = await server.callOk('PATCH', path, { interval: 7, ownerTeam: {} });
    assert.equal(kept.data.ownerTeam?.name, ours);
    assert.equal((await server.callOk('PATCH', path, { interval: 8 })).data.ownerTeam?.name, ours);
    const cleared = await server.callOk('PATCH', path, { ownerTeam: null });
    assert.equal(cleared.data.ownerTeam, undefined);
    assert.equal((await server.callOk('GET', path)).data.ownerTeam, undefined);
    assert.equal((await server.callOk('GET', path)).data.interval, 8);
  });
});
