import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import {
  startFakeSlack,
  type FakeSlack,
  type SlackBlockRecord,
  type SlackMessageRecord,
} from '../../testing/fake-slack.js';
import { startFakeTeams, type FakeTeams } from '../../testing/fake-teams.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import type { AlertEvent } from '../../alerts/events.js';
import type { AlertSnapshot } from '../team-destinations/kind.js';
import { alertMessage, SLACK_ACTIONS } from './blocks.js';

/**
 * Slack and Teams destinations end to end, against a fake Slack (Web API, incoming webhooks, and the person
 * who clicks, signing each interaction as Slack does) and a fake Teams workflow: a team's `slack`
 * destination posts each alert once with buttons and edits that message as the alert changes, whoever
 * changes it; a button acts as the Vigil user the Slack user is (by email, or linked by an admin); a
 * request not signed by Slack, or signed too long ago, changes nothing.
 */

let server: TestServer;
let slack: FakeSlack;
let teams: FakeTeams;
let db: pg.Client;
const run = randomUUID().slice(0, 8);
const CHANNEL = 'C0VIGIL0001';
const slackTeam = `Slackers ${run}`;
const hookTeam = `Hookers ${run}`;
const teamsTeam = `Teamsters ${run}`;
const alice = { username: `alice-${run}@example.com`, fullName: 'Alice Smith', slackId: 'U0ALICE001' };
const bob = { username: `bob-${run}@example.com`, fullName: 'Bob Jones', slackId: 'U0BOB0001' };
/** A Vigil user on none of the teams: the alerts in the channel are not theirs. */
const carol = { username: `carol-${run}@example.com`, fullName: 'Carol Reed', slackId: 'U0CAROL01' };
let slackDestination: string;
/** The Enterprise Grid organization the fake Slack's workspace, where Vigil's app is installed, is part of. */
const GRID = 'E0VIGIL001';
/**
 * Slack Connect: people of other organizations in the channel, whose email (set by their own admins) is
 * Alice's. One of a plain workspace; one of another Grid organization.
 */
const outsider = { slackId: 'U0OUTSIDE1', teamId: 'T0OTHER001' };
const gridOutsider = { slackId: 'U0OUTGRID1', teamId: 'T0OTHER002', enterpriseId: 'E0OTHER001' };
/** Someone of another organization whom Vigil linked to Alice by email before it checked the workspace. */
const linkedOutsider = { slackId: 'U0OUTSIDE3', teamId: 'T0OTHER003' };
/** Alice's account in another workspace of the installation's own Grid organization. */
const gridAlice = { slackId: 'U0GRIDALI1', teamId: 'T0VIGIL002', enterpriseId: GRID };
/** Another account of Alice's in the installation's workspace, not linked yet: her clicks need users.info. */
const aliceAgain = { slackId: 'U0ALICE002' };

/** Alert text that, read as mrkdwn, would ping the whole channel and hide a link behind friendly words. */
const HOSTILE = '<!channel> disk full <https://evil.example|Open runbook>';

/** Whether Slack would read `text` as a mention or a link of the hostile alert. */
function pingsOrLinks(text: string): boolean {
  return /<!channel>|<!here>|<https:\/\/evil/.test(text);
}

async function call(method: string, path: string, body?: unknown): Promise<Json> {
  return server.callOk(method, path, body);
}

async function createAlert(
  message: string,
  team: string,
  priority = 'P1',
): Promise<{ id: string; tinyId: string }> {
  const created = await call('POST', '/v2/alerts', {
    message,
    priority,
    source: 'prometheus',
    entity: 'db-1',
    description: 'The disk <!channel> is *full*',
    responders: [{ type: 'team', name: team }],
  });
  const request = await waitFor('the alert to be made', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${created.requestId}`);
    return status.body.data?.alertId ? status.body.data : undefined;
  });
  const alert = await call('GET', `/v2/alerts/${request.alertId}`);
  return { id: alert.data.id as string, tinyId: String(alert.data.tinyId) };
}

async function alertOf(id: string): Promise<Json> {
  return (await call('GET', `/v2/alerts/${id}`)).data;
}

async function logs(alertId: string): Promise<string[]> {
  const res = await call('GET', `/v2/alerts/${alertId}/logs?order=asc&limit=100`);
  return (res.data as Json[]).map((l) => l.log as string);
}

/**
 * The channel's message about the alert, once Vigil has recorded where it posted it: Vigil writes that down after Slack
 * answered the post, and a click that came in between (only a test clicks that fast) would find no alert.
 */
async function posted(tinyId: string): Promise<SlackMessageRecord> {
  return waitFor(`the Slack message of #${tinyId}`, async () => {
    const message = slack.messages(CHANNEL).find((m) => m.text.includes(`#${tinyId} `));
    if (!message) return undefined;
    const recorded = await db.query('SELECT 1 FROM slack_messages WHERE channel = $1 AND ts = $2', [
      CHANNEL,
      message.ts,
    ]);
    return recorded.rows.length > 0 ? message : undefined;
  });
}

function buttons(message: SlackMessageRecord): Record<string, string | undefined> {
  const actions = message.blocks.find((b: SlackBlockRecord) => b.type === 'actions');
  return Object.fromEntries((actions?.elements ?? []).map((e) => [e.action_id ?? '', e.style]));
}

function context(message: SlackMessageRecord): string {
  const block = message.blocks.find((b) => b.type === 'context') as
    { elements?: { text: string }[] } | undefined;
  return block?.elements?.map((e) => e.text).join(' ') ?? '';
}

function updatesOf(ts: string) {
  return slack.calls.filter((c) => c.method === 'chat.update' && c.args.ts === ts && c.ok);
}

