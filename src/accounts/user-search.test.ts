import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { nameKey } from '../db/name-key.js';
import { startTestServer, type Json, type TestServer } from '../testing/harness.js';
import { ASCII_FROM_BEYOND, searchPattern } from './user-search.js';

/**
 * GET /v2/users?query= without regard to case beyond ASCII, which the test database's C locale would not
 * give ILIKE: "élodie" finds "Élodie Martin", "strasse" a "Straße", "office" an "Oﬃce"; and the ILIKE
 * pattern that narrows the candidates lets through every user the fold finds.
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

  it('narrows with a pattern every folded match passes, whatever the query', () => {
    assert.equal(searchPattern(nameKey('Élodie')), '%od%e%');
    assert.equal(searchPattern(nameKey('office 100%_x')), '%o%ce 100\\%\\_x%');
    assert.equal(searchPattern(nameKey('ß')), '%');
    // The ASCII characters that some character beyond ASCII folds to, as this Node's Unicode has it.
    const made = new Set<string>();
    for (let cp = 0x80; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      for (const char of nameKey(String.fromCodePoint(cp))) if (char.charCodeAt(0) < 0x80) made.add(char);
    }
    assert.deepEqual([...made].sort().join(''), [...ASCII_FROM_BEYOND].sort().join(''));
  });
});
