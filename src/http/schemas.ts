import { Type, type TSchemaOptions } from 'typebox';

/** A string from a fixed list, as a JSON Schema `enum` (one clear error, unlike a union of literals). */
export function StringEnum<const T extends readonly string[]>(values: T, options: TSchemaOptions = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}
