import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { addUserWithKey, startTestServer, waitFor, type TestServer } from '../testing/harness.js';
import { otherTransaction, whenWaitedFor } from '../testing/lock-waits.js';

/**
 * A request that saves a row naming a user (a team membership, a contact method, a notification rule)
 * while another deletes that user. Each must hold KEY SHARE on the user while it saves: a delete in flight
 * is then waited for and the user is not found (as when already deleted), and a delete that comes after
 * waits for the row and takes it with the user. Reading the user without the lock let the delete commit
 * in between, and the insert failed the users foreign key: a 500.
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

describe('an API key made by one being blocked', () => {
  it('waits for the block, then refuses: the block could not have deleted a key saved after it', async () => {
    const username = `ann-${run}@example.com`;
    await server.callOk('POST', '/v2/users', { username, fullName: 'Ann', role: { name: 'Admin' } });
    const annKey = (await server.callOk('POST', '/v2/api-keys', { name: 'Ann', user: { username } })).data
      .key as string;
    const tom = await addUserWithKey(server, 'tom', run);
    // A block of Ann in flight, as updateUser does it: her row, then the keys of others she holds.
    const blocking = await otherTransaction(server.databaseUrl);
    try {
      await blocking.query(
        `WITH ann AS (UPDATE users SET blocked = true WHERE username = $1 RETURNING id)
         DELETE FROM api_keys WHERE (SELECT id FROM ann) = ANY (holders) AND user_id <> (SELECT id FROM ann)`,
        [username],
      );
      const making = server.call(
        'POST',
        '/v2/api-keys',
        { name: 'Made while blocked', user: { id: tom.id } },
        annKey,
      );
      await whenWaitedFor(blocking, { never: 'the key request never waited for the block', seconds: 10 });
      await blocking.query('COMMIT');
      const made = await making;
      assert.equal(made.status, 401, JSON.stringify(made.body));
    } finally {
      await blocking.end();
    }
    // Saved without waiting, the key would be Tom's and in Ann's hands, the block's clean-up past.
    const keys = await server.app.context.db
      .selectFrom('api_keys')
      .select('id')
      .where('name', '=', 'Made while blocked')
      .execute();
    assert.deepEqual(keys, []);
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
