import { ApiError } from '../api/client';
import { pushApi, type PushDevice } from '../api/push';
import { existingRegistration, serviceWorkerReady } from './service-worker';

/** Turning Web Push on for this browser: what it supports, the subscription, and which device it is. */

export type PushSupport = 'supported' | 'ios-needs-home-screen' | 'unsupported';

/** Why turning notifications on stopped before Vigil was told: the page words each kind for people. */
export class PushSetupError extends Error {
  constructor(
    readonly kind:
      'unsupported' | 'ios-needs-home-screen' | 'denied' | 'dismissed' | 'push-refused' | 'push-service',
    message: string,
  ) {
    super(message);
    this.name = 'PushSetupError';
  }
}

export function isAppleMobile(ua = navigator.userAgent): boolean {
  // iPadOS presents itself as a Mac; its touch screen tells them apart.
  return /iPhone|iPad|iPod/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1);
}

function isStandalone(): boolean {
  return (
    window.matchMedia('(display-mode: standalone)').matches ||
    (navigator as Navigator & { standalone?: boolean }).standalone === true
  );
}

export function pushSupport(): PushSupport {
  const supported =
    'serviceWorker' in navigator &&
    'PushManager' in window &&
    'Notification' in window &&
    window.isSecureContext;
  if (supported) return 'supported';
  // Safari on iPhone and iPad offers Web Push only to a site added to the Home Screen (iOS 16.4+).
  return isAppleMobile() && !isStandalone() ? 'ios-needs-home-screen' : 'unsupported';
}

/** "Chrome on Android", "Safari on iPhone": a name the person recognises in the list of devices. */
export function deviceNameFrom(ua: string, touchMac = false): string {
  const browser = /Edg(A|iOS)?\//.test(ua)
    ? 'Edge'
    : /OPR\/|Opera/.test(ua)
      ? 'Opera'
      : /SamsungBrowser\//.test(ua)
        ? 'Samsung Internet'
        : /Firefox\/|FxiOS\//.test(ua)
          ? 'Firefox'
          : /Chrome\/|CriOS\/|Chromium\//.test(ua)
            ? 'Chrome'
            : /Safari\//.test(ua)
              ? 'Safari'
              : 'Browser';
  const os = /iPhone|iPod/.test(ua)
    ? 'iPhone'
    : /iPad/.test(ua) || (/Macintosh/.test(ua) && touchMac)
      ? 'iPad'
      : /Android/.test(ua)
        ? 'Android'
        : /CrOS/.test(ua)
          ? 'ChromeOS'
          : /Windows/.test(ua)
            ? 'Windows'
            : /Macintosh|Mac OS X/.test(ua)
              ? 'Mac'
              : /Linux/.test(ua)
                ? 'Linux'
                : '';
  return os ? `${browser} on ${os}` : browser;
}

export function defaultDeviceName(): string {
  return deviceNameFrom(navigator.userAgent, navigator.maxTouchPoints > 1);
}

// Which of the listed devices is this browser: the list does not give endpoints, so the id Vigil answered
// with is kept beside the endpoint it was for.
const THIS_DEVICE = 'vigil.push.thisDevice';

interface ThisDevice {
  id: string;
  endpoint: string;
}

