import crypto from 'node:crypto';
import type http from 'node:http';

/**
 * SigV4 as AWS checks it, for the local AWS fakes: the canonical request is rebuilt from what arrived
 * on the wire and signed with the secret the fake knows, so a request that passes here would pass AWS.
 */

const ALGORITHM = 'AWS4-HMAC-SHA256';
/** AWS refuses requests whose x-amz-date is more than 15 minutes away from its clock. */
export const MAX_CLOCK_SKEW_MS = 15 * 60 * 1000;

export interface HeldCredential {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** Set for credentials STS issued. */
  issued?: { accountId: string; roleArn: string; assumedRoleArn: string; expiresAt: number };
}

export type SigFailureReason = 'missing' | 'incomplete' | 'unknown-key' | 'mismatch' | 'expired-token';

export type SigResult =
  | { ok: true; accessKeyId: string; region: string; credential: HeldCredential }
  | { ok: false; reason: SigFailureReason; message: string; accessKeyId: string; region: string };

export function sha256Hex(data: Buffer | string): string {
  return crypto.createHash('sha256').update(data).digest('hex');
}

export function hmac(key: Buffer | string, data: string): Buffer {
  return crypto.createHmac('sha256', key).update(data, 'utf8').digest();
}

/** RFC 3986 encoding, as SigV4 wants it (encodeURIComponent leaves !'()* alone). */
function escapeUri(s: string): string {
  return encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The canonical URI for non-S3 services: the path as sent, normalized, then URI-encoded once more. */
function canonicalPath(rawPath: string): string {
  const segments: string[] = [];
  for (const segment of rawPath.split('/')) {
    if (segment.length === 0 || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const normalized = `${rawPath.startsWith('/') ? '/' : ''}${segments.join('/')}${
    segments.length > 0 && rawPath.endsWith('/') ? '/' : ''
  }`;
  return escapeUri(normalized).replace(/%2F/g, '/');
}

function canonicalQuery(rawQuery: string): string {
  if (rawQuery === '') return '';
  const pairs: [string, string][] = [];
  for (const part of rawQuery.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const key = safeDecode(eq < 0 ? part : part.slice(0, eq));
    const value = safeDecode(eq < 0 ? '' : part.slice(eq + 1));
    if (key.toLowerCase() === 'x-amz-signature') continue;
    pairs.push([escapeUri(key), escapeUri(value)]);
  }
  pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0));
  return pairs.map(([k, v]) => `${k}=${v}`).join('&');
}

function headerValue(req: http.IncomingMessage, name: string): string | undefined {
  const values = req.headersDistinct[name];
  if (values === undefined) return undefined;
  return values.join(',');
}

function canonicalHeaderValue(value: string): string {
  return value
    .replace(/[\r\n]/g, ' ')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
}

/** 20261127T184443Z -> ms since the epoch, or undefined when malformed. */
function parseAmzDate(s: string): number | undefined {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s);
  if (!m) return undefined;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]));
  return Number.isNaN(ms) ? undefined : ms;
}

