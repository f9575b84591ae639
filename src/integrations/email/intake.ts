import { randomUUID } from 'node:crypto';
import { domainToASCII } from 'node:url';
import type { AddressObject, Attachment, ParsedMail } from 'mailparser';
import type { AttachmentsService, NewAttachment } from '../../alerts/attachments/service.js';
import { alertsRepository } from '../../alerts/repository.js';
import {
  actorOf,
  type AlertAction,
  type AlertsService,
  type CreateAlertInput,
} from '../../alerts/service.js';
import { fitActorText } from '../../alerts/limits.js';
import { applyRules, matchableOf, modify, SHAPED_LIMITS } from '../../alerts/shaping/shape.js';
import { alertScopeOf } from '../../alerts/visibility.js';
import { matchesCriteria } from '../../oncall/conditions.js';
import { isUnstorableValue, type Db, type Tx } from '../../db/database.js';
import { storableText } from '../../db/storable.js';
import { isDomainError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { QUEUES } from '../../work/queue-names.js';
import type { Clock } from '../../work/clock.js';
import type { WorkSignal } from '../../work/runner.js';
import { integrationRules, type StoredAction } from '../actions/model.js';
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
 *
 * With the integration's actions set, a message goes through them in Opsgenie's order: an ignore action
 * that matches drops it, a create action makes the alert, and a message no create action matches goes on to
 * the close actions, then the acknowledge actions, then the add-note actions; the first that matches closes,
 * acknowledges or adds a note to the open alert of the integration's team whose alias is the action's alias
 * expanded from the message (a "RECOVERY" mail closes what its "PROBLEM" mail opened).
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
  /**
   * `duplicate`: the integration took this Message-ID before; nothing more is made of it. `closed`: a close
   * action closed an alert; `updated`: an acknowledge or add-note action acknowledged it or added a note.
   */
  verdict: 'created' | 'ignored' | 'failed' | 'duplicate' | 'closed' | 'updated';
  reason?: string;
  alertId?: string;
}

const USERNAME = new RegExp(EMAIL_USERNAME_PATTERN);

/** The action types a message no create action matched goes on to, in Opsgenie's order. */
const ALERT_ACTION_TYPES = ['close', 'acknowledge', 'addNote'] as const;
type AlertActionType = (typeof ALERT_ACTION_TYPES)[number];

/** What each does, for the payload log and the request's status. */
const DONE: Record<AlertActionType, { verb: string; request: string; verdict: 'closed' | 'updated' }> = {
  close: { verb: 'close', request: 'Close', verdict: 'closed' },
  acknowledge: { verb: 'acknowledge', request: 'Acknowledge', verdict: 'updated' },
  addNote: { verb: 'add a note to', request: 'AddNote', verdict: 'updated' },
};

/** What a message is to an integration: an alert to make (or ignore), or an action on an open alert. */
type Plan = { kind: 'create' } | { kind: AlertActionType; action: StoredAction };

/**
 * The integration's actions on the message, in Opsgenie's order: ignore, create, close, acknowledge, add
 * note. A matching ignore or create action, or none at all, is the alert service's create to decide and
 * record (`createRequested`, with the same rules and matching); else the first close, acknowledge or
 * add-note action whose filter matches the message.
 */
function planFor(integration: IntegrationWithTeams, input: CreateAlertInput): Plan {
  if (!integration.actions) return { kind: 'create' };
  const rules = integrationRules(integration.actions);
  const created = applyRules(input, rules.create, integration.name);
  if (created.kind === 'dropped' || created.applied.length > 0) return { kind: 'create' };
  const matchable = matchableOf(input, integration.name);
  for (const kind of ALERT_ACTION_TYPES) {
    const found = rules[kind].find((g) => matchesCriteria(g.filter, matchable));
    if (found) return { kind, action: found.action };
  }
  return { kind: 'create' };
}

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
 * A message none of whose recipients has an enabled Email integration any more: each had one at RCPT TO,
 * turned off, deleted or renamed before the message's end. The sender is told for good (550), as it would
 * have been at RCPT TO, rather than told the message was taken when nothing took it.
 */
export class NoRecipientLeft extends Error {
  constructor(readonly addresses: readonly string[]) {
    const shown = addresses.slice(0, 3).map((a) => `<${a}>`);
    if (addresses.length > 3) shown.push(`and ${addresses.length - 3} more`);
    super(
      `no enabled Email integration of Vigil has ${addresses.length === 1 ? 'this address' : 'these addresses'} any more: ${shown.join(', ')}`,
    );
    this.name = 'NoRecipientLeft';
  }
}

/** The content type of the payload log's copy of a message, and how its bytes were read into text. */
const AS_SENT = 'message/rfc822';
const AS_LATIN1 = 'message/rfc822; x-decoded=latin1';
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The message as the payload log keeps it: its text when it is UTF-8 (7-bit mail is), else each byte as
 * the ISO-8859-1 character of that number (a legacy 8bit body, or a mix of charsets), which loses none of
 * them, and a content type that says so. Either way made storable (a NUL cannot be stored).
 */
