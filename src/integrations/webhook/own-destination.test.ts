import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import { otherTransaction, whenWaitedFor } from '../../testing/lock-waits.js';

/**
 * Which webhook is a Webhook integration's own destination (the oldest, ties broken by id), and that its
 * settings follow that one: moved off the integration through PATCH /v2/destinations it is no longer its
 * own, and, as when it is deleted, the next webhook the integration owns gives it its settings; with none
 * left, the integration's next save makes its destination again.
 */

const run = randomUUID().slice(0, 8);
const HOST = 'https://hooks.example.com';
let server: TestServer;
let db: pg.Client;
let team: string;

const call = (method: string, path: string, body?: unknown): Promise<Json> =>
  server.callOk(method, path, body);

async function webhooksOf(integrationId: string): Promise<{ id: string; name: string; url: string }[]> {
  const rows = await db.query(
    `SELECT id, name, config->>'url' AS url FROM team_destinations
     WHERE integration_id = $1 AND type = 'webhook' ORDER BY created_at, id`,
    [integrationId],
  );
  return rows.rows;
}

async function settingsOf(integrationId: string): Promise<Json> {
  return (await db.query('SELECT settings FROM integrations WHERE id = $1', [integrationId])).rows[0]
    .settings;
}

async function webhookIntegration(name: string, path: string): Promise<string> {
  const made = await call('POST', '/v2/integrations', {
    type: 'Webhook',
    name: `${name} ${run}`,
    ownerTeam: { id: team },
    webhookUrl: `${HOST}/${path}`,
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

describe("a Webhook integration's own destination", () => {
  before(async () => {
    server = await startTestServer();
    db = new pg.Client({ connectionString: server.databaseUrl });
    await db.connect();
    team = (await call('POST', '/v2/teams', { name: `Own ${run}` })).data.id;
  });

  after(async () => {
    await db?.end();
    await server?.stop();
  });

  it('moved to a team, gives way to the next webhook the integration owns, whose settings it then shows', async () => {
    const id = await webhookIntegration('Moved', 'first');
    const [own] = await webhooksOf(id);
    assert.ok(own);
    await addWebhook(id, 'Next', 'second');

    const moved = await server.call('PATCH', `/v2/destinations/${own.id}`, { team: { id: team } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    assert.equal((await settingsOf(id)).webhookUrl, `${HOST}/second`);
    assert.equal((await call('GET', `/v2/integrations/${id}`)).data.webhookUrl, `${HOST}/second`);
    // Its team's destination, which kept its name, is no setting of the integration any more.
    await call('PATCH', `/v2/destinations/${own.id}`, { config: { url: `${HOST}/team-only` } });
    assert.equal((await settingsOf(id)).webhookUrl, `${HOST}/second`);
  });

  it('moved to another integration, gives way there too, and with none left is made again on the next save', async () => {
    const to = await webhookIntegration('To', 'to');
    const from = await webhookIntegration('From', 'from');
    const [own] = await webhooksOf(from);
    assert.ok(own);

    const moved = await server.call('PATCH', `/v2/destinations/${own.id}`, { integration: { id: to } });
    assert.equal(moved.status, 200, JSON.stringify(moved.body));
    // Made after the "To" integration's own, it is not that one's own: its settings stay.
    assert.equal((await settingsOf(to)).webhookUrl, `${HOST}/to`);
    // "From" has none left: its settings stay as they were, and its next save makes one again (the moved
    // one keeps the name Vigil gave it, which the new one must not need).
    assert.deepEqual(await webhooksOf(from), []);
    const saved = await server.call('PATCH', `/v2/integrations/${from}`, { suppressNotifications: true });
    assert.equal(saved.status, 200, JSON.stringify(saved.body));
    const [remade] = await webhooksOf(from);
    assert.ok(remade, 'its destination is made again');
    assert.equal(remade.url, `${HOST}/from`);
    assert.notEqual(remade.id, own.id);
  });

  it('of two made at the same instant, is the one with the lower id, for every caller', async () => {
    const id = await webhookIntegration('Tied', 'tied-first');
    const [first] = await webhooksOf(id);
    assert.ok(first);
    const second = await addWebhook(id, 'Tied second', 'tied-second');
    // The same created_at, and the later-made one holding the lower id: only the id can tell them apart,
    // and a scan in the order they were written finds the other first.
    const low = `00000000-0000-4000-8000-${run.padEnd(12, '0')}`;
    const high = `ffffffff-ffff-4fff-bfff-${run.padEnd(12, '0')}`;
    await db.query('UPDATE team_destinations SET id = $2 WHERE id = $1', [first.id, high]);
    await db.query(
      'UPDATE team_destinations SET id = $2, created_at = (SELECT created_at FROM team_destinations WHERE id = $3) WHERE id = $1',
      [second, low, high],
    );

    // A change of the lower id's is a change of the integration's settings; of the other's, not.
    await call('PATCH', `/v2/destinations/${low}`, { config: { url: `${HOST}/tied-low` } });
    assert.equal((await settingsOf(id)).webhookUrl, `${HOST}/tied-low`);
    await call('PATCH', `/v2/destinations/${high}`, { config: { url: `${HOST}/tied-high` } });
    assert.equal((await settingsOf(id)).webhookUrl, `${HOST}/tied-low`);
    // An update of the integration starts from, and writes, that same one.
    await call('PATCH', `/v2/integrations/${id}`, { suppressNotifications: true });
    const rows = await db.query(
      `SELECT id, config->>'url' AS url FROM team_destinations WHERE id IN ($1, $2)`,
      [low, high],
    );
    const urls = Object.fromEntries(rows.rows.map((r: { id: string; url: string }) => [r.id, r.url]));
    assert.deepEqual(urls, { [low]: `${HOST}/tied-low`, [high]: `${HOST}/tied-high` });
    assert.equal((await call('GET', `/v2/integrations/${id}`)).data.webhookUrl, `${HOST}/tied-low`);
  });
  it('moved away while the integration is saved, is left to its team: the save makes the integration a new one', async () => {
    const id = await webhookIntegration('Raced', 'raced-first');
    const [own] = await webhooksOf(id);
    assert.ok(own);
    // A move through /v2/destinations holds the destination, uncommitted, as the save comes to write it.
    const other = await otherTransaction(server.databaseUrl);
    try {
      await other.query('UPDATE team_destinations SET team_id = $2, integration_id = NULL WHERE id = $1', [
        own.id,
        team,
      ]);
      const saving = server.call('PATCH', `/v2/integrations/${id}`, { webhookUrl: `${HOST}/raced-second` });
      await whenWaitedFor(other, { never: 'the save never waited for its destination', seconds: 10 });
      await other.query('COMMIT');
      const saved = await saving;
      assert.equal(saved.status, 200, JSON.stringify(saved.body));
    } finally {
      await other.end();
    }
    // The team's webhook still posts where it did; the integration's URL is its new destination's.
    const moved = await db.query(
      `SELECT team_id, integration_id, config->>'url' AS url FROM team_destinations WHERE id = $1`,
      [own.id],
    );
    assert.deepEqual(moved.rows[0], { team_id: team, integration_id: null, url: `${HOST}/raced-first` });
    const [remade, ...more] = await webhooksOf(id);
    assert.ok(remade, 'the save makes the integration a destination');
    assert.deepEqual(more, []);
    assert.equal(remade.url, `${HOST}/raced-second`);
  });

  for (const [how, slug, change] of [
    [
      'moved to a team',
      'moved',
      (own: string) => server.call('PATCH', `/v2/destinations/${own}`, { team: { id: team } }),
    ],
    ['deleted', 'deleted', (own: string) => server.call('DELETE', `/v2/destinations/${own}`)],
  ] as const) {
    it(`${how} while the integration is saved, waits for the save rather than deadlocking with it`, async () => {
      const id = await webhookIntegration(`Locked ${how}`, `locked-${slug}`);
      const [own] = await webhooksOf(id);
      assert.ok(own);
      await addWebhook(id, `Locked next ${how}`, `next-${slug}`);
      // The save locks the integration's row (its update), then writes its own destination.
      const other = await otherTransaction(server.databaseUrl);
      let saveFailed: unknown;
      let answer;
      try {
        await other.query('UPDATE integrations SET name = name WHERE id = $1', [id]);
        const changing = change(own.id);
        await whenWaitedFor(other, {
          then: `UPDATE team_destinations SET config = jsonb_set(config, '{url}', '"${HOST}/saved"')
                 WHERE id = '${own.id}' AND integration_id = '${id}'`,
          never: 'the change never waited for the integration being saved',
          seconds: 10,
        }).catch((error: unknown) => {
          saveFailed = error;
        });
        await other.query(saveFailed ? 'ROLLBACK' : 'COMMIT');
        answer = await changing;
      } finally {
        await other.end();
      }
      assert.equal(saveFailed, undefined, 'the save went through');
      assert.ok(answer.status === 200 || answer.status === 204, JSON.stringify(answer.body));
      // The next webhook is the integration's own, and gave it its settings.
      assert.equal((await settingsOf(id)).webhookUrl, `${HOST}/next-${slug}`);
    });
  }
});
