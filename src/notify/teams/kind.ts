import type { AlertEventType } from '../../alerts/events.js';
import { truncate } from '../html.js';
import {
  addsOwnTeam,
  NOT_OWN_TEAM,
  type TeamDeliveryResult,
  type TeamDestinationKind,
} from '../team-destinations/kind.js';
import { webhookUrlProblem } from '../team-destinations/webhook.js';
import { maskUrl, postToHook } from '../slack/webhook-kind.js';
import { alertCard, testCard } from './card.js';

/**
 * `teams`: a Microsoft Teams channel through a Workflows webhook (Teams' "Post to a channel when a webhook
 * request is received" workflow; the Office 365 connectors it replaces take the same body). Each of
 * created, acknowledged and closed is a new card: a workflow returns no message id to edit. So is the
 * alert when the destination's team is added to it: the channel has not seen it.
 */

const EVENTS: readonly AlertEventType[] = ['created', 'responder_added', 'acknowledged', 'closed'];

function classify(status: number, excerpt: string, retryAfterMs: number | undefined): TeamDeliveryResult {
  const said = excerpt ? `: ${excerpt}` : '';
  // A workflow answers 202 Accepted: it runs after answering.
  if (status >= 200 && status < 300) return { status: 'sent', detail: `HTTP ${status}` };
  if (status === 429) {
    return {
      status: 'retry',
      error: `Teams is rate limiting the workflow (429)${said}`,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      rateLimited: true,
    };
  }
  if (status >= 500) return { status: 'retry', error: `Teams answered ${status}${said}` };
  if (status === 404 || status === 410) {
    return {
      status: 'gone',
      error: `Teams answered ${status}${said}: the workflow was deleted or turned off. Make a new one and update the destination's url.`,
    };
  }
  if (status === 413) {
    // This card alone is too large (a long description): the workflow still takes the others, so the
    // destination's health does not count it.
    return { status: 'failed', error: `Teams answered 413${said}: the card is too large.`, perMessage: true };
  }
  if (status >= 300 && status < 400) {
    return {
      status: 'failed',
      error: `Teams answered ${status}, a redirect, which is not followed: give the workflow's own URL.`,
    };
  }
  return {
    status: 'failed',
    error: `Teams answered ${status}${said}. A 401 or 403: the workflow's URL lost its signature (sig=…) or the workflow may not be run; copy the URL again.`,
  };
}

export const teamsKind: TeamDestinationKind = {
  type: 'teams',
  label: 'Microsoft Teams',
  events: EVENTS,

  parseConfig(input, previous, setup) {
    const extra = Object.keys(input).find((k) => k !== 'url');
    if (extra !== undefined) {
      return {
        ok: false,
        problem: `config.${truncate(extra, 40)} is not a setting of a teams destination: give only url.`,
      };
    }
    if (
      typeof previous?.url === 'string' &&
      (input.url === undefined || input.url === maskUrl(previous.url))
    ) {
      return { ok: true, config: { url: previous.url } };
    }
    if (typeof input.url !== 'string') {
      return {
        ok: false,
        problem:
          'config.url is required: the URL of a Teams workflow\'s "When a Teams webhook request is received" trigger.',
      };
    }
    const problem = webhookUrlProblem(input.url, setup.config.webhookAllowHttpHosts);
    if (problem) return { ok: false, problem };
    return { ok: true, config: { url: new URL(input.url).toString() } };
  },

  // The URL carries its signature (sig=…): whoever has it can post to the channel.
  present: (config) => ({ url: typeof config.url === 'string' ? maskUrl(config.url) : '' }),

  async deliver(delivery, context) {
    const raw = delivery.destination.config.url;
    if (typeof raw !== 'string') return { status: 'failed', error: 'The destination has no url.' };
    const { event, alert } = delivery;
    let body;
    if (event.type === 'test') body = testCard(event, delivery.links.view);
    else if (event.type === 'responder_added' && !addsOwnTeam(delivery)) return NOT_OWN_TEAM;
    else if (!alert) return { status: 'sent', detail: 'the alert no longer exists' };
    else body = alertCard(alert, event, delivery.links.view);
    return postToHook(context, raw, body, classify);
  },
};
