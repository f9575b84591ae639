import { randomUUID } from 'node:crypto';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createLogger } from '../logger.js';
import {
  addOrganization,
  alertLogs,
  createAlert,
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
} from '../testing/harness.js';
import { queryCounter } from '../testing/query-counter.js';
import { startTestSmtpServer, type TestSmtpServer } from '../testing/smtp.js';
import { ShiftedClock } from '../work/clock.js';
import { createAccountsService, type Principal } from './service.js';

const clock = new ShiftedClock();
let server: TestServer;

/** An accounts service of its own (its own key cache) on the test server's database, its queries counted. */
function countedAccounts() {
  const queries = queryCounter();
  const db = server.app.context.apiDb.withPlugin(queries.plugin);
  return { accounts: createAccountsService(db, createLogger('silent'), clock), queries };
}
before(async () => {
  server = await startTestServer({ clock });
});
after(async () => {
  await server.stop();
});

describe('users, teams and API keys', () => {
  it('creates, reads, updates and deletes users in Opsgenie shapes', async () => {
    const created = await server.call('POST', '/v2/users', {
      username: 'jane@example.com',
      fullName: 'Jane Doe',
      role: { name: 'User' },
      timeZone: 'Europe/Berlin',
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.result, 'Created');
    const id = created.body.data.id;

    const byName = await server.call('GET', '/v2/users/jane@example.com');
    assert.equal(byName.body.data.id, id);
    assert.deepEqual(byName.body.data.role, { id: 'User', name: 'User' });
    assert.equal(byName.body.data.timeZone, 'Europe/Berlin');

    const dup = await server.call('POST', '/v2/users', {
      username: 'JANE@example.com',
      fullName: 'J',
      role: { name: 'User' },
    });
    assert.equal(dup.status, 409);

    const badZone = await server.call('POST', '/v2/users', {
      username: 'z@example.com',
      fullName: 'Z',
      role: { name: 'User' },
      timeZone: 'Mars/Olympus',
    });
    assert.equal(badZone.status, 422);
    assert.ok(badZone.body.errors.timeZone);

    const updated = await server.call('PATCH', `/v2/users/${id}`, { fullName: 'Jane Q. Doe' });
    assert.equal(updated.status, 200);
    const list = await server.call('GET', '/v2/users?query=jane');
    assert.equal(list.body.totalCount, 1);
    assert.equal(list.body.data[0].fullName, 'Jane Q. Doe');

    assert.equal((await server.call('DELETE', `/v2/users/${id}`)).status, 200);
    assert.equal((await server.call('GET', `/v2/users/${id}`)).status, 404);
  });

  it('manages teams and their members with roles', async () => {
    await server.call('POST', '/v2/users', {
      username: 'sam@example.com',
      fullName: 'Sam',
      role: { name: 'User' },
    });
    await server.call('POST', '/v2/users', {
      username: 'kim@example.com',
      fullName: 'Kim',
      role: { name: 'User' },
    });
    const team = await server.call('POST', '/v2/teams', {
      name: 'SecOps',
      description: 'Security operations',
      members: [{ user: { username: 'sam@example.com' }, role: 'admin' }],
    });
    assert.equal(team.status, 201, JSON.stringify(team.body));
    const got = await server.call('GET', '/v2/teams/SecOps?identifierType=name');
    assert.equal(got.body.data.id, team.body.data.id);
    assert.deepEqual(
      got.body.data.members.map((m: { user: { username: string }; role: string }) => [
        m.user.username,
        m.role,
      ]),
      [['sam@example.com', 'admin']],
    );

    const add = await server.call('POST', `/v2/teams/${team.body.data.id}/members`, {
      user: { username: 'kim@example.com' },
      role: 'user',
    });
    assert.equal(add.status, 200);
    const teamsOfKim = await server.call('GET', '/v2/users/kim@example.com/teams');
    assert.deepEqual(
      teamsOfKim.body.data.map((t: { name: string }) => t.name),
      ['SecOps'],
    );

    const remove = await server.call('DELETE', `/v2/teams/${team.body.data.id}/members/kim@example.com`);
    assert.equal(remove.status, 200);
    const removeAgain = await server.call('DELETE', `/v2/teams/${team.body.data.id}/members/kim@example.com`);
    assert.equal(removeAgain.status, 404);

    const dup = await server.call('POST', '/v2/teams', { name: 'secops' });
    assert.equal(dup.status, 409);
    const unknownMember = await server.call('POST', '/v2/teams', {
      name: 'Other',
      members: [{ user: { username: 'ghost@example.com' } }],
    });
    assert.equal(unknownMember.status, 422);
    assert.ok(unknownMember.body.errors['members[0].user']);
    assert.equal((await server.call('GET', '/v2/teams/Other?identifierType=name')).status, 404);

    const renamed = await server.call('PATCH', `/v2/teams/${team.body.data.id}`, {
      description: 'SecOps on call',
    });
    assert.equal(renamed.status, 200);
    assert.equal((await server.call('DELETE', '/v2/teams/SecOps?identifierType=name')).status, 200);
    assert.equal((await server.call('GET', '/v2/teams')).body.data.length, 0);
  });

  it('shows a new API key once, stores only its hash, and stops it working when deleted', async () => {
    const user = await server.call('POST', '/v2/users', {
      username: 'ops@example.com',
      fullName: 'Ops',
      role: { name: 'User' },
    });
    const created = await server.call('POST', '/v2/api-keys', {
      name: 'ops script',
      user: { id: user.body.data.id },
    });
    assert.equal(created.status, 201);
    const key = created.body.data.key;
    assert.match(key, /^[0-9a-f-]{36}$/);

    const listed = await server.call('GET', '/v2/api-keys');
    assert.ok(listed.body.data.every((k: Record<string, unknown>) => !('key' in k)));
    assert.ok(!JSON.stringify(listed.body).includes(key));

    // A plain user's key works for alerts but cannot manage users.
    assert.equal((await server.call('GET', '/v2/alerts', undefined, key)).status, 200);
    const forbidden = await server.call(
      'POST',
      '/v2/users',
      { username: 'x@example.com', fullName: 'X', role: { name: 'User' } },
      key,
    );
    assert.equal(forbidden.status, 403);
    assert.match(forbidden.body.message, /admin/);

    // Blocking the user stops their key.
    await server.call('PATCH', `/v2/users/${user.body.data.id}`, { blocked: true });
    assert.equal((await server.call('GET', '/v2/alerts', undefined, key)).status, 401);
    await server.call('PATCH', `/v2/users/${user.body.data.id}`, { blocked: false });
    // At once, though the refusal was kept: the change empties the process's key cache.
    assert.equal((await server.call('GET', '/v2/alerts', undefined, key)).status, 200);

    assert.equal((await server.call('DELETE', `/v2/api-keys/${created.body.data.id}`)).status, 200);
    assert.equal((await server.call('GET', '/v2/alerts', undefined, key)).status, 401);
  });

  it("keeps a key that is not a user's for 5 s too, so an integration's senders do not ask each time", async () => {
    const { accounts, queries } = countedAccounts();
    const created = await server.call('POST', '/v2/api-keys', { name: 'kept' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const userKey = created.body.data.key as string;
    const notAUsersKey = crypto.randomUUID();

    for (let i = 0; i < 20; i++) assert.equal(await accounts.authenticate(notAUsersKey), undefined);
    assert.equal(queries.count, 1, 'twenty asks within 5 s read the keys once');
    assert.ok(await accounts.authenticate(userKey));
    assert.ok(await accounts.authenticate(userKey));
    assert.equal(queries.count, 3, "the user's key: one read, and one to note its use");

    clock.advance(5_000);
    assert.equal(await accounts.authenticate(notAUsersKey), undefined);
    assert.equal(queries.count, 4, 'past the 5 s, the miss is read again');
  });

  it('keeps nothing it read while a user changed', async () => {
    const { accounts, queries } = countedAccounts();
    const admin = await accounts.authenticate(server.key);
    assert.ok(admin);
    const someone = await server.call('POST', '/v2/users', {
      username: `held-${crypto.randomUUID().slice(0, 8)}@example.com`,
      fullName: 'Held',
      role: { name: 'User' },
    });
    assert.equal(someone.status, 201, JSON.stringify(someone.body));

    const unknown = crypto.randomUUID();
    // Its key lookup is still in flight while the user changes.
    const release = queries.holdNext();
    const inFlight = accounts.authenticate(unknown);
    await accounts.updateUser(admin, someone.body.data.id, { fullName: 'Held again' });
    release();
    assert.equal(await inFlight, undefined);
    const before = queries.count;
    assert.equal(await accounts.authenticate(unknown), undefined);
    assert.equal(queries.count - before, 1, 'the miss read before the change was not kept');
  });

  it("notes a key's last use at most once a minute, on the engine's clock", async () => {
    const created = await server.call('POST', '/v2/api-keys', { name: 'last used' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const { id, key } = created.body.data as { id: string; key: string };
    const lastUsed = async () => {
      const listed = (await server.call('GET', '/v2/api-keys')).body.data as {
        id: string;
        lastUsedAt: string | null;
      }[];
      const at = listed.find((k) => k.id === id)?.lastUsedAt;
      return at ? new Date(at).getTime() : undefined;
    };
    assert.equal(await lastUsed(), undefined);

    assert.equal((await server.call('GET', '/v2/alerts', undefined, key)).status, 200);
    const first = await waitFor('the first use to be noted', lastUsed);
    assert.equal((await server.call('GET', '/v2/alerts', undefined, key)).status, 200);
    assert.equal(await lastUsed(), first, 'a use within the minute is not written again');

    clock.advance(2 * 60_000);
    const later = clock.now().getTime();
    assert.equal((await server.call('GET', '/v2/alerts', undefined, key)).status, 200);
    const second = await waitFor('the use two minutes on to be noted', async () => {
      const at = await lastUsed();
      return at !== undefined && at >= later ? at : undefined;
    });
    assert.ok(second >= first + 2 * 60_000);
  });

  it('bootstraps once: a second start with another key creates nothing', async () => {
    const again = await startTestServer({ databaseUrl: server.databaseUrl, role: 'api' });
    try {
      assert.equal((await again.call('GET', '/v2/alerts')).status, 401);
      assert.equal((await again.call('GET', '/v2/alerts', undefined, server.key)).status, 200);
    } finally {
      await again.stop();
    }
  });

  it("keeps an owner's account out of an admin's reach: no demoting, blocking, renaming, keys or invitations", async () => {
    const owner = (await server.call('GET', '/v2/users/admin@vigil.local')).body.data;
    assert.deepEqual(owner.role, { id: 'Owner', name: 'Owner' });
    const admin = await server.call('POST', '/v2/users', {
      username: 'second.admin@example.com',
      fullName: 'Second Admin',
      role: { name: 'Admin' },
    });
    const adminKey = (
      await server.call('POST', '/v2/api-keys', { name: 'admin key', user: { id: admin.body.data.id } })
    ).body.data.key;

    for (const change of [
      { role: { name: 'User' } },
      { blocked: true },
      { username: 'taken.over@example.com' },
    ]) {
      const refused = await server.call('PATCH', `/v2/users/${owner.id}`, change, adminKey);
      assert.equal(refused.status, 403, `${JSON.stringify(change)}: ${JSON.stringify(refused.body)}`);
      assert.match(refused.body.message, /Only an owner can change an owner/);
    }
    const key = await server.call(
      'POST',
      '/v2/api-keys',
      { name: 'x', user: { username: 'admin@vigil.local' } },
      adminKey,
    );
    assert.equal(key.status, 403, JSON.stringify(key.body));
    // Nor delete an owner's key: that cuts the owner off from the API, as blocking them would.
    const ownersKey = await server.call('POST', '/v2/api-keys', {
      name: 'owner spare',
      user: { username: 'admin@vigil.local' },
    });
    assert.equal(ownersKey.status, 201, JSON.stringify(ownersKey.body));
    const keyPath = `/v2/api-keys/${ownersKey.body.data.id}`;
    const keyRefused = await server.call('DELETE', keyPath, undefined, adminKey);
    assert.equal(keyRefused.status, 403, JSON.stringify(keyRefused.body));
    assert.match(keyRefused.body.message, /Only an owner can delete an owner's API keys/);
    assert.equal((await server.call('DELETE', keyPath)).status, 200);
    // The owner has no password here: an invitation's link would set one, and may come back to the admin.
    const invitation = await server.call(
      'POST',
      '/api/console/invitations',
      { email: 'admin@vigil.local', fullName: 'Administrator', role: 'owner' },
      adminKey,
    );
    assert.equal(invitation.status, 403, JSON.stringify(invitation.body));
    const unchanged = (await server.call('GET', `/v2/users/${owner.id}`)).body.data;
    assert.deepEqual(
      [unchanged.username, unchanged.role, unchanged.blocked],
      ['admin@vigil.local', owner.role, false],
    );

    // An admin still manages everyone else, and an owner the owners.
    const other = await server.call('POST', '/v2/users', {
      username: 'plain.user@example.com',
      fullName: 'Plain User',
      role: { name: 'User' },
    });
    assert.equal(
      (await server.call('PATCH', `/v2/users/${other.body.data.id}`, { blocked: true }, adminKey)).status,
      200,
    );
    assert.equal(
      (await server.call('PATCH', `/v2/users/${owner.id}`, { fullName: 'The Owner' })).status,
      200,
    );
    await server.call('DELETE', `/v2/users/${other.body.data.id}`);
    await server.call('DELETE', `/v2/users/${admin.body.data.id}`);
  });

  it('spends, when a person is made an owner, what an admin may hold of theirs: links, and keys others made', async () => {
    const admin = await server.callOk('POST', '/v2/users', {
      username: 'promoting.admin@example.com',
      fullName: 'Promoting Admin',
      role: { name: 'Admin' },
    });
    const adminKey = (
      await server.callOk('POST', '/v2/api-keys', { name: 'admin key', user: { id: admin.data.id } })
    ).data.key;
    // No SMTP here: an invitation's link comes back to whoever invited, to hand over.
    const invite = async (email: string, key: string) => {
      const invited = await server.call(
        'POST',
        '/api/console/invitations',
        { email, fullName: 'Soon Owner', role: 'user' },
        key,
      );
      assert.equal(invited.status, 201, JSON.stringify(invited.body));
      assert.equal(invited.body.emailed, false);
      return {
        userId: invited.body.userId as string,
        token: new URL(invited.body.link).searchParams.get('token'),
      };
    };
    const setPassword = (token: string | null) =>
      fetch(`${server.url}/api/console/password`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token, password: 'chosen by whoever holds the link' }),
      });
    const makeOwner = (userId: string) =>
      server.callOk('PATCH', `/v2/users/${userId}`, { role: { name: 'Owner' } });

    // The link an admin kept, of a person invited as a user, sets no owner's password.
    const linked = await invite('linked.owner@example.com', adminKey);
    await makeOwner(linked.userId);
    const refused = await setPassword(linked.token);
    assert.equal(refused.status, 401, await refused.text());

    // The keys an admin made for a person, or made with such a key, stop working; the person's own stay.
    const keyed = await invite('keyed.owner@example.com', server.key);
    const signedIn = await setPassword(keyed.token);
    assert.equal(signedIn.status, 200);
    const session = {
      cookie: (signedIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '',
      csrf: ((await signedIn.json()) as Json).csrfToken as string,
    };
    const ownMade = await fetch(`${server.url}/v2/api-keys`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: session.cookie, 'x-csrf-token': session.csrf },
      body: JSON.stringify({ name: 'made by the person' }),
    });
    assert.equal(ownMade.status, 201);
    const own = ((await ownMade.json()) as Json).data.key as string;
    const byAdmin = (
      await server.callOk(
        'POST',
        '/v2/api-keys',
        { name: 'made by the admin', user: { id: keyed.userId } },
        adminKey,
      )
    ).data.key as string;
    const withIt = (await server.callOk('POST', '/v2/api-keys', { name: "made with the admin's" }, byAdmin))
      .data.key as string;
    const withOwn = (await server.callOk('POST', '/v2/api-keys', { name: 'made with their own' }, own)).data
      .key as string;
    for (const key of [own, byAdmin, withIt, withOwn])
      assert.equal((await server.call('GET', '/v2/alerts', undefined, key)).status, 200);

    await makeOwner(keyed.userId);
    for (const [name, key] of [
      ['made by the admin', byAdmin],
      ["made with the admin's", withIt],
    ] as const)
      assert.equal((await server.call('GET', '/v2/alerts', undefined, key)).status, 401, name);
    for (const [name, key] of [
      ['made by the person', own],
      ['made with their own', withOwn],
    ] as const) {
      const kept = await server.call('GET', '/v2/users/keyed.owner@example.com', undefined, key);
      assert.equal(kept.status, 200, `${name}: ${JSON.stringify(kept.body)}`);
      assert.equal(kept.body.data.role.name, 'Owner');
    }
    const left = (await server.callOk('GET', '/v2/api-keys')).data.filter(
      (k: Json) => k.userId === keyed.userId,
    );
    assert.deepEqual(left.map((k: Json) => k.name).sort(), ['made by the person', 'made with their own']);
  });

  it("deletes, when a person is blocked, deleted or demoted, the API keys of others they saw; the others' own stay", async () => {
    /** A person invited by the owner, signed in with the invitation's link: what makes keys as them. */
    const signIn = async (email: string, role: 'admin' | 'user') => {
      const invited = await server.callOk('POST', '/api/console/invitations', {
        email,
        fullName: email,
        role,
      });
      const token = new URL(invited.link).searchParams.get('token');
      const signedIn = await fetch(`${server.url}/api/console/password`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ token, password: 'chosen by the person' }),
      });
      assert.equal(signedIn.status, 200, await signedIn.clone().text());
      const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
      const csrf = ((await signedIn.json()) as Json).csrfToken as string;
      const makeKey = async (name: string, userId?: string) => {
        const made = await fetch(`${server.url}/v2/api-keys`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrf },
          body: JSON.stringify({ name, ...(userId && { user: { id: userId } }) }),
        });
        assert.equal(made.status, 201, await made.clone().text());
        return ((await made.json()) as Json).data.key as string;
      };
      return { id: invited.userId as string, makeKey };
    };
    const works = async (key: string) => (await server.call('GET', '/v2/alerts', undefined, key)).status;

    for (const how of ['blocked', 'deleted', 'demoted'] as const) {
      const mallory = await signIn(`mallory.${how}@example.com`, 'admin');
      const bob = await signIn(`bob.${how}@example.com`, 'user');
      const bobsOwn = await bob.makeKey('made by bob');
      const byOwner = (
        await server.callOk('POST', '/v2/api-keys', { name: 'made by the owner', user: { id: bob.id } })
      ).data.key as string;
      const byMallory = await mallory.makeKey('made by mallory', bob.id);
      // Mallory's own key, made by the owner (and one from before keys knew their holders): a key she
      // makes with either is hers to hold as well.
      const mallorysKey = async (name: string) =>
        (await server.callOk('POST', '/v2/api-keys', { name, user: { id: mallory.id } })).data.key as string;
      const withKey = async (key: string, name: string) => {
        const made = await server.call('POST', '/v2/api-keys', { name, user: { id: bob.id } }, key);
        assert.equal(made.status, 201, JSON.stringify(made.body));
        return made.body.data.key as string;
      };
      const byMallorysKey = await withKey(await mallorysKey(`owner's for mallory ${how}`), 'with her key');
      const older = await mallorysKey(`older for mallory ${how}`);
      const db = new pg.Client({ connectionString: server.databaseUrl });
      await db.connect();
      await db.query(`UPDATE api_keys SET holders = NULL WHERE name = $1`, [`older for mallory ${how}`]);
      await db.end();
      const byOlderKey = await withKey(older, 'with her older key');
      for (const key of [bobsOwn, byOwner, byMallory, byMallorysKey, byOlderKey])
        assert.equal(await works(key), 200);

      if (how === 'blocked') await server.callOk('PATCH', `/v2/users/${mallory.id}`, { blocked: true });
      else if (how === 'deleted') await server.callOk('DELETE', `/v2/users/${mallory.id}`);
      // A plain user now: the keys she made as an admin (Bob's may be an admin's) must not keep her one.
      else await server.callOk('PATCH', `/v2/users/${mallory.id}`, { role: { name: 'User' } });
      assert.equal(await works(byMallory), 401, `${how}: the key Mallory made for Bob`);
      assert.equal(await works(byMallorysKey), 401, `${how}: the key Mallory made with the owner's key`);
      assert.equal(await works(byOlderKey), 401, `${how}: the key Mallory made with an older key`);
      assert.equal(await works(bobsOwn), 200, `${how}: the key Bob made`);
      assert.equal(await works(byOwner), 200, `${how}: the key the owner made for Bob`);
      const left = (await server.callOk('GET', '/v2/api-keys')).data.filter((k: Json) => k.userId === bob.id);
      assert.deepEqual(left.map((k: Json) => k.name).sort(), ['made by bob', 'made by the owner']);
    }
  });

  it('refuses to delete a user or a team an escalation notifies, naming the policy, until it no longer does', async () => {
    const carol = (
      await server.callOk('POST', '/v2/users', {
        username: 'carol.paged@example.com',
        fullName: 'Carol',
        role: { name: 'User' },
      })
    ).data.id as string;
    const team = (await server.callOk('POST', '/v2/teams', { name: 'Paged Team' })).data.id as string;
    const rule = (recipient: Json, timeAmount: number) => ({
      condition: 'if-not-acked',
      notifyType: 'default',
      delay: { timeAmount },
      recipient,
    });
    const policy = (
      await server.callOk('POST', '/v2/escalations', {
        name: 'Night pager',
        rules: [rule({ type: 'user', id: carol }, 0), rule({ type: 'team', id: team }, 5)],
      })
    ).data.id as string;
    const dayPolicy = await server.callOk('POST', '/v2/escalations', {
      name: 'Day pager',
      rules: [rule({ type: 'user', id: carol }, 0)],
    });

    const userRefused = await server.call('DELETE', `/v2/users/${carol}`);
    assert.equal(userRefused.status, 409, JSON.stringify(userRefused.body));
    assert.equal(
      userRefused.body.message,
      'User [carol.paged@example.com] is a recipient of escalation [Day pager], escalation [Night pager]: change those first, then delete the user.',
    );
    const teamRefused = await server.call('DELETE', `/v2/teams/${team}`);
    assert.equal(teamRefused.status, 409, JSON.stringify(teamRefused.body));
    assert.equal(
      teamRefused.body.message,
      'Team [Paged Team] is a recipient of escalation [Night pager]: change those first, then delete the team.',
    );
    await server.callOk('GET', `/v2/users/${carol}`);
    await server.callOk('GET', `/v2/teams/${team}`);

    const owner = { type: 'user', username: 'admin@vigil.local' };
    await server.callOk('PATCH', `/v2/escalations/${policy}`, { rules: [rule(owner, 0)] });
    await server.callOk('DELETE', `/v2/teams/${team}`);
    await server.callOk('DELETE', `/v2/escalations/${dayPolicy.data.id}`);
    await server.callOk('DELETE', `/v2/users/${carol}`);
    assert.equal((await server.call('GET', `/v2/users/${carol}`)).status, 404);
    assert.equal((await server.call('GET', `/v2/teams/${team}`)).status, 404);
  });

  it('keeps an owner: the last one can not demote, block or be deleted, even by two owners at once', async () => {
    // An organization of its own, so that its owners are this test's alone.
    const org = await addOrganization(server, 'Last Owner');
    const first = (await org.call('GET', '/v2/users?query=owner@last-owner')).body.data[0];
    for (const change of [{ role: { name: 'Admin' } }, { blocked: true }]) {
      const refused = await org.call('PATCH', `/v2/users/${first.id}`, change);
      assert.equal(refused.status, 422, `${JSON.stringify(change)}: ${JSON.stringify(refused.body)}`);
      assert.match(refused.body.message, /make another person an owner first/);
    }

    // A blocked owner does not count: with the second owner blocked, the first is still the last.
    const second = await org.call('POST', '/v2/users', {
      username: 'second.owner@last-owner.example',
      fullName: 'Second Owner',
      role: { name: 'Owner' },
    });
    assert.equal(second.status, 201, JSON.stringify(second.body));
    const secondId: string = second.body.data.id;
    assert.equal((await org.call('PATCH', `/v2/users/${secondId}`, { blocked: true })).status, 200);
    assert.equal((await org.call('PATCH', `/v2/users/${first.id}`, { blocked: true })).status, 422);
    assert.equal((await org.call('PATCH', `/v2/users/${secondId}`, { blocked: false })).status, 200);

    // Two owners deleting each other at once, through the service so that neither is refused for a key
    // the other's deletion took away first: the owners' lock makes one wait, then refuse. A few rounds,
    // each with a new second owner, since a race lost without the lock is a matter of timing.
    const { accounts } = countedAccounts();
    const asOwner = (user: { id: string; username: string }): Principal => ({
      orgId: org.orgId,
      apiKeyId: randomUUID(),
      userId: user.id,
      username: user.username,
      fullName: user.username,
      role: 'owner',
    });
    let owner: { id: string; username: string } = { id: first.id, username: first.username };
    let other = { id: secondId, username: 'second.owner@last-owner.example' };
    for (let round = 0; round < 10; round++) {
      if (round > 0) {
        const made = await accounts.createUser(asOwner(owner), {
          username: `owner.${round}@last-owner.example`,
          fullName: 'Next Owner',
          role: 'owner',
        });
        other = { id: made.id, username: made.username };
      }
      const results = await Promise.allSettled([
        accounts.deleteUser(asOwner(owner), other.id),
        accounts.deleteUser(asOwner(other), owner.id),
      ]);
      assert.deepEqual(
        results.map((r) => (r.status === 'fulfilled' ? 'deleted' : (r.reason as Error).message)).sort(),
        [
          `The organization's last owner can not be deleted: make another person an owner first (PATCH /v2/users/{identifier} with "role": {"name": "Owner"}).`,
          'deleted',
        ],
        `round ${round}`,
      );
      if (results[1].status === 'fulfilled') owner = other;
      const owners = await server.app.context.db
        .selectFrom('users')
        .select('id')
        .where('org_id', '=', org.orgId)
        .where('role', '=', 'owner')
        .where('blocked', '=', false)
        .execute();
      assert.deepEqual(
        owners.map((o) => o.id),
        [owner.id],
        `round ${round}`,
      );
    }
  });

  it('changes members one request at a time: a PATCH of the list and a member added at once neither merge nor clash', async () => {
    const names = ['race.a@example.com', 'race.b@example.com', 'race.c@example.com', 'race.d@example.com'];
    for (const username of names)
      await server.callOk('POST', '/v2/users', { username, fullName: username, role: { name: 'User' } });
    const [a, b, c, d] = names.map((username) => ({ user: { username } }));
    const team = await server.callOk('POST', '/v2/teams', { name: 'Racers', members: [a] });
    const path = `/v2/teams/${team.data.id}`;
    for (let round = 0; round < 30; round++) {
      await server.callOk('PATCH', path, { members: [a, d] });
      const [patched, added, removed] = await Promise.all([
        server.call('PATCH', path, { members: [a, c] }),
        server.call('POST', `${path}/members`, b),
        server.call('DELETE', `${path}/members/race.d@example.com`),
      ]);
      const statuses = [patched, added, removed].map((r) => `${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(patched.status, 200, statuses.join('\n'));
      assert.equal(added.status, 200, statuses.join('\n'));
      // The removal finds d gone when the PATCH came first: a 404, never anything else.
      assert.ok([200, 404].includes(removed.status), statuses.join('\n'));
      const members = (await server.callOk('GET', path)).data.members.map((m: Json) => m.user.username);
      // Whatever order they ran in, the list is what one after the other gives: the PATCH's list,
      // with b after it when the addition came last.
      assert.ok(
        [
          ['race.a@example.com', 'race.c@example.com'],
          ['race.a@example.com', 'race.c@example.com', 'race.b@example.com'],
        ].some((expected) => JSON.stringify(expected) === JSON.stringify(members)),
        `round ${round}: ${JSON.stringify(members)}`,
      );
    }
  });

  it('lets an admin change the plan and refuses others', async () => {
    const org = await server.call('PATCH', '/v2/organization', { plan: 'standard' });
    assert.equal(org.status, 200);
    assert.equal((await server.call('GET', '/v2/organization')).body.data.plan, 'standard');
    const bad = await server.call('PATCH', '/v2/organization', { plan: 'gold' });
    assert.equal(bad.status, 422);
  });

  it("answers GET /v2/account as Opsgenie's Account API does", async () => {
    const account = await server.call('GET', '/v2/account');
    assert.equal(account.status, 200);
    const users = await server.call('GET', '/v2/users?limit=100');
    assert.deepEqual(Object.keys(account.body.data).sort(), ['name', 'plan', 'userCount']);
    assert.ok(account.body.data.userCount > 0);
    assert.equal(account.body.data.userCount, users.body.totalCount);
    assert.deepEqual(Object.keys(account.body.data.plan).sort(), ['isYearly', 'maxUserCount', 'name']);
    assert.equal(account.body.data.plan.name, 'Standard');
  });

  it('lists team members in the order given: on create, on a PATCH of the list, and added ones last', async () => {
    const ids: Record<string, string> = {};
    for (const name of ['ann', 'ben', 'cat', 'dan']) {
      const made = await server.callOk('POST', '/v2/users', {
        username: `${name}.order@example.com`,
        fullName: name,
        role: { name: 'User' },
      });
      ids[name] = made.data.id;
    }
    const member = (name: string, role = 'user') => ({ user: { id: ids[name] }, role });
    const team = await server.callOk('POST', '/v2/teams', {
      name: 'Ordered',
      members: [member('cat'), member('ann', 'admin'), member('ben')],
    });
    const listed = async () =>
      ((await server.callOk('GET', `/v2/teams/${team.data.id}`)).data.members as Json[]).map(
        (m) => `${m.user.username.split('.')[0]}:${m.role}`,
      );
    assert.deepEqual(await listed(), ['cat:user', 'ann:admin', 'ben:user']);

    await server.callOk('PATCH', `/v2/teams/${team.data.id}`, {
      members: [member('ben', 'admin'), member('dan'), member('cat')],
    });
    assert.deepEqual(await listed(), ['ben:admin', 'dan:user', 'cat:user']);

    // A member added goes last; a member given another role keeps their place.
    await server.callOk('POST', `/v2/teams/${team.data.id}/members`, { user: { id: ids.ann } });
    await server.callOk('POST', `/v2/teams/${team.data.id}/members`, {
      user: { id: ids.dan },
      role: 'admin',
    });
    assert.deepEqual(await listed(), ['ben:admin', 'dan:admin', 'cat:user', 'ann:user']);

    // Removing one leaves the others' order; one added after that still goes last.
    await server.callOk('DELETE', `/v2/teams/${team.data.id}/members/${ids.ben}`);
    await server.callOk('POST', `/v2/teams/${team.data.id}/members`, { user: { id: ids.ben } });
    assert.deepEqual(await listed(), ['dan:admin', 'cat:user', 'ann:user', 'ben:user']);
  });

  it('refuses a member listed twice with a 422 that names them, on create and on a PATCH, and changes nothing', async () => {
    const made = await server.callOk('POST', '/v2/users', {
      username: 'twice@example.com',
      fullName: 'Twice',
      role: { name: 'User' },
    });
    const byId = { user: { id: made.data.id } };
    const byName = { user: { username: 'twice@example.com' }, role: 'admin' };
    const created = await server.call('POST', '/v2/teams', { name: 'Doubled', members: [byId, byName] });
    assert.equal(created.status, 422, JSON.stringify(created.body));
    assert.match(created.body.message, /User \[twice@example\.com\] is listed twice in members \(0 and 1\)/);
    assert.ok(created.body.errors['members[1].user']);
    assert.equal((await server.call('GET', '/v2/teams/Doubled?identifierType=name')).status, 404);

    const team = await server.callOk('POST', '/v2/teams', { name: 'Doubled', members: [byId] });
    const patched = await server.call('PATCH', `/v2/teams/${team.data.id}`, { members: [byName, byId] });
    assert.equal(patched.status, 422, JSON.stringify(patched.body));
    const members = (await server.callOk('GET', `/v2/teams/${team.data.id}`)).data.members as Json[];
    assert.deepEqual(
      members.map((m) => `${m.user.username}:${m.role}`),
      ['twice@example.com:user'],
    );
  });

  it("keeps a user's tags, Skype username and address, and gives them back", async () => {
    const address = { country: 'IT', state: 'RM', city: 'Roma', line: 'Via del Corso 1', zipCode: '00186' };
    const made = await server.callOk('POST', '/v2/users', {
      username: 'tagged@example.com',
      fullName: 'Tagged',
      role: { name: 'User' },
      tags: ['dba', 'rome', 'dba'],
      skypeUsername: 'tagged.skype',
      userAddress: address,
    });
    const id = made.data.id;
    const profile = async () => {
      const u = (await server.callOk('GET', `/v2/users/${id}`)).data;
      return { tags: u.tags, skypeUsername: u.skypeUsername, userAddress: u.userAddress };
    };
    assert.deepEqual(await profile(), {
      tags: ['dba', 'rome'],
      skypeUsername: 'tagged.skype',
      userAddress: address,
    });
    const listed = (await server.callOk('GET', '/v2/users?query=tagged')).data[0];
    assert.deepEqual(
      { tags: listed.tags, skypeUsername: listed.skypeUsername, userAddress: listed.userAddress },
      { tags: ['dba', 'rome'], skypeUsername: 'tagged.skype', userAddress: address },
    );

    // A PATCH keeps what it does not give; an address given replaces the whole address.
    await server.callOk('PATCH', `/v2/users/${id}`, { fullName: 'Tagged Again' });
    assert.deepEqual(await profile(), {
      tags: ['dba', 'rome'],
      skypeUsername: 'tagged.skype',
      userAddress: address,
    });
    await server.callOk('PATCH', `/v2/users/${id}`, { tags: [], userAddress: { city: 'Milano' } });
    assert.deepEqual(await profile(), {
      tags: [],
      skypeUsername: 'tagged.skype',
      userAddress: { country: '', state: '', city: 'Milano', line: '', zipCode: '' },
    });

    // A user given none has no tags, an empty Skype username and an empty address.
    const plain = await server.callOk('POST', '/v2/users', {
      username: 'untagged@example.com',
      fullName: 'Untagged',
      role: { name: 'User' },
    });
    const plainUser = (await server.callOk('GET', `/v2/users/${plain.data.id}`)).data;
    assert.deepEqual(
      { tags: plainUser.tags, skypeUsername: plainUser.skypeUsername, userAddress: plainUser.userAddress },
      {
        tags: [],
        skypeUsername: '',
        userAddress: { country: '', state: '', city: '', line: '', zipCode: '' },
      },
    );

    // Past the limits: a 422 naming the field, and nothing changed.
    for (const [body, field] of [
      [{ tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }, 'tags'],
      [{ tags: ['x'.repeat(101)] }, 'tags'],
      [{ tags: [''] }, 'tags'],
      [{ skypeUsername: 's'.repeat(251) }, 'skypeUsername'],
      [{ userAddress: { line: 'l'.repeat(251) } }, 'userAddress'],
      [{ userAddress: 'Via Roma 1' }, 'userAddress'],
    ] as const) {
      const refused = await server.call('PATCH', `/v2/users/${id}`, body);
      assert.equal(
        refused.status,
        422,
        `${JSON.stringify(body).slice(0, 80)}: ${JSON.stringify(refused.body)}`,
      );
      assert.match(JSON.stringify(refused.body), new RegExp(field));
      const create = await server.call('POST', '/v2/users', {
        username: 'refused@example.com',
        fullName: 'Refused',
        role: { name: 'User' },
        ...body,
      });
      assert.equal(create.status, 422);
    }
    assert.equal((await server.call('GET', '/v2/users/refused@example.com')).status, 404);
    assert.deepEqual((await profile()).userAddress.city, 'Milano');

    // A NUL byte, as in every other field, is made storable (U+FFFD) rather than failing the request.
    await server.callOk('PATCH', `/v2/users/${id}`, { tags: ['a\u0000b'], skypeUsername: 's\u0000' });
    assert.deepEqual((await profile()).tags, ['a\uFFFDb']);
    assert.equal((await profile()).skypeUsername, 's\uFFFD');
  });
});

describe('a change of role that commits while an admin acts on the user', () => {
  it('refuses an admin the delete or the block of a person made an owner meanwhile', async () => {
    const admin = await server.callOk('POST', '/v2/users', {
      username: 'racing.admin@example.com',
      fullName: 'Racing Admin',
      role: { name: 'Admin' },
    });
    const adminKey = (
      await server.callOk('POST', '/v2/api-keys', { name: 'racing admin key', user: { id: admin.data.id } })
    ).data.key as string;
    const watcher = new pg.Client({ connectionString: server.databaseUrl });
    await watcher.connect();
    try {
      for (const [how, method, body] of [
        ['deleted', 'DELETE', undefined],
        ['blocked', 'PATCH', { blocked: true }],
      ] as const) {
        const person = await server.callOk('POST', '/v2/users', {
          username: `promoted.${how}@example.com`,
          fullName: 'Promoted Meanwhile',
          role: { name: 'User' },
        });
        // An owner's promotion in flight, as updateUser makes it: the person's row, locked until it commits.
        const promoting = new pg.Client({ connectionString: server.databaseUrl });
        await promoting.connect();
        let answer: { status: number; body: Json };
        try {
          await promoting.query('BEGIN');
          await promoting.query(`UPDATE users SET role = 'owner' WHERE id = $1`, [person.data.id]);
          const acting = server.call(method, `/v2/users/${person.data.id}`, body, adminKey);
          await waitFor(`the admin's ${method} to wait on the person`, async () => {
            const waiting = await watcher.query(
              `SELECT count(*)::int AS n FROM pg_stat_activity
               WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%"users"%'`,
            );
            return waiting.rows[0].n > 0 || undefined;
          });
          await promoting.query('COMMIT');
          answer = await acting;
        } finally {
          await promoting.end();
        }
        assert.equal(answer.status, 403, `${how}: ${JSON.stringify(answer.body)}`);
        assert.match(answer.body.message, /Only an owner can (delete|change) an owner/);
        const kept = (await server.callOk('GET', `/v2/users/${person.data.id}`)).data;
        assert.deepEqual([kept.role.name, kept.blocked], ['Owner', false], how);
      }
    } finally {
      await watcher.end();
    }
  });
});

