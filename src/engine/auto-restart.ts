import { sql } from 'kysely';
import { withSavepoint, type Db, type Queryable } from '../db/database.js';
import type { Logger } from '../logger.js';
import { policyActsAt, policyMaintainedAt } from '../maintenance/repository.js';
import { QUEUES } from '../work/queue-names.js';
import type { WorkQueueSpec, WorkSignal } from '../work/runner.js';
import { engineTx } from './escalation/engine-tx.js';
import { dueAt, stepAt } from './escalation/plan.js';
import { escalationRepository } from './escalation/repository.js';

/**
 * The restarts a notification policy's autoRestartAction schedules (`alert_auto_restarts`, one per alert and
 * team), and the `auto-restarts` work queue that makes them, as the auto-close queue does its closes
 * (auto-close.ts): when one falls due (engine clock) and the alert is still open and unacknowledged, the
 * team's escalation starts over from its first rule, as if the alert had just been created; the next
 * restart is scheduled a duration later while restarts are left. An acknowledged or closed alert ends them.
 * A snoozed alert is not restarted (its snooze's end restarts the escalation): its turn waits a duration.
 * A restart whose policy is deleted, disabled or no longer has an autoRestartAction is not made, and is
 * dropped (the policy service drops them at once, too). So is one whose policy a maintenance disables when
 * it falls due: disabling ends the chain for good (enabling the policy again brings no restart back), and a
 * maintenance stands for disabling the policy while it is open, so its opening drops the policy's restarts
 * (maintenance-openings.ts) and a restart found due inside it ends its chain rather than waiting for it
 * to close.
 */

const BATCH = 50;
const RETRY_MS = 60_000;

export const autoRestartsRepository = {
  /** Restarts the team's escalation of the alert at `restartAt`, then every `everyMs`, `times` times in all. */
  async schedule(
    db: Queryable,
    restart: {
      alertId: string;
      teamId: string;
      orgId: string;
      restartAt: Date;
      everyMs: number;
      times: number;
      policyId: string;
      policyName: string;
    },
  ): Promise<void> {
    await db
      .insertInto('alert_auto_restarts')
      .values({
        alert_id: restart.alertId,
        team_id: restart.teamId,
        org_id: restart.orgId,
        restart_at: restart.restartAt,
        every_ms: restart.everyMs,
        remaining: restart.times,
        policy_id: restart.policyId,
        policy_name: restart.policyName,
      })
      .onConflict((oc) => oc.columns(['alert_id', 'team_id']).doNothing())
      .execute();
  },

  /** Drops the restarts of a policy that no longer makes them (deleted, disabled, its action removed). */
  async dropPolicy(db: Queryable, policyId: string): Promise<void> {
    await db.deleteFrom('alert_auto_restarts').where('policy_id', '=', policyId).execute();
  },

  /** Drops the restarts of every policy a maintenance disables at `now`, as {@link dropPolicy} does. */
  async dropMaintained(db: Queryable, now: Date): Promise<number> {
    const result = await db
      .deleteFrom('alert_auto_restarts')
      .where(policyMaintainedAt(sql.ref('alert_auto_restarts.policy_id'), now))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};

export function autoRestartsQueue(deps: { db: Db; signal: WorkSignal; log: Logger }): WorkQueueSpec {
  const { db, signal, log } = deps;
  return {
    name: QUEUES.autoRestarts,
    idleMs: 60_000,
    async round(now) {
      const done = await db.transaction().execute(async (tx) => {
        const etx = engineTx(tx);
        const due = await tx
          .selectFrom('alert_auto_restarts')
          .selectAll()
          .select(
            policyActsAt(sql.ref('alert_auto_restarts.policy_id'), 'autoRestartAction', now).as(
              'policy_restarts',
            ),
          )
          .where('restart_at', '<=', now)
          .orderBy('restart_at')
          .limit(BATCH)
          .forUpdate()
          .skipLocked()
          .execute();
        let restarted = 0;
        for (const row of due) {
          const key = (q: typeof tx) =>
            q
              .updateTable('alert_auto_restarts')
              .where('alert_id', '=', row.alert_id)
              .where('team_id', '=', row.team_id);
          // One restart that fails must not hold up the others: it is tried again in a minute.
          const outcome = await withSavepoint(tx, async () => {
            if (!row.policy_restarts) return 'over' as const;
            const alert = await tx
              .selectFrom('alerts')
              .select(['status', 'acknowledged', 'snoozed'])
              .where('id', '=', row.alert_id)
              .forUpdate()
              .executeTakeFirst();
            if (!alert || alert.status !== 'open' || alert.acknowledged) return 'over' as const;
            if (alert.snoozed) return 'later' as const;
            const run = await tx
              .selectFrom('alert_escalations')
              .selectAll()
              .where('alert_id', '=', row.alert_id)
              .where('source', '=', `team:${row.team_id}`)
              .executeTakeFirst();
            // Restarts are scheduled when the run starts: one gone since (its team deleted) has none left.
            if (!run) return 'over' as const;
            const first = stepAt(run.plan, 0);
            await escalationRepository.updateRun(tx, run, {
              state: 'active',
              step: 0,
              baseAt: now,
              nextAt: first ? dueAt(now, first) : now,
              pausedAt: null,
              pauseReason: null,
              finishedReason: null,
              skippedFrom: null,
              replayUntil: null,
            });
            etx.logs.add(
              row.alert_id,
              `${run.plan.name} starts again from its first rule, by policy '${row.policy_name}': the alert is still unacknowledged (${row.remaining - 1} restarts left)`,
            );
            return 'restarted' as const;
          });
          if (!outcome.ok) {
            log.error({ err: outcome.error, alertId: row.alert_id }, 'an auto-restart failed');
            await key(tx)
              .set({ restart_at: new Date(now.getTime() + RETRY_MS) })
              .execute();
            continue;
          }
          const every = Number(row.every_ms);
          if (outcome.value === 'over' || (outcome.value === 'restarted' && row.remaining <= 1)) {
            await tx
              .deleteFrom('alert_auto_restarts')
              .where('alert_id', '=', row.alert_id)
              .where('team_id', '=', row.team_id)
              .execute();
          } else {
            await key(tx)
              .set({
                restart_at: new Date(now.getTime() + every),
                remaining: outcome.value === 'restarted' ? row.remaining - 1 : row.remaining,
              })
              .execute();
          }
          if (outcome.value === 'restarted') restarted++;
        }
        await etx.logs.flush(tx);
        return { restarted, claimed: due.length };
      });
      if (done.restarted > 0) signal.wake(QUEUES.escalations);
      if (done.claimed >= BATCH) return { more: true };
      const next = await db
        .selectFrom('alert_auto_restarts')
        .select('restart_at')
        .orderBy('restart_at')
        .limit(1)
        .executeTakeFirst();
      return { more: false, nextDueAt: next?.restart_at ?? null };
    },
  };
}
