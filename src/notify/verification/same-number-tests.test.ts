import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTwilioTestbed, type TwilioTestbed } from '../../testing/twilio-server.js';

/**
 * Only codes share one number's one-a-minute limit (same-number.test.ts): a test checks one contact's own
 * channel, so a text test does not hold up a call test to the same number, and the 429 that says "this
 * contact" is about that contact.
 */

const run = randomUUID().slice(0, 8);
let testbed: TwilioTestbed;

before(async () => {
  testbed = await startTwilioTestbed({
    accountSid: `AC${'6e'.repeat(16)}`,
    authToken: 'twilio-test-auth-token-same-number-tests',
    from: '+15005550006',
  });
});

after(async () => {
  await testbed?.stop();
});

describe('tests to one number', () => {
  it('are one a minute per contact method, not per number', async () => {
    const { server, twilio, db } = testbed;
    const user = `dup-test-${run}@example.com`;
    await server.callOk('POST', '/v2/users', { username: user, fullName: 'Dup', role: { name: 'User' } });
    const add = async (method: string, to: string) => {
      const id = (await server.callOk('POST', `/v2/users/${user}/contacts`, { method, to })).data
        .id as string;
      // Tests go only to a proven number; how it is proven is twilio.test.ts's concern.
      await db.query(`UPDATE contact_methods SET verified_at = now() WHERE id = $1`, [id]);
      return id;
    };
    const sms = await add('sms', '+14155550777');
    const voice = await add('voice', '+14155550777');
    const test = (id: string) => server.call('POST', `/v2/users/${user}/contacts/${id}/test`);

    const texts = twilio.messages.length;
    const calls = twilio.calls.length;
    const first = await test(sms);
    assert.equal(first.status, 200, JSON.stringify(first.body));
    const byCall = await test(voice);
    assert.equal(byCall.status, 200, JSON.stringify(byCall.body));
    await twilio.waitForCalls(calls + 1);
    assert.equal(twilio.messages.length - texts, 1);
    assert.deepEqual(
      twilio.calls.slice(calls).map((c) => c.to),
      ['+14155550777'],
    );

    // The same contact again within the minute is still refused, in words about that contact.
    const again = await test(sms);
    assert.equal(again.status, 429, JSON.stringify(again.body));
    assert.match(again.body.message, /A test was sent to this contact less than a minute ago/);
  });
});
