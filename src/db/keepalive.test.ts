import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it, mock } from 'node:test';
import { serverUrl } from '../testing/harness.js';
import { KEEPALIVE_INITIAL_DELAY_MS, createPool } from './database.js';

/**
 * A database that vanishes without closing its connections leaves them open on Vigil's side for good
 * unless the operating system probes them (TCP keepalive): then a query waiting on one fails, and the
 * wake-up connection is opened again, instead of both waiting forever without a word.
 */
describe('the connections of a pool', () => {
  it('are probed by TCP keepalive once idle', async () => {
    const setKeepAlive = mock.method(net.Socket.prototype, 'setKeepAlive');
    const pool = createPool(serverUrl(), 1);
    try {
      await pool.query('SELECT 1');
      assert.deepEqual(
        setKeepAlive.mock.calls.map((call) => call.arguments),
        [[true, KEEPALIVE_INITIAL_DELAY_MS]],
      );
    } finally {
      setKeepAlive.mock.restore();
      await pool.end();
    }
  });
});
