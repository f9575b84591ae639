import type { Browser, BrowserContext, Page } from 'playwright-core';
import { DESKTOP, launchBrowser, newPage, requireChromium, signInWithPassword } from './browser.js';
import { startTestServer, type TestServer } from './harness.js';

/** The first admin that the console's tests sign in as (made by the bootstrap variables). */
export const CONSOLE_ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };

export interface ConsoleSession {
  server: TestServer;
  browser: Browser;
  context: BrowserContext;
  /** A desktop page signed in as {@link CONSOLE_ADMIN}. */
  page: Page;
  /** Closes the page, the browser and the server. */
  stop(): Promise<void>;
}

/**
 * What most of the console's browser tests start from: the real server with a first admin (plus `env`),
 * Debian's Chromium, and a desktop page signed in as that admin.
 */
export async function startConsoleSession(env: Record<string, string> = {}): Promise<ConsoleSession> {
  await requireChromium();
  const server = await startTestServer({
    env: {
      VIGIL_BOOTSTRAP_ADMIN_EMAIL: CONSOLE_ADMIN.email,
      VIGIL_BOOTSTRAP_ADMIN_PASSWORD: CONSOLE_ADMIN.password,
      ...env,
    },
  });
  let browser: Browser | undefined;
  try {
    browser = await launchBrowser();
    const { context, page } = await newPage(browser, DESKTOP);
    await signInWithPassword(page, server.url, CONSOLE_ADMIN.email, CONSOLE_ADMIN.password);
    const opened = browser;
    return {
      server,
      browser: opened,
      context,
      page,
      async stop() {
        await context.close();
        await opened.close();
        await server.stop();
      },
    };
  } catch (error) {
    await browser?.close();
    await server.stop();
    throw error;
  }
}

/**
 * A user of `role` (a built-in role's name or a custom role's) who signs in to the console with
 * `password`, set through their invitation's link (which comes back when no email is set up). Their id.
 */
export async function addConsoleUser(
  server: TestServer,
  user: { email: string; fullName: string; password: string; role: string },
): Promise<string> {
  const userId = (
    await server.callOk('POST', '/v2/users', {
      username: user.email,
      fullName: user.fullName,
      role: { name: user.role },
    })
  ).data.id as string;
  const invited = await server.callOk('POST', '/api/console/invitations', {
    email: user.email,
    fullName: user.fullName,
    role: 'user',
  });
  const set = await fetch(`${server.url}/api/console/password`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      token: new URL(invited.link as string).searchParams.get('token'),
      password: user.password,
    }),
  });
  if (set.status !== 200)
    throw new Error(`setting ${user.email}'s password answered ${set.status}: ${await set.text()}`);
  return userId;
}
