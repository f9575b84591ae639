import type { CreateAlertInput } from './service.js';
import { ALERT_DETAILS_MAX_KEYS } from '../http/schemas.js';

/**
 * Opsgenie's cosmetic limits on an alert: a message of 130 characters, 20 tags of 50, 10 actions of 50,
 * a source of 100 (Alertmanager's default source, its URL and receiver, can pass it), a description of
 * 15,000 (Alertmanager's default description lists every alert of the group: some sixty pass it).
 * Opsgenie refuses an alert over them; a pager must not lose a page over its length, so Vigil keeps the
 * alert, cuts what is over, keeps the whole text in details (but a description's, longer than a detail
 * holds), and says so on the alert's log.
 */
export const ALERT_LIMITS = {
  message: 130,
  tags: 20,
  tag: 50,
  actions: 10,
  action: 50,
  source: 100,
  description: 15_000,
} as const;

/**
 * The longest description a create or Update Description request may carry: as many characters as a
 * request body holds by default (VIGIL_BODY_LIMIT), so that none a sender can send is refused; the alert
 * keeps ALERT_LIMITS.description of it.
 */
export const DESCRIPTION_ACCEPTED = 1024 * 1024;

/** A description as the alert keeps it: cut to ALERT_LIMITS.description, ending in "…". */
export function fitDescription(description: string): { description: string; cut: boolean } {
  const kept = cutToCharacters(description, ALERT_LIMITS.description);
  return { description: kept, cut: kept !== description };
}

/** What the alert's log says of a description so cut. */
export const DESCRIPTION_CUT = `the description was cut to ${ALERT_LIMITS.description.toLocaleString('en-US')} characters`;

/**
 * The most an alert's details hold, however many requests add to them: the keys one create or Add
 * Details request may carry, and the JSON (UTF-8) one request body may carry by default
 * (VIGIL_BODY_LIMIT), so that an alert made by one request fits. GET and every webhook send them whole.
 */
export const DETAILS_LIMITS = { keys: ALERT_DETAILS_MAX_KEYS, bytes: 1024 * 1024 } as const;

/** Bytes of JSON (UTF-8), as a request body carries them. */
export const jsonBytes = (value: unknown) => Buffer.byteLength(JSON.stringify(value), 'utf8');

/** Details' size as DETAILS_LIMITS counts it: keys, and bytes of JSON. */
export function detailsSize(details: Record<string, string>): { keys: number; bytes: number } {
  return { keys: Object.keys(details).length, bytes: jsonBytes(details) };
}

/**
 * Whether details holding `keys` keys in `bytes` are past the limits where `before` was not, or further
 * past: an alert made over them (a larger VIGIL_BODY_LIMIT) may still have values replaced, not grow.
 */
export function detailsGrowPast(
  before: { keys: number; bytes: number },
  after: { keys: number; bytes: number },
): boolean {
  return (
    (after.keys > DETAILS_LIMITS.keys && after.keys > before.keys) ||
    (after.bytes > DETAILS_LIMITS.bytes && after.bytes > before.bytes)
  );
}

/**
 * The details' size once `key` is set to `value` (`old`: its value before, if any), counted entry by
 * entry (a key, a colon, a value, a comma between entries) as JSON.stringify writes them.
 */
export function detailsSizeWith(
  size: { keys: number; bytes: number },
  key: string,
  old: string | undefined,
  value: string,
): { keys: number; bytes: number } {
  return old === undefined
    ? {
        keys: size.keys + 1,
        bytes: size.bytes + jsonBytes(key) + 1 + jsonBytes(value) + (size.keys > 0 ? 1 : 0),
      }
    : { keys: size.keys, bytes: size.bytes - jsonBytes(old) + jsonBytes(value) };
}

/** Where the whole text of what was cut is kept. */
export const FULL_TEXT_DETAILS = {
  message: 'fullMessage',
  source: 'fullSource',
  tags: 'tagsOverLimits',
  actions: 'actionsOverLimits',
} as const;

const DETAIL_MAX = 8000;

/**
 * The UTF-16 units the first `chars` characters (code points, a lone surrogate counting as one, as
 * Array.from counts them) of `text` take: `text.length` when it has no more. In time proportional to
 * `chars`, not to the text (a template may read a 15,000-character field a thousand times).
 */
