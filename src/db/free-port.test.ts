import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { freePort } from './embedded.js';

/**
 * A port handed out to be bound later comes from below the kernel's ephemeral range, where no outgoing
 * connection takes it in between (the embedded PostgreSQL's port, and the servers tests start).
 */
describe('freePort', () => {
  it('picks a port below the ephemeral range, that can be bound', async () => {
    for (let i = 0; i < 20; i++) {
      const port = await freePort();
      assert.ok(port >= 20_000 && port < 32_000, `${port} is outside 20000-31999`);
      const server = net.createServer();
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', resolve);
      });
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
