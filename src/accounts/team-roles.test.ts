import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../testing/harness.js';
import { TEAM_RIGHTS } from './team-rights.js';

/**
 * Opsgenie's Team Role API on the real server: a team's own roles are made, read (by id or name), changed
 * and deleted, each change on the team's log; members are given them by name; what a member with a custom
 * role may do on the team is what the role grants (routing rules, members, the log), and no more. Unknown
 * rights, the built-in names, a role still held and hostile names are refused with a 4xx.
 */

let server: TestServer;
const run = randomUUID().slice(0, 6);
const lead = `lead-${run}@example.com`;
const newbie = `newbie-${run}@example.com`;
const plain = `plain-${run}@example.com`;
let leadKey: string;
let plainKey: string;

async function keyFor(username: string): Promise<string> {
  return (await server.callOk('POST', '/v2/api-keys', { name: `${username} key`, user: { username } })).data
    .key;
}

async function createTeam(name: string, members: Json[] = []): Promise<string> {
  return (await server.callOk('POST', '/v2/teams', { name, members })).data.id;
}

const storedRoles = (teamId: string) =>
  server.app.context.db
    .selectFrom('team_roles')
    .select(['name', 'rights'])
    .where('team_id', '=', teamId)
    .orderBy('name')
    .execute();

async function membersOf(teamId: string): Promise<Record<string, string>> {
  const team = await server.callOk('GET', `/v2/teams/${teamId}`);
  return Object.fromEntries(team.data.members.map((m: Json) => [m.user.username, m.role]));
}

async function logLines(teamId: string): Promise<string[]> {
  const got = await server.callOk('GET', `/v2/teams/${teamId}/logs?order=asc&limit=100`);
  return got.data.logs.map((l: Json) => l.log);
}

function granted(role: Json): string[] {
  return role.rights.filter((r: Json) => r.granted).map((r: Json) => r.right);
}

before(async () => {
  server = await startTestServer();
  for (const username of [lead, newbie, plain])
    await server.callOk('POST', '/v2/users', { username, fullName: username, role: { name: 'User' } });
  leadKey = await keyFor(lead);
  plainKey = await keyFor(plain);
});

after(async () => {
  await server.stop();
});

