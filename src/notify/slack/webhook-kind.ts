import type { AlertEventType } from '../../alerts/events.js';
import { oneLine, truncate } from '../html.js';
import { isAllowedHost } from '../team-destinations/address-guard.js';
import {
  addsOwnTeam,
  NOT_OWN_TEAM,
  type TeamDelivery,
  type TeamDeliveryContext,
  type TeamDeliveryResult,
  type TeamDestinationKind,
} from '../team-destinations/kind.js';
import { postJson, PostError } from '../team-destinations/post.js';
import { retryAfterMs } from '../retry-after.js';
import { webhookUrlProblem } from '../team-destinations/webhook.js';
import { alertMessage, eventLine, statusOf, testMessage, titleOf, topLevelText } from './blocks.js';

/**
 * `slack-webhook`: a Slack incoming webhook (a URL that posts to one channel, made in the Slack app's
 * "Incoming Webhooks" page). Nothing to install beyond that, but Slack returns no message id to such a
 * post, so it can not be edited nor carry buttons: each of created, acknowledged and closed is a new
 * message, and so is the alert when the destination's team is added to it (as a created: the channel
 * has not seen it). Use `slack` for one message per alert with buttons.
 */

const EVENTS: readonly AlertEventType[] = ['created', 'responder_added', 'acknowledged', 'closed'];
const TIMEOUT_MS = 10_000;

/** The webhook URL itself is the credential: the API shows only its start. */
export function maskUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const tail = url.slice(-4);
    return `${parsed.protocol}//${parsed.host}/…${tail}`;
  } catch {
    return '…';
  }
}

const SLACK_HOOK_EXAMPLE = 'a Slack incoming webhook URL, https://hooks.slack.com/services/T…/B…/…';

export function parseSlackWebhookConfig(
  input: Record<string, unknown>,
  previous: Record<string, unknown> | undefined,
  allowHttpHosts: readonly string[],
): { ok: true; config: Record<string, unknown> } | { ok: false; problem: string } {
  const extra = Object.keys(input).find((k) => k !== 'url');
  if (extra !== undefined) {
    return {
      ok: false,
      problem: `config.${truncate(extra, 40)} is not a setting of a slack-webhook destination: give only url.`,
    };
  }
  // The API shows the URL masked; sent back so (or left out on an update), the stored one stays.
  const given = input.url;
  if (typeof previous?.url === 'string' && (given === undefined || given === maskUrl(previous.url))) {
    return { ok: true, config: { url: previous.url } };
  }
  if (typeof given !== 'string')
    return { ok: false, problem: `config.url is required: ${SLACK_HOOK_EXAMPLE}.` };
  const problem = webhookUrlProblem(given, allowHttpHosts);
  if (problem) return { ok: false, problem };
  const url = new URL(given);
  // Only Slack's hooks (or a host the operator allowed, such as a test's fake): a URL pasted from elsewhere
  // would get Slack's message format and never show it.
  if (
    !isAllowedHost(url.hostname, allowHttpHosts) &&
    !(url.hostname === 'hooks.slack.com' && url.pathname.startsWith('/services/'))
  ) {
    return { ok: false, problem: `config.url must be ${SLACK_HOOK_EXAMPLE}.` };
  }
  return { ok: true, config: { url: url.toString() } };
}

