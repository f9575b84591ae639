import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Twilio's request signature (X-Twilio-Signature): base64 HMAC-SHA1, keyed with the account's auth token,
 * of the exact URL Twilio called followed by every POST parameter as key + value, keys sorted.
 * https://www.twilio.com/docs/usage/security#validating-requests, and twilio-node src/webhooks/webhooks.ts,
 * whose results these functions match (the tests check them against it).
 */

export type TwilioParams = Record<string, string | string[]>;

/**
 * Sorted as JavaScript's default sort does (UTF-16 code units), as twilio-node and twilio-java do. It is
 * code-point order for every key Twilio sends; the two differ only between astral characters and
 * U+E000–U+FFFF.
 */
function sorted(values: Iterable<string>): string[] {
  return [...values].sort();
}

/** The string Twilio signs: the URL, then key + value per param, an array's unique values sorted. */
function signedData(url: string, params: TwilioParams): string {
  let data = url;
  for (const key of sorted(Object.keys(params))) {
    const value = params[key] ?? '';
    const values = typeof value === 'string' ? [value] : sorted(new Set(value));
    for (const v of values) data += key + v;
  }
  return data;
}

export function twilioSignature(authToken: string, url: string, params: TwilioParams): string {
  return createHmac('sha1', authToken).update(signedData(url, params), 'utf8').digest('base64');
}

interface UrlParts {
  scheme: string;
  userInfo: string;
  host: string;
  port: string;
  rest: string;
}

/**
 * Splits without `new URL()`, which would re-encode the path and query (`'` becomes `%27`) and drop a
 * default port, so the signed string would no longer be the one Twilio signed.
 */
function splitUrl(url: string): UrlParts | undefined {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#]*)/i.exec(url);
  if (!match) return undefined;
  const [prefix, scheme = '', authority = ''] = match;
  const userInfoEnd = authority.lastIndexOf('@');
  const hostAndPort = authority.slice(userInfoEnd + 1);
  // In an IPv6 literal the port's colon can only follow the closing bracket.
  const portStart = hostAndPort.indexOf(':', hostAndPort.lastIndexOf(']') + 1);
  return {
    scheme,
    userInfo: authority.slice(0, userInfoEnd + 1),
    host: portStart === -1 ? hostAndPort : hostAndPort.slice(0, portStart),
    port: portStart === -1 ? '' : hostAndPort.slice(portStart),
    rest: url.slice(prefix.length),
  };
}

/**
 * The URL as received and its twin with or without the port: Twilio may have signed either, depending on
 * how the URL was configured and whether a proxy in front of us added or dropped `:443`. Like twilio-node,
 * the twin without a port drops any port, and the twin with one adds the scheme's default.
 */
function urlCandidates(url: string): string[] {
  const parts = splitUrl(url);
  if (!parts) return [url];
  const { scheme, userInfo, host, port, rest } = parts;
  const withoutPort = scheme + userInfo + host + rest;
  const defaultPort = scheme.toLowerCase() === 'https://' ? ':443' : ':80';
  const withPort = port ? url : scheme + userInfo + host + defaultPort + rest;
  return withoutPort === withPort ? [url] : [withoutPort, withPort];
}

function sameSignature(expected: string, given: Buffer): boolean {
  const wanted = Buffer.from(expected);
  // The expected length is fixed by SHA-1 and public, so leaving early on a mismatch reveals nothing.
  return wanted.length === given.length && timingSafeEqual(wanted, given);
}

export function isValidTwilioSignature(
  authToken: string,
  url: string,
  params: TwilioParams,
  signatureHeader: string | undefined,
): boolean {
  if (!signatureHeader) return false;
  const given = Buffer.from(signatureHeader);
  // Every candidate is checked, not just until one matches, so the time taken does not say which one did.
  let valid = false;
  for (const candidate of urlCandidates(url)) {
    if (sameSignature(twilioSignature(authToken, candidate, params), given)) valid = true;
  }
  return valid;
}

/**
 * An application/x-www-form-urlencoded body as Twilio's signature sees it: decoded values, a repeated key
 * as an array of its values in order.
 */
export function formParams(body: string): TwilioParams {
  // Without a prototype, a key such as `__proto__` or `constructor` is just another param.
  const params = Object.create(null) as TwilioParams;
  for (const [key, value] of new URLSearchParams(body)) {
    const seen = params[key];
    if (seen === undefined) params[key] = value;
    else if (typeof seen === 'string') params[key] = [seen, value];
    else seen.push(value);
  }
  return params;
}
