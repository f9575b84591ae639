import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Slack's request signing (v0): `X-Slack-Signature: v0=hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" +
 * rawBody))` with `X-Slack-Request-Timestamp` in Unix seconds. Checked over the body exactly as it came,
 * before anything parses it.
 */

/** Slack's replay window: a request more than five minutes from our time, either way, is refused. */
export const MAX_SKEW_SECONDS = 300;

export function slackSignature(secret: string, timestamp: string, rawBody: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${rawBody}`, 'utf8').digest('hex')}`;
}

export type SignatureVerdict = { ok: true } | { ok: false; reason: string };

export function verifySlackSignature(input: {
  secret: string;
  signature: string | undefined;
  timestamp: string | undefined;
  rawBody: string;
  now: Date;
}): SignatureVerdict {
  const { signature, timestamp } = input;
  if (!signature || !timestamp) return { ok: false, reason: 'the request is not signed' };
  // Digits only: a timestamp such as "1e3" or " 12" must not pass as a number and still sign differently.
  if (!/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'the request timestamp is not valid' };
  const skew = Math.abs(Math.floor(input.now.getTime() / 1000) - Number(timestamp));
  if (skew > MAX_SKEW_SECONDS) return { ok: false, reason: 'the request timestamp is too old or too new' };
  const expected = Buffer.from(slackSignature(input.secret, timestamp, input.rawBody), 'utf8');
  const given = Buffer.from(signature, 'utf8');
  // timingSafeEqual needs equal lengths; the length of a valid signature is no secret.
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) {
    return { ok: false, reason: 'the signature does not match' };
  }
  return { ok: true };
}
