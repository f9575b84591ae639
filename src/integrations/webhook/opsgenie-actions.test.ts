import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createAlert, startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import {
  startWebhookReceiver,
  type ReceivedWebhook,
  type WebhookReceiver,
} from '../../testing/webhook-receiver.js';
import { ShiftedClock } from '../../work/clock.js';

/**
 * Opsgenie's Webhook integration on the real server, for what a receiver written for Opsgenie tells apart:
 * a person's "escalate to next" is EscalateNext (Escalate is an escalation's rule firing), an alert
 * assigned to its assigner is TakeOwnership (to someone else, AssignOwnership); and an alert deleted is a
 * Delete with the fields receivers key on (tinyId, alias, message…), as is a change of it sent after the
 * deletion (a retry), though the alert's row is gone by then.
 */

const run = randomUUID().slice(0, 8);
const clock = new ShiftedClock();
let server: TestServer;
let hooks: WebhookReceiver;
let db: pg.Client;
let teamId: string;

/** A Webhook integration of the team sending to `path` of the verifying receiver. */
async function webhookIntegration(path: string): Promise<void> {
  const made = await server.callOk('POST', '/v2/integrations', {
    type: 'Webhook',
    name: `Opsgenie actions ${path} ${run}`,
    ownerTeam: { id: teamId },
    webhookUrl: `${hooks.url}${path}`,
  });
  const { rows } = await db.query('SELECT config FROM team_destinations WHERE integration_id = $1', [
    made.data.id,
  ]);
  hooks.endpoint(path, rows[0].config.secret as string);
}

/** What `path` took (answered 2xx) about the alert, in order. */
const took = (path: string, alertId: string): ReceivedWebhook[] =>
  hooks.received(path).filter((r) => r.status < 300 && r.body.alert?.alertId === alertId);

async function actionsAt(path: string, alertId: string, count: number): Promise<Json[]> {
  const got = await waitFor(`${count} actions`, async () => {
    const all = took(path, alertId);
    return all.length >= count ? all : undefined;
  });
  return got.map((r) => r.body);
}

describe("Opsgenie's Webhook integration actions", () => {
  before(async () => {
    hooks = await startWebhookReceiver();
    server = await startTestServer({
      clock,
      engineIntervalMs: 100,
      env: { VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1' },
    });
    db = new pg.Client({ connectionString: server.databaseUrl });
    await db.connect();
    teamId = (await server.callOk('POST', '/v2/teams', { name: `Actions ${run}` })).data.id;
  });

  after(async () => {
    await db?.end();
    await server?.stop();
    await hooks?.close();
  });

  it('sends escalate to next as EscalateNext, and an alert taken by its assigner as TakeOwnership', async () => {
    await webhookIntegration('/people');
    const other = await server.callOk('POST', '/v2/users', {
      username: `sam-${run}@example.com`,
      fullName: 'Sam',
      role: { name: 'User' },
    });
    const alertId = await createAlert(server, {
      message: `people ${run}`,
      responders: [{ type: 'team', id: teamId }],
    });
    const [create] = await actionsAt('/people', alertId, 1);
    // The API key's user, who makes every change below.
    const self = await db.query('SELECT username FROM users WHERE id = $1', [create?.alert.userId]);
    const selfName = self.rows[0]?.username as string;
    assert.ok(selfName, 'the key acts as a user');

    await server.callOk('POST', `/v2/alerts/${alertId}/assign`, { owner: { id: other.data.id } });
    await actionsAt('/people', alertId, 2);
    // A `user` named in the request is who the log shows: the owner is still the key's own user.
    await server.callOk('POST', `/v2/alerts/${alertId}/assign`, {
      owner: { username: selfName },
      user: 'Pat',
    });
    await actionsAt('/people', alertId, 3);
    await server.callOk('POST', `/v2/alerts/${alertId}/escalate`, {});
    const got = await actionsAt('/people', alertId, 4);
    assert.deepEqual(
      got.map((b) => b.action),
      ['Create', 'AssignOwnership', 'TakeOwnership', 'EscalateNext'],
    );
    assert.equal(got[1]?.alert.owner, `sam-${run}@example.com`);
    assert.equal(got[2]?.alert.owner, selfName);
  });

  it("sends Delete, and a change of the alert sent after it was deleted, with the alert's fields", async () => {
    await webhookIntegration('/deleted');
    const alertId = await createAlert(server, {
      message: `deleted ${run}`,
      alias: `deleted-${run}`,
      entity: 'db-1',
      source: 'prometheus',
      priority: 'P2',
      responders: [{ type: 'team', id: teamId }],
    });
    const [create] = await actionsAt('/deleted', alertId, 1);
    assert.equal(create?.action, 'Create');

    // The acknowledgement fails once (a 503): its retry is due 5 seconds later, after the deletion.
    hooks.answerNext('/deleted', 503);
    await server.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, {});
    await waitFor('the acknowledgement to fail once', async () =>
      hooks.received('/deleted').some((r) => r.status === 503 && r.body.alert?.alertId === alertId),
    );
    await server.callOk('DELETE', `/v2/alerts/${alertId}`);
    await waitFor('the deletion to be made a delivery', async () => {
      const { rows } = await db.query(
        "SELECT 1 FROM team_destination_deliveries WHERE alert_id = $1 AND event_type = 'deleted'",
        [alertId],
      );
      return rows.length > 0;
    });
    clock.advance(10_000);

    const got = await actionsAt('/deleted', alertId, 3);
    assert.deepEqual(
      got.map((b) => b.action),
      ['Create', 'Acknowledge', 'Delete'],
    );
    for (const body of got.slice(1)) {
      for (const key of ['tinyId', 'alias', 'message', 'entity', 'source', 'createdAt', 'priority']) {
        assert.deepEqual(body.alert[key], create?.alert[key], `${body.action}: ${key}`);
      }
      // Acknowledged since: later, in nanoseconds.
      assert.ok(body.alert.updatedAt > create?.alert.updatedAt, `${body.action}: updatedAt`);
      assert.equal(body.alert.alias, `deleted-${run}`);
      assert.equal(body.alert.message, `deleted ${run}`);
      assert.ok(!('teamIds' in body.alert) && !('description' in body.alert), JSON.stringify(body.alert));
    }
  });
});
