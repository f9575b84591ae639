import { sql, type Insertable, type Selectable } from 'kysely';
import type { Queryable } from '../db/database.js';
import type { NotificationRepeatsTable, NotificationStopOn } from '../db/schema.js';
import type { NotificationRuleRepeat } from '../oncall/model.js';
import { inSlices } from '../db/in-slices.js';

/**
 * The SQL of `notification_repeats`: the pages a notification rule's `repeat` sends again (one row per
 * alert and person; see migration 0033). The planner starts them, the `notification-repeats` queue
 * (engine/notification-repeats.ts) makes their rounds, and the engine drops them when the alert no
 * longer wants the page.
 */

/**
 * Rounds after the first, at most. Opsgenie repeats a rule's notifications at most 10 times; without a
 * cap, a forgotten alert would page its people for ever.
 */
export const NOTIFICATION_REPEAT_LIMIT = 10;

export type NotificationRepeatRow = Selectable<NotificationRepeatsTable>;

/** A repeat due now, with what decides whether it goes on: its rule as it is now, and its person. */
export type DueRepeat = NotificationRepeatRow & {
  rule_name: string;
  rule_enabled: boolean;
  rule_repeat: NotificationRuleRepeat | null;
  user_blocked: boolean;
  /** The person's name, for the alert's log. */
  user_name: string;
};

/** The minutes between rounds of a rule that repeats, or undefined for one that does not. */
export function repeatMinutes(repeat: NotificationRuleRepeat | null | undefined): number | undefined {
  if (!repeat?.enabled || repeat.loopAfterMinutes < 1) return undefined;
  return repeat.loopAfterMinutes;
}

export const notificationRepeatsRepository = {
  /**
   * Starts repeats (one per alert and person: the last given wins). A row already there for another page
   * is taken over and starts again from this one; one for this same page (a retried planning, a second
   * worker) is left as it is.
   */
  async start(db: Queryable, rows: Insertable<NotificationRepeatsTable>[]): Promise<void> {
    const unique = [...new Map(rows.map((r) => [`${r.alert_id} ${r.user_id}`, r])).values()];
    await inSlices(unique, (slice) =>
      db
        .insertInto('notification_repeats')
        .values(slice)
        .onConflict((oc) =>
          oc
            .columns(['alert_id', 'user_id'])
            .doUpdateSet((eb) => ({
              rule_id: eb.ref('excluded.rule_id'),
              key_prefix: eb.ref('excluded.key_prefix'),
              stop_on: eb.ref('excluded.stop_on'),
              reason: eb.ref('excluded.reason'),
              why: eb.ref('excluded.why'),
              escalation_run_id: eb.ref('excluded.escalation_run_id'),
              rounds: 0,
              next_at: eb.ref('excluded.next_at'),
            }))
            .whereRef('notification_repeats.key_prefix', '<>', 'excluded.key_prefix'),
        )
        .execute(),
    );
  },

  /** Claims up to `limit` repeats due at `now` (held by the transaction), the earliest first. */
  async claimDue(db: Queryable, now: Date, limit: number): Promise<DueRepeat[]> {
    const result = await sql<DueRepeat>`
      SELECT r.*, nr.name AS rule_name, nr.enabled AS rule_enabled, nr.repeat AS rule_repeat,
             u.blocked AS user_blocked, coalesce(nullif(u.full_name, ''), u.username) AS user_name
      FROM notification_repeats r
      JOIN notification_rules nr ON nr.id = r.rule_id
      JOIN users u ON u.id = r.user_id
      WHERE r.next_at <= ${now}
      ORDER BY r.next_at
      LIMIT ${limit}
      FOR UPDATE OF r SKIP LOCKED`.execute(db);
    return result.rows;
  },

  /** Records the rounds made: each repeat's count and next time, in one statement. */
  async advance(
    db: Queryable,
    changes: readonly { alertId: string; userId: string; rounds: number; nextAt: Date }[],
  ): Promise<void> {
    if (changes.length === 0) return;
    const input = changes.map((c) => ({
      alert_id: c.alertId,
      user_id: c.userId,
      rounds: c.rounds,
      next_at: c.nextAt.toISOString(),
    }));
    await sql`
      UPDATE notification_repeats r
      SET rounds = i.rounds, next_at = i.next_at
      FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb)
        AS i(alert_id uuid, user_id uuid, rounds int, next_at timestamptz)
      WHERE r.alert_id = i.alert_id AND r.user_id = i.user_id`.execute(db);
  },

  /** Ends these repeats, in one statement. */
  async end(db: Queryable, keys: readonly { alertId: string; userId: string }[]): Promise<void> {
    if (keys.length === 0) return;
    await sql`
      DELETE FROM notification_repeats r
      USING unnest(${keys.map((k) => k.alertId)}::uuid[], ${keys.map((k) => k.userId)}::uuid[])
        AS k(alert_id, user_id)
      WHERE r.alert_id = k.alert_id AND r.user_id = k.user_id`.execute(db);
  },

  /** Ends an alert's repeats of pages that stop on one of `stopOns`; returns how many. */
  async endForAlert(db: Queryable, alertId: string, stopOns: NotificationStopOn[]): Promise<number> {
    const repeating = stopOns.filter((s) => s !== 'none');
    if (repeating.length === 0) return 0;
    const result = await db
      .deleteFrom('notification_repeats')
      .where('alert_id', '=', alertId)
      .where('stop_on', 'in', repeating)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  },

  /**
   * Ends a rule's repeats, for a rule about to be deleted (its repeats would go with it, unlogged, and the
   * queue never see why); returns the alerts they were of.
   */
  async endForRule(db: Queryable, ruleId: string): Promise<string[]> {
    const rows = await db
      .deleteFrom('notification_repeats')
      .where('rule_id', '=', ruleId)
      .returning('alert_id')
      .execute();
    return rows.map((r) => r.alert_id);
  },

  /** When the next round falls due. */
  async nextDueAt(db: Queryable): Promise<Date | null> {
    const row = await db
      .selectFrom('notification_repeats')
      .select('next_at')
      .orderBy('next_at')
      .limit(1)
      .executeTakeFirst();
    return row?.next_at ?? null;
  },
};
