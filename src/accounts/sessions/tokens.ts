import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * The secrets of the console: session tokens (in an HTTP-only cookie) and the one-time tokens of
 * invitation and password-reset links. 256 random bits each; only their SHA-256 is stored, so a copy of
 * the database signs nobody in.
 */
export function newSecretToken(): string {
  return randomBytes(32).toString('base64url');
}

/** The code the first visit to an empty database must give: 128 random bits, short enough to copy. */
export function newSetupCode(): string {
  return randomBytes(16).toString('base64url');
}

export function tokenHash(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

/**
 * The CSRF token of a session: derived from its secret token, so it needs no storage, and a page of
 * another site, which can neither read the cookie nor this value, cannot forge a request carrying it.
 */
export function csrfTokenFor(sessionToken: string): string {
  return createHmac('sha256', sessionToken).update('vigil console csrf').digest('base64url');
}

export function csrfMatches(sessionToken: string, presented: unknown): boolean {
  return typeof presented === 'string' && sameSecret(presented, csrfTokenFor(sessionToken));
}

/** Whether a presented secret is the expected one, compared in constant time (its length is no secret). */
export function sameSecret(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
