import { Kysely, sql } from 'kysely';
import type pg from 'pg';
import { createDb, createPool, type Db } from '../db/database.js';
import { pendingMigrations } from '../db/migrate.js';
import type { HttpApp } from './server.js';

/**
 * How long /readyz waits for the database: a load balancer's probe must get its 503 while it still
 * waits, not a hung request (a connection to an unreachable host takes up to the pools' connect timeout).
 */
export const READY_TIMEOUT_MS = 5_000;

/** What the readiness probe answers in place of the database's error, which the server log has. */
const SEE_THE_LOG = 'see the server log';

/**
 * Liveness (the process answers) and readiness (the database answers and its schema is current).
 * Given the app's pool, the probe opens a one-connection pool of its own to the same database, closed
 * with `app`: behind a busy API pool (an alert storm, a table locked) the probe would wait its turn and
 * read as "database unreachable", and every pod would leave the load balancer at once. Given a Db, the
 * probe uses it as it is.
 */
export function registerHealthRoutes(
  app: HttpApp,
  database: Db | pg.Pool,
  readyTimeoutMs = READY_TIMEOUT_MS,
): void {
  let db: Db;
  if (database instanceof Kysely) {
    db = database;
  } else {
    db = createDb(
      createPool(database.options.connectionString ?? '', 1, {
        connectTimeoutMs: readyTimeoutMs,
        queryTimeoutMs: readyTimeoutMs,
        statementTimeoutMs: readyTimeoutMs,
        applicationName: 'vigil-readyz',
      }),
      { prepare: false },
    );
    const own = db;
    app.addHook('onClose', async () => {
      await own.destroy().catch(() => {});
    });
  }
  app.get(
    '/healthz',
    { config: { public: true }, schema: { tags: ['operations'], summary: 'The process is alive' } },
    async () => ({
      status: 'ok',
    }),
  );

  app.get(
    '/readyz',
    {
      config: { public: true },
      schema: { tags: ['operations'], summary: 'The database is reachable and migrated' },
    },
    async (request, reply) => {
      let timer: NodeJS.Timeout | undefined;
      const silence = new Error(`the database did not answer within ${readyTimeoutMs / 1000} s`);
      try {
        const timedOut = new Promise<never>((_resolve, reject) => {
          timer = setTimeout(() => reject(silence), readyTimeoutMs);
        });
        const pending = await Promise.race([
          (async () => {
            await sql`SELECT 1`.execute(db);
            return pendingMigrations(db);
          })(),
          timedOut,
        ]);
        if (pending.length > 0) {
          return reply
            .status(503)
            .send({ status: 'migrations pending', pending, hint: 'run "vigil migrate"' });
        }
        return { status: 'ready' };
      } catch (error) {
        // The database's own words name its host, socket path or role: the log has them, not this
        // answer, which needs no key. That it did not answer in time is Vigil's to say.
        request.log.error({ err: error }, 'readiness probe: the database is unreachable');
        return reply.status(503).send({
          status: 'database unreachable',
          ...(error === silence ? { error: silence.message } : {}),
          hint: `${SEE_THE_LOG} (request ${request.id})`,
        });
      } finally {
        clearTimeout(timer);
      }
    },
  );
}
