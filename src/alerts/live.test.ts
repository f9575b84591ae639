import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createLogger } from '../logger.js';
import { startTestServer, waitFor, type TestServer } from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';
import { WORK_LISTENER_NAME, createWorkRunner, type WorkRunner } from '../work/runner.js';
import { ALERT_REPLAY_MARGIN_MS } from './live-replay.js';
import {
  ALERTS_CHANNEL,
  ALERT_FEED_FORGET_MS,
  ALERT_FEED_RENEW_MS,
  createAlertFeed,
  type AlertFeed,
  type AlertsChanged,
} from './live.js';

/**
 * The console's live feed and the database's announcements behind it (migration 0041): PostgreSQL
 * announces alert changes only while some process wants them, which a feed says from its first
 * subscriber until a while after its last. Runners with feeds of their own on the test server's
 * database play other Vigil processes, and a plain client overhears the channel.
 */

const log = createLogger('silent');
let server: TestServer;
let overhearer: pg.Client;
const overheard: string[] = [];
const started: WorkRunner[] = [];
let orgId: string;

before(async () => {
  server = await startTestServer({ role: 'api' });
  overhearer = new pg.Client({ connectionString: server.databaseUrl });
  await overhearer.connect();
  overhearer.on('notification', (message) => overheard.push(message.payload ?? ''));
  await overhearer.query(`LISTEN ${ALERTS_CHANNEL}`);
  const { rows } = await server.app.context.pool.query<{ id: string }>('SELECT id FROM organizations');
  assert.equal(rows.length, 1);
  orgId = rows[0]!.id;
});

after(async () => {
  for (const runner of started) await runner.stop();
  await overhearer?.end();
  await server?.stop();
});

/** Another process: a runner and its feed on the test server's database. */
async function anotherProcess(
  options: { lingerMs?: number; onScopeChange?: () => void; onIntegrationScopeChange?: () => void } = {},
): Promise<{ feed: AlertFeed; runner: WorkRunner; clock: ShiftedClock }> {
  const clock = new ShiftedClock();
  const runner = createWorkRunner({ pool: server.app.context.pool, clock, log });
  const feed = createAlertFeed({ runner, db: server.app.context.db, clock, log, ...options });
  await runner.start();
  started.push(runner);
  return { feed, runner, clock };
}

/** Creates an alert and waits until it is stored (its transaction, and any NOTIFY of it, committed). */
async function createdAlert(alias: string): Promise<string> {
  await server.callOk('POST', '/v2/alerts', { message: alias, alias });
  return waitFor(`alert ${alias}`, async () => {
    const got = await server.call('GET', `/v2/alerts/${alias}?identifierType=alias`);
    return got.status === 200 && (got.body.data.id as string);
  });
}

async function wishes(): Promise<{ process_id: string; renewed_at: Date }[]> {
  return server.app.context.db.selectFrom('alert_feed_wishes').selectAll().execute();
}

function heard(alertId: string): boolean {
  return overheard.some((payload) => payload.includes(alertId));
}

