import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { createAlert, startTestServer, waitFor, type Json, type TestServer } from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';
import type { NotificationChannel } from './channel.js';

/**
 * A rule's delayed step checked again when it falls due, on the real server with the engine's clock moved
 * by hand: every step is planned when the page is made, and a step or rule turned off (or deleted, or the
 * step given another contact) before its delay ran out no longer sends its message, and the alert's log
 * says why. What counts is what the email channel was handed.
 */

const clock = new ShiftedClock();
const MIN = 60_000;

const received: { address: string; alertId: string }[] = [];
const email: NotificationChannel = {
  type: 'email',
  async send(message) {
    received.push({ address: message.to.address, alertId: message.alert.id });
    return { status: 'sent', providerId: `mail-${received.length}` };
  },
};

let server: TestServer;
const run = randomUUID().slice(0, 8);

interface Person {
  name: string;
  username: string;
  /** The first step's address (at once) and the second's (5 minutes later). */
  first: string;
  second: string;
  /** Another contact of theirs, on no step. */
  spare: string;
  rules: string;
  ruleId: string;
  secondStepId: string;
}

/** A person whose "New alert" rule emails `first` at once and `second` 5 minutes later. */
async function person(name: string): Promise<Person> {
  const username = `${name}.${run}@example.com`;
  const second = `${name}.desk.${run}@example.com`;
  const spare = `${name}.home.${run}@example.com`;
  await server.callOk('POST', '/v2/users', { username, fullName: name, role: { name: 'User' } });
  const contacts = `/v2/users/${encodeURIComponent(username)}/contacts`;
  await server.callOk('POST', contacts, { method: 'email', to: second });
  await server.callOk('POST', contacts, { method: 'email', to: spare });
  const rules = `/v2/users/${encodeURIComponent(username)}/notification-rules`;
  const ruleId = ((await server.callOk('GET', rules)).data as Json[])[0].id as string;
  await server.callOk('PATCH', `${rules}/${ruleId}`, {
    steps: [
      { contact: { method: 'email', to: username }, sendAfter: { timeAmount: 0 } },
      { contact: { method: 'email', to: second }, sendAfter: { timeAmount: 5 } },
    ],
    repeat: { loopAfter: 0, enabled: false },
  });
  const steps = (await server.callOk('GET', `${rules}/${ruleId}/steps`)).data as Json[];
  const secondStepId = steps[1]?.id as string;
  return { name, username, first: username, second, spare, rules, ruleId, secondStepId };
}

async function alertFor(who: Person, message: string): Promise<string> {
  return createAlert(server, {
    message: `${message} ${run}`,
    responders: [{ type: 'user', username: who.username }],
  });
}

function sentTo(alertId: string, address: string): number {
  return received.filter((r) => r.alertId === alertId && r.address === address).length;
}

async function logs(alertId: string): Promise<string[]> {
  const res = await server.callOk('GET', `/v2/alerts/${alertId}/logs?order=asc&limit=100`);
  return (res.data as Json[]).map((l) => l.log as string);
}

/**
 * Pages `who`, lets the first step's email go, does `change` before the second step's delay runs out,
 * then moves the clock past it; returns the alert and how many emails the second address had.
 */
async function pageThen(who: Person, change: () => Promise<unknown>): Promise<[string, number]> {
  const alertId = await alertFor(who, 'disk full');
  await waitFor('the first email', async () => sentTo(alertId, who.first) === 1 || undefined);
  await change();
  clock.advance(5 * MIN);
  await server.idle();
  await waitFor('the second step to be done with', async () => {
    const row = await server.app.context.db
      .selectFrom('notifications')
      .select('state')
      .where('alert_id', '=', alertId)
      .where('address', '=', who.second)
      .executeTakeFirst();
    return row && row.state !== 'pending' && row.state !== 'sending' ? row : undefined;
  });
  await server.idle();
  return [alertId, sentTo(alertId, who.second)];
}

async function expectNotSent(who: Person, change: () => Promise<unknown>, why: string): Promise<void> {
  const [alertId, second] = await pageThen(who, change);
  assert.equal(second, 0, `the second step's email went to ${who.second}`);
  const lines = await logs(alertId);
  assert.ok(lines.includes(`Email to ${who.name} not sent: ${why}`), lines.join('\n'));
  assert.ok(!lines.some((l) => l.includes(who.second)), 'no address in the log');
  await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
}

before(async () => {
  server = await startTestServer({ clock, engineIntervalMs: 100, channels: [email] });
});

after(async () => {
  await server?.stop();
});

describe("a rule's delayed step, when it falls due", () => {
  it('is sent when nothing changed', async () => {
    const ana = await person('ana');
    const [alertId, second] = await pageThen(ana, async () => undefined);
    assert.equal(second, 1);
    await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
  });

  it('is not sent once the step is disabled', async () => {
    const ben = await person('ben');
    await expectNotSent(
      ben,
      () => server.callOk('POST', `${ben.rules}/${ben.ruleId}/steps/${ben.secondStepId}/disable`),
      "the rule's step was disabled after the page was planned",
    );
  });

  it('is not sent once the step is deleted', async () => {
    const cleo = await person('cleo');
    await expectNotSent(
      cleo,
      () => server.callOk('DELETE', `${cleo.rules}/${cleo.ruleId}/steps/${cleo.secondStepId}`),
      "the rule's step was deleted after the page was planned",
    );
  });

  it('is not sent once the rule is disabled', async () => {
    const dev = await person('dev');
    await expectNotSent(
      dev,
      () => server.callOk('POST', `${dev.rules}/${dev.ruleId}/disable`),
      'its notification rule was disabled after the page was planned',
    );
  });

  it('is not sent once the rule is deleted', async () => {
    const eve = await person('eve');
    await expectNotSent(
      eve,
      () => server.callOk('DELETE', `${eve.rules}/${eve.ruleId}`),
      'its notification rule was deleted after the page was planned',
    );
  });

  it('is not sent to the old contact once the step is given another', async () => {
    const fay = await person('fay');
    await expectNotSent(
      fay,
      () =>
        server.callOk('PATCH', `${fay.rules}/${fay.ruleId}/steps/${fay.secondStepId}`, {
          contact: { method: 'email', to: fay.spare },
        }),
      "the rule's step was given another contact method after the page was planned",
    );
  });

  it("is sent when the rule's steps are given again as they were (new ids)", async () => {
    const gus = await person('gus');
    const [alertId, second] = await pageThen(gus, () =>
      server.callOk('PATCH', `${gus.rules}/${gus.ruleId}`, {
        steps: [
          { contact: { method: 'email', to: gus.username }, sendAfter: { timeAmount: 0 } },
          { contact: { method: 'email', to: gus.second }, sendAfter: { timeAmount: 5 } },
        ],
      }),
    );
    assert.equal(second, 1);
    await server.callOk('POST', `/v2/alerts/${alertId}/close`, {});
  });
});
