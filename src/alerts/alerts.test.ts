import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { hashApiKey } from '../accounts/apikeys.js';
import { accountsRepository } from '../accounts/repository.js';
import { offsetPagingOf } from '../http/cursor-paging.js';
import {
  addUserWithKey,
  alertLogs,
  createAlert,
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
} from '../testing/harness.js';
import { MAX_QUERY_TERMS } from './query.js';

/** The Alert API over HTTP against the real server and a real PostgreSQL. */

let server: TestServer;
before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server.stop();
});

async function create(body: Json): Promise<{ requestId: string; alertId: string }> {
  const res = await server.call('POST', '/v2/alerts', body);
  assert.equal(res.status, 202, JSON.stringify(res.body));
  assert.equal(res.body.result, 'Request will be processed');
  const status = await server.call('GET', `/v2/alerts/requests/${res.body.requestId}`);
  assert.equal(status.status, 200);
  return { requestId: res.body.requestId, alertId: status.body.data.alertId };
}

async function requestStatus(requestId: string): Promise<Json> {
  const res = await server.call('GET', `/v2/alerts/requests/${requestId}`);
  assert.equal(res.status, 200);
  return res.body.data;
}

/** GET of a link the API gave (an absolute URL), as is, with the test's key. */
async function follow(link: string): Promise<{ status: number; body: Json }> {
  const response = await fetch(link, { headers: { authorization: `GenieKey ${server.key}` } });
  return { status: response.status, body: await response.json() };
}

