import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { NotificationChannel, OutgoingNotification } from '../notify/channel.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';

/**
 * Opsgenie's suppressNotifications on the real server: an integration stores it (create, PATCH, PUT, GET),
 * and an alert its key creates is made, routed to its team and logged as usual, but its creation pages
 * nobody: no escalation, no message, no email. The same alert from an integration that does not suppress
 * pages the team at once by email (its member has no routing rules to go through).
 */

const run = randomUUID().slice(0, 8);
const emails: OutgoingNotification[] = [];
const emailChannel: NotificationChannel = {
  type: 'email',
  async send(message) {
    emails.push(message);
    return { status: 'sent', providerId: `email-${emails.length}` };
  },
};

let server: TestServer;
let db: pg.Client;
let team: string;
const member = `member-${run}@example.com`;

before(async () => {
  server = await startTestServer({ engineIntervalMs: 100, channels: [emailChannel] });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  await server.callOk('POST', '/v2/users', { username: member, fullName: 'Member', role: { name: 'User' } });
  team = (
    await server.callOk('POST', '/v2/teams', {
      name: `Quiet ${run}`,
      members: [{ user: { username: member }, role: 'user' }],
    })
  ).data.id;
});

after(async () => {
  await db?.end();
  await server?.stop();
});

async function integration(name: string, extra: Json = {}): Promise<{ id: string; key: string }> {
  const made = await server.callOk('POST', '/v2/integrations', {
    type: 'API',
    name: `${name} ${run}`,
    ownerTeam: { id: team },
    ...extra,
  });
  return { id: made.data.id, key: made.data.apiKey };
}

