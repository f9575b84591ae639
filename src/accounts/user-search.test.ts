import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql, type KyselyPlugin } from 'kysely';
import { addOrganization, startTestServer, type Json, type TestServer } from '../testing/harness.js';
import { accountsRepository } from './repository.js';
import { containing } from './user-search.js';

/**
 * GET /v2/users?query= without regard to case beyond ASCII, which the test database's C locale would not
 * give ILIKE: "élodie" finds "Élodie Martin", "strasse" a "Straße", "office" an "Oﬃce"; by the users'
 * search_key (migration 0083), kept in step with their names, and in PostgreSQL: only the page and its
 * count come back, whatever the query.
 */

let server: TestServer;
const run = randomUUID().slice(0, 6);

before(async () => {
  server = await startTestServer();
  for (const [local, fullName] of [
    ['elodie', 'Élodie Martin'],
    ['strasse', 'Jürgen Straße'],
    ['office', 'Oﬃce Manager'],
    ['kelvin', '\u212Aelvin E\u0301mile'],
    ['plain', 'Plain Person'],
  ]) {
    await server.callOk('POST', '/v2/users', {
      username: `${local}-${run}@example.com`,
      fullName,
      role: { name: 'User' },
    });
  }
});
after(async () => {
  await server?.stop();
});

async function found(query: string, paging = ''): Promise<{ names: string[]; total: number }> {
  const got = await server.callOk(
    'GET',
    `/v2/users?query=${encodeURIComponent(query)}&sort=fullName${paging}`,
  );
  return { names: got.data.map((u: Json) => u.fullName), total: got.totalCount };
}

