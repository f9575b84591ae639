import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify from 'fastify';
import type { KyselyPlugin } from 'kysely';
import pg from 'pg';
import { createDb, createPool, type Db } from '../../db/database.js';
import { createAlert, startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { systemClock } from '../../work/clock.js';
import { ATTACHMENT_LINK_PATH, createAttachmentLinks } from './links.js';
import { registerAttachmentRoutes } from './routes.js';
import { ATTACHMENT_READ_PERMITS, createAttachmentsService, DOWNLOAD_CHUNK_BYTES } from './service.js';

/**
 * Downloads of alert attachments are streamed a chunk per statement, never read whole: node-postgres
 * receives bytea as hex text, so a file read in one statement was a string twice its size decoded at once
 * on the event loop (a few concurrent downloads of a 25 MiB file held every request for seconds, and a
 * file over 256 MiB could be stored but never downloaded). A file comes back byte for byte with the same
 * headers; no statement reads more than a chunk. At most ATTACHMENT_READ_PERMITS chunks are read at once,
 * a permit held for one statement only: clients that stop reading hold none (and are cut off once they
 * take nothing for a while), reads beyond the permits wait their turn holding no connection, and only a
 * first chunk that waits too long is a 503 to retry. HEAD answers the headers and reads none of the bytes.
 */

const PUBLIC_URL = 'https://vigil.example.test';
/** Larger than the loopback socket's buffers, so a client that stops reading holds its download open. */
const BIG = 20 * DOWNLOAD_CHUNK_BYTES + 12_345;

let server: TestServer;
let db: pg.Client;
let bigBytes: Buffer;
let bigPath: string;

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/** Uploads `bytes` to a new alert; the alert's and the attachment's ids. */
async function attach(bytes: Buffer, name: string): Promise<{ alertId: string; attachmentId: string }> {
  const alertId = await createAlert(server, { message: 'download streaming', alias: randomUUID() });
  const form = new FormData();
  form.append('file', new Blob([bytes], { type: 'application/octet-stream' }), name);
  const response = await fetch(`${server.url}/v2/alerts/${alertId}/attachments`, {
    method: 'POST',
    headers: { authorization: `GenieKey ${server.key}` },
    body: form,
  });
  const body = (await response.json()) as Json;
  assert.equal(response.status, 200, JSON.stringify(body));
  return { alertId, attachmentId: String(body.data.id) };
}

/** The path of a fresh download link. */
async function linkPath(alertId: string, attachmentId: string): Promise<string> {
  const got = await server.callOk('GET', `/v2/alerts/${alertId}/attachments/${attachmentId}`);
  return new URL(got.data.url as string).pathname;
}

async function download(path: string, signal?: AbortSignal) {
  const response = await fetch(server.url + path, { signal });
  return { response, bytes: Buffer.from(await response.arrayBuffer()) };
}

/** Clients that read the start of `url` and stop: the server is left mid-file, blocked on the socket. */
async function stalledClients(url: string, count: number): Promise<http.ClientRequest[]> {
  const requests: http.ClientRequest[] = [];
  await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<void>((resolve, reject) => {
          const request = http.get(url, (response) => {
            assert.equal(response.statusCode, 200);
            response.once('data', () => {
              response.pause();
              resolve();
            });
          });
          request.on('error', reject);
          requests.push(request);
        }),
    ),
  );
  return requests;
}

function hangUp(requests: http.ClientRequest[]): void {
  for (const request of requests) {
    request.on('error', () => {});
    request.destroy();
  }
}

/** Holds every read of attachments' bytes (ACCESS EXCLUSIVE) until `release`. */
async function lockAttachments(): Promise<{ release: () => Promise<void> }> {
  const locker = new pg.Client({ connectionString: server.databaseUrl });
  await locker.connect();
  await locker.query('BEGIN');
  await locker.query('LOCK TABLE alert_attachments IN ACCESS EXCLUSIVE MODE');
  return {
    async release() {
      await locker.query('COMMIT');
      await locker.end();
    },
  };
}

