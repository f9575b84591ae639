import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startFakeTwilio, type FakeTwilio } from '../../testing/fake-twilio.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { freePort } from '../../testing/network.js';
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

async function createAlert(message: string, team: string): Promise<string> {
  const created = await server.callOk('POST', '/v2/alerts', {
    message,
    responders: [{ type: 'team', name: team }],
  });
  const request = await waitFor('the alert to be made', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${created.requestId}`);
    return status.body.data?.alertId ? status.body.data : undefined;
  });
  return request.alertId as string;
}

async function logs(alertId: string): Promise<string[]> {
  const res = await server.callOk('GET', `/v2/alerts/${alertId}/logs?order=asc&limit=100`);
  return (res.data as Json[]).map((l) => l.log as string);
}

/** A person paged at once by SMS on `phone`, verified, alone in their own team. */
async function person(name: string, phone: string): Promise<{ team: string; contactUrl: string }> {
  const user = `${name.toLowerCase()}-${run}@example.com`;
  await server.callOk('POST', '/v2/users', { username: user, fullName: name, role: { name: 'User' } });
  const contact = await server.callOk('POST', `/v2/users/${user}/contacts`, { method: 'sms', to: phone });
  const rules = await server.callOk('GET', `/v2/users/${user}/notification-rules`);
  await server.callOk('PATCH', `/v2/users/${user}/notification-rules/${rules.data[0].id}`, {
    steps: [{ contact: { method: 'sms', to: phone }, sendAfter: { timeAmount: 0 } }],
  });
  const team = `${name} ${run}`;
  await server.callOk('POST', '/v2/teams', {
    name: team,
    members: [{ user: { username: user }, role: 'user' }],
  });
  await db.query(`UPDATE contact_methods SET verified_at = now() WHERE id = $1`, [contact.data.id]);
  return { team, contactUrl: `/v2/users/${user}/contacts/${contact.data.id}` };
}

/** Lets a minute pass, so that the next text to a number is not held by its throttle. */
function nextMinute() {
  clock.advance(61_000);
}

before(async () => {
  twilio = await startFakeTwilio({ accountSid: ACCOUNT_SID, authToken: AUTH_TOKEN, numbers: [FROM] });
  const port = await freePort();
  server = await startTestServer({
    clock,
    engineIntervalMs: 100,
    env: {
      PORT: String(port),
      VIGIL_PUBLIC_URL: `http://127.0.0.1:${port}`,
      VIGIL_TWILIO_ACCOUNT_SID: ACCOUNT_SID,
      VIGIL_TWILIO_AUTH_TOKEN: AUTH_TOKEN,
      VIGIL_TWILIO_FROM: FROM,
      VIGIL_TWILIO_API_URL: twilio.url,
    },
  });
  twilio.setWebhooks({ smsUrl: `${server.url}/v1/twilio/sms` });
  db = new pg.Client({ connectionString: server.databaseUrl });
  await db.connect();
});

after(async () => {
  await db?.end();
  await server?.stop();
  await twilio?.close();
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
