/**
 * The grammar both sides of an event pattern read: field objects, `$or` and one-key operator objects.
 * Apart so that validation and matching agree on what a pattern is without importing each other.
 */

export const OR = '$or';

export type Fields = Record<string, unknown>;

export function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** An operator object holds exactly one key: its name and its argument. */
export function operatorOf(rule: Fields): [string, unknown] | undefined {
  const entries = Object.entries(rule);
  return entries.length === 1 ? entries[0] : undefined;
}
