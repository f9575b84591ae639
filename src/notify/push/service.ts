import { createECDH, randomUUID, timingSafeEqual } from 'node:crypto';
import { requireUserRight, userMay } from '../../accounts/custom-roles/rights.js';
import { accountsRepository } from '../../accounts/repository.js';
import { isOrgAdmin, type Principal } from '../../accounts/service.js';
import { type Db, type Queryable, isLostRace, isUniqueViolation, isUuid } from '../../db/database.js';
import { conflict, forbidden, invalidField, isDomainError, notFound } from '../../errors.js';
import type { Config } from '../../config.js';
import { newStep } from '../../oncall/people/defaults.js';
import { peopleRepository } from '../../oncall/people/repository.js';
import { pushRepository as repo, type PushSubscriptionRow } from './repository.js';
import type { VapidKeys } from './vapid.js';

/**
 * Web Push subscriptions: one per device (a browser, or the console added to a phone's Home Screen). Each is
 * also a `mobile` contact method of its person whose address is the subscription's id, so rules, the
 * sender, throttles and the activity log need nothing new. A device's first subscription also gets a step
 * (at once) in the person's first "create-alert" rule, unless that rule already pages a mobile device: as
 * Opsgenie does when its app is installed. People see and remove their own devices; org admins anyone's
 * (but an owner's only if they are owners too). As a contact method, a device is added and removed only by
 * those who may change contact methods (a custom role may take contacts-edit away), and the rule step is
 * added only for those who may change their notification rules. A device's renewed subscription (the
 * browser's pushsubscriptionchange, which names the old endpoint) is the same device: it needs no right.
 * Another person's device moves to the caller only when the same browser posts it again (the same keys),
 * and never from another organization.
 */

export interface SubscribeInput {
  endpoint: string;
  keys: { p256dh: string; auth: string };
  deviceName?: string;
  /**
   * The endpoint this subscription replaces, when the browser renewed it (pushsubscriptionchange's
   * oldSubscription): one of the caller's own devices then moves to the new endpoint, contact and steps kept.
   */
  oldEndpoint?: string;
}

export interface PushSubscriptionView {
  id: string;
  deviceName: string;
  /** The push service's host (fcm.googleapis.com, web.push.apple.com…): which browser family it is. */
  service: string;
  createdAt: Date;
  lastSentAt: Date | null;
}

export const MAX_ENDPOINT_LENGTH = 2048;
export const MAX_DEVICE_NAME_LENGTH = 100;
const DEFAULT_DEVICE_NAME = 'Web browser';

function viewOf(row: PushSubscriptionRow): PushSubscriptionView {
  return {
    id: row.id,
    deviceName: row.device_name,
    service: new URL(row.endpoint).host,
    createdAt: row.created_at,
    lastSentAt: row.last_sent_at,
  };
}

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return host === 'localhost' || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);
}

/**
 * The push services browsers subscribe with (Chrome and Edge's FCM, Firefox's autopush, Windows, Apple).
 * Vigil POSTs to a subscription's endpoint, so only these hosts (and their subdomains) are accepted, plus
 * those an operator adds in VIGIL_PUSH_SERVICE_HOSTS: a device must not be a way to make Vigil send
 * requests to any address it can reach.
 */
export const PUSH_SERVICE_HOSTS = [
  'fcm.googleapis.com',
  'push.services.mozilla.com',
  'notify.windows.com',
  'push.apple.com',
];

/** The push services Vigil sends to: the browsers' own, and those the operator added. */
export function pushServiceHosts(config: Pick<Config, 'extraPushServiceHosts'>): string[] {
  return [...PUSH_SERVICE_HOSTS, ...config.extraPushServiceHosts];
}

function isAllowedHost(hostname: string, allowed: readonly string[]): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  return allowed.some((suffix) => host === suffix || host.endsWith(`.${suffix}`));
}

/**
 * The push service's URL: https (RFC 8030 §8), or http to a loopback host (a push service under test on
 * the same machine), on one of the allowed hosts. No user or password in it: they would end up in logs.
 */
export function parseEndpoint(value: string, allowedHosts: readonly string[] = PUSH_SERVICE_HOSTS): string {
  const field = 'endpoint';
  if (value.length > MAX_ENDPOINT_LENGTH) {
    throw invalidField(field, `must be at most ${MAX_ENDPOINT_LENGTH} characters.`);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidField(field, "must be the push service's URL from the browser's PushSubscription.");
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url.hostname))) {
    throw invalidField(field, 'must be an https URL (push services are reached over HTTPS only).');
  }
  if (url.username || url.password) throw invalidField(field, 'must not carry a user name or password.');
  if (!isAllowedHost(url.hostname, allowedHosts)) {
    throw invalidField(
      field,
      `is on ${url.hostname}, which is not a push service Vigil sends to (${allowedHosts.join(', ')}): an operator can add it with VIGIL_PUSH_SERVICE_HOSTS.`,
    );
  }
  return url.toString();
}