/** Waits until `n` statements of the API wait for the lock on alert_attachments. */
async function waitingOnLock(n: number): Promise<void> {
  await waitFor(`${n} downloads waiting on the lock`, async () => {
    const { rows } = await db.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity
        WHERE application_name = 'vigil-api' AND wait_event_type = 'Lock'`,
    );
    return rows[0]?.n === n;
  });
}

/** Waits until a download of `path` is served (200, the whole file): the places have been freed. */
async function waitUntilServed(path: string, expected: Buffer): Promise<void> {
  await waitFor(
    'a download to be served again',
    async () => {
      const { response, bytes } = await download(path);
      if (response.status === 503) return false;
      assert.equal(response.status, 200);
      assert.equal(sha256(bytes), sha256(expected));
      return true;
    },
    20_000,
  );
}

/** `ATTACHMENT_READ_PERMITS` downloads at once, each served whole. */
async function allServed(path: string, expected: Buffer): Promise<void> {
  const results = await Promise.all(Array.from({ length: ATTACHMENT_READ_PERMITS }, () => download(path)));
  for (const { response, bytes } of results) {
    assert.equal(response.status, 200);
    assert.equal(sha256(bytes), sha256(expected));
  }
}

before(async () => {
  server = await startTestServer({ env: { VIGIL_PUBLIC_URL: PUBLIC_URL } });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  bigBytes = randomBytes(BIG);
  const big = await attach(bigBytes, 'big.bin');
  bigPath = await linkPath(big.alertId, big.attachmentId);
});

after(async () => {
  await db.end();
  await server.stop();
});

describe('an attachment download', () => {
  it('comes back byte for byte, with its length and the same headers', async () => {
    const { response, bytes } = await download(bigPath);
    assert.equal(response.status, 200);
    assert.equal(bytes.length, BIG);
    assert.equal(sha256(bytes), sha256(bigBytes));
    assert.equal(response.headers.get('content-length'), String(BIG));
    assert.equal(response.headers.get('content-type'), 'application/octet-stream');
    assert.equal(
      response.headers.get('content-disposition'),
      `attachment; filename="big.bin"; filename*=UTF-8''big.bin`,
    );
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(response.headers.get('content-security-policy'), "default-src 'none'; sandbox");
    assert.equal(response.headers.get('cache-control'), 'private, no-store');
    assert.equal(response.headers.get('referrer-policy'), 'no-referrer');
  });

  it('serves an empty file', async () => {
    const empty = await attach(Buffer.alloc(0), 'empty.txt');
    const { response, bytes } = await download(await linkPath(empty.alertId, empty.attachmentId));
    assert.equal(response.status, 200);
    assert.equal(bytes.length, 0);
  });

  it('is served beside clients that stopped reading: they hold no read permit', async () => {
    const stalled = await stalledClients(server.url + bigPath, ATTACHMENT_READ_PERMITS);
    try {
      const { response, bytes } = await download(bigPath);
      assert.equal(response.status, 200);
      assert.equal(sha256(bytes), sha256(bigBytes));
    } finally {
      hangUp(stalled);
    }
  });

  it(`reads at most ${ATTACHMENT_READ_PERMITS} chunks at once: more wait, holding no connection, then complete`, async () => {
    const lock = await lockAttachments();
    const count = ATTACHMENT_READ_PERMITS + 2;
    let running: Promise<Awaited<ReturnType<typeof download>>[]>;
    try {
      running = Promise.all(Array.from({ length: count }, () => download(bigPath)));
      await waitingOnLock(ATTACHMENT_READ_PERMITS);
      // The two beyond the permits wait for one, not on a connection of their own.
      await sleep(300);
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE application_name = 'vigil-api' AND wait_event_type = 'Lock'`,
      );
      assert.equal(rows[0]?.n, ATTACHMENT_READ_PERMITS);
      // The reads hold their permits, not the API.
      const created = await server.call('POST', '/v2/alerts', { message: 'during downloads' });
      assert.equal(created.status, 202);
    } finally {
      await lock.release();
    }
    const results = await running;
    assert.equal(results.length, count);
    for (const { response, bytes } of results) {
      assert.equal(response.status, 200);
      assert.equal(sha256(bytes), sha256(bigBytes));
    }
  });

  it('answers HEAD with the same headers as GET', async () => {
    const heads = await Promise.all(
      Array.from({ length: ATTACHMENT_READ_PERMITS + 1 }, () =>
        fetch(server.url + bigPath, { method: 'HEAD' }),
      ),
    );
    const got = await download(bigPath);
    assert.equal(got.response.status, 200);
    for (const head of heads) {
      assert.equal(head.status, 200);
      assert.equal((await head.arrayBuffer()).byteLength, 0);
      for (const name of [
        'content-length',
        'content-type',
        'content-disposition',
        'x-content-type-options',
        'content-security-policy',
        'cache-control',
        'referrer-policy',
      ]) {
        assert.equal(head.headers.get(name), got.response.headers.get(name), name);
      }
    }
  });

  it('ends early, without hanging, when the attachment is deleted mid-way', async () => {
    const doomed = await attach(randomBytes(BIG), 'doomed.bin');
    const path = await linkPath(doomed.alertId, doomed.attachmentId);
    let received = 0;
    const response = await new Promise<http.IncomingMessage>((resolve, reject) => {
      const request = http.get(server.url + path, (res) => {
        res.once('data', (chunk: Buffer) => {
          received += chunk.length;
          res.pause();
          resolve(res);
        });
      });
      request.on('error', reject);
    });
    assert.equal(response.statusCode, 200);
    await server.callOk('DELETE', `/v2/alerts/${doomed.alertId}/attachments/${doomed.attachmentId}`);
    // The rest of the body, until the server cuts it off: shorter than its Content-Length. A server that
    // just ended the response would leave the client waiting for the rest until its keep-alive timeout
    // (72 s) closed the connection; the bound is generous for a busy machine but well short of that.
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error('the download was left open')), 30_000);
      response.on('data', (chunk: Buffer) => (received += chunk.length));
      response.once('close', resolve);
      response.resume();
    }).finally(() => clearTimeout(timer));
    assert.ok(received < BIG, `received ${received} of ${BIG} bytes`);
    assert.equal(response.complete, false);
    assert.equal((await download(path)).response.status, 404);
    await waitUntilServed(bigPath, bigBytes);
    await allServed(bigPath, bigBytes);
  });

  it('gives its read permit back when the client goes away before the file is read', async () => {
    const lock = await lockAttachments();
    const aborts = Array.from({ length: ATTACHMENT_READ_PERMITS }, () => new AbortController());
    let running: Promise<unknown>;
    try {
      running = Promise.allSettled(aborts.map((abort) => download(bigPath, abort.signal)));
      await waitingOnLock(ATTACHMENT_READ_PERMITS);
      for (const abort of aborts) abort.abort();
      await running;
    } finally {
      await lock.release();
    }
    await waitUntilServed(bigPath, bigBytes);
    await allServed(bigPath, bigBytes);
  });
});

