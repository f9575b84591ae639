/**
 * Numbers a request carries that are not finite, found after validation. Ajv (with coerceTypes) turns
 * the text "1e309", "-1e309" or "Infinity" into ±Infinity for a number field, and its own checks of
 * `integer`, `minimum` and `maximum` let ±Infinity through (they are skipped for a number that is not
 * finite). A handler then meets a limit of Infinity (every row, or PostgreSQL's "invalid input syntax for
 * type bigint"), or Luxon's error for an interval of -Infinity. A number nested in a free-form field
 * (JSON.parse gives Infinity for 1e309) would also be stored as null without a word.
 */

/**
 * How deep a request is searched. The deepest number a route's schema declares sits 6 levels down (a
 * schedule's rotations[i].timeRestriction.restrictions[j].startHour); past this there is only free-form
 * JSON, where a number that is not finite is stored as null, harmlessly.
 */
export const MAX_NUMBER_DEPTH = 16;

/** The path to the first number in `value` that is not finite (keys and indexes, outermost first). */
export function nonFiniteNumberAt(value: unknown): (string | number)[] | undefined {
  return search(value, 0);
}

function search(value: unknown, depth: number): (string | number)[] | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : [];
  if (typeof value !== 'object' || value === null || depth >= MAX_NUMBER_DEPTH) return undefined;
  // Strings are most of a request (every alert's message, tags and details) and are passed over unread.
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      if (typeof item !== 'number' && (typeof item !== 'object' || item === null)) continue;
      const path = search(item, depth + 1);
      if (path) {
        path.unshift(i);
        return path;
      }
    }
    return undefined;
  }
  const record = value as Record<string, unknown>;
  for (const key in record) {
    const item = record[key];
    if (typeof item !== 'number' && (typeof item !== 'object' || item === null)) continue;
    const path = search(item, depth + 1);
    if (path) {
      path.unshift(key);
      return path;
    }
  }
  return undefined;
}

/** A field's name as validation errors give it: `rotations[0].length`. */
export function fieldName(path: readonly (string | number)[]): string {
  return path.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('');
}

interface NumberSchema {
  type?: unknown;
  minimum?: unknown;
  maximum?: unknown;
  properties?: Record<string, unknown>;
  items?: unknown;
  additionalProperties?: unknown;
}

/** The schema a route declares for the value at `path`, where it is plainly an object's or array's. */
function schemaAt(schema: unknown, path: readonly (string | number)[]): NumberSchema | undefined {
  let at = schema as NumberSchema | undefined;
  for (const step of path) {
    if (typeof at !== 'object' || at === null) return undefined;
    const next: unknown =
      typeof step === 'number'
        ? at.items
        : (at.properties?.[step] ??
          (typeof at.additionalProperties === 'object' ? at.additionalProperties : undefined));
    at = next as NumberSchema | undefined;
  }
  return typeof at === 'object' && at !== null ? at : undefined;
}

/** What the field takes, from its schema (read only when a request is refused): "must be ... ." */
export function allowedNumbers(schema: unknown, path: readonly (string | number)[]): string {
  const declared = schemaAt(schema, path);
  const what = declared?.type === 'integer' ? 'a whole number' : 'a finite number';
  const min = typeof declared?.minimum === 'number' ? declared.minimum : undefined;
  const max = typeof declared?.maximum === 'number' ? declared.maximum : undefined;
  const range =
    min !== undefined && max !== undefined
      ? ` from ${min} to ${max}`
      : min !== undefined
        ? ` of at least ${min}`
        : max !== undefined
          ? ` of at most ${max}`
          : '';
  return `must be ${what}${range} (not Infinity, nor a number too large to represent, such as 1e309).`;
}
