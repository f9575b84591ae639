import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';

/**
 * Opsgenie's Webhook integration on the real server: the alert activity of the integration's team is
 * POSTed to its URL by the team webhook sender (signed, with the integration's headers, description and
 * details as its flags say), and nothing of other teams' alerts; private URLs are refused as a team
 * webhook's are; a disabled integration sends nothing; deleting it removes its destination.
 */

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: Json;
}

const run = randomUUID().slice(0, 8);
let server: TestServer;
let db: pg.Client;
let receiver: http.Server;
let receiverUrl: string;
const received: Received[] = [];
let teamA: string;
let teamB: string;

const call = (method: string, path: string, body?: unknown): Promise<Json> =>
  server.callOk(method, path, body);

async function createAlert(message: string, teamId: string): Promise<string> {
  const created = await call('POST', '/v2/alerts', { message, responders: [{ type: 'team', id: teamId }] });
  const request = await waitFor('the alert to be made', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${created.requestId}`);
    return status.body.data?.alertId ? status.body.data : undefined;
  });
  await call('POST', `/v2/alerts/${request.alertId}/details`, { details: { region: 'eu-west-1' } });
  return request.alertId as string;
}

const about = (path: string, alertId: string) =>
  received.filter((r) => r.path === path && r.body.data.alert?.id === alertId);

async function destinationOf(integrationId: string): Promise<{ id: string; config: Json; enabled: boolean }> {
  const rows = await db.query('SELECT id, config, enabled FROM team_destinations WHERE integration_id = $1', [
    integrationId,
  ]);
  return rows.rows[0];
}

describe('Webhook integrations', () => {
  before(async () => {
    receiver = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const raw = Buffer.concat(chunks).toString('utf8');
        received.push({ path: req.url ?? '', headers: req.headers, raw, body: JSON.parse(raw) });
        res.statusCode = 204;
        res.end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}`;
    server = await startTestServer({
      engineIntervalMs: 100,
      env: { VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1' },
    });
    db = new pg.Client({ connectionString: server.databaseUrl });
    await db.connect();
    teamA = (await call('POST', '/v2/teams', { name: `Hooks ${run}` })).data.id;
    teamB = (await call('POST', '/v2/teams', { name: `Others ${run}` })).data.id;
  });

  after(async () => {
    await db?.end();
    await server?.stop();
    await new Promise((resolve) => receiver?.close(resolve));
  });

  it("sends its team's alert activity, signed, with its headers, and leaves out what its flags say", async () => {
    const made = await call('POST', '/v2/integrations', {
      type: 'Webhook',
      name: `Outgoing ${run}`,
      ownerTeam: { id: teamA },
      webhookUrl: `${receiverUrl}/hook`,
      addAlertDetails: false,
      headers: { 'X-Receiver-Token': 'opensesame' },
    });
    const integration = made.data;
    assert.equal(integration.type, 'Webhook');
    assert.equal(integration.webhookUrl, `${receiverUrl}/hook`);
    assert.equal(integration.addAlertDescription, true);
    assert.equal(integration.addAlertDetails, false);
    assert.deepEqual(integration.headers, { 'X-Receiver-Token': '****' });
    const destination = await destinationOf(integration.id);
    assert.equal(destination.enabled, true);
    assert.deepEqual(destination.config.headers, { 'X-Receiver-Token': 'opensesame' });

    const ours = await createAlert(`ours ${run}`, teamA);
    const theirs = await createAlert(`theirs ${run}`, teamB);
    const [created] = await waitFor('the created webhook', async () => {
      const got = about('/hook', ours).filter((r) => r.body.type === 'alert.created');
      return got.length > 0 ? got : undefined;
    });
    assert.ok(created);
    assert.equal(created.headers['x-receiver-token'], 'opensesame');
    assert.equal(created.headers['content-type'], 'application/json');
    // Signed as a team webhook is: the receiver can verify with the destination's secret.
    new Webhook(destination.config.secret as string).verify(created.raw, {
      'webhook-id': String(created.headers['webhook-id']),
      'webhook-timestamp': String(created.headers['webhook-timestamp']),
      'webhook-signature': String(created.headers['webhook-signature']),
    });
    assert.equal(created.body.data.alert.message, `ours ${run}`);
    assert.ok('description' in created.body.data.alert, 'the description is sent');
    assert.ok(!('details' in created.body.data.alert), 'the details are not');
    await waitFor('the details webhook', async () =>
      about('/hook', ours).some((r) => r.body.type === 'alert.details_added'),
    );
    await server.idle();
    assert.equal(about('/hook', theirs).length, 0, "another team's alert is not sent");

    // A masked header sent back keeps its value; turning details on shows them.
    await call('PUT', `/v2/integrations/${integration.id}`, {
      type: 'Webhook',
      name: `Outgoing ${run}`,
      headers: { 'X-Receiver-Token': '****', 'X-Other': 'b' },
      addAlertDetails: true,
    });
    assert.deepEqual((await destinationOf(integration.id)).config.headers, {
      'X-Receiver-Token': 'opensesame',
      'X-Other': 'b',
    });
    const second = await createAlert(`second ${run}`, teamA);
    const [withDetails] = await waitFor('the webhook with details', async () => {
      const got = about('/hook', second).filter((r) => r.body.type === 'alert.details_added');
      return got.length > 0 ? got : undefined;
    });
    assert.deepEqual(withDetails?.body.data.alert.details, { region: 'eu-west-1' });
    assert.equal(withDetails?.headers['x-other'], 'b');

    // Disabled, it sends nothing; deleted, its destination goes with it.
    await call('POST', `/v2/integrations/${integration.id}/disable`);
    assert.equal((await destinationOf(integration.id)).enabled, false);
    const quiet = await createAlert(`quiet ${run}`, teamA);
    await server.idle();
    assert.equal(about('/hook', quiet).length, 0);
    await call('DELETE', `/v2/integrations/${integration.id}`);
    assert.equal(await destinationOf(integration.id), undefined);
  });

  it('refuses private addresses, plain http, reserved headers and a missing URL, and makes nothing', async () => {
    const cases: [Json, string][] = [
      [{ webhookUrl: 'https://10.1.2.3/hook' }, 'webhookUrl'],
      [{ webhookUrl: 'https://169.254.169.254/latest/meta-data' }, 'webhookUrl'],
      [{ webhookUrl: 'http://hooks.example.com/x' }, 'webhookUrl'],
      [{ webhookUrl: 'https://hooks.example.com/x', headers: { 'Content-Type': 'text/plain' } }, 'headers'],
      [{ webhookUrl: 'https://hooks.example.com/x', headers: { 'X-Bad': 'line\r\nbreak' } }, 'headers'],
      [{}, 'webhookUrl'],
      [{ webhookUrl: 'https://hooks.example.com/x', emailUsername: 'nope' }, 'emailUsername'],
    ];
    for (const [settings, field] of cases) {
      const answer = await server.call('POST', '/v2/integrations', {
        type: 'Webhook',
        name: `refused ${randomUUID()}`,
        ownerTeam: { id: teamA },
        ...settings,
      });
      assert.equal(answer.status, 422, `${JSON.stringify(settings)}: ${JSON.stringify(answer.body)}`);
      assert.ok(JSON.stringify(answer.body).includes(field), JSON.stringify(answer.body));
    }
    const onApi = await server.call('POST', '/v2/integrations', {
      type: 'API',
      name: `api ${run}`,
      ownerTeam: { id: teamA },
      webhookUrl: 'https://hooks.example.com/x',
    });
    assert.equal(onApi.status, 422, JSON.stringify(onApi.body));
    const rows = await db.query("SELECT count(*)::int AS n FROM integrations WHERE type = 'Webhook'");
    assert.equal(rows.rows[0].n, 0);
    const destinations = await db.query('SELECT count(*)::int AS n FROM team_destinations');
    assert.equal(destinations.rows[0].n, 0);
  });
});
