import { sql, type ExpressionBuilder } from 'kysely';
import type { AlertsService } from '../alerts/service.js';
import { withSavepoint, type Db, type Queryable } from '../db/database.js';
import type { Database } from '../db/schema.js';
import type { Logger } from '../logger.js';
import { policyActsAt, policyMaintainedAt } from '../maintenance/repository.js';
import { QUEUES } from '../work/queue-names.js';
import type { WorkQueueSpec, WorkSignal } from '../work/runner.js';
import { ENGINE_ACTOR } from './escalation/log-buffer.js';

/**
 * The closes a notification policy's autoCloseAction schedules (`alert_auto_closes`, one per alert and
 * policy: for one policy the earliest wins), and the `auto-closes` work queue that makes them: when one
 * falls due (on the engine's clock) the alert is closed if still open, as any close is (its log line, its
 * `closed` event), and the row goes either way. With several teams' policies on one alert, the first close
 * due whose policy still closes alerts closes it: one policy's close dropped leaves the others'.
 *
 * A close lasts only while its policy still closes alerts, as an auto-restart does (auto-restart.ts): one
 * whose policy is deleted, disabled or no longer has an autoCloseAction is not made, and is dropped (the
 * policy service drops them at once, too); so is one whose policy a maintenance disables, at the
 * maintenance's opening (maintenance-openings.ts) or when it falls due inside it. Rows from before
 * migration 0046 name no policy, and close the alert when due as they always did. The queue sleeps until
 * the next one is due; the engine wakes it when it adds one.
 */

const BATCH = 50;
const RETRY_MS = 60_000;

/** The one row a close is: a row without a policy (from before migration 0046) is its alert's only one. */
const sameClose =
  (close: { alert_id: string; policy_id: string | null }) =>
  (eb: ExpressionBuilder<Database, 'alert_auto_closes'>) =>
    eb.and([
      eb('alert_id', '=', close.alert_id),
      close.policy_id === null ? eb('policy_id', 'is', null) : eb('policy_id', '=', close.policy_id),
    ]);

export const autoClosesRepository = {
  /** Closes `alertId` at `closeAt` unless the policy already scheduled an earlier close for it. */
  async schedule(
    db: Queryable,
    close: { alertId: string; orgId: string; closeAt: Date; policyId: string; policyName: string },
  ): Promise<void> {
    await db
      .insertInto('alert_auto_closes')
      .values({
        alert_id: close.alertId,
        org_id: close.orgId,
        close_at: close.closeAt,
        policy_id: close.policyId,
        policy_name: close.policyName,
      })
      .onConflict((oc) =>
        oc
          .columns(['alert_id', 'policy_id'])
          .doUpdateSet({
            close_at: sql<Date>`excluded.close_at`,
            policy_name: sql<string>`excluded.policy_name`,
          })
          .where(sql<boolean>`excluded.close_at < alert_auto_closes.close_at`),
      )
      .execute();
  },

  /** Drops the closes of a policy that no longer makes them (deleted, disabled, its action removed). */
  async dropPolicy(db: Queryable, policyId: string): Promise<void> {
    await db.deleteFrom('alert_auto_closes').where('policy_id', '=', policyId).execute();
  },

  /** Drops the closes of every policy a maintenance disables at `now`, as {@link dropPolicy} does. */
  async dropMaintained(db: Queryable, now: Date): Promise<number> {
    const result = await db
      .deleteFrom('alert_auto_closes')
      .where(policyMaintainedAt(sql.ref('alert_auto_closes.policy_id'), now))
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};

export function autoClosesQueue(deps: {
  db: Db;
  alerts: AlertsService;
  signal: WorkSignal;
  log: Logger;
}): WorkQueueSpec {
  const { db, alerts, signal, log } = deps;
  return {
    name: QUEUES.autoCloses,
    idleMs: 60_000,
    async round(now) {
      const closed = await db.transaction().execute(async (tx) => {
        const due = await tx
          .selectFrom('alert_auto_closes')
          .selectAll()
          .select(
            sql<boolean>`alert_auto_closes.policy_id IS NULL
              OR ${policyActsAt(sql.ref('alert_auto_closes.policy_id'), 'autoCloseAction', now)}`.as(
              'policy_closes',
            ),
          )
          .where('close_at', '<=', now)
          .orderBy('close_at')
          .limit(BATCH)
          .forUpdate()
          .skipLocked()
          .execute();
        let count = 0;
        for (const close of due) {
          // One alert that cannot be closed must not hold up the others: it is tried again in a minute.
          const outcome = await withSavepoint(tx, async () => {
            // Its policy no longer closes alerts (see above): the row goes, the alert is left alone.
            if (!close.policy_closes) return false;
            const alert = await alerts.lockInTx(tx, close.alert_id);
            if (!alert || alert.status !== 'open') return false;
            await alerts.applyInTx(
              tx,
              alert,
              { kind: 'close' },
              { kind: 'system', name: ENGINE_ACTOR },
              { note: `Closed by policy '${close.policy_name}': its autoCloseAction's time was up` },
            );
            return true;
          });
          if (!outcome.ok) {
            log.error({ err: outcome.error, alertId: close.alert_id }, 'an auto-close failed');
            await tx
              .updateTable('alert_auto_closes')
              .set({ close_at: new Date(now.getTime() + RETRY_MS) })
              .where(sameClose(close))
              .execute();
            continue;
          }
          if (outcome.value) count++;
          // Only this row: another policy's close of the alert may be claimed by another worker, which
          // waits for the alert's lock (held here) and then finds it closed.
          await tx.deleteFrom('alert_auto_closes').where(sameClose(close)).execute();
        }
        return { count, claimed: due.length };
      });
      if (closed.count > 0) signal.wake(QUEUES.alertEvents);
      if (closed.claimed >= BATCH) return { more: true };
      const next = await db
        .selectFrom('alert_auto_closes')
        .select('close_at')
        .orderBy('close_at')
        .limit(1)
        .executeTakeFirst();
      return { more: false, nextDueAt: next?.close_at ?? null };
    },
  };
}