function unitsOfFirst(text: string, chars: number): number {
  let units = 0;
  for (let n = 0; n < chars && units < text.length; n++) {
    const unit = text.charCodeAt(units);
    const next = units + 1 < text.length ? text.charCodeAt(units + 1) : 0;
    units += unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
  }
  return units;
}

/**
 * Cuts to `max` characters (code points: a character is never split), `marker` (an ellipsis unless told)
 * ending what is kept.
 */
export function cutToCharacters(value: string, max: number, marker = '…'): string {
  // No more UTF-16 units than `max`: no more characters either.
  if (value.length <= max || unitsOfFirst(value, max) === value.length) return value;
  const kept = Math.max(0, max - Array.from(marker).length);
  return `${value.slice(0, unitsOfFirst(value, kept))}${marker}`;
}

const cut = (value: string, max: number) => cutToCharacters(value, max);

/** A source or user name given with an action, as long as Opsgenie allows (the log line keeps that much). */
export function fitActorText(value: string | undefined): string | undefined {
  return value === undefined ? undefined : cut(value, ALERT_LIMITS.source);
}

/** "1 tag", "3 tags". */
function count(n: number, plural: 'tags' | 'actions'): string {
  return `${n} ${n === 1 ? plural.slice(0, -1) : plural}`;
}

function length(value: string): number {
  return Array.from(value).length;
}

/**
 * The alert as Opsgenie's limits allow it, and what was changed to get there (a clause each, for the
 * log); nothing when it fits.
 */
export function fitAlertLimits(input: CreateAlertInput): { input: CreateAlertInput; changes: string[] } {
  const changes: string[] = [];
  const details: Record<string, string> = { ...(input.details ?? {}) };
  let { message, tags, actions, source, description } = input;

  if (length(message) > ALERT_LIMITS.message) {
    details[FULL_TEXT_DETAILS.message] = cut(message, DETAIL_MAX);
    message = cut(message, ALERT_LIMITS.message);
    changes.push(
      `the message was cut to ${ALERT_LIMITS.message} characters (all of it is in details.${FULL_TEXT_DETAILS.message})`,
    );
  }
  if (source !== undefined && length(source) > ALERT_LIMITS.source) {
    details[FULL_TEXT_DETAILS.source] = cut(source, DETAIL_MAX);
    source = cut(source, ALERT_LIMITS.source);
    changes.push(
      `the source was cut to ${ALERT_LIMITS.source} characters (all of it is in details.${FULL_TEXT_DETAILS.source})`,
    );
  }
  if (description !== undefined) {
    const fitted = fitDescription(description);
    if (fitted.cut) {
      description = fitted.description;
      changes.push(DESCRIPTION_CUT);
    }
  }
  const fitList = (
    list: string[] | undefined,
    most: number,
    longest: number,
    what: 'tags' | 'actions',
  ): string[] | undefined => {
    if (!list) return list;
    const unique = [...new Set(list)];
    const over = unique.slice(0, most).filter((v) => length(v) > longest);
    const kept = unique.slice(0, most).map((v) => cut(v, longest));
    const dropped = unique.slice(most);
    if (over.length === 0 && dropped.length === 0) return list;
    details[FULL_TEXT_DETAILS[what]] = cut([...over, ...dropped].join(', '), DETAIL_MAX);
    const parts = [
      ...(dropped.length > 0 ? [`${count(dropped.length, what)} over ${most} left out`] : []),
      ...(over.length > 0 ? [`${count(over.length, what)} cut to ${longest} characters`] : []),
    ];
    changes.push(`${parts.join(' and ')} (in full in details.${FULL_TEXT_DETAILS[what]})`);
    return kept;
  };
  tags = fitList(tags, ALERT_LIMITS.tags, ALERT_LIMITS.tag, 'tags');
  actions = fitList(actions, ALERT_LIMITS.actions, ALERT_LIMITS.action, 'actions');
  if (changes.length === 0) return { input, changes };
  return {
    input: {
      ...input,
      message,
      ...(source !== undefined ? { source } : {}),
      ...(description !== undefined ? { description } : {}),
      ...(tags ? { tags } : {}),
      ...(actions ? { actions } : {}),
      details,
    },
    changes,
  };
}
