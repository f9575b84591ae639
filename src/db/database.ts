import { AsyncLocalStorage, AsyncResource } from 'node:async_hooks';
import net from 'node:net';
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
 * without closing its connections (a failover, a NAT or firewall forgetting them) leaves a connection
 * deaf without an error; the probes going unanswered fail an idle one (a pooled connection, the wake-up
 * listener's between statements). They do not probe a connection whose statement went unanswered (its
 * data is unacknowledged): createPool's queryTimeoutMs bounds those. The probes' interval and count are
 * the system's (Linux: 75 s, 9 times), since Node sets only this delay.
 */
export const KEEPALIVE_INITIAL_DELAY_MS = 10_000;
/** pg's words for a connection not opened within its timeout (the client's, the pool's), with no code. */
const CONNECT_TIMEOUT_MESSAGES = new Set([
  'timeout expired',
  'Connection terminated due to connection timeout',
]);

/**
 * How much longer than the API pool's statement_timeout its statements are given before the client gives
 * up on them itself: PostgreSQL's own stop (57014, a 503 that says so) comes first while it answers at all.
 */
export const STATEMENT_TIMEOUT_MARGIN_MS = 5_000;

/**
 * A statement the database did not answer within its pool's bound (`queryTimeoutMs`): its connection was
 * closed under it. The code is a socket's that timed out, so the error reads as the database being
 * unreachable (isDatabaseUnavailable, isTransientDatabaseError): a round is tried again on a fresh
 * connection, a request answers 503.
 */
export class DatabaseNotAnsweringError extends Error {
  readonly code = 'ETIMEDOUT';
  constructor(readonly waitedMs: number) {
    super(`the database did not answer within ${waitedMs / 1000} s; the connection was closed`);
    this.name = 'DatabaseNotAnsweringError';
  }
}

/**
 * Closes a client's connection at once, failing what it runs (and any later statement) with `error`, and
 * the client's 'error' listeners hear it. Ending it politely would wait for a database that does not answer.
 */
export function dropConnection(client: pg.Client, error: Error): void {
  client.connection.stream.destroy(error);
}

/** How much longer than its pool's bound a statement started by the current work may take (ms). */
const allowance = new AsyncLocalStorage<number>();

/**
 * Runs `work` with its statements given `extraMs` more than their pool's client-side bound: a retention
 * purge may rightly scan for minutes, an attachment's upload spends time just sending its bytes. Still
 * bounded, so that a database gone silent under one holds a connection for that long, not for as long
 * as TCP takes to give up (some 15 minutes) or for good. Only statements started by `work` itself get
 * it: the connections it opens are opened outside it (see createPool), so what they carry later for
 * others (the wake-up listener's events on a connection the pool handed on) keeps the pool's bound.
 */
export function withQueryAllowance<T>(extraMs: number, work: () => Promise<T>): Promise<T> {
  return allowance.run(extraMs, work);
}

/**
 * Runs `work` with no client-side bound on its statements: the migrations (an index built on a big table
 * may rightly take as long as it takes, and waiting for another process's migrations as long as they do).
 */
export function withoutQueryTimeout<T>(work: () => Promise<T>): Promise<T> {
  return allowance.run(Infinity, work);
}

/** How long the request to cancel a statement past its bound may take to reach the server. */
export const CANCEL_TIMEOUT_MS = 2_000;

/**
 * Asks PostgreSQL to stop the statement `client`'s session runs (a CancelRequest, on a connection of its
 * own: the session's is taken by that statement). Closing the session's connection alone does not stop
 * it: the server notices a client gone only when it writes to it, so the statement would run on and
 * commit, beside the retry of the work it belongs to. Best effort: a server that does not answer (the
 * case the connection's close is for) gets nothing, and nothing waits for it.
 */
export function cancelStatement(client: pg.Client): void {
  const { processID, secretKey } = client as unknown as { processID?: number; secretKey?: number };
  if (typeof processID !== 'number' || typeof secretKey !== 'number') return;
  const request = Buffer.alloc(16);
  request.writeInt32BE(16, 0);
  request.writeInt32BE(80877102, 4); // the cancel request code
  request.writeInt32BE(processID, 8);
  request.writeInt32BE(secretKey, 12);
  const socket = client.host.startsWith('/')
    ? net.connect(`${client.host}/.s.PGSQL.${client.port}`)
    : net.connect(client.port, client.host);
  socket.setTimeout(CANCEL_TIMEOUT_MS, () => socket.destroy());
  socket.on('error', () => socket.destroy());
  socket.on('connect', () => socket.end(request));
}

type ConnectCallback = Parameters<pg.Client['connect']>[0] & {};

type QueryMethod = (this: pg.Client, ...args: unknown[]) => unknown;

/**
 * pg's query, failing a statement the database has not answered within `timeoutMs`: PostgreSQL is asked to
 * cancel it, and its connection is closed. pg's own query_timeout is not enough: it rejects the promise but
 * leaves the statement active on the client, which goes back to the pool, and every later statement queues
 * behind it. Statements answered by promise or by a trailing callback (pool.query's) are bounded; others
 * (a cursor, a config object with its own callback) are left alone, as nothing here sees them end.
 */