/** Creates an alert with the integration's key; its id once made. */
async function alertFrom(key: string, message: string): Promise<string> {
  const res = await server.callOk('POST', '/v2/alerts', { message }, key);
  return waitFor('the alert', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${res.requestId}`);
    return status.body.data?.alertId as string | undefined;
  });
}

async function count(sql: string, alertId: string): Promise<number> {
  const { rows } = await db.query(sql, [alertId]);
  return rows[0].n;
}
const messages = (alertId: string) =>
  count('SELECT count(*)::int AS n FROM notifications WHERE alert_id = $1', alertId);
const escalations = (alertId: string) =>
  count('SELECT count(*)::int AS n FROM alert_escalations WHERE alert_id = $1', alertId);
const emailsAbout = (alertId: string) => emails.filter((m) => m.alert.id === alertId);

async function logs(alertId: string): Promise<string[]> {
  const { rows } = await db.query<{ log: string }>(
    'SELECT log FROM alert_logs WHERE alert_id = $1 ORDER BY id',
    [alertId],
  );
  return rows.map((r) => r.log);
}

async function storedFlag(id: string): Promise<unknown> {
  const { rows } = await db.query(
    "SELECT settings->'suppressNotifications' AS flag FROM integrations WHERE id = $1",
    [id],
  );
  return rows[0].flag;
}

describe('suppressNotifications', () => {
  it('is stored for every type, answered on GET, kept by PATCH and reset by a PUT that leaves it out', async () => {
    const quiet = await integration('Stored', { suppressNotifications: true });
    assert.equal(
      (await server.callOk('GET', `/v2/integrations/${quiet.id}`)).data.suppressNotifications,
      true,
    );
    assert.equal(await storedFlag(quiet.id), true);

    const plain = await integration('Default');
    assert.equal(
      (await server.callOk('GET', `/v2/integrations/${plain.id}`)).data.suppressNotifications,
      false,
    );

    // PATCH changes only what it names.
    const renamed = await server.callOk('PATCH', `/v2/integrations/${quiet.id}`, { name: `Stored2 ${run}` });
    assert.equal(renamed.data.suppressNotifications, true);
    const unmuted = await server.callOk('PATCH', `/v2/integrations/${quiet.id}`, {
      suppressNotifications: false,
    });
    assert.equal(unmuted.data.suppressNotifications, false);
    assert.equal(await storedFlag(quiet.id), false);
    await server.callOk('PATCH', `/v2/integrations/${quiet.id}`, { suppressNotifications: true });

    // Opsgenie's PUT resets what it leaves out.
    const put = await server.callOk('PUT', `/v2/integrations/${quiet.id}`, {
      type: 'API',
      name: `Stored2 ${run}`,
    });
    assert.equal(put.data.suppressNotifications, false);
    assert.equal(await storedFlag(quiet.id), false);
    const putOn = await server.callOk('PUT', `/v2/integrations/${quiet.id}`, {
      name: `Stored2 ${run}`,
      suppressNotifications: true,
    });
    assert.equal(putOn.data.suppressNotifications, true);
    // Access flags and the rest of the API settings stand beside it.
    assert.equal(putOn.data.allowWriteAccess, true);

    // Every type takes it: an Email and a Webhook integration too.
    const email = await server.callOk('POST', '/v2/integrations', {
      type: 'Email',
      name: `Mail ${run}`,
      ownerTeam: { id: team },
      emailUsername: `quiet-${run}`,
      suppressNotifications: true,
    });
    assert.equal(email.data.suppressNotifications, true);
    assert.equal(email.data.emailUsername, `quiet-${run}`);
    const emailPatched = await server.callOk('PATCH', `/v2/integrations/${email.data.id}`, {
      emailUsername: `quieter-${run}`,
    });
    assert.deepEqual(
      [emailPatched.data.emailUsername, emailPatched.data.suppressNotifications],
      [`quieter-${run}`, true],
    );

    const refused = await server.call('PATCH', `/v2/integrations/${quiet.id}`, {
      suppressNotifications: 'maybe',
    });
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.equal(await storedFlag(quiet.id), true);
  });

  it("an alert of a suppressing integration is made, routed and logged, and nobody is notified; the other integration's pages", async () => {
    const quiet = await integration('Quiet', { suppressNotifications: true });
    const loud = await integration('Loud', { suppressNotifications: false });

    const muted = await alertFrom(quiet.key, `disk almost full ${run}`);
    const paged = await alertFrom(loud.key, `disk full ${run}`);
    await waitFor('the loud alert to be emailed', async () => emailsAbout(paged).length > 0);
    await server.idle();

    const got = (await server.callOk('GET', `/v2/alerts/${muted}`)).data;
    assert.equal(got.status, 'open');
    assert.equal(got.integration.id, quiet.id);
    assert.deepEqual(
      got.responders.map((r: Json) => r.id),
      [team],
      "it goes to the integration's team as any alert of it",
    );
    const mutedLogs = await logs(muted);
    assert.ok(
      mutedLogs.includes(`Notifications suppressed by integration 'Quiet ${run}'`),
      JSON.stringify(mutedLogs),
    );
    assert.equal(await escalations(muted), 0);
    assert.equal(await messages(muted), 0);
    assert.deepEqual(emailsAbout(muted), []);

    assert.ok(!(await logs(paged)).some((l) => l.includes('suppressed')));
    assert.ok((await escalations(paged)) > 0);
    assert.ok((await messages(paged)) > 0);
    assert.deepEqual(
      emailsAbout(paged).map((m) => m.to.address),
      [member],
    );

    // Acknowledging and closing the muted alert tells nobody either: nobody was paged.
    await server.callOk('POST', `/v2/alerts/${muted}/acknowledge`, {});
    await server.callOk('POST', `/v2/alerts/${muted}/close`, {});
    await waitFor('the muted alert to close', async () => {
      const a = await server.callOk('GET', `/v2/alerts/${muted}`);
      return a.data.status === 'closed';
    });
    await server.idle();
    assert.equal(await messages(muted), 0);
    assert.deepEqual(emailsAbout(muted), []);
  });

  it('a responder added by hand to a suppressed alert is notified; turned off, the integration pages again', async () => {
    const quiet = await integration('Hand', { suppressNotifications: true });
    const muted = await alertFrom(quiet.key, `cpu high ${run}`);
    await server.idle();
    assert.equal(await messages(muted), 0);

    await server.callOk('POST', `/v2/alerts/${muted}/responders`, {
      responder: { type: 'user', username: member },
    });
    await waitFor('the added responder to be emailed', async () => emailsAbout(muted).length > 0);
    assert.deepEqual(
      emailsAbout(muted).map((m) => m.to.address),
      [member],
    );

    await server.callOk('PATCH', `/v2/integrations/${quiet.id}`, { suppressNotifications: false });
    const loud = await alertFrom(quiet.key, `cpu higher ${run}`);
    await waitFor('the alert to be emailed', async () => emailsAbout(loud).length > 0);
    assert.ok(!(await logs(loud)).some((l) => l.includes('suppressed')));
  });
});
