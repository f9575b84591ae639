import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { DateTime } from 'luxon';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { ShiftedClock } from '../../work/clock.js';

/**
 * A notification rule's timeRestriction and repeat (Opsgenie's): kept and shown as given, and the
 * restriction decides, on the engine's clock and in the user's time zone, which rule pages.
 */

const clock = new ShiftedClock();
let server: TestServer;
const run = randomUUID().slice(0, 8);
/** Asia/Tokyo keeps no summer time and is 9 hours from UTC: a window read in UTC would miss. */
const ZONE = 'Asia/Tokyo';
const user = `kenji.${run}@example.com`;
const office = `kenji.office.${run}@example.com`;
const base = `/v2/users/${encodeURIComponent(user)}/notification-rules`;

async function call(method: string, path: string, body?: unknown): Promise<Json> {
  const res = await server.call(method, path, body);
  assert.ok(res.status < 300, `${method} ${path} answered ${res.status}: ${JSON.stringify(res.body)}`);
  return res.body;
}

async function ruleOf(id: string): Promise<Json> {
  return (await call('GET', `${base}/${id}`)).data as Json;
}

/** Moves the clock forward to the next `weekday` (1 = Monday) at `hour`:00 in the user's zone. */
function advanceTo(weekday: number, hour: number): void {
  const now = DateTime.fromJSDate(clock.now(), { zone: ZONE });
  let target = now.set({ hour, minute: 0, second: 0, millisecond: 0 });
  while (target <= now || target.weekday !== weekday) target = target.plus({ days: 1 });
  clock.advance(target.toMillis() - clock.now().getTime());
}

/** The addresses the engine planned to page for a new alert to the user. */
async function pagedAddressesFor(message: string): Promise<string[]> {
  const res = await call('POST', '/v2/alerts', { message, responders: [{ type: 'user', username: user }] });
  const alertId = await waitFor('the alert', async () => {
    const status = await server.call('GET', `/v2/alerts/requests/${res.requestId as string}`);
    return status.body.data?.alertId as string | undefined;
  });
  return waitFor('the pages of the alert', async () => {
    const rows = await server.app.context.db
      .selectFrom('notifications')
      .select('address')
      .where('alert_id', '=', alertId)
      .where('kind', '=', 'create-alert')
      .execute();
    return rows.length > 0 ? rows.map((r) => r.address).sort() : undefined;
  });
}

before(async () => {
  server = await startTestServer({ clock, engineIntervalMs: 100 });
  await call('POST', '/v2/users', {
    username: user,
    fullName: 'Kenji',
    role: { name: 'User' },
    timeZone: ZONE,
  });
  await call('POST', `/v2/users/${encodeURIComponent(user)}/contacts`, { method: 'email', to: office });
});

after(async () => {
  await server?.stop();
});

