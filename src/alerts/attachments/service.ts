import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { requireUserRight } from '../../accounts/custom-roles/rights.js';
import type { Principal } from '../../accounts/service.js';
import { withQueryAllowance, type Db, type Queryable, type Tx } from '../../db/database.js';
import type { AlertRow } from '../../db/schema.js';
import { invalid, notFound } from '../../errors.js';
import { cutToCharacters } from '../limits.js';
import { alertsRepository, type IdentifierType } from '../repository.js';
import { actorOf } from '../service.js';
import { alertScopeOf } from '../visibility.js';
import { cleanContentType, cleanFileName } from './files.js';
import type { AttachmentLinks } from './links.js';
import { attachmentsRepository as repo, type AttachmentLink, type AttachmentMeta } from './repository.js';

/**
 * Alert attachments (Opsgenie's Add, List, Get and Delete Alert Attachment). Whoever may see an alert may
 * list its attachments and get a download link; whoever may change it may add and delete them (an API
 * integration's key by its write and delete flags, which the HTTP layer checks by method). Adding and
 * deleting go on the alert's log like any other change; a custom user role may take them away
 * (alert-add-attachment, alert-delete-attachment).
 */

export interface AttachmentLimits {
  /** The largest file, in bytes (the route stops reading past it; this is the last word). */
  maxBytes: number;
  /** How many attachments one alert may have. */
  perAlert: number;
}

export interface NewAttachment {
  fileName: string | undefined;
  contentType: string | undefined;
  content: Buffer;
  /** Opsgenie's `indexFile`: the HTML file of a zip to show first. Kept, not used. */
  indexFile?: string;
  /** Opsgenie's `user`: who the log says added it (else the key's owner). */
  user?: string;
}

export interface Download {
  name: string;
  contentType: string;
  size: number;
  /**
   * The bytes, read from the database a chunk per statement as the client takes them. It fails (it does
   * not hang) should the attachment be deleted mid-way, and should the client take no chunk for
   * `pieceDeadlineMs`; destroying it stops the reading.
   */
  content: Readable;
}

/** What a HEAD request for a download link answers: the file's headers, none of its bytes. */
export interface DownloadHead {
  name: string;
  contentType: string;
  size: number;
}

/**
 * The bytes one statement reads of a file being downloaded. Each chunk is a statement of its own, well
 * within the API's statement timeout, and its hex text (2 MiB) decodes in a few milliseconds, so a
 * download of any size neither holds the event loop nor a database connection for long.
 */
export const DOWNLOAD_CHUNK_BYTES = 1024 * 1024;

/**
 * Reads of attachments' bytes one process runs at once: each holds one of the 10 connections of the API's
 * pool and decodes a chunk, so 4 leave most of the pool to alerts however many files are downloading. A
 * permit is held only while one chunk is read, never between chunks: a client that reads slowly, or not at
 * all, holds none, and any number of downloads share the permits a chunk at a time.
 */
export const ATTACHMENT_READ_PERMITS = 4;

/**
 * How long a download waits for a permit to read its first chunk (waiting holds no connection) before it
 * is refused, a 503 to try again shortly. Its later chunks wait as long as it takes: their turn comes, as
 * every permit is given back after one statement.
 */
export const READ_PERMIT_WAIT_MS = 10_000;

/**
 * The slowest link to the database an upload's insert is given time for, on top of the API pool's bound:
 * 25 MiB at 256 KiB/s is 100 s more.
 */
export const UPLOAD_BYTES_PER_SECOND = 256 * 1024;

/**
 * Uploads one process receives at once. Each holds its file in memory whole while it arrives (up to
 * VIGIL_ATTACHMENT_MAX_BYTES, about twice that while its pieces are joined) and then one of the API pool's
 * connections for its insert: without a bound, a burst of large uploads (the alert's room is checked
 * before any of them stored anything, so all pass it) takes gigabytes and the pool. The permit is taken
 * before the body is read, so an upload waiting for one holds neither.
 */
export const ATTACHMENT_UPLOAD_PERMITS = 4;

