import { sql, type Kysely } from 'kysely';

/**
 * Where each member stands in their team's list. Opsgenie keeps a team's members in the order given, and
 * its Terraform provider reads `member` back as an ordered list: listed by username, any other order is a
 * change on every plan. Members already stored keep the order they were listed in (by username).
 * Positions only order: they may have gaps (a member removed) or ties (two added at once; username breaks those).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE team_members ADD COLUMN position integer;
    UPDATE team_members m
       SET position = ranked.position
      FROM (
        SELECT tm.team_id, tm.user_id,
               (row_number() OVER (PARTITION BY tm.team_id ORDER BY u.username, u.id) - 1)::integer AS position
          FROM team_members tm
          JOIN users u ON u.id = tm.user_id
      ) ranked
     WHERE m.team_id = ranked.team_id AND m.user_id = ranked.user_id;
    ALTER TABLE team_members ALTER COLUMN position SET NOT NULL;
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE team_members DROP COLUMN position`.execute(db);
}
