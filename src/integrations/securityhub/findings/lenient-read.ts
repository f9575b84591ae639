/**
 * Readers that take whatever a sender put in a field and give back a usable value or undefined, never
 * throwing. Apart because events, both finding formats and the alert builder all read untrusted JSON the
 * same forgiving way.
 */

export type Obj = Record<string, unknown>;

export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function obj(value: unknown): Obj | undefined {
  return isObj(value) ? value : undefined;
}

/** A non-blank string as it is, or a finite number/boolean as a string; anything else undefined. */
export function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean')
    return String(value);
  return undefined;
}

/** Like str, trimmed: for text shown to people. */
export function display(value: unknown): string | undefined {
  return str(value)?.trim();
}

/** A finite number, or a string holding one. */
export function num(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

export function strings(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const out: string[] = [];
  for (const item of value) {
    const s = display(item);
    if (s !== undefined) out.push(s);
  }
  return out;
}

export function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
