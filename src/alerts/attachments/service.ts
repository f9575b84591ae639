import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { requireUserRight } from '../../accounts/custom-roles/rights.js';
import type { Principal } from '../../accounts/service.js';
import type { Db, Queryable, Tx } from '../../db/database.js';
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
   * not hang) should the attachment be deleted mid-way; destroying it stops the reading and frees the
   * download's place.
   */
  content: Readable;
}

/**
 * The bytes one statement reads of a file being downloaded. Each chunk is a statement of its own, well
 * within the API's statement timeout, and its hex text (2 MiB) decodes in a few milliseconds, so a
 * download of any size neither holds the event loop nor a database connection for long.
 */
export const DOWNLOAD_CHUNK_BYTES = 1024 * 1024;

/**
 * Downloads one process serves at once; beyond, a 503 to try again shortly. Each holds a few chunks in
 * memory and, while a chunk is read, one of the 10 connections of the API's pool: 4 leave most of the pool
 * to alerts however many links are opened at once, and are plenty for people opening an alert's files.
 */
export const MAX_CONCURRENT_DOWNLOADS = 4;

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
}) {
  const { db, links, limits } = deps;
  const chunkBytes = deps.chunkBytes ?? DOWNLOAD_CHUNK_BYTES;
  /** Downloads under way in this process (see MAX_CONCURRENT_DOWNLOADS). */
  let downloading = 0;

  /** The bytes of an attachment after its `first` chunk, a statement per chunk, as the stream asks. */
  async function* chunksOf(link: AttachmentLink, first: Buffer, size: number): AsyncGenerator<Buffer> {
    let sent = 0;
    let chunk = first;
    for (;;) {
      if (chunk.length > 0) {
        yield chunk;
        sent += chunk.length;
      }
      if (sent >= size) return;
      const next = await repo.contentChunk(db, link, sent, chunkBytes);
      if (next === undefined) throw new Error('the attachment was deleted while it was being downloaded');
      // Never the case while the row holds `size` bytes (its CHECK), but a loop must not spin on it.
      if (next.length === 0) throw new Error(`the attachment ended after ${sent} of its ${size} bytes`);
      chunk = next;
    }
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
    const added = await repo.insert(tx, {
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
    });
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
     * while MAX_CONCURRENT_DOWNLOADS are under way. The first chunk is read here, so a file deleted
     * before the download starts is `gone` rather than a stream that fails.
     */
    async download(
      token: string,
      now: Date,
    ): Promise<Download | { error: 'invalid' | 'expired' | 'gone' | 'busy' }> {
      const verdict = await links.verify(token, now);
      if ('error' in verdict) return verdict;
      if (downloading >= MAX_CONCURRENT_DOWNLOADS) return { error: 'busy' };
      downloading++;
      let held = true;
      const release = () => {
        if (held) {
          held = false;
          downloading--;
        }
      };
      try {
        const head = await repo.contentHead(db, verdict, chunkBytes);
        if (!head) {
          release();
          return { error: 'gone' };
        }
        // One chunk read ahead at most (highWaterMark counts chunks here): a slow client holds little.
        const content = Readable.from(chunksOf(verdict, head.chunk, head.size), { highWaterMark: 1 });
        // 'close' comes once the stream ended, failed or was destroyed, after any chunk being read.
        content.once('close', release);
        return { name: head.name, contentType: head.content_type, size: head.size, content };
      } catch (error) {
        release();
        throw error;
      }
    },
  };
}

export type AttachmentsService = ReturnType<typeof createAttachmentsService>;
