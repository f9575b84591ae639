import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { errors, jwtVerify } from 'jose';
import { sharedSecret } from '../db/app-secrets.js';
import { type Db, isUuid } from '../db/database.js';

/**
 * Signed links that let the person a notification went to acknowledge or close the alert without logging
 * in. The token is a JWT (HS256) that carries who, what and until when, signed with a key every Vigil
 * process shares (stored in app_secrets), so any process can check a link any other one made and nothing is
 * stored per link. Anyone holding the link can act as that person on that one alert until it expires:
 * that is the point of the link, and why it is short-lived and bound to one alert and one action.
 *
 * It is bound to the contact method it was sent to as well: its id and a keyed hash of its address (not
 * the address: a link travels through mail relays, push services and logs). The link acts only while that
 * contact is still the person's, at that address, and enabled (routes.ts): mail sent to a mistyped address,
 * fixed since, must not let whoever reads it act as the person (as accounts/service.ts followLoginEmail and
 * the SMS replies' phoneContactOf hold too).
 */

/** The contact method a link was sent to, as the sender knows it. */
export interface ActionLinkContact {
  id: string;
  address: string;
}

export interface ActionLinkClaims {
  alertId: string;
  userId: string;
  orgId: string;
  action: 'acknowledge' | 'close';
  expiresAt: Date;
  /**
   * The contact method the link was sent to, and the hash of its address then (`sentTo` compares an
   * address with it). Absent only in links made before links named their contact (see `verify`).
   */
  contact?: { id: string; addressHash: string };
}

/** What a link is made of: the notification sender always gives the contact it sends to. */
export type ActionLinkRequest = Omit<ActionLinkClaims, 'expiresAt' | 'contact'> & {
  contact?: ActionLinkContact;
};

export type ActionLinkVerdict = ActionLinkClaims | { error: 'invalid' | 'expired' };

export interface ActionLinks {
  url(claims: ActionLinkRequest, now: Date): string;
  /** The token alone (what follows /v1/alert-actions/). */
  token(claims: ActionLinkRequest, now: Date): string;
  verify(token: string, now: Date): Promise<ActionLinkVerdict>;
  /** Whether `address` is the address the link's contact had when the link was made. */
  sentTo(contact: NonNullable<ActionLinkClaims['contact']>, address: string): boolean;
}

const SECRET_NAME = 'action-links';
/**
 * The JWT's explicit type (RFC 8725 §3.11): a JWT made for anything else is not a link, and a new layout
 * gets a new type, so old links then read as invalid rather than being misread.
 */
const TYP = 'vigil-action+jwt';
const ACTIONS = ['acknowledge', 'close'] as const;

/**
 * The claims: `sub` is the user; `alert`, `org`, `action`, `contact` (the contact method's id) and
 * `to_hash` (the hash of its address then) are Vigil's own (private) claim names.
 */
interface LinkPayload {
  sub: string;
  alert: string;
  org: string;
  action: (typeof ACTIONS)[number];
  contact?: string;
  to_hash?: string;
  exp: number;
}

/** What the address hash is keyed apart with, so it is never the MAC of anything else made with the key. */
const ADDRESS_HASH_CONTEXT = 'vigil-action-link-address\0';
/** 128 bits of HMAC-SHA256: ample to tell addresses apart, and 22 characters in the token. */
const ADDRESS_HASH_BYTES = 16;

/** The signing key, created once by whichever process gets there first and read by all of them. */
export function loadLinkSecret(db: Db): Promise<Buffer> {
  return sharedSecret(db, SECRET_NAME, () => randomBytes(32));
}

/**
 * An HS256 JWT in the JWS Compact Serialization (RFC 7515 §7.1): base64url(header).base64url(claims),
 * then base64url(HMAC-SHA256) over those two. Made here with node:crypto rather than jose's SignJWT
 * because jose signs only asynchronously (WebCrypto) and the sender renders a notification, links
 * included, synchronously. Checking, the part with the pitfalls, is jose's (verifyLinkToken), and the
 * tests check that jose reads these tokens and that tokens jose's SignJWT makes are read here. `typ` says
 * what the token is for (RFC 8725 §3.11): a token of one kind is never read as another.
 */
