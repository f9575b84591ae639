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

/** Reads `GenieKey <key>` or `Bearer <key>` from an Authorization header. */
export function keyFromAuthorization(header: string | undefined): string | undefined {
  if (!header) return undefined;
  const match = /^\s*(GenieKey|Bearer)\s+(\S+)\s*$/i.exec(header);
  return match?.[2];
}
