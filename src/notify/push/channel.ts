import { createHash } from 'node:crypto';
import { isUuid } from '../../db/database.js';
import type { DeliveryResult, NotificationChannel, OutgoingNotification } from '../channel.js';
import type { ChannelSetup } from '../destinations/destination.js';
import { pushRepository as repo, type PushSubscriptionRow } from './repository.js';
import { endpointProblem, pushServiceHosts, removeGoneSubscription } from './service.js';
import { vapidKeysLoader, vapidSubject, type VapidKeys } from './vapid.js';
import { pushRequest } from './web-push.js';
import { KIND_PREFIX, oneLine, truncate } from '../html.js';
import { retryAfterMs } from '../retry-after.js';

/**
 * Sends `mobile` messages as Web Push (RFC 8030): the payload encrypted for the device (RFC 8291) and the
 * request signed with Vigil's VAPID key (RFC 8292), both by the web-push package; the request is sent here
 * with fetch. A message's address is the id of a push subscription (service.ts).
 */

/** What the console's service worker receives, as JSON (see docs/oncall.md, "Mobile push"). */
export interface PushPayload {
  /** "[P1] Disk full on db-1"; other kinds than a new alert say what happened: "[P1] Acknowledged: …". */
  title: string;
  /** Where it comes from and why this person gets it, or who did what. */
  body: string;
  kind: OutgoingNotification['kind'];
  priority: string;
  alertId: string;
  tinyId: string;
  /** The alert in the console. */
  url: string;
  /** Signed links the service worker POSTs to (no session needed); only those that still apply. */
  actions: { acknowledge?: string; close?: string };
}

/** A push about no alert (a test): the service worker shows it and opens the console when tapped. */
export interface NoticePayload {
  title: string;
  body: string;
  kind: 'notice';
  url: string;
  actions: Record<string, never>;
}

/**
 * An hour: a page the device has not received by then is stale (the escalation has moved on to the next
 * person and the email is in the inbox), and one that arrives hours later, when a phone comes back on,
 * would only wake someone for an alert already handled. Push services keep undelivered messages this long.
 */
export const PUSH_TTL_SECONDS = 3600;
/** RFC 8291: one record of at most 4096 bytes leaves 3993 for the plaintext; some margin below that. */
const MAX_PAYLOAD_BYTES = 3800;
const LIMITS = { title: 200, body: 600 };
const TIMEOUT_MS = 15_000;

/**
 * An action link as the service worker POSTs it: `via=push` (outside the signed token) makes the action
 * link route record the action as the push notification's rather than the email link's (notify/routes.ts).
 */
function viaPush(link: string): string {
  const url = new URL(link);
  url.searchParams.set('via', 'push');
  return url.href;
}

export function payloadOf(message: OutgoingNotification): PushPayload {
  const { alert, links } = message;
  const by = message.actor ? ` by ${oneLine(message.actor)}` : '';
  const where = [alert.source, alert.entity, alert.integrationName ?? '']
    .map(oneLine)
    .filter((s) => s !== '')
    .join(' · ');
  let body: string;
  switch (message.kind) {
    case 'create-alert':
      body = [where, message.reason ? `Why you: ${oneLine(message.reason)}` : ''].filter(Boolean).join('\n');
      break;
    case 'acknowledged-alert':
      body = `Acknowledged${by}`;
      break;
    case 'closed-alert':
      body = `Closed${by}`;
      break;
    case 'add-note':
      body = `Note${by}: ${oneLine(message.note ?? '')}`;
      break;
    case 'assigned-alert':
      body = `Assigned to you${by}`;
      break;
  }
  const open = alert.status === 'open';
  return {
    title: truncate(
      `[${alert.priority}] ${KIND_PREFIX[message.kind]}${oneLine(alert.message)}`,
      LIMITS.title,
    ),
    body: truncate(body, LIMITS.body),
    kind: message.kind,
    priority: alert.priority,
    alertId: alert.id,
    tinyId: alert.tinyId,
    url: links.view,
    actions: {
      ...(open && !alert.acknowledged && links.acknowledge
        ? { acknowledge: viaPush(links.acknowledge) }
        : {}),
      ...(open && links.close ? { close: viaPush(links.close) } : {}),
    },
  };
}

