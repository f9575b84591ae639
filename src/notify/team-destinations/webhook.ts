import { randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import type { AlertEventType } from '../../alerts/events.js';
import { isUuid } from '../../db/database.js';
import { opsgenieWebhookBody } from '../../integrations/webhook/opsgenie-payload.js';
import { oneLine, truncate } from '../html.js';
import { retryAfterMs } from '../retry-after.js';
import { hostProblem, isAllowedHost } from './address-guard.js';
import type { TeamDelivery, TeamDeliveryContext, TeamDeliveryResult, TeamDestinationKind } from './kind.js';
import { MAX_PAYLOAD_BYTES, webhookBody } from './payload.js';
import { postJson, PostError } from './post.js';

/**
 * Signed webhooks, as Standard Webhooks (standardwebhooks.com) has them: each event POSTed as JSON
 * (payload.ts) with `webhook-id` (the event's id, the same on every attempt: the receiver's idempotency
 * key), `webhook-timestamp` (this attempt, unix seconds) and `webhook-signature` (`v1,` + base64 of the
 * HMAC-SHA256 of `id.timestamp.body` under the secret), made by the `standardwebhooks` package, so any
 * receiver verifies with that package's `Webhook.verify`. A 2xx is delivered; 410 means the receiver is
 * gone (the destination is disabled); 413 fails the delivery at once (the same body would be refused
 * again); anything else (redirects included: they are not followed), and no answer within 15 s, is tried
 * again, after the receiver's Retry-After when it gives one.
 */

export const WEBHOOK_TIMEOUT_MS = 15_000;
export const MAX_URL_LENGTH = 2048;
const SECRET_PREFIX = 'whsec_';
/** Standard Webhooks: a secret of 24 to 64 random bytes. */
const SECRET_BYTES = { min: 24, max: 64, generated: 32 };

/**
 * Every change but a repeat (`deduplicated`): a sender that repeats an alert every minute would otherwise
 * make a request a minute; the `count` of the alert in later events says how many there were. A responder
 * added only when it is a team (kind.ts addsOwnTeam): to the added team's webhooks the first they hear of
 * the alert, to the alert's others Opsgenie's AddTeam.
 */
export const WEBHOOK_EVENTS: readonly AlertEventType[] = [
  'created',
  'responder_added',
  'acknowledged',
  'unacknowledged',
  'closed',
  'snoozed',
  'snooze_ended',
  'note_added',
  'tags_added',
  'tags_removed',
  'details_added',
  'details_removed',
  'priority_changed',
  'message_changed',
  'description_changed',
  'owner_assigned',
  'escalated',
  'custom_action',
  'deleted',
];

export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(SECRET_BYTES.generated).toString('base64');
}

/** `whsec_****abcd`: enough to tell two secrets apart, not enough to sign with. */
export function maskSecret(secret: string): string {
  return `${SECRET_PREFIX}****${secret.slice(-4)}`;
}

function secretProblem(secret: string): string | undefined {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : undefined;
  const bytes = encoded !== undefined ? Buffer.from(encoded, 'base64') : undefined;
  // Canonical base64 only: what the verifying libraries decode the same way.
  if (!bytes || bytes.toString('base64') !== encoded) {
    return `config.secret must be ${SECRET_PREFIX} followed by base64 (or leave it out and Vigil makes one).`;
  }
  if (bytes.length < SECRET_BYTES.min || bytes.length > SECRET_BYTES.max) {
    return `config.secret must hold ${SECRET_BYTES.min} to ${SECRET_BYTES.max} bytes (it holds ${bytes.length}).`;
  }
  return undefined;
}

