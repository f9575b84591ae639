import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import { otherTransaction, whenWaitedFor } from '../../testing/lock-waits.js';

/**
 * A webhook made through /v2/destinations for a Webhook integration, while the integration's save runs: the
 * create takes the integration's lock before it writes anything, as the save does, so it writes the
 * settings back from those the save left, not from those it read before. A second connection plays the
 * save, holding the integration's row as the create comes to it.
 */

const run = randomUUID().slice(0, 8);
const HOST = 'https://hooks.example.com';
let server: TestServer;
let db: pg.Client;
let team: string;

before(async () => {
  server = await startTestServer();
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  team = (await server.callOk('POST', '/v2/teams', { name: `Create lock ${run}` })).data.id;
});

after(async () => {
  await db?.end();
  await server?.stop();
});

async function settingsOf(integrationId: string): Promise<Json> {
  return (await db.query('SELECT settings FROM integrations WHERE id = $1', [integrationId])).rows[0]
    .settings;
}

describe('a webhook created for a Webhook integration while the integration is saved', () => {
  it("waits for the save, and keeps the settings it wrote (suppressNotifications, its own webhook's URL)", async () => {
    const made = await server.callOk('POST', '/v2/integrations', {
      type: 'Webhook',
      name: `Raced ${run}`,
      ownerTeam: { id: team },
      webhookUrl: `${HOST}/first`,
    });
    const id = made.data.id as string;
    // Its own webhook deleted: the save and the create each make one.
    const own = await db.query(`SELECT id, org_id FROM team_destinations WHERE integration_id = $1`, [id]);
    assert.equal(own.rows.length, 1);
    await server.callOk('DELETE', `/v2/destinations/${own.rows[0].id}`);

    const other = await otherTransaction(server.databaseUrl);
    let answer;
    try {
      // The save (PATCH /v2/integrations) locks the integration first.
      await other.query('SELECT id FROM integrations WHERE id = $1 FOR NO KEY UPDATE', [id]);
      const creating = server.call('POST', '/v2/destinations', {
        name: `Created ${run}`,
        type: 'webhook',
        integration: { id },
        config: { url: `${HOST}/created` },
      });
      await whenWaitedFor(other, { never: 'the create never waited for the integration', seconds: 10 });
      // Finding no webhook, the save makes one from its settings (older than any the create makes) and
      // writes its change of the settings.
      await other.query(
        `INSERT INTO team_destinations (org_id, integration_id, type, name, config, created_at, updated_at)
         VALUES ($1, $2, 'webhook', $3, $4, '2000-01-01', '2000-01-01')`,
        [
          own.rows[0].org_id,
          id,
          `Webhook integration ${id}`,
          JSON.stringify({ url: `${HOST}/saved`, secret: 'saved-secret' }),
        ],
      );
      await other.query(
        `UPDATE integrations SET settings = settings || jsonb_build_object('suppressNotifications', true, 'webhookUrl', $2::text)
         WHERE id = $1`,
        [id, `${HOST}/saved`],
      );
      await other.query('COMMIT');
      answer = await creating;
    } finally {
      await other.end();
    }
    assert.ok(answer.status < 300, JSON.stringify(answer.body));
    const settings = await settingsOf(id);
    assert.equal(settings.suppressNotifications, true, "the save's change of the settings is kept");
    // The save's webhook is the integration's own (the oldest): the created one is another, no setting.
    assert.equal(settings.webhookUrl, `${HOST}/saved`);
  });
});
