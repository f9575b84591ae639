import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  startFakePushService,
  type BrowserSubscription,
  type FakePushService,
} from '../../testing/fake-push.js';
import {
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
  acknowledgementRecorder,
} from '../../testing/harness.js';
import { createLogger } from '../../logger.js';
import { systemClock } from '../../work/clock.js';
import { createPushChannel, type PushPayload } from './channel.js';

/**
 * Web Push end to end: a person subscribes a device through the console API, an alert for their team is
 * pushed to it through the fake push service (which checks VAPID and decrypts as the browser would), the
 * push's acknowledge link acknowledges the alert when POSTed (as the service worker does), and a device
 * the push service says is gone is removed with its contact method.
 */

let server: TestServer;
let fake: FakePushService;
let db: pg.Client;
const run = randomUUID().slice(0, 8);
const pat = `pat-${run}@example.com`;
const sam = `sam-${run}@example.com`;
const team = `Pushers ${run}`;
let patKey: string;
let samKey: string;
let publicKey: string;

const { consumer: recorder, acknowledged } = acknowledgementRecorder();

const call = (method: string, path: string, body?: unknown, key?: string): Promise<Json> =>
  server.callOk(method, path, body, key);

async function userWithKey(username: string, fullName: string): Promise<string> {
  const user = await call('POST', '/v2/users', { username, fullName, role: { name: 'User' } });
  const key = await call('POST', '/v2/api-keys', { name: `${fullName}'s phone`, user: { id: user.data.id } });
  return key.data.key as string;
}

