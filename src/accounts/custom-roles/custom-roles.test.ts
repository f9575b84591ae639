import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  startTestServer,
  type Json,
  type TestServer,
  addUserWithKey,
  type TestUser as User,
} from '../../testing/harness.js';
import { createActionLinks, loadLinkSecret } from '../../notify/links.js';
import { hashPassword } from '../passwords.js';
import { sessionsRepository } from '../sessions/repository.js';

/**
 * Opsgenie's Custom User Role API on the real server: roles are made, read (by id or name), replaced and
 * deleted in the shapes of Opsgenie's Go SDK; users are given them by name and GET /v2/users names them;
 * what a holder may do follows the role where Vigil has a check (alert actions through their key or a
 * console session, creating and deleting alerts, attachments, their own contacts, notification rules,
 * profile and username, maintenance, team configuration); a role still held, a name taken,
 * reserved names, unknown rights and hostile input are refused with a 4xx and leave nothing behind.
 */

let server: TestServer;
const run = randomUUID().slice(0, 6);
const PASSWORD = 'correct horse battery staple';

const userWithKey = (local: string): Promise<User> => addUserWithKey(server, local, run);

async function createRole(body: Json): Promise<string> {
  return (await server.callOk('POST', '/v2/roles', body)).data.id;
}

const giveRole = (user: User, name: string) =>
  server.callOk('PATCH', `/v2/users/${user.id}`, { role: { name } });

const storedRoles = () =>
  server.app.context.db
    .selectFrom('custom_user_roles')
    .select(['name', 'extended_role', 'granted_rights', 'disallowed_rights'])
    .orderBy('name')
    .execute();

/** Opsgenie's envelope: how long the request took (seconds) and its id. */
function assertEnvelope(body: Json): void {
  assert.equal(typeof body.took, 'number', JSON.stringify(body));
  assert.ok(typeof body.requestId === 'string' && body.requestId !== '', JSON.stringify(body));
}

/**
 * An open alert that is `holder`'s (visible to them): a user sees only their own alerts unless their role
 * grants alerts-access-all (alerts/visibility.ts), and these tests are about the other rights.
 */
async function openAlert(holder: User): Promise<string> {
  const alias = `custom-roles-${randomUUID()}`;
  await server.callOk('POST', '/v2/alerts', {
    message: `alert ${alias}`,
    alias,
    visibleTo: [{ type: 'user', id: holder.id }],
  });
  return (await server.callOk('GET', `/v2/alerts/${alias}?identifierType=alias`)).data.id;
}

const alertRow = (id: string) =>
  server.app.context.db
    .selectFrom('alerts')
    .select(['acknowledged', 'status'])
    .where('id', '=', id)
    .executeTakeFirst();

before(async () => {
  server = await startTestServer();
});

after(async () => {
  await server?.stop();
});

