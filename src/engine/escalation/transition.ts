import type { AlertEvent } from '../../alerts/events.js';
import type { AlertEscalationRow, AlertRow, EscalationState } from '../../db/schema.js';
import { dueAt, nextStepWhenAcknowledged, stepAt, type PlanStep } from './plan.js';

/**
 * What happens to one escalation run, decided without the database or the clock: the runner and the
 * consumer read the rows, ask here, and write what comes back. The decisions look at the alert as it is
 * now, never at the order events came in, so a retried or late event ends in the state the alert is in.
 */

/** What a decision reads of a run. */
export type RunFields = Pick<
  AlertEscalationRow,
  | 'id'
  | 'escalation_id'
  | 'plan'
  | 'state'
  | 'step'
  | 'base_at'
  | 'started_at'
  | 'escalated_at'
  | 'paused_at'
  | 'pause_reason'
  | 'finished_reason'
  | 'skipped_from'
  | 'replay_until'
>;

/** What a decision reads of the alert; undefined when the alert was deleted. */
export type AlertFields = Pick<AlertRow, 'status' | 'snoozed' | 'acknowledged'>;

/** The columns of a run to write; those left out keep their value. */
export interface RunUpdate {
  state: EscalationState;
  step?: number;
  /** With step 0, a (re)start: started_at follows it (see runState). */
  baseAt?: Date;
  /** A start set apart from baseAt (see escalateNow); it wins over the one a restart's baseAt gives. */
  startedAt?: Date;
  nextAt?: Date | null;
  pausedAt?: Date | null;
  pauseReason?: string | null;
  finishedReason?: string | null;
  skippedFrom?: number | null;
  replayUntil?: number | null;
  /** When the escalate that moved the run on was made. */
  escalatedAt?: Date;
}

export type PauseReason = 'snoozed' | 'acknowledged';

export type RunTransition =
  /** `logs`, when it says why an event changed nothing (see escalateNow). */
  | { kind: 'unchanged'; logs?: string[] }
  | {
      kind: 'finished' | 'paused' | 'restarted' | 'escalated';
      update: RunUpdate;
      /** Lines for the alert's activity log. */
      logs: string[];
    };

const UNCHANGED: RunTransition = { kind: 'unchanged' };

/** The finished_reason of a run that ran every rule it has (not one ended by a close). */
export const COMPLETED = 'completed';

/**
 * Whether an event is told to a run that already finished: only the end of a snooze and an unacknowledge
 * start one of them again (see restartCompleted and startsOverAtUnacknowledge).
 */
export function reachesFinishedRuns(event: AlertEvent): boolean {
  return event.type === 'snooze_ended' || event.type === 'unacknowledged';
}

type Target =
  { state: 'finished'; reason: string } | { state: 'paused'; reason: PauseReason } | { state: 'active' };

/**
 * Whether an escalate action is meant for this run (it names the run's policy, or none): the escalated
 * event's, or the one that ended a snooze (snooze_ended's byEscalate).
 */
export function isEscalatedBy(run: RunFields, escalate: { escalationId?: string }): boolean {
  return !escalate.escalationId || run.escalation_id === escalate.escalationId;
}

/**
 * What an alert event does to one run of its alert (an unfinished one, or a finished one the event
 * reaches, see reachesFinishedRuns). `alert` is the alert's row as the event left it (read after the
 * event), not the event's own view of it. `madeAt` is when the event's change was made, on the engine's
 * clock.
 */
