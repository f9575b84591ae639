import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { loadLinkSecret } from '../../notify/links.js';
import { createActionLinks } from '../../notify/links.js';
import {
  addOrganization,
  addUserWithKey,
  startTestServer,
  type Json,
  type TestServer,
  waitFor,
} from '../../testing/harness.js';
import { ShiftedClock } from '../../work/clock.js';
import { createAttachmentLinks } from './links.js';
import { ATTACHMENT_UPLOAD_PERMITS } from './service.js';

/**
 * Opsgenie's alert attachments on the real server, uploaded as real clients send them (multipart/form-data
 * built with FormData and sent with fetch): the bytes come back through the signed download link exactly
 * as sent, adding and deleting go on the alert's log, the limits are refused with a clear 4xx while the
 * server keeps serving, active content is never served as itself, bad and expired links are refused, and
 * other organizations, other teams' keys and keys without the right flags cannot reach an attachment.
 */

const PUBLIC_URL = 'https://vigil.example.test';
const MAX_BYTES = 64 * 1024;
const PER_ALERT = 4;
const TTL_MINUTES = 5;

const clock = new ShiftedClock();
let server: TestServer;
let db: pg.Client;

before(async () => {
  server = await startTestServer({
    clock,
    env: {
      VIGIL_PUBLIC_URL: PUBLIC_URL,
      VIGIL_ATTACHMENT_MAX_BYTES: String(MAX_BYTES),
      VIGIL_ATTACHMENTS_PER_ALERT: String(PER_ALERT),
      VIGIL_ATTACHMENT_LINK_TTL_MINUTES: String(TTL_MINUTES),
    },
  });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
});

after(async () => {
  await db.end();
  await server.stop();
});

/** Creates an alert (with `key`) and answers its id and alias. */
async function alert(key = server.key, extra: Json = {}): Promise<{ id: string; alias: string }> {
  const alias = `attach-${randomUUID()}`;
  await server.callOk('POST', '/v2/alerts', { message: 'disk full', alias, ...extra }, key);
  const got = await server.callOk('GET', `/v2/alerts/${alias}?identifierType=alias`, undefined, key);
  return { id: got.data.id, alias };
}

interface Part {
  name: string;
  value: string | Blob;
  fileName?: string;
}

/** POSTs a form as a browser or SDK does: fetch sets the multipart Content-Type and boundary. */
async function upload(
  path: string,
  parts: Part[],
  key = server.key,
): Promise<{ status: number; body: Json; headers: Headers }> {
  const form = new FormData();
  for (const part of parts) {
    if (typeof part.value === 'string') form.append(part.name, part.value);
    else form.append(part.name, part.value, part.fileName);
  }
  const response = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { authorization: `GenieKey ${key}` },
    body: form,
  });
  return { status: response.status, body: (await response.json()) as Json, headers: response.headers };
}

/**
 * POSTs the start of a form (chunked: no Content-Length to refuse it by) and never finishes it, as a
 * large or endless upload looks to the server while it arrives: answers what the server says while the
 * body is still open. A server that read the body first would never answer (the wait is generous, so a
 * busy machine is no failure).
 */
