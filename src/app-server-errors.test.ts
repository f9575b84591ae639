import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from './testing/harness.js';

/**
 * An error of the listening HTTP server, as libuv reports a failed accept() (EMFILE or ENFILE in a
 * connection flood), is logged with what to do, and Vigil goes on serving: nothing else listens for it,
 * and unheard it would end the process.
 */

let server: TestServer;
const lines: string[] = [];

before(async () => {
  const logTo = new PassThrough();
  logTo.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  server = await startTestServer({ role: 'api', logTo, logLevel: 'error' });
});

after(() => server.stop());

/** An error as net.Server emits it when accept() fails. */
function acceptError(code: string, errno: number): NodeJS.ErrnoException {
  return Object.assign(new Error(`accept ${code}`), { code, errno, syscall: 'accept' });
}

describe('the HTTP server when accepting a connection fails', () => {
  it('logs it, naming the open-files limit, and goes on serving', async () => {
    const http = server.app.http;
    assert.ok(http);
    assert.doesNotThrow(() => http.server.emit('error', acceptError('ENFILE', -23)));
    // A flood fails accept() over and over: the log gets one line a kind, not one per failure.
    assert.doesNotThrow(() => http.server.emit('error', acceptError('ENFILE', -23)));
    // Another kind meanwhile is said all the same.
    assert.doesNotThrow(() => http.server.emit('error', acceptError('ENOMEM', -12)));

    const logged = lines
      .map((line) => JSON.parse(line) as { level: number; code?: string; msg: string })
      .filter((entry) => entry.msg.includes('could not accept a connection'));
    assert.deepEqual(
      logged.map((entry) => entry.code),
      ['ENFILE', 'ENOMEM'],
      lines.join('\n'),
    );
    assert.equal(logged[0]?.level, 50);
    assert.match(logged[0]?.msg ?? '', /open-files limit/);

    const response = await fetch(`${server.url}/healthz`);
    assert.equal(response.status, 200);
  });
});
