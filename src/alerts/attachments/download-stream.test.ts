import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type { KyselyPlugin } from 'kysely';
import pg from 'pg';
import { createDb, createPool, type Db } from '../../db/database.js';
import { createAlert, startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { createAttachmentLinks } from './links.js';
import { createAttachmentsService, DOWNLOAD_CHUNK_BYTES, MAX_CONCURRENT_DOWNLOADS } from './service.js';

/**
 * Downloads of alert attachments are streamed a chunk per statement, never read whole: node-postgres
 * receives bytea as hex text, so a file read in one statement was a string twice its size decoded at once
 * on the event loop (a few concurrent downloads of a 25 MiB file held every request for seconds, and a
 * file over 256 MiB could be stored but never downloaded). A file comes back byte for byte with the same
 * headers; no statement reads more than a chunk; at most MAX_CONCURRENT_DOWNLOADS run at once, the next
 * answered 503 with Retry-After, and a finished, aborted or failed download frees its place.
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

/** `MAX_CONCURRENT_DOWNLOADS` downloads at once, each served whole. */
async function allServed(path: string, expected: Buffer): Promise<void> {
  const results = await Promise.all(Array.from({ length: MAX_CONCURRENT_DOWNLOADS }, () => download(path)));
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

  it(`runs at most ${MAX_CONCURRENT_DOWNLOADS} at once: the next is a 503 to retry, alerts are still served`, async () => {
    const lock = await lockAttachments();
    let running: Promise<Awaited<ReturnType<typeof download>>[]>;
    try {
      running = Promise.all(Array.from({ length: MAX_CONCURRENT_DOWNLOADS }, () => download(bigPath)));
      await waitingOnLock(MAX_CONCURRENT_DOWNLOADS);
      const refused = await download(bigPath);
      assert.equal(refused.response.status, 503);
      assert.equal(refused.response.headers.get('retry-after'), '3');
      assert.match(String(JSON.parse(refused.bytes.toString()).message), /try again shortly/);
      // The downloads hold their places, not the API.
      const created = await server.call('POST', '/v2/alerts', { message: 'during downloads' });
      assert.equal(created.status, 202);
    } finally {
      await lock.release();
    }
    for (const { response, bytes } of await running) {
      assert.equal(response.status, 200);
      assert.equal(sha256(bytes), sha256(bigBytes));
    }
    // Finished downloads free their places.
    await allServed(bigPath, bigBytes);
  });

  it('frees its place when the client goes away mid-way', async () => {
    const requests: http.ClientRequest[] = [];
    try {
      // Clients that read a little and stop: the server is left mid-file, blocked on the socket.
      await Promise.all(
        Array.from(
          { length: MAX_CONCURRENT_DOWNLOADS },
          () =>
            new Promise<void>((resolve, reject) => {
              const request = http.get(server.url + bigPath, (response) => {
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
      assert.equal((await download(bigPath)).response.status, 503, 'the stalled downloads hold their places');
    } finally {
      for (const request of requests) {
        request.on('error', () => {});
        request.destroy();
      }
    }
    await waitUntilServed(bigPath, bigBytes);
    await allServed(bigPath, bigBytes);
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

  it('frees its place when the client goes away before the file is read', async () => {
    const lock = await lockAttachments();
    const aborts = Array.from({ length: MAX_CONCURRENT_DOWNLOADS }, () => new AbortController());
    let running: Promise<unknown>;
    try {
      running = Promise.allSettled(aborts.map((abort) => download(bigPath, abort.signal)));
      await waitingOnLock(MAX_CONCURRENT_DOWNLOADS);
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
  let plain: Db;
  /** The bytes of attachments each statement answered. */
  const bytesPerStatement: number[] = [];
  const counter: KyselyPlugin = {
    transformQuery: (args) => args.node,
    transformResult: async (args) => {
      let bytes = 0;
      for (const row of args.result.rows) {
        for (const value of Object.values(row)) if (Buffer.isBuffer(value)) bytes += value.length;
      }
      if (bytes > 0) bytesPerStatement.push(bytes);
      return args.result;
    },
  };
  const links = createAttachmentLinks(randomBytes(32), PUBLIC_URL, 60_000);
  let service: ReturnType<typeof createAttachmentsService>;

  before(() => {
    plain = createDb(createPool(server.databaseUrl, 8));
    service = createAttachmentsService({
      db: plain.withPlugin(counter),
      links,
      limits: { maxBytes: 32 * 1024 * 1024, perAlert: 50 },
      chunkBytes: CHUNK,
    });
  });

  after(async () => {
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

  const closed = (stream: Readable) =>
    stream.closed ? Promise.resolve() : new Promise((resolve) => stream.once('close', resolve));

  it('reads one chunk per statement, never the whole file', async () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 777);
    const token = await tokenOf(await attach(bytes, 'chunks.bin'));
    bytesPerStatement.length = 0;
    const got = await start(token);
    assert.equal(got.size, bytes.length);
    const parts: Buffer[] = [];
    for await (const part of got.content) parts.push(part as Buffer);
    assert.equal(sha256(Buffer.concat(parts)), sha256(bytes));
    assert.equal(bytesPerStatement.length, Math.ceil(bytes.length / CHUNK));
    assert.ok(
      Math.max(...bytesPerStatement) <= CHUNK,
      `a statement read ${Math.max(...bytesPerStatement)} bytes`,
    );
  });

  it('fails, without hanging, when the attachment is deleted mid-way, and frees its place', async () => {
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
    // Every place is free again.
    const other = await tokenOf(await attach(randomBytes(4 * CHUNK), 'other.bin'));
    const held = await Promise.all(Array.from({ length: MAX_CONCURRENT_DOWNLOADS }, () => start(other)));
    assert.deepEqual(await service.download(other, new Date()), { error: 'busy' });
    // One destroyed mid-way (as the route does when its client goes) frees its place.
    const first = held[0]!;
    await first.content[Symbol.asyncIterator]().next();
    first.content.destroy();
    await closed(first.content);
    const next = await start(other);
    for (const download of [...held.slice(1), next]) {
      download.content.destroy();
      await closed(download.content);
    }
  });

  it('is gone, not a failing stream, for a file deleted before it starts', async () => {
    const ids = await attach(randomBytes(100), 'gone.bin');
    const token = await tokenOf(ids);
    await db.query('DELETE FROM alert_attachments WHERE id = $1', [ids.attachmentId]);
    assert.deepEqual(await service.download(token, new Date()), { error: 'gone' });
    // A gone file holds no place.
    const other = await tokenOf(await attach(randomBytes(100), 'small.bin'));
    for (let i = 0; i <= MAX_CONCURRENT_DOWNLOADS; i++) {
      const got = await start(other);
      for await (const part of got.content) assert.equal((part as Buffer).length, 100);
      await closed(got.content);
    }
  });
});