describe('custom user roles: /v2/roles as Opsgenie and its Go SDK speak it', () => {
  it('creates, reads by id and by name, lists, replaces and deletes a role', async () => {
    // custom_user_role.CreateRequest as the Go SDK marshals it (omitempty lists left out when empty).
    const createRequest = {
      name: `Responder ${run}`,
      extendedRole: 'user',
      grantedRights: ['alert-delete', 'logs-page-access'],
      disallowedRights: ['profile-edit', 'contacts-edit'],
    };
    const created = await server.call('POST', '/v2/roles', createRequest);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.result, 'Created');
    const id = created.body.data.id;
    assert.equal(created.body.data.name, `Responder ${run}`);
    assertEnvelope(created.body);

    // The response schemas serialize the answers and drop what they do not list: every field sent comes back.
    const read = await server.callOk('GET', `/v2/roles/${id}`);
    assert.deepEqual(read.data, { id, ...createRequest });
    assertEnvelope(read);

    const expected = {
      id,
      name: `Responder ${run}`,
      extendedRole: 'user',
      grantedRights: ['alert-delete', 'logs-page-access'],
      disallowedRights: ['profile-edit', 'contacts-edit'],
    };
    const byName = await server.callOk(
      'GET',
      `/v2/roles/${encodeURIComponent(`responder ${run}`)}?identifierType=name`,
    );
    assert.deepEqual(byName.data, expected);
    assert.deepEqual((await server.callOk('GET', `/v2/roles/${id}?identifierType=id`)).data, expected);
    assert.deepEqual((await server.callOk('GET', `/v2/roles/${id}`)).data, expected, 'id is the default');
    const listed = await server.callOk('GET', '/v2/roles');
    assert.deepEqual(
      listed.data.find((r: Json) => r.id === id),
      expected,
    );
    assertEnvelope(listed);

    // custom_user_role.UpdateRequest: a PUT by id with the whole role. An empty grantedRights is left out
    // by omitempty, so a role whose last granted right was dropped reads back with none.
    const replaced = await server.call('PUT', `/v2/roles/${id}?identifierType=id`, {
      name: `Watcher ${run}`,
      extendedRole: 'stakeholder',
      disallowedRights: ['contacts-edit'],
    });
    assert.equal(replaced.status, 200, JSON.stringify(replaced.body));
    assert.deepEqual(
      { result: replaced.body.result, data: replaced.body.data },
      { result: 'Updated', data: { id, name: `Watcher ${run}` } },
    );
    assertEnvelope(replaced.body);
    assert.deepEqual(
      (await storedRoles()).find((r) => r.name === `Watcher ${run}`),
      {
        name: `Watcher ${run}`,
        extended_role: 'stakeholder',
        granted_rights: [],
        disallowed_rights: ['contacts-edit'],
      },
    );
    // A PUT by name without a name keeps it; extendedRole left out is user, Opsgenie's default.
    await server.callOk('PUT', `/v2/roles/${encodeURIComponent(`Watcher ${run}`)}?identifierType=name`, {
      grantedRights: ['reports-access'],
    });
    assert.deepEqual((await server.callOk('GET', `/v2/roles/${id}`)).data, {
      id,
      name: `Watcher ${run}`,
      extendedRole: 'user',
      grantedRights: ['reports-access'],
      disallowedRights: [],
    });

    const deleted = await server.call('DELETE', `/v2/roles/${id}?identifierType=id`);
    assert.equal(deleted.status, 200);
    assert.equal(deleted.body.result, 'Deleted');
    assertEnvelope(deleted.body);
    assert.equal((await server.call('GET', `/v2/roles/${id}`)).status, 404);
    assert.equal((await server.call('DELETE', `/v2/roles/${id}`)).status, 404);
    assert.equal(
      (await storedRoles()).find((r) => r.name === `Watcher ${run}`),
      undefined,
      'the row is gone',
    );
  });

  it('gives users a custom role by name and shows it on GET /v2/users; a role held is not deleted', async () => {
    const name = `On call ${run}`;
    const roleId = await createRole({ name, extendedRole: 'user' });
    const user = await userWithKey('holder');
    await giveRole(user, name.toUpperCase());
    const shown = await server.callOk('GET', `/v2/users/${user.id}`);
    assert.deepEqual(shown.data.role, { id: roleId, name });
    const listed = await server.callOk('GET', '/v2/users?limit=500');
    assert.deepEqual(listed.data.find((u: Json) => u.id === user.id).role, { id: roleId, name });
    const row = await server.app.context.db
      .selectFrom('users')
      .select(['role', 'custom_role_id'])
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(row, { role: 'user', custom_role_id: roleId });

    // A user made with a custom role from the start, as opsgenie_user's Create sends it.
    const made = await server.callOk('POST', '/v2/users', {
      username: `born-${run}@example.com`,
      fullName: 'Born With A Role',
      role: { name },
    });
    assert.equal((await server.callOk('GET', `/v2/users/${made.data.id}`)).data.role.name, name);

    const refused = await server.call('DELETE', `/v2/roles/${roleId}`);
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.match(
      refused.body.message,
      new RegExp(`held by .*born-${run}@example.com.*holder-${run}@example.com`),
    );
    assert.ok(
      (await storedRoles()).some((r) => r.name === name),
      'the role is still there',
    );

    // Given back the built-in role, they free it.
    await giveRole(user, 'User');
    await server.callOk('PATCH', `/v2/users/${made.data.id}`, { role: { name: 'admin' } });
    assert.deepEqual((await server.callOk('GET', `/v2/users/${user.id}`)).data.role, {
      id: 'User',
      name: 'User',
    });
    await server.callOk('DELETE', `/v2/roles/${roleId}`);
    assert.ok(!(await storedRoles()).some((r) => r.name === name));

    // A role name the organization does not have is a 422 on role.name, and changes nothing.
    const unknown = await server.call('PATCH', `/v2/users/${user.id}`, { role: { name: 'Nobody Has This' } });
    assert.equal(unknown.status, 422);
    assert.match(unknown.body.errors['role.name'], /GET \/v2\/roles/);
    assert.equal((await server.callOk('GET', `/v2/users/${user.id}`)).data.role.name, 'User');
  });

  it('refuses a name taken (in any case), a default role name, and changes by non-admins', async () => {
    const name = `Duty ${run}`;
    const id = await createRole({ name });
    const again = await server.call('POST', '/v2/roles', { name: name.toLowerCase() });
    assert.equal(again.status, 409);
    assert.match(again.body.message, /already exists/);
    const otherId = await createRole({ name: `Other ${run}` });
    const rename = await server.call('PUT', `/v2/roles/${otherId}`, { name: name.toUpperCase() });
    assert.equal(rename.status, 409);
    assert.equal((await server.callOk('GET', `/v2/roles/${otherId}`)).data.name, `Other ${run}`);

    for (const reserved of ['Admin', 'owner', 'USER', 'Stakeholder', ' observer ']) {
      const answer = await server.call('POST', '/v2/roles', { name: reserved });
      assert.equal(answer.status, 422, reserved);
      assert.match(answer.body.errors.name, /default roles/);
    }

    const plain = await userWithKey('plain');
    for (const [method, path, body] of [
      ['POST', '/v2/roles', { name: `Mine ${run}` }],
      ['PUT', `/v2/roles/${id}`, { name: `Mine ${run}` }],
      ['DELETE', `/v2/roles/${id}`, undefined],
    ] as const) {
      const answer = await server.call(method, path, body, plain.key);
      assert.equal(answer.status, 403, `${method} ${path}`);
      assert.match(answer.body.message, /organization admins/);
    }
    // Reading is for everyone in the organization.
    assert.equal((await server.call('GET', `/v2/roles/${id}`, undefined, plain.key)).status, 200);
    assert.equal((await server.callOk('GET', `/v2/roles/${id}`)).data.name, name);
  });

  it('refuses hostile input with a 4xx and stores nothing', async () => {
    const before = await storedRoles();
    const cases: [string, Json][] = [
      ['a 10,000-character name', { name: 'x'.repeat(10_000) }],
      ['a NUL byte in the name', { name: `nul\u0000${run}` }],
      ['a control character in the name', { name: `bell\u0007${run}` }],
      ['an empty name', { name: '' }],
      ['a blank name', { name: '   ' }],
      ['no name', { grantedRights: ['alert-delete'] }],
      ['an unknown right', { name: `R1 ${run}`, grantedRights: ['alert-delete', 'launch-missiles'] }],
      ['an unknown disallowed right', { name: `R2 ${run}`, disallowedRights: ['ALERT-ACTION'] }],
      [
        'a right both granted and disallowed',
        { name: `R3 ${run}`, grantedRights: ['alert-close'], disallowedRights: ['alert-close'] },
      ],
      ['an admin extended role', { name: `R4 ${run}`, extendedRole: 'admin' }],
      ['a right of 10,000 characters', { name: `R5 ${run}`, grantedRights: ['a'.repeat(10_000)] }],
      ['10,000 rights', { name: `R6 ${run}`, grantedRights: Array(10_000).fill('alert-close') }],
      ['rights as an object', { name: `R7 ${run}`, grantedRights: { right: 'alert-close' } }],
      ['a name as an object', { name: { text: 'x' } }],
    ];
    for (const [what, body] of cases) {
      const answer = await server.call('POST', '/v2/roles', body);
      assert.ok(answer.status >= 400 && answer.status < 500, `${what}: ${answer.status}`);
    }
    const unknown = await server.call('POST', '/v2/roles', {
      name: `R8 ${run}`,
      grantedRights: ['launch-missiles'],
    });
    assert.equal(unknown.status, 422);
    assert.match(unknown.body.errors.grantedRights, /"launch-missiles".*alert-action/);
    assert.deepEqual(await storedRoles(), before, 'nothing was stored');

    const huge = await server.call('GET', `/v2/roles/${'y'.repeat(10_000)}?identifierType=name`);
    assert.ok(huge.status >= 400 && huge.status < 500, `a huge identifier: ${huge.status}`);
    const nul = await server.call('GET', `/v2/roles/a%00b?identifierType=name`);
    assert.ok(nul.status >= 400 && nul.status < 500, `a NUL identifier: ${nul.status}`);
    const badType = await server.call('GET', `/v2/roles/x?identifierType=tiny`);
    assert.equal(badType.status, 422);
    const hugeUserRole = await server.call('POST', '/v2/users', {
      username: `huge-${run}@example.com`,
      fullName: 'Huge',
      role: { name: 'z'.repeat(10_000) },
    });
    assert.ok(hugeUserRole.status >= 400 && hugeUserRole.status < 500);
    const userRow = await server.app.context.db
      .selectFrom('users')
      .select('id')
      .where('username', '=', `huge-${run}@example.com`)
      .executeTakeFirst();
    assert.equal(userRow, undefined);
  });
});

