import { Kysely, PostgresDialect, sql, type Transaction } from 'kysely';
import pg from 'pg';
import { preparingPool } from './prepared.js';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Either the database or an open transaction: repositories accept both so services choose the boundary. */
export type Queryable = Db | Tx;

/**
 * How long opening a connection may take. Without a bound, a DATABASE_URL whose host drops packets
 * holds start-up for the system's TCP timeout (about two minutes) without a word, and /readyz with it.
 */
export const CONNECT_TIMEOUT_MS = 10_000;
/**
 * When the operating system starts probing an idle connection (TCP keepalive). A database that vanishes
 * without closing its connections (a failover, a NAT or firewall forgetting them) leaves a query waiting
 * for an answer that never comes, and the wake-up connection deaf, without an error; the probes going
 * unanswered fail the connection, which ends the query with an error the round is retried after. The
 * probes' interval and count are the system's (Linux: 75 s, 9 times), since Node sets only this delay.
 */
export const KEEPALIVE_INITIAL_DELAY_MS = 10_000;
/** pg's words for a connection not opened within its timeout (the client's, the pool's), with no code. */
const CONNECT_TIMEOUT_MESSAGES = new Set([
  'timeout expired',
  'Connection terminated due to connection timeout',
]);

// bigint (int8) as string is pg's default; timestamps stay Date. Counts from COUNT(*) are int8 too.
export function createPool(
  connectionString: string,
  max = 20,
  options: { statementTimeoutMs?: number; applicationName?: string; connectTimeoutMs?: number } = {},
): pg.Pool {
  const connectTimeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  const pool = new pg.Pool({
    connectionString,
    max,
    application_name: options.applicationName ?? 'vigil',
    // The timeout bounds opening a connection only: the pool's own connectionTimeoutMillis would also
    // fail a request that waits for a free connection behind a burst, which must wait instead.
    Client: class extends pg.Client {
      constructor(config?: string | pg.ClientConfig) {
        super({
          ...(typeof config === 'string' ? { connectionString: config } : config),
          connectionTimeoutMillis: connectTimeoutMs,
          keepAlive: true,
          keepAliveInitialDelayMillis: KEEPALIVE_INITIAL_DELAY_MS,
        });
        // The pool hears a client's errors only while it is idle. Checked out but between statements (the
        // migration lock's connection, a transaction awaiting its code), a session the server ends (a
        // shutdown, pg_terminate_backend) has no query to fail, and an unheard 'error' ends the process.
        // Heard here, the client turns unusable: its next statement fails and its release drops it.
        this.on('error', () => {});
      }
    },
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => {});
  return pool;
}

/** `prepare`: send the statements `prepared()` names as named prepared statements (see prepared.ts). */
export function createDb(pool: pg.Pool, options: { prepare?: boolean } = {}): Db {
  return new Kysely<Database>({
    dialect: new PostgresDialect({ pool: preparingPool(pool, options.prepare ?? true) }),
  });
}

/** True for errors that mean "the database is not reachable right now" rather than "this query is wrong". */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof Error && CONNECT_TIMEOUT_MESSAGES.has(error.message)) return true;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'ETIMEDOUT' ||
    code === '57P01' || // admin_shutdown
    code === '57P02' ||
    code === '57P03' || // cannot_connect_now
    // Connection exceptions, but for protocol_violation: the server answers it to a statement it cannot
    // take (more parameters than the protocol carries), which no retry fixes.
    (code.startsWith('08') && code !== '08P01')
  );
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Whether a string can be compared with a uuid column: PostgreSQL refuses the comparison otherwise, so
 * lookups by an identifier that may be a name check this first.
 */
export function isUuid(value: string): boolean {
  return UUID.test(value);
}

/** A uuid no row has, for "match nothing" without a special case in the query. */
export const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/** A unique index refused the row (PostgreSQL's unique_violation). */
export function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string } | null)?.code === '23505';
}

function sqlState(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * True when trying the same thing again may succeed: the database is unreachable, or this transaction lost
 * a race (deadlock, serialization failure, lock or statement timeout), or the server is short of resources.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  const code = sqlState(error);
  if (code === undefined) return false;
  return (
    isDatabaseUnavailable(error) ||
    code === '40P01' || // deadlock_detected
    code === '40001' || // serialization_failure
    code === '55P03' || // lock_not_available
    code === '57014' || // query_canceled (statement_timeout)
    code.startsWith('53') // insufficient resources
  );
}

/** This transaction lost a race with another (a deadlock, a serialization failure): running it again may succeed. */
export function isLostRace(error: unknown): boolean {
  const code = sqlState(error);
  return code === '40P01' || code === '40001';
}

/**
 * Runs a whole transaction again when it lost a race, at most `tries` times in all. For transactions that
 * lock many rows in an order other writers do not share (a bulk action against batched creates), where
 * PostgreSQL's deadlock detector aborts one side and trying again is the remedy.
 */
export async function retryLostRaces<T>(work: () => Promise<T>, tries = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= tries || !isLostRace(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt * Math.random()));
    }
  }
}

/**
 * True when PostgreSQL refused a value itself (a data exception, such as text it cannot store or a number
 * out of range, or a value too large for an index): sending the same value again can never succeed.
 */
export function isUnstorableValue(error: unknown): boolean {
  const code = sqlState(error);
  return code !== undefined && (code.startsWith('22') || code === '54000');
}

/**
 * Runs `work` behind a savepoint of the caller's transaction: a failure rolls back its own writes only and
 * comes back as the error, so the caller can go on with the rest. Transient database trouble is thrown on
 * instead, since then the whole transaction must go again.
 */
export async function withSavepoint<T>(
  tx: Tx,
  work: () => Promise<T>,
): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  await sql`SAVEPOINT isolated`.execute(tx);
  try {
    const value = await work();
    await sql`RELEASE SAVEPOINT isolated`.execute(tx);
    return { ok: true, value };
  } catch (error) {
    if (isTransientDatabaseError(error)) throw error;
    await sql`ROLLBACK TO SAVEPOINT isolated`.execute(tx);
    return { ok: false, error };
  }
}
