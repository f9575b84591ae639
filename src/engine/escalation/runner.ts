import { sql } from 'kysely';
import type { AlertsService } from '../../alerts/service.js';
import type { Tx } from '../../db/database.js';
import type { AlertEscalationRow, AlertRow } from '../../db/schema.js';
import type { Logger } from '../../logger.js';
import { type PlanInput, planNotificationsBatch } from '../../notify/planner.js';
import type { EngineTx } from './engine-tx.js';
import { ENGINE_ACTOR } from './log-buffer.js';
import { formatDuration } from '../../work/durations.js';
import { describeStep, dueAt, stepAt, type PlanStep } from './plan.js';
import { planOf, routeAlert } from '../../oncall/routing/route.js';
import { matchableAlert } from '../../oncall/conditions.js';
import type { EscalationPlan, EscalationRule } from '../../oncall/model.js';
import type { ResolvedRecipients } from './recipients.js';
import { type NewRun, escalationRepository as repo, newRunRow } from './repository.js';
import { dueSteps, type DueStep, type DueStepsOutcome, type RunUpdate } from './transition.js';
import { alertsRepository } from '../../alerts/repository.js';

const RETRY_FAILED_STEP_MS = 60_000;

export interface StepRunnerOptions {
  alerts: AlertsService;
  log: Logger;
  /** A step that runs later than this after it fell due says so in the activity log. */
  lateAfterMs: number;
}

/**
 * Runs the due steps of escalation runs: pages the people a step names (as messages the sender delivers,
 * see notify/planner.ts), or closes the alert after a policy's last repeat, then records where the run
 * stands. The runs are locked by the caller's transaction.
 */
export interface StepRunner {
  /** Claims due runs (of one alert, or of any) and runs their steps; `due` when messages due now were planned. */
  claimAndRun(
    etx: EngineTx,
    now: Date,
    limit: number,
    alertId?: string,
  ): Promise<{ claimed: number; due: boolean }>;
  /** Runs the due steps of runs the transaction holds; true when messages due now were planned. */
  runDueSteps(
    etx: EngineTx,
    runs: AlertEscalationRow[],
    alertsById: ReadonlyMap<string, AlertRow>,
    now: Date,
  ): Promise<boolean>;
  /** Makes new runs and runs their steps due now; true when messages due now were planned. */
  startRuns(
    etx: EngineTx,
    runs: readonly NewRun[],
    alertsById: ReadonlyMap<string, AlertRow>,
    now: Date,
  ): Promise<boolean>;
}

