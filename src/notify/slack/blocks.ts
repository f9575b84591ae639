import type { AlertEvent } from '../../alerts/events.js';
import { oneLine, truncate } from '../html.js';
import type { AlertSnapshot, TestEvent } from '../team-destinations/kind.js';

/**
 * The Slack message of an alert, in Block Kit. Built from the alert as it is now, so every edit shows its
 * current state whatever event caused it; the event adds one line of who did what.
 */

/** The `action_id`s of the message's buttons: the interactions route acts on these. */
export const SLACK_ACTIONS = {
  acknowledge: 'vigil_acknowledge',
  close: 'vigil_close',
  note: 'vigil_note',
} as const;

export const ACTIONS_BLOCK_ID = 'vigil_actions';

export interface SlackBlock {
  type: string;
  [key: string]: unknown;
}

export interface SlackMessage {
  /** The notification's and screen readers' text, and what older clients show. */
  text: string;
  blocks: SlackBlock[];
}

/** Slack's limits (Block Kit reference): a header's text, a section's text and each of its fields. */
const HEADER_MAX = 150;
const FIELD_MAX = 2000;
const TEXT_MAX = 3000;
const DESCRIPTION_MAX = 1000;

/**
 * Text made safe for mrkdwn: Slack reads `<…>` as links and mentions (`<!channel>`) and `&` as the start
 * of an entity, so alert text from outside could ping a whole channel or hide a link.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * Mrkdwn (already escaped) cut to at most `max` characters, with "…" where it was cut. The cut never leaves
 * half an entity behind (`&am…`: Slack would show it as text, and a later `;` could complete it), nor half a
 * surrogate pair. Characters are counted in UTF-16 units, so the text fits whether Slack counts those or
 * code points.
 */
function fitMrkdwn(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  let cut = text.slice(0, max - 1);
  // A high surrogate whose low half was cut off.
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  // Every `&` of escaped text starts an entity, so one with no `;` after it was cut.
  return `${cut.replace(/&[a-z]*$/, '')}…`;
}

/** Text from outside made safe for mrkdwn ({@link escapeMrkdwn}), then cut to fit in `max` characters. */
export function escapeToFit(text: string, max: number): string {
  return fitMrkdwn(escapeMrkdwn(text), max);
}

/**
 * A message's top-level `text`, escaped as the blocks are: Slack formats it as mrkdwn too, and shows it in
 * the notification, where a `<!channel>` from an alert would ping everyone.
 */
export function topLevelText(text: string): string {
  return escapeToFit(text, TEXT_MAX);
}

/** A link in mrkdwn; `|` and `>` would end the URL early. */
function link(url: string, label: string): string {
  return `<${url.replace(/[|>\s]/g, encodeURIComponent)}|${escapeMrkdwn(label)}>`;
}

/**
 * Plain text cut to at most `max` UTF-16 units, as {@link fitMrkdwn} counts: Slack's limits say
 * "characters" without saying which, and an emoji is two units, so a count of code points could let a
 * header of emoji through twice too long (`invalid_blocks`, which on a new post counts towards turning
 * the destination off).
 */
function fitPlain(text: string, max: number): string {
  return truncate(text, max, '…', 'utf-16 units');
}

function plain(text: string, max: number) {
  return { type: 'plain_text', text: fitPlain(oneLine(text) || ' ', max), emoji: false };
}

/**
 * The alert's message as the section's text. Slack refuses a section whose text is empty once trimmed
 * (`invalid_blocks`), and the alert API takes a message of spaces: such a one is shown as a placeholder.
 */
function messageText(message: string): string {
  return oneLine(message) === '' ? '_(no message)_' : escapeToFit(message, TEXT_MAX);
}

/** A mrkdwn text object; `text` is mrkdwn already (escaped where it came from outside). */
function mrkdwn(text: string, max = TEXT_MAX) {
  return { type: 'mrkdwn', text: fitMrkdwn(text, max) };
}

/** A section's field: its bold label, then its value escaped and cut so the whole fits Slack's limit. */
function field(label: string, value: string): string {
  const head = `*${label}*\n`;
  return `${head}${escapeToFit(oneLine(value), FIELD_MAX - head.length)}`;
}

/** Slack shows the date in each reader's own time zone; the fallback is for clients that cannot. */
function slackDate(iso: string): string {
  const seconds = Math.floor(Date.parse(iso) / 1000);
  return Number.isFinite(seconds)
    ? `<!date^${seconds}^{date_short_pretty} {time}|${iso}>`
    : escapeMrkdwn(iso);
}

/** `[P1] #42 Disk full on db-1`: the first line of the message, and what a deleted alert keeps. */
export function titleOf(alert: AlertSnapshot): string {
  return `[${alert.priority}] #${alert.tinyId} ${oneLine(alert.message)}`;
}

export function statusOf(alert: AlertSnapshot): string {
  if (alert.status === 'closed')
    return `Closed${alert.report.closedBy ? ` by ${alert.report.closedBy}` : ''}`;
  const ack = alert.acknowledged
    ? `Acknowledged${alert.report.acknowledgedBy ? ` by ${alert.report.acknowledgedBy}` : ''}`
    : 'Open';
  return alert.snoozed && alert.snoozedUntil ? `${ack}, snoozed` : ack;
}

