import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { hashPassword } from '../../src/accounts/passwords.js';
import { sessionsRepository } from '../../src/accounts/sessions/repository.js';
import { DESKTOP, newPage, signInWithPassword } from '../../src/testing/browser.js';
import { type Json, type TestServer } from '../../src/testing/harness.js';
import { startConsoleSession, type ConsoleSession } from '../../src/testing/console-session.js';

/**
 * "Add integration"'s Assignee team list, in a real browser against the real server: it offers a person
 * only the teams the server lets them give an integration to (org admins every other team; anyone else
 * those where they hold edit-integrations, as a team's admins do), so no choice in it ends in a 403; the
 * team chosen is taken.
 */

let session: ConsoleSession | undefined;
let server: TestServer;
let page: Page;
const LEAD = { email: 'lead@example.com', password: 'lead horse battery staple' };
const teamIds = new Map<string, string>();

const made = (method: string, path: string, body?: unknown): Promise<Json> =>
  server.callOk(method, path, body);

before(async () => {
  session = await startConsoleSession();
  ({ server, page } = session);
  const leadId: string = (
    await made('POST', '/v2/users', { username: LEAD.email, fullName: 'Lee Lead', role: { name: 'User' } })
  ).data.id;
  await sessionsRepository.setPassword(
    server.app.context.db,
    leadId,
    await hashPassword(LEAD.password),
    new Date(),
  );
  // The lead administers Payments (where the integration is added) and Storage, is a plain member of
  // Billing, and is not in Search.
  for (const [name, role] of [
    ['Payments', 'admin'],
    ['Storage', 'admin'],
    ['Billing', 'user'],
    ['Search', undefined],
  ] as const) {
    const members = role ? [{ user: { id: leadId }, role }] : [];
    teamIds.set(name, (await made('POST', '/v2/teams', { name, members })).data.id);
  }
});

after(async () => {
  await session?.stop();
});

/** The names the Assignee team list offers on Payments' "Add integration", as `on` sees it. */
async function offeredAssignees(on: Page): Promise<string[]> {
  await on.goto(`${server.url}/teams/${teamIds.get('Payments')}/integrations/new`);
  await on.getByLabel('Search integrations').fill('API');
  await on.getByRole('button', { name: /^API/ }).click();
  const select = on.getByRole('combobox', { name: 'Assignee team' });
  // Disabled until every team's rights have been answered: the click waits for it.
  await select.click();
  await on.getByRole('listbox').waitFor();
  return (await on.getByRole('option').allTextContents()).sort();
}

describe('the Assignee team list of "Add integration"', () => {
  it('offers an org admin every other team', async () => {
    assert.deepEqual(await offeredAssignees(page), ['Billing', 'Search', 'Storage']);
  });

  it('offers anyone else only the teams they may give an integration to, and the one chosen is taken', async () => {
    const { context, page: lead } = await newPage(session!.browser, DESKTOP);
    try {
      await signInWithPassword(lead, server.url, LEAD.email, LEAD.password);
      assert.deepEqual(await offeredAssignees(lead), ['Storage']);
      await lead.getByRole('option', { name: 'Storage' }).click();
      await lead.getByRole('textbox', { name: /^Name/ }).fill('Payments to storage');
      await lead.getByRole('button', { name: 'Continue' }).click();
      await lead.getByText('The integration is saved').waitFor();
      const listed = (await made('GET', `/v2/integrations?teamId=${teamIds.get('Payments')}`)).data as Json[];
      const saved = listed.find((i) => i.name === 'Payments to storage');
      assert.ok(saved, JSON.stringify(listed));
      const full = (await made('GET', `/v2/integrations/${saved.id}`)).data;
      assert.equal(full.assigneeTeam?.id, teamIds.get('Storage'), JSON.stringify(full));
    } finally {
      await context.close();
    }
  });
});
