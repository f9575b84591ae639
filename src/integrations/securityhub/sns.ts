import crypto, { X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { httpsGet } from '../../http/outbound.js';

/**
 * Amazon SNS message verification, as AWS specifies it: the signing certificate comes only from an SNS host
 * over https, the signature (SHA1withRSA for SignatureVersion 1, SHA256withRSA for 2) covers the fields in
 * stringToSign, the certificate must have been valid when the message was sent, and old messages are refused.
 */

export type SnsMessageType = 'SubscriptionConfirmation' | 'Notification' | 'UnsubscribeConfirmation';

export interface SnsMessage {
  Type: SnsMessageType;
  MessageId: string;
  TopicArn: string;
  Message: string;
  Timestamp: string;
  SignatureVersion: string;
  Signature: string;
  SigningCertURL: string;
  Subject?: string;
  SubscribeURL?: string;
  Token?: string;
  UnsubscribeURL?: string;
  MessageAttributes?: unknown;
}

const MESSAGE_TYPES: readonly SnsMessageType[] = [
  'SubscriptionConfirmation',
  'Notification',
  'UnsubscribeConfirmation',
];

type StringField = Exclude<keyof SnsMessage, 'MessageAttributes' | 'Type'>;

const COMMON_FIELDS: readonly StringField[] = [
  'MessageId',
  'TopicArn',
  'Message',
  'Timestamp',
  'SignatureVersion',
  'Signature',
  'SigningCertURL',
];

const REQUIRED_FIELDS: Record<SnsMessageType, readonly StringField[]> = {
  Notification: [...COMMON_FIELDS, 'UnsubscribeURL'],
  SubscriptionConfirmation: [...COMMON_FIELDS, 'Token', 'SubscribeURL'],
  UnsubscribeConfirmation: [...COMMON_FIELDS, 'Token', 'SubscribeURL'],
};

/** The signed fields, in the order they enter the string to sign. */
const SIGNED_FIELDS: Record<SnsMessageType, ReadonlyArray<keyof SnsMessage>> = {
  Notification: ['Message', 'MessageId', 'Subject', 'Timestamp', 'TopicArn', 'Type'],
  SubscriptionConfirmation: [
    'Message',
    'MessageId',
    'SubscribeURL',
    'Timestamp',
    'Token',
    'TopicArn',
    'Type',
  ],
  UnsubscribeConfirmation: ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'],
};

const MAX_TOPIC_ARN_BYTES = 1024;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isMessageType(value: unknown): value is SnsMessageType {
  return typeof value === 'string' && (MESSAGE_TYPES as readonly string[]).includes(value);
}

/** Checks the shape of an SNS message (not its signature): a known Type and every field that Type needs. */
export function parseSnsMessage(
  body: unknown,
): { ok: true; message: SnsMessage } | { ok: false; reason: string } {
  if (!isRecord(body))
    return { ok: false, reason: 'The body is not a JSON object, so it is not an SNS message.' };
  const type = body.Type;
  if (!isMessageType(type)) {
    return {
      ok: false,
      reason: `Type ${JSON.stringify(type ?? null)} is not an SNS message type (expected ${MESSAGE_TYPES.join(', ')}).`,
    };
  }
  for (const field of REQUIRED_FIELDS[type]) {
    const value = body[field];
    if (typeof value !== 'string' || value === '') {
      return { ok: false, reason: `The ${type} message has no ${field}: it must be a non-empty string.` };
    }
  }
  // A topic ARN is at most about 330 ASCII characters (a 256-character name); it is a key in the database.
  if (Buffer.byteLength(body.TopicArn as string, 'utf8') > MAX_TOPIC_ARN_BYTES) {
    return {
      ok: false,
      reason: `TopicArn is longer than ${MAX_TOPIC_ARN_BYTES} bytes, so it is not an SNS topic ARN.`,
    };
  }
  if (body.Subject !== undefined && typeof body.Subject !== 'string') {
    return { ok: false, reason: 'Subject must be a string when present.' };
  }
  const message: SnsMessage = {
    Type: type,
    MessageId: body.MessageId as string,
    TopicArn: body.TopicArn as string,
    Message: body.Message as string,
    Timestamp: body.Timestamp as string,
    SignatureVersion: body.SignatureVersion as string,
    Signature: body.Signature as string,
    SigningCertURL: body.SigningCertURL as string,
  };
  for (const optional of ['Subject', 'SubscribeURL', 'Token', 'UnsubscribeURL'] as const) {
    const value = body[optional];
    if (typeof value === 'string') message[optional] = value;
  }
  if (body.MessageAttributes !== undefined) message.MessageAttributes = body.MessageAttributes;
  return { ok: true, message };
}

/** True for something shaped like an SNS envelope (as opposed to, say, a bare EventBridge event). */
export function looksLikeSnsMessage(body: unknown): boolean {
  return (
    isRecord(body) &&
    isMessageType(body.Type) &&
    typeof body.MessageId === 'string' &&
    typeof body.TopicArn === 'string'
  );
}

/** `Name\nValue\n` for each signed field present, in AWS's order for the message's Type. */
export function stringToSign(message: SnsMessage): string {
  let out = '';
  for (const field of SIGNED_FIELDS[message.Type]) {
    const value = message[field];
    if (typeof value === 'string') out += `${field}\n${value}\n`;
  }
  return out;
}

const SNS_HOST = /^sns\.[a-zA-Z0-9-]{3,}\.amazonaws\.com(\.cn)?$/;

function snsUrlProblem(name: string, raw: string): { url?: URL; problem?: string } {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { problem: `${name} ${JSON.stringify(raw)} is not a valid URL.` };
  }
  if (url.protocol !== 'https:')
    return { problem: `${name} must use https, not ${url.protocol.slice(0, -1)}.` };
  if (url.username || url.password) return { problem: `${name} must not carry a user name or password.` };
  // url.host keeps a non-default port, which AWS's validators refuse too.
  if (!SNS_HOST.test(url.host)) {
    return { problem: `${name} host ${url.host} is not an SNS host (sns.<region>.amazonaws.com).` };
  }
  return { url };
}

