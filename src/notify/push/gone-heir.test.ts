import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import {
  startFakePushService,
  type BrowserSubscription,
  type FakePushService,
} from '../../testing/fake-push.js';
import {
  addUserWithKey,
  alertLogs,
  createAlert,
  startTestServer,
  type Json,
  type TestServer,
  type TestUser,
} from '../../testing/harness.js';
import { createLogger } from '../../logger.js';
import { ShiftedClock } from '../../work/clock.js';
import type { DeliveryResult, OutgoingNotification } from '../channel.js';
import { notificationsRepository } from '../repository.js';
import type { NotificationRow } from '../../db/schema.js';
import { createPushChannel, type PushPayload } from './channel.js';
import { removeGoneSubscription } from './service.js';

/**
 * A device that leaves its person while they have another one: its rule steps and its messages not yet
 * sent go to the person's newest other device. Found gone by a push to it (404/410), the page in progress
 * is sent again, to the other device, with action links that act there; taken over by another person
 * signing in on the same browser, its former person is still paged on their other device. On the real
 * server, the engine's clock moved by hand.
 */

const clock = new ShiftedClock();
const MIN = 60_000;
let server: TestServer;
let fake: FakePushService;
let publicKey: string;
const run = randomUUID().slice(0, 8);

before(async () => {
  fake = await startFakePushService();
  server = await startTestServer({ clock, env: { VIGIL_PUSH_SERVICE_HOSTS: '127.0.0.1' } });
  publicKey = (await server.callOk('GET', '/api/console/push/key')).publicKey as string;
});

after(async () => {
  await server?.stop();
  await fake?.close();
});

/** Subscribes a new browser of the fake push service as `who`; the device's id and its subscription. */
async function device(who: TestUser, deviceName: string, sub?: BrowserSubscription) {
  const browser = sub ?? fake.newSubscription({ applicationServerKey: publicKey });
  const made = await server.call(
    'POST',
    '/api/console/push/subscriptions',
    { ...browser, deviceName },
    who.key,
  );
  assert.equal(made.status, 201, JSON.stringify(made.body));
  return { id: made.body.id as string, browser };
}

/** The contact ids the steps of `who`'s first rule page. */
async function firstRuleContacts(who: TestUser): Promise<{ id: string; steps: Json[]; contacts: string[] }> {
  const rules = `/v2/users/${encodeURIComponent(who.username)}/notification-rules`;
  const id = ((await server.callOk('GET', rules)).data as Json[])[0].id as string;
  const steps = (await server.callOk('GET', `${rules}/${id}/steps`)).data as Json[];
  return { id, steps, contacts: steps.map((s) => s.contact?.to as string) };
}

/** The pushes about `alertId` a device received, as the service worker reads them. */
function pushesAbout(sub: BrowserSubscription, alertId: string): PushPayload[] {
  return fake
    .received(sub.endpoint)
    .map((p) => p.json as PushPayload)
    .filter((p) => p.alertId === alertId);
}

/** A page to the device `address` of `who`, as a round renders it for the message `notificationId`. */
function pageFor(who: TestUser, address: string, notificationId: string): OutgoingNotification {
  return {
    idempotencyKey: randomUUID(),
    notificationId,
    kind: 'create-alert',
    to: { address, name: who.username, userId: who.id, timeZone: 'UTC' },
    alert: {
      id: randomUUID(),
      orgId: randomUUID(),
      tinyId: '1',
      message: 'Disk full',
      description: '',
      priority: 'P1',
      status: 'open',
      acknowledged: false,
      source: 'test',
      entity: '',
      tags: [],
      details: {},
      count: 1,
      createdAt: clock.now(),
      integrationName: null,
    },
    reason: 'test',
    links: { view: `${server.app.context.config.publicUrl}/alerts/x` },
  };
}

/** The push channel as a round of the sender has it, sending to the fake push service. */
function pushChannel() {
  const { db, config } = server.app.context;
  return createPushChannel({ db, config, log: createLogger('silent'), clock, fetch });
}