async function get(identifier: string, type = 'id'): Promise<Json> {
  const res = await server.call('GET', `/v2/alerts/${encodeURIComponent(identifier)}?identifierType=${type}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data;
}

describe('alert life cycle', () => {
  it('creates, acts on and closes an alert, logging every change', async () => {
    const { requestId, alertId } = await create({
      message: 'CPU is on fire',
      alias: 'life-cycle-1',
      description: 'Load above 20 for 10 minutes',
      tags: ['cpu', 'prod'],
      details: { host: 'web-1', cores: 8 },
      entity: 'web-1',
      priority: 'P2',
      source: 'prometheus',
      user: 'Monitor',
      note: 'first seen',
    });
    const created = await requestStatus(requestId);
    assert.deepEqual(
      { success: created.success, action: created.action, status: created.status, alias: created.alias },
      { success: true, action: 'Create', status: 'Created alert', alias: 'life-cycle-1' },
    );

    let alert = await get(alertId);
    assert.equal(alert.message, 'CPU is on fire');
    assert.equal(alert.status, 'open');
    assert.equal(alert.priority, 'P2');
    assert.equal(alert.count, 1);
    assert.deepEqual(alert.tags, ['cpu', 'prod']);
    assert.deepEqual(alert.details, { host: 'web-1', cores: '8' });
    assert.equal(alert.source, 'prometheus');
    assert.equal(alert.entity, 'web-1');
    assert.equal((await get(alert.tinyId, 'tiny')).id, alertId);
    assert.equal((await get('life-cycle-1', 'alias')).id, alertId);

    const act = async (method: string, path: string, body?: Json) => {
      const res = await server.call(method, `/v2/alerts/${alertId}${path}`, body);
      assert.equal(res.status, 202, `${path}: ${JSON.stringify(res.body)}`);
      return requestStatus(res.body.requestId);
    };

    assert.equal(
      (await act('POST', '/acknowledge', { user: 'alice', note: 'looking' })).status,
      'Acknowledged',
    );
    alert = await get(alertId);
    assert.equal(alert.acknowledged, true);
    assert.equal(alert.report.acknowledgedBy, 'alice');
    assert.ok(alert.report.ackTime >= 0);

    assert.equal((await act('POST', '/unacknowledge', { user: 'alice' })).status, 'Unacknowledged');
    assert.equal((await get(alertId)).acknowledged, false);

    const until = new Date(Date.now() + 3600_000).toISOString();
    assert.equal((await act('POST', '/snooze', { endTime: until, user: 'alice' })).status, 'Snoozed');
    alert = await get(alertId);
    assert.equal(alert.snoozed, true);
    assert.equal(alert.snoozedUntil, until);

    await act('POST', '/notes', { note: 'restarted the service', user: 'bob' });
    await act('POST', '/tags', { tags: ['web', 'cpu'] });
    await act('DELETE', '/tags?tags=prod');
    await act('POST', '/details', { details: { region: 'eu-west-1' } });
    await act('DELETE', '/details?keys=cores');
    assert.equal((await act('PUT', '/priority', { priority: 'P1' })).status, 'Priority updated');
    await act('PUT', '/message', { message: 'CPU is melting' });
    await act('PUT', '/description', { description: 'Load above 40' });
    const me = await server.call('GET', '/v2/users/admin@vigil.local');
    assert.equal(
      (await act('POST', '/assign', { owner: { username: 'admin@vigil.local' } })).status,
      'Assigned',
    );

    alert = await get(alertId);
    assert.deepEqual(alert.tags, ['cpu', 'web']);
    assert.deepEqual(alert.details, { host: 'web-1', region: 'eu-west-1' });
    assert.equal(alert.priority, 'P1');
    assert.equal(alert.message, 'CPU is melting');
    assert.equal(alert.description, 'Load above 40');
    assert.equal(alert.owner, me.body.data.username);

    assert.equal((await act('POST', '/close', { user: 'bob', note: 'fixed' })).status, 'Closed');
    alert = await get(alertId);
    assert.equal(alert.status, 'closed');
    assert.equal(alert.snoozed, false);
    assert.equal(alert.report.closedBy, 'bob');

    const notes = await server.call('GET', `/v2/alerts/${alertId}/notes?order=asc`);
    assert.deepEqual(
      notes.body.data.map((n: Json) => [n.note, n.owner]),
      [
        ['first seen', 'Monitor'],
        ['looking', 'alice'],
        ['restarted the service', 'bob'],
        ['fixed', 'bob'],
      ],
    );

    const logs = await server.call('GET', `/v2/alerts/${alertId}/logs?order=asc`);
    assert.equal(logs.status, 200);
    const types = logs.body.data.map((l: Json) => l.type);
    for (const t of [
      'create',
      'acknowledge',
      'unacknowledge',
      'snooze',
      'note',
      'tags',
      'details',
      'priority',
      'message',
      'description',
      'assign',
      'close',
    ]) {
      assert.ok(types.includes(t), `log has ${t}: ${types.join(',')}`);
    }
    const priorityLog = logs.body.data.find((l: Json) => l.type === 'priority');
    assert.match(priorityLog.log, /from P2 to P1/);
    assert.ok(
      logs.body.data.every((l: Json) => typeof l.owner === 'string' && l.owner.length > 0 && l.createdAt),
    );
    assert.equal(logs.body.data.find((l: Json) => l.type === 'close').owner, 'bob');

    // Paging through the log two at a time visits every entry once.
    const seen: string[] = [];
    let cursor = '';
    for (let i = 0; i < 20; i++) {
      const page = await server.call('GET', `/v2/alerts/${alertId}/logs?order=asc&limit=2${cursor}`);
      seen.push(...page.body.data.map((l: Json) => l.offset));
      if (!page.body.paging.next) break;
      cursor = `&offset=${page.body.data[page.body.data.length - 1].offset}`;
    }
    assert.deepEqual(
      seen,
      logs.body.data.map((l: Json) => l.offset),
    );
  });

  it("links an alert's next page of notes by the identifier it was asked by", async () => {
    await create({ message: 'disk full', alias: 'notes-paged' });
    for (const note of ['one', 'two', 'three']) {
      const added = await server.call('POST', '/v2/alerts/notes-paged/notes?identifierType=alias', { note });
      assert.equal(added.status, 202);
    }
    const first = await server.call(
      'GET',
      '/v2/alerts/notes-paged/notes?identifierType=alias&order=asc&limit=2',
    );
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual(
      first.body.data.map((n: Json) => n.note),
      ['one', 'two'],
    );
    const next = await follow(first.body.paging.next);
    assert.equal(next.status, 200, `${first.body.paging.next}: ${JSON.stringify(next.body)}`);
    assert.deepEqual(
      next.body.data.map((n: Json) => n.note),
      ['three'],
    );
    assert.equal(next.body.paging.next, undefined);
  });
});

describe('de-duplication', () => {
  it('counts a repeated alias on the open alert and keeps its first content', async () => {
    const first = await create({ message: 'disk full', alias: 'dedupe-1', priority: 'P2', tags: ['disk'] });
    const second = await create({
      message: 'disk full again',
      alias: 'dedupe-1',
      priority: 'P5',
      note: 'still full',
    });
    assert.equal(second.alertId, first.alertId);
    assert.equal((await requestStatus(second.requestId)).status, 'Alert deduplicated');
    const alert = await get(first.alertId);
    assert.equal(alert.count, 2);
    assert.equal(alert.message, 'disk full');
    assert.equal(alert.priority, 'P2');
    assert.ok(new Date(alert.lastOccurredAt) >= new Date(alert.createdAt));
    const notes = await server.call('GET', `/v2/alerts/${first.alertId}/notes`);
    assert.equal(notes.body.data[0].note, 'still full');
  });

  it('makes one alert with the right count from 50 concurrent creates', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, () =>
        server.call('POST', '/v2/alerts', { message: 'storm', alias: 'concurrent-1' }),
      ),
    );
    assert.ok(results.every((r) => r.status === 202));
    const list = await server.call('GET', '/v2/alerts?query=alias:concurrent-1');
    assert.equal(list.body.data.length, 1);
    assert.equal(list.body.data[0].count, 50);
  });

  it('acts on an alert made with spaces around its alias by that alias', async () => {
    const { alertId } = await create({ message: 'db down', alias: 'spaced-1 ' });
    const closed = await server.call(
      'POST',
      `/v2/alerts/${encodeURIComponent('spaced-1 ')}/close?identifierType=alias`,
      {},
    );
    assert.equal(closed.status, 202);
    const outcome = await requestStatus(closed.body.requestId);
    assert.equal(outcome.success, true, JSON.stringify(outcome));
    assert.equal(outcome.alertId, alertId);
    assert.equal((await get(alertId)).status, 'closed');
  });

  it('opens a new alert for an alias whose alert is closed', async () => {
    const first = await create({ message: 'flap', alias: 'reopen-1' });
    await server.call('POST', '/v2/alerts/reopen-1/close?identifierType=alias', {});
    const second = await create({ message: 'flap', alias: 'reopen-1' });
    assert.notEqual(second.alertId, first.alertId);
    assert.equal((await get(first.alertId)).status, 'closed');
    assert.equal((await get('reopen-1', 'alias')).id, second.alertId);
    // As in Opsgenie, the alias finds only the open alert that has it; once that one is closed, none.
    const count = async () =>
      (await server.callOk('GET', '/v2/alerts/count?query=alias:reopen-1')).data.count;
    assert.equal(await count(), 1);
    await server.call('POST', '/v2/alerts/reopen-1/close?identifierType=alias', {});
    assert.equal((await get(second.alertId)).status, 'closed');
    assert.equal(await count(), 0);
  });
});

describe('listing and the query language', () => {
  before(async () => {
    await create({
      message: 'q database slow',
      alias: 'q-1',
      priority: 'P1',
      tags: ['db', 'prod'],
      details: { env: 'prod' },
    });
    await create({ message: 'q cache miss rate', alias: 'q-2', priority: 'P3', tags: ['cache'] });
    const { alertId } = await create({
      message: 'q database down',
      alias: 'q-3',
      priority: 'P1',
      tags: ['db'],
    });
    await server.call('POST', `/v2/alerts/${alertId}/acknowledge`, {});
    await server.call('POST', '/v2/alerts/q-2/close?identifierType=alias', {});
  });

  const aliases = async (query: string, extra = '') => {
    const res = await server.call('GET', `/v2/alerts?query=${encodeURIComponent(query)}${extra}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body.data
      .map((a: Json) => a.alias)
      .filter((a: string) => a.startsWith('q-'))
      .sort();
  };

  it('filters by each field and joins terms with AND', async () => {
    assert.deepEqual(await aliases('message:q status:open'), ['q-1', 'q-3']);
    assert.deepEqual(await aliases('message:q status:closed'), ['q-2']);
    assert.deepEqual(await aliases('message:q acknowledged:true'), ['q-3']);
    assert.deepEqual(await aliases('priority:P1 tag:db'), ['q-1', 'q-3']);
    assert.deepEqual(await aliases('tag:db AND tag:prod'), ['q-1']);
    assert.deepEqual(await aliases('alias:q-1'), ['q-1']);
    assert.deepEqual(await aliases('message:"database down"'), ['q-3']);
    assert.deepEqual(await aliases('database'), ['q-1', 'q-3']);
    assert.deepEqual(await aliases('details.env:prod'), ['q-1']);
    assert.deepEqual(await aliases('tag:cache OR tag:prod'), ['q-1', 'q-2']);
    assert.deepEqual(await aliases('tag:db NOT acknowledged:true'), ['q-1']);
    assert.deepEqual(await aliases('alias:q-*'), ['q-1', 'q-2', 'q-3']);
  });

  it('finds by a whole alias only the open alert, and by an alias pattern every alert', async () => {
    // q-2 is closed: its alias is free for the next alert, and no longer names it.
    assert.deepEqual(await aliases('alias:q-2'), []);
    assert.deepEqual(await aliases('alias=Q-2'), []);
    assert.deepEqual(await aliases('alias:q-2 OR alias:q-3'), ['q-3']);
    assert.deepEqual(await aliases('message:q alias!=q-2'), ['q-1', 'q-2', 'q-3']);
    assert.deepEqual(await aliases('message:q NOT alias:q-1'), ['q-2', 'q-3']);
    assert.deepEqual(await aliases('alias:q-2*'), ['q-2']);
    assert.deepEqual(await aliases('alias:q-* status:closed'), ['q-2']);
  });

  it('finds with a * all that it finds without', async () => {
    assert.deepEqual(await aliases('database'), ['q-1', 'q-3']);
    assert.deepEqual(await aliases('data*'), ['q-1', 'q-3']);
    assert.deepEqual(await aliases('*base'), ['q-1', 'q-3']);
    assert.deepEqual(await aliases('message:databa'), ['q-1', 'q-3']);
    assert.deepEqual(await aliases('message:databa*'), ['q-1', 'q-3']);
    // Each tag on its own: prod is q-1's second tag.
    assert.deepEqual(await aliases('prod*'), ['q-1']);
    assert.deepEqual(await aliases('tag:prod*'), ['q-1']);
    assert.deepEqual(await aliases('"db prod"'), []);
    for (const word of ['q', 'database', 'slow', 'db', 'cache', 'rate', 'q-1', 'P1']) {
      const found = await aliases(word);
      for (const widened of [`${word}*`, `*${word}`, `*${word}*`]) {
        const more = await aliases(widened);
        assert.ok(
          found.every((alias: string) => more.includes(alias)),
          `${widened} finds ${more}, not all of ${word}'s ${found}`,
        );
      }
    }
  });

  it('runs a saved search of the most terms with any query within the limits', async () => {
    const users = await server.callOk('GET', '/v2/users');
    const tags = Array.from({ length: MAX_QUERY_TERMS - 2 }, (_, i) => `tag:q-none-${i}`);
    const saved = await server.call('POST', '/v2/alerts/saved-searches', {
      name: 'q the most terms',
      query: ['tag:db', 'tag:cache', ...tags].join(' OR '),
      owner: { id: users.data[0].id },
    });
    assert.equal(saved.status, 201, JSON.stringify(saved.body));
    const search = `&searchIdentifier=${saved.body.data.id}`;
    const listed = (query: string) => aliases(query, `${search}&limit=100`);
    // What the console sends with a saved search: one of its views as the query.
    assert.deepEqual(await listed('status:open'), ['q-1', 'q-3']);
    assert.deepEqual(await listed('status:closed'), ['q-2']);
    assert.deepEqual(await listed(''), ['q-1', 'q-2', 'q-3']);
    const most = Array.from({ length: MAX_QUERY_TERMS - 1 }, (_, i) => `tag:q-other-${i}`);
    assert.deepEqual(await listed(['priority:P1', ...most].join(' OR ')), ['q-1', 'q-3']);
    const count = await server.call(
      'GET',
      `/v2/alerts/count?query=${encodeURIComponent('status:open tag:prod message:q')}${search}`,
    );
    assert.equal(count.status, 200, JSON.stringify(count.body));
    assert.equal(count.body.data.count, 1);
    const counts = await server.call(
      'GET',
      `/v2/alerts/counts?query=status:open&query=status:closed${search}`,
    );
    assert.equal(counts.status, 200, JSON.stringify(counts.body));
    assert.deepEqual(
      counts.body.data.map((c: Json) => c.count),
      [2, 1],
    );
    // A query over the limits on its own is still refused, and says so of itself.
    const over = await server.call(
      'GET',
      `/v2/alerts?query=${encodeURIComponent(['priority:P1', ...most, 'tag:x'].join(' OR '))}${search}`,
    );
    assert.equal(over.status, 422, JSON.stringify(over.body));
    assert.match(over.body.message, new RegExp(`it has ${MAX_QUERY_TERMS + 1} terms`));
  });

  it('counts an alert without the value among those a negated term finds', async () => {
    assert.deepEqual(await aliases('message:q NOT details.env:prod'), ['q-2', 'q-3']);
    assert.deepEqual(await aliases('message:q details.env!=prod'), ['q-2', 'q-3']);
    assert.deepEqual(await aliases('message:q NOT (details.env:prod OR tag:cache)'), ['q-3']);
    const queries = ['message:q', 'message:q details.env:prod', 'message:q NOT details.env:prod'];
    const counts = await server.call(
      'GET',
      `/v2/alerts/counts?${queries.map((q) => `query=${encodeURIComponent(q)}`).join('&')}`,
    );
    assert.equal(counts.status, 200, JSON.stringify(counts.body));
    const [all, prod, notProd] = counts.body.data.map((c: Json) => c.count);
    assert.equal(prod + notProd, all, JSON.stringify(counts.body.data));
    // Made with the bootstrap key, no integration's: the API shows them as from "API", and so does search.
    assert.equal((await get('q-1', 'alias')).integration.type, 'API');
    assert.deepEqual(await aliases('message:q integration.type:API'), ['q-1', 'q-2', 'q-3']);
    assert.deepEqual(await aliases('message:q NOT integration.name:Grafana'), ['q-1', 'q-2', 'q-3']);
  });

  it('filters by responder team', async () => {
    const team = await server.call('POST', '/v2/teams', { name: 'Query Team' });
    assert.equal(team.status, 201);
    await create({
      message: 'q team alert',
      alias: 'q-team',
      responders: [{ type: 'team', name: 'Query Team' }],
    });
    assert.deepEqual(await aliases('teams:"Query Team"'), ['q-team']);
    const alert = await get('q-team', 'alias');
    assert.deepEqual(alert.responders, [{ type: 'team', id: team.body.data.id }]);
  });

  it('sorts, pages and counts', async () => {
    const page1 = await server.call('GET', '/v2/alerts?query=alias:q-*&sort=tinyId&order=asc&limit=2');
    const page2 = await server.call(
      'GET',
      '/v2/alerts?query=alias:q-*&sort=tinyId&order=asc&limit=2&offset=2',
    );
    const ids = [...page1.body.data, ...page2.body.data].map((a: Json) => Number(a.tinyId));
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b),
    );
    assert.ok(page1.body.paging.next.includes('offset=2'));
    const count = await server.call('GET', '/v2/alerts/count?query=alias:q-* status:open');
    assert.equal(count.body.data.count, 3);
  });

  it('gives the list absolute paging links that carry its query', async () => {
    const page1 = await server.call('GET', '/v2/alerts?query=alias:q-*&sort=tinyId&order=asc&limit=2');
    const next = new URL(page1.body.paging.next);
    assert.equal(next.origin, new URL(server.url).origin);
    assert.equal(next.searchParams.get('query'), 'alias:q-*');
    const page2 = await follow(page1.body.paging.next);
    assert.equal(page2.status, 200, JSON.stringify(page2.body));
    const page2ByOffset = await server.call(
      'GET',
      '/v2/alerts?query=alias:q-*&sort=tinyId&order=asc&limit=2&offset=2',
    );
    assert.deepEqual(
      page2.body.data.map((a: Json) => a.id),
      page2ByOffset.body.data.map((a: Json) => a.id),
    );
    const first = await follow(page1.body.paging.first);
    assert.deepEqual(
      first.body.data.map((a: Json) => a.id),
      page1.body.data.map((a: Json) => a.id),
    );
  });

  it('names VIGIL_PUBLIC_URL, path and all, in paging links when it is set', async () => {
    // Behind a proxy that takes /oncall off, the address the request reached is not the one to follow.
    const proxied = await startTestServer({ env: { VIGIL_PUBLIC_URL: 'https://vigil.example.com/oncall' } });
    try {
      for (const n of [1, 2, 3]) {
        const made = await proxied.call('POST', '/v2/alerts', { message: `behind a proxy ${n}` });
        assert.equal(made.status, 202, JSON.stringify(made.body));
      }
      const page = await proxied.call('GET', '/v2/alerts?limit=2&sort=tinyId&order=asc');
      assert.equal(page.status, 200, JSON.stringify(page.body));
      const next = new URL(page.body.paging.next);
      assert.equal(`${next.origin}${next.pathname}`, 'https://vigil.example.com/oncall/v2/alerts');
      assert.equal(next.searchParams.get('offset'), '2');
    } finally {
      await proxied.stop();
    }
  });

  it("sorts by the snake_case names of Opsgenie's fields as by their own", async () => {
    for (const [snake, camel] of [
      ['created_at', 'createdAt'],
      ['tiny_id', 'tinyId'],
      ['last_occurred_at', 'lastOccurredAt'],
    ]) {
      const bySnake = await server.call('GET', `/v2/alerts?query=alias:q-*&sort=${snake}&order=asc`);
      assert.equal(bySnake.status, 200, JSON.stringify(bySnake.body));
      const byCamel = await server.call('GET', `/v2/alerts?query=alias:q-*&sort=${camel}&order=asc`);
      assert.deepEqual(
        bySnake.body.data.map((a: Json) => a.id),
        byCamel.body.data.map((a: Json) => a.id),
      );
    }
    const unknown = await server.call('GET', '/v2/alerts?sort=created');
    assert.equal(unknown.status, 422);
  });

  it('answers a bad query with a 422 that says what is wrong', async () => {
    const res = await server.call('GET', '/v2/alerts?query=colour:red');
    assert.equal(res.status, 422);
    assert.match(res.body.message, /unknown field "colour"/);
    const open = await server.call('GET', `/v2/alerts?query=${encodeURIComponent('(status:open')}`);
    assert.equal(open.status, 422);
    const prio = await server.call('GET', '/v2/alerts?query=priority:P9');
    assert.equal(prio.status, 422);
    const limit = await server.call('GET', '/v2/alerts?limit=101');
    assert.equal(limit.status, 422);
    assert.ok(limit.body.errors.limit);
  });
});

