import { createECDH } from 'node:crypto';
import type { Config } from '../../config.js';
import { sharedSecret } from '../../db/app-secrets.js';
import type { Db } from '../../db/database.js';

/**
 * The VAPID key pair (RFC 8292) that identifies this Vigil to push services: browsers subscribe with its
 * public key (applicationServerKey), and every push is signed with its private key. Made once, by whichever
 * process gets there first, and kept in app_secrets so every process signs with the same key: a new key
 * would make push services refuse every existing subscription. Only the 32-byte private key is stored; the
 * public key follows from it.
 */

const SECRET_NAME = 'web-push-vapid';

export interface VapidKeys {
  /** The 65-byte uncompressed P-256 point, base64url: what `pushManager.subscribe` takes. */
  publicKey: string;
  /** The 32-byte private scalar, base64url. */
  privateKey: string;
}

function newPrivateKey(): Buffer {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return pad(ecdh.getPrivateKey(), 32);
}

/** OpenSSL drops leading zero bytes of a scalar; web-push wants exactly 32 (its issue 295). */
function pad(value: Buffer, length: number): Buffer {
  return value.length >= length ? value : Buffer.concat([Buffer.alloc(length - value.length), value]);
}

export function vapidKeysOf(privateKey: Buffer): VapidKeys {
  // Padded here too, so that a scalar straight from OpenSSL (1 in 256 has a leading zero byte) is safe.
  const scalar = pad(privateKey, 32);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(scalar);
  return {
    publicKey: ecdh.getPublicKey().toString('base64url'),
    privateKey: scalar.toString('base64url'),
  };
}

/** The VAPID key pair every process signs with (made by the first that needs it). */
export async function loadVapidKeys(db: Db): Promise<VapidKeys> {
  return vapidKeysOf(await sharedSecret(db, SECRET_NAME, newPrivateKey));
}

/** Loads the keys once per process (again after a failure), starting now. */
export function vapidKeysLoader(db: Db): () => Promise<VapidKeys> {
  let loading: Promise<VapidKeys> | undefined;
  const get = () => {
    loading ??= loadVapidKeys(db).catch((error: unknown) => {
      loading = undefined;
      throw error;
    });
    return loading;
  };
  // Made at start; a failure here is reported by the first push or key request that needs them.
  get().catch(() => {});
  return get;
}

const EMAIL = /^[^\s@<>"]+@[^\s@<>"]+$/;

/**
 * The `sub` claim: how a push service's operator reaches whoever runs this Vigil. The sender address of
 * Vigil's email (VIGIL_EMAIL_FROM, "Name <address>" or a bare address) as a mailto:, else the public URL
 * when it is https, else mailto:vigil@ the public URL's host. web-push accepts only https: and mailto:
 * subjects, and Apple's service refuses an https://localhost one, hence never the http URL itself.
 */
export function vapidSubject(config: Pick<Config, 'emailFrom' | 'publicUrl'>): string {
  const from = config.emailFrom?.trim();
  const address = from ? (/<([^<>]+)>\s*$/.exec(from)?.[1] ?? from).trim() : undefined;
  if (address && EMAIL.test(address)) return `mailto:${address}`;
  const url = new URL(config.publicUrl);
  if (url.protocol === 'https:') return url.origin;
  return `mailto:vigil@${/^[a-z0-9.-]+$/i.test(url.hostname) ? url.hostname : 'localhost'}`;
}
