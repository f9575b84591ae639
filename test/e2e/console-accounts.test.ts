import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { DESKTOP, newPage, pageAudits, PHONE, signInWithPassword } from '../../src/testing/browser.js';
import {
  CONSOLE_ADMIN,
  startConsoleSession,
  type ConsoleSession,
} from '../../src/testing/console-session.js';
import { addOrganization, type TestServer } from '../../src/testing/harness.js';
import { freePort } from '../../src/testing/network.js';
import { startTestSmtpServer, type ReceivedMail, type TestSmtpServer } from '../../src/testing/smtp.js';

/**
 * A person's account in the console, in a real browser against the real server and a real SMTP server:
 * an admin invites a person from the People page, the person sets a password from the emailed link
 * (once: the link does not work twice) and is signed in; they sign out, and sign in with it; a forgotten
 * password is reset from the sign-in page at a phone's width, after which the old password no longer
 * signs in. Screenshots: test-artifacts/screenshots/accounts-*.png.
 */

const INVITED = { email: 'invited.person@example.com', fullName: 'Invited Person' };
const FIRST_PASSWORD = 'a first password of some length';
const SECOND_PASSWORD = 'a second password, also long';

let session: ConsoleSession | undefined;
let smtp: TestSmtpServer | undefined;
let server: TestServer;
let browser: Browser;
let adminPage: Page;
const { audit, audited, problems } = pageAudits('accounts-');

/** The set-password link in an email Vigil sent, as it is written there. */
function setPasswordLink(mail: ReceivedMail | undefined): string {
  const link = /https?:\/\/\S+\/set-password\?token=[A-Za-z0-9_%-]+/.exec(mail?.text ?? '');
  assert.ok(link, `a set-password link in: ${mail?.text ?? '(no email)'}`);
  return link[0];
}

async function setPassword(page: Page, link: string, password: string): Promise<void> {
  await page.goto(link);
  await page.getByRole('heading', { name: 'Set your password' }).waitFor();
  await page.getByLabel(/^New password(?! again)/).fill(password);
  await page.getByLabel(/^New password again/).fill(password);
  await page.getByRole('button', { name: 'Set password and sign in' }).click();
}

/** Signs in and expects to be refused: the sign-in form's error. */
async function refusedSignIn(page: Page, email: string, password: string): Promise<string> {
  await page.goto(`${server.url}/sign-in`);
  await page.getByRole('textbox', { name: /^Email/ }).fill(email);
  await page.getByLabel(/^Password/).fill(password);
  await page.getByRole('button', { name: 'Sign in', exact: true }).click();
  const error = page.getByRole('alert').filter({ hasText: /./ }).first();
  await error.waitFor();
  return error.innerText();
}

before(async () => {
  smtp = await startTestSmtpServer();
  // The emails' links are made from VIGIL_PUBLIC_URL: the address the browser is to open.
  const port = await freePort();
  session = await startConsoleSession({
    PORT: String(port),
    VIGIL_PUBLIC_URL: `http://127.0.0.1:${port}`,
    VIGIL_SMTP_URL: smtp.url,
    VIGIL_EMAIL_FROM: 'Vigil <vigil@example.com>',
  });
  ({ server, browser, page: adminPage } = session);
});

after(async () => {
  await session?.stop();
  await smtp?.stop();
});

