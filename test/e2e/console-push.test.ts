import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { Browser, BrowserContext, Page, Worker } from 'playwright-core';
import {
  accessibilityProblems,
  colorSchemeSetWhile,
  cspViolations,
  DESKTOP,
  launchBrowser,
  newPage,
  PHONE,
  requireChromium,
  screenshot,
  scrollsSideways,
  signInWithPassword,
} from '../../src/testing/browser.js';
import { startFakePushService, type FakePushService } from '../../src/testing/fake-push.js';
import { startTestServer, waitFor, type Json, type TestServer } from '../../src/testing/harness.js';
import { freePort } from '../../src/testing/network.js';

/**
 * The browser half of Web Push in a real browser (Debian's Chromium) against the real server: the service
 * worker registers at scope `/`; the devices page (axe, a phone's width, the dark scheme) and its plain-words
 * error when the push service can not be reached (headless Chromium here can not reach Google's, so a real
 * pushManager.subscribe() fails: that failure is what is tested); a device subscribed through the API
 * (a subscription from the fake push service) listed and removed; and the service worker's own code
 * showing a real push's payload and acting on its Acknowledge button. Screenshots:
 * test-artifacts/screenshots/push-*.png.
 */

const ADMIN = { email: 'admin@example.com', password: 'correct horse battery staple' };

let server: TestServer;
let push: FakePushService;
let browser: Browser;
let publicKey: string;

function call(method: string, path: string, body?: unknown): Promise<Json> {
  return server.callOk(method, path, body);
}

function signIn(page: Page): Promise<void> {
  return signInWithPassword(page, server.url, ADMIN.email, ADMIN.password);
}

/** The console's service worker, once it is active (the console registers it on start). */
async function activeWorker(context: BrowserContext, page: Page): Promise<Worker> {
  const scope = (await page.evaluate(
    'navigator.serviceWorker.ready.then((r) => r.active && r.scope)',
  )) as string;
  assert.equal(scope, `${server.url}/`);
  const worker = context.serviceWorkers().find((w) => w.url() === `${server.url}/sw.js`);
  return worker ?? (await context.waitForEvent('serviceworker'));
}

async function devicesOfAdmin(): Promise<{ id: string; deviceName: string }[]> {
  return (await call('GET', '/api/console/push/subscriptions')).data;
}

