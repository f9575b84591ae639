import type { AlertEvent } from '../../alerts/events.js';
import type { AlertRow } from '../../db/schema.js';
import { unwantedStopOns, whyUnwanted } from '../../notify/planner.js';
import { notificationsRepository } from '../../notify/repository.js';
import { notificationRepeatsRepository } from '../../notify/repeats-repository.js';
import { planOf } from '../../oncall/routing/route.js';
import type { EngineTx } from './engine-tx.js';
import { escalationRepository as repo } from './repository.js';
import { escalateNow, isEscalatedBy, reachesFinishedRuns, transition } from './transition.js';
import { alertsRepository } from '../../alerts/repository.js';

/**
 * Brings an alert's unfinished runs (and the finished ones the event may restart), and its pending
 * messages, in line with the alert after an event changed it: the runs are locked and each is told the
 * event (see transition.ts). `madeAt` is when the event's change was made, on the engine's clock.
 */
export async function reconcile(etx: EngineTx, event: AlertEvent, now: Date, madeAt: Date): Promise<void> {
  const { tx, logs } = etx;
  const runs = await repo.lockUnfinished(tx, event.alertId, { completed: reachesFinishedRuns(event) });
  const alert = await alertsRepository.byId(tx, event.alertId);
  await cancelUnwantedMessages(etx, event.alertId, alert);
  if (
    event.type === 'escalated' &&
    alert?.status === 'open' &&
    !runs.some((run) => isEscalatedBy(run, event))
  ) {
    await escalateWithoutRun(etx, event, alert, now, madeAt);
    return;
  }
  for (const run of runs) {
    const change = transition(run, alert, event, now, madeAt);
    if (change.kind !== 'unchanged') await repo.updateRun(tx, run, change.update);
    for (const line of change.logs ?? []) logs.add(run.alert_id, line);
  }
}

async function cancelUnwantedMessages(
  { tx, logs }: EngineTx,
  alertId: string,
  alert: AlertRow | undefined,
): Promise<void> {
  const unwanted = unwantedStopOns(alert);
  if (unwanted.length === 0) return;
  const why = whyUnwanted(unwanted[0] ?? 'acknowledged', alert) ?? 'the alert changed';
  const n = await notificationsRepository.cancelPendingNotifications(tx, alertId, unwanted, why);
  if (alert && n > 0) logs.add(alert.id, `${n} pending notification${n === 1 ? '' : 's'} cancelled: ${why}`);
  // Notification rules' repeats of those pages end with them.
  const repeats = await notificationRepeatsRepository.endForAlert(tx, alertId, unwanted);
  if (alert && repeats > 0)
    logs.add(
      alert.id,
      `Notification repeats stopped for ${repeats} ${repeats === 1 ? 'person' : 'people'}: ${why}`,
    );
}

/** The escalate action on an alert that runs no unfinished escalation of the policy it names (or of any). */
async function escalateWithoutRun(
  { tx, logs }: EngineTx,
  event: Extract<AlertEvent, { type: 'escalated' }>,
  alert: AlertRow,
  now: Date,
  madeAt: Date,
): Promise<void> {
  if (!event.escalationId) {
    logs.add(alert.id, 'Escalated, but the alert is on no escalation that has rules left');
    return;
  }
  const policy = await repo.policy(tx, event.escalationId);
  if (!policy) {
    logs.add(alert.id, 'Escalated, but the escalation no longer exists: nobody is paged for it');
    return;
  }
  // Not on that policy yet (or it finished): it starts now, and is escalated to its first rule at once,
  // as an escalate moves a run on (escalateNow): that rule is due now, whatever its delay, and the later
  // ones keep their spacing from it. Started at the escalate, not at the base time escalateNow sets back
  // by the rule's delay (see placedAt).
  const started = await repo.insertRun(tx, {
    alertId: alert.id,
    orgId: alert.org_id,
    source: `escalate:${event.escalationId}`,
    escalationId: event.escalationId,
    plan: planOf(policy),
    baseAt: now,
    nextAt: now,
  });
  const escalated = started && escalateNow(started, now, madeAt);
  if (started && escalated && escalated.kind !== 'unchanged')
    await repo.updateRun(tx, started, escalated.update);
  logs.add(
    alert.id,
    started
      ? `Escalated: ${policy.name} starts now at its first rule`
      : `Escalated: ${policy.name} has already run on this alert`,
  );
}
