import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { FakeCall, FakeMessage, FakeTwilio } from '../../testing/fake-twilio.js';
import { createTeamAlert, waitFor, type TestServer } from '../../testing/harness.js';
import { phonePagedPerson, startTwilioTestbed, type TwilioTestbed } from '../../testing/twilio-server.js';
import { ShiftedClock } from '../../work/clock.js';

/**
 * An answer by SMS or phone that acts on all the alerts of a bundled text or call is a bulk action: a
 * custom role that the bulk API refuses (no alert-close-all, no alert-acknowledge-all) is refused it there
 * too, in words, while it still acts on one alert at a time.
 */

const ACCOUNT_SID = `AC${'3c'.repeat(16)}`;
const AUTH_TOKEN = 'twilio-bulk-answers-token-0123456789';
const FROM = '+15005550006';

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

const status = async (id: string): Promise<string> =>
  (await server.callOk('GET', `/v2/alerts/${id}`)).data.status as string;
const tinyOf = async (id: string): Promise<string> =>
  (await server.callOk('GET', `/v2/alerts/${id}`)).data.tinyId as string;
/** The two alerts an answer says were closed together ("Alerts 12 and 13 closed."), sorted. */
function closedTogether(answer: string): string[] {
  const two = /Alerts (\d+) and (\d+) closed\./.exec(answer);
  assert.ok(two, answer);
  return [two[1] ?? '', two[2] ?? ''].sort();
}

/**
 * A verified contact of a person whose custom role may act on one alert but not on all at once (the API's
 * bulk close answers it 403), paged about one alert, then about two more in one bundled text or call.
 */
async function pagedAboutBundle(name: string, method: 'sms' | 'voice', phone: string) {
  const who = await phonePagedPerson(server, { name, method, phone, run });
  await db.query('UPDATE contact_methods SET verified_at = now() WHERE id = $1', [who.contactId]);
  const role = `One at a time ${name} ${run}`;
  await server.callOk('POST', '/v2/roles', {
    name: role,
    extendedRole: 'user',
    grantedRights: [],
    disallowedRights: ['alert-close-all', 'alert-acknowledge-all'],
  });
  await server.callOk('PATCH', `/v2/users/${who.user}`, { role: { name: role } });
  const key = (await server.callOk('POST', '/v2/api-keys', { name, user: { username: who.user } })).data
    .key as string;

  const sent = () => (method === 'sms' ? twilio.messages.length : twilio.calls.length);
  const waitSent = (n: number): Promise<(FakeMessage | FakeCall)[]> =>
    method === 'sms' ? twilio.waitForMessages(n) : twilio.waitForCalls(n);
  const before = sent();
  const single = await createTeamAlert(server, `single ${name} ${run}`, who.team);
  const [first] = (await waitSent(before + 1)).slice(before);
  assert.ok(first);
  // Inside the minute after the first page, the next two wait for their turn, and go together.
  const bundled = [
    await createTeamAlert(server, `bundled one ${name} ${run}`, who.team),
    await createTeamAlert(server, `bundled two ${name} ${run}`, who.team),
  ];
  await waitFor('the two to wait for their turn', async () => {
    const rows = await db.query(
      `SELECT count(*)::int AS n FROM notifications WHERE address = $1 AND state = 'pending' AND last_error LIKE 'throttled:%'`,
      [phone],
    );
    return rows.rows[0].n === 2 || undefined;
  });
  clock.advance(61_000);
  const [bundle] = (await waitSent(before + 2)).slice(before + 1);
  assert.ok(bundle);

  const refused = await server.call('POST', '/v2/bulk/alerts/close', { identifiers: bundled }, key);
  assert.equal(refused.status, 403, 'the API refuses this role a bulk close');
  return { ...who, single, bundled, first, bundle };
}

