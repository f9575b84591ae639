import { sql, type Kysely } from 'kysely';

/**
 * A destination's throttle (SMS, voice) counted only the messages recorded as sent, so two rounds that
 * claimed messages to one phone at the same moment (the sender runs two side by side, and every worker
 * process runs its own) each let theirs through: two texts inside the minute. A message let through is
 * now marked (`let_through_at`) before it is sent, and counts against the throttle until its outcome is
 * recorded.
 *
 * `vigil_throttle_sends` is what counts: the sends recorded and those let through and being sent, with the
 * messages that went as one (the same instant, the same person: a bundle) as one send. (Two rounds could
 * only send to one person at one instant under a limit of two or more a window, which no throttle has.)
 * `vigil_throttle_let_through` marks what a round decided to let through, in one statement, under a
 * transaction lock per address, and returns what counted just before its marks (read after the locks
 * were granted, so with every other round's marks): the round sends only what that still allows. One
 * statement, because a transaction around the lock cost a busy sender five round trips a round.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`ALTER TABLE notifications ADD COLUMN let_through_at timestamptz`.execute(db);
  await sql`
    CREATE INDEX notifications_let_through ON notifications (method, address, let_through_at)
    WHERE state = 'sending' AND let_through_at IS NOT NULL
  `.execute(db);
  // Every transaction takes its advisory locks in one order (by key), so two never wait on each other in
  // a cycle: db/advisory-locks.ts and the throttle's check below both lock through this.
  await sql`
    CREATE FUNCTION vigil_lock_names(names text[]) RETURNS void LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
      PERFORM pg_advisory_xact_lock(k)
      FROM (SELECT DISTINCT hashtextextended(lock_name, 0) AS k FROM unnest(names) AS lock_name) AS wanted
      ORDER BY k;
    END
    $$
  `.execute(db);
  await sql`
    CREATE FUNCTION vigil_throttle_sends(methods text[], addresses text[], since timestamptz, except_ids uuid[])
    RETURNS TABLE (method text, address text, at timestamptz, who text)
    LANGUAGE sql STABLE AS $$
      WITH d AS (SELECT DISTINCT * FROM unnest(methods, addresses) AS d(method, address))
      SELECT DISTINCT s.method, s.address, s.at, s.who FROM (
        SELECT n.method, n.address, n.sent_at AS at, coalesce(n.user_id::text, n.destination_name) AS who
        FROM notifications n JOIN d ON n.method = d.method AND n.address = d.address
        WHERE n.state = 'sent' AND n.sent_at > since
        UNION ALL
        SELECT n.method, n.address, n.let_through_at, coalesce(n.user_id::text, n.destination_name)
        FROM notifications n JOIN d ON n.method = d.method AND n.address = d.address
        WHERE n.state = 'sending' AND n.let_through_at > since AND n.id <> ALL (except_ids)
      ) AS s
    $$
  `.execute(db);
  // VOLATILE: each statement inside reads a snapshot of its own, so the count sees what rounds that held
  // the locks before this one committed.
  await sql`
    CREATE FUNCTION vigil_throttle_let_through(lock_names text[], methods text[], addresses text[],
                                               since timestamptz, except_ids uuid[], mark_ids uuid[],
                                               marked_at timestamptz)
    RETURNS TABLE (method text, address text, at timestamptz, who text)
    LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
      -- Under repeatable read the count would be of a snapshot from before the locks were granted.
      IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'vigil_throttle_let_through needs read committed, not %',
          current_setting('transaction_isolation');
      END IF;
      PERFORM vigil_lock_names(lock_names);
      RETURN QUERY SELECT * FROM vigil_throttle_sends(methods, addresses, since, except_ids);
      UPDATE notifications SET let_through_at = marked_at WHERE id = ANY (mark_ids) AND state = 'sending';
    END
    $$
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION vigil_throttle_let_through`.execute(db);
  await sql`DROP FUNCTION vigil_throttle_sends`.execute(db);
  await sql`DROP FUNCTION vigil_lock_names`.execute(db);
  await sql`ALTER TABLE notifications DROP COLUMN let_through_at`.execute(db);
}
