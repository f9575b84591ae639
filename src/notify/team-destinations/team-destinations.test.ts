import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { AlertEvent } from '../../alerts/events.js';
import { createLogger } from '../../logger.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import {
  startWebhookReceiver,
  type ReceivedWebhook,
  type WebhookReceiver,
} from '../../testing/webhook-receiver.js';
import { ShiftedClock } from '../../work/clock.js';
import { teamDestinationsConsumer } from './deliveries.js';

/**
 * Team destinations end to end, with a signed-webhook receiver that verifies every request with the
 * standardwebhooks library: a team's destination made through the API gets its alerts' events, in order,
 * retried on failure (the test moves the server's clock), disabled on 410 or after a day of failures;
 * the test endpoint, the delivery log, and the idempotency of an event handed out again.
 */

const clock = new ShiftedClock();
let server: TestServer;
let receiver: WebhookReceiver;
let db: pg.Client;
const run = randomUUID().slice(0, 8);
const team = `Hooks ${run}`;
const otherTeam = `Elsewhere ${run}`;

async function call(method: string, path: string, body?: unknown, key?: string): Promise<Json> {
  return server.callOk(method, path, body, key);
}

/** A webhook destination for `teamName` at the receiver's `path`, its secret handed to the receiver. */
async function webhook(name: string, path: string, teamName = team): Promise<{ id: string; secret: string }> {
  receiver.endpoint(path);
  const created = await server.call('POST', '/v2/destinations', {
    name,
    type: 'webhook',
    team: { name: teamName },
    config: { url: receiver.url + path },
  });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const secret = created.body.data.config.secret as string;
  receiver.setSecret(path, secret);
  return { id: created.body.data.id as string, secret };
}