function loggedCopy(raw: Buffer): { body: string; contentType: string } {
  let text: string;
  try {
    text = UTF8.decode(raw);
  } catch {
    return { body: storableText(raw.toString('latin1')), contentType: AS_LATIN1 };
  }
  return { body: storableText(text), contentType: AS_SENT };
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
  /**
   * The Email integration of an address's local part, enabled or not: asked on every RCPT TO, so a cached
   * one (the integrations service's `byEmailUsername`, emptied by every change made through it) keeps mail
   * to enabled addresses off the database. It may answer an enabled one from its cache, but anything else
   * only from the database as it is now: the intake refuses on that answer without asking again (a second
   * read would double what an unknown address costs). Without it, the database is asked each time.
   */
  lookup?: (emailUsername: string) => Promise<IntegrationWithTeams | undefined>;
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

  /**
   * The enabled Email integration an address of the inbound domain belongs to. Only an answer that it is
   * enabled may come from a cache: a kept "none" or "disabled" may be from before the integration was made
   * or turned on through another process (which empties only its own cache), and a refusal at RCPT TO is
   * for good (the sender bounces the mail). `lookup` keeps no such answer (see its contract), so what it
   * says otherwise is one fresh read of the database, and an unknown address costs that one read.
   */
  async function integrationAt(emailUsername: string): Promise<IntegrationWithTeams | undefined> {
    const row = await integrationOf(emailUsername);
    return row?.enabled ? row : undefined;
  }

  /** The Email integration of an address's local part, enabled or not (an enabled one maybe cached). */
  function integrationOf(emailUsername: string): Promise<IntegrationWithTeams | undefined> {
    return (deps.lookup ?? ((name: string) => repo.byEmailUsername(db, name)))(emailUsername);
  }

  async function record(
    integration: IntegrationWithTeams,
    messageId: string | null,
    logged: { body: string; contentType: string },
    outcome: EmailOutcome,
  ): Promise<void> {
    const { body } = logged;
    const row = {
      integration_id: integration.id,
      message_id: messageId,
      kind: 'email',
      verdict: outcome.verdict,
      reason: outcome.reason ?? null,
      alert_ids: outcome.alertId ? [outcome.alertId] : [],
      content_type: logged.contentType,
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
    // An action on an alert (a close, say) is taken as `ignored` with the alert it acted on.
    const made = !earlier.alert_id
      ? 'it made no alert'
      : earlier.verdict === 'created'
        ? `alert ${earlier.alert_id} was made of it`
        : `it made no alert: it acted on alert ${earlier.alert_id}`;
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
    noteText: string,
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
    const plan = planFor(integration, input);
    let outcome: EmailOutcome | undefined;
    try {
      if (plan.kind !== 'create') {
        outcome = await inTurn(() =>
          db.transaction().execute(async (tx) => {
            if (messageId && !(await messages.claim(tx, { ...claim, verdict: 'ignored' }))) return undefined;
            const acted = await actOnAlert(tx, integration, emailUsername, requestId, plan, input, noteText);
            if (messageId && acted.alertId)
              await messages.settle(tx, integration.id, messageId, {
                verdict: 'ignored',
                alertId: acted.alertId,
              });
            return acted;
          }),
        );
        if (!outcome) return repeatedNow(emailUsername, integration.id, messageId ?? '');
        if (outcome.alertId) deps.signal?.wake(QUEUES.alertEvents);
        return outcome;
      }
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

  /**
   * A close, acknowledge or add-note action that matched the message, run in `tx` as the integration's key
   * runs one by alias: on the open alert of the integration's team whose alias is the action's alias
   * template expanded from the message (as a create action's is), with the action's user and note (by
   * default the message's body). The action's filter matched the message, so it is not asked again of
   * the alert.
   */
  async function actOnAlert(
    tx: Tx,
    integration: IntegrationWithTeams,
    emailUsername: string,
    requestId: string,
    plan: { kind: AlertActionType; action: StoredAction },
    input: CreateAlertInput,
    noteText: string,
  ): Promise<EmailOutcome> {
    const { action } = plan;
    const done = DONE[plan.kind];
    const label = `${plan.kind === 'addNote' ? 'add-note' : plan.kind} action '${action.name}'`;
    const expanded = modify(
      { ...input, note: noteText },
      { alias: action.alias, user: action.user, note: action.note },
    );
    const alias = expanded.alias?.trim() ?? '';
    const principal = integrationPrincipalOf(integration);
    const alert = alias
      ? await alertsRepository.find(tx, await alertScopeOf(tx, principal), alias, 'alias', true)
      : undefined;
    let outcome: EmailOutcome;
    let status: { success: boolean; status: string };
    if (!alert || alert.status !== 'open') {
      status = { success: false, status: `No open alert with alias [${alias}]` };
      outcome = {
        emailUsername,
        verdict: 'ignored',
        reason: alias
          ? `matched ${label}, but there is no open alert with alias ${cut(alias, 200)} to ${done.verb}: no alert is made of it`
          : `matched ${label}, whose alias came out empty: no alert to ${done.verb}, and no alert is made of it`,
      };
    } else {
      const note = expanded.note ?? '';
      const alertAction: AlertAction =
        plan.kind === 'addNote' ? { kind: 'addNote', note } : { kind: plan.kind };
      const applied =
        plan.kind === 'addNote' && !note.trim()
          ? { success: false, status: 'the note came out empty' }
          : await alerts.applyInTx(
              tx,
              alert,
              alertAction,
              actorOf(principal, fitActorText(expanded.user?.trim() || undefined)),
              {
                source: fitActorText(input.source),
                ...(plan.kind !== 'addNote' && note.trim() ? { note } : {}),
              },
            );
      outcome = applied.success
        ? {
            emailUsername,
            verdict: done.verdict,
            reason: `${plan.kind === 'close' ? 'closed' : plan.kind === 'acknowledge' ? 'acknowledged' : 'added a note to'} alert #${alert.tiny_id} (alias ${cut(alias, 200)}) by ${label}: ${applied.status}`,
            alertId: alert.id,
          }
        : {
            emailUsername,
            verdict: 'ignored',
            reason: `matched ${label}, but alert #${alert.tiny_id} was not changed: ${applied.status}`,
          };
      status = applied;
    }
    // The request's status, as a close by alias through the integration's key records it.
    await alertsRepository.recordRequest(tx, {
      id: requestId,
      org_id: integration.org_id,
      action: done.request,
      success: status.success,
      status: status.status,
      alert_id: alert?.id ?? null,
      alias: alias || null,
      integration_id: integration.id,
      processed_at: deps.clock.now(),
    });
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
      // smtp-server hands an internationalized domain over in Unicode (bücher.example), while the domain
      // Vigil shows and is set to is its ASCII form (xn--bcher-kva.example): the same name.
      const host = domainToASCII(address.slice(at + 1)).toLowerCase();
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
     * own (a refusal of the alert service; turned off, deleted or renamed since RCPT TO) is logged and
     * skipped: in its payload log, or the server's log when it has none any more. When no recipient is
     * left, {@link NoRecipientLeft} is thrown, for the sender to be refused for good; an error of Vigil's
     * (the database) is thrown, for the sender to try again later.
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
      // mailparser answers a From of a name alone (`From: Nagios`, `Nagios <>`) with the address '': the
      // envelope sender stands in for it then, or a `{{source}}` alias would come out empty.
      const sender =
        (parsed.from?.value ?? []).flatMap((a) => a.group ?? [a]).find((a) => a.address)?.address ||
        email.mailFrom ||
        '';
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
      // What a close, acknowledge or add-note action's {{note}} is: the body, as much as a note holds.
      const noteText = cut(text(parsed.text).trimEnd(), SHAPED_LIMITS.note);
      const logged = loggedCopy(email.raw);
      const automatic = whyAutomaticReply(parsed.headers, email.mailFrom);
      const outcomes: EmailOutcome[] = [];
      const gone: string[] = [];
      for (const emailUsername of new Set(email.emailUsernames)) {
        const integration = await integrationOf(emailUsername);
        if (!integration?.enabled) {
          // Turned off, deleted or renamed since RCPT TO: not taken, as RCPT TO would now refuse it (and a
          // disabled integration's key is refused). Said where its owners look, or where the operator does.
          const address = `${emailUsername}@${domain}`;
          gone.push(address);
          if (integration)
            await record(integration, messageId, logged, {
              emailUsername,
              verdict: 'ignored',
              reason: 'integration turned off since RCPT TO: no alert is made of it',
            });
          else
            log.warn(
              { address, messageId: messageId && cut(messageId, 200) },
              `inbound email: no Email integration has ${address} any more (deleted or renamed since RCPT TO); the message is not taken for it`,
            );
          continue;
        }
        // An automatic reply makes nothing, so whether it came before is not asked.
        const earlier =
          !automatic && messageId ? await messages.find(db, integration.id, messageId) : undefined;
        const outcome: EmailOutcome = automatic
          ? { emailUsername, verdict: 'ignored', reason: `${automatic}: no alert is made of it` }
          : earlier
            ? repeated(emailUsername, messageId ?? '', earlier)
            : await take(integration, emailUsername, messageId, input, files, noteText);
        await record(integration, messageId, logged, outcome);
        outcomes.push(outcome);
      }
      // One recipient gone never fails its neighbours: only when none took the message is it refused.
      if (outcomes.length === 0 && gone.length > 0) throw new NoRecipientLeft(gone);
      return outcomes;
    },
  };
}

export type EmailIntake = ReturnType<typeof createEmailIntake>;
