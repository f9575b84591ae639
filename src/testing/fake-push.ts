import {
  createDecipheriv,
  createECDH,
  createHmac,
  createPublicKey,
  randomBytes,
  verify,
  type ECDH,
} from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local push service (RFC 8030) that checks a push as a real one does, and is the browser too: it makes
 * the subscriptions (`newSubscription`, with a fresh P-256 key pair and auth secret, as
 * `pushManager.subscribe` would), so it can decrypt what it gets (RFC 8291) and record the JSON.
 *
 * What it refuses, with the status real services use:
 * - a method other than POST (405), an unknown subscription (404);
 * - no `TTL` (400), an `Urgency` other than very-low / low / normal / high (400), a `Topic` longer than
 *   32 characters or outside base64url (400), a `Content-Encoding` other than aes128gcm (400);
 * - no `Authorization: vapid t=…, k=…` (401); a JWT whose ES256 signature does not verify with `k`, whose
 *   `aud` is not the endpoint's origin, whose `exp` is past or more than 24 h ahead, without a mailto: or
 *   https: `sub`, or a `k` other than the applicationServerKey the subscription was made with (403);
 * - a body over 4096 bytes (413), or one that does not decrypt to a single record ending in the 0x02
 *   delimiter (400);
 * and answers 201 with a Location. Scripted: a subscription can be made gone (410) or expired (404), or
 * fail its next n pushes with a status.
 */

export interface BrowserSubscription {
  endpoint: string;
  expirationTime: null;
  keys: { p256dh: string; auth: string };
}

export interface ReceivedPush {
  endpoint: string;
  ttl: number;
  urgency: string;
  topic: string | undefined;
  /** The decrypted body. */
  text: string;
  /** The body as JSON, when it is JSON. */
  json: unknown;
  at: Date;
}

export interface RefusedPush {
  endpoint: string;
  status: number;
  reason: string;
}

export interface FakePushService {
  /** The origin its endpoints name. */
  url: string;
  /** Where it listens (http://127.0.0.1:port): the same as `url` unless given another origin. */
  listening: string;
  /**
   * A browser's subscription on this service; with `applicationServerKey` (base64url, as given to
   * pushManager.subscribe) pushes must be signed with that key.
   */
  newSubscription(options?: { applicationServerKey?: string }): BrowserSubscription;
  /** Pushes accepted, all or to one endpoint, in order. */
  received(endpoint?: string): ReceivedPush[];
  /** Pushes refused, with why. */
  refused: RefusedPush[];
  /** The browser unsubscribed: 410 Gone from now on. */
  gone(endpoint: string): void;
  /** The subscription expired: 404 from now on (RFC 8030 §7.3). */
  expire(endpoint: string): void;
  /** The next `count` pushes to the endpoint get `status` (a 429 gets Retry-After: 1). */
  failNext(endpoint: string, count: number, status: number): void;
  close(): Promise<void>;
}

interface FakeSub {
  ecdh: ECDH;
  publicKey: Buffer;
  auth: Buffer;
  serverKey: string | undefined;
  state: 'active' | 'gone' | 'expired';
  failures: { count: number; status: number };
}

const MAX_BODY = 4096;
const URGENCIES = new Set(['very-low', 'low', 'normal', 'high']);

class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function hmac(key: Buffer, data: Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

/** RFC 8291 §3.4 and RFC 8188: one aes128gcm record, decrypted with the browser's keys. */
export function decryptPush(body: Buffer, ua: ECDH, auth: Buffer): Buffer {
  if (body.length < 86 + 17) throw new Refusal(400, 'body too short for an aes128gcm record');
  const salt = body.subarray(0, 16);
  const rs = body.readUInt32BE(16);
  const idlen = body[20] ?? 0;
  if (idlen !== 65) throw new Refusal(400, `keyid must be the sender's 65-byte key, was ${idlen} bytes`);
  const senderKey = body.subarray(21, 86);
  const ciphertext = body.subarray(86);
  if (rs < 18) throw new Refusal(400, `record size ${rs} too small`);
  if (ciphertext.length > rs) throw new Refusal(400, 'more than one record');
  let secret: Buffer;
  try {
    secret = ua.computeSecret(senderKey);
  } catch {
    throw new Refusal(400, "the sender's key is not a P-256 point");
  }
  const uaPublic = ua.getPublicKey();
  const prkKey = hmac(auth, secret);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), uaPublic, senderKey, Buffer.from([1])]);
  const ikm = hmac(prkKey, keyInfo);
  const prk = hmac(salt, ikm);
  const cek = hmac(prk, Buffer.from('Content-Encoding: aes128gcm\0\x01')).subarray(0, 16);
  const nonce = hmac(prk, Buffer.from('Content-Encoding: nonce\0\x01')).subarray(0, 12);
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(ciphertext.subarray(ciphertext.length - 16));
  let padded: Buffer;
  try {
    padded = Buffer.concat([
      decipher.update(ciphertext.subarray(0, ciphertext.length - 16)),
      decipher.final(),
    ]);
  } catch {
    throw new Refusal(400, 'the body does not decrypt with the subscription keys');
  }
  let end = padded.length - 1;
  while (end >= 0 && padded[end] === 0) end--;
  if (end < 0 || padded[end] !== 2)
    throw new Refusal(400, 'the last record does not end with the 0x02 delimiter');
  return padded.subarray(0, end);
}