export function transition(
  run: RunFields,
  alert: AlertFields | undefined,
  event: AlertEvent,
  now: Date,
  madeAt: Date,
): RunTransition {
  // Events of one alert may be handled out of order: starting over here a run the escalate moves on
  // would page its first rule, and the escalated event then the next one too (or already did).
  if (event.type === 'unacknowledged' && isLeftToEscalate(run, alert, event.byEscalate)) return UNCHANGED;
  if (event.type === 'unacknowledged' && startsOverAtUnacknowledge(run, alert, madeAt))
    return restart(run, now, 'the alert was unacknowledged');
  if (run.state === 'finished') return restartCompleted(run, alert, event, now, madeAt);
  const escalates = event.type === 'escalated' && alert?.status === 'open' && isEscalatedBy(run, event);
  // The snooze's end comes first whatever the event (see targetOf), but for the run an escalate moves on
  // (see escalateSnoozePaused).
  if (alert && alert.status === 'open' && !alert.snoozed && isSnoozePaused(run)) {
    // As for the escalate's unacknowledge, above.
    if (event.type === 'snooze_ended' && event.byEscalate && isEscalatedBy(run, event.byEscalate))
      return UNCHANGED;
    const resumed = followAlert(run, alert, now);
    return escalates ? escalateSnoozePaused(run, resumed, now, madeAt) : resumed;
  }
  if (event.type === 'escalated' && alert?.status === 'open')
    return escalates ? escalateNow(run, now, madeAt) : UNCHANGED;
  return followAlert(run, alert, now);
}

/**
 * Whether the unacknowledge an escalate made with the end of the snooze of an acknowledged alert
 * (`byEscalate`) leaves this run to the escalated event: the escalate names it, and it is paused by the
 * snooze (that event moves it on, see escalateSnoozePaused) or was placed by an escalate since its last
 * start (that event moved it on: placedAt is the escalate's, a little before this unacknowledge, which
 * would otherwise start it over; one an earlier escalate placed and that finished before the snooze is
 * started over by the snooze's end, see restartCompleted). One paused for the acknowledgement, or started
 * over since, goes the usual way.
 */
function isLeftToEscalate(
  run: RunFields,
  alert: AlertFields | undefined,
  byEscalate: { escalationId?: string } | undefined,
): boolean {
  if (!byEscalate || alert?.status !== 'open' || !isEscalatedBy(run, byEscalate)) return false;
  if (isSnoozePaused(run)) return true;
  const started = run.started_at ?? run.base_at;
  return (
    run.state !== 'paused' && run.escalated_at !== null && run.escalated_at.getTime() >= started.getTime()
  );
}

/** Brings a run in line with the alert as it is now: finished, paused, started over or left as it is. */
function followAlert(run: RunFields, alert: AlertFields | undefined, now: Date): RunTransition {
  const target = targetOf(run, alert);
  if (target.state === 'finished')
    return {
      kind: 'finished',
      update: { state: 'finished', nextAt: null, finishedReason: target.reason },
      logs: [],
    };
  if (target.state === 'paused') {
    if (run.state !== 'paused') {
      return {
        kind: 'paused',
        update: { state: 'paused', nextAt: null, pausedAt: now, pauseReason: target.reason },
        logs: [`${run.plan.name} paused: the alert was ${target.reason}`],
      };
    }
    // Still paused, now for another reason: the pause keeps its start, which a resume counts from.
    if (run.pause_reason !== target.reason)
      return { kind: 'paused', update: { state: 'paused', pauseReason: target.reason }, logs: [] };
    return UNCHANGED;
  }
  // An active target means the alert exists (see targetOf).
  if (!alert) return UNCHANGED;
  if (isSnoozePaused(run)) return restart(run, now, 'the snooze ended');
  // One paused for (or passing rules over for) an acknowledgement the alert no longer has stays so: the
  // unacknowledged event, which always follows this one, starts it over.
  return UNCHANGED;
}

/**
 * The escalate action on a run the snooze paused, on an alert no longer snoozed: escalating a snoozed
 * alert ends its snooze (alerts/service.ts), and the person asked for the next rule now, so the run moves
 * on from where the snooze paused it as on an alert never snoozed, not from its first rule, which would
 * page again the rules that already ran. The escalate's snooze_ended, handled before or after it, leaves
 * the run to it (see transition). An escalate told before the late end of a snooze that ended on its own
 * does the same: that end finds the run active and leaves it so (see followAlert), or finished with its
 * last rule due after the end (see restartCompleted). A run with no rule left has nothing to move on to:
 * it starts over as at the end of any snooze. The run resumes at the escalate, as one the end of a
 * snooze starts over: a later unacknowledge handled after this one starts it over (see placedAt), but the
 * one the escalate made with it, which leaves it alone (see isLeftToEscalate).
 */
