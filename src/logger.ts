import fs from 'node:fs';
import { pino, type Logger } from 'pino';

/**
 * Paths pino blanks out wherever they appear. Keys, tokens and passwords must never reach a log line,
 * whether they come in a header, a query string or a body we chose to log.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'headers.authorization',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'token',
  '*.token',
  'databaseUrl',
  'connectionString',
];

/**
 * Query parameters whose value is a credential: an integration's key (the intake URL), a calendar feed's
 * or password link's token, the console's first set-up code, and the OpenID Connect callback's
 * authorization code and state.
 */
const SECRET_QUERY_PARAMETERS = new Set(['apikey', 'api_key', 'token', 'key', 'code', 'state']);

function decodedName(name: string): string {
  try {
    return decodeURIComponent(name).toLowerCase();
  } catch {
    return name.toLowerCase();
  }
}

/**
 * Blanks the credentials of a URL before it is logged: the values of SECRET_QUERY_PARAMETERS (named
 * in any case, percent-encoded or not, as the query parser reads them), and the token of a link that is
 * its own credential (an alert action link, an attachment's download link).
 *
 * The query is read as the server reads it, not as a browser would: the router (find-my-way) splits it
 * off at the first `?` or `#`, and the parser (fast-querystring) takes a later `#` or `?` as plain text.
 * So `/x#apiKey=S` and `/x?a=1#&apiKey=S` send the key S, and in `?apiKey=S#T` the key is all of `S#T`:
 * no part of a URL is a fragment to be copied through.
 */
export function redactUrl(url: string): string {
  const start = url.search(/[?#]/);
  const path = start < 0 ? url : url.slice(0, start);
  const query =
    start < 0
      ? ''
      : url.charAt(start) +
        url
          .slice(start + 1)
          .split('&')
          .map((part) => {
            const eq = part.indexOf('=');
            if (eq < 0 || !SECRET_QUERY_PARAMETERS.has(decodedName(part.slice(0, eq)))) return part;
            return `${part.slice(0, eq)}=[REDACTED]`;
          })
          .join('&');
  return (path + query).replace(/(\/v1\/(?:alert-actions|alert-attachments)\/)[^/?#]+/g, '$1[REDACTED]');
}

/** How long a standard output whose write failed is left alone before a line is tried on it again. */
const RETRY_AFTER_MS = 10_000;
/** How long a line waits on a standard output that is full for now (EAGAIN: its reader is behind). */
const BUSY_WAIT_MS = 1_000;

export interface StdoutDestinationOptions {
  /** The file descriptor written to: 1. */
  fd?: number;
  /** Where the one line saying that writing fails goes: 2. */
  errorFd?: number;
  retryAfterMs?: number;
}

const isBusy = (error: NodeJS.ErrnoException) => error.code === 'EAGAIN' || error.code === 'EBUSY';

/**
 * Vigil's standard output, in place of pino's default (a SonicBoom on fd 1). That one survives only EPIPE:
 * any other failed write (ENOSPC on the full disk of `>> vigil.log` or systemd's StandardOutput=append:,
 * EIO) is re-emitted where nothing listens and ends the process as uncaught, and pino's exit hook then
 * flushes synchronously, retrying the failed write every 100 ms for ever: the process never exits, its
 * port stays open serving nothing, and the service manager never restarts it.
 *
 * Here a failed write costs the log and nothing else: Vigil keeps serving and paging (which is what an
 * operator needs most while a disk is full), says once on standard error why lines go missing, drops
 * lines while standard output fails, and tries again every RETRY_AFTER_MS with the next line, so the log
 * comes back by itself once space is freed, led by a line counting what was lost. Lines are written as
 * they come, synchronously, as pino's default did: nothing is held back, so the last line before an exit
 * (why a start failed) is never lost, and the log keeps its order with what the CLI prints.
 */
export class StdoutDestination implements pino.DestinationStream {
  private readonly fd: number;
  private readonly errorFd: number;
  private readonly retryAfterMs: number;
  /** Since when writes fail, and when to try again; undefined while they succeed. */
  private failure: { code: string; since: Date; retryAt: number } | undefined;
  private dropped = 0;

  constructor(options: StdoutDestinationOptions = {}) {
    this.fd = options.fd ?? 1;
    this.errorFd = options.errorFd ?? 2;
    this.retryAfterMs = options.retryAfterMs ?? RETRY_AFTER_MS;
  }

  write(line: string): void {
    if (this.failure && Date.now() < this.failure.retryAt) {
      this.dropped++;
      return;
    }
    const notice = this.failure && this.dropped > 0 ? this.droppedNotice(this.failure) : '';
    if (!this.writeAll(notice + line)) {
      this.dropped++;
      return;
    }
    this.failure = undefined;
    this.dropped = 0;
  }

  /** Whether all of `text` was written; a failure is reported and starts the wait before the next try. */
  private writeAll(text: string): boolean {
    let chunk = Buffer.from(text);
    const busyUntil = Date.now() + BUSY_WAIT_MS;
    while (chunk.length > 0) {
      try {
        chunk = chunk.subarray(fs.writeSync(this.fd, chunk));
      } catch (error) {
        const failed = error as NodeJS.ErrnoException;
        if (isBusy(failed) && Date.now() < busyUntil) {
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
          continue;
        }
        this.reportFailure(failed);
        return false;
      }
    }
    return true;
  }

  /** A warning in pino's format, leading the log where it resumes. */
  private droppedNotice(failure: { code: string; since: Date }): string {
    const msg = `${this.dropped} log lines were dropped: standard output could not be written (${failure.code}) from ${failure.since.toISOString()} on`;
    return JSON.stringify({ level: 40, time: Date.now(), service: 'vigil', msg }) + '\n';
  }

  private reportFailure(error: NodeJS.ErrnoException): void {
    const code = error.code ?? error.message;
    if (!this.failure) {
      this.failure = { code, since: new Date(), retryAt: 0 };
      const remedy =
        code === 'ENOSPC'
          ? 'free space on the disk it is written to'
          : 'check what reads it (a stopped log collector, a paused terminal)';
      // Once per failure, not per line; standard error may well be on the same full disk.
      try {
        fs.writeSync(
          this.errorFd,
          `vigil: the log cannot be written to standard output (${code}: ${error.message}); Vigil keeps running and drops log lines until it can write them again (tried every ${Math.round(this.retryAfterMs / 1000)} s): ${remedy}.\n`,
        );
      } catch {
        // Nowhere left to say it.
      }
    }
    this.failure.retryAt = Date.now() + this.retryAfterMs;
  }
}

/** One for the process: every logger writing standard output shares its state of failure. */
let stdout: StdoutDestination | undefined;

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACTED_PATHS, censor: '[REDACTED]' },
      base: { service: 'vigil' },
    },
    (destination as pino.DestinationStream | undefined) ?? (stdout ??= new StdoutDestination()),
  );
}

export type { Logger };
