import { sql, type Insertable } from 'kysely';
import type { Queryable } from '../db/database.js';
import { deleteInBatches } from '../db/delete-in-batches.js';
import { inSlices } from '../db/in-slices.js';
import { prepared } from '../db/prepared.js';
import type {
  NotificationRow,
  NotificationsTable,
  NotificationState,
  NotificationStopOn,
} from '../db/schema.js';
import type { QueueBacklog } from '../work/runner.js';

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
  /**
   * Its provider rate limited it (429), in a limited period that began at this instant of the clock (kept
   * if already set). Absent, the period ends: any other answer (a 503 retried, say) means the next 429
   * starts a new one, backed off from the start and given up only two hours after it. A throttle's wait
   * (its attempt refunded, no 429) keeps the period: nothing was asked of the provider, so nothing says
   * its limit is over, and pages taking turns at one address must not restart each other's.
   */
  rateLimitedSince?: Date;
}

interface ThrottledDestination {
  type: string;
  address: string;
}

interface ThrottleSend {
  method: string;
  address: string;
  at: Date;
}

function sendsByDestination(rows: readonly ThrottleSend[]): Map<string, Date[]> {
  const sent = new Map<string, Date[]>();
  for (const row of rows) {
    const key = destinationKey(row.method, row.address);
    sent.set(key, [...(sent.get(key) ?? []), row.at]);
  }
  return sent;
}

/** The FROM and WHERE of an update of `claimed` messages that are still being sent under that claim. */
function stillClaimed(claimed: readonly { id: string; attempts: number }[]) {
  return sql`FROM unnest(${claimed.map((c) => c.id)}::uuid[], ${claimed.map((c) => c.attempts)}::int[]) AS c(id, attempts)
      WHERE n.id = c.id AND n.state = 'sending' AND n.attempts = c.attempts`;
}

/**
 * Starts the `last_error` of a message put back to wait for its destination's throttle (until it goes):
 * only a message that was due can wait for it.
 */
export const THROTTLED = 'throttled:';

/** The priorities a message may have (P1..P5 as 1..5, migration 0074): the claim reads each apart. */
const NOTIFICATION_PRIORITIES = [1, 2, 3, 4, 5];

