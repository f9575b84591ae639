import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Webhook } from 'standardwebhooks';
import type { AlertEvent } from '../../alerts/events.js';
import { loadConfig } from '../../config.js';
import type { Db } from '../../db/database.js';
import { createLogger } from '../../logger.js';
import { startWebhookReceiver, type WebhookReceiver } from '../../testing/webhook-receiver.js';
import { systemClock } from '../../work/clock.js';
import { isPrivateAddress } from './address-guard.js';
import { nextAttemptAt, RETRY_SCHEDULE_MS } from './deliveries.js';
import type { AlertSnapshot, TeamDelivery, TeamDeliveryContext } from './kind.js';
import { MAX_PAYLOAD_BYTES } from './payload.js';
import { retryAfterMs } from '../retry-after.js';
import { generateSecret, maskSecret, webhookKind } from './webhook.js';

/** The webhook kind on its own: its config, what it signs and sends, and how it reads the answers. */

const config = loadConfig({ VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1' });
const setup = { config };
const context: TeamDeliveryContext = {
  // The webhook kind keeps no state of its own.
  db: undefined as unknown as Db,
  log: createLogger('silent'),
  clock: systemClock,
  config,
  // A webhook posts through its own guarded agent (post.ts), never through the providers' fetch.
  fetch: () => Promise.reject(new Error('the webhook kind used the providers’ fetch')),
};

let receiver: WebhookReceiver;
before(async () => {
  receiver = await startWebhookReceiver();
});
after(async () => {
  await receiver?.close();
});

function parse(input: Record<string, unknown>, previous?: Record<string, unknown>) {
  return webhookKind.parseConfig(input, previous, setup);
}

const alert: AlertSnapshot = {
  id: randomUUID(),
  tinyId: '7',
  alias: 'disk-full',
  message: 'Disk full on db-1',
  status: 'open',
  acknowledged: false,
  isSeen: false,
  tags: ['db'],
  snoozed: false,
  count: 1,
  lastOccurredAt: new Date().toISOString(),
  createdAt: new Date().toISOString(),
  updatedAt: new Date().toISOString(),
  source: 'prometheus',
  owner: '',
  priority: 'P1',
  responders: [],
  integration: { id: '', name: 'API', type: 'API' },
  report: {},
  actions: [],
  entity: 'db-1',
  description: 'The disk is full.',
  details: { region: 'eu-west-1' },
  visibleTo: [],
};

function deliveryTo(path: string, secret: string, overrides: Partial<TeamDelivery> = {}): TeamDelivery {
  const event: AlertEvent = {
    type: 'acknowledged',
    eventId: randomUUID(),
    alertId: alert.id,
    orgId: randomUUID(),
    at: new Date().toISOString(),
    actor: { kind: 'user', name: 'Pat', userId: randomUUID() },
    note: 'on it',
    seq: 42,
  };
  return {
    deliveryId: randomUUID(),
    attempt: 1,
    destination: {
      id: randomUUID(),
      orgId: event.orgId,
      name: 'ops hook',
      teamId: randomUUID(),
      integrationId: null,
      config: { url: receiver.url + path, secret },
    },
    event,
    alert,
    links: { view: `https://vigil.example.com/alerts/${alert.id}` },
    ...overrides,
  };
}

describe('the webhook config', () => {
  it('makes a Standard Webhooks secret when none is given, and masks it but for its last 4 characters', () => {
    const parsed = parse({ url: 'https://hooks.example.com/vigil' });
    assert.ok(parsed.ok);
    const secret = parsed.config.secret as string;
    assert.match(secret, /^whsec_[A-Za-z0-9+/]+=*$/);
    assert.equal(Buffer.from(secret.slice(6), 'base64').length, 32);
    const another = parse({ url: 'https://hooks.example.com/vigil' });
    assert.ok(another.ok);
    assert.notEqual(secret, another.config.secret);
    const shown = webhookKind.present(parsed.config);
    assert.deepEqual(shown, {
      url: 'https://hooks.example.com/vigil',
      secret: `whsec_****${secret.slice(-4)}`,
    });
    assert.ok(!JSON.stringify(shown).includes(secret.slice(6, 20)));
  });

  it('keeps the stored secret when the update leaves it out or sends it back masked', () => {
    const stored = { url: 'https://hooks.example.com/a', secret: generateSecret() };
    const left = parse({ url: 'https://hooks.example.com/b' }, stored);
    assert.deepEqual(left, {
      ok: true,
      config: { url: 'https://hooks.example.com/b', secret: stored.secret },
    });
    const masked = parse({ secret: maskSecret(stored.secret) }, stored);
    assert.deepEqual(masked, { ok: true, config: stored });
    const own = `whsec_${Buffer.alloc(24, 7).toString('base64')}`;
    assert.deepEqual(parse({ secret: own }, stored), { ok: true, config: { url: stored.url, secret: own } });
  });

  it('refuses what it cannot send to, saying why', () => {
    // No host allowed: 127.0.0.1 is refused like any loopback address.
    const strict = { config: loadConfig({}) };
    const refused = (input: Record<string, unknown>, pattern: RegExp) => {
      const parsed = webhookKind.parseConfig(input, undefined, strict);
      assert.equal(parsed.ok, false, JSON.stringify(input));
      assert.match((parsed as { problem: string }).problem, pattern);
    };
    refused({}, /config\.url is required/);
    refused({ url: 'not a url' }, /https URL/);
    refused({ url: 'http://hooks.example.com/x' }, /must be https.*VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS/);
    refused({ url: 'ftp://hooks.example.com/x' }, /https URL/);
    refused({ url: 'https://user:pw@hooks.example.com/x' }, /user name or password/);
    refused({ url: `https://hooks.example.com/${'a'.repeat(3000)}` }, /at most 2048/);
    // SSRF: loopback, private, link-local (cloud metadata), IPv6 forms of them, local names.
    for (const host of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '192.168.1.1',
      '169.254.169.254',
      '0.0.0.0',
      '[::1]',
      '[::ffff:127.0.0.1]',
      '[fd00::1]',
      '[fe80::1]',
      'localhost',
      'metadata.google.internal',
      'intranet',
    ]) {
      refused({ url: `https://${host}/hook` }, /refused: .* (address|local name)/);
    }
    refused({ url: 'https://hooks.example.com/x', secret: 'plain' }, /whsec_ followed by base64/);
    refused({ url: 'https://hooks.example.com/x', secret: 'whsec_AAAA' }, /24 to 64 bytes/);
    refused({ url: 'https://hooks.example.com/x', secret: 42 }, /must be a string/);
    refused({ url: 'https://hooks.example.com/x', channel: '#ops' }, /config\.channel is not a setting/);
  });

  it('lets plain http and private addresses through for the hosts an operator allows', () => {
    assert.ok(parse({ url: 'http://127.0.0.1:8080/hook' }).ok);
    assert.ok(parse({ url: 'https://127.0.0.1/hook' }).ok);
    const strict = webhookKind.parseConfig({ url: 'http://127.0.0.1:8080/hook' }, undefined, {
      config: loadConfig({}),
    });
    assert.equal(strict.ok, false);
  });

  it('tells private and reserved addresses from public ones', () => {
    for (const a of [
      '127.0.0.1',
      '10.0.0.1',
      '100.64.1.1',
      '::1',
      '::ffff:10.0.0.1',
      '::ffff:a00:1',
      '64:ff9b::a9fe:a9fe',
      '2002:7f00:1::1',
      'fc00::1',
    ])
      assert.equal(isPrivateAddress(a), true, a);
    for (const a of ['93.184.216.34', '2606:4700:4700::1111', '::ffff:8.8.8.8', '1.1.1.1'])
      assert.equal(isPrivateAddress(a), false, a);
  });
});

describe('sending', () => {
  it('signs so that the standardwebhooks library verifies it, and a tampered body fails', async () => {
    const secret = generateSecret();
    receiver.endpoint('/signed', secret);
    const delivery = deliveryTo('/signed', secret);
    const result = await webhookKind.deliver(delivery, context);
    assert.equal(result.status, 'sent', JSON.stringify(result));
    const [got] = receiver.received('/signed');
    assert.ok(got);
    assert.equal(got.id, delivery.event.eventId);
    assert.equal(got.userAgent, 'Vigil');
    assert.equal(got.contentType, 'application/json');
    assert.ok(Math.abs(Number(got.timestamp) - Date.now() / 1000) < 60);
    assert.match(got.signature, /^v1,[A-Za-z0-9+/]+=*$/);
    assert.equal(got.body.type, 'alert.acknowledged');
    assert.equal(got.body.timestamp, delivery.event.at);
    assert.equal(got.body.data.alert.id, alert.id);
    assert.equal(got.body.data.alert.url, delivery.links.view);
    assert.equal(got.body.data.alert.message, 'Disk full on db-1');
    assert.equal(got.body.data.event.note, 'on it');
    assert.deepEqual(got.body.data.event.actor, { kind: 'user', name: 'Pat' });
    // Nothing internal: the organization, the order of changes.
    assert.ok(!got.raw.includes(delivery.destination.orgId));
    assert.equal(got.body.data.event.seq, undefined);

    const headers = {
      'webhook-id': got.id,
      'webhook-timestamp': got.timestamp,
      'webhook-signature': got.signature,
    };
    const verifier = new Webhook(secret);
    assert.deepEqual(verifier.verify(got.raw, headers), got.body);
    assert.throws(() => verifier.verify(got.raw.replace('on it', 'on It'), headers), /signature/i);
    assert.throws(() => verifier.verify(got.raw, { ...headers, 'webhook-id': randomUUID() }), /signature/i);
    assert.throws(() => new Webhook(generateSecret()).verify(got.raw, headers), /signature/i);
  });

  it('reproduces the Standard Webhooks test vector through the library it signs with', () => {
    const signature = new Webhook('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw').sign(
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      new Date(1614265330 * 1000),
      '{"test": 2432232314}',
    );
    assert.equal(signature, 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('reads the answers: 2xx sent, 410 gone, redirects not followed, others retried after Retry-After', async () => {
    const secret = generateSecret();
    receiver.endpoint('/answers', secret);
    receiver.endpoint('/elsewhere', secret);
    receiver.answerNext(
      '/answers',
      200,
      { status: 410, body: 'unsubscribed' },
      { status: 302, headers: { location: `${receiver.url}/elsewhere` } },
      { status: 503, headers: { 'retry-after': '120' }, body: 'down for maintenance' },
      400,
    );
    const send = () => webhookKind.deliver(deliveryTo('/answers', secret), context);
    assert.deepEqual(await send(), { status: 'sent', detail: 'HTTP 200', response: { status: 200 } });
    const gone = await send();
    assert.equal(gone.status, 'gone');
    assert.deepEqual(gone.response, { status: 410, excerpt: 'unsubscribed' });
    const redirected = await send();
    assert.equal(redirected.status, 'retry');
    assert.match(
      (redirected as { error: string }).error,
      /302, a redirect to .*elsewhere, which is not followed/,
    );
    assert.equal(receiver.received('/elsewhere').length, 0);
    const unavailable = await send();
    assert.equal(unavailable.status, 'retry');
    assert.equal((unavailable as { retryAfterMs?: number }).retryAfterMs, 120_000);
    assert.match((unavailable as { error: string }).error, /answered 503: down for maintenance/);
    const bad = await send();
    assert.equal(bad.status, 'retry');
  });

  it('retries what a receiver that cannot verify refuses (a wrong secret), and what does not answer', async () => {
    receiver.endpoint('/wrong-secret', generateSecret());
    const refused = await webhookKind.deliver(deliveryTo('/wrong-secret', generateSecret()), context);
    assert.equal(refused.status, 'retry');
    assert.equal(refused.response?.status, 400);
    assert.equal(receiver.refused('/wrong-secret').length, 1);

    const closed = await webhookKind.deliver(
      deliveryTo('', generateSecret(), {
        destination: {
          ...deliveryTo('', '').destination,
          config: { url: 'http://127.0.0.1:1/x', secret: generateSecret() },
        },
      }),
      context,
    );
    assert.equal(closed.status, 'retry');
    assert.match((closed as { error: string }).error, /could not reach 127\.0\.0\.1:1/);
  });

  it('does not send to a host the operator no longer allows', async () => {
    const secret = generateSecret();
    receiver.endpoint('/no-longer', secret);
    const result = await webhookKind.deliver(deliveryTo('/no-longer', secret), {
      ...context,
      config: loadConfig({}),
    });
    assert.equal(result.status, 'failed');
    assert.equal(receiver.received('/no-longer').length, 0);
  });

  it('keeps the body under 20 KB however large the alert, and says it was cut', async () => {
    const secret = generateSecret();
    receiver.endpoint('/large', secret);
    const big: AlertSnapshot = {
      ...alert,
      description: 'x'.repeat(15_000),
      details: Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`key${i}`, 'é'.repeat(400)])),
      tags: Array.from({ length: 500 }, (_, i) => `tag-${i}`),
    };
    const result = await webhookKind.deliver(deliveryTo('/large', secret, { alert: big }), context);
    assert.equal(result.status, 'sent');
    const [got] = receiver.received('/large');
    assert.ok(got);
    assert.ok(Buffer.byteLength(got.raw) <= MAX_PAYLOAD_BYTES, `${Buffer.byteLength(got.raw)} bytes`);
    assert.equal(got.body.data.truncated, true);
    assert.equal(got.body.data.alert.id, alert.id);
    assert.equal(got.body.data.alert.message, alert.message);
  });

  it('sends a test event without an alert', async () => {
    const secret = generateSecret();
    receiver.endpoint('/test-event', secret);
    const base = deliveryTo('/test-event', secret);
    const result = await webhookKind.deliver(
      {
        ...base,
        alert: undefined,
        event: {
          type: 'test',
          eventId: randomUUID(),
          orgId: base.destination.orgId,
          at: new Date().toISOString(),
          actor: { kind: 'user', name: 'Pat' },
        },
      },
      context,
    );
    assert.equal(result.status, 'sent');
    const [got] = receiver.received('/test-event');
    assert.equal(got?.body.type, 'test');
    assert.equal(got?.body.data.alert, null);
    assert.match(got?.body.data.event.message, /A test of the destination "ops hook"/);
  });
});

describe('the retry schedule', () => {
  it("follows Standard Webhooks' schedule from the first attempt, with jitter, for a day", () => {
    const first = new Date('2030-01-01T00:00:00Z');
    for (let attempts = 1; attempts <= RETRY_SCHEDULE_MS.length; attempts++) {
      const offset = RETRY_SCHEDULE_MS[attempts - 1] ?? 0;
      const previous = RETRY_SCHEDULE_MS[attempts - 2] ?? 0;
      const next = nextAttemptAt(attempts, first, first);
      assert.ok(next);
      const at = next.getTime() - first.getTime();
      assert.ok(
        at >= Math.max(1000, previous + (offset - previous) * 0.9) &&
          at <= previous + (offset - previous) * 1.1,
        `${attempts}: ${at}`,
      );
    }
    assert.equal(RETRY_SCHEDULE_MS.at(-1), 24 * 3600_000);
    assert.equal(nextAttemptAt(RETRY_SCHEDULE_MS.length + 1, first, first), undefined);
  });

  it('waits for a later Retry-After', () => {
    const first = new Date('2030-01-01T00:00:00Z');
    const next = nextAttemptAt(1, first, first, 600_000);
    assert.equal(next?.getTime(), first.getTime() + 600_000);
    assert.equal(retryAfterMs('120', first), 120_000);
    assert.equal(retryAfterMs(new Date(first.getTime() + 30_000).toUTCString(), first), 30_000);
    assert.equal(retryAfterMs('soon', first), undefined);
    assert.equal(retryAfterMs('99999999', first), 24 * 3600_000);
  });
});
