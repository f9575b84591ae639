import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  addUserWithKey,
  createAlert as newAlert,
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
  type TestUser as User,
} from '../testing/harness.js';
import { startTestSmtpServer, type TestSmtpServer } from '../testing/smtp.js';

/**
 * Opsgenie's Access All Alerts (the alerts-access-all right) on the real server. Opsgenie's default user
 * lacks it and sees only their alerts: owned by them, with them or a team of theirs as a responder or in
 * visibleTo (a team's escalation or schedule counting for the team), or that paged them. Every way of
 * reading or acting on an alert holds to it, and the others answer as if they did not exist. A custom
 * role granting the right, org admins and owners see them all.
 *
 * Teams Ours (member) and Others (outsider); paged, granted and restricted are on no team. granted holds
 * a custom role granting alerts-access-all; restricted one based on the user role that grants nothing.
 */

let server: TestServer;
let smtp: TestSmtpServer;
const run = randomUUID().slice(0, 6);
const tag = `visibility-${run}`;
let member: User;
let outsider: User;
let paged: User;
let granted: User;
let restricted: User;

type AlertName =
  'toTeam' | 'toUser' | 'visibleToTeam' | 'teamEscalation' | 'assigned' | 'pagedOnly' | 'nobodys';
const ALERT_NAMES: readonly AlertName[] = [
  'toTeam',
  'toUser',
  'visibleToTeam',
  'teamEscalation',
  'assigned',
  'pagedOnly',
  'nobodys',
];
const alertIds = {} as Record<AlertName, string>;