async function createAlert(message: string, priority = 'P1', teamName = team): Promise<string> {
  const created = await call('POST', '/v2/alerts', {
    message,
    priority,
    source: 'prometheus',
    entity: 'db-1',
    responders: [{ type: 'team', name: teamName }],
  });
  const request = await waitFor('the alert to be made', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${created.requestId}`);
    return status.body.data?.alertId ? status.body.data : undefined;
  });
  return request.alertId as string;
}

async function logs(alertId: string): Promise<string[]> {
  const res = await server.call('GET', `/v2/alerts/${alertId}/logs?order=asc&limit=100`);
  return (res.body.data as Json[]).map((l) => l.log as string);
}

/** A `mobile` contact of `username` written straight to the database, as contacts made before the API checked them were. */
async function contactOf(username: string, address: string): Promise<string> {
  const user = await call('GET', `/v2/users/${username}`);
  const made = await db.query(
    `INSERT INTO contact_methods (user_id, method, address) VALUES ($1, 'mobile', $2) RETURNING id`,
    [user.data.id, address],
  );
  return made.rows[0].id as string;
}

/** Makes `username`'s first rule page only the mobile contact `address`, then raises an alert for the team. */
async function pageOnly(username: string, address: string, message: string): Promise<string> {
  const rules = await call('GET', `/v2/users/${username}/notification-rules`);
  await call('PATCH', `/v2/users/${username}/notification-rules/${rules.data[0].id}`, {
    steps: [{ contact: { method: 'mobile', to: address } }],
  });
  return createAlert(message);
}

/** The server's own links name its public URL; the test reaches it on its port. */
function local(link: string): string {
  const url = new URL(link);
  return server.url + url.pathname + url.search;
}

before(async () => {
  fake = await startFakePushService();
  server = await startTestServer({
    engineIntervalMs: 100,
    consumers: [recorder],
    // The local push service.
    env: { VIGIL_PUSH_SERVICE_HOSTS: '127.0.0.1' },
  });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  patKey = await userWithKey(pat, 'Pat');
  samKey = await userWithKey(sam, 'Sam');
  await call('POST', '/v2/teams', { name: team, members: [{ user: { username: pat }, role: 'user' }] });
  publicKey = (await call('GET', '/api/console/push/key', undefined, patKey)).publicKey as string;
});

after(async () => {
  await db?.end();
  await server?.stop();
  await fake?.close();
});

describe('subscribing a device', () => {
  it('gives the VAPID public key, the same on every call, made once and kept in the database', async () => {
    assert.equal(Buffer.from(publicKey, 'base64url').length, 65);
    const again = await call('GET', '/api/console/push/key', undefined, samKey);
    assert.equal(again.publicKey, publicKey);
    const secrets = await db.query(
      `SELECT length(value) AS n FROM app_secrets WHERE name = 'web-push-vapid'`,
    );
    assert.deepEqual(secrets.rows, [{ n: 32 }]);
  });

  it('refuses what is not a push subscription', async () => {
    const sub = fake.newSubscription();
    const refuse = async (body: unknown, field: string) => {
      const res = await server.call('POST', '/api/console/push/subscriptions', body, samKey);
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.ok(field in (res.body.errors ?? {}), JSON.stringify(res.body));
    };
    await refuse({ ...sub, endpoint: 'http://push.example.com/x' }, 'endpoint');
    await refuse({ ...sub, endpoint: 'not a url' }, 'endpoint');
    // Not a push service: a device must not make Vigil POST to any address it can reach.
    const elsewhere = await server.call(
      'POST',
      '/api/console/push/subscriptions',
      { ...sub, endpoint: 'https://internal.example.com/hook' },
      samKey,
    );
    assert.equal(elsewhere.status, 422);
    assert.match(
      elsewhere.body.errors.endpoint,
      /not a push service Vigil sends to .*VIGIL_PUSH_SERVICE_HOSTS/,
    );
    await refuse({ ...sub, keys: { ...sub.keys, p256dh: sub.keys.auth } }, 'keys.p256dh');
    // 65 bytes starting 0x04, but not a point on the curve.
    const offCurve = Buffer.alloc(65, 1);
    offCurve[0] = 4;
    await refuse({ ...sub, keys: { ...sub.keys, p256dh: offCurve.toString('base64url') } }, 'keys.p256dh');
    await refuse({ ...sub, keys: { ...sub.keys, auth: sub.keys.p256dh } }, 'keys.auth');
    assert.deepEqual((await call('GET', '/api/console/push/subscriptions', undefined, samKey)).data, []);
  });

  it('lists, updates on a second subscribe, and lets only the owner or an admin remove it', async () => {
    const sub = fake.newSubscription({ applicationServerKey: publicKey });
    const made = await server.call(
      'POST',
      '/api/console/push/subscriptions',
      { ...sub, deviceName: 'Old laptop' },
      samKey,
    );
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const again = await call(
      'POST',
      '/api/console/push/subscriptions',
      { ...sub, deviceName: 'New name' },
      samKey,
    );
    assert.equal(again.id, made.body.id);
    const listed = await call('GET', '/api/console/push/subscriptions', undefined, samKey);
    assert.deepEqual(
      listed.data.map((s: Json) => [s.id, s.deviceName, s.service]),
      [[made.body.id, 'New name', new URL(fake.url).host]],
    );
    const contacts = await call('GET', `/v2/users/${sam}/contacts`);
    assert.ok(contacts.data.some((c: Json) => c.method === 'mobile' && c.to === made.body.id));
    // Sam's "New alert" rule pages the device at once.
    const rules = await call('GET', `/v2/users/${sam}/notification-rules`);
    const rule = await call('GET', `/v2/users/${sam}/notification-rules/${rules.data[0].id}`);
    assert.ok(
      JSON.stringify(rule.data.steps).includes(made.body.id),
      `the rule has a step for the device: ${JSON.stringify(rule.data.steps)}`,
    );

    const byPat = await server.call(
      'DELETE',
      `/api/console/push/subscriptions/${made.body.id}`,
      undefined,
      patKey,
    );
    assert.equal(byPat.status, 403);
    const byAdmin = await server.call('DELETE', `/api/console/push/subscriptions/${made.body.id}`);
    assert.equal(byAdmin.status, 204);
    assert.deepEqual((await call('GET', '/api/console/push/subscriptions', undefined, samKey)).data, []);
    const left = await call('GET', `/v2/users/${sam}/contacts`);
    assert.ok(!left.data.some((c: Json) => c.method === 'mobile'));
  });
});

describe('a page to a subscribed device', () => {
  let sub: BrowserSubscription;

  before(async () => {
    sub = fake.newSubscription({ applicationServerKey: publicKey });
    const made = await server.call(
      'POST',
      '/api/console/push/subscriptions',
      { ...sub, deviceName: "Pat's phone" },
      patKey,
    );
    assert.equal(made.status, 201, JSON.stringify(made.body));
  });

  it('is not sent once its push service is no longer allowed, without a request to it', async () => {
    // As after a restart with 127.0.0.1 taken off VIGIL_PUSH_SERVICE_HOSTS.
    const { db: database, config } = server.app.context;
    let requests = 0;
    const channel = createPushChannel({
      db: database,
      config: { ...config, extraPushServiceHosts: [] },
      log: createLogger('silent'),
      fetch: (input, init) => {
        requests++;
        return fetch(input, init);
      },
      clock: systemClock,
    });
    const id = (await db.query(`SELECT id FROM push_subscriptions WHERE endpoint = $1`, [sub.endpoint]))
      .rows[0]?.id as string;
    assert.ok(id);
    const result = await channel.sendNotice!({ address: id, name: 'Pat' }, { subject: 'Test', text: 'hi' });
    assert.equal(requests, 0, 'no request to the push service');
    assert.equal(result.status, 'failed', JSON.stringify(result));
    assert.match(
      result.status === 'failed' ? result.error : '',
      /is on 127\.0\.0\.1, which is not a push service Vigil sends to .*VIGIL_PUSH_SERVICE_HOSTS/,
    );
  });

  it('arrives encrypted with the title, priority and links, and its acknowledge link works', async () => {
    const alertId = await createAlert(`Disk full ${run}`, 'P1');
    const push = await waitFor('the push', async () => fake.received(sub.endpoint)[0]);
    const payload = push.json as PushPayload;
    assert.equal(payload.title, `[P1] Disk full ${run}`);
    assert.equal(payload.priority, 'P1');
    assert.equal(payload.kind, 'create-alert');
    assert.equal(payload.alertId, alertId);
    assert.match(payload.body, /prometheus · db-1/);
    assert.match(payload.url, new RegExp(`/alerts/${alertId}$`));
    assert.match(payload.actions.acknowledge ?? '', /\/v1\/alert-actions\//);
    assert.match(payload.actions.close ?? '', /\/v1\/alert-actions\//);
    assert.equal(push.urgency, 'high');
    assert.equal(push.ttl, 3600);
    assert.match(push.topic ?? '', /^[A-Za-z0-9_-]{32}$/);

    // What the service worker does on the Acknowledge action: POST the link, no session needed.
    const acked = await fetch(local(payload.actions.acknowledge ?? ''), { method: 'POST' });
    assert.equal(acked.status, 200);
    const alert = await call('GET', `/v2/alerts/${alertId}`);
    assert.equal(alert.data.acknowledged, true);
    const ack = await waitFor('the acknowledgement event', async () =>
      acknowledged.find((e) => e.alertId === alertId),
    );
    assert.equal(ack.source, 'push notification', 'a push button, not an email link');
    await waitFor('the log says it was sent', async () =>
      (await logs(alertId)).some((l) => l.startsWith('Mobile push sent to Pat')),
    );
    const row = await db.query(
      `SELECT provider_id FROM notifications WHERE method = 'mobile' AND alert_id = $1`,
      [alertId],
    );
    assert.match(row.rows[0]?.provider_id ?? '', /\/messages\/\d+$/);
    assert.equal(fake.refused.filter((r) => r.endpoint === sub.endpoint).length, 0);
  });

  it('is tried again after a 503, and a P3 page is not urgent', async () => {
    fake.failNext(sub.endpoint, 1, 503);
    const before = fake.received(sub.endpoint).length;
    const alertId = await createAlert(`Slow ${run}`, 'P3');
    await waitFor('the failed try in the log', async () =>
      (await logs(alertId)).some((l) => /^Mobile push to Pat failed for now .*503/.test(l)),
    );
    // The retry waits 15 s or more; pull it forward instead of sleeping.
    await db.query(`UPDATE notifications SET due_at = now() WHERE method = 'mobile' AND alert_id = $1`, [
      alertId,
    ]);
    const push = await waitFor('the retried push', async () => fake.received(sub.endpoint)[before]);
    assert.equal(push.urgency, 'normal');
  });

  it('removes the subscription and its contact when the push service says the device is gone', async () => {
    fake.gone(sub.endpoint);
    const alertId = await createAlert(`Gone ${run}`, 'P2');
    const line = await waitFor('the failure in the log', async () =>
      (await logs(alertId)).find((l) => l.startsWith('Mobile push to Pat failed')),
    );
    assert.match(line, /not retried/);
    assert.match(line, /the device is gone/);
    assert.match(line, /410/);
    const subs = await db.query(`SELECT id FROM push_subscriptions WHERE endpoint = $1`, [sub.endpoint]);
    assert.equal(subs.rows.length, 0);
    const contacts = await call('GET', `/v2/users/${pat}/contacts`);
    assert.ok(!contacts.data.some((c: Json) => c.method === 'mobile'), JSON.stringify(contacts.data));
    const rules = await call('GET', `/v2/users/${pat}/notification-rules`);
    const rule = await call('GET', `/v2/users/${pat}/notification-rules/${rules.data[0].id}`);
    assert.ok(!JSON.stringify(rule.data.steps).includes('mobile'), JSON.stringify(rule.data.steps));
  });

  it('fails for a mobile contact made before contacts had to name a subscription, saying so', async () => {
    await contactOf(pat, 'device-7f3a:abc');
    const alertId = await pageOnly(pat, 'device-7f3a:abc', `Hand-made ${run}`);
    const line = await waitFor('the failure in the log', async () =>
      (await logs(alertId)).find((l) => l.startsWith('Mobile push to Pat failed')),
    );
    assert.match(line, /no push subscription/);
  });
});

describe("someone else's device", () => {
  let samDevice: BrowserSubscription;
  let samDeviceId: string;

  before(async () => {
    samDevice = fake.newSubscription({ applicationServerKey: publicKey });
    const made = await server.call(
      'POST',
      '/api/console/push/subscriptions',
      { ...samDevice, deviceName: "Sam's phone" },
      samKey,
    );
    assert.equal(made.status, 201, JSON.stringify(made.body));
    samDeviceId = made.body.id as string;
  });

  it('can not be made the address of a mobile contact, nor be changed to', async () => {
    for (const to of [samDeviceId, randomUUID(), 'device-7f3a:abc']) {
      const res = await server.call('POST', `/v2/users/${pat}/contacts`, { method: 'mobile', to });
      assert.equal(res.status, 422, `${to}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.errors?.to ?? '', /push subscriptions/);
    }
    const legacy = await contactOf(pat, `legacy-${run}`);
    const changed = await server.call('PATCH', `/v2/users/${pat}/contacts/${legacy}`, { to: samDeviceId });
    assert.equal(changed.status, 422, JSON.stringify(changed.body));
    const contacts = await call('GET', `/v2/users/${pat}/contacts`);
    assert.ok(
      !contacts.data.some((c: Json) => c.to === samDeviceId),
      `Pat has no contact for Sam's device: ${JSON.stringify(contacts.data)}`,
    );
  });

  it("is not pushed Pat's pages even when a contact of Pat's names it", async () => {
    // Made behind the API's back (or before it checked): the channel checks too.
    await contactOf(pat, samDeviceId);
    const alertId = await pageOnly(pat, samDeviceId, `Not yours ${run}`);
    const line = await waitFor('the failure in the log', async () =>
      (await logs(alertId)).find((l) => l.startsWith('Mobile push to Pat failed')),
    );
    assert.match(line, /not retried/);
    assert.match(line, /no push subscription of this person for this device/);
    assert.equal(fake.received(samDevice.endpoint).length, 0, "Sam's device got nothing");
    const subs = await db.query(`SELECT id FROM push_subscriptions WHERE id = $1`, [samDeviceId]);
    assert.equal(subs.rows.length, 1, "Sam's device is kept");
  });
});

