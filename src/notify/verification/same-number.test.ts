import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTwilioTestbed, type TwilioTestbed } from '../../testing/twilio-server.js';

/**
 * "One code a minute per number": an SMS and a voice contact on one number ring the same phone, so a code
 * to one of them makes the other wait too.
 */

const run = randomUUID().slice(0, 8);
let testbed: TwilioTestbed;

before(async () => {
  testbed = await startTwilioTestbed({
    accountSid: `AC${'5f'.repeat(16)}`,
    authToken: 'twilio-test-auth-token-same-number',
    from: '+15005550006',
  });
});

after(async () => {
  await testbed?.stop();
});

describe('codes to one number', () => {
  it('are one a minute, whether texted or called', async () => {
    const { server, twilio } = testbed;
    const user = `dup-${run}@example.com`;
    await server.callOk('POST', '/v2/users', { username: user, fullName: 'Dup', role: { name: 'User' } });
    const add = (method: string, to: string) =>
      server.callOk('POST', `/v2/users/${user}/contacts`, { method, to });
    const sms = (await add('sms', '+14155550888')).data.id as string;
    const voice = (await add('voice', '+14155550888')).data.id as string;
    const other = (await add('voice', '+14155550889')).data.id as string;
    const send = (id: string) => server.call('POST', `/v2/users/${user}/contacts/${id}/send-verification`);

    const texts = twilio.messages.length;
    const calls = twilio.calls.length;
    assert.equal((await send(sms)).status, 202);
    const second = await send(voice);
    assert.equal(second.status, 429, JSON.stringify(second.body));
    assert.match(second.body.message, /less than a minute ago/);
    // Another number is not held up.
    assert.equal((await send(other)).status, 202);
    await twilio.waitForCalls(calls + 1);
    assert.equal(twilio.messages.length - texts, 1);
    assert.deepEqual(
      twilio.calls.slice(calls).map((c) => c.to),
      ['+14155550889'],
    );
  });
});
