import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../testing/webhook-receiver.js';
import { teamDestinationsRepository as repo } from './repository.js';

/**
 * An alert deleted long after it was made, on the real server: its team's webhook gets `alert.deleted`
 * though the retention (VIGIL_PAYLOAD_RETENTION_DAYS, 14 days by default) has purged the deliveries that
 * told it of the alert. The deleted event carries what destinations are matched by (the alert's teams and
 * integration), taken as the alert was deleted; the alert's row is gone by the time it is delivered.
 */

const run = randomUUID().slice(0, 8);
let server: TestServer;
let receiver: WebhookReceiver;
let db: pg.Client;
let teamId: string;

describe('an alert deleted after its delivery log was purged', () => {
  before(async () => {
    receiver = await startWebhookReceiver();
    server = await startTestServer({
      engineIntervalMs: 100,
      env: { VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1' },
    });
    db = new pg.Client({ connectionString: server.databaseUrl });
    await db.connect();
    teamId = (await server.callOk('POST', '/v2/teams', { name: `Deleting ${run}` })).data.id;
  });

  after(async () => {
    await db?.end();
    await server?.stop();
    await receiver?.close();
  });

  it("is told to the alert's team webhook", async () => {
    receiver.endpoint('/team');
    const hook = await server.callOk('POST', '/v2/destinations', {
      name: `Deleting hook ${run}`,
      type: 'webhook',
      team: { id: teamId },
      config: { url: `${receiver.url}/team` },
    });
    receiver.setSecret('/team', hook.data.config.secret);
    const made = await server.callOk('POST', '/v2/alerts', {
      message: `old ${run}`,
      alias: `old-${run}`,
      responders: [{ type: 'team', id: teamId }],
    });
    const { alertId } = await waitFor('the alert to be made', async () => {
      const status = await server.call('GET', `/v2/alerts/requests/${made.requestId}`);
      return status.body.data?.alertId ? (status.body.data as { alertId: string }) : undefined;
    });
    await waitFor('the created to be sent', async () =>
      receiver.received('/team').some((r) => r.body.type === 'alert.created'),
    );
    await server.idle();

    // What the hourly retention does to the deliveries once they are older than its days.
    const purged = await repo.purge(server.app.context.db, new Date(Date.now() + 60_000));
    assert.ok(purged >= 1, `${purged} purged`);

    await server.callOk('DELETE', `/v2/alerts/${alertId}`);
    const deleted = await waitFor('alert.deleted to be sent', async () =>
      receiver.received('/team').find((r) => r.body.type === 'alert.deleted'),
    );
    const { data } = deleted.body as { data: { alert: Json; event: Json } };
    assert.equal(data.event.alertId, alertId);
    assert.equal(data.alert, null, 'the alert is gone');
    // What the event carries to match destinations is not part of the change.
    assert.ok(!('alert' in data.event), JSON.stringify(data.event));
  });
});
