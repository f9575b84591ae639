import { sql, type RawBuilder } from 'kysely';
import { isUuid, type Queryable, type Tx } from '../db/database.js';
import { deleteInBatches } from '../db/delete-in-batches.js';
import type { IncidentRow, IncidentStatus, Priority, ResponderRef } from '../db/schema.js';

/** The SQL of incidents, their alerts, notes, logs and request outcomes, and nothing else. */

export type IncidentIdentifierType = 'id' | 'tiny';

/**
 * The incidents a caller may see: those of its organization and, for an integration's key, only those
 * with its team among their responders or that it made itself (as alerts are scoped): a key that opens
 * an incident for another team must still be able to resolve it.
 */
export interface IncidentScope {
  orgId: string;
  integration?: { id: string; teamId: string };
}

/**
 * What each `sort` of the list orders by. `owner` is the owner team (its first team responder's id, as
 * `ownerTeam` reads; none sorts before any); `isSeen`, a sort of Opsgenie's Go SDK, is `createdAt`: Vigil
 * keeps no seen state for incidents.
 */
export const INCIDENT_SORT_COLUMNS = {
  createdAt: 'created_at',
  insertedAt: 'created_at',
  updatedAt: 'updated_at',
  tinyId: 'tiny_id',
  message: 'message',
  status: 'status',
  priority: 'priority',
  owner: sql<string>`coalesce(team_ids[1]::text, '')`,
  isSeen: 'created_at',
} as const;
export type IncidentSortField = keyof typeof INCIDENT_SORT_COLUMNS;

export interface NewIncident {
  message: string;
  description: string;
  priority: Priority;
  tags: string[];
  details: Record<string, string>;
  responders: ResponderRef[];
  impactedServices: string[];
  statusPageEntry: { title?: string; detail?: string } | null;
  notifyStakeholders: boolean;
  createdBy: string;
  integrationId: string | null;
}

export interface IncidentPage {
  after?: string;
  direction: 'next' | 'prev';
  order: 'asc' | 'desc';
  limit: number;
}

function scoped(q: Queryable, scope: IncidentScope) {
  const query = q.selectFrom('incidents').selectAll().where('org_id', '=', scope.orgId);
  const { integration } = scope;
  return integration
    ? query.where(
        sql<boolean>`(team_ids @> ARRAY[${integration.teamId}]::uuid[] OR integration_id = ${integration.id})`,
      )
    : query;
}

