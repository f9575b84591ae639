import { sql } from 'kysely';
import type { Queryable } from '../../db/database.js';
import type { ContactMethodRow, NotificationRuleRow, UserRow } from '../../db/schema.js';
import type {
  ContactMethodType,
  Criteria,
  NotificationActionType,
  NotificationRuleRepeat,
  NotificationRuleStep,
  TimeRestriction,
} from '../model.js';

/** The SQL for people's contact methods and notification rules. No rules here: see service.ts. */

export const peopleRepository = {
  /**
   * Serializes changes to one user's contacts and rules until the transaction ends: rule positions and the
   * steps JSON are read, changed and written back.
   */
  async lockUser(tx: Queryable, userId: string): Promise<void> {
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(${'vigil:people:' + userId}, 0))`.execute(tx);
  },

  // Contact methods

  async insertContact(
    q: Queryable,
    row: {
      user_id: string;
      method: ContactMethodType;
      address: string;
      given_to?: string | null;
      enabled?: boolean;
    },
  ): Promise<ContactMethodRow> {
    return q.insertInto('contact_methods').values(row).returningAll().executeTakeFirstOrThrow();
  },

  async listContacts(q: Queryable, userId: string): Promise<ContactMethodRow[]> {
    return q
      .selectFrom('contact_methods')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('method')
      .orderBy('created_at')
      .orderBy('id')
      .execute();
  },

  /**
   * `lock` 'key share' holds the row until the caller's transaction ends: a delete of the contact (or of its
   * person) waits for it, or is seen by it (undefined), before rows that refer to the contact are written.
   */
  async findContact(
    q: Queryable,
    userId: string,
    id: string,
    lock?: 'key share',
  ): Promise<ContactMethodRow | undefined> {
    const query = q
      .selectFrom('contact_methods')
      .selectAll()
      .where('user_id', '=', userId)
      .where('id', '=', id);
    return (lock === 'key share' ? query.forKeyShare() : query).executeTakeFirst();
  },

  async findContactByAddress(
    q: Queryable,
    userId: string,
    method: ContactMethodType,
    address: string,
  ): Promise<ContactMethodRow | undefined> {
    return q
      .selectFrom('contact_methods')
      .selectAll()
      .where('user_id', '=', userId)
      .where('method', '=', method)
      .where(sql`lower(address)`, '=', address.toLowerCase())
      .executeTakeFirst();
  },

  async updateContact(
    q: Queryable,
    id: string,
    changes: {
      address?: string;
      given_to?: string | null;
      enabled?: boolean;
      verified_at?: Date | null;
      problem?: string | null;
      problem_at?: Date | null;
    },
  ): Promise<ContactMethodRow | undefined> {
    return q
      .updateTable('contact_methods')
      .set(changes)
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  },

  /** The ids of the contact methods of this kind at this address, whoever's they are. */
  async contactIdsAt(q: Queryable, method: ContactMethodType, address: string): Promise<string[]> {
    const rows = await q
      .selectFrom('contact_methods')
      .select('id')
      .where('method', '=', method)
      .where('address', '=', address)
      .execute();
    return rows.map((r) => r.id);
  },

  /**
   * Marks contact methods with what is wrong with them (an invalid number, an opt-out): they are not
   * paged until verified again. `unverify` also takes their verification away (the provider refused the
   * address itself).
   */
  async markContactProblem(
    q: Queryable,
    ids: readonly string[],
    problem: string,
    now: Date,
    options: { unverify: boolean },
  ): Promise<void> {
    if (ids.length === 0) return;
    await q
      .updateTable('contact_methods')
      .set({ problem, problem_at: now, ...(options.unverify ? { verified_at: null } : {}) })
      .where('id', 'in', [...ids])
      .execute();
  },

  /** Lifts one kind of problem (`problem`, exactly) from contact methods; others stay marked. */
  async clearContactProblem(q: Queryable, ids: readonly string[], problem: string): Promise<void> {
    if (ids.length === 0) return;
    await q
      .updateTable('contact_methods')
      .set({ problem: null, problem_at: null })
      .where('id', 'in', [...ids])
      .where('problem', '=', problem)
      .execute();
  },

  /** A code sent to the contact was entered: it is verified, and what was wrong with it is gone. */
  /** Marks the contact verified if its address is still `address`; false when it has changed (or is gone). */
  async markContactVerified(q: Queryable, id: string, address: string, now: Date): Promise<boolean> {
    const result = await q
      .updateTable('contact_methods')
      .set({ verified_at: now, problem: null, problem_at: null })
      .where('id', '=', id)
      .where('address', '=', address)
      .executeTakeFirst();
    return result.numUpdatedRows > 0n;
  },

  async deleteContact(q: Queryable, id: string): Promise<boolean> {
    const result = await q.deleteFrom('contact_methods').where('id', '=', id).executeTakeFirst();
    return result.numDeletedRows > 0n;
  },

  /** Takes a contact method out of every step of the user's rules that uses it. */
  async removeContactFromSteps(q: Queryable, userId: string, contactId: string): Promise<void> {
    await sql`
      UPDATE notification_rules
      SET steps = coalesce(
            (SELECT jsonb_agg(step ORDER BY n) FROM jsonb_array_elements(steps) WITH ORDINALITY AS s(step, n)
             WHERE step->>'contactId' <> ${contactId}),
            '[]'::jsonb),
          updated_at = now()
      WHERE user_id = ${userId} AND steps @> ${JSON.stringify([{ contactId }])}::jsonb
    `.execute(q);
  },

  // Notification rules

  async listRules(
    q: Queryable,
    userId: string,
    actionType?: NotificationActionType,
  ): Promise<NotificationRuleRow[]> {
    let query = q.selectFrom('notification_rules').selectAll().where('user_id', '=', userId);
    if (actionType) query = query.where('action_type', '=', actionType);
    return query.orderBy('action_type').orderBy('position').orderBy('created_at').orderBy('id').execute();
  },

  async findRule(q: Queryable, userId: string, id: string): Promise<NotificationRuleRow | undefined> {
    return q
      .selectFrom('notification_rules')
      .selectAll()
      .where('user_id', '=', userId)
      .where('id', '=', id)
      .executeTakeFirst();
  },

  async countRules(q: Queryable, userId: string, actionType: NotificationActionType): Promise<number> {
    const row = await q
      .selectFrom('notification_rules')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('user_id', '=', userId)
      .where('action_type', '=', actionType)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  },

  /** Moves the rules at positions [from, to] (to: the end when absent) of one action type by `by` (+1 or -1). */
  async shiftPositions(
    q: Queryable,
    userId: string,
    actionType: NotificationActionType,
    from: number,
    to: number | undefined,
    by: number,
  ): Promise<void> {
    let query = q
      .updateTable('notification_rules')
      .set((eb) => ({ position: eb('position', '+', by) }))
      .where('user_id', '=', userId)
      .where('action_type', '=', actionType)
      .where('position', '>=', from);
    if (to !== undefined) query = query.where('position', '<=', to);
    await query.execute();
  },

  async insertRule(
    q: Queryable,
    row: {
      user_id: string;
      name: string;
      action_type: NotificationActionType;
      criteria: Criteria;
      steps: NotificationRuleStep[];
      time_restriction?: TimeRestriction | null;
      repeat?: NotificationRuleRepeat | null;
      enabled: boolean;
      position: number;
    },
  ): Promise<NotificationRuleRow> {
    return q
      .insertInto('notification_rules')
      .values({
        ...row,
        criteria: JSON.stringify(row.criteria),
        steps: JSON.stringify(row.steps),
        time_restriction: jsonOrNull(row.time_restriction ?? null),
        repeat: jsonOrNull(row.repeat ?? null),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  async updateRule(
    q: Queryable,
    id: string,
    changes: {
      name?: string;
      criteria?: Criteria;
      steps?: NotificationRuleStep[];
      /** null takes it away; undefined leaves it. */
      time_restriction?: TimeRestriction | null;
      repeat?: NotificationRuleRepeat | null;
      enabled?: boolean;
      position?: number;
    },
  ): Promise<NotificationRuleRow | undefined> {
    return q
      .updateTable('notification_rules')
      .set({
        name: changes.name,
        enabled: changes.enabled,
        position: changes.position,
        criteria: changes.criteria === undefined ? undefined : JSON.stringify(changes.criteria),
        steps: changes.steps === undefined ? undefined : JSON.stringify(changes.steps),
        time_restriction:
          changes.time_restriction === undefined ? undefined : jsonOrNull(changes.time_restriction),
        repeat: changes.repeat === undefined ? undefined : jsonOrNull(changes.repeat),
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
  },

  async deleteRule(q: Queryable, id: string): Promise<void> {
    await q.deleteFrom('notification_rules').where('id', '=', id).execute();
  },
};

function jsonOrNull(value: object | null): string | null {
  return value === null ? null : JSON.stringify(value);
}

export interface NotificationSetup {
  user: UserRow;
  /** Enabled rules of the action type, in order. */
  rules: NotificationRuleRow[];
  /** Enabled contact methods by id; a step whose contact is not here is not sent. */
  contacts: Map<string, ContactMethodRow>;
}

/**
 * What the engine needs to notify these users of one kind of event: each user's enabled rules of that
 * action type in order, and their enabled contact methods. Blocked users (and unknown ids) are left out.
 * Two queries, whatever the number of users.
 */
export async function notificationSetupOf(
  q: Queryable,
  userIds: string[],
  actionType: NotificationActionType,
): Promise<
  Map<string, { user: UserRow; rules: NotificationRuleRow[]; contacts: Map<string, ContactMethodRow> }>
> {
  const setups = new Map<string, NotificationSetup>();
  const ids = [...new Set(userIds)];
  if (ids.length === 0) return setups;
  const [people, rules] = await Promise.all([
    q
      .selectFrom('users as u')
      .leftJoin('contact_methods as c', (join) =>
        join.onRef('c.user_id', '=', 'u.id').on('c.enabled', '=', true),
      )
      .selectAll('u')
      .select([
        'c.id as contact_id',
        'c.method as contact_method',
        'c.address as contact_address',
        'c.given_to as contact_given_to',
        'c.enabled as contact_enabled',
        'c.created_at as contact_created_at',
        'c.verified_at as contact_verified_at',
        'c.problem as contact_problem',
        'c.problem_at as contact_problem_at',
      ])
      .where(sql<boolean>`u.id = any(${ids}::uuid[])`)
      .where('u.blocked', '=', false)
      .orderBy('u.id')
      .orderBy('c.created_at')
      .execute(),
    q
      .selectFrom('notification_rules')
      .selectAll()
      .where(sql<boolean>`user_id = any(${ids}::uuid[])`)
      .where('action_type', '=', actionType)
      .where('enabled', '=', true)
      .orderBy('user_id')
      .orderBy('position')
      .orderBy('created_at')
      .orderBy('id')
      .execute(),
  ]);
  for (const row of people) {
    const {
      contact_id,
      contact_method,
      contact_address,
      contact_given_to,
      contact_enabled,
      contact_created_at,
      contact_verified_at,
      contact_problem,
      contact_problem_at,
      ...user
    } = row;
    let setup = setups.get(user.id);
    if (!setup) {
      setup = { user, rules: [], contacts: new Map() };
      setups.set(user.id, setup);
    }
    if (contact_id !== null && contact_method !== null && contact_address !== null) {
      setup.contacts.set(contact_id, {
        id: contact_id,
        user_id: user.id,
        method: contact_method,
        address: contact_address,
        given_to: contact_given_to,
        enabled: contact_enabled ?? true,
        created_at: contact_created_at ?? new Date(0),
        verified_at: contact_verified_at,
        problem: contact_problem,
        problem_at: contact_problem_at,
      });
    }
  }
  for (const rule of rules) setups.get(rule.user_id)?.rules.push(rule);
  return setups;
}
