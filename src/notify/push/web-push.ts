import { createRequire } from 'node:module';

/**
 * The parts of the `web-push` package (3.6.7, CommonJS, no types of its own) Vigil uses: it encrypts the
 * payload (RFC 8291, aes128gcm) and signs the VAPID header (RFC 8292). Vigil sends the request itself
 * (channel.ts), because the package's own sendNotification always uses https.request.
 */

export interface PushSubscriptionKeys {
  endpoint: string;
  keys: { p256dh: string; auth: string };
}

export interface VapidDetails {
  subject: string;
  publicKey: string;
  privateKey: string;
}

export interface RequestOptions {
  vapidDetails: VapidDetails;
  TTL: number;
  urgency: 'very-low' | 'low' | 'normal' | 'high';
  topic?: string;
}

export interface RequestDetails {
  method: 'POST';
  headers: Record<string, string | number>;
  body: Buffer | null;
  endpoint: string;
}

interface WebPushModule {
  generateRequestDetails(
    subscription: PushSubscriptionKeys,
    payload: string | Buffer,
    options: RequestOptions,
  ): RequestDetails;
}

const load = createRequire(import.meta.url);
const webPush = load('web-push') as WebPushModule;

/** The encrypted request for one push: POST `endpoint` with these headers and body. */
export function pushRequest(
  subscription: PushSubscriptionKeys,
  payload: string,
  options: RequestOptions,
): RequestDetails {
  return webPush.generateRequestDetails(subscription, payload, options);
}
