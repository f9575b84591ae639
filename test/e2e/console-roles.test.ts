import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
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
import { startTestServer, type TestServer } from '../../src/testing/harness.js';

/**
 * The console's Roles page (the organization's custom user roles: created, listed, changed, deleted, a
 * held one refused with the API's message) and deleting a schedule override from its form, in a real
 * browser against the real server; each checked through the API, audited by axe-core, and at a phone's
 * width. Screenshots: test-artifacts/screenshots/roles-*.png.
 */

const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };
const HOLDER = 'holder@example.com';
const COVER = 'cover@example.com';
const TEAM = 'Platform';
const SCHEDULE = 'Platform primary';
const ROLE = 'Night responder';

let server: TestServer;
let browser: Browser;
let scheduleId: string;
let holderId: string;
const { audit, audited, problems } = pageAudits('roles-');

function made(method: string, path: string, body?: unknown) {
  return server.callOk(method, path, body);
}

interface RoleBody {
  name: string;
  extendedRole: string;
  grantedRights: string[];
  disallowedRights: string[];
}

async function storedRole(name: string): Promise<RoleBody> {
  const role = (await made('GET', `/v2/roles/${encodeURIComponent(name)}?identifierType=name`)).data;
  return {
    ...role,
    grantedRights: [...role.grantedRights].sort(),
    disallowedRights: [...role.disallowedRights].sort(),
  };
}

/** Picks rights in one of the form's multi-selects: typed to filter, then chosen from the list. */
async function pickRights(page: Page, form: Locator, label: string, rights: string[]): Promise<void> {
  const input = form.getByLabel(label, { exact: true });
  for (const right of rights) {
    await input.click();
    await input.fill(right);
    await page.getByRole('option', { name: right, exact: true }).click();
  }
  await input.press('Escape');
}

before(async () => {
  await requireChromium();
  server = await startTestServer({
    env: {
      VIGIL_BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      VIGIL_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
    },
  });
  await made('POST', '/v2/teams', { name: TEAM });
  await made('POST', '/v2/users', { username: COVER, fullName: 'Cora Cover', role: { name: 'User' } });
  holderId = (
    await made('POST', '/v2/users', { username: HOLDER, fullName: 'Hal Holder', role: { name: 'User' } })
  ).data.id;
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
});

after(async () => {
  await browser?.close();
  await server?.stop();
});