async function removeAllDevices(): Promise<void> {
  for (const d of await devicesOfAdmin()) await call('DELETE', `/api/console/push/subscriptions/${d.id}`);
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

/** A P1 alert for the admin, pushed to their one (new) device: its message and the push's payload. */
async function pushedAlert(what: string): Promise<{ message: string; payload: Json }> {
  await removeAllDevices();
  const sub = push.newSubscription({ applicationServerKey: publicKey });
  await call('POST', '/api/console/push/subscriptions', { ...sub, deviceName: 'Fake device' });
  const message = `${what} ${randomUUID().slice(0, 8)}`;
  await call('POST', '/v2/alerts', {
    message,
    priority: 'P1',
    responders: [{ type: 'user', username: ADMIN.email }],
  });
  const received = await waitFor(
    'the push',
    async () => push.received(sub.endpoint).find((p) => (p.json as Json)?.title === `[P1] ${message}`),
    30_000,
  );
  return { message, payload: received.json as Json };
}

describe('Web Push in the console', () => {
  it('registers the service worker at scope / and offers an installable app', async () => {
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signIn(page);
      const worker = await activeWorker(context, page);
      assert.equal(worker.url(), `${server.url}/sw.js`);
      // The worker's decisions are loaded in it.
      assert.equal(await worker.evaluate('typeof self.vigilPush.clickPlan'), 'function');

      const manifest = (await (await fetch(`${server.url}/manifest.webmanifest`)).json()) as Json;
      assert.equal(manifest.display, 'standalone');
      assert.equal(manifest.scope, '/');
      assert.equal(manifest.start_url, '/alerts');
      assert.ok(manifest.icons.some((i: Json) => i.sizes === '192x192' && i.type === 'image/png'));
      assert.ok(manifest.icons.some((i: Json) => i.sizes === '512x512' && i.type === 'image/png'));
      const sw = await fetch(`${server.url}/sw.js`);
      assert.match(sw.headers.get('content-type') ?? '', /javascript/);
      assert.equal(sw.headers.get('cache-control'), 'no-cache');
    } finally {
      await context.close();
    }
  });

  it('shows the devices page at a phone’s width, and says in plain words why subscribing failed', async () => {
    await removeAllDevices();
    const { context, page } = await newPage(browser, PHONE);
    try {
      await context.grantPermissions(['notifications'], { origin: server.url });
      await signIn(page);
      // Reached from the header, which still fits at 390 px.
      assert.equal(await scrollsSideways(page), false, 'the header scrolls sideways');
      await page.getByRole('link', { name: 'Notifications on this device' }).click();
      await page.getByRole('heading', { level: 1, name: 'Notifications on this device' }).waitFor();
      await page.getByText('No device gets your notifications yet.').waitFor();
      await page.waitForLoadState('networkidle');
      assert.equal(await scrollsSideways(page), false, 'the devices page scrolls sideways');
      assert.deepEqual(await accessibilityProblems(page), [], 'axe on the devices page');
      await screenshot(page, 'push-phone-devices');

      const name = page.getByRole('textbox', { name: /^Device name/ });
      assert.match(await name.inputValue(), /^Chrome on /);
      await name.fill('Test phone');
      await page.getByRole('button', { name: 'Turn on notifications on this device' }).click();
      const problem = page
        .getByRole('alert')
        .filter({ hasText: 'This browser could not subscribe to push messages' });
      await problem.waitFor({ timeout: 30_000 });
      assert.match((await problem.textContent()) ?? '', /said: “.+”/);
      assert.equal(await scrollsSideways(page), false, 'the error scrolls sideways');
      assert.deepEqual(await accessibilityProblems(page), [], 'axe with the error shown');
      await screenshot(page, 'push-phone-devices-push-service-error');
      // Nothing reached Vigil.
      assert.deepEqual(await devicesOfAdmin(), []);

      // The dark scheme.
      await page.evaluate("localStorage.setItem('mantine-color-scheme-value', 'dark')");
      await page.reload();
      await page.getByRole('heading', { level: 1, name: 'Notifications on this device' }).waitFor();
      await page.waitForLoadState('networkidle');
      assert.equal(
        await page.evaluate("document.documentElement.getAttribute('data-mantine-color-scheme')"),
        'dark',
      );
      // By the page's inline script, allowed by its hash: before the console's code, with no refusal.
      assert.equal(await colorSchemeSetWhile(page), 'loading');
      assert.deepEqual(await cspViolations(page), []);
      assert.deepEqual(await accessibilityProblems(page), [], 'axe on the devices page, dark');
      await screenshot(page, 'push-phone-devices-dark');
    } finally {
      await context.close();
    }
  });

  it('says notifications are blocked, and how to allow them, when the permission is denied', async () => {
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await signIn(page);
      // Playwright can not deny a permission: the page sees what the browser says when it was denied.
      await page.addInitScript(
        "Object.defineProperty(Notification, 'permission', { get: () => 'denied' });" +
          "Notification.requestPermission = () => Promise.resolve('denied');",
      );
      await page.goto(`${server.url}/settings/devices`);
      await page.getByRole('button', { name: 'Turn on notifications on this device' }).click();
      const problem = page.getByRole('alert').filter({ hasText: 'Notifications are blocked for this site' });
      await problem.waitFor();
      assert.match((await problem.textContent()) ?? '', /Site settings → Notifications → Allow/);
      await screenshot(page, 'push-desktop-devices-denied');
    } finally {
      await context.close();
    }
  });

  it('lists a device subscribed through the API, and removes it', async () => {
    await removeAllDevices();
    const sub = push.newSubscription({ applicationServerKey: publicKey });
    const made = await call('POST', '/api/console/push/subscriptions', { ...sub, deviceName: 'Ada’s Pixel' });
    const { context, page } = await newPage(browser, PHONE);
    try {
      await signIn(page);
      await page.goto(`${server.url}/settings/devices`);
      const item = page.getByRole('listitem').filter({ hasText: 'Ada’s Pixel' });
      await item.waitFor();
      const text = (await item.textContent()) ?? '';
      assert.match(text, new RegExp(`Through ${new URL(push.url).host.replace(/\./g, '\\.')}`));
      assert.match(text, /Last push never/);
      assert.doesNotMatch(text, /This device/);
      assert.equal(await scrollsSideways(page), false);
      assert.deepEqual(await accessibilityProblems(page), [], 'axe on the list of devices');
      await screenshot(page, 'push-phone-devices-listed');

      await page.getByRole('button', { name: 'Remove Ada’s Pixel' }).click();
      await page.getByText('No device gets your notifications yet.').waitFor();
      assert.ok(!(await devicesOfAdmin()).some((d) => d.id === made.id));
    } finally {
      await context.close();
    }
  });

  it('decides each click: Acknowledge and Close POST their links, a tap opens the alert', async () => {
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await page.goto(`${server.url}/sign-in`);
      await page.addScriptTag({ url: '/sw-actions.js' });
      const d = {
        title: '[P1] Disk full',
        body: 'prometheus · db-1',
        kind: 'create-alert',
        priority: 'P1',
        alertId: 'a1',
        tinyId: '7',
        url: `${server.url}/alerts/a1`,
        actions: {
          acknowledge: `${server.url}/v1/alert-actions/ack`,
          close: `${server.url}/v1/alert-actions/close`,
        },
      };
      const plan = (action: string, payload: unknown = d) =>
        page.evaluate(
          `self.vigilPush.clickPlan(${JSON.stringify(payload)}, ${JSON.stringify(action)}, location.origin)`,
        );
      assert.deepEqual(await plan('acknowledge'), {
        post: d.actions.acknowledge,
        mode: 'same-origin',
        done: 'Acknowledged: [P1] Disk full',
        failed: 'Could not acknowledge: [P1] Disk full',
        sent: 'Sent — open Vigil to confirm: [P1] Disk full',
        unconfirmed: 'Not confirmed: [P1] Disk full',
      });
      // VIGIL_PUBLIC_URL on another host than the console's: a CORS request, whose answer Vigil lets it read.
      const elsewhere = 'https://vigil.example.com/v1/alert-actions/ack';
      assert.equal(
        ((await plan('acknowledge', { ...d, actions: { acknowledge: elsewhere } })) as Json).mode,
        'cors',
      );
      assert.equal(((await plan('close')) as Json).post, d.actions.close);
      assert.deepEqual(await plan(''), { open: d.url });
      // An update without buttons (the alert was closed): a tap, or a stale button, opens the alert.
      assert.deepEqual(await plan('acknowledge', { ...d, actions: {} }), { open: d.url });
      const shown = (await page.evaluate(`self.vigilPush.notificationOf(${JSON.stringify(d)})`)) as Json;
      assert.equal(shown.title, d.title);
      assert.equal(shown.options.tag, 'a1');
      assert.equal(shown.options.requireInteraction, true);
      assert.deepEqual(shown.options.actions, [
        { action: 'acknowledge', title: 'Acknowledge' },
        { action: 'close', title: 'Close' },
      ]);
      const update = (await page.evaluate(
        `self.vigilPush.notificationOf(${JSON.stringify({ ...d, kind: 'acknowledged-alert', actions: { close: d.actions.close } })})`,
      )) as Json;
      assert.equal(update.options.requireInteraction, false);
      assert.deepEqual(update.options.actions, [{ action: 'close', title: 'Close' }]);
      assert.equal(
        await page.evaluate(
          `self.vigilPush.headingOf('<p>x</p><h1 style="a">Alert #7 acknowledged by Ada &amp; co.</h1>')`,
        ),
        'Alert #7 acknowledged by Ada & co.',
      );
    } finally {
      await context.close();
    }
  });

  it('shows a real push in the service worker, and its Acknowledge button acknowledges the alert', async () => {
    const { message, payload } = await pushedAlert('Disk full');
    assert.match(payload.actions.acknowledge, /\/v1\/alert-actions\//);
    assert.equal((await call('GET', `/v2/alerts/${payload.alertId}`)).data.acknowledged, false);

    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await context.grantPermissions(['notifications'], { origin: server.url });
      await signIn(page);
      const worker = await activeWorker(context, page);
      // The browser's own push and click events can not be dispatched from outside: the worker's handlers
      // are called with what those events would carry.
      await worker.evaluate(`self.vigilWorker.show(${JSON.stringify(payload)})`);
      const notes = (await worker.evaluate(
        'self.registration.getNotifications().then((ns) => ns.map((n) => ({ title: n.title, tag: n.tag, requireInteraction: n.requireInteraction, actions: n.actions.map((a) => a.action) })))',
      )) as Json[];
      assert.deepEqual(notes, [
        {
          title: `[P1] ${message}`,
          tag: payload.alertId,
          requireInteraction: true,
          actions: ['acknowledge', 'close'],
        },
      ]);

      await worker.evaluate(
        'self.registration.getNotifications().then(([n]) => self.vigilWorker.click(n, "acknowledge"))',
      );
      assert.equal((await call('GET', `/v2/alerts/${payload.alertId}`)).data.acknowledged, true);
      const after = (await worker.evaluate(
        'self.registration.getNotifications().then((ns) => ns.map((n) => ({ title: n.title, body: n.body })))',
      )) as Json[];
      assert.equal(after.length, 1, JSON.stringify(after));
      assert.equal(after[0].title, `Acknowledged: [P1] ${message}`);
      assert.match(after[0].body, /acknowledged by/);
    } finally {
      await context.close();
    }
  });

  it("says what Vigil answered a button from another origin than the console's", async () => {
    const { message, payload } = await pushedAlert('Elsewhere');
    // The console is at 127.0.0.1, the links name localhost: another origin, the same server.
    const elsewhere = (payload.actions.acknowledge as string).replace('//127.0.0.1:', '//localhost:');
    assert.notEqual(new URL(elsewhere).origin, new URL(server.url).origin);
    const tampered = `${elsewhere.slice(0, -4)}AAAA`;

    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await context.grantPermissions(['notifications'], { origin: server.url });
      await signIn(page);
      const worker = await activeWorker(context, page);
      const press = async (link: string): Promise<Json> => {
        const d = { ...payload, actions: { acknowledge: link } };
        await worker.evaluate(`self.vigilWorker.show(${JSON.stringify(d)})`);
        await worker.evaluate(
          'self.registration.getNotifications().then(([n]) => self.vigilWorker.click(n, "acknowledge"))',
        );
        const notes = (await worker.evaluate(
          'self.registration.getNotifications().then((ns) => ns.map((n) => ({ title: n.title, body: n.body })))',
        )) as Json[];
        assert.equal(notes.length, 1, JSON.stringify(notes));
        return notes[0];
      };

      // Refused (a link cut short or changed, an expired one alike): not reported as done.
      const refused = await press(tampered);
      assert.equal(refused.title, `Could not acknowledge: [P1] ${message}`);
      assert.match(refused.body, /not valid/);
      assert.equal((await call('GET', `/v2/alerts/${payload.alertId}`)).data.acknowledged, false);

      const acked = await press(elsewhere);
      assert.equal(acked.title, `Acknowledged: [P1] ${message}`);
      assert.match(acked.body, /acknowledged by/);
      assert.equal((await call('GET', `/v2/alerts/${payload.alertId}`)).data.acknowledged, true);
    } finally {
      await context.close();
    }
  });

  it('shows a test message, which is about no alert', async () => {
    const { context, page } = await newPage(browser, DESKTOP);
    try {
      await context.grantPermissions(['notifications'], { origin: server.url });
      await signIn(page);
      const worker = await activeWorker(context, page);
      // What the push channel sends for a notice such as the devices page's test (no alertId, no buttons).
      const notice = {
        title: 'Vigil test message',
        body: 'This device gets your Vigil notifications.',
        kind: 'notice',
        url: server.url,
        actions: {},
      };
      const shown = await worker.evaluate(
        `self.vigilWorker.show(${JSON.stringify(notice)}).then(() => 'shown', (e) => String(e))`,
      );
      assert.equal(shown, 'shown');
      const notes = (await worker.evaluate(
        'self.registration.getNotifications().then((ns) => ns.map((n) => ({ title: n.title, body: n.body })))',
      )) as Json[];
      assert.ok(
        notes.some((n) => n.title === notice.title && n.body === notice.body),
        JSON.stringify(notes),
      );
    } finally {
      await context.close();
    }
  });
});
