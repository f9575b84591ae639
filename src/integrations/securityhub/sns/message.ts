/**
 * The shape of an Amazon SNS HTTP(S) delivery, as AWS documents it: a known Type and every field that Type
 * carries. Nothing here says who sent it; see verify.ts for that.
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

/**
 * Whether a notification's Message could be an EventBridge event: JSON text of an object, as far as its
 * first character tells. A cheap first look; the event is parsed where it is processed.
 */
export function mayBeJsonObject(message: string): boolean {
  return /^[ \t\n\r]*\{/.test(message);
}
