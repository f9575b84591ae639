import type { AlertEvent } from '../../alerts/events.js';
import type { AlertEscalationRow, AlertRow, ResponderRef } from '../../db/schema.js';
import { matchableAlert, type MatchableAlert } from '../../oncall/conditions.js';
import { namedResponders } from '../../alerts/responders.js';
import { durationMs } from '../../alerts/policies/notification-model.js';
import type { EscalationPlan } from '../../oncall/model.js';
import { oneRulePlan, planOf, routeAlert, schedulePlan } from '../../oncall/routing/route.js';
import type { Clock } from '../../work/clock.js';
import type { EngineTx } from './engine-tx.js';
import { dueAt, stepAt } from './plan.js';
import { type NewRun, escalationRepository as repo } from './repository.js';
import { alertsRepository } from '../../alerts/repository.js';
import { autoClosesRepository } from '../auto-close.js';
import { autoRestartsRepository } from '../auto-restart.js';
import {
  lockPolicyShared,
  notificationHoldsRepository,
  type HoldOutcome,
  type PolicyNow,
} from '../notification-holds.js';
import {
  decideForTeam,
  decisionOf,
  teamPoliciesApply,
  type NotificationDecision,
} from './notification-policies.js';

/**
 * What the policy `chosen` (read with the batch's policies) does as it is `now` (read again under its
 * lock, notification-holds.ts), as decideForTeam would say of it: its filter and time restrictions
 * matched, what it does may have changed since.
 */
function actingNow(chosen: NotificationDecision, now: PolicyNow): NotificationDecision {
  return decisionOf(chosen.policyId, now.name, now.actions, now.timezone);
}

/**
 * Starts the escalations of a new alert: one run per responder team (by the team's routing), per
 * escalation and schedule responder, and per user responder. Returns the alert and the runs it started.
 * With `later`, the runs are not made here but added to it, for the caller to make with others at once
 * (runner.startRuns), and `runs` is empty. With `only`, just those responders start (one added to the
 * alert later: its escalation counts from the event; one that already has a run for the alert is left to
 * it, see notRunning).
 * A team's notification policies (notification-policies.ts), when the alert is of the team's policy scope
 * (teamPoliciesApply), may suppress its run, start it later, hold it until the alert occurs often enough
 * (notification-holds.ts: `released` says the hold of the `only` responders ended, and when the alert
 * reached each of those teams, on the engine's clock), schedule its restarts (auto-restart.ts) or the
 * alert's close. A policy that would hold the alert is read again, under its lock, before it does anything:
 * one deleted or disabled meanwhile does nothing, one changed does what it does now. An alert of an
 * integration that suppresses notifications (suppressNotifications) starts no run when it is created.
 */
