import assert from 'node:assert/strict';
import { createECDH } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { vapidKeysOf, type VapidKeys } from '../notify/push/vapid.js';
import { pushRequest, type PushSubscriptionKeys } from '../notify/push/web-push.js';
import { startFakePushService, type BrowserSubscription, type FakePushService } from './fake-push.js';

/** The fake push service refuses what a real one refuses, and decrypts what web-push encrypts. */

let fake: FakePushService;
let vapid: VapidKeys;

function newVapid(): VapidKeys {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return vapidKeysOf(ecdh.getPrivateKey());
}

before(async () => {
  fake = await startFakePushService();
  vapid = newVapid();
});

after(async () => {
  await fake?.close();
});

function request(
  sub: PushSubscriptionKeys,
  payload: string,
  options: { keys?: VapidKeys; subject?: string } = {},
) {
  const keys = options.keys ?? vapid;
  return pushRequest(sub, payload, {
    vapidDetails: { subject: options.subject ?? 'mailto:ops@example.com', ...keys },
    TTL: 60,
    urgency: 'high',
    topic: 'alert-1',
  });
}

async function post(
  endpoint: string,
  details: ReturnType<typeof pushRequest>,
  change: (headers: Record<string, string>) => void = () => {},
) {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(details.headers)) {
    if (k.toLowerCase() !== 'content-length') headers[k] = String(v);
  }
  change(headers);
  const response = await fetch(endpoint, { method: 'POST', headers, body: details.body ?? undefined });
  return { status: response.status, location: response.headers.get('location'), text: await response.text() };
}

function subscribe(): BrowserSubscription {
  return fake.newSubscription({ applicationServerKey: vapid.publicKey });
}

describe('the fake push service', () => {
  it('takes a push web-push made, decrypts it and answers 201 with a Location', async () => {
    const sub = subscribe();
    const answer = await post(sub.endpoint, request(sub, JSON.stringify({ title: 'hello ✓' })));
    assert.equal(answer.status, 201, answer.text);
    assert.match(answer.location ?? '', /^http:\/\/127\.0\.0\.1:\d+\/messages\/\d+$/);
    const [got] = fake.received(sub.endpoint);
    assert.deepEqual(got?.json, { title: 'hello ✓' });
    assert.equal(got?.ttl, 60);
    assert.equal(got?.urgency, 'high');
    assert.equal(got?.topic, 'alert-1');
  });

  it('refuses a push without TTL', async () => {
    const sub = subscribe();
    const answer = await post(sub.endpoint, request(sub, '{}'), (h) => delete h.TTL);
    assert.equal(answer.status, 400);
    assert.match(answer.text, /TTL/);
  });

  it('refuses a bad Urgency or Topic, and another Content-Encoding', async () => {
    const sub = subscribe();
    const details = request(sub, '{}');
    assert.equal((await post(sub.endpoint, details, (h) => (h.Urgency = 'urgent'))).status, 400);
    assert.equal((await post(sub.endpoint, details, (h) => (h.Topic = 'x'.repeat(33)))).status, 400);
    assert.equal((await post(sub.endpoint, details, (h) => (h.Topic = 'a+b'))).status, 400);
    assert.equal((await post(sub.endpoint, details, (h) => (h['Content-Encoding'] = 'aesgcm'))).status, 400);
  });

  it('wants VAPID: 401 without it, 403 for a signature that does not verify', async () => {
    const sub = subscribe();
    const details = request(sub, '{}');
    assert.equal((await post(sub.endpoint, details, (h) => delete h.Authorization)).status, 401);
    const tampered = await post(sub.endpoint, details, (h) => {
      // The signature of another JWT made with the same key: well-formed, but not for this one.
      const other = String(request(sub, '{}', { subject: 'mailto:other@example.com' }).headers.Authorization);
      const signature = /t=[^.]+\.[^.]+\.([^,]+)/.exec(other)?.[1] ?? '';
      h.Authorization = (h.Authorization ?? '').replace(/(t=[^.]+\.[^.]+\.)[^,]+/, `$1${signature}`);
    });
    assert.equal(tampered.status, 403);
    assert.match(tampered.text, /signature/);
    assert.equal(fake.received(sub.endpoint).length, 0);
  });

  it('refuses a JWT for another origin, and a key other than the one subscribed with', async () => {
    const sub = subscribe();
    const elsewhere = request({ ...sub, endpoint: sub.endpoint.replace('127.0.0.1', 'localhost') }, '{}');
    const wrongAud = await post(sub.endpoint, elsewhere);
    assert.equal(wrongAud.status, 403);
    assert.match(wrongAud.text, /aud/);
    const otherKey = await post(sub.endpoint, request(sub, '{}', { keys: newVapid() }));
    assert.equal(otherKey.status, 403);
    assert.match(otherKey.text, /subscription was made with/);
  });

  it('refuses a body it cannot decrypt, and one over 4096 bytes', async () => {
    const sub = subscribe();
    const other = subscribe();
    const forOther = await post(sub.endpoint, request(other, '{}'));
    assert.equal(forOther.status, 400);
    assert.match(forOther.text, /decrypt/);
    const big = await post(sub.endpoint, request(sub, 'x'.repeat(4000)));
    assert.equal(big.status, 413);
  });

  it('answers as scripted: failures, gone and expired', async () => {
    const sub = subscribe();
    fake.failNext(sub.endpoint, 1, 429);
    assert.equal((await post(sub.endpoint, request(sub, '{}'))).status, 429);
    assert.equal((await post(sub.endpoint, request(sub, '{}'))).status, 201);
    fake.gone(sub.endpoint);
    assert.equal((await post(sub.endpoint, request(sub, '{}'))).status, 410);
    fake.expire(sub.endpoint);
    assert.equal((await post(sub.endpoint, request(sub, '{}'))).status, 404);
  });
});
