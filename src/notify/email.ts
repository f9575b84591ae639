import { createHash } from 'node:crypto';
import nodemailer from 'nodemailer';
import { parseConnectionUrl } from 'nodemailer/lib/shared';
import type { SMTPPoolOptions } from 'nodemailer/lib/smtp-pool';
import type { Logger } from '../logger.js';
import type { DeliveryResult, NotificationChannel, OutgoingNotification } from './channel.js';
import { renderNotificationEmail } from './email-template.js';

/**
 * The email channel: hands each notification to the SMTP relay in VIGIL_SMTP_URL (smtp://user:pass@host:587
 * upgrades with STARTTLS when offered, smtps://host:465 is TLS from the start; nodemailer's query options
 * such as ?requireTLS=true apply), from VIGIL_EMAIL_FROM. Without VIGIL_SMTP_URL the engine does not
 * register this channel, and email contact methods are not notified.
 *
 * The relay is trusted to deliver: "sent" means it accepted the message. Its answer decides what happens
 * next: a refused recipient (5xx at RCPT TO) or a refused message (5xx after DATA) is final, since the same
 * message would be refused again; everything else (4xx, greylisting, connection refused, timeouts, a
 * relay that refuses our login or sender, which an operator can fix) is worth another try later. Some
 * relays refuse the sender only after the message (Amazon SES with an unverified From, Office 365's
 * SendAsDenied): a 5xx after DATA that names the sender is retried like one at MAIL FROM.
 *
 * The relay's answer goes on the alert's log, which integration keys can read, and relays echo the
 * address they refuse ("550 5.1.1 <bob@example.com>: Recipient address rejected"): what a result
 * carries has the recipient's address replaced by <recipient>. The server log keeps the whole answer.
 *
 * Each message's Message-ID comes from the notification's idempotency key, so a retry after an answer we
 * never got carries the same id and receiving systems can drop the duplicate.
 *
 * Every email about one alert is one thread (References, In-Reply-To, Thread-Topic and one subject); the
 * subject keeps the alert's message as the thread's first email had it (`thread`, which the sender reads
 * from email-threads.ts for a whole round).
 */

export interface EmailChannelOptions {
  smtpUrl: string;
  from: string;
  log: Logger;
  /** Overrides of the connection, greeting and socket timeouts (ms); tests shorten them. */
  timeouts?: Partial<Pick<SMTPPoolOptions, 'connectionTimeout' | 'greetingTimeout' | 'socketTimeout'>>;
}

/**
 * How long Vigil waits on the SMTP relay, for pages and account emails alike. Fail fast: the engine
 * retries a page, an invitation answers with its link when it could not be emailed, and a hung relay must
 * hold neither for minutes (nodemailer's own defaults wait up to 2 minutes to connect and 10 for a reply).
 */
export const SMTP_TIMEOUTS = {
  connectionTimeout: 10_000,
  greetingTimeout: 10_000,
  socketTimeout: 30_000,
  dnsTimeout: 10_000,
} as const satisfies Pick<
  SMTPPoolOptions,
  'connectionTimeout' | 'greetingTimeout' | 'socketTimeout' | 'dnsTimeout'
>;

/** What nodemailer's SMTP errors carry (see nodemailer/lib/errors). */
interface SmtpError {
  message: string;
  code?: string;
  command?: string;
  responseCode?: number;
  response?: string;
}

/** The domain Message-IDs are made under: the sender's, so they are unique to this installation. */
function messageIdDomain(from: string): string {
  const match = /@([A-Za-z0-9.-]+)\s*>?\s*$/.exec(from);
  return match?.[1]?.toLowerCase() ?? 'vigil.invalid';
}

export function messageIdFor(idempotencyKey: string, from: string): string {
  const digest = createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 40);
  return `<vigil.${digest}@${messageIdDomain(from)}>`;
}

/** Groups every email about one alert into one thread in clients that follow References. */
function threadIdFor(alertId: string, from: string): string {
  return `<vigil.alert.${alertId}@${messageIdDomain(from)}>`;
}

function isPermanent(code: number | undefined): boolean {
  // 503 is "bad sequence of commands": the session's fault, not the message's.
  return code !== undefined && code >= 500 && code < 600 && code !== 503;
}

/**
 * A refusal after DATA that is about who sends, not what is sent: SES's "Email address is not verified.
 * The following identities failed the check", Office 365's "5.2.0 … SendAsDeniedException" or
 * "5.7.60 … not have permissions to send as this sender", Postfix's "Sender address rejected".
 */
const SENDER_REFUSED_AFTER_DATA = /\bidentit(?:y|ies)\b|not verified|SendAs|\bsender\b|\b5\.7\.60\b/i;

