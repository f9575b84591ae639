import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { WebAPIRateLimitedError } from '@slack/web-api';
import { startTestServer, type TestServer } from '../../testing/harness.js';
import { deliveryFailure } from './client.js';
import { SLACK_INTERACTIONS_PATH } from './routes.js';

/**
 * Slack's certificate check of the Interactivity Request URL (`ssl_check=1`, unsigned: Bolt answers it
 * before verifying) gets its 200, and nothing else unsigned gets past the signature. And a 429 of the Web
 * API is a rate limit for the delivery queue, not a failure.
 */

let server: TestServer;

before(async () => {
  server = await startTestServer({
    env: {
      VIGIL_SLACK_BOT_TOKEN: 'xoxb-test',
      VIGIL_SLACK_SIGNING_SECRET: '8f742231b10e8888abcd99yyyzzz85a5',
    },
  });
});

after(async () => {
  await server?.stop();
});

async function postForm(body: string): Promise<number> {
  const response = await fetch(server.url + SLACK_INTERACTIONS_PATH, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  await response.body?.cancel();
  return response.status;
}

describe("Slack's ssl_check", () => {
  it('is answered 200 unsigned, with or without a token; anything more unsigned is still refused', async () => {
    assert.equal(await postForm('ssl_check=1'), 200);
    assert.equal(await postForm('ssl_check=1&token=xyzz0WbapA4vBCDEFasx0q6G'), 200);
    // Not the check: a payload rides along, another value, other fields.
    assert.equal(
      await postForm(`ssl_check=1&payload=${encodeURIComponent('{"type":"block_actions"}')}`),
      401,
    );
    assert.equal(await postForm('ssl_check=0'), 401);
    assert.equal(await postForm('ssl_check=1&team_id=T1'), 401);
    assert.equal(await postForm(''), 401);
  });
});

describe('a 429 from the Web API', () => {
  it('is a rate limit to wait out, with its Retry-After', () => {
    const result = deliveryFailure('chat.postMessage', new WebAPIRateLimitedError(3));
    assert.equal(result.status, 'retry');
    assert.deepEqual(result.status === 'retry' ? [result.rateLimited, result.retryAfterMs] : [], [
      true,
      3000,
    ]);
  });

  it('is a rate limit to wait out when Slack gave no Retry-After', () => {
    // What @slack/web-api throws for a 429 whose Retry-After it cannot read.
    const error = new Error(
      'Retry header did not contain a valid timeout (url: https://slack.com/api/chat.postMessage, retry-after header: null)',
    );
    const result = deliveryFailure('chat.postMessage', error);
    assert.equal(result.status, 'retry');
    assert.equal(result.status === 'retry' && result.rateLimited, true);
  });
});
