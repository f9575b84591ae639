import type { AlertEvent } from '../../alerts/events.js';
import { lockNames } from '../../db/advisory-locks.js';
import { type Db, type Tx, withSavepoint } from '../../db/database.js';
import type { AlertRow } from '../../db/schema.js';
import type { Clock } from '../../work/clock.js';
import type { AlertEventConsumer } from '../consumers.js';
import { QUEUES } from '../../work/queue-names.js';
import type { WorkSignal } from '../../work/runner.js';
import { type EngineTx, engineTx } from './engine-tx.js';
import { followUp } from './follow-up.js';
import { reconcile } from './reconcile.js';
import { type NewRun, escalationRepository as repo } from './repository.js';
import { type StepRunner, dueBy } from './runner.js';
import { startEscalations } from './start.js';
import { alertsRepository } from '../../alerts/repository.js';
import { notificationHoldsRepository } from '../notification-holds.js';

const HANDLED_TYPES: readonly AlertEvent['type'][] = [
  'created',
  'acknowledged',
  'unacknowledged',
  'closed',
  'snoozed',
  'snooze_ended',
  'note_added',
  // Told to the new owner, if a rule of theirs asks for it (follow-up.ts).
  'owner_assigned',
  'escalated',
  'responder_added',
  // A deduplicationAction's hold may be over (notification-holds.ts): only held alerts emit these.
  'hold_occurrence',
  'hold_released',
];

export interface EscalationConsumerOptions {
  db: Db;
  clock: Clock;
  signal: WorkSignal;
  runner: StepRunner;
  /** Due runs of the event's alert claimed per event. */
  batchSize: number;
}

/**
 * The alert events' side of the engine: a new alert starts its escalations, a change pauses, resumes,
 * escalates or finishes them, and an acknowledgement, close or note is told to those already paged (an
 * assignment to the new owner). Each event is handled once (engine_handled_events), however often its
 * delivery is retried.
 */
