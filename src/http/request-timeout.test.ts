import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../testing/harness.js';
import { openLiveStream } from '../testing/live-stream.js';

/**
 * A request body that trickles in, or never ends, holds its socket and what arrived of it. A caller
 * without credentials is answered before its body is read, and everyone's request must arrive whole
 * within VIGIL_REQUEST_TIMEOUT_SECONDS; answers that stream for longer are not cut.
 */

let server: TestServer;
let quick: TestServer;
const streams: AbortController[] = [];
before(async () => {
  [server, quick] = await Promise.all([
    startTestServer(),
    startTestServer({ env: { VIGIL_REQUEST_TIMEOUT_SECONDS: '1' } }),
  ]);
});
after(async () => {
  for (const controller of streams) controller.abort();
  await Promise.all([server?.stop(), quick?.stop()]);
});

interface Outcome {
  /** What came back before the connection closed or the wait ran out. */
  received: string;
  closed: boolean;
  ms: number;
}

/**
 * Sends a POST /v2/alerts announcing a 1 MiB body but only its first bytes, then waits up to `waitMs`
 * for an answer (`until` says when what arrived is enough) or the connection to close.
 */
async function sendUnfinishedBody(
  baseUrl: string,
  headers: Record<string, string>,
  waitMs: number,
  until: (received: string) => boolean = () => false,
): Promise<Outcome> {
  const { hostname, port } = new URL(baseUrl);
  const socket = net.connect(Number(port), hostname);
  const started = performance.now();
  const head = Object.entries({ host: `${hostname}:${port}`, ...headers, 'content-length': '1048576' })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.write(`POST /v2/alerts HTTP/1.1\r\n${head}\r\n{"message":"never fin`);
  let received = '';
  let closed = false;
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, waitMs);
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
      if (until(received)) {
        clearTimeout(timer);
        resolve();
      }
    });
    socket.on('close', () => {
      closed = true;
      clearTimeout(timer);
      resolve();
    });
    socket.on('error', () => {});
  });
  const ms = performance.now() - started;
  socket.destroy();
  return { received, closed, ms };
}

/** The whole answer has arrived: its body is as long as its Content-Length says. */
function answered(received: string): boolean {
  const [head, body = ''] = received.split('\r\n\r\n');
  const length = /\r\ncontent-length: (\d+)/i.exec(head ?? '')?.[1];
  return length !== undefined && Buffer.byteLength(body) >= Number(length);
}

function statusOf(received: string): number | undefined {
  const status = /^HTTP\/1\.1 (\d{3})/.exec(received)?.[1];
  return status === undefined ? undefined : Number(status);
}

function messageOf(received: string): unknown {
  return (JSON.parse(received.split('\r\n\r\n')[1] ?? '') as { message?: unknown }).message;
}

describe('a request body that does not arrive', () => {
  it('is not waited for when the request has no credentials', async () => {
    const outcome = await sendUnfinishedBody(
      server.url,
      { 'content-type': 'application/json' },
      5000,
      answered,
    );
    assert.equal(statusOf(outcome.received), 401, outcome.received || 'no answer within 5 s');
    assert.equal(
      messageOf(outcome.received),
      'Could not authenticate: send Authorization: GenieKey <api key> (or Bearer <api key>, or Basic with the key as the password).',
    );
  });

  it('is not waited for when the credentials are not valid', async () => {
    const outcome = await sendUnfinishedBody(
      server.url,
      { 'content-type': 'application/json', authorization: 'GenieKey not-a-key-of-anyone' },
      5000,
      answered,
    );
    assert.equal(statusOf(outcome.received), 401, outcome.received || 'no answer within 5 s');
    assert.equal(
      messageOf(outcome.received),
      'Could not authenticate: the API key is unknown or has been deleted.',
    );
  });

  it('is cut after VIGIL_REQUEST_TIMEOUT_SECONDS from a caller who may send it', async () => {
    const outcome = await sendUnfinishedBody(
      quick.url,
      { 'content-type': 'application/json', authorization: `GenieKey ${quick.key}` },
      6000,
    );
    assert.ok(outcome.closed, `still open after ${Math.round(outcome.ms)} ms`);
    assert.ok(outcome.ms >= 900, `cut after ${Math.round(outcome.ms)} ms, before the timeout`);
    assert.equal(statusOf(outcome.received), 408, outcome.received);
  });
});

describe('VIGIL_REQUEST_TIMEOUT_SECONDS', () => {
  it('leaves an answer that streams for longer open', async () => {
    const stream = await openLiveStream(quick.url, quick.key, { track: streams });
    assert.equal(stream.status, 200, stream.text());
    await new Promise((resolve) => setTimeout(resolve, 2500));
    assert.equal(stream.ended(), false, 'the live alert feed was cut');
    stream.close();
  });

  it('leaves a request that arrives whole alone', async () => {
    const sent = await quick.call('POST', '/v2/alerts', { message: 'in time' });
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
  });
});