/** The slack destination's deliveries of an alert's events, as stored. */
async function deliveriesOf(
  alertId: string,
): Promise<{ event_type: string; state: string; last_error: string | null }[]> {
  const { rows } = await db.query(
    'SELECT event_type, state, last_error FROM team_destination_deliveries WHERE destination_id = $1 AND alert_id = $2 ORDER BY seq',
    [slackDestination, alertId],
  );
  return rows as { event_type: string; state: string; last_error: string | null }[];
}

before(async () => {
  slack = await startFakeSlack({ enterpriseId: GRID });
  teams = await startFakeTeams();
  slack.addChannel(CHANNEL);
  slack.addUser({ id: alice.slackId, email: alice.username.toUpperCase(), name: 'alice' });
  slack.addUser({ id: bob.slackId, email: `someone-else-${run}@example.com`, name: 'bob' });
  slack.addUser({ id: carol.slackId, email: carol.username, name: 'carol' });
  slack.addUser({ id: 'U0GUEST001', email: alice.username, name: 'guest', isRestricted: true });
  slack.addUser({ id: aliceAgain.slackId, email: alice.username, name: 'alice-again' });
  for (const person of [outsider, gridOutsider, gridAlice, linkedOutsider]) {
    slack.addUser({ id: person.slackId, email: alice.username, ...person });
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
  for (const person of [alice, bob, carol]) {
    await call('POST', '/v2/users', {
      username: person.username,
      fullName: person.fullName,
      role: { name: 'User' },
    });
  }
  // The people in the team's channel are its members, and so see its alerts.
  const members = [alice, bob].map((person) => ({ user: { username: person.username }, role: 'user' }));
  await call('POST', '/v2/teams', { name: slackTeam, members });
  for (const name of [hookTeam, teamsTeam]) await call('POST', '/v2/teams', { name });
  const created = await call('POST', '/v2/destinations', {
    name: `Slack ${run}`,
    type: 'slack',
    team: { name: slackTeam },
    config: { channel: CHANNEL },
  });
  slackDestination = created.data.id as string;
  await call('POST', '/v2/destinations', {
    name: `Slack hook ${run}`,
    type: 'slack-webhook',
    team: { name: hookTeam },
    config: { url: slack.webhookUrl },
  });
  await call('POST', '/v2/destinations', {
    name: `Teams ${run}`,
    type: 'teams',
    team: { name: teamsTeam },
    config: { url: teams.url },
  });
});

after(async () => {
  await db?.end();
  await server?.stop();
  await slack?.close();
  await teams?.close();
});

describe('a slack destination', () => {
  it('checks its config: a channel ID, nothing else', async () => {
    for (const config of [{ channel: '#alerts' }, { channel: CHANNEL, token: 'x' }, {}]) {
      const res = await server.call('POST', '/v2/destinations', {
        name: `Bad ${randomUUID()}`,
        type: 'slack',
        team: { name: slackTeam },
        config,
      });
      assert.equal(res.status, 422, JSON.stringify(res.body));
    }
  });

  it("posts a team's alert to its channel with Acknowledge, Close and Add note", async () => {
    const alert = await createAlert(`Disk full ${run}`, slackTeam);
    const message = await posted(alert.tinyId);
    assert.equal(message.blocks[0]?.type, 'header');
    assert.match(JSON.stringify(message.blocks[0]), new RegExp(`\\[P1\\] #${alert.tinyId} Disk full`));
    assert.deepEqual(buttons(message), {
      [SLACK_ACTIONS.acknowledge]: 'primary',
      [SLACK_ACTIONS.close]: 'danger',
      [SLACK_ACTIONS.note]: undefined,
    });
    const text = JSON.stringify(message.blocks);
    assert.match(text, /prometheus/);
    assert.match(text, /db-1/);
    assert.ok(context(message).includes(`/alerts/${alert.id}|View in Vigil>`), context(message));
    // Text from outside can not mention the channel.
    assert.ok(!text.includes('<!channel>'));
    assert.ok(text.includes('&lt;!channel&gt;'));
    // The message's ts is stored once Slack has answered the post, a moment after the fake saw it.
    const stored = await waitFor('the stored message', async () => {
      const rows = (await db.query('SELECT channel, ts FROM slack_messages WHERE alert_id = $1', [alert.id]))
        .rows;
      return rows.length > 0 ? rows : undefined;
    });
    assert.deepEqual(stored, [{ channel: CHANNEL, ts: message.ts }]);
  });

  it("escapes the alert's text in the message's top-level text, which Slack notifies with, on the post and each edit", async () => {
    const alert = await createAlert(`${HOSTILE} ${run}`, slackTeam);
    const message = await posted(alert.tinyId);
    assert.ok(!pingsOrLinks(message.text), message.text);
    assert.ok(message.text.includes('&lt;!channel&gt; disk full &lt;https://evil.example|Open runbook&gt;'));

    await call('POST', `/v2/alerts/${alert.id}/acknowledge`, { user: '<!here> Mallory' });
    const acked = await waitFor('the edit for the acknowledgement', async () =>
      updatesOf(message.ts).find((c) => String(c.args.text).includes('Acknowledged')),
    );
    assert.ok(!pingsOrLinks(String(acked.args.text)), String(acked.args.text));

    await call('DELETE', `/v2/alerts/${alert.id}`);
    const deleted = await waitFor('the edit for the deletion', async () =>
      updatesOf(message.ts).find((c) => String(c.args.text).includes('(deleted)')),
    );
    assert.ok(!pingsOrLinks(String(deleted.args.text)), String(deleted.args.text));
    assert.ok(String(deleted.args.text).includes('&lt;!channel&gt;'), String(deleted.args.text));
  });

  it('closes the alert when a Slack user whose email is a Vigil user presses Close, as that user, and edits the message in place', async () => {
    const alert = await createAlert(`Closed from Slack ${run}`, slackTeam);
    const message = await posted(alert.tinyId);
    const before = slack.messages(CHANNEL).length;
    const answer = await slack.click({
      actionId: SLACK_ACTIONS.close,
      channel: CHANNEL,
      ts: message.ts,
      userId: alice.slackId,
    });
    assert.equal(answer.status, 200, answer.text);
    const closed = await alertOf(alert.id);
    assert.equal(closed.status, 'closed');
    assert.equal(closed.report.closedBy, 'Alice Smith');
    assert.ok((await logs(alert.id)).includes('Alert closed by Alice Smith'));
    // The same message, edited: no buttons left, and who closed it.
    const update = await waitFor('the message to be updated', async () => updatesOf(message.ts).at(-1));
    assert.equal(update.args.channel, CHANNEL);
    const now = slack.message(CHANNEL, message.ts);
    assert.ok(now);
    assert.deepEqual(buttons(now), {});
    assert.ok(!now.blocks.some((b) => b.type === 'actions'));
    assert.match(context(now), /Closed by Alice Smith/);
    assert.equal(slack.messages(CHANNEL).length, before, 'no new message');
    // The Slack user is now linked: no email lookup next time.
    const links = await db.query('SELECT user_id FROM slack_user_links WHERE slack_user_id = $1', [
      alice.slackId,
    ]);
    assert.equal(links.rows.length, 1);
  });

  it('tells a Vigil user who may not see the alert why, and changes nothing', async () => {
    const alert = await createAlert(`Not theirs ${run}`, slackTeam);
    const message = await posted(alert.tinyId);
    const answer = await slack.click({
      actionId: SLACK_ACTIONS.acknowledge,
      channel: CHANNEL,
      ts: message.ts,
      userId: carol.slackId,
    });
    assert.equal(answer.status, 200, answer.text);
    const reply = await waitFor('the ephemeral reply', async () =>
      slack.responses.find((r) => String(r.text).includes(carol.username)),
    );
    assert.equal(reply.response_type, 'ephemeral');
    assert.match(String(reply.text), /may not see this alert.*alerts-access-all/);
    assert.equal((await alertOf(alert.id)).acknowledged, false);
  });

  it('refuses a request with a wrong signature, or signed 6 minutes ago, with 401 and changes nothing', async () => {
    const alert = await createAlert(`Forged ${run}`, slackTeam);
    const message = await posted(alert.tinyId);
    const responses = slack.responses.length;
    const wrong = await slack.click({
      actionId: SLACK_ACTIONS.acknowledge,
      channel: CHANNEL,
      ts: message.ts,
      userId: alice.slackId,
      sign: 'wrong',
    });
    assert.equal(wrong.status, 401);
    const old = await slack.click({
      actionId: SLACK_ACTIONS.close,
      channel: CHANNEL,
      ts: message.ts,
      userId: alice.slackId,
      sign: { ageSeconds: 360 },
    });
    assert.equal(old.status, 401);
    const unsigned = await fetch(`${server.url}/v1/slack/interactions`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'payload=%7B%7D',
    });
    assert.equal(unsigned.status, 401);
    await server.idle();
    const after = await alertOf(alert.id);
    assert.equal(after.status, 'open');
    assert.equal(after.acknowledged, false);
    assert.equal(slack.responses.length, responses);
    assert.equal(updatesOf(message.ts).length, 0);
  });

  it('tells a Slack user Vigil does not know how to be linked, and changes nothing; once an admin links them, their click acts as the linked user', async () => {
    const alert = await createAlert(`Stranger ${run}`, slackTeam);
    const message = await posted(alert.tinyId);
    for (const userId of [bob.slackId, 'U0GUEST001', 'U0NOBODY01']) {
      const answer = await slack.click({
        actionId: SLACK_ACTIONS.acknowledge,
        channel: CHANNEL,
        ts: message.ts,
        userId,
      });
      assert.equal(answer.status, 200, answer.text);
      const reply = await waitFor('the ephemeral reply', async () =>
        slack.responses.find((r) => String(r.text).includes(`"slackUserId": "${userId}"`)),
      );
      assert.equal(reply.response_type, 'ephemeral');
      assert.equal(reply.replace_original, false);
      assert.match(String(reply.text), /PUT .*\/v2\/users\/.*\/slack/);
    }
    await server.idle();
    assert.equal((await alertOf(alert.id)).acknowledged, false);
    assert.equal(updatesOf(message.ts).length, 0);

    // A user may not link themselves (it would make someone's clicks act as them); an admin may.
    await call('PUT', `/v2/users/${encodeURIComponent(bob.username)}/slack`, { slackUserId: bob.slackId });
    assert.deepEqual(
      (await call('GET', `/v2/users/${encodeURIComponent(bob.username)}/slack`)).data.map(
        (l: Json) => l.slackUserId,
      ),
      [bob.slackId],
    );
    const answer = await slack.click({
      actionId: SLACK_ACTIONS.acknowledge,
      channel: CHANNEL,
      ts: message.ts,
      userId: bob.slackId,
    });
    assert.equal(answer.status, 200);
    const acked = await alertOf(alert.id);
    assert.equal(acked.acknowledged, true);
    assert.equal(acked.report.acknowledgedBy, 'Bob Jones');
    await waitFor('the message to lose its Acknowledge button', async () => {
      const now = slack.message(CHANNEL, message.ts);
      return now && !(SLACK_ACTIONS.acknowledge in buttons(now)) && SLACK_ACTIONS.close in buttons(now);
    });
  });

  it('does not take a Slack user of another workspace (Slack Connect) for the Vigil user with their email: tells them their workspace is not the one connected, and changes nothing', async () => {
    const alert = await createAlert(`Outsider ${run}`, slackTeam);
    const message = await posted(alert.tinyId);
    const views = slack.views.length;
    const repliesTo = (userId: string) =>
      slack.responses.filter((r) => String(r.text).includes(`"slackUserId": "${userId}"`));
    const clicks = [
      { userId: outsider.slackId },
      { userId: gridOutsider.slackId },
      // Even if the payload named Vigil's workspace, the account users.info answers with is not of it.
      { userId: outsider.slackId, teamId: slack.teamId },
    ];
    for (const click of clicks) {
      for (const actionId of [SLACK_ACTIONS.close, SLACK_ACTIONS.note]) {
        const before = repliesTo(click.userId).length;
        const answer = await slack.click({ actionId, channel: CHANNEL, ts: message.ts, ...click });
        assert.equal(answer.status, 200, answer.text);
        // Slack has its answer once the action is done or refused.
        assert.equal((await alertOf(alert.id)).status, 'open', `${click.userId} closed Alice's alert as her`);
        const reply = await waitFor('the ephemeral reply', async () => repliesTo(click.userId)[before]);
        assert.equal(reply.response_type, 'ephemeral');
        assert.match(String(reply.text), /your Slack workspace is not the one connected to this Vigil/);
        assert.match(String(reply.text), /PUT .*\/v2\/users\/.*\/slack/);
      }
    }
    assert.equal(slack.views.length, views, 'no note form for them');

    // Nor does a note form Alice opened take their note.
    await slack.click({
      actionId: SLACK_ACTIONS.note,
      channel: CHANNEL,
      ts: message.ts,
      userId: alice.slackId,
    });
    assert.equal(slack.views.length, views + 1);
    const submitted = await slack.submitNote({ userId: outsider.slackId, text: 'Closing it, Alice here' });
    assert.equal(submitted.status, 200, submitted.text);
    assert.equal((submitted.json as Json).response_action, 'errors');
    assert.match(JSON.stringify(submitted.json), /not the one connected/);

    await server.idle();
    const after = await alertOf(alert.id);
    assert.equal(after.status, 'open');
    assert.equal(after.acknowledged, false);
    assert.deepEqual((await call('GET', `/v2/alerts/${alert.id}/notes`)).data, []);
    assert.equal(updatesOf(message.ts).length, 0);
    const links = await db.query('SELECT 1 FROM slack_user_links WHERE slack_user_id = ANY($1)', [
      [outsider.slackId, gridOutsider.slackId],
    ]);
    assert.equal(links.rows.length, 0, 'not linked either');
  });

  it('does not let a link made by email before the workspace check act for a Slack user of another workspace; a link an admin makes does', async () => {
    const alert = await createAlert(`Linked outsider ${run}`, slackTeam);
    const message = await posted(alert.tinyId);
    const { rows } = await db.query('SELECT id, org_id FROM users WHERE username = $1', [alice.username]);
    const aliceRow = rows[0] as { id: string; org_id: string };
    // As the email match stored it then: under the app's workspace, saying nothing of how it was made.
    await db.query(
      'INSERT INTO slack_user_links (org_id, slack_team_id, slack_user_id, user_id) VALUES ($1, $2, $3, $4)',
      [aliceRow.org_id, slack.teamId, linkedOutsider.slackId, aliceRow.id],
    );
    const views = slack.views.length;
    const repliesTo = () =>
      slack.responses.filter((r) => String(r.text).includes(`"slackUserId": "${linkedOutsider.slackId}"`));
    for (const actionId of [SLACK_ACTIONS.close, SLACK_ACTIONS.note]) {
      const before = repliesTo().length;
      const answer = await slack.click({
        actionId,
        channel: CHANNEL,
        ts: message.ts,
        userId: linkedOutsider.slackId,
      });
      assert.equal(answer.status, 200, answer.text);
      assert.equal((await alertOf(alert.id)).status, 'open', "the outsider closed Alice's alert as her");
      const reply = await waitFor('the ephemeral reply', async () => repliesTo()[before]);
      assert.match(String(reply.text), /your Slack workspace is not the one connected to this Vigil/);
    }
    assert.equal(slack.views.length, views, 'no note form for them');
    // A note form Alice opened does not take their note either.
    await slack.click({
      actionId: SLACK_ACTIONS.note,
      channel: CHANNEL,
      ts: message.ts,
      userId: alice.slackId,
    });
    const submitted = await slack.submitNote({ userId: linkedOutsider.slackId, text: 'Alice here, closing' });
    assert.equal((submitted.json as Json).response_action, 'errors');
    assert.match(JSON.stringify(submitted.json), /not the one connected/);
    await server.idle();
    assert.equal((await alertOf(alert.id)).acknowledged, false);
    assert.deepEqual((await call('GET', `/v2/alerts/${alert.id}/notes`)).data, []);
    assert.equal(updatesOf(message.ts).length, 0);

    // An admin links the partner to Alice on purpose: that link holds whatever their workspace.
    const aliceLink = `/v2/users/${encodeURIComponent(alice.username)}/slack`;
    const alices = (await call('GET', aliceLink)).data
      .map((l: Json) => l.slackUserId as string)
      .filter((id: string) => id !== linkedOutsider.slackId);
    assert.ok(alices.length > 0, 'Alice has Slack accounts of her own for the PUT to replace');
    await call('PUT', aliceLink, { slackUserId: linkedOutsider.slackId });
    const stored = await db.query('SELECT by_admin FROM slack_user_links WHERE slack_user_id = $1', [
      linkedOutsider.slackId,
    ]);
    assert.deepEqual(stored.rows, [{ by_admin: true }]);
    const answer = await slack.click({
      actionId: SLACK_ACTIONS.acknowledge,
      channel: CHANNEL,
      ts: message.ts,
      userId: linkedOutsider.slackId,
    });
    assert.equal(answer.status, 200, answer.text);
    const acked = await alertOf(alert.id);
    assert.equal(acked.acknowledged, true);
    assert.equal(acked.report.acknowledgedBy, 'Alice Smith');
    // The PUT replaced Alice's own Slack accounts, and the email match no longer links them, as after an
    // unlink. The tests after want them linked by email at their next click, as before.
    const off = await db.query(
      'SELECT slack_user_id FROM slack_email_match_off WHERE slack_user_id = ANY($1)',
      [alices],
    );
    assert.deepEqual(
      off.rows.map((r: { slack_user_id: string }) => r.slack_user_id).sort(),
      [...alices].sort(),
    );
    await call('DELETE', aliceLink);
    await db.query('DELETE FROM slack_email_match_off WHERE slack_user_id = ANY($1)', [alices]);
  });

  it("takes a Slack user of another workspace of the installation's Enterprise Grid organization for the Vigil user with their email", async () => {
    const alert = await createAlert(`Grid ${run}`, slackTeam);
    const message = await posted(alert.tinyId);
    const answer = await slack.click({
      actionId: SLACK_ACTIONS.acknowledge,
      channel: CHANNEL,
      ts: message.ts,
      userId: gridAlice.slackId,
    });
    assert.equal(answer.status, 200, answer.text);
    const acked = await alertOf(alert.id);
    assert.equal(acked.acknowledged, true);
    assert.equal(acked.report.acknowledgedBy, 'Alice Smith');
  });

  it('tells a Slack user to try again, not how to be linked, when Slack could not be asked who they are, and changes nothing; their next click acts', async () => {
    const alert = await createAlert(`Slack hiccup ${run}`, slackTeam);
    const message = await posted(alert.tinyId);
    const lookups = () =>
      slack.calls.filter((c) => c.method === 'users.info' && c.args.user === aliceAgain.slackId);
    // An HTTP error, a 429, and an error Slack answers that is not "no such user".
    for (const failure of [500, 429, 'internal_error']) {
      const before = slack.responses.length;
      const tried = lookups().length;
      slack.failNext('users.info', failure);
      const answer = await slack.click({
        actionId: SLACK_ACTIONS.close,
        channel: CHANNEL,
        ts: message.ts,
        userId: aliceAgain.slackId,
      });
      assert.equal(answer.status, 200, answer.text);
      assert.equal(lookups().length, tried + 1, 'users.info was asked, and failed');
      assert.equal(lookups().at(-1)?.ok, false);
      const reply = await waitFor('the ephemeral reply', async () => slack.responses[before]);
      assert.equal(reply.response_type, 'ephemeral');
      assert.match(
        String(reply.text),
        /could not check with Slack who you are just now, so nothing was done: try again in a moment/,
      );
      assert.doesNotMatch(String(reply.text), /does not know who you are|PUT /);
      assert.equal((await alertOf(alert.id)).status, 'open', String(failure));
    }
    await server.idle();
    assert.equal(updatesOf(message.ts).length, 0);
    const links = () =>
      db.query('SELECT 1 FROM slack_user_links WHERE slack_user_id = $1', [aliceAgain.slackId]);
    assert.equal((await links()).rows.length, 0, 'not linked');

    // Slack answers again: the click acts as Alice, as before.
    const answer = await slack.click({
      actionId: SLACK_ACTIONS.close,
      channel: CHANNEL,
      ts: message.ts,
      userId: aliceAgain.slackId,
    });
    assert.equal(answer.status, 200, answer.text);
    const closed = await alertOf(alert.id);
    assert.equal(closed.status, 'closed');
    assert.equal(closed.report.closedBy, 'Alice Smith');
    assert.equal((await links()).rows.length, 1);
  });

  it('edits the message when the alert is acknowledged elsewhere (the API)', async () => {
    const alert = await createAlert(`Acked by API ${run}`, slackTeam, 'P2');
    const message = await posted(alert.tinyId);
    await call('POST', `/v2/alerts/${alert.id}/acknowledge`, { user: 'Carol from the API' });
    const now = await waitFor('the message to show the acknowledgement', async () => {
      const m = slack.message(CHANNEL, message.ts);
      return m && context(m).includes('Acknowledged by Carol from the API') ? m : undefined;
    });
    assert.deepEqual(Object.keys(buttons(now)).sort(), [SLACK_ACTIONS.close, SLACK_ACTIONS.note].sort());
    await call('POST', `/v2/alerts/${alert.id}/close`, {});
    await waitFor('the message to lose its buttons', async () => {
      const m = slack.message(CHANNEL, message.ts);
      return m && !m.blocks.some((b) => b.type === 'actions');
    });
    assert.equal(slack.messages(CHANNEL).filter((m) => m.text.includes(`#${alert.tinyId} `)).length, 1);
  });

  it('opens a note form on Add note and adds the note as the user', async () => {
    const alert = await createAlert(`Noted ${run}`, slackTeam);
    const message = await posted(alert.tinyId);
    const opened = slack.views.length;
    const click = await slack.click({
      actionId: SLACK_ACTIONS.note,
      channel: CHANNEL,
      ts: message.ts,
      userId: alice.slackId,
    });
    assert.equal(click.status, 200);
    assert.equal(slack.views.length, opened + 1);
    const empty = await slack.submitNote({ userId: alice.slackId, text: '   ' });
    assert.equal(empty.status, 200);
    assert.equal((empty.json as Json).response_action, 'errors');
    const submitted = await slack.submitNote({ userId: alice.slackId, text: 'Rotating the logs now' });
    assert.equal(submitted.status, 200, submitted.text);
    const notes = await call('GET', `/v2/alerts/${alert.id}/notes`);
    assert.deepEqual(
      (notes.data as Json[]).map((n) => [n.note, n.owner]),
      [['Rotating the logs now', 'Alice Smith']],
    );
    await waitFor('the message to show the note', async () => {
      const m = slack.message(CHANNEL, message.ts);
      return m && context(m).includes('Note by Alice Smith: Rotating the logs now');
    });
  });

  it("records Slack's refusals: not_in_channel fails the delivery with what to do; a 429 is tried again", async () => {
    slack.failNext('chat.postMessage', 'not_in_channel');
    const refused = await createAlert(`Not in channel ${run}`, slackTeam);
    const failed = await waitFor('the delivery to fail', async () => {
      const list = await call('GET', `/v2/destinations/${slackDestination}/deliveries?limit=100`);
      return (list.data as Json[]).find((d) => d.alertId === refused.id && d.state === 'failed');
    });
    assert.match(String(failed.lastError), /not_in_channel.*invite/);

    slack.failNext('chat.postMessage', 429);
    const limited = await createAlert(`Rate limited ${run}`, slackTeam);
    const message = await posted(limited.tinyId);
    assert.ok(message);
    const attempts = slack.calls.filter((c) => c.method === 'chat.postMessage' && c.status === 429);
    assert.equal(attempts.length, 1);
  });

  it('keeps the title the message shows as the alert changes: the message of a deleted alert shows the latest', async () => {
    const alert = await createAlert(`Titled ${run}`, slackTeam, 'P2');
    const message = await posted(alert.tinyId);
    await call('PUT', `/v2/alerts/${alert.id}/priority`, { priority: 'P4' });
    await call('PUT', `/v2/alerts/${alert.id}/message`, { message: `Retitled ${run}` });
    const title = `[P4] #${alert.tinyId} Retitled ${run}`;
    await waitFor('the edit with the new title', async () =>
      updatesOf(message.ts).find((c) => String(c.args.text).includes(title)),
    );
    await server.idle();
    await call('DELETE', `/v2/alerts/${alert.id}`);
    const deleted = await waitFor('the edit for the deletion', async () =>
      updatesOf(message.ts).find((c) => String(c.args.text).includes('(deleted)')),
    );
    assert.equal(updatesOf(message.ts).at(-1), deleted);
    assert.equal(String(deleted.args.text), `${title} (deleted)`);
    assert.ok(
      JSON.stringify(deleted.args.blocks).includes(`~${title}~`),
      JSON.stringify(deleted.args.blocks),
    );
  });

  it('fails an edit Slack answers with channel_not_found with what to do, and does not record the deletion as sent', async () => {
    const alert = await createAlert(`Lost channel ${run}`, slackTeam);
    const message = await posted(alert.tinyId);
    await server.idle();
    slack.failNext('chat.update', 'channel_not_found');
    await call('POST', `/v2/alerts/${alert.id}/acknowledge`, { user: 'Dana' });
    const acked = await waitFor('the acknowledgement to fail', async () =>
      (await deliveriesOf(alert.id)).find(
        (d) => d.event_type === 'acknowledged' && d.state !== 'pending' && d.state !== 'sending',
      ),
    );
    assert.equal(acked.state, 'failed');
    assert.match(String(acked.last_error), /channel_not_found.*check the channel ID.*invite the bot/);
    assert.doesNotMatch(String(acked.last_error), /deleted in Slack/);

    await server.idle();
    slack.failNext('chat.update', 'channel_not_found');
    await call('DELETE', `/v2/alerts/${alert.id}`);
    const deleted = await waitFor('the deletion to be delivered', async () =>
      (await deliveriesOf(alert.id)).find(
        (d) => d.event_type === 'deleted' && d.state !== 'pending' && d.state !== 'sending',
      ),
    );
    assert.equal(deleted.state, 'failed');
    assert.match(String(deleted.last_error), /channel_not_found.*check the channel ID/);
    const refused = slack.calls.filter((c) => c.method === 'chat.update' && c.args.ts === message.ts);
    assert.deepEqual(
      refused.map((c) => c.error),
      ['channel_not_found', 'channel_not_found'],
    );
    // The message is still known: a later edit (once the channel is fixed) can find it.
    const rows = (await db.query('SELECT ts FROM slack_messages WHERE alert_id = $1', [alert.id])).rows;
    assert.deepEqual(rows, [{ ts: message.ts }]);
  });
});