async function createAlert(message: string, teamName = team): Promise<string> {
  const created = await call('POST', '/v2/alerts', {
    message,
    priority: 'P2',
    source: 'prometheus',
    responders: [{ type: 'team', name: teamName }],
  });
  const request = await waitFor('the alert to be made', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${created.requestId}`);
    return status.body.data?.alertId ? status.body.data : undefined;
  });
  return request.alertId as string;
}

function about(path: string, alertId: string): ReceivedWebhook[] {
  return receiver
    .received(path)
    .filter((r) => r.body.data.alert?.id === alertId || r.body.data.event.alertId === alertId);
}

async function receivedAbout(path: string, alertId: string, count: number): Promise<ReceivedWebhook[]> {
  return waitFor(`${count} webhooks about ${alertId} at ${path}`, async () => {
    const got = about(path, alertId);
    return got.length >= count ? got : undefined;
  });
}

async function deliveries(destinationId: string): Promise<Json[]> {
  return (await call('GET', `/v2/destinations/${destinationId}/deliveries?limit=100`)).data as Json[];
}

async function deliveryCount(destinationId: string): Promise<number> {
  const rows = await db.query(
    'SELECT count(*)::int AS n FROM team_destination_deliveries WHERE destination_id = $1',
    [destinationId],
  );
  return rows.rows[0].n as number;
}

before(async () => {
  receiver = await startWebhookReceiver();
  server = await startTestServer({
    clock,
    engineIntervalMs: 100,
    env: { VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1' },
  });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  await call('POST', '/v2/teams', { name: team });
  await call('POST', '/v2/teams', { name: otherTeam });
});

after(async () => {
  await db?.end();
  await server?.stop();
  await receiver?.close();
});

describe('the destinations API', () => {
  it('shows a generated secret once, in the answer that made it, and masked afterwards', async () => {
    receiver.endpoint('/api');
    const created = await server.call('POST', '/v2/destinations', {
      name: `API hook ${run}`,
      type: 'webhook',
      team: { name: team },
      config: { url: `${receiver.url}/api` },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { data } = created.body;
    assert.match(data.config.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    assert.equal(data.type, 'webhook');
    assert.equal(data.label, 'Webhook');
    assert.equal(data.team.name, team);
    assert.equal(data.integration, null);
    assert.equal(data.enabled, true);

    const read = await call('GET', `/v2/destinations/${data.id}`);
    assert.equal(read.data.config.secret, `whsec_****${(data.config.secret as string).slice(-4)}`);
    assert.equal(read.data.config.url, `${receiver.url}/api`);
    const list = await call('GET', '/v2/destinations');
    assert.ok(
      (list.data as Json[]).some((d) => d.id === data.id && d.config.secret === read.data.config.secret),
    );

    // Sent back as read, the secret is kept; the URL changes.
    const patched = await call('PATCH', `/v2/destinations/${data.id}`, {
      name: `API hook ${run} renamed`,
      config: { url: `${receiver.url}/api2`, secret: read.data.config.secret },
    });
    assert.equal(patched.data.name, `API hook ${run} renamed`);
    const stored = await db.query('SELECT config FROM team_destinations WHERE id = $1', [data.id]);
    assert.deepEqual(stored.rows[0].config, { url: `${receiver.url}/api2`, secret: data.config.secret });

    const removed = await server.call('DELETE', `/v2/destinations/${data.id}`);
    assert.equal(removed.status, 204);
    assert.equal((await server.call('GET', `/v2/destinations/${data.id}`)).status, 404);
  });

  it('refuses bad input with a 4xx naming the field', async () => {
    const post = (body: unknown) => server.call('POST', '/v2/destinations', body);
    const base = {
      name: `Bad ${run}`,
      type: 'webhook',
      team: { name: team },
      config: { url: 'https://hooks.example.com/x' },
    };
    const expect = async (body: unknown, status: number, field?: string, pattern?: RegExp) => {
      const res = await post(body);
      assert.equal(res.status, status, JSON.stringify(res.body));
      if (field) assert.ok(field in (res.body.errors ?? {}), JSON.stringify(res.body));
      if (field && pattern) assert.match(res.body.errors[field], pattern);
    };
    await expect({ ...base, type: 'carrier-pigeon' }, 422, 'type');
    await expect({ ...base, config: { url: 'http://hooks.example.com/x' } }, 422, 'config', /must be https/);
    await expect(
      { ...base, config: { url: 'https://169.254.169.254/latest/meta-data' } },
      422,
      'config',
      /private or reserved/,
    );
    await expect({ ...base, config: { url: 'https://10.0.0.8/hook' } }, 422, 'config');
    await expect({ ...base, team: undefined }, 422, 'team');
    await expect({ ...base, team: { name: 'no such team' } }, 422, 'team');
    await expect({ ...base, integration: { name: 'x' } }, 422, 'team');
    await expect({ ...base, name: 'x'.repeat(101) }, 422, 'name');
    // As everywhere in the API (Opsgenie's way): a field Vigil does not know is dropped, not refused.
    const extra = await post({ ...base, name: `Extra ${run}`, extra: true });
    assert.equal(extra.status, 201, JSON.stringify(extra.body));
    await call('DELETE', `/v2/destinations/${extra.body.data.id}`);
    await expect(
      { ...base, config: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`k${i}`, i])) },
      422,
      'config',
    );
    const badJson = await server.call('POST', '/v2/destinations', '{"name": ');
    assert.equal(badJson.status, 400);
    assert.equal((await server.call('GET', '/v2/destinations/not-a-uuid')).status, 404);
    assert.equal(
      (await server.call('GET', `/v2/destinations/${randomUUID()}/deliveries?limit=1000`)).status,
      422,
    );

    // Hostile values: never a 5xx, never a destination that cannot be sent to.
    for (const body of [
      { ...base, name: `nul \u0000 ${run}`, config: { url: 'https://hooks.example.com/\u0000' } },
      {
        ...base,
        name: `lone \ud800 ${run}`,
        config: { url: 'https://hooks.example.com/x', secret: '\ud800' },
      },
      { ...base, name: `deep ${run}`, config: { url: { url: { url: [1e308, -0, null] } } } },
      {
        ...base,
        name: `huge ${run}`,
        config: { url: `https://${'a'.repeat(70)}.example.com/`, secret: 'x'.repeat(100_000) },
      },
      { ...base, name: `num ${run}`, config: { url: 1234567890123456 } },
      { ...base, team: { id: '../../etc' } },
      { ...base, integration: { id: "'; DROP TABLE team_destinations; --" }, team: undefined },
    ]) {
      const res = await post(body);
      assert.ok(res.status < 500, `${res.status} ${JSON.stringify(res.body)}`);
      // A NUL is made storable (U+FFFD, then percent-encoded in the URL); nothing else gets through.
      if (res.status === 201)
        assert.match(res.body.data.config.url, /^https:\/\/hooks\.example\.com\/%EF%BF%BD$/);
    }
    await webhook(`Twice ${run}`, '/twice');
    await expect({ ...base, name: `twice ${run}` }, 409);
  });

  it("lets only admins (of the organization or of the destination's team) change them", async () => {
    const user = await call('POST', '/v2/users', {
      username: `u-${run}@example.com`,
      fullName: 'Una',
      role: { name: 'User' },
    });
    const key = (await call('POST', '/v2/api-keys', { name: 'Una', user: { id: user.data.id } })).data
      .key as string;
    const body = {
      name: `Una's ${run}`,
      type: 'webhook',
      team: { name: team },
      config: { url: 'https://hooks.example.com/x' },
    };
    assert.equal((await server.call('POST', '/v2/destinations', body, key)).status, 403);
    const { id } = await webhook(`Admins ${run}`, '/admins');
    assert.equal((await server.call('GET', `/v2/destinations/${id}`, undefined, key)).status, 200);
    assert.equal((await server.call('PATCH', `/v2/destinations/${id}`, { enabled: false }, key)).status, 403);
    assert.equal((await server.call('POST', `/v2/destinations/${id}/test`, undefined, key)).status, 403);
    assert.equal((await server.call('DELETE', `/v2/destinations/${id}`, undefined, key)).status, 403);
  });
});

