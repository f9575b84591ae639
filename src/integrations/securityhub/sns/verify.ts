import crypto, { type X509Certificate } from 'node:crypto';
import { CertificateUnavailable, type SnsCertificateStore } from './certificates.js';
import type { SnsMessage, SnsMessageType } from './message.js';
import { signingCertUrlProblem, subscribeUrlProblem } from './urls.js';

/**
 * Amazon SNS message verification, as AWS specifies it: the signing certificate comes only from an SNS host
 * over https, the signature (SHA1withRSA for SignatureVersion 1, SHA256withRSA for 2) covers the fields in
 * stringToSign, the certificate must have been valid when the message was sent, and old messages are refused.
 */

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

/** `Name\nValue\n` for each signed field present, in AWS's order for the message's Type. */
export function stringToSign(message: SnsMessage): string {
  let out = '';
  for (const field of SIGNED_FIELDS[message.Type]) {
    const value = message[field];
    if (typeof value === 'string') out += `${field}\n${value}\n`;
  }
  return out;
}

/**
 * The verdict on a message. `retryable` is true when Vigil could not check it (its certificate could not
 * be had just now), false when it checked and the message is bad.
 */
export type SnsVerification = { ok: true } | { ok: false; reason: string; retryable: boolean };

const MAX_CLOCK_SKEW_MS = 5 * 60 * 1000;
const ISO_TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;

/**
 * Verifies an SNS message: SignatureVersion, SigningCertURL, Timestamp and age, SubscribeURL (for
 * confirmations), the certificate (valid at Timestamp) and finally the signature. Never throws for a bad
 * message or an unreachable certificate: it answers with a reason instead, and says which of the two.
 */
export async function verifySnsMessage(
  message: SnsMessage,
  options: { certificates: SnsCertificateStore; now?: Date; maxAgeSeconds: number },
): Promise<SnsVerification> {
  const refuse = (reason: string) => ({ ok: false as const, reason, retryable: false });

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
    const reason = `Could not get the signing certificate ${message.SigningCertURL}: ${(error as Error).message}`;
    // Failing to fetch the certificate says nothing about the message: it may well be genuine.
    return error instanceof CertificateUnavailable ? { ok: false, reason, retryable: true } : refuse(reason);
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
