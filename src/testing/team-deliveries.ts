import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../db/database.js';

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