/**
 * Why a stored endpoint is no longer one Vigil sends to (its host taken off VIGIL_PUSH_SERVICE_HOSTS since
 * the device subscribed), or undefined: checked at every send, as webhooks' URLs are.
 */
export function endpointProblem(endpoint: string, allowedHosts: readonly string[]): string | undefined {
  try {
    parseEndpoint(endpoint, allowedHosts);
    return undefined;
  } catch (error) {
    if (isDomainError(error)) return error.fields?.endpoint ?? error.message;
    throw error;
  }
}

/** Base64url as browsers write it (no padding); tolerates padding, refuses anything else. */
function base64url(value: string, field: string): Buffer {
  const text = value.replace(/=+$/, '');
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw invalidField(field, 'must be base64url (RFC 4648 §5).');
  return Buffer.from(text, 'base64url');
}

/** The browser's ECDH key: an uncompressed P-256 point (65 bytes, 0x04‖X‖Y) on the curve. */
export function parseP256dh(value: string): string {
  const field = 'keys.p256dh';
  const bytes = base64url(value, field);
  const problem = 'must be the 65-byte uncompressed P-256 public key (keys.p256dh of the subscription).';
  if (bytes.length !== 65 || bytes[0] !== 0x04) throw invalidField(field, problem);
  try {
    // Refuses a point that is not on the curve.
    const probe = createECDH('prime256v1');
    probe.generateKeys();
    probe.computeSecret(bytes);
  } catch {
    throw invalidField(field, problem);
  }
  return bytes.toString('base64url');
}

export function parseAuth(value: string): string {
  const field = 'keys.auth';
  const bytes = base64url(value, field);
  if (bytes.length !== 16) {
    throw invalidField(field, 'must be the 16-byte auth secret (keys.auth of the subscription).');
  }
  return bytes.toString('base64url');
}

function deviceNameOf(value: string | undefined): string {
  // eslint-disable-next-line no-control-regex
  const name = (value ?? '').replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  if (name.length > MAX_DEVICE_NAME_LENGTH) {
    throw invalidField('deviceName', `must be at most ${MAX_DEVICE_NAME_LENGTH} characters.`);
  }
  return name || DEFAULT_DEVICE_NAME;
}

/**
 * Forgets a subscription: its contact method goes (the subscription with it, by the foreign key) and the
 * steps of the person's rules that used it. In the caller's transaction.
 */
async function forget(tx: Queryable, subscription: PushSubscriptionRow): Promise<void> {
  await peopleRepository.lockUser(tx, subscription.user_id);
  await peopleRepository.removeContactFromSteps(tx, subscription.user_id, subscription.contact_method_id);
  await peopleRepository.deleteContact(tx, subscription.contact_method_id);
}

/**
 * Forgets a subscription that is gone from its person while they may still have a device that works: a
 * phone that subscribed again (reinstalled, site data cleared, a new VAPID key, Firefox's
 * pushsubscriptionchange) has a new subscription, and the old one is only found gone when a push to it
 * fails; or a shared browser now signed in as someone else takes the device with it. The old contact's
 * steps move to the person's newest remaining subscription (the heir), so its pages keep arriving; with
 * none left, the steps go. A rule that already pages that device just loses the old step, and its messages
 * to the old contact are dropped when due where the heir has its own copy (the heir's own step pages it);
 * a heir step given after the page was planned has none, and those messages move to the heir. The other messages still to be
 * sent to the old contact (a page in progress, its later steps) go to the heir too, those another round
 * is sending taken back from it (but not `inProgress`, the message whose send found the device gone: its
 * round sends it again). Returns the heir, if any. In the caller's transaction.
 */
