import type { AlertEvent } from '../../alerts/events.js';
import { oneLine, truncate } from '../html.js';
import type { AlertSnapshot, TestEvent } from '../team-destinations/kind.js';
import { eventLine, statusOf, titleOf } from '../slack/blocks.js';

/**
 * The Teams message of an alert event: an Adaptive Card (1.4, what Teams renders) in the envelope Teams
 * Workflows' "Post to a channel when a webhook request is received" template reads.
 */

export interface TeamsMessage {
  type: 'message';
  attachments: {
    contentType: 'application/vnd.microsoft.card.adaptive';
    contentUrl: null;
    content: AdaptiveCard;
  }[];
}

export interface AdaptiveCard {
  $schema: 'http://adaptivecards.io/schemas/adaptive-card.json';
  type: 'AdaptiveCard';
  version: '1.4';
  body: Record<string, unknown>[];
  actions: { type: 'Action.OpenUrl'; title: string; url: string }[];
  msteams: { width: 'Full' };
}

/**
 * TextBlocks read a little Markdown; text from outside must not become a link that says one thing and
 * goes elsewhere.
 */
function text(value: string, max: number): string {
  return truncate(value, max).replace(/\]\(/g, '] (');
}

function card(body: Record<string, unknown>[], action: { title: string; url: string }): TeamsMessage {
  return {
    type: 'message',
    attachments: [
      {
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body,
          actions: [{ type: 'Action.OpenUrl', ...action }],
          msteams: { width: 'Full' },
        },
      },
    ],
  };
}

const URGENT = new Set(['P1', 'P2']);

export function alertCard(
  alert: AlertSnapshot,
  event: AlertEvent | TestEvent,
  viewUrl: string,
): TeamsMessage {
  const facts = [
    { title: 'Priority', value: alert.priority },
    { title: 'Status', value: statusOf(alert) },
    { title: 'Source', value: oneLine(alert.source) },
    { title: 'Entity', value: oneLine(alert.entity) },
    { title: 'Integration', value: oneLine(alert.integration.name || 'API') },
    { title: 'Owner', value: oneLine(alert.owner) },
  ]
    .filter((f) => f.value !== '')
    .map((f) => ({ title: f.title, value: text(f.value, 500) }));
  const body: Record<string, unknown>[] = [
    {
      type: 'TextBlock',
      text: text(titleOf(alert), 300),
      size: 'Large',
      weight: 'Bolder',
      wrap: true,
      ...(URGENT.has(alert.priority) && alert.status !== 'closed' ? { color: 'Attention' } : {}),
    },
    { type: 'TextBlock', text: text(eventLine(event), 500), isSubtle: true, wrap: true, spacing: 'None' },
    { type: 'FactSet', facts },
  ];
  if (alert.description.trim()) {
    body.push({ type: 'TextBlock', text: text(alert.description, 1000), wrap: true });
  }
  return card(body, { title: 'Open in Vigil', url: viewUrl });
}

export function testCard(event: TestEvent, viewUrl: string): TeamsMessage {
  return card(
    [
      { type: 'TextBlock', text: 'Vigil test message', size: 'Large', weight: 'Bolder', wrap: true },
      {
        type: 'TextBlock',
        text: text(`Alerts of this destination will be posted here. ${eventLine(event)}.`, 500),
        wrap: true,
      },
    ],
    { title: 'Open Vigil', url: viewUrl },
  );
}
