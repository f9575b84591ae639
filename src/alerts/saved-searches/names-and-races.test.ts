import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import { otherTransaction, whenWaitedFor } from '../../testing/lock-waits.js';

/**
 * Saved search names beyond ASCII (unique, and looked up by name, without regard to case, as the test
 * database's C locale would not compare them), and requests racing a delete of the search or of the user
 * they name as owner: the same 404 or 422 as when the delete came first, never a 500.
 */

let server: TestServer;
let ownerId: string;

before(async () => {
  server = await startTestServer();
  ownerId = (await server.callOk('GET', '/v2/users')).data[0].id;
});
after(async () => {
  await server?.stop();
});

const byName = (name: string) => `/v2/alerts/saved-searches/${encodeURIComponent(name)}?identifierType=name`;

async function create(name: string, query = 'tag:a', owner: Json = { id: ownerId }) {
  return server.call('POST', '/v2/alerts/saved-searches', { name, query, owner });
}

describe('names beyond ASCII', () => {
  it('finds a search by its exact name, and by the name in another case', async () => {
    const made = await create('Équipe réseau', 'tag:reseau');
    assert.equal(made.status, 201, JSON.stringify(made.body));
    for (const name of ['Équipe réseau', 'ÉQUIPE RÉSEAU', 'équipe réseau', 'E\u0301quipe re\u0301seau']) {
      const got = await server.call('GET', byName(name));
      assert.equal(got.status, 200, `${name}: ${JSON.stringify(got.body)}`);
      assert.equal(got.body.data.id, made.body.data.id, name);
    }
    const run = await server.call(
      'GET',
      `/v2/alerts/count?searchIdentifier=${encodeURIComponent('équipe RÉSEAU')}&searchIdentifierType=name`,
    );
    assert.equal(run.status, 200, JSON.stringify(run.body));
  });

  it('refuses a name that differs from another only in case (409), by create and by rename', async () => {
    const first = await create('Straße Ärger', 'tag:first');
    assert.equal(first.status, 201, JSON.stringify(first.body));
    for (const name of ['straße ärger', 'STRASSE ÄRGER', 'Stra\u00dfe A\u0308rger']) {
      const clash = await create(name, 'tag:second');
      assert.equal(clash.status, 409, `${name}: ${JSON.stringify(clash.body)}`);
    }
    const other = await create('Ärger elsewhere');
    assert.equal(other.status, 201, JSON.stringify(other.body));
    const renamed = await server.call('PATCH', `/v2/alerts/saved-searches/${other.body.data.id}`, {
      name: 'straße ärger',
    });
    assert.equal(renamed.status, 409, JSON.stringify(renamed.body));
    // Its own name in another case is still its own.
    const recased = await server.call('PATCH', byName('STRASSE ÄRGER'), { name: 'Straße ÄRGER' });
    assert.equal(recased.status, 200, JSON.stringify(recased.body));
    assert.deepEqual(recased.body.data, { id: first.body.data.id, name: 'Straße ÄRGER' });
  });

  it('acts on the search named, never on another', async () => {
    const made = await create('Øresund', 'tag:oresund');
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const clash = await create('øresund', 'tag:other');
    assert.equal(clash.status, 409, JSON.stringify(clash.body));
    const patched = await server.call('PATCH', byName('Øresund'), { description: 'the bridge' });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.equal(patched.body.data.id, made.body.data.id);
    const deleted = await server.call('DELETE', byName('ØRESUND'));
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.equal((await server.call('GET', `/v2/alerts/saved-searches/${made.body.data.id}`)).status, 404);
    assert.equal((await server.call('GET', byName('øresund'))).status, 404);
  });

  it('lists by name without regard to case', async () => {
    for (const name of ['Éclair', 'ärger klein']) {
      const made = await create(name);
      assert.equal(made.status, 201, JSON.stringify(made.body));
    }
    const names = (await server.callOk('GET', '/v2/alerts/saved-searches')).data.map((s: Json) => s.name);
    assert.deepEqual(
      names.filter((n: string) => ['Éclair', 'ärger klein'].includes(n)),
      ['ärger klein', 'Éclair'],
    );
  });
});

describe('racing a delete', () => {
  it('a change of a search being deleted is the 404 of a missing search', async () => {
    const made = await create('Doomed');
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const id: string = made.body.data.id;
    const other = await otherTransaction(server.databaseUrl);
    try {
      await other.query('DELETE FROM saved_searches WHERE id = $1', [id]);
      const changing = server.call('PATCH', `/v2/alerts/saved-searches/${id}`, { description: 'late' });
      await whenWaitedFor(other, { never: 'the change never waited for the delete', seconds: 10 });
      await other.query('COMMIT');
      const changed = await changing;
      assert.equal(changed.status, 404, JSON.stringify(changed.body));
      assert.equal(changed.body.message, `Saved search with id [${id}] does not exist.`);
    } finally {
      await other.end();
    }
  });

  async function doomedUser(local: string): Promise<string> {
    const made = await server.callOk('POST', '/v2/users', {
      username: `${local}@example.com`,
      fullName: local,
      role: { name: 'User' },
    });
    return made.data.id;
  }

  for (const how of ['created for', 'handed to'] as const) {
    it(`a search ${how} a user being deleted is the 422 of a missing owner`, async () => {
      const slug = how.replace(' ', '-');
      const userId = await doomedUser(`doomed-${slug}`);
      const handed = how === 'handed to' ? await create(`To hand ${slug}`) : undefined;
      if (handed) assert.equal(handed.status, 201, JSON.stringify(handed.body));
      const other = await otherTransaction(server.databaseUrl);
      try {
        await other.query('DELETE FROM users WHERE id = $1', [userId]);
        const saving = handed
          ? server.call('PATCH', `/v2/alerts/saved-searches/${handed.body.data.id}`, {
              owner: { id: userId },
            })
          : create(`For ${slug}`, 'tag:a', { id: userId });
        await whenWaitedFor(other, {
          never: 'the save never waited for the user being deleted',
          seconds: 10,
        });
        await other.query('COMMIT');
        const saved = await saving;
        assert.equal(saved.status, 422, JSON.stringify(saved.body));
        assert.equal(saved.body.errors?.owner, `No user "${userId}" in this organization.`);
      } finally {
        await other.end();
      }
      if (handed) {
        const kept = await server.callOk('GET', `/v2/alerts/saved-searches/${handed.body.data.id}`);
        assert.equal(kept.data.owner.id, ownerId);
      }
    });
  }
});