export function createEscalationConsumer(options: EscalationConsumerOptions): AlertEventConsumer {
  const { db, clock, signal, runner, batchSize } = options;

  /**
   * What one event asks of the engine; true when messages due now were planned. With `ready`, the runs of
   * new alerts wait there, to be made and their first steps run together (runReady) before any other
   * event and at the end.
   */
  async function apply(etx: EngineTx, event: AlertEvent, now: Date, ready?: ReadyRuns): Promise<boolean> {
    // A step due now (a rule at 0 minutes, an escalate) runs in this same transaction: no wait for a tick.
    if (event.type === 'created') {
      const { alert, runs } = await startEscalations(etx, event, now, clock, ready?.toStart);
      if (ready && alert) ready.alerts.set(alert.id, alert);
      const due = dueBy(runs, now);
      return alert && due.length > 0
        ? runner.runDueSteps(etx, due, new Map([[alert.id, alert]]), now)
        : false;
    }
    const readyDue = ready ? await runReady(etx, ready, now) : false;
    if (event.type === 'responder_added') {
      // Only the new responder starts, now; the runs the alert already has go on as they were.
      const { alert, runs } = await startEscalations(etx, event, now, clock, undefined, [event.responder]);
      const due = dueBy(runs, now);
      const dueNow =
        alert && due.length > 0
          ? await runner.runDueSteps(etx, due, new Map([[alert.id, alert]]), now)
          : false;
      return dueNow || readyDue;
    }
    if (event.type === 'hold_occurrence' || event.type === 'hold_released') {
      const occurrence =
        event.type === 'hold_occurrence'
          ? { at: clock.fromSystemTime(new Date(event.at)), count: event.count }
          : undefined;
      const ended = await notificationHoldsRepository.settle(etx.tx, event.alertId, now, occurrence);
      if (ended.length === 0) return readyDue;
      for (const hold of ended)
        etx.logs.add(event.alertId, `Notifications held by policy '${hold.policyName}' go out: ${hold.why}`);
      const teams = ended.map((hold) => ({ type: 'team' as const, id: hold.teamId }));
      const released = new Map(ended.map((hold) => [hold.teamId, clock.fromSystemTime(hold.heldAt)]));
      const { alert, runs } = await startEscalations(etx, event, now, clock, undefined, teams, released);
      const due = dueBy(runs, now);
      const dueNow =
        alert && due.length > 0
          ? await runner.runDueSteps(etx, due, new Map([[alert.id, alert]]), now)
          : false;
      return dueNow || readyDue;
    }
    // A note or an assignment changes nothing an escalation or a planned message depends on.
    if (event.type !== 'note_added' && event.type !== 'owner_assigned')
      await reconcile(etx, event, now, madeAt(event, now));
    const followUpDue = await followUp(etx, event, now);
    return (await runner.claimAndRun(etx, now, batchSize, event.alertId)).due || followUpDue || readyDue;
  }

  /**
   * When an event's change was made, on the engine's clock: never after `now`, as a test's held clock (or
   * another process's clock a little ahead) would otherwise have it.
   */
  function madeAt(event: AlertEvent, now: Date): Date {
    const at = clock.fromSystemTime(new Date(event.at));
    return at.getTime() < now.getTime() ? at : now;
  }

  /** The waiting runs of new alerts, made at once, and their steps due now run together. */
  async function runReady(etx: EngineTx, ready: ReadyRuns, now: Date): Promise<boolean> {
    if (ready.toStart.length === 0) return false;
    const runs = ready.toStart.splice(0);
    const alerts = new Map(ready.alerts);
    ready.alerts.clear();
    return runner.startRuns(etx, runs, alerts, now);
  }

  function committed(
    due: boolean,
    scheduled: { autoClose: boolean; autoRestart: boolean; escalation: boolean },
  ): void {
    if (due) signal.wake(QUEUES.notifications);
    if (scheduled.escalation) signal.wake(QUEUES.escalations);
    if (scheduled.autoClose) signal.wake(QUEUES.autoCloses);
    if (scheduled.autoRestart) signal.wake(QUEUES.autoRestarts);
    // A step may have closed an alert (the last repeat of a closing policy): its event waits.
    signal.wake(QUEUES.alertEvents);
  }

  return {
    name: 'escalation',
    label: 'Escalation',
    types: HANDLED_TYPES,
    handles: (event) => HANDLED_TYPES.includes(event.type),

    async handle(event) {
      const now = clock.now();
      const scheduled = { autoClose: false, autoRestart: false, escalation: false };
      const due = await db.transaction().execute(async (tx) => {
        const etx = engineTx(tx);
        await lockAlerts(tx, [event]);
        const fresh = await repo.markHandled(tx, [event.eventId], now);
        if (!fresh.has(event.eventId)) return false;
        const dueNow = await apply(etx, event, now);
        await etx.logs.flush(tx);
        scheduled.autoClose = etx.autoCloseScheduled;
        scheduled.autoRestart = etx.autoRestartScheduled;
        scheduled.escalation = etx.escalationStarted;
        return dueNow;
      });
      committed(due, scheduled);
    },

    /**
     * A batch of events in one transaction, with the on-call set-up read once for all of them: a burst of
     * new alerts costs a few statements each, not a transaction each. Each event runs behind a savepoint;
     * one that fails is rolled back alone, comes back as failed, and is retried on its own.
     */
    async handleBatch(events, { log: batchLog }) {
      const now = clock.now();
      const failed: { eventId: string; error: unknown }[] = [];
      const scheduled = { autoClose: false, autoRestart: false, escalation: false };
      const due = await db.transaction().execute(async (tx) => {
        const etx = engineTx(tx);
        // Read once the transaction has run (either way out below): a close scheduled then is woken for.
        const done = <T>(value: T): T => {
          scheduled.autoClose = etx.autoCloseScheduled;
          scheduled.autoRestart = etx.autoRestartScheduled;
          scheduled.escalation = etx.escalationStarted;
          return value;
        };
        await lockAlerts(tx, events);
        const fresh = await repo.markHandled(
          tx,
          events.map((e) => e.eventId),
          now,
        );
        const todo = events.filter((e) => fresh.has(e.eventId));
        await preloadNewAlerts(etx, todo);
        // All of them behind one savepoint first (the new alerts' first steps run together); only if one
        // fails, each behind its own.
        const start = etx.logs.mark();
        const together = await withSavepoint(tx, async () => {
          const ready: ReadyRuns = { toStart: [], alerts: new Map() };
          let dueNow = false;
          for (const event of todo) dueNow = (await apply(etx, event, now, ready)) || dueNow;
          return (await runReady(etx, ready, now)) || dueNow;
        });
        if (together.ok) {
          await etx.logs.flush(tx);
          return done(together.value);
        }
        etx.logs.dropAfter(start);
        let dueNow = false;
        for (const event of todo) {
          const mark = etx.logs.mark();
          const outcome = await withSavepoint(tx, () => apply(etx, event, now));
          if (outcome.ok) {
            dueNow = outcome.value || dueNow;
            continue;
          }
          etx.logs.dropAfter(mark);
          await repo.unmarkHandled(tx, event.eventId);
          batchLog.error({ err: outcome.error, eventId: event.eventId }, 'an escalation event failed');
          failed.push({ eventId: event.eventId, error: outcome.error });
        }
        await etx.logs.flush(tx);
        return done(dueNow);
      });
      committed(due, scheduled);
      return { failed };
    },
  };
}

/**
 * Serialises the engine's work on these alerts until the commit, across loops and processes. A run made
 * here is not seen by another transaction until this one commits: without the lock, an unacknowledge
 * handled meanwhile would find no run to start over, and the run made paused from the alert as it was read
 * here would stay paused for good. With it, whichever transaction comes second reads the alert and the
 * runs after the first committed. Taken first, while the transaction holds nothing else, and in one
 * statement (lockNames' one order): waiting for it can close no cycle.
 */
async function lockAlerts(tx: Tx, events: readonly AlertEvent[]): Promise<void> {
  await lockNames(
    tx,
    events.map((e) => `alert-engine:${e.alertId}`),
  );
}

/** The runs of new alerts, waiting to be made together (and their first steps run together). */
interface ReadyRuns {
  toStart: NewRun[];
  alerts: Map<string, AlertRow>;
}

/** The new alerts of a batch, read at once: starting their escalations takes them from here. */
async function preloadNewAlerts(etx: EngineTx, events: AlertEvent[]): Promise<void> {
  const ids = events.filter((e) => e.type === 'created').map((e) => e.alertId);
  if (ids.length === 0) return;
  for (const alert of await alertsRepository.byIds(etx.tx, ids)) etx.newAlerts.set(alert.id, alert);
}
