import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  DESKTOP,
  launchBrowser,
  newPage,
  requireChromium,
  signInWithPassword,
} from '../../src/testing/browser.js';
import { startTestServer, type TestServer } from '../../src/testing/harness.js';

/**
 * A schedule whose rotation has a team's turn and a turn of nobody, on the console's on-call page in a
 * real browser: the team on call now is named as a team, and so is the escalation next (after the turn of
 * nobody, which the page skips); the timeline draws the team's bar by name.
 */

const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };
const SCHEDULE = 'Mixed rota';

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
  await server.callOk('POST', '/v2/teams', {
    name: 'Night owls',
    members: [{ user: { username: ADMIN.email } }],
  });
  await server.callOk('POST', '/v2/escalations', {
    name: 'Backstop',
    rules: [
      {
        condition: 'if-not-acked',
        notifyType: 'default',
        delay: { timeAmount: 0 },
        recipient: { type: 'user', username: ADMIN.email },
      },
    ],
  });
  // The team's turn started an hour ago; nobody's is next, then the escalation's.
  await server.callOk('POST', '/v2/schedules', {
    name: SCHEDULE,
    timezone: 'UTC',
    rotations: [
      {
        name: 'Daily',
        type: 'daily',
        startDate: new Date(Date.now() - 3_600_000).toISOString(),
        participants: [
          { type: 'team', name: 'Night owls' },
          { type: 'none' },
          { type: 'escalation', name: 'Backstop' },
        ],
      },
    ],
  });
  browser = await launchBrowser();
  ({ context, page } = await newPage(browser, DESKTOP));
  await signInWithPassword(page, server.url, ADMIN.email, ADMIN.password);
});

after(async () => {
  await context?.close();
  await browser?.close();
  await server?.stop();
});

describe('the console’s on-call page with team, escalation and none participants', () => {
  it('names the team on call now and the escalation next, and draws them on the timeline', async () => {
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));
    await page.goto(`${server.url}/on-call`);
    const card = page.getByRole('region', { name: SCHEDULE });
    await card.getByText('Night owls (team)').waitFor();
    await card.getByText('Backstop (escalation)').waitFor();
    await card.getByRole('button', { name: 'Timeline' }).click();
    const final = card.getByRole('list', { name: /^Final schedule/ }).first();
    await final.getByRole('listitem').first().waitFor();
    const titles = await final
      .getByRole('listitem')
      .evaluateAll((items) => items.map((i) => i.getAttribute('title') ?? i.textContent ?? ''));
    // The team's bar, and the escalation's when the week shown reaches it; the turn of nobody has none.
    assert.ok(
      titles.some((t) => t.startsWith('Night owls (team): ')),
      titles.join('\n'),
    );
    assert.ok(
      titles.every((t) => t.startsWith('Night owls (team): ') || t.startsWith('Backstop (escalation): ')),
      titles.join('\n'),
    );
    assert.deepEqual(errors, []);
  });
});
