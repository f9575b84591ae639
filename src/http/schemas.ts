import { Type, type TSchemaOptions } from 'typebox';

/** A string from a fixed list, as a JSON Schema `enum` (one clear error, unlike a union of literals). */
export function StringEnum<const T extends readonly string[]>(values: T, options: TSchemaOptions = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/**
 * How a team is named in the path: by id (the default) or by name. Opsgenie's team APIs call the query
 * parameter `identifierType`, its member and routing APIs `teamIdentifierType`: both are read everywhere.
 */
export const TeamIdentifierQuery = Type.Object({
  identifierType: Type.Optional(StringEnum(['id', 'name'])),
  teamIdentifierType: Type.Optional(StringEnum(['id', 'name'], { description: 'Same as identifierType.' })),
});

export function teamIdentifierTypeOf(query: {
  identifierType?: 'id' | 'name';
  teamIdentifierType?: 'id' | 'name';
}): 'id' | 'name' {
  return query.teamIdentifierType ?? query.identifierType ?? 'id';
}