describe('the console’s Roles page and override deletion', () => {
  it('creates a custom role from the navigation with exactly the rights chosen, and lists it', async () => {
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signInWithPassword(page, server.url, ADMIN.email, ADMIN.password);
      await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Roles' }).click();
      await page.getByRole('heading', { name: 'Roles', exact: true }).waitFor();
      await page.getByText('No custom role yet.').waitFor();
      const form = page.getByRole('form', { name: 'Create a role' });
      await form.getByLabel('Role name').fill(ROLE);
      await form.getByLabel('Extends').selectOption('observer');
      await pickRights(page, form, 'Rights granted', ['alert-acknowledge', 'alert-add-note']);
      await pickRights(page, form, 'Rights disallowed', ['contacts-edit']);
      await audit(page, 'desktop-new-role');
      await form.getByRole('button', { name: 'Create role' }).click();
      await page.getByText(`${ROLE} is created.`).waitFor();

      const row = page
        .getByRole('table', { name: 'Custom user roles' })
        .getByRole('row', { name: new RegExp(ROLE) });
      await row.waitFor();
      assert.match((await row.innerText()).replace(/\s+/g, ' '), /observer 2 rights 1 right/);
      const stored = await storedRole(ROLE);
      assert.deepEqual(
        [stored.name, stored.extendedRole, stored.grantedRights, stored.disallowedRights],
        [ROLE, 'observer', ['alert-acknowledge', 'alert-add-note'], ['contacts-edit']],
      );
      assert.equal(
        await form.getByLabel('Role name').inputValue(),
        '',
        'the form is empty for the next role',
      );
      await audit(page, 'desktop-roles');
    } finally {
      await context.close();
    }
  });

  it('changes the role as a whole: what the form kept, what it added and what it took away', async () => {
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signInWithPassword(page, server.url, ADMIN.email, ADMIN.password);
      await page.goto(`${server.url}/settings/roles`);
      await page.getByRole('button', { name: `Edit ${ROLE}` }).click();
      const form = page.getByRole('form', { name: `Change ${ROLE}` });
      await form.waitFor();
      assert.equal(await form.getByLabel('Role name').inputValue(), ROLE);
      assert.equal(await form.getByLabel('Extends').inputValue(), 'observer');
      await form.getByLabel('Extends').selectOption('user');
      await pickRights(page, form, 'Rights granted', ['alert-close']);
      // The one right disallowed taken away (Backspace removes the last one picked), another put there.
      const disallowed = form.getByLabel('Rights disallowed', { exact: true });
      await disallowed.click();
      await disallowed.press('Backspace');
      await pickRights(page, form, 'Rights disallowed', ['alert-delete']);
      await audit(page, 'desktop-edit-role');
      await form.getByRole('button', { name: 'Save role' }).click();
      await page.getByText(`${ROLE} is saved.`).waitFor();
      await form.waitFor({ state: 'detached' });
      const saved = await storedRole(ROLE);
      assert.deepEqual(
        [saved.name, saved.extendedRole, saved.grantedRights, saved.disallowedRights],
        [ROLE, 'user', ['alert-acknowledge', 'alert-add-note', 'alert-close'], ['alert-delete']],
      );
      const row = page
        .getByRole('table', { name: 'Custom user roles' })
        .getByRole('row', { name: new RegExp(ROLE) });
      await row.getByText('3 rights').waitFor();
    } finally {
      await context.close();
    }
  });

  it('shows why a role someone holds is not deleted, and deletes it once nobody does', async () => {
    await made('PATCH', `/v2/users/${holderId}`, { role: { name: ROLE } });
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signInWithPassword(page, server.url, ADMIN.email, ADMIN.password);
      await page.goto(`${server.url}/settings/roles`);
      await page.getByRole('button', { name: `Delete ${ROLE}` }).click();
      await page.getByRole('button', { name: 'Delete role' }).click();
      const refusal = page.getByRole('alert').filter({ hasText: `is held by ${HOLDER}` });
      await refusal.waitFor();
      assert.match(await refusal.innerText(), /give them another role first/);
      await audit(page, 'desktop-role-held');
      assert.equal((await storedRole(ROLE)).extendedRole, 'user', 'the role is still there');

      await made('PATCH', `/v2/users/${holderId}`, { role: { name: 'User' } });
      await page.getByRole('button', { name: 'Delete role' }).click();
      await page.getByText(`${ROLE} is deleted.`).waitFor();
      await refusal.waitFor({ state: 'detached' });
      await page.getByText('No custom role yet.').waitFor();
      const gone = await server.call('GET', `/v2/roles/${encodeURIComponent(ROLE)}?identifierType=name`);
      assert.equal(gone.status, 404, JSON.stringify(gone.body));
      assert.deepEqual((await made('GET', '/v2/roles')).data, []);
    } finally {
      await context.close();
    }
  });

  it('deletes an override from its form on the on-call page, after asking', async () => {
    const now = Date.now();
    const created = await made('POST', `/v2/schedules/${scheduleId}/overrides`, {
      user: { type: 'user', username: COVER },
      startDate: new Date(now + 3_600_000).toISOString(),
      endDate: new Date(now + 9 * 3_600_000).toISOString(),
    });
    const alias: string = created.data.alias;
    const listed = async () =>
      ((await made('GET', `/v2/schedules/${scheduleId}/overrides`)).data as { alias: string }[]).map(
        (o) => o.alias,
      );
    assert.deepEqual(await listed(), [alias]);
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signInWithPassword(page, server.url, ADMIN.email, ADMIN.password);
      await page.goto(`${server.url}/on-call`);
      const card = page.getByRole('region', { name: SCHEDULE });
      await card.getByRole('button', { name: 'Timeline' }).click();
      const row = card.getByRole('list', { name: 'Overrides', exact: true });
      await row.getByRole('button', { name: new RegExp(`^Override: ${COVER}`) }).click();
      const form = card.getByRole('form', { name: `Change the override of ${COVER} in ${SCHEDULE}` });
      await form.waitFor();
      await form.getByRole('button', { name: 'Delete override' }).click();
      await form.getByText(`Delete this override of ${COVER}?`).waitFor();
      assert.deepEqual(await listed(), [alias], 'nothing is deleted before the answer');
      await audit(page, 'desktop-delete-override');
      await form.getByRole('button', { name: 'Delete', exact: true }).click();
      await page.getByText(`The override of ${COVER} in ${SCHEDULE} is deleted.`).waitFor();
      await form.waitFor({ state: 'detached' });
      assert.deepEqual(await listed(), []);
      await row
        .getByRole('button', { name: new RegExp(`^Override: ${COVER}`) })
        .waitFor({ state: 'detached' });
    } finally {
      await context.close();
    }
  });

  it('fits the Roles page and a role’s form on a phone, reached through the navigation drawer', async () => {
    await made('POST', '/v2/roles', {
      name: 'A rather long custom role name for a narrow screen',
      extendedRole: 'stakeholder',
      grantedRights: ['alert-acknowledge', 'alert-close-all', 'who-is-on-call-show-all'],
      disallowedRights: ['profile-custom-fields-edit'],
    });
    const { context, page } = await newPage(browser, PHONE);
    try {
      await signInWithPassword(page, server.url, ADMIN.email, ADMIN.password);
      await page.getByRole('button', { name: 'Open navigation' }).click();
      await page.getByRole('dialog').getByRole('link', { name: 'Roles' }).click();
      await page.getByRole('heading', { name: 'Roles', exact: true }).waitFor();
      await page.getByText('Extends stakeholder; 3 granted, 1 disallowed').waitFor();
      await audit(page, 'phone-roles');
      assert.equal(await scrollsSideways(page), false, 'the Roles page scrolls sideways');
      await page.getByRole('button', { name: /^Edit A rather long/ }).click();
      const form = page.getByRole('form', { name: /^Change A rather long/ });
      await form.waitFor();
      await form.getByText('who-is-on-call-show-all').waitFor();
      await audit(page, 'phone-edit-role');
      assert.equal(await scrollsSideways(page), false, 'the role’s form scrolls sideways');
      await page.getByRole('button', { name: /^Delete A rather long/ }).click();
      await page.getByRole('button', { name: 'Delete role' }).waitFor();
      assert.equal(await scrollsSideways(page), false, 'the delete question scrolls sideways');
    } finally {
      await context.close();
    }
  });

  it('keeps the admins’ navigation, Roles added, on one line at the narrowest width that shows it', async () => {
    // Mantine's sm breakpoint (48em): below it the navigation is a drawer.
    const { context, page } = await newPage(browser, { width: 768, height: 900 });
    try {
      await signInWithPassword(page, server.url, ADMIN.email, ADMIN.password);
      await page.goto(`${server.url}/settings/roles`);
      const nav = page.getByRole('navigation', { name: 'Main' });
      await nav.getByRole('link', { name: 'Roles' }).waitFor();
      assert.equal(await scrollsSideways(page), false, 'the header scrolls sideways');
      const links = await nav
        .getByRole('link')
        .evaluateAll((all) => all.map((a) => Math.round(a.getBoundingClientRect().top)));
      assert.equal(new Set(links).size, 1, `the links are on one line: ${links.join(', ')}`);
    } finally {
      await context.close();
    }
  });

  it('offers a person only the changes the server takes: none to a role without them, all to an admin', async () => {
    const WATCHER = 'watcher@example.com';
    const PASSWORD = 'watcher horse battery staple';
    await made('POST', '/v2/roles', {
      name: 'Watcher',
      extendedRole: 'observer',
      grantedRights: [],
      disallowedRights: ['contacts-edit'],
    });
    const watcherId: string = (
      await made('POST', '/v2/users', {
        username: WATCHER,
        fullName: 'Wes Watcher',
        role: { name: 'Watcher' },
      })
    ).data.id;
    const teamId: string = (await made('GET', `/v2/teams/${TEAM}?identifierType=name`)).data.id;
    await made('POST', `/v2/teams/${teamId}/members`, { user: { id: watcherId }, role: 'user' });
    // No email is set up here: the invitation's link comes back, and sets the watcher's password.
    const invited = await made('POST', '/api/console/invitations', {
      email: WATCHER,
      fullName: 'Wes Watcher',
      role: 'user',
    });
    const token = new URL(invited.link as string).searchParams.get('token');
    const set = await fetch(`${server.url}/api/console/password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, password: PASSWORD }),
    });
    assert.equal(set.status, 200, await set.text());
    const adminId: string = (await made('GET', `/v2/users/${ADMIN.email}`)).data.id;
    const notice = 'Your role lets you see, not change, these; ask an organization admin.';

    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signInWithPassword(page, server.url, WATCHER, PASSWORD);
      await page.goto(`${server.url}/people/${watcherId}`);
      await page.getByRole('heading', { name: 'Contact methods' }).waitFor();
      // Both sections have loaded, each saying why it offers nothing.
      await page.getByText(notice).nth(1).waitFor();
      assert.equal(await page.getByText(notice).count(), 2);
      for (const name of [
        'Add contact method',
        'Turn off',
        'Delete',
        'Turn off rule',
        'Delete rule',
        'Add step',
      ]) {
        assert.equal(await page.getByRole('button', { name, exact: true }).count(), 0, `no ${name} button`);
      }
      assert.equal(await page.getByRole('heading', { name: 'New notification rule' }).count(), 0);
      await audit(page, 'desktop-person-read-only');

      // A plain member of the team: its integrations are shown, not offered to add.
      await page.goto(`${server.url}/teams/${teamId}/integrations`);
      await page.getByRole('heading', { name: 'Integrations', exact: true }).waitFor();
      await page.getByText(`Ask an admin of ${TEAM}.`).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Add integration' }).count(), 0);
      await page.goto(`${server.url}/teams/${teamId}/integrations/new`);
      await page.getByText(`Ask an admin of ${TEAM}.`).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Continue' }).count(), 0);
      await page.goto(`${server.url}/teams/${teamId}/escalations`);
      await page.getByText(`Ask an admin of ${TEAM}.`).waitFor();
      assert.equal(await page.getByRole('button', { name: 'Create policy' }).count(), 0);
      await page.goto(`${server.url}/teams/${teamId}/policies`);
      await page
        .getByText(`Your role lets you see, not change, its alert policies. Ask an admin of ${TEAM}.`)
        .waitFor();
      await page
        .getByText(`Your role lets you see, not change, its notification policies. Ask an admin of ${TEAM}.`)
        .waitFor();
      for (const name of ['Add alert policy', 'Add notification policy'])
        assert.equal(await page.getByRole('button', { name }).count(), 0, `no ${name} button`);
    } finally {
      await context.close();
    }

    const admin = await newPage(browser, DESKTOP);
    try {
      await signInWithPassword(admin.page, server.url, ADMIN.email, ADMIN.password);
      await admin.page.goto(`${server.url}/people/${adminId}`);
      await admin.page.getByRole('button', { name: 'Add contact method' }).waitFor();
      await admin.page.getByRole('heading', { name: 'New notification rule' }).waitFor();
      assert.equal(await admin.page.getByText(notice).count(), 0);
      await admin.page.goto(`${server.url}/teams/${teamId}/integrations`);
      await admin.page.getByRole('button', { name: 'Add integration' }).waitFor();
      assert.equal(await admin.page.getByText(`Ask an admin of ${TEAM}.`).count(), 0);
      await admin.page.goto(`${server.url}/teams/${teamId}/policies`);
      await admin.page.getByRole('button', { name: 'Add alert policy' }).waitFor();
      await admin.page.getByRole('button', { name: 'Add notification policy' }).waitFor();
    } finally {
      await admin.context.close();
    }
  });

  it('names the zone an override’s times are read in when it is not the schedule’s', async () => {
    const form = (page: Page) =>
      page
        .getByRole('region', { name: SCHEDULE })
        .getByRole('form', { name: `Add an override to ${SCHEDULE}` });
    const openForm = async (timezoneId: string) => {
      const context = await browser.newContext({ viewport: DESKTOP, timezoneId });
      const page = await context.newPage();
      await signInWithPassword(page, server.url, ADMIN.email, ADMIN.password);
      await page.goto(`${server.url}/on-call`);
      await page.getByRole('region', { name: SCHEDULE }).getByRole('button', { name: 'Override' }).click();
      await form(page).waitFor();
      return { context, page };
    };
    // The schedule is in UTC: a browser in New York reads the fields in its own zone, and says so.
    const away = await openForm('America/New_York');
    try {
      const { page } = away;
      const note = form(page).getByText('In your time zone, America/New_York');
      assert.equal(await note.count(), 2, 'both From and Until say their zone');
      await form(page).getByLabel('Who (email)').fill(COVER);
      await form(page).getByRole('button', { name: 'Add override' }).click();
      await page
        .getByText(new RegExp(`^${COVER} is on call for ${SCHEDULE} from .* \\(America/New_York\\)\\.$`))
        .waitFor();
    } finally {
      await away.context.close();
    }
    for (const o of (await made('GET', `/v2/schedules/${scheduleId}/overrides`)).data as { alias: string }[])
      await made('DELETE', `/v2/schedules/${scheduleId}/overrides/${o.alias}`);
    // In the schedule's own zone there is nothing to say.
    const home = await openForm('UTC');
    try {
      await form(home.page).getByLabel('From').waitFor();
      assert.equal(
        await form(home.page)
          .getByText(/In your time zone/)
          .count(),
        0,
      );
    } finally {
      await home.context.close();
    }
  });

  it('found no serious accessibility problem on any page audited', () => {
    assert.ok(audited().length >= 7, `audited: ${audited().join(', ')}`);
    assert.deepEqual(problems(), []);
  });
});
