import assert from 'node:assert/strict';
import net from 'node:net';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { createLogger } from './logger.js';
import { createTestDatabase } from './testing/harness.js';

/**
 * A port that is taken (a second "vigil start", another program) fails the start at once, naming the
 * setting: before the database is migrated, the workers start or a setup link is handed out.
 */

let taken: net.Server;
let takenPort: number;

before(async () => {
  taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  takenPort = (taken.address() as net.AddressInfo).port;
});

after(() => new Promise<void>((resolve) => taken.close(() => resolve())));

/** Starts on an empty database with `env`; returns the failure, the log lines and the tables made. */
async function failedStart(env: Record<string, string>) {
  const databaseUrl = await createTestDatabase();
  const lines: string[] = [];
  const logTo = new PassThrough();
  logTo.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
  const config = loadConfig({ HOST: '127.0.0.1', DATABASE_URL: databaseUrl, ...env });
  const error = await startApp(config, { role: 'all', log: createLogger('info', logTo) }).then(
    async (app) => {
      await app.stop();
      assert.fail('the start succeeded on a taken port');
    },
    (e: unknown) => e,
  );
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const tables = await client.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`,
    );
    return { error, lines, tables: tables.rows[0]?.n };
  } finally {
    await client.end();
  }
}

describe('starting on a port that is taken', () => {
  it('fails before anything starts, naming PORT and the likely cause', async () => {
    const { error, lines, tables } = await failedStart({ PORT: String(takenPort) });
    assert.ok(error instanceof ConfigError, String(error));
    assert.match(error.message, new RegExp(`PORT=${takenPort}\\b`));
    assert.match(error.message, /HOST=127\.0\.0\.1/);
    assert.match(error.message, /another Vigil may be running on it/i);
    assert.equal(tables, 0, 'no migration ran, so no worker started');
    assert.ok(!lines.some((l) => l.includes('/setup?code=')), 'no setup link was handed out');
  });

  it('fails before anything starts, naming VIGIL_INBOUND_SMTP_PORT', async () => {
    const { error, lines, tables } = await failedStart({
      PORT: '0',
      VIGIL_INBOUND_SMTP_PORT: String(takenPort),
      VIGIL_INBOUND_EMAIL_DOMAIN: 'alerts.example.com',
    });
    assert.ok(error instanceof ConfigError, String(error));
    assert.match(error.message, new RegExp(`VIGIL_INBOUND_SMTP_PORT=${takenPort}\\b`));
    assert.match(error.message, /already in use/);
    assert.equal(tables, 0);
    assert.ok(!lines.some((l) => l.includes('/setup?code=')));
  });

  it('fails before anything starts, naming VIGIL_METRICS_PORT', async () => {
    const { error, lines, tables } = await failedStart({
      PORT: '0',
      VIGIL_METRICS_PORT: String(takenPort),
      VIGIL_METRICS_HOST: '127.0.0.1',
    });
    assert.ok(error instanceof ConfigError, String(error));
    assert.match(error.message, new RegExp(`VIGIL_METRICS_PORT=${takenPort}\\b`));
    assert.match(error.message, /^The metrics listener cannot listen/);
    assert.equal(tables, 0);
    assert.ok(!lines.some((l) => l.includes('/setup?code=')));
  });

  it('fails before anything starts when PORT and VIGIL_INBOUND_SMTP_PORT are one free port', async () => {
    const free = net.createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const port = (free.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => free.close(() => resolve()));
    const { error, tables } = await failedStart({
      PORT: String(port),
      VIGIL_INBOUND_SMTP_PORT: String(port),
      VIGIL_INBOUND_SMTP_HOST: '127.0.0.1',
      VIGIL_INBOUND_EMAIL_DOMAIN: 'alerts.example.com',
    });
    assert.ok(error instanceof ConfigError, String(error));
    assert.match(error.message, new RegExp(`VIGIL_INBOUND_SMTP_PORT=${port}\\b`));
    assert.equal(tables, 0, 'each port was held until the other was taken');
  });
});
