import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { Webhook } from 'standardwebhooks';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../testing/webhook-receiver.js';
import { ShiftedClock } from '../../work/clock.js';

/**
 * Opsgenie's Webhook integration on the real server: the alert activity of the integration's team is
 * POSTed to its URL by the team webhook sender as Opsgenie's Webhook integration JSON (signed, with the
 * integration's headers, description and details as its flags say), and nothing of other teams' alerts;
 * while a maintenance disables it nothing is sent (its delivery log says why), and after, again; private URLs are refused as a team
 * webhook's are; a disabled integration sends nothing; deleting it removes its destination. Its header
 * values are shown masked (but to an org admin's API key reading it, as Terraform does): a masked value keeps
 * the stored one only while the URL stays as it is, through /v2/integrations and /v2/destinations alike;
 * a header stored before its name was refused is not shown, and sent back it is dropped, not refused. A
 * change of its destination through /v2/destinations is a change of the integration's settings, and so is
 * one made for it, or the next it owns, once its own is deleted; an update starts from its destination's URL.
 */

interface Received {
  path: string;
  headers: http.IncomingHttpHeaders;
  raw: string;
  body: Json;
}

const run = randomUUID().slice(0, 8);
const OWNER = 'owner@example.com';
const OWNER_PASSWORD = 'correct horse battery staple';
const clock = new ShiftedClock();
let server: TestServer;
let db: pg.Client;
let receiver: http.Server;
let receiverUrl: string;
const received: Received[] = [];
/** Another origin (another port): where someone who may edit the integration would point it. */
let elsewhere: http.Server;
let elsewhereUrl: string;
const receivedElsewhere: Received[] = [];
let teamA: string;
let teamB: string;
/** A Standard Webhooks receiver that verifies each request with the destination's secret. */
let hooks: WebhookReceiver;

const call = (method: string, path: string, body?: unknown): Promise<Json> =>
  server.callOk(method, path, body);

