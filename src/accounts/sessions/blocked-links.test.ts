import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { DomainError } from '../../errors.js';
import { otherTransaction, whenWaitedFor } from '../../testing/lock-waits.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { startTestSmtpServer, type TestSmtpServer } from '../../testing/smtp.js';

/**
 * A person is often blocked because someone else may read their mailbox: the invitation and reset links
 * it holds must not set their password while they are blocked, nor leave one that works once they are
 * unblocked. Nor may a blocked person be left a session that unblocking would bring back.
 */

const PASSWORD = 'correct horse battery staple';

describe('console sign-in: the links and sessions of a blocked person', () => {
  let server: TestServer;
  let smtp: TestSmtpServer;
  let client: pg.Client;
  before(async () => {
    smtp = await startTestSmtpServer();
    server = await startTestServer({
      env: {
        VIGIL_BOOTSTRAP_ADMIN_EMAIL: 'owner@example.com',
        VIGIL_BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
        VIGIL_SMTP_URL: smtp.url,
      },
    });
    client = new pg.Client({ connectionString: server.databaseUrl });
    await client.connect();
  });
  after(async () => {
    await client?.end();
    await server?.stop();
    await smtp?.stop();
  });

  const post = async (path: string, body: Record<string, string>) => {
    const response = await fetch(server.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    return { status: response.status, body: (await response.json()) as Json };
  };
  const setPassword = (token: string, password: string) => post('/api/console/password', { token, password });
  const signIn = (email: string, password: string) => post('/api/console/session', { email, password });
  const block = async (userId: string, blocked: boolean) => {
    const changed = await server.call('PATCH', `/v2/users/${userId}`, { blocked });
    assert.equal(changed.status, 200, JSON.stringify(changed.body));
  };
  const count = async (table: 'user_passwords' | 'console_sessions', userId: string) =>
    (
      await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table} WHERE user_id = $1`, [
        userId,
      ])
    ).rows[0]?.n;
  const passwordHash = async (userId: string) =>
    (await client.query<{ hash: string }>('SELECT hash FROM user_passwords WHERE user_id = $1', [userId]))
      .rows[0]?.hash;

  /** The token of the one link mailed since `smtp.clear()`. */
  async function mailedToken(): Promise<string> {
    const [mail] = await smtp.waitForMessages(1);
    const token = decodeURIComponent(
      /set-password\?token=([A-Za-z0-9_%-]+)/.exec(mail?.text ?? '')?.[1] ?? '',
    );
    assert.ok(token, mail?.text);
    return token;
  }

  async function invite(email: string): Promise<{ userId: string; token: string }> {
    smtp.clear();
    const invited = await server.call('POST', '/api/console/invitations', {
      email,
      fullName: 'Some One',
      role: 'user',
    });
    assert.equal(invited.status, 201, JSON.stringify(invited.body));
    return { userId: invited.body.userId, token: await mailedToken() };
  }

  // A reset link is written under the person's lock, as a block takes it before it spends their links: one
  // written after a block's clean-up, by a worker that read the person before the block, would set their
  // password once they were unblocked.
  it('waits for the block, then sends no link: none is left to work after the unblock', async () => {
    const email = 'reset.during.block@example.com';
    const { userId } = await invite(email);
    smtp.clear();

    // A block in flight, as updateUser does it: the person's row, then their unused links spent.
    const blocking = await otherTransaction(server.databaseUrl);
    try {
      await blocking.query(
        `WITH blocked AS (UPDATE users SET blocked = true WHERE id = $1 RETURNING id)
         UPDATE account_tokens SET used_at = now()
         WHERE user_id = (SELECT id FROM blocked) AND used_at IS NULL`,
        [userId],
      );
      const asked = await fetch(`${server.url}/api/console/password-reset`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email }),
      });
      assert.equal(asked.status, 202);
      await whenWaitedFor(blocking, { never: 'the reset never waited for the block', seconds: 10 });
      await blocking.query('COMMIT');
    } finally {
      await blocking.end();
    }
    await waitFor('the worker to be done with the reset', async () => {
      const { rows } = await client.query('SELECT 1 FROM password_reset_requests WHERE email = $1', [email]);
      return rows.length === 0;
    });

    const usable = await client.query(
      'SELECT 1 FROM account_tokens WHERE user_id = $1 AND used_at IS NULL AND expires_at > now()',
      [userId],
    );
    assert.equal(usable.rows.length, 0, 'no link that works once the person is unblocked');
    assert.equal(smtp.messages.length, 0, 'no reset mailed to a blocked person');
  });

  it('spends an invitation on a block: it sets no password then, nor after the unblock', async () => {
    const { userId, token } = await invite('invited.then.blocked@example.com');
    await block(userId, true);
    const used = await setPassword(token, 'chosen while blocked');
    assert.equal(used.status, 401, JSON.stringify(used.body));
    assert.equal(await count('user_passwords', userId), 0, 'no password set');
    assert.equal(await count('console_sessions', userId), 0, 'no session');

    await block(userId, false);
    const after = await setPassword(token, 'chosen after the unblock');
    assert.equal(after.status, 401, JSON.stringify(after.body));
    assert.match(after.body.message, /expired or has been used/);
    assert.equal(await count('user_passwords', userId), 0, 'still no password: invite them again');
    assert.equal((await signIn('invited.then.blocked@example.com', 'chosen while blocked')).status, 401);
  });

  it('spends a reset link on a block: the old password is the one that works after the unblock', async () => {
    const { userId, token: invitation } = await invite('reset.then.blocked@example.com');
    assert.equal((await setPassword(invitation, 'the password of my own')).status, 200);
    const before = await passwordHash(userId);
    smtp.clear();
    assert.equal(
      (await post('/api/console/password-reset', { email: 'reset.then.blocked@example.com' })).status,
      202,
    );
    const token = await mailedToken();
    await block(userId, true);
    const sessionsBefore = await count('console_sessions', userId);
    assert.equal(sessionsBefore, 0, 'blocking ended the sessions');

    const used = await setPassword(token, 'chosen while blocked');
    assert.equal(used.status, 401, JSON.stringify(used.body));
    assert.equal(await passwordHash(userId), before, 'the password is as it was');
    assert.equal(await count('console_sessions', userId), 0, 'no session');

    await block(userId, false);
    assert.equal((await setPassword(token, 'chosen after the unblock')).status, 401, 'still spent');
    assert.equal((await signIn('reset.then.blocked@example.com', 'chosen while blocked')).status, 401);
    assert.equal((await signIn('reset.then.blocked@example.com', 'chosen after the unblock')).status, 401);
    const own = await signIn('reset.then.blocked@example.com', 'the password of my own');
    assert.equal(own.status, 200, JSON.stringify(own.body));
  });

  it('refuses a link made while the person is blocked, writing nothing', async () => {
    const { userId } = await invite('invited.while.blocked@example.com');
    await block(userId, true);
    // An admin may invite a blocked person again: the new link must wait for the unblock.
    const { token } = await invite('invited.while.blocked@example.com');
    const used = await setPassword(token, 'chosen while blocked');
    assert.equal(used.status, 401, JSON.stringify(used.body));
    assert.match(used.body.message, /blocked/);
    assert.equal(await count('user_passwords', userId), 0, 'no password set');
    assert.equal(await count('console_sessions', userId), 0, 'no session');

    // Nothing was taken: the admin's link works once the admin lets the person in again.
    await block(userId, false);
    const set = await setPassword(token, 'chosen after the unblock');
    assert.equal(set.status, 200, JSON.stringify(set.body));
  });

  it('writes no session for a blocked person, however they were proved (single sign-on)', async () => {
    const { userId, token } = await invite('signs.in.blocked@example.com');
    assert.equal((await setPassword(token, 'a password of theirs')).status, 200);
    await block(userId, true);
    await assert.rejects(
      server.app.context.sessions.signInAs(userId, { ip: '127.0.0.1', userAgent: 'test' }),
      (error: unknown) => error instanceof DomainError && error.kind === 'unauthenticated',
    );
    assert.equal(await count('console_sessions', userId), 0, 'no session row for unblocking to bring back');
    await block(userId, false);
    assert.equal(await count('console_sessions', userId), 0);
  });
});