describe("a slack destination's message, built", () => {
  it('escapes and then cuts each text to fit, leaving no half entity or half surrogate pair, and never cuts the link', () => {
    const now = new Date().toISOString();
    const alert: AlertSnapshot = {
      id: randomUUID(),
      tinyId: '7',
      alias: 'big',
      message: '>'.repeat(1000),
      status: 'open',
      acknowledged: false,
      isSeen: false,
      tags: [],
      snoozed: false,
      count: 1,
      lastOccurredAt: now,
      createdAt: now,
      updatedAt: now,
      source: '<'.repeat(512),
      // An emoji is two UTF-16 units: a cut at an odd place would split one.
      owner: '\u{1F600}'.repeat(1500),
      priority: 'P1',
      responders: [],
      integration: { id: '', name: 'API', type: 'API' },
      report: {},
      actions: [],
      entity: '&'.repeat(512),
      description: '<'.repeat(1000),
      details: {},
      visibleTo: [],
    };
    const event: AlertEvent = {
      type: 'acknowledged',
      eventId: randomUUID(),
      alertId: alert.id,
      orgId: randomUUID(),
      at: now,
      // Escaped, the actor's name alone is longer than a context element may be.
      actor: { kind: 'user', name: '<'.repeat(1000) },
    };
    const viewUrl = `https://vigil.example/alerts/${alert.id}`;
    const message = alertMessage({ alert, event, viewUrl, buttons: true });

    const texts: { what: string; text: string; max: number }[] = [
      { what: 'top-level text', text: message.text, max: 3000 },
    ];
    const blocks = message.blocks as unknown as SlackBlockRecord[];
    const sections = blocks.filter((b) => b.type === 'section');
    assert.equal(sections.length, 2);
    for (const block of sections) {
      texts.push({ what: 'section text', text: block.text?.text ?? '', max: 3000 });
      for (const f of block.fields ?? []) texts.push({ what: 'field', text: f.text, max: 2000 });
    }
    const context = blocks
      .filter((b) => b.type === 'context')
      .flatMap((b) => (b.elements ?? []).map((e) => (e as unknown as { text: string }).text));
    assert.equal(context.length, 1);
    texts.push({ what: 'context', text: context[0] ?? '', max: 3000 });
    // The description, the entity and the source were all cut: each is longer than its limit escaped.
    assert.ok(
      texts.filter((t) => t.text.endsWith('…')).length >= 6,
      JSON.stringify(texts.map((t) => t.text.slice(-20))),
    );
    for (const { what, text, max } of texts) {
      const tail = `${what}: …${text.slice(-40)}`;
      assert.ok(text.length <= max, `${what} is ${text.length} long`);
      assert.doesNotMatch(text, /&[a-z]*…$/, tail);
      assert.doesNotMatch(text, /&[a-z]*$/, tail);
      // Every & starts a whole entity (the link's URL has none).
      assert.doesNotMatch(text, /&(?!(?:amp|lt|gt);)/, tail);
      assert.doesNotMatch(
        text,
        /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/,
        tail,
      );
    }
    assert.ok(context[0]?.startsWith('Acknowledged by &lt;&lt;'), context[0]?.slice(0, 40));
    assert.ok(context[0]?.endsWith(`… · <${viewUrl}|View in Vigil>`), context[0]?.slice(-80));
  });
});

