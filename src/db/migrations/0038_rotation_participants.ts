import { sql, type Kysely } from 'kysely';

/**
 * Rotation participants of every type Opsgenie has: `schedule_rotations.participants` becomes a JSON list of
 * `{"type": "user" | "team" | "escalation", "id": ...}` and `{"type": "none"}` (a turn with nobody on call),
 * in turn order. It was a list of user ids. Going down keeps the users only.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE schedule_rotations ADD COLUMN participant_list jsonb NOT NULL DEFAULT '[]'`.execute(
    db,
  );
  await sql`
    UPDATE schedule_rotations SET participant_list = (
      SELECT coalesce(jsonb_agg(jsonb_build_object('type', 'user', 'id', p) ORDER BY n), '[]'::jsonb)
      FROM unnest(participants) WITH ORDINALITY AS u(p, n)
    )
  `.execute(db);
  await sql`ALTER TABLE schedule_rotations DROP COLUMN participants`.execute(db);
  await sql`ALTER TABLE schedule_rotations RENAME COLUMN participant_list TO participants`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE schedule_rotations ADD COLUMN user_ids uuid[] NOT NULL DEFAULT '{}'`.execute(db);
  await sql`
    UPDATE schedule_rotations SET user_ids = ARRAY(
      SELECT (p->>'id')::uuid FROM jsonb_array_elements(participants) WITH ORDINALITY AS e(p, n)
      WHERE p->>'type' = 'user' ORDER BY n
    )
  `.execute(db);
  await sql`ALTER TABLE schedule_rotations DROP COLUMN participants`.execute(db);
  await sql`ALTER TABLE schedule_rotations RENAME COLUMN user_ids TO participants`.execute(db);
}
