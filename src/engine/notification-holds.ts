import { sql, type RawBuilder } from 'kysely';
import {
  durationMs,
  type DeduplicationAction,
  type NotificationActions,
} from '../alerts/policies/notification-model.js';
import type { Queryable } from '../db/database.js';
import { lockNameShared } from '../db/advisory-locks.js';
import { policyMaintainedAt, policySwitchedOnAt } from '../maintenance/repository.js';

/**
 * The team escalations a notification policy's deduplicationAction holds back (`alert_notification_holds`):
 * the team is notified only once the alert has occurred `count` times (value-based), or `count` times within
 * the window (frequency-based). A held alert is marked (`alerts.notification_held`): its de-duplicated
 * creates, which update its row, then emit a `hold_occurrence` event, and the engine's escalation consumer
 * records the occurrence here and starts the escalations whose hold it ends. Alerts without a hold cost the
 * engine nothing when de-duplicated.
 *
 * A hold lasts only while its policy de-duplicates: one whose policy is deleted, disabled or no longer has
 * a deduplicationAction counts as met (the policy service asks the engine to look at once, with a
 * `hold_released` event; an occurrence finds it too). A maintenance that disables the policy counts as
 * disabling it while open: the holds go when it opens (maintenance-openings.ts asks, as the policy service
 * does), and do not come back when it closes, as they would not once the policy is enabled again. What a
 * hold waits for is the policy's deduplicationAction as it is now, not as it was when the hold began: the
 * policy service asks the engine to look again when it changes, and an alert that has occurred often
 * enough for the new one goes out at once.
 *
 * A policy changed while the engine decides cannot leave a hold behind: the engine takes the policy's
 * advisory lock ({@link policyLockName}) shared and reads the policy again before it writes a hold, and the
 * policy service takes it exclusive before it updates, enables, disables or deletes the policy, so either
 * the engine sees the change (and holds nothing) or the change waits for it and sees the hold, and asks the
 * engine to look. An advisory lock, not the policy's row: a change of the team's policy order rewrites
 * every row of the team in one statement, which must not wait for an engine waiting in turn for another
 * of those rows (a deadlock), and does not change what the engine reads.
 */

/**
 * The advisory lock (db/advisory-locks.ts: taken by name) that a change of what the engine reads of a
 * notification policy takes exclusive, first in its transaction, and the engine shared, before it writes
 * anything of the policy's (a hold, or a close the change would drop) in a transaction that may come to
 * hold an alert by that policy: one that waits for it then holds nothing the change waits for.
 */
export const policyLockName = (policyId: string) => `notification-policy:${policyId}`;

/** Takes the policy's advisory lock shared, until the transaction ends ({@link policyLockName}). */
export async function lockPolicyShared(db: Queryable, policyId: string): Promise<void> {
  await lockNameShared(db, policyLockName(policyId));
}

/** A notification policy as it is now, read under its lock. */
export interface PolicyNow {
  name: string;
  actions: NotificationActions;
  timezone: string;
}

export interface NewHold {
  alertId: string;
  teamId: string;
  orgId: string;
  policyId: string;
  /**
   * When the alert reached the team (its creation, or when the team was added), on the system clock: the
   * policy holding it was chosen as at then, and is chosen as at then again when the hold ends. Stored as
   * the hold's created_at.
   */
  heldAt: Date;
}

/**
 * Whether a hold is met: value-based (no window) once the alert's count reaches `count`; frequency-based
 * once `count` of the occurrences (oldest first) fall within the window.
 */
export function holdIsMet(
  count: number,
  windowMs: number | undefined,
  alertCount: number,
  occurrences: readonly Date[],
): boolean {
  if (windowMs === undefined) return alertCount >= count;
  if (occurrences.length < count) return false;
  const recent = occurrences.slice(-count);
  const first = recent[0];
  const last = recent[recent.length - 1];
  return first !== undefined && last !== undefined && last.getTime() - first.getTime() <= windowMs;
}

