import {
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
  type Logger as SlackLogger,
} from '@slack/web-api';
import type { Config } from '../../config.js';
import type { OutboundFetch } from '../../http/outbound-fetch.js';
import type { TeamDeliveryResult } from '../team-destinations/kind.js';

/**
 * The Slack Web API client. It never retries on its own: a delivery that fails goes back to the delivery
 * queue, which retries with its backoff (and across processes), and an interaction must answer Slack
 * within 3 seconds.
 */

const TIMEOUT_MS = 10_000;

/** How @slack/web-api's message starts for a 429 whose Retry-After it cannot read. */
const NO_RETRY_AFTER = 'Retry header did not contain a valid timeout';

// The SDK logs through its own console logger otherwise; its lines carry nothing the delivery's result
// does not already say.
const quiet: SlackLogger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

const clientsByFetch = new WeakMap<OutboundFetch, Map<string, WebClient>>();

/** One client per token, URL and fetch (one per running Vigil): the SDK's request queue is per client. */
export function slackClient(
  settings: Config['slack'],
  fetch: OutboundFetch,
  options: { timeoutMs?: number } = {},
): WebClient {
  const timeout = options.timeoutMs ?? TIMEOUT_MS;
  const key = `${settings.apiUrl}\n${settings.botToken ?? ''}\n${timeout}`;
  let clients = clientsByFetch.get(fetch);
  if (!clients) {
    clients = new Map();
    clientsByFetch.set(fetch, clients);
  }
  let client = clients.get(key);
  if (!client) {
    client = new WebClient(settings.botToken, {
      slackApiUrl: settings.apiUrl,
      fetch,
      retryConfig: { retries: 0 },
      rejectRateLimitedCalls: true,
      timeout,
      logger: quiet,
      // A method name that is a URL would otherwise be fetched as given.
      allowAbsoluteUrls: false,
    });
    clients.set(key, client);
  }
  return client;
}

/** What an admin can do about each error Slack answers that will not pass by itself. */
const PERMANENT: Record<string, string> = {
  not_authed: 'Slack did not get a token: set VIGIL_SLACK_BOT_TOKEN to the app\'s "Bot User OAuth Token".',
  invalid_auth:
    'Slack refused the bot token: check VIGIL_SLACK_BOT_TOKEN (the app may have been reinstalled or removed).',
  account_inactive: 'The Slack app has been deactivated or removed from the workspace: reinstall it.',
  token_revoked: 'The bot token was revoked: reinstall the Slack app and set the new VIGIL_SLACK_BOT_TOKEN.',
  token_expired: 'The bot token has expired: reinstall the Slack app and set the new VIGIL_SLACK_BOT_TOKEN.',
  no_permission: 'The bot lacks a permission: give the Slack app the chat:write scope and reinstall it.',
  missing_scope: 'The bot lacks a permission: give the Slack app the chat:write scope and reinstall it.',
  channel_not_found:
    'Slack knows no such channel for the bot: check the channel ID, and for a private channel invite the bot (/invite @YourApp).',
  is_archived: 'The channel is archived: unarchive it, or point the destination at another channel.',
  not_in_channel: 'The bot is not in the channel: invite it (/invite @YourApp in the channel).',
  restricted_action: 'The workspace does not let the bot post in this channel: ask a Slack admin.',
  ekm_access_denied: "The workspace's encryption keys refused the bot: ask a Slack admin.",
  team_access_not_granted: 'The bot token is not granted access to this workspace: reinstall the Slack app.',
  msg_too_long: 'The message was too long for Slack.',
  invalid_blocks: 'Slack refused the message layout (invalid_blocks).',
  cant_update_message: 'Slack does not let the bot edit this message.',
  edit_window_closed: 'Slack no longer lets the message be edited.',
  is_inactive:
    'The channel is archived or frozen, and Slack lets nothing in it be edited: unarchive it, or point the destination at another channel.',
};

/**
 * Of those, the ones about the one message a `chat.update` edits (its length, its layout, an edit Slack no
 * longer allows, as in a channel archived or frozen since: `is_inactive`), not about the channel or the
 * app: the channel may still take the alerts' other messages, and a new post's refusal says when it does
 * not (`is_archived`), so they do not count towards disabling the destination (kind.ts `perMessage`); nor
 * are they tried again, as a day of retries would change nothing. The same refusal of a new post
 * (chat.postMessage) does count: Vigil builds every alert's message alike, so a channel that refuses one
 * new alert may refuse them all, and a day of it turns the destination off with the reason rather than
 * leaving it on and silent. The rest (a token, a scope, the channel) stop every message, and count.
 */
export const PER_MESSAGE = new Set([
  'msg_too_long',
  'invalid_blocks',
  'cant_update_message',
  'edit_window_closed',
  'is_inactive',
]);

/**
 * Errors of `chat.update` that mean the message is gone (deleted in Slack): it is not posted again. Not
 * `channel_not_found`: the channel ID is wrong or the bot can no longer see the channel, which an admin
 * must fix, so that is a failed delivery with its advice (PERMANENT).
 */
export const MESSAGE_GONE = new Set(['message_not_found']);

/** The Slack error code of a failed call, when Slack answered with one. */
export function slackErrorCode(error: unknown): string | undefined {
  return error instanceof WebAPIPlatformError ? error.data.error : undefined;
}

/** A failed Web API call as a delivery result. */
export function deliveryFailure(method: string, error: unknown): TeamDeliveryResult {
  if (error instanceof WebAPIRateLimitedError) {
    return {
      status: 'retry',
      error: `Slack is rate limiting ${method} (retry after ${error.retryAfter} s).`,
      retryAfterMs: Math.max(1, error.retryAfter) * 1000,
      rateLimited: true,
    };
  }
  // A 429 without a readable Retry-After: the SDK throws a plain Error (not WebAPIRateLimitedError) that
  // only its message tells apart. Still a rate limit, waited out for the delivery queue's default.
  if (error instanceof Error && error.message.startsWith(NO_RETRY_AFTER)) {
    return {
      status: 'retry',
      error: `Slack is rate limiting ${method} (no Retry-After).`,
      rateLimited: true,
    };
  }
  if (error instanceof WebAPIPlatformError) {
    const code = error.data.error;
    const advice = PERMANENT[code];
    if (advice) {
      return {
        status: 'failed',
        error: `Slack answered ${method} with ${code}. ${advice}`,
        ...(method === 'chat.update' && PER_MESSAGE.has(code) ? { perMessage: true } : {}),
      };
    }
    return { status: 'retry', error: `Slack answered ${method} with ${code}.` };
  }
  if (error instanceof WebAPIHTTPError) {
    return { status: 'retry', error: `Slack answered ${method} with HTTP ${error.statusCode}.` };
  }
  if (error instanceof WebAPIRequestError) {
    // fetch says only "fetch failed"; why is its cause (a refused connection, a proxy's refusal).
    const { original } = error;
    const reason = original.cause instanceof Error ? original.cause.message : original.message;
    return { status: 'retry', error: `Slack could not be reached for ${method}: ${reason}` };
  }
  return {
    status: 'retry',
    error: `${method} failed: ${error instanceof Error ? error.message : String(error)}`,
  };
}
