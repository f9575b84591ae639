import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { createDb, createPool } from '../../db/database.js';
import { createLogger } from '../../logger.js';
import type { FakeCall, FakeTwilio } from '../../testing/fake-twilio.js';
import {
  alertLogs,
  createTeamAlert,
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
} from '../../testing/harness.js';
import { phonePagedPerson, startTwilioTestbed, type TwilioTestbed } from '../../testing/twilio-server.js';
import { ShiftedClock, type Clock } from '../../work/clock.js';
import type { NotificationChannel, OutgoingNotification } from '../channel.js';
import { verificationsRepository } from '../verification/repository.js';
import { twilioChannels } from './channels.js';
import { replyCodesRepository, SPENT_FOR_MS } from './reply-codes.js';
import { twilioSignature } from './signature.js';

/**
 * SMS and voice end to end: the real server sends through a local Twilio that checks what Twilio checks,
 * and that Twilio answers as a person would: a reply to a text, a key pressed on a call, a status
 * callback, each signed as Twilio signs them.
 */

const ACCOUNT_SID = `AC${'1f'.repeat(16)}`;
const AUTH_TOKEN = 'twilio-test-auth-token-0123456789';
const FROM = '+15005550006';

const clock = new ShiftedClock();
const run = randomUUID().slice(0, 8);
let twilio: FakeTwilio;
let server: TestServer;
let db: pg.Client;

const createAlert = (message: string, team: string) => createTeamAlert(server, message, team);

async function alert(id: string): Promise<Json> {
  return (await server.callOk('GET', `/v2/alerts/${id}`)).data;
}

const logs = (alertId: string) => alertLogs(server, alertId);

/** A person paged at once by `method` on `phone`, alone in their own team; the team, user and contact's id. */
const person = (name: string, method: 'sms' | 'voice', phone: string) =>
  phonePagedPerson(server, { name, method, phone, run });

async function markVerified(contactId: string): Promise<void> {
  await db.query(`UPDATE contact_methods SET verified_at = now() WHERE id = $1`, [contactId]);
}

/** Waits until `n` messages to `phone` wait for their turn (its throttle holds them back). */
async function waitForTurns(phone: string, n: number): Promise<void> {
  await waitFor(`${n} messages to ${phone} to wait for their turn`, async () => {
    const rows = await db.query(
      `SELECT count(*)::int AS n FROM notifications WHERE address = $1 AND state = 'pending' AND last_error LIKE 'throttled:%'`,
      [phone],
    );
    return rows.rows[0].n === n || undefined;
  });
}

/** Lets a minute pass, so that the next text or call to a number is not held by its throttle. */
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

