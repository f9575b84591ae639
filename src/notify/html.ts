import type { NotificationActionType } from '../oncall/model.js';
/** Small pieces the HTML emails and the action-link pages share. */

/** Escapes text for HTML element content and quoted attribute values. */
export function escapeHtml(value: string): string {
  return value
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** One line, no control characters: header injection and folding surprises stay out of subjects and titles. */
export function oneLine(value: string): string {
  return (
    value
      // eslint-disable-next-line no-control-regex
      .replace(/[\u0000-\u001f\u007f]+/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
  );
}

/** How a push title or an SMS starts for each kind of message (email subjects do not: they must thread). */
export const KIND_PREFIX: Record<NotificationActionType, string> = {
  'create-alert': '',
  'acknowledged-alert': 'Acknowledged: ',
  'closed-alert': 'Closed: ',
  'add-note': 'Note on ',
};

/** Cuts text to `max` characters (an ellipsis marks the cut). */
export function truncate(value: string, max: number): string {
  const chars = Array.from(value);
  return chars.length <= max ? value : `${chars.slice(0, max - 1).join('')}…`;
}

/** Only http(s) URLs become links: anything else in an href could run script or open something odd. */
export function isWebUrl(value: string): boolean {
  return /^https?:\/\/[^\s"'<>]+$/i.test(value);
}

export const PRIORITY_COLORS: Record<string, string> = {
  P1: '#b91c1c',
  P2: '#c2410c',
  P3: '#a16207',
  P4: '#1d4ed8',
  P5: '#4b5563',
};

export const FONT = "-apple-system,BlinkMacSystemFont,'Segoe UI',Roboto,Helvetica,Arial,sans-serif";
