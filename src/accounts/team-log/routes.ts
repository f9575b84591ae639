import { Type } from 'typebox';
import type { Db } from '../../db/database.js';
import { StringEnum, TeamIdentifierQuery, teamIdentifierTypeOf } from '../../http/schemas.js';
import { envelope, principalOf, type HttpApp } from '../../http/server.js';
import { findReachedTeam } from '../service.js';
import { requireTeamRight } from '../team-rights.js';
import { teamLogPage } from './log.js';

/** Opsgenie's List Team Logs: `{data: {offset, logs: [{log, owner, createdAt}]}}`. */
export function registerTeamLogRoutes(app: HttpApp, db: Db): void {
  app.get(
    '/v2/teams/:identifier/logs',
    {
      schema: {
        tags: ['teams'],
        summary:
          "A team's log: changes to the team, its members, roles and routing rules, who made them and when; for those with the access-logs right on the team. offset is the data.offset of the previous page.",
        params: Type.Object({ identifier: Type.String({ minLength: 1, maxLength: 100 }) }),
        querystring: Type.Object({
          ...TeamIdentifierQuery.properties,
          limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
          order: StringEnum(['asc', 'desc'], { default: 'desc' }),
          offset: Type.Optional(Type.String({ pattern: '^\\d{0,18}$' })),
        }),
      },
    },
    async (request) => {
      const p = principalOf(request);
      const q = request.query;
      const by = teamIdentifierTypeOf(q);
      // As GET /v2/teams/{id}: an integration's key that may not see the team is not told its name.
      const team = await findReachedTeam(db, p, request.params.identifier, by);
      await requireTeamRight(
        db,
        p,
        team.id,
        'access-logs',
        `Only organization admins and the members of team [${team.name}] with the access-logs right (its admins and users) can read its log.`,
      );
      const rows = await teamLogPage(db, team.id, {
        after: q.offset ? q.offset : undefined,
        order: q.order,
        limit: q.limit,
      });
      return envelope(request, {
        data: {
          // Where the next page starts: the last line's; the same again when there is nothing more.
          offset: rows[rows.length - 1]?.id ?? q.offset ?? '',
          logs: rows.map((r) => ({ log: r.log, owner: r.owner, createdAt: r.created_at.toISOString() })),
        },
      });
    },
  );
}