describe('errors', () => {
  it('refuses fields over their limits with a 422 naming the field', async () => {
    const cases: [Json, string][] = [
      // Over Opsgenie's cosmetic limits (130, 20 tags of 50, 10 actions) an alert is kept and cut:
      // opsgenie-compat.test.ts; so is a description over 15,000 (long-description.test.ts). Past what
      // Vigil stores, it is refused.
      [{ message: 'x'.repeat(15001) }, 'message'],
      [{}, 'message'],
      [{ message: '' }, 'message'],
      [{ message: 'ok', alias: 'a'.repeat(513) }, 'alias'],
      [{ message: 'ok', tags: Array.from({ length: 201 }, (_, i) => `t${i}`) }, 'tags'],
      [{ message: 'ok', tags: ['x'.repeat(1001)] }, 'tags[0]'],
      [{ message: 'ok', entity: 'e'.repeat(513) }, 'entity'],
      [{ message: 'ok', priority: 'P6' }, 'priority'],
      [{ message: 'ok', actions: Array.from({ length: 101 }, (_, i) => `a${i}`) }, 'actions'],
      // A responder that names nothing, or a team Vigil does not have, is left out (below, and
      // blank-and-null-fields.test.ts).
    ];
    for (const [body, field] of cases) {
      const res = await server.call('POST', '/v2/alerts', body);
      assert.equal(res.status, 422, `${field}: ${JSON.stringify(res.body)}`);
      assert.ok(res.body.errors[field], `errors names ${field}: ${JSON.stringify(res.body.errors)}`);
      assert.equal(typeof res.body.requestId, 'string');
      assert.equal(typeof res.body.took, 'number');
    }
  });

  it('answers unknown alerts, bad identifier types and bad JSON with Opsgenie errors', async () => {
    const missing = await server.call('GET', '/v2/alerts/00000000-0000-4000-8000-000000000000');
    assert.equal(missing.status, 404);
    assert.match(missing.body.message, /does not exist/);
    assert.equal((await server.call('GET', '/v2/alerts/not-a-uuid')).status, 404);
    assert.equal((await server.call('GET', '/v2/alerts/abc?identifierType=tiny')).status, 404);
    const badType = await server.call('GET', '/v2/alerts/x?identifierType=name');
    assert.equal(badType.status, 422);
    assert.ok(badType.body.errors.identifierType);
    const badJson = await server.call('POST', '/v2/alerts', '{"message": ');
    assert.equal(badJson.status, 400);
    const unknownRequest = await server.call('GET', '/v2/alerts/requests/nope');
    assert.equal(unknownRequest.status, 404);
  });

  it('accepts actions on unknown or closed alerts and reports the failure in the request status', async () => {
    const unknown = await server.call(
      'POST',
      '/v2/alerts/no-such-alias/acknowledge?identifierType=alias',
      {},
    );
    assert.equal(unknown.status, 202);
    const status = await requestStatus(unknown.body.requestId);
    assert.deepEqual(
      [status.success, status.status, status.action],
      [false, 'Alert does not exist', 'Acknowledge'],
    );

    const { alertId } = await create({ message: 'closed one', alias: 'closed-1' });
    await server.call('POST', `/v2/alerts/${alertId}/close`, {});
    const ack = await server.call('POST', `/v2/alerts/${alertId}/acknowledge`, {});
    assert.equal(ack.status, 202);
    const ackStatus = await requestStatus(ack.body.requestId);
    assert.equal(ackStatus.success, false);
    assert.match(ackStatus.status, /closed/);
    assert.equal((await get(alertId)).acknowledged, false);

    const snooze = await server.call('POST', `/v2/alerts/${alertId}/snooze`, {
      endTime: new Date(Date.now() + 60_000).toISOString(),
    });
    assert.equal((await requestStatus(snooze.body.requestId)).success, false);

    // Closing twice is harmless: senders resend resolutions.
    const again = await server.call('POST', `/v2/alerts/${alertId}/close`, {});
    assert.equal((await requestStatus(again.body.requestId)).success, true);

    const past = await create({ message: 'snooze past', alias: 'snooze-past' });
    const bad = await server.call('POST', `/v2/alerts/${past.alertId}/snooze`, {
      endTime: '2001-01-01T00:00:00Z',
    });
    assert.equal(bad.status, 422);
    assert.ok(bad.body.errors.endTime);
  });

  it('refuses missing and unknown keys with 401', async () => {
    const res = await fetch(`${server.url}/v2/alerts`);
    assert.equal(res.status, 401);
    const body = (await res.json()) as Json;
    assert.match(body.message, /Authorization: GenieKey/);
    assert.equal(
      (await server.call('GET', '/v2/alerts', undefined, '00000000-0000-4000-8000-000000000000')).status,
      401,
    );
    const bearer = await fetch(`${server.url}/v2/alerts`, {
      headers: { authorization: `Bearer ${server.key}` },
    });
    assert.equal(bearer.status, 200);
  });

  it('refuses bodies over the limit with 413', async () => {
    const res = await server.call('POST', '/v2/alerts', {
      message: 'big',
      description: 'x'.repeat(2 * 1024 * 1024),
    });
    assert.equal(res.status, 413);
  });
});