describe('a slack-webhook destination', () => {
  it('posts the alert, and each acknowledgement and close as a new message, without buttons', async () => {
    const alert = await createAlert(`Hooked ${run}`, hookTeam);
    const first = await waitFor('the webhook post', async () =>
      slack.webhookPosts.find((p) => String(p.body.text).includes(`Hooked ${run}`)),
    );
    assert.ok(Array.isArray(first.body.blocks));
    assert.ok(!(first.body.blocks as SlackBlockRecord[]).some((b) => b.type === 'actions'));
    await call('POST', `/v2/alerts/${alert.id}/acknowledge`, { user: 'Dana' });
    const ack = await waitFor('the acknowledgement post', async () =>
      slack.webhookPosts.find(
        (p) =>
          String(p.body.text).startsWith('Acknowledged by Dana') &&
          String(p.body.text).includes(`Hooked ${run}`),
      ),
    );
    assert.ok(ack);
  });

  it("escapes the alert's text and who acted in each post's top-level text", async () => {
    const alert = await createAlert(`${HOSTILE} hooked ${run}`, hookTeam);
    const first = await waitFor('the webhook post', async () =>
      slack.webhookPosts.find((p) => String(p.body.text).includes(`hooked ${run}`)),
    );
    assert.ok(!pingsOrLinks(String(first.body.text)), String(first.body.text));
    assert.ok(String(first.body.text).includes('&lt;!channel&gt;'), String(first.body.text));

    await call('POST', `/v2/alerts/${alert.id}/acknowledge`, { user: '<!here> Mallory' });
    const ack = await waitFor('the acknowledgement post', async () =>
      slack.webhookPosts.find(
        (p) =>
          String(p.body.text).startsWith('Acknowledged by') && String(p.body.text).includes(`hooked ${run}`),
      ),
    );
    assert.ok(!pingsOrLinks(String(ack.body.text)), String(ack.body.text));
    assert.ok(
      String(ack.body.text).startsWith('Acknowledged by &lt;!here&gt; Mallory: '),
      String(ack.body.text),
    );
  });

  it('refuses a URL that is not a Slack incoming webhook', async () => {
    for (const url of [
      'https://example.com/services/x',
      'http://hooks.slack.com/services/T/B/X',
      'not a url',
    ]) {
      const res = await server.call('POST', '/v2/destinations', {
        name: `Bad hook ${randomUUID()}`,
        type: 'slack-webhook',
        team: { name: hookTeam },
        config: { url },
      });
      assert.equal(res.status, 422, `${url}: ${JSON.stringify(res.body)}`);
    }
  });
});