function boundedQuery(client: pg.Client, timeoutMs: number): QueryMethod {
  const query = pg.Client.prototype.query as QueryMethod;
  return (...args) => {
    const last = args.at(-1);
    const callback = typeof last === 'function' ? (last as (...results: unknown[]) => void) : undefined;
    const config = typeof args[0] === 'object' && args[0] !== null ? args[0] : undefined;
    // A cursor (Kysely's streams) answers by events instead; a config object by its own callback.
    const unseen = !callback && config !== undefined && ('submit' in config || 'callback' in config);
    const boundMs = timeoutMs + (allowance.getStore() ?? 0);
    if (unseen || boundMs === Infinity) return query.apply(client, args);
    const timer = setTimeout(() => {
      cancelStatement(client);
      dropConnection(client, new DatabaseNotAnsweringError(boundMs));
    }, boundMs).unref();
    if (callback) {
      args[args.length - 1] = (...results: unknown[]) => {
        clearTimeout(timer);
        callback(...results);
      };
    }
    let answer: unknown;
    try {
      answer = query.apply(client, args);
    } catch (error) {
      // Armed on, the timer would later close the connection under another caller's statement.
      clearTimeout(timer);
      throw error;
    }
    if (answer instanceof Promise) return answer.finally(() => clearTimeout(timer));
    if (!callback) clearTimeout(timer);
    return answer;
  };
}

// bigint (int8) as string is pg's default; timestamps stay Date. Counts from COUNT(*) are int8 too.
export function createPool(
  connectionString: string,
  max = 20,
  options: {
    statementTimeoutMs?: number;
    /**
     * The longest the client waits for the answer to a statement before it closes the connection (see
     * boundedQuery): statement_timeout is the server's, and a database gone silent (a failover behind a
     * NAT or a pooler, a host blackholed) enforces nothing. The wait of a connection between statements
     * (the wake-up listener's) is not bounded, nor are statements in `withoutQueryTimeout`; those in `withQueryAllowance` get longer.
     */
    queryTimeoutMs?: number;
    applicationName?: string;
    connectTimeoutMs?: number;
  } = {},
): pg.Pool {
  const connectTimeoutMs = options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS;
  const { queryTimeoutMs } = options;
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
        if (queryTimeoutMs) this.query = boundedQuery(this, queryTimeoutMs) as pg.Client['query'];
      }

      // Opened outside any withoutQueryTimeout or withQueryAllowance: a socket keeps the async context it was opened in for
      // every event it emits, so one opened by the migrations, pooled and handed on (the wake-up
      // listener's, usually), would run its later events' handlers, and the statements they start, exempt.
      override connect(): Promise<pg.Client>;
      override connect(callback: ConnectCallback): void;
      override connect(callback?: ConnectCallback): Promise<pg.Client> | void {
        return allowance.exit(() => (callback ? super.connect(callback) : super.connect()));
      }
    },
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  // A caller waiting for a connection by callback (pool.query's) is handed one inside the release that
  // freed it, in the releaser's async context: one freed by withoutQueryTimeout's work would run the
  // waiter's statement exempt. Its callback keeps its own context instead.
  const connect = pool.connect.bind(pool);
  pool.connect = ((callback?: Parameters<typeof connect>[0]) =>
    callback ? connect(AsyncResource.bind(callback)) : connect()) as typeof pool.connect;
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

// What pg says, without a code, of a connection lost under a statement or used after it was lost. Not
// 'Connection terminated' nor 'Client was closed and is not queryable': pg says those only of a client
// Vigil itself ended (a bug or a shutdown race), which no retry mends and no outage explains.
const CONNECTION_LOST_MESSAGES = new Set([
  'Connection terminated unexpectedly',
  'Client has encountered a connection error and is not queryable',
]);

// Reaching the server failed in the network or the name service: its unix socket is gone while it
// restarts (ENOENT), its host has no route or no address during a failover, its socket closed under a
// write. Only from a socket's own calls: the same codes from a file or elsewhere are no database's.
const UNREACHABLE_CODES = new Set([
  'ENOENT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'ENOTFOUND',
  'EPIPE',
]);
const SOCKET_CALLS = new Set(['connect', 'getaddrinfo', 'write']);

/** True for errors that mean "the database is not reachable right now" rather than "this query is wrong". */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (error instanceof Error && CONNECT_TIMEOUT_MESSAGES.has(error.message)) return true;
  if (error instanceof Error && CONNECTION_LOST_MESSAGES.has(error.message)) return true;
  const { code, syscall } = (error ?? {}) as { code?: unknown; syscall?: unknown };
  if (typeof code !== 'string') return false;
  if (UNREACHABLE_CODES.has(code)) return typeof syscall === 'string' && SOCKET_CALLS.has(syscall);
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
  if (isDatabaseUnavailable(error)) return true;
  const code = sqlState(error);
  if (code === undefined) return false;
  return (
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
