import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import vm from 'node:vm';

/**
 * The service worker's pushsubscriptionchange (web/public/sw.js), run from Node with a stand-in `self`:
 * what it posts to Vigil must name the old endpoint, which is what lets the server move the device to the
 * new one (renewal.test.ts) instead of refusing it as a new device.
 */

type Listener = (event: { waitUntil(p: Promise<unknown>): void } & Record<string, unknown>) => void;

interface Posted {
  url: string;
  init: { method?: string; body?: string } | undefined;
}

function loadWorker(): { listeners: Map<string, Listener>; posted: Posted[] } {
  const source = readFileSync(new URL('../../../web/public/sw.js', import.meta.url), 'utf8');
  const listeners = new Map<string, Listener>();
  const posted: Posted[] = [];
  const answer = (body: unknown) => ({ ok: true, status: 200, json: async () => body });
  const self = {
    // sw-actions.js's functions are not what this test is about.
    vigilPush: { notificationOf: () => ({}), clickPlan: () => ({}), headingOf: () => '', keyBytes: () => [] },
    addEventListener: (type: string, listener: Listener) => listeners.set(type, listener),
    registration: {
      pushManager: {
        subscribe: async () => {
          throw new Error('the event brings the new subscription: no subscribe expected');
        },
      },
    },
  };
  const fetch = async (url: string, init?: Posted['init']) => {
    if (url === '/api/console/push/key') return answer({ publicKey: 'key' });
    if (url === '/api/console/session') return answer({ csrfToken: 'csrf' });
    posted.push({ url, init });
    return answer({});
  };
  const caches = { open: async () => ({ match: async () => undefined }) };
  vm.runInNewContext(source, {
    self,
    fetch,
    caches,
    Request: class {
      constructor(readonly url: string) {}
    },
    importScripts: () => undefined,
    console,
    URL,
  });
  return { listeners, posted };
}

async function dispatch(listener: Listener, event: Record<string, unknown>): Promise<void> {
  let done: Promise<unknown> = Promise.resolve();
  listener({ ...event, waitUntil: (p) => (done = p) });
  await done;
}

const subscription = (endpoint: string) => ({
  endpoint,
  toJSON: () => ({ endpoint, expirationTime: null, keys: { p256dh: 'p', auth: 'a' } }),
});

describe("the service worker's renewed subscription", () => {
  it('posts the new subscription with the endpoint it replaces', async () => {
    const { listeners, posted } = loadWorker();
    const change = listeners.get('pushsubscriptionchange');
    assert.ok(change);
    await dispatch(change, {
      oldSubscription: subscription('https://fcm.googleapis.com/fcm/send/old'),
      newSubscription: subscription('https://fcm.googleapis.com/fcm/send/new'),
    });
    assert.equal(posted.length, 1);
    assert.equal(posted[0]!.url, '/api/console/push/subscriptions');
    const body = JSON.parse(posted[0]!.init?.body ?? '{}') as Record<string, unknown>;
    assert.equal(body.endpoint, 'https://fcm.googleapis.com/fcm/send/new');
    assert.equal(body.oldEndpoint, 'https://fcm.googleapis.com/fcm/send/old');
  });

  it('posts no oldEndpoint when the browser gives no old subscription', async () => {
    const { listeners, posted } = loadWorker();
    await dispatch(listeners.get('pushsubscriptionchange')!, {
      oldSubscription: null,
      newSubscription: subscription('https://fcm.googleapis.com/fcm/send/new'),
    });
    const body = JSON.parse(posted[0]!.init?.body ?? '{}') as Record<string, unknown>;
    assert.equal(body.endpoint, 'https://fcm.googleapis.com/fcm/send/new');
    assert.ok(!('oldEndpoint' in body), JSON.stringify(body));
  });
});