describe('verifying a phone', () => {
  it('does not page an unverified number, and verifies it with the code texted to it', async () => {
    const pat = await person('Pat', 'sms', '+14155550101');
    const first = await createAlert(`unverified ${run}`, pat.team);
    const line = await waitFor('the page to be planned', async () =>
      (await logs(first)).find((l) => l.includes('sms not paged')),
    );
    assert.match(line, /it is not verified yet/);
    assert.doesNotMatch(line, /\+1415/, 'the log names the method, never the number');
    const before = twilio.messages.length;

    const sent = await server.call(
      'POST',
      `/v2/users/${pat.user}/contacts/${pat.contactId}/send-verification`,
    );
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const [text] = (await twilio.waitForMessages(before + 1)).slice(before);
    assert.equal(text?.to, '+14155550101');
    const code = /code is (\d{6})/.exec(text?.body ?? '')?.[1];
    assert.ok(code, text?.body);

    const again = await server.call(
      'POST',
      `/v2/users/${pat.user}/contacts/${pat.contactId}/send-verification`,
    );
    assert.equal(again.status, 429, 'one code a minute');

    const wrong = await server.call('POST', `/v2/users/${pat.user}/contacts/${pat.contactId}/verify`, {
      code: code === '000000' ? '111111' : '000000',
    });
    assert.equal(wrong.status, 422);
    const contact = await server.callOk('GET', `/v2/users/${pat.user}/contacts/${pat.contactId}`);
    assert.equal(contact.data.status.verified, false);

    await server.callOk('POST', `/v2/users/${pat.user}/contacts/${pat.contactId}/verify`, { code });
    const verified = await server.callOk('GET', `/v2/users/${pat.user}/contacts/${pat.contactId}`);
    assert.equal(verified.data.status.verified, true);

    nextMinute();
    const second = await createAlert(`verified ${run}`, pat.team);
    const [page] = (await twilio.waitForMessages(before + 2)).slice(before + 1);
    assert.match(page?.body ?? '', new RegExp(`verified ${run}`));
    await waitFor(
      'the text logged',
      async () => (await logs(second)).includes('SMS sent to Pat') || undefined,
    );
  });

  it('does not take a code sent to the number a contact had before it was changed', async () => {
    const quinn = await person('Quinn', 'sms', '+14155550109');
    const contactUrl = `/v2/users/${quinn.user}/contacts/${quinn.contactId}`;
    const before = twilio.messages.length;
    await server.callOk('POST', `${contactUrl}/send-verification`);
    const [text] = (await twilio.waitForMessages(before + 1)).slice(before);
    assert.equal(text?.to, '+14155550109');
    const code = /code is (\d{6})/.exec(text?.body ?? '')?.[1];
    assert.ok(code, text?.body);

    // A number nobody sent a code to: the old number's code must not prove it.
    await server.callOk('PATCH', contactUrl, { to: '+14155550110' });
    const refused = await server.call('POST', `${contactUrl}/verify`, { code });
    assert.equal(refused.status, 422, JSON.stringify(refused.body));
    assert.match(JSON.stringify(refused.body), /earlier address/);
    const contact = await server.callOk('GET', contactUrl);
    assert.equal(contact.data.status.verified, false);

    // A code a minute per contact, whatever its number: switching numbers must not ring phones on end.
    const tooSoon = await server.call('POST', `${contactUrl}/send-verification`);
    assert.equal(tooSoon.status, 429, JSON.stringify(tooSoon.body));
    assert.match(
      tooSoon.body.message,
      /earlier address/,
      'no "enter the code it got": that code cannot serve',
    );
    nextMinute();
    await server.callOk('POST', `${contactUrl}/send-verification`);
    const [second] = (await twilio.waitForMessages(before + 2)).slice(before + 1);
    assert.equal(second?.to, '+14155550110');
    const newCode = /code is (\d{6})/.exec(second?.body ?? '')?.[1];
    await server.callOk('POST', `${contactUrl}/verify`, { code: newCode });
    const verified = await server.callOk('GET', contactUrl);
    assert.equal(verified.data.status.verified, true);
  });

  it('keeps the minute between codes to a number when its contact is deleted and added again', async () => {
    const del = await person('Del', 'sms', '+14155550113');
    const contacts = `/v2/users/${del.user}/contacts`;
    const before = twilio.messages.length;
    await server.callOk('POST', `${contacts}/${del.contactId}/send-verification`);
    await twilio.waitForMessages(before + 1);

    // A new contact, the same number: its wait is the number's, not the deleted contact's.
    await server.callOk('DELETE', `${contacts}/${del.contactId}`);
    const again = await server.callOk('POST', contacts, { method: 'sms', to: '+14155550113' });
    const refused = await server.call('POST', `${contacts}/${again.data.id}/send-verification`);
    assert.equal(refused.status, 429, JSON.stringify(refused.body));
    assert.match(refused.body.message, /less than a minute ago/);
    assert.equal(twilio.messages.length, before + 1, 'the phone rang once');

    nextMinute();
    await server.callOk('POST', `${contacts}/${again.data.id}/send-verification`);
    const [second] = (await twilio.waitForMessages(before + 2)).slice(before + 1);
    assert.equal(second?.to, '+14155550113');
  });

  it('sends one code when several are asked for at the same moment', async () => {
    const tia = await person('Tia', 'sms', '+14155550114');
    const url = `/v2/users/${tia.user}/contacts/${tia.contactId}/send-verification`;
    const answers = await Promise.all([1, 2, 3, 4].map(() => server.call('POST', url)));
    assert.deepEqual(
      answers.map((a) => a.status).sort(),
      [202, 429, 429, 429],
      JSON.stringify(answers.map((a) => a.body)),
    );
    await server.idle();
    assert.equal(twilio.messages.filter((m) => m.to === '+14155550114').length, 1);
  });

  it("sends at most 10 codes and tests an hour to one person's contacts, and a test a minute", async () => {
    const cap = await person('Cap', 'sms', '+14155550120');
    await markVerified(cap.contactId);
    const contacts = `/v2/users/${cap.user}/contacts`;
    const before = twilio.messages.length;
    await server.callOk('POST', `${contacts}/${cap.contactId}/test`);
    const retest = await server.call('POST', `${contacts}/${cap.contactId}/test`);
    assert.equal(retest.status, 429, 'a test a minute per contact');
    assert.match(retest.body.message, /less than a minute ago/);

    // The test counts: nine codes to nine new numbers make ten.
    for (let i = 1; i <= 9; i++) {
      const added = await server.callOk('POST', contacts, { method: 'sms', to: `+1415555030${i}` });
      await server.callOk('POST', `${contacts}/${added.data.id}/send-verification`);
    }
    const eleventh = await server.callOk('POST', contacts, { method: 'sms', to: '+14155550310' });
    const refused = await fetch(`${server.url}${contacts}/${eleventh.data.id}/send-verification`, {
      method: 'POST',
      headers: { authorization: `GenieKey ${server.key}` },
    });
    const body = (await refused.json()) as Json;
    assert.equal(refused.status, 429, JSON.stringify(body));
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter > 55 * 60 && retryAfter <= 60 * 60, `Retry-After: ${retryAfter}`);
    assert.match(body.message, /10 codes and tests .* in the last hour.*try again in \d+ min/);
    await server.idle();
    assert.equal(twilio.messages.length, before + 10, 'one test and nine codes');
  });
});