/** Why Vigil will not send to this URL, or undefined. */
export function webhookUrlProblem(raw: string, allowHttpHosts: readonly string[]): string | undefined {
  if (raw.length > MAX_URL_LENGTH) return `config.url must be at most ${MAX_URL_LENGTH} characters.`;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'config.url must be the https URL of the receiver, such as https://hooks.example.com/vigil.';
  }
  const allowed = isAllowedHost(url.hostname, allowHttpHosts);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowed)) {
    return url.protocol === 'http:'
      ? `config.url must be https: plain http is only sent to hosts an operator lists in VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS, and ${url.hostname} is not one.`
      : 'config.url must be an https URL.';
  }
  if (url.username || url.password) {
    return 'config.url must not carry a user name or password: the signature proves the sender, and URLs end up in logs.';
  }
  if (!allowed) {
    const problem = hostProblem(url.hostname);
    if (problem) {
      return `config.url is refused: ${problem} (an operator can allow the host with VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS).`;
    }
  }
  return undefined;
}

function stringOf(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** Extra headers (an Opsgenie Webhook integration's `headers`): a receiver's credentials, say. */
export const HEADER_LIMITS = { count: 20, nameLength: 100, valueLength: 1000 } as const;
const HEADER_NAME = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/;
const HEADER_VALUE = /^[\x20-\x7e\t]*$/;
/**
 * What the sender itself sets, what framing depends on, or what says how the body is encoded (the body is
 * always plain JSON: a `Content-Encoding: gzip` makes receivers fail to read it): a header may not replace
 * or add them. Nor `Accept-Encoding`: the answer is not decoded, so a compressed one would be unreadable in
 * the delivery log.
 */
const RESERVED_HEADER =
  /^(host|content-.*|transfer-encoding|connection|user-agent|accept-encoding|webhook-.*)$/i;

function headersOf(value: unknown): Record<string, string> | string {
  if (value === undefined) return {};
  if (!value || typeof value !== 'object' || Array.isArray(value))
    return 'config.headers must be an object of header names to values.';
  const entries = Object.entries(value);
  if (entries.length > HEADER_LIMITS.count)
    return `config.headers may hold at most ${HEADER_LIMITS.count} headers.`;
  for (const [name, text] of entries) {
    const shown = truncate(name, 40);
    if (name.length > HEADER_LIMITS.nameLength || !HEADER_NAME.test(name))
      return `config.headers: ${JSON.stringify(shown)} is not a header name (letters, digits and - _ . at most ${HEADER_LIMITS.nameLength}).`;
    if (RESERVED_HEADER.test(name))
      return `config.headers: ${shown} is set by Vigil itself (host, content-*, transfer-encoding, connection, user-agent, accept-encoding, webhook-*).`;
    if (typeof text !== 'string' || text.length > HEADER_LIMITS.valueLength || !HEADER_VALUE.test(text))
      return `config.headers.${shown} must be text of at most ${HEADER_LIMITS.valueLength} printable ASCII characters.`;
  }
  return Object.fromEntries(entries) as Record<string, string>;
}

/**
 * Stored headers without those whose names are refused now. One stored before its name was refused (a
 * `Content-Encoding`, say) is not sent, nor shown (a Webhook integration's settings too), and the next
 * change of the config drops it, while the others are kept and sent.
 */
export function withoutReservedHeaders<T>(headers: Record<string, T>): Record<string, T> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => !RESERVED_HEADER.test(name)));
}

/** A stored config's headers, as sent: those now refused left out (withoutReservedHeaders). */
function storedHeadersOf(value: unknown): Record<string, string> {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
  const headers = headersOf(withoutReservedHeaders(value as Record<string, unknown>));
  return typeof headers === 'string' ? {} : headers;
}

/**
 * `given` without the headers that were stored before their names were refused and come back masked or
 * with their stored value: a client that read them (Terraform, with an org admin's key) or keeps them (the
 * console sends back every header it was shown) sends them unchanged, and refusing that would refuse every
 * save. They are dropped instead, as any change of the config drops them.
 */
function withoutRetiredGivenBack(given: unknown, stored: unknown): unknown {
  if (!given || typeof given !== 'object' || Array.isArray(given)) return given;
  if (!stored || typeof stored !== 'object' || Array.isArray(stored)) return given;
  const retired = new Map<string, unknown>(
    Object.entries(stored)
      .filter(([name]) => RESERVED_HEADER.test(name))
      .map(([name, value]) => [name.toLowerCase(), value]),
  );
  if (retired.size === 0) return given;
  return Object.fromEntries(
    Object.entries(given).filter(([name, value]) => {
      const storedValue = retired.get(name.toLowerCase());
      return storedValue === undefined || (value !== MASKED_HEADER_VALUE && value !== storedValue);
    }),
  );
}

