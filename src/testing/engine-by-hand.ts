import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sql, type KyselyPlugin } from 'kysely';
import type { AlertEvent } from '../alerts/events.js';
import { createEscalationEngine, type EscalationEngine } from '../engine/escalation/engine.js';
import { createLogger, type Logger } from '../logger.js';
import type { Clock } from '../work/clock.js';
import { waitFor, type TestServer } from './harness.js';

/**
 * The escalation engine run by hand on a test server without workers (role `api`): the test takes an
 * alert's events from the outbox and hands them to the engine itself, in the order and at the moment it
 * wants, which the workers' queues would not let it choose.
 */

export interface EngineByHand {
  engine: EscalationEngine;
  /** The log the engine and its batches are given (silent). */
  log: Logger;
  /** Another engine on the server's database, its queries passed through `plugin` when one is given. */
  engineOn(plugin?: KyselyPlugin): EscalationEngine;
  /** The alert's event of `type`, as the outbox holds it, once it is there. */
  eventOf(alertId: string, type: AlertEvent['type']): Promise<AlertEvent>;
  /** Hands the alert's event of `type` to the engine and asserts that it was handled. */
  handle(alertId: string, type: AlertEvent['type']): Promise<void>;
  /** How many pages (notifications, to anyone) the alert has had planned so far. */
  pages(alertId: string): Promise<number>;
}

export function engineByHand(server: TestServer, clock: Clock): EngineByHand {
  const log = createLogger('silent');
  const engineOn = (plugin?: KyselyPlugin): EscalationEngine => {
    const db = server.app.context.db;
    return createEscalationEngine({
      db: plugin ? db.withPlugin(plugin) : db,
      log,
      clock,
      alerts: server.app.context.alerts,
      // Nothing listens: the test runs whatever the engine would wake.
      signal: { wake: () => {} },
    });
  };
  const engine = engineOn();
  const eventOf = (alertId: string, type: AlertEvent['type']): Promise<AlertEvent> =>
    waitFor(`the ${type} event`, async () => {
      const { rows } = await sql<{ payload: AlertEvent }>`
        SELECT payload FROM outbox_jobs WHERE payload->>'alertId' = ${alertId} AND payload->>'type' = ${type}
      `.execute(server.app.context.db);
      return rows[0]?.payload;
    });
  return {
    engine,
    log,
    engineOn,
    eventOf,
    async handle(alertId, type) {
      assert.deepEqual(await engine.consumer.handleBatch?.([await eventOf(alertId, type)], { log }), {
        failed: [],
      });
    },
    async pages(alertId) {
      const planned = await server.app.context.db
        .selectFrom('notifications')
        .select('id')
        .where('alert_id', '=', alertId)
        .execute();
      return planned.length;
    },
  };
}

/**
 * A user (role User, `<team>-<random>@example.com`, "<team> person") alone in `team`, whose default
 * routing rule names the escalation policy "<team> policy" of `rules`, each paging that user by their
 * default rule `minutes` after the alert, all made through the API; the user's username.
 */
export async function teamEscalatingTo(
  server: TestServer,
  team: string,
  rules: { condition: string; minutes: number }[],
): Promise<string> {
  const username = `${team.toLowerCase()}-${randomUUID().slice(0, 8)}@example.com`;
  const policy = `${team} policy`;
  await server.callOk('POST', '/v2/users', { username, fullName: `${team} person`, role: { name: 'User' } });
  await server.callOk('POST', '/v2/teams', { name: team, members: [{ user: { username } }] });
  await server.callOk('POST', '/v2/escalations', {
    name: policy,
    rules: rules.map(({ condition, minutes }) => ({
      condition,
      notifyType: 'default',
      delay: { timeAmount: minutes },
      recipient: { type: 'user', username },
    })),
  });
  await server.callOk(
    'PUT',
    `/v2/teams/${encodeURIComponent(team)}/routing-rules/default?teamIdentifierType=name`,
    { notify: { type: 'escalation', name: policy } },
  );
  return username;
}