async function answerBeforeBody(path: string, key: string): Promise<{ status: number; body: Json }> {
  const boundary = 'vigil-never-finished';
  const request = http.request(`${server.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `GenieKey ${key}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'transfer-encoding': 'chunked',
    },
  });
  let timer: NodeJS.Timeout | undefined;
  try {
    const answered = new Promise<http.IncomingMessage>((resolve, reject) => {
      request.once('response', resolve);
      request.once('error', reject);
      timer = setTimeout(
        () => reject(new Error(`no answer from ${path} within 60 s while the body was still open`)),
        60_000,
      );
    });
    request.write(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="endless.bin"\r\n` +
        `Content-Type: application/octet-stream\r\n\r\n${'x'.repeat(16 * 1024)}`,
    );
    const response = await answered;
    assert.equal(request.writableEnded, false, 'answered while the body is still open');
    let text = '';
    for await (const chunk of response) text += String(chunk);
    return { status: response.statusCode ?? 0, body: JSON.parse(text) as Json };
  } finally {
    clearTimeout(timer);
    request.on('error', () => {});
    request.destroy();
  }
}

const file = (bytes: Uint8Array | string, type: string, fileName: string): Part => ({
  name: 'file',
  value: new Blob([bytes], { type }),
  fileName,
});

async function rows(alertId: string) {
  const { rows } = await db.query<{
    id: string;
    name: string;
    content_type: string;
    size: number;
    sha256: string;
    added_by: string;
    content: Buffer;
  }>(
    'SELECT id, name, content_type, size, sha256, added_by, content FROM alert_attachments WHERE alert_id = $1 ORDER BY id',
    [alertId],
  );
  return rows;
}

async function logs(alertId: string): Promise<string[]> {
  const answer = await server.callOk('GET', `/v2/alerts/${alertId}/logs?order=asc`);
  return answer.data.map((l: Json) => l.log);
}

/** Fetches a download link on the test server (the link names the public URL), without any key. */
function download(url: string): Promise<Response> {
  assert.ok(url.startsWith(`${PUBLIC_URL}/v1/alert-attachments/`), url);
  return fetch(`${server.url}${new URL(url).pathname}`);
}

describe('an attachment', () => {
  it('is added, listed, linked, downloaded byte for byte and deleted, each change on the log', async () => {
    const { id, alias } = await alert();
    const bytes = randomBytes(40_000);
    const added = await upload(`/v2/alerts/${alias}/attachments?alertIdentifierType=alias`, [
      { name: 'user', value: 'Dana Scully' },
      file(bytes, 'image/png', 'C:\\screens\\..\\disk.png'),
      { name: 'indexFile', value: 'index.html' },
    ]);
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.equal(added.body.result, 'Attachment added successfully');
    assert.equal(typeof added.body.requestId, 'string');

    const [stored, ...more] = await rows(id);
    assert.equal(more.length, 0);
    assert.ok(stored);
    assert.equal(stored.id, added.body.data.id);
    assert.equal(stored.name, 'disk.png');
    assert.equal(stored.content_type, 'image/png');
    assert.equal(stored.size, bytes.length);
    assert.equal(stored.sha256, createHash('sha256').update(bytes).digest('hex'));
    assert.equal(stored.added_by, 'Dana Scully');
    assert.ok(stored.content.equals(bytes));

    const list = await server.callOk('GET', `/v2/alerts/${id}/attachments`);
    assert.deepEqual(list.data, [{ name: 'disk.png', id: Number(stored.id) }]);
    // Opsgenie's clients name the identifier type either way.
    const byTiny = await server.callOk(
      'GET',
      `/v2/alerts/${alias}/attachments?identifierType=alias`,
      undefined,
    );
    assert.deepEqual(byTiny.data, list.data);

    const got = await server.callOk('GET', `/v2/alerts/${id}/attachments/${stored.id}`);
    assert.equal(got.data.name, 'disk.png');
    const response = await download(got.data.url);
    assert.equal(response.status, 200);
    assert.ok(Buffer.from(await response.arrayBuffer()).equals(bytes), 'the bytes come back as sent');
    assert.equal(response.headers.get('content-type'), 'image/png');
    assert.equal(
      response.headers.get('content-disposition'),
      `attachment; filename="disk.png"; filename*=UTF-8''disk.png`,
    );
    assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(response.headers.get('cache-control'), 'private, no-store');

    const removed = await server.call('DELETE', `/v2/alerts/${id}/attachments/${stored.id}?user=Fox`);
    assert.equal(removed.status, 200, JSON.stringify(removed.body));
    assert.equal(removed.body.result, 'Attachment removed successfully');
    assert.deepEqual(await rows(id), []);
    assert.deepEqual((await server.callOk('GET', `/v2/alerts/${id}/attachments`)).data, []);
    assert.equal((await download(got.data.url)).status, 404, 'a deleted attachment is not served');
    const again = await server.call('DELETE', `/v2/alerts/${id}/attachments/${stored.id}`);
    assert.equal(again.status, 404);

    const log = await logs(id);
    assert.ok(
      log.includes(`Attachment disk.png (${bytes.length} bytes) added by Dana Scully`),
      log.join('\n'),
    );
    assert.ok(log.includes('Attachment disk.png removed by Fox'), log.join('\n'));
  });

  it('keeps a cleaned name: no path, no control characters, at most 255 characters', async () => {
    const { id } = await alert();
    const long = `${'x'.repeat(400)}.log`;
    const named = await upload(`/v2/alerts/${id}/attachments`, [
      file('one', 'text/plain', `../../etc/${long}`),
    ]);
    assert.equal(named.status, 200, JSON.stringify(named.body));
    const bidi = await upload(`/v2/alerts/${id}/attachments`, [
      file('two', 'text/plain', 'report\u202egpj.exe'),
    ]);
    assert.equal(bidi.status, 200, JSON.stringify(bidi.body));
    const nul = await upload(`/v2/alerts/${id}/attachments`, [file('three', 'text/plain', 'a\u0000b.txt')]);
    assert.equal(nul.status, 200, JSON.stringify(nul.body));
    const [first, second, third] = await rows(id);
    assert.equal(first?.name.length, 255);
    assert.ok(first?.name.endsWith('x.log'), first?.name);
    assert.equal(second?.name, 'reportgpj.exe');
    assert.ok(third && !third.name.includes('\u0000') && third.name.endsWith('b.txt'), third?.name);
  });

  it('of active content is served as application/octet-stream, never as itself', async () => {
    const { id } = await alert();
    for (const [type, name, body] of [
      ['text/html', 'index.html', '<script>alert(document.cookie)</script>'],
      [
        'image/svg+xml',
        'logo.svg',
        '<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
      ],
      ['application/xml', 'feed.xml', '<?xml version="1.0"?><x/>'],
      ['text/html; charset=utf-8', 'page.htm', '<b>hi</b>'],
    ] as const) {
      const added = await upload(`/v2/alerts/${id}/attachments`, [file(body, type, name)]);
      assert.equal(added.status, 200, JSON.stringify(added.body));
      const got = await server.callOk('GET', `/v2/alerts/${id}/attachments/${added.body.data.id}`);
      const response = await download(got.data.url);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'application/octet-stream', name);
      assert.match(response.headers.get('content-disposition') ?? '', /^attachment; /);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(await response.text(), body);
    }
    // The sender's type is kept as given (without parameters); only what is served changes.
    assert.deepEqual(
      (await rows(id)).map((r) => r.content_type),
      ['text/html', 'image/svg+xml', 'application/xml', 'text/html'],
    );
  });
});

describe('the limits', () => {
  it('refuse a file over VIGIL_ATTACHMENT_MAX_BYTES with 413, and the server keeps serving', async () => {
    const { id } = await alert();
    // Just over the limit: read until the limit, then refused.
    const over = await upload(`/v2/alerts/${id}/attachments`, [
      file(randomBytes(MAX_BYTES + 1), 'application/zip', 'big.zip'),
    ]);
    assert.equal(over.status, 413, JSON.stringify(over.body));
    assert.match(over.body.message, new RegExp(`limit of ${MAX_BYTES} bytes`));
    // Far over: refused by its Content-Length before it is read.
    const farOver = await upload(`/v2/alerts/${id}/attachments`, [
      file(randomBytes(MAX_BYTES * 3), 'application/zip', 'bigger.zip'),
    ]);
    assert.equal(farOver.status, 413, JSON.stringify(farOver.body));
    assert.deepEqual(await rows(id), []);

    // Exactly at the limit is fine, and the server answers as before.
    const exact = await upload(`/v2/alerts/${id}/attachments`, [
      file(randomBytes(MAX_BYTES), 'application/zip', 'exact.zip'),
    ]);
    assert.equal(exact.status, 200, JSON.stringify(exact.body));
    assert.equal((await server.call('GET', '/v2/alerts?limit=1')).status, 200);
    assert.equal((await rows(id)).length, 1);
  });

  it(`refuse more than VIGIL_ATTACHMENTS_PER_ALERT files on one alert with 422`, async () => {
    const { id } = await alert();
    for (let i = 0; i < PER_ALERT; i++) {
      const added = await upload(`/v2/alerts/${id}/attachments`, [file(`n${i}`, 'text/plain', `${i}.txt`)]);
      assert.equal(added.status, 200, JSON.stringify(added.body));
    }
    const refused = await upload(`/v2/alerts/${id}/attachments`, [file('more', 'text/plain', 'more.txt')]);
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.match(refused.body.message, new RegExp(`already has ${PER_ALERT} attachments`));
    assert.equal((await rows(id)).length, PER_ALERT);
    // Refused before the file is read: the answer comes while the body is still on its way.
    const early = await answerBeforeBody(`/v2/alerts/${id}/attachments`, server.key);
    assert.equal(early.status, 422, JSON.stringify(early.body));
    assert.match(early.body.message, new RegExp(`already has ${PER_ALERT} attachments`));
    // Another alert has room of its own.
    const other = await alert();
    const added = await upload(`/v2/alerts/${other.id}/attachments`, [file('x', 'text/plain', 'x.txt')]);
    assert.equal(added.status, 200);
  });

  it('refuse a second file part with 413: one file per request', async () => {
    const { id } = await alert();
    for (const parts of [
      [file('one', 'text/plain', 'one.txt'), file('two', 'text/plain', 'two.txt')],
      [{ name: 'upload', value: new Blob(['x']), fileName: 'x.txt' }, file('one', 'text/plain', 'one.txt')],
      [file('one', 'text/plain', 'one.txt'), { name: 'other', value: new Blob(['y']), fileName: 'y.txt' }],
    ]) {
      const refused = await upload(`/v2/alerts/${id}/attachments`, parts);
      assert.equal(refused.status, 413, JSON.stringify(refused.body));
      assert.match(refused.body.message, /too many parts: send one file in the field "file"/);
    }
    assert.deepEqual(await rows(id), []);
    // One file beside the fields is fine, and the server answers as before.
    const one = await upload(`/v2/alerts/${id}/attachments`, [
      { name: 'user', value: 'Dana' },
      file('one', 'text/plain', 'one.txt'),
      { name: 'indexFile', value: 'one.txt' },
    ]);
    assert.equal(one.status, 200, JSON.stringify(one.body));
    assert.deepEqual(
      (await rows(id)).map((r) => r.name),
      ['one.txt'],
    );
  });

  it('refuse a body that is not a form, or a form without a file part named "file"', async () => {
    const { id } = await alert();
    const path = `${server.url}/v2/alerts/${id}/attachments`;
    const auth = { authorization: `GenieKey ${server.key}` };
    for (const [type, body] of [
      ['application/json', JSON.stringify({ file: 'aGVsbG8=' })],
      ['text/plain', 'hello'],
      ['application/x-www-form-urlencoded', 'file=hello'],
    ] as const) {
      const response = await fetch(path, {
        method: 'POST',
        headers: { ...auth, 'content-type': type },
        body,
      });
      assert.equal(response.status, 415, type);
      assert.match(((await response.json()) as Json).message, /multipart\/form-data/);
    }
    const none = await fetch(path, { method: 'POST', headers: auth });
    assert.equal(none.status, 415);

    const onlyUser = await upload(`/v2/alerts/${id}/attachments`, [{ name: 'user', value: 'Dana' }]);
    assert.equal(onlyUser.status, 422, JSON.stringify(onlyUser.body));
    assert.ok(onlyUser.body.errors.file);
    const wrongName = await upload(`/v2/alerts/${id}/attachments`, [
      { name: 'upload', value: new Blob(['x']), fileName: 'x.txt' },
    ]);
    assert.equal(wrongName.status, 422, JSON.stringify(wrongName.body));

    const garbled = await fetch(path, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'multipart/form-data; boundary=xyz' },
      body: '--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nunterminated',
    });
    assert.equal(garbled.status, 400);
    const noBoundary = await fetch(path, {
      method: 'POST',
      headers: { ...auth, 'content-type': 'multipart/form-data; charset=utf-8' },
      body: 'whatever',
    });
    assert.equal(noBoundary.status, 400);
    assert.deepEqual(await rows(id), []);
    assert.equal((await server.call('GET', '/v2/alerts?limit=1')).status, 200);

    // Only the upload reads forms: the other routes refuse one as before.
    const form = new FormData();
    form.append('message', 'from a form');
    for (const other of ['/v2/alerts', `/v2/alerts/${id}/notes`]) {
      const response = await fetch(`${server.url}${other}`, { method: 'POST', headers: auth, body: form });
      assert.equal(response.status, 415, other);
      assert.match(((await response.json()) as Json).message, /application\/json/);
    }
  });
});

/**
 * Starts an upload whose body never ends (chunked, its file part begun): the server reads it, holding an
 * upload permit and what it has of the file, until the client hangs up.
 */
function unfinishedUpload(path: string): http.ClientRequest {
  const boundary = 'vigil-slow-upload';
  const request = http.request(`${server.url}${path}`, {
    method: 'POST',
    headers: {
      authorization: `GenieKey ${server.key}`,
      'content-type': `multipart/form-data; boundary=${boundary}`,
      'transfer-encoding': 'chunked',
    },
  });
  request.on('error', () => {});
  request.write(
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="slow.bin"\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n${'x'.repeat(1024)}`,
  );
  return request;
}