/** How a header's value is shown (values are write-only), and what, sent back, keeps the stored value. */
export const MASKED_HEADER_VALUE = '****';

const listed = (names: readonly string[]) => names.map((n) => truncate(n, 40)).join(', ');

/** A URL as stored (normalized), to tell whether a given one is the same; undefined if it is none. */
function normalizedUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  try {
    return new URL(raw).toString();
  } catch {
    return undefined;
  }
}

/**
 * The headers to store, from those given (undefined: left out) and those stored. Header values are
 * write-only (shown masked), so whoever may edit a webhook has not necessarily seen them. A stored value
 * is kept (its header left out of the config, or sent back masked) only while the URL stays as it is:
 * else someone who never saw a receiver's credentials could point the URL at a server of their own and be
 * sent them. Another path of the same origin is no safer: hook hosts (hooks.zapier.com, Logic Apps) serve
 * every customer on one origin. A changed URL so takes every stored value given again (or the header left
 * out of a given `headers`, which drops it). A header stored before its name was refused is dropped,
 * given back or not (withoutRetiredGivenBack).
 */
function resolvedHeaders(
  givenAsSent: unknown,
  storedConfigHeaders: unknown,
  urls: { from: string | undefined; to: string },
): Record<string, string> | string {
  const given = withoutRetiredGivenBack(givenAsSent, storedConfigHeaders);
  const stored = storedHeadersOf(storedConfigHeaders);
  const moved = urls.from !== undefined && normalizedUrl(urls.from) !== normalizedUrl(urls.to);
  const storedNames = Object.keys(stored);
  const movedProblem = (names: string[]) =>
    `config.headers: the URL changes, so the values of ${listed(names)} must be given again, not left out or sent masked (${MASKED_HEADER_VALUE}): stored header values are shown masked, and are not sent to another URL (even one on the same origin: a hook host serves many customers) unless whoever changes it gives them. Leave a header out of a given headers object to drop it.`;
  if (given === undefined) {
    if (moved && storedNames.length > 0) return movedProblem(storedNames);
    return stored;
  }
  const parsed = headersOf(given);
  if (typeof parsed === 'string') return parsed;
  const storedValue = (name: string) =>
    stored[name] ?? stored[storedNames.find((n) => n.toLowerCase() === name.toLowerCase()) ?? ''];
  const masked = Object.keys(parsed).filter((name) => parsed[name] === MASKED_HEADER_VALUE);
  const unknown = masked.filter((name) => storedValue(name) === undefined);
  if (unknown.length > 0) {
    return `config.headers: ${listed(unknown)} ${unknown.length === 1 ? 'is' : 'are'} sent masked (${MASKED_HEADER_VALUE}), which keeps a stored value, but none is stored for ${unknown.length === 1 ? 'it' : 'them'}: give the value.`;
  }
  if (moved && masked.length > 0) return movedProblem(masked);
  return Object.fromEntries(
    Object.entries(parsed).map(([name, value]) => [
      name,
      value === MASKED_HEADER_VALUE ? (storedValue(name) ?? value) : value,
    ]),
  );
}

/**
 * What is POSTed: a Webhook integration's destination sends Opsgenie's Webhook integration JSON (its
 * receivers were written for Opsgenie); every other webhook, Vigil's own (payload.ts). The integration is
 * read on each delivery so that its name and team are the ones it has now.
 */
