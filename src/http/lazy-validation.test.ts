import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import Fastify from 'fastify';
import { startTestServer, type TestServer } from '../testing/harness.js';
import { createLazyValidators } from './lazy-validation.js';

describe('route schemas compiled on first use', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(async () => {
    await server.stop();
  });

  it('validate, coerce and explain on a route’s first request as they did compiled at start', async () => {
    // Each of these is the route's first request in this process.
    const missing = await server.call('POST', '/v2/alerts', { description: 'no message' });
    assert.equal(missing.status, 422);
    assert.match(JSON.stringify(missing.body), /message/);

    await server.callOk('POST', '/v2/alerts', { message: 'lazy one', unknownField: 'dropped, not refused' });
    await server.callOk('POST', '/v2/alerts', { message: 'lazy two' });
    // `limit` arrives as text and is coerced to a number, as Ajv's coerceTypes does.
    const listed = await server.callOk('GET', '/v2/alerts?limit=1');
    assert.equal(listed.data.length, 1);
    const badLimit = await server.call('GET', '/v2/alerts?limit=many');
    assert.equal(badLimit.status, 422);
    assert.match(JSON.stringify(badLimit.body), /limit/);
  });

  it('every route’s schema compiles, and a second pass finds nothing left', () => {
    const http = server.app.http;
    assert.ok(http);
    const compiled = http.compileValidators();
    assert.ok(compiled > 100, `only ${compiled} route schemas were left to compile`);
    assert.equal(http.compileValidators(), 0);
  });
});

describe('createLazyValidators', () => {
  it('compiles a schema once, on its first validation, and keeps Ajv’s errors and coercion', async () => {
    const validators = createLazyValidators();
    const app = Fastify({
      ajv: { customOptions: { coerceTypes: 'array', removeAdditional: true } },
      schemaController: { compilersFactory: { buildValidator: validators.buildValidator } },
    });
    app.get(
      '/n',
      { schema: { querystring: { type: 'object', properties: { n: { type: 'integer', maximum: 9 } } } } },
      async (request) => ({ query: request.query }),
    );
    app.get('/other', { schema: { querystring: { type: 'object' } } }, async () => ({}));
    await app.ready();

    const ok = await app.inject({ method: 'GET', url: '/n?n=7&extra=1' });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { query: { n: 7, extra: '1' } });
    const bad = await app.inject({ method: 'GET', url: '/n?n=12' });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.json().message, /must be <= 9/);
    // GET /n is compiled; GET /other is not yet, nor the HEAD routes Fastify adds for both.
    assert.equal(validators.compileAll(), 3);
    assert.equal(validators.compileAll(), 0);
    await app.close();
  });
});
