import { Kysely, PostgresDialect, type Transaction } from 'kysely';
import pg from 'pg';
import type { Database } from './schema.js';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Either the database or an open transaction: repositories accept both so services choose the boundary. */
export type Queryable = Db | Tx;

// bigint (int8) as string is pg's default; timestamps stay Date. Counts from COUNT(*) are int8 too.
export function createPool(connectionString: string, max = 20): pg.Pool {
  const pool = new pg.Pool({ connectionString, max, application_name: 'vigil' });
  // An idle client losing its connection (database restart) must not crash the process.
  pool.on('error', () => {});
  return pool;
}

export function createDb(pool: pg.Pool): Db {
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}

/** True for errors that mean "the database is not reachable right now" rather than "this query is wrong". */
export function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return (
    code === 'ECONNREFUSED' ||
    code === 'ECONNRESET' ||
    code === 'ETIMEDOUT' ||
    code === '57P01' || // admin_shutdown
    code === '57P02' ||
    code === '57P03' || // cannot_connect_now
    code.startsWith('08') // connection exceptions
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
