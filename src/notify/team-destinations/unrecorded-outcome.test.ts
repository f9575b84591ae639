import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, beforeEach, describe, it } from 'node:test';
import { sql, type KyselyPlugin, type QueryId, type RootOperationNode } from 'kysely';
import { createDb, createPool, type Db } from '../../db/database.js';
import { createLogger } from '../../logger.js';
import { startFakeTeams, type FakeTeams } from '../../testing/fake-teams.js';
import { createTestDatabase } from '../../testing/harness.js';
import { insertOrgWithTeam, localDeliveryConfig } from '../../testing/team-deliveries.js';
import type { Clock } from '../../work/clock.js';
import { createTeamDeliverySender } from './deliveries.js';

/**
 * A Teams card (as a Slack webhook's message, or a webhook's call) posted whose outcome the database
 * failed to record (a fail-over, a dropped connection; here a trigger refusing the update to `sent`) must
 * not be posted again: the round tries the recording again, on the Clock, while its claim holds the
 * delivery, rather than leave it `sending` for the next round to take over once the lease runs out.
 */

let db: Db;
let teams: FakeTeams;
let at = new Date();
const clock: Clock = { now: () => at, fromSystemTime: (t) => t, toSystemTime: (t) => t };
/** The waits between tries to record, each moving the clock instead of sleeping. */
let waits: number[] = [];
const sleep = (ms: number): Promise<void> => {
  waits.push(ms);
  at = new Date(at.getTime() + ms);
  return Promise.resolve();
};

function sender(leaseMs?: number, on: Db = db) {
  return createTeamDeliverySender({
    db: on,
    log: createLogger('silent'),
    clock,
    config: localDeliveryConfig(),
    fetch: (input, init) => fetch(input, init),
    sleep,
    ...(leaseMs ? { leaseMs } : {}),
  });
}

/**
 * The next `count` updates of a delivery to `sent` fail, as the database would if it went away. Counted
 * by a sequence, which the failed statement's rollback leaves counted.
 */
async function failRecording(count: number): Promise<void> {
  await sql`UPDATE test_outcome_failures SET failing = ${count}`.execute(db);
  await sql`SELECT setval('test_outcome_tries', 1, false)`.execute(db);
}

/** How many updates of a delivery to `sent` were tried since failRecording. */
async function recordingTries(): Promise<number> {
  const { rows } = await sql<{ tried: string }>`
    SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS tried FROM test_outcome_tries`.execute(db);
  return Number(rows[0]?.tried ?? 0);
}

/**
 * The database as the sender sees it when the connection drops after a write committed: the next `count`
 * recordings of outcomes (repository.ts recordOutcomes, one statement outside a transaction) run and
 * commit, then their answer is lost (an error in its place).
 */
function losingAnswers(count: number): Db {
  let left = count;
  const recordings = new WeakSet<QueryId>();
  const plugin: KyselyPlugin = {
    transformQuery({ node, queryId }: { node: RootOperationNode; queryId: QueryId }) {
      const text =
        node.kind === 'RawNode' ? (node as { sqlFragments: readonly string[] }).sqlFragments.join('') : '';
      if (text.includes('UPDATE team_destination_deliveries d') && text.includes('SET state = i.state'))
        recordings.add(queryId);
      return node;
    },
    transformResult({ result, queryId }) {
      if (!recordings.has(queryId) || left <= 0) return Promise.resolve(result);
      left--;
      return Promise.reject(new Error('connection lost after the commit'));
    },
  };
  return db.withPlugin(plugin);
}