function escalateSnoozePaused(
  run: RunFields,
  resumed: RunTransition,
  now: Date,
  madeAt: Date,
): RunTransition {
  const escalated = escalateNow(run, now, madeAt);
  if (escalated.kind === 'unchanged') return resumed;
  return { ...escalated, update: { ...escalated.update, startedAt: madeAt } };
}

/**
 * The columns of a run once `update` is written (the repository writes these; a decision reads them).
 * Sending a run back to its first rule from a new base time is what starting it over is (restart here,
 * and auto-restart.ts), so started_at follows that base; an escalate moves base_at alone.
 */
export function runState<R extends RunFields & { next_at?: Date | null }>(run: R, update: RunUpdate) {
  return {
    state: update.state,
    step: update.step ?? run.step,
    base_at: update.baseAt ?? run.base_at,
    started_at: update.startedAt ?? (update.step === 0 && update.baseAt ? update.baseAt : run.started_at),
    escalated_at: update.escalatedAt ?? run.escalated_at,
    next_at: update.nextAt === undefined ? run.next_at : update.nextAt,
    paused_at: update.pausedAt === undefined ? run.paused_at : update.pausedAt,
    pause_reason: update.pauseReason === undefined ? run.pause_reason : update.pauseReason,
    finished_reason: update.finishedReason === undefined ? run.finished_reason : update.finishedReason,
    skipped_from: update.skippedFrom === undefined ? run.skipped_from : update.skippedFrom,
    replay_until: update.replayUntil === undefined ? run.replay_until : update.replayUntil,
  };
}

/**
 * As in Opsgenie, an unacknowledged alert is taken as one just created: every run of it starts over from
 * its first rule, paused, running or done with its rules (one a close ended stays over). Not while the
 * alert is snoozed (the snooze's end starts it over) or acknowledged again (it stays as that left it),
 * and not a running one that starts at or after the unacknowledge: one a notification policy delayed
 * keeps its start, and the end of a snooze, which unacknowledges the alert too, already started its runs
 * over. Nor one escalated by an escalate made after the unacknowledge and handled before it: that person
 * asked for the next rule on the alert as it is now, and starting over would page the first rule again.
 * One paused for the acknowledgement goes back whenever it started: nothing else would wake it, and one
 * the acknowledgement paused during its delay keeps that start (see restart).
 */
function startsOverAtUnacknowledge(run: RunFields, alert: AlertFields | undefined, madeAt: Date): boolean {
  if (!alert || alert.status !== 'open' || alert.snoozed || alert.acknowledged) return false;
  if (run.state === 'finished' && run.finished_reason !== COMPLETED) return false;
  if (run.state === 'paused' && run.pause_reason === 'acknowledged') return true;
  return placedAt(run).getTime() < madeAt.getTime();
}

/**
 * When the run was last put where it stands by a (re)start or an escalate. Not base_at: an escalate sets
 * it back by the delay of the rule it made due (see escalateNow), to before events it came after. A run
 * written before started_at existed has its base time, which then still was its start unless escalated.
 */
function placedAt(run: RunFields): Date {
  const started = run.started_at ?? run.base_at;
  return run.escalated_at && run.escalated_at.getTime() > started.getTime() ? run.escalated_at : started;
}

/**
 * Where a run is to be, from the alert as it is now. A run the snooze paused, on an alert no longer
 * snoozed, starts over (see transition) whichever event comes first: events are handled in order only
 * within a batch, so snooze_ended can come after a later acknowledge, and a run kept paused until it came
 * would stay paused for good. It starts over from its first rule, so what an acknowledged alert still
 * runs is counted from there, as restartCompleted does.
 */
