import type net from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerError } from 'smtp-server';

/**
 * A real SMTP server on 127.0.0.1 for tests: the email channel talks to it with nodemailer exactly as it
 * would to a relay. Plain text only (no STARTTLS), so nothing needs a certificate. Every accepted
 * message is parsed with mailparser and kept in `messages`; refusals are scripted per recipient
 * (`rejectRecipient`) or for the next attempts (`failNext`).
 */

export interface ReceivedMail {
  /** The envelope sender (MAIL FROM). */
  from: string;
  /** The envelope recipients the server accepted (RCPT TO), lower-cased as given. */
  to: string[];
  subject: string;
  text: string;
  /** '' when the message had no HTML part. */
  html: string;
  /** As in the header, angle brackets included ('' when absent). */
  messageId: string;
  /** Header values by lower-cased name, unfolded; a repeated header's values joined with '\n'. */
  headers: Record<string, string>;
  /** The message exactly as it arrived in DATA. */
  raw: string;
  /** The user the client authenticated as, when auth is required. */
  authUser?: string;
  /** When the server had the whole message (the end of DATA), before it parsed it and answered. */
  receivedAt: Date;
}

/** The SMTP command a scripted temporary failure answers. RCPT TO is where greylisting happens. */
export type FailureStage = 'mail' | 'rcpt' | 'data';

export interface TestSmtpServer {
  /** smtp://127.0.0.1:<port> (with user:pass@ when auth is required). */
  url: string;
  port: number;
  messages: ReceivedMail[];
  /** Refuses `address` at RCPT TO with `code` until cleared (550: the mailbox does not exist). */
  rejectRecipient(address: string, code?: number, message?: string): void;
  /**
   * The next `n` transactions fail with `code` at `stage` (default RCPT TO), then mail is accepted again;
   * `message` is the text after the code (default: a temporary failure's).
   */
  failNext(n: number, code?: number, stage?: FailureStage, message?: string): void;
  /** Resolves with the messages once at least `count` arrived; rejects after `timeoutMs`. */
  waitForMessages(count: number, timeoutMs?: number): Promise<ReceivedMail[]>;
  /** Connections opened since the start (or the last clear). */
  connectionsOpened(): number;
  /** Forgets received messages, scripted refusals and the count of connections. */
  clear(): void;
  stop(): Promise<void>;
}

export interface TestSmtpServerOptions {
  /** Require AUTH (PLAIN/LOGIN over the plain connection) with these credentials. */
  auth?: { user: string; pass: string };
  /** Listen on this port (default: a free one). */
  port?: number;
  /** Called with each message accepted, as it is kept in `messages`. */
  onMessage?: (mail: ReceivedMail) => void;
  /**
   * Read only the header block, not the MIME bodies (`text` and `html` stay '', `subject` undecoded): for
   * benchmarks, where parsing every message with mailparser would make this server the bottleneck.
   */
  headersOnly?: boolean;
}

function smtpError(code: number, message: string): SMTPServerError {
  const error: SMTPServerError = new Error(message);
  error.responseCode = code;
  return error;
}

function headerMap(lines: ReadonlyArray<{ key: string; line: string }>): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const { key, line } of lines) {
    const colon = line.indexOf(':');
    const value = line
      .slice(colon + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
    const name = key.toLowerCase();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}\n${value}`;
  }
  return headers;
}

/** The header block's fields (up to the first empty line), as mailparser's `headerLines` give them. */
function headerLinesOf(raw: Buffer): { key: string; line: string }[] {
  const text = raw.toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  const block = end < 0 ? text : text.slice(0, end);
  return block
    .split(/\r?\n(?![ \t])/)
    .filter((line) => line.includes(':'))
    .map((line) => ({ key: line.slice(0, line.indexOf(':')).trim(), line }));
}

type MailContent = Pick<ReceivedMail, 'subject' | 'text' | 'html' | 'messageId' | 'headers'>;

async function contentOf(raw: Buffer, headersOnly: boolean): Promise<MailContent> {
  if (headersOnly) {
    const headers = headerMap(headerLinesOf(raw));
    return {
      subject: headers.subject ?? '',
      text: '',
      html: '',
      messageId: headers['message-id'] ?? '',
      headers,
    };
  }
  const parsed = await simpleParser(raw);
  return {
    subject: parsed.subject ?? '',
    text: parsed.text ?? '',
    html: typeof parsed.html === 'string' ? parsed.html : '',
    messageId: parsed.messageId ?? '',
    headers: headerMap(parsed.headerLines),
  };
}

/**
 * Waiting for messages: `waitFor` resolves with them once at least `count` are in `messages` (after the
 * caller's `arrived()`), or rejects after `timeoutMs`. Shared with the benchmarks' server in a process of
 * its own (scripts/lib/smtp-process.ts).
 */
export function messageArrivals<T>(messages: T[]): {
  arrived(): void;
  waitFor(count: number, timeoutMs?: number): Promise<T[]>;
} {
  const waiters = new Set<() => void>();
  return {
    arrived() {
      for (const wake of waiters) wake();
    },
    waitFor(count, timeoutMs = 5_000) {
      if (messages.length >= count) return Promise.resolve([...messages]);
      return new Promise((resolve, reject) => {
        const wake = () => {
          if (messages.length < count) return;
          cleanup();
          resolve([...messages]);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out waiting for ${count} message(s); ${messages.length} arrived`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(wake);
        };
        waiters.add(wake);
      });
    },
  };
}

