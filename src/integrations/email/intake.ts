import { randomUUID } from 'node:crypto';
import { simpleParser, type AddressObject } from 'mailparser';
import type { AlertsService, CreateAlertInput } from '../../alerts/service.js';
import { isUnstorableValue, type Db } from '../../db/database.js';
import { storableText } from '../../db/storable.js';
import { isDomainError } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { integrationPrincipalOf } from '../principal.js';
import { integrationsRepository as repo, type IntegrationWithTeams } from '../repository.js';
import { cut } from '../securityhub/findings.js';
import { EMAIL_USERNAME_PATTERN } from '../types.js';

/**
 * Email integrations: a message to <emailUsername>@<inbound domain> becomes an alert of that integration,
 * made as an API integration's create is (its team, maintenance, policies). SMTP is smtp-listener.ts's.
 */

export type RecipientVerdict =
  { accepted: true; emailUsername: string } | { accepted: false; reason: string };

export interface ReceivedEmail {
  /** The message as it came (headers and body). */
  raw: Buffer;
  /** The accepted recipients' local parts (see {@link EmailIntake.recipient}). */
  emailUsernames: readonly string[];
  /** The envelope sender (MAIL FROM), for when the message names none. */
  mailFrom: string | undefined;
}

/** What became of one message for one recipient integration. */
export interface EmailOutcome {
  emailUsername: string;
  verdict: 'created' | 'ignored' | 'failed';
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

/** Header values in the alert's details are kept short: the whole message is in the payload log. */
const DETAIL_MAX = 1000;
/** What the Alert API takes as a description; the whole message stays in the payload log. */
const DESCRIPTION_MAX = 15_000;

export function createEmailIntake(deps: {
  db: Db;
  alerts: AlertsService;
  domain: string;
  log: Logger;
  /** Why a maintenance disables the integration now, or undefined. */
  disabledBy: (integrationId: string) => Promise<string | undefined>;
}) {
  const { db, alerts, domain, log } = deps;

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
      let parsed: Awaited<ReturnType<typeof simpleParser>>;
      try {
        parsed = await simpleParser(email.raw, { skipImageLinks: true, skipTextToHtml: true });
      } catch (error) {
        throw new UnreadableEmail(error);
      }
      const text = (value: string | undefined) => storableText(value ?? '');
      const addresses = (field: AddressObject | AddressObject[] | undefined) =>
        text((Array.isArray(field) ? field : field ? [field] : []).map((a) => a.text).join(', '));
      const sender = parsed.from?.value[0]?.address ?? email.mailFrom ?? '';
      const messageId = parsed.messageId ? text(cut(parsed.messageId, DETAIL_MAX)) : null;
      const details: Record<string, string> = {
        from: cut(addresses(parsed.from), DETAIL_MAX),
        to: cut(addresses(parsed.to), DETAIL_MAX),
        ...(messageId ? { messageId } : {}),
      };
      const input: CreateAlertInput = {
        message: text(parsed.subject).trim() || '(no subject)',
        // mailparser ends the text with the message's last line break: no part of what was written.
        description: cut(text(parsed.text).trimEnd(), DESCRIPTION_MAX),
        source: text(sender),
        details,
      };
      const logged = storableText(email.raw.toString('utf8'));
      const outcomes: EmailOutcome[] = [];
      for (const emailUsername of new Set(email.emailUsernames)) {
        const integration = await integrationAt(emailUsername);
        // Turned off or deleted since RCPT TO: what a disabled integration's key would be told.
        if (!integration) continue;
        const maintenance = await deps.disabledBy(integration.id);
        let outcome: EmailOutcome;
        if (maintenance) {
          outcome = { emailUsername, verdict: 'ignored', reason: `integration is ${maintenance}` };
        } else {
          try {
            const created = await alerts.createRequested(
              integrationPrincipalOf(integration),
              randomUUID(),
              input,
              {
                integration: { id: integration.id, name: integration.name, type: integration.type },
              },
            );
            outcome =
              created.kind === 'created'
                ? { emailUsername, verdict: 'created', alertId: created.alert.id }
                : { emailUsername, verdict: 'ignored', reason: created.status };
          } catch (error) {
            if (!isDomainError(error)) throw error;
            outcome = { emailUsername, verdict: 'failed', reason: error.message };
          }
        }
        await record(integration, messageId, logged, outcome);
        outcomes.push(outcome);
      }
      return outcomes;
    },
  };
}

export type EmailIntake = ReturnType<typeof createEmailIntake>;