describe('a code Twilio did not send', () => {
  it('counts against no wait: once Twilio takes messages again, the next code goes at once', async () => {
    const ned = await person('Ned', 'sms', '+14155550121');
    const url = `/v2/users/${ned.user}/contacts/${ned.contactId}/send-verification`;
    const before = twilio.messages.length;
    // A wrong auth token for a while: each try reaches Twilio, which sends nothing.
    twilio.failNext(11, 401, 20003);
    for (let i = 0; i < 11; i++) {
      const failed = await server.call('POST', url);
      assert.equal(failed.status, 502, JSON.stringify(failed.body));
    }
    const sent = await server.call('POST', url);
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    await server.idle();
    assert.equal(twilio.messages.length, before + 1, 'one code sent');
  });
});

describe('a voice contact', () => {
  it('is verified with the code a call reads out, and can then be tested', async () => {
    const vic = await person('Vic', 'voice', '+14155550107');
    const untested = await server.call('POST', `/v2/users/${vic.user}/contacts/${vic.contactId}/test`);
    assert.equal(untested.status, 422, 'no test call to a number nobody verified');
    const before = twilio.calls.length;
    await server.callOk('POST', `/v2/users/${vic.user}/contacts/${vic.contactId}/send-verification`);
    const [call] = (await twilio.waitForCalls(before + 1)).slice(before);
    assert.ok(call);
    const heard = (await twilio.answerCall(call.sid, [])).said.join(' ');
    const code = /code is ((?:\d ){5}\d)/.exec(heard)?.[1]?.replace(/ /g, '');
    assert.ok(code, heard);
    await server.callOk('POST', `/v2/users/${vic.user}/contacts/${vic.contactId}/verify`, { code });

    await server.callOk('POST', `/v2/users/${vic.user}/contacts/${vic.contactId}/test`);
    const [test] = (await twilio.waitForCalls(before + 2)).slice(before + 1);
    assert.ok(test);
    assert.match(
      (await twilio.answerCall(test.sid, [])).said.join(' '),
      /This is a test of Vic's Voice call contact/,
    );
  });
});