/** A POST to a destination's URL, its answer as a delivery result by `classify`. */
export async function postToHook(
  context: TeamDeliveryContext,
  rawUrl: string,
  body: unknown,
  classify: (status: number, excerpt: string, retryAfterMs: number | undefined) => TeamDeliveryResult,
): Promise<TeamDeliveryResult> {
  // The operator's list may have changed since the URL was accepted.
  const problem = webhookUrlProblem(rawUrl, context.config.webhookAllowHttpHosts);
  if (problem) return { status: 'failed', error: problem };
  const url = new URL(rawUrl);
  const allowPrivate = isAllowedHost(url.hostname, context.config.webhookAllowHttpHosts);
  try {
    const answer = await postJson(
      url,
      JSON.stringify(body),
      { 'content-type': 'application/json', 'user-agent': 'Vigil' },
      { timeoutMs: TIMEOUT_MS, allowPrivate, excerptBytes: 512 },
    );
    const excerpt = truncate(oneLine(answer.excerpt), 200);
    const result = classify(
      answer.status,
      excerpt,
      retryAfterMs(answer.headers['retry-after'], context.clock.toSystemTime(context.clock.now())),
    );
    return { ...result, response: { status: answer.status, ...(excerpt ? { excerpt } : {}) } };
  } catch (error) {
    const why =
      error instanceof PostError ? error.message : error instanceof Error ? error.message : String(error);
    return {
      status: 'retry',
      error: `${url.host} could not be reached: ${why}`,
      ...(error instanceof PostError && !error.mayHaveBeenWritten ? { noRequest: true } : {}),
    };
  }
}

function classifySlackHook(
  status: number,
  excerpt: string,
  retryAfterMs: number | undefined,
): TeamDeliveryResult {
  const said = excerpt ? ` ${excerpt}` : '';
  if (status >= 200 && status < 300) return { status: 'sent', detail: `${status}${said}` };
  if (status === 429) {
    return {
      status: 'retry',
      error: `Slack is rate limiting the webhook (429).`,
      ...(retryAfterMs ? { retryAfterMs } : {}),
      rateLimited: true,
    };
  }
  if (status >= 500) return { status: 'retry', error: `Slack answered ${status}${said}.` };
  // 404 no_service (the webhook was revoked or its app removed), 410 channel_is_archived, 403 action_prohibited.
  if (status === 404 || status === 410 || status === 403) {
    return {
      status: 'gone',
      error: `Slack answered ${status}${said}: the webhook no longer posts (revoked, or its channel archived). Make a new incoming webhook and update the destination.`,
    };
  }
  // This body alone is too large: the webhook still posts the others, so the destination's health does
  // not count it. A 400 refusing the message (invalid_payload, no_text, invalid_blocks, msg_too_long) does
  // count: every post here is a new message that Vigil builds alike, so a hook that refuses one may refuse
  // every alert, and a day of that turns the destination off with its reason rather than leaving it silent.
  if (status === 413) {
    return { status: 'failed', error: `Slack answered ${status}${said}.`, perMessage: true };
  }
  return { status: 'failed', error: `Slack answered ${status}${said}.` };
}

async function deliverSlackWebhook(
  delivery: TeamDelivery,
  context: TeamDeliveryContext,
): Promise<TeamDeliveryResult> {
  const raw = delivery.destination.config.url;
  if (typeof raw !== 'string') return { status: 'failed', error: 'The destination has no url.' };
  const { event, alert } = delivery;
  let body: unknown;
  if (event.type === 'test') {
    body = testMessage(event, delivery.links.view);
  } else if (event.type === 'responder_added' && !addsOwnTeam(delivery)) {
    return NOT_OWN_TEAM;
  } else if (!alert) {
    return { status: 'sent', detail: 'the alert no longer exists' };
  } else {
    const message = alertMessage({ alert, event, viewUrl: delivery.links.view, buttons: false });
    // Each post is a new message: the text leads with what happened, but where the channel first hears of
    // the alert, with the alert.
    const text =
      event.type === 'created' || event.type === 'responder_added'
        ? message.text
        : topLevelText(`${eventLine(event)}: ${titleOf(alert)} (${statusOf(alert)})`);
    body = { text, blocks: message.blocks, unfurl_links: false, unfurl_media: false };
  }
  return postToHook(context, raw, body, classifySlackHook);
}

export const slackWebhookKind: TeamDestinationKind = {
  type: 'slack-webhook',
  label: 'Slack incoming webhook',
  events: EVENTS,
  parseConfig: (input, previous, setup) =>
    parseSlackWebhookConfig(input, previous, setup.config.webhookAllowHttpHosts),
  present: (config) => ({ url: typeof config.url === 'string' ? maskUrl(config.url) : '' }),
  deliver: deliverSlackWebhook,
};
