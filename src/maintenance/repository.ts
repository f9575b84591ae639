import { sql, type ExpressionBuilder, type RawBuilder } from 'kysely';
import { isUuid, type Queryable, type Tx } from '../db/database.js';
import type {
  Database,
  MaintenancePolicyRuleState,
  MaintenanceRow,
  MaintenanceTimeType,
} from '../db/schema.js';

/** The SQL of maintenances and their rules, and nothing else. */

/** Which maintenances a list shows (Opsgenie's `type`), at a time on the Clock. */
export type MaintenanceListType = 'all' | 'past' | 'non-expired';

export interface MaintenanceWindow {
  id: string;
  description: string;
  start_at: Date;
  end_at: Date | null;
}

/** A maintenance window on a policy, and whether it runs the policy then (`enabled`) or stops it. */
export interface PolicyRuleWindow extends MaintenanceWindow {
  state: MaintenancePolicyRuleState;
}

/** A maintenance window on one alert policy. */
export interface PolicyMaintenanceWindow extends PolicyRuleWindow {
  policy_id: string;
}

/**
 * An entity a maintenance names (Opsgenie's rule entity), and what it does to it: an integration is only
 * ever disabled, a policy may be switched on instead.
 */
export interface MaintenanceRule {
  type: 'integration' | 'policy';
  id: string;
  state: MaintenancePolicyRuleState;
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
 * SQL: whether a maintenance open at `now` (as isOpenAt in service.ts has it) has a rule of `state` on the
 * policy whose id `policyId` gives (a column, as `sql.ref('h.policy_id')`).
 */
function openPolicyRule(
  policyId: RawBuilder<unknown>,
  state: MaintenancePolicyRuleState,
  now: Date,
): RawBuilder<boolean> {
  return sql<boolean>`EXISTS (
    SELECT 1 FROM maintenance_policy_rules mr JOIN maintenances m ON m.id = mr.maintenance_id
    WHERE mr.policy_id = ${policyId} AND mr.state = ${state} AND m.cancelled_at IS NULL
      AND m.start_at <= ${now} AND (m.end_at IS NULL OR m.end_at > ${now}))`;
}

/** SQL: whether a maintenance open at `now` runs the policy `policyId` though it is disabled. */
export function policySwitchedOnAt(policyId: RawBuilder<unknown>, now: Date): RawBuilder<boolean> {
  return openPolicyRule(policyId, 'enabled', now);
}

/**
 * SQL: whether a maintenance not over at `now` (a planned one too) has a rule running the policy
 * `policyId` though it is disabled: such a policy is loaded with the enabled ones, and whether it runs
 * at an instant is for policyOnAt (service.ts).
 */
export function policySwitchedOnFrom(policyId: RawBuilder<unknown>, now: Date): RawBuilder<boolean> {
  return sql<boolean>`EXISTS (
    SELECT 1 FROM maintenance_policy_rules mr JOIN maintenances m ON m.id = mr.maintenance_id
    WHERE mr.policy_id = ${policyId} AND mr.state = 'enabled' AND m.cancelled_at IS NULL
      AND (m.end_at IS NULL OR m.end_at > ${now}))`;
}

/**
 * SQL: whether maintenance keeps the policy `policyId` off at `now`: a maintenance open at `now` disables
 * it, or it is disabled itself and none open runs it (the one that did has ended). What the engine asks of
 * a notification policy's holds and auto-restarts, which last only while the policy is on: those a policy
 * made while a maintenance ran it end with that maintenance, as they end when the policy is disabled.
 */
export function policyMaintainedAt(policyId: RawBuilder<unknown>, now: Date): RawBuilder<boolean> {
  return sql<boolean>`(${openPolicyRule(policyId, 'disabled', now)}
    OR (EXISTS (SELECT 1 FROM alert_policies dp WHERE dp.id = ${policyId} AND NOT dp.enabled)
      AND NOT ${policySwitchedOnAt(policyId, now)}))`;
}

/**
 * Whether the notification policy `policyId` still takes `action` at `now`: it exists, has that action, and
 * is on: enabled or run by an open maintenance, and not disabled by one. What a scheduled close or restart
 * is checked against when it falls due.
 */
export function policyActsAt(
  policyId: RawBuilder<unknown>,
  action: 'autoCloseAction' | 'autoRestartAction',
  now: Date,
): RawBuilder<boolean> {
  return sql<boolean>`EXISTS (SELECT 1 FROM alert_policies p WHERE p.id = ${policyId}
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

  /**
   * The owner team of each integration and policy the maintenances name (null: a global policy), by
   * maintenance; a maintenance whose rules are all gone has no entry.
   */
  async ownerTeamsOf(
    q: Queryable,
    maintenanceIds: readonly string[],
  ): Promise<Map<string, (string | null)[]>> {
    const owners = new Map<string, (string | null)[]>();
    if (maintenanceIds.length === 0) return owners;
    // One array, not a parameter per id: an integration key's list asks this of every maintenance of
    // the organization, and an IN list of tens of thousands would pass PostgreSQL's 65,535 parameters.
    const listed = sql<string>`ANY(${[...maintenanceIds]}::uuid[])`;
    const rows = await q
      .selectFrom('maintenance_rules as r')
      .innerJoin('integrations as i', 'i.id', 'r.integration_id')
      .select(['r.maintenance_id', sql<string | null>`i.owner_team_id`.as('team_id')])
      .where('r.maintenance_id', '=', listed)
      .unionAll(
        q
          .selectFrom('maintenance_policy_rules as r')
          .innerJoin('alert_policies as ap', 'ap.id', 'r.policy_id')
          .select(['r.maintenance_id', sql<string | null>`ap.team_id`.as('team_id')])
          .where('r.maintenance_id', '=', listed),
      )
      .execute();
    for (const row of rows) {
      const list = owners.get(row.maintenance_id) ?? [];
      list.push(row.team_id);
      owners.set(row.maintenance_id, list);
    }
    return owners;
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

  /** What a maintenance disables or runs, integrations and policies, in the order its rules gave them. */
  async rulesOf(q: Queryable, maintenanceId: string): Promise<MaintenanceRule[]> {
    return q
      .selectFrom('maintenance_rules')
      .select([
        'integration_id as id',
        sql<MaintenanceRule['type']>`'integration'`.as('type'),
        sql<MaintenancePolicyRuleState>`state`.as('state'),
        'position',
      ])
      .where('maintenance_id', '=', maintenanceId)
      .unionAll(
        q
          .selectFrom('maintenance_policy_rules')
          .select(['policy_id as id', sql<MaintenanceRule['type']>`'policy'`.as('type'), 'state', 'position'])
          .where('maintenance_id', '=', maintenanceId),
      )
      .orderBy('position')
      .execute()
      .then((rows) => rows.map(({ id, type, state }) => ({ id, type, state })));
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
          policies.map((r) => ({
            maintenance_id: maintenanceId,
            policy_id: r.id,
            state: r.state,
            position: r.position,
          })),
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
   * The maintenances that disabled an integration at `at`, as known now: begun by then, not ended by
   * then, and not cancelled by then (a cancel sets `cancelled_at` and leaves the end as it was), so one
   * cancelled since still counts. For what is judged at a past instant, such as a change waiting in the
   * event queue. A deleted maintenance is gone with its row, and counts no more.
   */
  windowsCovering(q: Queryable, integrationId: string, at: Date): Promise<MaintenanceWindow[]> {
    return q
      .selectFrom('maintenance_rules as r')
      .innerJoin('maintenances', 'maintenances.id', 'r.maintenance_id')
      .select(['maintenances.id', 'maintenances.description', 'maintenances.start_at', 'maintenances.end_at'])
      .where('r.integration_id', '=', integrationId)
      .where('maintenances.start_at', '<=', at)
      .where((eb) =>
        eb.and([
          eb.or([eb('maintenances.end_at', 'is', null), eb('maintenances.end_at', '>', at)]),
          eb.or([eb('maintenances.cancelled_at', 'is', null), eb('maintenances.cancelled_at', '>', at)]),
        ]),
      )
      .orderBy('maintenances.start_at')
      .orderBy('maintenances.id')
      .execute();
  },

  /**
   * The organization's maintenances on alert policies that are not over at `now` (planned ones too), one
   * row per policy and maintenance, with what each does to the policy.
   */
  policyWindows(q: Queryable, orgId: string, now: Date): Promise<PolicyMaintenanceWindow[]> {
    return q
      .selectFrom('maintenance_policy_rules as r')
      .innerJoin('maintenances', 'maintenances.id', 'r.maintenance_id')
      .select([
        'r.policy_id',
        'r.state',
        'maintenances.id',
        'maintenances.description',
        'maintenances.start_at',
        'maintenances.end_at',
      ])
      .where('maintenances.org_id', '=', orgId)
      .where((eb) => notExpired(eb, now))
      .execute();
  },

  /**
   * When maintenance next turns an alert policy off after `now`, as far as the Clock tells (a cancel or a
   * delete wakes the engine itself): a maintenance that disables one opens, or one that runs one ends.
   * Null when neither is planned.
   */
  async nextPolicyOpening(q: Queryable, now: Date): Promise<Date | null> {
    const ruled = (state: MaintenancePolicyRuleState) =>
      sql<boolean>`EXISTS (SELECT 1 FROM maintenance_policy_rules r
        WHERE r.maintenance_id = maintenances.id AND r.state = ${state})`;
    const row = await q
      .selectFrom('maintenances')
      .select(
        sql<Date | null>`least(
          min(start_at) FILTER (WHERE start_at > ${now} AND ${ruled('disabled')}),
          min(end_at) FILTER (WHERE end_at > ${now} AND ${ruled('enabled')}))`.as('next'),
      )
      .where('cancelled_at', 'is', null)
      .executeTakeFirst();
    return row?.next ?? null;
  },
};
