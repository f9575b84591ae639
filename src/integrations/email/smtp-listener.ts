import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import type { Logger } from '../../logger.js';
import { oneLine } from '../../notify/html.js';
import { NoRecipientLeft, UnreadableEmail, type EmailIntake } from './intake.js';

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

/**
 * Refused recipients one connection may name before it is told 421 and closed (Postfix's
 * smtpd_hard_error_limit): each is looked up, and a sender guessing addresses is not a sender of alerts.
 */
export const MAX_REFUSED_RECIPIENTS = 20;

/**
 * How long one connection may last, whatever it does: a NOOP now and then keeps the idle timeout away,
 * and would otherwise hold its place among maxClients for good. A sender cut off goes on in another.
 */
export const MAX_SESSION_MS = 10 * 60_000;

/** The listener could not take its address; `code` is the system's (EADDRINUSE, EACCES, …). */
export class InboundSmtpListenError extends Error {
  override name = 'InboundSmtpListenError';
  readonly code: string | undefined;
  constructor(host: string, port: number, cause: NodeJS.ErrnoException) {
    super(`the inbound SMTP listener cannot listen on ${host}:${port}: ${cause.message}`, { cause });
    this.code = cause.code;
  }
}

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
  /**
   * Connections at once from one address (VIGIL_INBOUND_SMTP_MAX_CONNECTIONS_PER_ADDRESS): an MTA needs
   * a few, the rest are told 421 (try again later); 0 for none, where every sender shares one address.
   */
  maxConnectionsPerAddress: number;
  /** MAX_SESSION_MS unless a test says otherwise. */
  maxSessionMs?: number;
}): Promise<InboundSmtp> {
  const { intake, log, maxBytes, maxConnectionsPerAddress } = deps;
  const maxSessionMs = deps.maxSessionMs ?? MAX_SESSION_MS;
  const tryLater = (error: unknown, what: string) => {
    log.error({ err: error }, `inbound email: ${what} failed; the sender is told to try again later`);
    return new SmtpReply(451, '4.3.0 Vigil cannot take this message now: try again later');
  };
  // Each RCPT TO's verdict, kept for DATA (smtp-server passes the same session object to both).
  const accepted = new WeakMap<object, string[]>();
  // Per connection (smtp-server keeps one session object for a connection's whole life): its refused
  // recipients, and, once onConnect has counted it, the address it is counted against and its time limit.
  const refused = new WeakMap<object, number>();
  const counted = new WeakMap<object, { address: string; timer: NodeJS.Timeout }>();
  const perAddress = new Map<string, number>();

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
    onConnect(session, callback) {
      const address = session.remoteAddress;
      const open = perAddress.get(address) ?? 0;
      if (maxConnectionsPerAddress > 0 && open >= maxConnectionsPerAddress) {
        // smtp-server sends the reply and closes; onClose follows, which counts nothing for it.
        callback(
          new SmtpReply(
            421,
            `4.7.0 at most ${maxConnectionsPerAddress} connections at once from ${address}: try again later`,
          ),
        );
        return;
      }
      perAddress.set(address, open + 1);
      const timer = setTimeout(() => {
        for (const connection of server.connections) {
          if (connection.session === session)
            // A 421 closes the connection (smtp-server); the sender tries again in a new one.
            connection.send(421, '4.4.2 this connection has lasted too long: closing it, try again');
        }
      }, maxSessionMs);
      timer.unref();
      counted.set(session, { address, timer });
      callback();
    },
    onClose(session) {
      const mine = counted.get(session);
      if (!mine) return;
      counted.delete(session);
      clearTimeout(mine.timer);
      const open = (perAddress.get(mine.address) ?? 1) - 1;
      if (open > 0) perAddress.set(mine.address, open);
      else perAddress.delete(mine.address);
    },
    onRcptTo(address, session, callback) {
      // Checked before the lookup: past the limit a connection costs the database nothing more.
      if ((refused.get(session) ?? 0) >= MAX_REFUSED_RECIPIENTS) {
        callback(
          new SmtpReply(
            421,
            `4.7.0 too many refused recipients (${MAX_REFUSED_RECIPIENTS}) on one connection: closing it`,
          ),
        );
        return;
      }
      const usernames = accepted.get(session.envelope) ?? [];
      if (usernames.length >= MAX_RECIPIENTS) {
        callback(new SmtpReply(452, `4.5.3 at most ${MAX_RECIPIENTS} recipients per message`));
        return;
      }
      intake.recipient(address.address).then(
        (verdict) => {
          if (!verdict.accepted) {
            refused.set(session, (refused.get(session) ?? 0) + 1);
            return callback(new SmtpReply(550, `5.1.1 ${verdict.reason}`));
          }
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
              const closed = outcomes.filter((o) => o.verdict === 'closed').length;
              const updated = outcomes.filter((o) => o.verdict === 'updated').length;
              const alerts = (n: number) => `${n} alert${n === 1 ? '' : 's'}`;
              callback(
                null,
                `Message accepted: ${alerts(made)} made` +
                  (closed > 0 ? `, ${alerts(closed)} closed` : '') +
                  (updated > 0 ? `, ${alerts(updated)} updated` : '') +
                  (had > 0 ? `, ${had} recipient${had === 1 ? '' : 's'} had taken it already` : ''),
              );
            },
            (error: unknown) =>
              callback(
                error instanceof UnreadableEmail
                  ? new SmtpReply(554, `5.6.0 ${oneLine(error.message).slice(0, 300)}`)
                  : error instanceof NoRecipientLeft
                    ? // What RCPT TO would now answer each of them: for good, so the sender bounces it.
                      new SmtpReply(550, `5.1.1 ${oneLine(error.message).slice(0, 300)}`)
                    : tryLater(error, 'making alerts of a message'),
              ),
          );
      });
    },
  });
  // smtp-server passes its listening socket's errors on as its own: until it listens, an error is the
  // listen's, which the start rejects with. After, a broken connection is that client's problem.
  let listening = false;
  server.on('error', (error) => {
    if (listening) log.warn({ err: error }, 'inbound email: a connection failed');
  });

  await new Promise<void>((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) =>
      reject(new InboundSmtpListenError(deps.host, deps.port, error));
    server.server.once('error', failed);
    server.listen(deps.port, deps.host, () => {
      server.server.off('error', failed);
      listening = true;
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
