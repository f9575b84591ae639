import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool, type Db } from '../../db/database.js';
import { createTestDatabase } from '../../testing/harness.js';
import { insertOrgWithTeam, localDeliverySender } from '../../testing/team-deliveries.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../testing/webhook-receiver.js';
import type { Clock } from '../../work/clock.js';
import { teamDestinationsRepository as repo, type EventToDeliver } from './repository.js';

/**
 * An alert deleted after a Webhook integration that was sent it moved to another team, on real PostgreSQL:
 * the deletion goes to the destinations of the alert's teams and integration as its deleted event keeps
 * them, not to every destination that once had a delivery of it; and the alert as it was deleted (message,
 * alias, entity…) is shown only by a destination that was itself sent the deletion, not by a change of the
 * alert sent to another after it. Deliveries are made as the consumer makes them and sent round by round
 * on a clock the test sets (no worker runs).
 */

let db: Db;
let receiver: WebhookReceiver;
let orgId: string;
let teamA: string;
let teamC: string;
// Now: the receiver checks the signature's timestamp.
let at = new Date();
const clock: Clock = { now: () => at, fromSystemTime: (t) => t, toSystemTime: (t) => t };
const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const MESSAGE = 'Disk full on db-7';

/** A Webhook integration of `teamId` and its destination, posting to `path` of the receiver. */
async function webhookIntegration(teamId: string, path: string): Promise<{ id: string; hook: string }> {
  const name = `W ${randomUUID()}`;
  const integration = await sql<{ id: string }>`
    INSERT INTO integrations (org_id, type, name, owner_team_id, api_key_lookup, api_key_hash, external_id)
    VALUES (${orgId}, 'Webhook', ${name}, ${teamId}, ${name}, ${randomBytes(32)}, ${name})
    RETURNING id`.execute(db);
  const id = integration.rows[0]?.id ?? '';
  receiver.endpoint(path, SECRET);
  const hook = await sql<{ id: string }>`
    INSERT INTO team_destinations (org_id, integration_id, type, name, config)
    VALUES (${orgId}, ${id}, 'webhook', ${name},
            ${JSON.stringify({ url: `${receiver.url}${path}`, secret: SECRET })}::jsonb)
    RETURNING id`.execute(db);
  return { id, hook: hook.rows[0]?.id ?? '' };
}

async function alertOfA(): Promise<string> {
  const { rows } = await sql<{ id: string }>`
    INSERT INTO alerts (org_id, alias, message, team_ids, responders)
    VALUES (${orgId}, ${randomUUID()}, ${MESSAGE}, ${[teamA]}::uuid[],
            ${JSON.stringify([{ type: 'team', id: teamA }])}::jsonb)
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
    at: at.toISOString(),
    actor: { kind: 'user', name: 'Pat' },
    seq,
    ...rest,
  };
  return { eventId, alertId, orgId, type, event, seq, kinds: ['webhook'] };
}

/** The alert deleted (its row gone) and its deleted event, keeping it as it was (team A's), made into deliveries. */
async function deleteAlert(alertId: string, seq: number): Promise<void> {
  await sql`DELETE FROM alerts WHERE id = ${alertId}`.execute(db);
  await repo.insertDeliveries(
    db,
    [
      eventOf(alertId, seq, 'deleted', {
        alert: {
          tinyId: '7',
          alias: `db-7-${alertId}`,
          message: MESSAGE,
          entity: 'db-7',
          source: 'monitor',
          priority: 'P3',
          createdAt: at.toISOString(),
          updatedAt: at.toISOString(),
          teamIds: [teamA],
          integrationId: null,
        },
      }),
    ],
    at,
  );
}

const moveTo = (integrationId: string, teamId: string) =>
  sql`UPDATE integrations SET owner_team_id = ${teamId} WHERE id = ${integrationId}`.execute(db);

async function typesAt(destinationId: string, alertId: string): Promise<string[]> {
  const { rows } = await sql<{ event_type: string }>`
    SELECT event_type FROM team_destination_deliveries
    WHERE destination_id = ${destinationId} AND alert_id = ${alertId} ORDER BY seq`.execute(db);
  return rows.map((r) => r.event_type);
}

before(async () => {
  receiver = await startWebhookReceiver();
  const url = await createTestDatabase({ migrated: true });
  db = createDb(createPool(url, 2));
  ({ orgId, teamId: teamA } = await insertOrgWithTeam(db, { org: 'Deleted alerts', team: 'A' }));
  const c = await sql<{ id: string }>`
    INSERT INTO teams (org_id, name) VALUES (${orgId}, 'C') RETURNING id`.execute(db);
  teamC = c.rows[0]?.id ?? '';
});

after(async () => {
  await db?.destroy();
  await receiver?.close();
});

describe('a deleted alert and a Webhook integration moved to another team since it was sent the alert', () => {
  it('is not sent the deletion: it goes where the alert was as it was deleted', async () => {
    const moved = await webhookIntegration(teamA, '/moved');
    const stays = await webhookIntegration(teamA, '/stays');
    const alertId = await alertOfA();
    await repo.insertDeliveries(db, [eventOf(alertId, 1, 'created', { priority: 'P3' })], at);
    await moveTo(moved.id, teamC);
    await repo.insertDeliveries(db, [eventOf(alertId, 2, 'acknowledged')], at);
    await deleteAlert(alertId, 3);

    assert.deepEqual(await typesAt(moved.hook, alertId), ['created'], 'nothing after the move');
    assert.deepEqual(await typesAt(stays.hook, alertId), ['created', 'acknowledged', 'deleted']);
  });

  it("shows the alert as it was deleted only to a destination sent the deletion, not in another's change sent after it", async () => {
    const moved = await webhookIntegration(teamA, '/moved-later');
    await webhookIntegration(teamA, '/stays-later');
    const alertId = await alertOfA();
    // Made while the integration was team A's, still to go when the alert is deleted.
    await repo.insertDeliveries(db, [eventOf(alertId, 1, 'created', { priority: 'P3' })], at);
    await repo.insertDeliveries(db, [eventOf(alertId, 2, 'acknowledged')], at);
    await moveTo(moved.id, teamC);
    await deleteAlert(alertId, 3);

    const sender = localDeliverySender(db, clock);
    for (let round = 0; round < 10 && (await sender.deliverDue(at)) > 0; round++) {
      at = new Date(at.getTime() + 1000);
    }
    const bodies = (path: string) =>
      receiver
        .received(path)
        .filter((r) => r.body.alert?.alertId === alertId)
        .map((r) => r.body as { action: string; alert: Record<string, unknown> });

    const stayed = bodies('/stays-later');
    assert.deepEqual(
      stayed.map((b) => b.action),
      ['Create', 'Acknowledge', 'Delete'],
    );
    const deletion = stayed.find((b) => b.action === 'Delete');
    assert.equal(
      deletion?.alert.message,
      MESSAGE,
      "the team's integration is sent the alert as it was deleted",
    );

    const movedBodies = bodies('/moved-later');
    assert.ok(movedBodies.length > 0, 'the changes made before the move went out');
    assert.ok(!movedBodies.some((b) => b.action === 'Delete'), 'no Delete');
    for (const body of movedBodies) {
      assert.equal(body.alert.message, undefined, `${body.action} shows nothing of the deleted alert`);
      assert.equal(body.alert.alias, undefined);
      assert.equal(body.alert.tinyId, undefined);
    }
  });
});