async function bodyOf(delivery: TeamDelivery, context: TeamDeliveryContext): Promise<string> {
  const { integrationId } = delivery.destination;
  if (integrationId === null) return webhookBody(delivery);
  const integration = await context.db
    .selectFrom('integrations')
    .select((eb) => [
      'id',
      'name',
      'type',
      // The team whose alerts it sends (its assignee team, else its owner team).
      eb.fn.coalesce('assignee_team_id', 'owner_team_id').as('teamId'),
    ])
    .where('id', '=', integrationId)
    .executeTakeFirst();
  if (integration?.type !== 'Webhook') return webhookBody(delivery);
  return opsgenieWebhookBody(delivery, integration, { ownerIsActor: await ownerIsActor(delivery, context) });
}

/**
 * Whether the delivery's owner_assigned gave the alert to the user who made the change (the user of the
 * API key or session, whatever `user` the request named): Opsgenie's TakeOwnership, not AssignOwnership.
 * The event names the owner by id (by username only, before it did: the user is then looked up by id).
 */
async function ownerIsActor(delivery: TeamDelivery, context: TeamDeliveryContext): Promise<boolean> {
  const { event } = delivery;
  const { userId } = event.actor;
  if (event.type !== 'owner_assigned' || event.actor.kind !== 'user' || !userId || !isUuid(userId))
    return false;
  if (event.ownerId !== undefined) return event.ownerId === userId;
  const user = await context.db
    .selectFrom('users')
    .select('username')
    .where('id', '=', userId)
    .where('org_id', '=', event.orgId)
    .executeTakeFirst();
  return user !== undefined && user.username.toLowerCase() === event.owner.toLowerCase();
}

/** Whether the payload carries the alert's description and details (Opsgenie's Webhook integration flags). */
const PAYLOAD_FLAGS = ['addAlertDescription', 'addAlertDetails'] as const;

