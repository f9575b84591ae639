import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createLogger } from '../logger.js';
import { startTestServer, type TestServer } from '../testing/harness.js';
import { buildHttpApp } from './server.js';

/**
 * The API under bytes PostgreSQL cannot store, numbers out of range, times JavaScript cannot represent,
 * a Host header that is not a host, and queries that would tie up the database: each gets a 4xx (or is
 * made storable), never a 500.
 */

let server: TestServer;

before(async () => {
  server = await startTestServer({ env: { VIGIL_API_STATEMENT_TIMEOUT_SECONDS: '1' } });
  assert.equal((await server.call('POST', '/v2/teams', { name: 'Hostile' })).status, 201);
});

after(async () => {
  await server.stop();
});

const NUL = 'a\u0000b';
const LONE = 'c\ud800d';

describe('text PostgreSQL cannot store', () => {
  it('is made storable in every alert field, identifier and query', async () => {
    const created = await server.call('POST', '/v2/alerts', {
      message: `m ${NUL} ${LONE}`,
      alias: `alias-${NUL}`,
      description: LONE,
      entity: NUL,
      source: NUL,
      tags: [NUL, LONE],
      details: { [NUL]: LONE, key: NUL },
      note: NUL,
      user: LONE,
      actions: [NUL],
    });
    assert.equal(created.status, 202, JSON.stringify(created.body));
    const got = await server.call(
      'GET',
      `/v2/alerts/${encodeURIComponent(`alias-${NUL}`)}?identifierType=alias`,
    );
    assert.equal(got.status, 200, JSON.stringify(got.body));
    assert.equal(got.body.data.message, 'm a\uFFFDb c\uFFFDd');
    assert.deepEqual(got.body.data.tags.sort(), ['a\uFFFDb', 'c\uFFFDd'].sort());
    assert.equal(got.body.data.details['a\uFFFDb'], 'c\uFFFDd');
    const id = got.body.data.id;

    for (const [method, path, body] of [
      ['POST', `/v2/alerts/${id}/notes`, { note: NUL }],
      ['POST', `/v2/alerts/${id}/tags`, { tags: [LONE] }],
      ['POST', `/v2/alerts/${id}/details`, { details: { [LONE]: NUL } }],
      ['PUT', `/v2/alerts/${id}/message`, { message: NUL }],
      ['PUT', `/v2/alerts/${id}/description`, { description: LONE }],
      ['POST', `/v2/alerts/${id}/acknowledge`, { user: NUL, note: LONE, source: NUL }],
      ['DELETE', `/v2/alerts/${id}/tags?tags=${encodeURIComponent(NUL)}`, undefined],
      ['DELETE', `/v2/alerts/${id}/details?keys=${encodeURIComponent(NUL)}`, undefined],
    ] as const) {
      const res = await server.call(method, path, body);
      assert.ok(res.status < 500, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    }
    for (const path of [
      `/v2/alerts/${encodeURIComponent(NUL)}`,
      // A lone surrogate has no UTF-8: in a URL it arrives as the bytes of one, which decode to U+FFFD.
      `/v2/alerts/c%ED%A0%80d?identifierType=alias`,
      `/v2/alerts/${encodeURIComponent(NUL)}?identifierType=tiny`,
      `/v2/alerts?query=${encodeURIComponent(`message:${NUL}`)}`,
      `/v2/alerts?query=c%ED%A0%80d`,
      `/v2/alerts/count?query=${encodeURIComponent(`details.${NUL}:x`)}`,
      `/v2/alerts/requests/${encodeURIComponent(NUL)}`,
    ]) {
      const res = await server.call('GET', path);
      assert.ok(res.status < 500, `${path}: ${res.status} ${JSON.stringify(res.body)}`);
    }
  });

  it('is made storable in the names of users, teams, schedules, escalations, routing rules and integrations', async () => {
    const calls: [string, string, object][] = [
      [
        'POST',
        '/v2/users',
        { username: 'nul-user@example.com', fullName: `u ${NUL} ${LONE}`, role: { name: 'User' } },
      ],
      ['POST', '/v2/teams', { name: 'nulteam', description: LONE }],
      ['POST', '/v2/schedules', { name: `s ${NUL}`, timezone: 'UTC', ownerTeam: { name: 'Hostile' } }],
      [
        'POST',
        '/v2/escalations',
        {
          name: `e ${LONE}`,
          rules: [
            {
              condition: 'if-not-acked',
              notifyType: 'default',
              delay: { timeAmount: 0 },
              recipient: { type: 'team', name: 'Hostile' },
            },
          ],
        },
      ],
      ['POST', '/v2/integrations', { type: 'API', name: `i ${NUL}`, ownerTeam: { name: 'Hostile' } }],
      [
        'POST',
        '/v2/teams/Hostile/routing-rules?teamIdentifierType=name',
        { name: `r ${NUL}`, criteria: { type: 'match-all' }, notify: { type: 'none' } },
      ],
    ];
    for (const [method, path, body] of calls) {
      const res = await server.call(method, path, body);
      assert.ok(
        res.status >= 200 && res.status < 300,
        `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`,
      );
    }
    const team = await server.call('GET', '/v2/teams/nulteam?identifierType=name');
    assert.equal(team.status, 200, JSON.stringify(team.body));
    assert.equal(team.body.data.description, 'c\uFFFDd');
    const integrations = await server.call('GET', '/v2/integrations');
    assert.ok(integrations.body.data.some((i: { name: string }) => i.name === 'i a\uFFFDb'));
  });

  it('is refused with a 400 when nested deeper than anything an alert needs', async () => {
    let deep: unknown = 'x';
    for (let i = 0; i < 200; i++) deep = { d: deep };
    const res = await server.call('POST', '/v2/alerts', { message: 'deep', details: deep });
    assert.equal(res.status, 400);
    assert.match(res.body.message, /nested more than 64 levels/);
  });
});

describe('numbers and times out of range', () => {
  it('are a 422 naming the field, never a 500', async () => {
    for (const query of [
      'count>2147483648',
      'tinyId>9223372036854775808',
      `count:${'9'.repeat(400)}`,
      `tinyId<${'1'.repeat(400)}`,
    ]) {
      const res = await server.call('GET', `/v2/alerts?query=${encodeURIComponent(query)}`);
      assert.equal(res.status, 422, `${query}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.message, /takes a whole number from 0 to/);
    }
    await server.call('POST', '/v2/alerts', { message: 'snooze me', alias: 'snooze-me' });
    const leap = await server.call('POST', '/v2/alerts/snooze-me/snooze?identifierType=alias', {
      endTime: '2030-06-30T23:59:60Z',
    });
    assert.equal(leap.status, 422, JSON.stringify(leap.body));
    assert.ok(leap.body.errors.endTime);
    // A day the calendar does not have is refused too (not quietly made March 1).
    const february30 = await server.call('POST', '/v2/alerts/snooze-me/snooze?identifierType=alias', {
      endTime: '2030-02-30T10:00:00Z',
    });
    assert.equal(february30.status, 422, JSON.stringify(february30.body));
    const offset = await server.call('GET', `/v2/alerts?offset=${'9'.repeat(30)}`);
    assert.equal(offset.status, 422);
  });
});

describe('a Host header that is not a host', () => {
  it('plays no part in the answer', async () => {
    const port = new URL(server.url).port;
    for (const host of ['exa mple', 'a:b:c', 'example.com:99999']) {
      const status = await new Promise<number>((resolve, reject) => {
        const request = http.request(
          {
            host: '127.0.0.1',
            port,
            path: '/v2/alerts?limit=1',
            headers: { host, authorization: `GenieKey ${server.key}` },
          },
          (response) => {
            response.resume();
            resolve(response.statusCode ?? 0);
          },
        );
        request.on('error', reject);
        request.end();
      });
      assert.ok(status === 200 || status === 400, `Host ${host}: ${status}`);
    }
  });
});

describe('queries that would tie up the database', () => {
  it('are refused before they run when they have too many terms', async () => {
    const words = Array.from({ length: 999 }, () => 'x').join(' ');
    const res = await server.call('GET', `/v2/alerts?query=${encodeURIComponent(words)}`);
    assert.equal(res.status, 422);
    assert.match(res.body.message, /Narrow it/);
    const deep = await server.call('GET', `/v2/alerts/count?query=${encodeURIComponent('('.repeat(1900))}`);
    assert.equal(deep.status, 422);
  });

  it('are stopped by PostgreSQL after the API statement timeout, and answered 503 with what to do', async () => {
    const ctx = server.app.context;
    await assert.rejects(sql`SELECT pg_sleep(3)`.execute(ctx.apiDb), (error: { code?: string }) => {
      assert.equal(error.code, '57014');
      return true;
    });
    // The workers' pool has no such limit.
    await sql`SELECT pg_sleep(1.2)`.execute(ctx.db);

    const app = await buildHttpApp(ctx, createLogger('silent'));
    app.get('/slow', { config: { public: true } }, async () => {
      await sql`SELECT pg_sleep(3)`.execute(ctx.apiDb);
      return {};
    });
    const res = await app.inject({ method: 'GET', url: '/slow' });
    await app.close();
    assert.equal(res.statusCode, 503);
    assert.equal(res.headers['retry-after'], '5');
    assert.match(res.json().message, /stopped this request after 1 s .*narrow the query/);
  });
});