describe('a page by SMS', () => {
  it('is acknowledged by a reply, and its delivery is logged from the signed status callback', async () => {
    const sam = await person('Sam', 'sms', '+14155550102');
    await markVerified(sam.contactId);
    const before = twilio.messages.length;
    const id = await createAlert(`disk full ${run}`, sam.team);
    const [text] = (await twilio.waitForMessages(before + 1)).slice(before);
    assert.ok(text);
    assert.equal(text.from, FROM);
    assert.match(text.body, /Reply 1a to acknowledge, 1c to close/);
    assert.match(text.statusCallback ?? '', new RegExp(`^${server.url}/v1/twilio/status\\?notifications=`));

    assert.equal(await twilio.sendStatus(text.sid, 'delivered', { signWith: 'not the auth token' }), 403);
    assert.equal(await twilio.sendStatus(text.sid, 'delivered'), 204);
    await waitFor(
      'the delivery logged',
      async () => (await logs(id)).includes('SMS to Sam delivered') || undefined,
    );

    const reply = await twilio.reply({ from: '+14155550102', body: '1a', signWith: 'wrong' });
    assert.equal(reply.status, 403, 'a reply Twilio did not sign is refused');
    assert.equal((await alert(id)).acknowledged, false);

    const answer = await twilio.reply({ from: '+14155550102', body: ' 1A ' });
    assert.equal(answer.status, 200);
    assert.match(answer.messages.join(' '), /acknowledged/);
    const acked = await alert(id);
    assert.equal(acked.acknowledged, true);
    assert.match((await logs(id)).join('\n'), /Sam/);

    const help = await twilio.reply({ from: '+14155550102', body: 'what?' });
    assert.match(help.messages.join(' '), /1a acknowledges/);
    const unknown = await twilio.reply({ from: '+14155550102', body: '9c' });
    assert.match(unknown.messages.join(' '), /no open alert has the code 9/);
  });

  it('bundles three alerts due in the same minute into one text, closed together by one reply', async () => {
    const kim = await person('Kim', 'sms', '+14155550103');
    await markVerified(kim.contactId);
    // One text goes first; the alerts that fall due in the minute after it wait, and go together.
    const before = twilio.messages.length;
    const firstId = await createAlert(`storm first ${run}`, kim.team);
    await twilio.waitForMessages(before + 1);
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await createAlert(`storm ${i} ${run}`, kim.team));
    await waitForTurns('+14155550103', 3);
    await server.idle();
    assert.equal(twilio.messages.length, before + 1, 'nothing more inside the minute');
    nextMinute();
    const [bundle] = (await twilio.waitForMessages(before + 2)).slice(before + 1);
    assert.ok(bundle);
    assert.match(bundle.body, /3 alerts/);
    for (let i = 0; i < 3; i++) assert.match(bundle.body, new RegExp(`storm ${i} ${run}`));
    const code = /Reply (\d+)aa to acknowledge all, \1cc to close all/.exec(bundle.body)?.[1];
    assert.ok(code, bundle.body);
    assert.notEqual(code, '1', 'the first alert, still open, keeps code 1');
    await server.idle();
    assert.equal(twilio.messages.length, before + 2, 'one text for the three');

    const answer = await twilio.reply({ from: '+14155550103', body: `${code}cc` });
    assert.match(answer.messages.join(' '), /closed/);
    for (const id of ids) assert.equal((await alert(id)).status, 'closed');
    assert.equal((await alert(firstId)).status, 'open');
  });

  it('stops at a permanent error, marks the number, and does not page it again', async () => {
    const lee = await person('Lee', 'sms', '+15005550001');
    await markVerified(lee.contactId);
    const id = await createAlert(`bad number ${run}`, lee.team);
    const line = await waitFor('the failure logged', async () =>
      (await logs(id)).find((l) => l.startsWith('SMS to Lee failed')),
    );
    assert.match(line, /not retried/);
    assert.match(line, /not valid/);
    const rows = await db.query(`SELECT state, attempts FROM notifications WHERE alert_id = $1`, [id]);
    assert.deepEqual(rows.rows, [{ state: 'failed', attempts: 1 }]);
    const contact = await server.callOk('GET', `/v2/users/${lee.user}/contacts/${lee.contactId}`);
    assert.equal(contact.data.status.verified, false);
    assert.match(contact.data.status.disabledReason, /not valid/);

    nextMinute();
    const next = await createAlert(`bad number again ${run}`, lee.team);
    const skipped = await waitFor('the next page skipped', async () =>
      (await logs(next)).find((l) => l.includes('sms not paged')),
    );
    assert.match(skipped, /verify it again/);
    const calls = twilio.requests.filter((r) => r.form.To === '+15005550001');
    assert.equal(calls.length, 1, 'Twilio was asked once');
  });

  it('retries while Twilio refuses its credentials (401, then 404), naming the setting, and then sends', async () => {
    const ida = await person('Ida', 'sms', '+14155550116');
    await markVerified(ida.contactId);
    twilio.failNext(1, 401, 20003);
    const before = twilio.messages.length;
    const id = await createAlert(`bad token ${run}`, ida.team);
    const first = await waitFor('the first retry logged', async () =>
      (await logs(id)).find((l) => l.startsWith('SMS to Ida failed for now (attempt 1')),
    );
    assert.match(first, /401/);
    assert.match(first, /Check VIGIL_TWILIO_ACCOUNT_SID and VIGIL_TWILIO_AUTH_TOKEN/);

    // The account SID fixed wrong: Twilio answers 404 for another account's resources.
    twilio.failNext(1, 404, 20404);
    clock.advance(60_000);
    const second = await waitFor('the second retry logged', async () =>
      (await logs(id)).find((l) => l.startsWith('SMS to Ida failed for now (attempt 2')),
    );
    assert.match(second, /404/);
    assert.match(second, /Check VIGIL_TWILIO_ACCOUNT_SID/);

    clock.advance(60_000);
    await twilio.waitForMessages(before + 1);
    await waitFor(
      'sent on the third attempt',
      async () => (await logs(id)).some((l) => l.startsWith('SMS sent to Ida')) || undefined,
    );
    const contact = await server.callOk('GET', `/v2/users/${ida.user}/contacts/${ida.contactId}`);
    assert.equal(contact.data.status.verified, true, 'the number is not what was wrong');
  });

  it('retries after Twilio says 429, and sends', async () => {
    const max = await person('Max', 'sms', '+14155550104');
    await markVerified(max.contactId);
    twilio.failNext(1, 429);
    const before = twilio.messages.length;
    const id = await createAlert(`busy twilio ${run}`, max.team);
    const line = await waitFor('the retry logged', async () =>
      (await logs(id)).find((l) => l.startsWith('SMS to Max is rate limited')),
    );
    assert.match(line, /429/);
    assert.equal(twilio.messages.length, before);
    clock.advance(60_000);
    await twilio.waitForMessages(before + 1);
    await waitFor(
      'sent on the second attempt',
      // Sent later than it was first due: the line says how much later.
      async () => (await logs(id)).some((l) => l.startsWith('SMS sent to Max')) || undefined,
    );
  });
});

describe('a page by phone call', () => {
  it('reads the alert and acknowledges it when 1 is pressed', async () => {
    const ann = await person('Ann', 'voice', '+14155550105');
    await markVerified(ann.contactId);
    const before = twilio.calls.length;
    const id = await createAlert(`database down ${run}`, ann.team);
    const [call] = (await twilio.waitForCalls(before + 1)).slice(before);
    assert.ok(call);
    assert.equal(call.to, '+14155550105');

    const wrongKey = await twilio.answerCall(call.sid, ['7', '1']);
    const said = wrongKey.said.join(' ');
    assert.match(said, new RegExp(`database down ${run}`));
    assert.match(said, /Press 1 to acknowledge, 2 to close, 3 to escalate/);
    assert.match(said, /That key does nothing/);
    assert.match(said, /acknowledged/);
    assert.equal((await alert(id)).acknowledged, true);

    assert.equal(await twilio.sendStatus(call.sid, 'completed', { duration: 34 }), 204);
    await waitFor(
      'the call logged',
      async () => (await logs(id)).includes('Voice call to Ann answered (34 s)') || undefined,
    );
  });
});

