import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DomainError } from '../../errors.js';
import { createLogger } from '../../logger.js';
import { startTestServer, type TestServer } from '../../testing/harness.js';
import { systemClock } from '../../work/clock.js';
import { hashPassword } from '../passwords.js';
import { createSessionsService } from './service.js';

const PASSWORD = 'correct horse battery staple';
const client = { ip: '127.0.0.1', userAgent: 'test' };

/**
 * The public routes that take a new password hash it with Argon2id (19 MiB, tens of milliseconds): anyone
 * could keep the server busy with requests bound to be refused, unless the refusal comes first.
 */
describe('console: what anyone may ask is refused before a password is hashed', () => {
  let server: TestServer;
  let hashes = 0;
  let sessions: ReturnType<typeof createSessionsService>;
  before(async () => {
    server = await startTestServer({
      env: { VIGIL_BOOTSTRAP_ADMIN_EMAIL: 'owner@example.com', VIGIL_BOOTSTRAP_ADMIN_PASSWORD: PASSWORD },
    });
    const { db, config, accounts } = server.app.context;
    sessions = createSessionsService({
      db,
      clock: systemClock,
      log: createLogger('silent'),
      config,
      accounts,
      mailer: { send: async () => false, close: () => {} },
      signal: { wake: () => {} },
      hashPassword: (password) => {
        hashes += 1;
        return hashPassword(password);
      },
    });
  });
  after(() => server.stop());

  const refusal = (kind: DomainError['kind']) => (error: unknown) =>
    error instanceof DomainError && error.kind === kind;

  it('refuses a link that cannot work without hashing, and hashes once for one that does', async () => {
    const bogus = await fetch(`${server.url}/api/console/password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token: 'no-such-link', password: PASSWORD }),
    });
    assert.equal(bogus.status, 401);

    hashes = 0;
    await assert.rejects(
      sessions.setPassword({ token: 'no-such-link', password: PASSWORD }, client),
      refusal('unauthenticated'),
    );
    assert.equal(hashes, 0, 'an unknown link is refused before the password is hashed');

    const invited = await server.callOk('POST', '/api/console/invitations', {
      email: 'ivy@example.com',
      fullName: 'Ivy',
    });
    const token = new URL(invited.link).searchParams.get('token') ?? '';
    await sessions.setPassword({ token, password: PASSWORD }, client);
    assert.equal(hashes, 1, 'a working link hashes the password (the count sees the hashing)');

    await assert.rejects(
      sessions.setPassword({ token, password: PASSWORD }, client),
      refusal('unauthenticated'),
    );
    assert.equal(hashes, 1, 'a used link is refused before the password is hashed');
  });

  it('refuses a set-up of a database already set up without hashing', async () => {
    const again = await fetch(`${server.url}/api/console/setup`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        organizationName: 'Evil',
        fullName: 'Eve',
        email: 'eve@example.com',
        password: PASSWORD,
      }),
    });
    assert.equal(again.status, 409);

    hashes = 0;
    await assert.rejects(
      sessions.setUp(
        { organizationName: 'Evil', fullName: 'Eve', email: 'eve@example.com', password: PASSWORD },
        client,
      ),
      refusal('conflict'),
    );
    assert.equal(hashes, 0);
  });
});