describe('notification rule time restriction and repeat', () => {
  it('reads back timeRestriction and repeat as sent, and steps in the order given', async () => {
    const restrictions = [
      { startDay: 'monday', startHour: 22, startMin: 0, endDay: 'tuesday', endHour: 6, endMin: 30 },
      { startDay: 'saturday', startHour: 0, startMin: 0, endDay: 'sunday', endHour: 23, endMin: 0 },
    ];
    const made = await call('POST', base, {
      name: `Nights ${run}`,
      actionType: 'acknowledged-alert',
      // As the Go SDK sends it: an empty `restriction` beside the list.
      timeRestriction: { type: 'weekday-and-time-of-day', restrictions, restriction: {} },
      repeat: { loopAfter: 2, enabled: true },
      steps: [
        { contact: { method: 'email', to: office }, sendAfter: { timeAmount: 5, timeUnit: 'minute' } },
        { contact: { method: 'email', to: user } },
      ],
    });
    const id = (made.data as Json).id as string;
    const rule = await ruleOf(id);
    assert.deepEqual(rule.timeRestriction, { type: 'weekday-and-time-of-day', restrictions });
    assert.deepEqual(rule.repeat, { loopAfter: 2, enabled: true });
    assert.deepEqual(
      (rule.steps as Json[]).map((s) => [s.contact.to, s.sendAfter.timeAmount]),
      [
        [office, 5],
        [user, 0],
      ],
    );

    // A PATCH keeps what it leaves out.
    await call('PATCH', `${base}/${id}`, { name: `Late nights ${run}` });
    const renamed = await ruleOf(id);
    assert.equal(renamed.name, `Late nights ${run}`);
    assert.deepEqual(renamed.timeRestriction, rule.timeRestriction);
    assert.deepEqual(renamed.repeat, rule.repeat);
    assert.deepEqual(renamed.steps, rule.steps);

    // A single time-of-day window reads back in Opsgenie's single form; repeat changes; null takes away.
    const window = { startHour: 9, startMin: 15, endHour: 17, endMin: 45 };
    await call('PATCH', `${base}/${id}`, {
      timeRestriction: { type: 'time-of-day', restriction: window },
      repeat: { loopAfter: 10, enabled: false },
    });
    const changed = await ruleOf(id);
    assert.deepEqual(changed.timeRestriction, { type: 'time-of-day', restriction: window });
    assert.deepEqual(changed.repeat, { loopAfter: 10, enabled: false });
    await call('PATCH', `${base}/${id}`, { timeRestriction: null, repeat: null });
    const cleared = await ruleOf(id);
    assert.equal(cleared.timeRestriction, undefined);
    assert.equal(cleared.repeat, undefined);
    assert.equal(cleared.steps.length, 2);

    // Steps added or changed keep their place.
    const steps = `${base}/${id}/steps`;
    const added = await call('POST', steps, {
      contact: { method: 'email', to: user },
      sendAfter: { timeAmount: 1 },
    });
    const firstId = (cleared.steps as Json[])[0]?.id as string;
    await call('PATCH', `${steps}/${firstId}`, { sendAfter: { timeAmount: 30 } });
    const list = (await call('GET', steps)).data as Json[];
    assert.deepEqual(
      list.map((s) => [s.id, s.sendAfter.timeAmount]),
      [
        [firstId, 30],
        [(cleared.steps as Json[])[1]?.id, 0],
        [(added.data as Json).id, 1],
      ],
    );
  });

  it('keeps a window to midnight as the Go SDK sends it (hours of 0 left out), and its empty one as none', async () => {
    // Terraform's 22:00–00:00: og.Restriction's fields are all omitempty, so only startHour is sent.
    const late = await call('POST', base, {
      name: `Till midnight ${run}`,
      actionType: 'add-note',
      timeRestriction: { type: 'time-of-day', restriction: { startHour: 22 } },
    });
    assert.deepEqual((await ruleOf((late.data as Json).id as string)).timeRestriction, {
      type: 'time-of-day',
      restriction: { startHour: 22, startMin: 0, endHour: 0, endMin: 0 },
    });
    const always = await call('POST', base, {
      name: `Any time ${run}`,
      actionType: 'add-note',
      timeRestriction: { type: 'time-of-day', restriction: {} },
    });
    assert.equal((await ruleOf((always.data as Json).id as string)).timeRestriction, undefined);
  });

  it('takes step delays as the Go SDK and Terraform send them: a 0 left out, and days', async () => {
    // og.SendAfter's TimeAmount is omitempty: "at once" arrives as the unit alone.
    const made = await call('POST', base, {
      name: `Delays ${run}`,
      actionType: 'create-alert',
      steps: [
        { contact: { method: 'email', to: office }, sendAfter: { timeUnit: 'minutes' } },
        { contact: { method: 'email', to: user }, sendAfter: { timeUnit: 'minute' } },
        { contact: { method: 'email', to: office }, sendAfter: { timeAmount: 2, timeUnit: 'days' } },
        { contact: { method: 'email', to: user }, sendAfter: { timeAmount: 1, timeUnit: 'day' } },
      ],
    });
    const id = (made.data as Json).id as string;
    const delays = async () => ((await ruleOf(id)).steps as Json[]).map((s) => s.sendAfter);
    assert.deepEqual(await delays(), [
      { timeAmount: 0, timeUnit: 'minutes' },
      { timeAmount: 0, timeUnit: 'minutes' },
      { timeAmount: 2880, timeUnit: 'minutes' },
      { timeAmount: 1440, timeUnit: 'minutes' },
    ]);

    const steps = `${base}/${id}/steps`;
    const added = await call('POST', steps, {
      contact: { method: 'email', to: user },
      sendAfter: { timeUnit: 'hours' },
    });
    const addedId = (added.data as Json).id as string;
    assert.deepEqual(((await call('GET', `${steps}/${addedId}`)).data as Json).sendAfter, {
      timeAmount: 0,
      timeUnit: 'minutes',
    });
    await call('PATCH', `${steps}/${addedId}`, { sendAfter: { timeAmount: 7, timeUnit: 'days' } });
    assert.equal(((await call('GET', `${steps}/${addedId}`)).data as Json).sendAfter.timeAmount, 10080);
    // A week is still the most.
    const tooLate = await server.call('PATCH', `${steps}/${addedId}`, {
      sendAfter: { timeAmount: 8, timeUnit: 'days' },
    });
    assert.equal(tooLate.status, 422, JSON.stringify(tooLate.body));
    assert.ok(tooLate.body.errors?.sendAfter, JSON.stringify(tooLate.body));
    await call('PATCH', `${steps}/${addedId}`, { sendAfter: { timeUnit: 'day' } });
    assert.equal(((await call('GET', `${steps}/${addedId}`)).data as Json).sendAfter.timeAmount, 0);
  });

  it('refuses a time restriction that is not one, naming the field, and changes nothing', async () => {
    const made = await call('POST', base, { name: `Plain ${run}`, actionType: 'add-note' });
    const id = (made.data as Json).id as string;
    const bad = await server.call('PATCH', `${base}/${id}`, {
      name: 'changed',
      timeRestriction: {
        type: 'time-of-day',
        restriction: { startHour: 25, startMin: 0, endHour: 3, endMin: 0 },
      },
    });
    assert.equal(bad.status, 422, JSON.stringify(bad.body));
    assert.ok(
      Object.keys(bad.body.errors ?? {}).some((k) => k.startsWith('timeRestriction')),
      JSON.stringify(bad.body),
    );
    const noDays = await server.call('POST', base, {
      name: `No days ${run}`,
      actionType: 'add-note',
      timeRestriction: { type: 'weekday-and-time-of-day', restrictions: [{ startHour: 1, endHour: 2 }] },
    });
    assert.equal(noDays.status, 422, JSON.stringify(noDays.body));
    assert.ok(noDays.body.errors['timeRestriction.restrictions[0].startDay'], JSON.stringify(noDays.body));
    const huge = await server.call('PATCH', `${base}/${id}`, { repeat: { loopAfter: 1e12 } });
    assert.equal(huge.status, 422, JSON.stringify(huge.body));
    const rule = await ruleOf(id);
    assert.equal(rule.name, `Plain ${run}`);
    assert.equal(rule.timeRestriction, undefined);
    assert.equal(rule.repeat, undefined);
  });

  it("pages by the first rule whose window holds now, read in the user's zone, else by the next", async () => {
    // Office hours, Monday 09:00 to 12:00 in Tokyo (00:00 to 03:00 UTC), first; "New alert" after it.
    await call('POST', base, {
      name: `Office hours ${run}`,
      actionType: 'create-alert',
      order: 0,
      timeRestriction: {
        type: 'weekday-and-time-of-day',
        restrictions: [
          { startDay: 'monday', startHour: 9, startMin: 0, endDay: 'monday', endHour: 12, endMin: 0 },
        ],
      },
      steps: [{ contact: { method: 'email', to: office } }],
    });

    advanceTo(1, 10);
    assert.deepEqual(await pagedAddressesFor(`Inside ${run}`), [office]);

    advanceTo(1, 13);
    assert.deepEqual(await pagedAddressesFor(`Outside ${run}`), [user]);

    // 10:00 UTC on a Monday: inside the window if it were read in UTC, 19:00 in Tokyo.
    advanceTo(1, 19);
    assert.deepEqual(await pagedAddressesFor(`Evening ${run}`), [user]);
  });
});