describe('a corrected login email', () => {
  // A server of its own that sends email, on a clock of its own that a later page waits for.
  const mailClock = new ShiftedClock();
  const run = randomUUID().slice(0, 8);
  let mailer: TestServer;
  let smtp: TestSmtpServer;
  before(async () => {
    smtp = await startTestSmtpServer();
    mailer = await startTestServer({
      clock: mailClock,
      engineIntervalMs: 100,
      env: { VIGIL_SMTP_URL: smtp.url, VIGIL_EMAIL_FROM: 'Vigil <vigil@example.com>' },
    });
  });
  after(async () => {
    await mailer?.stop();
    await smtp?.stop();
  });

  const mailsTo = (address: string, message: string) =>
    smtp.messages.filter((m) => m.to.includes(address) && m.subject.includes(message));
  const mailTo = (address: string, message: string) =>
    waitFor(`an email to ${address} about "${message}"`, async () => mailsTo(address, message)[0]);
  const contactsOf = async (userId: string) =>
    ((await mailer.callOk('GET', `/v2/users/${userId}/contacts`)).data as Json[]).map((c) => [c.id, c.to]);
  const newAlertRule = async (userId: string) =>
    ((await mailer.callOk('GET', `/v2/users/${userId}/notification-rules`)).data as Json[])[0].id as string;
  const stepsOf = async (userId: string, ruleId: string) =>
    (
      (await mailer.callOk('GET', `/v2/users/${userId}/notification-rules/${ruleId}`)).data.steps as Json[]
    ).map((s) => [s.id, s.contact.to, s.sendAfter.timeAmount]);
  const email = (to: string, timeAmount: number) => ({
    contact: { method: 'email', to },
    sendAfter: { timeAmount },
  });

  it('pages the new address from the contact the person was given, and no longer the old one', async () => {
    const typo = `x-${run}@exmaple.com`;
    const fixed = `x-${run}@example.com`;
    const other = `x-${run}@elsewhere.example`;
    const x = (
      await mailer.callOk('POST', '/v2/users', { username: typo, fullName: 'Xan', role: { name: 'User' } })
    ).data.id as string;
    const given = (await contactsOf(x))[0]?.[0];
    const kept = (await mailer.callOk('POST', `/v2/users/${x}/contacts`, { method: 'email', to: other })).data
      .id;
    // A page at once and one 5 minutes later, both to the address the person was given.
    const rule = await newAlertRule(x);
    await mailer.callOk('PATCH', `/v2/users/${x}/notification-rules/${rule}`, {
      steps: [email(typo, 0), email(typo, 5)],
    });
    const earlier = `Before ${run}`;
    const earlierId = await createAlert(mailer, { message: earlier, responders: [{ type: 'user', id: x }] });
    await mailTo(typo, earlier);

    await mailer.callOk('PATCH', `/v2/users/${x}`, { username: fixed });
    assert.deepEqual(
      (await contactsOf(x)).sort(),
      [
        [given, fixed],
        [kept, other],
      ].sort(),
    );
    assert.deepEqual(
      (await stepsOf(x, rule)).map(([, to, minutes]) => [to, minutes]),
      [
        [fixed, 0],
        [fixed, 5],
      ],
    );

    // The page planned for the old address is not sent to it, nor to the new one.
    mailClock.advance(6 * 60_000);
    const cancelled = await waitFor('the later page cancelled', async () =>
      (await alertLogs(mailer, earlierId)).find((l) => l.startsWith('Email to Xan not sent')),
    );
    assert.match(cancelled, /the contact method was changed after the page was planned/);
    const later = `After ${run}`;
    await createAlert(mailer, { message: later, responders: [{ type: 'user', id: x }] });
    await mailTo(fixed, later);
    await mailer.idle();
    assert.equal(mailsTo(typo, earlier).length, 1, 'only the page sent before the change');
    assert.deepEqual(mailsTo(fixed, earlier), []);
    assert.deepEqual(mailsTo(typo, later), []);
    assert.equal(mailsTo(fixed, later).length, 1);
    assert.deepEqual(mailsTo(other, later), [], 'the other address is in no step');
  });

  it("gives the old address's steps to a contact the person already has at the new one", async () => {
    const typo = `y-${run}@exmaple.com`;
    // The person's own contact, written in another case than the new login email.
    const fixed = `Y-${run}@example.com`;
    const y = (
      await mailer.callOk('POST', '/v2/users', { username: typo, fullName: 'Yul', role: { name: 'User' } })
    ).data.id as string;
    const existing = (await mailer.callOk('POST', `/v2/users/${y}/contacts`, { method: 'email', to: fixed }))
      .data.id;
    const rule = await newAlertRule(y);
    await mailer.callOk('PATCH', `/v2/users/${y}/notification-rules/${rule}`, {
      steps: [email(typo, 0), email(fixed, 0), email(typo, 10)],
    });
    const [, atOnce, afterTen] = await stepsOf(y, rule);
    const planned = `Planned ${run}`;
    const plannedId = await createAlert(mailer, { message: planned, responders: [{ type: 'user', id: y }] });
    await mailTo(typo, planned);
    await mailTo(fixed, planned);

    await mailer.callOk('PATCH', `/v2/users/${y}`, { username: fixed.toLowerCase() });
    assert.deepEqual(await contactsOf(y), [[existing, fixed]]);
    // The old address's page at once would be the new one's twice; its later page now goes to the new one.
    assert.deepEqual(await stepsOf(y, rule), [atOnce, [afterTen?.[0], fixed, 10]]);

    // The page planned for the old address 10 minutes on goes nowhere.
    mailClock.advance(11 * 60_000);
    const cancelled = await waitFor('the later page cancelled', async () =>
      (await alertLogs(mailer, plannedId)).find((l) => l.startsWith('Email to Yul not sent')),
    );
    assert.match(cancelled, /the contact method was deleted/);
    const message = `Merged ${run}`;
    await createAlert(mailer, { message, responders: [{ type: 'user', id: y }] });
    await mailTo(fixed, message);
    await mailer.idle();
    assert.equal(mailsTo(typo, planned).length, 1, 'only the page sent before the change');
    assert.equal(mailsTo(fixed, planned).length, 1);
    assert.equal(mailsTo(fixed, message).length, 1);
    assert.deepEqual(mailsTo(typo, message), []);
  });
});
