import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { otherTransaction, whenWaitedFor } from '../../testing/lock-waits.js';
import { startTestServer, waitFor, type TestServer } from '../../testing/harness.js';
import { startTestSmtpServer, type TestSmtpServer } from '../../testing/smtp.js';

/**
 * A reset link is written under the person's lock, as a block takes it before it spends their links: one
 * written after a block's clean-up, by a worker that read the person before the block, would set their
 * password once they were unblocked.
 */

const PASSWORD = 'correct horse battery staple';

describe('a password reset sent while the person is being blocked', () => {
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

  it('waits for the block, then sends no link: none is left to work after the unblock', async () => {
    const email = 'reset.during.block@example.com';
    const invited = await server.call('POST', '/api/console/invitations', {
      email,
      fullName: 'Rae',
      role: 'user',
    });
    assert.equal(invited.status, 201, JSON.stringify(invited.body));
    const userId = invited.body.userId as string;
    await smtp.waitForMessages(1);
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
});