export function createStepRunner({ alerts, log, lateAfterMs }: StepRunnerOptions): StepRunner {
  function lateness(now: Date, due: Date): string {
    const lateMs = now.getTime() - due.getTime();
    return lateMs > lateAfterMs
      ? ` — fired ${formatDuration(lateMs)} late (due ${due.toISOString()}; no worker ran it in time)`
      : '';
  }

  /**
   * Runs one run's due steps and says where it then stands (the caller records it). Returns whether
   * messages due now were planned, and the alert when its closing step closed it.
   */
  async function advanceRun(
    etx: EngineTx,
    run: AlertEscalationRow,
    alert: AlertRow | undefined,
    now: Date,
    pages: PendingPages,
  ): Promise<{ closed?: AlertRow; update: RunUpdate }> {
    const outcome = dueSteps(run, alert, now);
    // Only an alert that exists has steps to run.
    const closed = alert ? await runSteps(etx, run, alert, outcome.steps, now, pages) : undefined;
    for (const line of outcome.logs) etx.logs.add(run.alert_id, line);
    return { closed, update: outcome.update };
  }

  /** Runs a run's due steps (its pages wait in `pages`); returns the alert when its closing step closed it. */
  async function runSteps(
    etx: EngineTx,
    run: AlertEscalationRow,
    alert: AlertRow,
    steps: DueStep[],
    now: Date,
    pages: PendingPages,
  ): Promise<AlertRow | undefined> {
    let closed: AlertRow | undefined;
    for (const { step, dueAt } of steps) {
      const late = lateness(now, dueAt);
      if (step.closesAlert) closed = await closeAlert(etx, run, alert, late, pages);
      else await page(etx, run, alert, step, now, late, pages);
    }
    return closed;
  }

  /** A step's page: its recipients now, its messages planned with the batch's others (pages.settle). */
  async function page(
    etx: EngineTx,
    run: AlertEscalationRow,
    alert: AlertRow,
    step: PlanStep,
    now: Date,
    late: string,
    pages: PendingPages,
  ): Promise<void> {
    const { logs, reads } = etx;
    const rule = step.rule;
    if (!rule) return;
    const label = describeStep(run.plan, step);
    let resolved = await reads.resolverFor(run.org_id)(rule, now);
    if (resolved.routedBy) {
      const routed = await routeThroughTeam(etx, run, alert, rule, resolved.routedBy, now, `${label}${late}`);
      // The team's escalation took the alert (or had it already): its line is on the log.
      if (!routed) return;
      resolved = routed;
    }
    const { recipients, target, escalations = [] } = resolved;
    for (const onCall of escalations) {
      await startOnCallEscalation(etx, run, alert, onCall, now, `${label}${late}`);
    }
    if (recipients.length === 0) {
      if (escalations.length === 0) logs.add(alert.id, `${label}: nobody to notify in ${target}${late}`);
      return;
    }
    const line = logs.reserve(alert.id);
    pages.add(
      {
        alert,
        kind: 'create-alert',
        recipients,
        // The base time is in the key: a restart (end of a snooze) or an escalate pages again; a retry does not.
        keyPrefix: `page:${run.id}:${run.base_at.getTime()}:${step.index}`,
        setups: reads.setups,
        now,
        reason: label,
        escalationRunId: run.id,
        stopOn: rule.condition === 'if-not-closed' ? 'closed' : 'acknowledged',
      },
      (lines) => line(`${label}${late}: ${lines.join('; ')}`),
    );
  }

  /**
   * A rule that names a team (notifyType default) notifies as the team's routing rules say now, as they do
   * for the team as a responder: its escalation runs for the alert from now, under the team's source, so
   * that a team already escalating the alert (a responder, or reached before) is not started twice and a
   * policy that leads back to the team ends there; a schedule's on-call people, or the members when no
   * rule applies, are paged by this step. Returns whom to page, or nothing when an escalation took over.
   */
  async function routeThroughTeam(
    etx: EngineTx,
    run: AlertEscalationRow,
    alert: AlertRow,
    rule: EscalationRule,
    team: { teamId: string; teamName: string },
    now: Date,
    label: string,
  ): Promise<ResolvedRecipients | undefined> {
    const { tx, logs, reads } = etx;
    const decision = await routeAlert(tx, team.teamId, matchableAlert(alert), now, reads.routing);
    const resolve = reads.resolverFor(run.org_id);
    if (decision.kind === 'team-members') return resolve({ ...rule, notifyType: 'all' }, now);
    const via = `team ${team.teamName}'s routing rule "${decision.ruleName}"`;
    switch (decision.kind) {
      case 'none':
        return { recipients: [], target: `team ${team.teamName} (${via} says do not notify)` };
      case 'schedule': {
        const onCall = await resolve(
          { ...rule, notifyType: 'default', recipient: { type: 'schedule', id: decision.scheduleId } },
          now,
        );
        return {
          ...onCall,
          recipients: onCall.recipients.map((r) => ({ ...r, why: `${r.why}, by ${via}` })),
          target: `${onCall.target}, by ${via}`,
        };
      }
      case 'escalation': {
        const started = await startRun(etx, run, alert, {
          source: `team:${team.teamId}`,
          escalationId: decision.escalationId,
          plan: decision.plan,
          now,
        });
        logs.add(
          alert.id,
          started
            ? `${label}: ${via} sends the alert to escalation ${decision.plan.name}; escalating with it`
            : `${label}: ${via} sends the alert to escalation ${decision.plan.name}, and team ${team.teamName} already escalates (or escalated) it`,
        );
        return undefined;
      }
    }
  }

  /** A run of the plan for the alert from now; false when the alert already ran one from that source. */
  async function startRun(
    etx: EngineTx,
    run: AlertEscalationRow,
    alert: AlertRow,
    {
      source,
      escalationId,
      plan,
      now,
    }: { source: string; escalationId: string; plan: EscalationPlan; now: Date },
  ): Promise<boolean> {
    const first = stepAt(plan, 0);
    const started = await repo.insertRun(etx.tx, {
      alertId: alert.id,
      orgId: run.org_id,
      source,
      escalationId,
      plan,
      baseAt: now,
      nextAt: first ? dueAt(now, first) : now,
    });
    if (started) etx.escalationStarted = true;
    return started !== undefined;
  }

  /**
   * An escalation on call in a schedule a step notified runs for the alert from now, as an escalation
   * responder would (Opsgenie's escalation participant). One that already runs or ran for it (a responder,
   * on call before, or the policy that led here) is left alone: an alert runs each source once, which also
   * ends any loop back to it.
   */
  async function startOnCallEscalation(
    etx: EngineTx,
    run: AlertEscalationRow,
    alert: AlertRow,
    onCall: { id: string; why: string },
    now: Date,
    label: string,
  ): Promise<void> {
    const { tx, logs } = etx;
    const policy = await repo.policy(tx, onCall.id);
    if (!policy) {
      logs.add(alert.id, `${label}: the escalation ${onCall.why} no longer exists; nobody is paged for it`);
      return;
    }
    const started = await startRun(etx, run, alert, {
      source: `escalation:${onCall.id}`,
      escalationId: onCall.id,
      plan: planOf(policy),
      now,
    });
    logs.add(
      alert.id,
      started
        ? `${label}: escalation ${policy.name} is ${onCall.why}; escalating with it`
        : `${label}: escalation ${policy.name} is ${onCall.why}, and already runs (or ran) for this alert`,
    );
  }

  /** The closing step of a policy whose repeats all ran; returns the alert when it closed it. */
  async function closeAlert(
    { tx, logs }: EngineTx,
    run: AlertEscalationRow,
    alert: AlertRow,
    late: string,
    pages: PendingPages,
  ): Promise<AlertRow | undefined> {
    // The lines of the steps before come first on the log, then the close: their pages are planned first.
    await pages.settle(tx);
    await logs.flush(tx);
    const locked = await alerts.lockInTx(tx, alert.id);
    if (!locked || locked.status !== 'open') return undefined;
    const outcome = await alerts.applyInTx(
      tx,
      locked,
      { kind: 'close' },
      { kind: 'system', name: ENGINE_ACTOR },
      { note: `Closed by escalation ${run.plan.name} after its last repeat${late}` },
    );
    return outcome.alert;
  }

  /**
   * The runs together first: one savepoint, and their new states in one statement (round trips are what
   * a busy engine spends its time on). Only if that fails, each on its own (runOneByOne).
   */
  async function runDueSteps(
    etx: EngineTx,
    runs: AlertEscalationRow[],
    byId: ReadonlyMap<string, AlertRow>,
    now: Date,
  ): Promise<boolean> {
    if (runs.length <= 1) return runOneByOne(etx, runs, byId, now);
    const mark = etx.logs.mark();
    const together = await behindSavepoint(etx.tx, async () => {
      const alertsById = new Map(byId);
      const changes: { run: AlertEscalationRow; update: RunUpdate }[] = [];
      const pages = new PendingPages();
      for (const run of runs) {
        const outcome = await advanceRun(etx, run, alertsById.get(run.alert_id), now, pages);
        changes.push({ run, update: outcome.update });
        // Another run of the same alert in this batch must see it closed.
        if (outcome.closed) alertsById.set(outcome.closed.id, outcome.closed);
      }
      await pages.settle(etx.tx);
      await repo.updateRuns(etx.tx, changes);
      return pages.due;
    });
    if (together.ok) return together.value;
    etx.logs.dropAfter(mark);
    return runOneByOne(etx, runs, byId, now);
  }

  /**
   * The runs of new alerts, their first steps run at once. A run's first steps decide where it then
   * stands before they run (transition.ts), so each run is written once, as they leave it: on a burst of
   * new alerts, making each run and then updating it was a tenth of the database's work. Any failure,
   * or a step that would close an alert (another run of it must then see it closed), and they are made
   * as they start and run as any others are.
   */
  async function startRuns(
    etx: EngineTx,
    runs: readonly NewRun[],
    byId: ReadonlyMap<string, AlertRow>,
    now: Date,
  ): Promise<boolean> {
    const rows = runs.map((run) => newRunRow(run, now));
    const due = dueBy(rows, now);
    const outcomes = plannedSteps(due, byId, now);
    const closing = [...(outcomes?.values() ?? [])].some((o) => o.steps.some(({ step }) => step.closesAlert));
    if (outcomes && due.length > 1 && !closing) {
      const mark = etx.logs.mark();
      const together = await behindSavepoint(etx.tx, async () => {
        const made = await repo.insertRunRows(
          etx.tx,
          rows.map((row) => ({ row, update: outcomes.get(row.id)?.update })),
        );
        const pages = new PendingPages();
        for (const row of due) {
          const outcome = outcomes.get(row.id);
          if (!outcome || !made.has(row.id)) continue;
          const alert = byId.get(row.alert_id);
          if (alert) await runSteps(etx, row, alert, outcome.steps, now, pages);
          for (const line of outcome.logs) etx.logs.add(row.alert_id, line);
        }
        await pages.settle(etx.tx);
        return pages.due;
      });
      if (together.ok) return together.value;
      etx.logs.dropAfter(mark);
      log.warn({ err: together.error }, 'new escalation runs failed together; running them as any others');
    }
    const made = await repo.insertRunRows(
      etx.tx,
      rows.map((row) => ({ row })),
    );
    return runDueSteps(
      etx,
      due.filter((row) => made.has(row.id)),
      byId,
      now,
    );
  }

  async function runOneByOne(
    etx: EngineTx,
    runs: AlertEscalationRow[],
    byId: ReadonlyMap<string, AlertRow>,
    now: Date,
  ): Promise<boolean> {
    const alertsById = new Map(byId);
    let due = false;
    for (const run of runs) {
      const mark = etx.logs.mark();
      // One run that cannot go on (a schedule's zone gone from the tz database, a row deleted under it)
      // must not hold up the others: it is set aside for a minute and says why on its alert.
      const outcome = await behindSavepoint(etx.tx, async () => {
        const pages = new PendingPages();
        const advanced = await advanceRun(etx, run, alertsById.get(run.alert_id), now, pages);
        await pages.settle(etx.tx);
        await repo.updateRun(etx.tx, run, advanced.update);
        return { ...advanced, due: pages.due };
      });
      if (outcome.ok) {
        due = outcome.value.due || due;
        // Another run of the same alert in this batch must see it closed.
        const closed = outcome.value.closed;
        if (closed) alertsById.set(closed.id, closed);
        continue;
      }
      etx.logs.dropAfter(mark);
      const error = outcome.error;
      const message = error instanceof Error ? error.message : String(error);
      log.error({ err: error, escalationRunId: run.id, alertId: run.alert_id }, 'an escalation step failed');
      await repo.postponeRun(etx.tx, run.id, new Date(now.getTime() + RETRY_FAILED_STEP_MS));
      if (byId.has(run.alert_id))
        etx.logs.add(run.alert_id, `${run.plan.name}: a step failed (${message}); trying again in 1 min`);
    }
    return due;
  }

  return {
    async claimAndRun(etx, now, limit, alertId) {
      const runs = await repo.claimDue(etx.tx, now, limit, alertId);
      if (runs.length === 0) return { claimed: 0, due: false };
      const alertRows = await alertsRepository.byIds(
        etx.tx,
        runs.map((r) => r.alert_id),
      );
      const due = await runDueSteps(etx, runs, new Map(alertRows.map((a) => [a.id, a])), now);
      return { claimed: runs.length, due };
    },
    runDueSteps,
    startRuns,
  };
}