describe('a key pressed on a call', () => {
  /** A verified voice contact called about a new alert, the call and the alert, once the call reads it. */
  async function pagedByCall(name: string, phone: string) {
    const who = await person(name, 'voice', phone);
    await markVerified(who.contactId);
    const before = twilio.calls.length;
    const alertId = await createAlert(`call for ${name} ${run}`, who.team);
    const [call] = (await twilio.waitForCalls(before + 1)).slice(before);
    assert.ok(call);
    assert.equal(call.to, phone);
    const heard = await twilio.answerCall(call.sid, []);
    assert.match(heard.said.join(' '), new RegExp(`call for ${name} ${run}`));
    return { ...who, alertId, call, contactUrl: `/v2/users/${who.user}/contacts/${who.contactId}` };
  }

  /**
   * Twilio posting the key pressed at the call's menu (its Gather's action), signed as Twilio signs it:
   * a key pressed late in the call, or the same callback replayed. What the call said back.
   */
  async function pressKey(call: FakeCall, digit: string): Promise<string> {
    assert.ok(call.url, 'a call that fetches its script from Vigil');
    const action = `${call.url}&answer=1`;
    const params = {
      AccountSid: ACCOUNT_SID,
      CallSid: call.sid,
      CallStatus: 'in-progress',
      From: call.from,
      To: call.to,
      Digits: digit,
    };
    const response = await fetch(action, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'x-twilio-signature': twilioSignature(AUTH_TOKEN, action, params),
      },
      body: new URLSearchParams(params).toString(),
    });
    assert.equal(response.status, 200);
    return response.text();
  }

  it('acts on nothing once the number called is no longer a voice contact of its person (deleted)', async () => {
    const gus = await pagedByCall('Gus', '+14155550151');
    await server.callOk('DELETE', gus.contactUrl);

    const said = await pressKey(gus.call, '2');
    assert.match(said, /Nothing was done: this number is no longer a voice contact/);
    assert.doesNotMatch(said, /closed/);
    assert.equal((await alert(gus.alertId)).status, 'open');
    assert.doesNotMatch((await logs(gus.alertId)).join('\n'), /closed by/i);

    // The call answered again (a replayed callback) reads nothing about the alert to whoever has the number.
    const again = await twilio.answerCall(gus.call.sid, ['2']);
    const heard = again.said.join(' ');
    assert.match(heard, /Nothing was done: this number is no longer a voice contact/);
    assert.doesNotMatch(heard, new RegExp(`call for Gus`));
    assert.equal((await alert(gus.alertId)).status, 'open');
  });

  it('acts on nothing for the old number of a changed contact, nor for it given back until verified', async () => {
    const hal = await pagedByCall('Hal', '+14155550152');
    await server.callOk('PATCH', hal.contactUrl, { to: '+14155550153' });
    assert.match(await pressKey(hal.call, '1'), /Nothing was done: this number is no longer a voice contact/);
    assert.equal((await alert(hal.alertId)).acknowledged, false);

    await server.callOk('PATCH', hal.contactUrl, { to: '+14155550152' });
    assert.match(await pressKey(hal.call, '1'), /Nothing was done: this number is not verified/);
    assert.equal((await alert(hal.alertId)).acknowledged, false);

    await markVerified(hal.contactId);
    assert.match(await pressKey(hal.call, '1'), /acknowledged/);
    assert.equal((await alert(hal.alertId)).acknowledged, true);
  });
});

describe('calls to one phone', () => {
  it('count a call that read out several alerts as one call against the throttle', async () => {
    const ben = await person('Ben', 'voice', '+14155550108');
    await markVerified(ben.contactId);
    const before = twilio.calls.length;
    await createAlert(`first ${run}`, ben.team);
    await twilio.waitForCalls(before + 1);
    // Three more inside the minute wait for their turn, and go as one call.
    for (let i = 0; i < 3; i++) await createAlert(`together ${i} ${run}`, ben.team);
    await waitForTurns('+14155550108', 3);
    nextMinute();
    await twilio.waitForCalls(before + 2);
    await waitFor('the call recorded', async () => {
      const rows = await db.query(
        `SELECT count(*)::int AS n FROM notifications WHERE address = '+14155550108' AND state = 'sent'`,
      );
      return rows.rows[0].n === 4 || undefined;
    });
    // Two calls so far, not four: the limit of three in 15 minutes leaves room for one more.
    await createAlert(`later ${run}`, ben.team);
    nextMinute();
    const calls = await twilio.waitForCalls(before + 3);
    assert.equal(calls.length, before + 3);
  });
});

describe('two worker processes', () => {
  it('send each text exactly once', async () => {
    const second = await startTestServer({
      databaseUrl: server.databaseUrl,
      apiKey: server.key,
      role: 'worker',
      clock,
      engineIntervalMs: 100,
      env: {
        VIGIL_PUBLIC_URL: server.url,
        VIGIL_TWILIO_ACCOUNT_SID: ACCOUNT_SID,
        VIGIL_TWILIO_AUTH_TOKEN: AUTH_TOKEN,
        VIGIL_TWILIO_FROM: FROM,
        VIGIL_TWILIO_API_URL: twilio.url,
      },
    });
    try {
      const people = [];
      for (let i = 0; i < 6; i++) {
        const p = await person(`Worker${i}`, 'sms', `+1415555020${i}`);
        await markVerified(p.contactId);
        people.push(p);
      }
      const before = twilio.messages.length;
      await Promise.all(people.map((p, i) => createAlert(`twice ${i} ${run}`, p.team)));
      await twilio.waitForMessages(before + people.length);
      await server.idle();
      const sent = twilio.messages.slice(before);
      assert.equal(sent.length, people.length, sent.map((m) => `${m.to}: ${m.body}`).join('\n'));
      assert.equal(new Set(sent.map((m) => m.to)).size, people.length, 'one text to each phone');
    } finally {
      await second.stop();
    }
  });
});