describe('user search beyond ASCII', () => {
  it('finds a user by any case of their name, composed or not', async () => {
    for (const query of ['Élodie', 'élodie', 'ÉLODIE', 'e\u0301lodie', 'MARTIN', 'odie mar']) {
      assert.deepEqual(await found(query), { names: ['Élodie Martin'], total: 1 }, query);
    }
    for (const query of ['strasse', 'STRASSE', 'straße', 'jürgen', 'JÜRGEN STRASSE']) {
      assert.deepEqual(await found(query), { names: ['Jürgen Straße'], total: 1 }, query);
    }
    for (const query of ['office', 'OFFICE MAN', 'oﬃce']) {
      assert.deepEqual(await found(query), { names: ['Oﬃce Manager'], total: 1 }, query);
    }
    for (const query of ['kelvin', 'KELVIN émile', 'ÉMILE']) {
      assert.deepEqual(await found(query), { names: ['\u212Aelvin E\u0301mile'], total: 1 }, query);
    }
    assert.deepEqual(await found(`plain-${run}`), { names: ['Plain Person'], total: 1 });
    assert.deepEqual(await found('élodie plain'), { names: [], total: 0 });
    assert.deepEqual(await found('%'), { names: [], total: 0 });
  });

  it('pages and counts the users found', async () => {
    assert.equal((await found(`${run}@`)).total, 5);
    // Of Élodie Martin and the Kelvin sign's É (stored decomposed), in the byte order of fullName.
    assert.deepEqual(await found('É'), { names: ['Élodie Martin', '\u212Aelvin E\u0301mile'], total: 2 });
    assert.deepEqual(await found('é', '&limit=1&offset=1'), { names: ['\u212Aelvin E\u0301mile'], total: 2 });
  });

  it('looks for the query as given, % _ and \\ too', async () => {
    assert.equal(containing('100%_a\\b'), '%100\\%\\_a\\\\b%');
    assert.deepEqual(await found('_'), { names: [], total: 0 });
    assert.deepEqual(await found('\\'), { names: [], total: 0 });
    // A line break is in neither name: no match across the username and the full name.
    assert.deepEqual(await found(`${run}@example.com\nélodie`), { names: [], total: 0 });
  });

  it('finds a user by their new username or full name, not by the old', async () => {
    const made = await server.callOk('POST', '/v2/users', {
      username: `aero-${run}@example.com`,
      fullName: 'Øyvind Ærø',
      role: { name: 'User' },
    });
    const id = made.data.id;
    assert.deepEqual(await found(`AERO-${run}`), { names: ['Øyvind Ærø'], total: 1 });
    await server.callOk('PATCH', `/v2/users/${id}`, { fullName: 'Zoë Straße' });
    assert.deepEqual(await found('ZOË STRASSE'), { names: ['Zoë Straße'], total: 1 });
    assert.deepEqual(await found('øyvind'), { names: [], total: 0 });
    // Found by its username still, which the full name's change left.
    assert.deepEqual(await found(`aero-${run}`), { names: ['Zoë Straße'], total: 1 });
    await server.callOk('PATCH', `/v2/users/${id}`, { username: `zoe-${run}@example.com` });
    assert.deepEqual(await found(`ZOE-${run}`), { names: ['Zoë Straße'], total: 1 });
    assert.deepEqual(await found(`aero-${run}`), { names: [], total: 0 });
    assert.deepEqual(await found('zoë straße'), { names: ['Zoë Straße'], total: 1 });
  });

  it('finds the users a process from before 0083 made or renamed, by ASCII case until keyed again', async () => {
    const made = await server.callOk('POST', '/v2/users', {
      username: `renamed-${run}@example.com`,
      fullName: 'Old Name',
      role: { name: 'User' },
    });
    const db = server.app.context.db;
    // As an older process writes them: no search_key.
    await sql`UPDATE users SET full_name = 'Gaëlle Older' WHERE id = ${made.data.id}`.execute(db);
    const { rows } = await sql<{ id: string }>`
      INSERT INTO users (org_id, username, full_name, role)
      SELECT org_id, ${`unkeyed-${run}@example.com`}, 'Ünkeyed Person', 'user' FROM users
      WHERE id = ${made.data.id} RETURNING id`.execute(db);
    assert.deepEqual(await found('old name'), { names: [], total: 0 });
    assert.deepEqual(await found('OLDER'), { names: ['Gaëlle Older'], total: 1 });
    assert.deepEqual(await found('KEYED pERSON'), { names: ['Ünkeyed Person'], total: 1 });
    assert.deepEqual(await found('ÜNKEYED'), { names: ['Ünkeyed Person'], total: 1 });
    // Any change a newer process makes keys them: beyond ASCII too.
    await server.callOk('PATCH', `/v2/users/${made.data.id}`, { timeZone: 'Europe/Paris' });
    await server.callOk('PATCH', `/v2/users/${rows[0]!.id}`, { timeZone: 'Europe/Paris' });
    assert.deepEqual(await found('GAËLLE'), { names: ['Gaëlle Older'], total: 1 });
    assert.deepEqual(await found('ünkeyed'), { names: ['Ünkeyed Person'], total: 1 });
  });

  it('reads from the database the page and its count, not the organization', async () => {
    const other = await addOrganization(server, `Rows ${run}`);
    const db = server.app.context.db;
    for (let i = 0; i < 40; i++)
      await accountsRepository.insertUser(db, {
        org_id: other.orgId,
        username: `filler-${i}@rows.example`,
        full_name: `Filler ${i}`,
        role: 'user',
      });
    await accountsRepository.insertUser(db, {
      org_id: other.orgId,
      username: 'simone@rows.example',
      full_name: 'Nina Simone',
      role: 'user',
    });
    let rowsRead = 0;
    const counting: KyselyPlugin = {
      transformQuery: (args) => args.node,
      transformResult: async (args) => {
        rowsRead += args.result.rows.length;
        return args.result;
      },
    };
    const page = { offset: 0, limit: 20, sort: 'fullName', order: 'asc' } as const;
    // Of letters that some letter beyond ASCII folds to (a, i, n, s...): each query to narrow nothing by.
    for (const query of ['nina', 'NINA', 'simone', 'nina sim']) {
      rowsRead = 0;
      const got = await accountsRepository.listUsers(db.withPlugin(counting), other.orgId, {
        ...page,
        query,
      });
      assert.deepEqual([got.rows.map((u) => u.full_name), got.total], [['Nina Simone'], 1], query);
      assert.equal(rowsRead, 2, `${query}: the page's one row and the count's`);
    }
  });
});