async function createAlert(name: AlertName, fields: Json): Promise<string> {
  const res = await server.callOk('POST', '/v2/alerts', {
    message: `${name} ${run}`,
    alias: `${name}-${run}`,
    tags: [tag],
    ...fields,
  });
  return waitFor(`alert ${name}`, async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${res.requestId}`);
    return status.body.data?.alertId as string | undefined;
  });
}

/** The names of this run's alerts that `key` lists, sorted. */
async function listed(key: string): Promise<string[]> {
  const list = await server.callOk(
    'GET',
    `/v2/alerts?query=${encodeURIComponent(`tag:${tag}`)}&limit=100`,
    undefined,
    key,
  );
  return list.data.map((a: Json) => (a.alias as string).replace(`-${run}`, '')).sort();
}

const sorted = (names: readonly AlertName[]) => [...names].sort();

before(async () => {
  smtp = await startTestSmtpServer();
  server = await startTestServer({
    engineIntervalMs: 100,
    env: { VIGIL_SMTP_URL: smtp.url, VIGIL_EMAIL_FROM: 'Vigil <vigil@example.com>' },
  });
  const user = (local: string) => addUserWithKey(server, local, run);
  [member, outsider, paged, granted, restricted] = await Promise.all([
    user('member'),
    user('outsider'),
    user('paged'),
    user('granted'),
    user('restricted'),
  ]);
  const inTeam = (u: User) => ({ user: { username: u.username }, role: 'user' });
  await server.callOk('POST', '/v2/teams', { name: `Ours ${run}`, members: [inTeam(member)] });
  await server.callOk('POST', '/v2/teams', { name: `Others ${run}`, members: [inTeam(outsider)] });
  const escalation = (name: string, team: string, recipient: User) =>
    server.callOk('POST', '/v2/escalations', {
      name,
      ownerTeam: { name: team },
      rules: [
        {
          condition: 'if-not-acked',
          notifyType: 'default',
          delay: { timeAmount: 0 },
          recipient: { type: 'user', username: recipient.username },
        },
      ],
    });
  await escalation(`Ours escalation ${run}`, `Ours ${run}`, granted);
  await escalation(`Others escalation ${run}`, `Others ${run}`, paged);
  await server.callOk('POST', '/v2/roles', {
    name: `Sees all ${run}`,
    extendedRole: 'user',
    grantedRights: ['alerts-access-all'],
  });
  await server.callOk('POST', '/v2/roles', { name: `Plain ${run}`, extendedRole: 'user' });
  await server.callOk('PATCH', `/v2/users/${granted.id}`, { role: { name: `Sees all ${run}` } });
  await server.callOk('PATCH', `/v2/users/${restricted.id}`, { role: { name: `Plain ${run}` } });

  alertIds.toTeam = await createAlert('toTeam', { responders: [{ type: 'team', name: `Ours ${run}` }] });
  alertIds.toUser = await createAlert('toUser', {
    responders: [{ type: 'user', username: outsider.username }],
  });
  alertIds.visibleToTeam = await createAlert('visibleToTeam', {
    visibleTo: [{ type: 'team', name: `Ours ${run}` }],
  });
  alertIds.teamEscalation = await createAlert('teamEscalation', {
    responders: [{ type: 'escalation', name: `Ours escalation ${run}` }],
  });
  alertIds.assigned = await createAlert('assigned', {});
  await server.callOk('POST', `/v2/alerts/${alertIds.assigned}/assign`, {
    owner: { username: outsider.username },
  });
  alertIds.pagedOnly = await createAlert('pagedOnly', {
    responders: [{ type: 'escalation', name: `Others escalation ${run}` }],
  });
  alertIds.nobodys = await createAlert('nobodys', {});
  // paged is on no team and no responder of pagedOnly: the escalation's page is what makes it theirs.
  await waitFor(
    'the page to paged',
    async () =>
      smtp.messages.find((m) => m.to.includes(paged.username) && m.subject.includes(`pagedOnly ${run}`)),
    15_000,
  );
});

after(async () => {
  await server?.stop();
  await smtp?.stop();
});

describe('who sees which alerts (alerts-access-all)', () => {
  it("lists and counts only a user's own alerts, each way they are theirs", async () => {
    const expected: [string, User | undefined, readonly AlertName[]][] = [
      ['an org admin', undefined, ALERT_NAMES],
      ['a role granting alerts-access-all', granted, ALERT_NAMES],
      ['a member of Ours', member, ['toTeam', 'visibleToTeam', 'teamEscalation']],
      ['a member of Others', outsider, ['toUser', 'assigned', 'pagedOnly']],
      ['a user paged by another team', paged, ['pagedOnly']],
      ['a role that grants nothing', restricted, []],
    ];
    for (const [who, user, names] of expected) {
      assert.deepEqual(await listed(user?.key ?? server.key), sorted(names), who);
      const query = encodeURIComponent(`tag:${tag}`);
      const count = await server.callOk('GET', `/v2/alerts/count?query=${query}`, undefined, user?.key);
      assert.equal(count.data.count, names.length, `${who}: count`);
      const counts = await server.callOk(
        'GET',
        `/v2/alerts/counts?query=${query}&query=${encodeURIComponent(`tag:${tag} AND status:open`)}`,
        undefined,
        user?.key,
      );
      assert.deepEqual(
        counts.data.map((c: Json) => c.count),
        [names.length, names.length],
        `${who}: counts`,
      );
    }
  });

  it('answers 404 for every read of an alert that is not theirs, and reads their own', async () => {
    const reads = (id: string) => [
      `/v2/alerts/${id}`,
      `/v2/alerts/${id}/notes`,
      `/v2/alerts/${id}/logs`,
      `/v2/alerts/${id}/recipients`,
      `/v2/alerts/${id}/attachments`,
    ];
    for (const path of reads(alertIds.nobodys)) {
      const res = await server.call('GET', path, undefined, member.key);
      assert.equal(res.status, 404, `${path}: ${JSON.stringify(res.body)}`);
      assert.equal((await server.call('GET', path, undefined, granted.key)).status, 200, path);
    }
    for (const path of reads(alertIds.toTeam)) {
      assert.equal((await server.call('GET', path, undefined, member.key)).status, 200, path);
    }
    const byAlias = await server.call(
      'GET',
      `/v2/alerts/nobodys-${run}?identifierType=alias`,
      undefined,
      member.key,
    );
    assert.equal(byAlias.status, 404);
  });

  it("acts only on a user's own alerts: the others do not exist for them, alone or in bulk", async () => {
    const ack = await server.call('POST', `/v2/alerts/${alertIds.nobodys}/acknowledge`, {}, member.key);
    assert.equal(ack.status, 202);
    const status = await server.callOk(
      'GET',
      `/v2/alerts/requests/${ack.body.requestId}`,
      undefined,
      member.key,
    );
    assert.equal(status.data.success, false);
    assert.equal(status.data.status, 'Alert does not exist');
    assert.equal((await server.callOk('GET', `/v2/alerts/${alertIds.nobodys}`)).data.acknowledged, false);

    const bulk = await server.callOk(
      'POST',
      '/v2/bulk/alerts/acknowledge',
      { identifiers: [alertIds.toTeam, alertIds.nobodys] },
      member.key,
    );
    assert.deepEqual(bulk.data.succeeded, [alertIds.toTeam]);
    assert.deepEqual(bulk.data.failed, [{ id: alertIds.nobodys, reason: 'Alert does not exist' }]);
    assert.equal((await server.callOk('GET', `/v2/alerts/${alertIds.toTeam}`)).data.acknowledged, true);
    assert.equal((await server.callOk('GET', `/v2/alerts/${alertIds.nobodys}`)).data.acknowledged, false);
  });

  it("does not tell a user the id of an alert that is not theirs through a request's status", async () => {
    // Creating with the alias of an open alert counts an occurrence of it: the request is theirs, the
    // alert not.
    const again = await server.call(
      'POST',
      '/v2/alerts',
      { message: 'again', alias: `nobodys-${run}` },
      member.key,
    );
    assert.equal(again.status, 202);
    const status = await waitFor('the request', async () => {
      const res = await server.call(
        'GET',
        `/v2/alerts/requests/${again.body.requestId}`,
        undefined,
        member.key,
      );
      return res.status === 200 ? res.body.data : undefined;
    });
    assert.equal(status.success, true);
    assert.equal(status.alertId, '');
    const admin = await server.callOk('GET', `/v2/alerts/requests/${again.body.requestId}`);
    assert.equal(admin.data.alertId, alertIds.nobodys);
    // Nor its alias, from a request an admin made about it.
    const byAdmin = await server.call('POST', `/v2/alerts/${alertIds.nobodys}/notes`, { note: 'seen' });
    const adminsRequest = await waitFor('the request', async () => {
      const res = await server.call(
        'GET',
        `/v2/alerts/requests/${byAdmin.body.requestId}`,
        undefined,
        member.key,
      );
      return res.status === 200 ? res.body.data : undefined;
    });
    assert.equal(adminsRequest.alertId, '');
    assert.equal(adminsRequest.alias, '');
  });

  it('keeps an alert with its owner when their login changes, and gives it to nobody who takes the old one', async () => {
    const [owner, other] = await Promise.all([
      addUserWithKey(server, 'owner', run),
      addUserWithKey(server, 'other', run),
    ]);
    const alertId = await newAlert(server, { message: `owned ${run}` });
    await server.callOk('POST', `/v2/alerts/${alertId}/assign`, { owner: { username: owner.username } });
    const sees = async (key: string) =>
      (await server.call('GET', `/v2/alerts/${alertId}`, undefined, key)).status === 200;
    assert.equal(await sees(owner.key), true);

    const renamed = `renamed-${owner.username}`;
    await server.callOk('PATCH', `/v2/users/${owner.id}`, { username: renamed });
    assert.equal(await sees(owner.key), true, 'still theirs under the new login');
    assert.equal((await server.callOk('GET', `/v2/alerts/${alertId}`)).data.owner, renamed);
    await server.callOk('PATCH', `/v2/users/${other.id}`, { username: owner.username });
    assert.equal(await sees(other.key), false, 'not the next holder of the old login');

    await server.callOk('DELETE', `/v2/users/${owner.id}`);
    assert.equal((await server.callOk('GET', `/v2/alerts/${alertId}`)).data.owner, '');
  });

  it('assigns to nobody a login being renamed at that moment: the assignment waits, then finds no such user', async () => {
    const person = await addUserWithKey(server, 'racing', run);
    const alertId = await newAlert(server, { message: `assigned while renamed ${run}` });
    // A rename in flight, as updateUser makes it: the user's row, then the alerts owned under the old login.
    const renaming = new pg.Client({ connectionString: server.databaseUrl });
    await renaming.connect();
    try {
      await renaming.query('BEGIN');
      await renaming.query('UPDATE users SET username = $2 WHERE id = $1', [
        person.id,
        `renamed-${person.username}`,
      ]);
      await renaming.query('UPDATE alerts SET owner = $2 WHERE owner = $1', [
        person.username,
        `renamed-${person.username}`,
      ]);
      const assigning = server.call('POST', `/v2/alerts/${alertId}/assign`, {
        owner: { username: person.username },
      });
      await new Promise((resolve) => setTimeout(resolve, 500));
      await renaming.query('COMMIT');
      await assigning;
    } finally {
      await renaming.end();
    }
    await server.idle();
    const owner = (await server.callOk('GET', `/v2/alerts/${alertId}`)).data.owner as string;
    assert.notEqual(owner, person.username, 'the alert is not left under the old login');
  });

  it('takes their alerts from a user deleted while being renamed: none is left to the new login', async () => {
    const person = await addUserWithKey(server, 'deleted-while-renamed', run);
    const alertId = await newAlert(server, { message: `owned while deleted ${run}` });
    await server.callOk('POST', `/v2/alerts/${alertId}/assign`, { owner: { username: person.username } });
    const renamedTo = `renamed-${person.username}`;
    // A rename in flight, as updateUser makes it: the user's row, then the alerts owned under the old login.
    const renaming = new pg.Client({ connectionString: server.databaseUrl });
    const watcher = new pg.Client({ connectionString: server.databaseUrl });
    await renaming.connect();
    await watcher.connect();
    try {
      await renaming.query('BEGIN');
      await renaming.query('UPDATE users SET username = $2 WHERE id = $1', [person.id, renamedTo]);
      await renaming.query('UPDATE alerts SET owner = $2 WHERE owner = $1', [person.username, renamedTo]);
      const deleting = server.call('DELETE', `/v2/users/${person.id}`);
      await waitFor('the delete to wait on the user', async () => {
        const waiting = await watcher.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%"users"%'`,
        );
        return waiting.rows[0].n > 0 || undefined;
      });
      await renaming.query('COMMIT');
      const deleted = await deleting;
      assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    } finally {
      await renaming.end();
      await watcher.end();
    }
    const owner = (await server.callOk('GET', `/v2/alerts/${alertId}`)).data.owner as string;
    assert.equal(owner, '', 'nobody created later as the new login owns it');
  });

  it('deletes a user whose alert is being assigned to an owner at that moment, neither waiting on the other', async () => {
    const person = await addUserWithKey(server, 'deleted-while-assigned-away', run);
    const alertId = await newAlert(server, { message: `assigned away while deleted ${run}` });
    await server.callOk('POST', `/v2/alerts/${alertId}/assign`, { owner: { username: person.username } });
    // An assign in flight, as the alert service makes it: the alert, then the new owner's row (an owner).
    const assigning = new pg.Client({ connectionString: server.databaseUrl });
    const watcher = new pg.Client({ connectionString: server.databaseUrl });
    await assigning.connect();
    await watcher.connect();
    try {
      const owner = await watcher.query(
        `SELECT u.id FROM users u JOIN alerts a ON a.org_id = u.org_id WHERE a.id = $1 AND u.role = 'owner' LIMIT 1`,
        [alertId],
      );
      assert.ok(owner.rows[0], 'an owner to assign to');
      await assigning.query('BEGIN');
      await assigning.query('SELECT 1 FROM alerts WHERE id = $1 FOR UPDATE', [alertId]);
      const deleting = server.call('DELETE', `/v2/users/${person.id}`);
      await waitFor('the delete to wait on the alert', async () => {
        const waiting = await watcher.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%"alerts"%'`,
        );
        return waiting.rows[0].n > 0 || undefined;
      });
      // Held by a delete that locked every owner, this would wait on it, and PostgreSQL end one of the two.
      await assigning.query('SELECT 1 FROM users WHERE id = $1 FOR SHARE', [owner.rows[0].id]);
      await assigning.query('COMMIT');
      const deleted = await deleting;
      assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    } finally {
      await assigning.end();
      await watcher.end();
    }
  });

  it('follows a change of role at once: granting alerts-access-all shows every alert', async () => {
    assert.deepEqual(await listed(restricted.key), []);
    await server.callOk('PATCH', `/v2/users/${restricted.id}`, { role: { name: `Sees all ${run}` } });
    assert.deepEqual(await listed(restricted.key), sorted(ALERT_NAMES));
    await server.callOk('PATCH', `/v2/users/${restricted.id}`, { role: { name: `Plain ${run}` } });
    assert.deepEqual(await listed(restricted.key), []);
  });
});