describe('delivering alert events', () => {
  it("sends a team's alert events signed, in order: created, then acknowledged", async () => {
    const { id } = await webhook(`Ops ${run}`, '/ops');
    const alertId = await createAlert(`Disk full ${run}`);
    const [created] = await receivedAbout('/ops', alertId, 1);
    assert.equal(created?.body.type, 'alert.created');
    assert.equal(created?.body.data.alert.message, `Disk full ${run}`);
    assert.equal(created?.body.data.alert.priority, 'P2');
    assert.equal(created?.body.data.event.priority, 'P2');
    assert.match(created?.body.data.alert.url, new RegExp(`/alerts/${alertId}$`));

    await call('POST', `/v2/alerts/${alertId}/acknowledge`, { user: 'Pat', note: 'looking' });
    // The note given with it is an event of its own, after the acknowledgement.
    const got = await receivedAbout('/ops', alertId, 3);
    assert.deepEqual(
      got.map((r) => r.body.type),
      ['alert.created', 'alert.acknowledged', 'alert.note_added'],
    );
    assert.equal(got[1]?.body.data.event.note, 'looking');
    assert.equal(got[1]?.body.data.event.actor.name, 'Pat');
    assert.equal(got[1]?.body.data.alert.acknowledged, true);
    assert.equal(got[2]?.body.data.event.note, 'looking');
    assert.equal(receiver.refused('/ops').length, 0);

    const log = await waitFor('every delivery to be recorded', async () => {
      const rows = await deliveries(id);
      return rows.length === 3 && rows.every((d) => d.state === 'sent') ? rows : undefined;
    });
    assert.deepEqual(
      log.map((d) => [d.eventType, d.state, d.attempts, d.responseStatus]),
      [
        ['note_added', 'sent', 1, 204],
        ['acknowledged', 'sent', 1, 204],
        ['created', 'sent', 1, 204],
      ],
    );
    // webhook-id is the event's id: the receiver's idempotency key.
    assert.equal(log[2].eventId, got[0]?.id);
    assert.equal(log[2].alertId, alertId);
    // The alert's log says where it went, once: each later change is in the delivery log only.
    const lines = (await call('GET', `/v2/alerts/${alertId}/logs?limit=100`)).data.map((l: Json) => l.log);
    // (The team's other destinations, from the tests before, get it too.)
    assert.deepEqual(
      lines.filter((l: string) => l.startsWith(`Webhook "Ops ${run}"`)),
      [`Webhook "Ops ${run}" got the alert`],
    );
  });

  it("does not send another team's alerts", async () => {
    const { id } = await webhook(`Quiet ${run}`, '/quiet', otherTeam);
    const alertId = await createAlert(`Not yours ${run}`);
    await receivedAbout('/ops', alertId, 1);
    await server.idle();
    assert.equal(about('/quiet', alertId).length, 0);
    assert.equal(await deliveryCount(id), 0);
  });

  it('retries a 500 on the schedule, with the same webhook-id, and holds later events of the alert back until it is sent', async () => {
    const { id } = await webhook(`Flaky ${run}`, '/flaky');
    receiver.answerNext('/flaky', { status: 500, body: 'oops' });
    const alertId = await createAlert(`Flaky ${run}`);
    await receivedAbout('/flaky', alertId, 1);
    const pending = await waitFor('the failure to be recorded', async () => {
      const [row] = await deliveries(id);
      return row?.state === 'pending' && row.attempts === 1 ? row : undefined;
    });
    assert.equal(pending.responseStatus, 500);
    assert.match(pending.lastError, /answered 500: oops/);
    const wait = Date.parse(pending.nextAttemptAt) - Date.parse(pending.firstAttemptAt);
    assert.ok(wait >= 4000 && wait <= 6000, `retried after ${wait} ms`);

    // The acknowledgement waits for the creation to be delivered.
    await call('POST', `/v2/alerts/${alertId}/acknowledge`, {});
    await waitFor('the acknowledgement to be queued', async () => (await deliveryCount(id)) === 2);
    await server.idle();
    assert.equal(about('/flaky', alertId).length, 1);

    clock.advance(6000);
    const got = await receivedAbout('/flaky', alertId, 3);
    assert.deepEqual(
      got.map((r) => [r.body.type, r.status]),
      [
        ['alert.created', 500],
        ['alert.created', 204],
        ['alert.acknowledged', 204],
      ],
    );
    assert.equal(got[0]?.id, got[1]?.id);
    const log = await waitFor('both to be recorded as sent', async () => {
      const rows = await deliveries(id);
      return rows.every((d) => d.state === 'sent') ? rows : undefined;
    });
    assert.deepEqual(
      log.map((d) => [d.eventType, d.attempts, d.lastError]),
      [
        ['acknowledged', 1, null],
        ['created', 2, null],
      ],
    );
  });

  it('disables the destination on a 410, says so in the delivery log, and sends it nothing more until enabled again', async () => {
    const { id } = await webhook(`Gone ${run}`, '/gone');
    receiver.answerNext('/gone', { status: 410, body: 'no such hook' });
    const alertId = await createAlert(`Gone ${run}`);
    await receivedAbout('/gone', alertId, 1);
    const destination = await waitFor('the destination to be disabled', async () => {
      const d = (await call('GET', `/v2/destinations/${id}`)).data;
      return d.enabled ? undefined : d;
    });
    assert.match(destination.disabledReason, /answered 410 Gone/);
    assert.ok(destination.disabledAt);
    const [row] = await deliveries(id);
    assert.equal(row.state, 'failed');
    assert.equal(row.responseStatus, 410);
    assert.match(row.lastError, /410 Gone.*the destination was disabled/);

    // Nothing for a disabled destination.
    const later = await createAlert(`Later ${run}`);
    await receivedAbout('/ops', later, 1);
    await server.idle();
    assert.equal(await deliveryCount(id), 1);

    const enabled = await call('PATCH', `/v2/destinations/${id}`, { enabled: true });
    assert.equal(enabled.data.enabled, true);
    assert.equal(enabled.data.disabledReason, null);
    const again = await createAlert(`Again ${run}`);
    await receivedAbout('/gone', again, 1);
  });

  it('gives a delivery up after a day, and disables a destination whose every attempt failed for a day', async () => {
    const { id } = await webhook(`Down ${run}`, '/down');
    receiver.answerNext('/down', 503, 503, 503);
    const alertId = await createAlert(`Down ${run}`);
    await receivedAbout('/down', alertId, 1);
    // Recorded, not only claimed (a claim counts the attempt too): the day of failures starts when the
    // outcome is written, so the clock must not move before it is.
    await waitFor('the failure to be recorded', async () => {
      const [row] = await deliveries(id);
      return row?.attempts === 1 && row.state === 'pending';
    });
    clock.advance(25 * 3600_000);
    await receivedAbout('/down', alertId, 2);
    const destination = await waitFor('the destination to be disabled', async () => {
      const d = (await call('GET', `/v2/destinations/${id}`)).data;
      return d.enabled ? undefined : d;
    });
    assert.match(destination.disabledReason, /every delivery failed for 25 h/);
    const [row] = await deliveries(id);
    assert.equal(row.state, 'failed');
    assert.match(row.lastError, /gave up after 2 attempts over 25 h .*: 127\.0\.0\.1:\d+ answered 503/);
    // Written just after the outcome.
    await waitFor('the alert to say so', async () => {
      const lines = (await call('GET', `/v2/alerts/${alertId}/logs?limit=100`)).data.map((l: Json) => l.log);
      return lines.some((l: string) =>
        l.startsWith(`Webhook "Down ${run}" was not told of created: gave up after 2 attempts`),
      );
    });
  });

  it("sends an integration's destination the alerts that integration makes, and a deleted alert's last event", async () => {
    const integration = await call('POST', '/v2/integrations', {
      type: 'API',
      name: `Grafana ${run}`,
      ownerTeam: { name: otherTeam },
    });
    receiver.endpoint('/grafana');
    const created = await call('POST', '/v2/destinations', {
      name: `Grafana hook ${run}`,
      type: 'webhook',
      integration: { name: `Grafana ${run}` },
      config: { url: `${receiver.url}/grafana` },
    });
    assert.equal(created.data.integration.id, integration.data.id);
    assert.equal(created.data.team, null);
    receiver.setSecret('/grafana', created.data.config.secret as string);

    const made = await call(
      'POST',
      '/v2/alerts',
      { message: `From Grafana ${run}` },
      integration.data.apiKey as string,
    );
    const alertId = (
      await waitFor('the alert to be made', async () => {
        const status = await server.call('GET', `/v2/alerts/requests/${made.requestId}`);
        return status.body.data?.alertId ? status.body.data : undefined;
      })
    ).alertId as string;
    const [first] = await receivedAbout('/grafana', alertId, 1);
    assert.equal(first?.body.data.alert.integration.name, `Grafana ${run}`);

    // The alert row is gone with its deletion: the event goes where the alert's events went.
    await call('DELETE', `/v2/alerts/${alertId}`);
    const got = await receivedAbout('/grafana', alertId, 2);
    assert.equal(got[1]?.body.type, 'alert.deleted');
    assert.equal(got[1]?.body.data.alert, null);
    assert.equal(got[1]?.body.data.event.alertId, alertId);
  });

  it('adds nothing when an event is handed out again', async () => {
    const { id } = await webhook(`Once ${run}`, '/once');
    const alertId = await createAlert(`Once ${run}`);
    await receivedAbout('/once', alertId, 1);
    const stored = await db.query('SELECT event FROM team_destination_deliveries WHERE destination_id = $1', [
      id,
    ]);
    const event = stored.rows[0].event as AlertEvent;
    const consumer = teamDestinationsConsumer({ db: server.app.context.db, clock });
    const log = createLogger('silent');
    await consumer.handle(event, { log });
    await consumer.handleBatch?.([event, event], { log });
    assert.equal(await deliveryCount(id), 1);
    await server.idle();
    assert.equal(about('/once', alertId).length, 1);
  });
});

