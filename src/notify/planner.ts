import type { Queryable } from '../db/database.js';
import type { AlertRow, NotificationContext, NotificationStopOn } from '../db/schema.js';
import { matchesCriteria, type MatchableAlert } from '../oncall/conditions.js';
import type { NotificationActionType } from '../oncall/model.js';
import { notificationSetupOf } from '../oncall/people/repository.js';
import { formatMinutes } from '../work/durations.js';
import { notificationsRepository } from './repository.js';

/**
 * Turns "notify these people about this alert" into planned messages, one per step of each person's
 * notification rule: the first of their enabled rules for this kind of event whose criteria match the
 * alert. Every message gets an idempotency key built from `keyPrefix`, so planning the same thing twice
 * (a retried job, a second worker) adds nothing.
 */

export interface PlanRecipient {
  id: string;
  /** Why this person: "on call in schedule Primary". */
  why: string;
}

export interface PlanResult {
  /** Messages added now (not counting ones planned before under the same keys). */
  planned: number;
  /** Some of them are due at once: the sender should be woken. */
  dueNow: boolean;
  /** One line per person for the alert's activity log. */
  lines: string[];
}

const KIND_LABEL: Record<NotificationActionType, string> = {
  'create-alert': 'new alerts',
  'acknowledged-alert': 'acknowledged alerts',
  'closed-alert': 'closed alerts',
  'add-note': 'notes',
};

/**
 * Which planned messages an alert in this state no longer wants: pages of if-not-acked rules once it is
 * acknowledged, every page once it is closed or snoozed. The engine cancels them when the change comes
 * in, and the sender checks again at the moment of sending; both ask here.
 */
export function unwantedStopOns(alert: AlertRow | undefined): NotificationStopOn[] {
  if (!alert || alert.status === 'closed' || alert.snoozed) return ['acknowledged', 'closed'];
  if (alert.acknowledged) return ['acknowledged'];
  return [];
}

/** Why a message is no longer wanted (for the log), or undefined while it is. */
export function whyUnwanted(stopOn: NotificationStopOn, alert: AlertRow | undefined): string | undefined {
  if (!unwantedStopOns(alert).includes(stopOn)) return undefined;
  if (!alert) return 'the alert was deleted';
  if (alert.status === 'closed') return 'the alert was closed';
  if (alert.snoozed) return 'the alert is snoozed';
  return 'the alert was acknowledged';
}

export function matchableAlert(alert: AlertRow): MatchableAlert {
  return {
    message: alert.message,
    alias: alert.alias,
    description: alert.description,
    source: alert.source,
    entity: alert.entity,
    tags: alert.tags,
    actions: alert.actions,
    details: alert.details,
    priority: alert.priority,
    integrationName: alert.integration_name,
  };
}

const DUPLICATE_WINDOW_MS = 60_000;

/**
 * Contact methods that another escalation of this alert paged within the last minute, with a page that
 * lasts at least as long as this one would (an if-not-closed page is not covered by an if-not-acked one,
 * which an acknowledgement cancels). Pages of the same escalation never count: its repeats are meant.
 */
async function alreadyPaged(
  tx: Queryable,
  input: { alertId: string; userIds: string[]; now: Date; runId?: string; stopOn: NotificationStopOn },
): Promise<Set<string>> {
  const lasting: NotificationStopOn[] =
    input.stopOn === 'acknowledged' ? ['acknowledged', 'closed', 'none'] : ['closed', 'none'];
  return notificationsRepository.contactsPagedBetween(tx, {
    alertId: input.alertId,
    userIds: input.userIds,
    from: new Date(input.now.getTime() - DUPLICATE_WINDOW_MS),
    to: input.now,
    stopOns: lasting,
    ...(input.runId !== undefined ? { exceptRunId: input.runId } : {}),
  });
}

export type SetupReader = (
  userIds: string[],
  kind: NotificationActionType,
) => ReturnType<typeof notificationSetupOf>;

/** A SetupReader that reads each set of people once (for a batch of alerts in one transaction). */
export function cachedSetups(tx: Queryable): SetupReader {
  const cache = new Map<string, ReturnType<typeof notificationSetupOf>>();
  return (userIds, kind) => {
    const key = `${kind}|${[...userIds].sort().join(',')}`;
    let found = cache.get(key);
    if (!found) {
      found = notificationSetupOf(tx, userIds, kind);
      cache.set(key, found);
    }
    return found;
  };
}

