import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestServer, waitFor, type TestServer } from '../../testing/harness.js';
import { startTestSmtpServer, type TestSmtpServer } from '../../testing/smtp.js';
import { sessionsRepository } from './repository.js';

/**
 * A password reset is answered before anything is looked up or sent: the request stores the email and a
 * worker sends. Were the email sent first, the answer's time would tell who has an account (a known one
 * costs a link and an SMTP conversation, an unknown one nothing), whatever the answer's words say.
 */

const PASSWORD = 'a long enough password';

async function askReset(server: TestServer, email: string): Promise<Response> {
  return fetch(`${server.url}/api/console/password-reset`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email }),
    // Far shorter than an SMTP greeting's timeout (30 s): an answer that waits for the relay fails here.
    signal: AbortSignal.timeout(5000),
  });
}

describe('a password reset, asked for', () => {
  describe('while the SMTP relay never answers', () => {
    // Accepts connections and says nothing: a relay that hangs the way an overloaded one does.
    let silentRelay: Server;
    const held: Socket[] = [];
    let server: TestServer;
    before(async () => {
      silentRelay = createServer((socket) => held.push(socket));
      await new Promise<void>((resolve) => silentRelay.listen(0, '127.0.0.1', resolve));
      const { port } = silentRelay.address() as { port: number };
      server = await startTestServer({
        env: {
          VIGIL_SMTP_URL: `smtp://127.0.0.1:${port}`,
          VIGIL_BOOTSTRAP_ADMIN_EMAIL: 'owner@example.com',
          VIGIL_BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
        },
      });
    });
    after(async () => {
      for (const socket of held) socket.destroy();
      await server?.stop();
      await new Promise((resolve) => silentRelay?.close(resolve));
    });

    it('is answered for an account as for nobody, without waiting for the email', async () => {
      const known = await askReset(server, 'owner@example.com');
      const unknown = await askReset(server, 'nobody@example.com');
      assert.equal(known.status, 202);
      assert.deepEqual(await known.json(), await unknown.json());
      // The worker did go to the relay for the account's email, after the answer.
      await waitFor('the worker to reach the relay', async () => held.length > 0, 10_000);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(held.length, 1, 'one email, for the one account');
    });

    it('does not hold an invitation for minutes: the admin gets the link to hand over', async () => {
      const started = Date.now();
      const invited = await server.call('POST', '/api/console/invitations', {
        email: 'ivy@example.com',
        fullName: 'Ivy',
      });
      const tookMs = Date.now() - started;
      assert.equal(invited.status, 201, JSON.stringify(invited.body));
      assert.equal(invited.body.emailed, false);
      assert.match(invited.body.link, /set-password\?token=/);
      // The relay's greeting is waited for as pages wait for it (10 s), not nodemailer's 30 s (or 2 minutes
      // to connect), which outlast a proxy's timeout and a reset's lease.
      assert.ok(tookMs < 20_000, `answered after ${tookMs} ms`);
    });
  });

  describe('whose worker died while sending it', () => {
    let smtp: TestSmtpServer;
    let server: TestServer;
    before(async () => {
      smtp = await startTestSmtpServer();
      server = await startTestServer({
        env: {
          VIGIL_SMTP_URL: smtp.url,
          // Looked up without regard to case, mailed to the address as the account has it.
          VIGIL_BOOTSTRAP_ADMIN_EMAIL: 'Owner@Example.com',
          VIGIL_BOOTSTRAP_ADMIN_PASSWORD: PASSWORD,
        },
      });
    });
    after(async () => {
      await server?.stop();
      await smtp?.stop();
    });

    it('is sent by the next worker once its lease has ended, and asking again while it waits adds nothing', async () => {
      const client = new pg.Client({ connectionString: server.databaseUrl });
      await client.connect();
      try {
        // What a worker that died mid-send leaves: the row, leased until a moment now past.
        await client.query(
          `INSERT INTO password_reset_requests (email, requested_at, leased_until)
           VALUES ('owner@example.com', now() - interval '5 minutes', now() - interval '1 minute')`,
        );
        // Asking again finds it waiting, and the wake this brings lets a worker take it over.
        assert.equal((await askReset(server, 'OWNER@example.com')).status, 202);
        const [mail] = await smtp.waitForMessages(1);
        assert.deepEqual(mail?.to, ['Owner@example.com']);
        assert.match(mail?.text ?? '', /set-password\?token=/);
        await waitFor('the reset to be forgotten once sent', async () => {
          const left = await client.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM password_reset_requests',
          );
          return left.rows[0]?.n === 0;
        });
      } finally {
        await client.end();
      }
      // The one row was sent and then forgotten: nothing is left to send again.
      assert.equal(smtp.messages.length, 1, 'one email, not one per request');
    });

    it('is not sent by a worker whose claim another worker has taken over', async () => {
      const { db } = server.app.context;
      const now = new Date();
      const mine = new Date(now.getTime() + 60_000);
      await sessionsRepository.askPasswordReset(db, 'late@example.com', now);
      assert.deepEqual(await sessionsRepository.claimPasswordResets(db, now, mine, 20), ['late@example.com']);
      // Its lease ran out while it sent others, and another worker claimed the row.
      const theirs = new Date(now.getTime() + 120_000);
      await db.updateTable('password_reset_requests').set({ leased_until: theirs }).execute();
      assert.equal(
        await sessionsRepository.keepPasswordReset(db, 'late@example.com', mine, theirs),
        false,
        'no longer ours: not sent',
      );
      assert.equal(
        await sessionsRepository.keepPasswordReset(
          db,
          'late@example.com',
          theirs,
          new Date(now.getTime() + 180_000),
        ),
        true,
        'still theirs',
      );
      await sessionsRepository.forgetPasswordReset(db, 'late@example.com');
    });
  });
});
