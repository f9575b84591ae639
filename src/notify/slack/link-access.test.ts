import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startFakeSlack, type FakeSlack, type SlackMessageRecord } from '../../testing/fake-slack.js';
import {
  createTeamAlert,
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
} from '../../testing/harness.js';
import { otherTransaction, whenWaitedFor } from '../../testing/lock-waits.js';
import { SLACK_ACTIONS } from './blocks.js';

/**
 * Who may change a user's Slack link, and what an unlink leaves: an admin who could link their own Slack
 * account to an owner would act as the owner from Slack; an unlinked Slack account that the email match
 * linked again at its next click would never lose its power to act as the user.
 */

let server: TestServer;
let slack: FakeSlack;
let db: pg.Client;
const run = randomUUID().slice(0, 8);
const CHANNEL = 'C0LINKACC1';
const team = `Linkers ${run}`;
const owner = { username: `owner-${run}@example.com`, fullName: 'Olive Owner', slackId: 'U0OWNER001' };
const admin = { username: `admin-${run}@example.com`, fullName: 'Adam Admin', slackId: 'U0ADMIN001' };
const dana = { username: `dana-${run}@example.com`, fullName: 'Dana Doe', slackId: 'U0DANA0001' };
const erin = { username: `erin-${run}@example.com`, fullName: 'Erin Example', slackId: 'U0ERIN0001' };
let adminKey: string;

const linkOf = (person: { username: string }) => `/v2/users/${encodeURIComponent(person.username)}/slack`;

async function call(method: string, path: string, body?: unknown): Promise<Json> {
  return server.callOk(method, path, body);
}

async function postedAlert(message: string): Promise<{ id: string; ts: string }> {
  const alertId = await createTeamAlert(server, message, team);
  const tinyId = String((await call('GET', `/v2/alerts/${alertId}`)).data.tinyId);
  const posted: SlackMessageRecord = await waitFor('the Slack message', async () => {
    const m = slack.messages(CHANNEL).find((x) => x.text.includes(`#${tinyId} `));
    if (!m) return undefined;
    const recorded = await db.query('SELECT 1 FROM slack_messages WHERE channel = $1 AND ts = $2', [
      CHANNEL,
      m.ts,
    ]);
    return recorded.rows.length > 0 ? m : undefined;
  });
  return { id: alertId, ts: posted.ts };
}

async function acknowledgedBy(alertId: string): Promise<string | undefined> {
  const alert = (await call('GET', `/v2/alerts/${alertId}`)).data;
  return alert.acknowledged ? (alert.report.acknowledgedBy as string) : undefined;
}

before(async () => {
  slack = await startFakeSlack({});
  slack.addChannel(CHANNEL);
  for (const person of [owner, admin, dana, erin]) {
    slack.addUser({ id: person.slackId, email: person.username, name: person.fullName });
  }
  server = await startTestServer({
    engineIntervalMs: 100,
    env: {
      ...slack.vigilEnv,
      VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS: '127.0.0.1',
    },
  });
  slack.setVigilUrl(server.url);
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
  await call('POST', '/v2/users', {
    username: owner.username,
    fullName: owner.fullName,
    role: { name: 'Owner' },
  });
  await call('POST', '/v2/users', {
    username: admin.username,
    fullName: admin.fullName,
    role: { name: 'Admin' },
  });
  for (const person of [dana, erin]) {
    await call('POST', '/v2/users', {
      username: person.username,
      fullName: person.fullName,
      role: { name: 'User' },
    });
  }
  adminKey = (await call('POST', '/v2/api-keys', { name: 'admin', user: { username: admin.username } })).data
    .key as string;
  const members = [owner, admin, dana, erin].map((p) => ({ user: { username: p.username }, role: 'user' }));
  await call('POST', '/v2/teams', { name: team, members });
  await call('POST', '/v2/destinations', {
    name: `Slack ${run}`,
    type: 'slack',
    team: { name: team },
    config: { channel: CHANNEL },
  });
});

after(async () => {
  await db?.end();
  await server?.stop();
  await slack?.close();
});