/** The window a deduplicationAction's occurrences must fall within: frequency-based only. */
function windowOf(action: DeduplicationAction): number | undefined {
  return action.duration ? durationMs(action.duration) : undefined;
}

/** Whether two deduplicationActions hold alerts alike (same kind, count and window). */
export function sameDeduplication(
  a: DeduplicationAction | undefined,
  b: DeduplicationAction | undefined,
): boolean {
  if (!a || !b) return a === b;
  return (
    a.deduplicationActionType === b.deduplicationActionType &&
    a.count === b.count &&
    windowOf(a) === windowOf(b)
  );
}

/**
 * What {@link notificationHoldsRepository.holdUnlessMet} did: `held` by the policy's deduplicationAction
 * (as it is now), `met` already, or nothing because the policy no longer de-duplicates: `off`, it is on
 * but its deduplicationAction was removed since the engine read it (or it suppresses now), or `gone`, it
 * was deleted, disabled or switched off by a maintenance, and does nothing. Each but `gone` says what the
 * policy does now (`policy`), for the rest of the decision to follow rather than what the engine read.
 */
export type HoldOutcome =
  | { kind: 'held'; action: DeduplicationAction; policy: PolicyNow }
  | { kind: 'met'; policy: PolicyNow }
  | { kind: 'off'; policy: PolicyNow }
  | { kind: 'gone' };

/** A hold ended: its team's escalation starts; `why` ends the log line that says so. */
export interface EndedHold {
  teamId: string;
  policyName: string;
  why: string;
  /** When the alert reached the team, on the system clock ({@link NewHold.heldAt}). */
  heldAt: Date;
}

/**
 * A `hold_released` event for each alert `held` names (rows of alert_id, org_id and policy_name, one an
 * alert), in the caller's transaction. Returns how many. `at` is the event's time as events carry it, on
 * the system clock (`clock.toSystemTime(clock.now())`): the released escalations count their steps from it.
 */
async function askToRelease(db: Queryable, held: RawBuilder<unknown>, at: Date): Promise<number> {
  const result = await sql`
    INSERT INTO outbox_jobs (task, payload)
    SELECT 'alert-event', jsonb_build_object(
             'type', 'hold_released', 'eventId', gen_random_uuid(), 'alertId', alert_id, 'orgId', org_id,
             'at', ${at.toISOString()}::text, 'policyName', policy_name,
             'actor', jsonb_build_object('kind', 'system', 'name', 'Vigil'))
    FROM (${held}) AS held
    ORDER BY alert_id`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}

