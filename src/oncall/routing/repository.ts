import { sql } from 'kysely';
import { type Queryable, isUuid } from '../../db/database.js';
import type { TeamRoutingRuleRow } from '../../db/schema.js';
import type { Criteria, RoutingNotifyType, TimeRestriction } from '../model.js';

/**
 * The SQL for teams' routing rules. Positions of a team's ordinary rules are kept compact (0..n-1); the
 * default rule (is_default) has position 0 and always comes after them.
 */

export type RoutingRuleWithTarget = TeamRoutingRuleRow & { target_name: string | null };

function withTarget(q: Queryable) {
  return q
    .selectFrom('team_routing_rules as r')
    .leftJoin('escalations as e', (join) =>
      join.onRef('e.id', '=', 'r.target_id').on('r.notify_type', '=', 'escalation'),
    )
    .leftJoin('schedules as s', (join) =>
      join.onRef('s.id', '=', 'r.target_id').on('r.notify_type', '=', 'schedule'),
    )
    .selectAll('r')
    .select(sql<string | null>`coalesce(e.name, s.name)`.as('target_name'));
}

export interface RoutingRuleValues {
  name: string;
  criteria: Criteria;
  timezone: string;
  time_restriction: TimeRestriction | null;
  notify_type: RoutingNotifyType;
  target_id: string | null;
}

/** What routing an alert needs in one query: the team's name and its rules in order, with schedule names. */
export interface RoutingRow {
  team_name: string;
  id: string | null;
  name: string | null;
  is_default: boolean | null;
  criteria: Criteria | null;
  timezone: string | null;
  time_restriction: TimeRestriction | null;
  notify_type: RoutingNotifyType | null;
  target_id: string | null;
  schedule_name: string | null;
}

export const routingRepository = {
  /** Ordinary rules by position, then the default rule. */
  async list(q: Queryable, teamId: string): Promise<RoutingRuleWithTarget[]> {
    return withTarget(q)
      .where('r.team_id', '=', teamId)
      .orderBy('r.is_default')
      .orderBy('r.position')
      .orderBy('r.created_at')
      .execute();
  },

  async find(q: Queryable, teamId: string, id: string): Promise<RoutingRuleWithTarget | undefined> {
    if (!isUuid(id)) return undefined;
    return withTarget(q).where('r.team_id', '=', teamId).where('r.id', '=', id).executeTakeFirst();
  },

  async findDefault(q: Queryable, teamId: string): Promise<RoutingRuleWithTarget | undefined> {
    return withTarget(q).where('r.team_id', '=', teamId).where('r.is_default', '=', true).executeTakeFirst();
  },

  async countOrdinary(q: Queryable, teamId: string): Promise<number> {
    const row = await q
      .selectFrom('team_routing_rules')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('team_id', '=', teamId)
      .where('is_default', '=', false)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  async orderedIds(q: Queryable, teamId: string): Promise<string[]> {
    const rows = await q
      .selectFrom('team_routing_rules')
      .select('id')
      .where('team_id', '=', teamId)
      .where('is_default', '=', false)
      .orderBy('position')
      .orderBy('created_at')
      .execute();
    return rows.map((r) => r.id);
  },

  async insert(
    q: Queryable,
    row: RoutingRuleValues & { team_id: string; position: number; is_default: boolean },
  ): Promise<{ id: string; name: string }> {
    return q
      .insertInto('team_routing_rules')
      .values({
        ...row,
        criteria: JSON.stringify(row.criteria),
        time_restriction: row.time_restriction === null ? null : JSON.stringify(row.time_restriction),
      })
      .returning(['id', 'name'])
      .executeTakeFirstOrThrow();
  },

  async update(q: Queryable, id: string, changes: Partial<RoutingRuleValues>): Promise<void> {
    await q
      .updateTable('team_routing_rules')
      .set({
        name: changes.name,
        criteria: changes.criteria === undefined ? undefined : JSON.stringify(changes.criteria),
        timezone: changes.timezone,
        time_restriction:
          changes.time_restriction === undefined
            ? undefined
            : changes.time_restriction === null
              ? null
              : JSON.stringify(changes.time_restriction),
        notify_type: changes.notify_type,
        target_id: changes.target_id,
      })
      .where('id', '=', id)
      .execute();
  },

  async delete(q: Queryable, id: string): Promise<void> {
    await q.deleteFrom('team_routing_rules').where('id', '=', id).execute();
  },

  /** Opens a gap at `from` for a rule inserted there. */
  async shiftFrom(q: Queryable, teamId: string, from: number): Promise<void> {
    await q
      .updateTable('team_routing_rules')
      .set((eb) => ({ position: eb('position', '+', 1) }))
      .where('team_id', '=', teamId)
      .where('is_default', '=', false)
      .where('position', '>=', from)
      .execute();
  },

  /** Gives the rules positions 0..n-1 in the order of `ids`, in one statement. */
  async renumber(q: Queryable, teamId: string, ids: string[]): Promise<void> {
    if (ids.length === 0) return;
    await sql`
      UPDATE team_routing_rules AS r SET position = v.n - 1
      FROM unnest(${ids}::uuid[]) WITH ORDINALITY AS v(id, n)
      WHERE r.id = v.id AND r.team_id = ${teamId}
    `.execute(q);
  },

  /** The routing rules (with their teams' names) that notify this escalation or schedule. */
  async usingTarget(
    q: Queryable,
    type: 'escalation' | 'schedule',
    targetId: string,
  ): Promise<{ id: string; name: string; is_default: boolean; team_id: string; team_name: string }[]> {
    return q
      .selectFrom('team_routing_rules as r')
      .innerJoin('teams as t', 't.id', 'r.team_id')
      .select(['r.id', 'r.name', 'r.is_default', 'r.team_id', 't.name as team_name'])
      .where('r.notify_type', '=', type)
      .where('r.target_id', '=', targetId)
      .orderBy('t.name')
      .orderBy('r.is_default')
      .orderBy('r.position')
      .execute();
  },

  /**
   * One row per rule in routing order (default last), or a single row with only team_name when the team has
   * no rules; no rows when the team does not exist.
   */
  async forRouting(q: Queryable, teamId: string): Promise<RoutingRow[]> {
    return q
      .selectFrom('teams as t')
      .leftJoin('team_routing_rules as r', 'r.team_id', 't.id')
      .leftJoin('schedules as s', (join) =>
        join.onRef('s.id', '=', 'r.target_id').on('r.notify_type', '=', 'schedule'),
      )
      .select([
        't.name as team_name',
        'r.id',
        'r.name',
        'r.is_default',
        'r.criteria',
        'r.timezone',
        'r.time_restriction',
        'r.notify_type',
        'r.target_id',
        's.name as schedule_name',
      ])
      .where('t.id', '=', teamId)
      .orderBy('r.is_default')
      .orderBy('r.position')
      .orderBy('r.created_at')
      .execute();
  },
};