describe("an owner's Slack link", () => {
  it('is changed by an owner only: an admin may not link their own Slack account to an owner, unlink an owner, nor take an owner’s Slack user', async () => {
    const refusal = /Only an owner can link or unlink an owner's Slack user/;
    const put = await server.call('PUT', linkOf(owner), { slackUserId: admin.slackId }, adminKey);
    assert.equal(put.status, 403, JSON.stringify(put.body));
    assert.match(put.body.message, refusal);
    assert.deepEqual((await call('GET', linkOf(owner))).data, []);

    // The bootstrap key is an owner's.
    await call('PUT', linkOf(owner), { slackUserId: owner.slackId });
    const del = await server.call('DELETE', linkOf(owner), undefined, adminKey);
    assert.equal(del.status, 403, JSON.stringify(del.body));
    assert.match(del.body.message, refusal);
    const take = await server.call('PUT', linkOf(admin), { slackUserId: owner.slackId }, adminKey);
    assert.equal(take.status, 403, JSON.stringify(take.body));
    assert.match(take.body.message, refusal);
    assert.deepEqual(
      (await call('GET', linkOf(owner))).data.map((l: Json) => l.slackUserId),
      [owner.slackId],
    );

    // The admin's Slack clicks stay the admin's.
    const alert = await postedAlert(`Owner link ${run}`);
    const answer = await slack.click({
      actionId: SLACK_ACTIONS.acknowledge,
      channel: CHANNEL,
      ts: alert.ts,
      userId: admin.slackId,
    });
    assert.equal(answer.status, 200, answer.text);
    assert.equal(await acknowledgedBy(alert.id), admin.fullName);

    // An admin still links and unlinks those who are not owners.
    assert.equal(
      (await server.call('PUT', linkOf(dana), { slackUserId: dana.slackId }, adminKey)).status,
      200,
    );
    assert.equal((await server.call('DELETE', linkOf(dana), undefined, adminKey)).status, 200);
  });
});

describe('an unlink', () => {
  it('holds: the unlinked Slack account is not linked again by its email, and is told Vigil does not know it, until an admin links it', async () => {
    const click = (ts: string) =>
      slack.click({ actionId: SLACK_ACTIONS.acknowledge, channel: CHANNEL, ts, userId: erin.slackId });

    const first = await postedAlert(`Email linked ${run}`);
    assert.equal((await click(first.ts)).status, 200);
    assert.equal(await acknowledgedBy(first.id), erin.fullName);
    assert.equal((await call('DELETE', linkOf(erin))).result, 'Unlinked');

    const second = await postedAlert(`Unlinked ${run}`);
    assert.equal((await click(second.ts)).status, 200);
    await server.idle();
    assert.equal(await acknowledgedBy(second.id), undefined);
    const reply = await waitFor('the ephemeral reply', async () =>
      slack.responses.find((r) => String(r.text).includes(`"slackUserId": "${erin.slackId}"`)),
    );
    assert.match(String(reply.text), /Vigil does not know who you are: no Vigil user has your Slack email/);
    assert.deepEqual((await call('GET', linkOf(erin))).data, []);

    // An admin's link links them again, and the Slack user is no longer kept from the email match.
    await call('PUT', linkOf(erin), { slackUserId: erin.slackId });
    const off = await db.query('SELECT 1 FROM slack_email_match_off WHERE slack_user_id = $1', [
      erin.slackId,
    ]);
    assert.equal(off.rows.length, 0);
    assert.equal((await click(second.ts)).status, 200);
    assert.equal(await acknowledgedBy(second.id), erin.fullName);
  });
});

