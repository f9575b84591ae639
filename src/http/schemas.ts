import { Type, type Static, type TSchemaOptions } from 'typebox';

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

/** The most keys an alert's details hold (alerts/limits.ts DETAILS_LIMITS counts them too). */
export const ALERT_DETAILS_MAX_KEYS = 1000;

const DetailValue = Type.Union([Type.String({ maxLength: 8000 }), Type.Number(), Type.Boolean()]);
/**
 * An alert's details, and what becomes one (an incident's, a policy's, an integration action's): at
 * most 1,000 keys of 1 to 512 characters, each a string of up to 8,000, a number or a boolean.
 * Not a Type.Record: TypeBox makes its key a pattern (`^.*$`) and drops the key's limits, and Ajv's
 * pattern matches no key with a line break, whose value then went unchecked.
 */
export const AlertDetails = Type.Unsafe<Record<string, Static<typeof DetailValue>>>({
  type: 'object',
  propertyNames: { type: 'string', minLength: 1, maxLength: 512 },
  additionalProperties: DetailValue,
  maxProperties: ALERT_DETAILS_MAX_KEYS,
});

/** A person's login email (a username), as POST and PATCH /v2/users and a console invitation take it. */
export const Username = Type.String({ minLength: 3, maxLength: 100, format: 'email' });
