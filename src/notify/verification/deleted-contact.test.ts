import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { otherTransaction, whenWaitedFor } from '../../testing/lock-waits.js';
import { startTwilioTestbed, type TwilioTestbed } from '../../testing/twilio-server.js';

/**
 * A code sent to a contact method while it (or its person) is being deleted: the same 404 as when the
 * delete came first, and nothing sent, never a 500.
 */

const run = randomUUID().slice(0, 8);
let testbed: TwilioTestbed;

before(async () => {
  testbed = await startTwilioTestbed({
    accountSid: `AC${'6e'.repeat(16)}`,
    authToken: 'twilio-test-auth-token-deleted-contact',
    from: '+15005550006',
  });
});

after(async () => {
  await testbed?.stop();
});

describe('a code to a contact being deleted', () => {
  for (const [what, table, phone] of [
    ['the contact', 'contact_methods', '+14155550931'],
    ['its user', 'users', '+14155550932'],
  ] as const) {
    it(`is the 404 of a missing contact when ${what} is deleted meanwhile`, async () => {
      const { server, twilio } = testbed;
      const user = `gone-${table}-${run}@example.com`;
      const userId = (
        await server.callOk('POST', '/v2/users', { username: user, fullName: 'Gone', role: { name: 'User' } })
      ).data.id as string;
      const contactId = (
        await server.callOk('POST', `/v2/users/${user}/contacts`, { method: 'sms', to: phone })
      ).data.id as string;
      const texts = twilio.messages.length;
      const other = await otherTransaction(server.databaseUrl);
      try {
        await other.query(`DELETE FROM ${table} WHERE id = $1`, [table === 'users' ? userId : contactId]);
        const sending = server.call('POST', `/v2/users/${user}/contacts/${contactId}/send-verification`);
        await whenWaitedFor(other, { never: 'the code never waited for the delete', seconds: 10 });
        await other.query('COMMIT');
        const sent = await sending;
        assert.equal(sent.status, 404, JSON.stringify(sent.body));
        assert.equal(sent.body.message, `Contact [${contactId}] of user [${user}] does not exist.`);
      } finally {
        await other.end();
      }
      assert.equal(twilio.messages.length, texts, 'no code was texted');
      const counted = await server.app.context.db
        .selectFrom('verification_sends')
        .select('id')
        .where('user_id', '=', userId)
        .execute();
      assert.deepEqual(counted, [], 'no send was counted');
    });
  }
});