describe('the test endpoint', () => {
  it('sends a signed test event now and answers with what came of it', async () => {
    const { id } = await webhook(`Tested ${run}`, '/tested');
    const sent = await call('POST', `/v2/destinations/${id}/test`);
    assert.deepEqual(sent.data, { status: 'sent', detail: 'HTTP 204', responseStatus: 204, disabled: false });
    const [got] = receiver.received('/tested');
    assert.equal(got?.body.type, 'test');
    assert.equal(got?.body.data.alert, null);

    receiver.answerNext('/tested', { status: 500, body: 'broken' });
    const failed = await call('POST', `/v2/destinations/${id}/test`);
    assert.equal(failed.data.status, 'retry');
    assert.equal(failed.data.responseStatus, 500);
    assert.match(failed.data.error, /answered 500: broken/);
    // Not part of the delivery log.
    assert.equal(await deliveryCount(id), 0);
  });
});

describe('what a webhook sends and stores', () => {
  it("stores a receiver's answer with a NUL in it, and sends every destination of the round once", async () => {
    const nulTeam = `Nul ${run}`;
    await call('POST', '/v2/teams', { name: nulTeam });
    const { id } = await webhook(`Nul ${run}`, '/nul', nulTeam);
    await webhook(`Nul peer ${run}`, '/nul-peer', nulTeam);
    // As a gzip answer's header, or any binary one, has: PostgreSQL's jsonb and text cannot hold it.
    receiver.answerNext('/nul', { status: 200, body: 'ok\u0000' });
    const alertId = await createAlert(`Binary answer ${run}`, nulTeam);
    await receivedAbout('/nul', alertId, 1);
    await receivedAbout('/nul-peer', alertId, 1);
    const [sent] = await waitFor(
      'the delivery to be recorded as sent',
      async () => {
        const rows = await deliveries(id);
        return rows.length === 1 && rows[0].state === 'sent' ? rows : undefined;
      },
      // Well within the lease: a round whose outcomes were not stored is claimed again when it ends.
      30_000,
    );
    assert.equal(sent.responseStatus, 200);
    assert.equal(sent.responseExcerpt, 'ok\uFFFD');

    // Past the lease of the round that sent them, nothing is claimed and sent again.
    clock.advance(61_000);
    await server.idle();
    assert.equal(about('/nul', alertId).length, 1);
    assert.equal(about('/nul-peer', alertId).length, 1);
  });

  it('refuses every content-* header, and Accept-Encoding, as headers of a webhook', async () => {
    for (const name of ['Content-Encoding', 'content-language', 'Accept-Encoding']) {
      const res = await server.call('POST', '/v2/destinations', {
        name: `Encoded ${run}`,
        type: 'webhook',
        team: { name: team },
        config: {
          url: 'https://hooks.example.com/x',
          headers: { Authorization: 'Bearer t', [name]: 'gzip' },
        },
      });
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.match(String(res.body.errors?.config), new RegExp(`${name} is set by Vigil itself`));
    }
  });

  it('does not send a stored header that is now refused, and still sends the others', async () => {
    receiver.endpoint('/encoded');
    const created = await call('POST', '/v2/destinations', {
      name: `Stored encoding ${run}`,
      type: 'webhook',
      team: { name: otherTeam },
      config: { url: `${receiver.url}/encoded`, headers: { 'X-Token': 't0ken' } },
    });
    const id = created.data.id as string;
    receiver.setSecret('/encoded', created.data.config.secret as string);
    // As a Content-Encoding stored before it was refused.
    await db.query(
      `UPDATE team_destinations SET config = jsonb_set(config, '{headers,Content-Encoding}', '"gzip"') WHERE id = $1`,
      [id],
    );
    const tested = await call('POST', `/v2/destinations/${id}/test`);
    assert.equal(tested.data.status, 'sent', JSON.stringify(tested.data));
    const [got] = receiver.received('/encoded');
    assert.equal(got?.headers['x-token'], 't0ken');
    assert.equal(got?.headers['content-encoding'], undefined);
    const shown = await call('GET', `/v2/destinations/${id}`);
    assert.deepEqual(shown.data.config.headers, { 'X-Token': '****' });
  });

  it('keeps stored header values only while the URL stays as it is, another path of its origin included', async () => {
    const created = await call('POST', '/v2/destinations', {
      name: `Zapier-like ${run}`,
      type: 'webhook',
      team: { name: team },
      config: { url: 'https://hooks.example.com/a', headers: { Authorization: 'Bearer mine' } },
    });
    const id = created.data.id as string;
    const stored = async () =>
      (await db.query('SELECT config FROM team_destinations WHERE id = $1', [id])).rows[0].config;

    // A hook host serves every customer on one origin: another path may be someone else's receiver.
    for (const config of [
      { url: 'https://hooks.example.com/b', headers: { Authorization: '****' } },
      { url: 'https://hooks.example.com/b' },
      { url: 'https://hooks.example.com/a?to=me', headers: { Authorization: '****' } },
    ]) {
      const moved = await server.call('PATCH', `/v2/destinations/${id}`, { config });
      assert.equal(moved.status, 422, `${JSON.stringify(config)}: ${JSON.stringify(moved.body)}`);
      assert.match(String(moved.body.errors?.config), /Authorization/);
      assert.match(String(moved.body.errors?.config), /given again/);
      const kept = await stored();
      assert.equal(kept.url, 'https://hooks.example.com/a');
      assert.deepEqual(kept.headers, { Authorization: 'Bearer mine' });
    }

    // The same URL (as written, or as stored) keeps the masked value, or the one left out.
    for (const config of [
      { url: 'https://hooks.example.com/a', headers: { Authorization: '****' } },
      { url: 'https://HOOKS.example.com:443/a' },
      {},
    ]) {
      await call('PATCH', `/v2/destinations/${id}`, { config });
      assert.deepEqual((await stored()).headers, { Authorization: 'Bearer mine' });
    }

    // Given again, the value goes with the URL.
    await call('PATCH', `/v2/destinations/${id}`, {
      config: { url: 'https://hooks.example.com/b', headers: { Authorization: 'Bearer new' } },
    });
    const moved = await stored();
    assert.equal(moved.url, 'https://hooks.example.com/b');
    assert.deepEqual(moved.headers, { Authorization: 'Bearer new' });
    await call('DELETE', `/v2/destinations/${id}`);
  });
});