describe('atomicity', () => {
  it('leaves neither the alert nor its job when enqueuing the job fails', async () => {
    const client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
    try {
      const { alertId } = await create({ message: 'atomic ok', alias: 'atomicity-control' });
      // A fault between the alert change and its job: inserting the job fails for alerts of one alias.
      await client.query(`
        CREATE FUNCTION fail_marked_job() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF EXISTS (SELECT 1 FROM alerts WHERE id = (NEW.payload->>'alertId')::uuid AND alias = 'atomicity-marker') THEN
            RAISE EXCEPTION 'injected job failure';
          END IF;
          RETURN NEW;
        END $$;
        CREATE TRIGGER fail_marked_job BEFORE INSERT ON outbox_jobs
          FOR EACH ROW EXECUTE FUNCTION fail_marked_job();`);
      const res = await server.call('POST', '/v2/alerts', {
        message: 'atomic fail',
        alias: 'atomicity-marker',
      });
      assert.equal(res.status, 500);
      const alerts = await client.query(
        `SELECT count(*)::int AS n FROM alerts WHERE alias = 'atomicity-marker'`,
      );
      assert.equal(alerts.rows[0].n, 0);
      const logs = await client.query(
        `SELECT count(*)::int AS n FROM alert_logs l JOIN alerts a ON a.id = l.alert_id WHERE a.alias = 'atomicity-marker'`,
      );
      assert.equal(logs.rows[0].n, 0);
      const requests = await client.query(`SELECT count(*)::int AS n FROM alert_requests WHERE id = $1`, [
        res.body.requestId,
      ]);
      assert.equal(requests.rows[0].n, 0);

      // And the other way: an action whose job fails leaves the alert unchanged.
      await client.query(`UPDATE alerts SET alias = 'atomicity-marker' WHERE id = $1`, [alertId]);
      const ack = await server.call('POST', `/v2/alerts/${alertId}/acknowledge`, {});
      assert.equal(ack.status, 500);
      const after = await client.query(`SELECT acknowledged FROM alerts WHERE id = $1`, [alertId]);
      assert.equal(after.rows[0].acknowledged, false);
      const ackLogs = await client.query(
        `SELECT count(*)::int AS n FROM alert_logs WHERE alert_id = $1 AND type = 'acknowledge'`,
        [alertId],
      );
      assert.equal(ackLogs.rows[0].n, 0);
    } finally {
      await client.query('DROP TRIGGER IF EXISTS fail_marked_job ON outbox_jobs');
      await client.end();
    }
  });
});