async function forgetGone(
  tx: Queryable,
  subscription: PushSubscriptionRow,
  inProgress?: string,
): Promise<PushSubscriptionRow | undefined> {
  const userId = subscription.user_id;
  const gone = subscription.contact_method_id;
  await peopleRepository.lockUser(tx, userId);
  const others = (await repo.listForUser(tx, userId)).filter((s) => s.id !== subscription.id);
  const heirRow = others.at(-1);
  if (!heirRow) {
    await peopleRepository.removeContactFromSteps(tx, userId, gone);
  } else {
    const heir = heirRow.contact_method_id;
    // The rules that page the heir already: they lose the old steps, and their messages to the old device
    // the heir has a copy of stay, to be dropped when they fall due (the contact is deleted), as the heir's
    // own step pages it. Those planned before the heir's step was given move (moveUnsentNotifications).
    const keepRules: string[] = [];
    for (const rule of await peopleRepository.listRules(tx, userId)) {
      if (!rule.steps.some((step) => step.contactId === gone)) continue;
      const hasHeir = rule.steps.some((step) => step.contactId === heir);
      if (hasHeir) keepRules.push(rule.id);
      const steps = hasHeir
        ? rule.steps.filter((step) => step.contactId !== gone)
        : rule.steps.map((step) => (step.contactId === gone ? { ...step, contactId: heir } : step));
      await peopleRepository.updateRule(tx, rule.id, { steps });
    }
    // Before the contact goes: its deletion would leave them pointing at no contact, and the sender
    // would drop them. A heir's contact address is its subscription's id (subscribeOnce).
    await repo.moveUnsentNotifications(
      tx,
      userId,
      gone,
      { contactId: heir, address: heirRow.id },
      { inProgress, keepRules },
    );
  }
  await peopleRepository.deleteContact(tx, gone);
  return heirRow;
}

/**
 * Removes a subscription the push service said is gone (404 or 410); false when it was already removed.
 * Only if it is still the one that was sent to: a device that subscribed again in the meantime keeps its
 * new keys. Its rule steps and unsent messages go to the person's newest remaining device, if any, which
 * is returned as `heir` (see forgetGone). `inProgress`: the message that found it gone, whose round tries
 * it again.
 */
export async function removeGoneSubscription(
  db: Db,
  sent: PushSubscriptionRow,
  inProgress?: string,
): Promise<false | { heir: PushSubscriptionRow | undefined }> {
  return db.transaction().execute(async (tx) => {
    // The person first, then the row, as a renewal takes them (subscribeOnce): row first would deadlock
    // with a renewal of this very device, and the renewal would lose. A row's person never changes (a
    // device taken over by someone else is a new row), so the person of the row that was sent to will do.
    await peopleRepository.lockUser(tx, sent.user_id);
    const current = await repo.findByEndpoint(tx, sent.endpoint);
    if (!current || current.id !== sent.id || current.p256dh !== sent.p256dh) return false;
    return { heir: await forgetGone(tx, current, inProgress) };
  });
}

/** An endpoint as it is stored (parseEndpoint's form), to look it up; undefined when it is no URL at all. */
function storedFormOf(value: string): string | undefined {
  try {
    return new URL(value).toString();
  } catch {
    return undefined;
  }
}

