import type {
  PostgresCursor,
  PostgresPool,
  PostgresPoolClient,
  PostgresQueryResult,
  QueryResult,
  RawBuilder,
} from 'kysely';
import type pg from 'pg';
import type { Queryable } from './database.js';

/**
 * Named prepared statements for the busiest paths (an alert's create, the queues' claims and inserts).
 * PostgreSQL parses and plans an unnamed statement on every call; for these long statements that was
 * about a third of its CPU while alerts were made (docs/performance.md). A named one is parsed once per
 * connection and, once PostgreSQL finds a generic plan as good, planned once too.
 *
 * Only statements whose text never varies belong here (values as parameters, no lists spliced in): each
 * text is one statement every connection keeps for its life. `MAX_NAMED` bounds that should one slip in.
 */
const MAX_NAMED = 200;
const names = new Map<string, string>();

/** Runs `query` as a named prepared statement (where the database allows it: see `preparingPool`). */
export function prepared<R>(query: RawBuilder<R>): { execute(db: Queryable): Promise<QueryResult<R>> } {
  return {
    execute(db: Queryable): Promise<QueryResult<R>> {
      const compiled = query.compile(db);
      if (!names.has(compiled.sql) && names.size < MAX_NAMED) {
        names.set(compiled.sql, `vigil_${names.size + 1}`);
      }
      return db.executeQuery(compiled);
    },
  };
}

// After a schema change under a running process, a kept statement can fail where a fresh one would not
// ("cached plan must not change result type"), and a pooler in front of PostgreSQL may have lost it: the
// connection is dropped when released, so that the next one parses afresh. Outside a transaction the
// failed statement changed nothing, so it runs again at once, unnamed: a rolling upgrade that adds a
// column costs no request. In a transaction it cannot (the transaction is spoiled); the caller's retry
// runs on a fresh connection.
const STALE_STATEMENT = new Set(['0A000', '26000']);

function isStale(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && STALE_STATEMENT.has(code);
}

class PreparingClient implements PostgresPoolClient {
  private stale = false;

  constructor(private readonly client: pg.PoolClient) {}

  query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>>;
  query<R>(cursor: PostgresCursor<R>): PostgresCursor<R>;
  query<R>(
    sqlOrCursor: string | PostgresCursor<R>,
    parameters?: ReadonlyArray<unknown>,
  ): Promise<PostgresQueryResult<R>> | PostgresCursor<R> {
    // Kysely hands pg its own cursor objects for streams: those pass as they are.
    if (typeof sqlOrCursor !== 'string') return this.client.query(sqlOrCursor as never) as PostgresCursor<R>;
    const name = names.get(sqlOrCursor);
    const values = [...(parameters ?? [])];
    let answer: Promise<pg.QueryResult>;
    if (name === undefined) {
      answer = this.client.query(sqlOrCursor, values);
    } else {
      const alone = this.client.getTransactionStatus() === 'I';
      answer = this.client.query({ name, text: sqlOrCursor, values }).catch((error: unknown) => {
        if (!isStale(error)) throw error;
        this.stale = true;
        if (!alone) throw error;
        return this.client.query(sqlOrCursor, values);
      });
    }
    // pg's result is what Kysely reads (it types `command` more narrowly than pg does).
    return answer as unknown as Promise<PostgresQueryResult<R>>;
  }

  release(destroy?: boolean): void {
    this.client.release(destroy === true || this.stale);
  }
}

/**
 * The pool Kysely is given: named statements go to PostgreSQL as such. With `prepare` off (a pooler in
 * transaction mode that does not keep prepared statements), every statement is sent unnamed.
 */
export function preparingPool(pool: pg.Pool, prepare: boolean): PostgresPool {
  if (!prepare) return pool;
  return {
    connect: async () => new PreparingClient(await pool.connect()),
    end: () => pool.end(),
  };
}