function targetOf(run: RunFields, alert: AlertFields | undefined): Target {
  if (!alert || alert.status === 'closed') return { state: 'finished', reason: 'alert closed' };
  if (alert.snoozed) return { state: 'paused', reason: 'snoozed' };
  const from = isSnoozePaused(run) ? 0 : run.step;
  if (alert.acknowledged && !nextStepWhenAcknowledged(run.plan, from))
    return { state: 'paused', reason: 'acknowledged' };
  return { state: 'active' };
}

function isSnoozePaused(run: RunFields): boolean {
  return run.state === 'paused' && run.pause_reason === 'snoozed';
}

/**
 * A run that had run all its rules when the alert was snoozed had nothing left to pause, yet Opsgenie
 * takes the end of a snooze as the alert coming in anew: it starts over, as the runs the snooze paused
 * do. It is left finished while the alert is snoozed again (that snooze's end restarts it), and when an
 * acknowledged alert would page nobody on it, as a paused run there stays paused. A run a close ended
 * stays over, and so does one that was running after the snooze ended: the snooze paused it, so another
 * event handled before this late one already started it over for this end (see targetOf), or an
 * unacknowledge did. Its base time alone cannot tell: an escalate after that start sets it back by the
 * delay of the rule it made due (see escalateNow), to before the end, yet that rule fell due after it.
 */
function restartCompleted(
  run: RunFields,
  alert: AlertFields | undefined,
  event: AlertEvent,
  now: Date,
  madeAt: Date,
): RunTransition {
  if (event.type !== 'snooze_ended' || run.finished_reason !== COMPLETED) return UNCHANGED;
  if (lastDueAt(run).getTime() >= madeAt.getTime()) return UNCHANGED;
  if (!alert || alert.status !== 'open' || alert.snoozed) return UNCHANGED;
  if (alert.acknowledged && !nextStepWhenAcknowledged(run.plan, 0)) return UNCHANGED;
  return restart(run, now, 'the snooze ended');
}

/** When the last rule a run got past (ran or passed over) fell due; its base time if none. */
function lastDueAt(run: RunFields): Date {
  const last = stepAt(run.plan, run.step - 1);
  return last ? dueAt(run.base_at, last) : run.base_at;
}

/**
 * As in Opsgenie, the end of a snooze and an unacknowledge start the escalation over: people hear about
 * it again, and the rules passed over while the alert was acknowledged are no longer owed. A run a
 * notification policy delayed past now has not started yet: it goes back to its own start, or a night's
 * "until 09:00" delay would page at the end of a short snooze.
 */
function restart(run: RunFields, now: Date, why: string): RunTransition {
  const first = stepAt(run.plan, 0);
  const baseAt = run.base_at.getTime() > now.getTime() ? run.base_at : now;
  return {
    kind: 'restarted',
    update: {
      state: 'active',
      step: 0,
      baseAt,
      nextAt: first ? dueAt(baseAt, first) : baseAt,
      pausedAt: null,
      pauseReason: null,
      finishedReason: null,
      skippedFrom: null,
      replayUntil: null,
    },
    logs: [`${run.plan.name} starts again from its first rule: ${why}`],
  };
}

/**
 * The escalate action, made at `madeAt`: the run's next rule is due now, paused or not, and later rules
 * keep their spacing from it. Running it is the runner's part (the escalate ended the alert's snooze, if
 * any). A run a notification policy delayed past the escalate starts no later than it: an unacknowledge
 * made after the escalate would otherwise be taken as before the run's start (see placedAt). The step
 * that closes the alert after the last repeat is no rule to escalate to: the escalate asks for someone to
 * be paged, and closing the alert then would page nobody and end it before its time (and tell an
 * integration it was resolved). The run keeps its close at its time, and the log says so.
 */
