import { nameKey } from '../db/name-key.js';

/**
 * GET /v2/users?query=: the users whose username or full name contains the query, without regard to
 * case in Unicode's terms (nameKey, as names of saved searches and roles are compared: "élodie" finds
 * "Élodie Martin", "strasse" finds "Straße"), which PostgreSQL's ILIKE does not give under the C locale
 * Vigil's own database runs with (it folds ASCII only). PostgreSQL narrows the organization's users with
 * an ILIKE that every match passes (searchPattern), and the candidates are folded and compared here.
 */

/**
 * The ASCII characters that nameKey makes of some character beyond ASCII (";" of U+037E, "k" of the
 * Kelvin sign, "ss" of "ß", "fi" of "ﬁ", "i" of "İ" and "ı"...): in a stored name they may stand where
 * no such ASCII character is, so the pattern does not ask for them. user-search.test.ts checks the list
 * against every code point.
 */
export const ASCII_FROM_BEYOND = ';`afiklnst';

/**
 * An ILIKE pattern (backslash escapes) that every username or full name whose nameKey contains `folded`
 * (the query's nameKey) matches, under any locale: the query's ASCII characters that only ASCII ones
 * fold to, in order and each run of them unbroken (folding never drops a character between two), and
 * anything ('%') for the others. A query of only those others narrows nothing: all the organization's
 * users are then compared here, as ILIKE scanned them all before.
 */
export function searchPattern(folded: string): string {
  let pattern = '%';
  let wild = true;
  for (const char of folded) {
    if (char.charCodeAt(0) < 0x80 && !ASCII_FROM_BEYOND.includes(char)) {
      pattern += /[\\%_]/.test(char) ? `\\${char}` : char;
      wild = false;
    } else if (!wild) {
      pattern += '%';
      wild = true;
    }
  }
  return wild ? pattern : `${pattern}%`;
}

/** The search for `query`: the pattern that narrows the candidates, and the test each must pass. */
export function userSearch(query: string): { pattern: string; matches: (...values: string[]) => boolean } {
  const folded = nameKey(query);
  return {
    pattern: searchPattern(folded),
    matches: (...values) => values.some((value) => nameKey(value).includes(folded)),
  };
}
