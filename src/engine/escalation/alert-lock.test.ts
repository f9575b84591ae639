import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type KyselyPlugin, TableNode, sql } from 'kysely';
import { engineByHand, teamEscalatingTo, type EngineByHand } from '../../testing/engine-by-hand.js';
import {
  createTeamAlert,
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
} from '../../testing/harness.js';
import { ShiftedClock } from '../../work/clock.js';

/**
 * Two of the engine's transactions on one alert at once (its queues run several loops, in several
 * processes): the one that starts the alert's escalation from the alert as it read it, and the one that
 * handles a change made meanwhile. Whichever commits second must see the other's work.
 */

const clock = new ShiftedClock();
let api: TestServer;
let byHand: EngineByHand;
let person: string;

before(async () => {
  // No workers: the test hands the events to the engines itself, in the order it wants.
  api = await startTestServer({ role: 'api', clock });
  person = await teamEscalatingTo(
    api,
    'Lock',
    [0, 10].map((minutes) => ({ condition: 'if-not-acked', minutes })),
  );
  byHand = engineByHand(api, clock);
});

after(async () => {
  await api?.stop();
});

/**
 * A plugin that holds the answer of the first read of `alerts` until released: the transaction has
 * read the alert and goes on from that read only when the test says so.
 */
function holdAlertRead(): { plugin: KyselyPlugin; reached: Promise<void>; release(): void } {
  let armed = true;
  let reach = () => {};
  const reached = new Promise<void>((resolve) => (reach = resolve));
  let release = () => {};
  const released = new Promise<void>((resolve) => (release = resolve));
  const held = new Set<unknown>();
  return {
    plugin: {
      transformQuery(args) {
        const node = args.node;
        if (
          armed &&
          node.kind === 'SelectQueryNode' &&
          node.from?.froms.some((f) => TableNode.is(f) && f.table.identifier.name === 'alerts')
        ) {
          armed = false;
          held.add(args.queryId);
        }
        return node;
      },
      async transformResult(args) {
        if (held.has(args.queryId)) {
          reach();
          await released;
        }
        return args.result;
      },
    },
    reached,
    release,
  };
}

describe('two engine transactions on one alert', () => {
  it('restarts the escalation a new alert starts paused when it is unacknowledged meanwhile', async () => {
    const alertId = await createTeamAlert(api, 'acknowledged before its escalation started', 'Lock');
    const acked = async (want: boolean) =>
      waitFor(`acknowledged ${want}`, async () => {
        const alert: Json = await api.callOk('GET', `/v2/alerts/${alertId}`);
        return alert.data.acknowledged === want ? true : undefined;
      });
    await api.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, { user: person });
    await acked(true);

    // Loop A takes the creation and reads the alert acknowledged; it stops there.
    const hold = holdAlertRead();
    const { log, eventOf, engineOn } = byHand;
    const starting = engineOn(hold.plugin).consumer.handleBatch?.([await eventOf(alertId, 'created')], {
      log,
    });
    await hold.reached;
    // Meanwhile the alert is unacknowledged, and loop B takes that event.
    await api.callOk('POST', `/v2/alerts/${alertId}/unacknowledge`, { user: person });
    await acked(false);
    let resumedDone = false;
    const resuming = engineOn()
      .consumer.handleBatch?.([await eventOf(alertId, 'unacknowledged')], { log })
      .finally(() => (resumedDone = true));
    // B either finishes (seeing no run yet) or waits for A: only then does A go on.
    await waitFor('loop B to finish or wait for loop A', async () => {
      if (resumedDone) return true;
      const { rows } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM pg_locks
        WHERE NOT granted AND locktype = 'advisory'
          -- This test's database only: the server's other databases are other test files'.
          AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
      `.execute(api.app.context.db);
      return (rows[0]?.n ?? 0) > 0 ? true : undefined;
    });
    hold.release();
    assert.deepEqual(await starting, { failed: [] });
    assert.deepEqual(await resuming, { failed: [] });

    const runs = await api.app.context.db
      .selectFrom('alert_escalations')
      .select(['state', 'pause_reason', 'next_at'])
      .where('alert_id', '=', alertId)
      .execute();
    assert.equal(runs.length, 1);
    assert.equal(runs[0]?.state, 'active', `the run is ${runs[0]?.state} (${runs[0]?.pause_reason})`);
    assert.ok(runs[0]?.next_at, 'the run has a next step');
    const paged = await api.app.context.db
      .selectFrom('notifications')
      .select('id')
      .where('alert_id', '=', alertId)
      .execute();
    assert.ok(paged.length > 0, 'the first rule paged');
  });
});
