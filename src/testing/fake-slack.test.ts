import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebAPIPlatformError, WebAPIRateLimitedError, WebClient } from '@slack/web-api';
import { startFakeSlack, type FakeSlack } from './fake-slack.js';

/** The fake Slack answers the real SDK as Slack does: what Vigil's Slack tests rely on. */

let fake: FakeSlack;
let client: WebClient;

function clientWith(token: string): WebClient {
  return new WebClient(token, {
    slackApiUrl: fake.apiUrl,
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
  });
}

async function slackError(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(error instanceof WebAPIPlatformError, `expected a Slack error, got ${String(error)}`);
  return error.data.error;
}

before(async () => {
  fake = await startFakeSlack();
  fake.addChannel('C0TEST0001');
  fake.addUser({ id: 'U0TEST0001', email: 'pat@example.com', name: 'pat' });
  client = clientWith(fake.botToken);
});

after(async () => {
  await fake?.close();
});

describe('the fake Slack Web API', () => {
  it('posts a message with blocks sent as the SDK sends them, and updates it by ts', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'hello' } }];
    const posted = await client.chat.postMessage({ channel: 'C0TEST0001', text: 'hello', blocks });
    assert.equal(posted.ok, true);
    assert.equal(posted.channel, 'C0TEST0001');
    assert.match(String(posted.ts), /^\d+\.\d{6}$/);
    assert.deepEqual(fake.message('C0TEST0001', String(posted.ts))?.blocks, blocks);
    await client.chat.update({ channel: 'C0TEST0001', ts: String(posted.ts), text: 'changed', blocks: [] });
    assert.equal(fake.message('C0TEST0001', String(posted.ts))?.text, 'changed');
    assert.equal(
      await slackError(client.chat.update({ channel: 'C0TEST0001', ts: '1.000000', text: 'x' })),
      'message_not_found',
    );
  });

  it('refuses a wrong token, an unknown channel and an unknown user as Slack does', async () => {
    assert.equal(
      await slackError(clientWith('xoxb-wrong').chat.postMessage({ channel: 'C0TEST0001', text: 'x' })),
      'invalid_auth',
    );
    assert.equal(
      await slackError(client.chat.postMessage({ channel: 'C0NOPE', text: 'x' })),
      'channel_not_found',
    );
    assert.equal(await slackError(client.users.info({ user: 'U0NOPE' })), 'user_not_found');
    const pat = await client.users.info({ user: 'U0TEST0001' });
    assert.equal(pat.user?.profile?.email, 'pat@example.com');
  });

  it("names the bot's workspace on auth.test, and each user's on users.info", async () => {
    const auth = await client.auth.test();
    assert.equal(auth.team_id, fake.teamId);
    assert.equal(auth.enterprise_id, undefined);
    fake.addUser({
      id: 'U0GRID0001',
      email: 'kim@example.com',
      teamId: 'T0GRID0001',
      enterpriseId: 'E0GRID0001',
    });
    const kim = await client.users.info({ user: 'U0GRID0001' });
    assert.equal(kim.user?.team_id, 'T0GRID0001');
    assert.equal(kim.user?.enterprise_user?.enterprise_id, 'E0GRID0001');
    assert.equal((await client.users.info({ user: 'U0TEST0001' })).user?.team_id, fake.teamId);
  });

  it('fails the next call of a method as scripted: an error code, or 429 with Retry-After', async () => {
    fake.failNext('chat.postMessage', 'not_in_channel');
    assert.equal(
      await slackError(client.chat.postMessage({ channel: 'C0TEST0001', text: 'x' })),
      'not_in_channel',
    );
    fake.failNext('chat.postMessage', 429);
    const limited = await client.chat
      .postMessage({ channel: 'C0TEST0001', text: 'x' })
      .catch((e: unknown) => e);
    assert.ok(limited instanceof WebAPIRateLimitedError);
    assert.equal(limited.retryAfter, 1);
    const ok = await client.chat.postMessage({ channel: 'C0TEST0001', text: 'x' });
    assert.equal(ok.ok, true);
  });

  it('opens a view only for a trigger id it gave out in a click', async () => {
    assert.equal(
      await slackError(
        client.views.open({
          trigger_id: 'made.up',
          view: { type: 'modal', title: { type: 'plain_text', text: 'x' }, blocks: [] },
        }),
      ),
      'invalid_trigger_id',
    );
  });

  it('takes incoming webhook posts at its webhook URL only', async () => {
    const ok = await fetch(fake.webhookUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hi' }),
    });
    assert.equal(ok.status, 200);
    assert.equal(await ok.text(), 'ok');
    assert.deepEqual(fake.webhookPosts.at(-1)?.body, { text: 'hi' });
    const revoked = await fetch(fake.webhookUrl.replace(/.$/, '0'), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'hi' }),
    });
    assert.equal(revoked.status, 404);
    assert.equal(await revoked.text(), 'no_service');
    fake.failNextWebhook(410, 'channel_is_archived');
    const archived = await fetch(fake.webhookUrl, {
      method: 'POST',
      body: '{}',
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(archived.status, 410);
  });
});