export async function startEscalations(
  etx: EngineTx,
  event: AlertEvent,
  now: Date,
  clock: Clock,
  later?: NewRun[],
  only?: readonly ResponderRef[],
  released?: ReadonlyMap<string, Date>,
): Promise<{ alert?: AlertRow; runs: AlertEscalationRow[] }> {
  const { tx, logs, reads, newAlerts } = etx;
  const alert = only
    ? await alertsRepository.byId(tx, event.alertId)
    : (newAlerts.get(event.alertId) ?? (await alertsRepository.byId(tx, event.alertId)));
  if (!alert || alert.status === 'closed') return { runs: [] };
  const started: AlertEscalationRow[] = [];
  // From the alert's creation: if no worker ran since, the first steps are late, and say so.
  const base = clock.fromSystemTime(new Date(event.at));
  const start = async (
    source: string,
    escalationId: string | null,
    plan: EscalationPlan,
    baseAt: Date = base,
  ) => {
    const first = stepAt(plan, 0);
    const run: NewRun = {
      alertId: alert.id,
      orgId: alert.org_id,
      source,
      escalationId,
      plan,
      baseAt,
      nextAt: first ? dueAt(baseAt, first) : baseAt,
    };
    if (later) {
      later.push(run);
      return;
    }
    const inserted = await repo.insertRun(tx, run);
    if (inserted) started.push(inserted);
  };
  let responders = only ?? alert.responders;
  if (only) {
    responders = await notRunning(etx, alert, event, only);
    if (responders.length === 0) return { alert, runs: [] };
  }
  // Opsgenie's suppressNotifications: what the creation of the integration's alert starts notifies nobody.
  // Responders added to it later, and its escalation by hand, are someone's choice to notify, and do.
  const suppressed =
    !only && alert.integration_id !== null && (await reads.integrationSuppresses(alert.integration_id));
  if (suppressed)
    logs.add(alert.id, `Notifications suppressed by integration '${alert.integration_name ?? ''}'`);
  if (responders.length === 0) {
    logs.add(alert.id, 'The alert has no responders: nobody is notified');
    return { alert, runs: [] };
  }
  const matchable = matchableAlert(alert);
  const createdAt = clock.fromSystemTime(alert.created_at);
  // A team is routed as things stood when the alert reached it: at its creation, or when the team was added
  // (or its hold ended), not when the engine got to it. After a backlog, an alert made at 16:50 still takes
  // the 09:00-17:00 rule when it is handled at 17:10.
  const routedAt = event.type === 'created' ? createdAt : base;
  // A team's notification policy is the one whose time restriction holds when the alert reached the team:
  // a team added later is judged then, as its `next-*` delay counts from then. A hold's end is no new
  // arrival: the policy is found again as when the hold began (the alert reached the team then), or one
  // other than the holding policy could take over, suppressing or delaying what the hold let through.
  const arrivedAt = event.type === 'responder_added' ? base : createdAt;
  let named: MatchableAlert | undefined;
  for (const responder of responders) {
    if (suppressed && responder.type !== 'team') continue;
    if (responder.type === 'team') {
      const decision = await routeAlert(tx, responder.id, matchable, routedAt, reads.routing);
      // Its policies went with it, so there is nothing to close or hold either.
      if (decision.teamGone) {
        logs.add(alert.id, 'A team responder no longer exists: nobody is paged for it');
        continue;
      }
      const teamName = decision.teamName;
      const policyAt = released?.get(responder.id) ?? arrivedAt;
      // Only the teams of the alert's policy scope (as its create decided) have their policies apply.
      let policy: NotificationDecision | undefined;
      if (teamPoliciesApply(alert, responder.id)) {
        const policies = await reads.notificationPolicies(alert.org_id, now);
        // Named only when a policy's filter asks who the alert is for: that costs a read.
        if (policies.usesResponders && !named)
          named = { ...matchable, responders: await namedResponders(tx, alert.responders) };
        policy = decideForTeam(policies, responder.id, named ?? matchable, policyAt, now);
      }
      // A policy that would hold the alert decides as it is now (it may have changed since it was read):
      // held, met, off (it no longer de-duplicates: what it does now applies), or gone (deleted or
      // disabled: it does nothing). Decided first, so that the policy's lock is taken before anything of
      // its own is written (notification-holds.ts, policyLockName); logged where the hold comes.
      const chosen = policy;
      let hold: HoldOutcome | undefined;
      if (chosen?.deduplication && !released && !suppressed && !chosen.suppress && decision.kind !== 'none') {
        hold = await notificationHoldsRepository.holdUnlessMet(
          tx,
          {
            alertId: alert.id,
            teamId: responder.id,
            orgId: alert.org_id,
            policyId: chosen.policyId,
            heldAt: clock.toSystemTime(policyAt),
          },
          now,
          (systemTime) => clock.fromSystemTime(systemTime),
        );
        policy = hold.kind === 'gone' ? undefined : actingNow(chosen, hold.policy);
      } else if (policy?.deduplication && policy.autoCloseMs !== undefined)
        // Its close is written all the same: under its lock, as a hold of it later in this transaction
        // takes it, and a change of it that dropped the close must not wait for this one meanwhile.
        await lockPolicyShared(tx, policy.policyId);
      if (policy?.autoCloseMs !== undefined) {
        // From the alert's creation, as documented, also for a team added as a responder later.
        const closeAt = new Date(createdAt.getTime() + policy.autoCloseMs);
        await autoClosesRepository.schedule(tx, {
          alertId: alert.id,
          orgId: alert.org_id,
          closeAt,
          policyId: policy.policyId,
          policyName: policy.policyName,
        });
        etx.autoCloseScheduled = true;
        logs.add(
          alert.id,
          `The alert will be closed at ${clock.toSystemTime(closeAt).toISOString()} if still open, by policy '${policy.policyName}' (team ${teamName})`,
        );
      }
      // A policy's close is no notification: it stands whatever the integration suppresses.
      if (suppressed) continue;
      if (policy?.suppress) {
        logs.add(alert.id, `Notifications suppressed by policy '${policy.policyName}' (team ${teamName})`);
        continue;
      }
      if (decision.kind === 'none') {
        logs.add(
          alert.id,
          `Team ${teamName}: routing rule "${decision.ruleName}" says do not notify; nobody is paged`,
        );
        continue;
      }
      const via =
        decision.kind === 'team-members'
          ? 'no routing rule or default policy is set, so every member is notified'
          : `routing rule "${decision.ruleName}"`;
      logs.add(alert.id, `Team ${teamName}: ${via}; escalating with ${decision.plan.name}`);
      if (hold?.kind === 'held') {
        const { count, duration } = hold.action;
        const within = duration ? ` within ${duration.timeAmount} ${duration.timeUnit}` : '';
        logs.add(
          alert.id,
          `Notifications held until the alert occurs ${count} times${within}, by policy '${hold.policy.name}' (team ${teamName})`,
        );
        continue;
      }
      if (hold?.kind === 'gone')
        logs.add(
          alert.id,
          `Notifications not held by policy '${chosen?.policyName ?? ''}' (team ${teamName}): the policy is deleted or disabled, and does nothing`,
        );
      if (hold?.kind === 'off')
        logs.add(
          alert.id,
          `Notifications not held by policy '${hold.policy.name}' (team ${teamName}): the policy no longer de-duplicates`,
        );
      let teamBase = base;
      if (policy?.delayUntil) {
        teamBase = policy.delayUntil(base);
        logs.add(
          alert.id,
          `Notifications delayed until ${clock.toSystemTime(teamBase).toISOString()} by policy '${policy.policyName}' (team ${teamName})`,
        );
      }
      if (policy?.autoRestart) {
        const everyMs = durationMs(policy.autoRestart.duration);
        await autoRestartsRepository.schedule(tx, {
          alertId: alert.id,
          teamId: responder.id,
          orgId: alert.org_id,
          restartAt: new Date(teamBase.getTime() + everyMs),
          everyMs,
          times: policy.autoRestart.maxRepeatCount,
          policyId: policy.policyId,
          policyName: policy.policyName,
        });
        etx.autoRestartScheduled = true;
      }
      await start(
        `team:${responder.id}`,
        decision.kind === 'escalation' ? decision.escalationId : null,
        decision.plan,
        teamBase,
      );
    } else if (responder.type === 'user') {
      const user = await repo.user(tx, responder.id);
      if (!user) {
        logs.add(alert.id, 'A user responder no longer exists: nobody is paged for them');
        continue;
      }
      await start(
        `user:${responder.id}`,
        null,
        oneRulePlan(`Responder ${user.full_name || user.username}`, { type: 'user', id: responder.id }),
      );
    } else if (responder.type === 'escalation') {
      // Opsgenie's escalation responder: that policy runs as it is, no team routing in between.
      const policy = await repo.policy(tx, responder.id);
      if (!policy) {
        logs.add(alert.id, 'An escalation responder no longer exists: nobody is paged for it');
        continue;
      }
      logs.add(alert.id, `Escalation ${policy.name} is a responder; escalating with it`);
      await start(`escalation:${responder.id}`, responder.id, planOf(policy));
    } else {
      const schedule = await repo.schedule(tx, responder.id);
      if (!schedule) {
        logs.add(alert.id, 'A schedule responder no longer exists: nobody is paged for it');
        continue;
      }
      await start(`schedule:${responder.id}`, null, schedulePlan(responder.id, schedule.name));
    }
  }
  return { alert, runs: started };
}

/**
 * Of the responders `only` names, those to start: those with no run for the alert. One that has one (a
 * responder when the alert was created, or reached by an escalation rule since) is left to it, and an
 * added one whose run still has rules left says so on the log. A run that ended (or waits only for its
 * close after the last repeat) is not started again: the `created` event handled after an add (batches
 * run side by side) starts the added team's run with the alert's other responders, and the add's own
 * event, handled next, must not page the team a second time; an alert has one run per source, and a run
 * does not say whether a rule or the alert's responders started it (docs/limits.md).
 */
async function notRunning(
  { tx, logs }: EngineTx,
  alert: AlertRow,
  event: AlertEvent,
  only: readonly ResponderRef[],
): Promise<ResponderRef[]> {
  const sourceOf = (r: ResponderRef) => `${r.type}:${r.id}`;
  const runs = await repo.runsOfSources(tx, alert.id, only.map(sourceOf));
  const added = event.type === 'responder_added' ? event : undefined;
  return only.filter((r) => {
    const run = runs.find((row) => row.source === sourceOf(r));
    if (!run) return true;
    if (added && run.state !== 'finished' && !stepAt(run.plan, run.step)?.closesAlert)
      logs.add(alert.id, `${added.name} already escalates this alert`);
    return false;
  });
}
