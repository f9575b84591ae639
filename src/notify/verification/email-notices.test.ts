import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../testing/harness.js';
import { startTestSmtpServer, type TestSmtpServer } from '../../testing/smtp.js';

/**
 * An email contact needs no proof that its mailbox is its person's: what Vigil sends there must carry no
 * text the person chose, or anyone could have Vigil's trusted sender mail any mailbox their words.
 */

let server: TestServer;
let smtp: TestSmtpServer;
const run = randomUUID().slice(0, 8);
const bait = 'IT Security. Your password expires today, reset it at https://evil.example/reset';

before(async () => {
  smtp = await startTestSmtpServer();
  server = await startTestServer({
    env: { VIGIL_SMTP_URL: smtp.url, VIGIL_EMAIL_FROM: 'Vigil <vigil@alerts.example.com>' },
  });
});

after(async () => {
  await server?.stop();
  await smtp?.stop();
});

/** A user named `bait`, with their own key and an email contact to a mailbox that is not theirs. */
async function mallory(local: string): Promise<{ key: string; contactUrl: string; mailbox: string }> {
  const username = `${local}-${run}@example.com`;
  const user = await server.callOk('POST', '/v2/users', { username, fullName: 'M', role: { name: 'User' } });
  const key = (await server.callOk('POST', '/v2/api-keys', { name: local, user: { id: user.data.id } })).data
    .key as string;
  await server.callOk('PATCH', `/v2/users/${username}`, { fullName: bait }, key);
  const mailbox = `ceo-${local}-${run}@victim.example`;
  const contact = await server.callOk(
    'POST',
    `/v2/users/${username}/contacts`,
    { method: 'email', to: mailbox },
    key,
  );
  return { key, contactUrl: `/v2/users/${username}/contacts/${contact.data.id}`, mailbox };
}

describe('a test of an email contact', () => {
  it("says it is Vigil's test and why it may have come, without the person's own words", async () => {
    const { key, contactUrl, mailbox } = await mallory('tester');
    await server.callOk('POST', `${contactUrl}/test`, undefined, key);
    const mail = (await smtp.waitForMessages(1)).find((m) => m.to.includes(mailbox));
    assert.ok(mail);
    assert.equal(mail.subject, 'Vigil test message');
    assert.ok(!mail.text.includes('evil.example'), mail.text);
    assert.ok(!mail.text.includes('password'), mail.text);
    assert.match(mail.text, /^This is a test of a contact method \(Email\) in Vigil\./);
    assert.match(mail.text, /If you did not expect this message/);
  });
});

describe('a verification code for an email contact', () => {
  it('is refused with a 422, and nothing is mailed', async () => {
    const { key, contactUrl, mailbox } = await mallory('coder');
    const before = smtp.messages.length;
    const refused = await server.call('POST', `${contactUrl}/send-verification`, undefined, key);
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.match(refused.body.message, /need no verification/);
    // A test after it is mailed, so had a code been sent it would have arrived first.
    await server.callOk('POST', `${contactUrl}/test`, undefined, key);
    const mails = (await smtp.waitForMessages(before + 1))
      .slice(before)
      .filter((m) => m.to.includes(mailbox));
    assert.deepEqual(
      mails.map((m) => m.subject),
      ['Vigil test message'],
    );
  });
});