/**
 * One topic per alert (base64url, at most 32 characters, RFC 8030 §5.4): a newer push about the same alert
 * (acknowledged, closed) takes the place of an older one the device has not yet received.
 */
export function topicOf(alertId: string): string {
  return createHash('sha256').update(alertId).digest('base64url').slice(0, 32);
}

/**
 * The topic of a message, if it is one that should replace a pending push about its alert. The push
 * service swaps the pending message for the new one, TTL and urgency included (RFC 8030 §5.4): right for
 * a page repeated, or one acknowledged or closed before it arrived (nobody need be woken any more); wrong
 * for a note or an assignment, which would turn a pending high-urgency page into a normal message that no
 * longer pages.
 */
function topicFor(message: OutgoingNotification): string | undefined {
  switch (message.kind) {
    case 'create-alert':
    case 'acknowledged-alert':
    case 'closed-alert':
      return topicOf(message.alert.id);
    case 'add-note':
    case 'assigned-alert':
      return undefined;
  }
}

/** Pages of P1 and P2 wake the device at once; everything else may wait for the device's next wake-up. */
function urgencyOf(message: OutgoingNotification): 'high' | 'normal' {
  return message.kind === 'create-alert' &&
    (message.alert.priority === 'P1' || message.alert.priority === 'P2')
    ? 'high'
    : 'normal';
}

