import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { addUserWithKey, startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';
import { otherTransaction, whenWaitedFor } from '../testing/lock-waits.js';

/**
 * A request that saves a row naming a user (a team membership, a contact method, a notification rule, an
 * API key) while another deletes that user. Each must hold KEY SHARE on the user while it saves: a delete
 * in flight is then waited for and the user is not found (as when already deleted), and a delete that
 * comes after waits for the row and takes it with the user. Reading the user without the lock let the
 * delete commit in between, and the insert failed the users foreign key: a 500. Also the other races on
 * users' rows: a change of someone's standing (a block, a demotion) the request must see once it commits,
 * and the order locks are taken in, which must be the others' (or two requests wait on each other).
 */

let server: TestServer;
const run = randomUUID().slice(0, 8);

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.stop();
});

/**
 * Waits until `count` sessions wait for a lock: the requests reached the row the delete holds (those after
 * the first wait for the first, in PostgreSQL's queue for a row, so not all are blocked by the holder).
 */
async function waiters(count: number, what: string): Promise<void> {
  let waiting = 0;
  await waitFor(
    what,
    async () => {
      const { rows } = await sql<{ n: string }>`
        SELECT count(*) AS n FROM pg_stat_activity WHERE cardinality(pg_blocking_pids(pid)) > 0`.execute(
        server.app.context.db,
      );
      waiting = Number(rows[0]!.n);
      return waiting >= count;
    },
    20_000,
  ).catch((error: Error) => {
    throw new Error(`${error.message}: ${waiting} of ${count} waited`);
  });
}

/** The rows naming the user that are left. */
async function rowsNaming(userId: string) {
  const { db } = server.app.context;
  const count = async (table: 'team_members' | 'contact_methods' | 'notification_rules') =>
    Number(
      (
        await db
          .selectFrom(table)
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('user_id', '=', userId)
          .executeTakeFirstOrThrow()
      ).n,
    );
  return {
    members: await count('team_members'),
    contacts: await count('contact_methods'),
    rules: await count('notification_rules'),
  };
}

describe('saving a reference to a user being deleted', () => {
  it('waits for the delete, then answers as for a user already gone, leaving nothing behind', async () => {
    const ivy = await addUserWithKey(server, 'ivy', run);
    const team = `Race ${run}`;
    await server.callOk('POST', '/v2/teams', { name: team });
    const teamPath = `/v2/teams/${encodeURIComponent(team)}`;
    const member = { user: { username: ivy.username } };
    // Another request deleting ivy is in flight: its DELETE holds her row, as deleteUser's transaction does.
    const deleting = await otherTransaction(server.databaseUrl);
    try {
      await deleting.query('DELETE FROM users WHERE id = $1', [ivy.id]);
      const requests = {
        addMember: server.call('POST', `${teamPath}/members?teamIdentifierType=name`, member),
        replaceMembers: server.call('PATCH', `${teamPath}?identifierType=name`, { members: [member] }),
        createTeam: server.call('POST', '/v2/teams', { name: `Race new ${run}`, members: [member] }),
        addContact: server.call('POST', `/v2/users/${ivy.username}/contacts`, {
          method: 'email',
          to: `ivy2-${run}@example.com`,
        }),
        createRule: server.call('POST', `/v2/users/${ivy.username}/notification-rules`, {
          name: 'Raced',
          actionType: 'add-note',
        }),
      };
      await waiters(Object.keys(requests).length, 'the requests never reached the user');
      await deleting.query('COMMIT');
      const answers = Object.fromEntries(
        await Promise.all(Object.entries(requests).map(async ([name, r]) => [name, await r] as const)),
      );
      const statuses = Object.fromEntries(Object.entries(answers).map(([name, r]) => [name, r.status]));
      // Members are named in the body (a 422, as for a user never there); a contact's or rule's user in the
      // path (a 404).
      assert.deepEqual(
        statuses,
        { addMember: 422, replaceMembers: 422, createTeam: 422, addContact: 404, createRule: 404 },
        JSON.stringify(answers),
      );
      assert.match(String(answers.addContact!.body.message), /User \[.*\] does not exist/);
      assert.match(String(answers.createRule!.body.message), /User \[.*\] does not exist/);
      assert.match(JSON.stringify(answers.addMember!.body), /No user/);
    } finally {
      await deleting.end();
    }
    assert.deepEqual(await rowsNaming(ivy.id), { members: 0, contacts: 0, rules: 0 });
    assert.equal((await server.call('GET', `/v2/teams/Race%20new%20${run}?identifierType=name`)).status, 404);
  });

  it('makes a delete that comes after a member is added wait for it, and take the membership along', async () => {
    const eve = await addUserWithKey(server, 'eve', run);
    const team = `After ${run}`;
    const teamId = (await server.callOk('POST', '/v2/teams', { name: team })).data.id as string;
    await server.callOk('POST', `/v2/teams/${teamId}/roles`, { name: 'Responder', rights: [] });
    // Stops the add between its read of eve and its insert: it locks the team, reads eve, then waits to
    // read the role it is given (the team is locked before its members, so holding it would stop the add
    // before it reads eve). A delete of eve touches no team role.
    const holding = await otherTransaction(server.databaseUrl);
    let deleting: Promise<{ status: number; body: Record<string, unknown> }> | undefined;
    let adding: Promise<{ status: number; body: Record<string, unknown> }> | undefined;
    try {
      await holding.query('LOCK TABLE team_roles IN ACCESS EXCLUSIVE MODE');
      adding = server.call('POST', `/v2/teams/${teamId}/members`, {
        user: { username: eve.username },
        role: 'Responder',
      });
      await waiters(1, 'the add never waited for the team role');
      deleting = server.call('DELETE', `/v2/users/${eve.username}`);
      // The delete must wait for the add's hold on eve; without it, it commits before the add saves.
      const settled = await Promise.race([
        deleting.then(() => 'deleted' as const),
        waitForDeleteToWait().then(() => 'waiting' as const),
      ]);
      assert.equal(settled, 'waiting', 'the delete did not wait for the member being added');
    } finally {
      await holding.query('COMMIT');
      await holding.end();
    }
    const added = await adding;
    const deleted = await deleting;
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.deepEqual(await rowsNaming(eve.id), { members: 0, contacts: 0, rules: 0 });
    assert.equal((await server.call('GET', `/v2/users/${eve.username}`)).status, 404);
  });
});

