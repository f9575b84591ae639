import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool, type Db } from '../../db/database.js';
import { createTestDatabase } from '../../testing/harness.js';
import { insertOrgWithTeam } from '../../testing/team-deliveries.js';
import { teamDestinationsRepository as repo, type EventToDeliver } from './repository.js';

/**
 * A team added to an alert, as the consumer of alert events makes its deliveries, on real PostgreSQL: the
 * events' queue runs batches side by side and retries a failed event on its own, so a later change of the
 * alert may be handled before the team's `responder_added`. That later change went to the alert's teams
 * as they are now (the added one with them), but it told the destination nothing of the alert as a
 * Create does: only an earlier change (a `created` handled after the team was added) did.
 */

let db: Db;
let orgId: string;
let teamA: string;
const now = new Date('2026-03-02T10:00:00Z');

async function insertTeam(name: string): Promise<string> {
  const { rows } = await sql<{ id: string }>`
    INSERT INTO teams (org_id, name) VALUES (${orgId}, ${name}) RETURNING id`.execute(db);
  return rows[0]?.id ?? '';
}

/** A webhook of `teamId`. Its id. */
async function webhookOf(teamId: string): Promise<string> {
  const { rows } = await sql<{ id: string }>`
    INSERT INTO team_destinations (org_id, team_id, type, name, config)
    VALUES (${orgId}, ${teamId}, 'webhook', ${`hook ${randomUUID()}`},
            ${JSON.stringify({ url: 'https://hooks.example.com/x', secret: 'whsec_x' })}::jsonb)
    RETURNING id`.execute(db);
  return rows[0]?.id ?? '';
}

/** An alert of team A, `added` added to it since (the change made, its event not yet handled). */
async function alertWithAdded(added: string): Promise<string> {
  const { rows } = await sql<{ id: string }>`
    INSERT INTO alerts (org_id, alias, message, team_ids, responders)
    VALUES (${orgId}, ${randomUUID()}, 'Disk full', ${[teamA, added]}::uuid[],
            ${JSON.stringify([
              { type: 'team', id: teamA },
              { type: 'team', id: added },
            ])}::jsonb)
    RETURNING id`.execute(db);
  return rows[0]?.id ?? '';
}

function eventOf(
  alertId: string,
  seq: number,
  type: string,
  rest: Record<string, unknown> = {},
): EventToDeliver {
  const eventId = randomUUID();
  const event = {
    type,
    eventId,
    alertId,
    orgId,
    at: now.toISOString(),
    actor: { kind: 'user', name: 'Pat' },
    seq,
    ...rest,
  };
  return { eventId, alertId, orgId, type, event, seq, kinds: ['webhook'] };
}

const added = (alertId: string, seq: number, teamId: string) =>
  eventOf(alertId, seq, 'responder_added', { responder: { type: 'team', id: teamId }, name: 'Team B' });

async function typesAt(destinationId: string, alertId: string): Promise<string[]> {
  const { rows } = await sql<{ event_type: string }>`
    SELECT event_type FROM team_destination_deliveries
    WHERE destination_id = ${destinationId} AND alert_id = ${alertId} ORDER BY seq`.execute(db);
  return rows.map((r) => r.event_type);
}

before(async () => {
  const url = await createTestDatabase({ migrated: true });
  db = createDb(createPool(url, 2));
  ({ orgId, teamId: teamA } = await insertOrgWithTeam(db, { org: 'Added teams', team: 'A' }));
});

after(async () => {
  await db?.destroy();
});

describe('a team added to an alert', () => {
  it("gets its Create when a later change's batch is handled first, not when an earlier change told it", async () => {
    const teamB = await insertTeam(`B ${randomUUID()}`);
    const hookB = await webhookOf(teamB);

    // Add Team (seq 10), then an acknowledgement (seq 11), whose batch commits first.
    const later = await alertWithAdded(teamB);
    await repo.insertDeliveries(db, [eventOf(later, 11, 'acknowledged')], now);
    await repo.insertDeliveries(db, [added(later, 10, teamB)], now);
    assert.deepEqual(
      await typesAt(hookB, later),
      ['responder_added', 'acknowledged'],
      'the added team heard of the alert from its Create, before its acknowledgement',
    );

    // The `created` (seq 1) handled after the team was added went to it: that was its news of the alert.
    const earlier = await alertWithAdded(teamB);
    await repo.insertDeliveries(db, [eventOf(earlier, 1, 'created', { priority: 'P3' })], now);
    await repo.insertDeliveries(db, [added(earlier, 2, teamB)], now);
    assert.deepEqual(await typesAt(hookB, earlier), ['created'], 'no second Create');
  });
});
