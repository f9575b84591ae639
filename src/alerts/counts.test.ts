import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../testing/harness.js';

/**
 * GET /v2/alerts/counts (a Vigil extension): several queries counted in one request, each as
 * GET /v2/alerts/count counts it, in the caller's scope and AND-ed with a saved search.
 */

let server: TestServer;
let teamKey: string;
let ownerId: string;

/** The console's status views, and two more with a team and a priority. */
const QUERIES = [
  'status:open',
  'status:open AND acknowledged:false',
  'status:open AND acknowledged:true',
  'status:closed',
  '',
  'priority:P1',
  'teams:"Counting team"',
];

before(async () => {
  server = await startTestServer();
  ownerId = (await server.callOk('GET', '/v2/users')).data[0].id;
  await server.callOk('POST', '/v2/teams', { name: 'Counting team' });
  teamKey = (
    await server.callOk('POST', '/v2/integrations', {
      type: 'API',
      name: 'Counting integration',
      ownerTeam: { name: 'Counting team' },
    })
  ).data.apiKey;
  // The organization's key: 3 open (one acknowledged), 1 closed; the team's key: 2 open, 1 closed.
  const made = await Promise.all([
    createAlert({ message: 'org 1', alias: 'c-org-1', priority: 'P1' }),
    createAlert({ message: 'org 2', alias: 'c-org-2', priority: 'P2' }),
    createAlert({ message: 'org 3', alias: 'c-org-3', priority: 'P3' }),
    createAlert({ message: 'org 4', alias: 'c-org-4', priority: 'P1' }),
    createAlert({ message: 'team 1', alias: 'c-team-1', priority: 'P1' }, teamKey),
    createAlert({ message: 'team 2', alias: 'c-team-2', priority: 'P4' }, teamKey),
    createAlert({ message: 'team 3', alias: 'c-team-3', priority: 'P1' }, teamKey),
  ]);
  await act(made[1] ?? '', 'acknowledge');
  await act(made[3] ?? '', 'close');
  await act(made[6] ?? '', 'close');
});
after(async () => {
  await server.stop();
});

async function createAlert(body: Json, key = server.key): Promise<string> {
  const created = await server.callOk('POST', '/v2/alerts', body, key);
  const status = await server.callOk('GET', `/v2/alerts/requests/${created.requestId}`, undefined, key);
  assert.equal(status.data.success, true, JSON.stringify(status.data));
  return status.data.alertId;
}

async function act(id: string, action: 'acknowledge' | 'close'): Promise<void> {
  const res = await server.callOk('POST', `/v2/alerts/${id}/${action}`, {});
  const status = await server.callOk('GET', `/v2/alerts/requests/${res.requestId}`);
  assert.equal(status.data.success, true, JSON.stringify(status.data));
}

function countsPath(queries: readonly string[], extra = ''): string {
  return `/v2/alerts/counts?${queries.map((q) => `query=${encodeURIComponent(q)}`).join('&')}${extra}`;
}

/** What GET /v2/alerts/count answers for each query, one request each. */
async function oneByOne(queries: readonly string[], key = server.key, extra = ''): Promise<Json[]> {
  return Promise.all(
    queries.map(async (query) => {
      const res = await server.call(
        'GET',
        `/v2/alerts/count?query=${encodeURIComponent(query)}${extra}`,
        undefined,
        key,
      );
      assert.equal(res.status, 200, JSON.stringify(res.body));
      return { query, count: res.body.data.count };
    }),
  );
}