describe('invitations and passwords in the console', () => {
  it('invites a person from the People page; the emailed link sets their password once and signs them in', async () => {
    assert.ok(smtp);
    smtp.clear();
    await adminPage.goto(`${server.url}/people`);
    const form = adminPage.locator('form', {
      has: adminPage.getByRole('heading', { name: 'Invite a person', exact: true }),
    });
    await form.getByLabel('Email', { exact: false }).fill(INVITED.email);
    await form.getByLabel('Full name', { exact: false }).fill(INVITED.fullName);
    await form.getByRole('button', { name: 'Send invitation' }).click();
    await adminPage.getByText(`Invitation sent to ${INVITED.email}.`).waitFor();
    await adminPage.getByRole('link', { name: INVITED.fullName }).waitFor();

    const [mail] = await smtp.waitForMessages(1);
    assert.deepEqual(mail?.to, [INVITED.email]);
    const link = setPasswordLink(mail);
    assert.ok(link.startsWith(`${server.url}/set-password?token=`), link);

    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await setPassword(page, link, FIRST_PASSWORD);
      await page.getByRole('heading', { name: 'Alerts' }).waitFor();
      await audit(page, 'desktop-signed-in-after-invitation');

      // Out, then in again with the password just set.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to Vigil' }).waitFor();
      await signInWithPassword(page, server.url, INVITED.email, FIRST_PASSWORD);

      // The link worked once.
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to Vigil' }).waitFor();
      await setPassword(page, link, 'a password the link cannot set twice');
      await page
        .getByRole('alert')
        .filter({ hasText: 'This link has expired or has been used already' })
        .waitFor();
      assert.match(new URL(page.url()).pathname, /^\/set-password$/);
      await audit(page, 'desktop-used-link');
    } finally {
      await context.close();
    }
  });

  it('resets a forgotten password from the sign-in page at a phone’s width; the old one stops working', async () => {
    assert.ok(smtp);
    smtp.clear();
    const { context, page } = await newPage(browser, PHONE);
    try {
      await page.goto(`${server.url}/sign-in`);
      await page.getByRole('button', { name: 'Forgot password?' }).click();
      await page.getByRole('heading', { name: 'Reset your password' }).waitFor();
      await page.getByRole('textbox', { name: /^Email/ }).fill(INVITED.email);
      await page.getByRole('button', { name: 'Send the link' }).click();
      await page.getByText(`If ${INVITED.email} has an account, an email with a link`).waitFor();
      await audit(page, 'phone-reset-requested');

      const [mail] = await smtp.waitForMessages(1);
      assert.deepEqual(mail?.to, [INVITED.email]);
      await setPassword(page, setPasswordLink(mail), SECOND_PASSWORD);
      await page.getByRole('heading', { name: 'Alerts' }).waitFor();
      await page.getByRole('button', { name: 'Open navigation' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in to Vigil' }).waitFor();

      assert.match(await refusedSignIn(page, INVITED.email, FIRST_PASSWORD), /^Wrong email or password/);
      await signInWithPassword(page, server.url, INVITED.email, SECOND_PASSWORD);
    } finally {
      await context.close();
    }
  });

  it('shows whoever signs in after a session ended elsewhere nothing read for the one before, in that tab', async () => {
    assert.ok(smtp);
    const run = randomUUID().slice(0, 8);
    // The one before: the admin, who sees a team of their organization.
    const team = `First persons team ${run}`;
    await server.callOk('POST', '/v2/teams', { name: team });
    // The one after: a person of another organization, who sees none of its teams.
    const elsewhere = await addOrganization(server, `Elsewhere ${run}`);
    const next = { email: `next.person.${run}@example.com`, password: 'the next person’s own password' };
    smtp.clear();
    const invited = await elsewhere.call('POST', '/api/console/invitations', {
      email: next.email,
      fullName: 'Next Person',
      role: 'user',
    });
    assert.equal(invited.status, 201, JSON.stringify(invited.body));
    const [mail] = await smtp.waitForMessages(1);
    const token = new URL(setPasswordLink(mail)).searchParams.get('token');
    const set = await fetch(`${server.url}/api/console/password`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ token, password: next.password }),
    });
    assert.equal(set.status, 200, await set.text());

    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signInWithPassword(page, server.url, CONSOLE_ADMIN.email, CONSOLE_ADMIN.password);
      const nav = page.getByRole('navigation', { name: 'Main' });
      await nav.getByRole('link', { name: 'Teams' }).click();
      await page.getByRole('link', { name: team }).waitFor();

      // Signed out in another tab: this one learns of it at its next request, and asks to sign in.
      const other = await context.newPage();
      await other.goto(`${server.url}/alerts`);
      await other.getByRole('button', { name: 'Sign out' }).click();
      await other.getByRole('heading', { name: 'Sign in to Vigil' }).waitFor();
      await other.close();
      await nav.getByRole('link', { name: 'On-call' }).click();
      await page.getByRole('heading', { name: 'Sign in to Vigil' }).waitFor();

      // Whether the first person's team is ever drawn, however briefly, from here on in this tab.
      await page.evaluate(`(() => {
        const name = ${JSON.stringify(team)};
        window.firstPersonsTeamSeen = false;
        new MutationObserver(() => {
          if (document.body.textContent.includes(name)) window.firstPersonsTeamSeen = true;
        }).observe(document.body, { childList: true, subtree: true, characterData: true });
      })()`);
      await page.getByRole('textbox', { name: /^Email/ }).fill(next.email);
      await page.getByLabel(/^Password/).fill(next.password);
      await page.getByRole('button', { name: 'Sign in', exact: true }).click();
      await nav.getByRole('link', { name: 'Teams' }).click();
      // Their teams (none), or the first person's drawn from what this tab read before.
      await page
        .getByText('No teams yet.')
        .or(page.getByRole('link', { name: team }))
        .first()
        .waitFor();
      assert.equal(
        await page.evaluate('window.firstPersonsTeamSeen'),
        false,
        "the first person's teams were shown to the next",
      );
      await page.getByText('No teams yet.').waitFor();
    } finally {
      await context.close();
    }
  });

  it('found no serious accessibility problem on any view audited', () => {
    assert.deepEqual(audited(), [
      'desktop-signed-in-after-invitation',
      'desktop-used-link',
      'phone-reset-requested',
    ]);
    assert.deepEqual(problems(), []);
  });
});
