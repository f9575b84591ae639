import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { FakeTwilio } from '../../testing/fake-twilio.js';
import { alertLogs, createTeamAlert, waitFor, type TestServer } from '../../testing/harness.js';
import { phonePagedPerson, startTwilioTestbed, type TwilioTestbed } from '../../testing/twilio-server.js';
import { ShiftedClock } from '../../work/clock.js';

/**
 * What an answer by SMS or phone may do and say: a code stays its alert's after its person is deleted, a
 * disabled contact acts on nothing, Twilio's refusals reach the logs without the number, and the answer
 * to a reply about many alerts stays a text Twilio takes.
 */

const ACCOUNT_SID = `AC${'4d'.repeat(16)}`;
const AUTH_TOKEN = 'twilio-answer-guards-token-0123456789';
const FROM = '+15005550006';
/** Twilio refuses a TwiML <Message> longer than this (error 21617). */
const TWILIO_MAX_CHARS = 1600;

const clock = new ShiftedClock();
const run = randomUUID().slice(0, 8);
let testbed: TwilioTestbed;
let twilio: FakeTwilio;
let server: TestServer;
let db: pg.Client;

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

/** A verified contact of a new person, paged at once by `method` on `phone`, alone in a team of their own. */
async function verifiedPerson(name: string, method: 'sms' | 'voice', phone: string) {
  const who = await phonePagedPerson(server, { name, method, phone, run });
  await db.query('UPDATE contact_methods SET verified_at = now() WHERE id = $1', [who.contactId]);
  return { ...who, contactUrl: `/v2/users/${who.user}/contacts/${who.contactId}` };
}

const alert = async (id: string) => (await server.callOk('GET', `/v2/alerts/${id}`)).data;

/** Lets a minute pass, so that the next text or call to a number is not held by its throttle. */
function nextMinute() {
  clock.advance(61_000);
}

describe('a reply code of a person who was deleted', () => {
  it('is not given to another alert on the shared phone while its alert is open, and acts on nothing', async () => {
    const phone = '+14155550281';
    const pat = await verifiedPerson('Pat', 'sms', phone);
    const sam = await verifiedPerson('Sam', 'sms', phone);
    const before = twilio.messages.length;
    const a = await createTeamAlert(server, `for Pat ${run}`, pat.team);
    const [textA] = (await twilio.waitForMessages(before + 1)).slice(before);
    assert.match(textA?.body ?? '', /Reply 1a to acknowledge, 1c to close/);

    await server.callOk('DELETE', `/v2/users/${pat.user}`);
    nextMinute();
    const b = await createTeamAlert(server, `for Sam ${run}`, sam.team);
    const [textB] = (await twilio.waitForMessages(before + 2)).slice(before + 1);
    assert.match(textB?.body ?? '', new RegExp(`for Sam ${run}`));
    assert.doesNotMatch(textB?.body ?? '', /Reply 1a/, "A's code is still A's");

    // "1c" meant for A, sent after Pat was deleted: B must stay open, and nobody acts as Pat.
    const late = (await twilio.reply({ from: phone, body: '1c' })).messages.join(' ');
    assert.match(late, /nothing done: the person code 1 was sent to can no longer act on alerts/);
    assert.equal((await alert(b)).status, 'open');
    assert.equal((await alert(a)).status, 'open');
  });
});

describe('a disabled contact', () => {
  it('acknowledges, closes and escalates nothing, by SMS or by a key pressed on a call', async () => {
    const phone = '+14155550282';
    const dee = await verifiedPerson('Dee', 'sms', phone);
    const before = twilio.messages.length;
    const a = await createTeamAlert(server, `for Dee ${run}`, dee.team);
    await twilio.waitForMessages(before + 1);
    await server.callOk('POST', `${dee.contactUrl}/disable`, {});

    const said = (await twilio.reply({ from: phone, body: '1c' })).messages.join(' ');
    assert.match(said, /nothing done: this number's SMS contact is disabled/);
    assert.doesNotMatch(said, /closed/);
    assert.equal((await alert(a)).status, 'open');

    const vic = await verifiedPerson('Vic', 'voice', '+14155550283');
    const calls = twilio.calls.length;
    const v = await createTeamAlert(server, `for Vic ${run}`, vic.team);
    const [call] = (await twilio.waitForCalls(calls + 1)).slice(calls);
    assert.ok(call);
    await server.callOk('POST', `${vic.contactUrl}/disable`, {});
    const heard = (await twilio.answerCall(call.sid, ['2'])).said.join(' ');
    assert.match(heard, /Nothing was done: this number's voice contact is disabled/);
    assert.doesNotMatch(heard, new RegExp(`for Vic ${run}`));
    assert.equal((await alert(v)).status, 'open');
  });
});

describe('a text Twilio refuses with the number in its message', () => {
  it('is logged with the code and the reason, without the number', async () => {
    // Twilio's test number +15005550003 answers 21408, naming the number it was asked to text.
    const lee = await verifiedPerson('Lee', 'sms', '+15005550003');
    const id = await createTeamAlert(server, `refused ${run}`, lee.team);
    const line = await waitFor('the failure logged', async () =>
      (await alertLogs(server, id)).find((l) => l.startsWith('SMS to Lee failed')),
    );
    assert.match(line, /Twilio answered 400 \(error 21408\)/);
    assert.match(line, /Permission to send an SMS has not been enabled/);
    const stored = await db.query('SELECT last_error FROM notifications WHERE alert_id = $1', [id]);
    for (const text of [line, ...stored.rows.map((r) => r.last_error)]) {
      assert.doesNotMatch(String(text), /5005550003/, 'the number is not in the log');
    }
  });
});

describe('the answer to a reply about many alerts', () => {
  it('says once what happened to many, with no doubled period, in a text Twilio takes', async () => {
    const phone = '+14155550284';
    const kim = await verifiedPerson('Kim', 'sms', phone);
    const before = twilio.messages.length;
    await createTeamAlert(server, `first ${run}`, kim.team);
    await twilio.waitForMessages(before + 1);
    // Inside the minute after the first text, a storm waits for its turn and goes in one text.
    const storm: string[] = [];
    for (let i = 0; i < 24; i++) storm.push(await createTeamAlert(server, `storm ${i} ${run}`, kim.team));
    await server.idle();
    nextMinute();
    const [bundle] = (await twilio.waitForMessages(before + 2)).slice(before + 1);
    const code = /Reply (\d+)aa/.exec(bundle?.body ?? '')?.[1];
    assert.ok(code, bundle?.body);
    const [last, ...closed] = [...storm].reverse();
    assert.ok(last);
    for (const id of closed) await server.callOk('POST', `/v2/alerts/${id}/close`, {});
    await waitFor('the storm closed', async () => {
      const rows = await db.query(
        `SELECT count(*)::int AS n FROM alerts WHERE id = ANY($1) AND status = 'closed'`,
        [closed],
      );
      return rows.rows[0].n === closed.length || undefined;
    });

    const answer = await twilio.reply({ from: phone, body: `${code}aa` });
    assert.equal(answer.messages.length, 1);
    const said = answer.messages[0] ?? '';
    assert.ok(said.length <= TWILIO_MAX_CHARS, `${said.length} characters: ${said}`);
    assert.doesNotMatch(said, /\.\./);
    assert.match(said, /23 alerts were already closed/);
    assert.match(said, new RegExp(`Alert ${(await alert(last)).tinyId} acknowledged\\.`));
    assert.equal((await alert(last)).acknowledged, true);
  });
});
