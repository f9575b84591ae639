import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { ShiftedClock } from '../../work/clock.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { startTestSmtpServer, type ReceivedMail, type TestSmtpServer } from '../../testing/smtp.js';

/**
 * The engine end to end, as a person on call sees it: the real server, real PostgreSQL, a real SMTP server
 * receiving real mail, and a clock the test moves forward instead of waiting for minutes.
 *
 * The on-call set-up: team Security (alice, bob, carol); schedule "Security primary", weekly, alice then
 * bob, started three and a half days ago (so alice is on call, mid-shift, and bob is next whatever the
 * test moves the clock by); the policy "Security escalation": the on-call person at once, the next one
 * after 10 minutes, carol after 20 minutes; the team routes to it by default. Security Hub findings come
 * in through an integration owned by the team.
 */

const MINUTE = 60_000;
let server: TestServer;
let smtp: TestSmtpServer;
const clock = new ShiftedClock();
let intakeKey: string;
const run = randomUUID().slice(0, 8);
const alice = `alice-${run}@example.com`;
const bob = `bob-${run}@example.com`;
const carol = `carol-${run}@example.com`;

async function call(method: string, path: string, body?: unknown) {
  const res = await server.call(method, path, body);
  assert.ok(res.status < 300, `${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

async function setUp(): Promise<void> {
  for (const [username, fullName] of [
    [alice, 'Alice'],
    [bob, 'Bob'],
    [carol, 'Carol'],
  ]) {
    await call('POST', '/v2/users', { username, fullName, role: { name: 'User' } });
  }
  await call('POST', '/v2/teams', {
    name: 'Security',
    members: [alice, bob, carol].map((username) => ({ user: { username }, role: 'user' })),
  });
  const start = new Date(Date.now() - 3.5 * 24 * 3_600_000);
  await call('POST', '/v2/schedules', {
    name: 'Security primary',
    timezone: 'Europe/Berlin',
    ownerTeam: { name: 'Security' },
    rotations: [
      {
        name: 'Weekly',
        type: 'weekly',
        startDate: start.toISOString(),
        participants: [alice, bob].map((username) => ({ type: 'user', username })),
      },
    ],
  });
  await call('POST', '/v2/escalations', {
    name: 'Security escalation',
    ownerTeam: { name: 'Security' },
    rules: [
      {
        condition: 'if-not-acked',
        notifyType: 'default',
        delay: { timeAmount: 0 },
        recipient: { type: 'schedule', name: 'Security primary' },
      },
      {
        condition: 'if-not-acked',
        notifyType: 'next',
        delay: { timeAmount: 10 },
        recipient: { type: 'schedule', name: 'Security primary' },
      },
      {
        condition: 'if-not-acked',
        notifyType: 'default',
        delay: { timeAmount: 20 },
        recipient: { type: 'user', username: carol },
      },
    ],
  });
  await call('PUT', '/v2/teams/Security/routing-rules/default?teamIdentifierType=name', {
    notify: { type: 'escalation', name: 'Security escalation' },
  });
  const integration = await call('POST', '/v2/integrations', {
    type: 'AmazonSecurityHub',
    name: 'Security Hub',
    ownerTeam: { name: 'Security' },
    verifySignatures: false,
  });
  intakeKey = integration.data.apiKey;
}

before(async () => {
  smtp = await startTestSmtpServer();
  server = await startTestServer({
    clock,
    engineIntervalMs: 100,
    env: { VIGIL_SMTP_URL: smtp.url, VIGIL_EMAIL_FROM: 'Vigil <vigil@example.com>' },
  });
  await setUp();
});

after(async () => {
  await server?.stop();
  await smtp?.stop();
});

/** A Security Hub finding through the intake, as an EventBridge API destination delivers it. */
async function postFinding(title: string): Promise<string> {
  const findingId = `arn:aws:securityhub:eu-west-1:123456789012:finding/${randomUUID()}`;
  const event = {
    version: '0',
    id: randomUUID(),
    'detail-type': 'Security Hub Findings - Imported',
    source: 'aws.securityhub',
    account: '123456789012',
    time: new Date().toISOString(),
    region: 'eu-west-1',
    resources: [findingId],
    detail: {
      findings: [
        {
          SchemaVersion: '2018-10-08',
          Id: findingId,
          ProductArn: 'arn:aws:securityhub:eu-west-1::product/aws/guardduty',
          GeneratorId: 'guardduty',
          AwsAccountId: '123456789012',
          Types: ['TTPs/Initial Access'],
          CreatedAt: new Date().toISOString(),
          UpdatedAt: new Date().toISOString(),
          Severity: { Label: 'HIGH', Normalized: 70 },
          Title: title,
          Description: 'A finding for the engine test',
          Resources: [{ Type: 'AwsEc2Instance', Id: 'i-0123456789abcdef0' }],
          Workflow: { Status: 'NEW' },
          RecordState: 'ACTIVE',
        },
      ],
    },
  };
  const res = await fetch(
    `${server.url}/v1/json/integrations/webhooks/amazonsecurityhub?apiKey=${intakeKey}`,
    { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(event) },
  );
  assert.equal(res.status, 200, await res.text());
  return waitFor(`the alert for "${title}"`, async () => {
    const list = await server.call('GET', `/v2/alerts?query=${encodeURIComponent(`message:"${title}"`)}`);
    return list.body.data?.[0]?.id as string | undefined;
  });
}

async function createAlert(message: string): Promise<string> {
  const res = await call('POST', '/v2/alerts', { message, responders: [{ type: 'team', name: 'Security' }] });
  return waitFor('the alert', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${res.requestId}`);
    return status.body.data?.alertId as string | undefined;
  });
}