export function signLinkToken(secret: Buffer, typ: string, payload: Record<string, unknown>): string {
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ })).toString('base64url');
  const input = `${header}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** The claims of a token `signLinkToken` made with `typ`, once its signature and expiry are checked. */
export async function verifyLinkToken(
  secret: Buffer,
  typ: string,
  value: string,
  now: Date,
  requiredClaims: string[],
): Promise<{ payload: Record<string, unknown> } | { error: 'invalid' | 'expired' }> {
  // Only the canonical spelling of the signature: base64url decoders (jose's included) ignore the
  // unused low bits of the last character, so one MAC has several spellings; a link has one.
  const signature = value.split('.')[2] ?? '';
  if (Buffer.from(signature, 'base64url').toString('base64url') !== signature) return { error: 'invalid' };
  try {
    const { payload } = await jwtVerify(value, secret, {
      algorithms: ['HS256'],
      typ,
      clockTolerance: 0,
      currentDate: now,
      requiredClaims,
    });
    return { payload };
  } catch (error) {
    // jose checks the signature before the claims: a changed token is invalid, never "expired".
    return { error: error instanceof errors.JWTExpired ? 'expired' : 'invalid' };
  }
}

function uuid(id: string, what: string): string {
  if (!isUuid(id)) throw new Error(`action link ${what} must be a UUID, got ${JSON.stringify(id)}`);
  return id.toLowerCase();
}

export function createActionLinks(secret: Buffer, publicUrl: string, ttlMs: number): ActionLinks {
  if (secret.length < 16) throw new Error('the action link secret is too short');
  const base = publicUrl.replace(/\/+$/, '');

  /**
   * Keyed with the link secret: the hash in a link that leaks does not let anyone test guesses of the
   * address offline.
   */
  function addressHash(address: string): Buffer {
    return createHmac('sha256', secret)
      .update(ADDRESS_HASH_CONTEXT)
      .update(address)
      .digest()
      .subarray(0, ADDRESS_HASH_BYTES);
  }

  function token(claims: ActionLinkRequest, now: Date): string {
    if (!ACTIONS.includes(claims.action)) throw new Error(`unknown action ${JSON.stringify(claims.action)}`);
    const payload: LinkPayload = {
      sub: uuid(claims.userId, 'userId'),
      alert: uuid(claims.alertId, 'alertId'),
      org: uuid(claims.orgId, 'orgId'),
      action: claims.action,
      ...(claims.contact
        ? {
            contact: uuid(claims.contact.id, 'contact id'),
            to_hash: addressHash(claims.contact.address).toString('base64url'),
          }
        : {}),
      exp: Math.floor((now.getTime() + ttlMs) / 1000),
    };
    return signLinkToken(secret, TYP, { ...payload });
  }

  return {
    token,
    url: (claims, now) => `${base}/v1/alert-actions/${token(claims, now)}`,
    sentTo(contact, address) {
      const expected = Buffer.from(contact.addressHash, 'base64url');
      const actual = addressHash(address);
      return expected.length === actual.length && timingSafeEqual(expected, actual);
    },
    async verify(value, now) {
      const invalid = { error: 'invalid' } as const;
      const verified = await verifyLinkToken(secret, TYP, value, now, [
        'sub',
        'alert',
        'org',
        'action',
        'exp',
      ]);
      if ('error' in verified) return verified;
      const {
        sub,
        alert,
        org,
        action,
        contact,
        to_hash: to,
        exp,
      }: Partial<Record<keyof LinkPayload, unknown>> = verified.payload;
      if (typeof sub !== 'string' || typeof alert !== 'string' || typeof org !== 'string') return invalid;
      if (!isUuid(sub) || !isUuid(alert) || !isUuid(org)) return invalid;
      const known = ACTIONS.find((a) => a === action);
      // jose has checked that exp is a number, and in the future.
      if (!known || typeof exp !== 'number') return invalid;
      const claims = {
        action: known,
        expiresAt: new Date(exp * 1000),
        alertId: alert,
        userId: sub,
        orgId: org,
      };
      // A link made before links named their contact has neither claim. It is read as it was then (bound to
      // the person, not the contact) until it expires, at most VIGIL_ACTION_LINK_TTL_HOURS after the
      // upgrade: refusing it would take the Acknowledge button from a page sent minutes before the upgrade,
      // in the middle of the incident it is about. No link of that kind is made any more (the sender always
      // names the contact), so none is left once that time has passed. One claim without the other is no
      // link Vigil made.
      if (contact === undefined && to === undefined) return claims;
      if (typeof contact !== 'string' || !isUuid(contact) || typeof to !== 'string') return invalid;
      if (Buffer.from(to, 'base64url').toString('base64url') !== to) return invalid;
      if (Buffer.from(to, 'base64url').length !== ADDRESS_HASH_BYTES) return invalid;
      return { ...claims, contact: { id: contact.toLowerCase(), addressHash: to } };
    },
  };
}
