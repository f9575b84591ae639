import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import {
  DESKTOP,
  launchBrowser,
  newPage,
  pageAudits,
  PHONE,
  requireChromium,
  scrollsSideways,
  signInWithPassword,
} from '../../src/testing/browser.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../../src/testing/harness.js';

/**
 * A policy's time restriction in the console, and a schedule's overrides by dragging, in a real browser
 * against the real server. An alert policy restricted to office hours through its form, seen after a
 * reload, stored as the form showed it, changed to nights and lifted; a notification policy made with a
 * restriction. On the schedule's timeline: a drag with the mouse across the overrides row opens the form
 * with the times dragged (snapped to half hours), an override's bar dragged moves it by whole half hours,
 * its form (opened from the keyboard) changes it, and a finger's drag does what the mouse's does. Each
 * checked through the API, audited by axe-core. Screenshots: test-artifacts/screenshots/drag-*.png.
 */

const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };
const COVER = 'cover@example.com';
const TEAM = 'Storage';
const SCHEDULE = 'Storage primary';
const HALF_HOUR = 30 * 60_000;

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let teamId: string;
let scheduleId: string;
const { audit, audited, problems } = pageAudits('drag-');

const made = (method: string, path: string, body?: unknown): Promise<Json> =>
  server.callOk(method, path, body);

const storedPolicy = async (id: string): Promise<Json> =>
  (await made('GET', `/v2/policies/${id}?teamId=${teamId}`)).data;

const overrides = async (): Promise<Json[]> =>
  (await made('GET', `/v2/schedules/${scheduleId}/overrides`)).data;

/** A datetime-local input's value as the instant the browser reads it as (its own time zone). */
const instantOf = (form: Locator, label: string): Promise<number> =>
  form
    .getByLabel(label)
    .evaluate((input) => new Date((input as unknown as { value: string }).value).getTime());

/** What a pointer at (x, y) meets, for the next person reading a failure of a drag. */
function elementAt(on: Page, x: number, y: number): Promise<string> {
  return on.evaluate(
    ([px, py]) => {
      // The page's DOM, typed here by hand: the tests compile without the DOM's types.
      const { document } = globalThis as unknown as {
        document: { elementFromPoint(x: number, y: number): { outerHTML: string } | null };
      };
      return document.elementFromPoint(px ?? 0, py ?? 0)?.outerHTML.slice(0, 300) ?? 'nothing';
    },
    [x, y],
  );
}

/**
 * The schedule's card with its timeline shown and loaded, and its overrides row.
 *
 * The timeline opens in an animated collapse that clips the rows until it has grown to their height:
 * a pointer pressed before that lands on whatever is below. Waits until the row itself takes a pointer
 * at each of `ratios` along it (Playwright's trial click checks visible, stable and the hit target).
 */
async function openTimeline(on: Page, ratios: number[] = []) {
  await on.goto(`${server.url}/on-call`);
  const card = on.getByRole('region', { name: SCHEDULE });
  await card.getByRole('button', { name: 'Timeline' }).click();
  const row = card.getByRole('list', { name: 'Overrides', exact: true });
  await row.waitFor();
  // Everything on the card loaded first (who is on call, next, the timeline's bars): nothing moves after.
  await card
    .getByRole('list', { name: /^Final schedule/ })
    .getByRole('listitem')
    .first()
    .waitFor();
  await card.locator('.mantine-Skeleton-root').first().waitFor({ state: 'detached' });
  // The last row takes a pointer once the collapse has opened to the timeline's full height: the page's
  // layout (and its scrollbar) is final from then on.
  const last = card.getByRole('list', { name: /^Final schedule/ }).last();
  await last.scrollIntoViewIfNeeded();
  await last.click({ trial: true, position: { x: 1, y: 1 } });
  await row.scrollIntoViewIfNeeded();
  for (const ratio of ratios) {
    const size = await row.boundingBox();
    assert.ok(size, 'the overrides row is drawn');
    await row.click({ trial: true, position: { x: size.width * ratio, y: size.height / 2 } });
  }
  const weekStart = Date.parse((await row.getAttribute('data-start')) ?? '');
  const weekEnd = Date.parse((await row.getAttribute('data-end')) ?? '');
  const box = await row.boundingBox();
  assert.ok(box && box.width > 100, 'the overrides row is drawn');
  return { card, row, box, weekStart, weekEnd, span: weekEnd - weekStart };
}