describe('a webhook header stored before its name was refused', () => {
  it('is dropped when a change sends it back masked or with its stored value, and refused with another', async () => {
    const created = await call('POST', '/v2/destinations', {
      name: `Retired ${run}`,
      type: 'webhook',
      team: { name: team },
      config: { url: 'https://hooks.example.com/retired', headers: { 'X-Token': 't0ken' } },
    });
    const id = created.data.id as string;
    const storeRetired = () =>
      db.query(
        `UPDATE team_destinations SET config = jsonb_set(config, '{headers,Content-Encoding}', '"gzip"') WHERE id = $1`,
        [id],
      );
    const storedHeaders = async () =>
      (await db.query('SELECT config FROM team_destinations WHERE id = $1', [id])).rows[0].config.headers;

    // As a client that kept what it wrote, or sends back every header masked, has it: a refusal would
    // refuse every change.
    for (const retired of ['****', 'gzip']) {
      await storeRetired();
      const changed = await server.call('PATCH', `/v2/destinations/${id}`, {
        config: { headers: { 'X-Token': '****', 'content-encoding': retired } },
      });
      assert.equal(changed.status, 200, `${retired}: ${JSON.stringify(changed.body)}`);
      assert.deepEqual(await storedHeaders(), { 'X-Token': 't0ken' });
    }

    await storeRetired();
    const another = await server.call('PATCH', `/v2/destinations/${id}`, {
      config: { headers: { 'X-Token': '****', 'Content-Encoding': 'br' } },
    });
    assert.equal(another.status, 422, JSON.stringify(another.body));
    assert.match(String(another.body.errors?.config), /Content-Encoding is set by Vigil itself/);
    await call('DELETE', `/v2/destinations/${id}`);
  });
});

