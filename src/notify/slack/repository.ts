import { sql } from 'kysely';
import type { Queryable } from '../../db/database.js';

/** The Slack module's tables: the messages it posted, and which Slack user is which Vigil user. */
export const slackRepository = {
  async findMessage(db: Queryable, destinationId: string, alertId: string) {
    return db
      .selectFrom('slack_messages')
      .selectAll()
      .where('destination_id', '=', destinationId)
      .where('alert_id', '=', alertId)
      .executeTakeFirst();
  },

  /** The Vigil message a button was pressed on, with its destination's organization. */
  async messageAt(db: Queryable, channel: string, ts: string) {
    return db
      .selectFrom('slack_messages')
      .selectAll()
      .where('channel', '=', channel)
      .where('ts', '=', ts)
      .executeTakeFirst();
  },

  async saveMessage(
    db: Queryable,
    row: {
      destination_id: string;
      alert_id: string;
      org_id: string;
      channel: string;
      ts: string;
      title: string;
    },
  ): Promise<void> {
    await db
      .insertInto('slack_messages')
      .values(row)
      .onConflict((oc) =>
        oc.columns(['destination_id', 'alert_id']).doUpdateSet({
          channel: row.channel,
          ts: row.ts,
          title: row.title,
          updated_at: new Date(),
        }),
      )
      .execute();
  },

  /**
   * After an edit: the title the message now shows, which a deleted alert's message keeps and the note
   * form names.
   */
  async touchMessage(db: Queryable, destinationId: string, alertId: string, title: string): Promise<void> {
    await db
      .updateTable('slack_messages')
      .set({ title, updated_at: new Date() })
      .where('destination_id', '=', destinationId)
      .where('alert_id', '=', alertId)
      .execute();
  },

  async deleteMessage(db: Queryable, destinationId: string, alertId: string): Promise<void> {
    await db
      .deleteFrom('slack_messages')
      .where('destination_id', '=', destinationId)
      .where('alert_id', '=', alertId)
      .execute();
  },

  /**
   * The linked Vigil user, and whether an admin made the link: the link for the first of `workspaces`
   * that has one, else one made without naming a workspace. The workspaces are those of the click: the
   * presser's own (`user.team_id`, a partner's in a Slack Connect channel) and the app's (`team.id`, under
   * which the email match links). A link naming any other workspace is not the presser's.
   */
  async linkedUser(db: Queryable, orgId: string, workspaces: (string | undefined)[], slackUserId: string) {
    const order = [...new Set(workspaces.filter((w): w is string => !!w)), ''];
    const row = await db
      .selectFrom('slack_user_links as l')
      .innerJoin('users as u', 'u.id', 'l.user_id')
      .selectAll('u')
      .select('l.by_admin as link_by_admin')
      .where('l.org_id', '=', orgId)
      .where('l.slack_user_id', '=', slackUserId)
      .where('l.slack_team_id', 'in', order)
      .orderBy(sql`array_position(${order}::text[], l.slack_team_id)`)
      .executeTakeFirst();
    if (!row) return undefined;
    const { link_by_admin: byAdmin, ...user } = row;
    return { user, byAdmin };
  },

  async link(
    db: Queryable,
    row: { org_id: string; slack_team_id: string; slack_user_id: string; user_id: string; by_admin: boolean },
  ): Promise<void> {
    await db
      .insertInto('slack_user_links')
      .values(row)
      .onConflict((oc) =>
        oc
          .columns(['org_id', 'slack_team_id', 'slack_user_id'])
          .doUpdateSet({ user_id: row.user_id, by_admin: row.by_admin }),
      )
      .execute();
  },

  async linksOfUser(db: Queryable, userId: string) {
    return db
      .selectFrom('slack_user_links')
      .select(['slack_team_id', 'slack_user_id', 'created_at'])
      .where('user_id', '=', userId)
      .orderBy('created_at')
      .execute();
  },

  /** Removes every link of a Slack user in the organization, whichever workspace it is under. */
  async unlinkSlackUser(db: Queryable, orgId: string, slackUserId: string): Promise<void> {
    await db
      .deleteFrom('slack_user_links')
      .where('org_id', '=', orgId)
      .where('slack_user_id', '=', slackUserId)
      .execute();
  },

  async unlinkUser(db: Queryable, userId: string): Promise<number> {
    const result = await db.deleteFrom('slack_user_links').where('user_id', '=', userId).executeTakeFirst();
    return Number(result.numDeletedRows);
  },

  /**
   * Removes the links an admin made to the user (`byAdmin`), or those the email match made; how many went.
   * The email match's go at a new login email: the match vouched for the old one, perhaps mistyped and
   * someone else's.
   */
  async unlinkLinksOfUser(db: Queryable, userId: string, byAdmin: boolean): Promise<number> {
    const result = await db
      .deleteFrom('slack_user_links')
      .where('user_id', '=', userId)
      .where('by_admin', '=', byAdmin)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  },

  /** The roles of the Vigil users a Slack user is linked to in the organization, in any workspace. */
  async rolesLinkedTo(db: Queryable, orgId: string, slackUserId: string) {
    const rows = await db
      .selectFrom('slack_user_links as l')
      .innerJoin('users as u', 'u.id', 'l.user_id')
      .select('u.role')
      .where('l.org_id', '=', orgId)
      .where('l.slack_user_id', '=', slackUserId)
      .execute();
    return rows.map((r) => r.role);
  },

  /** Whether an admin unlinked the Slack user, so that the email match must not link them again. */
  async emailMatchOff(db: Queryable, orgId: string, slackUserId: string): Promise<boolean> {
    const row = await db
      .selectFrom('slack_email_match_off')
      .select('slack_user_id')
      .where('org_id', '=', orgId)
      .where('slack_user_id', '=', slackUserId)
      .executeTakeFirst();
    return row !== undefined;
  },

  async turnEmailMatchOff(db: Queryable, orgId: string, slackUserIds: string[]): Promise<void> {
    if (slackUserIds.length === 0) return;
    await db
      .insertInto('slack_email_match_off')
      .values([...new Set(slackUserIds)].map((id) => ({ org_id: orgId, slack_user_id: id })))
      .onConflict((oc) => oc.columns(['org_id', 'slack_user_id']).doNothing())
      .execute();
  },

  async turnEmailMatchOn(db: Queryable, orgId: string, slackUserId: string): Promise<void> {
    await db
      .deleteFrom('slack_email_match_off')
      .where('org_id', '=', orgId)
      .where('slack_user_id', '=', slackUserId)
      .execute();
  },
};