describe('an API key for a user being deleted', () => {
  it('waits for the delete, then answers as for a user already gone, saving no key', async () => {
    const kit = await addUserWithKey(server, 'kit', run);
    const lee = await addUserWithKey(server, 'lee', run);
    // Another request deleting both is in flight: its DELETE holds their rows, as deleteUser's transaction does.
    const deleting = await otherTransaction(server.databaseUrl);
    try {
      await deleting.query('DELETE FROM users WHERE id = ANY ($1::uuid[])', [[kit.id, lee.id]]);
      const requests = {
        // An admin's key made for kit: kit is named in the body.
        forUser: server.call('POST', '/v2/api-keys', { name: 'Raced', user: { username: kit.username } }),
        // Lee's own key, made with the key of lee's that still authenticates until the delete commits.
        own: server.call('POST', '/v2/api-keys', { name: 'Raced own' }, lee.key),
      };
      await waiters(Object.keys(requests).length, 'the key requests never reached the users');
      await deleting.query('COMMIT');
      const answers = Object.fromEntries(
        await Promise.all(Object.entries(requests).map(async ([name, r]) => [name, await r] as const)),
      );
      const statuses = Object.fromEntries(Object.entries(answers).map(([name, r]) => [name, r.status]));
      assert.deepEqual(statuses, { forUser: 422, own: 401 }, JSON.stringify(answers));
      assert.match(JSON.stringify(answers.forUser!.body), /No user/);
    } finally {
      await deleting.end();
    }
    const keys = await server.app.context.db
      .selectFrom('api_keys')
      .select('id')
      .where('user_id', 'in', [kit.id, lee.id])
      .execute();
    assert.deepEqual(keys, []);
  });
});

/**
 * An admin's request for a key for Tom, made with her own key while a change of her standing (a block, a
 * demotion) is in flight, as updateUser makes it: her row, then the keys of others she holds deleted. The
 * request must wait for it and then refuse: saved after the clean-up, the key would be Tom's and in her
 * hands for good. What the request is answered.
 */
async function keyForTomDuring(local: string, change: string): Promise<{ status: number; body: Json }> {
  const username = `${local}-${run}@example.com`;
  await server.callOk('POST', '/v2/users', { username, fullName: local, role: { name: 'Admin' } });
  const key = (await server.callOk('POST', '/v2/api-keys', { name: local, user: { username } })).data
    .key as string;
  const tom = await addUserWithKey(server, `tom-${local}`, run);
  const name = `Made by ${local} while changed`;
  const changing = await otherTransaction(server.databaseUrl);
  let made;
  try {
    await changing.query(
      `WITH her AS (UPDATE users SET ${change} WHERE username = $1 RETURNING id)
       DELETE FROM api_keys WHERE (SELECT id FROM her) = ANY (holders) AND user_id <> (SELECT id FROM her)`,
      [username],
    );
    const making = server.call('POST', '/v2/api-keys', { name, user: { id: tom.id } }, key);
    await whenWaitedFor(changing, { never: 'the key request never waited for the change', seconds: 10 });
    await changing.query('COMMIT');
    made = await making;
  } finally {
    await changing.end();
  }
  const keys = await server.app.context.db
    .selectFrom('api_keys')
    .select('id')
    .where('name', '=', name)
    .execute();
  assert.deepEqual(keys, [], 'no key saved');
  return made;
}

