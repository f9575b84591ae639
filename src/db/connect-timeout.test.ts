import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { registerHealthRoutes } from '../http/health.js';
import type { HttpApp } from '../http/server.js';
import { serverUrl } from '../testing/harness.js';
import { createDb, createPool, isDatabaseUnavailable } from './database.js';

/**
 * A database host that accepts connections and never answers (a firewall that drops packets looks the
 * same from here, only slower): start-up and /readyz must fail in bounded time, not hang.
 */
describe('a database that never answers', () => {
  let server: net.Server;
  let url: string;
  const sockets: net.Socket[] = [];
  before(async () => {
    server = net.createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `postgres://vigil:secret@127.0.0.1:${(server.address() as net.AddressInfo).port}/vigil`;
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('fails a connection within the connect timeout, saying so', { timeout: 15_000 }, async () => {
    const pool = createPool(url, 1, { connectTimeoutMs: 300 });
    const began = Date.now();
    try {
      await assert.rejects(pool.query('SELECT 1'), (error: unknown) => {
        assert.ok(isDatabaseUnavailable(error), String(error));
        return true;
      });
      assert.ok(Date.now() - began < 5_000, `failed after ${Date.now() - began} ms`);
    } finally {
      await pool.end();
    }
  });

  it('lets a request wait for a free connection longer than the connect timeout', async () => {
    const pool = createPool(serverUrl(), 1, { connectTimeoutMs: 300 });
    const held = await pool.connect();
    try {
      const waiting = pool.query('SELECT 1 AS one');
      // Longer than the connect timeout: the pool's own would have failed the waiting query by now.
      await new Promise((resolve) => setTimeout(resolve, 900));
      held.release();
      assert.equal((await waiting).rows[0].one, 1);
    } finally {
      await pool.end();
    }
  });

  it('makes /readyz answer 503 within its bound', { timeout: 30_000 }, async () => {
    // The connect timeout is the default (10 s): /readyz must not wait for it.
    const pool = createPool(url, 1);
    const db = createDb(pool);
    const app = Fastify();
    registerHealthRoutes(app as unknown as HttpApp, db, 300);
    const began = Date.now();
    try {
      const answer = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(answer.statusCode, 503, answer.body);
      assert.match(answer.json<{ error: string }>().error, /did not answer within/);
      assert.ok(Date.now() - began < 5_000, `answered after ${Date.now() - began} ms`);
    } finally {
      await app.close();
      // Ends the connection attempt still waiting, rather than wait out its timeout.
      for (const socket of sockets) socket.destroy();
      await db.destroy();
    }
  });
});