/**
 * How long an upload waits for a permit (its body unread) before it is refused, a 503 to try again
 * shortly: long enough for a burst of small files to take turns, short of holding a client that will
 * wait behind large ones.
 */
export const UPLOAD_PERMIT_WAIT_MS = 3_000;

/**
 * How long a chunk read for a client may wait for the client to take it. A client that stops reading (a
 * stalled or hostile socket, which no write timeout ends) is cut off then, so it holds neither memory nor
 * a connection for ever; one that takes a 1 MiB chunk every 2 minutes (about 9 KB/s: a phone on a poor
 * signal) keeps going.
 */
export const PIECE_DEADLINE_MS = 120_000;

/**
 * Permits handed out first come, first served. `acquire` waits for one at most `waitMs` (for ever without
 * it) and gives up early once `signal` aborts (at once if it already has); false when it got none.
 */
function createPermits(count: number) {
  let free = count;
  const waiting: (() => void)[] = [];
  return {
    acquire(waitMs: number | undefined, signal?: AbortSignal): Promise<boolean> {
      // Whoever gave up already takes none, free or not: it would hold it for work no one awaits.
      if (signal?.aborted) return Promise.resolve(false);
      if (free > 0) {
        free--;
        return Promise.resolve(true);
      }
      return new Promise((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const settle = (got: boolean) => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', giveUp);
          resolve(got);
        };
        const grant = () => settle(true);
        function giveUp() {
          const at = waiting.indexOf(grant);
          if (at >= 0) waiting.splice(at, 1);
          settle(false);
        }
        waiting.push(grant);
        if (waitMs !== undefined) timer = setTimeout(giveUp, waitMs);
        signal?.addEventListener('abort', giveUp, { once: true });
      });
    },
    /** Gives a permit back: to the longest waiting, if any. */
    release(): void {
      const next = waiting.shift();
      if (next) next();
      else free++;
    },
  };
}

type Permits = ReturnType<typeof createPermits>;

/**
 * An attachment's bytes as a stream: its first chunk, then one statement per chunk as the client takes
 * them, one chunk read ahead at most (highWaterMark counts chunks here), so a slow client holds little.
 */
class AttachmentContent extends Readable {
  private sent = 0;
  private deadline: NodeJS.Timeout | undefined;
  /** Aborted when the stream is destroyed: a chunk still waiting for a permit stops waiting. */
  private readonly abort = new AbortController();

  constructor(
    private readonly readChunk: (offset: number, signal: AbortSignal) => Promise<Buffer | undefined>,
    private first: Buffer | undefined,
    private readonly size: number,
    private readonly deadlineMs: number,
  ) {
    super({ objectMode: true, highWaterMark: 1 });
    this.once('end', () => this.clearDeadline());
  }

  // Never called again before the chunk it asks for is pushed (Readable's own `reading` state).
  override _read(): void {
    // The client took what was read: the chunk it waited on is no longer waiting.
    this.clearDeadline();
    this.next().catch((error: unknown) =>
      this.destroy(error instanceof Error ? error : new Error(String(error))),
    );
  }

  private async next(): Promise<void> {
    if (this.sent >= this.size) {
      this.push(null);
      return;
    }
    let chunk = this.first;
    this.first = undefined;
    if (chunk === undefined) {
      chunk = await this.readChunk(this.sent, this.abort.signal);
      if (this.destroyed) return;
      if (chunk === undefined) throw new Error('the attachment was deleted while it was being downloaded');
      // Never the case while the row holds `size` bytes (its CHECK), but a stream must not spin on it.
      if (chunk.length === 0)
        throw new Error(`the attachment ended after ${this.sent} of its ${this.size} bytes`);
    }
    this.sent += chunk.length;
    this.deadline = setTimeout(
      () => this.destroy(new Error(`the client took no part of the download for ${this.deadlineMs} ms`)),
      this.deadlineMs,
    );
    this.push(chunk);
    if (this.sent >= this.size) this.push(null);
  }

  private clearDeadline(): void {
    clearTimeout(this.deadline);
    this.deadline = undefined;
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.clearDeadline();
    this.abort.abort();
    callback(error);
  }
}

/** Attachment ids are bigserial numbers; anything else names no attachment. */
export const ATTACHMENT_ID = /^\d{1,18}$/;

