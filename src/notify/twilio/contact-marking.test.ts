import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { FakeTwilio } from '../../testing/fake-twilio.js';
import { alertLogs, createTeamAlert, waitFor, type TestServer } from '../../testing/harness.js';
import { phonePagedPerson, startTwilioTestbed, type TwilioTestbed } from '../../testing/twilio-server.js';
import { ShiftedClock } from '../../work/clock.js';

/**
 * Which refusals take a person's number away from paging: only those about the number itself, and only
 * while it is still the contact's number. A refusal that blames Vigil's Twilio account, or a late word
 * about a number the person has since replaced, must leave the contact as it is.
 */

const ACCOUNT_SID = `AC${'2e'.repeat(16)}`;
const AUTH_TOKEN = 'twilio-test-auth-token-marking-0123';
const FROM = '+15005550006';

const clock = new ShiftedClock();
const run = randomUUID().slice(0, 8);
let twilio: FakeTwilio;
let server: TestServer;
let db: pg.Client;

const createAlert = (message: string, team: string) => createTeamAlert(server, message, team);
const logs = (alertId: string) => alertLogs(server, alertId);

/** A person paged at once by SMS on `phone`, verified, alone in their own team. */
async function person(name: string, phone: string): Promise<{ team: string; contactUrl: string }> {
  const who = await phonePagedPerson(server, { name, method: 'sms', phone, run });
  await db.query(`UPDATE contact_methods SET verified_at = now() WHERE id = $1`, [who.contactId]);
  return { team: who.team, contactUrl: `/v2/users/${who.user}/contacts/${who.contactId}` };
}

/** Lets a minute pass, so that the next text to a number is not held by its throttle. */
function nextMinute() {
  clock.advance(61_000);
}

let testbed: TwilioTestbed;
before(async () => {
  testbed = await startTwilioTestbed({
    accountSid: ACCOUNT_SID,
    authToken: AUTH_TOKEN,
    from: FROM,
    clock,
    engineIntervalMs: 100,
  });
  ({ twilio, server, db } = testbed);
});

after(async () => {
  await testbed?.stop();
});

describe("a text Twilio refuses for a setting of Vigil's Twilio account", () => {
  // Twilio's test numbers: +15005550003 answers 21408 (the country is off in Geo permissions), and
  // +15005550002 answers 21612 (no route from Vigil's sender to the number).
  const cases: [name: string, phone: string, code: number, says: RegExp][] = [
    ['Geo', '+15005550003', 21408, /Geo permissions/],
    ['Route', '+15005550002', 21612, /VIGIL_TWILIO_FROM/],
  ];
  for (const [name, phone, code, says] of cases) {
    it(`(${code}) fails, says what the operator must fix, and leaves the contact verified and paged`, async () => {
      const who = await person(name, phone);
      const id = await createAlert(`refused ${code} ${run}`, who.team);
      const line = await waitFor('the failure logged', async () =>
        (await logs(id)).find((l) => l.startsWith(`SMS to ${name} failed`)),
      );
      assert.match(line, /not retried/);
      assert.match(line, says);
      assert.match(line, /an operator must/);
      const contact = await server.callOk('GET', who.contactUrl);
      assert.equal(contact.data.status.verified, true, 'the number is not what was wrong');
      assert.equal(contact.data.status.disabledReason, undefined);
      assert.doesNotMatch(line, /not paged again/);

      // Once the operator fixes the account, the next page must go: it is tried, not skipped.
      nextMinute();
      const next = await createAlert(`refused again ${code} ${run}`, who.team);
      await waitFor(
        'the next page tried',
        async () => (await logs(next)).some((l) => l.startsWith(`SMS to ${name} failed`)) || undefined,
      );
      assert.equal(twilio.requests.filter((r) => r.form.To === phone).length, 2, 'Twilio was asked twice');
    });
  }
});

describe('a late status callback that says a text could not be delivered (30005)', () => {
  it('marks the number it went to, not the new number its contact was given and verified since', async () => {
    const fay = await person('Fay', '+14155550401');
    const before = twilio.messages.length;
    await createAlert(`to the old number ${run}`, fay.team);
    const [oldText] = (await twilio.waitForMessages(before + 1)).slice(before);
    assert.equal(oldText?.to, '+14155550401');

    // The person moves to a new number and verifies it with the code texted there.
    await server.callOk('PATCH', fay.contactUrl, { to: '+14155550402' });
    nextMinute();
    await server.callOk('POST', `${fay.contactUrl}/send-verification`);
    const [codeText] = (await twilio.waitForMessages(before + 2)).slice(before + 1);
    assert.equal(codeText?.to, '+14155550402');
    const code = /code is (\d{6})/.exec(codeText?.body ?? '')?.[1];
    assert.ok(code, codeText?.body);
    await server.callOk('POST', `${fay.contactUrl}/verify`, { code });

    // Then the carrier's word on the old number arrives.
    assert.equal(await twilio.sendStatus(oldText.sid, 'undelivered', { errorCode: 30005 }), 204);
    const alertId = (await db.query(`SELECT alert_id FROM notifications WHERE address = '+14155550401'`))
      .rows[0].alert_id as string;
    const line = await waitFor('the callback logged', async () =>
      (await logs(alertId)).find((l) => l.startsWith('SMS to Fay not delivered')),
    );
    assert.match(line, /30005/);
    const contact = await server.callOk('GET', fay.contactUrl);
    assert.equal(contact.data.status.verified, true, 'the new number is still verified');
    assert.equal(contact.data.status.disabledReason, undefined);
    assert.doesNotMatch(line, /not paged again/, 'the log does not say it was marked');
  });

  it('marks the contact, and takes its verification away, while the number is still its own', async () => {
    const gus = await person('Gus', '+14155550403');
    const before = twilio.messages.length;
    const id = await createAlert(`to a dead number ${run}`, gus.team);
    const [text] = (await twilio.waitForMessages(before + 1)).slice(before);
    assert.ok(text);
    assert.equal(await twilio.sendStatus(text.sid, 'undelivered', { errorCode: 30005 }), 204);
    const line = await waitFor('the callback logged', async () =>
      (await logs(id)).find((l) => l.startsWith('SMS to Gus not delivered')),
    );
    assert.match(line, /not paged again until it is verified again/);
    const contact = await server.callOk('GET', gus.contactUrl);
    assert.equal(contact.data.status.verified, false);
    assert.match(contact.data.status.disabledReason, /does not exist/);
  });
});
