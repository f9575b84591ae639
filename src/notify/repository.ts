import { sql, type Insertable } from 'kysely';
import type { Queryable } from '../db/database.js';
import type {
  NotificationRow,
  NotificationsTable,
  NotificationState,
  NotificationStopOn,
} from '../db/schema.js';

/** The SQL of the `notifications` table: planned messages, their sending and what became of them. */

export interface NotificationOutcome {
  id: string;
  /** The attempt this claim made: an outcome only lands while the row is still this claim's. */
  attempts: number;
  state: Extract<NotificationState, 'sent' | 'failed' | 'cancelled' | 'pending'>;
  dueAt?: Date;
  providerId?: string;
  sentAt?: Date;
  error?: string;
  /** The claim did not count as an attempt (the message waited for its destination's throttle). */
  refundAttempt?: boolean;
}

export const notificationsRepository = {
  /** Claims up to `limit` due messages (and ones whose claim ran out) for `leaseUntil`, oldest due first. */
  async claimDue(db: Queryable, now: Date, leaseUntil: Date, limit: number): Promise<NotificationRow[]> {
    const result = await sql<NotificationRow>`
      UPDATE notifications n
      SET state = 'sending', lease_until = ${leaseUntil}, attempts = n.attempts + 1, updated_at = ${now}
      WHERE n.id IN (
        SELECT id FROM notifications
        WHERE (state = 'pending' AND due_at <= ${now}) OR (state = 'sending' AND lease_until < ${now})
        ORDER BY due_at
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      )
      RETURNING n.*`.execute(db);
    return result.rows;
  },

  /** Records outcomes in one statement; returns the ids whose claim was still current (the rest were taken over). */
  async recordOutcomes(
    db: Queryable,
    outcomes: readonly NotificationOutcome[],
    now: Date,
  ): Promise<Set<string>> {
    if (outcomes.length === 0) return new Set();
    const input = outcomes.map((o) => ({
      id: o.id,
      attempts: o.attempts,
      state: o.state,
      due_at: o.dueAt?.toISOString() ?? null,
      provider_id: o.providerId ?? null,
      sent_at: o.sentAt?.toISOString() ?? null,
      last_error: o.error ?? null,
      refund: o.refundAttempt ?? false,
    }));
    const updated = await sql<{ id: string }>`
      WITH input AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS r(
          id uuid, attempts int, state text, due_at timestamptz, provider_id text,
          sent_at timestamptz, last_error text, refund boolean)
      )
      UPDATE notifications n
      SET state = i.state, lease_until = NULL, updated_at = ${now},
          attempts = n.attempts - CASE WHEN i.refund THEN 1 ELSE 0 END,
          due_at = coalesce(i.due_at, n.due_at), provider_id = coalesce(i.provider_id, n.provider_id),
          sent_at = coalesce(i.sent_at, n.sent_at), last_error = i.last_error
      FROM input i
      WHERE n.id = i.id AND n.state = 'sending' AND n.attempts = i.attempts
      RETURNING n.id`.execute(db);
    return new Set(updated.rows.map((r) => r.id));
  },

  /** When the next message falls due, or a claimed one's lease runs out. */
  async nextDueAt(db: Queryable): Promise<Date | null> {
    const row = await sql<{ at: Date | null }>`
      SELECT least(
        (SELECT min(due_at) FROM notifications WHERE state = 'pending'),
        (SELECT min(lease_until) FROM notifications WHERE state = 'sending')) AS at`.execute(db);
    return row.rows[0]?.at ?? null;
  },

  /** When messages went to each of these addresses since `since`, by "type address". */
  async sentSince(
    db: Queryable,
    destinations: readonly { type: string; address: string }[],
    since: Date,
  ): Promise<Map<string, Date[]>> {
    const sent = new Map<string, Date[]>();
    if (destinations.length === 0) return sent;
    const rows = await sql<{ method: string; address: string; sent_at: Date }>`
      SELECT n.method, n.address, n.sent_at
      FROM notifications n
      JOIN unnest(${destinations.map((d) => d.type)}::text[], ${destinations.map((d) => d.address)}::text[])
        AS d(method, address) ON n.method = d.method AND n.address = d.address
      WHERE n.state = 'sent' AND n.sent_at > ${since}`.execute(db);
    for (const row of rows.rows) {
      const key = destinationKey(row.method, row.address);
      sent.set(key, [...(sent.get(key) ?? []), row.sent_at]);
    }
    return sent;
  },

  /**
   * The contact methods that pages about the alert to these people, still wanted, were due at between
   * `from` (exclusive) and `to`, leaving out those of the escalation `exceptRunId`.
   */
  async contactsPagedBetween(
    db: Queryable,
    input: {
      alertId: string;
      userIds: string[];
      from: Date;
      to: Date;
      stopOns: NotificationStopOn[];
      exceptRunId?: string;
    },
  ): Promise<Set<string>> {
    const rows = await db
      .selectFrom('notifications')
      .select('contact_method_id')
      .where('alert_id', '=', input.alertId)
      .where('user_id', 'in', input.userIds)
      .where('kind', '=', 'create-alert')
      .where('state', 'in', ['pending', 'sending', 'sent'])
      .where('stop_on', 'in', input.stopOns)
      .where('due_at', '>', input.from)
      .where('due_at', '<=', input.to)
      .$if(input.exceptRunId !== undefined, (qb) =>
        qb.where((eb) =>
          eb.or([
            eb('escalation_run_id', 'is', null),
            eb('escalation_run_id', '!=', input.exceptRunId ?? ''),
          ]),
        ),
      )
      .execute();
    return new Set(rows.flatMap((r) => (r.contact_method_id ? [r.contact_method_id] : [])));
  },

  /** Adds planned messages; one whose idempotency key is taken is skipped. Returns the ones added. */
  async insertPlanned(db: Queryable, rows: Insertable<NotificationsTable>[]): Promise<{ due_at: Date }[]> {
    if (rows.length === 0) return [];
    return db
      .insertInto('notifications')
      .values(rows)
      .onConflict((oc) => oc.column('idempotency_key').doNothing())
      .returning(['due_at'])
      .execute();
  },

  /** Cancels an alert's pending messages that stop on one of `stopOns`; returns how many. */
  async cancelPendingNotifications(
    db: Queryable,
    alertId: string,
    stopOns: NotificationStopOn[],
    why: string,
  ): Promise<number> {
    const cancelled = await db
      .updateTable('notifications')
      .set({ state: 'cancelled', last_error: why, updated_at: new Date() })
      .where('alert_id', '=', alertId)
      .where('state', '=', 'pending')
      .where('stop_on', 'in', stopOns)
      .executeTakeFirst();
    return Number(cancelled.numUpdatedRows);
  },

  /** The people a page about the alert reached. */
  async pagedUserIds(db: Queryable, alertId: string): Promise<string[]> {
    const rows = await db
      .selectFrom('notifications')
      .select('user_id')
      .distinct()
      .where('alert_id', '=', alertId)
      .where('kind', '=', 'create-alert')
      .where('state', '=', 'sent')
      .execute();
    // A destination that is not a person has no user id, and no one to tell.
    return rows.flatMap((r) => (r.user_id === null ? [] : [r.user_id]));
  },
};

export function destinationKey(type: string, address: string): string {
  return `${type} ${address}`;
}