/** The relay refused Vigil itself (its login or its sender), which the operator can fix, not the message. */
function refusesVigil(error: SmtpError): boolean {
  if (error.command?.startsWith('AUTH') || error.command === 'MAIL FROM') return true;
  const afterData = error.command === 'DATA' || error.code === 'EMESSAGE';
  return (
    afterData &&
    isPermanent(error.responseCode) &&
    SENDER_REFUSED_AFTER_DATA.test(error.response ?? error.message)
  );
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** The bare address in a From such as `Vigil <vigil@example.com>`, lower-cased. */
function envelopeAddress(from: string): string {
  return (/<([^<>]+)>\s*$/.exec(from)?.[1] ?? from).trim().toLowerCase();
}

/**
 * The relay's text with the recipient's address (bare or bracketed, in any case) and any other bracketed
 * address, which a relay that rewrote the recipient would echo, replaced by <recipient>. Vigil's own
 * sender stays: it is in every email's From, and the operator needs it when it is the one refused.
 */
function withoutAddresses(text: string, recipient: string, from: string): string {
  const sender = envelopeAddress(from);
  const bracketed = text.replace(/<([^<>\s@]+@[^<>\s]+)>/g, (whole, address: string) =>
    address.toLowerCase() === sender ? whole : '<recipient>',
  );
  const bare = recipient.trim();
  return bare ? bracketed.replace(new RegExp(escapeRegExp(bare), 'gi'), '<recipient>') : bracketed;
}

/**
 * What the relay's refusal means for this message. `recipient` and `from` are the message's, so that
 * the text carried (which the alert's log shows) names neither the recipient's address nor any other.
 */
export function classifySmtpError(error: SmtpError, recipient: string, from: string): DeliveryResult {
  const scrub = (text: string) => withoutAddresses(text, recipient, from);
  // The reply starts with its code; a message of nodemailer's own may have none.
  const detail = scrub(error.response ?? [error.responseCode, error.message].filter(Boolean).join(' '));
  // Nodemailer refused the address before talking to the relay: it can not become valid.
  if (error.code === 'EENVELOPE' && error.command === 'API' && /recipient/i.test(error.message))
    return { status: 'failed', error: `address refused: ${scrub(error.message)}` };
  if (isPermanent(error.responseCode) && !refusesVigil(error)) {
    if (error.command === 'RCPT TO') return { status: 'failed', error: `recipient refused: ${detail}` };
    if (error.command === 'DATA' || error.code === 'EMESSAGE')
      return { status: 'failed', error: `message refused: ${detail}` };
  }
  return {
    status: 'retry',
    error: `${error.code ?? 'error'}${error.command ? ` at ${error.command}` : ''}: ${detail}`,
  };
}

export function createEmailChannel(options: EmailChannelOptions): NotificationChannel {
  const { from, log } = options;
  const settings: SMTPPoolOptions & { pool: true } = {
    // A few connections keep a burst of pages moving without tripping a relay's per-client limits.
    maxConnections: 8,
    maxMessages: 100,
    ...SMTP_TIMEOUTS,
    idleTimeout: 60_000,
    // One more go on a fresh connection when a pooled one turns out dead; beyond that the engine retries.
    maxRequeues: 1,
    disableFileAccess: true,
    disableUrlAccess: true,
    ...options.timeouts,
    ...(parseConnectionUrl(options.smtpUrl) as SMTPPoolOptions),
    pool: true,
  };
  const transport = nodemailer.createTransport(settings, { from });
  const server = new URL(options.smtpUrl).host;

  return {
    type: 'email',
    // Sends past the pool's connections would queue inside nodemailer, out of the sender's sight. Its
    // pool takes 0 (`?maxConnections=0` or `=`) as its default of 5, and so must this.
    sendsAtOnce: settings.maxConnections || 5,
    async send(message: OutgoingNotification): Promise<DeliveryResult> {
      const rendered = renderNotificationEmail(message, message.thread);
      const messageId = messageIdFor(message.idempotencyKey, from);
      const threadId = threadIdFor(message.alert.id, from);
      const urgent =
        message.kind === 'create-alert' &&
        (message.alert.priority === 'P1' || message.alert.priority === 'P2');
      try {
        const info = await transport.sendMail({
          to: message.to.address,
          subject: rendered.subject,
          text: rendered.text,
          html: rendered.html,
          messageId,
          references: threadId,
          ...(message.kind === 'create-alert' ? {} : { inReplyTo: threadId }),
          ...(urgent ? { priority: 'high' as const } : {}),
          headers: {
            // RFC 3834 and Exchange: no out-of-office replies to pages.
            'Auto-Submitted': 'auto-generated',
            'X-Auto-Response-Suppress': 'All',
            // Outlook's conversation topic: the subject without "Re: ", the same for the whole thread.
            'Thread-Topic': rendered.threadTopic,
            'X-Vigil-Alert-Id': message.alert.id,
            'X-Vigil-Notification-Id': message.notificationId,
          },
        });
        if (info.rejected.length > 0) {
          // A single recipient: nodemailer only resolves when it was accepted, but be explicit.
          return {
            status: 'failed',
            error: `recipient refused: ${withoutAddresses(info.response, message.to.address, from)}`,
          };
        }
        return {
          status: 'sent',
          providerId: info.messageId,
          detail: withoutAddresses(info.response, message.to.address, from),
        };
      } catch (error) {
        const refusal = error as SmtpError;
        const result = classifySmtpError(refusal, message.to.address, from);
        const fields = {
          notificationId: message.notificationId,
          server,
          code: refusal.code,
          responseCode: refusal.responseCode,
          command: refusal.command,
          // The relay's whole answer, address and all: the server log is the operator's, not the alert's.
          response: refusal.response,
        };
        if (result.status === 'failed') log.warn(fields, `email to a contact was refused: ${result.error}`);
        else if (refusesVigil(refusal))
          log.error(
            fields,
            `the SMTP relay refused Vigil's login or sender: check VIGIL_SMTP_URL and VIGIL_EMAIL_FROM`,
          );
        else log.warn(fields, `email not sent, will retry: ${result.status === 'retry' ? result.error : ''}`);
        return result;
      }
    },
    async sendNotice(to, notice): Promise<DeliveryResult> {
      try {
        const info = await transport.sendMail({
          to: to.address,
          subject: notice.subject,
          text: notice.text,
          headers: { 'Auto-Submitted': 'auto-generated', 'X-Auto-Response-Suppress': 'All' },
        });
        return {
          status: 'sent',
          providerId: info.messageId,
          detail: withoutAddresses(info.response, to.address, from),
        };
      } catch (error) {
        return classifySmtpError(error as SmtpError, to.address, from);
      }
    },
    async close() {
      transport.close();
    },
  };
}