describe('an SMS reply to a bundled text', () => {
  it('closes or acknowledges all its alerts only with the -all right, and one alert with the right for one', async () => {
    const phone = '+14155550301';
    const nia = await pagedAboutBundle('Nia', 'sms', phone);
    const text = nia.bundle as FakeMessage;
    const code = /Reply (\d+)aa to acknowledge all, \1cc to close all/.exec(text.body)?.[1];
    assert.ok(code, text.body);

    for (const [body, verb] of [
      [`${code}cc`, 'close'],
      [`${code}c`, 'close'],
      [`${code}aa`, 'acknowledge'],
    ] as const) {
      const answer = (await twilio.reply({ from: phone, body })).messages.join(' ');
      assert.match(
        answer,
        new RegExp(`nothing done: your role does not allow you to ${verb} several alerts at once`),
      );
      assert.match(answer, new RegExp(`alert-${verb}-all`));
      assert.match(answer, /Reply to the text of a single alert with its own code/);
    }
    for (const id of nia.bundled) assert.equal(await status(id), 'open');
    const acked = await Promise.all(
      nia.bundled.map(async (id) => (await server.callOk('GET', `/v2/alerts/${id}`)).data.acknowledged),
    );
    assert.deepEqual(acked, [false, false]);

    // The single alert's own code needs only alert-close.
    const one = await twilio.reply({ from: phone, body: '1c' });
    assert.match(one.messages.join(' '), new RegExp(`Alert ${await tinyOf(nia.single)} closed`));
    assert.equal(await status(nia.single), 'closed');

    // Once one alert of the bundle is closed, the bundle's code acts on one open alert: no bulk action.
    const [firstOfBundle, secondOfBundle] = nia.bundled;
    assert.ok(firstOfBundle && secondOfBundle);
    await server.callOk('POST', `/v2/alerts/${firstOfBundle}/close`, {});
    await waitFor('the first closed', async () => (await status(firstOfBundle)) === 'closed' || undefined);
    const rest = await twilio.reply({ from: phone, body: `${code}cc` });
    assert.match(rest.messages.join(' '), new RegExp(`Alert ${await tinyOf(secondOfBundle)} closed`));
    assert.equal(await status(secondOfBundle), 'closed');
  });

  it('says what became of each alert when the role may act on all at once', async () => {
    const phone = '+14155550302';
    const ada = await pagedAboutBundle('Ada', 'sms', phone);
    await server.callOk('PATCH', `/v2/users/${ada.user}`, { role: { name: 'User' } });
    const code = /Reply (\d+)aa/.exec((ada.bundle as FakeMessage).body)?.[1];
    assert.ok(code);
    const answer = (await twilio.reply({ from: phone, body: `${code}cc` })).messages.join(' ');
    // Said once for the two: "Alerts 12 and 13 closed."
    assert.deepEqual(closedTogether(answer), (await Promise.all(ada.bundled.map(tinyOf))).sort());
    for (const id of ada.bundled) assert.equal(await status(id), 'closed');
    assert.equal(await status(ada.single), 'open');
  });
});

describe('a key pressed on a bundled call', () => {
  it('closes or acknowledges all its alerts only with the -all right, and one alert with the right for one', async () => {
    const vic = await pagedAboutBundle('Vic', 'voice', '+14155550303');
    for (const [key, verb] of [
      ['2', 'close'],
      ['1', 'acknowledge'],
    ] as const) {
      const heard = (await twilio.answerCall(vic.bundle.sid, [key])).said.join(' ');
      assert.match(heard, /Press 1 to acknowledge all of them, 2 to close all of them/);
      assert.match(
        heard,
        new RegExp(`Nothing was done: your role does not allow you to ${verb} several alerts at once`),
      );
    }
    for (const id of vic.bundled) {
      const alert = (await server.callOk('GET', `/v2/alerts/${id}`)).data;
      assert.equal(alert.status, 'open');
      assert.equal(alert.acknowledged, false);
    }

    const single = (await twilio.answerCall(vic.first.sid, ['2'])).said.join(' ');
    assert.match(single, new RegExp(`Alert ${await tinyOf(vic.single)} closed`));
    assert.equal(await status(vic.single), 'closed');

    await server.callOk('PATCH', `/v2/users/${vic.user}`, { role: { name: 'User' } });
    const all = (await twilio.answerCall(vic.bundle.sid, ['2'])).said.join(' ');
    assert.deepEqual(closedTogether(all), (await Promise.all(vic.bundled.map(tinyOf))).sort());
    for (const id of vic.bundled) assert.equal(await status(id), 'closed');
  });
});
