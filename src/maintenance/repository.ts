import { sql, type ExpressionBuilder, type RawBuilder } from 'kysely';
import { isUuid, type Queryable, type Tx } from '../db/database.js';
import type { Database, MaintenanceRow, MaintenanceTimeType } from '../db/schema.js';

/** The SQL of maintenances and their rules, and nothing else. */

/** Which maintenances a list shows (Opsgenie's `type`), at a time on the Clock. */
export type MaintenanceListType = 'all' | 'past' | 'non-expired';

export interface MaintenanceWindow {
  id: string;
  description: string;
  start_at: Date;
  end_at: Date | null;
}

/** A maintenance window on one alert policy. */
export interface PolicyMaintenanceWindow extends MaintenanceWindow {
  policy_id: string;
}

/** An entity a maintenance disables (Opsgenie's rule entity). */
export interface MaintenanceRule {
  type: 'integration' | 'policy';
  id: string;
}

export interface MaintenanceFields {
  description: string;
  time_type: MaintenanceTimeType;
  start_at: Date;
  end_at: Date | null;
}

/** Neither cancelled nor over at `now`: planned or active. */
function notExpired(eb: ExpressionBuilder<Database, 'maintenances'>, now: Date) {
  return eb.and([
    eb('maintenances.cancelled_at', 'is', null),
    eb.or([eb('maintenances.end_at', 'is', null), eb('maintenances.end_at', '>', now)]),
  ]);
}

/**
 * SQL: whether a maintenance open at `now` (as isOpenAt in service.ts has it) disables the policy
 * whose id `policyId` gives (a column, as `sql.ref('h.policy_id')`). What the engine asks of a notification
 * policy's holds and auto-restarts, which last only while the policy is on.
 */
export function policyMaintainedAt(policyId: RawBuilder<unknown>, now: Date): RawBuilder<boolean> {
  return sql<boolean>`EXISTS (
    SELECT 1 FROM maintenance_policy_rules mr JOIN maintenances m ON m.id = mr.maintenance_id
    WHERE mr.policy_id = ${policyId} AND m.cancelled_at IS NULL
      AND m.start_at <= ${now} AND (m.end_at IS NULL OR m.end_at > ${now}))`;
}

/**
 * Whether the notification policy `policyId` still takes `action` at `now`: it exists, is enabled, has
 * that action, and no open maintenance disables it. What a scheduled close or restart is checked against
 * when it falls due.
 */
export function policyActsAt(
  policyId: RawBuilder<unknown>,
  action: 'autoCloseAction' | 'autoRestartAction',
  now: Date,
): RawBuilder<boolean> {
  return sql<boolean>`EXISTS (SELECT 1 FROM alert_policies p WHERE p.id = ${policyId} AND p.enabled
    AND jsonb_typeof(p.notification_actions -> ${action}) = 'object'
    AND NOT ${policyMaintainedAt(sql.ref('p.id'), now)})`;
}