describe('uploads at once', () => {
  it(`are at most ${ATTACHMENT_UPLOAD_PERMITS} per process: the next is a 503 with Retry-After, any way one ends frees its turn`, async () => {
    const slow = await alert();
    const holders = Array.from({ length: ATTACHMENT_UPLOAD_PERMITS }, () =>
      unfinishedUpload(`/v2/alerts/${slow.id}/attachments`),
    );
    const { id } = await alert();
    try {
      // A form without a file: a 422 once it has a turn, so probing stores nothing. It is refused only
      // once every holder is reading its body.
      const refused = await waitFor('an upload refused for the uploads under way', async () => {
        const got = await upload(`/v2/alerts/${id}/attachments`, [{ name: 'user', value: 'Dana' }]);
        if (got.status !== 503) assert.equal(got.status, 422, JSON.stringify(got.body));
        return got.status === 503 && got;
      });
      assert.match(refused.body.message, /try again shortly/);
      assert.equal(refused.headers.get('retry-after'), '5');
      // Refused before its body is read, like any refusal: the answer comes while the file is on its way.
      const early = await answerBeforeBody(`/v2/alerts/${id}/attachments`, server.key);
      assert.equal(early.status, 503, JSON.stringify(early.body));
    } finally {
      // Hung up mid-file: their turns are given back.
      for (const holder of holders) holder.destroy();
    }
    const bytes = randomBytes(1000);
    const added = await waitFor('an upload once the slow ones hung up', async () => {
      const got = await upload(`/v2/alerts/${id}/attachments`, [file(bytes, 'text/plain', 'after.txt')]);
      if (got.status !== 503) assert.equal(got.status, 200, JSON.stringify(got.body));
      return got.status === 200 && got;
    });
    assert.equal((await rows(id))[0]?.id, added.body.data.id);
    assert.deepEqual(await rows(slow.id), []);

    // Refused uploads give their turn back too: more of them, one after another, than there are turns.
    const refusals = [
      [{ name: 'user', value: 'Dana' }],
      [file(randomBytes(MAX_BYTES + 1), 'application/zip', 'big.zip')],
      [file('one', 'text/plain', 'one.txt'), file('two', 'text/plain', 'two.txt')],
    ];
    for (let i = 0; i < 2 * ATTACHMENT_UPLOAD_PERMITS; i++) {
      const got = await upload(`/v2/alerts/${id}/attachments`, refusals[i % refusals.length]!);
      assert.ok(got.status === 422 || got.status === 413, `${got.status} ${JSON.stringify(got.body)}`);
    }
    const last = await upload(`/v2/alerts/${id}/attachments`, [file('last', 'text/plain', 'last.txt')]);
    assert.equal(last.status, 200, JSON.stringify(last.body));
    assert.equal((await rows(id)).length, 2);
  });
});

