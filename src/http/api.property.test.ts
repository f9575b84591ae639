import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import { hostileJson, hostileNumber, hostileString, PROPERTY_SEED } from '../testing/hostile-arbitraries.js';
import { startTestServer, type Json, type TestServer } from '../testing/harness.js';

/**
 * Properties of the HTTP API over hostile requests (any JSON, any strings including NULs and lone
 * surrogates, any numbers, in bodies, paths and query strings): no answer is a 5xx, and a create that is
 * refused writes nothing.
 */

let server: TestServer;
let alertId: string;

before(async () => {
  server = await startTestServer();
  assert.equal((await server.call('POST', '/v2/teams', { name: 'Prop' })).status, 201);
  await server.call('POST', '/v2/alerts', { message: 'target', alias: 'target' });
  alertId = (await server.call('GET', '/v2/alerts/target?identifierType=alias')).body.data.id;
});

after(async () => {
  await server.stop();
});

/** Percent-encodes the UTF-8 of any string (encodeURIComponent throws on a lone surrogate). */
function encode(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0')}`,
    )
    .join('');
}

/** Any generated value as query-string text (String() throws on an object whose toString is not a function). */
function text(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

async function send(method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> {
  const response = await fetch(server.url + path, {
    method,
    headers: {
      authorization: `GenieKey ${server.key}`,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text };
}

const field = fc.oneof(hostileString({ maxLength: 200 }), hostileNumber, hostileJson);

const alertBody = fc.record(
  {
    message: fc.oneof(hostileString({ minLength: 1, maxLength: 200 }), field),
    alias: field,
    description: field,
    tags: fc.oneof(fc.array(hostileString({ maxLength: 60 }), { maxLength: 25 }), field),
    details: fc.oneof(fc.dictionary(hostileString({ maxLength: 20 }), field, { maxKeys: 6 }), field),
    entity: field,
    source: field,
    priority: fc.oneof(fc.constantFrom('P1', 'P3', 'P5'), field),
    responders: fc.oneof(
      fc.array(fc.record({ type: fc.constantFrom('team', 'user', 'escalation', 'schedule'), name: field }), {
        maxLength: 3,
      }),
      field,
    ),
    note: field,
    user: field,
    actions: fc.oneof(fc.array(hostileString(), { maxLength: 12 }), field),
  },
  { requiredKeys: [] },
);

const identifier = fc.oneof(hostileString({ minLength: 1, maxLength: 60 }), fc.constant('TARGET'));
const identifierType = fc.constantFrom('id', 'tiny', 'alias', 'nonsense');

const request = fc.oneof(
  fc.record({
    method: fc.constant('POST'),
    path: fc.constant('/v2/alerts'),
    body: fc.oneof(alertBody, hostileJson),
  }),
  fc
    .record({
      id: identifier,
      type: identifierType,
      action: fc.constantFrom(
        'acknowledge',
        'unacknowledge',
        'close',
        'snooze',
        'notes',
        'tags',
        'details',
        'assign',
        'escalate',
      ),
      body: fc.oneof(
        hostileJson,
        fc.record(
          {
            note: field,
            user: field,
            source: field,
            endTime: fc.oneof(field, fc.constantFrom('2030-06-30T23:59:60Z', '2099-01-01T00:00:00Z')),
            tags: field,
            details: field,
            owner: field,
            escalation: field,
          },
          { requiredKeys: [] },
        ),
      ),
    })
    .map((r) => ({
      method: 'POST',
      path: `/v2/alerts/${encode(r.id)}/${r.action}?identifierType=${r.type}`,
      body: r.body,
    })),
  fc
    .record({
      id: identifier,
      what: fc.constantFrom('priority', 'message', 'description'),
      body: hostileJson,
    })
    .map((r) => ({ method: 'PUT', path: `/v2/alerts/${encode(r.id)}/${r.what}`, body: r.body })),
  fc
    .record({
      id: identifier,
      type: identifierType,
      what: fc.constantFrom('', '/logs', '/notes'),
      offset: field,
    })
    .map((r) => ({
      method: 'GET',
      path: `/v2/alerts/${encode(r.id)}${r.what}?identifierType=${r.type}&offset=${encode(text(r.offset))}`,
      body: undefined,
    })),
  fc
    .record({
      query: fc.oneof(
        hostileString({ maxLength: 120 }),
        fc
          .tuple(
            fc.constantFrom('count', 'tinyId', 'priority', 'details.x', 'message', 'tag'),
            fc.constantFrom(':', '>', '<=', '!='),
            fc.oneof(hostileNumber.map(String), hostileString()),
          )
          .map(([f, op, v]) => `${f}${op}${v}`),
      ),
      limit: field,
      offset: field,
      sort: fc.oneof(fc.constantFrom('createdAt', 'tinyId'), hostileString()),
      count: fc.boolean(),
    })
    .map((r) => ({
      method: 'GET',
      path: r.count
        ? `/v2/alerts/count?query=${encode(r.query)}`
        : `/v2/alerts?query=${encode(r.query)}&limit=${encode(text(r.limit))}&offset=${encode(text(r.offset))}&sort=${encode(r.sort)}`,
      body: undefined,
    })),
  fc
    .record({
      id: identifier,
      type: identifierType,
      what: fc.constantFrom('tags', 'details'),
      values: hostileString(),
    })
    .map((r) => ({
      method: 'DELETE',
      path: `/v2/alerts/${encode(r.id)}/${r.what}?identifierType=${r.type}&tags=${encode(r.values)}&keys=${encode(r.values)}`,
      body: undefined,
    })),
  fc
    .record({
      path: fc.constantFrom('/v2/users', '/v2/teams', '/v2/schedules', '/v2/escalations', '/v2/integrations'),
      body: fc.oneof(
        hostileJson,
        fc.record(
          {
            name: field,
            username: field,
            fullName: field,
            description: field,
            timezone: field,
            type: fc.constantFrom('API', 'AmazonSecurityHub'),
            ownerTeam: fc.oneof(fc.constant({ name: 'Prop' }), field),
            rules: field,
          },
          { requiredKeys: [] },
        ),
      ),
    })
    .map((r) => ({ method: 'POST', path: r.path, body: r.body })),
);

async function alertCount(): Promise<number> {
  return (await server.call('GET', '/v2/alerts/count')).body.data.count;
}

describe('the API over hostile requests', () => {
  it('never answers 5xx, and a refused create writes nothing', async () => {
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const path = r.path.replace('TARGET', alertId);
        const before = r.method === 'POST' && path === '/v2/alerts' ? await alertCount() : undefined;
        const res = await send(r.method, path, r.body);
        assert.ok(
          res.status >= 200 && res.status < 500,
          `${r.method} ${path} answered ${res.status}: ${res.body}`,
        );
        if (before !== undefined && res.status >= 400) assert.equal(await alertCount(), before);
      }),
      { seed: PROPERTY_SEED, numRuns: 400 },
    );
  });
});
