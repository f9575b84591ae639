import { hash, verify } from '@node-rs/argon2';
import { invalidField } from '../errors.js';

/**
 * Console passwords, hashed with Argon2id (@node-rs/argon2's defaults are OWASP's minimum: 19 MiB, two
 * passes, one lane) into a PHC string that carries its own parameters, so they can be raised later
 * without invalidating stored hashes.
 */

export const MIN_PASSWORD_LENGTH = 12;
// Argon2 hashes any length, but a megabyte-long "password" is a way to make the server work for nothing.
export const MAX_PASSWORD_LENGTH = 256;

/** Refuses a password too short or too long to accept, naming the field. */
export function checkNewPassword(password: string, field = 'password'): void {
  if (password.length < MIN_PASSWORD_LENGTH)
    throw invalidField(field, `must be at least ${MIN_PASSWORD_LENGTH} characters.`);
  if (password.length > MAX_PASSWORD_LENGTH)
    throw invalidField(field, `must be at most ${MAX_PASSWORD_LENGTH} characters.`);
}

export function hashPassword(password: string): Promise<string> {
  return hash(password);
}

// Verified against when the email is unknown, so that an unknown address takes as long as a wrong password.
let decoy: Promise<string> | undefined;

/** Whether `password` matches `stored`; with no stored hash, spends the same time and answers false. */
export async function passwordMatches(password: string, stored: string | undefined): Promise<boolean> {
  if (password.length > MAX_PASSWORD_LENGTH) return false;
  if (stored === undefined) {
    decoy ??= hash('not a password of anyone');
    await verify(await decoy, password).catch(() => false);
    return false;
  }
  return verify(stored, password).catch(() => false);
}