/** RFC 8292: the vapid Authorization header, checked against the endpoint and the subscription's key. */
function checkVapid(header: string | undefined, origin: string, serverKey: string | undefined): string {
  if (!header) throw new Refusal(401, 'no Authorization header');
  const match = /^vapid\s+(.+)$/i.exec(header.trim());
  if (!match?.[1]) throw new Refusal(401, 'the Authorization scheme is not vapid');
  const params = new Map<string, string>();
  for (const part of match[1].split(',')) {
    const at = part.indexOf('=');
    if (at > 0) params.set(part.slice(0, at).trim().toLowerCase(), part.slice(at + 1).trim());
  }
  const t = params.get('t');
  const k = params.get('k');
  if (!t || !k) throw new Refusal(403, 'vapid needs both t and k');
  const key = Buffer.from(k, 'base64url');
  if (key.length !== 65 || key[0] !== 4) throw new Refusal(403, 'k is not an uncompressed P-256 point');
  if (serverKey !== undefined && k !== serverKey)
    throw new Refusal(403, 'k is not the key the subscription was made with');
  const [h, p, s] = t.split('.');
  if (!h || !p || !s || t.split('.').length !== 3) throw new Refusal(403, 't is not a JWS');
  let jwtHeader: { alg?: unknown; typ?: unknown };
  let claims: { aud?: unknown; exp?: unknown; sub?: unknown };
  try {
    jwtHeader = JSON.parse(Buffer.from(h, 'base64url').toString('utf8')) as typeof jwtHeader;
    claims = JSON.parse(Buffer.from(p, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    throw new Refusal(403, 'the JWT is not JSON');
  }
  if (jwtHeader.alg !== 'ES256') throw new Refusal(403, 'the JWT is not ES256');
  let publicKey;
  try {
    publicKey = createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: key.subarray(1, 33).toString('base64url'),
        y: key.subarray(33, 65).toString('base64url'),
      },
      format: 'jwk',
    });
  } catch {
    throw new Refusal(403, 'k is not on the P-256 curve');
  }
  const signature = Buffer.from(s, 'base64url');
  const valid =
    signature.length === 64 &&
    verify('sha256', Buffer.from(`${h}.${p}`), { key: publicKey, dsaEncoding: 'ieee-p1363' }, signature);
  if (!valid) throw new Refusal(403, 'the JWT signature does not verify with k');
  if (claims.aud !== origin) throw new Refusal(403, `aud ${JSON.stringify(claims.aud)} is not ${origin}`);
  const now = Date.now() / 1000;
  if (typeof claims.exp !== 'number') throw new Refusal(403, 'no exp');
  if (claims.exp <= now) throw new Refusal(403, 'the JWT has expired');
  if (claims.exp > now + 24 * 3600) throw new Refusal(403, 'exp is more than 24 hours ahead');
  if (typeof claims.sub !== 'string' || !/^(mailto:|https:)/.test(claims.sub))
    throw new Refusal(403, 'sub must be a mailto: or https: URI');
  return k;
}