describe("an integration's key", () => {
  it('sees and closes the alerts it made whatever their responders, and its team’s escalations’ and schedules’', async () => {
    const key = (
      await server.callOk('POST', '/v2/integrations', {
        type: 'API',
        name: `Ours API ${run}`,
        ownerTeam: { name: `Ours ${run}` },
      })
    ).data.apiKey as string;
    await server.callOk('POST', '/v2/schedules', {
      name: `Ours schedule ${run}`,
      timezone: 'UTC',
      ownerTeam: { name: `Ours ${run}` },
    });
    // Made by the organization's key: this run's alerts with Ours (or its escalation) as a responder, or
    // visible to it, count for the team (as for its members), the others do not.
    assert.deepEqual(await listed(key), ['teamEscalation', 'toTeam', 'visibleToTeam']);
    const toSchedule = await server.callOk('POST', '/v2/alerts', {
      message: `toSchedule ${run}`,
      alias: `toSchedule-${run}`,
      responders: [{ type: 'schedule', name: `Ours schedule ${run}` }],
    });
    await waitFor('the schedule alert', async () => {
      const status = await server.call('GET', `/v2/alerts/requests/${toSchedule.requestId}`);
      return status.body.data?.alertId as string | undefined;
    });
    const bySchedule = await server.call(
      'GET',
      `/v2/alerts/toSchedule-${run}?identifierType=alias`,
      undefined,
      key,
    );
    assert.equal(bySchedule.status, 200, "a schedule of the key's team");

    // Made by the key, each for a responder other than its team, as Alertmanager and Grafana name them.
    const responders: [string, Json][] = [
      ['escalation', { type: 'escalation', name: `Ours escalation ${run}` }],
      ['other-escalation', { type: 'escalation', name: `Others escalation ${run}` }],
      ['user', { type: 'user', username: outsider.username }],
      ['other-team', { type: 'team', name: `Others ${run}` }],
    ];
    for (const [name, responder] of responders) {
      const alias = `by-key-${name}-${run}`;
      const made = await server.callOk(
        'POST',
        '/v2/alerts',
        { message: `by key ${name}`, alias, tags: [`by-key-${run}`], responders: [responder] },
        key,
      );
      const request = await waitFor(`the request for ${name}`, async () => {
        const res = await server.call('GET', `/v2/alerts/requests/${made.requestId}`, undefined, key);
        return res.status === 200 ? (res.body.data as Json) : undefined;
      });
      // The key learns the id of the alert it made: it is one of those it sees.
      assert.ok(request.alertId, `${name}: ${JSON.stringify(request)}`);
      const read = await server.call('GET', `/v2/alerts/${alias}?identifierType=alias`, undefined, key);
      assert.equal(read.status, 200, `${name}: ${JSON.stringify(read.body)}`);
      const close = await server.callOk(
        'POST',
        `/v2/alerts/${alias}/close?identifierType=alias`,
        { note: 'resolved' },
        key,
      );
      const closed = await waitFor(`the close of ${name}`, async () => {
        const res = await server.call('GET', `/v2/alerts/requests/${close.requestId}`, undefined, key);
        return res.status === 200 ? (res.body.data as Json) : undefined;
      });
      assert.deepEqual([closed.success, closed.status], [true, 'Closed'], name);
      const after = await server.callOk('GET', `/v2/alerts/${alias}?identifierType=alias`);
      assert.equal(after.data.status, 'closed', name);
    }
    // Lists and counts hold to the same scope: the key's four and its team's, with no other's.
    const query = encodeURIComponent(`tag:by-key-${run} OR tag:${tag}`);
    const list = await server.callOk('GET', `/v2/alerts?query=${query}&limit=100`, undefined, key);
    const aliases = (list.data as Json[]).map((a) => (a.alias as string).replace(`-${run}`, '')).sort();
    assert.deepEqual(aliases, [
      'by-key-escalation',
      'by-key-other-escalation',
      'by-key-other-team',
      'by-key-user',
      'teamEscalation',
      'toTeam',
      'visibleToTeam',
    ]);
    const count = await server.callOk('GET', `/v2/alerts/count?query=${query}`, undefined, key);
    assert.equal(count.data.count, aliases.length);
    const counts = await server.callOk(
      'GET',
      `/v2/alerts/counts?query=${query}&query=${encodeURIComponent(`tag:${tag}`)}`,
      undefined,
      key,
    );
    assert.deepEqual(
      counts.data.map((c: Json) => c.count),
      [aliases.length, 3],
    );
    // Another team's key sees none of them.
    const othersKey = (
      await server.callOk('POST', '/v2/integrations', {
        type: 'API',
        name: `Others API ${run}`,
        ownerTeam: { name: `Others ${run}` },
      })
    ).data.apiKey as string;
    const theirs = await server.call(
      'GET',
      `/v2/alerts/by-key-escalation-${run}?identifierType=alias`,
      undefined,
      othersKey,
    );
    assert.equal(theirs.status, 404);
  });
});
