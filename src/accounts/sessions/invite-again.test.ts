import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../testing/harness.js';

/**
 * Inviting a person again (one who has no password yet) sends a new link, and nothing else: it does not
 * change their role or name. An invitation that asks for another role or name still sends the link (the
 * console's form always sends both), and its answer says they stayed and where to change them, rather
 * than pass for done. (The test server has no SMTP relay: every link comes back in the answer.)
 */
describe('console: inviting a person again', () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  const userOf = async (id: string) => (await server.callOk('GET', `/v2/users/${id}`)).data;

  it('sends a new link for another role or full name, saying they stay as they were and where to change them', async () => {
    const first = await server.callOk('POST', '/api/console/invitations', {
      email: 'again.admin@example.com',
      fullName: 'N',
      role: 'admin',
    });
    assert.ok(first.link);
    assert.equal(first.unchanged, undefined);

    const promoted = await server.call('POST', '/api/console/invitations', {
      email: 'Again.Admin@Example.com',
      fullName: 'N',
      role: 'owner',
    });
    assert.equal(promoted.status, 201, JSON.stringify(promoted.body));
    assert.ok(promoted.body.link && promoted.body.link !== first.link);
    assert.match(promoted.body.unchanged, /with the role admin/);
    assert.ok(promoted.body.unchanged.includes(`PATCH /v2/users/${first.userId}`), promoted.body.unchanged);
    assert.equal((await userOf(first.userId)).role.name, 'Admin');

    const renamed = await server.call('POST', '/api/console/invitations', {
      email: 'again.admin@example.com',
      fullName: 'Nora Newname',
      role: 'admin',
    });
    assert.equal(renamed.status, 201, JSON.stringify(renamed.body));
    assert.match(renamed.body.unchanged, /"N"/);
    assert.equal((await userOf(first.userId)).fullName, 'N');
  });

  it('invites an owner without a password again from the console form, which always sends a role', async () => {
    const made = await server.callOk('POST', '/api/console/invitations', {
      email: 'again.owner@example.com',
      fullName: 'Olga Owner',
    });
    await server.callOk('PATCH', `/v2/users/${made.userId}`, { role: { name: 'Owner' } });
    const again = await server.call('POST', '/api/console/invitations', {
      email: 'again.owner@example.com',
      fullName: 'Olga Owner',
      role: 'user',
    });
    assert.equal(again.status, 201, JSON.stringify(again.body));
    assert.ok(again.body.link);
    assert.match(again.body.unchanged, /with the role owner/);
    assert.equal((await userOf(made.userId)).role.name, 'Owner');
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
