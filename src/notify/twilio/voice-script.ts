import type { AlertRow } from '../../db/schema.js';
import { oneLine, truncate } from '../html.js';

/** What a call says about its alerts, written for the ear: no symbols, numbers read as words where it helps. */

const PRIORITY_WORDS: Record<string, string> = {
  P1: 'priority one, critical',
  P2: 'priority two, high',
  P3: 'priority three, moderate',
  P4: 'priority four, low',
  P5: 'priority five, informational',
};

/** Alert text without what a speech engine stumbles over (URLs, brackets, long IDs). */
function speakable(value: string, max: number): string {
  return truncate(
    oneLine(value)
      .replace(/https?:\/\/\S+/g, 'a link')
      .replace(/[[\]{}<>#*_|\\^~`]/g, ' ')
      .replace(/\s+/g, ' ')
      .trim(),
    max,
  );
}

export function describeAlerts(
  alerts: readonly Pick<AlertRow, 'priority' | 'message' | 'tiny_id' | 'source'>[],
): string {
  const one = (a: (typeof alerts)[number]) =>
    `${PRIORITY_WORDS[a.priority] ?? a.priority}. Alert ${a.tiny_id}: ${speakable(a.message, 200)}.${a.source ? ` From ${speakable(a.source, 60)}.` : ''}`;
  if (alerts.length === 1 && alerts[0]) return `This is Vigil with an alert. ${one(alerts[0])}`;
  const shown = alerts.slice(0, 5);
  const more = alerts.length - shown.length;
  return `This is Vigil with ${alerts.length} alerts. ${shown.map(one).join(' ')}${more > 0 ? ` And ${more} more.` : ''}`;
}

export function menu(count: number): string {
  const all = count > 1 ? ' all of them' : '';
  return `Press 1 to acknowledge${all}, 2 to close${all}, 3 to escalate${all}, or any other key to hear this again.`;
}