describe('STOP and START', () => {
  it('stops paging a number that texted STOP, and pages it again after START', async () => {
    const ola = await person('Ola', 'sms', '+14155550106');
    await markVerified(ola.contactId);
    const stop = await twilio.reply({ from: '+14155550106', body: 'STOP' });
    assert.deepEqual(stop.messages, [], 'Twilio answers STOP itself');
    const contact = await server.callOk('GET', `/v2/users/${ola.user}/contacts/${ola.contactId}`);
    assert.match(contact.data.status.disabledReason, /opted out/);
    const id = await createAlert(`after stop ${run}`, ola.team);
    const line = await waitFor('the page skipped', async () =>
      (await logs(id)).find((l) => l.includes('sms not paged')),
    );
    assert.match(line, /STOP/);

    const start = await twilio.reply({ from: '+14155550106', body: 'start' });
    assert.match(start.messages.join(' '), /back on/);
    const before = twilio.messages.length;
    nextMinute();
    await createAlert(`after start ${run}`, ola.team);
    const [text] = (await twilio.waitForMessages(before + 1)).slice(before);
    assert.equal(text?.to, '+14155550106');
  });
});

describe('a number Twilio says opted out (21610)', () => {
  it('stays verified, and is paged again after START', async () => {
    const uma = await person('Uma', 'sms', '+14155550115');
    await markVerified(uma.contactId);
    const contactUrl = `/v2/users/${uma.user}/contacts/${uma.contactId}`;
    twilio.failNext(1, 400, 21610);
    const first = await createAlert(`opted out ${run}`, uma.team);
    const line = await waitFor('the refusal logged', async () =>
      (await logs(first)).find((l) => l.startsWith('SMS to Uma failed')),
    );
    assert.match(line, /opted out/);
    assert.match(line, /until it opts back in/);
    const contact = await server.callOk('GET', contactUrl);
    assert.match(contact.data.status.disabledReason, /opted out/);
    assert.equal(contact.data.status.verified, true, 'an opt-out says nothing of whose number it is');

    const start = await twilio.reply({ from: '+14155550115', body: 'START' });
    assert.match(start.messages.join(' '), /back on/);
    const before = twilio.messages.length;
    nextMinute();
    const second = await createAlert(`opted in ${run}`, uma.team);
    const [text] = (await twilio.waitForMessages(before + 1)).slice(before);
    assert.equal(text?.to, '+14155550115');
    assert.match(text?.body ?? '', new RegExp(`opted in ${run}`));
    await waitFor(
      'the text logged',
      async () => (await logs(second)).includes('SMS sent to Uma') || undefined,
    );
  });
});

describe('a reply code', () => {
  it('is not given to a new alert once its alert closes, and a late reply with it acts on nothing', async () => {
    const rae = await person('Rae', 'sms', '+14155550117');
    await markVerified(rae.contactId);
    const before = twilio.messages.length;
    const a = await createAlert(`first of two ${run}`, rae.team);
    const [textA] = (await twilio.waitForMessages(before + 1)).slice(before);
    assert.match(textA?.body ?? '', /Reply 1a to acknowledge, 1c to close/);
    await server.callOk('POST', `/v2/alerts/${a}/close`, {});
    await waitFor('A closed', async () => (await alert(a)).status === 'closed' || undefined);

    nextMinute();
    const b = await createAlert(`second of two ${run}`, rae.team);
    const [textB] = (await twilio.waitForMessages(before + 2)).slice(before + 1);
    assert.match(textB?.body ?? '', new RegExp(`second of two ${run}`));
    assert.doesNotMatch(textB?.body ?? '', /Reply 1a/, "A's code is not B's");

    // "1c" meant for A, sent late: A is closed already, and B must stay open.
    const late = await twilio.reply({ from: '+14155550117', body: '1c' });
    assert.match(late.messages.join(' '), /already closed/);
    assert.equal((await alert(b)).status, 'open');
    const codeB = /Reply (\d+)a to acknowledge/.exec(textB?.body ?? '')?.[1];
    assert.ok(codeB, textB?.body);
    const answer = await twilio.reply({ from: '+14155550117', body: `${codeB}c` });
    assert.match(answer.messages.join(' '), /closed/);
    assert.equal((await alert(b)).status, 'closed');
  });

  /** A verified SMS contact paged about a new alert, and the alert, once its text asks for "1a". */
  async function pagedByText(name: string, phone: string) {
    const who = await person(name, 'sms', phone);
    await markVerified(who.contactId);
    const before = twilio.messages.length;
    const alertId = await createAlert(`reply from ${name} ${run}`, who.team);
    const [text] = (await twilio.waitForMessages(before + 1)).slice(before);
    assert.equal(text?.to, phone);
    assert.match(text?.body ?? '', /Reply 1a to acknowledge, 1c to close/);
    return { ...who, alertId, contactUrl: `/v2/users/${who.user}/contacts/${who.contactId}` };
  }

  it('acts on nothing once the number is no longer an SMS contact of its person (deleted)', async () => {
    const dora = await pagedByText('Dora', '+14155550141');
    await server.callOk('DELETE', dora.contactUrl);

    const answer = await twilio.reply({ from: '+14155550141', body: '1c' });
    const said = answer.messages.join(' ');
    assert.match(said, /nothing done: this number is no longer an SMS contact/);
    assert.doesNotMatch(said, /closed/, 'nothing about the alert is told to whoever has the number now');
    assert.equal((await alert(dora.alertId)).status, 'open');
    assert.doesNotMatch((await logs(dora.alertId)).join('\n'), /closed by/i);
  });

  it('acts on nothing from the old number of a changed contact, nor from it given back until verified', async () => {
    const chan = await pagedByText('Chan', '+14155550142');
    await server.callOk('PATCH', chan.contactUrl, { to: '+14155550143' });

    const old = await twilio.reply({ from: '+14155550142', body: '1c' });
    assert.match(old.messages.join(' '), /nothing done: this number is no longer an SMS contact/);
    assert.equal((await alert(chan.alertId)).status, 'open');

    // The number given back to the contact has to prove again that it reaches Chan.
    await server.callOk('PATCH', chan.contactUrl, { to: '+14155550142' });
    const unproven = await twilio.reply({ from: '+14155550142', body: '1c' });
    assert.match(unproven.messages.join(' '), /nothing done: this number is not verified/);
    assert.equal((await alert(chan.alertId)).status, 'open');

    await markVerified(chan.contactId);
    const answer = await twilio.reply({ from: '+14155550142', body: '1c' });
    assert.match(answer.messages.join(' '), /closed/);
    assert.equal((await alert(chan.alertId)).status, 'closed');
  });
});

