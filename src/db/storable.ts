import { createHash } from 'node:crypto';

/**
 * Text from outside made storable in PostgreSQL, by one rule applied at every edge (HTTP bodies, query
 * strings and path parameters, SNS messages, EventBridge events and findings):
 *
 * - U+0000 (NUL), which PostgreSQL's text and jsonb cannot hold, becomes U+FFFD (the replacement character);
 * - a lone UTF-16 surrogate (half of a pair, as `"\ud800"` in JSON), which is not Unicode text and which
 *   jsonb refuses, becomes U+FFFD too.
 *
 * Every other character is kept as it came, and the length in UTF-16 code units does not change, so limits
 * checked afterwards mean what they say. Object keys are cleaned like values.
 */

const REPLACEMENT = '\uFFFD';
const NEEDS_CLEANING = /[\0\uD800-\uDFFF]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export function storableText(text: string): string {
  if (!NEEDS_CLEANING.test(text)) return text;
  return text.replaceAll('\0', REPLACEMENT).replace(LONE_SURROGATE, REPLACEMENT);
}

/** Nesting deeper than this is refused: no sender of alerts or findings needs it, and walking it costs stack. */
export const MAX_JSON_DEPTH = 64;

export class TooDeeplyNested extends Error {
  constructor() {
    super(`the JSON is nested more than ${MAX_JSON_DEPTH} levels deep`);
    this.name = 'TooDeeplyNested';
  }
}

/**
 * A parsed JSON value with every string (and key) made storable. The value itself comes back when nothing
 * needed cleaning, so the common case allocates nothing. Throws {@link TooDeeplyNested} past
 * {@link MAX_JSON_DEPTH} levels.
 */
export function storableJson<T>(value: T): T {
  return clean(value, 0) as T;
}

function clean(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return storableText(value);
  if (typeof value !== 'object' || value === null) return value;
  if (depth >= MAX_JSON_DEPTH) throw new TooDeeplyNested();
  if (Array.isArray(value)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const cleaned = clean(item, depth + 1);
      if (cleaned !== item) {
        out ??= value.slice();
        out[i] = cleaned;
      }
    }
    return out ?? value;
  }
  let changed = false;
  const entries: [string, unknown][] = [];
  for (const [key, item] of Object.entries(value)) {
    const cleanKey = storableText(key);
    const cleaned = clean(item, depth + 1);
    if (cleanKey !== key || cleaned !== item) changed = true;
    entries.push([cleanKey, cleaned]);
  }
  // fromEntries defines own properties, so a "__proto__" key stays a key and never becomes a prototype.
  return changed ? Object.fromEntries(entries) : value;
}

/** Longer keys are hashed: a btree index row holds at most 2,704 bytes, and keys share it with other columns. */
export const MAX_INDEXED_KEY_BYTES = 512;

/**
 * A text to use as (part of) an index key: the text itself when it fits, else `sha256:<hex>` of it. The
 * whole text is kept in a column without an index wherever it needs to be shown or sent on.
 */
export function indexKey(text: string): string {
  if (text.length * 3 <= MAX_INDEXED_KEY_BYTES || Buffer.byteLength(text, 'utf8') <= MAX_INDEXED_KEY_BYTES)
    return text;
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}
