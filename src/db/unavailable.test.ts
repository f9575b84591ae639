import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { describe, it } from 'node:test';
import pg from 'pg';
import { serverUrl } from '../testing/harness.js';
import { createPool, isDatabaseUnavailable, isTransientDatabaseError } from './database.js';

/** The error a statement fails with through a fresh pool to `connectionString`. */
async function failureOf(connectionString: string, connectTimeoutMs?: number): Promise<unknown> {
  const pool = createPool(connectionString, 1, connectTimeoutMs ? { connectTimeoutMs } : {});
  try {
    await pool.query('SELECT 1');
  } catch (error) {
    return error;
  } finally {
    await pool.end().catch(() => {});
  }
  assert.fail('the statement succeeded');
}

/** A server that takes a connection and closes it once the client speaks: a database going down. */
async function closingServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const server = net.createServer((socket) => socket.once('data', () => socket.destroy()));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `postgresql://vigil@127.0.0.1:${port}/vigil`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * During a restart or a failover the requests that reach the database get a 503 that says to try again,
 * and the workers retry: a restart of the embedded PostgreSQL (reached through its unix socket, whose file
 * is gone while it is down) answered 500 "Internal error" to most of them.
 */
describe('a database that cannot be reached right now', () => {
  it('is unavailable, and worth a retry, when its unix socket is gone', async () => {
    const folder = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-no-socket-'));
    try {
      const error = await failureOf(`postgresql://vigil@localhost/vigil?host=${encodeURIComponent(folder)}`);
      assert.equal((error as { code?: string }).code, 'ENOENT');
      assert.ok(isDatabaseUnavailable(error), String(error));
      assert.ok(isTransientDatabaseError(error), String(error));
    } finally {
      await fs.rm(folder, { recursive: true, force: true });
    }
  });

  it('is unavailable when the server ends the connection as it is made', async () => {
    const server = await closingServer();
    try {
      const error = await failureOf(server.url);
      assert.match(String(error), /Connection terminated unexpectedly/);
      assert.ok(isDatabaseUnavailable(error));
      assert.ok(isTransientDatabaseError(error));
    } finally {
      await server.close();
    }
  });

  it('is unavailable on a connection the server ended, used again', async () => {
    const client = new pg.Client({ connectionString: serverUrl() });
    const admin = new pg.Client({ connectionString: serverUrl() });
    client.on('error', () => {});
    await Promise.all([client.connect(), admin.connect()]);
    try {
      const ended = new Promise((resolve) => client.once('end', resolve));
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await admin.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await ended;
      const error = await client.query('SELECT 1').then(
        () => assert.fail('queried'),
        (e: unknown) => e,
      );
      assert.match(String(error), /not queryable/);
      assert.ok(isDatabaseUnavailable(error), String(error));
    } finally {
      await Promise.all([client.end().catch(() => {}), admin.end()]);
    }
  });

  it('is worth a retry when the connection times out', { timeout: 15_000 }, async () => {
    // Accepts and never answers: the connect timeout ends the wait.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const error = await failureOf(`postgresql://vigil@127.0.0.1:${port}/vigil`, 300);
      assert.ok(isDatabaseUnavailable(error), String(error));
      assert.ok(isTransientDatabaseError(error), String(error));
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('is not a file that is missing', async () => {
    const error = await fs.readFile(path.join(os.tmpdir(), 'vigil-no-such-file')).catch((e: unknown) => e);
    assert.equal((error as { code?: string }).code, 'ENOENT');
    assert.equal(isDatabaseUnavailable(error), false);
    assert.equal(isTransientDatabaseError(error), false);
  });
});
