import { sql } from 'kysely';
import { type Queryable, isUuid } from '../../db/database.js';
import type { EscalationRow } from '../../db/schema.js';
import type { EscalationRecipient, EscalationRepeat, EscalationRule } from '../model.js';

/** The SQL for escalation policies, and the look-ups of the people, teams and schedules they notify. */

/**
 * The stored repeat: the engine's fields, and Opsgenie's resetRecipientStates, kept so that what a client
 * sets is what it reads back.
 */
export type StoredRepeat = EscalationRepeat & { resetRecipientStates?: boolean };

export type EscalationWithOwner = EscalationRow & { owner_team_name: string | null };

/** Row locks a caller may take on an escalation it reads inside a transaction. */
export type EscalationLock = 'update' | 'key share';

export interface RecipientNames {
  users: Map<string, string>;
  teams: Map<string, string>;
  schedules: Map<string, string>;
}

function withOwner(q: Queryable) {
  return q
    .selectFrom('escalations as e')
    .leftJoin('teams as t', 't.id', 'e.owner_team_id')
    .selectAll('e')
    .select('t.name as owner_team_name');
}

export const escalationsRepository = {
  async find(
    q: Queryable,
    orgId: string,
    identifier: string,
    by: 'id' | 'name',
    lock?: EscalationLock,
  ): Promise<EscalationWithOwner | undefined> {
    if (by === 'id' && !isUuid(identifier)) return undefined;
    let query = withOwner(q)
      .where('e.org_id', '=', orgId)
      .where((eb) =>
        by === 'id' ? eb('e.id', '=', identifier) : eb(sql`lower(e.name)`, '=', identifier.toLowerCase()),
      );
    // Only the escalation's row: the owner team is joined for its name, not to be locked.
    if (lock === 'update') query = query.forUpdate('e');
    if (lock === 'key share') query = query.forKeyShare('e');
    return query.executeTakeFirst();
  },

  /** The policy as routing hands it to the engine. */
  async byId(q: Queryable, id: string) {
    return q
      .selectFrom('escalations')
      .select(['id', 'name', 'rules', 'repeat'])
      .where('id', '=', id)
      .executeTakeFirst();
  },

  async list(q: Queryable, orgId: string): Promise<EscalationWithOwner[]> {
    return withOwner(q)
      .where('e.org_id', '=', orgId)
      .orderBy(sql`lower(e.name)`)
      .orderBy('e.id')
      .execute();
  },

  async insert(
    q: Queryable,
    row: {
      org_id: string;
      name: string;
      description: string;
      owner_team_id: string | null;
      rules: EscalationRule[];
      repeat: StoredRepeat | null;
    },
  ): Promise<{ id: string; name: string }> {
    return q
      .insertInto('escalations')
      .values({
        ...row,
        rules: JSON.stringify(row.rules),
        repeat: row.repeat === null ? null : JSON.stringify(row.repeat),
      })
      .returning(['id', 'name'])
      .executeTakeFirstOrThrow();
  },

  async update(
    q: Queryable,
    id: string,
    changes: {
      name?: string;
      description?: string;
      owner_team_id?: string | null;
      rules?: EscalationRule[];
      repeat?: StoredRepeat | null;
    },
  ): Promise<{ id: string; name: string } | undefined> {
    return q
      .updateTable('escalations')
      .set({
        name: changes.name,
        description: changes.description,
        owner_team_id: changes.owner_team_id,
        rules: changes.rules === undefined ? undefined : JSON.stringify(changes.rules),
        repeat:
          changes.repeat === undefined
            ? undefined
            : changes.repeat === null
              ? null
              : JSON.stringify(changes.repeat),
        updated_at: new Date(),
      })
      .where('id', '=', id)
      .returning(['id', 'name'])
      .executeTakeFirst();
  },

  async delete(q: Queryable, id: string): Promise<void> {
    await q.deleteFrom('escalations').where('id', '=', id).execute();
  },

  /** The names of the recipients the given rules notify (those that still exist), in three queries at most. */
  async recipientNames(
    q: Queryable,
    orgId: string,
    recipients: EscalationRecipient[],
  ): Promise<RecipientNames> {
    const namesOf = async (type: EscalationRecipient['type']) => {
      const ids = [...new Set(recipients.filter((r) => r.type === type).map((r) => r.id))];
      if (ids.length === 0) return new Map<string, string>();
      const rows =
        type === 'user'
          ? await q
              .selectFrom('users')
              .select(['id', 'username as name'])
              .where('org_id', '=', orgId)
              .where('id', 'in', ids)
              .execute()
          : await q
              .selectFrom(type === 'team' ? 'teams' : 'schedules')
              .select(['id', 'name'])
              .where('org_id', '=', orgId)
              .where('id', 'in', ids)
              .execute();
      return new Map(rows.map((r) => [r.id, r.name]));
    };
    const [users, teams, schedules] = await Promise.all([
      namesOf('user'),
      namesOf('team'),
      namesOf('schedule'),
    ]);
    return { users, teams, schedules };
  },

  /** The escalations of an organization whose rules notify this user, team or schedule. */
  async usingRecipient(
    q: Queryable,
    orgId: string,
    recipient: EscalationRecipient,
  ): Promise<{ id: string; name: string }[]> {
    return q
      .selectFrom('escalations')
      .select(['id', 'name'])
      .where('org_id', '=', orgId)
      .where(
        sql<boolean>`rules @> ${JSON.stringify([{ recipient: { type: recipient.type, id: recipient.id } }])}::jsonb`,
      )
      .orderBy('name')
      .execute();
  },
};