/** Makes `who`'s first rule page only these device steps (minutes after the alert), never repeated. */
async function setSteps(who: TestUser, steps: { to: string; after: number }[]): Promise<void> {
  const rule = await firstRuleContacts(who);
  await server.callOk(
    'PATCH',
    `/v2/users/${encodeURIComponent(who.username)}/notification-rules/${rule.id}`,
    {
      steps: steps.map((s) => ({
        contact: { method: 'mobile', to: s.to },
        sendAfter: { timeAmount: s.after },
      })),
      repeat: { loopAfter: 0, enabled: false },
    },
  );
}

/** The push messages planned for `who` about `alertId`. */
async function pushMessages(who: TestUser, alertId: string): Promise<NotificationRow[]> {
  return server.app.context.db
    .selectFrom('notifications')
    .selectAll()
    .where('alert_id', '=', alertId)
    .where('user_id', '=', who.id)
    .where('method', '=', 'mobile')
    .orderBy('due_at')
    .execute();
}

/**
 * Claims a message as a round of the sender does (claimDue: `sending`, one more attempt, a lease), a little
 * before it is due, so that no round of the server's takes it meanwhile: the test is that round.
 */
async function claimAsARound(row: NotificationRow): Promise<NotificationRow> {
  return server.app.context.db
    .updateTable('notifications')
    .set((eb) => ({
      state: 'sending',
      attempts: eb('attempts', '+', 1),
      lease_until: new Date(clock.now().getTime() + 30 * MIN),
    }))
    .where('id', '=', row.id)
    .where('state', '=', 'pending')
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** Records a round's outcome of its claim `held` as the sender does; whether it landed (the claim was current). */
async function recordAsTheRound(held: NotificationRow, result: DeliveryResult): Promise<boolean> {
  const outcome =
    result.status === 'sent'
      ? { state: 'sent' as const, sentAt: clock.now() }
      : result.status === 'retry'
        ? { state: 'pending' as const, dueAt: new Date(clock.now().getTime() + 15_000), error: result.error }
        : { state: 'failed' as const, error: result.error };
  const landed = await notificationsRepository.recordOutcomes(
    server.app.context.db,
    [{ id: held.id, attempts: held.attempts, ...outcome }],
    clock.now(),
  );
  return landed.has(held.id);
}

/** The server's own links name its public URL; the test reaches it on its port. */
function local(link: string): string {
  const url = new URL(link);
  return server.url + url.pathname + url.search;
}

describe('a device found gone while its person has another', () => {
  it('sends the page in progress and its later steps to the other device, whose links act', async () => {
    const lee = await addUserWithKey(server, 'lee', run);
    const old = await device(lee, "Lee's phone");
    // Reinstalled: a new subscription, and the first rule already pages a device, so it gets no step.
    const again = await device(lee, "Lee's phone (again)");
    const rule = await firstRuleContacts(lee);
    assert.ok(rule.contacts.includes(old.id), JSON.stringify(rule.steps));
    assert.ok(!rule.contacts.includes(again.id), JSON.stringify(rule.steps));
    // The old device again 5 minutes later, as a second wake-up.
    const rules = `/v2/users/${encodeURIComponent(lee.username)}/notification-rules`;
    await server.callOk('PATCH', `${rules}/${rule.id}`, {
      steps: [
        { contact: { method: 'mobile', to: old.id }, sendAfter: { timeAmount: 0 } },
        { contact: { method: 'mobile', to: old.id }, sendAfter: { timeAmount: 5 } },
      ],
      repeat: { loopAfter: 0, enabled: false },
    });

    fake.gone(old.browser.endpoint);
    const alertId = await createAlert(server, {
      message: `Disk full ${run}`,
      priority: 'P1',
      responders: [{ type: 'user', username: lee.username }],
    });
    await server.idle();
    const logs = await alertLogs(server, alertId);
    assert.ok(
      logs.some((l) => /^Mobile push to lee failed for now .*the device is gone/.test(l)),
      logs.join('\n'),
    );
    assert.equal(
      (await server.app.context.db
        .selectFrom('push_subscriptions')
        .select('id')
        .where('id', '=', old.id)
        .executeTakeFirst()) ?? null,
      null,
      'the gone device is removed',
    );
    assert.deepEqual((await firstRuleContacts(lee)).contacts, [again.id, again.id]);

    // The page's retry falls due: it goes to the other device.
    clock.advance(MIN);
    await server.idle();
    const [page] = pushesAbout(again.browser, alertId);
    assert.ok(page, `the other device got the page: ${(await alertLogs(server, alertId)).join('\n')}`);
    assert.equal(page.kind, 'create-alert');
    assert.equal(page.title, `[P1] Disk full ${run}`);
    assert.ok(
      (await alertLogs(server, alertId)).some((l) => l.startsWith('Mobile push sent to lee')),
      (await alertLogs(server, alertId)).join('\n'),
    );

    // The old device's later step goes there too.
    clock.advance(5 * MIN);
    await server.idle();
    const pages = pushesAbout(again.browser, alertId);
    assert.equal(pages.length, 2, (await alertLogs(server, alertId)).join('\n'));

    // Its links are bound to the device it went to: the Acknowledge button acknowledges.
    const acked = await fetch(local(pages[1]!.actions.acknowledge ?? ''), { method: 'POST' });
    assert.equal(acked.status, 200, await acked.text());
    assert.equal((await server.callOk('GET', `/v2/alerts/${alertId}`)).data.acknowledged, true);
    assert.equal(pushesAbout(old.browser, alertId).length, 0);
  });

  it('sends a test message to the gone device nowhere else, and says it is gone', async () => {
    const ida = await addUserWithKey(server, 'ida', run);
    const old = await device(ida, "Ida's phone");
    await device(ida, "Ida's tablet");
    fake.gone(old.browser.endpoint);
    const contacts = `/v2/users/${encodeURIComponent(ida.username)}/contacts`;
    const contact = ((await server.callOk('GET', contacts)).data as Json[]).find((c) => c.to === old.id);
    const tested = await server.call('POST', `${contacts}/${contact.id}/test`);
    assert.match(JSON.stringify(tested.body), /the device is gone/);
    // A test names this contact only: it goes to no other device, and is not tried again.
    assert.doesNotMatch(JSON.stringify(tested.body), /instead|meanwhile/);
  });
});

describe('two pushes finding a device gone at once', () => {
  it('tries the one whose removal the other made again, as it may have moved to another device', async () => {
    const { db, config } = server.app.context;
    const kim = await addUserWithKey(server, 'kim', run);
    const old = await device(kim, "Kim's phone");
    await device(kim, "Kim's tablet");
    const row = await db
      .selectFrom('push_subscriptions')
      .selectAll()
      .where('id', '=', old.id)
      .executeTakeFirstOrThrow();
    const channel = createPushChannel({
      db,
      config,
      log: createLogger('silent'),
      clock,
      // Another push to the same device found it gone first, and removed it while this one was on its way.
      fetch: async () => {
        assert.ok(await removeGoneSubscription(db, row));
        return new Response('the subscription is gone', { status: 410 });
      },
    });
    const message: OutgoingNotification = {
      idempotencyKey: randomUUID(),
      notificationId: randomUUID(),
      kind: 'create-alert',
      to: { address: old.id, name: 'kim', userId: kim.id, timeZone: 'UTC' },
      alert: {
        id: randomUUID(),
        orgId: randomUUID(),
        tinyId: '1',
        message: 'Disk full',
        description: '',
        priority: 'P1',
        status: 'open',
        acknowledged: false,
        source: 'test',
        entity: '',
        tags: [],
        details: {},
        count: 1,
        createdAt: clock.now(),
        integrationName: null,
      },
      reason: 'test',
      links: { view: `${config.publicUrl}/alerts/x` },
    };
    // Not given up: the sender reads its message again, now pointed at Kim's tablet (or at no contact,
    // when Kim had no other device, and then drops it).
    const result = await channel.send(message);
    assert.equal(result.status, 'retry', JSON.stringify(result));
  });
});

describe("a shared browser taken over by someone else's sign-in", () => {
  it('leaves its former person paged on their other device', async () => {
    const ana = await addUserWithKey(server, 'ana', run);
    const ben = await addUserWithKey(server, 'ben', run);
    const desktop = await device(ana, 'Shared desktop');
    const phone = await device(ana, "Ana's phone");
    assert.deepEqual(
      (await firstRuleContacts(ana)).contacts.filter((to) => to === desktop.id || to === phone.id),
      [desktop.id],
    );

    // Ben signs in on the shared desktop: the same browser posts the same subscription.
    const taken = await device(ben, 'Shared desktop', desktop.browser);
    assert.notEqual(taken.id, desktop.id);
    assert.deepEqual(
      (await firstRuleContacts(ana)).contacts.filter((to) => to === desktop.id || to === phone.id),
      [phone.id],
    );

    const alertId = await createAlert(server, {
      message: `CPU high ${run}`,
      priority: 'P1',
      responders: [{ type: 'user', username: ana.username }],
    });
    await server.idle();
    assert.equal(
      pushesAbout(phone.browser, alertId).length,
      1,
      (await alertLogs(server, alertId)).join('\n'),
    );
    assert.equal(pushesAbout(desktop.browser, alertId).length, 0, 'the desktop is Ben’s now');
  });
});

describe('pages other rounds are sending when their device leaves its person', () => {
  it('go to the other device, not ended by those rounds once the device is found gone', async () => {
    const lou = await addUserWithKey(server, 'lou', run);
    const old = await device(lou, "Lou's phone");
    const again = await device(lou, "Lou's phone (again)");
    await setSteps(lou, [{ to: old.id, after: 5 }]);
    const alerts: string[] = [];
    for (const what of ['Disk full', 'CPU high']) {
      alerts.push(
        await createAlert(server, {
          message: `${what} ${run}`,
          priority: 'P1',
          responders: [{ type: 'user', username: lou.username }],
        }),
      );
    }
    await server.idle();
    const [first, second] = await Promise.all(alerts.map(async (id) => (await pushMessages(lou, id))[0]));
    assert.ok(first && second, 'each alert planned a push to the old phone');
    // Two rounds each claim one page to the old phone; the first round's push finds it gone.
    const heldFirst = await claimAsARound(first);
    const heldSecond = await claimAsARound(second);
    fake.gone(old.browser.endpoint);
    const firstResult = await pushChannel().send(pageFor(lou, old.id, heldFirst.id));
    assert.equal(firstResult.status, 'retry', JSON.stringify(firstResult));
    // The other round pushes to the old phone only now: it is no longer there.
    const secondResult = await pushChannel().send(pageFor(lou, old.id, heldSecond.id));
    assert.equal(secondResult.status, 'failed', JSON.stringify(secondResult));
    assert.equal(
      await recordAsTheRound(heldFirst, firstResult),
      true,
      'the retry of the page that found it gone',
    );
    assert.equal(
      await recordAsTheRound(heldSecond, secondResult),
      false,
      'the other round no longer holds its page: it went to the other phone',
    );

    clock.advance(5 * MIN);
    await server.idle();
    for (const alertId of alerts) {
      const logs = (await alertLogs(server, alertId)).join('\n');
      assert.equal(pushesAbout(again.browser, alertId).length, 1, logs);
      assert.equal(pushesAbout(old.browser, alertId).length, 0, logs);
    }
  });

  it('go to the other device, not ended by those rounds, when a shared browser is taken over', async () => {
    const eva = await addUserWithKey(server, 'eva', run);
    const max = await addUserWithKey(server, 'max', run);
    const desktop = await device(eva, 'Shared desktop');
    const phone = await device(eva, "Eva's phone");
    await setSteps(eva, [{ to: desktop.id, after: 5 }]);
    const alertId = await createAlert(server, {
      message: `Queue stuck ${run}`,
      priority: 'P1',
      responders: [{ type: 'user', username: eva.username }],
    });
    await server.idle();
    const [planned] = await pushMessages(eva, alertId);
    assert.ok(planned, 'a push to the desktop is planned');
    // A round claims Eva's page to the desktop; Max signs in on it before that round pushes.
    const held = await claimAsARound(planned);
    await device(max, 'Shared desktop', desktop.browser);
    const result = await pushChannel().send(pageFor(eva, desktop.id, held.id));
    assert.equal(result.status, 'failed', JSON.stringify(result));
    assert.equal(await recordAsTheRound(held, result), false, 'the page went to Eva’s phone');

    clock.advance(5 * MIN);
    await server.idle();
    const logs = (await alertLogs(server, alertId)).join('\n');
    assert.equal(pushesAbout(phone.browser, alertId).length, 1, logs);
    assert.equal(pushesAbout(desktop.browser, alertId).length, 0, `the desktop is Max’s now: ${logs}`);
  });
});

describe('a device found gone while a rule pages the other device too', () => {
  it('pages the other device once, its own step only', async () => {
    const ray = await addUserWithKey(server, 'ray', run);
    const old = await device(ray, "Ray's phone");
    const again = await device(ray, "Ray's phone (again)");
    await setSteps(ray, [
      { to: old.id, after: 5 },
      { to: again.id, after: 5 },
    ]);
    const alertId = await createAlert(server, {
      message: `Latency high ${run}`,
      priority: 'P1',
      responders: [{ type: 'user', username: ray.username }],
    });
    await server.idle();
    assert.equal((await pushMessages(ray, alertId)).length, 2);

    // Found gone before the step falls due (a test of its contact): the rule keeps the other phone's step.
    fake.gone(old.browser.endpoint);
    const contacts = `/v2/users/${encodeURIComponent(ray.username)}/contacts`;
    const contact = ((await server.callOk('GET', contacts)).data as Json[]).find((c) => c.to === old.id);
    assert.match(JSON.stringify((await server.call('POST', `${contacts}/${contact.id}/test`)).body), /gone/);
    assert.deepEqual((await firstRuleContacts(ray)).contacts, [again.id]);

    clock.advance(5 * MIN);
    await server.idle();
    const logs = await alertLogs(server, alertId);
    assert.equal(pushesAbout(again.browser, alertId).length, 1, logs.join('\n'));
    assert.ok(
      logs.some((l) => /^Mobile push to ray not sent: the contact method was deleted/.test(l)),
      logs.join('\n'),
    );
  });
});

describe('a device found gone while a rule was given the other device after the page was planned', () => {
  it('sends the page in progress to the other device, once', async () => {
    const zoe = await addUserWithKey(server, 'zoe', run);
    const old = await device(zoe, "Zoe's phone");
    const again = await device(zoe, "Zoe's phone (again)");
    await setSteps(zoe, [{ to: old.id, after: 5 }]);
    const alertId = await createAlert(server, {
      message: `Replication lag ${run}`,
      priority: 'P1',
      responders: [{ type: 'user', username: zoe.username }],
    });
    await server.idle();
    assert.equal((await pushMessages(zoe, alertId)).length, 1, 'a push to the old phone only');

    // The other phone is given a step only now: it has no page of its own for this alert.
    await setSteps(zoe, [
      { to: old.id, after: 5 },
      { to: again.id, after: 5 },
    ]);
    assert.equal((await pushMessages(zoe, alertId)).length, 1);

    // The step falls due: its push finds the old phone gone (410), and the rule keeps the other's step.
    fake.gone(old.browser.endpoint);
    clock.advance(5 * MIN);
    await server.idle();
    assert.deepEqual((await firstRuleContacts(zoe)).contacts, [again.id]);
    clock.advance(MIN);
    await server.idle();
    const logs = (await alertLogs(server, alertId)).join('\n');
    assert.equal(pushesAbout(again.browser, alertId).length, 1, logs);
    assert.equal(pushesAbout(old.browser, alertId).length, 0, logs);
    assert.doesNotMatch(logs, /the contact method was deleted/);
  });
});