async function createAlert(message: string, teamId: string, fields: Json = {}): Promise<string> {
  const created = await call('POST', '/v2/alerts', {
    message,
    responders: [{ type: 'team', id: teamId }],
    description: `about ${message}`,
    details: { region: 'eu-west-1' },
    ...fields,
  });
  const request = await waitFor('the alert to be made', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${created.requestId}`);
    return status.body.data?.alertId ? status.body.data : undefined;
  });
  return request.alertId as string;
}

const about = (path: string, alertId: string) =>
  received.filter((r) => r.path === path && r.body.alert?.alertId === alertId);

async function destinationOf(integrationId: string): Promise<{ id: string; config: Json; enabled: boolean }> {
  const rows = await db.query('SELECT id, config, enabled FROM team_destinations WHERE integration_id = $1', [
    integrationId,
  ]);
  return rows.rows[0];
}

function recordingServer(into: Received[]): http.Server {
  return http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const raw = Buffer.concat(chunks).toString('utf8');
      into.push({ path: req.url ?? '', headers: req.headers, raw, body: JSON.parse(raw) });
      res.statusCode = 204;
      res.end();
    });
  });
}

async function listen(server: http.Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function integrationSettings(integrationId: string): Promise<Json> {
  const rows = await db.query('SELECT settings FROM integrations WHERE id = $1', [integrationId]);
  return rows.rows[0].settings;
}

describe('Webhook integrations', () => {
  before(async () => {
    receiver = recordingServer(received);
    receiverUrl = await listen(receiver);
    elsewhere = recordingServer(receivedElsewhere);
    elsewhereUrl = await listen(elsewhere);
    hooks = await startWebhookReceiver();
    server = await startTestServer({
      clock,
      engineIntervalMs: 100,
      env: {
        VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1',
        VIGIL_BOOTSTRAP_ADMIN_EMAIL: OWNER,
        VIGIL_BOOTSTRAP_ADMIN_PASSWORD: OWNER_PASSWORD,
      },
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
    await new Promise((resolve) => elsewhere?.close(resolve));
    await hooks?.close();
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
      const got = about('/hook', ours).filter((r) => r.body.action === 'Create');
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
    assert.equal(created.body.alert.message, `ours ${run}`);
    assert.equal(created.body.alert.description, `about ours ${run}`, 'the description is sent');
    assert.ok(!('details' in created.body.alert), 'the details are not');
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
      const got = about('/hook', second).filter((r) => r.body.action === 'Create');
      return got.length > 0 ? got : undefined;
    });
    assert.deepEqual(withDetails?.body.alert.details, { region: 'eu-west-1' });
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
  it('keeps masked header values only while the URL stays as it is', async () => {
    const secrets = { Authorization: 'Bearer s3cret', 'X-Receiver-Token': 'opensesame' };
    const made = await call('POST', '/v2/integrations', {
      type: 'Webhook',
      name: `Guarded ${run}`,
      ownerTeam: { id: teamA },
      webhookUrl: `${receiverUrl}/guarded`,
      headers: secrets,
    });
    const id = made.data.id as string;
    const masked = { Authorization: '****', 'X-Receiver-Token': '****' };
    assert.deepEqual(made.data.headers, masked);
    const unchanged = async () => {
      const destination = await destinationOf(id);
      assert.equal(destination.config.url, `${receiverUrl}/guarded`);
      assert.deepEqual(destination.config.headers, secrets);
      const settings = await integrationSettings(id);
      assert.equal(settings.webhookUrl, `${receiverUrl}/guarded`);
      assert.deepEqual(settings.headers, secrets);
    };

    // Another URL (here another port) with the values left out, sent back masked, or some of each:
    // refused, naming the headers whose values must come again, and nothing changes.
    const refusals: [string, Json, string[]][] = [
      ['PATCH', { webhookUrl: `${elsewhereUrl}/steal` }, ['Authorization', 'X-Receiver-Token']],
      [
        'PATCH',
        { webhookUrl: `${elsewhereUrl}/steal`, headers: masked },
        ['Authorization', 'X-Receiver-Token'],
      ],
      [
        'PATCH',
        {
          webhookUrl: `${elsewhereUrl}/steal`,
          headers: { Authorization: 'Bearer mine', 'X-Receiver-Token': '****' },
        },
        ['X-Receiver-Token'],
      ],
      [
        'PUT',
        { type: 'Webhook', name: `Guarded ${run}`, webhookUrl: `${elsewhereUrl}/steal`, headers: masked },
        ['Authorization', 'X-Receiver-Token'],
      ],
      // https on the same host is another URL too.
      ['PATCH', { webhookUrl: receiverUrl.replace('http:', 'https:') + '/guarded' }, ['Authorization']],
      // And so is another path on the same origin: a hook host serves many customers.
      [
        'PATCH',
        { webhookUrl: `${receiverUrl}/moved`, headers: masked },
        ['Authorization', 'X-Receiver-Token'],
      ],
    ];
    for (const [method, body, names] of refusals) {
      const answer = await server.call(method, `/v2/integrations/${id}`, body);
      assert.equal(answer.status, 422, `${JSON.stringify(body)}: ${JSON.stringify(answer.body)}`);
      const why = String(answer.body.errors?.headers ?? '');
      for (const name of names) assert.ok(why.includes(name), `${name} is named: ${why}`);
      if (names.length === 1 && method === 'PATCH' && body.headers)
        assert.ok(!why.includes('Authorization'), `a header given again is not named: ${why}`);
      assert.match(why, /URL changes/);
      assert.match(why, /given again/);
      await unchanged();
    }

    // A masked value for a header that has none stored is refused, on an update and on a create.
    const noValue = await server.call('PATCH', `/v2/integrations/${id}`, {
      headers: { ...masked, 'X-New': '****' },
    });
    assert.equal(noValue.status, 422, JSON.stringify(noValue.body));
    assert.match(String(noValue.body.errors?.headers), /X-New/);
    assert.ok(!String(noValue.body.errors?.headers).includes('Authorization'));
    await unchanged();
    const createdMasked = await server.call('POST', '/v2/integrations', {
      type: 'Webhook',
      name: `masked on create ${run}`,
      ownerTeam: { id: teamA },
      webhookUrl: `${receiverUrl}/x`,
      headers: { 'X-Token': '****' },
    });
    assert.equal(createdMasked.status, 422, JSON.stringify(createdMasked.body));
    assert.match(String(createdMasked.body.errors?.headers), /X-Token/);
    const rows = await db.query('SELECT count(*)::int AS n FROM integrations WHERE name = $1', [
      `masked on create ${run}`,
    ]);
    assert.equal(rows.rows[0].n, 0);

    // The same URL: masked values (and values left out) are kept.
    await call('PATCH', `/v2/integrations/${id}`, { webhookUrl: `${receiverUrl}/guarded`, headers: masked });
    await unchanged();
    await call('PATCH', `/v2/integrations/${id}`, { webhookUrl: `${receiverUrl}/guarded` });
    await unchanged();

    // Another URL with every value given again is taken; the new receiver gets the new values.
    const given = { Authorization: 'Bearer fresh', 'X-Receiver-Token': 'fresh-token' };
    const moved = await call('PATCH', `/v2/integrations/${id}`, {
      webhookUrl: `${elsewhereUrl}/new-home`,
      headers: given,
    });
    assert.deepEqual(moved.data.headers, masked);
    assert.deepEqual((await destinationOf(id)).config.headers, given);
    const alertId = await createAlert(`moved ${run}`, teamA);
    const [sent] = await waitFor('the webhook at the new origin', async () => {
      const got = receivedElsewhere.filter(
        (r) => r.path === '/new-home' && r.body.alert?.alertId === alertId && r.body.action === 'Create',
      );
      return got.length > 0 ? got : undefined;
    });
    assert.equal(sent?.headers.authorization, 'Bearer fresh');
    assert.equal(sent?.headers['x-receiver-token'], 'fresh-token');
    // Never did the old values reach the other origin.
    assert.ok(
      !receivedElsewhere.some((r) => r.headers.authorization === 'Bearer s3cret'),
      'the stored secret never left for the other origin',
    );
    // Moving again while dropping every header (an empty headers) needs no value.
    await call('PATCH', `/v2/integrations/${id}`, { webhookUrl: `${receiverUrl}/guarded`, headers: {} });
    assert.equal((await destinationOf(id)).config.headers, undefined);
    assert.deepEqual((await integrationSettings(id)).headers, {});
    await call('DELETE', `/v2/integrations/${id}`);
  });

  it("shows header values only to an org admin's API key reading the integration, as Terraform reads them", async () => {
    const secrets = { Authorization: 'Bearer s3cret' };
    const masked = { Authorization: '****' };
    const made = await call('POST', '/v2/integrations', {
      type: 'Webhook',
      name: `Read back ${run}`,
      ownerTeam: { id: teamA },
      webhookUrl: `${receiverUrl}/read-back`,
      headers: secrets,
    });
    const id = made.data.id as string;
    assert.deepEqual(made.data.headers, masked, 'the create answer shows them masked');
    const headersSeenBy = async (key?: string, cookie?: string) => {
      const answer = cookie
        ? await fetch(`${server.url}/v2/integrations/${id}`, { headers: { cookie } }).then(async (r) => ({
            status: r.status,
            body: (await r.json()) as Json,
          }))
        : await server.call('GET', `/v2/integrations/${id}`, undefined, key);
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return answer.body.data.headers;
    };
    // The org owner's key (the bootstrap key) and another org admin's key: the stored values.
    assert.deepEqual(await headersSeenBy(), secrets);
    const keyOf = async (username: string, role: string) => {
      const user = await call('POST', '/v2/users', { username, fullName: username, role: { name: role } });
      const key = (await call('POST', '/v2/api-keys', { name: username, user: { id: user.data.id } })).data;
      return { userId: user.data.id as string, key: key.key as string };
    };
    const admin = await keyOf(`admin-${run}@example.com`, 'Admin');
    assert.deepEqual(await headersSeenBy(admin.key), secrets);
    // Masked for everyone else who may read it, even those who may change it.
    const teamAdmin = await keyOf(`team-admin-${run}@example.com`, 'User');
    await call('POST', `/v2/teams/${teamA}/members`, { user: { id: teamAdmin.userId }, role: 'admin' });
    assert.deepEqual(await headersSeenBy(teamAdmin.key), masked, "a team admin's key");
    const configuring = await call('POST', '/v2/integrations', {
      type: 'API',
      name: `Configures ${run}`,
      ownerTeam: { id: teamA },
      allowConfigurationAccess: true,
    });
    assert.deepEqual(await headersSeenBy(configuring.data.apiKey), masked, "an integration's key");
    const signIn = await fetch(`${server.url}/api/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: OWNER, password: OWNER_PASSWORD }),
    });
    assert.equal(signIn.status, 200);
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    assert.match(cookie, /^vigil_session=./);
    assert.deepEqual(await headersSeenBy(undefined, cookie), masked, "the owner's console session");
    // The list stays masked, even for an org admin's key.
    const listed = await call('GET', '/v2/integrations');
    const inList = (listed.data as Json[]).find((i) => i.id === id);
    assert.deepEqual(inList.headers, masked);

    // Terraform's update sends what it read back with the values of its configuration: nothing changes.
    const read = (await call('GET', `/v2/integrations/${id}`)).data;
    await call('PUT', `/v2/integrations/${id}`, {
      type: 'Webhook',
      name: read.name,
      webhookUrl: read.webhookUrl,
      headers: read.headers,
    });
    assert.deepEqual((await integrationSettings(id)).headers, secrets);
    assert.deepEqual((await destinationOf(id)).config.headers, secrets);
  });

  it('applies the same rule to its destination through /v2/destinations, and to a team webhook', async () => {
    const secrets = { Authorization: 'Bearer door2' };
    const made = await call('POST', '/v2/integrations', {
      type: 'Webhook',
      name: `Second door ${run}`,
      ownerTeam: { id: teamA },
      webhookUrl: `${receiverUrl}/door`,
      headers: secrets,
    });
    const id = made.data.id as string;
    const { id: destinationId } = await destinationOf(id);
    // The destination is readable there, its header values masked.
    const shown = (await call('GET', `/v2/destinations/${destinationId}`)).data;
    assert.deepEqual(shown.integration, { id, name: `Second door ${run}` });
    assert.deepEqual(shown.config.headers, { Authorization: '****' });

    for (const config of [
      { url: `${elsewhereUrl}/steal` },
      { url: `${elsewhereUrl}/steal`, headers: { Authorization: '****' } },
      { headers: { Authorization: '****', 'X-New': '****' } },
    ]) {
      const answer = await server.call('PATCH', `/v2/destinations/${destinationId}`, { config });
      assert.equal(answer.status, 422, `${JSON.stringify(config)}: ${JSON.stringify(answer.body)}`);
      assert.match(String(answer.body.errors?.config), config.url ? /Authorization/ : /X-New/);
      const stored = await destinationOf(id);
      assert.equal(stored.config.url, `${receiverUrl}/door`);
      assert.deepEqual(stored.config.headers, secrets);
    }
    // The same URL keeps the masked value there too.
    await call('PATCH', `/v2/destinations/${destinationId}`, {
      config: { url: `${receiverUrl}/door`, headers: { Authorization: '****' } },
    });
    assert.deepEqual((await destinationOf(id)).config.headers, secrets);
    await call('DELETE', `/v2/integrations/${id}`);

    // A team's own webhook has write-only headers too, so the same rule.
    const team = await call('POST', '/v2/destinations', {
      name: `Team hook ${run}`,
      type: 'webhook',
      team: { id: teamB },
      config: { url: `${receiverUrl}/team`, headers: { 'X-Team-Key': 'k' } },
    });
    const moved = await server.call('PATCH', `/v2/destinations/${team.data.id}`, {
      config: { url: `${elsewhereUrl}/team` },
    });
    assert.equal(moved.status, 422, JSON.stringify(moved.body));
    assert.match(String(moved.body.errors?.config), /X-Team-Key/);
    const row = await db.query('SELECT config FROM team_destinations WHERE id = $1', [team.data.id]);
    assert.equal(row.rows[0].config.url, `${receiverUrl}/team`);
    await call('DELETE', `/v2/destinations/${team.data.id}`);
    assert.equal(receivedElsewhere.filter((r) => r.path === '/steal').length, 0);
  });
  it('drops a header stored before its name was refused: not shown, and a save that sends it back is taken', async () => {
    const secrets = { Authorization: 'Bearer s3cret' };
    const made = await call('POST', '/v2/integrations', {
      type: 'Webhook',
      name: `Retired header ${run}`,
      ownerTeam: { id: teamA },
      webhookUrl: `${receiverUrl}/retired`,
      headers: secrets,
    });
    const id = made.data.id as string;
    // As a Content-Encoding saved before it was refused: in the integration's settings and its destination's config.
    const storeRetired = async () => {
      await db.query(
        `UPDATE integrations SET settings = jsonb_set(settings, '{headers,Content-Encoding}', '"gzip"') WHERE id = $1`,
        [id],
      );
      await db.query(
        `UPDATE team_destinations SET config = jsonb_set(config, '{headers,Content-Encoding}', '"gzip"') WHERE integration_id = $1`,
        [id],
      );
    };
    const dropped = async () => {
      assert.deepEqual((await destinationOf(id)).config.headers, secrets);
      assert.deepEqual((await integrationSettings(id)).headers, secrets);
    };
    await storeRetired();

    // Not listed: not to an org admin's key (as Terraform reads it), nor masked in the list.
    assert.deepEqual((await call('GET', `/v2/integrations/${id}`)).data.headers, secrets);
    const listed = (await call('GET', '/v2/integrations')).data as Json[];
    assert.deepEqual(listed.find((i) => i.id === id)?.headers, { Authorization: '****' });

    // The console sends back every header it was shown, masked: taken, and the retired one dropped.
    const consoleSave = await server.call('PATCH', `/v2/integrations/${id}`, {
      webhookUrl: `${receiverUrl}/retired`,
      addAlertDescription: true,
      addAlertDetails: false,
      headers: { Authorization: '****', 'Content-Encoding': '****' },
    });
    assert.equal(consoleSave.status, 200, JSON.stringify(consoleSave.body));
    await dropped();

    // Terraform (and any client that kept its values) sends the stored value: taken, and dropped too.
    const withValue = { ...secrets, 'Content-Encoding': 'gzip' };
    for (const [method, body] of [
      [
        'PUT',
        {
          type: 'Webhook',
          name: `Retired header ${run}`,
          webhookUrl: `${receiverUrl}/retired`,
          headers: withValue,
        },
      ],
      ['PATCH', { headers: withValue }],
    ] as const) {
      await storeRetired();
      const apply = await server.call(method, `/v2/integrations/${id}`, body);
      assert.equal(apply.status, 200, `${method}: ${JSON.stringify(apply.body)}`);
      await dropped();
    }

    // Another value is a header set anew, and refused as any.
    await storeRetired();
    const another = await server.call('PATCH', `/v2/integrations/${id}`, {
      headers: { ...secrets, 'Content-Encoding': 'br' },
    });
    assert.equal(another.status, 422, JSON.stringify(another.body));
    assert.match(String(another.body.errors?.headers), /Content-Encoding is set by Vigil itself/);
    await call('DELETE', `/v2/integrations/${id}`);
  });

  it('takes a change of its destination made through /v2/destinations as a change of its settings', async () => {
    const made = await call('POST', '/v2/integrations', {
      type: 'Webhook',
      name: `Changed there ${run}`,
      ownerTeam: { id: teamA },
      webhookUrl: `${receiverUrl}/before`,
      headers: { Authorization: 'Bearer before' },
    });
    const id = made.data.id as string;
    const { id: destinationId } = await destinationOf(id);
    await call('PATCH', `/v2/destinations/${destinationId}`, {
      config: {
        url: `${receiverUrl}/after`,
        headers: { Authorization: 'Bearer after' },
        addAlertDescription: false,
      },
    });
    // The console's switch sends only suppressNotifications: the URL is the one the destination has, so
    // no header value is asked for.
    const suppressed = await server.call('PATCH', `/v2/integrations/${id}`, { suppressNotifications: true });
    assert.equal(suppressed.status, 200, JSON.stringify(suppressed.body));
    assert.equal(suppressed.body.data.suppressNotifications, true);
    const shown = (await call('GET', `/v2/integrations/${id}`)).data;
    assert.equal(shown.webhookUrl, `${receiverUrl}/after`);
    assert.deepEqual(shown.headers, { Authorization: 'Bearer after' });
    assert.equal(shown.addAlertDescription, false);
    const destination = await destinationOf(id);
    assert.equal(destination.config.url, `${receiverUrl}/after`);
    assert.deepEqual(destination.config.headers, { Authorization: 'Bearer after' });
    assert.equal(destination.config.addAlertDescription, false);

    // Another webhook the integration owns is not its own destination: its settings stay.
    const other = await call('POST', '/v2/destinations', {
      name: `Besides ${run}`,
      type: 'webhook',
      integration: { id },
      config: { url: `${receiverUrl}/besides` },
    });
    await call('PATCH', `/v2/destinations/${other.data.id}`, { config: { url: `${receiverUrl}/besides-2` } });
    assert.equal((await integrationSettings(id)).webhookUrl, `${receiverUrl}/after`);
    await call('DELETE', `/v2/destinations/${other.data.id}`);
    await call('DELETE', `/v2/integrations/${id}`);
  });

  /** A Webhook integration of team A sending to `path` of the verifying receiver. */
  async function webhookIntegration(path: string, flags: Json = {}): Promise<Json> {
    const made = await call('POST', '/v2/integrations', {
      type: 'Webhook',
      name: `Opsgenie shape ${path} ${run}`,
      ownerTeam: { id: teamA },
      webhookUrl: `${hooks.url}${path}`,
      ...flags,
    });
    hooks.endpoint(path, (await destinationOf(made.data.id)).config.secret as string);
    return made.data;
  }

  const hooksAbout = (path: string, alertId: string) =>
    hooks.received(path).filter((r) => r.body.alert?.alertId === alertId);

  it("sends Opsgenie's Webhook integration JSON through an alert's life: Create, Acknowledge, AddNote, Close", async () => {
    const integration = await webhookIntegration('/life', { addAlertDetails: false });
    const alertId = await createAlert(`life ${run}`, teamA, {
      alias: `life-${run}`,
      entity: 'db-1',
      tags: ['db'],
      source: 'prometheus',
      priority: 'P2',
      user: 'pat@example.com',
    });
    await waitFor('the Create', async () => hooksAbout('/life', alertId).length === 1);
    await call('POST', `/v2/alerts/${alertId}/acknowledge`, { user: 'sam@example.com' });
    await waitFor('the Acknowledge', async () => hooksAbout('/life', alertId).length === 2);
    await call('POST', `/v2/alerts/${alertId}/notes`, { user: 'sam@example.com', note: 'disk cleaned' });
    await waitFor('the AddNote', async () => hooksAbout('/life', alertId).length === 3);
    await call('POST', `/v2/alerts/${alertId}/close`, { user: 'sam@example.com' });
    const got = await waitFor('the Close', async () => {
      const all = hooksAbout('/life', alertId);
      return all.length === 4 ? all : undefined;
    });
    assert.deepEqual(
      got.map((r) => r.body.action),
      ['Create', 'Acknowledge', 'AddNote', 'Close'],
    );
    assert.equal(hooks.refused('/life').length, 0, 'every request verified with the secret');

    const shown = (await call('GET', `/v2/alerts/${alertId}`)).data;
    const [create, ack, note, close] = got.map((r) => r.body);
    for (const body of [create, ack, note, close]) {
      assert.equal(body.integrationId, integration.id);
      assert.equal(body.integrationName, integration.name);
      assert.equal(body.integrationType, 'Webhook');
      assert.equal(body.alert.alertId, alertId);
      assert.equal(body.alert.tinyId, shown.tinyId);
      assert.equal(body.alert.message, `life ${run}`);
      assert.equal(body.alert.alias, `life-${run}`);
      assert.equal(body.alert.entity, 'db-1');
      assert.deepEqual(body.alert.tags, ['db']);
      assert.equal(body.alert.createdAt, Date.parse(shown.createdAt));
      assert.equal(typeof body.alert.updatedAt, 'number');
      assert.ok(!('details' in body.alert), 'addAlertDetails is off');
      assert.equal(typeof body.source, 'object');
    }
    assert.equal(create.alert.username, 'pat@example.com');
    assert.equal(create.alert.description, `about life ${run}`);
    assert.deepEqual(create.alert.teams, [teamA]);
    assert.equal(create.alert.priority, 'P2');
    assert.equal(create.alert.source, 'prometheus');
    // Opsgenie sends the description with Create (and custom actions) only.
    for (const body of [ack, note, close]) assert.ok(!('description' in body.alert));
    assert.equal(ack.alert.username, 'sam@example.com');
    assert.equal(note.alert.note, 'disk cleaned');
    assert.ok(!('note' in ack.alert) && !('note' in close.alert));

    // With addAlertDescription off as well, Create carries neither.
    await call('PATCH', `/v2/integrations/${integration.id}`, { addAlertDescription: false });
    const bare = await createAlert(`bare ${run}`, teamA);
    const [bareCreate] = await waitFor('the bare Create', async () => {
      const all = hooksAbout('/life', bare);
      return all.length > 0 ? all : undefined;
    });
    assert.equal(bareCreate?.body.action, 'Create');
    assert.ok(!('description' in bareCreate.body.alert) && !('details' in bareCreate.body.alert));
    await call('DELETE', `/v2/integrations/${integration.id}`);
  });

  it('sends nothing while a maintenance disables it, says why in its delivery log, and sends again after', async () => {
    const integration = await webhookIntegration('/paused');
    const { id: destinationId } = await destinationOf(integration.id);
    const maintenance = await server.call('POST', '/v1/maintenance', {
      description: `deploy ${run}`,
      time: { type: 'for-30-minutes' },
      rules: [{ state: 'disabled', entity: { id: integration.id, type: 'integration' } }],
    });
    assert.equal(maintenance.status, 201, JSON.stringify(maintenance.body));

    const during = await createAlert(`during ${run}`, teamA);
    await call('POST', `/v2/alerts/${during}/acknowledge`, { user: 'sam@example.com' });
    await server.idle();
    assert.equal(hooks.received('/paused').length, 0, 'no request reached the receiver');
    const log = (await call('GET', `/v2/destinations/${destinationId}/deliveries`)).data as Json[];
    const ofDuring = log.filter((d) => d.alertId === during);
    assert.deepEqual(ofDuring.map((d) => d.eventType).sort(), ['acknowledged', 'created']);
    for (const d of ofDuring) {
      assert.equal(d.state, 'failed');
      assert.equal(d.attempts, 0, 'never tried');
      assert.match(String(d.lastError), /^not sent: the integration is disabled by maintenance/);
      assert.ok(String(d.lastError).includes(maintenance.body.data.id), d.lastError);
    }
    // The destination itself stays enabled: the maintenance ends on its own.
    assert.equal((await destinationOf(integration.id)).enabled, true);

    clock.advance(31 * 60_000);
    const after = await createAlert(`after ${run}`, teamA);
    await call('POST', `/v2/alerts/${during}/close`, { user: 'sam@example.com' });
    await waitFor(
      'the sends after the maintenance',
      async () =>
        hooksAbout('/paused', after).some((r) => r.body.action === 'Create') &&
        hooksAbout('/paused', during).some((r) => r.body.action === 'Close'),
    );
    await server.idle();
    // What happened during the window stays unsent.
    assert.deepEqual(
      hooksAbout('/paused', during).map((r) => r.body.action),
      ['Close'],
    );
    await call('DELETE', `/v2/integrations/${integration.id}`);
  });

  describe('its settings and its own destination, kept in step', () => {
    /** The console's switch: a PATCH of suppressNotifications alone, answered 200. */
    async function suppress(id: string): Promise<Json> {
      const suppressed = await server.call('PATCH', `/v2/integrations/${id}`, {
        suppressNotifications: true,
      });
      assert.equal(suppressed.status, 200, JSON.stringify(suppressed.body));
      return suppressed.body.data;
    }

    it('takes a webhook made for it after its own was deleted as its own, settings and all', async () => {
      const made = await call('POST', '/v2/integrations', {
        type: 'Webhook',
        name: `Made again ${run}`,
        ownerTeam: { id: teamA },
        webhookUrl: `${receiverUrl}/first`,
        headers: { Authorization: 'Bearer first' },
      });
      const id = made.data.id as string;
      await call('DELETE', `/v2/destinations/${(await destinationOf(id)).id}`);
      await call('POST', '/v2/destinations', {
        name: `Made again ${run}`,
        type: 'webhook',
        integration: { id },
        config: {
          url: `${receiverUrl}/second`,
          headers: { Authorization: 'Bearer second' },
          addAlertDetails: false,
        },
      });
      const shown = (await call('GET', `/v2/integrations/${id}`)).data;
      assert.equal(shown.webhookUrl, `${receiverUrl}/second`);
      assert.deepEqual(shown.headers, { Authorization: 'Bearer second' });
      assert.equal(shown.addAlertDetails, false);

      // The stored header value is the second URL's: no move, so nothing is asked for.
      assert.equal((await suppress(id)).webhookUrl, `${receiverUrl}/second`);
      assert.equal((await call('GET', `/v2/integrations/${id}`)).data.webhookUrl, `${receiverUrl}/second`);
      const destination = await destinationOf(id);
      assert.equal(destination.config.url, `${receiverUrl}/second`);
      assert.deepEqual(destination.config.headers, { Authorization: 'Bearer second' });
      await call('DELETE', `/v2/integrations/${id}`);
    });

    it('takes the webhook it owns besides as its own when its own is deleted', async () => {
      const made = await call('POST', '/v2/integrations', {
        type: 'Webhook',
        name: `Next in line ${run}`,
        ownerTeam: { id: teamA },
        webhookUrl: `${receiverUrl}/own`,
      });
      const id = made.data.id as string;
      const { id: ownId } = await destinationOf(id);
      await call('POST', '/v2/destinations', {
        name: `Next in line ${run}`,
        type: 'webhook',
        integration: { id },
        config: { url: `${receiverUrl}/besides`, addAlertDescription: false },
      });
      // Not its own while the first is there.
      assert.equal((await integrationSettings(id)).webhookUrl, `${receiverUrl}/own`);
      await call('DELETE', `/v2/destinations/${ownId}`);
      const settings = await integrationSettings(id);
      assert.equal(settings.webhookUrl, `${receiverUrl}/besides`);
      assert.equal(settings.addAlertDescription, false);
      await call('DELETE', `/v2/integrations/${id}`);
    });

    it("starts an update from its destination's URL where its settings kept an older one", async () => {
      for (const headers of [{ Authorization: 'Bearer kept' }, undefined]) {
        const made = await call('POST', '/v2/integrations', {
          type: 'Webhook',
          name: `Out of step ${headers ? 'with' : 'without'} headers ${run}`,
          ownerTeam: { id: teamA },
          webhookUrl: `${receiverUrl}/old`,
          ...(headers ? { headers } : {}),
        });
        const id = made.data.id as string;
        // As a change through /v2/destinations left it before it was written back.
        await db.query(
          `UPDATE team_destinations SET config = jsonb_set(config, '{url}', $2) WHERE integration_id = $1`,
          [id, JSON.stringify(`${receiverUrl}/new`)],
        );
        const label = headers ? 'with headers' : 'without';
        assert.equal((await suppress(id)).webhookUrl, `${receiverUrl}/new`, label);
        const destination = await destinationOf(id);
        assert.equal(destination.config.url, `${receiverUrl}/new`, label);
        assert.deepEqual(destination.config.headers, headers, label);
        assert.equal(
          (await call('GET', `/v2/integrations/${id}`)).data.webhookUrl,
          `${receiverUrl}/new`,
          label,
        );
        await call('DELETE', `/v2/integrations/${id}`);
      }
    });
  });
});
