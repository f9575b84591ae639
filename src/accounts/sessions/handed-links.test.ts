import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DomainError } from '../../errors.js';
import { createLogger } from '../../logger.js';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import { systemClock } from '../../work/clock.js';
import { principalOfUser } from '../user-principal.js';
import { createSessionsService } from './service.js';

/**
 * An invitation's link that could not be emailed comes back to the admin who invited, and anyone with it
 * sets the invitee's password without signing in. So it must stop working once that admin is let go:
 * blocked, deleted or demoted (the test server has no SMTP relay, so every link comes back).
 */
describe('console: invitation links handed back to an admin', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  async function setPassword(link: string, password = 'chosen by the person') {
    const token = new URL(link).searchParams.get('token');
    const res = await fetch(`${server.url}/api/console/password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, password }),
    });
    const body = (await res.json()) as Json;
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    return { status: res.status, body, cookie, csrf: body.csrfToken as string };
  }

  /** A person invited by the bootstrap owner and signed in with the link: what invites as them. */
  async function signIn(email: string, role: 'owner' | 'admin' | 'user') {
    const invited = await server.callOk('POST', '/api/console/invitations', { email, fullName: email, role });
    const signedIn = await setPassword(invited.link);
    assert.equal(signedIn.status, 200, JSON.stringify(signedIn.body));
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
          cookie: signedIn.cookie,
          'x-csrf-token': signedIn.csrf,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: res.status, body: (await res.json()) as Json };
    };
    const invite = async (email: string, role: 'owner' | 'admin' | 'user') => {
      const made = await call('POST', '/api/console/invitations', { email, fullName: email, role });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      assert.ok(made.body.link, 'handed back');
      return made.body.link as string;
    };
    return { id: invited.userId as string, call, invite };
  }

  it('spends the links handed to an admin who is blocked, deleted or demoted; not those of other admins', async () => {
    for (const how of ['blocked', 'deleted', 'demoted'] as const) {
      const mallory = await signIn(`mallory.${how}@example.com`, 'admin');
      const alice = await signIn(`alice.${how}@example.com`, 'admin');
      const mallorys = await mallory.invite(`victim.${how}@example.com`, 'admin');
      const alices = await alice.invite(`other.${how}@example.com`, 'admin');

      if (how === 'blocked') await server.callOk('PATCH', `/v2/users/${mallory.id}`, { blocked: true });
      else if (how === 'deleted') await server.callOk('DELETE', `/v2/users/${mallory.id}`);
      else await server.callOk('PATCH', `/v2/users/${mallory.id}`, { role: { name: 'User' } });

      const taken = await setPassword(mallorys, 'mallory chose this one');
      assert.equal(taken.status, 401, `${how}: ${JSON.stringify(taken.body)}`);
      assert.equal((await setPassword(alices)).status, 200, `${how}: another admin's link still works`);
    }
  });

  it('spends a link handed back through an API key when one who holds the key is let go', async () => {
    const mallory = await signIn('mallory.keyed@example.com', 'admin');
    const alice = await signIn('alice.keyed@example.com', 'admin');
    const made = await mallory.call('POST', '/v2/api-keys', { name: 'for alice', user: { id: alice.id } });
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const invited = await server.call(
      'POST',
      '/api/console/invitations',
      { email: 'victim.keyed@example.com', fullName: 'Victim', role: 'admin' },
      made.body.data.key,
    );
    assert.equal(invited.status, 201, JSON.stringify(invited.body));

    await server.callOk('PATCH', `/v2/users/${mallory.id}`, { blocked: true });
    assert.equal((await setPassword(invited.body.link)).status, 401);
  });

  it("takes from an owner made an admin only what acts as an owner: owners' links and keys", async () => {
    const olivia = await signIn('olivia.owner@example.com', 'owner');
    const forOwner = await olivia.invite('new.owner@example.com', 'owner');
    const forAdmin = await olivia.invite('new.admin@example.com', 'admin');
    const otherOwner = await server.callOk('POST', '/v2/users', {
      username: 'other.owner@example.com',
      fullName: 'Other Owner',
      role: { name: 'Owner' },
    });
    const plain = await server.callOk('POST', '/v2/users', {
      username: 'plain.user@example.com',
      fullName: 'Plain User',
      role: { name: 'User' },
    });
    const keyFor = async (userId: string) => {
      const made = await olivia.call('POST', '/v2/api-keys', { name: `for ${userId}`, user: { id: userId } });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      return made.body.data.key as string;
    };
    const ownersKey = await keyFor(otherOwner.data.id);
    const plainKey = await keyFor(plain.data.id);
    const works = async (key: string) => (await server.call('GET', '/v2/alerts', undefined, key)).status;

    await server.callOk('PATCH', `/v2/users/${olivia.id}`, { role: { name: 'Admin' } });

    assert.equal((await setPassword(forOwner)).status, 401, "an owner's link");
    assert.equal(await works(ownersKey), 401, "an owner's key");
    assert.equal((await setPassword(forAdmin)).status, 200, "an admin's link, which an admin may hand over");
    assert.equal(await works(plainKey), 200, "a plain user's key, which an admin may make");
  });

  it('hands no link to an admin blocked while the invitation was being made', async () => {
    const { db, config, accounts } = server.app.context;
    const sessions = createSessionsService({
      db,
      clock: systemClock,
      log: createLogger('silent'),
      config,
      accounts,
      mailer: { send: async () => false, close: () => {} },
      signal: { wake: () => {} },
    });
    const mallory = await signIn('mallory.racing@example.com', 'admin');
    const row = await db
      .selectFrom('users')
      .selectAll()
      .where('id', '=', mallory.id)
      .executeTakeFirstOrThrow();
    // Her principal as the request read it, before the block below committed.
    const stale = principalOfUser(row);
    await server.callOk('PATCH', `/v2/users/${mallory.id}`, { blocked: true });
    await assert.rejects(
      sessions.invite(stale, { email: 'victim.racing@example.com', fullName: 'Victim', role: 'admin' }),
      (error: unknown) => error instanceof DomainError && error.kind === 'forbidden',
    );
    const left = await db
      .selectFrom('account_tokens')
      .innerJoin('users', 'users.id', 'account_tokens.user_id')
      .select('account_tokens.used_at')
      .where('users.username', '=', 'victim.racing@example.com')
      .execute();
    assert.equal(left.length, 1);
    assert.notEqual(left[0]?.used_at, null, 'the link that was not handed over is spent');
  });
});
