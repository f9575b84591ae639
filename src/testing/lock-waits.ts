import pg from 'pg';

/**
 * Waits, inside PostgreSQL on `client`'s connection, until another session waits for a lock the client's
 * transaction holds, then runs `then` (a statement such as taking a second lock) in the same round trip.
 * Waiting and acting in the server means the next step follows the other side's wait at once, however busy
 * the test process is: what deadlock and lock-order tests need, since PostgreSQL checks a waiter for a
 * cycle once, deadlock_timeout after it began to wait. Raises `never` after `seconds` without a waiter.
 */
export async function whenWaitedFor(
  client: pg.Client,
  options: { then?: string; never: string; seconds?: number },
): Promise<void> {
  const quoted = (text: string) => `'${text.replaceAll("'", "''")}'`;
  await client.query(
    `DO $$
     DECLARE deadline timestamptz := clock_timestamp() + interval '${options.seconds ?? 30} seconds';
     BEGIN
       WHILE NOT EXISTS (SELECT 1 FROM pg_locks WHERE NOT granted AND pg_backend_pid() = ANY (pg_blocking_pids(pid))) LOOP
         IF clock_timestamp() > deadline THEN RAISE EXCEPTION '%', ${quoted(options.never)}; END IF;
         PERFORM pg_sleep(0.005);
       END LOOP;
       ${options.then ? `${options.then};` : ''}
     END $$`,
  );
}

/**
 * A second connection to play the other side of a race, its transaction begun; a lock it waits for gives
 * up after 30 s with an error rather than hanging the test. End it (`end()`) when done.
 */
export async function otherTransaction(connectionString: string): Promise<pg.Client> {
  const other = new pg.Client({ connectionString });
  await other.connect();
  await other.query('BEGIN');
  await other.query(`SET LOCAL lock_timeout = '30s'`);
  return other;
}