describe('a teams destination', () => {
  it('posts an Adaptive Card with the alert and a link to it', async () => {
    const alert = await createAlert(`Teamed ${run}`, teamsTeam, 'P2');
    const post = await waitFor('the card', async () =>
      teams.posts.find((p) => JSON.stringify(p.card.body).includes(`Teamed ${run}`)),
    );
    assert.equal(post.body.type, 'message');
    assert.equal(post.card.type, 'AdaptiveCard');
    assert.equal(post.card.version, '1.4');
    const facts = post.card.body.find((b) => b.type === 'FactSet') as {
      facts: { title: string; value: string }[];
    };
    assert.deepEqual(
      facts.facts.find((f) => f.title === 'Priority'),
      { title: 'Priority', value: 'P2' },
    );
    assert.equal(post.card.actions?.[0]?.type, 'Action.OpenUrl');
    assert.match(String(post.card.actions?.[0]?.url), new RegExp(`/alerts/${alert.id}$`));
    await call('POST', `/v2/alerts/${alert.id}/close`, { user: 'Erin' });
    await waitFor('the closing card', async () =>
      teams.posts.find((p) => JSON.stringify(p.card.body).includes('Closed by Erin')),
    );
    // The destination shows its URL masked: it carries the workflow's signature.
    const list = await call('GET', '/v2/destinations');
    const shown = (list.data as Json[]).find((d) => d.type === 'teams');
    assert.ok(!String(shown.config.url).includes('sig=fake'), shown.config.url);
  });
});

