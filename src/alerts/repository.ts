import { sql, type RawBuilder } from 'kysely';
import type { Queryable } from '../db/database.js';
import type { AlertRow, AlertUpdate, NewAlert } from '../db/schema.js';

/** The SQL for alerts, their notes, activity log and request outcomes. */

export type IdentifierType = 'id' | 'tiny' | 'alias';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export const SORT_COLUMNS = {
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  tinyId: 'tiny_id',
  alias: 'alias',
  message: 'message',
  status: 'status',
  acknowledged: 'acknowledged',
  isSeen: 'is_seen',
  snoozed: 'snoozed',
  snoozedUntil: 'snoozed_until',
  count: 'count',
  lastOccurredAt: 'last_occurred_at',
  source: 'source',
  owner: 'owner',
  priority: 'priority',
} as const;
export type SortField = keyof typeof SORT_COLUMNS;

export const alertsRepository = {
  /**
   * Inserts an alert, or, when an open alert of that alias exists, counts one more occurrence of it.
   * The partial unique index makes this race-free: concurrent creates of one alias make one alert.
   */
  async insertOrDeduplicate(
    db: Queryable,
    row: NewAlert & { id: string },
  ): Promise<{ alert: AlertRow; inserted: boolean }> {
    const result = await db
      .insertInto('alerts')
      .values(row)
      .onConflict((oc) =>
        oc
          .columns(['org_id', 'alias'])
          .where('status', '=', 'open')
          .doUpdateSet({
            count: sql`alerts.count + 1`,
            last_occurred_at: sql`now()`,
            updated_at: sql`now()`,
          }),
      )
      .returningAll()
      .returning(sql<boolean>`(xmax = 0)`.as('inserted'))
      .executeTakeFirstOrThrow();
    const { inserted, ...alert } = result;
    return { alert, inserted };
  },

  /** Finds an alert by id, tiny id or alias (the open one first, else the latest), locking it when asked. */
  async find(
    db: Queryable,
    orgId: string,
    identifier: string,
    type: IdentifierType,
    forUpdate = false,
  ): Promise<AlertRow | undefined> {
    let query = db.selectFrom('alerts').selectAll().where('org_id', '=', orgId);
    if (type === 'id') {
      if (!UUID.test(identifier)) return undefined;
      query = query.where('id', '=', identifier);
    } else if (type === 'tiny') {
      if (!/^\d{1,18}$/.test(identifier)) return undefined;
      query = query.where('tiny_id', '=', identifier as never);
    } else {
      query = query
        .where('alias', '=', identifier)
        .orderBy(sql`status = 'open'`, 'desc')
        .orderBy('created_at', 'desc')
        .limit(1);
    }
    if (forUpdate) query = query.forUpdate();
    return query.executeTakeFirst();
  },

  async update(db: Queryable, id: string, changes: AlertUpdate): Promise<AlertRow> {
    return db
      .updateTable('alerts')
      .set({ ...changes, updated_at: new Date() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  async delete(db: Queryable, id: string): Promise<void> {
    await db.deleteFrom('alerts').where('id', '=', id).execute();
  },

  async list(
    db: Queryable,
    orgId: string,
    where: RawBuilder<boolean> | undefined,
    page: { offset: number; limit: number; sort: SortField; order: 'asc' | 'desc' },
  ): Promise<AlertRow[]> {
    let query = db.selectFrom('alerts').selectAll().where('org_id', '=', orgId);
    if (where) query = query.where(where);
    return query
      .orderBy(SORT_COLUMNS[page.sort], page.order)
      .orderBy('tiny_id', page.order)
      .offset(page.offset)
      .limit(page.limit)
      .execute();
  },

  async count(db: Queryable, orgId: string, where: RawBuilder<boolean> | undefined): Promise<number> {
    let query = db
      .selectFrom('alerts')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('org_id', '=', orgId);
    if (where) query = query.where(where);
    return Number((await query.executeTakeFirstOrThrow()).n);
  },

  async addLog(db: Queryable, alertId: string, type: string, log: string, owner: string): Promise<void> {
    await db.insertInto('alert_logs').values({ alert_id: alertId, type, log, owner }).execute();
  },

  async addNote(db: Queryable, alertId: string, note: string, owner: string): Promise<void> {
    await db.insertInto('alert_notes').values({ alert_id: alertId, note, owner }).execute();
  },

  /** A page of an alert's notes or log, by id as the cursor (`offset` in Opsgenie's terms). */
  async page<T extends 'alert_logs' | 'alert_notes'>(
    db: Queryable,
    table: T,
    alertId: string,
    page: { after?: string; direction: 'next' | 'prev'; order: 'asc' | 'desc'; limit: number },
  ) {
    // "next" walks in the requested order; "prev" walks back from the cursor and is re-sorted.
    const forward = page.direction === 'next';
    const ascending = page.order === 'asc' ? forward : !forward;
    let query = db
      .selectFrom(table as 'alert_logs')
      .selectAll()
      .where('alert_id', '=', alertId);
    if (page.after !== undefined) {
      query = query.where('id', ascending ? '>' : '<', page.after as never);
    }
    const rows = await query
      .orderBy('id', ascending ? 'asc' : 'desc')
      .limit(page.limit)
      .execute();
    if (!forward) rows.reverse();
    return rows as unknown as T extends 'alert_logs'
      ? { id: string; alert_id: string; created_at: Date; type: string; log: string; owner: string }[]
      : { id: string; alert_id: string; created_at: Date; note: string; owner: string }[];
  },

  async recordRequest(
    db: Queryable,
    row: {
      id: string;
      org_id: string;
      action: string;
      success: boolean;
      status: string;
      alert_id: string | null;
      alias: string | null;
      integration_id?: string | null;
    },
  ): Promise<void> {
    await db
      .insertInto('alert_requests')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  },

  async findRequest(db: Queryable, orgId: string, id: string) {
    return db
      .selectFrom('alert_requests')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst();
  },

  async purgeRequests(db: Queryable, olderThanDays: number): Promise<number> {
    const result = await db
      .deleteFrom('alert_requests')
      .where('processed_at', '<', sql<Date>`now() - make_interval(days => ${olderThanDays})`)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};