describe('custom user roles: what their holders may do', () => {
  it('a role taking away alert-action refuses acks and notes (403) until it is granted again', async () => {
    const name = `No actions ${run}`;
    const roleId = await createRole({ name, extendedRole: 'user', disallowedRights: ['alert-action'] });
    const user = await userWithKey('hands-off');
    await giveRole(user, name);
    const alertId = await openAlert(user);

    const ack = await server.call('POST', `/v2/alerts/${alertId}/acknowledge`, {}, user.key);
    assert.equal(ack.status, 403, JSON.stringify(ack.body));
    assert.match(ack.body.message, new RegExp(`role \\[${name}\\].*alert-acknowledge`));
    const note = await server.call('POST', `/v2/alerts/${alertId}/notes`, { note: 'me too' }, user.key);
    assert.equal(note.status, 403);
    const bulk = await server.call(
      'POST',
      '/v2/bulk/alerts/acknowledge',
      { identifiers: [alertId] },
      user.key,
    );
    assert.equal(bulk.status, 403, JSON.stringify(bulk.body));
    assert.deepEqual(await alertRow(alertId), { acknowledged: false, status: 'open' });
    const notes = await server.callOk('GET', `/v2/alerts/${alertId}/notes`);
    assert.equal(notes.data.length, 0, 'no note was added');
    // Creating alerts is a right of its own, which a user-based role keeps.
    const created = await server.call('POST', '/v2/alerts', { message: `by ${run}` }, user.key);
    assert.equal(created.status, 202);

    // Granted again (the PUT replaces the role), the same key acknowledges.
    await server.callOk('PUT', `/v2/roles/${roleId}`, {
      extendedRole: 'user',
      grantedRights: ['alert-action'],
    });
    const again = await server.call('POST', `/v2/alerts/${alertId}/acknowledge`, {}, user.key);
    assert.equal(again.status, 202, JSON.stringify(again.body));
    assert.deepEqual(await alertRow(alertId), { acknowledged: true, status: 'open' });
  });

  it("an email's Acknowledge link says in words that the role does not allow it, and acts on nothing", async () => {
    const name = `No link acks ${run}`;
    await createRole({ name, extendedRole: 'user', disallowedRights: ['alert-acknowledge'] });
    const user = await userWithKey('linked');
    await giveRole(user, name);
    const alertId = await openAlert(user);
    const { org_id: orgId } = await server.app.context.db
      .selectFrom('users')
      .select('org_id')
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    const links = createActionLinks(await loadLinkSecret(server.app.context.db), server.url, 3_600_000);
    const url = links.url({ alertId, userId: user.id, orgId, action: 'acknowledge' }, new Date());
    const pressed = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: '',
    });
    const page = await pressed.text();
    assert.equal(pressed.status, 403);
    assert.match(pressed.headers.get('content-type') ?? '', /text\/html/);
    assert.match(page, /The alert was not acknowledged/);
    assert.match(page, new RegExp(`role \\[${name}\\] does not allow you`));
    assert.deepEqual(await alertRow(alertId), { acknowledged: false, status: 'open' });
  });

  it('a disallowed part of alert-action is refused alone; deleting alerts needs alert-delete', async () => {
    const name = `No closing ${run}`;
    const roleId = await createRole({ name, disallowedRights: ['alert-close'] });
    const user = await userWithKey('no-closer');
    await giveRole(user, name);
    const alertId = await openAlert(user);
    assert.equal((await server.call('POST', `/v2/alerts/${alertId}/acknowledge`, {}, user.key)).status, 202);
    assert.equal((await server.call('POST', `/v2/alerts/${alertId}/close`, {}, user.key)).status, 403);
    assert.deepEqual(await alertRow(alertId), { acknowledged: true, status: 'open' });

    // An Opsgenie user deletes no alerts: the role's holders do not either, until it grants alert-delete.
    const refused = await server.call('DELETE', `/v2/alerts/${alertId}`, undefined, user.key);
    assert.equal(refused.status, 403);
    assert.match(refused.body.message, /alert-delete/);
    assert.ok(await alertRow(alertId), 'the alert is still there');
    await server.callOk('PUT', `/v2/roles/${roleId}`, {
      grantedRights: ['alert-delete'],
      disallowedRights: ['alert-close'],
    });
    assert.equal((await server.call('DELETE', `/v2/alerts/${alertId}`, undefined, user.key)).status, 202);
    assert.equal(await alertRow(alertId), undefined, 'the alert is deleted');

    // A plain user without a custom role acts on alerts as before, and deletes none either: Opsgenie
    // leaves that to owners and admins.
    const plain = await userWithKey('plain-deleter');
    const other = await openAlert(plain);
    const plainDelete = await server.call('DELETE', `/v2/alerts/${other}`, undefined, plain.key);
    assert.equal(plainDelete.status, 403, JSON.stringify(plainDelete.body));
    assert.match(plainDelete.body.message, /owners and admins delete alerts/);
    assert.ok(await alertRow(other), 'the alert is still there');
    assert.equal((await server.call('POST', `/v2/alerts/${other}/close`, {}, plain.key)).status, 202);
    assert.deepEqual(await alertRow(other), { acknowledged: false, status: 'closed' });
    assert.equal((await server.call('DELETE', `/v2/alerts/${other}`)).status, 202, 'an admin deletes it');
    assert.equal(await alertRow(other), undefined);
  });

  it('alert-take-ownership assigns only to oneself: the user assigned decides, not any field naming the caller', async () => {
    const name = `Own only ${run}`;
    await createRole({ name, disallowedRights: ['alert-assign-ownership'] });
    const user = await userWithKey('self-owner');
    const other = await userWithKey('not-me');
    await giveRole(user, name);
    const alertId = await openAlert(user);
    const ownerOf = async () => (await server.callOk('GET', `/v2/alerts/${alertId}`)).data.owner as string;

    // The id names the user assigned (the username only when no id is given): this is an assign to `other`.
    const toOther = { id: other.id, username: user.username };
    const single = await server.call('POST', `/v2/alerts/${alertId}/assign`, { owner: toOther }, user.key);
    assert.equal(single.status, 403, JSON.stringify(single.body));
    assert.match(single.body.message, /alert-assign-ownership/);
    const bulk = await server.call(
      'POST',
      '/v2/bulk/alerts/assign',
      { identifiers: [alertId], owner: toOther },
      user.key,
    );
    assert.equal(bulk.status, 403, JSON.stringify(bulk.body));
    assert.equal(
      (
        await server.call(
          'POST',
          `/v2/alerts/${alertId}/assign`,
          { owner: { username: other.username } },
          user.key,
        )
      ).status,
      403,
    );
    assert.equal(await ownerOf(), '', 'nobody was assigned');

    // Naming themselves, by id (whatever the username says) or by username in any case, they may.
    for (const owner of [
      { id: user.id, username: other.username },
      { username: user.username.toUpperCase() },
    ]) {
      const taken = await server.call('POST', `/v2/alerts/${alertId}/assign`, { owner }, user.key);
      assert.equal(taken.status, 202, JSON.stringify(taken.body));
      assert.equal(await ownerOf(), user.username, JSON.stringify(owner));
    }
    const bulkTaken = await server.call(
      'POST',
      '/v2/bulk/alerts/assign',
      { identifiers: [alertId], owner: { id: user.id } },
      user.key,
    );
    assert.equal(bulkTaken.status, 200, JSON.stringify(bulkTaken.body));
    assert.deepEqual(bulkTaken.body.data, { succeeded: [alertId], failed: [] });
    assert.equal(await ownerOf(), user.username);
  });

  it('a stakeholder-based role creates no alerts and takes no actions unless granted', async () => {
    const name = `Watchers ${run}`;
    await createRole({ name, extendedRole: 'stakeholder', grantedRights: ['alert-add-note'] });
    const user = await userWithKey('watcher');
    await giveRole(user, name);
    const created = await server.call('POST', '/v2/alerts', { message: `watched ${run}` }, user.key);
    assert.equal(created.status, 403);
    assert.match(created.body.message, /alert-create/);
    const alertId = await openAlert(user);
    assert.equal((await server.call('POST', `/v2/alerts/${alertId}/acknowledge`, {}, user.key)).status, 403);
    assert.equal(
      (await server.call('POST', `/v2/alerts/${alertId}/notes`, { note: 'seen' }, user.key)).status,
      202,
    );
    const notes = await server.callOk('GET', `/v2/alerts/${alertId}/notes`);
    assert.deepEqual(
      notes.data.map((n: Json) => n.note),
      ['seen'],
    );
  });

  it('holds for a console session too', async () => {
    const name = `Console no ack ${run}`;
    await createRole({ name, disallowedRights: ['alert-acknowledge'] });
    const user = await userWithKey('console');
    await giveRole(user, name);
    await sessionsRepository.setPassword(
      server.app.context.db,
      user.id,
      await hashPassword(PASSWORD),
      new Date(),
    );
    const signIn = await fetch(`${server.url}/api/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ email: user.username, password: PASSWORD }),
    });
    assert.equal(signIn.status, 200);
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    const { csrfToken } = (await signIn.json()) as { csrfToken: string };
    const alertId = await openAlert(user);
    const act = (action: string) =>
      fetch(`${server.url}/v2/alerts/${alertId}/${action}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': csrfToken },
        body: '{}',
      });
    const ack = await act('acknowledge');
    assert.equal(ack.status, 403);
    assert.match(((await ack.json()) as { message: string }).message, /alert-acknowledge/);
    assert.deepEqual(await alertRow(alertId), { acknowledged: false, status: 'open' });
    assert.equal((await act('close')).status, 202);
    assert.deepEqual(await alertRow(alertId), { acknowledged: false, status: 'closed' });
  });

  it('configurations-edit edits every team as its admins would; configurations-delete deletes teams', async () => {
    const team = `elsewhere-${run}`;
    const teamId = (await server.callOk('POST', '/v2/teams', { name: team })).data.id;
    const name = `Configurer ${run}`;
    const roleId = await createRole({ name });
    const user = await userWithKey('configurer');
    await giveRole(user, name);

    const teamRole = { name: `Helper ${run}`, rights: [] };
    const refused = await server.call('POST', `/v2/teams/${teamId}/roles`, teamRole, user.key);
    assert.equal(refused.status, 403, 'a user-based role does not configure teams of others');

    await server.callOk('PUT', `/v2/roles/${roleId}`, { grantedRights: ['configurations-edit'] });
    const made = await server.call('POST', `/v2/teams/${teamId}/roles`, teamRole, user.key);
    assert.equal(made.status, 201, JSON.stringify(made.body));
    const roles = await server.callOk('GET', `/v2/teams/${teamId}/roles`);
    assert.deepEqual(
      roles.data.map((r: Json) => r.name),
      [`Helper ${run}`],
    );
    assert.equal((await server.call('DELETE', `/v2/teams/${teamId}`, undefined, user.key)).status, 403);

    await server.callOk('PUT', `/v2/roles/${roleId}`, {
      grantedRights: ['configurations-edit', 'configurations-delete'],
    });
    assert.equal((await server.call('DELETE', `/v2/teams/${teamId}`, undefined, user.key)).status, 200);
    assert.equal((await server.call('GET', `/v2/teams/${teamId}`)).status, 404);
  });
});