describe('the destinations of a team added to an alert', () => {
  const owners = `Owners ${run}`;
  const joiners = `Joiners ${run}`;
  const OWNERS_CHANNEL = 'C0VIGILOWN1';
  const JOINERS_CHANNEL = 'C0VIGILJOIN1';
  let joinersSlack: string;

  before(async () => {
    for (const [team, channel] of [
      [owners, OWNERS_CHANNEL],
      [joiners, JOINERS_CHANNEL],
    ] as const) {
      slack.addChannel(channel);
      await call('POST', '/v2/teams', { name: team });
      const made = await call('POST', '/v2/destinations', {
        name: `Slack of ${team}`,
        type: 'slack',
        team: { name: team },
        config: { channel },
      });
      if (team === joiners) joinersSlack = made.data.id as string;
      await call('POST', '/v2/destinations', {
        name: `Teams of ${team}`,
        type: 'teams',
        team: { name: team },
        config: { url: teams.url },
      });
    }
    await call('POST', '/v2/destinations', {
      name: `Slack hook of ${joiners}`,
      type: 'slack-webhook',
      team: { name: joiners },
      config: { url: slack.webhookUrl },
    });
  });

  it("get the alert as created: its Slack message with buttons, edited as the alert changes, a card and a webhook post; the owning team's get nothing new", async () => {
    const message = `Joined later ${run}`;
    const alert = await createAlert(message, owners);
    const ofAlert = (channel: string) =>
      slack.messages(channel).filter((m) => m.text.includes(`#${alert.tinyId} `));
    const cards = () => teams.posts.filter((p) => JSON.stringify(p.card.body).includes(message));
    const owned = await waitFor("the owners' message", async () => ofAlert(OWNERS_CHANNEL)[0]);
    await waitFor("the owners' card", async () => cards().length === 1);
    await server.idle();
    assert.deepEqual(ofAlert(JOINERS_CHANNEL), []);

    await call('POST', `/v2/alerts/${alert.id}/teams`, { team: { name: joiners }, user: 'Dana' });
    const joined = await waitFor("the joiners' message", async () => ofAlert(JOINERS_CHANNEL)[0]);
    assert.deepEqual(buttons(joined), {
      [SLACK_ACTIONS.acknowledge]: 'primary',
      [SLACK_ACTIONS.close]: 'danger',
      [SLACK_ACTIONS.note]: undefined,
    });
    assert.match(context(joined), new RegExp(`Responder Team ${joiners} added by Dana`));
    const card = await waitFor("the joiners' card", async () =>
      cards().find((p) => JSON.stringify(p.card.body).includes('added by Dana')),
    );
    const facts = card.card.body.find((b) => b.type === 'FactSet') as {
      facts: { title: string; value: string }[];
    };
    assert.deepEqual(
      facts.facts.find((f) => f.title === 'Status'),
      { title: 'Status', value: 'Open' },
    );
    const hooked = await waitFor("the joiners' webhook post", async () =>
      slack.webhookPosts.find((p) => String(p.body.text).includes(message)),
    );
    assert.ok(String(hooked.body.text).startsWith(`[P1] #${alert.tinyId} `), String(hooked.body.text));
    await server.idle();
    assert.equal(updatesOf(owned.ts).length, 0, "the owners' message edited for the team added");
    assert.equal(ofAlert(OWNERS_CHANNEL).length, 1);
    assert.equal(cards().length, 2);

    await call('POST', `/v2/alerts/${alert.id}/acknowledge`, { user: 'Erin' });
    const edit = await waitFor("the edit of the joiners' message", async () =>
      updatesOf(joined.ts).find((c) => String(c.args.text).includes('Acknowledged by Erin')),
    );
    assert.equal(edit.args.channel, JOINERS_CHANNEL);
    await server.idle();
    assert.equal(ofAlert(JOINERS_CHANNEL).length, 1);
    const { rows } = await db.query(
      'SELECT event_type, state FROM team_destination_deliveries WHERE destination_id = $1 AND alert_id = $2 ORDER BY seq',
      [joinersSlack, alert.id],
    );
    assert.deepEqual(rows, [
      { event_type: 'responder_added', state: 'sent' },
      { event_type: 'acknowledged', state: 'sent' },
    ]);
  });
});