describe('the maintenance purge', () => {
  it('keeps spent reply codes a day and verification sends an hour, then drops them', async () => {
    const pool = createPool(server.databaseUrl, 2);
    const kdb = createDb(pool);
    try {
      const now = clock.now();
      const count = async (where: string) =>
        (
          await db.query(
            `SELECT count(*)::int AS n FROM sms_reply_codes WHERE phone = '+14155550117' ${where}`,
          )
        ).rows[0].n as number;
      const all = await count('');
      assert.ok((await count('AND spent_at IS NULL')) > 0, 'the reply code test left an unspent code');
      // Its alerts are closed: marked spent...
      await replyCodesRepository.purge(kdb, now);
      assert.equal(await count('AND spent_at IS NOT NULL'), all, 'spent, not dropped');
      // ... and dropped a day later.
      await replyCodesRepository.purge(kdb, new Date(now.getTime() + 25 * 3600_000));
      const left = await db.query(
        `SELECT count(*)::int AS n FROM sms_reply_codes WHERE phone = '+14155550117'`,
      );
      assert.equal(left.rows[0].n, 0);

      const sends = async () =>
        (await db.query(`SELECT count(*)::int AS n FROM verification_sends`)).rows[0].n as number;
      const before = await sends();
      assert.ok(before > 0);
      await verificationsRepository.purge(kdb, now);
      assert.equal(await sends(), before, 'the last hour is kept');
      await verificationsRepository.purge(kdb, new Date(now.getTime() + 2 * 3600_000));
      assert.equal(await sends(), 0);
    } finally {
      await kdb.destroy();
    }
  });
});

describe('a page planned for later', () => {
  /** A verified SMS contact paged 2 minutes after an alert, and the alert whose page waits. */
  async function plannedText(name: string, phone: string) {
    const who = await person(name, 'sms', phone);
    await markVerified(who.contactId);
    const rules = await server.callOk('GET', `/v2/users/${who.user}/notification-rules`);
    await server.callOk('PATCH', `/v2/users/${who.user}/notification-rules/${rules.data[0].id}`, {
      steps: [{ contact: { method: 'sms', to: phone }, sendAfter: { timeAmount: 2 } }],
    });
    const alertId = await createAlert(`later ${name} ${run}`, who.team);
    await waitFor('the text to be planned', async () => {
      const rows = await db.query(`SELECT state FROM notifications WHERE alert_id = $1`, [alertId]);
      return rows.rows[0]?.state === 'pending' || undefined;
    });
    return { ...who, alertId, contactUrl: `/v2/users/${who.user}/contacts/${who.contactId}` };
  }

  it('is not sent once its contact is deleted, changed to a new number, disabled or opted out', async () => {
    const deleted = await plannedText('Dee', '+14155550131');
    const changed = await plannedText('Cham', '+14155550132');
    const disabled = await plannedText('Dis', '+14155550134');
    const stopped = await plannedText('Sto', '+14155550135');
    await server.callOk('DELETE', deleted.contactUrl);
    await server.callOk('PATCH', changed.contactUrl, { to: '+14155550133' });
    await server.callOk('POST', `${disabled.contactUrl}/disable`);
    await twilio.reply({ from: '+14155550135', body: 'STOP' });

    clock.advance(3 * 60_000);
    const expected: [typeof deleted, string, RegExp][] = [
      [deleted, 'Dee', /the contact method was deleted/],
      [changed, 'Cham', /the contact method was changed after the page was planned/],
      [disabled, 'Dis', /the contact method is disabled/],
      [stopped, 'Sto', /STOP/],
    ];
    for (const [who, name, why] of expected) {
      const line = await waitFor(`the text to ${name} cancelled`, async () =>
        (await logs(who.alertId)).find((l) => l.startsWith(`SMS to ${name} not sent`)),
      );
      assert.match(line, why);
      assert.doesNotMatch(line, /\+1415/, 'the log names the method, never the number');
      const rows = await db.query(`SELECT state FROM notifications WHERE alert_id = $1`, [who.alertId]);
      assert.deepEqual(rows.rows, [{ state: 'cancelled' }]);
    }
    const asked = twilio.requests.filter((r) =>
      ['+14155550131', '+14155550132', '+14155550133', '+14155550134', '+14155550135'].includes(
        String(r.form.To),
      ),
    );
    assert.deepEqual(asked, [], 'Twilio was not asked to text any of them');
  });
});