describe('a team added to an alert', () => {
  const owners = `Owners ${run}`;
  const joiners = `Joiners ${run}`;
  /** Each team's destinations: a webhook, a Webhook integration's (Opsgenie's JSON) and a Teams channel. */
  const of: Record<string, { hook: string; integration: string; teams: string }> = {};
  let joinersId: string;

  const opsgenieAbout = (path: string, alertId: string) =>
    receiver.received(path).filter((r) => r.body.alert?.alertId === alertId);
  const eventTypes = async (destinationId: string, alertId: string) =>
    (
      await db.query(
        'SELECT event_type FROM team_destination_deliveries WHERE destination_id = $1 AND alert_id = $2 ORDER BY seq',
        [destinationId, alertId],
      )
    ).rows.map((r) => r.event_type as string);

  before(async () => {
    for (const [name, key] of [
      [owners, 'owners'],
      [joiners, 'joiners'],
    ] as const) {
      const made = await call('POST', '/v2/teams', { name });
      if (name === joiners) joinersId = made.data.id as string;
      const hook = await webhook(`Hook of ${name}`, `/${key}-hook`, name);
      const integration = await call('POST', '/v2/integrations', {
        type: 'Webhook',
        name: `Outgoing of ${name}`,
        ownerTeam: { name },
        webhookUrl: `${receiver.url}/${key}-opsgenie`,
      });
      const stored = await db.query('SELECT id, config FROM team_destinations WHERE integration_id = $1', [
        integration.data.id,
      ]);
      receiver.endpoint(`/${key}-opsgenie`, stored.rows[0].config.secret as string);
      // Posts unsigned: refused (400), which fails the delivery and leaves the destination as it is.
      receiver.endpoint(`/${key}-teams`, `whsec_${Buffer.alloc(32).toString('base64')}`);
      const teams = await call('POST', '/v2/destinations', {
        name: `Teams of ${name}`,
        type: 'teams',
        team: { name },
        config: { url: `${receiver.url}/${key}-teams` },
      });
      of[key] = { hook: hook.id, integration: stored.rows[0].id as string, teams: teams.data.id as string };
    }
  });

  it("sends the added team's webhooks the alert as created, the others an AddTeam, and makes no delivery its channels' would not post", async () => {
    const alertId = await createAlert(`Joined later ${run}`, owners);
    await receivedAbout('/owners-hook', alertId, 1);
    await waitFor("the owners' Create", async () => opsgenieAbout('/owners-opsgenie', alertId).length === 1);
    await server.idle();
    assert.equal(about('/joiners-hook', alertId).length, 0);
    assert.equal(opsgenieAbout('/joiners-opsgenie', alertId).length, 0);

    await call('POST', `/v2/alerts/${alertId}/teams`, { team: { name: joiners }, user: 'Dana' });
    const [create] = await waitFor("the joiners' Create", async () => {
      const got = opsgenieAbout('/joiners-opsgenie', alertId);
      return got.length > 0 ? got : undefined;
    });
    assert.equal(create?.body.action, 'Create');
    assert.equal(create?.body.alert.message, `Joined later ${run}`);
    assert.equal(create?.body.alert.username, 'Dana');
    assert.ok((create?.body.alert.teams as string[]).includes(joinersId), JSON.stringify(create?.body));
    const [joined] = await receivedAbout('/joiners-hook', alertId, 1);
    assert.equal(joined?.body.type, 'alert.responder_added');
    assert.deepEqual(joined?.body.data.event.responder, { type: 'team', id: joinersId });
    assert.equal(joined?.body.data.alert.message, `Joined later ${run}`);

    // Opsgenie triggers the integrations of the alert's earlier teams with AddTeam.
    const addTeam = await waitFor("the owners' AddTeam", async () =>
      opsgenieAbout('/owners-opsgenie', alertId).find((r) => r.body.action === 'AddTeam'),
    );
    assert.equal(addTeam.body.alert.team, joiners);
    const owned = await receivedAbout('/owners-hook', alertId, 2);
    assert.equal(owned[1]?.body.type, 'alert.responder_added');
    await server.idle();
    assert.equal(opsgenieAbout('/owners-opsgenie', alertId).length, 2);

    assert.deepEqual(await eventTypes(of.owners!.teams, alertId), ['created']);
    assert.deepEqual(await eventTypes(of.joiners!.teams, alertId), ['responder_added']);
    for (const key of ['owners', 'joiners']) {
      const expected = key === 'owners' ? ['created', 'responder_added'] : ['responder_added'];
      assert.deepEqual(await eventTypes(of[key]!.hook, alertId), expected, key);
      assert.deepEqual(await eventTypes(of[key]!.integration, alertId), expected, key);
    }
  });

  it('makes no delivery for a person added', async () => {
    const username = `added-${run}@example.com`;
    await call('POST', '/v2/users', { username, fullName: 'Added Person', role: { name: 'User' } });
    const alertId = await createAlert(`Person added ${run}`, owners);
    await receivedAbout('/owners-hook', alertId, 1);
    await call('POST', `/v2/alerts/${alertId}/responders`, { responder: { type: 'user', username } });
    await waitFor('the person to be a responder', async () => {
      const shown = await call('GET', `/v2/alerts/${alertId}`);
      return (shown.data.responders as Json[]).some((r) => r.type === 'user');
    });
    await server.idle();
    const made = await db.query(
      "SELECT count(*)::int AS n FROM team_destination_deliveries WHERE alert_id = $1 AND event_type = 'responder_added'",
      [alertId],
    );
    assert.equal(made.rows[0].n, 0);
  });
});