describe('an API integration', () => {
  it('creates alerts for its team with its own key, and may not use anything but the Alert API', async () => {
    await server.call('POST', '/v2/teams', { name: 'Integration owners' });
    const created = await server.call('POST', '/v2/integrations', {
      type: 'API',
      name: 'Prometheus',
      ownerTeam: { name: 'Integration owners' },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const key = created.body.data.apiKey as string;
    const alert = await server.call('POST', '/v2/alerts', { message: 'from prometheus' }, key);
    assert.equal(alert.status, 202);
    for (const path of ['/v2/users', '/v2/teams', '/v2/schedules', '/v2/escalations', '/v2/integrations']) {
      const refused = await server.call('GET', path, undefined, key);
      assert.equal(refused.status, 403, path);
      assert.match(refused.body.message, /can only use the Alert API/);
    }
  });
});

describe("Opsgenie's SDKs", () => {
  it("sorts by lastOccuredAt, as the Go SDK spells lastOccurredAt, as by the field's own name", async () => {
    for (const alias of ['go-sort-1', 'go-sort-2', 'go-sort-3', 'go-sort-1'])
      await create({ message: alias, alias });
    const order = async (sort: string, direction: string) => {
      const res = await server.call(
        'GET',
        `/v2/alerts?query=alias:go-sort-*&sort=${sort}&order=${direction}`,
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return res.body.data.map((a: Json) => a.alias);
    };
    // go-sort-1 occurred again last.
    assert.deepEqual(await order('lastOccurredAt', 'asc'), ['go-sort-2', 'go-sort-3', 'go-sort-1']);
    for (const direction of ['asc', 'desc'])
      assert.deepEqual(await order('lastOccuredAt', direction), await order('lastOccurredAt', direction));
  });

  it('accepts the last page link a list gives before its window ends', async () => {
    // A full page just before the 20,000 window's end would take 20,000 alerts to list: its links are
    // made as the route makes them, and followed.
    const { host, protocol } = new URL(server.url);
    const paging = offsetPagingOf(
      { url: '/v2/alerts?query=alias:go-sort-*', host, protocol: protocol === 'https:' ? 'https' : 'http' },
      undefined,
      { offset: 19_970, limit: 20 },
      20,
      { sort: 'createdAt', order: 'desc' },
    );
    assert.ok(paging.next);
    const last = await follow(paging.next);
    assert.equal(last.status, 200, JSON.stringify(last.body));
    assert.deepEqual(last.body.data, []);
  });
});

describe('acknowledging takes ownership, as in Opsgenie', () => {
  const run = randomUUID().slice(0, 6);
  const ownerOf = async (alertId: string) => (await get(alertId)).owner as string;
  const ack = (alertId: string, body: Json, key?: string) =>
    server.callOk('POST', `/v2/alerts/${alertId}/acknowledge`, body, key);

  it('makes the user who acknowledges the owner, unless the alert has one, alone or in bulk', async () => {
    const [acker, assigned] = await Promise.all([
      addUserWithKey(server, 'acker', run),
      addUserWithKey(server, 'assigned', run),
    ]);
    const theirs = { visibleTo: [{ type: 'user', id: acker.id }] };
    const alertId = await createAlert(server, { message: `acked ${run}`, ...theirs });
    await ack(alertId, {}, acker.key);
    assert.equal((await get(alertId)).report.acknowledgedBy, 'acker');
    assert.equal(await ownerOf(alertId), acker.username);
    const found = await server.callOk(
      'GET',
      `/v2/alerts?query=${encodeURIComponent(`owner:${acker.username}`)}`,
    );
    assert.deepEqual(
      found.data.map((a: Json) => a.id),
      [alertId],
    );
    const logs = await alertLogs(server, alertId);
    assert.ok(logs.includes(`Alert assigned to ${acker.username} by acker`), logs.join('\n'));

    // An owner already assigned stays the owner: acknowledging is not assigning.
    const owned = await createAlert(server, { message: `owned ${run}`, ...theirs });
    await server.callOk('POST', `/v2/alerts/${owned}/assign`, { owner: { id: assigned.id } });
    await ack(owned, {}, acker.key);
    assert.equal((await get(owned)).acknowledged, true);
    assert.equal(await ownerOf(owned), assigned.username);
    assert.ok(!(await alertLogs(server, owned)).some((l) => l.includes(acker.username)));

    const many = await Promise.all(
      [1, 2].map((n) => createAlert(server, { message: `bulk ${n} ${run}`, ...theirs })),
    );
    const bulk = await server.call('POST', '/v2/bulk/alerts/acknowledge', { identifiers: many }, acker.key);
    assert.equal(bulk.status, 200, JSON.stringify(bulk.body));
    for (const id of many) assert.equal(await ownerOf(id), acker.username);

    // What they own by acknowledging follows their login, as what they were assigned does.
    const renamed = `renamed-${acker.username}`;
    await server.callOk('PATCH', `/v2/users/${acker.id}`, { username: renamed });
    assert.equal(await ownerOf(alertId), renamed);
  });

  it("gives a user's key what it acknowledges whatever `user` it names; an integration or a key of no user owns nothing", async () => {
    // The `user` field is Opsgenie's display name of the requester, not a login: the key's user owns it.
    const byAdmin = await createAlert(server, { message: `admin ack ${run}` });
    await ack(byAdmin, { user: 'someone' });
    assert.equal((await get(byAdmin)).report.acknowledgedBy, 'someone');
    assert.equal(await ownerOf(byAdmin), 'admin@vigil.local');
    assert.ok((await alertLogs(server, byAdmin)).includes('Alert assigned to admin@vigil.local by someone'));

    await server.callOk('POST', '/v2/teams', { name: `Ack owners ${run}` });
    const integration = await server.callOk('POST', '/v2/integrations', {
      type: 'API',
      name: `Ack source ${run}`,
      ownerTeam: { name: `Ack owners ${run}` },
    });
    const integrationKey = integration.data.apiKey as string;
    // Made with the integration's key, the alert is its team's, which the key acts on.
    const alias = `integration-ack-${run}`;
    await server.callOk('POST', '/v2/alerts', { message: `integration ack ${run}`, alias }, integrationKey);
    const byIntegration = (await get(alias, 'alias')).id as string;
    await ack(byIntegration, { user: 'someone' }, integrationKey);
    assert.equal((await get(byIntegration)).acknowledged, true);
    assert.equal(await ownerOf(byIntegration), '');

    // A key of the organization's that no user holds (made before keys belonged to users).
    const db = server.app.context.db;
    const { org_id: orgId } = await db
      .selectFrom('users')
      .select('org_id')
      .where('username', '=', 'admin@vigil.local')
      .executeTakeFirstOrThrow();
    const orgKey = randomUUID();
    const { lookup, hash } = hashApiKey(orgKey);
    await accountsRepository.insertKey(db, {
      org_id: orgId,
      user_id: null,
      name: 'org',
      lookup,
      key_hash: hash,
    });
    const byOrgKey = await createAlert(server, { message: `org key ack ${run}` });
    await ack(byOrgKey, { user: 'someone' }, orgKey);
    assert.equal((await get(byOrgKey)).acknowledged, true);
    assert.equal(await ownerOf(byOrgKey), '');
  });

  it('gives the alert the login as it is when a rename is in flight', async () => {
    const person = await addUserWithKey(server, 'racing-acker', run);
    const alertId = await createAlert(server, {
      message: `acked while renamed ${run}`,
      visibleTo: [{ type: 'user', id: person.id }],
    });
    const renamed = `renamed-${person.username}`;
    // A rename in flight, as updateUser makes it: the user's row, then the alerts owned under the old login.
    const renaming = new pg.Client({ connectionString: server.databaseUrl });
    await renaming.connect();
    try {
      await renaming.query('BEGIN');
      await renaming.query('UPDATE users SET username = $2 WHERE id = $1', [person.id, renamed]);
      await renaming.query('UPDATE alerts SET owner = $2 WHERE owner = $1', [person.username, renamed]);
      const acknowledging = ack(alertId, {}, person.key);
      await new Promise((resolve) => setTimeout(resolve, 500));
      await renaming.query('COMMIT');
      await acknowledging;
    } finally {
      await renaming.end();
    }
    assert.equal(await ownerOf(alertId), renamed);
  });
});

describe('responders and visibleTo that do not exist', () => {
  const run = randomUUID().slice(0, 6);

  /** The alert's responders as stored, and the first line of its log (what made it). */
  async function madeWith(requestId: string): Promise<{ alert: Json; created: string }> {
    const status = await requestStatus(requestId);
    assert.deepEqual([status.success, status.status], [true, 'Created alert'], JSON.stringify(status));
    const alert = await get(status.alertId);
    return { alert, created: (await alertLogs(server, status.alertId))[0] ?? '' };
  }

  it('are left out, with a line on the log, and the others are paged', async () => {
    const person = await addUserWithKey(server, 'still-here', run);
    const res = await server.call('POST', '/v2/alerts', {
      message: `renamed team ${run}`,
      responders: [
        { type: 'team', name: `Payments ${run}` },
        { type: 'user', username: person.username },
      ],
      visibleTo: [{ type: 'user', username: `gone-${run}@example.com` }],
    });
    // Before: a 422 for responders[0], no alert, and the user not paged either.
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const { alert, created } = await madeWith(res.body.requestId);
    assert.deepEqual(alert.responders, [{ type: 'user', id: person.id }]);
    assert.deepEqual(alert.visibleTo, []);
    assert.ok(created.includes(`Responder team "Payments ${run}" does not exist: left out`), created);
    assert.ok(
      created.includes(`User "gone-${run}@example.com" of visibleTo does not exist: left out`),
      created,
    );
    await waitFor('the user to be paged', async () =>
      server.app.context.db
        .selectFrom('notifications')
        .select('id')
        .where('alert_id', '=', alert.id)
        .where('user_id', '=', person.id)
        .executeTakeFirst(),
    );
  });

  const ghost = { type: 'team', name: `Ghost ${run}` };
  /** An API integration of a team of its own; its id, key and team. */
  async function integrationOf(name: string): Promise<{ id: string; apiKey: string; teamId: string }> {
    const teamId = (await server.callOk('POST', '/v2/teams', { name: `${name} owners ${run}` })).data.id;
    const made = await server.callOk('POST', '/v2/integrations', {
      type: 'API',
      name: `${name} ${run}`,
      ownerTeam: { id: teamId },
    });
    return { id: made.data.id, apiKey: made.data.apiKey, teamId };
  }

  it("through an integration's key, go to its team when none of them exists", async () => {
    const plain = await integrationOf('Alertmanager');
    const res = await server.call(
      'POST',
      '/v2/alerts',
      { message: 'ghost only', responders: [ghost] },
      plain.apiKey,
    );
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const { alert, created } = await madeWith(res.body.requestId);
    assert.deepEqual(alert.responders, [{ type: 'team', id: plain.teamId }]);
    assert.ok(created.includes(`Responder team "Ghost ${run}" does not exist: left out`), created);
  });

  it("through an integration's key, are left out beside the responders its create action adds", async () => {
    const paged = (await server.callOk('POST', '/v2/teams', { name: `Action paged ${run}` })).data.id;
    const shaping = await integrationOf('Grafana');
    await server.callOk('PUT', `/v2/integrations/${shaping.id}/actions`, {
      create: [{ name: 'Page them', responders: [{ type: 'team', id: paged }] }],
    });
    const res = await server.call(
      'POST',
      '/v2/alerts',
      { message: 'ghost and action', responders: [ghost] },
      shaping.apiKey,
    );
    assert.equal(res.status, 202, JSON.stringify(res.body));
    const { alert, created } = await madeWith(res.body.requestId);
    assert.deepEqual(alert.responders, [{ type: 'team', id: paged }]);
    assert.ok(created.includes(`Responder team "Ghost ${run}" does not exist: left out`), created);
  });
});

describe('details and visibleTo a create or add-details refuses', () => {
  it('refuses a detail key empty or too long, and a value not a string, number or boolean whatever its key', async () => {
    const { alertId } = await create({ message: 'details checked', details: { kept: 'yes' } });
    const cases: Json[] = [
      { '': 'x' },
      { ['k'.repeat(5000)]: 'x' },
      { 'a\nb': { x: 1 } },
      { 'a\nb': 'v'.repeat(900_000) },
      { plain: { x: 1 } },
    ];
    // Every case's answers, so that a failure lists each case let through.
    const answers: string[] = [];
    for (const [i, details] of cases.entries()) {
      const alias = `bad-details-${i}`;
      const made = await server.call('POST', '/v2/alerts', { message: 'bad details', alias, details });
      const added = await server.call('POST', `/v2/alerts/${alertId}/details`, { details });
      const stored = await server.call('GET', `/v2/alerts/${alias}?identifierType=alias`);
      const namesDetails = (answer: { body: Json }) =>
        Object.keys(answer.body.errors ?? {}).some((field) => field.startsWith('details'));
      answers.push(
        `case ${i}: create ${made.status}${namesDetails(made) ? ' details' : ''}, ` +
          `add ${added.status}${namesDetails(added) ? ' details' : ''}, stored ${stored.status}`,
      );
    }
    assert.deepEqual(
      answers,
      cases.map((_, i) => `case ${i}: create 422 details, add 422 details, stored 404`),
    );
    assert.deepEqual((await get(alertId)).details, { kept: 'yes' });
  });

  it('refuses an escalation or schedule in visibleTo: an alert is visible to teams and users', async () => {
    const run = randomUUID().slice(0, 6);
    const user = { type: 'user', username: 'admin@vigil.local' };
    const escalation = await server.callOk('POST', '/v2/escalations', {
      name: `Seen by nobody ${run}`,
      rules: [
        { condition: 'if-not-acked', notifyType: 'default', delay: { timeAmount: 0 }, recipient: user },
      ],
    });
    const schedule = await server.callOk('POST', '/v2/schedules', {
      name: `Seen by nobody ${run}`,
      timezone: 'UTC',
    });
    for (const [type, id] of [
      ['escalation', escalation.data.id],
      ['schedule', schedule.data.id],
    ]) {
      const alias = `visible-to-${type}-${run}`;
      const res = await server.call('POST', '/v2/alerts', {
        message: 'visible to nobody',
        alias,
        visibleTo: [user, { type, id }],
      });
      assert.equal(res.status, 422, `${type}: ${JSON.stringify(res.body)}`);
      assert.ok(
        Object.keys(res.body.errors).some((field) => field.startsWith('visibleTo[1]')),
        JSON.stringify(res.body.errors),
      );
      assert.equal((await server.call('GET', `/v2/alerts/${alias}?identifierType=alias`)).status, 404);
    }
  });
});
