import { withSavepoint, type Db, type Tx } from '../db/database.js';
import type { AlertRow } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { cachedSetups, planNotificationsBatch, whyUnwanted, type PlanInput } from '../notify/planner.js';
import {
  NOTIFICATION_REPEAT_LIMIT,
  notificationRepeatsRepository as repo,
  repeatMinutes,
  type DueRepeat,
} from '../notify/repeats-repository.js';
import { alertsRepository } from '../alerts/repository.js';
import { QUEUES } from '../work/queue-names.js';
import type { WorkQueueSpec, WorkSignal } from '../work/runner.js';
import { engineTx, type EngineTx } from './escalation/engine-tx.js';

/**
 * The `notification-repeats` work queue: a notification rule's `repeat` acted on, as Opsgenie does. A page
 * by a rule whose repeat is on starts one (notify/planner.ts): `loopAfter` minutes after the page, the
 * rule's steps run again for that person, and again every `loopAfter` minutes after that, at most
 * NOTIFICATION_REPEAT_LIMIT times, until the alert no longer wants the page (acknowledged or closed, as
 * the page stops on; snoozed; deleted). Acknowledging or closing drops the repeats at once
 * (escalation/reconcile.ts, beside the cancelling of pending pages), and a round checks again.
 *
 * A round plans the rule's steps as the rule is now: a rule disabled, deleted or no longer repeating ends
 * its repeats, as does a blocked person. Each round's messages have their own idempotency keys (the page's
 * prefix and the round's number), so a round planned twice (a retried transaction, a second process)
 * adds nothing.
 */

const BATCH = 50;
const RETRY_MS = 60_000;
/**
 * Nothing wakes this queue when a repeat starts: it looks at least this often instead, and a repeat's
 * first round is at least a minute after its page, so it sees every repeat before it falls due.
 */
const IDLE_MS = 30_000;

interface Round {
  repeat: DueRepeat;
  input: PlanInput;
  /** The round made (1 for the first repeat). */
  round: number;
  /** When the next falls due, or undefined when this is the last. */
  nextAt: Date | undefined;
}

/**
 * Why a due repeat of an alert that still wants its page ends without a round, or undefined when it goes
 * on. (One whose alert no longer wants it ends quietly: the alert's log tells that change already.)
 */
function whyOver(repeat: DueRepeat): string | undefined {
  if (repeat.user_blocked) return 'they are blocked';
  if (!repeat.rule_enabled) return `their rule "${repeat.rule_name}" is disabled`;
  if (repeatMinutes(repeat.rule_repeat) === undefined)
    return `their rule "${repeat.rule_name}" no longer repeats`;
  return undefined;
}

/** The round a due repeat makes now: the next one counts from when this one was due, not from now. */
function roundOf(repeat: DueRepeat, alert: AlertRow, loopMinutes: number, now: Date): Round {
  const round = repeat.rounds + 1;
  const loopMs = loopMinutes * 60_000;
  // A round made very late (workers stopped for a while) does not bring a burst of the rounds missed.
  const onTime = repeat.next_at.getTime() + loopMs;
  const next = onTime > now.getTime() ? onTime : now.getTime() + loopMs;
  const nextAt = round >= NOTIFICATION_REPEAT_LIMIT ? undefined : new Date(next);
  return {
    repeat,
    round,
    nextAt,
    input: {
      alert,
      kind: 'create-alert',
      recipients: [{ id: repeat.user_id, why: repeat.why }],
      keyPrefix: `${repeat.key_prefix}:repeat:${round}`,
      now,
      reason: repeat.reason,
      ...(repeat.escalation_run_id ? { escalationRunId: repeat.escalation_run_id } : {}),
      stopOn: repeat.stop_on,
      repeatRound: { ruleId: repeat.rule_id, round },
    },
  };
}

