import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { type Queryable, NIL_UUID } from '../../db/database.js';
import type { AlertEscalationRow } from '../../db/schema.js';
import type { EscalationPlan } from '../../oncall/model.js';
import { COMPLETED, runState, type RunUpdate } from './transition.js';
import { prepared } from '../../db/prepared.js';
import type { QueueBacklog } from '../../work/runner.js';

/**
 * The SQL of the escalation engine: its runs (`alert_escalations`), the events it has handled, and what
 * it reads of other tables as it runs them.
 */

export interface NewRun {
  alertId: string;
  orgId: string;
  /** What started it (`team:<id>`, `escalate:<id>`, …): an alert runs each source once. */
  source: string;
  escalationId: string | null;
  plan: EscalationPlan;
  baseAt: Date;
  nextAt: Date;
}

/** A new run as its row, with an id of its own (the database stamps its own times when it is written). */
export function newRunRow(run: NewRun, now: Date): AlertEscalationRow {
  return {
    id: randomUUID(),
    alert_id: run.alertId,
    org_id: run.orgId,
    source: run.source,
    escalation_id: run.escalationId,
    plan: run.plan,
    state: 'active',
    pause_reason: null,
    step: 0,
    skipped_from: null,
    replay_until: null,
    base_at: run.baseAt,
    started_at: run.baseAt,
    escalated_at: null,
    next_at: run.nextAt,
    paused_at: null,
    finished_reason: null,
    created_at: now,
    updated_at: now,
  };
}

