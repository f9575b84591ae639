/**
 * Opsgenie's dynamic fields in integration actions and alert policies: `{{message}}`, `{{details.Region}}`
 * and the like, replaced by the incoming alert's values. Only the plain `{{field}}` form is understood;
 * Opsgenie's string methods (`{{message.substring(0,10)}}`) and anything else unknown expand to nothing.
 * Nothing is ever evaluated: a placeholder is a name looked up in a fixed table.
 */

import { cutToCharacters } from '../limits.js';

/** The values placeholders read: the alert as it stands before the rule that names them. */
export interface TemplateValues {
  message: string;
  alias: string;
  description: string;
  entity: string;
  source: string;
  priority: string;
  user: string;
  note: string;
  tags: string[];
  actions: string[];
  details: Record<string, string>;
}

/**
 * Longer results are cut: the alert's own limits (limits.ts) then apply to each field. As long as the
 * longest field the Alert API takes (a note, 25,000 characters), so `{{note}}` passes any note through whole.
 */
export const MAX_EXPANDED_LENGTH = 25_000;

// No lazy or nested quantifier: a failed match costs at most 300 steps from each "{{".
const PLACEHOLDER = /\{\{([^{}]{0,300})\}\}/g;
const DETAIL_PREFIXES = ['details.', 'extraProperties.', 'extra-properties.', 'extraproperties.'];

function detail(details: Record<string, string>, key: string): string {
  if (Object.hasOwn(details, key)) return details[key] ?? '';
  // Keys are matched ignoring case, as conditions match them (conditions.ts).
  const wanted = key.toLowerCase();
  for (const [k, v] of Object.entries(details)) if (k.toLowerCase() === wanted) return v;
  return '';
}

function valueOf(name: string, values: TemplateValues): string {
  switch (name) {
    case 'message':
    case 'alias':
    case 'description':
    case 'entity':
    case 'source':
    case 'priority':
    case 'user':
    case 'note':
      return values[name];
    case 'tags':
    case 'actions':
      return values[name].join(',');
    default: {
      const prefix = DETAIL_PREFIXES.find((p) => name.startsWith(p));
      return prefix ? detail(values.details, name.slice(prefix.length)) : '';
    }
  }
}

/**
 * The template with each placeholder replaced; cut to `max` characters (code points, as the alert's
 * limits count them; {@link MAX_EXPANDED_LENGTH} at most), never inside one: half a surrogate pair is
 * text the database refuses to store. A field with a lower limit (a detail's value) passes it, so that
 * no more is built than can be kept.
 */
export function expandTemplate(template: string, values: TemplateValues, max = MAX_EXPANDED_LENGTH): string {
  const most = Math.max(0, Math.min(max, MAX_EXPANDED_LENGTH));
  const fit = (text: string) => cutToCharacters(text, most, '');
  if (!template.includes('{{')) return fit(template);
  // So many UTF-16 units hold at least `most` characters (a character is at most two): nothing past them
  // can be kept, so no more is appended (a long value is not copied whole).
  const enoughUnits = 2 * most;
  let out = '';
  let last = 0;
  const append = (piece: string) => {
    const room = enoughUnits - out.length;
    out += piece.length > room ? piece.slice(0, room) : piece;
  };
  for (const match of template.matchAll(PLACEHOLDER)) {
    append(template.slice(last, match.index));
    append(valueOf((match[1] ?? '').trim(), values));
    last = match.index + match[0].length;
    // Each value is bounded, but many placeholders could multiply them: stop as soon as it is too long.
    if (out.length >= enoughUnits) return fit(out);
  }
  append(template.slice(last));
  return fit(out);
}
