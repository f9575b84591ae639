import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { type Db, isUuid } from '../db/database.js';

/**
 * Signed links that let the person a notification went to acknowledge or close the alert without logging
 * in. The token carries who, what and until when, and an HMAC over it with a key every Vigil process
 * shares (stored in app_secrets), so any process can check a link any other one made and nothing is
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
  verify(token: string, now: Date): ActionLinkVerdict;
}

const SECRET_NAME = 'action-links';
/** Bumped if the layout changes; old links then read as invalid rather than being misread. */
const VERSION = 'v1';
const ACTIONS = ['acknowledge', 'close'] as const;
// Layout: action (1 byte), expiry in Unix seconds (4 bytes), alert, user and org ids (16 bytes each).
const PAYLOAD_BYTES = 1 + 4 + 16 * 3;
/** 128 bits of HMAC-SHA256: plenty against forgery, and it keeps the link short enough for any client. */
const MAC_BYTES = 16;

/** The signing key, created once by whichever process gets there first and read by all of them. */
export async function loadLinkSecret(db: Db): Promise<Buffer> {
  await db
    .insertInto('app_secrets')
    .values({ name: SECRET_NAME, value: randomBytes(32) })
    .onConflict((oc) => oc.column('name').doNothing())
    .execute();
  const row = await db
    .selectFrom('app_secrets')
    .select('value')
    .where('name', '=', SECRET_NAME)
    .executeTakeFirstOrThrow();
  return row.value;
}

function uuidBytes(id: string, what: string): Buffer {
  if (!isUuid(id)) throw new Error(`action link ${what} must be a UUID, got ${JSON.stringify(id)}`);
  return Buffer.from(id.replace(/-/g, ''), 'hex');
}

function uuidOf(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export function createActionLinks(secret: Buffer, publicUrl: string, ttlMs: number): ActionLinks {
  if (secret.length < 16) throw new Error('the action link secret is too short');
  const base = publicUrl.replace(/\/+$/, '');
  const mac = (payload: Buffer) =>
    createHmac('sha256', secret).update(VERSION).update(payload).digest().subarray(0, MAC_BYTES);

  function token(claims: Omit<ActionLinkClaims, 'expiresAt'>, now: Date): string {
    const payload = Buffer.alloc(PAYLOAD_BYTES);
    payload.writeUInt8(ACTIONS.indexOf(claims.action) + 1, 0);
    payload.writeUInt32BE(Math.floor((now.getTime() + ttlMs) / 1000), 1);
    uuidBytes(claims.alertId, 'alertId').copy(payload, 5);
    uuidBytes(claims.userId, 'userId').copy(payload, 21);
    uuidBytes(claims.orgId, 'orgId').copy(payload, 37);
    return `${VERSION}.${Buffer.concat([payload, mac(payload)]).toString('base64url')}`;
  }

  return {
    token,
    url: (claims, now) => `${base}/v1/alert-actions/${token(claims, now)}`,
    verify(value, now) {
      const invalid = { error: 'invalid' } as const;
      const [version, body, extra] = value.split('.');
      if (version !== VERSION || body === undefined || extra !== undefined) return invalid;
      const bytes = Buffer.from(body, 'base64url');
      // Only the canonical spelling: Buffer ignores stray characters and trailing bits when decoding.
      if (bytes.length !== PAYLOAD_BYTES + MAC_BYTES || bytes.toString('base64url') !== body) return invalid;
      const payload = bytes.subarray(0, PAYLOAD_BYTES);
      if (!timingSafeEqual(bytes.subarray(PAYLOAD_BYTES), mac(payload))) return invalid;
      const action = ACTIONS[payload.readUInt8(0) - 1];
      if (!action) return invalid;
      const expiresAt = new Date(payload.readUInt32BE(1) * 1000);
      if (now.getTime() >= expiresAt.getTime()) return { error: 'expired' };
      return {
        action,
        expiresAt,
        alertId: uuidOf(payload.subarray(5, 21)),
        userId: uuidOf(payload.subarray(21, 37)),
        orgId: uuidOf(payload.subarray(37, 53)),
      };
    },
  };
}
