import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import type { Principal } from '../accounts/service.js';
import { ApiError } from '../http/errors.js';
import { credentialOf, type HttpApp } from '../http/server.js';
import { startTestServer, waitFor, type TestServer } from '../testing/harness.js';
import { openLiveStream } from '../testing/live-stream.js';
import { ShiftedClock } from '../work/clock.js';
import type { AlertFeed, ChangeListener } from './live.js';
import { ALERT_REPLAY_MARGIN_MS } from './live-replay.js';
import { KEEP_ALIVE_MS, registerLiveAlertRoutes } from './live-routes.js';

/**
 * The console's event stream as a browser reads it: the feed's position at the opening, with each
 * change and with each keep-alive, and what was missed (`?replay=` for a new page, `?after=` a position
 * for a stream that follows another) told first.
 */

let server: TestServer;
const clock = new ShiftedClock();
const streams: AbortController[] = [];

before(async () => {
  server = await startTestServer({ role: 'api', clock });
});

after(async () => {
  for (const stream of streams) stream.abort();
  await server?.stop();
});

interface Stream {
  status: number;
  /** Everything received so far. */
  text(): string;
  /** The last position received, in a `position` or an `alerts` event. */
  lastPosition(): string | undefined;
}

async function openStream(query = ''): Promise<Stream> {
  const stream = await openLiveStream(server.url, server.key, { query, track: streams });
  return {
    status: stream.status,
    text: stream.text,
    lastPosition: () => [...stream.text().matchAll(/"([0-9a-f-]{36}\.\d+)"/g)].at(-1)?.[1],
  };
}

async function createdAlert(alias: string): Promise<string> {
  await server.callOk('POST', '/v2/alerts', { message: alias, alias });
  return waitFor(`alert ${alias}`, async () => {
    const got = await server.call('GET', `/v2/alerts/${alias}?identifierType=alias`);
    return got.status === 200 && (got.body.data.id as string);
  });
}

const announces = (stream: Stream, id: string) =>
  stream.text().includes(`event: alerts\ndata: {"ids":["${id}"],"more":false,"position":"`);

describe('the console event stream', () => {
  it('gives positions, and tells a new stream what it missed since one or in a time', async () => {
    const first = await openStream();
    assert.equal(first.status, 200);
    await waitFor('the first position', async () => first.lastPosition() !== undefined);
    // The process hears everything from when the first stream's wish was written: move past the margin.
    clock.advance(2 * ALERT_REPLAY_MARGIN_MS);

    const missed = await createdAlert('stream-missed');
    await waitFor('the first stream to be told', async () => announces(first, missed));
    clock.advance(1);

    const newPage = await openStream('?replay=1000');
    await waitFor('the new page to be told what it missed, then where it is', async () => {
      const text = newPage.text();
      return announces(newPage, missed) && text.lastIndexOf('event: position') > text.indexOf(missed);
    });
    // Its first position is where the replay began, so a drop in the middle of it loses nothing.
    const events = newPage.text().split('\n\n');
    const opening = events.findIndex((e) => e.startsWith('event: position'));
    assert.ok(opening >= 0 && opening < events.findIndex((e) => e.includes(missed)), newPage.text());

    // A stream that follows another, from the position the new page was left at (once told what it
    // missed, a moment later), hears only what came after it.
    const position = newPage.lastPosition();
    const resumed = await openStream(`?after=${encodeURIComponent(String(position))}`);
    await waitFor('the resumed stream to open', async () => resumed.lastPosition() !== undefined);
    const later = await createdAlert('stream-later');
    await waitFor('the resumed stream to be told', async () => announces(resumed, later));
    assert.ok(!resumed.text().includes(missed), resumed.text());

    // A position it did not give: it says to fetch everything.
    const unknown = await openStream('?after=somewhere-else.1');
    await waitFor('more', async () => unknown.text().includes('"more":true'));
  });

  it('tells a deleted alert as `more`: it can no longer be looked up to say who may see it', async () => {
    const stream = await openStream();
    await waitFor('the position', async () => stream.lastPosition() !== undefined);
    const doomed = await createdAlert('stream-deleted');
    await waitFor('the creation told', async () => announces(stream, doomed));
    const before = stream.text().length;
    await server.callOk('DELETE', `/v2/alerts/${doomed}`);
    await waitFor('the deletion told', async () =>
      stream.text().slice(before).includes('event: alerts\ndata: {"ids":[],"more":true,'),
    );
  });

  it('refuses a replay that is not a number of milliseconds', async () => {
    for (const query of ['?replay=-1', '?replay=soon', '?replay=86400001']) {
      const stream = await openStream(query);
      assert.equal(stream.status, 422, `${query}: ${stream.text()}`);
    }
  });
});