export const incidentsRepository = {
  async insert(tx: Tx, orgId: string, incident: NewIncident): Promise<IncidentRow> {
    // The counter's row is locked until commit: two creates in one organization take numbers in turn.
    const counter = await tx
      .insertInto('incident_counters')
      .values({ org_id: orgId, last_tiny_id: '1' })
      .onConflict((oc) =>
        oc.column('org_id').doUpdateSet({ last_tiny_id: sql`incident_counters.last_tiny_id + 1` }),
      )
      .returning('last_tiny_id')
      .executeTakeFirstOrThrow();
    return tx
      .insertInto('incidents')
      .values({
        org_id: orgId,
        tiny_id: counter.last_tiny_id,
        message: incident.message,
        description: incident.description,
        priority: incident.priority,
        tags: incident.tags,
        details: JSON.stringify(incident.details),
        responders: JSON.stringify(incident.responders),
        team_ids: incident.responders.filter((r) => r.type === 'team').map((r) => r.id),
        impacted_services: incident.impactedServices,
        status_page_entry: incident.statusPageEntry ? JSON.stringify(incident.statusPageEntry) : null,
        notify_stakeholders: incident.notifyStakeholders,
        created_by: incident.createdBy,
        integration_id: incident.integrationId,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  /** The incident by id or tinyId; with `lock`, locked for the rest of the caller's transaction. */
  async find(
    q: Queryable,
    scope: IncidentScope,
    identifier: string,
    type: IncidentIdentifierType,
    lock = false,
  ): Promise<IncidentRow | undefined> {
    let query = scoped(q, scope);
    if (type === 'tiny') {
      // tinyIds are int8: anything else names no incident (and is not PostgreSQL's to refuse).
      if (!/^\d{1,18}$/.test(identifier)) return undefined;
      query = query.where('tiny_id', '=', identifier as never);
    } else {
      if (!isUuid(identifier)) return undefined;
      query = query.where('id', '=', identifier);
    }
    return (lock ? query.forUpdate() : query).executeTakeFirst();
  },

  async list(
    q: Queryable,
    scope: IncidentScope,
    where: RawBuilder<boolean> | undefined,
    options: { offset: number; limit: number; sort: IncidentSortField; order: 'asc' | 'desc' },
  ): Promise<IncidentRow[]> {
    let query = scoped(q, scope);
    if (where) query = query.where(where);
    return query
      .orderBy(INCIDENT_SORT_COLUMNS[options.sort], options.order)
      .orderBy('tiny_id', options.order)
      .offset(options.offset)
      .limit(options.limit)
      .execute();
  },

  async update(
    tx: Tx,
    id: string,
    fields: {
      status?: IncidentStatus;
      priority?: Priority;
      responders?: ResponderRef[];
      tags?: string[];
      details?: Record<string, string>;
      message?: string;
      description?: string;
    },
  ): Promise<IncidentRow> {
    return tx
      .updateTable('incidents')
      .set({
        ...(fields.status ? { status: fields.status } : {}),
        ...(fields.priority ? { priority: fields.priority } : {}),
        ...(fields.tags ? { tags: fields.tags } : {}),
        ...(fields.details ? { details: JSON.stringify(fields.details) } : {}),
        ...(fields.message !== undefined ? { message: fields.message } : {}),
        ...(fields.description !== undefined ? { description: fields.description } : {}),
        ...(fields.responders
          ? {
              responders: JSON.stringify(fields.responders),
              team_ids: fields.responders.filter((r) => r.type === 'team').map((r) => r.id),
            }
          : {}),
        updated_at: sql<Date>`now()`,
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  async delete(tx: Tx, id: string): Promise<void> {
    await tx.deleteFrom('incidents').where('id', '=', id).execute();
  },

  async linkAlert(tx: Tx, incidentId: string, alertId: string): Promise<void> {
    await tx
      .insertInto('incident_alerts')
      .values({ incident_id: incidentId, alert_id: alertId })
      .onConflict((oc) => oc.doNothing())
      .execute();
  },

  /** The ids of the incident's alerts, oldest first. */
  async alertIds(q: Queryable, incidentId: string): Promise<string[]> {
    const rows = await q
      .selectFrom('incident_alerts')
      .select('alert_id')
      .where('incident_id', '=', incidentId)
      .orderBy('created_at')
      .orderBy('alert_id')
      .execute();
    return rows.map((r) => r.alert_id);
  },

  /** The incident's alerts that are still open, oldest first. */
  async openAlertIds(q: Queryable, incidentId: string): Promise<string[]> {
    const rows = await q
      .selectFrom('incident_alerts as ia')
      .innerJoin('alerts as a', 'a.id', 'ia.alert_id')
      .select('ia.alert_id')
      .where('ia.incident_id', '=', incidentId)
      .where('a.status', '=', 'open')
      .orderBy('ia.created_at')
      .orderBy('ia.alert_id')
      .execute();
    return rows.map((r) => r.alert_id);
  },

  async addNote(tx: Tx, incidentId: string, note: string, owner: string): Promise<void> {
    await tx.insertInto('incident_notes').values({ incident_id: incidentId, note, owner }).execute();
  },

  async addLog(tx: Tx, incidentId: string, type: string, log: string, owner: string): Promise<void> {
    await tx.insertInto('incident_logs').values({ incident_id: incidentId, type, log, owner }).execute();
  },

  /** A page of the incident's notes or logs, by Opsgenie's cursor (the offset is a row's id). */
  async page<T extends 'incident_logs' | 'incident_notes'>(
    q: Queryable,
    table: T,
    incidentId: string,
    page: IncidentPage,
  ) {
    // "next" walks in the requested order; "prev" walks back from the cursor and is re-sorted.
    const forward = page.direction === 'next';
    const ascending = page.order === 'asc' ? forward : !forward;
    let query = q
      .selectFrom(table as 'incident_logs')
      .selectAll()
      .where('incident_id', '=', incidentId);
    if (page.after !== undefined) query = query.where('id', ascending ? '>' : '<', page.after as never);
    const rows = await query
      .orderBy('id', ascending ? 'asc' : 'desc')
      .limit(page.limit)
      .execute();
    if (!forward) rows.reverse();
    return rows as unknown as T extends 'incident_logs'
      ? { id: string; created_at: Date; type: string; log: string; owner: string }[]
      : { id: string; created_at: Date; note: string; owner: string }[];
  },

  async recordRequest(
    q: Queryable,
    row: {
      id: string;
      org_id: string;
      action: string;
      success: boolean;
      status: string;
      incident_id: string | null;
      integration_id: string | null;
      /** On the engine's clock, which retention reads. */
      processed_at: Date;
    },
  ): Promise<void> {
    await q
      .insertInto('incident_requests')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  },

  findRequest(q: Queryable, orgId: string, id: string) {
    return q
      .selectFrom('incident_requests')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst();
  },

  async purgeRequests(q: Queryable, before: Date): Promise<number> {
    return deleteInBatches(q, 'incident_requests', sql`processed_at < ${before}::timestamptz`);
  },
};
