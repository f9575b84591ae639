import { sql } from 'kysely';
import type { Db } from '../db/database.js';
import { pendingMigrations } from '../db/migrate.js';
import type { HttpApp } from './server.js';

/** Liveness (the process answers) and readiness (the database answers and its schema is current). */
export function registerHealthRoutes(app: HttpApp, db: Db): void {
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
      try {
        await sql`SELECT 1`.execute(db);
        const pending = await pendingMigrations(db);
        if (pending.length > 0) {
          return reply
            .status(503)
            .send({ status: 'migrations pending', pending, hint: 'run "vigil migrate"' });
        }
        return { status: 'ready' };
      } catch (error) {
        return reply.status(503).send({ status: 'database unreachable', error: (error as Error).message });
      }
    },
  );
}