/** A Teams destination of a team with one alert, and the delivery of its `created` event, due now. */
async function teamsDelivery(): Promise<{ deliveryId: string; alertId: string; destinationId: string }> {
  const { orgId, teamId } = await insertOrgWithTeam(db, { org: randomUUID(), team: 'On call' });
  const destination = await sql<{ id: string }>`
    INSERT INTO team_destinations (org_id, team_id, type, name, config)
    VALUES (${orgId}, ${teamId}, 'teams', 'Incidents', ${JSON.stringify({ url: teams.url })}::jsonb)
    RETURNING id`.execute(db);
  const alert = await sql<{ id: string }>`
    INSERT INTO alerts (org_id, alias, message, team_ids)
    VALUES (${orgId}, ${randomUUID()}, 'Disk full', ARRAY[${teamId}]::uuid[])
    RETURNING id`.execute(db);
  const alertId = alert.rows[0]?.id ?? '';
  const eventId = randomUUID();
  const event = {
    type: 'created',
    eventId,
    alertId,
    orgId,
    at: at.toISOString(),
    actor: { kind: 'system', name: 'Vigil' },
    seq: 1,
  };
  const delivery = await sql<{ id: string }>`
    INSERT INTO team_destination_deliveries (destination_id, event_id, alert_id, event_type, event, seq, due_at)
    VALUES (${destination.rows[0]?.id ?? ''}, ${eventId}, ${alertId}, 'created', ${JSON.stringify(event)}::jsonb,
      1, ${at})
    RETURNING id`.execute(db);
  return { deliveryId: delivery.rows[0]?.id ?? '', alertId, destinationId: destination.rows[0]?.id ?? '' };
}

/** The alert's log lines that end with `ending`. */
async function logLinesEnding(alertId: string, ending: string): Promise<string[]> {
  const { rows } = await sql<{ log: string }>`
    SELECT log FROM alert_logs WHERE alert_id = ${alertId} AND log LIKE ${`%${ending}`}`.execute(db);
  return rows.map((r) => r.log);
}