/**
 * Sends an upload's headers (with a Content-Length, as a browser does) and the start of its file part,
 * and hangs up at once; resolves once the socket is closed.
 */
function hangUpEarly(path: string, key: string): Promise<void> {
  const boundary = 'vigil-hung-up';
  const part =
    `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="gone.bin"\r\n` +
    `Content-Type: application/octet-stream\r\n\r\n${'x'.repeat(512)}`;
  const { host, hostname, port } = new URL(server.url);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), hostname.replace(/^\[|\]$/g, ''), () => {
      socket.write(
        `POST ${path} HTTP/1.1\r\nHost: ${host}\r\nAuthorization: GenieKey ${key}\r\n` +
          `Content-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 100000\r\n\r\n${part}`,
        () => socket.destroy(),
      );
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve());
  });
}

/**
 * Runs `hangUps` while `table` is locked, so the server's requests wait on it (and the clients are gone)
 * before the upload's handler, or its first step, goes on: `count` of them are seen waiting on the lock,
 * and their sockets closed, before it is let go.
 */
async function whileLocked(table: string, count: number, hangUps: () => Promise<void>[]): Promise<void> {
  const locker = new pg.Client({ connectionString: server.databaseUrl });
  await locker.connect();
  try {
    await locker.query('BEGIN');
    await locker.query(`LOCK TABLE ${table} IN ACCESS EXCLUSIVE MODE`);
    await Promise.all(hangUps());
    await waitFor(`${count} requests waiting on ${table}`, async () => {
      const { rows } = await db.query<{ n: string }>(
        `SELECT count(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query ILIKE $1`,
        [`%${table}%`],
      );
      return Number(rows[0]!.n) >= count;
    });
    // The server has heard the hang-ups by now (it took their sockets' close while it waited).
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    await locker.query('COMMIT').catch(() => {});
    await locker.end();
  }
}

