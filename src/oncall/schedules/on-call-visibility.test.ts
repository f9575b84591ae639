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

/**
 * The who-is-on-call-show-all right on the real server: a holder of a custom role without it sees who is
 * on call only in the schedules they are part of (owned by a team of theirs, or with a rotation they are
 * in, themselves or through a team): the across-schedules list leaves the others out, and their
 * on-calls, next-on-calls, timeline and .ics export are a 403 naming the role and the right. A role that
 * keeps the right, no custom role and org admins see every schedule's; integration keys every one of their
 * owner team's.
 */

let server: TestServer;
const run = randomUUID().slice(0, 6);
const DATE = '2026-03-23T12:00:00Z';
const DATE_QUERY = `date=${encodeURIComponent(DATE)}`;

const schedules: Record<'mine' | 'theirs' | 'direct' | 'throughTeam', { id: string; name: string }> = {
  mine: { id: '', name: `Mine ${run}` },
  theirs: { id: '', name: `Theirs ${run}` },
  direct: { id: '', name: `Direct ${run}` },
  throughTeam: { id: '', name: `Through team ${run}` },
};
let viewer: User;
let teammate: User;
let outsider: User;
let plain: User;

const user = (local: string): Promise<User> => addUserWithKey(server, local, run);

async function schedule(name: string, ownerTeam: string, participant: Json): Promise<string> {
  const made = await server.callOk('POST', '/v2/schedules', {
    name,
    timezone: 'UTC',
    ownerTeam: { name: ownerTeam },
    rotations: [{ startDate: '2026-01-05T00:00:00Z', type: 'weekly', participants: [participant] }],
  });
  return made.data.id;
}

const giveRole = (u: User, name: string) => server.callOk('PATCH', `/v2/users/${u.id}`, { role: { name } });

/** The schedules the across-schedules list shows `key`, by name, with whom each has on call. */
async function everywhere(key: string): Promise<Record<string, string[]>> {
  const listed = await server.callOk('GET', `/v2/schedules/on-calls?flat=true&${DATE_QUERY}`, undefined, key);
  return Object.fromEntries(
    listed.data.map((entry: Json) => [entry._parent.name, entry.onCallRecipients as string[]]),
  );
}

/** Each way one schedule shows who is on call in it. */
const onCallPaths = (id: string) => [
  `/v2/schedules/${id}/on-calls?${DATE_QUERY}`,
  `/v2/schedules/${id}/next-on-calls?${DATE_QUERY}`,
  `/v2/schedules/${id}/timeline?${DATE_QUERY}`,
  `/v2/schedules/${id}.ics`,
];

/** How many shifts `who`'s own calendar export (across schedules) shows `key`. */
async function userCalendarEvents(who: User, key: string): Promise<number> {
  const calendar = await server.call('GET', `/v2/schedules/on-calls/${who.username}.ics`, undefined, key);
  assert.equal(calendar.status, 200, JSON.stringify(calendar.body));
  return String(calendar.body).split('BEGIN:VEVENT').length - 1;
}

before(async () => {
  server = await startTestServer();
  [viewer, teammate, outsider, plain] = await Promise.all([
    user('viewer'),
    user('teammate'),
    user('outsider'),
    user('plain'),
  ]);
  const member = (u: User) => ({ user: { username: u.username }, role: 'user' });
  await server.callOk('POST', '/v2/teams', {
    name: `Ours ${run}`,
    members: [member(viewer), member(teammate)],
  });
  await server.callOk('POST', '/v2/teams', { name: `Others ${run}`, members: [member(outsider)] });
  await server.callOk('POST', '/v2/teams', { name: `Night ${run}`, members: [member(viewer)] });
  schedules.mine.id = await schedule(schedules.mine.name, `Ours ${run}`, {
    type: 'user',
    username: teammate.username,
  });
  schedules.theirs.id = await schedule(schedules.theirs.name, `Others ${run}`, {
    type: 'user',
    username: outsider.username,
  });
  schedules.direct.id = await schedule(schedules.direct.name, `Others ${run}`, {
    type: 'user',
    username: viewer.username,
  });
  schedules.throughTeam.id = await schedule(schedules.throughTeam.name, `Others ${run}`, {
    type: 'team',
    name: `Night ${run}`,
  });
});

after(async () => {
  await server?.stop();
});

