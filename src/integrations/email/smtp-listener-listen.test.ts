import assert from 'node:assert/strict';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import { createLogger } from '../../logger.js';
import type { EmailIntake } from './intake.js';
import { InboundSmtpListenError, startInboundSmtp } from './smtp-listener.js';

/** A listener that cannot take its port says so, rather than logging a failed connection. */

describe('the inbound SMTP listener on a port that is taken', () => {
  it('rejects with a listen error carrying the system code, and logs no connection failure', async () => {
    const taken = net.createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as net.AddressInfo).port;
    const lines: string[] = [];
    const logTo = new PassThrough();
    logTo.on('data', (chunk: Buffer) => lines.push(chunk.toString('utf8')));
    try {
      const error = await startInboundSmtp({
        port,
        host: '127.0.0.1',
        maxBytes: 1024,
        maxConnectionsPerAddress: 0,
        // Never reached: no connection is made.
        intake: {} as EmailIntake,
        log: createLogger('debug', logTo),
      }).then(
        async (listener) => {
          await listener.close();
          assert.fail('the listener started on a taken port');
        },
        (e: unknown) => e,
      );
      assert.ok(error instanceof InboundSmtpListenError, String(error));
      assert.equal(error.code, 'EADDRINUSE');
      assert.match(error.message, new RegExp(`cannot listen on 127\\.0\\.0\\.1:${port}`));
      assert.ok(!lines.join('').includes('a connection failed'), lines.join(''));
    } finally {
      await new Promise<void>((resolve) => taken.close(() => resolve()));
    }
  });
});