export async function startTestSmtpServer(options: TestSmtpServerOptions = {}): Promise<TestSmtpServer> {
  const messages: ReceivedMail[] = [];
  const rejected = new Map<string, { code: number; message: string }>();
  let failures: { remaining: number; code: number; stage: FailureStage; message?: string } = {
    remaining: 0,
    code: 451,
    stage: 'rcpt',
  };
  const arrivals = messageArrivals(messages);
  let opened = 0;

  // A transaction that already got its scripted failure at an earlier stage must not consume another.
  const failedSessions = new WeakSet<object>();
  function scriptedFailure(stage: FailureStage, session: object): SMTPServerError | undefined {
    if (failures.remaining <= 0 || failures.stage !== stage || failedSessions.has(session)) return undefined;
    failures.remaining -= 1;
    failedSessions.add(session);
    return smtpError(
      failures.code,
      failures.message ?? `Temporary failure, try again later (scripted ${failures.code})`,
    );
  }

  const auth = options.auth;
  const server = new SMTPServer({
    logger: false,
    disabledCommands: auth ? ['STARTTLS'] : ['STARTTLS', 'AUTH'],
    allowInsecureAuth: true,
    authOptional: !auth,
    disableReverseLookup: true,
    onConnect(_session, callback) {
      opened += 1;
      callback();
    },
    socketTimeout: 30_000,
    closeTimeout: 10_000,
    onAuth(credentials, _session, callback) {
      if (auth && credentials.username === auth.user && credentials.password === auth.pass)
        callback(null, { user: credentials.username });
      else callback(smtpError(535, 'Authentication failed'));
    },
    onMailFrom(_address, session, callback) {
      // Each MAIL FROM starts a new transaction on a (possibly pooled) connection.
      failedSessions.delete(session.envelope);
      callback(scriptedFailure('mail', session.envelope) ?? null);
    },
    onRcptTo(address, session, callback) {
      const refusal = rejected.get(address.address.toLowerCase());
      if (refusal) return callback(smtpError(refusal.code, refusal.message));
      callback(scriptedFailure('rcpt', session.envelope) ?? null);
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('error', (error: Error) => callback(error));
      stream.on('end', () => {
        const receivedAt = new Date();
        const failure = scriptedFailure('data', session.envelope);
        if (failure) return callback(failure);
        const raw = Buffer.concat(chunks);
        contentOf(raw, options.headersOnly ?? false).then(
          (content) => {
            const mailFrom = session.envelope.mailFrom;
            const mail: ReceivedMail = {
              from: mailFrom ? mailFrom.address : '',
              to: session.envelope.rcptTo.map((r) => r.address),
              ...content,
              raw: raw.toString('utf8'),
              authUser: typeof session.user === 'string' ? session.user : undefined,
              receivedAt,
            };
            messages.push(mail);
            options.onMessage?.(mail);
            arrivals.arrived();
            callback(null, `Queued as test-${messages.length}`);
          },
          (error: Error) => callback(smtpError(554, `Unparseable message: ${error.message}`)),
        );
      });
    },
  });
  // A client that drops the connection mid-command is the client's problem, not the test's.
  server.on('error', () => {});

  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  const port = (server.server.address() as net.AddressInfo).port;
  const credentials = auth ? `${encodeURIComponent(auth.user)}:${encodeURIComponent(auth.pass)}@` : '';

  return {
    url: `smtp://${credentials}127.0.0.1:${port}`,
    port,
    messages,
    rejectRecipient(address, code = 550, message = 'Mailbox unavailable: no such user') {
      rejected.set(address.toLowerCase(), { code, message });
    },
    failNext(n, code = 451, stage = 'rcpt', message) {
      failures = { remaining: n, code, stage, message };
    },
    waitForMessages: arrivals.waitFor,
    connectionsOpened: () => opened,
    clear() {
      opened = 0;
      messages.length = 0;
      rejected.clear();
      failures = { remaining: 0, code: 451, stage: 'rcpt' };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        // Pooled clients keep connections open; close() would wait for them for closeTimeout.
        for (const connection of server.connections) connection.close();
        server.close(() => resolve());
      }),
  };
}
