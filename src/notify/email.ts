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
 * relay that refuses our login or sender, which an operator can fix) is worth another try later.
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

export function classifySmtpError(error: SmtpError): DeliveryResult {
  const detail = [error.responseCode, error.response ?? error.message].filter(Boolean).join(' ');
  // Nodemailer refused the address before talking to the relay: it can not become valid.
  if (error.code === 'EENVELOPE' && error.command === 'API' && /recipient/i.test(error.message))
    return { status: 'failed', error: `address refused: ${error.message}` };
  if (isPermanent(error.responseCode)) {
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
    // Fail fast: the engine retries, and a hung relay must not hold a notification for minutes.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    dnsTimeout: 10_000,
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
          return { status: 'failed', error: `recipient refused: ${info.response}` };
        }
        return { status: 'sent', providerId: info.messageId, detail: info.response };
      } catch (error) {
        const result = classifySmtpError(error as SmtpError);
        const fields = {
          notificationId: message.notificationId,
          server,
          code: (error as SmtpError).code,
          responseCode: (error as SmtpError).responseCode,
          command: (error as SmtpError).command,
        };
        if (result.status === 'failed') log.warn(fields, `email to a contact was refused: ${result.error}`);
        else if (
          (error as SmtpError).command?.startsWith('AUTH') ||
          (error as SmtpError).command === 'MAIL FROM'
        )
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
        return { status: 'sent', providerId: info.messageId, detail: info.response };
      } catch (error) {
        return classifySmtpError(error as SmtpError);
      }
    },
    async close() {
      transport.close();
    },
  };
}