describe('uploads whose client hangs up before the upload starts', () => {
  it('give their turn back, hung up while the key or the alert was checked: the next upload is added at once', async () => {
    const { id } = await alert();
    const path = `/v2/alerts/${id}/attachments`;
    const many = ATTACHMENT_UPLOAD_PERMITS + 2;
    const addedAtOnce = async (name: string) => {
      const started = Date.now();
      const got = await upload(path, [file('hello', 'text/plain', name)]);
      assert.equal(got.status, 200, `${name}: ${JSON.stringify(got.body)}`);
      // Not after waiting out a turn held by a hung-up upload (3 s).
      assert.ok(Date.now() - started < 2500, `${name} took ${Date.now() - started} ms`);
    };

    // A key not yet used (so not yet cached), checked while the clients hang up: the handler starts after.
    const run = randomUUID().slice(0, 8);
    const admin = await addUserWithKey(server, 'hangup', run);
    await server.callOk('PATCH', `/v2/users/${admin.id}`, { role: { name: 'Admin' } });
    await whileLocked('api_keys', many, () =>
      Array.from({ length: many }, () => hangUpEarly(path, admin.key)),
    );
    await addedAtOnce('after-auth.txt');

    // The alert's room checked (mayAdd) while they hang up, the handler already under way.
    await whileLocked('alert_attachments', many, () =>
      Array.from({ length: many }, () => hangUpEarly(path, server.key)),
    );
    await addedAtOnce('after-room.txt');
    assert.equal((await rows(id)).length, 2);
  });
});

