import fs from 'node:fs';
import type { DestinationStream } from 'pino';

/** How long a standard output whose write failed is left alone before a line is tried on it again. */
const RETRY_AFTER_MS = 10_000;
/**
 * Lines waiting for standard output beyond this many bytes are dropped: a reader that stopped reading (a
 * terminal paused with Ctrl-S, a stuck log collector) must not grow Vigil's memory until it dies.
 */
const MAX_QUEUED_BYTES = 16 * 1024 * 1024;
/** How long the exit's last flush waits on a standard output that is busy (EAGAIN) before giving up. */
const EXIT_FLUSH_BUSY_MS = 1_000;

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
 * comes back by itself once space is freed, led by a line counting what was lost. Writes are
 * asynchronous, as pino's default's are: a reader that stalls (a paused terminal, a hung `| tee`) holds
 * up the log, never the event loop, and what waits for it is bounded (MAX_QUEUED_BYTES). The exit's
 * flush writes what is queued, each write tried once: an exit never waits on a disk. (Why a start
 * failed goes to standard error, synchronously, as well.)
 */
export class StdoutDestination implements DestinationStream {
  private readonly fd: number;
  private readonly errorFd: number;
  private readonly retryAfterMs: number;
  private queue: Buffer[] = [];
  private queuedBytes = 0;
  private writing = false;
  /** Since when writes fail, and when to try again; undefined while they succeed. */
  private failure: { code: string; since: Date; retryAt: number } | undefined;
  private dropped = 0;
  /** A line was cut off by a failure after part of it was written: the next write starts a new line. */
  private torn = false;

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
    const bytes = Buffer.from(line);
    if (this.queuedBytes + bytes.length > MAX_QUEUED_BYTES) {
      this.dropped++;
      return;
    }
    this.queue.push(bytes);
    this.queuedBytes += bytes.length;
    this.writeQueued();
  }

  /** Writes what is queued synchronously, each write tried once: for the process's exit. */
  flushSync(): void {
    // A write under way finishes or not on its own; what is queued behind it can only go now.
    if (this.queue.length === 0 || (this.failure && Date.now() < this.failure.retryAt)) return;
    let { chunk } = this.takeQueue();
    const busyUntil = Date.now() + EXIT_FLUSH_BUSY_MS;
    while (chunk.length > 0) {
      try {
        chunk = chunk.subarray(fs.writeSync(this.fd, chunk));
      } catch (error) {
        const failed = error as NodeJS.ErrnoException;
        if (!isBusy(failed) || Date.now() > busyUntil) {
          this.reportFailure(failed);
          return;
        }
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
      }
    }
  }

  /**
   * What is queued, as one write, and how many log lines it stands for (pino writes one a call; a notice
   * of lines dropped stands for those, to be counted again should this write fail too).
   */
  private takeQueue(): { chunk: Buffer; lines: number } {
    const taken = this.queue;
    const lines = taken.length + this.dropped;
    this.queue = [];
    this.queuedBytes = 0;
    if (this.dropped > 0) taken.unshift(this.droppedNotice());
    if (this.torn) taken.unshift(Buffer.from('\n'));
    return { chunk: Buffer.concat(taken), lines };
  }

  /** A warning in pino's format, leading the log where it resumes. */
  private droppedNotice(): Buffer {
    const why = this.failure
      ? `standard output could not be written (${this.failure.code}) from ${this.failure.since.toISOString()} on`
      : `standard output did not keep up (more than ${MAX_QUEUED_BYTES / 1024 / 1024} MiB waiting for it)`;
    const msg = `${this.dropped} log lines were dropped: ${why}`;
    this.dropped = 0;
    return Buffer.from(JSON.stringify({ level: 40, time: Date.now(), service: 'vigil', msg }) + '\n');
  }

  private writeQueued(): void {
    if (this.writing || this.queue.length === 0) return;
    this.writing = true;
    const { chunk, lines } = this.takeQueue();
    this.writeChunk(chunk, lines, false);
  }

  /** `partial`: `chunk` is what is left of one whose start was written. */
  private writeChunk(chunk: Buffer, lines: number, partial: boolean): void {
    fs.write(this.fd, chunk, 0, chunk.length, null, (error, written) => {
      if (error && isBusy(error)) {
        // A non-blocking descriptor that is full for now (SonicBoom waits the same 100 ms); meanwhile
        // lines queue, up to MAX_QUEUED_BYTES.
        setTimeout(() => this.writeChunk(chunk, lines, partial), 100).unref();
        return;
      }
      if (error) {
        // What failed to be written is lost, and what queued behind it: the disk is full now.
        this.dropped += lines + this.queue.length;
        this.queue = [];
        this.queuedBytes = 0;
        if (partial) this.torn = true;
        this.reportFailure(error);
        this.writing = false;
        return;
      }
      this.failure = undefined;
      this.torn = false;
      if (written < chunk.length) {
        const rest = chunk.subarray(written);
        this.writeChunk(rest, countLines(rest), true);
        return;
      }
      this.writing = false;
      this.writeQueued();
    });
  }

  private reportFailure(error: NodeJS.ErrnoException): void {
    const code = error.code ?? error.message;
    if (!this.failure) {
      this.failure = { code, since: new Date(), retryAt: 0 };
      const remedy =
        code === 'ENOSPC'
          ? 'free space on the disk it is written to'
          : 'check what it is written to, and what reads it';
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

function countLines(chunk: Buffer): number {
  let lines = 0;
  for (let at = chunk.indexOf(10); at >= 0; at = chunk.indexOf(10, at + 1)) lines++;
  return lines;
}

/** One for the process: every logger writing standard output shares its queue and its exit flush. */
let stdout: StdoutDestination | undefined;

export function processStdout(): StdoutDestination {
  if (!stdout) {
    const destination = new StdoutDestination();
    process.on('exit', () => destination.flushSync());
    stdout = destination;
  }
  return stdout;
}
