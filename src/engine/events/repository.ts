import { sql } from 'kysely';
import type { Db, Queryable } from '../../db/database.js';
import { deleteInBatches } from '../../db/delete-in-batches.js';
import type { AlertEvent } from '../../alerts/events.js';
import { prepared } from '../../db/prepared.js';
import type { EnabledInOrganization } from '../consumers.js';
import type { QueueBacklog } from '../../work/runner.js';

/**
 * The SQL of alert events on their way to their consumers: the outbox (written in each change's own
 * transaction) fans out into one delivery per consumer that takes the event's type, and each consumer
 * claims its deliveries in batches with a lease.
 */

export interface EventDeliveryRow {
  id: string;
  seq: string;
  event: AlertEvent;
  attempts: number;
}

export interface ConsumerTypes {
  name: string;
  /** The event types it takes, or null for every type. */
  types: readonly string[] | null;
  /** Only the events of organizations with an enabled row in this table, or null for all. */
  onlyWhereEnabled: EnabledInOrganization | null;
}

export const eventDeliveriesRepository = {
  /**
   * Moves up to `limit` events from the outbox into their consumers' deliveries, in one transaction and
   * one statement: an event leaves the outbox exactly when its deliveries exist. Events no consumer takes
   * just leave. Returns how many events left and which consumers got some.
   *
   * A consumer of team destinations gets no deliveries for an organization without an enabled one: it
   * would find nothing to do for them, and those deliveries (written, claimed, handled and deleted) cost
   * about a sixth of an alert create's whole cost.
   */
  async fanOut(
    db: Db,
    consumers: readonly ConsumerTypes[],
    now: Date,
    limit: number,
  ): Promise<{ moved: number; consumers: string[] }> {
    return db.transaction().execute(async (tx) => {
      const result = await prepared(sql<{ moved: number; consumers: string[] | null }>`
        -- Picked once (MATERIALIZED): see claim below.
        WITH taken AS MATERIALIZED (
          SELECT id FROM outbox_jobs ORDER BY id LIMIT ${limit} FOR UPDATE SKIP LOCKED
        ),
        batch AS (
          DELETE FROM outbox_jobs o USING taken WHERE o.id = taken.id
          RETURNING o.id, o.task, o.payload
        ),
        consumer AS (
          SELECT * FROM unnest(${consumers.map((c) => c.name)}::text[], ${consumers.map((c) => (c.types ? JSON.stringify(c.types) : null))}::jsonb[],
                               ${consumers.map((c) => c.onlyWhereEnabled)}::text[])
            AS c(name, types, only_where_enabled)
        ),
        delivered AS (
          INSERT INTO event_deliveries (consumer, seq, event, due_at)
          SELECT consumer.name, batch.id, batch.payload || jsonb_build_object('seq', batch.id), ${now}
          FROM batch CROSS JOIN consumer
          WHERE batch.task = 'alert-event'
            AND (consumer.types IS NULL OR consumer.types ? (batch.payload->>'type'))
            AND (consumer.only_where_enabled IS NULL
                 OR (consumer.only_where_enabled = 'team_destinations'
                     -- Compared as text, read once into a hash: an event's orgId is never cast.
                     AND batch.payload->>'orgId' IN (SELECT org_id::text FROM team_destinations WHERE enabled)))
          ORDER BY batch.id
          RETURNING consumer
        )
        SELECT (SELECT count(*) FROM batch)::int AS moved,
               (SELECT array_agg(DISTINCT consumer) FROM delivered) AS consumers`).execute(tx);
      const row = result.rows[0];
      return { moved: row?.moved ?? 0, consumers: row?.consumers ?? [] };
    });
  },

  /**
   * Claims a consumer's due deliveries, oldest change first, for `leaseMs`. The rows are picked once, in a
   * MATERIALIZED CTE: written as `id IN (subquery)`, a plan made while the table looked empty ran the
   * locking subquery again for every row of the table (docs/architecture.md, "Claiming a batch").
   */
  async claim(
    db: Queryable,
    consumer: string,
    now: Date,
    limit: number,
    leaseMs: number,
  ): Promise<EventDeliveryRow[]> {
    const result = await prepared(sql<EventDeliveryRow>`
      WITH claimed AS MATERIALIZED (
        SELECT id FROM event_deliveries
        WHERE consumer = ${consumer} AND dead_at IS NULL AND due_at <= ${now}
          AND (lease_until IS NULL OR lease_until <= ${now})
        ORDER BY seq
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      )
      UPDATE event_deliveries d
      SET lease_until = ${new Date(now.getTime() + leaseMs)}, attempts = d.attempts + 1
      FROM claimed WHERE d.id = claimed.id
      RETURNING d.id, d.seq, d.event, d.attempts`).execute(db);
    return result.rows.sort((a, b) => Number(a.seq) - Number(b.seq));
  },

  /** Deliveries their consumer handled: gone. */
  async done(db: Queryable, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await db
      .deleteFrom('event_deliveries')
      .where('id', 'in', ids as string[])
      .execute();
  },

  async retryLater(db: Queryable, id: string, dueAt: Date, error: string): Promise<void> {
    await db
      .updateTable('event_deliveries')
      .set({ due_at: dueAt, lease_until: null, last_error: error })
      .where('id', '=', id)
      .execute();
  },

  /**
   * A delivery that failed too often: kept, with its error, for an operator to see and replay. True when
   * this call made it dead: two processes may both give up on one delivery whose lease ran out meanwhile,
   * and only the first says so.
   */
  async giveUp(db: Queryable, id: string, now: Date, error: string): Promise<boolean> {
    const row = await db
      .updateTable('event_deliveries')
      .set({ dead_at: now, lease_until: null, last_error: error })
      .where('id', '=', id)
      .where('dead_at', 'is', null)
      .returning('id')
      .executeTakeFirst();
    return row !== undefined;
  },

  /** When the consumer's next delivery falls due (or its lease runs out), if any waits. */
  async nextDue(db: Queryable, consumer: string): Promise<Date | null> {
    const row = await sql<{ at: Date | null }>`
      SELECT min(greatest(due_at, coalesce(lease_until, due_at))) AS at
      FROM event_deliveries WHERE consumer = ${consumer} AND dead_at IS NULL`.execute(db);
    return row.rows[0]?.at ?? null;
  },

  /**
   * The outbox's events, all waiting for the fan-out (which takes any, with no due time), for the
   * metrics; counted up to `limit`. The oldest is the first by id (the fan-out's order, the primary
   * key's): created_at has no index.
   */
  async outboxBacklog(db: Queryable, limit: number): Promise<QueueBacklog> {
    const row = await sql<{ due: string; oldest: Date | null }>`
      SELECT
        (SELECT count(*) FROM (SELECT 1 FROM outbox_jobs LIMIT ${limit}) AS due) AS due,
        (SELECT created_at FROM outbox_jobs ORDER BY id LIMIT 1) AS oldest`.execute(db);
    return { due: Number(row.rows[0]?.due ?? 0), oldestDueAt: row.rows[0]?.oldest ?? null };
  },

  /**
   * A consumer's deliveries that its claim would take at `now` (due, not dead, their lease, if any, run
   * out), for the metrics; counted up to `limit`. One walk of event_deliveries_due from its earliest
   * end. A delivery waits from when it fell due, or from when its lease ran out; every one past the
   * first `limit` waits from no earlier than their due_at, so the oldest read from the same walk is
   * right unless all of those were leased (a lease holds one batch).
   */
  async backlog(db: Queryable, consumer: string, now: Date, limit: number): Promise<QueueBacklog> {
    const row = await sql<{ due: string; oldest: Date | null }>`
      SELECT count(*) AS due, min(greatest(due_at, coalesce(lease_until, due_at))) AS oldest
      FROM (
        SELECT due_at, lease_until FROM event_deliveries
        WHERE consumer = ${consumer} AND dead_at IS NULL AND due_at <= ${now}
          AND (lease_until IS NULL OR lease_until <= ${now})
        ORDER BY due_at
        LIMIT ${limit}) AS due`.execute(db);
    return { due: Number(row.rows[0]?.due ?? 0), oldestDueAt: row.rows[0]?.oldest ?? null };
  },

  /** True while changes are still on their way to this consumer (in the outbox, or due to it). */
  async inFlight(db: Queryable, consumer: string, now: Date): Promise<boolean> {
    const row = await sql<{ busy: boolean }>`
      SELECT EXISTS (SELECT 1 FROM outbox_jobs WHERE task = 'alert-event')
          OR EXISTS (SELECT 1 FROM event_deliveries
                     WHERE consumer = ${consumer} AND dead_at IS NULL AND due_at <= ${now}) AS busy`.execute(
      db,
    );
    return row.rows[0]?.busy ?? false;
  },

  async purgeDead(db: Queryable, olderThan: Date): Promise<number> {
    return deleteInBatches(db, 'event_deliveries', sql`dead_at < ${olderThan}::timestamptz`);
  },
};