function storedDevice(): ThisDevice | undefined {
  try {
    const parsed = JSON.parse(localStorage.getItem(THIS_DEVICE) ?? 'null') as ThisDevice | null;
    return parsed && typeof parsed.id === 'string' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** This browser's current push subscription, if it has one. */
export async function currentSubscription(): Promise<PushSubscription | null> {
  if (pushSupport() !== 'supported') return null;
  const registration = await existingRegistration();
  return (await registration?.pushManager.getSubscription()) ?? null;
}

/**
 * The id of the listed device that is this browser, while it has a subscription. Not only the one it was
 * made with: the service worker renews a subscription the push service ends (sw.js resubscribe), and
 * Vigil moves the device to the new endpoint under the same id, which the worker cannot tell this page's
 * storage. Callers hold the id to the person's own devices (a browser taken over since is not theirs).
 */
export async function thisDeviceId(): Promise<string | null> {
  const stored = storedDevice();
  if (!stored) return null;
  return (await currentSubscription()) ? stored.id : null;
}

function keyBytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function sameKey(a: ArrayBuffer | null | undefined, b: Uint8Array): boolean {
  if (!a || a.byteLength !== b.byteLength) return false;
  const bytes = new Uint8Array(a);
  return bytes.every((byte, i) => byte === b[i]);
}

/**
 * Asks for permission (call it from a click: browsers refuse the prompt otherwise), subscribes this browser
 * at its push service with Vigil's key, and gives Vigil the subscription under `deviceName`.
 */
export async function turnOnPush(deviceName: string): Promise<PushDevice> {
  const support = pushSupport();
  if (support !== 'supported') throw new PushSetupError(support, 'Web Push is not available here.');
  const permission = await Notification.requestPermission();
  if (permission === 'denied') throw new PushSetupError('denied', 'Notifications are blocked for this site.');
  if (permission !== 'granted') throw new PushSetupError('dismissed', 'The permission prompt was closed.');

  const [publicKey, registration] = await Promise.all([pushApi.publicKey(), serviceWorkerReady()]);
  const key = keyBytes(publicKey);
  let subscription = await registration.pushManager.getSubscription();
  // A subscription made with another key (Vigil's key was replaced) can not be reused, nor subscribed over.
  if (subscription && !sameKey(subscription.options.applicationServerKey, key)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  if (!subscription) {
    try {
      subscription = await registration.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: key,
      });
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      // Refused with notifications allowed: the browser itself turned push off (a private window, headless
      // Chromium, Brave without Google's push service). Otherwise its push service failed or was unreachable.
      // Chromium words the latter as an AbortError saying "permission denied".
      const refused =
        (error instanceof DOMException && error.name === 'NotAllowedError') ||
        /permission denied/i.test(message);
      throw new PushSetupError(refused ? 'push-refused' : 'push-service', message);
    }
  }

  const json = subscription.toJSON();
  const device = await pushApi.subscribe({
    endpoint: json.endpoint ?? subscription.endpoint,
    expirationTime: json.expirationTime ?? null,
    keys: { p256dh: json.keys?.p256dh ?? '', auth: json.keys?.auth ?? '' },
    deviceName,
  });
  localStorage.setItem(THIS_DEVICE, JSON.stringify({ id: device.id, endpoint: subscription.endpoint }));
  // The service worker renews the subscription when the push service replaces it, under this name: it
  // can not read localStorage, so the name goes where it can read it.
  try {
    await (await caches.open('vigil-device')).put('/vigil-device-name', new Response(device.deviceName));
  } catch {
    // No Cache Storage (a private window): a renewed subscription gets Vigil's default name.
  }
  return device;
}

/** Forgets this browser's device here, and ends its subscription at the push service. */
async function endSubscriptionHere(): Promise<void> {
  localStorage.removeItem(THIS_DEVICE);
  try {
    await (await currentSubscription())?.unsubscribe();
  } catch (error) {
    // Vigil no longer sends to it: a subscription left at the push service is harmless.
    console.warn('Could not end the push subscription', error);
  }
}

/** Removes a device from Vigil; when it is this browser, also ends the subscription at the push service. */
export async function removeDevice(id: string): Promise<void> {
  const mine = (await thisDeviceId()) === id;
  await pushApi.remove(id);
  if (mine) await endSubscriptionHere();
}

/**
 * Stops pages on this browser, whose device is `id` (signing out of a shared browser): removes the device
 * from Vigil as removeDevice does. When Vigil refuses (a role without contacts-edit may not remove a
 * device) or no longer has it, the subscription still ends here: the push service then answers Vigil's
 * next push with 410, and Vigil forgets the device.
 */
export async function stopPushHere(id: string): Promise<void> {
  try {
    await pushApi.remove(id);
  } catch (error) {
    if (!(error instanceof ApiError && (error.status === 403 || error.status === 404))) throw error;
  }
  await endSubscriptionHere();
}