export function escalateNow(run: RunFields, now: Date, madeAt: Date): RunTransition {
  const step = stepAt(run.plan, run.step);
  if (!step) return UNCHANGED;
  if (step.closesAlert)
    return {
      kind: 'unchanged',
      logs: [
        `${run.plan.name} has no rule left to escalate to: it closes the alert at its time, after its last repeat`,
      ],
    };
  const started = run.started_at ?? run.base_at;
  return {
    kind: 'escalated',
    update: {
      state: 'active',
      baseAt: new Date(now.getTime() - step.offsetMs),
      nextAt: now,
      pausedAt: null,
      pauseReason: null,
      escalatedAt: madeAt,
      ...(started.getTime() > madeAt.getTime() ? { startedAt: madeAt } : {}),
    },
    logs: [],
  };
}

/** A step to run now, and when it fell due (a late one says so). */
export interface DueStep {
  step: PlanStep;
  dueAt: Date;
}

export interface DueStepsOutcome {
  /** In plan order; a closing step is always the last. */
  steps: DueStep[];
  /** Where the run stands once they ran. */
  update: RunUpdate;
  /** Lines for the activity log, after those of the steps. */
  logs: string[];
}

/**
 * Every step of a run that is due at `now` (several, when no worker ran across them), and where the run
 * stands after them: waiting for its next step, paused, or finished. On an acknowledged alert the rules
 * that stop at an acknowledgement are passed over, and remembered in skipped_from: a run that passed over
 * rules waits paused at its end, not finished. replay_until is only on runs an unacknowledge sent back to
 * those rules before it started runs over instead: it keeps them from running an if-not-closed rule twice.
 */
export function dueSteps(run: RunFields, alert: AlertFields | undefined, now: Date): DueStepsOutcome {
  const plan = run.plan;
  const steps: DueStep[] = [];
  let index = run.step;
  let skippedFrom = run.skipped_from;
  let replayUntil = run.replay_until;
  // Every way out records the step reached and what is remembered about passed-over rules.
  const settle = (update: RunUpdate, logs: string[] = []): DueStepsOutcome => ({
    steps,
    update: { step: index, skippedFrom, replayUntil, ...update },
    logs,
  });
  const pause = (reason: PauseReason) =>
    settle({ state: 'paused', nextAt: null, pausedAt: now, pauseReason: reason }, [
      `${plan.name} paused: the alert was ${reason}`,
    ]);
  for (let guard = 0; guard < 1000; guard++) {
    if (!alert || alert.status === 'closed')
      return settle({ state: 'finished', nextAt: null, finishedReason: 'alert closed' });
    if (alert.snoozed) return pause('snoozed');
    let step: PlanStep | undefined = stepAt(plan, index);
    // Rules were passed over for the acknowledgement: they still run if it is taken back.
    if (!step && skippedFrom !== null && alert.acknowledged) return pause('acknowledged');
    if (!step)
      return settle({ state: 'finished', nextAt: null, finishedReason: COMPLETED }, [
        `${plan.name}: every rule has run; the escalation is over`,
      ]);
    const due = dueAt(run.base_at, step);
    if (due.getTime() > now.getTime())
      return settle({ state: 'active', nextAt: due, pausedAt: null, pauseReason: null });
    if (replayUntil !== null && index >= replayUntil) replayUntil = null;
    if (replayUntil !== null && step.rule?.condition === 'if-not-closed') {
      // Going back over rules passed over while acknowledged: this one ran then, and is not run twice.
      index += 1;
      continue;
    }
    if (alert.acknowledged && step.rule?.condition !== 'if-not-closed') {
      if (skippedFrom === null && !step.closesAlert) skippedFrom = index;
      step = nextStepWhenAcknowledged(plan, index);
      if (!step) return pause('acknowledged');
      index = step.index;
      continue;
    }
    steps.push({ step, dueAt: due });
    index += 1;
    if (step.closesAlert)
      return settle({ state: 'finished', nextAt: null, finishedReason: 'closed after the last repeat' });
  }
  throw new Error(`escalation ${run.id} did not settle`);
}
