import type { Insertable } from 'kysely';
import type { Queryable } from '../db/database.js';
import type {
  AlertRow,
  ContactMethodRow,
  NotificationContext,
  NotificationRepeatsTable,
  NotificationStopOn,
  NotificationsTable,
  PlannedRuleStep,
  Priority,
} from '../db/schema.js';
import { appliesAt } from '../alerts/policies/timing.js';
import { requiresVerification } from './destinations/registry.js';
import { matchableAlert, matchesCriteria } from '../oncall/conditions.js';
import type { NotificationActionType } from '../oncall/model.js';
import { notificationSetupOf, type NotificationSetup } from '../oncall/people/repository.js';
import { formatMinutes } from '../work/durations.js';
import { notificationsRepository } from './repository.js';
import {
  NOTIFICATION_REPEAT_LIMIT,
  notificationRepeatsRepository,
  repeatMinutes,
} from './repeats-repository.js';

/**
 * Turns "notify these people about this alert" into planned messages, one per step of each person's
 * notification rule: the first of their enabled rules for this kind of event whose criteria match the
 * alert and whose time restriction (read in the person's time zone, as Opsgenie reads it) holds now. Every message gets an idempotency key built from `keyPrefix`, so planning the same thing twice
 * (a retried job, a second worker) adds nothing. A page by a rule whose `repeat` is on also starts that
 * repeat (notification_repeats; engine/notification-repeats.ts makes its rounds, planned here too).
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
  'assigned-alert': 'alerts assigned to them',
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

const DUPLICATE_WINDOW_MS = 60_000;

/** The page-stop values that last at least as long as a page that stops on `stopOn`. */
function lastingStopOns(stopOn: NotificationStopOn): NotificationStopOn[] {
  return stopOn === 'acknowledged' ? ['acknowledged', 'closed', 'none'] : ['closed', 'none'];
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

export interface PlanInput {
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
  /**
   * A round of a rule's repeat: that rule's steps (whichever rule would match now), under their own keys
   * (`keyPrefix` is the round's), starting no repeat.
   */
  repeatRound?: { ruleId: string; round: number };
}

export async function planNotifications(tx: Queryable, input: PlanInput): Promise<PlanResult> {
  const [result] = await planNotificationsBatch(tx, [input]);
  return result ?? { planned: 0, dueNow: false, lines: [] };
}

type PlannedRow = Insertable<NotificationsTable> & { due_at: Date; stop_on: NotificationStopOn };

/** A repeat a page starts, if one of the person's messages of that page was added now. */
interface StartedRepeat {
  row: Insertable<NotificationRepeatsTable>;
  keys: string[];
}

/**
 * planNotifications for many inputs at once (the pages of a batch of escalation steps), in a few
 * statements whatever their number: one "already paged?" read and one insert for all of them. An input
 * sees the messages planned for the inputs before it as if they were already in the table, as it would
 * planned one after the other. Results come in the order of the inputs.
 */
export async function planNotificationsBatch(
  tx: Queryable,
  inputs: readonly PlanInput[],
): Promise<PlanResult[]> {
  const prepared = await Promise.all(
    inputs.map(async (input) => {
      const unique = [...new Map(input.recipients.map((r) => [r.id, r])).values()];
      const setups =
        unique.length === 0
          ? undefined
          : await (input.setups ?? ((ids, kind) => notificationSetupOf(tx, ids, kind)))(
              unique.map((r) => r.id),
              input.kind,
            );
      return { input, unique, setups };
    }),
  );
  // A person on two of the alert's escalations at once (on call for two responder teams, or a responder
  // and on call) is paged once: each step of theirs, at once or later, is covered by a message to the
  // same contact due within the minute before it. Only pages to someone with a step that can be sent ask,
  // one check per delay their steps have.
  const checks = prepared.flatMap(({ input, unique, setups }, i) => {
    if (input.kind !== 'create-alert' || !setups) return [];
    const byDelay = new Map<number, string[]>();
    for (const { id } of unique)
      for (const delay of stepDelays(setups.get(id))) byDelay.set(delay, [...(byDelay.get(delay) ?? []), id]);
    return [...byDelay].map(([delay, userIds]) => ({ i, input, delay, userIds }));
  });
  const found = await notificationsRepository.contactsPagedBetweenMany(
    tx,
    checks.map(({ input, delay, userIds }) => {
      const due = input.now.getTime() + delay * 60_000;
      return {
        alertId: input.alert.id,
        userIds,
        from: new Date(due - DUPLICATE_WINDOW_MS),
        to: new Date(due),
        stopOns: lastingStopOns(input.stopOn),
        // Not the run's own messages in the table: they are of its earlier rules, its earlier repeats or
        // its start before a restart or an escalate, after which it pages again (or of this very page,
        // planned again, which its keys keep from going twice). Its rules with the same delay fall due
        // together and are planned in one batch, where they cover each other (coversPageOf).
        ...(input.escalationRunId !== undefined ? { exceptRunId: input.escalationRunId } : {}),
      };
    }),
  );
  const coveredInTable = new Map(checks.map(({ i, delay }, k) => [`${i} ${delay}`, found[k]]));

  const results: PlanResult[] = [];
  const rowsOf: PlannedRow[][] = [];
  const planned: PlannedRow[] = [];
  const repeats: StartedRepeat[] = [];
  for (const [i, { input, unique, setups }] of prepared.entries()) {
    const result: PlanResult = { planned: 0, dueNow: false, lines: [] };
    results.push(result);
    const rows: PlannedRow[] = [];
    rowsOf.push(rows);
    if (!setups) continue;
    const earlier = input.kind === 'create-alert' ? planned.filter((row) => coversPageOf(input, row)) : [];
    const covered: Covered = (contactId, delay, due) =>
      coveredInTable.get(`${i} ${delay}`)?.has(contactId) === true ||
      earlier.some((row) => row.contact_method_id === contactId && dueWithinWindow(row.due_at, due));
    planFor(input, unique, setups, covered, result, rows, repeats);
    planned.push(...rows);
  }
  if (planned.length > 0) {
    const inserted = new Map(
      (await notificationsRepository.insertPlanned(tx, planned)).map((r) => [r.idempotency_key, r.due_at]),
    );
    // Only a page planned now starts its repeat: planning it again must not bring back one that ended.
    await notificationRepeatsRepository.start(
      tx,
      repeats.filter((r) => r.keys.some((key) => inserted.has(key))).map((r) => r.row),
    );
    for (const [i, result] of results.entries()) {
      const input = inputs[i];
      for (const row of rowsOf[i] ?? []) {
        const due = inserted.get(row.idempotency_key);
        if (!due || !input) continue;
        result.planned++;
        if (due.getTime() <= input.now.getTime()) result.dueNow = true;
      }
    }
  }
  return results;
}

type Setups = ReadonlyMap<string, NotificationSetup>;

/** Whether a step to this contact, `delay` minutes after the page and due at `due`, is already being paged. */
type Covered = (contactId: string, delay: number, due: Date) => boolean;

/** The delays of a person's enabled steps to one of their contact methods (the messages that can be covered). */
function stepDelays(setup: NotificationSetup | undefined): Set<number> {
  const delays = new Set<number>();
  if (!setup) return delays;
  for (const rule of setup.rules)
    for (const step of rule.steps)
      if (step.enabled && setup.contacts.has(step.contactId)) delays.add(step.sendAfterMinutes);
  return delays;
}

/**
 * Whether a message planned earlier in the batch can cover this page's, as the "already paged?" read
 * chooses them in the table, except that the same run's count here: its rules with the same delay fall
 * due, and are planned, together, and someone on two of them is paged once.
 */
function coversPageOf(input: PlanInput, row: PlannedRow): boolean {
  return (
    row.alert_id === input.alert.id &&
    row.kind === 'create-alert' &&
    typeof row.user_id === 'string' &&
    input.recipients.some((r) => r.id === row.user_id) &&
    lastingStopOns(input.stopOn).includes(row.stop_on)
  );
}

/** Whether a message due at `other` is due within the minute before `due` (as the read's window). */
function dueWithinWindow(other: Date, due: Date): boolean {
  return other.getTime() > due.getTime() - DUPLICATE_WINDOW_MS && other.getTime() <= due.getTime();
}

/** Why a contact method can not be paged (for the alert's log: no address), or undefined when it can. */
export function whyNotPageable(
  contact: Pick<ContactMethodRow, 'method' | 'verified_at' | 'problem'>,
): string | undefined {
  if (contact.problem) return `${contact.problem}; verify it again to be paged on it`;
  if (requiresVerification(contact.method) && !contact.verified_at)
    return 'it is not verified yet (send a code to it and enter it, from the API or the console)';
  return undefined;
}

/** An alert's priority as a message's (P1..P5 as 1..5): the sender claims the lowest first. */
export function notificationPriority(priority: Priority): number {
  return Number(priority.slice(1));
}

/** One input's messages (into `rows`) and its log lines (into `result`). */
function planFor(
  input: PlanInput,
  unique: PlanRecipient[],
  setups: Setups,
  covered: Covered,
  result: PlanResult,
  rows: PlannedRow[],
  repeats: StartedRepeat[],
): void {
  const matchable = matchableAlert(input.alert);
  for (const recipient of unique) {
    const setup = setups.get(recipient.id);
    if (!setup) {
      if (!input.quietWhenNoRule)
        result.lines.push(`A user (${recipient.id}) is blocked or no longer exists: not notified`);
      continue;
    }
    const name = setup.user.full_name || setup.user.username;
    const round = input.repeatRound;
    const rule = round
      ? setup.rules.find((r) => r.id === round.ruleId)
      : setup.rules.find(
          (r) =>
            matchesCriteria(r.criteria, matchable) &&
            appliesAt({ timeRestriction: r.time_restriction, timezone: setup.user.time_zone }, input.now),
        );
    if (!rule && round) {
      result.lines.push(
        `${name} (${recipient.why}): the rule that paged them is disabled or gone; not notified again`,
      );
      continue;
    }
    if (!rule) {
      if (!input.quietWhenNoRule)
        result.lines.push(
          `${name} (${recipient.why}): no notification rule of theirs for ${KIND_LABEL[input.kind]} matches this alert; not notified`,
        );
      continue;
    }
    const parts: string[] = [];
    const keys: string[] = [];
    for (const step of rule.steps) {
      if (!step.enabled) continue;
      const contact = setup.contacts.get(step.contactId);
      if (!contact) continue;
      const unusable = whyNotPageable(contact);
      if (unusable) {
        parts.push(`${contact.method} not paged: ${unusable}`);
        continue;
      }
      const due = new Date(input.now.getTime() + step.sendAfterMinutes * 60_000);
      if (covered(contact.id, step.sendAfterMinutes, due)) {
        parts.push(
          `${contact.method}${step.sendAfterMinutes === 0 ? '' : ` after ${formatMinutes(step.sendAfterMinutes)}`} already being paged`,
        );
        continue;
      }
      const key = `${input.keyPrefix}:${recipient.id}:${step.id}`;
      keys.push(key);
      rows.push({
        idempotency_key: key,
        org_id: input.alert.org_id,
        alert_id: input.alert.id,
        user_id: recipient.id,
        contact_method_id: contact.id,
        method: contact.method,
        address: contact.address,
        kind: input.kind,
        reason: `${input.reason}, ${recipient.why}`,
        escalation_run_id: input.escalationRunId ?? null,
        // Checked again by the sender when it falls due: the rule or step may be turned off meanwhile.
        rule_id: rule.id,
        rule_step: JSON.stringify({
          id: step.id,
          contactId: step.contactId,
          sendAfterMinutes: step.sendAfterMinutes,
        } satisfies PlannedRuleStep),
        stop_on: input.stopOn,
        context: JSON.stringify(input.context ?? {}),
        due_at: due,
        // As it is now: a priority changed later leaves the messages already planned where they are in
        // the queue (it only orders a backlog; the escalation's later steps are planned with the new one).
        priority: notificationPriority(input.alert.priority),
      });
      // The method, not the address: alert logs are read with integration keys too.
      parts.push(
        `${contact.method} ${step.sendAfterMinutes === 0 ? 'at once' : `after ${formatMinutes(step.sendAfterMinutes)}`}`,
      );
    }
    const repeatEvery = startsRepeat(input) ? repeatMinutes(rule.repeat) : undefined;
    if (repeatEvery !== undefined && keys.length > 0 && input.stopOn !== 'none') {
      repeats.push({
        keys,
        row: {
          alert_id: input.alert.id,
          user_id: recipient.id,
          org_id: input.alert.org_id,
          rule_id: rule.id,
          key_prefix: input.keyPrefix,
          stop_on: input.stopOn,
          reason: input.reason,
          why: recipient.why,
          escalation_run_id: input.escalationRunId ?? null,
          next_at: new Date(input.now.getTime() + repeatEvery * 60_000),
        },
      });
    }
    const again =
      repeatEvery !== undefined && keys.length > 0
        ? `; again every ${formatMinutes(repeatEvery)} until ${input.stopOn}, at most ${NOTIFICATION_REPEAT_LIMIT} times`
        : '';
    const notifying = round
      ? `Notifying ${name} again (${recipient.why}) by rule "${rule.name}", repeat ${round.round} of ${NOTIFICATION_REPEAT_LIMIT}`
      : `Notifying ${name} (${recipient.why}) by rule "${rule.name}"`;
    result.lines.push(
      parts.length > 0
        ? `${notifying}: ${parts.join(', ')}${again}`
        : `${name} (${recipient.why}): rule "${rule.name}" has no enabled step with an enabled contact method; not notified`,
    );
  }
}

/** Pages (not follow-ups, not a repeat's own rounds) start their rule's repeat. */
function startsRepeat(input: PlanInput): boolean {
  return input.kind === 'create-alert' && input.stopOn !== 'none' && !input.repeatRound;
}