describe('a download link', () => {
  it('expires after VIGIL_ATTACHMENT_LINK_TTL_MINUTES, and a changed or foreign token is refused', async () => {
    const { id } = await alert();
    const added = await upload(`/v2/alerts/${id}/attachments`, [file('secret', 'text/plain', 's.txt')]);
    const attachmentId = added.body.data.id;
    const { url } = (await server.callOk('GET', `/v2/alerts/${id}/attachments/${attachmentId}`)).data;
    assert.equal((await download(url)).status, 200);

    // The same claims for another attachment, with the first one's signature: not valid.
    const [header, payload, signature] = new URL(url).pathname.split('/').pop()!.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString());
    const other = await upload(`/v2/alerts/${id}/attachments`, [file('other', 'text/plain', 'o.txt')]);
    claims.att = other.body.data.id;
    const forged = `${header}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.${signature}`;
    assert.equal((await fetch(`${server.url}/v1/alert-attachments/${forged}`)).status, 400);
    // Signed with another key, or a notification's action link (same key, another type): not valid.
    const stranger = createAttachmentLinks(randomBytes(32), PUBLIC_URL, 60_000).url(
      { orgId: claims.org, alertId: id, attachmentId },
      clock.now(),
    );
    assert.equal((await download(stranger)).status, 400);
    const secret = await loadLinkSecret(server.app.context.db);
    const actionToken = createActionLinks(secret, PUBLIC_URL, 60_000).token(
      { alertId: id, userId: randomUUID(), orgId: claims.org, action: 'acknowledge' },
      clock.now(),
    );
    assert.equal((await fetch(`${server.url}/v1/alert-attachments/${actionToken}`)).status, 400);
    // Made with the server's own key and claims, it is accepted: the refusals above are for what they say.
    const genuine = createAttachmentLinks(secret, PUBLIC_URL, 60_000).url(
      { orgId: claims.org, alertId: id, attachmentId: other.body.data.id },
      clock.now(),
    );
    assert.equal(await (await download(genuine)).text(), 'other');

    clock.advance(TTL_MINUTES * 60_000 + 1000);
    const expired = await download(url);
    assert.equal(expired.status, 410);
    assert.match(((await expired.json()) as Json).message, /expired/);
  });
});

