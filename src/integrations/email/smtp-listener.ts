import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { Logger } from '../../logger.js';
import { oneLine } from '../../notify/html.js';
import { UnreadableEmail, type EmailIntake } from './intake.js';

/**
 * The inbound SMTP listener of Email integrations. It is the last hop, meant to sit behind the
 * organization's MTA (Postfix, Amazon SES, …), which does TLS, spam filtering and retries: so no STARTTLS,
 * no AUTH and no relaying; mail only for the enabled Email integrations' addresses is taken.
 */

/** An SMTP reply smtp-server sends for a refusal (the code picks permanent 5xx or try-again 4xx). */
class SmtpReply extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** Recipients of one message: more is not a sender of alerts but a mailing. */
const MAX_RECIPIENTS = 100;

export interface InboundSmtp {
  port: number;
  close(): Promise<void>;
}

export async function startInboundSmtp(deps: {
  port: number;
  host: string;
  maxBytes: number;
  intake: EmailIntake;
  log: Logger;
}): Promise<InboundSmtp> {
  const { intake, log, maxBytes } = deps;
  const tryLater = (error: unknown, what: string) => {
    log.error({ err: error }, `inbound email: ${what} failed; the sender is told to try again later`);
    return new SmtpReply(451, '4.3.0 Vigil cannot take this message now: try again later');
  };
  // Each RCPT TO's verdict, kept for DATA (smtp-server passes the same session object to both).
  const accepted = new WeakMap<object, string[]>();

  const server = new SMTPServer({
    name: 'vigil',
    banner: 'Vigil inbound email for Email integrations',
    size: maxBytes,
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    hideSTARTTLS: true,
    disableReverseLookup: true,
    logger: false,
    maxClients: 200,
    // Shutdown waits this long for a sender in the middle of a message, then cuts it off (it retries).
    closeTimeout: 5_000,
    onRcptTo(address, session, callback) {
      const usernames = accepted.get(session.envelope) ?? [];
      if (usernames.length >= MAX_RECIPIENTS) {
        callback(new SmtpReply(452, `4.5.3 at most ${MAX_RECIPIENTS} recipients per message`));
        return;
      }
      intake.recipient(address.address).then(
        (verdict) => {
          if (!verdict.accepted) return callback(new SmtpReply(550, `5.1.1 ${verdict.reason}`));
          accepted.set(session.envelope, [...usernames, verdict.emailUsername]);
          callback();
        },
        (error: unknown) => callback(tryLater(error, 'checking a recipient')),
      );
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      let bytes = 0;
      stream.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        // Past the limit the rest is read and dropped: smtp-server answers 552 at the end.
        if (bytes <= maxBytes) chunks.push(chunk);
      });
      stream.on('error', (error) => callback(tryLater(error, 'reading a message')));
      stream.on('end', () => {
        if (stream.sizeExceeded || bytes > maxBytes) {
          callback(new SmtpReply(552, `5.3.4 the message is larger than ${maxBytes} bytes`));
          return;
        }
        // '' is the null sender (MAIL FROM:<>) of a bounce.
        const mailFrom = session.envelope.mailFrom ? session.envelope.mailFrom.address : undefined;
        intake
          .receive({
            raw: Buffer.concat(chunks),
            emailUsernames: accepted.get(session.envelope) ?? [],
            mailFrom,
          })
          .then(
            (outcomes) => {
              const made = outcomes.filter((o) => o.verdict === 'created').length;
              const had = outcomes.filter((o) => o.verdict === 'duplicate').length;
              callback(
                null,
                `Message accepted: ${made} alert${made === 1 ? '' : 's'} made${had > 0 ? `, ${had} recipient${had === 1 ? '' : 's'} had taken it already` : ''}`,
              );
            },
            (error: unknown) =>
              callback(
                error instanceof UnreadableEmail
                  ? new SmtpReply(554, `5.6.0 ${oneLine(error.message).slice(0, 300)}`)
                  : tryLater(error, 'making alerts of a message'),
              ),
          );
      });
    },
  });
  // A broken connection is that client's problem, never the listener's.
  server.on('error', (error) => log.warn({ err: error }, 'inbound email: a connection failed'));

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(deps.port, deps.host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as AddressInfo).port;
  log.info({ port, host: deps.host }, `Vigil takes email for Email integrations on ${deps.host}:${port}`);
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