/** One line saying what the event was and who made it: "Acknowledged by Alice Smith". */
export function eventLine(event: AlertEvent | TestEvent): string {
  const by = oneLine(event.actor.name);
  switch (event.type) {
    case 'created':
      return `Created by ${by}`;
    case 'acknowledged':
      return `Acknowledged by ${by}`;
    case 'unacknowledged':
      return `Unacknowledged by ${by}`;
    case 'closed':
      return `Closed by ${by}`;
    case 'snoozed':
      return `Snoozed until ${event.until} by ${by}`;
    case 'snooze_ended':
      return 'Snooze ended';
    case 'note_added':
      return `Note by ${by}: ${truncate(oneLine(event.note), 300)}`;
    case 'priority_changed':
      return `Priority changed from ${event.from} to ${event.to} by ${by}`;
    case 'owner_assigned':
      return `Assigned to ${oneLine(event.owner)} by ${by}`;
    case 'responder_added':
      return `Responder ${oneLine(event.name)} added by ${by}`;
    case 'escalated':
      return `Escalated${event.escalationName ? ` (${oneLine(event.escalationName)})` : ''} by ${by}`;
    case 'message_changed':
      return `Message changed by ${by}`;
    case 'description_changed':
      return `Description changed by ${by}`;
    case 'deleted':
      return `Deleted by ${by}`;
    case 'custom_action':
      return `Action ${oneLine(event.action)} run by ${by}`;
    case 'deduplicated':
      return `Sent again (${event.count} times)`;
    case 'tags_added':
    case 'tags_removed':
    case 'details_added':
    case 'details_removed':
      return `Updated by ${by}`;
    case 'test':
      return `Test message sent by ${by}`;
    // The engine's own (notification holds): no Slack kind takes them.
    case 'hold_occurrence':
    case 'hold_released':
      return '';
  }
}

/** The event line with Slack's rendering of a date where it has one. */
function eventText(event: AlertEvent | TestEvent): string {
  if (event.type === 'snoozed') {
    return `Snoozed until ${slackDate(event.until)} by ${escapeMrkdwn(oneLine(event.actor.name))}`;
  }
  return escapeMrkdwn(eventLine(event));
}

/** The buttons that still apply to the alert: none once it is closed. */
function actionsBlock(alert: AlertSnapshot): SlackBlock | undefined {
  if (alert.status === 'closed') return undefined;
  const elements: SlackBlock[] = [];
  if (!alert.acknowledged) {
    elements.push({
      type: 'button',
      action_id: SLACK_ACTIONS.acknowledge,
      text: plain('Acknowledge', 75),
      style: 'primary',
      value: alert.id,
    });
  }
  elements.push(
    {
      type: 'button',
      action_id: SLACK_ACTIONS.close,
      text: plain('Close', 75),
      style: 'danger',
      value: alert.id,
    },
    { type: 'button', action_id: SLACK_ACTIONS.note, text: plain('Add note', 75), value: alert.id },
  );
  return { type: 'actions', block_id: ACTIONS_BLOCK_ID, elements };
}

export function alertMessage(input: {
  alert: AlertSnapshot;
  event: AlertEvent | TestEvent;
  viewUrl: string;
  /** Buttons act on the alert (a bot's message); an incoming webhook's message can not take them. */
  buttons: boolean;
}): SlackMessage {
  const { alert, event, viewUrl } = input;
  const title = titleOf(alert);
  const status = statusOf(alert);
  const fields = [
    field('Priority', alert.priority),
    field('Status', status),
    alert.source ? field('Source', alert.source) : '',
    alert.entity ? field('Entity', alert.entity) : '',
    field('Integration', alert.integration.name || 'API'),
    alert.owner ? field('Owner', alert.owner) : '',
  ].filter((f) => f !== '');
  const blocks: SlackBlock[] = [
    { type: 'header', text: plain(title, HEADER_MAX) },
    {
      type: 'section',
      text: mrkdwn(messageText(alert.message)),
      fields: fields.map((f) => mrkdwn(f, FIELD_MAX)),
    },
  ];
  if (alert.description.trim()) {
    blocks.push({
      type: 'section',
      // At most DESCRIPTION_MAX characters of it are shown; escaped, that may need cutting again.
      text: mrkdwn(escapeToFit(truncate(alert.description, DESCRIPTION_MAX), TEXT_MAX)),
    });
  }
  // The event's line is cut to leave room for the link, which is never cut.
  const viewLink = ` · ${link(viewUrl, 'View in Vigil')}`;
  blocks.push({
    type: 'context',
    elements: [mrkdwn(`${fitMrkdwn(eventText(event), TEXT_MAX - viewLink.length)}${viewLink}`)],
  });
  const actions = input.buttons ? actionsBlock(alert) : undefined;
  if (actions) blocks.push(actions);
  return { text: topLevelText(`${title} (${status})`), blocks };
}

/** What is left to show of a deleted alert: its title struck through, and who deleted it. */
export function deletedMessage(title: string, event: AlertEvent): SlackMessage {
  const line = eventText(event);
  return {
    text: topLevelText(`${title} (deleted)`),
    blocks: [
      { type: 'section', text: mrkdwn(`~${escapeMrkdwn(truncate(title, HEADER_MAX))}~`) },
      { type: 'context', elements: [mrkdwn(line)] },
    ],
  };
}

/** What `POST /v2/destinations/{id}/test` posts. */
export function testMessage(event: TestEvent, viewUrl: string): SlackMessage {
  const text = `Vigil test message: alerts of this destination will be posted here. ${eventLine(event)}.`;
  return {
    text: topLevelText(text),
    blocks: [
      { type: 'section', text: mrkdwn(escapeMrkdwn(text)) },
      { type: 'context', elements: [mrkdwn(link(viewUrl, 'Open Vigil'))] },
    ],
  };
}