describe('a spent reply code, on a clock ahead of the system clock', () => {
  // The engine's clock 6 hours ahead, set to the millisecond: the day a spent code is kept is counted
  // on it, whether a text or the retention round marked the code spent, and whichever frees it.
  const aheadMs = 6 * 3600_000;
  let at = new Date(Date.now() + aheadMs);
  const ahead: Clock = {
    now: () => new Date(at),
    fromSystemTime: (time) => new Date(time.getTime() + aheadMs),
    toSystemTime: (time) => new Date(time.getTime() - aheadMs),
  };
  const later = (ms: number) => new Date(at.getTime() + ms);

  /** The SMS channel on that clock, and a page through it to `phone` about an alert of its own. */
  async function textingPerson(name: string, phone: string) {
    const who = await person(name, 'sms', phone);
    const userId: string = (await server.callOk('GET', `/v2/users/${who.user}`)).data.id;
    const org = await db.query(`SELECT org_id FROM users WHERE id = $1`, [userId]);
    const { config, db: workersDb } = server.app.context;
    const made = twilioChannels({
      config,
      db: workersDb,
      log: createLogger('silent'),
      fetch: (input, init) => fetch(input, init),
      clock: ahead,
    }).sms;
    assert.ok('send' in made, 'Twilio is set up');
    const channel: NotificationChannel = made;
    /** Texts a page about a new alert (not in the database: gone, so its code is spent at the next look). */
    return async function page(): Promise<number> {
      const alertId = randomUUID();
      const message: OutgoingNotification = {
        idempotencyKey: randomUUID(),
        notificationId: randomUUID(),
        kind: 'create-alert',
        to: { address: phone, name, userId, timeZone: 'UTC' },
        alert: {
          id: alertId,
          orgId: org.rows[0].org_id,
          tinyId: '1',
          message: `spent ${name} ${run}`,
          description: '',
          priority: 'P2',
          status: 'open',
          acknowledged: false,
          source: '',
          entity: '',
          tags: [],
          details: {},
          count: 1,
          createdAt: ahead.now(),
          integrationName: null,
        },
        reason: 'on call',
        links: { acknowledge: `${server.url}/ack`, view: `${server.url}/alerts/${alertId}` },
      };
      await channel.send(message);
      const row = await db.query(
        `SELECT code FROM sms_reply_codes WHERE phone = $1 AND alert_ids = ARRAY[$2]::uuid[]`,
        [phone, alertId],
      );
      return row.rows[0].code as number;
    };
  }

  const codes = async (phone: string) =>
    (await db.query(`SELECT code FROM sms_reply_codes WHERE phone = $1 ORDER BY code`, [phone])).rows.map(
      (r) => r.code as number,
    );

  it('marked spent by a text, is freed by the retention round a day after, not before', async () => {
    const page = await textingPerson('Spen', '+14155550161');
    assert.equal(await page(), 1);
    at = later(60_000);
    // The next text finds code 1's alert gone: code 1 is spent now, on the engine's clock.
    assert.equal(await page(), 2);
    const spentAt = at;
    const { db: workersDb } = server.app.context;
    await replyCodesRepository.purge(workersDb, new Date(spentAt.getTime() + SPENT_FOR_MS - 1));
    assert.deepEqual(await codes('+14155550161'), [1, 2], 'kept until a day has passed on the clock');
    await replyCodesRepository.purge(workersDb, new Date(spentAt.getTime() + SPENT_FOR_MS));
    // Code 2, marked spent by the round before, is kept its own day.
    assert.deepEqual(await codes('+14155550161'), [2], 'freed a day after');
  });

  it('marked spent by the retention round, is given to a new text a day after, not before', async () => {
    const page = await textingPerson('Reta', '+14155550162');
    assert.equal(await page(), 1);
    const spentAt = later(60_000);
    await replyCodesRepository.purge(server.app.context.db, spentAt);
    at = new Date(spentAt.getTime() + SPENT_FOR_MS - 1);
    assert.equal(await page(), 2, 'code 1 is still kept from new texts');
    at = new Date(spentAt.getTime() + SPENT_FOR_MS);
    assert.equal(await page(), 1, 'code 1 is free again');
  });
});
