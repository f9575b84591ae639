import { sql, type RawBuilder } from 'kysely';
import type { Queryable } from '../db/database.js';
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
 * does), and do not come back when it closes, as they would not once the policy is enabled again.
 */

export interface NewHold {
  alertId: string;
  teamId: string;
  orgId: string;
  policyId: string;
  policyName: string;
  count: number;
  /** Frequency-based: the window the occurrences must fall within; value-based: undefined. */
  windowMs?: number;
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
   * (`toEngineTime`: a database time on the engine's clock).
   */
  async holdUnlessMet(
    db: Queryable,
    hold: NewHold,
    toEngineTime: (systemTime: Date) => Date,
  ): Promise<'held' | 'met'> {
    const alert = await db
      .updateTable('alerts')
      .set({ notification_held: true })
      .where('id', '=', hold.alertId)
      .returning(['count', 'created_at'])
      .executeTakeFirst();
    if (!alert) return 'met';
    let occurrences: Date[] = [];
    if (hold.windowMs !== undefined) {
      occurrences = [toEngineTime(alert.created_at)];
      if (alert.count > 1) {
        const repeats = await db
          .selectFrom('alert_logs')
          .select('created_at')
          .where('alert_id', '=', hold.alertId)
          .where('type', '=', 'deduplicate')
          .orderBy('id', 'desc')
          .limit(hold.count)
          .execute();
        occurrences = [...occurrences, ...repeats.map((r) => toEngineTime(r.created_at)).reverse()].slice(
          -hold.count,
        );
      }
    }
    if (holdIsMet(hold.count, hold.windowMs, alert.count, occurrences)) return 'met';
    await db
      .insertInto('alert_notification_holds')
      .values({
        alert_id: hold.alertId,
        team_id: hold.teamId,
        org_id: hold.orgId,
        policy_id: hold.policyId,
        policy_name: hold.policyName,
        count: hold.count,
        window_ms: hold.windowMs ?? null,
        occurrences,
        created_at: hold.heldAt,
      })
      .onConflict((oc) => oc.columns(['alert_id', 'team_id']).doNothing())
      .execute();
    return 'held';
  },

  /**
   * Looks at the alert's holds, with an occurrence of the alert at `occurrence.at` (its count then
   * `occurrence.count`) or without (a policy changed), and ends those met or whose policy no longer holds
   * them: their teams are returned, for their escalations to start. Only the latest `count` occurrences are
   * kept: no older one can matter. The alert's row is locked first, as where holds are made, and its mark
   * is cleared once it has none left. `now` (engine clock) says which maintenances are open.
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
      policy_holds: boolean;
      maintained: boolean;
      created_at: Date;
    }>`
      SELECT h.team_id, h.policy_name, h.count, h.window_ms, h.occurrences, h.created_at,
             coalesce((p.enabled OR ${policySwitchedOnAt(sql.ref('p.id'), now)})
               AND jsonb_typeof(p.notification_actions -> 'deduplicationAction') = 'object', false) AS policy_holds,
             ${policyMaintainedAt(sql.ref('h.policy_id'), now)} AS maintained
      FROM alert_notification_holds h LEFT JOIN alert_policies p ON p.id = h.policy_id
      WHERE h.alert_id = ${alertId}`.execute(db);
    const ended: EndedHold[] = [];
    const alertCount = Math.max(alert.count, occurrence?.count ?? 0);
    for (const hold of holds.rows) {
      const windowMs = hold.window_ms === null ? undefined : Number(hold.window_ms);
      const occurrences =
        windowMs === undefined || !occurrence
          ? hold.occurrences
          : [...hold.occurrences, occurrence.at].sort((a, b) => a.getTime() - b.getTime()).slice(-hold.count);
      const met = holdIsMet(hold.count, windowMs, alertCount, windowMs === undefined ? [] : occurrences);
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
      } else if (windowMs !== undefined && occurrence)
        await db
          .updateTable('alert_notification_holds')
          .set({ occurrences: sql<Date[]>`${occurrences}::timestamptz[]` })
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
   * caller's transaction): the policy was deleted, disabled or no longer de-duplicates at `at` (a system
   * time, as events carry). Returns how many.
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
   * carry it. Returns how many.
   */
  releaseMaintained(db: Queryable, now: Date, at: Date): Promise<number> {
    return askToRelease(
      db,
      sql`SELECT DISTINCT ON (h.alert_id) h.alert_id, h.org_id, coalesce(p.name, h.policy_name) AS policy_name
          FROM alert_notification_holds h LEFT JOIN alert_policies p ON p.id = h.policy_id
          WHERE ${policyMaintainedAt(sql.ref('h.policy_id'), now)}
          ORDER BY h.alert_id`,
      at,
    );
  },
};
