import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../testing/harness.js';

/**
 * Custom user role names beyond ASCII: unique in the organization and looked up by name (GET, users given
 * a role by name) without regard to case, in Unicode's terms, which the test database's C locale would
 * not give PostgreSQL's lower() (ASCII only).
 */

let server: TestServer;
const run = randomUUID().slice(0, 6);

before(async () => {
  server = await startTestServer();
});
after(async () => {
  await server?.stop();
});

const byName = (name: string) => `/v2/roles/${encodeURIComponent(name)}?identifierType=name`;

async function create(name: string) {
  return server.call('POST', '/v2/roles', { name });
}

describe('custom role names beyond ASCII', () => {
  it('finds a role by its exact name and in any case, and gives it to users by that name', async () => {
    const made = await create('Équipe nuit');
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const id = made.body.data.id;
    for (const name of ['Équipe nuit', 'ÉQUIPE NUIT', 'équipe nuit', 'E\u0301quipe nuit']) {
      const got = await server.call('GET', byName(name));
      assert.equal(got.status, 200, `${name}: ${JSON.stringify(got.body)}`);
      assert.equal(got.body.data.id, id, name);
    }
    const user = await server.call('POST', '/v2/users', {
      username: `nuit-${run}@example.com`,
      fullName: 'Nuit',
      role: { name: 'Équipe nuit' },
    });
    assert.equal(user.status, 201, JSON.stringify(user.body));
    const shown = await server.callOk('GET', `/v2/users/nuit-${run}@example.com`);
    assert.deepEqual(shown.data.role, { id, name: 'Équipe nuit' });
    await server.callOk('PATCH', `/v2/users/nuit-${run}@example.com`, { role: { name: 'ÉQUIPE NUIT' } });
    assert.deepEqual((await server.callOk('GET', `/v2/users/nuit-${run}@example.com`)).data.role, {
      id,
      name: 'Équipe nuit',
    });
  });

  it('refuses a name that differs from another only in case (409), by create and by replace', async () => {
    const first = await create('Straße Ärger');
    assert.equal(first.status, 201, JSON.stringify(first.body));
    for (const name of ['straße ärger', 'STRASSE ÄRGER', 'Stra\u00dfe A\u0308rger']) {
      const clash = await create(name);
      assert.equal(clash.status, 409, `${name}: ${JSON.stringify(clash.body)}`);
    }
    const other = await create('Ärger ailleurs');
    assert.equal(other.status, 201, JSON.stringify(other.body));
    const renamed = await server.call('PUT', `/v2/roles/${other.body.data.id}`, { name: 'straße ärger' });
    assert.equal(renamed.status, 409, JSON.stringify(renamed.body));
    // Its own name in another case is still its own.
    const recased = await server.call('PUT', byName('STRASSE ÄRGER'), { name: 'Straße ÄRGER' });
    assert.equal(recased.status, 200, JSON.stringify(recased.body));
    assert.equal((await server.callOk('GET', byName('straße ärger'))).data.name, 'Straße ÄRGER');
    const names = (await server.callOk('GET', '/v2/roles')).data.map((r: { name: string }) => r.name);
    assert.deepEqual(
      names.filter((n: string) => /rger/i.test(n)),
      ['Straße ÄRGER', 'Ärger ailleurs'],
    );
  });

  it("refuses the default roles' names folded the same way ('Admın', 'ſtakeholder')", async () => {
    for (const name of ['Admın', 'ſtakeholder', 'Uſer']) {
      const made = await server.call('POST', '/v2/roles', { name });
      assert.equal(made.status, 422, `${name}: ${JSON.stringify(made.body)}`);
    }
  });
});
