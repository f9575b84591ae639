import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../testing/harness.js';
import { otherTransaction, whenWaitedFor } from '../../testing/lock-waits.js';

/**
 * A password sign-in checks the password (tens of milliseconds of Argon2) before it writes the session:
 * a password dropped or changed in between (a promotion to owner drops one a handed link set) must not
 * be followed by a session the old password opened. The interleaving is made by holding the person's row
 * while the sign-in waits to write its session, and changing the password in that transaction.
 */

const EMAIL = 'owner@example.com';
const PASSWORD = 'correct horse battery staple';
let server: TestServer;

before(async () => {
  server = await startTestServer({
    role: 'api',
    env: { VIGIL_BOOTSTRAP_ADMIN_EMAIL: EMAIL, VIGIL_BOOTSTRAP_ADMIN_PASSWORD: PASSWORD },
  });
});

after(() => server?.stop());

const signIn = () =>
  fetch(`${server.url}/api/console/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: EMAIL, password: PASSWORD }),
  });

describe('a password sign-in racing a change of that password', () => {
  it('opens no session once the password it matched is gone', async () => {
    const other = await otherTransaction(server.databaseUrl);
    try {
      const { rows } = await other.query<{ id: string }>(
        'SELECT id FROM users WHERE username = $1 FOR UPDATE',
        [EMAIL],
      );
      const userId = rows[0]?.id;
      assert.ok(userId);
      const answer = signIn();
      // Once the sign-in waits for the person's row (its password already matched), the password goes.
      await whenWaitedFor(other, {
        then: `DELETE FROM user_passwords WHERE user_id = '${userId}'`,
        never: 'the sign-in never waited to write its session',
      });
      await other.query('COMMIT');
      const response = await answer;
      assert.equal(response.status, 401, await response.text());
      const { rows: sessions } = await other.query(
        'SELECT count(*)::int AS n FROM console_sessions WHERE user_id = $1',
        [userId],
      );
      assert.equal(sessions[0].n, 0);
    } finally {
      await other.end();
    }
  });
});