/** Undefined when SNS could have sent this SigningCertURL, else why not. */
export function signingCertUrlProblem(url: string): string | undefined {
  const checked = snsUrlProblem('SigningCertURL', url);
  if (!checked.url) return checked.problem;
  if (!checked.url.pathname.endsWith('.pem') || checked.url.search || checked.url.hash) {
    return `SigningCertURL must end in .pem (got path ${checked.url.pathname}${checked.url.search}).`;
  }
  return undefined;
}

/** Undefined when this SubscribeURL points at SNS over https and may be fetched, else why not. */
export function subscribeUrlProblem(url: string): string | undefined {
  return snsUrlProblem('SubscribeURL', url).problem;
}

function parseCertificate(pem: Buffer, source: string): X509Certificate {
  const text = pem.toString('utf8');
  if (!text.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`${source} is not a PEM certificate.`);
  }
  try {
    return new X509Certificate(text);
  } catch (error) {
    throw new Error(`${source} is not a readable PEM certificate: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

async function fetchCertificate(url: string): Promise<Buffer> {
  const response = await httpsGet(url, { timeoutMs: 5_000, maxBytes: 64 * 1024 });
  if (response.status !== 200) throw new Error(`GET ${url} answered HTTP ${response.status}.`);
  return response.body;
}

export interface SnsCertificateStoreOptions {
  /** Read certificates from here (named by the URL's last path segment) instead of fetching them. */
  certDir?: string;
  /** How to fetch a certificate URL's body. Default: httpsGet, 5 s timeout, 64 KiB cap. */
  fetch?: (url: string) => Promise<Buffer>;
  /** How long a certificate stays cached. Default 24 h. */
  ttlMs?: number;
  /** Most certificates cached at once. Default 100. */
  maxEntries?: number;
}

interface CacheEntry {
  expiresAt: number;
  certificate: Promise<X509Certificate>;
}

/** SNS signing certificates by URL: cached, fetched once for concurrent callers, failures not cached. */
export class SnsCertificateStore {
  private readonly certDir: string | undefined;
  private readonly fetch: (url: string) => Promise<Buffer>;
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly cache = new Map<string, CacheEntry>();

  constructor(options: SnsCertificateStoreOptions = {}) {
    this.certDir = options.certDir;
    this.fetch = options.fetch ?? fetchCertificate;
    this.ttlMs = options.ttlMs ?? 24 * 60 * 60 * 1000;
    this.maxEntries = Math.max(1, options.maxEntries ?? 100);
  }

  get(url: string): Promise<X509Certificate> {
    const now = Date.now();
    const cached = this.cache.get(url);
    if (cached && cached.expiresAt > now) {
      // Most recently used goes to the back; the front is evicted first.
      this.cache.delete(url);
      this.cache.set(url, cached);
      return cached.certificate;
    }
    if (cached) this.cache.delete(url);

    const entry: CacheEntry = { expiresAt: now + this.ttlMs, certificate: this.load(url) };
    this.cache.set(url, entry);
    while (this.cache.size > this.maxEntries) {
      const oldest = this.cache.keys().next().value;
      if (oldest === undefined) break;
      this.cache.delete(oldest);
    }
    entry.certificate.catch(() => {
      if (this.cache.get(url) === entry) this.cache.delete(url);
    });
    return entry.certificate;
  }

  private async load(url: string): Promise<X509Certificate> {
    const problem = signingCertUrlProblem(url);
    if (problem) throw new Error(problem);
    if (this.certDir !== undefined) {
      const name = new URL(url).pathname.split('/').pop() ?? '';
      if (!/^[A-Za-z0-9._-]+\.pem$/.test(name)) throw new Error(`${url} does not name a certificate file.`);
      const file = path.join(this.certDir, name);
      let pem: Buffer;
      try {
        pem = await fs.readFile(file);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new Error(
          code === 'ENOENT'
            ? `The signing certificate file ${file} does not exist: put the certificate from ${url} there.`
            : `Could not read the signing certificate file ${file}: ${(error as Error).message}`,
          { cause: error },
        );
      }
      return parseCertificate(pem, file);
    }
    return parseCertificate(await this.fetch(url), url);
  }
}

const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Verifies an SNS message: SignatureVersion, SigningCertURL, Timestamp and age, SubscribeURL (for
 * confirmations), the certificate (valid at Timestamp) and finally the signature. Never throws for a bad
 * message or an unreachable certificate: it answers with a reason instead.
 */
export async function verifySnsMessage(
  message: SnsMessage,
  options: { certificates: SnsCertificateStore; now?: Date; maxAgeSeconds: number },
): Promise<{ ok: true } | { ok: false; reason: string }> {
  const refuse = (reason: string) => ({ ok: false as const, reason });

  const version = message.SignatureVersion;
  if (version !== '1' && version !== '2') {
    return refuse(
      `SignatureVersion ${JSON.stringify(version)} is not supported: SNS signs with version 1 or 2.`,
    );
  }

  const certProblem = signingCertUrlProblem(message.SigningCertURL);
  if (certProblem) return refuse(certProblem);

  const sentAt = ISO_TIMESTAMP.test(message.Timestamp) ? Date.parse(message.Timestamp) : NaN;
  if (Number.isNaN(sentAt)) {
    return refuse(`Timestamp ${JSON.stringify(message.Timestamp)} is not an ISO 8601 date and time.`);
  }

  if (options.maxAgeSeconds > 0) {
    const now = (options.now ?? new Date()).getTime();
    const ageMs = now - sentAt;
    if (ageMs > options.maxAgeSeconds * 1000) {
      return refuse(
        `The message is ${Math.floor(ageMs / 1000)} s old, older than the maximum of ${options.maxAgeSeconds} s ` +
          '(VIGIL_SNS_MAX_MESSAGE_AGE); check the clock or raise the limit.',
      );
    }
    if (-ageMs > MAX_CLOCK_SKEW_MS) {
      return refuse(
        `The message Timestamp is ${Math.ceil(-ageMs / 1000)} s in the future; check this server's clock.`,
      );
    }
  }

  if (message.Type === 'SubscriptionConfirmation' || message.Type === 'UnsubscribeConfirmation') {
    const problem = subscribeUrlProblem(message.SubscribeURL ?? '');
    if (problem) return refuse(problem);
  }

  let certificate: X509Certificate;
  try {
    certificate = await options.certificates.get(message.SigningCertURL);
  } catch (error) {
    return refuse(
      `Could not get the signing certificate ${message.SigningCertURL}: ${(error as Error).message}`,
    );
  }

  const validFrom = Date.parse(certificate.validFrom);
  const validTo = Date.parse(certificate.validTo);
  if (Number.isNaN(validFrom) || Number.isNaN(validTo) || sentAt < validFrom || sentAt > validTo) {
    return refuse(
      `The signing certificate was not valid at the message Timestamp ${message.Timestamp} ` +
        `(valid ${certificate.validFrom} to ${certificate.validTo}).`,
    );
  }
  if (certificate.publicKey.asymmetricKeyType !== 'rsa') {
    return refuse(
      'The signing certificate does not hold an RSA key, so it cannot have signed an SNS message.',
    );
  }

  let verified: boolean;
  try {
    verified = crypto.verify(
      version === '1' ? 'sha1' : 'sha256',
      Buffer.from(stringToSign(message), 'utf8'),
      certificate.publicKey,
      Buffer.from(message.Signature, 'base64'),
    );
  } catch {
    verified = false;
  }
  if (!verified) {
    return refuse(
      `The Signature does not match the message (SignatureVersion ${version}): ` +
        'it was altered or not signed by SNS.',
    );
  }
  return { ok: true };
}