export const maintenanceRepository = {
  async list(q: Queryable, orgId: string, type: MaintenanceListType, now: Date): Promise<MaintenanceRow[]> {
    let query = q.selectFrom('maintenances').selectAll().where('org_id', '=', orgId);
    if (type === 'non-expired') query = query.where((eb) => notExpired(eb, now));
    if (type === 'past') query = query.where((eb) => eb.not(notExpired(eb, now)));
    return query.orderBy('start_at', 'desc').orderBy('id').execute();
  },

  async find(q: Queryable, orgId: string, id: string): Promise<MaintenanceRow | undefined> {
    if (!isUuid(id)) return undefined;
    return q
      .selectFrom('maintenances')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst();
  },

  /** The maintenance, locked for the rest of the caller's transaction. */
  async lock(tx: Tx, orgId: string, id: string): Promise<MaintenanceRow | undefined> {
    if (!isUuid(id)) return undefined;
    return tx
      .selectFrom('maintenances')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
  },

  /** What a maintenance disables, integrations and policies, in the order its rules gave them. */
  async rulesOf(q: Queryable, maintenanceId: string): Promise<MaintenanceRule[]> {
    return q
      .selectFrom('maintenance_rules')
      .select(['integration_id as id', sql<MaintenanceRule['type']>`'integration'`.as('type'), 'position'])
      .where('maintenance_id', '=', maintenanceId)
      .unionAll(
        q
          .selectFrom('maintenance_policy_rules')
          .select(['policy_id as id', sql<MaintenanceRule['type']>`'policy'`.as('type'), 'position'])
          .where('maintenance_id', '=', maintenanceId),
      )
      .orderBy('position')
      .execute()
      .then((rows) => rows.map(({ id, type }) => ({ id, type })));
  },

  async insert(tx: Tx, orgId: string, fields: MaintenanceFields, rules: MaintenanceRule[]): Promise<string> {
    const row = await tx
      .insertInto('maintenances')
      .values({ org_id: orgId, ...fields })
      .returning('id')
      .executeTakeFirstOrThrow();
    await this.replaceRules(tx, row.id, rules);
    return row.id;
  },

  async update(tx: Tx, id: string, fields: Partial<MaintenanceFields> & { cancelled_at?: Date }) {
    await tx
      .updateTable('maintenances')
      .set({ ...fields, updated_at: sql<Date>`now()` })
      .where('id', '=', id)
      .execute();
  },

  /** The maintenance's rules become these; each keeps its place in the list across both kinds. */
  async replaceRules(tx: Tx, maintenanceId: string, rules: MaintenanceRule[]): Promise<void> {
    await tx.deleteFrom('maintenance_rules').where('maintenance_id', '=', maintenanceId).execute();
    await tx.deleteFrom('maintenance_policy_rules').where('maintenance_id', '=', maintenanceId).execute();
    const placed = rules.map((rule, position) => ({ ...rule, position }));
    const integrations = placed.filter((r) => r.type === 'integration');
    const policies = placed.filter((r) => r.type === 'policy');
    if (integrations.length > 0) {
      await tx
        .insertInto('maintenance_rules')
        .values(
          integrations.map((r) => ({
            maintenance_id: maintenanceId,
            integration_id: r.id,
            position: r.position,
          })),
        )
        .execute();
    }
    if (policies.length > 0) {
      await tx
        .insertInto('maintenance_policy_rules')
        .values(
          policies.map((r) => ({ maintenance_id: maintenanceId, policy_id: r.id, position: r.position })),
        )
        .execute();
    }
  },

  async delete(q: Queryable, id: string): Promise<void> {
    await q.deleteFrom('maintenances').where('id', '=', id).execute();
  },

  /** The maintenances that disable an integration and are not over at `now` (planned ones too). */
  windowsOf(q: Queryable, integrationId: string, now: Date): Promise<MaintenanceWindow[]> {
    return q
      .selectFrom('maintenance_rules as r')
      .innerJoin('maintenances', 'maintenances.id', 'r.maintenance_id')
      .select(['maintenances.id', 'maintenances.description', 'maintenances.start_at', 'maintenances.end_at'])
      .where('r.integration_id', '=', integrationId)
      .where((eb) => notExpired(eb, now))
      .orderBy('maintenances.start_at')
      .execute();
  },

  /**
   * The organization's maintenances on alert policies that are not over at `now` (planned ones too), one
   * row per policy and maintenance.
   */
  policyWindows(q: Queryable, orgId: string, now: Date): Promise<PolicyMaintenanceWindow[]> {
    return q
      .selectFrom('maintenance_policy_rules as r')
      .innerJoin('maintenances', 'maintenances.id', 'r.maintenance_id')
      .select([
        'r.policy_id',
        'maintenances.id',
        'maintenances.description',
        'maintenances.start_at',
        'maintenances.end_at',
      ])
      .where('maintenances.org_id', '=', orgId)
      .where((eb) => notExpired(eb, now))
      .execute();
  },

  /** When the next maintenance planned on alert policies opens, after `now`; null when none is planned. */
  async nextPolicyOpening(q: Queryable, now: Date): Promise<Date | null> {
    const row = await q
      .selectFrom('maintenances')
      .select((eb) => eb.fn.min('start_at').as('start_at'))
      .where('cancelled_at', 'is', null)
      .where('start_at', '>', now)
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('maintenance_policy_rules as r')
            .select('r.policy_id')
            .whereRef('r.maintenance_id', '=', 'maintenances.id'),
        ),
      )
      .executeTakeFirst();
    return row?.start_at ?? null;
  },
};
