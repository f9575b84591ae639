import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import {
  accessibilityProblems,
  DESKTOP,
  launchBrowser,
  newPage,
  requireChromium,
  screenshot,
  signInWithPassword,
} from '../../src/testing/browser.js';
import { addConsoleUser } from '../../src/testing/console-session.js';
import { startFakePushService, type FakePushService } from '../../src/testing/fake-push.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../../src/testing/harness.js';
import { freePort } from '../../src/testing/network.js';

/**
 * Signing out of a browser that gets the person's pages (a shared NOC screen): the console asks whether to
 * stop them there. Stopping removes the device before the session ends, so the next alert is pushed to it
 * no more; keeping leaves it paged; a browser with no device of the signed-in person's signs out without
 * asking. Headless Chromium can not reach a real push service, so the page's PushManager hands out a
 * subscription of the local push service (fake-push.ts): everything else, from the devices page's button
 * to Vigil's push, is the real thing. Screenshots: test-artifacts/screenshots/sign-out-push-*.png.
 */

const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };
const STOP = 'Sign out and stop pages here';
const KEEP = 'Sign out, keep pages here';
// Where the page's stand-in PushManager keeps whether it is subscribed (across reloads, as a browser does).
const SUBSCRIBED = 'test.fakePushSubscribed';

let server: TestServer;
let push: FakePushService;
let browser: Browser;
let publicKey: string;

function call(method: string, path: string, body?: unknown): Promise<Json> {
  return server.callOk(method, path, body);
}

async function devicesOfAdmin(): Promise<{ id: string; deviceName: string }[]> {
  return (await call('GET', '/api/console/push/subscriptions')).data;
}

async function removeAllDevices(): Promise<void> {
  for (const d of await devicesOfAdmin()) await call('DELETE', `/api/console/push/subscriptions/${d.id}`);
}

/**
 * A desktop page whose browser subscribes at the local push service: pushManager.subscribe() gives
 * `endpoint`'s subscription (made for Vigil's key), getSubscription() gives it while subscribed, and its
 * unsubscribe() ends it. The endpoint.
 */
async function pageWithPush(): Promise<{ context: BrowserContext; page: Page; endpoint: string }> {
  const sub = push.newSubscription({ applicationServerKey: publicKey });
  const { context, page } = await newPage(browser, DESKTOP);
  await context.grantPermissions(['notifications'], { origin: server.url });
  await context.addInitScript(`(() => {
    if (typeof PushManager === 'undefined') return;
    const sub = ${JSON.stringify(sub)};
    const key = ${JSON.stringify(publicKey)}.replace(/-/g, '+').replace(/_/g, '/');
    const keyBytes = Uint8Array.from(atob(key + '='.repeat((4 - (key.length % 4)) % 4)), (c) => c.charCodeAt(0));
    const flag = ${JSON.stringify(SUBSCRIBED)};
    const subscription = () => ({
      endpoint: sub.endpoint,
      expirationTime: null,
      options: { userVisibleOnly: true, applicationServerKey: keyBytes.buffer },
      toJSON: () => ({ endpoint: sub.endpoint, expirationTime: null, keys: sub.keys }),
      unsubscribe: async () => (localStorage.removeItem(flag), true),
    });
    PushManager.prototype.getSubscription = async () => (localStorage.getItem(flag) ? subscription() : null);
    PushManager.prototype.subscribe = async () => (localStorage.setItem(flag, '1'), subscription());
  })()`);
  return { context, page, endpoint: sub.endpoint };
}

/** Turns notifications on through the devices page, as a person does; the device's id. */
async function turnOnNotifications(page: Page, deviceName: string): Promise<string> {
  await page.getByRole('link', { name: 'Notifications on this device' }).click();
  await page.getByRole('textbox', { name: /^Device name/ }).fill(deviceName);
  await page.getByRole('button', { name: 'Turn on notifications on this device' }).click();
  await page.getByText('Notifications are on for this device').waitFor();
  const stored = (await page.evaluate("localStorage.getItem('vigil.push.thisDevice')")) as string;
  return (JSON.parse(stored) as { id: string }).id;
}

/** What this browser still holds of a subscription: Vigil's note of its device, and the subscription. */
async function heldHere(page: Page): Promise<{ device: string | null; subscribed: string | null }> {
  return {
    device: (await page.evaluate("localStorage.getItem('vigil.push.thisDevice')")) as string | null,
    subscribed: (await page.evaluate(`localStorage.getItem(${JSON.stringify(SUBSCRIBED)})`)) as string | null,
  };
}

async function signedOut(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Sign in', exact: true }).waitFor();
  assert.equal(new URL(page.url()).pathname, '/sign-in');
}

/** A new P1 alert for the admin; its message as pushed. */
async function newAlert(what: string): Promise<string> {
  const message = `${what} ${randomUUID().slice(0, 8)}`;
  await call('POST', '/v2/alerts', {
    message,
    priority: 'P1',
    responders: [{ type: 'user', username: ADMIN.email }],
  });
  return `[P1] ${message}`;
}

