import { sql } from 'kysely';
import type { AlertsService } from '../alerts/service.js';
import { withSavepoint, type Db, type Queryable } from '../db/database.js';
import type { Logger } from '../logger.js';
import { QUEUES } from '../work/queue-names.js';
import type { WorkQueueSpec, WorkSignal } from '../work/runner.js';
import { ENGINE_ACTOR } from './escalation/log-buffer.js';

/**
 * The closes a notification policy's autoCloseAction schedules (`alert_auto_closes`, one per alert: the
 * earliest wins), and the `auto-closes` work queue that makes them: when one falls due (on the engine's
 * clock) the alert is closed if still open, as any close is (its log line, its `closed` event), and the
 * row goes either way. The queue sleeps until the next one is due; the engine wakes it when it adds one.
 */

const BATCH = 50;
const RETRY_MS = 60_000;

export const autoClosesRepository = {
  /** Closes `alertId` at `closeAt` unless an earlier close is already scheduled for it. */
  async schedule(
    db: Queryable,
    close: { alertId: string; orgId: string; closeAt: Date; policyName: string },
  ): Promise<void> {
    await db
      .insertInto('alert_auto_closes')
      .values({
        alert_id: close.alertId,
        org_id: close.orgId,
        close_at: close.closeAt,
        policy_name: close.policyName,
      })
      .onConflict((oc) =>
        oc
          .column('alert_id')
          .doUpdateSet({
            close_at: sql<Date>`excluded.close_at`,
            policy_name: sql<string>`excluded.policy_name`,
          })
          .where(sql<boolean>`excluded.close_at < alert_auto_closes.close_at`),
      )
      .execute();
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
              .where('alert_id', '=', close.alert_id)
              .execute();
            continue;
          }
          if (outcome.value) count++;
          await tx.deleteFrom('alert_auto_closes').where('alert_id', '=', close.alert_id).execute();
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
