import { createHmac, randomBytes } from 'node:crypto';
import { errors, jwtVerify } from 'jose';
import { sharedSecret } from '../db/app-secrets.js';
import { type Db, isUuid } from '../db/database.js';

/**
 * Signed links that let the person a notification went to acknowledge or close the alert without logging
 * in. The token is a JWT (HS256) that carries who, what and until when, signed with a key every Vigil
 * process shares (stored in app_secrets), so any process can check a link any other one made and nothing is
 * stored per link. Anyone holding the link can act as that person on that one alert until it expires:
 * that is the point of the link, and why it is short-lived and bound to one alert and one action.
 */

export interface ActionLinkClaims {
  alertId: string;
  userId: string;
  orgId: string;
  action: 'acknowledge' | 'close';
  expiresAt: Date;
}

export type ActionLinkVerdict = ActionLinkClaims | { error: 'invalid' | 'expired' };

export interface ActionLinks {
  url(claims: Omit<ActionLinkClaims, 'expiresAt'>, now: Date): string;
  /** The token alone (what follows /v1/alert-actions/). */
  token(claims: Omit<ActionLinkClaims, 'expiresAt'>, now: Date): string;
  verify(token: string, now: Date): Promise<ActionLinkVerdict>;
}

const SECRET_NAME = 'action-links';
/**
 * The JWT's explicit type (RFC 8725 §3.11): a JWT made for anything else is not a link, and a new layout
 * gets a new type, so old links then read as invalid rather than being misread.
 */
const TYP = 'vigil-action+jwt';
const ACTIONS = ['acknowledge', 'close'] as const;

/** The claims: `sub` is the user; `alert`, `org` and `action` are Vigil's own (private) claim names. */
interface LinkPayload {
  sub: string;
  alert: string;
  org: string;
  action: (typeof ACTIONS)[number];
  exp: number;
}

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

  function token(claims: Omit<ActionLinkClaims, 'expiresAt'>, now: Date): string {
    if (!ACTIONS.includes(claims.action)) throw new Error(`unknown action ${JSON.stringify(claims.action)}`);
    const payload: LinkPayload = {
      sub: uuid(claims.userId, 'userId'),
      alert: uuid(claims.alertId, 'alertId'),
      org: uuid(claims.orgId, 'orgId'),
      action: claims.action,
      exp: Math.floor((now.getTime() + ttlMs) / 1000),
    };
    return signLinkToken(secret, TYP, { ...payload });
  }

  return {
    token,
    url: (claims, now) => `${base}/v1/alert-actions/${token(claims, now)}`,
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
      const { sub, alert, org, action, exp }: Partial<Record<keyof LinkPayload, unknown>> = verified.payload;
      if (typeof sub !== 'string' || typeof alert !== 'string' || typeof org !== 'string') return invalid;
      if (!isUuid(sub) || !isUuid(alert) || !isUuid(org)) return invalid;
      const known = ACTIONS.find((a) => a === action);
      // jose has checked that exp is a number, and in the future.
      if (!known || typeof exp !== 'number') return invalid;
      return { action: known, expiresAt: new Date(exp * 1000), alertId: alert, userId: sub, orgId: org };
    },
  };
}