describe('the live alert feed', () => {
  it('has the database announce alert changes only while a subscriber is open', async () => {
    const { feed } = await anotherProcess({ lingerMs: 0 });
    // The test server's own feed has no subscriber: nobody wants the announcements yet.
    assert.deepEqual(await wishes(), []);
    const unwanted = await createdAlert('live-unwanted');

    const changes: AlertsChanged[] = [];
    const subscription = feed.subscribe(orgId, (change) => changes.push(change));
    await subscription.ready;
    assert.equal((await wishes()).length, 1);
    const wanted = await createdAlert('live-wanted');
    await waitFor('the announcement of the wanted alert', async () => heard(wanted));
    await waitFor('the subscriber to hear of it', async () => changes.some((c) => c.ids.includes(wanted)));
    // Announcements arrive in commit order: one of the alert made before would have come first.
    assert.ok(!heard(unwanted), overheard.join('\n'));

    // The last subscriber gone (and its linger of 0 ms over), the announcements stop again.
    subscription.unsubscribe();
    await waitFor('the wish to be withdrawn', async () => (await wishes()).length === 0);
    const afterwards = await createdAlert('live-afterwards');
    const again = feed.subscribe(randomUUID(), () => {});
    await again.ready;
    const last = await createdAlert('live-last');
    await waitFor('the announcement of the last alert', async () => heard(last));
    assert.ok(!heard(afterwards), overheard.join('\n'));
    again.unsubscribe();
    await waitFor('the wish to be withdrawn', async () => (await wishes()).length === 0);
  });

  it("renews its wish on its clock, lingers after the last subscriber, and forgets a gone process's", async () => {
    const lingerMs = 60_000;
    const { feed, runner, clock } = await anotherProcess({ lingerMs });
    const first = feed.subscribe(orgId, () => {});
    const second = feed.subscribe(orgId, () => {});
    await Promise.all([first.ready, second.ready]);
    const [wish] = await wishes();
    assert.ok(wish);

    // Renewed when due, on the process's clock.
    clock.advance(ALERT_FEED_RENEW_MS);
    await waitFor('the renewal', async () => {
      const [now] = await wishes();
      return now && now.renewed_at.getTime() >= wish.renewed_at.getTime() + ALERT_FEED_RENEW_MS;
    });

    // A process that crashed left its wish: the next round forgets it, and keeps this one, whose
    // subscribers have left but whose linger is not over.
    first.unsubscribe();
    second.unsubscribe();
    await server.app.context.db
      .insertInto('alert_feed_wishes')
      .values({
        process_id: randomUUID(),
        renewed_at: new Date(clock.now().getTime() - ALERT_FEED_FORGET_MS - 1),
      })
      .execute();
    runner.wakeAll();
    await waitFor('the old wish to be forgotten', async () => (await wishes()).length === 1);
    assert.equal((await wishes())[0]?.process_id, wish.process_id);

    clock.advance(lingerMs);
    await waitFor('the wish to be withdrawn after the linger', async () => (await wishes()).length === 0);
  });

  it('tells its subscribers to fetch everything again after its listening connection was lost', async () => {
    const { feed } = await anotherProcess();
    const changes: AlertsChanged[] = [];
    const subscription = feed.subscribe(orgId, (change) => changes.push(change));
    await subscription.ready;
    // Every process's listening connection, this one's among them: each listens again a second later.
    await server.app.context.pool.query(
      `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE datname = current_database() AND application_name = $1`,
      [WORK_LISTENER_NAME],
    );
    await waitFor('the subscriber to be told', async () => changes.some((change) => change.more));
    // Anyone's scope too: who sees what may have changed while it heard nothing.
    assert.deepEqual(
      [...changes],
      [{ ids: [], more: true, scope: {} }],
      'only that, as nothing else changed',
    );
    const made = await createdAlert('live-after-reconnect');
    await waitFor('its announcement', async () => changes.some((change) => change.ids.includes(made)));
    subscription.unsubscribe();
    await feed.close();
  });

  it('empties the key cache a change of who sees what concerns, whichever process made it', async () => {
    const emptied = { users: 0, integrations: 0 };
    const { feed } = await anotherProcess({
      onScopeChange: () => emptied.users++,
      onIntegrationScopeChange: () => emptied.integrations++,
    });
    const changes: AlertsChanged[] = [];
    const subscription = feed.subscribe(orgId, (change) => changes.push(change));
    await subscription.ready;
    const teams = await Promise.all(
      ['a', 'b'].map(async (name) => {
        const made = await server.callOk('POST', '/v2/teams', { name: `cache-${name}-${randomUUID()}` });
        return made.data.id as string;
      }),
    );
    const integration = await server.callOk('POST', '/v2/integrations', {
      type: 'API',
      name: `cache-${randomUUID()}`,
      ownerTeam: { id: teams[0] },
    });
    // The key another process holds of the integration names its old team: that process must read it again.
    await server.callOk('PATCH', `/v2/integrations/${integration.data.id as string}`, {
      ownerTeam: { id: teams[1] },
    });
    await waitFor('the move heard', async () => changes.some((change) => change.scope?.integrations));
    assert.deepEqual(emptied, { users: 0, integrations: 1 });

    const user = await server.callOk('POST', '/v2/users', {
      username: `cache-${randomUUID()}@example.com`,
      fullName: 'Cache',
      role: { name: 'User' },
    });
    await server.callOk('PATCH', `/v2/users/${user.data.id as string}`, { role: { name: 'Admin' } });
    await waitFor('the role change heard', async () => changes.some((change) => change.scope?.principal));
    assert.equal(emptied.users, 1);
    assert.equal(emptied.integrations, 1);
    subscription.unsubscribe();
    await feed.close();
  });

  it('tells a new subscriber what it missed, from when the process heard everything', async () => {
    const { feed, clock } = await anotherProcess();
    // Not hearing yet (nobody subscribed on it): it cannot tell, and says so.
    const early: AlertsChanged[] = [];
    const unheard = feed.subscribe(orgId, (change) => early.push(change), { pastMs: 1_000 });
    assert.deepEqual([...early], [{ ids: [], more: true }]);
    await unheard.ready;
    // Hearing from now: a time within the margin a request is widened by is still before it.
    clock.advance(2 * ALERT_REPLAY_MARGIN_MS);

    const first = await createdAlert('live-missed-first');
    await waitFor('the subscriber to hear of it', async () => early.some((c) => c.ids.includes(first)));
    const missed: AlertsChanged[] = [];
    feed.subscribe(orgId, (change) => missed.push(change), { pastMs: 1_000 }).unsubscribe();
    // What was heard in that time: the first alert (and whatever else of the organization changed then).
    assert.ok(
      missed.some((c) => c.ids.includes(first)),
      `the first alert is told: ${JSON.stringify(missed)}`,
    );
    assert.ok(
      missed.every((c) => !c.more),
      'all of it was heard: no "fetch everything"',
    );
    const tooLong: AlertsChanged[] = [];
    feed.subscribe(orgId, (change) => tooLong.push(change), { pastMs: 60_000 }).unsubscribe();
    assert.deepEqual(tooLong, [{ ids: [], more: true }], 'from before it heard everything');

    // A position is exact on its own process: no margin.
    const release = clock.hold();
    const position = unheard.position();
    assert.equal(unheard.position(), position, 'a position is the clock: it stays while the clock is held');
    release();
    clock.advance(1);
    const second = await createdAlert('live-missed-second');
    await waitFor('the subscriber to hear of it', async () => early.some((c) => c.ids.includes(second)));

    const resumed: { change: AlertsChanged; position: string }[] = [];
    const later = feed.subscribe(orgId, (change, at) => resumed.push({ change, position: at }), {
      after: position,
    });
    // Only what was heard after the position: the second alert (and whatever else of the organization
    // changed since: another test's alert heard late is told too).
    assert.ok(
      resumed.some((r) => r.change.ids.includes(second)),
      `the second alert is told: ${JSON.stringify(resumed)}`,
    );
    assert.equal(later.from, position);
    const timeOf = (p: string | undefined) => Number(p?.split('.')[1]);
    for (const r of resumed) {
      assert.ok(timeOf(r.position) >= timeOf(position), 'only what came after the position it resumes from');
      assert.ok(timeOf(r.position) <= timeOf(later.position()));
    }

    // Another process's position, or none it could have given: it cannot tell.
    for (const after of [`${randomUUID()}.${timeOf(position)}`, 'not a position']) {
      const told: AlertsChanged[] = [];
      const other = feed.subscribe(orgId, (change) => told.push(change), { after });
      assert.deepEqual(told, [{ ids: [], more: true }], after);
      assert.equal(other.from, undefined);
      other.unsubscribe();
    }
    unheard.unsubscribe();
    later.unsubscribe();
    await feed.close();
  });

  it('stops trusting what it heard when its wish was forgotten, and tells its subscribers', async () => {
    const { feed, clock } = await anotherProcess();
    const changes: AlertsChanged[] = [];
    const subscription = feed.subscribe(orgId, (change) => changes.push(change));
    await subscription.ready;
    // A renewal, so that no round is under way when the row goes (the next is due a renewal later).
    const [wish] = await wishes();
    clock.advance(ALERT_FEED_RENEW_MS);
    await waitFor('the renewal', async () => {
      const [now] = await wishes();
      return now && wish && now.renewed_at.getTime() >= wish.renewed_at.getTime() + ALERT_FEED_RENEW_MS;
    });
    // Another process took it for a gone one's (clocks far apart, or a renewal stuck).
    await server.app.context.db.deleteFrom('alert_feed_wishes').execute();
    const unannounced = await createdAlert('live-forgotten');
    // At its next renewal, it finds its row gone.
    clock.advance(ALERT_FEED_RENEW_MS);
    await waitFor('the subscriber to be told', async () => changes.some((change) => change.more));
    assert.ok(!heard(unannounced), 'the database did not announce it');
    assert.ok(!changes.some((change) => change.ids.includes(unannounced)));
    const asked: AlertsChanged[] = [];
    feed.subscribe(orgId, (change) => asked.push(change), { pastMs: 1_000 }).unsubscribe();
    assert.deepEqual(asked, [{ ids: [], more: true }], 'what it heard before is not whole');
    subscription.unsubscribe();
    await feed.close();
  });

  it('withdraws its wish when the process stops', async () => {
    const { feed } = await anotherProcess();
    await feed.subscribe(orgId, () => {}).ready;
    assert.equal((await wishes()).length, 1);
    await feed.close();
    assert.deepEqual(await wishes(), []);
  });
});
