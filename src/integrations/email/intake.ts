import { randomUUID } from 'node:crypto';
import type { AddressObject, Attachment, ParsedMail } from 'mailparser';
import type { AttachmentsService, NewAttachment } from '../../alerts/attachments/service.js';
import type { AlertsService, CreateAlertInput } from '../../alerts/service.js';
import { isUnstorableValue, type Db } from '../../db/database.js';
import { storableText } from '../../db/storable.js';
import { isDomainError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { QUEUES } from '../../work/queue-names.js';
import type { Clock } from '../../work/clock.js';
import type { WorkSignal } from '../../work/runner.js';
import { integrationPrincipalOf } from '../principal.js';
import { integrationsRepository as repo, type IntegrationWithTeams } from '../repository.js';
import { cut } from '../securityhub/findings.js';
import { EMAIL_USERNAME_PATTERN } from '../types.js';
import { emailMessagesRepository as messages, type EmailMessageRow } from './repository.js';
import { whyAutomaticReply } from './automatic-replies.js';

/**
 * Email integrations: a message to <emailUsername>@<inbound domain> becomes an alert of that integration,
 * made as an API integration's create is (its team, maintenance, policies). SMTP is smtp-listener.ts's.
 * Each recipient integration takes a Message-ID once (repository.ts): a sending server retries the whole
 * message when any recipient failed, and the recipients already served must not make their alert again.
 * The message's attachments go onto the alert when the create action that made it says
 * `appendAttachments`, in the same transaction, so a retried message does not add them twice.
 */

export type RecipientVerdict =
  { accepted: true; emailUsername: string } | { accepted: false; reason: string };

export interface ReceivedEmail {
  /** The message as it came (headers and body). */
  raw: Buffer;
  /** The accepted recipients' local parts (see {@link EmailIntake.recipient}). */
  emailUsernames: readonly string[];
  /** The envelope sender (MAIL FROM), for when the message names none: '' for the null sender (`<>`). */
  mailFrom: string | undefined;
}

/** What became of one message for one recipient integration. */
export interface EmailOutcome {
  emailUsername: string;
  /** `duplicate`: the integration took this Message-ID before; nothing more is made of it. */
  verdict: 'created' | 'ignored' | 'failed' | 'duplicate';
  reason?: string;
  alertId?: string;
}

const USERNAME = new RegExp(EMAIL_USERNAME_PATTERN);

/**
 * A message the parser refuses (MIME nested past its limit, say): it would be refused again on every
 * retry, so the sender is told at once, for good, and its MTA bounces it back rather than queueing it.
 */
export class UnreadableEmail extends Error {
  constructor(cause: unknown) {
    super(`the message could not be read: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'UnreadableEmail';
  }
}

/**
 * Messages made into alerts at once. Each holds a connection of the API's pool for its transaction and
 * may want another inside it (the alert policies, when not cached): a burst of mail must leave the pool
 * room for that, or every transaction would wait on a connection the others hold.
 */
const CONCURRENT_TAKES = 3;

/** Header values in the alert's details are kept short: the whole message is in the payload log. */
const DETAIL_MAX = 1000;
/** What the Alert API takes as a description; the whole message stays in the payload log. */
const DESCRIPTION_MAX = 15_000;

/**
 * The files a message carries, as alert attachments. Parts of a multipart/related body (the images its
 * HTML shows by cid: logos, signatures) are left out: they are how the body looks, which the alert's
 * description does not show, not files the sender attached (mailparser marks them so it does not offer
 * them for download either).
 */
function attachedFiles(attachments: readonly Attachment[]): NewAttachment[] {
  return attachments
    .filter((a) => !a.related)
    .map((a) => ({ fileName: a.filename, contentType: a.contentType, content: a.content }));
}

export function createEmailIntake(deps: {
  db: Db;
  alerts: AlertsService;
  /** Where a create action's `appendAttachments` puts the message's files (with their limits). */
  attachments: AttachmentsService;
  domain: string;
  log: Logger;
  /** Why a maintenance disables the integration now, or undefined. */
  disabledBy: (integrationId: string) => Promise<string | undefined>;
  /** Woken once an alert is committed (alerts are made in the intake's own transaction). */
  signal?: WorkSignal;
  /** When a message was taken, for its retention. */
  clock: Clock;
}) {
  const { db, alerts, domain, log } = deps;
  let taking = 0;
  const queued: (() => void)[] = [];
  /** Runs `work` when fewer than CONCURRENT_TAKES run; a finished one hands its place to the next. */
  async function inTurn<T>(work: () => Promise<T>): Promise<T> {
    if (taking >= CONCURRENT_TAKES) await new Promise<void>((resolve) => queued.push(resolve));
    else taking++;
    try {
      return await work();
    } finally {
      const next = queued.shift();
      if (next) next();
      else taking--;
    }
  }

  /** The enabled Email integration an address of the inbound domain belongs to. */
  async function integrationAt(emailUsername: string): Promise<IntegrationWithTeams | undefined> {
    const row = await repo.byEmailUsername(db, emailUsername);
    return row?.enabled ? row : undefined;
  }

  async function record(
    integration: IntegrationWithTeams,
    messageId: string | null,
    body: string,
    outcome: EmailOutcome,
  ): Promise<void> {
    const row = {
      integration_id: integration.id,
      message_id: messageId,
      kind: 'email',
      verdict: outcome.verdict,
      reason: outcome.reason ?? null,
      alert_ids: outcome.alertId ? [outcome.alertId] : [],
      content_type: 'message/rfc822',
      body,
      received_at: deps.clock.now(),
    };
    try {
      await repo.recordPayload(db, row);
    } catch (error) {
      // The alert is made: a log line the database refuses, or cannot take now, must not make the
      // sending server retry (and make the alert twice).
      if (!isUnstorableValue(error)) {
        log.warn({ err: error, integrationId: integration.id }, 'an email could not be logged');
        return;
      }
      await repo
        .recordPayload(db, { ...row, body: `(not kept: ${(error as Error).message})` })
        .catch((again: unknown) =>
          log.warn({ err: again, integrationId: integration.id }, 'an email could not be logged'),
        );
    }
  }

  function repeated(emailUsername: string, messageId: string, earlier: EmailMessageRow): EmailOutcome {
    const made = earlier.alert_id ? `alert ${earlier.alert_id} was made of it` : 'it made no alert';
    return {
      emailUsername,
      verdict: 'duplicate',
      reason: `message ${cut(messageId, 200)} was already received at ${earlier.received_at.toISOString()} (request ${earlier.request_id}): ${made}`,
    };
  }

  /**
   * Makes the integration's alert of a message it has not taken, and (with a Message-ID) marks the message
   * taken in the same transaction, so that the mark and the alert are both made or neither is.
   */
  async function take(
    integration: IntegrationWithTeams,
    emailUsername: string,
    messageId: string | null,
    input: CreateAlertInput,
    files: readonly NewAttachment[],
  ): Promise<EmailOutcome> {
    const requestId = randomUUID();
    const claim = {
      integrationId: integration.id,
      messageId: messageId ?? '',
      requestId,
      receivedAt: deps.clock.now(),
    };
    const maintenance = await deps.disabledBy(integration.id);
    if (maintenance) {
      // Taken too: a retry after the maintenance must not page for what it was told was ignored.
      if (messageId && !(await messages.claim(db, { ...claim, verdict: 'ignored' })))
        return repeatedNow(emailUsername, integration.id, messageId);
      return { emailUsername, verdict: 'ignored', reason: `integration is ${maintenance}` };
    }
    let outcome: EmailOutcome | undefined;
    try {
      outcome = await inTurn(() =>
        db.transaction().execute(async (tx) => {
          // Waits for another delivery of the message that holds the claim, and then finds it taken.
          if (messageId && !(await messages.claim(tx, { ...claim, verdict: 'created' }))) return undefined;
          const principal = integrationPrincipalOf(integration);
          const created = await alerts.createRequested(principal, requestId, input, {
            integration: { id: integration.id, name: integration.name, type: integration.type },
            tx,
          });
          // Onto the alert made or de-duplicated into: Opsgenie's appendAttachments does both.
          if (created.kind === 'created' && created.createAction?.appendAttachments && files.length > 0)
            await deps.attachments.addArrived(tx, principal, created.alert, files, 'the email');
          const made: EmailOutcome =
            created.kind === 'created'
              ? { emailUsername, verdict: 'created', alertId: created.alert.id }
              : { emailUsername, verdict: 'ignored', reason: created.status };
          if (messageId)
            await messages.settle(tx, integration.id, messageId, {
              verdict: made.verdict === 'created' ? 'created' : 'ignored',
              alertId: made.alertId ?? null,
            });
          return made;
        }),
      );
    } catch (error) {
      // A refusal made nothing, and marks nothing: a retry may try again.
      if (!isDomainError(error)) throw error;
      return { emailUsername, verdict: 'failed', reason: error.message };
    }
    if (!outcome) return repeatedNow(emailUsername, integration.id, messageId ?? '');
    if (outcome.verdict === 'created') deps.signal?.wake(QUEUES.alertEvents);
    return outcome;
  }

  /** The outcome for a message another delivery took while this one was being read. */
  async function repeatedNow(emailUsername: string, integrationId: string, messageId: string) {
    const earlier = await messages.find(db, integrationId, messageId);
    return earlier
      ? repeated(emailUsername, messageId, earlier)
      : {
          emailUsername,
          verdict: 'duplicate' as const,
          reason: `message ${cut(messageId, 200)} was already received`,
        };
  }

  return {
    /** Whether mail to this address is taken (SMTP RCPT TO), and why not. */
    async recipient(address: string): Promise<RecipientVerdict> {
      const at = address.lastIndexOf('@');
      const local = address.slice(0, at).toLowerCase();
      const host = address.slice(at + 1).toLowerCase();
      if (at < 1 || host !== domain) {
        return {
          accepted: false,
          reason: `<${address}>: this server takes mail only for Vigil's Email integrations at @${domain}; it relays nothing`,
        };
      }
      if (!USERNAME.test(local) || !(await integrationAt(local))) {
        return {
          accepted: false,
          reason: `<${address}>: no enabled Email integration of Vigil has this address`,
        };
      }
      return { accepted: true, emailUsername: local };
    },

    /**
     * Makes one alert per recipient integration. A recipient that cannot be served for a reason of its
     * own (gone, a refusal of the alert service) is logged and skipped; an error of Vigil's (the database)
     * is thrown, for the sender to try again later.
     */
    async receive(email: ReceivedEmail): Promise<EmailOutcome[]> {
      let parsed: ParsedMail;
      // mailparser loads with the first email, not with Vigil: few installations receive alerts by email.
      const { simpleParser } = await import('mailparser');
      try {
        parsed = await simpleParser(email.raw, { skipImageLinks: true, skipTextToHtml: true });
      } catch (error) {
        throw new UnreadableEmail(error);
      }
      const text = (value: string | undefined) => storableText(value ?? '');
      const addresses = (field: AddressObject | AddressObject[] | undefined) =>
        text((Array.isArray(field) ? field : field ? [field] : []).map((a) => a.text).join(', '));
      const sender = parsed.from?.value[0]?.address ?? email.mailFrom ?? '';
      // Whole, as the key that tells a retried message from another (two ids alike in their first
      // characters are two messages); cut only where it is shown.
      const messageId = parsed.messageId ? text(parsed.messageId) : null;
      const details: Record<string, string> = {
        from: cut(addresses(parsed.from), DETAIL_MAX),
        to: cut(addresses(parsed.to), DETAIL_MAX),
        ...(messageId ? { messageId: cut(messageId, DETAIL_MAX) } : {}),
      };
      const input: CreateAlertInput = {
        message: text(parsed.subject).trim() || '(no subject)',
        // mailparser ends the text with the message's last line break: no part of what was written.
        description: cut(text(parsed.text).trimEnd(), DESCRIPTION_MAX),
        source: text(sender),
        details,
      };
      const files = attachedFiles(parsed.attachments);
      const logged = storableText(email.raw.toString('utf8'));
      const automatic = whyAutomaticReply(parsed.headers, email.mailFrom);
      const outcomes: EmailOutcome[] = [];
      for (const emailUsername of new Set(email.emailUsernames)) {
        const integration = await integrationAt(emailUsername);
        // Turned off or deleted since RCPT TO: what a disabled integration's key would be told.
        if (!integration) continue;
        // An automatic reply makes nothing, so whether it came before is not asked.
        const earlier =
          !automatic && messageId ? await messages.find(db, integration.id, messageId) : undefined;
        const outcome: EmailOutcome = automatic
          ? { emailUsername, verdict: 'ignored', reason: `${automatic}: no alert is made of it` }
          : earlier
            ? repeated(emailUsername, messageId ?? '', earlier)
            : await take(integration, emailUsername, messageId, input, files);
        await record(integration, messageId, logged, outcome);
        outcomes.push(outcome);
      }
      return outcomes;
    },
  };
}

export type EmailIntake = ReturnType<typeof createEmailIntake>;