function mailsAbout(subjectPart: string): ReceivedMail[] {
  return smtp.messages.filter((m) => m.subject.includes(subjectPart));
}

async function mailTo(address: string, subjectPart: string, timeoutMs = 15_000): Promise<ReceivedMail> {
  return waitFor(
    `an email to ${address} about "${subjectPart}"`,
    async () => mailsAbout(subjectPart).find((m) => m.to.includes(address)),
    timeoutMs,
  );
}

async function logs(alertId: string): Promise<string[]> {
  const res = await server.call('GET', `/v2/alerts/${alertId}/logs?order=asc&limit=100`);
  return (res.body.data as Json[]).map((l) => l.log as string);
}

/** Waits until the engine and the sender have done all that is due, for asserting that nothing more happens. */
const settle = () => server.idle();

/** Alice acknowledges (or unacknowledges) the alert, and the engine has done what that asks. */
async function acknowledged(alertId: string, value: boolean) {
  await call('POST', `/v2/alerts/${alertId}/${value ? 'acknowledge' : 'unacknowledge'}`, { user: 'Alice' });
  await waitFor('the change', async () => {
    const a = await server.call('GET', `/v2/alerts/${alertId}`);
    return a.body.data.acknowledged === value;
  });
  await settle();
}

/** How many of the emails about `subjectPart` went to each of `people`, in their order. */
function pagesOf(subjectPart: string, people: string[]): number[] {
  return people.map((to) => mailsAbout(subjectPart).filter((m) => m.to.includes(to)).length);
}

/** Waits for the `count`th email to `address` about `subjectPart`. */
async function pagedTimes(address: string, subjectPart: string, count: number): Promise<void> {
  await waitFor(`email ${count} to ${address} about "${subjectPart}"`, async () =>
    mailsAbout(subjectPart).filter((m) => m.to.includes(address)).length >= count ? true : undefined,
  );
}

function linkIn(mail: ReceivedMail, action: 'acknowledge' | 'close'): string {
  const links = [...mail.text.matchAll(/https?:\/\/\S+\/v1\/alert-actions\/[A-Za-z0-9_.-]+/g)].map(
    (m) => m[0],
  );
  assert.ok(links.length >= 2, `the email has action links: ${mail.text}`);
  // The acknowledge link comes first in the text part.
  const link = action === 'acknowledge' ? links[0] : links[1];
  assert.ok(link);
  // The server listens on a port of its own choosing; VIGIL_PUBLIC_URL does not know it.
  const url = new URL(link);
  return `${server.url}${url.pathname}`;
}