before(async () => {
  await requireChromium();
  server = await startTestServer({
    env: {
      VIGIL_BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      VIGIL_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    },
  });
  teamId = (await made('POST', '/v2/teams', { name: TEAM })).data.id;
  await made('POST', '/v2/users', { username: COVER, fullName: 'Cora Cover', role: { name: 'User' } });
  scheduleId = (
    await made('POST', '/v2/schedules', {
      name: SCHEDULE,
      timezone: 'UTC',
      ownerTeam: { name: TEAM },
      rotations: [
        {
          name: 'Weekly',
          startDate: '2026-01-05T09:00:00Z',
          type: 'weekly',
          participants: [{ type: 'user', username: ADMIN.email }],
        },
      ],
    })
  ).data.id;
  browser = await launchBrowser();
  ({ context, page } = await newPage(browser, DESKTOP));
  await signInWithPassword(page, server.url, ADMIN.email, ADMIN.password);
});

after(async () => {
  await context?.close();
  await browser?.close();
  await server?.stop();
});

describe('the console’s policy time restrictions and schedule overrides by dragging', () => {
  it('restricts an alert policy to office hours, shows it after a reload as stored, changes it and lifts it', async () => {
    await page.goto(`${server.url}/teams/${teamId}/policies`);
    await page.getByText('No alert policy yet.').waitFor();
    await page.getByRole('button', { name: 'Add alert policy' }).click();
    const form = page.getByRole('form', { name: 'New alert policy' });
    await form.getByRole('textbox', { name: /^Policy name/ }).fill('Office hours tags');
    await form.getByRole('textbox', { name: /^Tags to add/ }).fill('office');
    assert.equal(await form.getByLabel('When it applies').inputValue(), 'none');
    await form.getByLabel('When it applies').selectOption('weekday-and-time-of-day');
    const range1 = form.getByRole('group', { name: 'Range 1' });
    await range1.getByLabel('Start day').selectOption('monday');
    await range1.getByLabel('Start time').fill('09:00');
    await range1.getByLabel('End day').selectOption('monday');
    await range1.getByLabel('End time').fill('17:30');
    // "Add range" repeats the last range a day later: Tuesday to Friday.
    for (let i = 0; i < 4; i++) await form.getByRole('button', { name: 'Add range' }).click();
    await form.getByRole('textbox', { name: /^Time zone/ }).fill('Europe/Berlin');
    await audit(page, 'desktop-policy-restriction');
    await form.getByRole('button', { name: 'Add policy' }).click();
    await page.getByText('The alert policy Office hours tags is added.').waitFor();

    const listed = (await made('GET', `/v2/policies/alert?teamId=${teamId}`)).data as Json[];
    const id = listed.find((p) => p.name === 'Office hours tags')?.id as string;
    assert.ok(id, JSON.stringify(listed));
    const day = (d: string) => ({
      startDay: d,
      startHour: 9,
      startMin: 0,
      endDay: d,
      endHour: 17,
      endMin: 30,
    });
    const officeHours = {
      type: 'weekday-and-time-of-day',
      restrictions: ['monday', 'tuesday', 'wednesday', 'thursday', 'friday'].map(day),
    };
    const stored = await storedPolicy(id);
    assert.deepEqual(stored.timeRestrictions, officeHours);
    assert.equal(stored.timezone, 'Europe/Berlin');
    assert.deepEqual(stored.tags, ['office']);

    // After a reload, the list says it and the form shows what the API answers, range by range.
    await page.reload();
    const item = page.getByRole('listitem', { name: 'Office hours tags' });
    await item.getByText('Mon–Fri 09:00–17:30 (Europe/Berlin)').waitFor();
    await item.getByRole('button', { name: 'Edit Office hours tags' }).click();
    const edit = item.getByRole('form', { name: 'Edit the alert policy Office hours tags' });
    assert.equal(await edit.getByLabel('When it applies').inputValue(), 'weekday-and-time-of-day');
    assert.equal(await edit.getByRole('textbox', { name: /^Time zone/ }).inputValue(), 'Europe/Berlin');
    const shown = [];
    for (let n = 1; n <= 5; n++) {
      const range = edit.getByRole('group', { name: `Range ${n}` });
      shown.push([
        await range.getByLabel('Start day').inputValue(),
        await range.getByLabel('Start time').inputValue(),
        await range.getByLabel('End day').inputValue(),
        await range.getByLabel('End time').inputValue(),
      ]);
    }
    assert.deepEqual(
      shown,
      officeHours.restrictions.map((r) => [r.startDay, '09:00', r.endDay, '17:30']),
    );
    assert.equal(await edit.getByRole('group', { name: 'Range 6' }).count(), 0);

    // Saved untouched: nothing changes.
    await edit.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Office hours tags is saved.').waitFor();
    assert.deepEqual(await storedPolicy(id), stored);

    // Changed: every night in New York.
    await item.getByRole('button', { name: 'Edit Office hours tags' }).click();
    await edit.getByLabel('When it applies').selectOption('time-of-day');
    await edit.getByRole('button', { name: 'Remove range 5' }).click();
    await edit.getByRole('button', { name: 'Remove range 4' }).click();
    await edit.getByRole('button', { name: 'Remove range 3' }).click();
    await edit.getByRole('button', { name: 'Remove range 2' }).click();
    const night = edit.getByRole('group', { name: 'Range 1' });
    await night.getByLabel('Start time').fill('22:00');
    await night.getByLabel('End time').fill('06:15');
    await edit.getByRole('textbox', { name: /^Time zone/ }).fill('America/New_York');
    await edit.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Office hours tags is saved.').first().waitFor();
    await item.getByText('Every day 22:00–06:15 (America/New_York)').waitFor();
    const nights = await storedPolicy(id);
    assert.deepEqual(nights.timeRestrictions, {
      type: 'time-of-day',
      restriction: { startHour: 22, startMin: 0, endHour: 6, endMin: 15 },
    });
    assert.equal(nights.timezone, 'America/New_York');
    assert.deepEqual(
      { ...nights, timeRestrictions: undefined, timezone: undefined },
      {
        ...stored,
        timeRestrictions: undefined,
        timezone: undefined,
      },
    );

    // Lifted: the policy applies at any time; its zone stays.
    await page.reload();
    await item.getByRole('button', { name: 'Edit Office hours tags' }).click();
    assert.equal(await edit.getByLabel('When it applies').inputValue(), 'time-of-day');
    assert.equal(
      await edit.getByRole('group', { name: 'Range 1' }).getByLabel('End time').inputValue(),
      '06:15',
    );
    await edit.getByLabel('When it applies').selectOption('none');
    await edit.getByRole('button', { name: 'Save policy' }).click();
    await page.getByText('Office hours tags is saved.').first().waitFor();
    await item.getByText('At any time').waitFor();
    const lifted = await storedPolicy(id);
    assert.equal(lifted.timeRestrictions, undefined);
    assert.equal(lifted.timezone, 'America/New_York');
  });

  it('adds a notification policy with a time restriction', async () => {
    await page.getByRole('button', { name: 'Add notification policy' }).click();
    const form = page.getByRole('form', { name: 'New notification policy' });
    await form.getByRole('textbox', { name: /^Policy name/ }).fill('Quiet nights');
    await form.getByLabel('When it applies').selectOption('time-of-day');
    const range = form.getByRole('group', { name: 'Range 1' });
    await range.getByLabel('Start time').fill('23:00');
    await range.getByLabel('End time').fill('07:00');
    await form.getByRole('textbox', { name: /^Time zone/ }).fill('UTC');
    await form.getByRole('checkbox', { name: /^Suppress/ }).check();
    await form.getByRole('button', { name: 'Add policy' }).click();
    await page.getByText('The notification policy Quiet nights is added.').waitFor();
    await page
      .getByRole('listitem', { name: 'Quiet nights' })
      .getByText('Every day 23:00–07:00 (UTC)')
      .waitFor();
    const listed = (await made('GET', `/v2/policies/notification?teamId=${teamId}`)).data as Json[];
    const stored = await storedPolicy(listed.find((p) => p.name === 'Quiet nights')?.id);
    assert.deepEqual(stored.timeRestrictions, {
      type: 'time-of-day',
      restriction: { startHour: 23, startMin: 0, endHour: 7, endMin: 0 },
    });
    assert.equal(stored.timezone, 'UTC');
    assert.equal(stored.suppress, true);
  });

  it('adds an override by dragging across the overrides row with the mouse, then moves it by dragging its bar', async () => {
    const { card, row, box, weekStart, span } = await openTimeline(page, [0.3, 0.45]);
    assert.deepEqual(await overrides(), []);
    const y = box.y + box.height / 2;
    await page.mouse.move(box.x + box.width * 0.3, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.4, y, { steps: 4 });
    await page.mouse.move(box.x + box.width * 0.45, y, { steps: 4 });
    await page.mouse.up();

    const form = card.getByRole('form', { name: `Add an override to ${SCHEDULE}` });
    await form.waitFor({ timeout: 15_000 }).catch(async (error: unknown) => {
      const hit = await elementAt(page, box.x + box.width * 0.3, y);
      throw new Error(
        `no override form after the drag; at its start: ${hit}; row then ${JSON.stringify(box)}, now ${JSON.stringify(await row.boundingBox())}`,
        { cause: error },
      );
    });
    const from = await instantOf(form, 'From');
    const until = await instantOf(form, 'Until');
    // Half an hour of snapping, plus a pixel's worth of time on each side.
    const slack = HALF_HOUR + span / box.width;
    assert.ok(Math.abs(from - (weekStart + span * 0.3)) <= slack, `from ${new Date(from).toISOString()}`);
    assert.ok(Math.abs(until - (weekStart + span * 0.45)) <= slack, `until ${new Date(until).toISOString()}`);
    assert.equal(from % HALF_HOUR, 0, 'the start snaps to a half hour');
    assert.equal(until % HALF_HOUR, 0, 'the end snaps to a half hour');

    await form.getByLabel('Who (email)').fill(COVER);
    await form.getByRole('button', { name: 'Add override' }).click();
    await page.getByText(`${COVER} is on call for ${SCHEDULE}`).waitFor();
    const [added] = await overrides();
    assert.ok(added);
    assert.deepEqual(
      [added.user.username, Date.parse(added.startDate), Date.parse(added.endDate)],
      [COVER, from, until],
    );
    await form.waitFor({ state: 'detached' });

    // Its bar, dragged right by about four hours' worth of pixels, moves it by exactly four hours.
    const bar = row.getByRole('button', { name: new RegExp(`^Override: ${COVER}`) });
    const barStart = async () => Date.parse((await bar.getAttribute('data-start')) ?? '');
    await waitFor('the override’s bar', async () => (await barStart()) === from);
    // The schedule's other queries refetch after the add and may still move the card: the bar must be
    // still, and be what a pointer at its centre meets, before it is pressed.
    await bar.click({ trial: true });
    const barBox = await bar.boundingBox();
    assert.ok(barBox);
    const fourHours = 8 * HALF_HOUR;
    const pixels = Math.round((fourHours / span) * box.width);
    const at = { x: barBox.x + barBox.width / 2, y: barBox.y + barBox.height / 2 };
    await page.mouse.move(at.x, at.y);
    await page.mouse.down();
    await page.mouse.move(at.x + pixels / 2, at.y, { steps: 3 });
    await page.mouse.move(at.x + pixels, at.y, { steps: 3 });
    // The bar follows the pointer before it is let go: the page took the drag.
    await waitFor(
      'the bar to follow the pointer',
      async () => (await barStart()) === from + fourHours,
      15_000,
    ).catch(async (error: unknown) => {
      const hit = await elementAt(page, at.x, at.y);
      throw new Error(
        `the bar did not follow the drag; pressed at ${JSON.stringify(at)} on: ${hit}; bar now ${JSON.stringify(await bar.boundingBox())}`,
        { cause: error },
      );
    });
    await page.mouse.up();
    const [moved] = await waitFor('the override moved', async () => {
      const list = await overrides();
      return list[0]?.startDate !== added.startDate ? list : false;
    });
    assert.ok(moved);
    assert.equal(moved.alias, added.alias, 'the same override, moved');
    assert.equal(Date.parse(moved.startDate) - from, fourHours);
    assert.equal(Date.parse(moved.endDate) - until, fourHours);
    assert.equal(moved.user.username, COVER);
    assert.equal(
      await card.getByRole('form', { name: /^Change the override/ }).count(),
      0,
      'a drag does not open the override’s form',
    );
    await waitFor('the bar at its new place', async () => (await barStart()) === from + fourHours);

    await audit(page, 'desktop-on-call-override-moved');
  });

  it('changes an override through its form, opened from the keyboard', async () => {
    const { card, row } = await openTimeline(page);
    const [before] = await overrides();
    assert.ok(before);
    await row.getByRole('button', { name: new RegExp(`^Override: ${COVER}`) }).focus();
    await page.keyboard.press('Enter');
    const form = card.getByRole('form', { name: `Change the override of ${COVER} in ${SCHEDULE}` });
    await form.waitFor();
    assert.equal(await form.getByLabel('Who (email)').inputValue(), COVER);
    assert.equal(await instantOf(form, 'From'), Date.parse(before.startDate));
    assert.equal(await instantOf(form, 'Until'), Date.parse(before.endDate));
    await audit(page, 'desktop-on-call-override-form');
    // Until one hour later, and someone else: set from the form, as a keyboard does.
    const until = await form.getByLabel('Until').inputValue();
    // The wall clock an hour later ("2026-12-05T14:00" → "2026-12-05T15:00"), read as if in UTC to add it.
    const later = new Date(Date.parse(`${until}:00Z`) + 3_600_000).toISOString().slice(0, 16);
    await form.getByLabel('Until').fill(later);
    await form.getByLabel('Who (email)').fill(ADMIN.email);
    await form.getByRole('button', { name: 'Save override' }).click();
    await form.waitFor({ state: 'detached' });
    const [after] = await overrides();
    assert.ok(after);
    assert.equal(after.alias, before.alias);
    assert.equal(after.user.username, ADMIN.email);
    assert.equal(after.startDate, before.startDate);
    assert.equal(Date.parse(after.endDate) - Date.parse(before.endDate), 3_600_000);
  });

  it('adds an override by a finger’s drag on a phone', async () => {
    const phone = await newPage(browser, PHONE);
    try {
      await signInWithPassword(phone.page, server.url, ADMIN.email, ADMIN.password);
      const { card, box, weekStart, span } = await openTimeline(phone.page, [0.7, 0.9]);
      assert.equal(await scrollsSideways(phone.page), false, 'the on-call page scrolls sideways');
      const y = box.y + box.height / 2;
      const x0 = box.x + box.width * 0.7;
      const x1 = box.x + box.width * 0.9;
      const touch = await phone.context.newCDPSession(phone.page);
      await touch.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: [{ x: x0, y }] });
      for (let i = 1; i <= 5; i++)
        await touch.send('Input.dispatchTouchEvent', {
          type: 'touchMove',
          touchPoints: [{ x: x0 + ((x1 - x0) * i) / 5, y }],
        });
      await touch.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
      const form = card.getByRole('form', { name: `Add an override to ${SCHEDULE}` });
      await form.waitFor();
      const slack = HALF_HOUR + span / box.width;
      const from = await instantOf(form, 'From');
      const until = await instantOf(form, 'Until');
      assert.ok(Math.abs(from - (weekStart + span * 0.7)) <= slack, `from ${new Date(from).toISOString()}`);
      assert.ok(
        Math.abs(until - (weekStart + span * 0.9)) <= slack,
        `until ${new Date(until).toISOString()}`,
      );
      await audit(phone.page, 'phone-on-call-dragged');
    } finally {
      await phone.context.close();
    }
  });

  it('found no serious accessibility problem on any view audited', () => {
    assert.ok(audited().length >= 4, `audited: ${audited().join(', ')}`);
    assert.deepEqual(problems(), []);
  });
});