function pushed(endpoint: string, title: string): Promise<unknown> {
  return waitFor(
    `the push of ${title}`,
    async () => push.received(endpoint).find((p) => (p.json as Json)?.title === title),
    30_000,
  );
}

before(async () => {
  await requireChromium();
  push = await startFakePushService();
  const port = await freePort();
  server = await startTestServer({
    env: {
      PORT: String(port),
      VIGIL_PUBLIC_URL: `http://127.0.0.1:${port}`,
      VIGIL_BOOTSTRAP_ADMIN_EMAIL: ADMIN.email,
      VIGIL_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password,
      // The local push service.
      VIGIL_PUSH_SERVICE_HOSTS: '127.0.0.1',
    },
    engineIntervalMs: 100,
  });
  publicKey = (await call('GET', '/api/console/push/key')).publicKey;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  await push?.close();
});

describe('signing out of a browser that gets your pages', () => {
  it('asks, and stopping removes the device before signing out: the next alert is not pushed there', async () => {
    await removeAllDevices();
    const { context, page, endpoint } = await pageWithPush();
    try {
      await signInWithPassword(page, server.url, ADMIN.email, ADMIN.password);
      const id = await turnOnNotifications(page, 'NOC screen');
      assert.ok((await devicesOfAdmin()).some((d) => d.id === id));

      // From the alert list, as someone leaving a NOC screen does.
      await page.getByRole('link', { name: 'Alerts', exact: true }).click();
      await page.getByRole('heading', { name: 'Alerts' }).waitFor();
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      const question = page.getByRole('dialog', { name: 'Stop your pages on this browser?' });
      await question.waitFor();
      assert.match((await question.textContent()) ?? '', /“NOC screen”/);
      // The safe answer is the one Enter gives.
      assert.equal(await page.evaluate('document.activeElement?.textContent'), STOP);
      assert.deepEqual(await accessibilityProblems(page), [], 'axe on the question');
      await screenshot(page, 'sign-out-push-question');
      await page.keyboard.press('Enter');
      await signedOut(page);

      assert.ok(!(await devicesOfAdmin()).some((d) => d.id === id), 'the device is still listed');
      assert.deepEqual(await heldHere(page), { device: null, subscribed: null });

      // Another device of the admin's, added now, is paged: when its push has come, this browser's would have.
      const phone = push.newSubscription({ applicationServerKey: publicKey });
      await call('POST', '/api/console/push/subscriptions', { ...phone, deviceName: 'Phone' });
      const title = await newAlert('After sign-out');
      await pushed(phone.endpoint, title);
      assert.deepEqual(push.received(endpoint), []);
    } finally {
      await context.close();
    }
  });

  it('keeps the device paged when asked to; the next person signs out without the question', async () => {
    await removeAllDevices();
    const { context, page, endpoint } = await pageWithPush();
    try {
      await signInWithPassword(page, server.url, ADMIN.email, ADMIN.password);
      const id = await turnOnNotifications(page, 'Own laptop');

      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await page
        .getByRole('dialog', { name: 'Stop your pages on this browser?' })
        .getByRole('button', { name: KEEP })
        .click();
      await signedOut(page);
      assert.ok(
        (await devicesOfAdmin()).some((d) => d.id === id),
        'the device is gone',
      );
      assert.equal((await heldHere(page)).subscribed, '1');
      const title = await newAlert('Kept');
      await pushed(endpoint, title);

      // Someone else on this browser: the device here is not theirs, so nothing is asked, and it stays.
      const other = { email: 'bo@example.com', fullName: 'Bo Other', password: 'another long passphrase' };
      await addConsoleUser(server, { ...other, role: 'User' });
      await signInWithPassword(page, server.url, other.email, other.password);
      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await signedOut(page);
      assert.equal(await page.getByRole('dialog').count(), 0);
      assert.ok(
        (await devicesOfAdmin()).some((d) => d.id === id),
        'the device is gone',
      );
    } finally {
      await context.close();
    }
  });

  it('ends the subscription here even when the role may not remove a device', async () => {
    const role = `No contacts ${randomUUID().slice(0, 8)}`;
    const roleId = (await call('POST', '/v2/roles', { name: role, extendedRole: 'user' })).data.id as string;
    const person = { email: 'cy@example.com', fullName: 'Cy Fixed', password: 'a third long passphrase' };
    await addConsoleUser(server, { ...person, role });
    const { context, page } = await pageWithPush();
    try {
      await signInWithPassword(page, server.url, person.email, person.password);
      await turnOnNotifications(page, 'Shared desk');
      // Their role changes: a device is a contact method, which they may no longer remove.
      await call('PUT', `/v2/roles/${roleId}?identifierType=id`, {
        name: role,
        extendedRole: 'user',
        disallowedRights: ['contacts-edit'],
      });

      await page.getByRole('button', { name: 'Sign out', exact: true }).click();
      await page
        .getByRole('dialog', { name: 'Stop your pages on this browser?' })
        .getByRole('button', { name: STOP })
        .click();
      await signedOut(page);
      // The push service answers Vigil's next push with 410, and Vigil forgets the device then.
      assert.deepEqual(await heldHere(page), { device: null, subscribed: null });
    } finally {
      await context.close();
    }
  });
});
