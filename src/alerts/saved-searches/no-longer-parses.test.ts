import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../testing/harness.js';

/**
 * A saved search is checked when it is saved and parsed again each time it runs: one saved before the
 * query language changed (before a word followed by a spaced operator became a field term, so that
 * `error : timeout` now asks for a field "error") may no longer parse. The 422 then names the saved
 * search, not the caller's query, and says to edit it.
 */

let server: TestServer;
let search: { id: string; name: string };

before(async () => {
  server = await startTestServer();
  const users = await server.callOk('GET', '/v2/users');
  const created = await server.callOk('POST', '/v2/alerts/saved-searches', {
    name: 'Timeouts',
    query: 'status:open',
    owner: { username: users.data[0].username },
  });
  search = created.data;
  // As it was stored then: past today's check on create and update.
  await sql`UPDATE saved_searches SET query = 'error : timeout' WHERE id = ${search.id}`.execute(
    server.app.context.db,
  );
});
after(async () => {
  await server?.stop();
});

describe('a saved search that no longer parses', () => {
  const runs = () => [
    ['by id', `searchIdentifier=${search.id}`, `id [${search.id}]`],
    ['by name', 'searchIdentifier=Timeouts&searchIdentifierType=name', 'name [Timeouts]'],
  ];

  const withQueries: [string, string[]][] = [
    ['/v2/alerts', ['', '&query=status%3Aopen']],
    ['/v2/alerts/count', ['', '&query=status%3Aopen']],
    ['/v2/alerts/counts', ['&query=status%3Aopen&query=priority%3AP1']],
  ];
  for (const [path, queries] of withQueries) {
    it(`answers ${path} with a 422 that names the saved search`, async () => {
      for (const [how, search, named] of runs()) {
        for (const query of queries) {
          const res = await server.call('GET', `${path}?${search}${query}`);
          assert.equal(res.status, 422, `${how}${query}: ${JSON.stringify(res.body)}`);
          const message = res.body.message as string;
          assert.ok(
            message.startsWith(
              `Saved search with ${named} no longer parses: Invalid query: unknown field "error". Known fields: status,`,
            ),
            `${how}: ${message}`,
          );
          assert.ok(
            message.endsWith('. Edit its query (quote free text such as "error : timeout").'),
            `${how}: ${message}`,
          );
        }
      }
    });
  }

  it('runs again once its query is edited', async () => {
    await server.callOk('PATCH', `/v2/alerts/saved-searches/${search.id}`, { query: '"error : timeout"' });
    const res = await server.call('GET', `/v2/alerts?searchIdentifier=${search.id}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });
});