describe('who-is-on-call-show-all', () => {
  const everyone = () => ({
    [schedules.direct.name]: [viewer.username],
    [schedules.mine.name]: [teammate.username],
    [schedules.theirs.name]: [outsider.username],
    [schedules.throughTeam.name]: [viewer.username],
  });

  it('a role taking it away shows only the schedules its holder is part of, and refuses the others (403)', async () => {
    const role = `No on-call overview ${run}`;
    await server.callOk('POST', '/v2/roles', {
      name: role,
      extendedRole: 'user',
      disallowedRights: ['who-is-on-call-show-all'],
    });
    await giveRole(viewer, role);

    // Their team's schedule, one whose rotation names them, and one whose rotation names a team of theirs.
    assert.deepEqual(await everywhere(viewer.key), {
      [schedules.direct.name]: [viewer.username],
      [schedules.mine.name]: [teammate.username],
      [schedules.throughTeam.name]: [viewer.username],
    });

    for (const path of [
      ...onCallPaths(schedules.theirs.id),
      `/v2/schedules/${encodeURIComponent(schedules.theirs.name)}/on-calls?identifierType=name&${DATE_QUERY}`,
    ]) {
      const refused = await server.call('GET', path, undefined, viewer.key);
      assert.equal(refused.status, 403, `${path}: ${JSON.stringify(refused.body)}`);
      assert.match(
        refused.body.message,
        new RegExp(
          `role \\[${role}\\].*\\[${schedules.theirs.name}\\].*who-is-on-call-show-all.*PUT /v2/roles`,
        ),
        path,
      );
      assert.ok(!JSON.stringify(refused.body).includes(outsider.username), `${path} names nobody on call`);
    }

    for (const { id } of [schedules.mine, schedules.direct, schedules.throughTeam]) {
      for (const path of onCallPaths(id)) {
        const shown = await server.call('GET', path, undefined, viewer.key);
        assert.equal(shown.status, 200, `${path}: ${JSON.stringify(shown.body)}`);
      }
    }
    const mine = await server.callOk(
      'GET',
      `/v2/schedules/${schedules.mine.id}/on-calls?flat=true&${DATE_QUERY}`,
      undefined,
      viewer.key,
    );
    assert.deepEqual(mine.data.onCallRecipients, [teammate.username]);
    const calendar = await server.call(
      'GET',
      `/v2/schedules/${schedules.mine.id}.ics`,
      undefined,
      viewer.key,
    );
    assert.equal(calendar.status, 200);
    assert.ok(String(calendar.body).includes(teammate.username), 'the export names the teammate');
    // A user's own calendar leaves out the schedules the viewer may not see: the outsider's only one.
    assert.equal(await userCalendarEvents(outsider, viewer.key), 0);
    assert.ok((await userCalendarEvents(outsider, server.key)) > 0);

    // The schedule itself stays readable, as every configuration is.
    const theirs = await server.callOk('GET', `/v2/schedules/${schedules.theirs.id}`, undefined, viewer.key);
    assert.equal(theirs.data.name, schedules.theirs.name);

    // Made a member of the other team, they are part of its schedule from then on.
    await server.callOk(
      'POST',
      `/v2/teams/${encodeURIComponent(`Others ${run}`)}/members?identifierType=name`,
      {
        user: { username: viewer.username },
        role: 'user',
      },
    );
    assert.deepEqual(await everywhere(viewer.key), everyone());
    const now = await server.call(
      'GET',
      `/v2/schedules/${schedules.theirs.id}/on-calls?flat=true&${DATE_QUERY}`,
      undefined,
      viewer.key,
    );
    assert.equal(now.status, 200, JSON.stringify(now.body));
    assert.deepEqual(now.body.data.onCallRecipients, [outsider.username]);
    await server.callOk(
      'DELETE',
      `/v2/teams/${encodeURIComponent(`Others ${run}`)}/members/${viewer.id}?identifierType=name`,
    );
    assert.deepEqual(Object.keys(await everywhere(viewer.key)).sort(), [
      schedules.direct.name,
      schedules.mine.name,
      schedules.throughTeam.name,
    ]);
  });

  it('a role keeping it, no custom role and org admins see every schedule; an integration key its team’s', async () => {
    const role = `No actions ${run}`;
    await server.callOk('POST', '/v2/roles', {
      name: role,
      extendedRole: 'user',
      disallowedRights: ['alert-action'],
    });
    await giveRole(viewer, role);
    assert.deepEqual(await everywhere(viewer.key), everyone());
    for (const path of onCallPaths(schedules.theirs.id)) {
      const shown = await server.call('GET', path, undefined, viewer.key);
      assert.equal(shown.status, 200, `${path}: ${JSON.stringify(shown.body)}`);
    }
    assert.ok((await userCalendarEvents(outsider, viewer.key)) > 0);

    assert.deepEqual(await everywhere(plain.key), everyone());
    const plainTheirs = await server.call(
      'GET',
      `/v2/schedules/${schedules.theirs.id}/on-calls?flat=true&${DATE_QUERY}`,
      undefined,
      plain.key,
    );
    assert.equal(plainTheirs.status, 200, JSON.stringify(plainTheirs.body));
    assert.deepEqual(plainTheirs.body.data.onCallRecipients, [outsider.username]);

    assert.deepEqual(await everywhere(server.key), everyone());

    const integration = await server.callOk('POST', '/v2/integrations', {
      type: 'API',
      name: `Reader ${run}`,
      ownerTeam: { name: `Ours ${run}` },
      allowConfigurationAccess: true,
      allowReadAccess: true,
    });
    // An integration's key reaches only its owner team's schedules (api-access.test.ts), all their on-calls.
    assert.deepEqual(await everywhere(integration.data.apiKey), {
      [schedules.mine.name]: [teammate.username],
    });
  });

  it('a stakeholder-based role lacks it unless granted', async () => {
    const role = `Watcher ${run}`;
    const roleId = (await server.callOk('POST', '/v2/roles', { name: role, extendedRole: 'stakeholder' }))
      .data.id;
    await giveRole(plain, role);
    // plain is part of no schedule.
    assert.deepEqual(await everywhere(plain.key), {});
    const refused = await server.call(
      'GET',
      `/v2/schedules/${schedules.mine.id}/timeline?${DATE_QUERY}`,
      undefined,
      plain.key,
    );
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.match(refused.body.message, /who-is-on-call-show-all/);

    await server.callOk('PUT', `/v2/roles/${roleId}`, {
      extendedRole: 'stakeholder',
      grantedRights: ['who-is-on-call-show-all'],
    });
    assert.deepEqual(await everywhere(plain.key), everyone());
  });
});