export function verifySigV4(
  req: http.IncomingMessage,
  body: Buffer,
  service: string,
  regionOk: (region: string) => boolean,
  lookup: (accessKeyId: string) => HeldCredential | undefined,
): SigResult {
  let accessKeyId = '';
  let region = '';
  const fail = (reason: SigFailureReason, message: string): SigResult => ({
    ok: false,
    reason,
    message,
    accessKeyId,
    region,
  });

  const authorization = headerValue(req, 'authorization');
  if (authorization === undefined || authorization === '')
    return fail('missing', 'Missing Authentication Token');
  if (!authorization.startsWith(`${ALGORITHM} `))
    return fail('incomplete', `Unsupported AWS 'algorithm': '${authorization.split(' ')[0] ?? ''}'`);

  const params = new Map<string, string>();
  for (const part of authorization.slice(ALGORITHM.length + 1).split(',')) {
    const trimmed = part.trim();
    const eq = trimmed.indexOf('=');
    if (eq <= 0) return fail('incomplete', `Authorization header is malformed: '${trimmed}'`);
    params.set(trimmed.slice(0, eq), trimmed.slice(eq + 1));
  }
  for (const required of ['Credential', 'SignedHeaders', 'Signature'])
    if (!params.has(required))
      return fail(
        'incomplete',
        `Authorization header requires '${required}' parameter. Authorization=${authorization}`,
      );

  const credentialParts = (params.get('Credential') ?? '').split('/');
  if (credentialParts.length !== 5 || credentialParts[4] !== 'aws4_request')
    return fail(
      'incomplete',
      `Credential should be of the form <access key>/<yyyymmdd>/<region>/<service>/aws4_request, got '${params.get('Credential') ?? ''}'`,
    );
  const [akid = '', scopeDate = '', scopeRegion = '', scopeService = ''] = credentialParts;
  accessKeyId = akid;
  region = scopeRegion;
  if (!/^\d{8}$/.test(scopeDate) || akid === '' || scopeRegion === '')
    return fail('incomplete', `Credential scope is malformed: '${params.get('Credential') ?? ''}'`);

  const signature = params.get('Signature') ?? '';
  if (!/^[0-9a-f]{64}$/.test(signature))
    return fail('incomplete', 'Signature should be 64 lowercase hex characters');
  const signedHeaders = (params.get('SignedHeaders') ?? '').split(';');
  if (signedHeaders.some((h) => !/^[a-z0-9-]+$/.test(h)))
    return fail('incomplete', `SignedHeaders is malformed: '${params.get('SignedHeaders') ?? ''}'`);
  const sortedSigned = [...signedHeaders].sort();
  if (
    sortedSigned.join(';') !== signedHeaders.join(';') ||
    new Set(signedHeaders).size !== signedHeaders.length
  )
    return fail('mismatch', 'SignedHeaders must be lowercase, sorted and without duplicates');

  const amzDate = headerValue(req, 'x-amz-date');
  if (amzDate === undefined)
    return fail(
      'incomplete',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  const requestTime = parseAmzDate(amzDate);
  if (requestTime === undefined) return fail('incomplete', `X-Amz-Date is malformed: '${amzDate}'`);
  if (!signedHeaders.includes('host'))
    return fail('mismatch', "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  if (!signedHeaders.includes('x-amz-date'))
    return fail('mismatch', "'X-Amz-Date' must be a 'SignedHeader' in the AWS Authorization.");
  if (scopeDate !== amzDate.slice(0, 8))
    return fail(
      'mismatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  if (scopeService !== service)
    return fail('mismatch', `Credential should be scoped to correct service: '${service}'. `);
  if (!regionOk(scopeRegion))
    return fail('mismatch', `Credential should be scoped to a valid region, not '${scopeRegion}'. `);

  const credential = lookup(akid);
  if (credential === undefined)
    return fail('unknown-key', 'The security token included in the request is invalid.');
  const token = headerValue(req, 'x-amz-security-token');
  if (token !== credential.sessionToken)
    return fail('unknown-key', 'The security token included in the request is invalid.');

  const payloadHash = sha256Hex(body);
  const claimedHash = headerValue(req, 'x-amz-content-sha256');
  if (claimedHash !== undefined && claimedHash !== payloadHash)
    return fail('mismatch', "The provided 'x-amz-content-sha256' header does not match what was computed.");

  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const canonicalRequest = [
    req.method ?? '',
    canonicalPath(q < 0 ? url : url.slice(0, q)),
    canonicalQuery(q < 0 ? '' : url.slice(q + 1)),
    ...signedHeaders.map((h) => `${h}:${canonicalHeaderValue(headerValue(req, h) ?? '')}`),
    '',
    signedHeaders.join(';'),
    payloadHash,
  ].join('\n');
  const scope = `${scopeDate}/${scopeRegion}/${scopeService}/aws4_request`;
  const stringToSign = [ALGORITHM, amzDate, scope, sha256Hex(canonicalRequest)].join('\n');
  let key = hmac(`AWS4${credential.secretAccessKey}`, scopeDate);
  key = hmac(key, scopeRegion);
  key = hmac(key, scopeService);
  key = hmac(key, 'aws4_request');
  const expected = hmac(key, stringToSign).toString('hex');
  if (!crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(signature)))
    return fail(
      'mismatch',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.',
    );

  const now = Date.now();
  if (Math.abs(now - requestTime) > MAX_CLOCK_SKEW_MS)
    return fail(
      'mismatch',
      `Signature expired: ${amzDate} is now earlier than ${toAmzDate(now - MAX_CLOCK_SKEW_MS)} (${toAmzDate(now)} - 15 min.)`,
    );
  if (credential.issued && now >= credential.issued.expiresAt)
    return fail('expired-token', 'The security token included in the request is expired');

  return { ok: true, accessKeyId: akid, region: scopeRegion, credential };
}

export function toAmzDate(ms: number): string {
  return new Date(ms)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

export function readBody(req: http.IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function xmlEscape(s: string): string {
  return s
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}