describe('a team added before the alert reached the destinations consumer', () => {
  const firsts = `Firsts ${run}`;
  const seconds = `Seconds ${run}`;

  const eventTypes = async (destinationId: string, alertId: string) =>
    (
      await db.query(
        'SELECT event_type FROM team_destination_deliveries WHERE destination_id = $1 AND alert_id = $2 ORDER BY seq',
        [destinationId, alertId],
      )
    ).rows.map((r) => r.event_type as string);

  /** An alert of `firsts` that `seconds` was then added to, and its two events as handed out (seq). */
  async function joinedAlert(
    message: string,
    watch: string,
  ): Promise<{ alertId: string; events: AlertEvent[] }> {
    const alertId = await createAlert(message, firsts);
    await receivedAbout('/firsts-watch', alertId, 1);
    await call('POST', `/v2/alerts/${alertId}/teams`, { team: { name: seconds } });
    await receivedAbout('/firsts-watch', alertId, 2);
    const stored = await db.query(
      'SELECT event FROM team_destination_deliveries WHERE destination_id = $1 AND alert_id = $2 ORDER BY seq',
      [watch, alertId],
    );
    const events = stored.rows.map((r) => r.event as AlertEvent);
    assert.deepEqual(
      events.map((e) => e.type),
      ['created', 'responder_added'],
    );
    return { alertId, events };
  }

  it("posts the alert once to the added team's destinations when its created is handed out after the team was added", async () => {
    await call('POST', '/v2/teams', { name: firsts });
    await call('POST', '/v2/teams', { name: seconds });
    const watch = await webhook(`Watch of ${firsts}`, '/firsts-watch', firsts);
    const inOneBatch = await joinedAlert(`Joined in one batch ${run}`, watch.id);
    const inTwoBatches = await joinedAlert(`Joined in two batches ${run}`, watch.id);
    await server.idle();

    // Destinations made now have had neither event: to them the consumer lagged, and it reaches them with
    // both events of each alert after the team was added, its teams as they are now.
    const firstsHook = await webhook(`Later hook of ${firsts}`, '/firsts-later-hook', firsts);
    const secondsHook = await webhook(`Hook of ${seconds}`, '/seconds-hook', seconds);
    const integration = await call('POST', '/v2/integrations', {
      type: 'Webhook',
      name: `Outgoing of ${seconds}`,
      ownerTeam: { name: seconds },
      webhookUrl: `${receiver.url}/seconds-opsgenie`,
    });
    const stored = await db.query('SELECT id, config FROM team_destinations WHERE integration_id = $1', [
      integration.data.id,
    ]);
    receiver.endpoint('/seconds-opsgenie', stored.rows[0].config.secret as string);
    const secondsIntegration = stored.rows[0].id as string;
    // Posts unsigned: refused (400), each post kept among the refused.
    receiver.endpoint('/seconds-teams', `whsec_${Buffer.alloc(32).toString('base64')}`);
    const secondsTeams = (
      await call('POST', '/v2/destinations', {
        name: `Teams of ${seconds}`,
        type: 'teams',
        team: { name: seconds },
        config: { url: `${receiver.url}/seconds-teams` },
      })
    ).data.id as string;

    const consumer = teamDestinationsConsumer({ db: server.app.context.db, clock });
    const log = createLogger('silent');
    await consumer.handleBatch?.(inOneBatch.events, { log });
    for (const event of inTwoBatches.events) await consumer.handle(event, { log });
    await server.idle();

    for (const { alertId } of [inOneBatch, inTwoBatches]) {
      for (const id of [secondsHook.id, secondsIntegration, secondsTeams]) {
        assert.deepEqual(await eventTypes(id, alertId), ['created'], id);
      }
      // The alert's other team's webhooks still get the AddTeam.
      assert.deepEqual(await eventTypes(firstsHook.id, alertId), ['created', 'responder_added']);
      assert.deepEqual(
        about('/seconds-hook', alertId).map((r) => r.body.type),
        ['alert.created'],
      );
      assert.deepEqual(
        receiver
          .received('/seconds-opsgenie')
          .filter((r) => r.body.alert?.alertId === alertId)
          .map((r) => r.body.action),
        ['Create'],
      );
      assert.equal(receiver.refused('/seconds-teams').filter((r) => r.raw.includes(alertId)).length, 1);
    }
  });
});