describe('escalation', () => {
  it('pages the on-call person for a Security Hub finding, then the next one, and stops when acknowledged by the emailed link', async () => {
    const title = `Unusual API calls ${run}`;
    const alertId = await postFinding(title);
    const first = await mailTo(alice, title);
    assert.match(first.subject, /^\[Vigil\] #\d+: /, 'no priority in the subject, which must not change');
    assert.ok(first.subject.endsWith(title));
    assert.match(first.text, /^New alert: P2 #/, 'the priority is in the first line');
    assert.ok(first.html.includes(title), 'the HTML part has the title');
    assert.ok(first.text.includes('Security escalation rule 1'), 'the email says why Alice gets it');
    assert.equal(mailsAbout(title).length, 1, 'only the on-call person at first');
    // The SMTP server has the message a moment before the sender records it.
    await waitFor('the delivery on the log', async () =>
      (await logs(alertId)).some((l) => l.startsWith('Email sent to Alice')),
    );

    // Nine minutes on: nothing new. Ten: bob, the next on call.
    clock.advance(9 * MINUTE);
    await settle();
    assert.equal(mailsAbout(title).length, 1);
    clock.advance(1 * MINUTE);
    await mailTo(bob, title);
    assert.equal(mailsAbout(title).length, 2);

    // Alice acknowledges from her email: the page behind the link asks first (GET does not act).
    const ack = linkIn(first, 'acknowledge');
    const page = await fetch(ack);
    assert.equal(page.status, 200);
    assert.equal((await server.call('GET', `/v2/alerts/${alertId}`)).body.data.acknowledged, false);
    const done = await fetch(ack, { method: 'POST' });
    assert.equal(done.status, 200);
    assert.match(await done.text(), /acknowledged/i);
    await waitFor('the acknowledgement', async () => {
      const a = await server.call('GET', `/v2/alerts/${alertId}`);
      return a.body.data.acknowledged === true;
    });

    // Carol's rule (20 minutes) never fires.
    clock.advance(15 * MINUTE);
    await settle();
    assert.equal(mailsAbout(title).filter((m) => m.to.includes(carol)).length, 0);
    const lines = await logs(alertId);
    assert.ok(
      lines.some((l) => /acknowledged by Alice/i.test(l)),
      lines.join('\n'),
    );
    assert.ok(
      lines.some((l) => /paused: the alert was acknowledged/.test(l)),
      lines.join('\n'),
    );
  });

  it('stops when the alert is closed', async () => {
    const message = `Close stops it ${run}`;
    const alertId = await createAlert(message);
    await mailTo(alice, message);
    await call('POST', `/v2/alerts/${alertId}/close`, { user: 'Alice' });
    await waitFor('the close', async () => {
      const a = await server.call('GET', `/v2/alerts/${alertId}`);
      return a.body.data.status === 'closed';
    });
    await settle();
    clock.advance(30 * MINUTE);
    await settle();
    assert.equal(mailsAbout(message).length, 1);
  });

  it('pauses while snoozed, and starts over when the snooze ends', async () => {
    const message = `Snooze pauses it ${run}`;
    const alertId = await createAlert(message);
    await mailTo(alice, message);
    const endTime = new Date(Date.now() + 6000).toISOString();
    await call('POST', `/v2/alerts/${alertId}/snooze`, { endTime });
    await settle();
    clock.advance(25 * MINUTE);
    await settle();
    assert.equal(mailsAbout(message).length, 1, 'nobody is paged while the alert is snoozed');
    // The snooze ends (a real 6 s): the escalation starts again from its first rule.
    await waitFor('the second page to alice', async () =>
      mailsAbout(message).filter((m) => m.to.includes(alice)).length === 2 ? true : undefined,
    );
    assert.ok((await logs(alertId)).some((l) => l.includes('starts again from its first rule')));
  });

  it('starts over when a snooze ends, even if every rule had run before the snooze', async () => {
    // A schedule responder's escalation is one rule: it is over once the person on call is paged.
    const message = `Snoozed after the last rule ${run}`;
    const res = await call('POST', '/v2/alerts', {
      message,
      responders: [{ type: 'schedule', name: 'Security primary' }],
    });
    const alertId = await waitFor('the alert', async () => {
      const status = await server.call('GET', `/v2/alerts/requests/${res.requestId}`);
      return status.body.data?.alertId as string | undefined;
    });
    await mailTo(alice, message);
    await waitFor('the escalation to be over', async () =>
      (await logs(alertId)).some((l) => l.includes('every rule has run')),
    );
    const endTime = new Date(Date.now() + 6000).toISOString();
    await call('POST', `/v2/alerts/${alertId}/snooze`, { endTime });
    await settle();
    assert.equal(mailsAbout(message).length, 1, 'nobody is paged while the alert is snoozed');
    await waitFor('the second page to alice', async () =>
      mailsAbout(message).filter((m) => m.to.includes(alice)).length === 2 ? true : undefined,
    );
    assert.ok(
      (await logs(alertId)).some((l) => l.includes('starts again from its first rule: the snooze ended')),
    );
  });

  it('unacknowledges an acknowledged alert when its snooze ends, and pages again', async () => {
    const message = `Snoozed when acknowledged ${run}`;
    const alertId = await createAlert(message);
    await mailTo(alice, message);
    await call('POST', `/v2/alerts/${alertId}/acknowledge`, { user: 'Alice' });
    await waitFor('the acknowledgement', async () => {
      const a = await server.call('GET', `/v2/alerts/${alertId}`);
      return a.body.data.acknowledged === true;
    });
    const endTime = new Date(Date.now() + 6000).toISOString();
    await call('POST', `/v2/alerts/${alertId}/snooze`, { endTime });
    await settle();
    assert.equal(mailsAbout(message).length, 1);
    await waitFor('the second page to alice', async () =>
      mailsAbout(message).filter((m) => m.to.includes(alice)).length === 2 ? true : undefined,
    );
    assert.equal((await server.call('GET', `/v2/alerts/${alertId}`)).body.data.acknowledged, false);
    const lines = await logs(alertId);
    assert.ok(lines.includes('Alert unacknowledged: the snooze ended'), lines.join('\n'));
    assert.ok(lines.some((l) => l.includes('starts again from its first rule: the snooze ended')));
    // Its unacknowledged event comes after snooze_ended's: the escalation starts over once, not twice.
    await settle();
    assert.equal(mailsAbout(message).length, 2);
    assert.ok(!(await logs(alertId)).some((l) => l.endsWith('first rule: the alert was unacknowledged')));
  });

  it('moves to the next rule at once on the escalate action', async () => {
    const message = `Escalate now ${run}`;
    const alertId = await createAlert(message);
    await mailTo(alice, message);
    await call('POST', `/v2/alerts/${alertId}/escalate`, {
      escalation: { name: 'Security escalation' },
      user: 'Alice',
    });
    await mailTo(bob, message);
    assert.ok(
      (await logs(alertId)).some((l) => l.startsWith('Escalated to the next rule of Security escalation')),
    );
  });

  it('takes an escalation naming no policy ({}) as every policy the alert is on', async () => {
    // The console sent {} when no policy was chosen, and it was refused as a policy named "".
    const message = `Escalate on every policy ${run}`;
    const alertId = await createAlert(message);
    await mailTo(alice, message);
    await call('POST', `/v2/alerts/${alertId}/escalate`, { escalation: {}, user: 'Alice' });
    await mailTo(bob, message);
    assert.ok((await logs(alertId)).some((l) => l.startsWith('Escalated to the next rule by')));
  });

  it('pages for escalation and schedule responders, as Opsgenie clients send them', async () => {
    for (const responder of [
      { type: 'escalation', name: 'Security escalation' },
      { type: 'schedule', name: 'Security primary' },
    ]) {
      const message = `Responder ${responder.type} ${run}`;
      await call('POST', '/v2/alerts', { message, responders: [responder] });
      await mailTo(alice, message);
    }
    // On call for the team's policy and for the schedule responder at once: one email, not two.
    const both = `Both ways ${run}`;
    const requestId = (
      await call('POST', '/v2/alerts', {
        message: both,
        responders: [
          { type: 'team', name: 'Security' },
          { type: 'schedule', name: 'Security primary' },
        ],
      })
    ).requestId as string;
    await mailTo(alice, both);
    await waitFor('both escalations to run', async () => {
      const status = await server.call('GET', `/v2/alerts/requests/${requestId}`);
      const id = status.body.data?.alertId as string | undefined;
      return id && (await logs(id)).some((l) => l.includes('already being paged')) ? true : undefined;
    });
    await settle();
    assert.equal(mailsAbout(both).length, 1);
    // One that does not exist is left out, as Opsgenie adds responders "if they exist in the account".
    const unknown = await server.call('POST', '/v2/alerts', {
      message: 'nobody',
      responders: [{ type: 'escalation', name: 'No such policy' }],
    });
    assert.equal(unknown.status, 202, JSON.stringify(unknown.body));
    const unknownId = await waitFor('the alert', async () => {
      const status = await server.call('GET', `/v2/alerts/requests/${unknown.body.requestId}`);
      return status.body.data?.alertId as string | undefined;
    });
    assert.ok(
      (await logs(unknownId)).some((l) =>
        l.includes('Responder escalation "No such policy" does not exist: left out'),
      ),
    );
  });

  it('records a refused address as failed without retrying, and retries a temporary failure', async () => {
    const message = `Delivery results ${run}`;
    smtp.rejectRecipient(alice, 550, 'No such mailbox');
    try {
      const alertId = await createAlert(message);
      const failed = await waitFor('the failure on the log', async () =>
        (await logs(alertId)).find((l) => l.startsWith('Email to Alice failed (not retried)')),
      );
      assert.match(failed, /550/);
    } finally {
      smtp.clear();
    }
    const again = `Temporary failure ${run}`;
    smtp.failNext(1, 451);
    const alertId = await createAlert(again);
    await waitFor('the retry on the log', async () =>
      (await logs(alertId)).find((l) => l.includes('failed for now (attempt 1 of 8)')),
    );
    clock.advance(1 * MINUTE);
    await mailTo(alice, again);
  });

  it('pages someone reached two ways once for each step of theirs, the later ones too', async () => {
    // Dave's rule: email at once, and to his desk 5 minutes later. He is a responder, and his escalation's.
    const dave = `dave-${run}@example.com`;
    const desk = `dave.desk-${run}@example.com`;
    await call('POST', '/v2/users', { username: dave, fullName: 'Dave', role: { name: 'User' } });
    await call('POST', `/v2/users/${dave}/contacts`, { method: 'email', to: desk });
    const rules = await call('GET', `/v2/users/${dave}/notification-rules`);
    await call('PATCH', `/v2/users/${dave}/notification-rules/${rules.data[0].id}`, {
      steps: [
        { contact: { method: 'email', to: dave }, sendAfter: { timeAmount: 0 } },
        { contact: { method: 'email', to: desk }, sendAfter: { timeAmount: 5 } },
      ],
    });
    const policy = `Dave escalation ${run}`;
    await call('POST', '/v2/escalations', {
      name: policy,
      rules: [
        {
          condition: 'if-not-acked',
          notifyType: 'default',
          delay: { timeAmount: 0 },
          recipient: { type: 'user', username: dave },
        },
      ],
    });
    const message = `Two ways, later steps ${run}`;
    const requestId = (
      await call('POST', '/v2/alerts', {
        message,
        responders: [
          { type: 'user', username: dave },
          { type: 'escalation', name: policy },
        ],
      })
    ).requestId as string;
    await mailTo(dave, message);
    await waitFor('both escalations to run', async () => {
      const status = await server.call('GET', `/v2/alerts/requests/${requestId}`);
      const id = status.body.data?.alertId as string | undefined;
      return id && (await logs(id)).some((l) => l.includes('already being paged')) ? true : undefined;
    });
    clock.advance(5 * MINUTE);
    await mailTo(desk, message);
    await settle();
    assert.deepEqual(
      [dave, desk].map((to) => mailsAbout(message).filter((m) => m.to.includes(to)).length),
      [1, 1],
    );
  });
});

describe('acknowledged, and rules that carry on until the alert is closed', () => {
  before(async () => {
    await call('POST', '/v2/teams', {
      name: 'Managed',
      members: [alice, bob, carol].map((username) => ({ user: { username }, role: 'user' })),
    });
    const rule = (condition: string, minutes: number, username: string) => ({
      condition,
      notifyType: 'default',
      delay: { timeAmount: minutes },
      recipient: { type: 'user', username },
    });
    await call('POST', '/v2/escalations', {
      name: 'Managed escalation',
      rules: [
        rule('if-not-acked', 0, alice),
        rule('if-not-acked', 10, bob),
        rule('if-not-closed', 30, carol),
      ],
    });
    await call('PUT', '/v2/teams/Managed/routing-rules/default?teamIdentifierType=name', {
      notify: { type: 'escalation', name: 'Managed escalation' },
    });
  });

  async function managedAlert(message: string): Promise<string> {
    const res = await call('POST', '/v2/alerts', {
      message,
      responders: [{ type: 'team', name: 'Managed' }],
    });
    return waitFor('the alert', async () => {
      const status = await server.call('GET', `/v2/alerts/requests/${res.requestId}`);
      return status.body.data?.alertId as string | undefined;
    });
  }

  it('an if-not-closed rule still pages after the acknowledgement; the if-not-acked ones do not', async () => {
    const message = `Manager pages ${run}`;
    const alertId = await managedAlert(message);
    await mailTo(alice, message);
    await acknowledged(alertId, true);
    clock.advance(30 * MINUTE);
    await mailTo(carol, message);
    assert.equal(mailsAbout(message).filter((m) => m.to.includes(bob)).length, 0);
  });

  it('an unacknowledge starts over from the first rule: the rules passed over run in their turn', async () => {
    const message = `Unacknowledged ${run}`;
    const alertId = await managedAlert(message);
    await mailTo(alice, message);
    await acknowledged(alertId, true);
    clock.advance(15 * MINUTE);
    await settle();
    assert.equal(mailsAbout(message).length, 1, 'bob is passed over while the alert is acknowledged');
    await acknowledged(alertId, false);
    await pagedTimes(alice, message, 2);
    await settle();
    assert.deepEqual(pagesOf(message, [alice, bob]), [2, 0], 'alice again at once, bob in his turn');
    clock.advance(10 * MINUTE);
    await mailTo(bob, message);
    assert.ok(
      (await logs(alertId)).includes(
        'Managed escalation starts again from its first rule: the alert was unacknowledged',
      ),
    );
  });

  it('after an unacknowledge, an if-not-closed rule that ran while acknowledged waits for its turn', async () => {
    const message = `Not twice ${run}`;
    const alertId = await managedAlert(message);
    await mailTo(alice, message);
    await acknowledged(alertId, true);
    clock.advance(35 * MINUTE);
    await mailTo(carol, message);
    await acknowledged(alertId, false);
    await pagedTimes(alice, message, 2);
    await settle();
    assert.deepEqual(pagesOf(message, [alice, bob, carol]), [2, 0, 1]);
  });

  it('a note reaches those already paged whose rules ask for notes, with the note and who wrote it', async () => {
    const contacts = await call('GET', `/v2/users/${alice}/contacts`);
    await call('POST', `/v2/users/${alice}/notification-rules`, {
      name: 'Notes',
      actionType: 'add-note',
      steps: [{ contact: { method: 'email', to: contacts.data[0].to }, sendAfter: { timeAmount: 0 } }],
    });
    const message = `Noted ${run}`;
    const alertId = await managedAlert(message);
    await mailTo(alice, message);
    await call('POST', `/v2/alerts/${alertId}/notes`, { note: 'Rotating the key now', user: 'Bob' });
    const note = await waitFor('the note email', async () =>
      mailsAbout(message).find(
        (m) => m.subject.startsWith('Re: [Vigil] #') && m.text.startsWith('Note added by Bob: '),
      ),
    );
    assert.ok(note.text.includes('Rotating the key now'), note.text);
    assert.ok(note.text.includes('Bob'), note.text);
  });
});

describe('unacknowledge, as Opsgenie: the alert is taken as just created', () => {
  // Team Front routes to a policy of one rule and no repeat (the on-call of Security primary, alice, at
  // once): the escalation is over once she is paged. "Two rules": alice at once, bob after 10 minutes.
  before(async () => {
    await call('POST', '/v2/teams', {
      name: 'Front',
      members: [alice, bob].map((username) => ({ user: { username }, role: 'user' })),
    });
    const onCall = (minutes: number, recipient: Json) => ({
      condition: 'if-not-acked',
      notifyType: 'default',
      delay: { timeAmount: minutes },
      recipient,
    });
    await call('POST', '/v2/escalations', {
      name: 'Front on call',
      rules: [onCall(0, { type: 'schedule', name: 'Security primary' })],
    });
    await call('PUT', '/v2/teams/Front/routing-rules/default?teamIdentifierType=name', {
      notify: { type: 'escalation', name: 'Front on call' },
    });
    await call('POST', '/v2/escalations', {
      name: 'Two rules',
      rules: [onCall(0, { type: 'user', username: alice }), onCall(10, { type: 'user', username: bob })],
    });
  });

  async function alertFor(message: string, responder: Json): Promise<string> {
    const res = await call('POST', '/v2/alerts', { message, responders: [responder] });
    return waitFor('the alert', async () => {
      const status = await server.call('GET', `/v2/alerts/requests/${res.requestId}`);
      return status.body.data?.alertId as string | undefined;
    });
  }

  it('pages the on-call again when an escalation that had run its one rule is unacknowledged', async () => {
    const message = `One rule, unacknowledged ${run}`;
    const alertId = await alertFor(message, { type: 'team', name: 'Front' });
    await mailTo(alice, message);
    await waitFor('the escalation to be over', async () =>
      (await logs(alertId)).some((l) => l.includes('every rule has run')),
    );
    await acknowledged(alertId, true);
    assert.equal(mailsAbout(message).length, 1, 'nobody is paged while the alert is acknowledged');
    await acknowledged(alertId, false);
    await pagedTimes(alice, message, 2);
    const lines = await logs(alertId);
    assert.ok(
      lines.includes('Front on call starts again from its first rule: the alert was unacknowledged'),
      lines.join('\n'),
    );
  });

  it('runs the first rule again at once when acknowledged between rules, and the second in its turn', async () => {
    const message = `Two rules, unacknowledged ${run}`;
    const alertId = await alertFor(message, { type: 'escalation', name: 'Two rules' });
    await mailTo(alice, message);
    clock.advance(4 * MINUTE);
    await acknowledged(alertId, true);
    await acknowledged(alertId, false);
    await pagedTimes(alice, message, 2);
    // Not the 6 minutes rule 2 had left: its 10 minutes count again from the unacknowledge.
    clock.advance(7 * MINUTE);
    await settle();
    assert.deepEqual(pagesOf(message, [alice, bob]), [2, 0]);
    clock.advance(3 * MINUTE);
    await mailTo(bob, message);
  });
});

describe('an escalation rule naming a team', () => {
  // Team Ops (alice, bob) routes by default to a policy that pages alice alone; Backstop's rule names Ops.
  before(async () => {
    await call('POST', '/v2/teams', {
      name: 'Ops',
      members: [alice, bob].map((username) => ({ user: { username }, role: 'user' })),
    });
    await call('POST', '/v2/escalations', {
      name: 'Ops escalation',
      rules: [
        {
          condition: 'if-not-acked',
          notifyType: 'default',
          delay: { timeAmount: 0 },
          recipient: { type: 'user', username: alice },
        },
      ],
    });
    await call('PUT', '/v2/teams/Ops/routing-rules/default?teamIdentifierType=name', {
      notify: { type: 'escalation', name: 'Ops escalation' },
    });
    await call('POST', '/v2/escalations', {
      name: 'Backstop',
      rules: [
        {
          condition: 'if-not-acked',
          notifyType: 'default',
          delay: { timeAmount: 10 },
          recipient: { type: 'team', name: 'Ops' },
        },
      ],
    });
  });

  async function alertFor(message: string, responders: Json[]): Promise<string> {
    const res = await call('POST', '/v2/alerts', { message, responders });
    const alertId = await waitFor('the alert', async () => {
      const status = await server.call('GET', `/v2/alerts/requests/${res.requestId}`);
      return status.body.data?.alertId as string | undefined;
    });
    await waitFor('Backstop to start', async () =>
      (await logs(alertId)).some((l) => l.includes('Escalation Backstop is a responder')),
    );
    return alertId;
  }

  it("goes through the team's routing rules (notifyType default), not to every member", async () => {
    const message = `Routed through Ops ${run}`;
    const alertId = await alertFor(message, [{ type: 'escalation', name: 'Backstop' }]);
    await settle();
    assert.equal(mailsAbout(message).length, 0, 'nobody before the 10 minutes');
    clock.advance(10 * MINUTE);
    await mailTo(alice, message);
    await settle();
    assert.deepEqual(
      [alice, bob].map((to) => mailsAbout(message).filter((m) => m.to.includes(to)).length),
      [1, 0],
    );
    const lines = await logs(alertId);
    assert.ok(
      lines.some((l) =>
        l.includes(`team Ops's routing rule "Default rule" sends the alert to escalation Ops escalation`),
      ),
      lines.join('\n'),
    );
  });

  it('pages who is on call when the team routes to a schedule, and nobody when it routes to none', async () => {
    for (const [name, notify] of [
      ['Ops nights', { type: 'schedule', name: 'Security primary' }],
      ['Ops quiet', { type: 'none' }],
    ] as const) {
      await call('POST', '/v2/teams', {
        name,
        members: [alice, bob].map((username) => ({ user: { username }, role: 'user' })),
      });
      await call('PUT', `/v2/teams/${name}/routing-rules/default?teamIdentifierType=name`, { notify });
    }
    await call('POST', '/v2/escalations', {
      name: 'Both Ops teams',
      rules: ['Ops nights', 'Ops quiet'].map((name) => ({
        condition: 'if-not-acked',
        notifyType: 'default',
        delay: { timeAmount: 0 },
        recipient: { type: 'team', name },
      })),
    });
    const message = `Ops by schedule ${run}`;
    const res = await call('POST', '/v2/alerts', {
      message,
      responders: [{ type: 'escalation', name: 'Both Ops teams' }],
    });
    await mailTo(alice, message);
    await settle();
    const alertId = (await server.call('GET', `/v2/alerts/requests/${res.requestId}`)).body.data.alertId;
    assert.equal(mailsAbout(message).length, 1, 'alice, on call in Security primary, alone');
    const lines = await logs(alertId);
    for (const line of [
      `Notifying Alice (on call in schedule Security primary, by team Ops nights's routing rule "Default rule")`,
      `nobody to notify in team Ops quiet (team Ops quiet's routing rule "Default rule" says do not notify)`,
    ]) {
      assert.ok(
        lines.some((l) => l.includes(line)),
        lines.join('\n'),
      );
    }
  });

  it('does not start the team a second time when it is already a responder', async () => {
    const message = `Ops twice ${run}`;
    const alertId = await alertFor(message, [
      { type: 'team', name: 'Ops' },
      { type: 'escalation', name: 'Backstop' },
    ]);
    await mailTo(alice, message);
    clock.advance(10 * MINUTE);
    await waitFor('the Backstop step', async () =>
      (await logs(alertId)).some((l) => l.includes('team Ops already escalates (or escalated) it')),
    );
    await settle();
    assert.deepEqual(
      [alice, bob].map((to) => mailsAbout(message).filter((m) => m.to.includes(to)).length),
      [1, 0],
      `${mailsAbout(message)
        .map((m) => `${m.to} ${m.subject} ${m.text.slice(0, 200)}`)
        .join('\n')}\n${(await logs(alertId)).join('\n')}`,
    );
  });
});

describe('a restart in the middle', () => {
  it('loses no step: a step that fell due while Vigil was down fires at start and says it was late', async () => {
    const message = `Restart ${run}`;
    const alertId = await createAlert(message);
    await mailTo(alice, message);
    await server.stop();
    clock.advance(12 * MINUTE);
    server = await startTestServer({
      databaseUrl: server.databaseUrl,
      apiKey: server.key,
      clock,
      engineIntervalMs: 100,
      env: { VIGIL_SMTP_URL: smtp.url, VIGIL_EMAIL_FROM: 'Vigil <vigil@example.com>' },
    });
    await mailTo(bob, message);
    const late = (await logs(alertId)).find((l) => l.startsWith('Security escalation rule 2'));
    assert.ok(late, 'rule 2 is on the log');
    assert.match(late, /fired 2 min \d+ s late/);
  });
});
