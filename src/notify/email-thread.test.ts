import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createAlert, startTestServer, waitFor, type TestServer } from '../testing/harness.js';
import { startTestSmtpServer, type ReceivedMail, type TestSmtpServer } from '../testing/smtp.js';
import { ShiftedClock } from '../work/clock.js';

/**
 * Email threads end to end, as the person on call's mail client sees them: the real server and a real
 * SMTP server whose received headers are read back. Alice is paged for her alerts by email at once and
 * hears of notes and acknowledgements by email; Dave's email comes 5 minutes after the alert.
 */

const MINUTE = 60_000;
const run = randomUUID().slice(0, 8);
const alice = `alice-${run}@example.com`;
const carol = `carol-${run}@example.com`;
const dave = `dave-${run}@example.com`;
const clock = new ShiftedClock();
let smtp: TestSmtpServer;
let server: TestServer;

before(async () => {
  smtp = await startTestSmtpServer();
  server = await startTestServer({
    clock,
    engineIntervalMs: 100,
    env: { VIGIL_SMTP_URL: smtp.url, VIGIL_EMAIL_FROM: 'Vigil <vigil@alerts.example.com>' },
  });
  for (const [username, fullName] of [
    [alice, 'Alice'],
    [carol, 'Carol'],
    [dave, 'Dave'],
  ] as const) {
    await server.callOk('POST', '/v2/users', { username, fullName, role: { name: 'User' } });
  }
  for (const [username, actionType] of [
    [alice, 'add-note'],
    [alice, 'acknowledged-alert'],
    [dave, 'add-note'],
  ] as const) {
    await server.callOk('POST', `/v2/users/${username}/notification-rules`, {
      name: actionType,
      actionType,
      steps: [{ contact: { method: 'email', to: username }, sendAfter: { timeAmount: 0 } }],
    });
  }
  const rules = await server.callOk('GET', `/v2/users/${dave}/notification-rules`);
  const page = (rules.data as { id: string; actionType: string }[]).find(
    (r) => r.actionType === 'create-alert',
  );
  assert.ok(page, JSON.stringify(rules));
  await server.callOk('PATCH', `/v2/users/${dave}/notification-rules/${page.id}`, {
    steps: [{ contact: { method: 'email', to: dave }, sendAfter: { timeAmount: 5 } }],
  });
});

after(async () => {
  await server?.stop();
  await smtp?.stop();
});

async function alertFor(message: string, username: string): Promise<string> {
  return createAlert(server, { message, responders: [{ type: 'user', username }] });
}

/** Acts on the alert through the API and waits until the action is done. */
async function act(alertId: string, method: string, path: string, body: unknown): Promise<void> {
  const res = await server.callOk(method, `/v2/alerts/${alertId}${path}`, body);
  const done = await waitFor(`${path} to be done`, async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${res.requestId}`);
    return status.body.data as { success: boolean; status: string } | undefined;
  });
  assert.ok(done.success, `${path}: ${done.status}`);
}

function mailTo(address: string, alertId: string, match: (mail: ReceivedMail) => boolean) {
  return waitFor(`an email to ${address} about ${alertId}`, async () =>
    smtp.messages.find(
      (m) => m.to.includes(address) && m.headers['x-vigil-alert-id'] === alertId && match(m),
    ),
  );
}

/** What Gmail compares: the subject without "Re:" (and "Fwd:"). */
const base = (subject: string) => subject.replace(/^((re|fwd?):\s*)+/i, '');

/** The follow-up is in the page's conversation however the client threads: subject, topic, references. */
function assertSameThread(page: ReceivedMail, followUp: ReceivedMail): void {
  assert.equal(base(followUp.subject), base(page.subject), `${followUp.subject} after ${page.subject}`);
  assert.equal(followUp.headers['thread-topic'], page.headers['thread-topic']);
  const thread = page.headers['references'];
  assert.ok(thread);
  assert.ok(followUp.headers['references']?.includes(thread), followUp.headers['references']);
  if (followUp.subject.startsWith('Re: ')) assert.equal(followUp.headers['in-reply-to'], thread);
}

describe('email threads', () => {
  it('stay one thread when the message is edited: follow-ups and later pages keep the first subject, the body has the message as it is', async () => {
    const first = `Disk full on db-1 ${run}`;
    const middle = `Disk full" to "db-2 ${run}`;
    const now = `Disk full on db-2, the replica ${run}`;
    const alertId = await alertFor(first, alice);
    const page = await mailTo(alice, alertId, () => true);
    const tinyId = (await server.callOk('GET', `/v2/alerts/${alertId}`)).data.tinyId as string;
    assert.equal(page.subject, `[Vigil] #${tinyId}: ${first}`);

    await act(alertId, 'PUT', '/message', { message: middle, user: 'Bob' });
    await act(alertId, 'PUT', '/message', { message: now, user: 'Bob' });
    await act(alertId, 'POST', '/notes', { note: 'Moving the WAL', user: 'Bob' });
    const note = await mailTo(alice, alertId, (m) => m.text.startsWith('Note added by Bob: '));
    // Someone paged after the edit, while the alert is still open, joins the first page's conversation.
    await act(alertId, 'POST', '/responders', { responder: { type: 'user', username: carol } });
    const later = await mailTo(carol, alertId, (m) => m.text.startsWith('New alert: '));
    await act(alertId, 'POST', '/acknowledge', { user: 'Bob' });
    const ack = await mailTo(alice, alertId, (m) => m.text.startsWith('Acknowledged by Bob: '));

    for (const followUp of [note, ack]) {
      assert.equal(followUp.subject, `Re: ${page.subject}`);
      assertSameThread(page, followUp);
    }
    assert.equal(later.subject, page.subject);
    assertSameThread(page, later);
    for (const mail of [note, ack, later]) {
      assert.ok(mail.text.includes(`\n\n${now}\nThe message was changed since the first email`), mail.text);
      assert.ok(mail.html.includes(`${now}</h1>`), mail.html);
    }
    assert.ok(!page.text.includes('The message was changed'), page.text);
  });

  it('begin with the message the first email had, when it was edited before any email went out', async () => {
    const created = `Login from a new country ${run}`;
    const edited = `Login from a new country: Alice on holiday ${run}`;
    const alertId = await alertFor(created, dave);
    await act(alertId, 'PUT', '/message', { message: edited, user: 'Bob' });
    await server.idle();
    clock.advance(5 * MINUTE);
    const page = await mailTo(dave, alertId, () => true);
    assert.match(page.subject, new RegExp(`^\\[Vigil\\] #\\d+: ${edited}$`));
    assert.ok(!page.text.includes('The message was changed'), page.text);
    await act(alertId, 'POST', '/notes', { note: 'She is', user: 'Bob' });
    const note = await mailTo(dave, alertId, (m) => m.text.startsWith('Note added by Bob: '));
    assert.equal(note.subject, `Re: ${page.subject}`);
    assertSameThread(page, note);
  });
});