export const notificationHoldsRepository = {
  /**
   * Holds the team's escalation of the alert unless the hold is met already, and says which. The alert's row
   * is locked and marked first: a create de-duplicating it from now on tells the engine, and every one before
   * is in its count and its log, from which a frequency-based hold learns when the alert occurred
   * (`toEngineTime`: a database time on the engine's clock). The policy's advisory lock is then taken
   * shared (which a change of the policy waits for, {@link policyLockName}) and the policy read again: the
   * engine chose it from what it read earlier, and if it no longer de-duplicates at `now` (engine clock)
   * nothing is held; the hold waits for its deduplicationAction as it is now.
   */
  async holdUnlessMet(
    db: Queryable,
    hold: NewHold,
    now: Date,
    toEngineTime: (systemTime: Date) => Date,
  ): Promise<HoldOutcome> {
    const alert = await db
      .updateTable('alerts')
      .set({ notification_held: true })
      .where('id', '=', hold.alertId)
      .returning(['count', 'created_at'])
      .executeTakeFirst();
    // Locked, then read in a statement of its own: under READ COMMITTED that one sees a change committed
    // while the lock was awaited, in the policy's row and in the maintenances alike.
    await lockPolicyShared(db, hold.policyId);
    const row = (
      await sql<{ name: string; actions: NotificationActions | null; timezone: string }>`
        SELECT p.name, p.notification_actions AS actions, p.timezone
        FROM alert_policies p
        WHERE p.id = ${hold.policyId} AND NOT ${policyMaintainedAt(sql.ref('p.id'), now)}`.execute(db)
    ).rows[0];
    if (!row) return { kind: 'gone' };
    const policy: PolicyNow = {
      name: row.name,
      actions: row.actions ?? { suppress: false },
      timezone: row.timezone,
    };
    const action = policy.actions.deduplicationAction;
    if (typeof action !== 'object' || action === null || policy.actions.suppress)
      return { kind: 'off', policy };
    if (!alert) return { kind: 'met', policy };
    const count = action.count;
    const windowMs = windowOf(action);
    let occurrences: Date[] = [];
    if (windowMs !== undefined) {
      occurrences = [toEngineTime(alert.created_at)];
      if (alert.count > 1) {
        const repeats = await db
          .selectFrom('alert_logs')
          .select('created_at')
          .where('alert_id', '=', hold.alertId)
          .where('type', '=', 'deduplicate')
          .orderBy('id', 'desc')
          .limit(count)
          .execute();
        occurrences = [...occurrences, ...repeats.map((r) => toEngineTime(r.created_at)).reverse()].slice(
          -count,
        );
      }
    }
    if (holdIsMet(count, windowMs, alert.count, occurrences)) return { kind: 'met', policy };
    await db
      .insertInto('alert_notification_holds')
      .values({
        alert_id: hold.alertId,
        team_id: hold.teamId,
        org_id: hold.orgId,
        policy_id: hold.policyId,
        policy_name: policy.name,
        count,
        window_ms: windowMs ?? null,
        occurrences,
        created_at: hold.heldAt,
      })
      .onConflict((oc) => oc.columns(['alert_id', 'team_id']).doNothing())
      .execute();
    return { kind: 'held', action, policy };
  },

  /**
   * Looks at the alert's holds, with an occurrence of the alert at `occurrence.at` (its count then
   * `occurrence.count`) or without (a policy changed), and ends those met or whose policy no longer holds
   * them: their teams are returned, for their escalations to start. A hold is met by its policy's
   * deduplicationAction as it is now (the count and window the hold stored only once the policy has none).
   * Only the latest `count` occurrences are kept: no older one can matter, while the count stays. (A
   * frequency-based hold whose count is raised, or a value-based one made frequency-based, which kept
   * none, has only those it kept: it counts the occurrences from then on.) The alert's row is locked first,
   * as where holds are made, and its mark is cleared once it has none left. `now` (engine clock) says which
   * maintenances are open.
   */
  async settle(
    db: Queryable,
    alertId: string,
    now: Date,
    occurrence?: { at: Date; count: number },
  ): Promise<EndedHold[]> {
    const alert = await db
      .selectFrom('alerts')
      .select('count')
      .where('id', '=', alertId)
      .forUpdate()
      .executeTakeFirst();
    if (!alert) return [];
    const holds = await sql<{
      team_id: string;
      policy_name: string;
      count: number;
      window_ms: string | null;
      occurrences: Date[];
      action: DeduplicationAction | null;
      policy_holds: boolean;
      maintained: boolean;
      created_at: Date;
    }>`
      SELECT h.team_id, h.policy_name, h.count, h.window_ms, h.occurrences, h.created_at,
             CASE WHEN jsonb_typeof(p.notification_actions -> 'deduplicationAction') = 'object'
               THEN p.notification_actions -> 'deduplicationAction' END AS action,
             coalesce((p.enabled OR ${policySwitchedOnAt(sql.ref('p.id'), now)})
               AND jsonb_typeof(p.notification_actions -> 'deduplicationAction') = 'object', false) AS policy_holds,
             ${policyMaintainedAt(sql.ref('h.policy_id'), now)} AS maintained
      FROM alert_notification_holds h LEFT JOIN alert_policies p ON p.id = h.policy_id
      WHERE h.alert_id = ${alertId}`.execute(db);
    const ended: EndedHold[] = [];
    const alertCount = Math.max(alert.count, occurrence?.count ?? 0);
    for (const hold of holds.rows) {
      const storedWindowMs = hold.window_ms === null ? undefined : Number(hold.window_ms);
      const { count, windowMs } = hold.action
        ? { count: hold.action.count, windowMs: windowOf(hold.action) }
        : { count: hold.count, windowMs: storedWindowMs };
      const changed = count !== hold.count || windowMs !== storedWindowMs;
      const occurrences =
        windowMs === undefined
          ? []
          : (occurrence ? [...hold.occurrences, occurrence.at] : hold.occurrences)
              .sort((a, b) => a.getTime() - b.getTime())
              .slice(-count);
      const met = holdIsMet(count, windowMs, alertCount, occurrences);
      if (met || !hold.policy_holds || hold.maintained) {
        await db
          .deleteFrom('alert_notification_holds')
          .where('alert_id', '=', alertId)
          .where('team_id', '=', hold.team_id)
          .execute();
        ended.push({
          teamId: hold.team_id,
          policyName: hold.policy_name,
          why: met
            ? `the alert occurred ${alertCount} times`
            : hold.policy_holds
              ? 'a maintenance disables the policy'
              : 'the policy is deleted, disabled or no longer de-duplicates',
          heldAt: hold.created_at,
        });
      } else if (changed || (windowMs !== undefined && occurrence))
        await db
          .updateTable('alert_notification_holds')
          .set({
            count,
            window_ms: windowMs ?? null,
            occurrences: sql<Date[]>`${occurrences}::timestamptz[]`,
          })
          .where('alert_id', '=', alertId)
          .where('team_id', '=', hold.team_id)
          .execute();
    }
    if (ended.length === holds.rows.length)
      await db.updateTable('alerts').set({ notification_held: false }).where('id', '=', alertId).execute();
    return ended;
  },

  /**
   * Asks the engine to look at the holds of the policy's alerts (a `hold_released` event each, in the
   * caller's transaction): the policy was deleted, disabled, no longer de-duplicates, or de-duplicates
   * otherwise (a new count or window, which some may have met already) at `at` (a system time, as events
   * carry). Returns how many. The caller took the policy's lock exclusive ({@link policyLockName}) first: a
   * hold the engine was about to write is then here, or will not be written.
   */
  releasePolicy(db: Queryable, policyId: string, policyName: string, at: Date): Promise<number> {
    return askToRelease(
      db,
      sql`SELECT DISTINCT alert_id, org_id, ${policyName}::text AS policy_name
          FROM alert_notification_holds WHERE policy_id = ${policyId}`,
      at,
    );
  },

  /**
   * Asks the engine to look at the holds of every policy a maintenance disables at `now`, as
   * {@link releasePolicy} does for one policy switched off; `at` is `now` on the system clock, as events
   * carry it. Returns how many. Holds whose policy is gone or has no deduplicationAction are asked about
   * too: none should be left (the policy service asks when it changes the policy), but one that was would
   * otherwise wait for an occurrence that may never come.
   */
  releaseMaintained(db: Queryable, now: Date, at: Date): Promise<number> {
    return askToRelease(
      db,
      sql`SELECT DISTINCT ON (h.alert_id) h.alert_id, h.org_id, coalesce(p.name, h.policy_name) AS policy_name
          FROM alert_notification_holds h LEFT JOIN alert_policies p ON p.id = h.policy_id
          WHERE ${policyMaintainedAt(sql.ref('h.policy_id'), now)}
             OR jsonb_typeof(p.notification_actions -> 'deduplicationAction') IS DISTINCT FROM 'object'
          ORDER BY h.alert_id`,
      at,
    );
  },
};