export function notificationRepeatsQueue(deps: { db: Db; signal: WorkSignal; log: Logger }): WorkQueueSpec {
  const { db, signal, log } = deps;

  /** Plans the rounds (together, or each on its own if that fails); returns those planned and whether messages are due now. */
  async function plan(
    etx: EngineTx,
    rounds: Round[],
  ): Promise<{ made: Round[]; failed: Round[]; due: boolean }> {
    const { tx } = etx;
    const setups = cachedSetups(tx);
    const together = await withSavepoint(tx, () =>
      planNotificationsBatch(
        tx,
        rounds.map((r) => ({ ...r.input, setups })),
      ),
    );
    if (together.ok) {
      for (const [i, result] of together.value.entries()) {
        const round = rounds[i];
        if (round) for (const line of result.lines) etx.logs.add(round.repeat.alert_id, line);
      }
      return { made: rounds, failed: [], due: together.value.some((r) => r.dueNow) };
    }
    // One round that cannot be planned must not hold up the others: it is tried again in a minute.
    const made: Round[] = [];
    const failed: Round[] = [];
    let due = false;
    for (const round of rounds) {
      const alone = await withSavepoint(tx, () => planNotificationsBatch(tx, [round.input]));
      if (!alone.ok) {
        log.error({ err: alone.error, alertId: round.repeat.alert_id }, 'a notification repeat failed');
        failed.push(round);
        continue;
      }
      for (const result of alone.value) {
        for (const line of result.lines) etx.logs.add(round.repeat.alert_id, line);
        due ||= result.dueNow;
      }
      made.push(round);
    }
    return { made, failed, due };
  }

  async function runDue(tx: Tx, now: Date): Promise<{ claimed: number; due: boolean }> {
    const etx = engineTx(tx);
    const claimed = await repo.claimDue(tx, now, BATCH);
    if (claimed.length === 0) return { claimed: 0, due: false };
    const alerts = new Map(
      (
        await alertsRepository.byIds(
          tx,
          claimed.map((r) => r.alert_id),
        )
      ).map((a) => [a.id, a]),
    );
    const ended: DueRepeat[] = [];
    const rounds: Round[] = [];
    for (const repeat of claimed) {
      const alert = alerts.get(repeat.alert_id);
      const loopMinutes = repeatMinutes(repeat.rule_repeat);
      if (!alert || whyUnwanted(repeat.stop_on, alert)) {
        ended.push(repeat);
        continue;
      }
      const over = whyOver(repeat);
      if (over || loopMinutes === undefined) {
        ended.push(repeat);
        etx.logs.add(
          repeat.alert_id,
          `No more repeats for ${repeat.user_name}: ${over ?? 'their rule no longer repeats'}`,
        );
        continue;
      }
      rounds.push(roundOf(repeat, alert, loopMinutes, now));
    }
    const { made, failed, due } =
      rounds.length > 0 ? await plan(etx, rounds) : { made: [], failed: [], due: false };
    await repo.end(tx, [
      ...ended.map((r) => ({ alertId: r.alert_id, userId: r.user_id })),
      ...made.flatMap((r) => (r.nextAt ? [] : [{ alertId: r.repeat.alert_id, userId: r.repeat.user_id }])),
    ]);
    await repo.advance(tx, [
      ...made.flatMap((r) =>
        r.nextAt
          ? [{ alertId: r.repeat.alert_id, userId: r.repeat.user_id, rounds: r.round, nextAt: r.nextAt }]
          : [],
      ),
      ...failed.map((r) => ({
        alertId: r.repeat.alert_id,
        userId: r.repeat.user_id,
        rounds: r.repeat.rounds,
        nextAt: new Date(now.getTime() + RETRY_MS),
      })),
    ]);
    await etx.logs.flush(tx);
    return { claimed: claimed.length, due };
  }

  return {
    name: QUEUES.notificationRepeats,
    idleMs: IDLE_MS,
    async round(now) {
      const { claimed, due } = await db.transaction().execute((tx) => runDue(tx, now));
      if (due) signal.wake(QUEUES.notifications);
      if (claimed >= BATCH) return { more: true };
      return { more: false, nextDueAt: await repo.nextDueAt(db) };
    },
  };
}
