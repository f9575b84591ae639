// Vigil's service worker: it shows what Vigil pushes to this device, and acts on the notification's buttons.
// It caches nothing: the console needs the server anyway, and a stale console is worse than none.
importScripts('/sw-actions.js');

const { notificationOf, clickPlan, headingOf, keyBytes } = self.vigilPush;

// A new version takes over at once: there is no cached state for an old one to keep consistent.
self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

async function show(d) {
  const { title, options } = notificationOf(d);
  await self.registration.showNotification(title, options);
}

async function openPage(href) {
  const target = new URL(href);
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const open = windows.find((c) => new URL(c.url).origin === target.origin);
  if (open) {
    try {
      const focused = (await open.focus()) || open;
      await focused.navigate(target.href);
      return;
    } catch {
      // A window this worker does not control can not be navigated: a new one below.
    }
  }
  await self.clients.openWindow(target.href);
}

async function click(notification, action) {
  const d = notification.data || {};
  notification.close();
  const plan = clickPlan(d, action, self.location.origin);
  if (plan.open) return openPage(plan.open);

  let title = plan.failed;
  let body;
  try {
    const response = await fetch(plan.post, { method: 'POST', credentials: 'omit', mode: plan.mode });
    if (response.type === 'opaque') {
      // Its status is hidden: an expired link or a refusal looks the same as success.
      title = plan.sent;
      body = "Vigil's answer could not be read here. Tap to open the alert and check.";
    } else {
      const said = headingOf(await response.text());
      if (response.ok) title = plan.done;
      body = said || `Vigil answered ${response.status}.`;
    }
  } catch (error) {
    const reason = error && error.message;
    if (plan.mode === 'cors') {
      // A network failure and an answer this origin may not read fail alike: the POST may have acted.
      title = plan.unconfirmed;
      body = `Vigil could not be reached, or its answer could not be read (${reason}). Tap to open the alert and check.`;
    } else {
      body = `Vigil could not be reached (${reason}). Tap to open the alert.`;
    }
  }
  // Tapping the confirmation opens the alert (its data has the url, no actions).
  await self.registration.showNotification(title, {
    body,
    tag: d.alertId,
    icon: '/icon-192.png',
    data: { url: d.url },
  });
}

self.addEventListener('push', (event) => {
  let d = null;
  try {
    d = event.data ? event.data.json() : null;
  } catch {
    // Not JSON: still show something, or the browser shows its own notice and may end the subscription.
  }
  event.waitUntil(show(d));
});

self.addEventListener('notificationclick', (event) => {
  event.waitUntil(click(event.notification, event.action));
});

// Where the person's edited device name is kept for resubscribing: the worker can not read localStorage.
const DEVICE_NAME = new Request('/vigil-device-name');

/**
 * The push service replaced or expired the subscription: subscribe again and tell Vigil, as the console's
 * page would. Best effort: it needs a console session in this browser (for the key and the CSRF token),
 * and a device left unsubscribed shows as gone on the devices page, where it can be turned on again.
 */
async function resubscribe(event) {
  try {
    const key = await (await fetch('/api/console/push/key', { credentials: 'same-origin' })).json();
    const subscription =
      event.newSubscription ||
      (await self.registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(key.publicKey),
      }));
    const session = await (await fetch('/api/console/session', { credentials: 'same-origin' })).json();
    const stored = await (await caches.open('vigil-device')).match(DEVICE_NAME);
    const deviceName = stored ? await stored.text() : undefined;
    const response = await fetch('/api/console/push/subscriptions', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken || '' },
      // The old endpoint lets Vigil move this device to the new one (its contact and rule steps kept),
      // even for a person who may not add devices; the old one would soon be gone and take them with it.
      body: JSON.stringify({
        ...subscription.toJSON(),
        deviceName,
        oldEndpoint: event.oldSubscription?.endpoint,
      }),
    });
    if (!response.ok) console.warn(`Vigil refused the renewed push subscription: ${response.status}`);
  } catch (error) {
    console.warn('Could not renew the push subscription', error);
  }
}

self.addEventListener('pushsubscriptionchange', (event) => event.waitUntil(resubscribe(event)));

// For the console's browser test, which can not dispatch the browser's own (trusted) push and click events.
self.vigilWorker = { show, click };
