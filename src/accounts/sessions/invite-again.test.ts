import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../testing/harness.js';

/**
 * Inviting a person again (one who has no password yet) sends a new link, and nothing else: it does not
 * change their role or name. So an invitation that asks for another role or name is refused, saying where
 * to change it, rather than answered 201 as if it had been done. (The test server has no SMTP relay:
 * every link comes back in the answer.)
 */
describe('console: inviting a person again', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  const userOf = async (id: string) => (await server.callOk('GET', `/v2/users/${id}`)).data;

  it('refuses another role or full name, saying where to change it; the person stays as they were', async () => {
    const first = await server.callOk('POST', '/api/console/invitations', {
      email: 'again.admin@example.com',
      fullName: 'N',
      role: 'admin',
    });
    assert.ok(first.link);

    const promoted = await server.call('POST', '/api/console/invitations', {
      email: 'Again.Admin@Example.com',
      fullName: 'N',
      role: 'owner',
    });
    assert.equal(promoted.status, 409, JSON.stringify(promoted.body));
    assert.match(promoted.body.message, /with the role admin/);
    assert.ok(promoted.body.message.includes(`PATCH /v2/users/${first.userId}`), promoted.body.message);
    assert.equal((await userOf(first.userId)).role.name, 'Admin');

    const renamed = await server.call('POST', '/api/console/invitations', {
      email: 'again.admin@example.com',
      fullName: 'Nora Newname',
      role: 'admin',
    });
    assert.equal(renamed.status, 409, JSON.stringify(renamed.body));
    assert.match(renamed.body.message, /"N"/);
    assert.equal((await userOf(first.userId)).fullName, 'N');
  });

  it('sends a new link when the role and name are the same, or the role is left out', async () => {
    const first = await server.callOk('POST', '/api/console/invitations', {
      email: 'again.same@example.com',
      fullName: 'Sam Same',
      role: 'admin',
    });
    const same = await server.call('POST', '/api/console/invitations', {
      email: 'AGAIN.SAME@example.com',
      fullName: 'Sam Same',
      role: 'admin',
    });
    assert.equal(same.status, 201, JSON.stringify(same.body));
    assert.equal(same.body.userId, first.userId);
    assert.ok(same.body.link && same.body.link !== first.link);
    const noRole = await server.call('POST', '/api/console/invitations', {
      email: 'again.same@example.com',
      fullName: 'Sam Same',
    });
    assert.equal(noRole.status, 201, JSON.stringify(noRole.body));
    assert.equal((await userOf(first.userId)).role.name, 'Admin');
  });

  it("adds a new person invited without a role as a user, and takes 'user' again for a custom user role", async () => {
    const added = await server.callOk('POST', '/api/console/invitations', {
      email: 'again.plain@example.com',
      fullName: 'Pat Plain',
    });
    assert.equal((await userOf(added.userId)).role.name, 'User');
    await server.callOk('POST', '/v2/roles', {
      name: 'Responder',
      extendedRole: 'user',
      grantedRights: [],
      disallowedRights: [],
    });
    await server.callOk('PATCH', `/v2/users/${added.userId}`, { role: { name: 'Responder' } });
    const again = await server.call('POST', '/api/console/invitations', {
      email: 'again.plain@example.com',
      fullName: 'Pat Plain',
      role: 'user',
    });
    assert.equal(again.status, 201, JSON.stringify(again.body));
    assert.equal((await userOf(added.userId)).role.name, 'Responder');
  });

  it('takes the email addresses POST /v2/users takes as usernames, and refuses those it refuses', async () => {
    const long = `${'l'.repeat(90)}@example.com`;
    const asUser = await server.call('POST', '/v2/users', {
      username: long,
      fullName: 'L',
      role: { name: 'User' },
    });
    assert.equal(asUser.status, 422, JSON.stringify(asUser.body));
    const invited = await server.call('POST', '/api/console/invitations', { email: long, fullName: 'L' });
    assert.equal(invited.status, 422, JSON.stringify(invited.body));
    assert.ok(invited.body.errors.email, JSON.stringify(invited.body));
    const fits = `${'f'.repeat(88)}@example.com`;
    assert.equal(fits.length, 100);
    const made = await server.call('POST', '/api/console/invitations', { email: fits, fullName: 'F' });
    assert.equal(made.status, 201, JSON.stringify(made.body));
  });
});
