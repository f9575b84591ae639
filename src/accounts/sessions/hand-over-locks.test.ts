import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { DomainError } from '../../errors.js';
import { createLogger } from '../../logger.js';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import { whenWaitedFor } from '../../testing/lock-waits.js';
import { systemClock } from '../../work/clock.js';
import type { AccountsService } from '../service.js';
import { createSessionsService } from './service.js';

/**
 * An invitation's link that could not be emailed is handed back, and is spent when anyone it was handed to
 * is let go (handed-links.test.ts). These are the races of the hand-over itself: what it reads must still
 * hold when the link is recorded as handed, and it must not deadlock with a block or demotion.
 */
describe('console: handing over an invitation link, against concurrent changes', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  /** The sessions service with no SMTP relay (every link comes back), on `accounts` if given. */
  function sessionsOn(accounts: AccountsService = server.app.context.accounts) {
    const { db, config } = server.app.context;
    return createSessionsService({
      db,
      clock: systemClock,
      log: createLogger('silent'),
      config,
      accounts,
      mailer: { send: async () => false, close: () => {} },
      signal: { wake: () => {} },
    });
  }

  async function setPassword(link: string) {
    const token = new URL(link).searchParams.get('token');
    const res = await fetch(`${server.url}/api/console/password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, password: 'chosen by whoever has the link' }),
    });
    return res.status;
  }

  const user = async (username: string, role: 'Owner' | 'Admin' | 'User') =>
    (await server.callOk('POST', '/v2/users', { username, fullName: username, role: { name: role } })).data
      .id as string;

  async function linkOf(username: string) {
    return server.app.context.db
      .selectFrom('account_tokens')
      .innerJoin('users', 'users.id', 'account_tokens.user_id')
      .select(['account_tokens.used_at', 'account_tokens.given_to'])
      .where('users.username', '=', username)
      .execute();
  }

  it('hands no link through a key deleted since the request was authenticated (a holder blocked)', async () => {
    const { accounts } = server.app.context;
    const mallory = await user('mallory.gone-key@example.com', 'Admin');
    const alice = await user('alice.gone-key@example.com', 'Admin');
    const mallorysKey = await server.callOk('POST', '/v2/api-keys', {
      name: 'mallory',
      user: { id: mallory },
    });
    // Made by Mallory for Alice: Mallory holds it.
    const forAlice = await server.callOk(
      'POST',
      '/v2/api-keys',
      { name: 'for alice', user: { id: alice } },
      mallorysKey.data.key,
    );
    const principal = await accounts.authenticate(forAlice.data.key);
    assert.ok(principal);
    // Blocking Mallory deletes the key, after the request with it was authenticated.
    await server.callOk('PATCH', `/v2/users/${mallory}`, { blocked: true });

    await assert.rejects(
      sessionsOn().invite(principal, { email: 'victim.gone-key@example.com', fullName: 'V', role: 'admin' }),
      (error: unknown) =>
        error instanceof DomainError && error.kind === 'forbidden' && /revoked/.test(error.message),
    );
    const links = await linkOf('victim.gone-key@example.com');
    assert.equal(links.length, 1);
    assert.notEqual(links[0]?.used_at, null, 'the link that was not handed over is spent');
  });

  it("judges who may hold the link by the invitee's role as the link is handed, not as first read", async () => {
    const { accounts, db } = server.app.context;
    const admin = await user('admin.promoted-invitee@example.com', 'Admin');
    const key = await server.callOk('POST', '/v2/api-keys', { name: 'admin', user: { id: admin } });
    const principal = await accounts.authenticate(key.data.key);
    assert.ok(principal);
    // The invitee is made an owner once created, before their link exists: the promotion spends no link.
    const promoting: AccountsService = {
      ...accounts,
      createUser: async (...args: Parameters<AccountsService['createUser']>) => {
        const made = await accounts.createUser(...args);
        await server.callOk('PATCH', `/v2/users/${made.id}`, { role: { name: 'Owner' } });
        return made;
      },
    };
    await assert.rejects(
      sessionsOn(promoting).invite(principal, {
        email: 'owner.promoted-invitee@example.com',
        fullName: 'Soon an owner',
        role: 'user',
      }),
      (error: unknown) => error instanceof DomainError && error.kind === 'forbidden',
    );
    const row = await db
      .selectFrom('users')
      .select('role')
      .where('username', '=', 'owner.promoted-invitee@example.com')
      .executeTakeFirstOrThrow();
    assert.equal(row.role, 'owner');
    const links = await linkOf('owner.promoted-invitee@example.com');
    assert.equal(links.length, 1);
    assert.notEqual(links[0]?.used_at, null, "an owner's link is not handed to an admin");
  });

  it('does not deadlock with a demotion of a holder whose id sorts before an owner holding the key', async () => {
    const { accounts, db } = server.app.context;
    const owners = await db
      .selectFrom('users')
      .select(['id', 'org_id'])
      .where('role', '=', 'owner')
      .execute();
    const firstOwner = owners.map((o) => o.id).sort()[0] ?? '';
    // An admin whose row sorts before every owner's: the demotion locks the owners, then them. Given its
    // id, not drawn until one sorts first: drawing 60 failed about one run in 30.
    const { id: x } = await db
      .insertInto('users')
      .values({
        id: '00000000-0000-4000-8000-000000000001',
        org_id: owners[0]?.org_id ?? '',
        username: 'x.deadlock@example.com',
        full_name: 'X',
        role: 'admin',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    assert.ok(x < firstOwner, 'an admin whose id sorts first');
    // Made by the bootstrap owner for X: the owner and X both hold what is handed over through it.
    const key = await server.callOk('POST', '/v2/api-keys', { name: 'for x', user: { id: x } });
    const principal = await accounts.authenticate(key.data.key);
    assert.ok(principal);

    const holdX = new pg.Client({ connectionString: server.databaseUrl });
    const watch = new pg.Client({ connectionString: server.databaseUrl });
    await holdX.connect();
    await watch.connect();
    try {
      // X held, so the hand-over takes what it takes before X, then waits for X.
      await holdX.query('BEGIN');
      await holdX.query('SELECT id FROM users WHERE id = $1 FOR UPDATE', [x]);
      const invited = sessionsOn()
        .invite(principal, { email: 'victim.deadlock@example.com', fullName: 'V', role: 'user' })
        .then(
          (value) => ({ value, error: undefined }),
          (error: unknown) => ({ value: undefined, error }),
        );
      await whenWaitedFor(holdX, { never: 'the hand-over never waited for X', seconds: 20 });
      const demoted = server.call('PATCH', `/v2/users/${x}`, { role: { name: 'User' } });
      // Both wait now: the demotion for the owners' rows (the hand-over holds one) or for X.
      for (let tries = 0; ; tries++) {
        const { rows } = await watch.query<{ n: number }>(
          'SELECT count(DISTINCT pid)::int AS n FROM pg_locks WHERE NOT granted',
        );
        if ((rows[0]?.n ?? 0) >= 2) break;
        assert.ok(tries < 2000, 'the demotion never waited');
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      await holdX.query('COMMIT');

      const outcome = await invited;
      const demotion = await demoted;
      assert.equal(outcome.error, undefined, String(outcome.error));
      assert.equal(demotion.status, 200, JSON.stringify(demotion.body as Json));
      // Handed to X, who was demoted after: the link is spent.
      assert.equal(await setPassword(outcome.value?.link ?? ''), 401);
    } finally {
      await holdX.end();
      await watch.end();
    }
  });
});