describe('a link an admin made to someone made an owner since', () => {
  it('goes with the promotion: the admin no longer acts as the owner from Slack', async () => {
    const fay = { username: `fay-${run}@example.com`, fullName: 'Fay Future' };
    // The admin's own second Slack account: its email is no Vigil user's, so only a link makes it someone.
    const side = { id: 'U0ADMSIDE1', email: `adam-side-${run}@elsewhere.example` };
    slack.addUser({ id: side.id, email: side.email, name: 'Adam on the side' });
    await call('POST', '/v2/users', {
      username: fay.username,
      fullName: fay.fullName,
      role: { name: 'User' },
    });
    await call('POST', `/v2/teams/${encodeURIComponent(team)}/members?identifierType=name`, {
      user: { username: fay.username },
    });
    const click = (ts: string) =>
      slack.click({ actionId: SLACK_ACTIONS.acknowledge, channel: CHANNEL, ts, userId: side.id });

    const put = await server.call('PUT', linkOf(fay), { slackUserId: side.id }, adminKey);
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const before = await postedAlert(`Before the promotion ${run}`);
    assert.equal((await click(before.ts)).status, 200);
    assert.equal(await acknowledgedBy(before.id), fay.fullName, 'the link acts as Fay while she is no owner');

    await call('PATCH', linkOf(fay).replace(/\/slack$/, ''), { role: { name: 'Owner' } });
    assert.deepEqual((await call('GET', linkOf(fay))).data, []);
    const after = await postedAlert(`After the promotion ${run}`);
    assert.equal((await click(after.ts)).status, 200);
    await server.idle();
    assert.equal(await acknowledgedBy(after.id), undefined, 'the admin acted as the owner');
    const reply = await waitFor('the ephemeral reply', async () =>
      slack.responses.find((r) => String(r.text).includes(`"slackUserId": "${side.id}"`)),
    );
    assert.match(String(reply.text), /Vigil does not know who you are/);
  });

  it('is refused while the promotion is in flight: the link waits for it and sees the owner', async () => {
    const gus = { username: `gus-${run}@example.com`, fullName: 'Gus Going-Up' };
    const made = await call('POST', '/v2/users', {
      username: gus.username,
      fullName: gus.fullName,
      role: { name: 'User' },
    });
    // A promotion in flight, as updateUser does it: the row, then the links admins made to them.
    const promoting = await otherTransaction(server.databaseUrl);
    try {
      await promoting.query(
        `WITH gus AS (UPDATE users SET role = 'owner' WHERE id = $1 RETURNING id)
         DELETE FROM slack_user_links WHERE user_id = (SELECT id FROM gus) AND by_admin`,
        [made.data.id],
      );
      const linking = server.call('PUT', linkOf(gus), { slackUserId: 'U0ADMSIDE2' }, adminKey);
      await whenWaitedFor(promoting, { never: 'the link never waited for the promotion', seconds: 10 });
      await promoting.query('COMMIT');
      const linked = await linking;
      assert.equal(linked.status, 403, JSON.stringify(linked.body));
    } finally {
      await promoting.end();
    }
    assert.deepEqual((await call('GET', linkOf(gus))).data, []);
  });
});

/** The ephemeral reply Vigil last gave a Slack user, once there are more than `before` of them. */
async function replyTo(slackUserId: string, before: number): Promise<string> {
  const reply = await waitFor(
    'the ephemeral reply',
    async () =>
      slack.responses.filter((r) => String(r.text).includes(`"slackUserId": "${slackUserId}"`))[before],
  );
  return String(reply.text);
}

const repliesTo = (slackUserId: string) =>
  slack.responses.filter((r) => String(r.text).includes(`"slackUserId": "${slackUserId}"`)).length;

describe('a new login email', () => {
  it('takes away the Slack account the email match linked by the old one; a link an admin made stays', async () => {
    // Hal's login email was mistyped: the Slack account with that address is someone else's.
    const hal = { username: `hal-typo-${run}@example.com`, fullName: 'Hal Hughes' };
    const fixed = `hal-${run}@example.com`;
    const typo = { id: 'U0HALTYPO1', email: hal.username };
    const side = { id: 'U0HALSIDE1', email: `hal-side-${run}@elsewhere.example` };
    for (const u of [typo, side]) slack.addUser({ ...u, name: u.id });
    await call('POST', '/v2/users', {
      username: hal.username,
      fullName: hal.fullName,
      role: { name: 'User' },
    });
    await call('POST', `/v2/teams/${encodeURIComponent(team)}/members?identifierType=name`, {
      user: { username: hal.username },
    });
    const click = (ts: string, userId: string) =>
      slack.click({ actionId: SLACK_ACTIONS.acknowledge, channel: CHANNEL, ts, userId });

    await call('PUT', linkOf(hal), { slackUserId: side.id });
    const first = await postedAlert(`Mistyped ${run}`);
    assert.equal((await click(first.ts, typo.id)).status, 200);
    assert.equal(await acknowledgedBy(first.id), hal.fullName, 'linked by the mistyped email');
    assert.deepEqual((await call('GET', linkOf(hal))).data.length, 2);

    await call('PATCH', `/v2/users/${encodeURIComponent(hal.username)}`, { username: fixed });
    assert.deepEqual(
      (await call('GET', `/v2/users/${encodeURIComponent(fixed)}/slack`)).data.map(
        (l: Json) => l.slackUserId,
      ),
      [side.id],
    );
    const second = await postedAlert(`Corrected ${run}`);
    const before = repliesTo(typo.id);
    assert.equal((await click(second.ts, typo.id)).status, 200);
    assert.match(await replyTo(typo.id, before), /Vigil does not know who you are/);
    assert.equal(await acknowledgedBy(second.id), undefined, 'the mistyped address acted as Hal');
    assert.equal((await click(second.ts, side.id)).status, 200);
    assert.equal(await acknowledgedBy(second.id), hal.fullName);
  });
});

