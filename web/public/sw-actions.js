// The service worker's decisions (what a push shows, what a tap does), without side effects: sw.js loads
// this file with importScripts, and the console's browser test loads it in a page to check them
// (test/e2e/console-push.test.ts). A classic script rather than a module: importScripts works in every
// browser with Web Push; module service workers came later to some of them.
(function (scope) {
  const VERBS = {
    acknowledge: { button: 'Acknowledge', done: 'Acknowledged', failed: 'Could not acknowledge' },
    close: { button: 'Close', done: 'Closed', failed: 'Could not close' },
  };
  const ICON = '/icon-192.png';
  /** The kinds of push that take the place of an alert's page on screen (the page itself, or its end). */
  const REPLACES_PAGE = new Set(['create-alert', 'acknowledged-alert', 'closed-alert']);

  /** The notification for a push's payload (a payload that is not Vigil's still shows one: see sw.js). */
  function notificationOf(d) {
    if (!d || typeof d !== 'object' || typeof d.title !== 'string') {
      return { title: 'Vigil', options: { body: 'Open Vigil to see what changed.', icon: ICON, data: {} } };
    }
    const links = d.actions && typeof d.actions === 'object' ? d.actions : {};
    // One notification per alert: its acknowledgement or close replaces the page instead of piling up.
    // A note or an assignment gets a tag of its own: it must not replace a page still waiting for an
    // answer (it would take the page's title, and on desktop go away on its own), as it gets no Topic
    // from Vigil for the same reason. A push about no alert (a test message) gets no tag, nor renotify:
    // Chrome refuses renotify without a non-empty tag.
    const hasAlert = typeof d.alertId === 'string' && d.alertId !== '';
    const perAlert = hasAlert
      ? { tag: REPLACES_PAGE.has(d.kind) ? d.alertId : d.alertId + ':' + String(d.kind), renotify: true }
      : {};
    return {
      title: d.title,
      options: {
        body: typeof d.body === 'string' ? d.body : '',
        ...perAlert,
        // A new alert stays on screen until someone answers it; updates may go away on their own.
        requireInteraction: d.kind === 'create-alert',
        icon: ICON,
        badge: ICON,
        data: d,
        actions: Object.keys(VERBS)
          .filter((action) => typeof links[action] === 'string')
          .map((action) => ({ action, title: VERBS[action].button })),
      },
    };
  }

  /**
   * What a click does. A button POSTs its signed link: the token in it is the credential, so no cookie is
   * sent and none is needed. Anything else (a tap on the notification itself, which is all iOS offers, or a
   * button whose link the payload lacks) opens the alert's page.
   */
  function clickPlan(d, action, origin) {
    const data = d && typeof d === 'object' ? d : {};
    const link = action && VERBS[action] && data.actions ? data.actions[action] : undefined;
    if (typeof link === 'string') {
      const label = data.title || 'the alert';
      return {
        post: link,
        // Vigil's public URL may name another host than the one this console was opened at: Vigil's answer
        // to the POST allows any origin (without credentials: the token in the link is the credential), so
        // it is read there too.
        mode: new URL(link, origin).origin === origin ? 'same-origin' : 'cors',
        done: VERBS[action].done + ': ' + label,
        failed: VERBS[action].failed + ': ' + label,
        // The POST went, but its answer could not be read (opaque): it may have been refused (an expired
        // link, a blocked person), so no claim that it worked.
        sent: 'Sent — open Vigil to confirm: ' + label,
        // No answer that could be read from another origin: Vigil may or may not have acted.
        unconfirmed: 'Not confirmed: ' + label,
      };
    }
    return { open: new URL(typeof data.url === 'string' ? data.url : '/alerts', origin).href };
  }

  /** The first heading of the page a link answers with: Vigil's own words for what happened. */
  function headingOf(html) {
    const match = /<h1[^>]*>([\s\S]*?)<\/h1>/i.exec(html || '');
    if (!match) return '';
    return match[1]
      .replace(/<[^>]+>/g, '')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&amp;/g, '&')
      .trim();
  }

  /** base64url (the VAPID key as Vigil gives it) to the bytes pushManager.subscribe takes everywhere. */
  function keyBytes(base64url) {
    const base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
    const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    return Uint8Array.from(binary, (c) => c.charCodeAt(0));
  }

  scope.vigilPush = { notificationOf, clickPlan, headingOf, keyBytes };
})(self);