describe('team roles', () => {
  it('creates, lists, reads by id or name, changes and deletes a role, each change on the log', async () => {
    const teamName = `roles-${run}`;
    const teamId = await createTeam(teamName);
    const created = await server.call('POST', `/v2/teams/${teamId}/roles`, {
      name: 'Responder',
      rights: [
        { right: 'manage-members', granted: true },
        { right: 'edit-services', granted: true },
        { right: 'edit-routing-rules', granted: false },
      ],
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.result, 'Created');
    assert.equal(created.body.data.name, 'Responder');
    assert.ok(created.body.requestId && typeof created.body.took === 'number');
    const roleId = created.body.data.id;
    assert.deepEqual(await storedRoles(teamId), [
      { name: 'Responder', rights: ['manage-members', 'edit-services'] },
    ]);

    const listed = await server.callOk('GET', `/v2/teams/${teamName}/roles?teamIdentifierType=name`);
    assert.equal(listed.data.length, 1);
    assert.equal(listed.data[0].id, roleId);
    // Every right is shown, granted or not; edit-services (no Vigil feature) is kept as given.
    assert.deepEqual(
      listed.data[0].rights.map((r: Json) => r.right),
      [...TEAM_RIGHTS],
    );
    assert.deepEqual(granted(listed.data[0]), ['manage-members', 'edit-services']);

    const byId = await server.callOk('GET', `/v2/teams/${teamId}/roles/${roleId}`);
    assert.equal(byId.data.name, 'Responder');
    const byName = await server.callOk(
      'GET',
      `/v2/teams/${teamName}/roles/responder?teamIdentifierType=name&identifierType=name`,
    );
    assert.equal(byName.data.id, roleId);
    // Without identifierType=name a name is no id.
    assert.equal((await server.call('GET', `/v2/teams/${teamId}/roles/Responder`)).status, 404);

    const updated = await server.call('PATCH', `/v2/teams/${teamId}/roles/Responder?identifierType=name`, {
      name: 'Lead',
      rights: [
        { right: 'edit-routing-rules', granted: true },
        { right: 'manage-members', granted: false },
      ],
    });
    assert.equal(updated.status, 200, JSON.stringify(updated.body));
    assert.deepEqual(updated.body.data, { id: roleId, name: 'Lead' });
    // Rights not named keep their value.
    assert.deepEqual(await storedRoles(teamId), [
      { name: 'Lead', rights: ['edit-services', 'edit-routing-rules'] },
    ]);

    const deleted = await server.call('DELETE', `/v2/teams/${teamId}/roles/Lead?identifierType=name`);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.equal(deleted.body.result, 'Deleted');
    assert.deepEqual(await storedRoles(teamId), []);
    assert.equal((await server.call('GET', `/v2/teams/${teamId}/roles/${roleId}`)).status, 404);

    const lines = await logLines(teamId);
    assert.ok(
      lines.some((l) =>
        l.startsWith('Team role Responder created with rights manage-members, edit-services by '),
      ),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => l.startsWith('Team role Responder renamed to Lead by ')),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) =>
        l.startsWith('Team role Lead rights changed: granted edit-routing-rules; revoked manage-members by '),
      ),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => l.startsWith('Team role Lead deleted by ')),
      lines.join('\n'),
    );
  });

  it('refuses unknown rights, the built-in names, a taken name and hostile names, with a 4xx', async () => {
    const teamId = await createTeam(`refusals-${run}`);
    const unknown = await server.call('POST', `/v2/teams/${teamId}/roles`, {
      name: 'Odd',
      rights: [
        { right: 'manage-members', granted: true },
        { right: 'fly', granted: true },
        { right: 'edit-everything', granted: false },
      ],
    });
    assert.equal(unknown.status, 422, JSON.stringify(unknown.body));
    assert.match(unknown.body.errors.rights, /"fly", "edit-everything"/);

    for (const name of ['admin', 'User', ' ADMIN ']) {
      const res = await server.call('POST', `/v2/teams/${teamId}/roles`, { name, rights: [] });
      assert.equal(res.status, 422, `${name}: ${JSON.stringify(res.body)}`);
      assert.ok(res.body.errors.name);
    }
    assert.deepEqual(await storedRoles(teamId), []);

    await server.callOk('POST', `/v2/teams/${teamId}/roles`, { name: 'Triage', rights: [] });
    const builtInChange = await server.call('PATCH', `/v2/teams/${teamId}/roles/admin?identifierType=name`, {
      name: 'Boss',
    });
    assert.equal(builtInChange.status, 422, JSON.stringify(builtInChange.body));
    const builtInDelete = await server.call('DELETE', `/v2/teams/${teamId}/roles/user?identifierType=name`);
    assert.equal(builtInDelete.status, 422, JSON.stringify(builtInDelete.body));
    const renamedToBuiltIn = await server.call(
      'PATCH',
      `/v2/teams/${teamId}/roles/Triage?identifierType=name`,
      { name: 'admin' },
    );
    assert.equal(renamedToBuiltIn.status, 422, JSON.stringify(renamedToBuiltIn.body));
    const taken = await server.call('POST', `/v2/teams/${teamId}/roles`, { name: 'TRIAGE', rights: [] });
    assert.equal(taken.status, 409, JSON.stringify(taken.body));

    const hostile = [
      () => server.call('POST', `/v2/teams/${teamId}/roles`, { name: 'a\u0000b', rights: [] }),
      () => server.call('POST', `/v2/teams/${teamId}/roles`, { name: 'x'.repeat(1000), rights: [] }),
      () => server.call('POST', `/v2/teams/${teamId}/roles`, { name: '   ', rights: [] }),
      () =>
        server.call('POST', `/v2/teams/${teamId}/roles`, {
          name: 'Long right',
          rights: [{ right: 'r'.repeat(1000), granted: true }],
        }),
      () => server.call('GET', `/v2/teams/${teamId}/roles/a%00b?identifierType=name`),
      () => server.call('GET', `/v2/teams/${teamId}/roles/${'x'.repeat(1000)}?identifierType=name`),
      () => server.call('PATCH', `/v2/teams/${teamId}/roles/Triage?identifierType=name`, { name: 'a\u0000' }),
      () =>
        server.call('POST', `/v2/teams/${teamId}/members`, { user: { username: plain }, role: 'a\u0000b' }),
      () =>
        server.call('POST', `/v2/teams/${teamId}/members`, {
          user: { username: plain },
          role: 'x'.repeat(1000),
        }),
      () => server.call('POST', `/v2/teams/${teamId}/members`, { user: { username: plain }, role: 'Nobody' }),
    ];
    for (const [i, attempt] of hostile.entries()) {
      const res = await attempt();
      assert.ok(
        res.status >= 400 && res.status < 500,
        `attempt ${i}: ${res.status} ${JSON.stringify(res.body)}`,
      );
    }
    assert.deepEqual(await storedRoles(teamId), [{ name: 'Triage', rights: [] }]);
    assert.deepEqual(await membersOf(teamId), {});
  });

  it('lets a member do what their custom role grants on the team, and nothing more', async () => {
    const teamId = await createTeam(`granted-${run}`, [{ user: { username: plain } }]);
    await server.callOk('POST', `/v2/teams/${teamId}/roles`, {
      name: 'Membership',
      rights: [{ right: 'manage-members', granted: true }],
    });
    await server.callOk('POST', `/v2/teams/${teamId}/members`, {
      user: { username: lead },
      role: 'membership',
    });
    assert.deepEqual(await membersOf(teamId), { [lead]: 'Membership', [plain]: 'user' });
    const teamsOfLead = await server.callOk('GET', `/v2/users/${lead}/teams`);
    assert.deepEqual(
      teamsOfLead.data.map((t: Json) => t.role),
      ['Membership'],
    );

    // manage-members: the lead adds a member.
    const added = await server.call(
      'POST',
      `/v2/teams/${teamId}/members`,
      { user: { username: newbie } },
      leadKey,
    );
    assert.equal(added.status, 200, JSON.stringify(added.body));
    assert.deepEqual(await membersOf(teamId), { [lead]: 'Membership', [newbie]: 'user', [plain]: 'user' });

    // ...but may not give a role with rights the lead lacks, even to themselves.
    for (const username of [newbie, lead]) {
      const promoted = await server.call(
        'POST',
        `/v2/teams/${teamId}/members`,
        { user: { username }, role: 'admin' },
        leadKey,
      );
      assert.equal(promoted.status, 403, JSON.stringify(promoted.body));
    }

    // No edit-routing-rules: refused, and nothing stored.
    const rule = { name: 'All', criteria: { type: 'match-all' }, notify: { type: 'none' } };
    const refused = await server.call('POST', `/v2/teams/${teamId}/routing-rules`, rule, leadKey);
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    const countRules = async () =>
      (
        await server.app.context.db
          .selectFrom('team_routing_rules')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('team_id', '=', teamId)
          .executeTakeFirstOrThrow()
      ).n;
    const rulesBefore = await countRules();

    // No edit-team-info, edit-team-roles, delete-team or access-logs either.
    assert.equal(
      (await server.call('PATCH', `/v2/teams/${teamId}`, { description: 'x' }, leadKey)).status,
      403,
    );
    assert.equal(
      (await server.call('POST', `/v2/teams/${teamId}/roles`, { name: 'Mine', rights: [] }, leadKey)).status,
      403,
    );
    assert.equal((await server.call('DELETE', `/v2/teams/${teamId}`, undefined, leadKey)).status, 403);
    assert.equal((await server.call('GET', `/v2/teams/${teamId}/logs`, undefined, leadKey)).status, 403);
    // A plain member still reads the log, as before roles.
    assert.equal((await server.call('GET', `/v2/teams/${teamId}/logs`, undefined, plainKey)).status, 200);

    // Granted edit-routing-rules, the lead may.
    await server.callOk('PATCH', `/v2/teams/${teamId}/roles/Membership?identifierType=name`, {
      rights: [{ right: 'edit-routing-rules', granted: true }],
    });
    const allowed = await server.call('POST', `/v2/teams/${teamId}/routing-rules`, rule, leadKey);
    assert.ok(allowed.status === 200 || allowed.status === 201, JSON.stringify(allowed.body));
    assert.equal(Number(await countRules()), Number(rulesBefore) + 1);

    // A plain member changes nothing of the team, as before.
    const plainAdd = await server.call(
      'POST',
      `/v2/teams/${teamId}/members`,
      { user: { username: lead } },
      plainKey,
    );
    assert.equal(plainAdd.status, 403);
    assert.equal(
      (await server.call('POST', `/v2/teams/${teamId}/routing-rules`, rule, plainKey)).status,
      403,
    );
    assert.deepEqual(await membersOf(teamId), { [lead]: 'Membership', [newbie]: 'user', [plain]: 'user' });
  });

  it('tells the console the rights the caller holds on a team (GET /api/console/teams/{identifier}/rights)', async () => {
    const teamId = await createTeam(`told-${run}`, [
      { user: { username: plain } },
      { user: { username: lead }, role: 'admin' },
    ]);
    const rightsOf = async (key?: string, identifier = teamId) => {
      const got = await server.call('GET', `/api/console/teams/${identifier}/rights`, undefined, key);
      assert.equal(got.status, 200, JSON.stringify(got.body));
      return got.body.rights as string[];
    };
    // A plain member reads the log and changes nothing, as the server's checks refuse their changes.
    assert.deepEqual(await rightsOf(plainKey), ['access-logs']);
    const refused = await server.call(
      'POST',
      '/v2/integrations',
      { type: 'API', name: `Refused ${run}`, ownerTeam: { id: teamId } },
      plainKey,
    );
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    // The team's admin and the organization's hold every right, in Opsgenie's order.
    assert.deepEqual(await rightsOf(leadKey), [...TEAM_RIGHTS]);
    assert.deepEqual(await rightsOf(), [...TEAM_RIGHTS]);
    // A custom team role: exactly what it grants.
    await server.callOk('POST', `/v2/teams/${teamId}/roles`, {
      name: 'Integrator',
      rights: [{ right: 'edit-integrations', granted: true }],
    });
    await server.callOk('POST', `/v2/teams/${teamId}/members`, {
      user: { username: plain },
      role: 'integrator',
    });
    assert.deepEqual(await rightsOf(plainKey), ['edit-integrations']);
    // By name too; a team that does not exist is a 404.
    const byName = await server.call(
      'GET',
      `/api/console/teams/told-${run}/rights?identifierType=name`,
      undefined,
      plainKey,
    );
    assert.deepEqual(byName.body, { rights: ['edit-integrations'] });
    const missing = await server.call(
      'GET',
      `/api/console/teams/${randomUUID()}/rights`,
      undefined,
      plainKey,
    );
    assert.equal(missing.status, 404, JSON.stringify(missing.body));
    await server.callOk('DELETE', `/v2/teams/${teamId}`);
  });

  it('refuses to delete a role a member holds, naming them, and deletes it once nobody does', async () => {
    const teamId = await createTeam(`held-${run}`);
    await server.callOk('POST', `/v2/teams/${teamId}/roles`, { name: 'Oncall', rights: [] });
    // Given through the whole-team update too.
    await server.callOk('PATCH', `/v2/teams/${teamId}`, {
      members: [{ user: { username: newbie }, role: 'Oncall' }],
    });
    assert.deepEqual(await membersOf(teamId), { [newbie]: 'Oncall' });

    const refused = await server.call('DELETE', `/v2/teams/${teamId}/roles/Oncall?identifierType=name`);
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.match(refused.body.message, new RegExp(newbie.replace(/[.]/g, '\\.')));
    assert.deepEqual(await storedRoles(teamId), [{ name: 'Oncall', rights: [] }]);

    await server.callOk('POST', `/v2/teams/${teamId}/members`, { user: { username: newbie }, role: 'user' });
    await server.callOk('DELETE', `/v2/teams/${teamId}/roles/Oncall?identifierType=name`);
    assert.deepEqual(await storedRoles(teamId), []);
    assert.deepEqual(await membersOf(teamId), { [newbie]: 'user' });
    const lines = await logLines(teamId);
    assert.ok(
      lines.some((l) => l.startsWith(`${newbie} added to the team as Oncall by `)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => l.startsWith(`${newbie}'s role in the team changed from Oncall to user by `)),
      lines.join('\n'),
    );
  });

  it('asks each team-scoped feature for its own right: heartbeats, schedules, the log, deleting the team', async () => {
    const teamName = `features-${run}`;
    const teamId = await createTeam(teamName);
    await server.callOk('POST', `/v2/teams/${teamId}/roles`, {
      name: 'Keeper',
      rights: [{ right: 'edit-heartbeats', granted: true }],
    });
    await server.callOk('POST', `/v2/teams/${teamId}/members`, { user: { username: lead }, role: 'Keeper' });
    const heartbeat = {
      name: `hb-${run}`,
      interval: 10,
      intervalUnit: 'minutes',
      enabled: true,
      ownerTeam: { name: teamName },
    };
    const madeHeartbeat = await server.call('POST', '/v2/heartbeats', heartbeat, leadKey);
    assert.equal(madeHeartbeat.status, 201, JSON.stringify(madeHeartbeat.body));
    assert.equal((await server.callOk('GET', `/v2/heartbeats/${heartbeat.name}`)).data.ownerTeam.id, teamId);

    const schedule = { name: `sched-${run}`, timezone: 'UTC', ownerTeam: { id: teamId } };
    assert.equal((await server.call('POST', '/v2/schedules', schedule, leadKey)).status, 403);
    assert.equal((await server.call('GET', `/v2/teams/${teamId}/logs`, undefined, leadKey)).status, 403);
    assert.equal((await server.call('DELETE', `/v2/teams/${teamId}`, undefined, leadKey)).status, 403);

    await server.callOk('PATCH', `/v2/teams/${teamId}/roles/Keeper?identifierType=name`, {
      rights: [
        { right: 'edit-schedules', granted: true },
        { right: 'access-logs', granted: true },
        { right: 'delete-team', granted: true },
      ],
    });
    const madeSchedule = await server.call('POST', '/v2/schedules', schedule, leadKey);
    assert.equal(madeSchedule.status, 201, JSON.stringify(madeSchedule.body));
    const log = await server.call('GET', `/v2/teams/${teamId}/logs?order=asc&limit=100`, undefined, leadKey);
    assert.equal(log.status, 200, JSON.stringify(log.body));
    assert.ok(
      log.body.data.logs.some((l: Json) =>
        l.log.startsWith(
          'Team role Keeper rights changed: granted edit-schedules, access-logs, delete-team by ',
        ),
      ),
    );
    // A team that owns heartbeats is not deleted (they would page nobody): delete it first.
    await server.callOk('DELETE', `/v2/heartbeats/${heartbeat.name}`);
    const deleted = await server.call('DELETE', `/v2/teams/${teamId}`, undefined, leadKey);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.equal((await server.call('GET', `/v2/teams/${teamId}`)).status, 404);
  });

  it('lets a role editor grant only rights they hold, and change neither their own role nor a stronger one', async () => {
    const teamName = `escalation-${run}`;
    const teamId = await createTeam(teamName, [{ user: { username: newbie }, role: 'admin' }]);
    await server.callOk('POST', `/v2/teams/${teamId}/roles`, {
      name: 'Roles',
      rights: [{ right: 'edit-team-roles', granted: true }],
    });
    await server.callOk('POST', `/v2/teams/${teamId}/roles`, {
      name: 'Strong',
      rights: [
        { right: 'edit-team-roles', granted: true },
        { right: 'delete-team', granted: true },
      ],
    });
    await server.callOk('POST', `/v2/teams/${teamId}/members`, { user: { username: lead }, role: 'Roles' });
    const asLead = (method: string, path: string, body?: Json) =>
      server.call(method, `/v2/teams/${teamId}/roles${path}`, body, leadKey);
    const rolesBefore = await storedRoles(teamId);

    // Granting itself more, under any name or through a new role: refused, naming what it lacks.
    const selfGrant = await asLead('PATCH', '/Roles?identifierType=name', {
      rights: [
        { right: 'manage-members', granted: true },
        { right: 'delete-team', granted: true },
        { right: 'edit-integrations', granted: true },
      ],
    });
    assert.equal(selfGrant.status, 403, JSON.stringify(selfGrant.body));
    assert.match(selfGrant.body.message, /manage-members, delete-team, edit-integrations/);
    const bigger = await asLead('POST', '', {
      name: 'Bigger',
      rights: [
        { right: 'edit-team-roles', granted: true },
        { right: 'delete-team', granted: true },
      ],
    });
    assert.equal(bigger.status, 403, JSON.stringify(bigger.body));
    assert.match(bigger.body.message, /delete-team/);
    // Nor may it change the role it holds in any other way, nor touch a role stronger than its own.
    for (const [method, path, body] of [
      ['PATCH', '/Roles?identifierType=name', { name: 'Renamed' }],
      ['PATCH', '/Roles?identifierType=name', { rights: [{ right: 'edit-team-roles', granted: false }] }],
      ['PATCH', '/Strong?identifierType=name', { rights: [{ right: 'delete-team', granted: false }] }],
      ['PATCH', '/Strong?identifierType=name', { name: 'Weak' }],
      ['DELETE', '/Strong?identifierType=name', undefined],
    ] as const) {
      const refused = await asLead(method, path, body);
      assert.equal(refused.status, 403, `${method} ${path}: ${JSON.stringify(refused.body)}`);
    }
    assert.deepEqual(await storedRoles(teamId), rolesBefore);
    assert.equal((await server.call('DELETE', `/v2/teams/${teamId}`, undefined, leadKey)).status, 403);
    assert.equal((await server.call('GET', `/v2/teams/${teamId}`)).status, 200);

    // Within what it holds it still makes, changes and deletes roles; access-logs, which it lacks, it grants not.
    const small = await asLead('POST', '', {
      name: 'Small',
      rights: [{ right: 'edit-team-roles', granted: true }],
    });
    assert.equal(small.status, 201, JSON.stringify(small.body));
    const logs = await asLead('PATCH', '/Small?identifierType=name', {
      rights: [{ right: 'access-logs', granted: true }],
    });
    assert.equal(logs.status, 403, JSON.stringify(logs.body));
    const revoked = await asLead('PATCH', '/Small?identifierType=name', {
      rights: [{ right: 'edit-team-roles', granted: false }],
    });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    assert.deepEqual((await storedRoles(teamId)).find((r) => r.name === 'Small')?.rights, []);
    assert.equal((await asLead('DELETE', '/Small?identifierType=name')).status, 200);
    assert.deepEqual(await storedRoles(teamId), rolesBefore);

    // A team admin (no org admin) holds every right: it grants any, and changes the lead's role.
    const adminKey = await keyFor(newbie);
    const byAdmin = await server.call(
      'PATCH',
      `/v2/teams/${teamId}/roles/Roles?identifierType=name`,
      { rights: [{ right: 'delete-team', granted: true }] },
      adminKey,
    );
    assert.equal(byAdmin.status, 200, JSON.stringify(byAdmin.body));
    assert.deepEqual((await storedRoles(teamId)).find((r) => r.name === 'Roles')?.rights, [
      'edit-team-roles',
      'delete-team',
    ]);
  });

  it('deletes a team whose members hold its roles, roles and all', async () => {
    const teamId = await createTeam(`gone-${run}`);
    await server.callOk('POST', `/v2/teams/${teamId}/roles`, { name: 'Oncall', rights: [] });
    await server.callOk('POST', `/v2/teams/${teamId}/members`, { user: { username: plain }, role: 'Oncall' });
    await server.callOk('DELETE', `/v2/teams/${teamId}`);
    assert.deepEqual(await storedRoles(teamId), []);
  });
});
