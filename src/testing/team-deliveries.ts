import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { loadConfig, type Config } from '../config.js';
import type { Db } from '../db/database.js';
import { createLogger, type Logger } from '../logger.js';
import { createTeamDeliverySender } from '../notify/team-destinations/deliveries.js';
import type { Clock } from '../work/clock.js';

/**
 * A team destination's delivery of a `created` event, written straight to the table, for tests that drive
 * the delivery sender round by round without alerts or workers. Its id.
 */
export async function insertTeamDelivery(
  db: Db,
  delivery: { orgId: string; destinationId: string; at: Date; dueAt: Date },
): Promise<string> {
  const alertId = randomUUID();
  const eventId = randomUUID();
  const event = {
    type: 'created',
    eventId,
    alertId,
    orgId: delivery.orgId,
    at: delivery.at.toISOString(),
    actor: { type: 'system', name: 'test' },
    seq: 1,
  };
  const { rows } = await sql<{ id: string }>`
    INSERT INTO team_destination_deliveries (destination_id, event_id, alert_id, event_type, event, seq, due_at)
    VALUES (${delivery.destinationId}, ${eventId}, ${alertId}, 'created', ${JSON.stringify(event)}::jsonb, 1,
      ${delivery.dueAt})
    RETURNING id`.execute(db);
  assert.ok(rows[0]);
  return rows[0].id;
}

/** Vigil's settings for delivery tests: receivers on 127.0.0.1 may be reached over plain http. */
export function localDeliveryConfig(): Config {
  return loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: 'postgres://unused/unused',
    VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1',
  });
}

/** The team destinations' sender on `db` and `clock`, posting with the real fetch to local receivers. */
export function localDeliverySender(db: Db, clock: Clock, log: Logger = createLogger('silent')) {
  return createTeamDeliverySender({
    db,
    log,
    clock,
    config: localDeliveryConfig(),
    fetch: (input, init) => fetch(input, init),
  });
}

/** An organization with one team, written straight to the tables. */
export async function insertOrgWithTeam(
  db: Db,
  names: { org: string; team: string },
): Promise<{ orgId: string; teamId: string }> {
  const org = await sql<{ id: string }>`
    INSERT INTO organizations (name) VALUES (${names.org}) RETURNING id`.execute(db);
  const orgId = org.rows[0]?.id ?? '';
  const team = await sql<{ id: string }>`
    INSERT INTO teams (org_id, name) VALUES (${orgId}, ${names.team}) RETURNING id`.execute(db);
  return { orgId, teamId: team.rows[0]?.id ?? '' };
}