describe('a phone that subscribed again', () => {
  const lee = `lee-${run}@example.com`;
  const leesTeam = `Resubscribers ${run}`;
  let leeKey: string;
  let oldSub: BrowserSubscription;
  let newSub: BrowserSubscription;
  let newId: string;

  before(async () => {
    leeKey = await userWithKey(lee, 'Lee');
    await call('POST', '/v2/teams', { name: leesTeam, members: [{ user: { username: lee }, role: 'user' }] });
    oldSub = fake.newSubscription({ applicationServerKey: publicKey });
    newSub = fake.newSubscription({ applicationServerKey: publicKey });
    // Reinstalled, or site data cleared: the browser subscribes anew and the old subscription is never
    // removed; only a push to it finds out.
    for (const [sub, deviceName] of [
      [oldSub, "Lee's phone"],
      [newSub, "Lee's phone (again)"],
    ] as const) {
      const made = await server.call(
        'POST',
        '/api/console/push/subscriptions',
        { ...sub, deviceName },
        leeKey,
      );
      assert.equal(made.status, 201, JSON.stringify(made.body));
      newId = made.body.id as string;
    }
  });

  it('gets the pages of the old subscription once a push to the old one finds it gone', async () => {
    fake.gone(oldSub.endpoint);
    const first = await createAlert(`Old phone ${run}`, 'P1', leesTeam);
    const line = await waitFor('the failure in the log', async () =>
      (await logs(first)).find((l) => l.startsWith('Mobile push to Lee failed')),
    );
    assert.match(line, /the device is gone/);
    await waitFor('the old subscription to be removed', async () => {
      const subs = await db.query(`SELECT id FROM push_subscriptions WHERE endpoint = $1`, [oldSub.endpoint]);
      return subs.rows.length === 0;
    });
    const rules = await call('GET', `/v2/users/${lee}/notification-rules`);
    const rule = await call('GET', `/v2/users/${lee}/notification-rules/${rules.data[0].id}`);
    assert.ok(
      JSON.stringify(rule.data.steps).includes(newId),
      `the rule now pages the new subscription: ${JSON.stringify(rule.data.steps)}`,
    );

    const next = await createAlert(`New phone ${run}`, 'P1', leesTeam);
    const push = await waitFor(
      'the push to the new subscription',
      async () => fake.received(newSub.endpoint).find((p) => (p.json as PushPayload).alertId === next),
      30_000,
    );
    assert.equal((push.json as PushPayload).title, `[P1] New phone ${run}`);
  });

  it("answers a push button's POST so a console on another origin can read it, without credentials", async () => {
    const alertId = await createAlert(`Other origin ${run}`, 'P1', leesTeam);
    const push = await waitFor('the push', async () =>
      fake.received(newSub.endpoint).find((p) => (p.json as PushPayload).alertId === alertId),
    );
    const link = local((push.json as PushPayload).actions.acknowledge ?? '');
    // The service worker of a console opened at another host than VIGIL_PUBLIC_URL.
    const origin = { origin: 'https://console.example.com' };
    const acked = await fetch(link, { method: 'POST', headers: origin });
    assert.equal(acked.status, 200);
    assert.equal(acked.headers.get('access-control-allow-origin'), '*');
    assert.equal(acked.headers.get('access-control-allow-credentials'), null);
    assert.equal((await call('GET', `/v2/alerts/${alertId}`)).data.acknowledged, true);
    // A refusal is readable too: that is what keeps the notification from saying it worked.
    const url = new URL(link);
    url.pathname = `${url.pathname.slice(0, -4)}AAAA`;
    const tampered = await fetch(url, { method: 'POST', headers: origin });
    assert.equal(tampered.status, 400);
    assert.equal(tampered.headers.get('access-control-allow-origin'), '*');
  });
});