describe('an API key made for another user by an admin whose standing changes meanwhile', () => {
  it('waits for a block of her, then refuses', async () => {
    const made = await keyForTomDuring('ann', 'blocked = true');
    assert.equal(made.status, 401, JSON.stringify(made.body));
  });

  it('waits for a demotion of her to user, then refuses: she is an admin no more', async () => {
    const made = await keyForTomDuring('dee', "role = 'user'");
    assert.equal(made.status, 403, JSON.stringify(made.body));
    assert.match(made.body.message as string, /Only organization admins can create API keys for other users/);
  });
});

describe("a team's members locked against the owners' lock", () => {
  it('locks the users a request lists in id order, as lockOwners does, so the two never deadlock', async () => {
    const [low, high] = [
      await addUserWithKey(server, 'ada', run),
      await addUserWithKey(server, 'bo', run),
    ].sort((a, b) => (a.id < b.id ? -1 : 1));
    const teamId = (await server.callOk('POST', '/v2/teams', { name: `Order ${run}` })).data.id as string;
    // Plays lockOwners (a demotion, block or delete of an owner): FOR UPDATE on the owners in id order.
    const owners = await otherTransaction(server.databaseUrl);
    try {
      await owners.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [low!.id]);
      // Listed highest id first: locked as listed, the request holds `high` while it waits for `low`.
      const replacing = server.call('PATCH', `/v2/teams/${teamId}`, {
        members: [{ user: { id: high!.id } }, { user: { id: low!.id } }],
      });
      // The owners' next row once the request waits: a deadlock if the request holds it already.
      await whenWaitedFor(owners, {
        then: `PERFORM 1 FROM users WHERE id = '${high!.id}' FOR UPDATE`,
        never: 'the request never waited for the first owner',
        seconds: 20,
      });
      await owners.query('COMMIT');
      const replaced = await replacing;
      assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
    } finally {
      await owners.end();
    }
    const team = await server.callOk('GET', `/v2/teams/${teamId}`);
    const names = (team.data.members as { user: { username: string } }[]).map((m) => m.user.username).sort();
    assert.deepEqual(names, [low!.username, high!.username].sort());
  });

  it('locks the owners among them first, as a block of a member who is no owner takes every owner first', async () => {
    const [member, owner] = [
      await addUserWithKey(server, 'cy', run),
      await addUserWithKey(server, 'di', run),
    ].sort((a, b) => (a.id < b.id ? -1 : 1));
    // The higher id the owner: in id order alone the request would hold the member while it waits for her.
    await server.app.context.pool.query("UPDATE users SET role = 'owner' WHERE id = $1", [owner!.id]);
    const teamId = (await server.callOk('POST', '/v2/teams', { name: `Owners first ${run}` })).data
      .id as string;
    // Plays a block of the member (updateUser): lockOwners, then the member's own row.
    const blocking = await otherTransaction(server.databaseUrl);
    try {
      await blocking.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [owner!.id]);
      const replacing = server.call('PATCH', `/v2/teams/${teamId}`, {
        members: [{ user: { id: member!.id } }, { user: { id: owner!.id } }],
      });
      await whenWaitedFor(blocking, {
        then: `PERFORM 1 FROM users WHERE id = '${member!.id}' FOR UPDATE`,
        never: 'the request never waited for the owner',
        seconds: 20,
      });
      await blocking.query('COMMIT');
      const replaced = await replacing;
      assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
    } finally {
      await blocking.end();
    }
  });
});

/** Until a session waits for a row lock on users (deleteUser's FOR UPDATE). */
async function waitForDeleteToWait(): Promise<void> {
  await waitFor(
    'the delete to wait',
    async () => {
      const { rows } = await sql<{ n: string }>`
        SELECT count(*) AS n FROM pg_stat_activity
         WHERE wait_event_type = 'Lock' AND query ILIKE '%from "users"%for update%'`.execute(
        server.app.context.db,
      );
      return Number(rows[0]!.n) > 0;
    },
    20_000,
  ).catch(() => {
    throw new Error('the delete never waited');
  });
}

describe('adding a member to a team', () => {
  it('locks the team before the user, as a PATCH of the team locks it before its members', async () => {
    const uma = await addUserWithKey(server, 'uma', run);
    const team = (await server.callOk('POST', '/v2/teams', { name: `Team before user ${run}` })).data as {
      id: string;
    };
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
