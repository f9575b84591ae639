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

/**
 * The bidirectional embeddings, overrides and isolates: text before Vigil's own words (an SMS's "Reply 3a
 * to acknowledge") could otherwise make them read reversed.
 */
const BIDI_CONTROLS = /[\u202a-\u202e\u2066-\u2069]+/g;

/** One line, no control characters: header injection and folding surprises stay out of subjects and titles. */
export function oneLine(value: string): string {
  return (
    value
      // eslint-disable-next-line no-control-regex -- matching control characters is the point
      .replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
      .replace(BIDI_CONTROLS, '')
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
  'assigned-alert': 'Assigned to you: ',
};

const graphemes = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

/** How a limit counts text: in code points (most providers), or in UTF-16 units (Slack's, to be safe). */
export type TextUnits = 'code points' | 'utf-16 units';

const sizeIn: Record<TextUnits, (text: string) => number> = {
  'code points': (text) => Array.from(text).length,
  'utf-16 units': (text) => text.length,
};

/**
 * Cuts text to `max` characters (code points unless `units` says otherwise, `mark` included; `mark` shows
 * the cut). The cut falls between user-perceived characters, so a flag, an emoji with its skin tone or a
 * letter with its accent is kept whole or dropped whole, never shown broken; the result may therefore be
 * a little shorter than `max`.
 */
export function truncate(value: string, max: number, mark = '…', units: TextUnits = 'code points'): string {
  // UTF-16 units never undercount code points: most texts are short enough to skip counting.
  if (value.length <= max) return value;
  const size = sizeIn[units];
  if (size(value) <= max) return value;
  const room = max - size(mark);
  let kept = '';
  let used = 0;
  for (const { segment } of graphemes.segment(value)) {
    const taken = size(segment);
    if (used + taken > room) break;
    kept += segment;
    used += taken;
  }
  return `${kept}${mark}`;
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