export async function startFakePushService(
  options: {
    /**
     * The origin its subscriptions' endpoints name (default its own http://127.0.0.1:port), for a push
     * service reached under a real host name, through a proxy and a TLS front.
     */
    origin?: string;
  } = {},
): Promise<FakePushService> {
  const subs = new Map<string, FakeSub>();
  const accepted: ReceivedPush[] = [];
  const refused: RefusedPush[] = [];
  let messages = 0;

  async function readBody(req: http.IncomingMessage): Promise<{ body: Buffer; length: number }> {
    const chunks: Buffer[] = [];
    let length = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      length += chunk.length;
      if (length <= MAX_BODY + 1) chunks.push(chunk);
    }
    return { body: Buffer.concat(chunks), length };
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, origin: string) {
    const path = new URL(req.url ?? '/', origin).pathname;
    const endpoint = origin + path;
    const { body, length } = await readBody(req);
    const sub = subs.get(endpoint);
    if (req.method !== 'POST') throw new Refusal(405, 'only POST');
    if (!sub || sub.state === 'expired') throw new Refusal(404, 'no such subscription');
    if (sub.state === 'gone') throw new Refusal(410, 'the subscription is gone');
    if (sub.failures.count > 0) {
      sub.failures.count--;
      throw new Refusal(sub.failures.status, 'scripted failure');
    }
    const ttl = req.headers.ttl;
    if (typeof ttl !== 'string' || !/^\d+$/.test(ttl)) throw new Refusal(400, 'Missing TTL Header');
    const urgency = req.headers.urgency ?? 'normal';
    if (typeof urgency !== 'string' || !URGENCIES.has(urgency)) throw new Refusal(400, 'bad Urgency');
    const topic = req.headers.topic;
    if (topic !== undefined && (typeof topic !== 'string' || !/^[A-Za-z0-9_-]{1,32}$/.test(topic)))
      throw new Refusal(400, 'bad Topic');
    const vapidKey = checkVapid(req.headers.authorization, origin, sub.serverKey);
    if (length > MAX_BODY) throw new Refusal(413, `body of ${length} bytes is over ${MAX_BODY}`);
    if (req.headers['content-encoding'] !== 'aes128gcm')
      throw new Refusal(400, 'Content-Encoding must be aes128gcm');
    if (body.subarray(21, 86).toString('base64url') === vapidKey)
      throw new Refusal(400, 'the same key signs and encrypts');
    const text = decryptPush(body, sub.ecdh, sub.auth).toString('utf8');
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    accepted.push({ endpoint, ttl: Number(ttl), urgency, topic, text, json, at: new Date() });
    messages++;
    res.writeHead(201, { location: `${origin}/messages/${messages}`, ttl });
    res.end();
  }

  const server = http.createServer((req, res) => {
    // `url` (the endpoints' origin) is set once it listens, before any request.
    handle(req, res, url).catch((error: unknown) => {
      const status = error instanceof Refusal ? error.status : 500;
      const reason = error instanceof Error ? error.message : String(error);
      refused.push({ endpoint: url + new URL(req.url ?? '/', url).pathname, status, reason });
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (status === 429) headers['retry-after'] = '1';
      res.writeHead(status, headers);
      res.end(JSON.stringify({ code: status, message: reason }));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const listening = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const url = options.origin ?? listening;

  function subOf(endpoint: string): FakeSub {
    const sub = subs.get(endpoint);
    if (!sub) throw new Error(`no subscription ${endpoint}`);
    return sub;
  }

  return {
    url,
    listening,
    newSubscription(options = {}) {
      const ecdh = createECDH('prime256v1');
      ecdh.generateKeys();
      const auth = randomBytes(16);
      const endpoint = `${url}/push/${randomBytes(16).toString('base64url')}`;
      subs.set(endpoint, {
        ecdh,
        publicKey: ecdh.getPublicKey(),
        auth,
        serverKey: options.applicationServerKey,
        state: 'active',
        failures: { count: 0, status: 500 },
      });
      return {
        endpoint,
        expirationTime: null,
        keys: { p256dh: ecdh.getPublicKey().toString('base64url'), auth: auth.toString('base64url') },
      };
    },
    received: (endpoint) => accepted.filter((p) => endpoint === undefined || p.endpoint === endpoint),
    refused,
    gone: (endpoint) => {
      subOf(endpoint).state = 'gone';
    },
    expire: (endpoint) => {
      subOf(endpoint).state = 'expired';
    },
    failNext: (endpoint, count, status) => {
      subOf(endpoint).failures = { count, status };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