export const webhookKind: TeamDestinationKind = {
  type: 'webhook',
  label: 'Webhook',
  events: WEBHOOK_EVENTS,
  takesOtherTeamsAdded: true,

  parseConfig(input, previous, setup) {
    const settings = ['url', 'secret', 'headers', ...PAYLOAD_FLAGS] as string[];
    const unknown = Object.keys(input).find((k) => !settings.includes(k));
    if (unknown !== undefined) {
      return {
        ok: false,
        problem: `config.${truncate(unknown, 40)} is not a setting of a webhook (${settings.join(', ')}).`,
      };
    }
    const flags: Record<string, boolean> = {};
    for (const name of PAYLOAD_FLAGS) {
      const value = input[name] === undefined ? previous?.[name] : input[name];
      if (value === undefined) continue;
      if (typeof value !== 'boolean') return { ok: false, problem: `config.${name} must be true or false.` };
      flags[name] = value;
    }
    const url = input.url === undefined ? stringOf(previous?.url) : stringOf(input.url);
    if (url === undefined) {
      return { ok: false, problem: 'config.url is required: the https URL of the receiver.' };
    }
    const urlProblem = webhookUrlProblem(url, setup.config.webhookAllowHttpHosts);
    if (urlProblem) return { ok: false, problem: urlProblem };
    const headers = resolvedHeaders(input.headers, previous?.headers, {
      from: previous === undefined ? undefined : (stringOf(previous.url) ?? ''),
      to: url,
    });
    if (typeof headers === 'string') return { ok: false, problem: headers };

    const kept = stringOf(previous?.secret);
    let secret: string;
    if (input.secret === undefined || (kept !== undefined && input.secret === maskSecret(kept))) {
      secret = kept ?? generateSecret();
    } else if (typeof input.secret !== 'string') {
      return { ok: false, problem: 'config.secret must be a string.' };
    } else {
      const problem = secretProblem(input.secret);
      if (problem) return { ok: false, problem };
      secret = input.secret;
    }
    return {
      ok: true,
      config: {
        url: new URL(url).toString(),
        secret,
        ...(Object.keys(headers).length > 0 ? { headers } : {}),
        ...flags,
      },
    };
  },

  present(config) {
    const secret = stringOf(config.secret);
    const headers = storedHeadersOf(config.headers);
    return {
      url: stringOf(config.url) ?? '',
      ...(secret ? { secret: maskSecret(secret) } : {}),
      // Header values are often credentials: their names only.
      ...(Object.keys(headers).length > 0
        ? { headers: Object.fromEntries(Object.keys(headers).map((name) => [name, MASKED_HEADER_VALUE])) }
        : {}),
      ...Object.fromEntries(
        PAYLOAD_FLAGS.filter((f) => typeof config[f] === 'boolean').map((f) => [f, config[f]]),
      ),
    };
  },

  async deliver(delivery, context): Promise<TeamDeliveryResult> {
    const { config } = delivery.destination;
    const rawUrl = stringOf(config.url) ?? '';
    const secret = stringOf(config.secret) ?? '';
    // The operator's list may have changed since the URL was accepted.
    const urlProblem = webhookUrlProblem(rawUrl, context.config.webhookAllowHttpHosts);
    if (urlProblem) return { status: 'failed', error: urlProblem };
    const url = new URL(rawUrl);
    const body = await bodyOf(delivery, context);
    const extraHeaders = storedHeadersOf(config.headers);
    // The receiver compares the timestamp with its own clock: the wall clock's time, not the engine's.
    const sentAt = context.clock.toSystemTime(context.clock.now());
    const id = delivery.event.eventId;
    let signature: string;
    try {
      signature = new Webhook(secret).sign(id, sentAt, body);
    } catch (error) {
      return { status: 'failed', error: `the destination's secret is unusable: ${(error as Error).message}` };
    }
    const where = url.host;
    let answer;
    try {
      answer = await postJson(
        url,
        body,
        {
          // Checked when stored (none replaces Vigil's own); the sender's own are set after them anyway.
          ...extraHeaders,
          'content-type': 'application/json',
          'user-agent': 'Vigil',
          'webhook-id': id,
          'webhook-timestamp': String(Math.floor(sentAt.getTime() / 1000)),
          'webhook-signature': signature,
        },
        {
          timeoutMs: WEBHOOK_TIMEOUT_MS,
          allowPrivate: isAllowedHost(url.hostname, context.config.webhookAllowHttpHosts),
        },
      );
    } catch (error) {
      const why = error instanceof PostError ? error.message : String(error);
      return {
        status: 'retry',
        error: `could not reach ${where}: ${truncate(oneLine(why), 300)}`,
        ...(error instanceof PostError && !error.mayHaveBeenWritten ? { noRequest: true } : {}),
      };
    }
    const { status } = answer;
    const excerpt = truncate(answer.excerpt, 1000);
    const response = { status, ...(excerpt ? { excerpt } : {}) };
    const said = `${where} answered ${status}${excerpt ? `: ${truncate(oneLine(excerpt), 200)}` : ''}`;
    if (status >= 200 && status < 300) return { status: 'sent', detail: `HTTP ${status}`, response };
    if (status === 410) {
      return {
        status: 'gone',
        error: `${where} answered 410 Gone: the receiver says this webhook is no more`,
        response,
      };
    }
    if (status === 413) {
      // The same body would be refused on every attempt (the alert is sent as it is now, and rarely
      // shrinks): tried again, it would spend the schedule's hours for nothing. Other alerts' smaller
      // bodies may still pass, so it is this message's failure, not counted towards disabling the
      // destination.
      return {
        status: 'failed',
        error: `${said}: the receiver refuses a body this large. Raise its request body limit: Vigil's bodies are at most ${MAX_PAYLOAD_BYTES / 1000} KB`,
        perMessage: true,
        response,
      };
    }
    if (status >= 300 && status < 400) {
      const location = answer.headers.location;
      return {
        status: 'retry',
        error: `${where} answered ${status}, a redirect${location ? ` to ${truncate(oneLine(location), 200)}` : ''}, which is not followed: give the final URL`,
        response,
      };
    }
    const after = retryAfterMs(answer.headers['retry-after'], sentAt);
    return {
      status: 'retry',
      error: said,
      ...(after !== undefined ? { retryAfterMs: after } : {}),
      ...(status === 429 ? { rateLimited: true } : {}),
      response,
    };
  },
};
