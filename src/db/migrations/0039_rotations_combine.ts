import { sql, type Kysely } from 'kysely';

/**
 * How a schedule's rotations make who is on call (src/oncall/schedule.ts): 'all', Opsgenie's cumulative
 * schedules where every rotation's participant is on call at once, or 'layers', where the highest rotation
 * with someone wins. Schedules made before this migration were computed as layers and keep that (nobody's
 * paging changes under them on upgrade); those made from now on default to Opsgenie's 'all'.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE schedules
      ADD COLUMN rotations_combine text NOT NULL DEFAULT 'layers'
        CONSTRAINT schedules_rotations_combine CHECK (rotations_combine IN ('all', 'layers'));
    ALTER TABLE schedules ALTER COLUMN rotations_combine SET DEFAULT 'all';
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE schedules DROP COLUMN rotations_combine`.execute(db);
}