function missingAlert(identifier: string, type: IdentifierType) {
  return notFound(`Alert with ${type === 'tiny' ? 'tinyId' : type} [${identifier}] does not exist.`);
}

export function createAttachmentsService(deps: {
  db: Db;
  links: AttachmentLinks;
  limits: AttachmentLimits;
  /** DOWNLOAD_CHUNK_BYTES but in tests, which read a file in many chunks without a large file. */
  chunkBytes?: number;
  /** READ_PERMIT_WAIT_MS but in tests. */
  permitWaitMs?: number;
  /** PIECE_DEADLINE_MS but in tests, which see a stalled client cut off without waiting 2 minutes. */
  pieceDeadlineMs?: number;
}) {
  const { db, links, limits } = deps;
  const chunkBytes = deps.chunkBytes ?? DOWNLOAD_CHUNK_BYTES;
  const permitWaitMs = deps.permitWaitMs ?? READ_PERMIT_WAIT_MS;
  const pieceDeadlineMs = deps.pieceDeadlineMs ?? PIECE_DEADLINE_MS;
  /** This process's reads of attachments' bytes (see ATTACHMENT_READ_PERMITS). */
  const readPermits: Permits = createPermits(ATTACHMENT_READ_PERMITS);
  /** This process's uploads (see ATTACHMENT_UPLOAD_PERMITS). */
  const uploadPermits: Permits = createPermits(ATTACHMENT_UPLOAD_PERMITS);

  /** `work` under one of `permits`, taken before and given back however it ends; 'busy' when none came. */
  async function withPermit<T>(
    permits: Permits,
    work: () => Promise<T>,
    waitMs: number | undefined,
    signal?: AbortSignal,
  ): Promise<T | 'busy'> {
    if (!(await permits.acquire(waitMs, signal))) return 'busy';
    try {
      return await work();
    } finally {
      permits.release();
    }
  }

  /** The chunk of `link`'s file from `offset`, for a download under way; undefined once it is deleted. */
  async function chunkOf(
    link: AttachmentLink,
    offset: number,
    signal: AbortSignal,
  ): Promise<Buffer | undefined> {
    // Each chunk is a statement of its own, yet together they make one file: that holds as an attachment's
    // row is never updated in place (its id is never reused; replacing a file is a delete and a new id).
    const chunk = await withPermit(
      readPermits,
      () => repo.contentChunk(db, link, offset, chunkBytes),
      undefined,
      signal,
    );
    if (chunk === 'busy') throw new Error('the download was stopped');
    return chunk;
  }

  async function alertOf(
    q: Queryable,
    p: Principal,
    identifier: string,
    type: IdentifierType,
    lock = false,
  ): Promise<AlertRow> {
    const alert = await alertsRepository.find(q, await alertScopeOf(q, p), identifier, type, lock);
    if (!alert) throw missingAlert(identifier, type);
    return alert;
  }

  async function attachmentOf(q: Queryable, alert: AlertRow, attachmentId: string) {
    const found = ATTACHMENT_ID.test(attachmentId) ? await repo.find(q, alert.id, attachmentId) : undefined;
    if (!found) throw notFound(`Attachment [${attachmentId}] of alert [${alert.id}] does not exist.`);
    return found;
  }

  const tooLarge = (file: NewAttachment) => file.content.length > limits.maxBytes;
  const isFull = (count: number) => count >= limits.perAlert;

  /**
   * The alert a file may be added to: in the caller's scope (`lock`ed when `q` is the transaction that
   * adds it) and with room for one more. The rules `mayAdd` checks before a file is read and `add` again
   * under its lock.
   */
  async function alertWithRoom(
    q: Queryable,
    p: Principal,
    identifier: string,
    type: IdentifierType,
    lock: boolean,
  ): Promise<AlertRow> {
    const alert = await alertOf(q, p, identifier, type, lock);
    const count = await repo.countOf(q, alert.id);
    if (isFull(count)) {
      throw invalid(
        `Alert [${alert.id}] already has ${count} attachments, the most one alert may have (VIGIL_ATTACHMENTS_PER_ALERT): delete one first.`,
      );
    }
    return alert;
  }

  /**
   * Stores a file the caller has held to the limits, on an alert `tx` holds, with its line on the
   * alert's log (`how` it came: "added", "attached from the email").
   */
  async function store(tx: Tx, p: Principal, alert: AlertRow, file: NewAttachment, how: string) {
    const actor = actorOf(p, file.user);
    const name = cleanFileName(file.fileName);
    // Past the API pool's client-side bound (createPool's queryTimeoutMs), which counts the time spent
    // sending the statement: a file of 25 MiB or more over a slower link would be cut off every time, a
    // 503. Its bytes get time at UPLOAD_BYTES_PER_SECOND; PostgreSQL's statement_timeout still bounds the
    // insert once the server has received it.
    const added = await withQueryAllowance((file.content.length / UPLOAD_BYTES_PER_SECOND) * 1000, () =>
      repo.insert(tx, {
        alertId: alert.id,
        orgId: alert.org_id,
        name,
        contentType: cleanContentType(file.contentType),
        sha256: createHash('sha256').update(file.content).digest('hex'),
        indexFile: file.indexFile?.trim() ? cleanFileName(file.indexFile) : null,
        content: file.content,
        addedBy: actor.name,
        addedByUserId: p.userId ?? null,
        addedByIntegrationId: p.integration?.id ?? null,
      }),
    );
    await alertsRepository.addLog(
      tx,
      alert.id,
      'attachment',
      `Attachment ${name} (${added.size} bytes) ${how} by ${actor.name}`,
      actor.name,
    );
    return added;
  }

  const requireAddRight = (p: Principal) =>
    requireUserRight(db, p, 'alert-add-attachment', 'add attachments to alerts');

  return {
    /**
     * Whether the caller may add a file to the alert now: the right, the alert in their scope, room for
     * one more. The upload asks before it reads the file, so a request that will be refused is refused
     * before its body is read; `add` checks it all again, under the alert's lock.
     */
    async mayAdd(p: Principal, identifier: string, type: IdentifierType): Promise<void> {
      await requireAddRight(p);
      await alertWithRoom(db, p, identifier, type, false);
    },

    /**
     * Runs `upload` (reading the file into memory and adding it) under one of this process's upload
     * permits, given back however it ends; 'busy' when none came within the wait, or `signal` (the
     * client gone) aborted it first. `mayAdd` comes before, so a refused upload waits for nothing.
     */
    uploading<T>(upload: () => Promise<T>, signal?: AbortSignal): Promise<T | 'busy'> {
      return withPermit(uploadPermits, upload, UPLOAD_PERMIT_WAIT_MS, signal);
    },

    /** Adds a file to an alert, with a line on its log; the alert is locked so its count holds. */
    async add(p: Principal, identifier: string, type: IdentifierType, file: NewAttachment) {
      await requireAddRight(p);
      if (tooLarge(file)) {
        throw invalid(`The file is larger than the limit of ${limits.maxBytes} bytes.`, {
          file: `must be at most ${limits.maxBytes} bytes.`,
        });
      }
      return db.transaction().execute(async (tx) => {
        const alert = await alertWithRoom(tx, p, identifier, type, true);
        return store(tx, p, alert, file, 'added');
      });
    },

    /**
     * Files that came with what made an alert or was de-duplicated into it (an email's attachments), in
     * the caller's transaction: the one that wrote the alert, and so holds its row while the count is
     * read. Within the limits `add` keeps; a file over one is left out with a line on the alert's log
     * saying which and why, since the alert must never be refused for a file.
     */
    async addArrived(
      tx: Tx,
      p: Principal,
      alert: AlertRow,
      files: readonly NewAttachment[],
      from: string,
    ): Promise<{ added: AttachmentMeta[]; skipped: number }> {
      const added: AttachmentMeta[] = [];
      const owner = actorOf(p).name;
      const skip = (log: string) => alertsRepository.addLog(tx, alert.id, 'attachment', log, owner);
      let tooLargeCount = 0;
      const overCount: string[] = [];
      let count = files.length > 0 ? await repo.countOf(tx, alert.id) : 0;
      for (const file of files) {
        const name = cleanFileName(file.fileName);
        if (tooLarge(file)) {
          tooLargeCount++;
          await skip(
            `Attachment ${name} (${file.content.length} bytes) of ${from} not attached: larger than the limit of ${limits.maxBytes} bytes (VIGIL_ATTACHMENT_MAX_BYTES)`,
          );
        } else if (isFull(count)) {
          overCount.push(name);
        } else {
          added.push(await store(tx, p, alert, file, `attached from ${from}`));
          count++;
        }
      }
      if (overCount.length > 0) {
        // One line for all of them: a message of many files must not bury the alert's log.
        const what = overCount.length === 1 ? 'Attachment' : `${overCount.length} attachments`;
        await skip(
          cutToCharacters(
            `${what} of ${from} not attached, as the alert already has ${count} attachments, the most one alert may have (VIGIL_ATTACHMENTS_PER_ALERT): ${overCount.join(', ')}`,
            2000,
          ),
        );
      }
      return { added, skipped: tooLargeCount + overCount.length };
    },

    async list(p: Principal, identifier: string, type: IdentifierType) {
      const alert = await alertOf(db, p, identifier, type);
      return repo.listOf(db, alert.id);
    },

    /** An attachment's name and a signed link that downloads it until it expires. */
    async link(p: Principal, identifier: string, type: IdentifierType, attachmentId: string, now: Date) {
      const alert = await alertOf(db, p, identifier, type);
      const attachment = await attachmentOf(db, alert, attachmentId);
      return {
        attachment,
        url: links.url({ orgId: alert.org_id, alertId: alert.id, attachmentId: attachment.id }, now),
      };
    },

    async remove(
      p: Principal,
      identifier: string,
      type: IdentifierType,
      attachmentId: string,
      user: string | undefined,
    ) {
      await requireUserRight(db, p, 'alert-delete-attachment', 'delete attachments of alerts');
      const actor = actorOf(p, user);
      return db.transaction().execute(async (tx) => {
        const alert = await alertOf(tx, p, identifier, type, true);
        const removed = ATTACHMENT_ID.test(attachmentId)
          ? await repo.delete(tx, alert.id, attachmentId)
          : undefined;
        if (!removed) throw notFound(`Attachment [${attachmentId}] of alert [${alert.id}] does not exist.`);
        await alertsRepository.addLog(
          tx,
          alert.id,
          'attachment',
          `Attachment ${removed.name} removed by ${actor.name}`,
          actor.name,
        );
        return removed;
      });
    },

    /**
     * The file a download link names: `invalid` or `expired` for a bad link, `gone` once deleted, `busy`
     * when no read permit came within `permitWaitMs`. The first chunk is read here, so a file deleted
     * before the download starts is `gone` rather than a stream that fails.
     */
    async download(
      token: string,
      now: Date,
    ): Promise<Download | { error: 'invalid' | 'expired' | 'gone' | 'busy' }> {
      const verdict = await links.verify(token, now);
      if ('error' in verdict) return verdict;
      const head = await withPermit(
        readPermits,
        () => repo.contentHead(db, verdict, chunkBytes),
        permitWaitMs,
      );
      if (head === 'busy') return { error: 'busy' };
      if (!head) return { error: 'gone' };
      const content = new AttachmentContent(
        (offset, signal) => chunkOf(verdict, offset, signal),
        head.chunk,
        head.size,
        pieceDeadlineMs,
      );
      return { name: head.name, contentType: head.content_type, size: head.size, content };
    },

    /**
     * What a download link names, without its bytes (a HEAD request): a statement that reads none, so it
     * takes no read permit.
     */
    async describeDownload(
      token: string,
      now: Date,
    ): Promise<DownloadHead | { error: 'invalid' | 'expired' | 'gone' }> {
      const verdict = await links.verify(token, now);
      if ('error' in verdict) return verdict;
      const found = await repo.describe(db, verdict);
      if (!found) return { error: 'gone' };
      return { name: found.name, contentType: found.content_type, size: found.size };
    },
  };
}

export type AttachmentsService = ReturnType<typeof createAttachmentsService>;
