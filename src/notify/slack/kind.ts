import type { AlertEventType } from '../../alerts/events.js';
import {
  addsOwnTeam,
  NOT_OWN_TEAM,
  type TeamDelivery,
  type TeamDeliveryContext,
  type TeamDeliveryResult,
  type TeamDestinationKind,
} from '../team-destinations/kind.js';
import { alertMessage, deletedMessage, testMessage, titleOf, type SlackMessage } from './blocks.js';
import { deliveryFailure, MESSAGE_GONE, slackClient, slackErrorCode } from './client.js';
import { slackRepository as repo } from './repository.js';

/**
 * `slack`: the alert as one message in a channel, posted by Vigil's Slack app (chat.postMessage) with
 * Acknowledge, Close and Add note buttons, and edited in place (chat.update) as the alert changes, so the
 * channel holds one message per alert that always shows its state. The buttons are answered by
 * interactions.ts; what they change comes back here as an event like any other change.
 */

/** Slack channel IDs: public C…, private G… (older) or C…, DMs D…; upper-case letters and digits. */
const CHANNEL_ID = /^[CGD][A-Z0-9]{6,20}$/;

/**
 * The changes the message shows. Not repeats (`deduplicated`: a noisy source would spend the channel's
 * rate limit on edits nobody reads), nor tags and details, which the message does not show.
 * `responder_added` only for the added team's own destinations (addsOwnTeam).
 */
const EVENTS: readonly AlertEventType[] = [
  'created',
  'responder_added',
  'acknowledged',
  'unacknowledged',
  'closed',
  'snoozed',
  'snooze_ended',
  'note_added',
  'priority_changed',
  'message_changed',
  'description_changed',
  'owner_assigned',
  'escalated',
  'deleted',
];

export function parseSlackConfig(
  input: Record<string, unknown>,
): { ok: true; config: Record<string, unknown> } | { ok: false; problem: string } {
  const extra = Object.keys(input).filter((k) => k !== 'channel');
  if (extra.length > 0) {
    return {
      ok: false,
      problem: `config.${extra[0]} is not a setting of a slack destination: give only channel.`,
    };
  }
  const channel = typeof input.channel === 'string' ? input.channel.trim() : '';
  if (!CHANNEL_ID.test(channel)) {
    return {
      ok: false,
      problem:
        "config.channel must be a Slack channel ID such as C0123456789 (in Slack: open the channel's details; the ID is at the bottom), not its name.",
    };
  }
  return { ok: true, config: { channel } };
}

async function post(
  delivery: TeamDelivery,
  context: TeamDeliveryContext,
  message: SlackMessage,
  channel: string,
) {
  const client = slackClient(context.config.slack, context.fetch);
  const answer = await client.chat.postMessage({
    channel,
    text: message.text,
    blocks: message.blocks,
    unfurl_links: false,
    unfurl_media: false,
  });
  const ts = typeof answer.ts === 'string' ? answer.ts : undefined;
  if (!ts) return undefined;
  return { channel: typeof answer.channel === 'string' ? answer.channel : channel, ts };
}

async function deliverSlack(
  delivery: TeamDelivery,
  context: TeamDeliveryContext,
): Promise<TeamDeliveryResult> {
  const { event, alert, destination } = delivery;
  const { db, config } = context;
  if (!config.slack.botToken) {
    return {
      status: 'failed',
      error:
        'Vigil has no Slack bot token: set VIGIL_SLACK_BOT_TOKEN (the app\'s "Bot User OAuth Token", xoxb-…) and restart.',
    };
  }
  const parsed = parseSlackConfig(destination.config);
  if (!parsed.ok) return { status: 'failed', error: parsed.problem };
  const channel = String(parsed.config.channel);
  const client = slackClient(config.slack, context.fetch);

  if (event.type === 'test') {
    try {
      const posted = await post(delivery, context, testMessage(event, delivery.links.view), channel);
      return { status: 'sent', detail: posted ? `posted (ts ${posted.ts})` : 'posted' };
    } catch (error) {
      return deliveryFailure('chat.postMessage', error);
    }
  }

  if (event.type === 'responder_added' && !addsOwnTeam(delivery)) return NOT_OWN_TEAM;

  const existing = await repo.findMessage(db, destination.id, event.alertId);

  if (event.type === 'deleted') {
    if (!existing) return { status: 'sent', detail: 'no message to update' };
    const message = deletedMessage(existing.title, event);
    try {
      await client.chat.update({
        channel: existing.channel,
        ts: existing.ts,
        text: message.text,
        blocks: message.blocks,
      });
    } catch (error) {
      if (!MESSAGE_GONE.has(slackErrorCode(error) ?? '')) return deliveryFailure('chat.update', error);
    }
    await repo.deleteMessage(db, destination.id, event.alertId);
    return { status: 'sent', detail: `updated ${existing.ts}` };
  }

  // Deleted since (its own `deleted` event follows and says so).
  if (!alert) return { status: 'sent', detail: 'the alert no longer exists' };
  const message = alertMessage({ alert, event, viewUrl: delivery.links.view, buttons: true });

  // No message yet: this change is the first the channel hears of the alert (its team was added to it, the
  // destination was made after it, or the post of its `created` failed for good), so it posts the alert
  // as it is now. A `created` still being retried is never overtaken: the queue hands out a destination's
  // changes to an alert one at a time, in order.
  if (!existing) {
    try {
      const posted = await post(delivery, context, message, channel);
      if (!posted) return { status: 'retry', error: 'Slack answered chat.postMessage without a ts.' };
      await repo.saveMessage(db, {
        destination_id: destination.id,
        alert_id: alert.id,
        org_id: destination.orgId,
        channel: posted.channel,
        ts: posted.ts,
        title: titleOf(alert),
      });
      return { status: 'sent', detail: `posted ${posted.ts} in ${posted.channel}` };
    } catch (error) {
      return deliveryFailure('chat.postMessage', error);
    }
  }

  // A later change, or a `created` delivered again (a lease ran out after the post): bring it up to date.
  try {
    await client.chat.update({
      channel: existing.channel,
      ts: existing.ts,
      text: message.text,
      blocks: message.blocks,
    });
    // The title may have changed (priority, message): a later `deleted` and the note form show this one.
    await repo.touchMessage(db, destination.id, alert.id, titleOf(alert));
    return { status: 'sent', detail: `updated ${existing.ts}` };
  } catch (error) {
    const code = slackErrorCode(error);
    if (code && MESSAGE_GONE.has(code)) {
      // Someone deleted the message in Slack: nothing to edit, and the alert is not posted again. The
      // channel is fine (its other alerts' messages still post and update), so the destination's health
      // does not count it.
      return {
        status: 'failed',
        error: `Slack answered chat.update with ${code}: the message was deleted in Slack.`,
        perMessage: true,
      };
    }
    return deliveryFailure('chat.update', error);
  }
}

export const slackKind: TeamDestinationKind = {
  type: 'slack',
  label: 'Slack',
  events: EVENTS,
  parseConfig(input, _previous, setup) {
    if (!setup.config.slack.botToken) {
      return {
        ok: false,
        problem:
          'Vigil has no Slack app yet: an operator sets VIGIL_SLACK_BOT_TOKEN (the app\'s "Bot User OAuth Token", xoxb-…) and VIGIL_SLACK_SIGNING_SECRET and restarts Vigil; or use a slack-webhook destination.',
      };
    }
    return parseSlackConfig(input);
  },
  // Nothing secret: the token is Vigil's, not the destination's.
  present: (config) => ({ channel: config.channel }),
  deliver: deliverSlack,
};
