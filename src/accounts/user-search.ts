import { sql, type RawBuilder } from 'kysely';
import { nameKey } from '../db/name-key.js';

/**
 * GET /v2/users?query=: the users whose username or full name contains the query, without regard to
 * case in Unicode's terms (nameKey, as names of saved searches and roles are compared: "élodie" finds
 * "Élodie Martin", "strasse" finds "Straße"), which PostgreSQL's ILIKE does not give under the C locale
 * Vigil's own database runs with (it folds ASCII only). Each user's `search_key` (migration 0083) holds
 * both names folded so, and PostgreSQL finds the query's fold in it: the page and its count are read as
 * any other list's, whatever the query.
 */

/**
 * A user's `search_key`: the nameKey of the username, a line break, the nameKey of the full name. A
 * username holds no line break (it is an email address), so the first one in the key ends it.
 */
export function userSearchKey(username: string, fullName: string): string {
  return `${nameKey(username)}\n${nameKey(fullName)}`;
}

/** A LIKE pattern (backslash escapes, PostgreSQL's default) that text containing `text` matches. */
export function containing(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/**
 * The condition on `users` of the search for `query`. A query with a line break is looked for in the
 * full name's part only (one could not span the two names). A user with no `search_key` (written by a
 * process from before 0083, or renamed by one: 0083's trigger clears the key of any rename that does
 * not key it again) is compared as before 0082, by ASCII case, until Vigil next changes them.
 */
export function userSearch(query: string): RawBuilder<boolean> {
  const folded = nameKey(query);
  const key = folded.includes('\n')
    ? sql`substr(search_key, strpos(search_key, ${'\n'}) + 1)`
    : sql.ref('search_key');
  const asGiven = containing(query);
  return sql<boolean>`(${key} LIKE ${containing(folded)}
    OR (search_key IS NULL AND (username ILIKE ${asGiven} OR full_name ILIKE ${asGiven})))`;
}
