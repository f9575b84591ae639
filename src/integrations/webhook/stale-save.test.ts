import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import { otherTransaction, whenWaitedFor } from '../../testing/lock-waits.js';

/**
 * A Webhook integration's save and a change of its webhooks through /v2/destinations, run at once: each
 * writes what it finds once it holds its locks, not what it read before. A second connection holds the
 * integration's row (as the other side does) while the request under test comes to it.
 */

const run = randomUUID().slice(0, 8);
const HOST = 'https://hooks.example.com';
let server: TestServer;
let db: pg.Client;
let team: string;

const call = (method: string, path: string, body?: unknown): Promise<Json> =>
  server.callOk(method, path, body);

async function webhooksOf(
  integrationId: string,
): Promise<{ id: string; url: string; secret: string; headers: Json }[]> {
  const rows = await db.query(
    `SELECT id, config->>'url' AS url, config->>'secret' AS secret, config->'headers' AS headers
     FROM team_destinations WHERE integration_id = $1 AND type = 'webhook' ORDER BY created_at, id`,
    [integrationId],
  );
  return rows.rows;
}

async function settingsOf(integrationId: string): Promise<Json> {
  return (await db.query('SELECT settings FROM integrations WHERE id = $1', [integrationId])).rows[0]
    .settings;
}

async function integration(type: string, name: string, path: string): Promise<string> {
  const made = await call('POST', '/v2/integrations', {
    type,
    name: `${name} ${run}`,
    ownerTeam: { id: team },
    ...(type === 'Webhook'
      ? { webhookUrl: `${HOST}/${path}`, headers: { Authorization: `Bearer ${path}` } }
      : {}),
  });
  return made.data.id as string;
}

async function addWebhook(integrationId: string, name: string, path: string): Promise<string> {
  const made = await call('POST', '/v2/destinations', {
    name: `${name} ${run}`,
    type: 'webhook',
    integration: { id: integrationId },
    config: { url: `${HOST}/${path}` },
  });
  return made.data.id as string;
}

/**
 * Runs `request` while `other` holds what it took, and ends `other`: the request's answer, or 'waited' when
 * it had not answered within 10 seconds (it waited for `other`, which is then rolled back to let it go).
 */
async function whileHeld(
  other: pg.Client,
  request: Promise<{ status: number; body: Json }>,
): Promise<{ status: number; body: Json } | 'waited'> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<'waited'>((resolve) => {
    timer = setTimeout(() => resolve('waited'), 10_000);
  });
  try {
    return await Promise.race([request, waited]);
  } finally {
    clearTimeout(timer);
    await other.query('ROLLBACK');
    await other.end();
    await request;
  }
}

before(async () => {
  server = await startTestServer();
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  team = (await call('POST', '/v2/teams', { name: `Stale ${run}` })).data.id;
});

after(async () => {
  await db?.end();
  await server?.stop();
});