describe("an admin's link of a Slack user", () => {
  it('takes the Slack user from the Vigil user the email match linked them to', async () => {
    const aliceLink = `/v2/users/${encodeURIComponent(alice.username)}/slack`;
    const bobLink = `/v2/users/${encodeURIComponent(bob.username)}/slack`;
    const acknowledge = (ts: string) =>
      slack.click({ actionId: SLACK_ACTIONS.acknowledge, channel: CHANNEL, ts, userId: alice.slackId });
    const first = await createAlert(`Email linked ${run}`, slackTeam);
    await acknowledge((await posted(first.tinyId)).ts);
    assert.equal((await alertOf(first.id)).report.acknowledgedBy, 'Alice Smith');
    const stored = await db.query(
      'SELECT slack_team_id, by_admin FROM slack_user_links WHERE slack_user_id = $1',
      [alice.slackId],
    );
    assert.deepEqual(stored.rows, [{ slack_team_id: slack.teamId, by_admin: false }]);

    // Without a workspace: the link holds in any, and is the only one of this Slack user.
    await call('PUT', bobLink, { slackUserId: alice.slackId });
    const second = await createAlert(`Admin linked ${run}`, slackTeam);
    const answer = await acknowledge((await posted(second.tinyId)).ts);
    assert.equal(answer.status, 200, answer.text);
    assert.equal((await alertOf(second.id)).report.acknowledgedBy, 'Bob Jones');
    // Alice's other Slack accounts (linked by the tests before) stay hers.
    const alices = (await call('GET', aliceLink)).data.map((l: Json) => l.slackUserId);
    assert.ok(!alices.includes(alice.slackId), JSON.stringify(alices));
    assert.deepEqual(
      (await call('GET', bobLink)).data.map((l: Json) => l.slackUserId),
      [alice.slackId],
    );
    // Alice's Slack account is hers again, by email, at its next click.
    await call('DELETE', bobLink);
  });
});
