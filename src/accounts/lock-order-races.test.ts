import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { addUserWithKey, startTestServer, type TestServer } from '../testing/harness.js';
import { otherTransaction, whenWaitedFor } from '../testing/lock-waits.js';

/**
 * Requests racing a change of someone's standing (a demotion, a block) on the same rows: each must see
 * the change once it commits, and take its locks in the order the others take them.
 */

let server: TestServer;
const run = randomUUID().slice(0, 8);

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.stop();
});

describe('an API key for another user, made by an admin being demoted', () => {
  it('waits for the demotion, then refuses: the demotion could not have deleted a key saved after it', async () => {
    const username = `ada-${run}@example.com`;
    await server.callOk('POST', '/v2/users', { username, fullName: 'Ada', role: { name: 'Admin' } });
    const adaKey = (await server.callOk('POST', '/v2/api-keys', { name: 'Ada', user: { username } })).data
      .key as string;
    const tom = await addUserWithKey(server, 'tom', run);
    // A demotion of Ada to user in flight, as updateUser does it: her row, then the keys of others she holds.
    const demoting = await otherTransaction(server.databaseUrl);
    try {
      await demoting.query(
        `WITH ada AS (UPDATE users SET role = 'user' WHERE username = $1 RETURNING id)
         DELETE FROM api_keys WHERE (SELECT id FROM ada) = ANY (holders) AND user_id <> (SELECT id FROM ada)`,
        [username],
      );
      const making = server.call(
        'POST',
        '/v2/api-keys',
        { name: 'Made while demoted', user: { id: tom.id } },
        adaKey,
      );
      await whenWaitedFor(demoting, { never: 'the key request never waited for the demotion', seconds: 10 });
      await demoting.query('COMMIT');
      const made = await making;
      assert.equal(made.status, 403, JSON.stringify(made.body));
      assert.match(made.body.message, /Only organization admins can create API keys for other users/);
    } finally {
      await demoting.end();
    }
    // Saved with the role she was authenticated with, the key would be Tom's and in Ada's hands for good.
    const keys = await server.app.context.db
      .selectFrom('api_keys')
      .select('id')
      .where('name', '=', 'Made while demoted')
      .execute();
    assert.deepEqual(keys, []);
  });
});

describe('adding a member to a team', () => {
  it('locks the team before the user, as a PATCH of the team locks it before its members', async () => {
    const uma = await addUserWithKey(server, 'uma', run);
    const team = (await server.callOk('POST', '/v2/teams', { name: `Order ${run}` })).data as { id: string };
    // A PATCH of the team in flight holds it.
    const other = await otherTransaction(server.databaseUrl);
    try {
      await other.query('SELECT id FROM teams WHERE id = $1 FOR UPDATE', [team.id]);
      const adding = server.call('POST', `/v2/teams/${team.id}/members`, { user: { id: uma.id } });
      await whenWaitedFor(other, { never: 'the add never waited for the team', seconds: 10 });
      // A block of Uma, which waits for no team: were her row held by the add waiting for the team, this
      // would wait for the add, and the add (behind a PATCH waiting for an owner the block holds) for it.
      const blocked = await other
        .query('SELECT id FROM users WHERE id = $1 FOR UPDATE NOWAIT', [uma.id])
        .then(
          () => undefined,
          (error: { code?: string }) => error,
        );
      assert.equal(blocked, undefined, 'the add holds the user while it waits for the team');
      await other.query('COMMIT');
      const added = await adding;
      assert.equal(added.status, 200, JSON.stringify(added.body));
    } finally {
      await other.end();
    }
    const member = await server.app.context.db
      .selectFrom('team_members')
      .select('user_id')
      .where('team_id', '=', team.id)
      .execute();
    assert.deepEqual(member, [{ user_id: uma.id }]);
  });
});