describe('a Webhook integration saved while its webhooks change', () => {
  it('after its own webhook is deleted, leaves the next one its URL, secret and headers', async () => {
    const id = await integration('Webhook', 'Deleted', 'deleted-first');
    await addWebhook(id, 'Deleted next', 'deleted-next');
    const [own, next] = await webhooksOf(id);
    assert.ok(own && next);
    // The DELETE of the own webhook as /v2/destinations runs it: the integration locked first, then the
    // webhook deleted and the next one's config written back to the settings.
    const other = await otherTransaction(server.databaseUrl);
    try {
      await other.query('SELECT id FROM integrations WHERE id = $1 FOR NO KEY UPDATE', [id]);
      // A save that changes only the name (Terraform applying another attribute).
      const saving = server.call('PATCH', `/v2/integrations/${id}`, { name: `Deleted renamed ${run}` });
      await whenWaitedFor(other, { never: 'the save never waited for the integration', seconds: 10 });
      await other.query('DELETE FROM team_destinations WHERE id = $1', [own.id]);
      await other.query(
        `UPDATE integrations SET settings = settings || jsonb_build_object('webhookUrl', $2::text) - 'headers'
         WHERE id = $1`,
        [id, next.url],
      );
      await other.query('COMMIT');
      const saved = await saving;
      assert.equal(saved.status, 200, JSON.stringify(saved.body));
    } finally {
      await other.end();
    }
    assert.deepEqual(await webhooksOf(id), [next], 'the remaining webhook is as it was');
    assert.equal((await settingsOf(id)).webhookUrl, next.url);
    assert.deepEqual((await settingsOf(id)).headers ?? {}, {}, "the deleted webhook's headers are gone");
  });

  it('that changes only its name, keeps a URL changed through /v2/destinations meanwhile', async () => {
    const id = await integration('Webhook', 'Patched', 'patched-first');
    const [own] = await webhooksOf(id);
    assert.ok(own);
    const other = await otherTransaction(server.databaseUrl);
    try {
      // A PATCH /v2/destinations of the own webhook, which locks the integration first.
      await other.query('SELECT id FROM integrations WHERE id = $1 FOR NO KEY UPDATE', [id]);
      const saving = server.call('PATCH', `/v2/integrations/${id}`, { name: `Patched renamed ${run}` });
      await whenWaitedFor(other, { never: 'the save never waited for the integration', seconds: 10 });
      await other.query(
        `UPDATE team_destinations SET config = jsonb_set(config, '{url}', to_jsonb($2::text)) WHERE id = $1`,
        [own.id, `${HOST}/patched-second`],
      );
      await other.query(
        `UPDATE integrations SET settings = settings || jsonb_build_object('webhookUrl', $2::text) WHERE id = $1`,
        [id, `${HOST}/patched-second`],
      );
      await other.query('COMMIT');
      const saved = await saving;
      assert.equal(saved.status, 200, JSON.stringify(saved.body));
    } finally {
      await other.end();
    }
    const [after] = await webhooksOf(id);
    assert.deepEqual(after, { ...own, url: `${HOST}/patched-second` });
    assert.equal((await settingsOf(id)).webhookUrl, `${HOST}/patched-second`);
  });

  it('that changes no URL, header or payload flag, makes its destination again when it has none', async () => {
    const id = await integration('Webhook', 'Remade', 'remade');
    const [own] = await webhooksOf(id);
    assert.ok(own);
    await call('DELETE', `/v2/destinations/${own.id}`);
    await call('PATCH', `/v2/integrations/${id}`, { name: `Remade renamed ${run}` });
    const [remade, ...more] = await webhooksOf(id);
    assert.equal(remade?.url, `${HOST}/remade`);
    assert.deepEqual(more, []);
  });
});

describe('a change of a webhook through /v2/destinations', () => {
  for (const [how, request] of [
    ['PATCH', (d: string) => server.call('PATCH', `/v2/destinations/${d}`, { name: `Renamed ${d}` })],
    ['DELETE', (d: string) => server.call('DELETE', `/v2/destinations/${d}`)],
  ] as const) {
    it(`${how}: waits for no alert intake of the API integration it is on, nor for its save`, async () => {
      const id = await integration('API', `Intake ${how}`, '');
      const webhook = await addWebhook(id, `Intake webhook ${how}`, `intake-${how}`);
      for (const lock of ['FOR KEY SHARE', 'FOR NO KEY UPDATE']) {
        // An intake's payload insert takes the key share; an update of the integration, a no-key update.
        const other = await otherTransaction(server.databaseUrl);
        await other.query(`SELECT id FROM integrations WHERE id = $1 ${lock}`, [id]);
        const answer = await whileHeld(other, request(webhook));
        assert.notEqual(answer, 'waited', `the ${how} waited for a lock ${lock} on the integration`);
        if (answer !== 'waited') assert.ok(answer.status < 300, JSON.stringify(answer.body));
        if (how === 'DELETE') break;
      }
    });

    it(`${how}: of a webhook moved to another integration meanwhile, is refused (409), not applied`, async () => {
      const from = await integration('Webhook', `From ${how}`, `from-${how}`);
      const to = await integration('Webhook', `To ${how}`, `to-${how}`);
      const webhook = await addWebhook(from, `Moved ${how}`, `moved-${how}`);
      const other = await otherTransaction(server.databaseUrl);
      let answer;
      try {
        // The move holds the integration it leaves, as the change comes to lock it.
        await other.query('SELECT id FROM integrations WHERE id = $1 FOR NO KEY UPDATE', [from]);
        const changing = request(webhook);
        await whenWaitedFor(other, { never: 'the change never waited for the integration', seconds: 10 });
        await other.query('UPDATE team_destinations SET integration_id = $2 WHERE id = $1', [webhook, to]);
        await other.query('COMMIT');
        answer = await changing;
      } finally {
        await other.end();
      }
      assert.equal(answer.status, 409, JSON.stringify(answer.body));
      const rows = await db.query('SELECT name, integration_id FROM team_destinations WHERE id = $1', [
        webhook,
      ]);
      assert.deepEqual(rows.rows, [{ name: `Moved ${how} ${run}`, integration_id: to }]);
    });
  }
});