export async function planNotifications(
  tx: Queryable,
  input: {
    alert: AlertRow;
    kind: NotificationActionType;
    recipients: PlanRecipient[];
    keyPrefix: string;
    now: Date;
    reason: string;
    escalationRunId?: string;
    /** When the message stops being wanted (see unwantedStopOns); follow-ups are 'none'. */
    stopOn: NotificationStopOn;
    /** What a follow-up reports: who acted, the note. */
    context?: NotificationContext;
    /** Say nothing about people without a matching rule (follow-ups are opt-in; pages are not). */
    quietWhenNoRule?: boolean;
    /** Reads people's rules and contacts (the engine caches them for a batch of alerts). */
    setups?: SetupReader;
  },
): Promise<PlanResult> {
  const result: PlanResult = { planned: 0, dueNow: false, lines: [] };
  const unique = [...new Map(input.recipients.map((r) => [r.id, r])).values()];
  if (unique.length === 0) return result;
  const setups = await (input.setups ?? ((ids, kind) => notificationSetupOf(tx, ids, kind)))(
    unique.map((r) => r.id),
    input.kind,
  );
  const matchable = matchableAlert(input.alert);
  // A person on two of the alert's escalations at once (on call for two responder teams, or a responder
  // and on call) is paged once: a message to the same contact due within a minute covers this one.
  const covered =
    input.kind === 'create-alert'
      ? await alreadyPaged(tx, {
          alertId: input.alert.id,
          userIds: unique.map((r) => r.id),
          now: input.now,
          runId: input.escalationRunId,
          stopOn: input.stopOn,
        })
      : new Set<string>();
  const rows = [];
  for (const recipient of unique) {
    const setup = setups.get(recipient.id);
    if (!setup) {
      if (!input.quietWhenNoRule)
        result.lines.push(`A user (${recipient.id}) is blocked or no longer exists: not notified`);
      continue;
    }
    const name = setup.user.full_name || setup.user.username;
    const rule = setup.rules.find((r) => matchesCriteria(r.criteria, matchable));
    if (!rule) {
      if (!input.quietWhenNoRule)
        result.lines.push(
          `${name} (${recipient.why}): no notification rule of theirs for ${KIND_LABEL[input.kind]} matches this alert; not notified`,
        );
      continue;
    }
    const parts: string[] = [];
    for (const step of rule.steps) {
      if (!step.enabled) continue;
      const contact = setup.contacts.get(step.contactId);
      if (!contact) continue;
      const due = new Date(input.now.getTime() + step.sendAfterMinutes * 60_000);
      if (step.sendAfterMinutes === 0 && covered.has(contact.id)) {
        parts.push(`${contact.method} already being paged`);
        continue;
      }
      rows.push({
        idempotency_key: `${input.keyPrefix}:${recipient.id}:${step.id}`,
        org_id: input.alert.org_id,
        alert_id: input.alert.id,
        user_id: recipient.id,
        contact_method_id: contact.id,
        method: contact.method,
        address: contact.address,
        kind: input.kind,
        reason: `${input.reason}, ${recipient.why}`,
        escalation_run_id: input.escalationRunId ?? null,
        stop_on: input.stopOn,
        context: JSON.stringify(input.context ?? {}),
        due_at: due,
      });
      // The method, not the address: alert logs are read with integration keys too.
      parts.push(
        `${contact.method} ${step.sendAfterMinutes === 0 ? 'at once' : `after ${formatMinutes(step.sendAfterMinutes)}`}`,
      );
    }
    result.lines.push(
      parts.length > 0
        ? `Notifying ${name} (${recipient.why}) by rule "${rule.name}": ${parts.join(', ')}`
        : `${name} (${recipient.why}): rule "${rule.name}" has no enabled step with an enabled contact method; not notified`,
    );
  }
  if (rows.length > 0) {
    const inserted = await notificationsRepository.insertPlanned(tx, rows);
    result.planned = inserted.length;
    result.dueNow = inserted.some((r) => r.due_at.getTime() <= input.now.getTime());
  }
  return result;
}