/** Two base64url keys as stored (parseP256dh's and parseAuth's form), compared in constant time. */
function sameKey(a: string, b: string): boolean {
  const x = Buffer.from(a, 'base64url');
  const y = Buffer.from(b, 'base64url');
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The first "create-alert" rule gets a step for the new device at once, unless it already pages a device. */
async function addToFirstRule(tx: Queryable, userId: string, contactId: string): Promise<void> {
  const [first] = await peopleRepository.listRules(tx, userId, 'create-alert');
  if (!first) return;
  const contacts = await peopleRepository.listContacts(tx, userId);
  const mobile = new Set(contacts.filter((c) => c.method === 'mobile').map((c) => c.id));
  if (first.steps.some((step) => mobile.has(step.contactId) && step.contactId !== contactId)) return;
  // Steps are kept in firing order: the new one goes after the others that fire at once.
  const steps = [...first.steps];
  const at = steps.findIndex((s) => s.sendAfterMinutes > 0);
  steps.splice(at === -1 ? steps.length : at, 0, newStep(contactId, 0));
  await peopleRepository.updateRule(tx, first.id, { steps });
}

export function createPushService(
  db: Db,
  vapidKeys: () => Promise<VapidKeys>,
  allowedHosts: readonly string[] = PUSH_SERVICE_HOSTS,
) {
  function personOf(p: Principal): string {
    if (!p.userId) {
      throw forbidden(
        "Devices belong to a person: sign in to the console, or use a user's API key, not an integration's.",
      );
    }
    return p.userId;
  }

  async function subscribeOnce(
    p: Principal,
    userId: string,
    input: SubscribeInput,
  ): Promise<PushSubscriptionRow> {
    const endpoint = parseEndpoint(input.endpoint, allowedHosts);
    const p256dh = parseP256dh(input.keys.p256dh);
    const auth = parseAuth(input.keys.auth);
    const deviceName = deviceNameOf(input.deviceName);
    return db.transaction().execute(async (tx) => {
      await peopleRepository.lockUser(tx, userId);
      const existing = await repo.findByEndpoint(tx, endpoint);
      if (existing?.user_id === userId) {
        return repo.updateKeys(tx, existing.id, { p256dh, auth, device_name: deviceName });
      }
      // The browser renewed one of the caller's devices: its old endpoint soon answers 410, which would
      // remove the contact and its steps, so the device moves to the new endpoint in place. No right is
      // needed, as for new keys: no contact method changes. Only a device of the caller's own, and only to
      // an endpoint nobody has (another person's stays theirs: that is the path below, with its right).
      const oldEndpoint = input.oldEndpoint === undefined ? undefined : storedFormOf(input.oldEndpoint);
      if (!existing && oldEndpoint !== undefined) {
        const renewed = await repo.findByEndpoint(tx, oldEndpoint);
        if (renewed?.user_id === userId) {
          return repo.updateKeys(tx, renewed.id, { endpoint, p256dh, auth, device_name: deviceName });
        }
      }
      // Another person's device moves to the caller only from the same browser, now signed in as the
      // caller: its PushSubscription keeps its keys while it lives, and the console posts it again as it
      // is. The endpoint alone is no proof (it can leak from a browser, a log or a proxy), and another
      // organization's device never moves: its person would stop being paged with nobody told.
      if (
        existing &&
        (!sameKey(existing.p256dh, p256dh) ||
          !sameKey(existing.auth, auth) ||
          !(await accountsRepository.findUser(tx, p.orgId, existing.user_id)))
      ) {
        throw conflict(
          'This push subscription belongs to another user of Vigil: unsubscribe in this browser and subscribe again.',
        );
      }
      // A new device is a new contact method: the same right as POST /v2/users/{id}/contacts. (New keys
      // for a device already theirs change no contact method, so its pages keep arriving.)
      await requireUserRight(tx, p, 'contacts-edit', 'change your contact methods (a device is one)');
      // The same browser, now signed in as someone else of the organization: it pages its new person only.
      // Its former person's steps and unsent pages move to their newest other device, as when a device is
      // found gone: their rule may page only this one (the first rule's step goes to the first device).
      if (existing) await forgetGone(tx, existing);
      const id = randomUUID();
      const contact = await peopleRepository.insertContact(tx, {
        user_id: userId,
        method: 'mobile',
        address: id,
      });
      const row = await repo.insert(tx, {
        id,
        user_id: userId,
        endpoint,
        p256dh,
        auth,
        device_name: deviceName,
        contact_method_id: contact.id,
      });
      // Without notification-rules-edit the device is added but no rule changes: the person's rules stay
      // as their admin left them, and an admin (or the person, once allowed) adds the step.
      if (await userMay(tx, p, 'notification-rules-edit')) await addToFirstRule(tx, userId, contact.id);
      return row;
    });
  }

  return {
    async publicKey(): Promise<string> {
      return (await vapidKeys()).publicKey;
    },

    /** Adds the caller's device, or updates it when its endpoint is already known. */
    async subscribe(p: Principal, input: SubscribeInput): Promise<PushSubscriptionView> {
      const userId = personOf(p);
      try {
        return viewOf(await subscribeOnce(p, userId, input));
      } catch (error) {
        if (!isUniqueViolation(error) && !isLostRace(error)) throw error;
        // Another request subscribed the same endpoint at the same moment: once more sees its row. Or this
        // one lost a deadlock (say, with the removal of a device another person had on this browser): a
        // renewal refused would leave the device to be removed by its old endpoint's 410, so once more.
        try {
          return viewOf(await subscribeOnce(p, userId, input));
        } catch (again) {
          if (isUniqueViolation(again)) throw conflict('This device is being subscribed twice at once.');
          throw again;
        }
      }
    },

    async list(p: Principal): Promise<PushSubscriptionView[]> {
      return (await repo.listForUser(db, personOf(p))).map(viewOf);
    },

    /** Removes one of the caller's devices (org admins: anyone's in the organization). */
    async remove(p: Principal, id: string): Promise<void> {
      const missing = () => notFound(`Push subscription [${id}] does not exist.`);
      if (!isUuid(id)) throw missing();
      const found = await repo.findWithOrg(db, id);
      if (!found || found.org_id !== p.orgId) throw missing();
      if (found.user_id !== p.userId && !isOrgAdmin(p)) {
        throw forbidden("Only the device's owner and organization admins can remove a push subscription.");
      }
      if (found.user_id === p.userId) {
        // Removing a device deletes a contact method (and its steps), as DELETE …/contacts/{id} does.
        await requireUserRight(db, p, 'contacts-edit', 'change your contact methods (a device is one)');
      } else if (
        p.role !== 'owner' &&
        (await accountsRepository.findUser(db, p.orgId, found.user_id))?.role === 'owner'
      ) {
        // As with their other contact methods: an admin must not be able to stop an owner being paged.
        throw forbidden("Only an owner can remove an owner's push subscription.");
      }
      await db.transaction().execute(async (tx) => {
        const { org_id: _org, ...row } = found;
        await forget(tx, row);
      });
    },
  };
}

export type PushService = ReturnType<typeof createPushService>;