/** The start of what the push service said, for the activity log. */
async function answerOf(response: Response): Promise<string> {
  const text = oneLine(await response.text().catch(() => ''));
  const status = `${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  return text ? `${status}: ${truncate(text, 300)}` : status;
}

export function createPushChannel(setup: ChannelSetup): NotificationChannel {
  const { db, log, config, fetch, clock } = setup;
  const vapidKeys = vapidKeysLoader(db);
  const subject = vapidSubject(config);
  const allowedHosts = pushServiceHosts(config);

  async function post(
    subscription: PushSubscriptionRow,
    keys: VapidKeys,
    push: { payload: PushPayload | NoticePayload; urgency: 'high' | 'normal'; topic?: string },
  ): Promise<Response | string> {
    let { payload } = push;
    if (Buffer.byteLength(JSON.stringify(payload)) > MAX_PAYLOAD_BYTES) payload = { ...payload, body: '' };
    const request = pushRequest(
      { endpoint: subscription.endpoint, keys: { p256dh: subscription.p256dh, auth: subscription.auth } },
      JSON.stringify(payload),
      {
        vapidDetails: { subject, publicKey: keys.publicKey, privateKey: keys.privateKey },
        TTL: PUSH_TTL_SECONDS,
        urgency: push.urgency,
        ...(push.topic ? { topic: push.topic } : {}),
      },
    );
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      // fetch sets the length of the body itself.
      if (name.toLowerCase() !== 'content-length') headers[name] = String(value);
    }
    try {
      return await fetch(request.endpoint, {
        method: 'POST',
        headers,
        body: request.body ?? undefined,
        redirect: 'manual',
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (error) {
      const cause = error instanceof Error ? (error.cause instanceof Error ? error.cause : error) : undefined;
      return cause?.message ?? String(error);
    }
  }

  /**
   * Pushes to the subscription `id` names. A page goes only to a device of its person (`recipient`): its
   * links act as them, and a contact's address naming someone else's device would hand those to a
   * stranger. A notice (a test of a contact) names no person.
   */
  async function deliver(
    id: string,
    push: { payload: PushPayload | NoticePayload; urgency: 'high' | 'normal'; topic?: string },
    recipient?: { userId?: string; notificationId: string },
  ): Promise<DeliveryResult> {
    const subscription = isUuid(id) ? await repo.find(db, id.toLowerCase()) : undefined;
    if (!subscription) {
      return {
        status: 'failed',
        error:
          'no push subscription for this device: subscribe it from the console (Profile, Mobile push) to be paged on it',
      };
    }
    if (recipient && subscription.user_id !== recipient.userId) {
      return {
        status: 'failed',
        error:
          'no push subscription of this person for this device: the contact names a device of someone else; subscribe your own from the console (Profile, Mobile push)',
      };
    }
    // Allowed when the device subscribed; the operator may have taken its host off the list since.
    const refused = endpointProblem(subscription.endpoint, allowedHosts);
    if (refused) {
      return {
        status: 'failed',
        error: `not sent: the device "${subscription.device_name}" has a push service endpoint that ${refused}`,
      };
    }
    const host = new URL(subscription.endpoint).host;
    const response = await post(subscription, await vapidKeys(), push);
    if (typeof response === 'string') {
      return { status: 'retry', error: `could not reach the push service ${host}: ${response}` };
    }
    const { status } = response;
    if (status >= 200 && status < 300) {
      await response.body?.cancel().catch(() => {});
      await repo.markSent(db, subscription.id, clock.now());
      const location = response.headers.get('location') ?? undefined;
      return { status: 'sent', ...(location ? { providerId: location.slice(0, 500) } : {}) };
    }
    const answer = await answerOf(response);
    if (status === 404 || status === 410) {
      const removed = await removeGoneSubscription(db, subscription, recipient?.notificationId);
      if (removed) {
        log.info(
          { subscriptionId: subscription.id, userId: subscription.user_id, status, heir: removed.heir?.id },
          'push subscription removed: the push service says it is gone',
        );
        // The person has another device, which now has the gone one's steps and unsent messages, this one
        // included (forgetGone): once more, and the sender renders it again for that device, its action
        // links bound to that device's contact. A notice (a test of this contact) has no one else to go to.
        if (removed.heir && recipient) {
          return {
            status: 'retry',
            error: `the device is gone: ${host} answered ${answer}; its push subscription "${subscription.device_name}" was removed, and its pages go to "${removed.heir.device_name}" instead`,
          };
        }
      } else if (await repo.find(db, subscription.id)) {
        // The browser renewed the device while this push was on its way: the old endpoint is gone, the
        // device is not. Once more reaches its new endpoint (or keys).
        return {
          status: 'retry',
          error: `${host} answered ${answer}: the device "${subscription.device_name}" was renewed meanwhile, so it is sent again to its new subscription`,
        };
      } else if (recipient) {
        // Removed meanwhile by another push that found it gone, which moved this message to the person's
        // other device if they have one: once more, and the sender sends it there, or drops it if the
        // device's contact is gone with no heir.
        return {
          status: 'retry',
          error: `the device is gone: ${host} answered ${answer}; its push subscription "${subscription.device_name}" was removed meanwhile`,
        };
      }
      return {
        status: 'failed',
        error: `the device is gone: ${host} answered ${answer}; its push subscription "${subscription.device_name}" was removed`,
      };
    }
    if (status === 429 || status >= 500) {
      const after = response.headers.get('retry-after');
      // A 429 SHOULD say when to come back (PROVIDER-FACTS 2.1): sooner would only meet the limit again. An HTTP
      // date is the push service's real time, hence the system time of the clock's now.
      const waitMs = retryAfterMs(after ?? undefined, clock.toSystemTime(clock.now()));
      return {
        status: 'retry',
        error: `${host} answered ${answer}${after ? ` (Retry-After: ${truncate(after, 40)})` : ''}`,
        ...(waitMs !== undefined ? { retryAfterMs: waitMs } : {}),
        ...(status === 429 ? { rateLimited: true } : {}),
      };
    }
    return { status: 'failed', error: `${host} refused the push: ${answer}` };
  }

  return {
    type: 'mobile',
    send: (message) =>
      deliver(
        message.to.address,
        { payload: payloadOf(message), urgency: urgencyOf(message), topic: topicFor(message) },
        { ...message.to, notificationId: message.notificationId },
      ),
    sendNotice: (to, notice) =>
      deliver(to.address, {
        payload: {
          title: truncate(oneLine(notice.subject), LIMITS.title),
          body: truncate(notice.text, LIMITS.body),
          kind: 'notice',
          url: config.publicUrl,
          actions: {},
        },
        urgency: 'normal',
      }),
  };
}