describe("an admin's link replacing one the email match made", () => {
  it('holds: the replaced Slack account is not linked again by its email at its next click', async () => {
    const ivy = { username: `ivy-${run}@example.com`, fullName: 'Ivy Iverson' };
    const old = { id: 'U0IVYOLD01', email: ivy.username };
    const now = { id: 'U0IVYNEW01', email: `ivy-new-${run}@elsewhere.example` };
    for (const u of [old, now]) slack.addUser({ ...u, name: u.id });
    await call('POST', '/v2/users', {
      username: ivy.username,
      fullName: ivy.fullName,
      role: { name: 'User' },
    });
    await call('POST', `/v2/teams/${encodeURIComponent(team)}/members?identifierType=name`, {
      user: { username: ivy.username },
    });
    const click = (ts: string, userId: string) =>
      slack.click({ actionId: SLACK_ACTIONS.acknowledge, channel: CHANNEL, ts, userId });

    const first = await postedAlert(`Ivy by email ${run}`);
    assert.equal((await click(first.ts, old.id)).status, 200);
    assert.equal(await acknowledgedBy(first.id), ivy.fullName);

    await call('PUT', linkOf(ivy), { slackUserId: now.id });
    const second = await postedAlert(`Ivy replaced ${run}`);
    const before = repliesTo(old.id);
    assert.equal((await click(second.ts, old.id)).status, 200);
    assert.match(await replyTo(old.id, before), /Vigil does not know who you are/);
    assert.equal(await acknowledgedBy(second.id), undefined, 'the replaced Slack account acted as Ivy');
    assert.deepEqual(
      (await call('GET', linkOf(ivy))).data.map((l: Json) => l.slackUserId),
      [now.id],
    );
    assert.equal((await click(second.ts, now.id)).status, 200);
    assert.equal(await acknowledgedBy(second.id), ivy.fullName);

    // Linking the replaced account again (by PUT) gives it back.
    await call('PUT', linkOf(ivy), { slackUserId: old.id });
    const third = await postedAlert(`Ivy back ${run}`);
    assert.equal((await click(third.ts, old.id)).status, 200);
    assert.equal(await acknowledgedBy(third.id), ivy.fullName);
  });
});

describe("a partner's link naming the partner's own workspace", () => {
  it('acts for the partner pressing from that workspace, and for nobody pressing from another', async () => {
    const jo = { username: `jo-${run}@example.com`, fullName: 'Jo Joiner' };
    // Someone of another organization in a Slack Connect channel.
    const partner = { id: 'U0PARTNER1', teamId: 'T0PARTNER1', email: `jo-${run}@partner.example` };
    slack.addUser({ ...partner, name: 'partner' });
    await call('POST', '/v2/users', { username: jo.username, fullName: jo.fullName, role: { name: 'User' } });
    await call('POST', `/v2/teams/${encodeURIComponent(team)}/members?identifierType=name`, {
      user: { username: jo.username },
    });
    await call('PUT', linkOf(jo), { slackUserId: partner.id, slackTeamId: partner.teamId });
    assert.deepEqual(
      (await call('GET', linkOf(jo))).data.map((l: Json) => [l.slackUserId, l.slackTeamId]),
      [[partner.id, partner.teamId]],
    );
    const alert = await postedAlert(`Partner ${run}`);
    const click = (teamId?: string) =>
      slack.click({
        actionId: SLACK_ACTIONS.acknowledge,
        channel: CHANNEL,
        ts: alert.ts,
        userId: partner.id,
        teamId,
      });

    // The same member ID pressing from a workspace the link does not name is not the linked partner.
    const before = repliesTo(partner.id);
    assert.equal((await click('T0ELSEWHR1')).status, 200);
    assert.match(await replyTo(partner.id, before), /Vigil does not know who you are/);
    assert.equal(await acknowledgedBy(alert.id), undefined, 'a link for another workspace acted');

    assert.equal((await click()).status, 200);
    assert.equal(await acknowledgedBy(alert.id), jo.fullName);
  });
});