/**
 * The stream's own rules, on an app of its own: a fake feed that the test announces changes on, and a
 * visibility whose queries it counts (and may hold back). A key `org/name` is of organization `org`.
 */
describe('the console event stream, against a fake feed', () => {
  let app: HttpApp;
  let base: string;
  const fakeClock = new ShiftedClock();
  const listeners = new Map<string, Set<ChangeListener>>();
  let unsubscribed = 0;
  /** The keys that no longer authenticate. */
  const revoked = new Set<string>();
  /** What authenticating these keys again throws (a database that is down, say), while set. */
  const failing = new Map<string, Error>();
  /** The times a stream's key was authenticated again, by key. */
  const reauthenticated = new Map<string, number>();
  /** While set, a request of these keys waits for it before its authentication, and says it waits. */
  const heldRequests = new Map<string, { release: Promise<void>; waiting(): void }>();
  /** The visibility queries asked, by organization. */
  const queries = new Map<string, number>();
  /** While set, the visibility queries of these organizations wait for it. */
  const held = new Map<string, Promise<void>>();
  const principalOfKey = (key: string): Principal => ({
    orgId: key.split('/')[0] ?? '',
    apiKeyId: key,
    userId: undefined,
    username: undefined,
    fullName: undefined,
    role: 'admin',
  });

  const feed: AlertFeed = {
    subscribe(orgId, onChange) {
      let set = listeners.get(orgId);
      if (!set) listeners.set(orgId, (set = new Set()));
      set.add(onChange);
      let subscribed = true;
      return {
        ready: Promise.resolve(),
        from: 'start',
        position: () => 'now',
        unsubscribe() {
          if (!subscribed) return;
          subscribed = false;
          unsubscribed++;
          set.delete(onChange);
        },
      };
    },
    close: async () => {},
  };
  const announce = (orgId: string, ids: string[], position = 'p') => {
    for (const onChange of listeners.get(orgId) ?? []) onChange({ ids, more: false }, position);
  };

  before(async () => {
    app = Fastify().withTypeProvider<TypeBoxTypeProvider>() as unknown as HttpApp;
    app.addHook('preHandler', async (request) => {
      const credential = credentialOf(request.headers);
      if (!credential || !('key' in credential)) throw new ApiError(401, 'unknown key');
      const hold = heldRequests.get(credential.key);
      if (hold) {
        hold.waiting();
        await hold.release;
      }
      if (revoked.has(credential.key)) throw new ApiError(401, 'unknown key');
      request.principal = principalOfKey(credential.key);
    });
    registerLiveAlertRoutes(app, feed, {
      async authenticate(credential) {
        if (!('key' in credential)) throw new ApiError(401, 'unknown key');
        reauthenticated.set(credential.key, (reauthenticated.get(credential.key) ?? 0) + 1);
        const failure = failing.get(credential.key);
        if (failure) throw failure;
        if (revoked.has(credential.key)) throw new ApiError(401, 'unknown key');
        return principalOfKey(credential.key);
      },
      visibility: {
        scopeOf: async (p) => ({ orgId: p.orgId }),
        async among(scope, ids) {
          queries.set(scope.orgId, (queries.get(scope.orgId) ?? 0) + 1);
          await held.get(scope.orgId);
          return [...ids];
        },
      },
      clock: fakeClock,
      streamsPerProcess: 12,
    });
    base = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  after(async () => {
    for (const stream of streams) stream.abort();
    await app?.close();
  });

  const openWith = (key: string) => openLiveStream(base, key, { track: streams });
  const turns = async (n: number) => {
    for (let i = 0; i < n; i++) await new Promise((resolve) => setImmediate(resolve));
  };

  it('lets a key have five streams open, ends its oldest for a sixth, and refuses a process too many with 503', async () => {
    const five: Awaited<ReturnType<typeof openWith>>[] = [];
    for (let i = 0; i < 5; i++) {
      five.push(await openWith('limits/one'));
      // Each opened before the next: the first is the oldest.
      await waitFor('the stream to open', async () => five.at(-1)?.text().includes('"start"') === true);
    }
    assert.deepEqual(
      five.map((s) => s.status),
      [200, 200, 200, 200, 200],
    );
    // The sixth is taken: the oldest is told to wait before connecting again, and ended.
    const sixth = await openWith('limits/one');
    assert.equal(sixth.status, 200, sixth.text());
    await waitFor('the oldest to end', async () => five[0]?.ended() === true);
    assert.match(five[0]?.text() ?? '', /event: evicted\ndata: /);
    await turns(5);
    assert.deepEqual(
      five.slice(1).map((s) => s.ended()),
      [false, false, false, false],
    );
    assert.ok(!sixth.ended());
    assert.equal(listeners.get('limits')?.size, 5);
    // Another key is counted apart.
    assert.equal((await openWith('limits/two')).status, 200);
    // One closed, the key may open another without ending any.
    const before = unsubscribed;
    five[1]?.close();
    await waitFor('the server to see the stream close', async () => unsubscribed > before);
    assert.equal((await openWith('limits/one')).status, 200);
    await turns(5);
    assert.equal(five[2]?.ended(), false);
    // 6 open: six more of other keys reach the process's 12, the next is refused.
    for (let i = 0; i < 6; i++) assert.equal((await openWith(`limits/k${i}`)).status, 200);
    const over = await openWith('limits/k6');
    assert.equal(over.status, 503, over.text());
    for (const controller of streams) controller.abort();
    await waitFor('the streams to close', async () => listeners.get('limits')?.size === 0);
  });

  it('counts no stream whose browser left while its request was being authenticated', async () => {
    let release!: () => void;
    let waiting!: () => void;
    const waited = new Promise<void>((resolve) => (waiting = resolve));
    heldRequests.set('gone/key', {
      release: new Promise<void>((resolve) => (release = resolve)),
      waiting: () => waiting(),
    });
    const request = http.get(`${base}/api/console/events`, {
      headers: { authorization: 'GenieKey gone/key' },
      agent: false,
    });
    request.on('error', () => {});
    await waited;
    heldRequests.delete('gone/key');
    // The browser leaves while its request is authenticated; the server then goes on with it.
    const closed = new Promise<void>((resolve) => request.on('close', () => resolve()));
    request.destroy();
    await closed;
    await new Promise((resolve) => setTimeout(resolve, 50));
    release();
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(listeners.get('gone')?.size ?? 0, 0, 'nothing is subscribed for it');
    // The caller still has all five streams, none ended to make room.
    const five: Awaited<ReturnType<typeof openWith>>[] = [];
    for (let i = 0; i < 5; i++) five.push(await openWith('gone/key'));
    assert.deepEqual(
      five.map((s) => s.status),
      [200, 200, 200, 200, 200],
    );
    await waitFor('the streams to open', async () => five.every((s) => s.text().includes('"start"')));
    await turns(5);
    assert.deepEqual(
      five.map((s) => s.ended() || s.text().includes('evicted')),
      [false, false, false, false, false],
    );
    assert.equal(listeners.get('gone')?.size, 5);
    for (const stream of five) stream.close();
    await waitFor('the streams to close', async () => listeners.get('gone')?.size === 0);
  });

  it('ends a stream whose browser stops reading', async () => {
    const got = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const request = http.get(`${base}/api/console/events`, {
        headers: { authorization: 'GenieKey paused/key' },
        agent: false,
      });
      request.on('response', resolve).on('error', reject);
    });
    assert.equal(got.statusCode, 200);
    got.pause();
    const before = unsubscribed;
    const ids = Array.from(
      { length: 100 },
      (_, i) => `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    );
    // Some 4 KB per event, up to 80 MB: far beyond what the sockets hold.
    for (let i = 0; i < 20_000 && unsubscribed === before; i++) {
      announce('paused', ids);
      await turns(1);
    }
    assert.equal(unsubscribed, before + 1, 'the server ended the stream');
    got.destroy();
  });

  it('runs no query for a change it tells after the browser left', async () => {
    let release!: () => void;
    held.set('left', new Promise<void>((resolve) => (release = resolve)));
    const stream = await openWith('left/key');
    await waitFor('the stream to open', async () => stream.text().includes('"start"'));
    announce('left', ['a']);
    await waitFor('the first query', async () => queries.get('left') === 1);
    announce('left', ['b']);
    const before = unsubscribed;
    stream.close();
    await waitFor('the server to see the stream close', async () => unsubscribed > before);
    release();
    await turns(5);
    assert.equal(queries.get('left'), 1);
  });

  it('tells a backlog of changes as one `more`', async () => {
    let release!: () => void;
    held.set('slow', new Promise<void>((resolve) => (release = resolve)));
    const stream = await openWith('slow/key');
    await waitFor('the stream to open', async () => stream.text().includes('"start"'));
    announce('slow', ['first'], 'p1');
    await waitFor('the first query', async () => queries.get('slow') === 1);
    // Eleven waiting, more than ten: told as one `more` at the last one's position.
    for (let i = 0; i < 11; i++) announce('slow', [`later-${i}`], `p${i + 2}`);
    release();
    await waitFor('the backlog told', async () => stream.text().includes('"more":true'));
    assert.equal(queries.get('slow'), 1);
    assert.match(stream.text(), /"ids":\["first"\],"more":false,"position":"p1"/);
    assert.match(stream.text(), /"ids":\[\],"more":true,"position":"p12"/);
    assert.doesNotMatch(stream.text(), /later-/);
    stream.close();
  });

  it('ends a stream at its next keep-alive once its key no longer authenticates', async () => {
    const stream = await openWith('revoked/key');
    await waitFor('the stream to open', async () => stream.text().includes('"start"'));
    revoked.add('revoked/key');
    fakeClock.advance(KEEP_ALIVE_MS);
    await waitFor('the stream to end', async () => stream.ended());
    assert.equal(listeners.get('revoked')?.size, 0);
  });

  it('keeps a stream whose caller could not be authenticated again for another reason, and ends it on a 401', async () => {
    const key = 'blip/key';
    const stream = await openWith(key);
    await waitFor('the stream to open', async () => stream.text().includes('"start"'));
    // The database is down for a moment: the keep-alive cannot tell, and the stream goes on.
    failing.set(key, new Error('timeout exceeded when trying to connect'));
    const tried = reauthenticated.get(key) ?? 0;
    fakeClock.advance(KEEP_ALIVE_MS);
    await waitFor('the keep-alive to try', async () => (reauthenticated.get(key) ?? 0) > tried);
    await turns(10);
    assert.equal(stream.ended(), false, 'the stream goes on');
    assert.equal(listeners.get('blip')?.size, 1);
    announce('blip', ['during-blip'], 'p-blip');
    await waitFor('the change to be told', async () => stream.text().includes('during-blip'));
    // It tries again at the next keep-alive: with the caller refused, it ends.
    failing.set(key, new ApiError(401, 'Your console session has ended: sign in again.'));
    const triedAgain = reauthenticated.get(key) ?? 0;
    fakeClock.advance(KEEP_ALIVE_MS);
    await waitFor('the stream to end', async () => stream.ended());
    assert.ok((reauthenticated.get(key) ?? 0) > triedAgain);
    assert.equal(listeners.get('blip')?.size, 0);
    failing.delete(key);
  });
});
