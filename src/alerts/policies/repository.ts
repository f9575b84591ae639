import { sql } from 'kysely';
import { isUuid, type Queryable } from '../../db/database.js';
import type { PolicyType } from '../../db/schema.js';
import type { TimeRestriction } from '../../oncall/model.js';
import { policySwitchedOnFrom } from '../../maintenance/repository.js';

/**
 * The SQL for policies: each scope (the organization's global ones, or one team's) in its order, each kind
 * (`type`: alert or notification) ordered on its own. Left out, the kind is `alert`.
 */

export interface PolicyRow {
  id: string;
  org_id: string;
  team_id: string | null;
  name: string;
  policy_description: string;
  position: number;
  enabled: boolean;
  filter: Record<string, unknown>;
  modifications: Record<string, unknown>;
  continue: boolean;
  type: PolicyType;
  notification_actions: Record<string, unknown> | null;
  time_restriction: TimeRestriction | null;
  timezone: string;
  created_at: Date;
  updated_at: Date;
}

export interface PolicyValues {
  name: string;
  policy_description: string;
  enabled: boolean;
  filter: string;
  modifications: string;
  continue: boolean;
  notification_actions?: string | null;
  time_restriction: string | null;
  timezone: string;
}

export const policiesRepository = {
  async list(
    db: Queryable,
    orgId: string,
    teamId: string | null,
    type: PolicyType = 'alert',
  ): Promise<PolicyRow[]> {
    let query = db
      .selectFrom('alert_policies')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('type', '=', type);
    query = teamId === null ? query.where('team_id', 'is', null) : query.where('team_id', '=', teamId);
    return query.orderBy('position').orderBy('created_at').execute();
  },

  /**
   * The organization's policies of a kind that may run at some time from `now` on, global and of each
   * team, in order: the enabled ones, and the disabled ones a maintenance not over (planned too) runs
   * while open. Which run when is for policyOnAt (maintenance/service.ts).
   */
  async runnable(db: Queryable, orgId: string, type: PolicyType, now: Date): Promise<PolicyRow[]> {
    return db
      .selectFrom('alert_policies')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('type', '=', type)
      .where(sql<boolean>`enabled OR ${policySwitchedOnFrom(sql.ref('alert_policies.id'), now)}`)
      .orderBy('position')
      .orderBy('created_at')
      .execute();
  },

  async get(
    db: Queryable,
    orgId: string,
    teamId: string | null,
    id: string,
    type: PolicyType = 'alert',
  ): Promise<PolicyRow | undefined> {
    if (!isUuid(id)) return undefined;
    let query = db
      .selectFrom('alert_policies')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .where('type', '=', type);
    query = teamId === null ? query.where('team_id', 'is', null) : query.where('team_id', '=', teamId);
    return query.executeTakeFirst();
  },

  /** A policy of the organization wherever it is (global or a team's), by id alone. */
  async locate(
    db: Queryable,
    orgId: string,
    id: string,
  ): Promise<{ id: string; team_id: string | null } | undefined> {
    if (!isUuid(id)) return undefined;
    return db
      .selectFrom('alert_policies')
      .select(['id', 'team_id'])
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst();
  },

  async insert(
    db: Queryable,
    orgId: string,
    teamId: string | null,
    values: PolicyValues,
    type: PolicyType = 'alert',
  ): Promise<string> {
    // Last in its scope. Two creates at once may share a position; order then falls back to creation.
    const row = await db
      .insertInto('alert_policies')
      .values({
        org_id: orgId,
        team_id: teamId,
        type,
        ...values,
        position: sql<number>`(SELECT coalesce(max(position) + 1, 0) FROM alert_policies
          WHERE org_id = ${orgId} AND team_id IS NOT DISTINCT FROM ${teamId}::uuid AND type = ${type})`,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  },

  /** The policy's row as it is, locked (FOR UPDATE) until the transaction ends; undefined once deleted. */
  async lockRow(db: Queryable, id: string): Promise<PolicyRow | undefined> {
    return db.selectFrom('alert_policies').selectAll().where('id', '=', id).forUpdate().executeTakeFirst();
  },

  async update(db: Queryable, id: string, values: Partial<PolicyValues>): Promise<void> {
    await db
      .updateTable('alert_policies')
      .set({ ...values, updated_at: new Date() })
      .where('id', '=', id)
      .execute();
  },

  async delete(db: Queryable, id: string): Promise<void> {
    await db.deleteFrom('alert_policies').where('id', '=', id).execute();
  },

  /** Positions 0..n-1 in the order given (the whole scope, already reordered by the caller). */
  async renumber(db: Queryable, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await sql`
      UPDATE alert_policies AS p SET position = o.ord - 1, updated_at = now()
      FROM unnest(${ids}::uuid[]) WITH ORDINALITY AS o(id, ord)
      WHERE p.id = o.id
    `.execute(db);
  },
};