describe('who may reach an attachment', () => {
  it("another organization's key finds neither the alert nor its attachments", async () => {
    const { id } = await alert();
    const added = await upload(`/v2/alerts/${id}/attachments`, [file('ours', 'text/plain', 'ours.txt')]);
    const attachmentId = added.body.data.id;
    const other = await addOrganization(server, `Other ${randomUUID().slice(0, 6)}`);
    assert.equal((await other.call('GET', `/v2/alerts/${id}/attachments`)).status, 404);
    assert.equal((await other.call('GET', `/v2/alerts/${id}/attachments/${attachmentId}`)).status, 404);
    assert.equal((await other.call('DELETE', `/v2/alerts/${id}/attachments/${attachmentId}`)).status, 404);
    const theirs = await upload(
      `/v2/alerts/${id}/attachments`,
      [file('x', 'text/plain', 'x.txt')],
      other.key,
    );
    assert.equal(theirs.status, 404, JSON.stringify(theirs.body));
    assert.deepEqual(
      (await rows(id)).map((r) => r.name),
      ['ours.txt'],
    );
  });

  it("an API integration's key reaches its team's alerts only, as far as its flags allow", async () => {
    const teamA = (await server.callOk('POST', '/v2/teams', { name: `att-a-${randomUUID().slice(0, 6)}` }))
      .data.id;
    const teamB = (await server.callOk('POST', '/v2/teams', { name: `att-b-${randomUUID().slice(0, 6)}` }))
      .data.id;
    const integration = async (team: string, flags: Json = {}) =>
      (
        await server.callOk('POST', '/v2/integrations', {
          type: 'API',
          name: `att ${randomUUID()}`,
          ownerTeam: { id: team },
          ...flags,
        })
      ).data.apiKey as string;
    const full = await integration(teamA);
    const readOnly = await integration(teamA, { allowWriteAccess: false, allowDeleteAccess: false });
    const otherTeam = await integration(teamB);

    const { id } = await alert(full);
    const added = await upload(`/v2/alerts/${id}/attachments`, [file('a', 'text/plain', 'a.txt')], full);
    assert.equal(added.status, 200, JSON.stringify(added.body));
    const attachmentId = added.body.data.id;

    const refusedWrite = await upload(
      `/v2/alerts/${id}/attachments`,
      [file('b', 'text/plain', 'b.txt')],
      readOnly,
    );
    assert.equal(refusedWrite.status, 403, JSON.stringify(refusedWrite.body));
    assert.match(refusedWrite.body.message, /allowWriteAccess/);
    const refusedDelete = await server.call(
      'DELETE',
      `/v2/alerts/${id}/attachments/${attachmentId}`,
      undefined,
      readOnly,
    );
    assert.equal(refusedDelete.status, 403);
    assert.match(refusedDelete.body.message, /allowDeleteAccess/);
    const read = await server.call('GET', `/v2/alerts/${id}/attachments`, undefined, readOnly);
    assert.equal(read.status, 200);
    assert.equal(read.body.data.length, 1);

    assert.equal(
      (await server.call('GET', `/v2/alerts/${id}/attachments`, undefined, otherTeam)).status,
      404,
    );
    const otherUpload = await upload(
      `/v2/alerts/${id}/attachments`,
      [file('c', 'text/plain', 'c.txt')],
      otherTeam,
    );
    assert.equal(otherUpload.status, 404);

    const log = await logs(id);
    assert.ok(
      log.some((l) => /^Attachment a\.txt \(1 bytes\) added by att /.test(l)),
      log.join('\n'),
    );
    assert.deepEqual(
      (await rows(id)).map((r) => r.name),
      ['a.txt'],
    );
  });

  it('an upload is refused before its body is read: without alert-add-attachment, or for an alert not found', async () => {
    const run = randomUUID().slice(0, 6);
    const role = `Attachment onlooker ${run}`;
    await server.callOk('POST', '/v2/roles', { name: role, extendedRole: 'observer' });
    const onlooker = await addUserWithKey(server, 'onlooker', run);
    await server.callOk('PATCH', `/v2/users/${onlooker.id}`, { role: { name: role } });
    // An alert they can see: what they lack is the right.
    const { id } = await alert(server.key, { visibleTo: [{ type: 'user', id: onlooker.id }] });
    const seen = await server.call('GET', `/v2/alerts/${id}/attachments`, undefined, onlooker.key);
    assert.equal(seen.status, 200, JSON.stringify(seen.body));

    const refused = await upload(
      `/v2/alerts/${id}/attachments`,
      [file('x', 'text/plain', 'x.txt')],
      onlooker.key,
    );
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.match(refused.body.message, new RegExp(`role \\[${role}\\].*alert-add-attachment`));
    const early = await answerBeforeBody(`/v2/alerts/${id}/attachments`, onlooker.key);
    assert.equal(early.status, 403, JSON.stringify(early.body));
    assert.equal(early.body.message, refused.body.message);

    const unknown = randomUUID();
    const missing = await answerBeforeBody(`/v2/alerts/${unknown}/attachments`, server.key);
    assert.equal(missing.status, 404, JSON.stringify(missing.body));
    assert.match(missing.body.message, new RegExp(`Alert with id \\[${unknown}\\] does not exist`));
    assert.deepEqual(await rows(id), []);
    // The server goes on serving, uploads included.
    const added = await upload(`/v2/alerts/${id}/attachments`, [file('ok', 'text/plain', 'ok.txt')]);
    assert.equal(added.status, 200, JSON.stringify(added.body));
  });
});

describe('an alert deleted', () => {
  it('takes its attachments with it', async () => {
    const { id } = await alert();
    await upload(`/v2/alerts/${id}/attachments`, [file('gone', 'text/plain', 'gone.txt')]);
    assert.equal((await rows(id)).length, 1);
    const deleted = await server.call('DELETE', `/v2/alerts/${id}`);
    assert.equal(deleted.status, 202);
    const { rows: left } = await db.query('SELECT 1 FROM alert_attachments WHERE alert_id = $1', [id]);
    assert.equal(left.length, 0);
  });
});
