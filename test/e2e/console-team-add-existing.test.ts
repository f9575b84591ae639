import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { type Json, type TestServer } from '../../src/testing/harness.js';
import {
  addConsoleUser,
  CONSOLE_ADMIN,
  startConsoleSession,
  type ConsoleSession,
} from '../../src/testing/console-session.js';

/**
 * A team's "Invite a person to this team", in a real browser against the real server: someone already in
 * Vigil (who can sign in) is added to the team as a member, not refused as an invitation; someone already
 * a member is told so and keeps their role; someone new is still invited and added.
 */

let session: ConsoleSession | undefined;
let server: TestServer;
let page: Page;
let teamId: string;
const EXISTING = {
  email: 'existing.person@example.com',
  fullName: 'Existing Person',
  password: 'existing horse battery staple',
  role: 'User',
};
const NEWCOMER = { email: 'new.person@example.com', fullName: 'New Person' };

const made = (method: string, path: string, body?: unknown): Promise<Json> =>
  server.callOk(method, path, body);

/** The team's members as the API lists them: [username, role]. */
const members = async (): Promise<[string, string][]> =>
  ((await made('GET', `/v2/teams/${teamId}`)).data.members as Json[])
    .map((m): [string, string] => [m.user.username, m.role])
    .sort((a, b) => a[0].localeCompare(b[0]));

before(async () => {
  session = await startConsoleSession();
  ({ server, page } = session);
  await addConsoleUser(server, EXISTING);
  // The admin already administers the team.
  teamId = (
    await made('POST', '/v2/teams', {
      name: 'Storage',
      members: [{ user: { username: CONSOLE_ADMIN.email }, role: 'admin' }],
    })
  ).data.id;
});

after(async () => {
  await session?.stop();
});

/** The team's invite form, opened afresh. */
async function inviteForm(): Promise<Locator> {
  await page.goto(`${server.url}/teams/${teamId}`);
  const form = page.locator('form', {
    has: page.getByRole('heading', { name: 'Invite a person to this team' }),
  });
  await form.waitFor();
  return form;
}

async function submit(form: Locator, email: string, fullName: string): Promise<void> {
  await form.getByLabel(/^Email/).fill(email);
  await form.getByRole('textbox', { name: /^Full name/ }).fill(fullName);
  await form.locator('button[type="submit"]').click();
}

describe('a team’s "Invite a person to this team"', () => {
  it('adds someone who can already sign in to the team, and says so', async () => {
    const form = await inviteForm();
    await submit(form, EXISTING.email, EXISTING.fullName);
    await page.getByText(`${EXISTING.email} is added to Storage.`).waitFor();
    assert.equal(await form.getByRole('alert').count(), 0, 'no error is shown');
    await page.getByRole('cell', { name: EXISTING.email }).waitFor();
    assert.deepEqual(await members(), [
      [CONSOLE_ADMIN.email, 'admin'],
      [EXISTING.email, 'user'],
    ]);
  });

  it('tells that someone is a member already, and leaves their role as it is', async () => {
    const form = await inviteForm();
    await submit(form, CONSOLE_ADMIN.email, 'Admin');
    await form
      .getByRole('alert')
      .filter({ hasText: `${CONSOLE_ADMIN.email} is already a member` })
      .waitFor();
    assert.deepEqual(await members(), [
      [CONSOLE_ADMIN.email, 'admin'],
      [EXISTING.email, 'user'],
    ]);
  });

  it('still invites someone new, who becomes a member', async () => {
    const form = await inviteForm();
    await submit(form, NEWCOMER.email, NEWCOMER.fullName);
    // No email is set up: the link comes back to hand over.
    await page.getByText(`${NEWCOMER.email} is added, but the email could not be sent`).waitFor();
    await page.getByRole('cell', { name: NEWCOMER.email }).waitFor();
    assert.deepEqual(await members(), [
      [CONSOLE_ADMIN.email, 'admin'],
      [EXISTING.email, 'user'],
      [NEWCOMER.email, 'user'],
    ]);
    const user = (await made('GET', `/v2/users/${encodeURIComponent(NEWCOMER.email)}`)).data;
    assert.equal(user.fullName, NEWCOMER.fullName);
  });

  it('sends someone in Vigil without a password yet (made through the API) a link, and adds them', async () => {
    const email = 'api.made@example.com';
    await made('POST', '/v2/users', { username: email, fullName: 'Api Made', role: { name: 'User' } });
    const form = await inviteForm();
    await submit(form, email, '');
    await page.getByText(`${email} is added, but the email could not be sent`).waitFor();
    assert.ok((await members()).some(([username]) => username === email));
  });
});
