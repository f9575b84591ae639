import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  DESKTOP,
  launchBrowser,
  newPage,
  PHONE,
  requireChromium,
  signInWithPassword,
} from '../../src/testing/browser.js';
import { startTestServer, type TestServer } from '../../src/testing/harness.js';

/**
 * A schedule whose two rotations are on call at once (Opsgenie's way, the default), on the console's
 * on-call page in a real browser: both people are named as on call now, and the final line shows both at
 * the same time, at desktop and at phone width.
 */

const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };
const BOB = 'bob@example.com';
const SCHEDULE = 'Both at once';
const TWICE = 'Each twice';

let server: TestServer;
let browser: Browser;
let context: BrowserContext;
let page: Page;

before(async () => {
  await requireChromium();
  server = await startTestServer({
    env: {
      VIGIL_BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      VIGIL_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    },
  });
  await server.callOk('POST', '/v2/users', { username: BOB, fullName: 'Bob', role: { name: 'User' } });
  const startDate = new Date(Date.now() - 3_600_000).toISOString();
  await server.callOk('POST', '/v2/schedules', {
    name: SCHEDULE,
    timezone: 'UTC',
    rotations: [
      { name: 'Days', type: 'weekly', startDate, participants: [{ type: 'user', username: ADMIN.email }] },
      { name: 'Nights', type: 'weekly', startDate, participants: [{ type: 'user', username: BOB }] },
    ],
  });
  // Each person through two rotations at once: both runs belong to no single rotation, so they share the
  // final line's extra row, at the same times.
  await server.callOk('POST', '/v2/schedules', {
    name: TWICE,
    timezone: 'UTC',
    rotations: [ADMIN.email, ADMIN.email, BOB, BOB].map((username, i) => ({
      name: `Rotation ${i + 1}`,
      type: 'weekly',
      startDate,
      participants: [{ type: 'user', username }],
    })),
  });
  browser = await launchBrowser();
});

after(async () => {
  await context?.close();
  await browser?.close();
  await server?.stop();
});

describe('the console’s on-call page with rotations on call at once', () => {
  for (const [size, viewport] of [
    ['desktop', DESKTOP],
    ['phone', PHONE],
  ] as const) {
    it(`names both people on call and draws both on the final line (${size})`, async () => {
      await context?.close();
      ({ context, page } = await newPage(browser, viewport));
      await signInWithPassword(page, server.url, ADMIN.email, ADMIN.password);
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      await page.goto(`${server.url}/on-call`);
      const card = page.getByRole('region', { name: SCHEDULE });
      await card.getByText('admin@example.com', { exact: false }).first().waitFor();
      await card.getByText(BOB, { exact: false }).first().waitFor();
      await card.getByRole('button', { name: 'Timeline' }).click();
      const finals = card.getByRole('list', { name: /^Final schedule/ });
      await finals.first().getByRole('listitem').first().waitFor();
      const titles = (
        await finals.evaluateAll((lists) =>
          lists.flatMap((l) =>
            [...l.querySelectorAll('[role=listitem]')].map((i) => i.getAttribute('title') ?? ''),
          ),
        )
      ).join('\n');
      // Both are on the final line for the whole week shown, each under their rotation.
      assert.match(titles, /admin@example\.com/);
      assert.match(titles, /bob@example\.com/);
      // Evaluated in the page (a string: this file is compiled without the DOM's types).
      const overflow = await page.evaluate<number>(
        'document.documentElement.scrollWidth - window.innerWidth',
      );
      assert.ok(overflow <= 0, `the page is ${overflow}px wider than the ${size} screen`);
      assert.deepEqual(errors, []);
    });
  }

  it('stacks people on call at the same time in one row instead of drawing one over the other', async () => {
    await context?.close();
    ({ context, page } = await newPage(browser, PHONE));
    await signInWithPassword(page, server.url, ADMIN.email, ADMIN.password);
    await page.goto(`${server.url}/on-call`);
    const card = page.getByRole('region', { name: TWICE });
    await card.getByRole('button', { name: 'Timeline' }).click();
    const merged = card.getByRole('list', { name: /Overrides and merged/ });
    await merged.getByRole('listitem').nth(1).waitFor();
    const boxes = await merged
      .getByRole('listitem')
      .evaluateAll((items) =>
        items.map(
          (i) =>
            [
              i.getAttribute('title') ?? '',
              i.getBoundingClientRect().top,
              i.getBoundingClientRect().bottom,
            ] as const,
        ),
      );
    assert.equal(boxes.length, 2, JSON.stringify(boxes));
    const [first, second] = boxes;
    assert.ok(first && second);
    assert.ok(first[2] <= second[1] || second[2] <= first[1], `the bars overlap: ${JSON.stringify(boxes)}`);
    assert.deepEqual(boxes.map((b) => b[0].split(':')[0]).sort(), [ADMIN.email, BOB]);
  });
});
