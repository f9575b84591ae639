import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { makeTestCertificate } from '../../testing/network.js';
import { postJson, PostError } from './post.js';

/**
 * postJson against a local receiver that counts the connections it accepts: posts reuse a kept
 * connection; a kept connection the receiver drops as a post goes out is answered by sending again; the
 * connection of an answer cut at the excerpt, or of a post past its deadline, is ended.
 */

let server: http.Server;
let url: URL;
let connections = 0;
/** Requests seen, by path. */
const seen = new Map<string, number>();
/** Connections that have carried a request already: a `/drop-reused` post on one is dropped unanswered. */
const used = new WeakSet<object>();
/** The connection each path was last asked on. */
const socketOf = new Map<string, Socket>();

before(async () => {
  server = http.createServer((req, res) => {
    const path = req.url ?? '';
    seen.set(path, (seen.get(path) ?? 0) + 1);
    const reused = used.has(req.socket);
    used.add(req.socket);
    socketOf.set(path, req.socket);
    if (path === '/drop-reused' && reused) {
      req.socket.destroy();
      return;
    }
    if (path === '/slow') return; // never answered
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'text/plain');
      res.end(path === '/long' ? 'x'.repeat(10_000) : 'ok');
    });
  });
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = new URL(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
});

after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const post = (path: string, timeoutMs = 5000) =>
  postJson(
    new URL(path, url),
    '{"a":1}',
    { 'content-type': 'application/json' },
    {
      timeoutMs,
      allowPrivate: true,
      excerptBytes: 64,
    },
  );

/** Resolves when the receiver's side of the connection has closed (the test's timeout if never). */
function closed(socket: Socket | undefined): Promise<void> {
  assert.ok(socket);
  if (socket.destroyed) return Promise.resolve();
  return new Promise((resolve) => socket.once('close', () => resolve()));
}

describe('a POST to a team destination', () => {
  it('reuses one kept connection for posts one after another', async () => {
    const before = connections;
    for (let i = 0; i < 5; i++) {
      const answer = await post('/hook');
      assert.equal(answer.status, 200);
      assert.equal(answer.excerpt, 'ok');
    }
    assert.equal(connections - before, 1);
  });

  it('sends again, once, when the receiver drops a kept connection as the post goes out', async () => {
    await post('/warm'); // leaves a kept connection that has carried a request
    const before = connections;
    const answer = await post('/drop-reused');
    assert.equal(answer.status, 200);
    assert.equal(seen.get('/drop-reused'), 2);
    assert.equal(connections - before, 1);
  });

  it('ends the connection of an answer cut at the excerpt, and of a post past its deadline', async () => {
    const cut = await post('/long');
    assert.equal(cut.excerpt.length, 64);
    await closed(socketOf.get('/long'));
    await assert.rejects(post('/slow', 200), /no answer within 0 s/);
    await closed(socketOf.get('/slow'));
  });
});

/** The PostError `attempt` rejects with. */
async function postErrorOf(attempt: Promise<unknown>): Promise<PostError> {
  const error = await attempt.then(
    () => assert.fail('the post was answered'),
    (e: unknown) => e,
  );
  assert.ok(error instanceof PostError, String(error));
  return error;
}

/** A port on 127.0.0.1 that nothing listens on. */
async function closedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise((resolve) => probe.close(resolve));
  return port;
}

/**
 * Whether a failed post may have reached the receiver: only once its connection was made (over TLS, the
 * handshake done). A failure before that tells the delivery queue the receiver was not told.
 */
describe('a POST to a team destination that fails', () => {
  it('says no request was written when the connection is refused', async () => {
    const refused = await postErrorOf(
      postJson(
        new URL(`http://127.0.0.1:${await closedPort()}/hook`),
        '{}',
        {},
        {
          timeoutMs: 5000,
          allowPrivate: true,
        },
      ),
    );
    assert.match(refused.message, /ECONNREFUSED/);
    assert.equal(refused.mayHaveBeenWritten, false);
  });

  it('says no request was written when the guard refuses the address', async () => {
    // A name, checked at connection (an address literal is refused before any post: webhook.ts).
    const named = new URL(`http://localhost:${url.port}/hook`);
    const guarded = await postErrorOf(postJson(named, '{}', {}, { timeoutMs: 5000, allowPrivate: false }));
    assert.match(guarded.message, /private or reserved address/);
    assert.equal(guarded.mayHaveBeenWritten, false);
  });

  it('says no request was written when the TLS certificate is refused', async () => {
    const { cert, key } = await makeTestCertificate(['localhost']);
    const tls = https.createServer({ cert, key }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => tls.listen(0, '127.0.0.1', resolve));
    try {
      const untrusted = await postErrorOf(
        postJson(
          new URL(`https://localhost:${(tls.address() as AddressInfo).port}/hook`),
          '{}',
          {},
          { timeoutMs: 5000, allowPrivate: true },
        ),
      );
      assert.match(untrusted.message, /certificate/);
      assert.equal(untrusted.mayHaveBeenWritten, false);
    } finally {
      tls.closeAllConnections();
      await new Promise((resolve) => tls.close(resolve));
    }
  });

  it('says the request may have been written when the receiver takes it and never answers', async () => {
    const late = await postErrorOf(post('/slow', 200));
    assert.match(late.message, /no answer within/);
    assert.equal(late.mayHaveBeenWritten, true);
  });
});

describe('a POST to a team destination through HTTPS_PROXY', () => {
  it('refuses a name that resolves to a private address before asking the proxy to connect', async () => {
    // A CONNECT proxy that only records what it is asked to reach, and refuses it.
    const asked: string[] = [];
    const proxy = http.createServer();
    proxy.on('connect', (req: http.IncomingMessage, socket: Socket) => {
      asked.push(req.url ?? '');
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const saved = { HTTPS_PROXY: process.env.HTTPS_PROXY, NO_PROXY: process.env.NO_PROXY };
    process.env.HTTPS_PROXY = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
    delete process.env.NO_PROXY;
    try {
      const guarded = (host: string) =>
        postJson(new URL(`https://${host}/hook`), '{}', {}, { timeoutMs: 5000, allowPrivate: false });
      // localhost resolves to a loopback address here, as a rebinding name would to an internal one.
      const refused = await postErrorOf(guarded('localhost'));
      assert.match(refused.message, /localhost resolves to .*private or reserved address/);
      assert.equal(refused.mayHaveBeenWritten, false);
      await assert.rejects(guarded('[::1]'), /::1 resolves to .*private or reserved address/);
      assert.deepEqual(asked, [], 'the proxy was never asked to connect');
      // A host the operator allowed goes to the proxy as before.
      await assert.rejects(
        postJson(new URL('https://localhost/hook'), '{}', {}, { timeoutMs: 5000, allowPrivate: true }),
      );
      assert.deepEqual(asked, ['localhost:443']);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await new Promise((resolve) => proxy.close(resolve));
    }
  });
});
