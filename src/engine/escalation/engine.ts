import { sql } from 'kysely';
import type { AlertEvent } from '../../alerts/events.js';
import { alertsRepository } from '../../alerts/repository.js';
import type { AlertsService } from '../../alerts/service.js';
import { type Db, type Tx, NIL_UUID, withSavepoint } from '../../db/database.js';
import type { AlertEscalationRow, AlertRow, EscalationState } from '../../db/schema.js';
import type { Logger } from '../../logger.js';
import {
  cachedSetups,
  matchableAlert,
  planNotifications,
  unwantedStopOns,
  whyUnwanted,
  type SetupReader,
} from '../../notify/planner.js';
import type { EscalationPlan, NotificationActionType } from '../../oncall/model.js';
import {
  oneRulePlan,
  planOf,
  routeAlert,
  routingReads,
  schedulePlan,
  type RoutingReads,
} from '../../oncall/routing/route.js';
import type { Clock } from '../clock.js';
import type { AlertEventConsumer } from '../consumers.js';
import { QUEUES } from '../work/queue-names.js';
import type { WorkQueueSpec, WorkSignal } from '../work/runner.js';
import {
  LATE_AFTER_MS,
  describeStep,
  dueAt,
  formatDuration,
  nextStepWhenAcknowledged,
  stepAt,
  type PlanStep,
} from './plan.js';
import { createRecipientResolver } from './recipients.js';

/**
 * The escalation engine. An alert's escalations are rows in `alert_escalations` (one per policy it runs),
 * each knowing its next step and when that is due. Alert events start, pause, resume, hurry and stop them
 * (the consumer below); a loop in every worker process claims the due ones with SKIP LOCKED and runs
 * their steps, so any number of processes share the work and a step is run once. A step plans its
 * messages as rows with idempotency keys (notify/planner.ts); the sender (notify/sender.ts) delivers them.
 *
 * State is always reconciled against the alert row, never against the order events arrive in: two events
 * handled at once, or a retried one, end in the state the alert is in.
 */

const SYSTEM = 'Vigil';
const RETRY_FAILED_STEP_MS = 60_000;

export interface EscalationEngineOptions {
  db: Db;
  log: Logger;
  clock: Clock;
  alerts: AlertsService;
  /** Told of messages due now (the sender's queue) and of alert changes the engine made (closes). */
  signal: WorkSignal;
  /** A step that fires later than this after it fell due says so in the activity log. */
  lateAfterMs?: number;
  /** Due escalations claimed per transaction. */
  batchSize?: number;
}

export interface EscalationEngine {
  consumer: AlertEventConsumer;
  /** Runs the steps due at `now`, up to one batch; returns how many escalations it claimed. */
  runDue(now: Date): Promise<number>;
  /** The due steps as a queue of the work runner. */
  queue(options?: { idleMs?: number }): WorkQueueSpec;
}

type Transition =
  | { state: 'finished'; reason: string }
  | { state: 'paused'; reason: 'snoozed' | 'acknowledged' }
  | { state: 'active' };

const HANDLED_TYPES: readonly AlertEvent['type'][] = [
  'created',
  'acknowledged',
  'unacknowledged',
  'closed',
  'snoozed',
  'snooze_ended',
  'note_added',
  'escalated',
];

function noteOf(event: AlertEvent): string | undefined {
  return 'note' in event && typeof event.note === 'string' ? event.note : undefined;
}

const FOLLOW_UP: Partial<Record<AlertEvent['type'], NotificationActionType>> = {
  acknowledged: 'acknowledged-alert',
  closed: 'closed-alert',
  note_added: 'add-note',
};