describe('custom user roles: own settings, attachments and maintenance', () => {
  const contactsOf = (userId: string) =>
    server.app.context.db
      .selectFrom('contact_methods')
      .select(['method', 'address', 'enabled'])
      .where('user_id', '=', userId)
      .orderBy('address')
      .execute();
  const ruleNamesOf = async (userId: string) =>
    (
      await server.app.context.db
        .selectFrom('notification_rules')
        .select('name')
        .where('user_id', '=', userId)
        .orderBy('name')
        .execute()
    ).map((r) => r.name);
  const profileOf = (userId: string) =>
    server.app.context.db
      .selectFrom('users')
      .select(['username', 'full_name', 'time_zone'])
      .where('id', '=', userId)
      .executeTakeFirstOrThrow();

  it('contacts-edit, notification-rules-edit, profile-edit and login-email-edit hold for their own settings', async () => {
    const name = `Hands tied ${run}`;
    const roleId = await createRole({
      name,
      extendedRole: 'user',
      disallowedRights: ['contacts-edit', 'notification-rules-edit', 'profile-edit'],
    });
    const user = await userWithKey('tied');
    await giveRole(user, name);
    const contactsBefore = await contactsOf(user.id);
    const rulesBefore = await ruleNamesOf(user.id);
    const profileBefore = await profileOf(user.id);
    const [email] = await server.callOk('GET', `/v2/users/${user.id}/contacts`).then((r) => r.data);
    const [rule] = await server.callOk('GET', `/v2/users/${user.id}/notification-rules`).then((r) => r.data);

    const refusals: [string, string, Json | undefined, string][] = [
      ['POST', `/v2/users/${user.id}/contacts`, { method: 'sms', to: '+442079460100' }, 'contacts-edit'],
      ['POST', `/v2/users/${user.id}/contacts/${email.id}/disable`, undefined, 'contacts-edit'],
      ['DELETE', `/v2/users/${user.id}/contacts/${email.id}`, undefined, 'contacts-edit'],
      [
        'POST',
        `/v2/users/${user.id}/notification-rules`,
        { name: `Mine ${run}`, actionType: 'acknowledged-alert' },
        'notification-rules-edit',
      ],
      ['DELETE', `/v2/users/${user.id}/notification-rules/${rule.id}`, undefined, 'notification-rules-edit'],
      ['PATCH', `/v2/users/${user.id}`, { fullName: 'Someone Else' }, 'profile-edit'],
      ['PATCH', `/v2/users/${user.id}`, { timeZone: 'Europe/Rome' }, 'profile-edit'],
      ['PATCH', `/v2/users/${user.id}`, { username: `renamed-${run}@example.com` }, 'login-email-edit'],
    ];
    for (const [method, path, body, right] of refusals) {
      const answer = await server.call(method, path, body, user.key);
      assert.equal(answer.status, 403, `${method} ${path}: ${JSON.stringify(answer.body)}`);
      assert.match(answer.body.message, new RegExp(`role \\[${name}\\] does not allow you.*${right}.*admin`));
    }
    assert.deepEqual(await contactsOf(user.id), contactsBefore, 'no contact changed');
    assert.deepEqual(await ruleNamesOf(user.id), rulesBefore, 'no rule changed');
    assert.deepEqual(await profileOf(user.id), profileBefore, 'the profile is as it was');
    // Reading their own stays theirs.
    assert.equal(
      (await server.call('GET', `/v2/users/${user.id}/contacts`, undefined, user.key)).status,
      200,
    );

    // Org admins acting on them are unaffected.
    await server.callOk('POST', `/v2/users/${user.id}/contacts`, { method: 'sms', to: '+442079460101' });
    await server.callOk('PATCH', `/v2/users/${user.id}`, { fullName: 'Set By Admin' });
    assert.equal((await profileOf(user.id)).full_name, 'Set By Admin');

    // Granted (the PUT replaces the role), the same key changes all four.
    await server.callOk('PUT', `/v2/roles/${roleId}`, { grantedRights: ['login-email-edit'] });
    const added = await server.call(
      'POST',
      `/v2/users/${user.id}/contacts`,
      { method: 'sms', to: '+442079460102' },
      user.key,
    );
    assert.equal(added.status, 201, JSON.stringify(added.body));
    const ruled = await server.call(
      'POST',
      `/v2/users/${user.id}/notification-rules`,
      { name: `Mine ${run}`, actionType: 'acknowledged-alert' },
      user.key,
    );
    assert.equal(ruled.status, 201, JSON.stringify(ruled.body));
    const renamed = `renamed-${run}@example.com`;
    const patched = await server.call(
      'PATCH',
      `/v2/users/${user.id}`,
      { username: renamed, fullName: 'Their Own Name', timeZone: 'Europe/Rome' },
      user.key,
    );
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual(await profileOf(user.id), {
      username: renamed,
      full_name: 'Their Own Name',
      time_zone: 'Europe/Rome',
    });
    assert.ok((await contactsOf(user.id)).some((c) => c.address === '+442079460102'));
    assert.ok((await ruleNamesOf(user.id)).includes(`Mine ${run}`));
    // Their role or blocking stay an admin's, whatever the role grants.
    const promoted = await server.call(
      'PATCH',
      `/v2/users/${user.id}`,
      { role: { name: 'Admin' } },
      user.key,
    );
    assert.equal(promoted.status, 403);

    // A plain user without a custom role is as before: their profile yes, their username no.
    const plain = await userWithKey('plain-profile');
    const plainName = await server.call(
      'PATCH',
      `/v2/users/${plain.id}`,
      { username: `plain-renamed-${run}@example.com` },
      plain.key,
    );
    assert.equal(plainName.status, 403);
    assert.match(plainName.body.message, /Only organization admins/);
    assert.equal((await profileOf(plain.id)).username, plain.username);
    await server.callOk('PATCH', `/v2/users/${plain.id}`, { fullName: 'Plain Again' }, plain.key);
    assert.equal((await profileOf(plain.id)).full_name, 'Plain Again');
    const plainContact = await server.call(
      'POST',
      `/v2/users/${plain.id}/contacts`,
      { method: 'sms', to: '+442079460103' },
      plain.key,
    );
    assert.equal(plainContact.status, 201);
  });

  it('alert-add-attachment and alert-delete-attachment hold for attachments, as parts of alert-action', async () => {
    const name = `No files ${run}`;
    const roleId = await createRole({
      name,
      disallowedRights: ['alert-add-attachment', 'alert-delete-attachment'],
    });
    const user = await userWithKey('no-files');
    await giveRole(user, name);
    const alertId = await openAlert(user);
    const upload = async (key: string, text: string) => {
      const form = new FormData();
      form.append('file', new Blob([text], { type: 'text/plain' }), `${text}.txt`);
      const response = await fetch(`${server.url}/v2/alerts/${alertId}/attachments`, {
        method: 'POST',
        headers: { authorization: `GenieKey ${key}` },
        body: form,
      });
      return { status: response.status, body: (await response.json()) as Json };
    };
    const namesOf = async () =>
      (
        await server.app.context.db
          .selectFrom('alert_attachments')
          .select('name')
          .where('alert_id', '=', alertId)
          .orderBy('name')
          .execute()
      ).map((a) => a.name);

    assert.equal((await upload(server.key, 'by-admin')).status, 200);
    const [stored] = (await server.callOk('GET', `/v2/alerts/${alertId}/attachments`)).data;

    const added = await upload(user.key, 'refused');
    assert.equal(added.status, 403, JSON.stringify(added.body));
    assert.match(added.body.message, new RegExp(`role \\[${name}\\].*alert-add-attachment`));
    const removed = await server.call(
      'DELETE',
      `/v2/alerts/${alertId}/attachments/${stored.id}`,
      undefined,
      user.key,
    );
    assert.equal(removed.status, 403, JSON.stringify(removed.body));
    assert.match(removed.body.message, /alert-delete-attachment/);
    assert.deepEqual(await namesOf(), ['by-admin.txt'], 'nothing added, nothing deleted');
    // The rest of alert-action is theirs.
    assert.equal((await server.call('POST', `/v2/alerts/${alertId}/acknowledge`, {}, user.key)).status, 202);

    // Granted alone while alert-action is taken away, adding is theirs and deleting (a part of it) is not.
    await server.callOk('PUT', `/v2/roles/${roleId}`, {
      grantedRights: ['alert-add-attachment'],
      disallowedRights: ['alert-action'],
    });
    assert.equal((await upload(user.key, 'granted')).status, 200);
    assert.equal(
      (await server.call('DELETE', `/v2/alerts/${alertId}/attachments/${stored.id}`, undefined, user.key))
        .status,
      403,
    );
    assert.deepEqual(await namesOf(), ['by-admin.txt', 'granted.txt']);
    await server.callOk('PUT', `/v2/roles/${roleId}`, { grantedRights: ['alert-delete-attachment'] });
    const deleted = await server.call(
      'DELETE',
      `/v2/alerts/${alertId}/attachments/${stored.id}`,
      undefined,
      user.key,
    );
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.deepEqual(await namesOf(), ['granted.txt']);
  });

  it("maintenance-edit puts any team's integrations in maintenance; without it, team rights as before", async () => {
    const teamId = (await server.callOk('POST', '/v2/teams', { name: `maintained-${run}` })).data.id;
    const integration = (
      await server.callOk('POST', '/v2/integrations', {
        name: `maintained ${run}`,
        type: 'API',
        ownerTeam: { id: teamId },
      })
    ).data;
    const name = `Maintainer ${run}`;
    const roleId = await createRole({ name });
    const user = await userWithKey('maintainer');
    await giveRole(user, name);
    const body = (description: string) => ({
      description,
      time: { type: 'for-1-hour' },
      rules: [{ state: 'disabled', entity: { id: integration.id, type: 'integration' } }],
    });
    const maintenances = () =>
      server.app.context.db
        .selectFrom('maintenances')
        .select(['id', 'description', 'cancelled_at'])
        .where('description', 'like', `%${run}`)
        .orderBy('description')
        .execute();

    // An Opsgenie user holds no maintenance-edit: the role's holder is refused as a plain user is.
    const refused = await server.call('POST', '/v1/maintenance', body(`refused ${run}`), user.key);
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.match(refused.body.message, new RegExp(`role \\[${name}\\].*maintenance-edit`));
    const byAdmin = (await server.callOk('POST', '/v1/maintenance', body(`by admin ${run}`))).data.id;
    const cancel = await server.call('POST', `/v1/maintenance/${byAdmin}/cancel`, undefined, user.key);
    assert.equal(cancel.status, 403);
    assert.deepEqual(
      (await maintenances()).map((m) => [m.description, m.cancelled_at]),
      [[`by admin ${run}`, null]],
      'nothing made, nothing cancelled',
    );

    // A team admin holding the role keeps the team's maintenance: the role takes no team right away.
    const teamAdmin = await userWithKey('maintenance-team-admin');
    await giveRole(teamAdmin, name);
    await server.callOk('POST', `/v2/teams/${teamId}/members`, {
      user: { id: teamAdmin.id },
      role: 'admin',
    });
    const asTeamAdmin = await server.call(
      'POST',
      '/v1/maintenance',
      body(`team admin ${run}`),
      teamAdmin.key,
    );
    assert.equal(asTeamAdmin.status, 201, JSON.stringify(asTeamAdmin.body));

    // Granted, the holder creates and cancels maintenance on a team they are not in.
    await server.callOk('PUT', `/v2/roles/${roleId}`, { grantedRights: ['maintenance-edit'] });
    const created = await server.call('POST', '/v1/maintenance', body(`granted ${run}`), user.key);
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(
      (await server.call('POST', `/v1/maintenance/${byAdmin}/cancel`, undefined, user.key)).status,
      200,
    );
    const after = await maintenances();
    assert.deepEqual(
      after.map((m) => [m.description, m.cancelled_at !== null]),
      [
        [`by admin ${run}`, true],
        [`granted ${run}`, false],
        [`team admin ${run}`, false],
      ],
    );
  });
});