/** The runs whose next step is due at `now`. */
export function dueBy<R extends { next_at: Date | null }>(runs: readonly R[], now: Date): R[] {
  return runs.filter((r) => r.next_at !== null && r.next_at.getTime() <= now.getTime());
}

/**
 * Where each run's due steps leave it, by run id; undefined if working that out failed for one (it is
 * then run as any other, and set aside alone if it fails again).
 */
function plannedSteps(
  runs: readonly AlertEscalationRow[],
  byId: ReadonlyMap<string, AlertRow>,
  now: Date,
): Map<string, DueStepsOutcome> | undefined {
  try {
    return new Map(runs.map((row) => [row.id, dueSteps(row, byId.get(row.alert_id), now)]));
  } catch {
    return undefined;
  }
}

/**
 * The pages of a batch of steps, planned together (one "already paged?" read and one insert for all of
 * them, see planNotificationsBatch) once the batch's steps have run, or before a closing step. Each
 * page's activity-log line waits in its place until then.
 */
class PendingPages {
  private waiting: { input: PlanInput; done: (lines: string[]) => void }[] = [];
  /** Messages due now were planned. */
  due = false;

  add(input: PlanInput, done: (lines: string[]) => void): void {
    this.waiting.push({ input, done });
  }

  async settle(tx: Tx): Promise<void> {
    const batch = this.waiting.splice(0);
    if (batch.length === 0) return;
    const results = await planNotificationsBatch(
      tx,
      batch.map((p) => p.input),
    );
    for (const [i, { done }] of batch.entries()) {
      const result = results[i];
      done(result?.lines ?? []);
      if (result?.dueNow) this.due = true;
    }
  }
}

/**
 * Unlike withSavepoint (db/database.ts), every error is caught here, transient ones too: a run that failed
 * is set aside and retried later, and the others of the batch go on.
 */
async function behindSavepoint<T>(
  tx: Tx,
  work: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  await sql`SAVEPOINT escalation_step`.execute(tx);
  try {
    const value = await work();
    await sql`RELEASE SAVEPOINT escalation_step`.execute(tx);
    return { ok: true, value };
  } catch (error) {
    await sql`ROLLBACK TO SAVEPOINT escalation_step`.execute(tx);
    await sql`RELEASE SAVEPOINT escalation_step`.execute(tx);
    return { ok: false, error };
  }
}
