import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { FakeTwilio } from '../../testing/fake-twilio.js';
import { waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { startTwilioTestbed, type TwilioTestbed } from '../../testing/twilio-server.js';

/**
 * The tries at a verification code: six digits are a million codes, so the code is only as safe as
 * the limit on guesses is, however the guesses come.
 */

const ACCOUNT_SID = `AC${'3d'.repeat(16)}`;
const AUTH_TOKEN = 'twilio-test-auth-token-verify-0123';
const FROM = '+15005550006';

const run = randomUUID().slice(0, 8);
let twilio: FakeTwilio;
let server: TestServer;

let testbed: TwilioTestbed;
before(async () => {
  testbed = await startTwilioTestbed({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, from: FROM });
  ({ twilio, server } = testbed);
});

after(async () => {
  await testbed?.stop();
});

/** A person with an SMS contact that was sent a verification code: the contact's URL and the code. */
async function contactWithCode(
  local: string,
  phone: string,
): Promise<{ contactId: string; contactUrl: string; code: string }> {
  const user = `${local}-${run}@example.com`;
  await server.callOk('POST', '/v2/users', { username: user, fullName: local, role: { name: 'User' } });
  const contact = await server.callOk('POST', `/v2/users/${user}/contacts`, { method: 'sms', to: phone });
  const contactUrl = `/v2/users/${user}/contacts/${contact.data.id}`;
  const before = twilio.messages.length;
  await server.callOk('POST', `${contactUrl}/send-verification`);
  const [text] = (await twilio.waitForMessages(before + 1)).slice(before);
  const code = /code is (\d{6})/.exec(text?.body ?? '')?.[1];
  assert.ok(code, text?.body);
  return { contactId: contact.data.id, contactUrl, code };
}

describe('guesses at a verification code', () => {
  it('are 5 at most, even when they are all in flight at once, and the right code is refused after them', async () => {
    const { contactId, contactUrl, code } = await contactWithCode('guesser', '+14155550501');

    // Twelve wrong codes at once, while another transaction holds the code's row: every guess is in
    // flight together, as a burst of requests can be, instead of as the requests' timing happens to fall.
    const wrong = Array.from({ length: 12 }, (_, i) =>
      String((Number(code) + i + 1) % 1_000_000).padStart(6, '0'),
    );
    const holder = new pg.Client({ connectionString: server.databaseUrl });
    // Apart from the holder: a transaction sees pg_stat_activity as it was when it first read it.
    const watcher = new pg.Client({ connectionString: server.databaseUrl });
    await holder.connect();
    await watcher.connect();
    let answers: { status: number; body: Json }[];
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM contact_verifications WHERE contact_method_id = $1 FOR UPDATE', [
        contactId,
      ]);
      const guesses = Promise.all(wrong.map((c) => server.call('POST', `${contactUrl}/verify`, { code: c })));
      // More guesses waiting on the row than there are tries: each has read the code by now.
      await waitFor('the guesses to wait on the code', async () => {
        const waiting = await watcher.query(
          `SELECT count(*)::int AS n FROM pg_stat_activity
           WHERE datname = current_database() AND wait_event_type = 'Lock' AND query ILIKE '%contact_verifications%'`,
        );
        return waiting.rows[0].n > 5 || undefined;
      });
      await holder.query('COMMIT');
      answers = await guesses;
    } finally {
      await holder.end();
      await watcher.end();
    }
    assert.deepEqual(
      new Set(answers.map((a) => a.status)),
      new Set([422]),
      JSON.stringify(answers.map((a) => a.body)),
    );
    const compared = answers.filter((a) => /not the one sent/.test(a.body.message));
    const refused = answers.filter((a) => /Too many wrong codes/.test(a.body.message));
    assert.equal(compared.length, 5, answers.map((a) => a.body.message).join('\n'));
    assert.equal(refused.length, 7);
    assert.deepEqual(
      compared.map((a) => /\((\d) tries left\)/.exec(a.body.message)?.[1]).sort(),
      ['0', '1', '2', '3', '4'],
      'each wrong guess says how many are left',
    );

    const late = await server.call('POST', `${contactUrl}/verify`, { code });
    assert.equal(late.status, 422);
    assert.match(late.body.message, /Too many wrong codes/);
    const after = await server.callOk('GET', contactUrl);
    assert.equal(after.data.status.verified, false);
  });

  it('take the right code among fewer than 5, and then the code is spent', async () => {
    const { contactUrl, code } = await contactWithCode('typo', '+14155550502');

    for (let left = 4; left >= 1; left--) {
      const wrong = await server.call('POST', `${contactUrl}/verify`, {
        code: code === '000000' ? '111111' : '000000',
      });
      assert.equal(wrong.status, 422);
      assert.match(wrong.body.message, new RegExp(`\\(${left} tries left\\)`));
    }
    await server.callOk('POST', `${contactUrl}/verify`, { code });
    const verified = await server.callOk('GET', contactUrl);
    assert.equal(verified.data.status.verified, true);
    const again = await server.call('POST', `${contactUrl}/verify`, { code });
    assert.equal(again.status, 422);
    assert.match(again.body.message, /no code waiting/);
  });
});