describe('the download service', () => {
  const CHUNK = 64 * 1024;
  /** How long the service below waits for a read permit, and for a client to take a chunk. */
  const PERMIT_WAIT_MS = 500;
  const PIECE_DEADLINE_MS = 1000;
  let plain: Db;
  /** The bytes of attachments each statement answered (0 for a statement that read none). */
  const bytesPerStatement: number[] = [];
  /** While set, a statement that read attachments' bytes waits for it before it answers. */
  let gate: Promise<void> | undefined;
  const counter: KyselyPlugin = {
    transformQuery: (args) => args.node,
    transformResult: async (args) => {
      let bytes = 0;
      for (const row of args.result.rows) {
        for (const value of Object.values(row)) if (Buffer.isBuffer(value)) bytes += value.length;
      }
      bytesPerStatement.push(bytes);
      if (bytes > 0 && gate) await gate;
      return args.result;
    },
  };
  /** Holds every read of bytes (its permit too) until the returned function is called. */
  function closeGate(): () => void {
    let open!: () => void;
    gate = new Promise((resolve) => (open = resolve));
    return () => {
      gate = undefined;
      open();
    };
  }
  /** Waits until `n` reads of bytes wait at the gate, each holding a permit. */
  const gated = (n: number) =>
    waitFor(`${n} reads at the gate`, async () => bytesPerStatement.filter((b) => b > 0).length === n);

  const links = createAttachmentLinks(randomBytes(32), PUBLIC_URL, 60_000);
  let service: ReturnType<typeof createAttachmentsService>;
  /** The download route, on the service below. */
  const app = Fastify().withTypeProvider<TypeBoxTypeProvider>();
  let appUrl: string;

  before(async () => {
    plain = createDb(createPool(server.databaseUrl, 8));
    service = createAttachmentsService({
      db: plain.withPlugin(counter),
      links,
      limits: { maxBytes: 32 * 1024 * 1024, perAlert: 50 },
      chunkBytes: CHUNK,
      permitWaitMs: PERMIT_WAIT_MS,
      pieceDeadlineMs: PIECE_DEADLINE_MS,
    });
    registerAttachmentRoutes(app, { attachments: service, clock: systemClock, maxBytes: 32 * 1024 * 1024 });
    appUrl = await app.listen({ host: '127.0.0.1', port: 0 });
  });

  after(async () => {
    await app.close();
    await plain.destroy();
  });

  /** A link the service accepts to the attachment. */
  async function tokenOf(ids: { alertId: string; attachmentId: string }): Promise<string> {
    const { rows } = await db.query<{ org_id: string }>('SELECT org_id FROM alerts WHERE id = $1', [
      ids.alertId,
    ]);
    const url = links.url({ orgId: rows[0]!.org_id, ...ids }, new Date());
    return url.slice(url.lastIndexOf('/') + 1);
  }

  async function start(token: string) {
    const got = await service.download(token, new Date());
    if ('error' in got) throw new Error(`download refused: ${got.error}`);
    return got;
  }

  async function readAll(stream: Readable): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const part of stream) parts.push(part as Buffer);
    return Buffer.concat(parts);
  }

  const closed = (stream: Readable) =>
    stream.closed ? Promise.resolve() : new Promise((resolve) => stream.once('close', resolve));

  it('reads one chunk per statement, never the whole file', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 777);
    const token = await tokenOf(await attach(bytes, 'chunks.bin'));
    bytesPerStatement.length = 0;
    const got = await start(token);
    assert.equal(got.size, bytes.length);
    assert.equal(sha256(await readAll(got.content)), sha256(bytes));
    assert.equal(bytesPerStatement.length, Math.ceil(bytes.length / CHUNK));
    assert.ok(
      Math.max(...bytesPerStatement) <= CHUNK,
      `a statement read ${Math.max(...bytesPerStatement)} bytes`,
    );
  });

  it('fails, without hanging, when the attachment is deleted mid-way', async () => {
    const bytes = randomBytes(10 * CHUNK);
    const ids = await attach(bytes, 'deleted.bin');
    const got = await start(await tokenOf(ids));
    const reading = got.content[Symbol.asyncIterator]();
    assert.equal(((await reading.next()).value as Buffer).length, CHUNK);
    await db.query('DELETE FROM alert_attachments WHERE id = $1', [ids.attachmentId]);
    await assert.rejects(async () => {
      for (let step = await reading.next(); !step.done; step = await reading.next()) {
        // the chunks read ahead before the delete
      }
    }, /deleted while it was being downloaded/);
  });

  it('is gone, not a failing stream, for a file deleted before it starts', async () => {
    const ids = await attach(randomBytes(100), 'gone.bin');
    const token = await tokenOf(ids);
    await db.query('DELETE FROM alert_attachments WHERE id = $1', [ids.attachmentId]);
    assert.deepEqual(await service.download(token, new Date()), { error: 'gone' });
    assert.deepEqual(await service.describeDownload(token, new Date()), { error: 'gone' });
  });

  it(`lets ${ATTACHMENT_READ_PERMITS} reads run at once; the next waits for a permit, busy only past the wait`, async () => {
    const bytes = randomBytes(3 * CHUNK);
    const token = await tokenOf(await attach(bytes, 'queued.bin'));
    const open = closeGate();
    let starting: Promise<Awaited<ReturnType<typeof start>>[]>;
    try {
      starting = Promise.all(Array.from({ length: ATTACHMENT_READ_PERMITS + 2 }, () => start(token)));
      await sleep(PERMIT_WAIT_MS / 2);
    } finally {
      open();
    }
    // All of them, the two that waited for a permit too.
    for (const got of await starting) assert.equal(sha256(await readAll(got.content)), sha256(bytes));

    // A first chunk that waits longer than the wait is refused, and the permits are there afterwards.
    const reopen = closeGate();
    let held: Promise<unknown>;
    try {
      bytesPerStatement.length = 0;
      held = Promise.all(Array.from({ length: ATTACHMENT_READ_PERMITS }, () => start(token)));
      await gated(ATTACHMENT_READ_PERMITS);
      assert.deepEqual(await service.download(token, new Date()), { error: 'busy' });
    } finally {
      reopen();
    }
    for (const got of (await held) as Awaited<ReturnType<typeof start>>[]) got.content.destroy();
    assert.equal(sha256(await readAll((await start(token)).content)), sha256(bytes));
  });

  it('lets a download stop while its next chunk waits for a permit, which it then never reads', async () => {
    const token = await tokenOf(await attach(randomBytes(4 * CHUNK), 'stopped.bin'));
    const waiting = await start(token);
    bytesPerStatement.length = 0;
    const open = closeGate();
    try {
      const holders = Array.from({ length: ATTACHMENT_READ_PERMITS }, () => start(token));
      await gated(ATTACHMENT_READ_PERMITS);
      // Its first chunk came with the start; the next waits behind the holders for a permit.
      await waiting.content[Symbol.asyncIterator]().next();
      await sleep(100);
      waiting.content.destroy();
      await closed(waiting.content);
      bytesPerStatement.length = 0;
      open();
      for (const got of await Promise.all(holders)) got.content.destroy();
      await sleep(200);
      assert.deepEqual(bytesPerStatement, [], 'a stopped download read its next chunk all the same');
    } finally {
      open();
    }
  });

  it('answers HEAD without reading the bytes, and without a read permit', async () => {
    const bytes = randomBytes(5 * CHUNK + 3);
    const token = await tokenOf(await attach(bytes, 'head.bin'));
    const open = closeGate();
    let held: Promise<unknown>;
    try {
      // Every permit held by a read that waits.
      bytesPerStatement.length = 0;
      held = Promise.all(Array.from({ length: ATTACHMENT_READ_PERMITS }, () => start(token)));
      await gated(ATTACHMENT_READ_PERMITS);
      bytesPerStatement.length = 0;
      const head = await fetch(appUrl + ATTACHMENT_LINK_PATH + token, { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(bytes.length));
      assert.equal(
        head.headers.get('content-disposition'),
        `attachment; filename="head.bin"; filename*=UTF-8''head.bin`,
      );
      assert.equal((await head.arrayBuffer()).byteLength, 0);
      // One statement, which read no bytes.
      assert.deepEqual(bytesPerStatement, [0]);
    } finally {
      open();
    }
    for (const got of (await held) as Awaited<ReturnType<typeof start>>[]) got.content.destroy();
  });

  it('serves a client that keeps reading, and cuts off one that stops, after the deadline', async () => {
    const token = await tokenOf(await attach(bigBytes, 'big.bin'));
    const url = appUrl + ATTACHMENT_LINK_PATH + token;
    const whole = await fetch(url);
    assert.equal(whole.status, 200);
    assert.equal(sha256(Buffer.from(await whole.arrayBuffer())), sha256(bigBytes));

    // A client that reads nothing for a while: a socket paused before it connects takes no byte off the
    // kernel, so its receive buffer stays as small as it began (the kernel grows it only as the reader
    // reads) and the server stalls a few MB in. An http.get read once first, which could grow that buffer
    // to take the whole file on a busy machine, the server never stalling (seen in a run under load).
    const { hostname, port, pathname } = new URL(url);
    const socket = net.connect(Number(port), hostname);
    socket.pause();
    socket.write(`GET ${pathname} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n\r\n`);
    // Stalled well past the deadline, then reading again: what it gets is cut short.
    await sleep(3 * PIECE_DEADLINE_MS);
    let received = 0;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error('the download was left open')), 30_000);
      socket.on('data', (chunk: Buffer) => (received += chunk.length));
      socket.on('error', () => {});
      socket.once('close', () => resolve());
      socket.resume();
    }).finally(() => clearTimeout(timer));
    // The headers and some of the bytes came, not all: the server cut it off (the count holds the headers).
    assert.ok(received > DOWNLOAD_CHUNK_BYTES, `received only ${received} bytes`);
    assert.ok(received < BIG, `received ${received} bytes for a file of ${BIG}`);
  });
});
