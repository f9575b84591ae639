import { createHash, randomUUID, timingSafeEqual } from 'node:crypto';

/**
 * API keys are random UUIDs (the shape Opsgenie's keys have, so clients that check it keep working).
 * Only their SHA-256 is stored: a key has 122 random bits, so a slow password hash would add nothing
 * but latency to every request. The first 16 hex digits of the hash find the row; the whole hash is
 * then compared in constant time.
 */
export function generateApiKey(): string {
  return randomUUID();
}

export function hashApiKey(key: string): { lookup: string; hash: Buffer } {
  const hash = createHash('sha256').update(key, 'utf8').digest();
  return { lookup: hash.subarray(0, 8).toString('hex'), hash };
}

export function apiKeyMatches(key: string, storedHash: Buffer): boolean {
  const { hash } = hashApiKey(key);
  return storedHash.length === hash.length && timingSafeEqual(storedHash, hash);
}

/**
 * Reads `GenieKey <key>` or `Bearer <key>` from an Authorization header, or `Basic` credentials whose
 * password is the key: Prometheus Alertmanager (http_config.basic_auth.password) and Grafana send it so,
 * the user name empty, and Opsgenie takes it. The password is what follows the first colon (the whole
 * value when there is none). Malformed Base64, text that is not UTF-8, or an empty key give nothing.
 */
export function keyFromAuthorization(header: string | undefined): string | undefined {
  return keyAndSchemeFromAuthorization(header)?.key;
}

/** The scheme an Authorization header sent its API key with (keyFromAuthorization). */
export type KeyScheme = 'geniekey' | 'bearer' | 'basic';

/** keyFromAuthorization, with the scheme (lower case) the key came in. */
export function keyAndSchemeFromAuthorization(
  header: string | undefined,
): { key: string; scheme: KeyScheme } | undefined {
  if (!header) return undefined;
  const match = /^\s*(GenieKey|Bearer|Basic)\s+(\S+)\s*$/i.exec(header);
  if (!match?.[1] || !match[2]) return undefined;
  const scheme = match[1].toLowerCase() as KeyScheme;
  if (scheme !== 'basic') return { key: match[2], scheme };
  const decoded = decodeBasic(match[2]);
  if (decoded === undefined) return undefined;
  const colon = decoded.indexOf(':');
  const key = colon === -1 ? decoded : decoded.slice(colon + 1);
  return key === '' ? undefined : { key, scheme };
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Standard Base64 (its padding may be left out) as UTF-8 text; undefined when it is not that. */
function decodeBasic(token: string): string | undefined {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(token)) return undefined;
  const padded = token.padEnd(Math.ceil(token.length / 4) * 4, '=');
  if (padded.length !== token.length && token.includes('=')) return undefined;
  const bytes = Buffer.from(padded, 'base64');
  // Node skips what it cannot decode: only a value that encodes back to what was sent is well formed.
  if (bytes.toString('base64') !== padded) return undefined;
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}
