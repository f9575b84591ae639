import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { addOrganization, startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import { nameKey } from '../../db/name-key.js';
import { MAX_SAVED_SEARCHES, MAX_SAVED_SEARCHES_PER_OWNER } from './service.js';

/** Saved searches (/v2/alerts/saved-searches) and the alert list and count running them. */

let server: TestServer;
let owner: { id: string; username: string };
let teamId: string;
let otherTeamId: string;

before(async () => {
  server = await startTestServer();
  const users = await server.callOk('GET', '/v2/users');
  owner = { id: users.data[0].id, username: users.data[0].username };
  teamId = (await server.callOk('POST', '/v2/teams', { name: 'Payments' })).data.id;
  otherTeamId = (await server.callOk('POST', '/v2/teams', { name: 'Security' })).data.id;
});
after(async () => {
  await server.stop();
});

async function createAlert(body: Json, key = server.key): Promise<string> {
  const created = await server.callOk('POST', '/v2/alerts', body, key);
  const status = await server.callOk('GET', `/v2/alerts/requests/${created.requestId}`);
  assert.equal(status.data.success, true, JSON.stringify(status.data));
  return status.data.alertId;
}

async function createSearch(body: Json): Promise<{ id: string; name: string }> {
  const res = await server.call('POST', '/v2/alerts/saved-searches', body);
  assert.equal(res.status, 201, JSON.stringify(res.body));
  assert.equal(res.body.result, 'Created');
  return res.body.data;
}

describe('saved searches', () => {
  it('creates, lists, gets by id and by name, updates and deletes', async () => {
    const created = await createSearch({
      name: 'Open P1s',
      query: 'status:open priority:P1',
      owner: { username: owner.username },
      description: 'What wakes people up',
      teams: [{ id: teamId }, { name: 'Security' }, { name: 'payments' }],
    });
    assert.equal(created.name, 'Open P1s');
    assert.match(created.id, /^[0-9a-f-]{36}$/);

    const list = await server.callOk('GET', '/v2/alerts/saved-searches');
    assert.deepEqual(
      list.data.filter((s: Json) => s.id === created.id),
      [{ id: created.id, name: 'Open P1s' }],
    );

    const byId = (await server.callOk('GET', `/v2/alerts/saved-searches/${created.id}`)).data;
    assert.equal(byId.id, created.id);
    assert.equal(byId.name, 'Open P1s');
    assert.equal(byId.query, 'status:open priority:P1');
    assert.equal(byId.description, 'What wakes people up');
    assert.deepEqual(byId.owner, { id: owner.id, username: owner.username });
    assert.deepEqual(byId.teams, [
      { id: teamId, name: 'Payments' },
      { id: otherTeamId, name: 'Security' },
    ]);
    assert.ok(!Number.isNaN(Date.parse(byId.createdAt)));
    assert.ok(!Number.isNaN(Date.parse(byId.updatedAt)));

    const byName = await server.callOk(
      'GET',
      `/v2/alerts/saved-searches/${encodeURIComponent('open p1s')}?identifierType=name`,
    );
    assert.equal(byName.data.id, created.id);

    const updated = await server.call(
      'PATCH',
      `/v2/alerts/saved-searches/${encodeURIComponent('Open P1s')}?identifierType=name`,
      { name: 'Open P1 and P2', query: 'status:open (priority:P1 OR priority:P2)', teams: [] },
    );
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.deepEqual(updated.body.data, { id: created.id, name: 'Open P1 and P2' });
    const after = (await server.callOk('GET', `/v2/alerts/saved-searches/${created.id}`)).data;
    assert.equal(after.query, 'status:open (priority:P1 OR priority:P2)');
    assert.equal(after.description, 'What wakes people up', 'fields not given keep their value');
    assert.deepEqual(after.teams, []);

    const deleted = await server.call('DELETE', `/v2/alerts/saved-searches/${created.id}`);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.equal(deleted.body.result, 'Deleted');
    const gone = await server.call('GET', `/v2/alerts/saved-searches/${created.id}`);
    assert.equal(gone.status, 404);
    assert.equal(gone.body.message, `Saved search with id [${created.id}] does not exist.`);
    const goneByName = await server.call(
      'DELETE',
      `/v2/alerts/saved-searches/${encodeURIComponent('Open P1 and P2')}?identifierType=name`,
    );
    assert.equal(goneByName.status, 404);
  });

  it('keeps names unique in the organization, without regard to case (409)', async () => {
    const first = await createSearch({ name: 'Unique', query: 'tag:a', owner: { id: owner.id } });
    const clash = await server.call('POST', '/v2/alerts/saved-searches', {
      name: 'UNIQUE',
      query: 'tag:b',
      owner: { id: owner.id },
    });
    assert.equal(clash.status, 409, JSON.stringify(clash.body));
    const other = await createSearch({ name: 'Unique 2', query: 'tag:b', owner: { id: owner.id } });
    const renamed = await server.call('PATCH', `/v2/alerts/saved-searches/${other.id}`, { name: 'unique' });
    assert.equal(renamed.status, 409, JSON.stringify(renamed.body));
    // Another organization has names of its own.
    const org = await addOrganization(server, 'Elsewhere');
    const users = (await org.call('GET', '/v2/users')).body;
    const theirs = await org.call('POST', '/v2/alerts/saved-searches', {
      name: 'Unique',
      query: 'tag:a',
      owner: { id: users.data[0].id },
    });
    assert.equal(theirs.status, 201, JSON.stringify(theirs.body));
    // ... and sees none of ours, nor can it run them.
    const seen = (await org.call('GET', '/v2/alerts/saved-searches')).body;
    assert.deepEqual(
      seen.data.map((s: Json) => s.name),
      ['Unique'],
    );
    assert.equal((await org.call('GET', `/v2/alerts/saved-searches/${first.id}`)).status, 404);
    assert.equal((await org.call('GET', `/v2/alerts?searchIdentifier=${first.id}`)).status, 404);
  });

  it('refuses a query the alert list would refuse, naming query (422)', async () => {
    for (const query of ['status:open AND', '(tag:a', 'count>x', '   ', 'x '.repeat(40)]) {
      const res = await server.call('POST', '/v2/alerts/saved-searches', {
        name: `bad ${query.slice(0, 10)}`,
        query,
        owner: { id: owner.id },
      });
      assert.equal(res.status, 422, `${query}: ${JSON.stringify(res.body)}`);
      assert.ok(res.body.errors?.query, `${query}: ${JSON.stringify(res.body)}`);
    }
    const ok = await createSearch({ name: 'Fixable', query: 'tag:a', owner: { id: owner.id } });
    const res = await server.call('PATCH', `/v2/alerts/saved-searches/${ok.id}`, { query: 'NOT' });
    assert.equal(res.status, 422, JSON.stringify(res.body));
    assert.ok(res.body.errors?.query);
  });

  it('refuses an owner or team that is not of the organization (422)', async () => {
    for (const [body, field] of [
      [{ owner: { username: 'nobody@example.com' } }, 'owner'],
      [{ owner: {} }, 'owner'],
      [{ owner: { id: owner.id }, teams: [{ name: 'No such team' }] }, 'teams[0]'],
    ] as const) {
      const res = await server.call('POST', '/v2/alerts/saved-searches', {
        name: 'Owned',
        query: 'tag:a',
        ...body,
      });
      assert.equal(res.status, 422, JSON.stringify(res.body));
      assert.ok(res.body.errors?.[field], JSON.stringify(res.body));
    }
    const missing = await server.call('POST', '/v2/alerts/saved-searches', { name: 'x', query: 'tag:a' });
    assert.equal(missing.status, 422, JSON.stringify(missing.body));
  });

  it('answers hostile input with a 4xx', async () => {
    const NUL = 'a\u0000b';
    const made = await server.call('POST', '/v2/alerts/saved-searches', {
      name: `nul ${NUL}`,
      query: `message:${NUL}`,
      owner: { id: owner.id },
      description: 'c\ud800d',
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    for (const [method, path, body] of [
      [
        'POST',
        '/v2/alerts/saved-searches',
        { name: 'x'.repeat(100_000), query: 'tag:a', owner: { id: owner.id } },
      ],
      [
        'POST',
        '/v2/alerts/saved-searches',
        { name: 'big', query: 'a'.repeat(100_000), owner: { id: owner.id } },
      ],
      [
        'POST',
        '/v2/alerts/saved-searches',
        { name: 'big', query: 'tag:a', owner: { id: 'x'.repeat(10_000) } },
      ],
      ['POST', '/v2/alerts/saved-searches', { name: 5, query: ['tag:a'], owner: 'me' }],
      ['POST', '/v2/alerts/saved-searches', '{"name": "broken'],
      ['PATCH', `/v2/alerts/saved-searches/${made.body.data.id}`, { description: 'd'.repeat(100_000) }],
      ['GET', `/v2/alerts/saved-searches/${encodeURIComponent(NUL)}`, undefined],
      ['GET', `/v2/alerts/saved-searches/${encodeURIComponent(NUL)}?identifierType=name`, undefined],
      ['GET', `/v2/alerts/saved-searches/${'x'.repeat(3000)}`, undefined],
      ['GET', `/v2/alerts/saved-searches/x?identifierType=tiny`, undefined],
      ['GET', `/v2/alerts?searchIdentifier=${encodeURIComponent(NUL)}`, undefined],
      ['GET', `/v2/alerts?searchIdentifier=${'x'.repeat(3000)}`, undefined],
      ['GET', `/v2/alerts/count?searchIdentifier=x&searchIdentifierType=alias`, undefined],
      ['DELETE', `/v2/alerts/saved-searches/${encodeURIComponent(NUL)}?identifierType=name`, undefined],
    ] as const) {
      const res = await server.call(method, path, body);
      assert.ok(
        res.status >= 400 && res.status < 500,
        `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`,
      );
    }
    const got = await server.callOk(
      'GET',
      `/v2/alerts/saved-searches/${encodeURIComponent('nul a\uFFFDb')}?identifierType=name`,
    );
    assert.equal(got.data.query, 'message:a\uFFFDb');
  });

  it('lets only organization admins and the owner change a search; an integration key only reads', async () => {
    await server.callOk('POST', '/v2/users', {
      username: 'una@example.com',
      fullName: 'Una User',
      role: { name: 'User' },
    });
    const unaKey = (
      await server.callOk('POST', '/v2/api-keys', { name: 'una key', user: { username: 'una@example.com' } })
    ).data.key;
    const admins = await createSearch({ name: 'Admins', query: 'tag:a', owner: { id: owner.id } });
    const refusedCreate = await server.call(
      'POST',
      '/v2/alerts/saved-searches',
      { name: 'Not hers', query: 'tag:a', owner: { id: owner.id } },
      unaKey,
    );
    assert.equal(refusedCreate.status, 403, JSON.stringify(refusedCreate.body));
    const hers = await server.call(
      'POST',
      '/v2/alerts/saved-searches',
      { name: 'Hers', query: 'tag:a', owner: { username: 'una@example.com' } },
      unaKey,
    );
    assert.equal(hers.status, 201, JSON.stringify(hers.body));
    assert.equal(
      (
        await server.call(
          'PATCH',
          `/v2/alerts/saved-searches/${hers.body.data.id}`,
          { query: 'tag:b' },
          unaKey,
        )
      ).status,
      200,
    );
    assert.equal(
      (await server.call('DELETE', `/v2/alerts/saved-searches/${admins.id}`, undefined, unaKey)).status,
      403,
    );
    assert.equal(
      (await server.call('GET', `/v2/alerts/saved-searches/${admins.id}`, undefined, unaKey)).status,
      200,
    );

    const integration = await server.callOk('POST', '/v2/integrations', {
      type: 'API',
      name: 'Reader',
      ownerTeam: { id: teamId },
    });
    const key = integration.data.apiKey;
    assert.equal((await server.call('GET', '/v2/alerts/saved-searches', undefined, key)).status, 200);
    const refused = await server.call('DELETE', `/v2/alerts/saved-searches/${admins.id}`, undefined, key);
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
  });
});

describe('how many saved searches there may be', () => {
  /** `count` searches in the organization, straight into the table (the API would take a while). */
  async function fill(orgId: string, ownerUserId: string | null, count: number, prefix: string) {
    await server.app.context.db
      .insertInto('saved_searches')
      .values(
        Array.from({ length: count }, (_, i) => ({
          org_id: orgId,
          name: `${prefix} ${i}`,
          name_key: nameKey(`${prefix} ${i}`),
          query: 'status:open',
          owner_user_id: ownerUserId,
        })),
      )
      .execute();
  }

  it('refuses a user more than their share, as owner by anyone or by hand-over, until they delete one', async () => {
    const org = await addOrganization(server, 'Many Owned');
    const orgOwner = (await org.call('GET', '/v2/users')).body.data[0];
    const made = await org.call('POST', '/v2/users', {
      username: 'hoarder@many-owned.example',
      fullName: 'Hoarder',
      role: { name: 'User' },
    });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const userId: string = made.body.data.id;
    const userKey: string = (
      await org.call('POST', '/v2/api-keys', {
        name: 'hoarder',
        user: { username: 'hoarder@many-owned.example' },
      })
    ).body.data.key;
    await fill(org.orgId, userId, MAX_SAVED_SEARCHES_PER_OWNER - 1, 'Hoarded');
    const create = (name: string, owner: string, key?: string) =>
      org.call('POST', '/v2/alerts/saved-searches', { name, query: 'tag:a', owner: { id: owner } }, key);

    const last = await create('The last one', userId, userKey);
    assert.equal(last.status, 201, JSON.stringify(last.body));
    const over = await create('One too many', userId, userKey);
    assert.equal(over.status, 422, JSON.stringify(over.body));
    assert.equal(
      over.body.message,
      `User [hoarder@many-owned.example] already owns ${MAX_SAVED_SEARCHES_PER_OWNER} saved searches, the most one user may own (${MAX_SAVED_SEARCHES_PER_OWNER}): delete some of them first.`,
    );
    // Nor may an admin make one theirs, or hand them one.
    assert.equal((await create('Made for them', userId)).status, 422);
    const ownersOwn = await create('The owner’s own', orgOwner.id);
    assert.equal(ownersOwn.status, 201, 'the share is per user, not the organization’s');
    const handed = await org.call('PATCH', `/v2/alerts/saved-searches/${ownersOwn.body.data.id}`, {
      owner: { id: userId },
    });
    assert.equal(handed.status, 422, JSON.stringify(handed.body));
    // Changing one of theirs (not its owner) is still allowed.
    const renamed = await org.call(
      'PATCH',
      `/v2/alerts/saved-searches/${last.body.data.id}`,
      { name: 'The last one, renamed', owner: { id: userId } },
      userKey,
    );
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));

    const deleted = await org.call(
      'DELETE',
      `/v2/alerts/saved-searches/${last.body.data.id}`,
      undefined,
      userKey,
    );
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.equal((await create('In its place', userId, userKey)).status, 201);
  });

  it('refuses the organization more than its limit, even to creates at once, until one is deleted', async () => {
    const org = await addOrganization(server, 'Many Searches');
    const orgOwner = (await org.call('GET', '/v2/users')).body.data[0];
    // Owners deleted since: no one's share, all the organization's.
    await fill(org.orgId, null, MAX_SAVED_SEARCHES - 3, 'Orphan');
    const create = (name: string) =>
      org.call('POST', '/v2/alerts/saved-searches', { name, query: 'tag:a', owner: { id: orgOwner.id } });

    assert.equal((await create('Third to last')).status, 201);
    // Two places left and six asking at once: the lock lets two through.
    const racing = await Promise.all(Array.from({ length: 6 }, (_, i) => create(`Racing ${i}`)));
    assert.deepEqual(
      racing.map((r) => r.status).sort(),
      [201, 201, 422, 422, 422, 422],
      JSON.stringify(racing.map((r) => r.body)),
    );
    const over = await create('One too many');
    assert.equal(over.status, 422, JSON.stringify(over.body));
    assert.equal(
      over.body.message,
      `The organization already has ${MAX_SAVED_SEARCHES} saved searches, the most it may have (${MAX_SAVED_SEARCHES}): delete some first.`,
    );
    const list = (await org.call('GET', '/v2/alerts/saved-searches')).body;
    assert.equal(list.data.length, MAX_SAVED_SEARCHES);

    const deleted = await org.call(
      'DELETE',
      `/v2/alerts/saved-searches/${racing.find((r) => r.status === 201)?.body.data.id}`,
    );
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.equal((await create('In its place')).status, 201);
  });
});

describe('routes', () => {
  it('takes /v2/alerts/saved-searches as the list, and /v2/alerts/{id} as an alert still', async () => {
    const alertId = await createAlert({ message: 'route check', alias: 'route-check' });
    const search = await createSearch({
      name: 'Routes',
      query: 'alias:route-check',
      owner: { id: owner.id },
    });
    for (const path of ['/v2/alerts/saved-searches', '/v2/alerts/saved-searches/']) {
      const list = await server.call('GET', path);
      assert.equal(list.status, 200, JSON.stringify(list.body));
      assert.ok(Array.isArray(list.body.data));
      assert.ok(list.body.data.some((s: Json) => s.id === search.id));
    }
    const alert = await server.call('GET', `/v2/alerts/${alertId}`);
    assert.equal(alert.status, 200, JSON.stringify(alert.body));
    assert.equal(alert.body.data.message, 'route check');
    const byAlias = await server.call('GET', '/v2/alerts/route-check?identifierType=alias');
    assert.equal(byAlias.body.data.id, alertId);
    const notes = await server.call('GET', `/v2/alerts/${alertId}/notes`);
    assert.equal(notes.status, 200);
    // An alert aliased `saved-searches` is still acted on as an alert (POST has no saved-search route).
    const clashing = await createAlert({ message: 'aliased like the path', alias: 'saved-searches' });
    const ack = await server.call('POST', '/v2/alerts/saved-searches/acknowledge?identifierType=alias', {});
    assert.equal(ack.status, 202, JSON.stringify(ack.body));
    const status = await server.callOk('GET', `/v2/alerts/requests/${ack.body.requestId}`);
    assert.deepEqual([status.data.success, status.data.alertId], [true, clashing]);
  });
});

describe('the alert list and count running a saved search', () => {
  let p1: string;
  let p1Ours: string;
  let p2: string;
  let integrationKey: string;

  before(async () => {
    const integration = await server.callOk('POST', '/v2/integrations', {
      type: 'API',
      name: 'Grafana',
      ownerTeam: { id: teamId },
    });
    integrationKey = integration.data.apiKey;
    p1 = await createAlert({ message: 'db down', alias: 'ss-p1', priority: 'P1', tags: ['ss', 'db'] });
    p1Ours = await createAlert(
      { message: 'payments down', alias: 'ss-p1-ours', priority: 'P1', tags: ['ss', 'pay'] },
      integrationKey,
    );
    p2 = await createAlert({ message: 'disk full', alias: 'ss-p2', priority: 'P2', tags: ['ss', 'db'] });
    await createAlert({ message: 'unrelated', alias: 'ss-none', priority: 'P1' });
    await createSearch({ name: 'SS P1', query: 'tag:ss priority:P1', owner: { id: owner.id } });
  });

  const ids = (body: Json) => (body.data as Json[]).map((a) => a.id).sort();

  it('lists and counts only the alerts the saved search matches, by id and by name', async () => {
    const byName = await server.callOk(
      'GET',
      `/v2/alerts?searchIdentifier=${encodeURIComponent('SS P1')}&searchIdentifierType=name&limit=100`,
    );
    assert.deepEqual(ids(byName), [p1, p1Ours].sort());
    const id = (
      await server.callOk(
        'GET',
        `/v2/alerts/saved-searches/${encodeURIComponent('ss p1')}?identifierType=name`,
      )
    ).data.id;
    const byId = await server.callOk('GET', `/v2/alerts?searchIdentifier=${id}&limit=100`);
    assert.deepEqual(ids(byId), [p1, p1Ours].sort());
    const count = await server.callOk(
      'GET',
      `/v2/alerts/count?searchIdentifier=${id}&searchIdentifierType=id`,
    );
    assert.equal(count.data.count, 2);
    // The paging links run the same search.
    const first = new URL(byId.paging.first, 'http://localhost');
    assert.equal(first.searchParams.get('searchIdentifier'), id);
    assert.equal(first.searchParams.get('searchIdentifierType'), 'id');
  });

  it('ANDs the saved search with query', async () => {
    const id = (
      await server.callOk(
        'GET',
        `/v2/alerts/saved-searches/${encodeURIComponent('SS P1')}?identifierType=name`,
      )
    ).data.id;
    const list = await server.callOk('GET', `/v2/alerts?searchIdentifier=${id}&query=tag:db&limit=100`);
    assert.deepEqual(ids(list), [p1]);
    // A query that would escape its parentheses does not parse on its own, so it changes nothing.
    const escape = await server.call(
      'GET',
      `/v2/alerts?searchIdentifier=${id}&query=${encodeURIComponent('tag:db) OR (tag:ss')}`,
    );
    assert.equal(escape.status, 422, JSON.stringify(escape.body));
    const count = await server.callOk(
      'GET',
      `/v2/alerts/count?searchIdentifier=${id}&query=${encodeURIComponent('NOT tag:db')}`,
    );
    assert.equal(count.data.count, 1);
    // An OR in the saved search stays inside it.
    const either = await createSearch({
      name: 'Either',
      query: 'priority:P1 OR priority:P2',
      owner: { id: owner.id },
    });
    const both = await server.callOk(
      'GET',
      `/v2/alerts?searchIdentifier=${either.id}&query=tag:ss&limit=100`,
    );
    assert.deepEqual(ids(both), [p1, p1Ours, p2].sort());
  });

  it('answers 404 for an unknown saved search, by id and by name', async () => {
    for (const path of [
      '/v2/alerts?searchIdentifier=00000000-0000-4000-8000-000000000000',
      '/v2/alerts/count?searchIdentifier=not-a-uuid',
      '/v2/alerts?searchIdentifier=Nope&searchIdentifierType=name',
      '/v2/alerts/count?searchIdentifier=Nope&searchIdentifierType=name&query=tag:ss',
    ]) {
      const res = await server.call('GET', path);
      assert.equal(res.status, 404, `${path}: ${JSON.stringify(res.body)}`);
      assert.match(res.body.message, /^Saved search with (id|name) \[.*\] does not exist\.$/);
    }
    const res = await server.call('GET', '/v2/alerts?searchIdentifier=Nope&searchIdentifierType=name');
    assert.equal(res.body.message, 'Saved search with name [Nope] does not exist.');
  });

  it("keeps an API integration's key to its own team's alerts", async () => {
    const list = await server.call(
      'GET',
      `/v2/alerts?searchIdentifier=${encodeURIComponent('SS P1')}&searchIdentifierType=name&limit=100`,
      undefined,
      integrationKey,
    );
    assert.equal(list.status, 200, JSON.stringify(list.body));
    assert.deepEqual(ids(list.body), [p1Ours]);
    const count = await server.call(
      'GET',
      `/v2/alerts/count?searchIdentifier=${encodeURIComponent('SS P1')}&searchIdentifierType=name`,
      undefined,
      integrationKey,
    );
    assert.equal(count.body.data.count, 1);
  });
});