export const escalationRepository = {
  /** Marks events handled; returns those that were not yet (the others are retries). */
  async markHandled(db: Queryable, eventIds: readonly string[], now: Date): Promise<Set<string>> {
    if (eventIds.length === 0) return new Set();
    const rows = await db
      .insertInto('engine_handled_events')
      .values(eventIds.map((event_id) => ({ event_id, handled_at: now })))
      .onConflict((oc) => oc.column('event_id').doNothing())
      .returning('event_id')
      .execute();
    return new Set(rows.map((r) => r.event_id));
  },

  /** Not handled after all: the retry must find it new. */
  async unmarkHandled(db: Queryable, eventId: string): Promise<void> {
    await db.deleteFrom('engine_handled_events').where('event_id', '=', eventId).execute();
  },

  /** Old handled-event marks can go: a job is never retried weeks later. */
  async purgeHandled(db: Queryable, before: Date): Promise<number> {
    // One statement, not batches (deleteInBatches): handled_at has no index (one would cost every handled
    // event's insert, in the job loop), so each batch would scan the table again from the start.
    const result = await db
      .deleteFrom('engine_handled_events')
      .where('handled_at', '<', before)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  },

  /**
   * New runs (rows of `newRunRow`) in one statement, each as its `update` leaves it where it has one: a
   * run whose first steps ran in this transaction is written once, not made and then updated. Returns
   * the ids made (not those whose alert already ran one from that source).
   */
  async insertRunRows(
    db: Queryable,
    rows: readonly { row: AlertEscalationRow; update?: RunUpdate }[],
  ): Promise<Set<string>> {
    if (rows.length === 0) return new Set();
    const made = await db
      .insertInto('alert_escalations')
      .values(
        rows.map(({ row, update }) => ({
          id: row.id,
          alert_id: row.alert_id,
          org_id: row.org_id,
          source: row.source,
          escalation_id: row.escalation_id,
          plan: JSON.stringify(row.plan),
          ...(update
            ? runState(row, update)
            : { state: row.state, base_at: row.base_at, started_at: row.started_at, next_at: row.next_at }),
        })),
      )
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .execute();
    return new Set(made.map((r) => r.id));
  },

  /** A new active run; undefined when the alert already ran one from that source. */
  async insertRun(db: Queryable, run: NewRun): Promise<AlertEscalationRow | undefined> {
    return db
      .insertInto('alert_escalations')
      .values({
        alert_id: run.alertId,
        org_id: run.orgId,
        source: run.source,
        escalation_id: run.escalationId,
        plan: JSON.stringify(run.plan),
        state: 'active',
        base_at: run.baseAt,
        started_at: run.baseAt,
        next_at: run.nextAt,
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
  },

  async updateRun(db: Queryable, run: AlertEscalationRow, update: RunUpdate): Promise<void> {
    await db
      .updateTable('alert_escalations')
      .set({ ...runState(run, update), updated_at: new Date() })
      .where('id', '=', run.id)
      .execute();
  },

  /** updateRun for many runs, in one statement. */
  async updateRuns(
    db: Queryable,
    changes: readonly { run: AlertEscalationRow; update: RunUpdate }[],
  ): Promise<void> {
    if (changes.length === 0) return;
    if (changes.length === 1) {
      const [only] = changes;
      if (only) await escalationRepository.updateRun(db, only.run, only.update);
      return;
    }
    const rows = changes.map(({ run, update }) => ({ id: run.id, ...runState(run, update) }));
    await prepared(sql`
      UPDATE alert_escalations e
      SET state = v.state, step = v.step, base_at = v.base_at, started_at = v.started_at,
          escalated_at = v.escalated_at, next_at = v.next_at, paused_at = v.paused_at,
          pause_reason = v.pause_reason, finished_reason = v.finished_reason,
          skipped_from = v.skipped_from, replay_until = v.replay_until, updated_at = ${new Date()}
      FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS v(
        id uuid, state text, step integer, base_at timestamptz, started_at timestamptz,
        escalated_at timestamptz, next_at timestamptz, paused_at timestamptz, pause_reason text,
        finished_reason text, skipped_from integer, replay_until integer)
      WHERE e.id = v.id`).execute(db);
  },

  async postponeRun(db: Queryable, runId: string, nextAt: Date): Promise<void> {
    await db
      .updateTable('alert_escalations')
      .set({ next_at: nextAt, updated_at: new Date() })
      .where('id', '=', runId)
      .execute();
  },

  /**
   * Locks active runs due at `now` (of one alert, or of any), oldest due first. SKIP LOCKED lets any
   * number of workers claim at once, each getting runs of its own.
   */
  claimDue(db: Queryable, now: Date, limit: number, alertId?: string): Promise<AlertEscalationRow[]> {
    return db
      .selectFrom('alert_escalations')
      .selectAll()
      .where('state', '=', 'active')
      .where('next_at', '<=', now)
      .$if(alertId !== undefined, (qb) => qb.where('alert_id', '=', alertId ?? NIL_UUID))
      .orderBy('next_at')
      .limit(limit)
      .forUpdate()
      .skipLocked()
      .execute();
  },

  /**
   * Locks the runs of an alert that are not finished (and, with `completed`, those that finished having
   * run every rule), waiting for those another transaction holds.
   */
  lockUnfinished(
    db: Queryable,
    alertId: string,
    { completed = false }: { completed?: boolean } = {},
  ): Promise<AlertEscalationRow[]> {
    return db
      .selectFrom('alert_escalations')
      .selectAll()
      .where('alert_id', '=', alertId)
      .where((eb) =>
        completed
          ? eb.or([eb('state', '!=', 'finished'), eb('finished_reason', '=', COMPLETED)])
          : eb('state', '!=', 'finished'),
      )
      .orderBy('id')
      .forUpdate()
      .execute();
  },

  /**
   * When the next active run falls due after `now`, and whether runs due by `now` are still active
   * (a claim that did not get them found them held by another transaction).
   */
  async nextDue(db: Queryable, now: Date): Promise<{ after: Date | null; held: boolean }> {
    const result = await sql<{ after: Date | null; held: boolean }>`
      SELECT (SELECT next_at FROM alert_escalations WHERE state = 'active' AND next_at > ${now}
              ORDER BY next_at LIMIT 1) AS after,
             (SELECT next_at FROM alert_escalations WHERE state = 'active'
              ORDER BY next_at LIMIT 1) <= ${now} AS held`.execute(db);
    const row = result.rows[0];
    return { after: row?.after ?? null, held: row?.held ?? false };
  },

  /**
   * The active runs whose next step is due and not yet run (as claimDue takes them), for the metrics;
   * counted up to `limit`. Both read alert_escalations_due, the earliest first.
   */
  async backlog(db: Queryable, now: Date, limit: number): Promise<QueueBacklog> {
    const row = await sql<{ due: string; oldest: Date | null }>`
      SELECT
        (SELECT count(*) FROM (
          SELECT 1 FROM alert_escalations WHERE state = 'active' AND next_at <= ${now}
          LIMIT ${limit}) AS due) AS due,
        (SELECT min(next_at) FROM alert_escalations WHERE state = 'active' AND next_at <= ${now}) AS oldest`.execute(
      db,
    );
    return { due: Number(row.rows[0]?.due ?? 0), oldestDueAt: row.rows[0]?.oldest ?? null };
  },

  /** The alert's runs of these sources (`team:<id>`, ...), finished or not. */
  runsOfSources(db: Queryable, alertId: string, sources: readonly string[]) {
    return db
      .selectFrom('alert_escalations')
      .select(['source', 'state', 'plan', 'step'])
      .where('alert_id', '=', alertId)
      .where('source', 'in', sources)
      .execute();
  },

  policy(db: Queryable, escalationId: string) {
    return db
      .selectFrom('escalations')
      .select(['name', 'rules', 'repeat'])
      .where('id', '=', escalationId)
      .executeTakeFirst();
  },

  user(db: Queryable, userId: string) {
    return db
      .selectFrom('users')
      .select(['full_name', 'username'])
      .where('id', '=', userId)
      .executeTakeFirst();
  },

  schedule(db: Queryable, scheduleId: string) {
    return db.selectFrom('schedules').select('name').where('id', '=', scheduleId).executeTakeFirst();
  },
};
