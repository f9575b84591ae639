import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { createDb, createPool } from '../db/database.js';
import { createLogger } from '../logger.js';
import { serverUrl, startTestServer, type TestServer } from '../testing/harness.js';
import { registerHealthRoutes } from './health.js';
import type { HttpApp } from './server.js';

/** How many connections the API pool of app.ts has (openDatabase): all of them busy is a full pool. */
const API_POOL_SIZE = 10;

describe('/readyz with every connection of the API pool busy', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it('answers ready: the probe has a connection of its own', { timeout: 30_000 }, async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = 0;
    let allHeld!: () => void;
    const everyOneHeld = new Promise<void>((resolve) => (allHeld = resolve));
    const holders = Array.from({ length: API_POOL_SIZE }, () =>
      server.app.context.apiDb.connection().execute(async () => {
        held += 1;
        if (held === API_POOL_SIZE) allHeld();
        await released;
      }),
    );
    try {
      await everyOneHeld;
      const answer = await fetch(`${server.url}/readyz`);
      const body = (await answer.json()) as { status: string };
      assert.equal(answer.status, 200, JSON.stringify(body));
      assert.equal(body.status, 'ready');
    } finally {
      release();
      await Promise.all(holders);
    }
  });
});

describe('/readyz on a database that refuses the connection', () => {
  it('answers the status and a hint, and logs the error with the request id', async () => {
    // A role the server does not have: PostgreSQL's error names it, which /readyz (no key) must not.
    const url = new URL(serverUrl());
    url.username = 'vigil_readyz_secret_role';
    url.password = 'not-the-password';
    const lines: string[] = [];
    const logTo = new PassThrough();
    logTo.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    const db = createDb(createPool(url.toString(), 1));
    const app = Fastify({ loggerInstance: createLogger('info', logTo) as FastifyBaseLogger });
    registerHealthRoutes(app as unknown as HttpApp, db);
    try {
      const answer = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(answer.statusCode, 503, answer.body);
      assert.doesNotMatch(answer.body, /vigil_readyz_secret_role/);
      const body = answer.json<Record<string, unknown>>();
      assert.equal(body.status, 'database unreachable');
      assert.match(String(body.hint), /see the server log/);
      assert.equal(body.error, undefined, answer.body);
      const logged = lines
        .map((line) => JSON.parse(line) as { reqId?: string; msg?: string; err?: { message?: string } })
        .find((entry) => entry.err?.message?.includes('vigil_readyz_secret_role'));
      assert.ok(logged, `the error is logged: ${lines.join('\n')}`);
      assert.ok(logged.reqId, 'logged with the request id');
      assert.ok(String(body.hint).includes(logged.reqId), `the hint names the request: ${answer.body}`);
    } finally {
      await app.close();
      await db.destroy();
    }
  });
});