export function createEscalationEngine(options: EscalationEngineOptions): EscalationEngine {
  const { db, log, clock, alerts } = options;
  const lateAfterMs = options.lateAfterMs ?? LATE_AFTER_MS;
  const batchSize = options.batchSize ?? 50;

  // Log lines wait for the end of their transaction and go in as one statement: a busy engine writes
  // several per alert, and round trips are what it spends its time on.
  const pendingLogs = new WeakMap<Tx, { alertId: string; text: string }[]>();
  const addLog = async (tx: Tx, alertId: string, text: string): Promise<void> => {
    const list = pendingLogs.get(tx) ?? [];
    list.push({ alertId, text });
    pendingLogs.set(tx, list);
  };
  async function flushLogs(tx: Tx): Promise<void> {
    const list = pendingLogs.get(tx);
    pendingLogs.delete(tx);
    if (!list || list.length === 0) return;
    await alertsRepository.addLogs(
      tx,
      list.map((l) => ({ alertId: l.alertId, type: 'escalation', log: l.text, owner: SYSTEM })),
    );
  }

  // What a transaction reads of the on-call set-up (routing rules, policies, schedules, teams, people's
  // rules), read once per transaction: a batch of alerts of one burst mostly shares them.
  interface Reads {
    routing: RoutingReads;
    setups: SetupReader;
    resolvers: Map<string, ReturnType<typeof createRecipientResolver>>;
  }
  const txReads = new WeakMap<Tx, Reads>();
  function readsOf(tx: Tx): Reads {
    let reads = txReads.get(tx);
    if (!reads) {
      const plain = routingReads(tx);
      const rules = new Map<string, ReturnType<RoutingReads['rules']>>();
      const policies = new Map<string, ReturnType<RoutingReads['escalation']>>();
      reads = {
        routing: {
          rules: (teamId) => memo(rules, teamId, () => plain.rules(teamId)),
          escalation: (id) => memo(policies, id, () => plain.escalation(id)),
        },
        setups: cachedSetups(tx),
        resolvers: new Map(),
      };
      txReads.set(tx, reads);
    }
    return reads;
  }
  function resolverFor(tx: Tx, orgId: string): ReturnType<typeof createRecipientResolver> {
    const { resolvers } = readsOf(tx);
    let resolve = resolvers.get(orgId);
    if (!resolve) {
      resolve = createRecipientResolver(tx, orgId);
      resolvers.set(orgId, resolve);
    }
    return resolve;
  }

  /** Marks events handled in the caller's transaction; returns those that were not yet (not retries). */
  async function firstTimes(tx: Tx, eventIds: string[]): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const rows = await tx
      .insertInto('engine_handled_events')
      .values(eventIds.map((event_id) => ({ event_id })))
      .onConflict((oc) => oc.column('event_id').doNothing())
      .returning('event_id')
      .execute();
    return new Set(rows.map((r) => r.event_id));
  }

  /** Marks an event handled in the caller's transaction; false when it already was (a retried job). */
  async function firstTime(tx: Tx, eventId: string): Promise<boolean> {
    const rows = await tx
      .insertInto('engine_handled_events')
      .values({ event_id: eventId })
      .onConflict((oc) => oc.column('event_id').doNothing())
      .returning('event_id')
      .execute();
    return rows.length > 0;
  }

  async function save(
    tx: Tx,
    run: AlertEscalationRow,
    changes: {
      state: EscalationState;
      step?: number;
      baseAt?: Date;
      nextAt?: Date | null;
      pausedAt?: Date | null;
      pauseReason?: string | null;
      finishedReason?: string | null;
      skippedFrom?: number | null;
      replayUntil?: number | null;
    },
  ): Promise<void> {
    await tx
      .updateTable('alert_escalations')
      .set({
        state: changes.state,
        step: changes.step ?? run.step,
        base_at: changes.baseAt ?? run.base_at,
        next_at: changes.nextAt === undefined ? run.next_at : changes.nextAt,
        paused_at: changes.pausedAt === undefined ? run.paused_at : changes.pausedAt,
        pause_reason: changes.pauseReason === undefined ? run.pause_reason : changes.pauseReason,
        finished_reason: changes.finishedReason === undefined ? run.finished_reason : changes.finishedReason,
        skipped_from: changes.skippedFrom === undefined ? run.skipped_from : changes.skippedFrom,
        replay_until: changes.replayUntil === undefined ? run.replay_until : changes.replayUntil,
        updated_at: new Date(),
      })
      .where('id', '=', run.id)
      .execute();
  }

  /**
   * Runs every step of one escalation that is due at `now` (several, when Vigil was down across them),
   * then records where it stands. The run row is locked by the caller. Returns whether messages due now
   * were planned, and the alert when a closing step closed it.
   */
  async function advance(
    tx: Tx,
    run: AlertEscalationRow,
    alert: AlertRow | undefined,
    now: Date,
    resolve: ReturnType<typeof createRecipientResolver>,
  ): Promise<{ due: boolean; closed?: AlertRow }> {
    const plan = run.plan;
    let dueNotifications = false;
    let index = run.step;
    let skippedFrom = run.skipped_from;
    let replayUntil = run.replay_until;
    // Every way out records the step reached and what is remembered about passed-over rules.
    const settle = (changes: Parameters<typeof save>[2]) =>
      save(tx, run, { step: index, skippedFrom, replayUntil, ...changes });
    for (let guard = 0; guard < 1000; guard++) {
      if (!alert || alert.status === 'closed') {
        await settle({ state: 'finished', nextAt: null, finishedReason: 'alert closed' });
        return { due: dueNotifications };
      }
      if (alert.snoozed) {
        await settle({ state: 'paused', nextAt: null, pausedAt: now, pauseReason: 'snoozed' });
        await addLog(tx, alert.id, `${plan.name} paused: the alert was snoozed`);
        return { due: dueNotifications };
      }
      let step: PlanStep | undefined = stepAt(plan, index);
      if (!step && skippedFrom !== null && alert.acknowledged) {
        // Rules were passed over for the acknowledgement: they still run if it is taken back.
        await settle({ state: 'paused', nextAt: null, pausedAt: now, pauseReason: 'acknowledged' });
        await addLog(tx, alert.id, `${plan.name} paused: the alert was acknowledged`);
        return { due: dueNotifications };
      }
      if (!step) {
        await addLog(tx, alert.id, `${plan.name}: every rule has run; the escalation is over`);
        await settle({ state: 'finished', nextAt: null, finishedReason: 'completed' });
        return { due: dueNotifications };
      }
      const due = dueAt(run.base_at, step);
      if (due.getTime() > now.getTime()) {
        await settle({ state: 'active', nextAt: due, pausedAt: null, pauseReason: null });
        return { due: dueNotifications };
      }
      if (replayUntil !== null && index >= replayUntil) replayUntil = null;
      if (replayUntil !== null && step.rule?.condition === 'if-not-closed') {
        // Going back over rules passed over while acknowledged: this one ran then, and is not run twice.
        index += 1;
        continue;
      }
      if (alert.acknowledged && step.rule?.condition !== 'if-not-closed') {
        // Remembered, so that an unacknowledge goes back to the rules passed over here.
        if (skippedFrom === null && !step.closesAlert) skippedFrom = index;
        step = nextStepWhenAcknowledged(plan, index);
        if (!step) {
          await settle({ state: 'paused', nextAt: null, pausedAt: now, pauseReason: 'acknowledged' });
          await addLog(tx, alert.id, `${plan.name} paused: the alert was acknowledged`);
          return { due: dueNotifications };
        }
        index = step.index;
        continue;
      }
      const lateMs = now.getTime() - due.getTime();
      const late =
        lateMs > lateAfterMs
          ? ` — fired ${formatDuration(lateMs)} late (due ${due.toISOString()}; no worker ran it in time)`
          : '';
      if (step.closesAlert) {
        // The lines of the steps before come first on the log, then the close.
        await flushLogs(tx);
        const locked = await alerts.lockInTx(tx, alert.id);
        let closed: AlertRow | undefined;
        if (locked && locked.status === 'open') {
          const outcome = await alerts.applyInTx(
            tx,
            locked,
            { kind: 'close' },
            { kind: 'system', name: SYSTEM },
            { note: `Closed by escalation ${plan.name} after its last repeat${late}` },
          );
          closed = outcome.alert;
        }
        index += 1;
        await settle({ state: 'finished', nextAt: null, finishedReason: 'closed after the last repeat' });
        return { due: dueNotifications, closed };
      }
      dueNotifications = (await runStep(tx, run, alert, step, now, late, resolve)) || dueNotifications;
      index += 1;
    }
    throw new Error(`escalation ${run.id} did not settle`);
  }

  async function runStep(
    tx: Tx,
    run: AlertEscalationRow,
    alert: AlertRow,
    step: PlanStep,
    now: Date,
    late: string,
    resolve: ReturnType<typeof createRecipientResolver>,
  ): Promise<boolean> {
    const rule = step.rule;
    if (!rule) return false;
    const label = describeStep(run.plan, step);
    const { recipients, target } = await resolve(rule, now);
    if (recipients.length === 0) {
      await addLog(tx, alert.id, `${label}: nobody to notify in ${target}${late}`);
      return false;
    }
    const result = await planNotifications(tx, {
      alert,
      kind: 'create-alert',
      recipients,
      // The base time is in the key: a restart (end of a snooze) or an escalate pages again; a retry does not.
      keyPrefix: `page:${run.id}:${run.base_at.getTime()}:${step.index}`,
      setups: readsOf(tx).setups,
      now,
      reason: label,
      escalationRunId: run.id,
      stopOn: rule.condition === 'if-not-closed' ? 'closed' : 'acknowledged',
    });
    await addLog(tx, alert.id, `${label}${late}: ${result.lines.join('; ')}`);
    return result.dueNow;
  }

  /** Starts the escalations of a new alert: one per responder team (by its routing) and per user responder. */
  // New alerts a batch read at once, for start (a new alert's row cannot have changed since, in this
  // transaction: nothing else of it is handled before its start).
  const preloaded = new WeakMap<Tx, Map<string, AlertRow>>();
  async function preloadAlerts(tx: Tx, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    const rows = await tx.selectFrom('alerts').selectAll().where('id', 'in', ids).execute();
    preloaded.set(tx, new Map(rows.map((r) => [r.id, r])));
  }

  async function start(
    tx: Tx,
    event: AlertEvent,
    now: Date,
  ): Promise<{ alert?: AlertRow; runs: AlertEscalationRow[] }> {
    const alert =
      preloaded.get(tx)?.get(event.alertId) ??
      (await tx.selectFrom('alerts').selectAll().where('id', '=', event.alertId).executeTakeFirst());
    if (!alert || alert.status === 'closed') return { runs: [] };
    const created: AlertEscalationRow[] = [];
    // From the alert's creation: if no worker ran since, the first steps are late, and say so.
    const base = clock.fromSystemTime(new Date(event.at));
    const insert = async (values: { source: string; escalation_id: string | null; plan: EscalationPlan }) => {
      const first = stepAt(values.plan, 0);
      const row = await tx
        .insertInto('alert_escalations')
        .values({
          alert_id: alert.id,
          org_id: alert.org_id,
          ...values,
          plan: JSON.stringify(values.plan),
          state: 'active',
          base_at: base,
          next_at: first ? dueAt(base, first) : base,
        })
        .onConflict((oc) => oc.doNothing())
        .returningAll()
        .executeTakeFirst();
      if (row) created.push(row);
    };
    const responders = alert.responders;
    if (responders.length === 0) {
      await addLog(tx, alert.id, 'The alert has no responders: nobody is notified');
      return { alert, runs: [] };
    }
    const matchable = matchableAlert(alert);
    for (const responder of responders) {
      if (responder.type === 'team') {
        const decision = await routeAlert(tx, responder.id, matchable, now, readsOf(tx).routing);
        const teamName = decision.teamName;
        if (decision.kind === 'none') {
          await addLog(
            tx,
            alert.id,
            `Team ${teamName}: routing rule "${decision.ruleName}" says do not notify; nobody is paged`,
          );
          continue;
        }
        const via =
          decision.kind === 'team-members'
            ? 'no routing rule or default policy is set, so every member is notified'
            : `routing rule "${decision.ruleName}"`;
        await addLog(tx, alert.id, `Team ${teamName}: ${via}; escalating with ${decision.plan.name}`);
        await insert({
          source: `team:${responder.id}`,
          escalation_id: decision.kind === 'escalation' ? decision.escalationId : null,
          plan: decision.plan,
        });
      } else if (responder.type === 'user') {
        const user = await tx
          .selectFrom('users')
          .select(['full_name', 'username'])
          .where('id', '=', responder.id)
          .executeTakeFirst();
        if (!user) continue;
        await insert({
          source: `user:${responder.id}`,
          escalation_id: null,
          plan: oneRulePlan(`Responder ${user.full_name || user.username}`, {
            type: 'user',
            id: responder.id,
          }),
        });
      } else if (responder.type === 'escalation') {
        // Opsgenie's escalation responder: that policy runs as it is, no team routing in between.
        const policy = await tx
          .selectFrom('escalations')
          .select(['name', 'rules', 'repeat'])
          .where('id', '=', responder.id)
          .executeTakeFirst();
        if (!policy) {
          await addLog(tx, alert.id, 'An escalation responder no longer exists: nobody is paged for it');
          continue;
        }
        await addLog(tx, alert.id, `Escalation ${policy.name} is a responder; escalating with it`);
        await insert({
          source: `escalation:${responder.id}`,
          escalation_id: responder.id,
          plan: planOf(policy),
        });
      } else {
        const schedule = await tx
          .selectFrom('schedules')
          .select('name')
          .where('id', '=', responder.id)
          .executeTakeFirst();
        if (!schedule) {
          await addLog(tx, alert.id, 'A schedule responder no longer exists: nobody is paged for it');
          continue;
        }
        await insert({
          source: `schedule:${responder.id}`,
          escalation_id: null,
          plan: schedulePlan(responder.id, schedule.name),
        });
      }
    }
    return { alert, runs: created };
  }

  /** Brings an alert's escalations in line with the alert after an event changed it. */
  async function reconcile(tx: Tx, event: AlertEvent, now: Date): Promise<void> {
    const runs = await tx
      .selectFrom('alert_escalations')
      .selectAll()
      .where('alert_id', '=', event.alertId)
      .where('state', '!=', 'finished')
      .orderBy('id')
      .forUpdate()
      .execute();
    const alert = await tx
      .selectFrom('alerts')
      .selectAll()
      .where('id', '=', event.alertId)
      .executeTakeFirst();
    const unwanted = unwantedStopOns(alert);
    if (unwanted.length > 0) {
      const why = whyUnwanted(unwanted[0] ?? 'acknowledged', alert) ?? 'the alert changed';
      const cancelled = await tx
        .updateTable('notifications')
        .set({ state: 'cancelled', last_error: why, updated_at: new Date() })
        .where('alert_id', '=', event.alertId)
        .where('state', '=', 'pending')
        .where('stop_on', 'in', unwanted)
        .executeTakeFirst();
      const n = Number(cancelled.numUpdatedRows);
      if (alert && n > 0)
        await addLog(tx, alert.id, `${n} pending notification${n === 1 ? '' : 's'} cancelled: ${why}`);
    }
    if (event.type === 'escalated' && alert && alert.status === 'open') {
      await hurry(tx, event, alert, runs, now);
      return;
    }
    for (const run of runs) {
      const target = desired(run, alert, event);
      if (target.state === 'finished') {
        await save(tx, run, { state: 'finished', nextAt: null, finishedReason: target.reason });
      } else if (target.state === 'paused' && run.state !== 'paused') {
        await save(tx, run, { state: 'paused', nextAt: null, pausedAt: now, pauseReason: target.reason });
        if (alert) await addLog(tx, alert.id, `${run.plan.name} paused: the alert was ${target.reason}`);
      } else if (target.state === 'paused' && run.state === 'paused' && run.pause_reason !== target.reason) {
        await save(tx, run, { state: 'paused', pauseReason: target.reason });
      } else if (target.state === 'active' && alert) {
        if (run.state === 'paused' && run.pause_reason === 'snoozed') {
          // As in Opsgenie, the end of a snooze starts the escalation over: people hear about it again.
          const first = stepAt(run.plan, 0);
          await save(tx, run, {
            state: 'active',
            step: 0,
            baseAt: now,
            nextAt: first ? dueAt(now, first) : now,
            pausedAt: null,
            pauseReason: null,
            skippedFrom: null,
            replayUntil: null,
          });
          await addLog(tx, alert.id, `${run.plan.name} starts again from its first rule: the snooze ended`);
        } else if (run.skipped_from !== null && !alert.acknowledged) {
          // Unacknowledged after rules were passed over: they run now, and the later ones keep their spacing.
          const back = stepAt(run.plan, run.skipped_from);
          if (!back) continue;
          await save(tx, run, {
            state: 'active',
            step: back.index,
            baseAt: new Date(now.getTime() - back.offsetMs),
            nextAt: now,
            pausedAt: null,
            pauseReason: null,
            skippedFrom: null,
            replayUntil: run.step,
          });
          await addLog(
            tx,
            alert.id,
            `${run.plan.name} resumes from ${describeStep(run.plan, back)}, passed over while the alert was acknowledged`,
          );
        } else if (run.state === 'paused') {
          // Unacknowledged: carry on where it stopped, with the time that was left.
          const pausedFor = now.getTime() - (run.paused_at ?? now).getTime();
          const baseAt = new Date(run.base_at.getTime() + pausedFor);
          const step = stepAt(run.plan, run.step);
          await save(tx, run, {
            state: 'active',
            baseAt,
            nextAt: step ? dueAt(baseAt, step) : now,
            pausedAt: null,
            pauseReason: null,
          });
          await addLog(tx, alert.id, `${run.plan.name} resumes: the alert was unacknowledged`);
        }
      }
    }
  }

  function desired(run: AlertEscalationRow, alert: AlertRow | undefined, event: AlertEvent): Transition {
    if (!alert || alert.status === 'closed') return { state: 'finished', reason: 'alert closed' };
    if (alert.snoozed) return { state: 'paused', reason: 'snoozed' };
    if (alert.acknowledged && !nextStepWhenAcknowledged(run.plan, run.step))
      return { state: 'paused', reason: 'acknowledged' };
    if (run.state === 'paused' && run.pause_reason === 'snoozed' && event.type !== 'snooze_ended') {
      // Only the end of the snooze restarts it (an unacknowledge during a snooze does not).
      return alert.acknowledged ? { state: 'paused', reason: 'acknowledged' } : { state: 'active' };
    }
    return { state: 'active' };
  }

  /** The escalate action: the next rule of the named policy (or of every policy) is due now. */
  async function hurry(
    tx: Tx,
    event: Extract<AlertEvent, { type: 'escalated' }>,
    alert: AlertRow,
    runs: AlertEscalationRow[],
    now: Date,
  ): Promise<void> {
    const chosen = runs.filter((r) => !event.escalationId || r.escalation_id === event.escalationId);
    if (chosen.length === 0 && event.escalationId) {
      const policy = await tx
        .selectFrom('escalations')
        .select(['name', 'rules', 'repeat'])
        .where('id', '=', event.escalationId)
        .executeTakeFirst();
      if (!policy) return;
      // Not on that policy yet (or it finished): start it now, at its first rule.
      const started = await tx
        .insertInto('alert_escalations')
        .values({
          alert_id: alert.id,
          org_id: alert.org_id,
          source: `escalate:${event.escalationId}`,
          escalation_id: event.escalationId,
          plan: JSON.stringify(planOf(policy)),
          state: 'active',
          base_at: now,
          next_at: now,
        })
        .onConflict((oc) => oc.doNothing())
        .returning('id')
        .executeTakeFirst();
      await addLog(
        tx,
        alert.id,
        started
          ? `Escalated: ${policy.name} starts now at its first rule`
          : `Escalated: ${policy.name} has already run on this alert`,
      );
      return;
    }
    if (chosen.length === 0) {
      await addLog(tx, alert.id, 'Escalated, but the alert is on no escalation that has rules left');
      return;
    }
    for (const run of chosen) {
      const step = stepAt(run.plan, run.step);
      if (!step) continue;
      // Later rules keep their spacing from this one.
      await save(tx, run, {
        state: 'active',
        baseAt: new Date(now.getTime() - step.offsetMs),
        nextAt: now,
        pausedAt: null,
        pauseReason: null,
      });
    }
  }

  /** Acknowledged, closed, note: tells the people already paged about this alert, if their rules ask for it. */
  async function followUp(tx: Tx, event: AlertEvent, kind: NotificationActionType, now: Date) {
    const alert = await tx
      .selectFrom('alerts')
      .selectAll()
      .where('id', '=', event.alertId)
      .executeTakeFirst();
    if (!alert) return false;
    const paged = await tx
      .selectFrom('notifications')
      .select('user_id')
      .distinct()
      .where('alert_id', '=', alert.id)
      .where('kind', '=', 'create-alert')
      .where('state', '=', 'sent')
      .execute();
    const recipients = paged
      .map((p) => p.user_id)
      .filter((id) => id !== event.actor.userId)
      .map((id) => ({ id, why: 'was paged for it' }));
    const result = await planNotifications(tx, {
      alert,
      kind,
      recipients,
      keyPrefix: `${kind}:${event.eventId}`,
      now,
      reason: `${event.actor.name} ${kind === 'add-note' ? 'added a note' : event.type}`,
      stopOn: 'none',
      context: { actor: event.actor.name, ...(noteOf(event) ? { note: noteOf(event) } : {}) },
      quietWhenNoRule: true,
    });
    for (const line of result.lines) await addLog(tx, alert.id, line);
    return result.dueNow;
  }

  /** Claims due escalations (of one alert, or any) and runs their steps. */
  /** Claims due escalations (of one alert, or any) and runs their steps. */
  async function runDueWhere(
    tx: Tx,
    now: Date,
    alertId?: string,
  ): Promise<{ claimed: number; due: boolean }> {
    const runs = await tx
      .selectFrom('alert_escalations')
      .selectAll()
      .where('state', '=', 'active')
      .where('next_at', '<=', now)
      .$if(alertId !== undefined, (qb) => qb.where('alert_id', '=', alertId ?? NIL_UUID))
      .orderBy('next_at')
      .limit(batchSize)
      .forUpdate()
      .skipLocked()
      .execute();
    if (runs.length === 0) return { claimed: 0, due: false };
    const alertRows = await tx
      .selectFrom('alerts')
      .selectAll()
      .where(
        'id',
        'in',
        runs.map((r) => r.alert_id),
      )
      .execute();
    const due = await fire(tx, runs, new Map(alertRows.map((a) => [a.id, a])), now);
    return { claimed: runs.length, due };
  }

  /** Runs the due steps of escalations this transaction holds; true when messages due now were planned. */
  async function fire(
    tx: Tx,
    runs: AlertEscalationRow[],
    byId: ReadonlyMap<string, AlertRow>,
    now: Date,
  ): Promise<boolean> {
    const alertsById = new Map(byId);
    let due = false;
    for (const run of runs) {
      const resolve = resolverFor(tx, run.org_id);
      const logsBefore = pendingLogs.get(tx)?.length ?? 0;
      // One escalation that cannot run (a schedule's zone gone from the tz database, a row deleted under
      // it) must not hold up the others: it is set aside for a minute and says why on its alert.
      await sql`SAVEPOINT escalation_step`.execute(tx);
      try {
        const outcome = await advance(tx, run, alertsById.get(run.alert_id), now, resolve);
        due = outcome.due || due;
        // Another escalation of the same alert in this batch must see it closed.
        if (outcome.closed) alertsById.set(outcome.closed.id, outcome.closed);
        await sql`RELEASE SAVEPOINT escalation_step`.execute(tx);
      } catch (error) {
        await sql`ROLLBACK TO SAVEPOINT escalation_step`.execute(tx);
        await sql`RELEASE SAVEPOINT escalation_step`.execute(tx);
        pendingLogs.get(tx)?.splice(logsBefore);
        const message = error instanceof Error ? error.message : String(error);
        log.error(
          { err: error, escalationRunId: run.id, alertId: run.alert_id },
          'an escalation step failed',
        );
        await tx
          .updateTable('alert_escalations')
          .set({ next_at: new Date(now.getTime() + RETRY_FAILED_STEP_MS), updated_at: new Date() })
          .where('id', '=', run.id)
          .execute();
        if (byId.has(run.alert_id)) {
          await addLog(
            tx,
            run.alert_id,
            `${run.plan.name}: a step failed (${message}); trying again in 1 min`,
          );
        }
      }
    }
    return due;
  }

  /** What one event asks of the engine, in the caller's transaction; true when messages due now were planned. */
  async function apply(tx: Tx, event: AlertEvent, now: Date): Promise<boolean> {
    // A step due now (a rule at 0 minutes, an escalate) runs in this same transaction: no wait for a tick.
    if (event.type === 'created') {
      const { alert, runs } = await start(tx, event, now);
      const ready = runs.filter((r) => r.next_at && r.next_at.getTime() <= now.getTime());
      return alert && ready.length > 0 ? fire(tx, ready, new Map([[alert.id, alert]]), now) : false;
    }
    let dueNow = false;
    if (event.type !== 'note_added') await reconcile(tx, event, now);
    const kind = FOLLOW_UP[event.type];
    if (kind) dueNow = (await followUp(tx, event, kind, now)) || dueNow;
    return (await runDueWhere(tx, now, event.alertId)).due || dueNow;
  }

  function committed(due: boolean): void {
    if (due) options.signal.wake(QUEUES.notifications);
    // A step may have closed an alert (the last repeat of a closing policy): its event waits.
    options.signal.wake(QUEUES.alertEvents);
  }

  const consumer: AlertEventConsumer = {
    name: 'escalation',
    types: HANDLED_TYPES,
    handles: (event) => HANDLED_TYPES.includes(event.type),
    async handle(event) {
      const now = clock.now();
      const due = await db.transaction().execute(async (tx) => {
        if (!(await firstTime(tx, event.eventId))) return false;
        const dueNow = await apply(tx, event, now);
        await flushLogs(tx);
        return dueNow;
      });
      committed(due);
    },

    /**
     * A batch of events in one transaction, with the on-call set-up read once for all of them: a burst of
     * new alerts costs a few statements each, not a transaction each. Each event runs behind a savepoint;
     * one that fails is rolled back alone, comes back as failed, and is retried on its own.
     */
    async handleBatch(events, { log: batchLog }) {
      const now = clock.now();
      const failed: { eventId: string; error: unknown }[] = [];
      const due = await db.transaction().execute(async (tx) => {
        const fresh = await firstTimes(
          tx,
          events.map((e) => e.eventId),
        );
        const todo = events.filter((e) => fresh.has(e.eventId));
        // The alerts of the batch, read at once (start reads them from here).
        await preloadAlerts(
          tx,
          todo.filter((e) => e.type === 'created').map((e) => e.alertId),
        );
        // All of them behind one savepoint first; only if one fails, each behind its own.
        const together = await withSavepoint(tx, async () => {
          let dueNow = false;
          for (const event of todo) dueNow = (await apply(tx, event, now)) || dueNow;
          return dueNow;
        });
        if (together.ok) {
          await flushLogs(tx);
          return together.value;
        }
        pendingLogs.get(tx)?.splice(0);
        let dueNow = false;
        for (const event of todo) {
          const logsBefore = pendingLogs.get(tx)?.length ?? 0;
          const outcome = await withSavepoint(tx, () => apply(tx, event, now));
          if (outcome.ok) {
            dueNow = outcome.value || dueNow;
            continue;
          }
          pendingLogs.get(tx)?.splice(logsBefore);
          // Not handled after all: the retry must find it new.
          await tx.deleteFrom('engine_handled_events').where('event_id', '=', event.eventId).execute();
          batchLog.error({ err: outcome.error, eventId: event.eventId }, 'an escalation event failed');
          failed.push({ eventId: event.eventId, error: outcome.error });
        }
        await flushLogs(tx);
        return dueNow;
      });
      committed(due);
      return { failed };
    },
  };

  async function runDue(now: Date): Promise<number> {
    const { claimed, due } = await db.transaction().execute(async (tx) => {
      const ran = await runDueWhere(tx, now);
      await flushLogs(tx);
      return ran;
    });
    if (due) options.signal.wake(QUEUES.notifications);
    if (claimed > 0) options.signal.wake(QUEUES.alertEvents);
    return claimed;
  }

  async function nextDue(): Promise<Date | null> {
    const row = await db
      .selectFrom('alert_escalations')
      .select((eb) => eb.fn.min('next_at').as('at'))
      .where('state', '=', 'active')
      .executeTakeFirst();
    return (row?.at as Date | null | undefined) ?? null;
  }

  return {
    consumer,
    runDue,
    queue: ({ idleMs } = {}) => ({
      name: QUEUES.escalations,
      // Several claimers: a step waits on PostgreSQL most of the time, and SKIP LOCKED splits the due ones.
      concurrency: 4,
      idleMs: idleMs ?? 5000,
      async round(now) {
        if ((await runDue(now)) >= batchSize) return { more: true };
        return { more: false, nextDueAt: await nextDue() };
      },
    }),
  };
}

/** Old handled-event marks can go: a job is never retried weeks later. */
export async function purgeHandledEvents(db: Db, olderThanDays: number): Promise<number> {
  const result = await db
    .deleteFrom('engine_handled_events')
    .where('handled_at', '<', sql<Date>`now() - make_interval(days => ${olderThanDays})`)
    .executeTakeFirst();
  return Number(result.numDeletedRows);
}

function memo<K, V>(cache: Map<K, V>, key: K, load: () => V): V {
  if (!cache.has(key)) cache.set(key, load());
  return cache.get(key) as V;
}