async function delivery(id: string): Promise<{ state: string; attempts: number }> {
  return db
    .selectFrom('team_destination_deliveries')
    .select(['state', 'attempts'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

before(async () => {
  db = createDb(createPool(await createTestDatabase({ migrated: true }), 4));
  teams = await startFakeTeams();
  await sql`CREATE SEQUENCE test_outcome_tries`.execute(db);
  await sql`CREATE TABLE test_outcome_failures (failing int NOT NULL)`.execute(db);
  await sql`INSERT INTO test_outcome_failures VALUES (0)`.execute(db);
  await sql`
    CREATE FUNCTION test_outcome_fail() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF nextval('test_outcome_tries') <= (SELECT failing FROM test_outcome_failures) THEN
        RAISE EXCEPTION 'connection lost';
      END IF;
      RETURN NEW;
    END $$`.execute(db);
  await sql`
    CREATE TRIGGER test_outcome_fail BEFORE UPDATE ON team_destination_deliveries FOR EACH ROW
    WHEN (NEW.state = 'sent') EXECUTE FUNCTION test_outcome_fail()`.execute(db);
});

after(async () => {
  await teams?.close();
  await db?.destroy();
});

beforeEach(async () => {
  waits = [];
  await failRecording(0);
  // Nothing left due from another test.
  await sql`DELETE FROM team_destination_deliveries`.execute(db);
});

describe('a card posted whose outcome the database failed to record', () => {
  it('is recorded on a later try, and not posted again once the lease has run out', async () => {
    const { deliveryId, alertId } = await teamsDelivery();
    const posted = teams.posts.length;
    await failRecording(1);
    const s = sender();
    const roundAt = at;
    assert.equal(await s.deliverDue(roundAt), 1);
    assert.equal(teams.posts.length, posted + 1);
    assert.equal(await recordingTries(), 2, 'the failed recording was tried again');
    assert.equal(waits.length, 1);
    assert.deepEqual(await delivery(deliveryId), { state: 'sent', attempts: 1 });
    // What follows the recording went on as well: the alert's log says where it went.
    const { rows } = await sql<{ log: string }>`
      SELECT log FROM alert_logs WHERE alert_id = ${alertId} AND log LIKE '%got the alert'`.execute(db);
    assert.equal(rows.length, 1);

    // Past the claim's lease, a round takes nothing and posts nothing.
    at = new Date(roundAt.getTime() + 61_000);
    assert.equal(await s.deliverDue(at), 0);
    assert.equal(teams.posts.length, posted + 1);
    assert.deepEqual(await delivery(deliveryId), { state: 'sent', attempts: 1 });
  });

  it('is tried no later than a quarter of the lease before it runs out, and fails the round then', async () => {
    const { deliveryId } = await teamsDelivery();
    await failRecording(1000);
    const leaseMs = 8_000;
    const roundAt = at;
    await assert.rejects(sender(leaseMs).deliverDue(roundAt), /connection lost/);
    const tries = await recordingTries();
    assert.ok(tries >= 2, `tried ${tries} times`);
    assert.equal(waits.length, tries - 1, 'a wait between each two tries');
    const lastTryAt = roundAt.getTime() + waits.reduce((sum, ms) => sum + ms, 0);
    assert.ok(
      lastTryAt <= roundAt.getTime() + leaseMs * 0.75,
      `the last try ${lastTryAt - roundAt.getTime()} ms in`,
    );
    // Left to the next round once the lease runs out, as before.
    assert.deepEqual(await delivery(deliveryId), { state: 'sending', attempts: 1 });
  });

  it('is tried a bounded number of times, however long the lease', async () => {
    await teamsDelivery();
    await failRecording(1000);
    const roundAt = at;
    await assert.rejects(sender().deliverDue(roundAt), /connection lost/);
    assert.equal(await recordingTries(), 8);
    const waited = waits.reduce((sum, ms) => sum + ms, 0);
    assert.ok(waited < 45_000, `waited ${waited} ms`);
  });
});

describe('a recording of outcomes that committed but whose answer was lost', () => {
  it("counts as recorded: the alert's log says where it went, once, and the success clears the failures", async () => {
    const { deliveryId, alertId, destinationId } = await teamsDelivery();
    const since = new Date(at.getTime() - 3600_000);
    await sql`UPDATE team_destinations SET failing_since = ${since} WHERE id = ${destinationId}`.execute(db);
    const posted = teams.posts.length;
    const roundAt = at;
    assert.equal(await sender(undefined, losingAnswers(1)).deliverDue(roundAt), 1);
    assert.equal(teams.posts.length, posted + 1);
    assert.equal(waits.length, 1, 'the recording whose answer was lost was tried again');
    assert.deepEqual(await delivery(deliveryId), { state: 'sent', attempts: 1 });
    assert.deepEqual(await logLinesEnding(alertId, 'got the alert'), [
      'Microsoft Teams "Incidents" got the alert',
    ]);
    const row = await db
      .selectFrom('team_destinations')
      .select(['enabled', 'failing_since'])
      .where('id', '=', destinationId)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { enabled: true, failing_since: null });

    // Past the claim's lease, nothing is posted again.
    at = new Date(roundAt.getTime() + 61_000);
    assert.equal(await sender().deliverDue(at), 0);
    assert.equal(teams.posts.length, posted + 1);
  });

  it('counts as recorded: a 410 Gone disables the destination, and the log says the alert was not told', async () => {
    const { deliveryId, alertId, destinationId } = await teamsDelivery();
    teams.failNext(410);
    assert.equal(await sender(undefined, losingAnswers(1)).deliverDue(at), 1);
    assert.equal(waits.length, 1, 'the recording whose answer was lost was tried again');
    assert.equal((await delivery(deliveryId)).state, 'failed');
    const row = await db
      .selectFrom('team_destinations')
      .select(['enabled', 'disabled_reason'])
      .where('id', '=', destinationId)
      .executeTakeFirstOrThrow();
    assert.equal(row.enabled, false);
    assert.match(row.disabled_reason ?? '', /410/);
    const lines = await logLinesEnding(alertId, 'the destination was disabled');
    assert.equal(lines.length, 1, lines.join('\n'));
    assert.match(lines[0] ?? '', /^Microsoft Teams "Incidents" was not told of created: /);
  });
});
