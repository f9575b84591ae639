/**
 * The service worker (web/public/sw.js) shows Vigil's pushes and acts on their buttons. Registered on every
 * start of a production build, so that a device subscribed once keeps a current worker; in development
 * (Vite's server) only when someone turns notifications on, so hot reload is not served by a stale worker.
 */

const SCRIPT = '/sw.js';

function register(): Promise<ServiceWorkerRegistration> {
  // updateViaCache 'none': sw.js and the file it imports are checked on every update, never taken from the
  // HTTP cache, so a fix to them reaches devices with the next page load.
  return navigator.serviceWorker.register(SCRIPT, { scope: '/', updateViaCache: 'none' });
}

export function registerServiceWorker(): void {
  if (!('serviceWorker' in navigator)) return;
  register().catch((error: unknown) => console.warn('The service worker could not be registered', error));
}

/** The active registration, registering the worker first if it is not yet. */
export async function serviceWorkerReady(): Promise<ServiceWorkerRegistration> {
  await register();
  return navigator.serviceWorker.ready;
}

/** The registration if there is one already (never waits for one that will not come). */
export async function existingRegistration(): Promise<ServiceWorkerRegistration | undefined> {
  if (!('serviceWorker' in navigator)) return undefined;
  return navigator.serviceWorker.getRegistration('/');
}