describe('GET /v2/alerts/counts', () => {
  it('answers each query’s count in the order asked, as GET /v2/alerts/count does', async () => {
    const res = await server.call('GET', countsPath(QUERIES));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(res.body.data, [
      { query: 'status:open', count: 5 },
      { query: 'status:open AND acknowledged:false', count: 4 },
      { query: 'status:open AND acknowledged:true', count: 1 },
      { query: 'status:closed', count: 2 },
      { query: '', count: 7 },
      { query: 'priority:P1', count: 4 },
      { query: 'teams:"Counting team"', count: 3 },
    ]);
    assert.deepEqual(res.body.data, await oneByOne(QUERIES));
    assert.equal(typeof res.body.requestId, 'string');
    // One query is a list of one; the same query twice is counted twice.
    const one = await server.callOk('GET', countsPath(['status:closed']));
    assert.deepEqual(one.data, [{ query: 'status:closed', count: 2 }]);
    const twice = await server.callOk('GET', countsPath(['priority:P1', 'priority:P1']));
    assert.deepEqual(
      twice.data.map((c: Json) => c.count),
      [4, 4],
    );
  });

  it('follows the alerts as they change', async () => {
    const id = await createAlert({ message: 'changing', alias: 'c-changing', priority: 'P5' });
    const before = await server.callOk('GET', countsPath(['status:open', 'status:closed', 'priority:P5']));
    await act(id, 'close');
    const after = await server.callOk('GET', countsPath(['status:open', 'status:closed', 'priority:P5']));
    assert.deepEqual(
      after.data.map((c: Json) => c.count),
      [before.data[0].count - 1, before.data[1].count + 1, before.data[2].count],
    );
    await server.callOk('DELETE', `/v2/alerts/${id}`);
    const deleted = await server.callOk('GET', countsPath(['status:closed', 'priority:P5']));
    assert.deepEqual(
      deleted.data.map((c: Json) => c.count),
      [before.data[1].count, 0],
    );
  });

  it("counts only its team's alerts for an integration's key", async () => {
    const res = await server.call('GET', countsPath(QUERIES), undefined, teamKey);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    assert.deepEqual(
      res.body.data.map((c: Json) => c.count),
      [2, 2, 0, 1, 3, 2, 3],
    );
    assert.deepEqual(res.body.data, await oneByOne(QUERIES, teamKey));
    // The organization's other alerts are not there to be found by any query.
    const theirs = await server.callOk(
      'GET',
      countsPath(['alias:c-org-1', 'message:org', 'alias:c-team-1']),
      undefined,
      teamKey,
    );
    assert.deepEqual(
      theirs.data.map((c: Json) => c.count),
      [0, 0, 1],
    );
  });

  it('ANDs each query with the saved search named, by id or by name, in the caller’s scope', async () => {
    const search = (
      await server.callOk('POST', '/v2/alerts/saved-searches', {
        name: 'Counted P1s',
        query: 'priority:P1',
        owner: { id: ownerId },
      })
    ).data as { id: string };
    const queries = ['status:open', 'status:closed', ''];
    const byId = await server.callOk('GET', countsPath(queries, `&searchIdentifier=${search.id}`));
    assert.deepEqual(
      byId.data.map((c: Json) => c.count),
      [2, 2, 4],
    );
    assert.deepEqual(byId.data, await oneByOne(queries, server.key, `&searchIdentifier=${search.id}`));
    const byName = await server.callOk(
      'GET',
      countsPath(queries, `&searchIdentifier=${encodeURIComponent('counted p1s')}&searchIdentifierType=name`),
    );
    assert.deepEqual(byName.data, byId.data);
    const team = await server.callOk(
      'GET',
      countsPath(queries, `&searchIdentifier=${search.id}`),
      undefined,
      teamKey,
    );
    assert.deepEqual(
      team.data.map((c: Json) => c.count),
      [1, 1, 2],
    );
    const unknown = await server.call(
      'GET',
      countsPath(queries, `&searchIdentifier=${'0'.repeat(8)}-0000-4000-8000-${'0'.repeat(12)}`),
    );
    assert.equal(unknown.status, 404, JSON.stringify(unknown.body));
  });

  it('refuses wrong input with a 4xx that says what is wrong, never a 500', async () => {
    const noQuery = await server.call('GET', '/v2/alerts/counts');
    assert.equal(noQuery.status, 422, JSON.stringify(noQuery.body));
    assert.deepEqual(noQuery.body.errors, { query: 'is required.' });
    const tooMany = await server.call('GET', countsPath(Array.from({ length: 11 }, (_, i) => `tinyId:${i}`)));
    assert.equal(tooMany.status, 422, JSON.stringify(tooMany.body));
    assert.deepEqual(Object.keys(tooMany.body.errors), ['query']);
    const ten = await server.callOk('GET', countsPath(Array.from({ length: 10 }, (_, i) => `tinyId:${i}`)));
    assert.equal(ten.data.length, 10);

    // The limit on unindexed terms holds for all the queries together, not for each: ten queries of ten
    // free-text words each would search every alert a hundred times.
    const words = (n: number, tag: string) => Array.from({ length: n }, (_, j) => `${tag}w${j}`).join(' ');
    const costly = await server.call(
      'GET',
      countsPath(Array.from({ length: 10 }, (_, i) => words(10, `q${i}`))),
    );
    assert.equal(costly.status, 422, JSON.stringify(costly.body));
    assert.deepEqual(Object.keys(costly.body.errors), ['query']);
    assert.match(costly.body.message, /100 free-text.*at most 50 are allowed in one request\. Narrow them/);
    // So it does with a saved search, which is AND-ed with (and counted in) every query, and raises the
    // limit by five times its own: here 10 × (6 + 3) of 5 × (10 + 6).
    const wordy = (
      await server.callOk('POST', '/v2/alerts/saved-searches', {
        name: 'Counted words',
        query: words(6, 'saved'),
        owner: { id: ownerId },
      })
    ).data as { id: string };
    const withSaved = await server.call(
      'GET',
      countsPath(
        Array.from({ length: 10 }, (_, i) => words(3, `q${i}`)),
        `&searchIdentifier=${wordy.id}`,
      ),
    );
    assert.equal(withSaved.status, 422, JSON.stringify(withSaved.body));
    assert.match(
      withSaved.body.message,
      /queries, each with the saved search's 6, have 90 free-text.*at most 80 are allowed in one request/,
    );
    // Indexed queries are not held to it.
    const indexed = await server.callOk(
      'GET',
      countsPath(Array.from({ length: 10 }, (_, i) => `status:open priority:P${(i % 5) + 1} tinyId>${i}`)),
    );
    assert.equal(indexed.data.length, 10);
    // The console's counts (web/src/pages/alerts/listQueries.ts): its five views, each AND-ed with the
    // search box's query, here one of the most unindexed terms one query may have; with a saved search too.
    const inViews = (query: string) => QUERIES.slice(0, 5).map((v) => (v ? `${v} AND (${query})` : query));
    const consoleCounts = await server.call('GET', countsPath(inViews(`org* ${words(9, 'team')}`)));
    assert.equal(consoleCounts.status, 200, JSON.stringify(consoleCounts.body));
    assert.equal(consoleCounts.body.data.length, 5);
    const consoleSaved = await server.call(
      'GET',
      countsPath(inViews(words(4, 'box')), `&searchIdentifier=${wordy.id}`),
    );
    assert.equal(consoleSaved.status, 200, JSON.stringify(consoleSaved.body));

    const bad = await server.call('GET', countsPath(['status:open', 'status:sideways', 'priority:P1']));
    assert.equal(bad.status, 422, JSON.stringify(bad.body));
    assert.match(bad.body.message, /status is open or closed, not "sideways"/);

    // A NUL byte in a query is no error, and no 500: no alert holds one.
    const nul = await server.callOk('GET', countsPath([`details.${'\u0000'}:x`, `message:a${'\u0000'}`]));
    assert.deepEqual(
      nul.data.map((c: Json) => c.count),
      [0, 0],
    );

    for (const path of [
      countsPath(['x'.repeat(2001)]),
      countsPath(['('.repeat(1900)]),
      countsPath([`count>${'9'.repeat(30)}`]),
      countsPath(['status:open'], '&searchIdentifier=x&searchIdentifierType=alias'),
      countsPath(['status:open'], `&searchIdentifier=${'x'.repeat(3000)}`),
    ]) {
      const res = await server.call('GET', path);
      assert.ok(res.status >= 400 && res.status < 500, `${path.slice(0, 80)}: ${res.status}`);
    }
  });

  it('counts every term no index serves toward the limit together, and not those one serves', async () => {
    const terms = (n: number, make: (j: number) => string) =>
      Array.from({ length: n }, (_, j) => make(j)).join(' ');
    // Six queries of ten terms on fields no index serves: each within its own limit, 60 together.
    for (const make of [
      (i: number) => (j: number) => `details.k${i}:v${j}`,
      (i: number) => (j: number) => (j % 2 ? `OR entity:e${i}-${j}` : `source:s${i}-${j}`),
      (i: number) => (j: number) => `NOT owner:o${i}-${j}`,
    ]) {
      const queries = Array.from({ length: 6 }, (_, i) => terms(10, make(i)));
      const res = await server.call('GET', countsPath(queries));
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.deepEqual(Object.keys(res.body.errors), ['query']);
      assert.match(
        res.body.message,
        /have 60 free-text, wildcard \(\*\) or message\/description terms or others no index serves .*at most 50 are allowed in one request\. Narrow them: .*such as status:open, alias:x, tag:x/,
      );
    }
    // One query alone is held to ten of them.
    const one = await server.call('GET', countsPath([terms(11, (j) => `details.k:v${j}`)]));
    assert.equal(one.status, 422, JSON.stringify(one.body));
    assert.match(one.body.message, /it has 11 free-text.*others no index serves/);
    // The same number of terms an index serves: all of them counted, and found as before.
    const indexed = Array.from({ length: 6 }, (_, i) =>
      terms(10, (j) => `${j ? 'OR ' : ''}${j % 2 ? `tag:t${i}-${j}` : `alias:C-ORG-${((j / 2) % 4) + 1}`}`),
    );
    const res = await server.call('GET', countsPath(indexed));
    assert.equal(res.status, 200, JSON.stringify(res.body));
    // alias:C-ORG-4 finds no alert: its alert is closed, and alias: finds the open one only.
    assert.deepEqual(
      res.body.data.map((c: Json) => c.count),
      [3, 3, 3, 3, 3, 3],
    );
    await createAlert({ message: 'tagged', alias: 'c-tagged', tags: ['Counted', 'other'] });
    const tagged = await server.callOk(
      'GET',
      countsPath(['tag:Counted', 'tag:counted', 'tags:other tag:Counted', 'tag:Count', 'alias:C-TAGGED']),
    );
    assert.deepEqual(
      tagged.data.map((c: Json) => c.count),
      [1, 0, 1, 0, 1],
    );
  });

  it("answers the console's five views with a saved search of the most unindexed terms", async () => {
    // A saved search of ten terms no index serves, each view with the search box's free-text word, as
    // web/src/pages/alerts/listQueries.ts sends them: each view AND-ed with the box, and the saved search.
    const nothing = (n: number, tag: string) => Array.from({ length: n }, (_, j) => `entity:${tag}-${j}`);
    const saved = (
      await server.callOk('POST', '/v2/alerts/saved-searches', {
        name: 'Counted the most',
        query: ['message:org', 'message:team', ...nothing(8, 'saved')].join(' OR '),
        owner: { id: ownerId },
      })
    ).data as { id: string };
    const search = `&searchIdentifier=${saved.id}`;
    const inViews = (box: string) => QUERIES.slice(0, 5).map((v) => (v ? `${v} AND (${box})` : box));
    const oneWord = await server.call('GET', countsPath(inViews('org'), search));
    assert.equal(oneWord.status, 200, JSON.stringify(oneWord.body));
    assert.deepEqual(
      oneWord.body.data.map((c: Json) => c.count),
      [3, 2, 1, 1, 4],
    );
    assert.deepEqual(oneWord.body.data, await oneByOne(inViews('org'), server.key, search));
    // A box of the most such terms one query may have too: what the list takes, the counts take.
    const mostBox = ['org', ...nothing(9, 'box')].join(' OR ');
    const most = await server.call('GET', countsPath(inViews(mostBox), search));
    assert.equal(most.status, 200, JSON.stringify(most.body));
    assert.deepEqual(
      most.body.data.map((c: Json) => c.count),
      [3, 2, 1, 1, 4],
    );
    // A sixth such count is over five queries' worth with the saved search: 6 × (10 + 10) of 5 × (10 + 10).
    const sixth = await server.call('GET', countsPath([...inViews(mostBox), mostBox], search));
    assert.equal(sixth.status, 422, JSON.stringify(sixth.body));
    assert.match(sixth.body.message, /have 120 free-text.*at most 100 are allowed in one request/);
  });
});