export const notificationsRepository = {
  /**
   * Claims up to `limit` due messages (and ones whose claim ran out) for `leaseUntil`, the most urgent
   * first (priority 1 before 5, then the earliest due), none of the destination types in `exceptMethods`
   * (those the caller cannot send now). By priority first: a lane sends one round at a time (email), so a
   * P1 page due now would otherwise wait behind every P5 page of a flood due before it.
   */
  async claimDue(
    db: Queryable,
    now: Date,
    leaseUntil: Date,
    limit: number,
    exceptMethods: readonly string[] = [],
  ): Promise<NotificationRow[]> {
    // Picked once (MATERIALIZED), never again per row of the table: docs/architecture.md, "Claiming a batch".
    // Pending and lapsed messages are picked apart and then merged: with an OR of the two, PostgreSQL read
    // and sorted every due message (50,000 due: some 2,500 buffers a claim); the lapsed ones are the few
    // being sent. The pending ones are read a priority at a time, each a range of
    // notifications_priority_due (migration 0074) that ends at the first message not yet due: one scan of
    // (priority, due_at) for `due_at <= now` walked, before each next priority, every later step planned
    // at that one (50,000 P1 SMS steps due in 5 minutes: 197 buffers a claim, 1,922 at 500,000, idle
    // rounds too). Each priority is a literal, not a parameter: with one, PostgreSQL planned every range
    // alike, on the due-time index filtered by priority, and a P1 page behind 50,000 due P5 emails read
    // 4,844 buffers (55 ms); with the literal, its statistics pick the priority's own range. Each takes
    // what the ones before it left of `limit`, so no more are locked than the claim keeps (a round beside
    // this one, the email lane's other, finds the rest free). A type left out is filtered in each range: a
    // round without email walks the due emails ranked ahead of what it may send.
    const result = await sql<NotificationRow>`
      WITH ${sql.join(
        NOTIFICATION_PRIORITIES.map(
          (priority, n) => sql`${sql.id(`p${priority}`)} AS MATERIALIZED (
            SELECT id, priority, due_at FROM notifications
            WHERE state = 'pending' AND priority = ${sql.lit(priority)} AND due_at <= ${now}
              AND method <> ALL(${exceptMethods}::text[])
            ORDER BY due_at
            LIMIT ${
              n === 0
                ? sql`${limit}`
                : sql`greatest(0, ${limit} - (SELECT count(*) FROM (${sql.join(
                    NOTIFICATION_PRIORITIES.slice(0, n).map(
                      (earlier) => sql`SELECT 1 FROM ${sql.id(`p${earlier}`)}`,
                    ),
                    sql` UNION ALL `,
                  )}) AS earlier))`
            }
            FOR UPDATE SKIP LOCKED
          )`,
        ),
      )}, pending AS MATERIALIZED (
        ${sql.join(
          NOTIFICATION_PRIORITIES.map((priority) => sql`SELECT * FROM ${sql.id(`p${priority}`)}`),
          sql` UNION ALL `,
        )}
      ), lapsed AS MATERIALIZED (
        SELECT id, priority, due_at FROM notifications
        WHERE state = 'sending' AND lease_until < ${now} AND method <> ALL(${exceptMethods}::text[])
        ORDER BY priority, due_at
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      ), claimed AS MATERIALIZED (
        SELECT id FROM (SELECT * FROM pending UNION ALL SELECT * FROM lapsed) AS due
        ORDER BY priority, due_at
        LIMIT ${limit}
      )
      UPDATE notifications n
      SET state = 'sending', lease_until = ${leaseUntil}, attempts = n.attempts + 1, updated_at = ${now}
      FROM claimed WHERE n.id = claimed.id
      RETURNING n.*`.execute(db);
    // RETURNING keeps no order: the most urgent first, which a throttle lets go first.
    return result.rows.sort((a, b) => a.priority - b.priority || a.due_at.getTime() - b.due_at.getTime());
  },

  /**
   * Records outcomes in one statement; returns the ids whose claim was still current (the rest were taken
   * over). A message its throttle let through (`letThrough`) counts from then on as sent at its `sent_at`,
   * in `throttle_sends`, whatever becomes of the message; one not sent no longer counts, nor one not sent
   * whose message was deleted before it was recorded (its alert deleted while the round prepared it).
   */
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
      rate_limited_since: o.rateLimitedSince?.toISOString() ?? null,
    }));
    const updated = await prepared(sql<{ id: string }>`
      WITH input AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS r(
          id uuid, attempts int, state text, due_at timestamptz, provider_id text,
          sent_at timestamptz, last_error text, refund boolean, rate_limited_since timestamptz)
      ), recorded AS (
        UPDATE notifications n
        SET state = i.state, lease_until = NULL, updated_at = ${now},
            attempts = n.attempts - CASE WHEN i.refund THEN 1 ELSE 0 END,
            due_at = coalesce(i.due_at, n.due_at), provider_id = coalesce(i.provider_id, n.provider_id),
            sent_at = coalesce(i.sent_at, n.sent_at), last_error = i.last_error, let_through_at = NULL,
            rate_limited_since = CASE
              WHEN i.rate_limited_since IS NOT NULL THEN coalesce(n.rate_limited_since, i.rate_limited_since)
              WHEN i.refund THEN n.rate_limited_since
              ELSE NULL END
        FROM input i
        WHERE n.id = i.id AND n.state = 'sending' AND n.attempts = i.attempts
        RETURNING n.id, n.state, n.sent_at
      ), sends AS (
        UPDATE throttle_sends t SET sent = true, at = coalesce(r.sent_at, t.at)
        FROM recorded r WHERE t.notification_id = r.id AND r.state = 'sent' AND NOT t.sent
      ), unsent AS (
        DELETE FROM throttle_sends t
        USING recorded r WHERE t.notification_id = r.id AND r.state <> 'sent' AND NOT t.sent
      ), orphaned AS (
        -- A message gone with its alert (or person) after its round let it through records on no row:
        -- its mark would count a send never made. Not the mark of a message still there: a round that
        -- took it over marked it again.
        DELETE FROM throttle_sends t
        USING input i WHERE t.notification_id = i.id AND i.state <> 'sent' AND NOT t.sent
          AND NOT EXISTS (SELECT 1 FROM notifications n WHERE n.id = t.notification_id)
      )
      SELECT id FROM recorded`).execute(db);
    return new Set(updated.rows.map((r) => r.id));
  },

  /**
   * Cancels, with `why`, the copies of the pages `sentIds` (recorded as sent): the pending pages about the
   * same alert to the same destination (type, address and person or named destination) that are due by
   * `now`, being retried (an attempt made, or rate limited) or waiting for their destination's throttle
   * (put back, due when it lets them through: they were due). Each repeat round plans pages of its own,
   * and those a provider outage held back come due together: without this, one person gets a burst of
   * the same page. Pages due later untried (a repeat's next round) are left to come. Rows another round
   * holds are skipped (it is sending them). Returns those cancelled, with their recipient's name.
   */
  async cancelCopiesOfSentPages(
    db: Queryable,
    sentIds: readonly string[],
    now: Date,
    why: string,
  ): Promise<{ id: string; alert_id: string; method: string; recipient: string | null }[]> {
    if (sentIds.length === 0) return [];
    const rows = await sql<{ id: string; alert_id: string; method: string; recipient: string | null }>`
      WITH copies AS MATERIALIZED (
        -- A copy of two pages sent together (a bundle) joins twice: UPDATE ... FROM changes it once.
        SELECT n.id, coalesce(nullif(u.full_name, ''), u.username, n.destination_name) AS recipient
        FROM notifications s
        JOIN notifications n ON n.alert_id = s.alert_id AND n.method = s.method AND n.address = s.address
          AND n.user_id IS NOT DISTINCT FROM s.user_id
          AND n.destination_name IS NOT DISTINCT FROM s.destination_name
        LEFT JOIN users u ON u.id = n.user_id
        WHERE s.id = ANY(${sentIds}::uuid[]) AND s.state = 'sent' AND s.kind = 'create-alert'
          AND n.kind = 'create-alert' AND n.state = 'pending' AND n.id <> s.id
          AND (n.due_at <= ${now} OR n.attempts > 0 OR n.rate_limited_since IS NOT NULL
               OR starts_with(n.last_error, ${THROTTLED}))
        FOR UPDATE OF n SKIP LOCKED
      )
      UPDATE notifications n
      SET state = 'cancelled', last_error = ${why}, lease_until = NULL, let_through_at = NULL,
          updated_at = ${now}
      FROM copies c
      WHERE n.id = c.id
      RETURNING n.id, n.alert_id, n.method, c.recipient`.execute(db);
    return rows.rows;
  },

  /**
   * Extends the claim on messages still being sent under it (the same attempt), so that a round waiting
   * on a slow channel keeps what it is sending: another round would take them again once the lease ran
   * out, and send them a second time.
   */
  async extendLeases(
    db: Queryable,
    claimed: readonly { id: string; attempts: number }[],
    leaseUntil: Date,
  ): Promise<void> {
    if (claimed.length === 0) return;
    await sql`
      UPDATE notifications n SET lease_until = ${leaseUntil}
      ${stillClaimed(claimed)}`.execute(db);
  },

  /**
   * Gives claimed messages back, unsent and due again at once, their attempt refunded: a round that
   * failed before sending anything must not hold them until its lease runs out. What their throttle let
   * through no longer counts.
   */
  async release(
    db: Queryable,
    claimed: readonly { id: string; attempts: number }[],
    now: Date,
  ): Promise<void> {
    if (claimed.length === 0) return;
    await sql`
      WITH released AS (
        UPDATE notifications n
        SET state = 'pending', lease_until = NULL, attempts = n.attempts - 1, let_through_at = NULL,
            updated_at = ${now}
        ${stillClaimed(claimed)}
        RETURNING n.id
      )
      DELETE FROM throttle_sends t USING released r WHERE t.notification_id = r.id AND NOT t.sent`.execute(
      db,
    );
  },

  /** What is due and unclaimed (or whose claim ran out), for the metrics; counted up to `limit`. */
  async backlog(db: Queryable, now: Date, limit: number): Promise<QueueBacklog> {
    const row = await sql<{ due: string; oldest: Date | null }>`
      SELECT
        (SELECT count(*) FROM (
          SELECT 1 FROM notifications
          WHERE (state = 'pending' AND due_at <= ${now}) OR (state = 'sending' AND lease_until < ${now})
          LIMIT ${limit}) AS due) AS due,
        least(
          (SELECT min(due_at) FROM notifications WHERE state = 'pending' AND due_at <= ${now}),
          (SELECT min(lease_until) FROM notifications WHERE state = 'sending' AND lease_until < ${now})
        ) AS oldest`.execute(db);
    return { due: Number(row.rows[0]?.due ?? 0), oldestDueAt: row.rows[0]?.oldest ?? null };
  },

  /**
   * When the next message falls due, or a claimed one's lease runs out: of every destination type, or
   * only of those in `methods` (the types a round that leaves some out may claim, as `claimDue` does).
   */
  async nextDueAt(db: Queryable, methods?: readonly string[]): Promise<Date | null> {
    if (!methods) {
      const row = await sql<{ at: Date | null }>`
        SELECT least(
          (SELECT min(due_at) FROM notifications WHERE state = 'pending'),
          (SELECT min(lease_until) FROM notifications WHERE state = 'sending')) AS at`.execute(db);
      return row.rows[0]?.at ?? null;
    }
    // One lookup per type in notifications_method_due (migration 0070): a filter on the due-time index
    // instead walked every pending message of the types left out (20,000 pending emails: 10,000 buffers
    // read per call, each idle round). Claimed messages are few: their lease index is filtered.
    const row = await sql<{ at: Date | null }>`
      SELECT least(
        (SELECT min(next.due_at)
         FROM unnest(${methods}::text[]) AS kept(method)
         CROSS JOIN LATERAL (
           SELECT due_at FROM notifications
           WHERE state = 'pending' AND method = kept.method
           ORDER BY due_at
           LIMIT 1) AS next),
        (SELECT min(lease_until) FROM notifications
         WHERE state = 'sending' AND method = ANY(${methods}::text[]))) AS at`.execute(db);
    return row.rows[0]?.at ?? null;
  },

  /**
   * The sends that count against these destinations' throttles since `since`, by "type address": those
   * recorded as sent, and those let through that are being sent now (but not `exceptIds`, the caller's
   * own, which it decides on again), from `throttle_sends` (migration 0084: they count whatever became
   * of their messages since). Messages that went as one (a bundle: the same instant, the same person) are
   * one send. Read without a lock: what a round decides from it is checked by `letThrough`.
   */
  async sendsSince(
    db: Queryable,
    destinations: readonly ThrottledDestination[],
    since: Date,
    exceptIds: readonly string[],
  ): Promise<Map<string, Date[]>> {
    if (destinations.length === 0) return new Map();
    const rows = await sql<ThrottleSend>`
      SELECT * FROM vigil_throttle_sends(${destinations.map((d) => d.type)}::text[],
        ${destinations.map((d) => d.address)}::text[], ${since}, ${exceptIds}::uuid[])`.execute(db);
    return sendsByDestination(rows.rows);
  },

  /**
   * Marks `markIds` as let through at `at` (in `throttle_sends`), under a lock per destination held until
   * the mark commits (one statement: migrations 0042 and 0084), and returns the sends that counted just
   * before the marks, as `sendsSince` does, read once the locks were granted: the caller sends only what
   * those still allow.
   */
  async letThrough(
    db: Queryable,
    destinations: readonly ThrottledDestination[],
    since: Date,
    exceptIds: readonly string[],
    markIds: readonly string[],
    at: Date,
  ): Promise<Map<string, Date[]>> {
    const rows = await sql<ThrottleSend>`
      SELECT * FROM vigil_throttle_let_through_apart(
        ${destinations.map((d) => `vigil:throttle:${destinationKey(d.type, d.address)}`)}::text[],
        ${destinations.map((d) => d.type)}::text[], ${destinations.map((d) => d.address)}::text[],
        ${since}, ${exceptIds}::uuid[], ${markIds}::uuid[], ${at})`.execute(db);
    return sendsByDestination(rows.rows);
  },

  /** Takes back the marks of messages a round let through and then held back after all. */
  async clearLetThrough(db: Queryable, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await db
      .deleteFrom('throttle_sends')
      .where('notification_id', 'in', ids)
      .where('sent', '=', false)
      .execute();
  },

  /**
   * Deletes the sends the throttles counted at or before `before` (the longest window ago: none counts any
   * more), and marks left that old by a round that never recorded; returns how many.
   */
  async purgeThrottleSends(db: Queryable, before: Date): Promise<number> {
    return deleteInBatches(db, 'throttle_sends', sql`at <= ${before}::timestamptz`);
  },

  /**
   * For each check, the contact methods that pages about its alert to its people, still wanted, were due
   * at between `from` (exclusive) and `to`, leaving out those of the escalation `exceptRunId`: many
   * checks in one statement, the sets in the order of the checks.
   */
  async contactsPagedBetweenMany(
    db: Queryable,
    checks: readonly {
      alertId: string;
      userIds: string[];
      from: Date;
      to: Date;
      stopOns: NotificationStopOn[];
      exceptRunId?: string;
    }[],
  ): Promise<Set<string>[]> {
    const found = checks.map(() => new Set<string>());
    if (checks.length === 0) return found;
    const input = checks.map((c, i) => ({
      i,
      alert_id: c.alertId,
      user_ids: c.userIds,
      from_at: c.from.toISOString(),
      to_at: c.to.toISOString(),
      stop_ons: c.stopOns,
      except_run_id: c.exceptRunId ?? null,
    }));
    const rows = await sql<{ i: number; contact_method_id: string }>`
      SELECT c.i, n.contact_method_id
      FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS c(
        i int, alert_id uuid, user_ids uuid[], from_at timestamptz, to_at timestamptz, stop_ons text[],
        except_run_id uuid)
      JOIN notifications n ON n.alert_id = c.alert_id
      WHERE n.user_id = ANY(c.user_ids) AND n.kind = 'create-alert'
        AND n.state IN ('pending', 'sending', 'sent') AND n.stop_on = ANY(c.stop_ons)
        AND n.due_at > c.from_at AND n.due_at <= c.to_at AND n.contact_method_id IS NOT NULL
        AND (c.except_run_id IS NULL OR n.escalation_run_id IS NULL
             OR n.escalation_run_id <> c.except_run_id)`.execute(db);
    for (const row of rows.rows) found[row.i]?.add(row.contact_method_id);
    return found;
  },

  /**
   * Adds planned messages; one whose idempotency key is taken (in the table or earlier in `rows`) is
   * skipped. Returns the ones added. Any number of rows: a page to a team of thousands is one call.
   */
  async insertPlanned(
    db: Queryable,
    rows: Insertable<NotificationsTable>[],
  ): Promise<{ idempotency_key: string; due_at: Date }[]> {
    return inSlices(rows, (slice) =>
      db
        .insertInto('notifications')
        .values(slice)
        .onConflict((oc) => oc.column('idempotency_key').doNothing())
        .returning(['idempotency_key', 'due_at'])
        .execute(),
    );
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
      // A page still being recorded counts: its message has left (the email may be read already) before
      // its outcome is written, and a note or an acknowledgement right after must still reach that person.
      .where('state', 'in', ['sent', 'sending'])
      .execute();
    // A destination that is not a person has no user id, and no one to tell.
    return rows.flatMap((r) => (r.user_id === null ? [] : [r.user_id]));
  },

  /**
   * Each person a page about the alert reached: when first and last, and by which destination type the
   * last time (the Get Recipients endpoint), in the order they were first reached.
   */
  async pagedPeople(
    db: Queryable,
    alertId: string,
  ): Promise<
    { user_id: string; username: string; full_name: string; method: string; first_at: Date; last_at: Date }[]
  > {
    const result = await sql<{
      user_id: string;
      username: string;
      full_name: string;
      method: string;
      first_at: Date;
      last_at: Date;
    }>`
      SELECT n.user_id, u.username, u.full_name,
             (array_agg(n.method ORDER BY n.sent_at DESC))[1] AS method,
             min(n.sent_at) AS first_at, max(n.sent_at) AS last_at
      FROM notifications n
      JOIN users u ON u.id = n.user_id
      WHERE n.alert_id = ${alertId} AND n.kind = 'create-alert' AND n.state = 'sent'
      GROUP BY n.user_id, u.username, u.full_name
      ORDER BY min(n.sent_at), u.username`.execute(db);
    return result.rows;
  },
};

export function destinationKey(type: string, address: string): string {
  return `${type} ${address}`;
}
