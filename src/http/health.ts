import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { pendingMigrations } from '../db/migrate.js';
import type { HttpApp } from './server.js';

/**
 * How long /readyz waits for the database: a load balancer's probe must get its 503 while it still
 * waits, not a hung request (a connection to an unreachable host takes up to the pools' connect timeout).
 */
export const READY_TIMEOUT_MS = 5_000;

/** Liveness (the process answers) and readiness (the database answers and its schema is current). */
export function registerHealthRoutes(app: HttpApp, db: Db, readyTimeoutMs = READY_TIMEOUT_MS): void {
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
    async (_request, reply) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        const timedOut = new Promise<never>((_resolve, reject) => {
          timer = setTimeout(
            () => reject(new Error(`the database did not answer within ${readyTimeoutMs / 1000} s`)),
            readyTimeoutMs,
          );
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
        return reply.status(503).send({ status: 'database unreachable', error: (error as Error).message });
      } finally {
        clearTimeout(timer);
      }
    },
  );
}
