import { sql, type Kysely } from 'kysely';

/**
 * The SMS and voice throttles counted the texts and calls recorded on the messages, and a message goes
 * with its alert (and its person): deleting an alert (DELETE /v2/alerts, a storm's noisy alerts in bulk)
 * made the throttle forget what was sent about it, and the next alert's text to that phone went at once,
 * a second inside the minute (or a fourth call inside 15 minutes). What a throttle counts is now kept
 * apart, in `throttle_sends`, whatever becomes of the message: a row when a round lets the message
 * through (`sent` false: it is being sent), `sent` once recorded sent (at its `sent_at`), removed when it
 * was held back or not sent after all. Retention deletes rows past the longest throttle window
 * (engine/retention.ts).
 *
 * `vigil_throttle_let_through_apart` is 0042's `vigil_throttle_let_through` (the same lock per address,
 * the same count just before the marks) with the marks made in `throttle_sends`. `vigil_throttle_sends`
 * counts `throttle_sends`, and still what processes from before this migration record on the messages
 * (their sends and their `let_through_at` marks, through the old function, which stays): while both
 * versions run, each counts the other's.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE throttle_sends (
      -- The message it was; no reference: the send counts after the message is deleted.
      notification_id uuid PRIMARY KEY,
      method text NOT NULL,
      address text NOT NULL,
      -- The person (or named destination) it was for: messages that went as one count as one send.
      who text,
      at timestamptz NOT NULL,
      sent boolean NOT NULL
    )
  `.execute(db);
  await sql`CREATE INDEX throttle_sends_address ON throttle_sends (method, address, at)`.execute(db);
  // What was sent within the longest window today (voice's 15 minutes) counts from the start. The
  // database's clock: a margin of an hour for the engine's, which retention deletes soon after.
  await sql`
    INSERT INTO throttle_sends (notification_id, method, address, who, at, sent)
    SELECT id, method, address, coalesce(user_id::text, destination_name), sent_at, true
    FROM notifications
    WHERE state = 'sent' AND method IN ('sms', 'voice') AND sent_at > now() - interval '1 hour'
  `.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION vigil_throttle_sends(methods text[], addresses text[], since timestamptz,
                                                    except_ids uuid[])
    RETURNS TABLE (method text, address text, at timestamptz, who text)
    LANGUAGE sql STABLE AS $$
      WITH d AS (SELECT DISTINCT * FROM unnest(methods, addresses) AS d(method, address))
      SELECT DISTINCT s.method, s.address, s.at, s.who FROM (
        SELECT t.method, t.address, t.at, t.who
        FROM throttle_sends t JOIN d ON t.method = d.method AND t.address = d.address
        WHERE t.at > since AND (t.sent OR t.notification_id <> ALL (except_ids))
        UNION ALL
        -- What processes from before migration 0084 record (a send of a newer one is also here, the same).
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
  await sql`
    CREATE FUNCTION vigil_throttle_let_through_apart(lock_names text[], methods text[], addresses text[],
                                                     since timestamptz, except_ids uuid[], mark_ids uuid[],
                                                     marked_at timestamptz)
    RETURNS TABLE (method text, address text, at timestamptz, who text)
    LANGUAGE plpgsql VOLATILE AS $$
    #variable_conflict use_column
    BEGIN
      IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'vigil_throttle_let_through_apart needs read committed, not %',
          current_setting('transaction_isolation');
      END IF;
      PERFORM vigil_lock_names(lock_names);
      RETURN QUERY SELECT * FROM vigil_throttle_sends(methods, addresses, since, except_ids);
      INSERT INTO throttle_sends AS t (notification_id, method, address, who, at, sent)
      SELECT n.id, n.method, n.address, coalesce(n.user_id::text, n.destination_name), marked_at, false
      FROM notifications n WHERE n.id = ANY (mark_ids) AND n.state = 'sending'
      ON CONFLICT (notification_id) DO UPDATE SET at = excluded.at WHERE NOT t.sent;
    END
    $$
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP FUNCTION vigil_throttle_let_through_apart`.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION vigil_throttle_sends(methods text[], addresses text[], since timestamptz,
                                                    except_ids uuid[])
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
  await sql`DROP TABLE throttle_sends`.execute(db);
}
