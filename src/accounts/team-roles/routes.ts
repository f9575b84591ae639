import { Type } from 'typebox';
import { StringEnum, TeamIdentifierQuery, teamIdentifierTypeOf } from '../../http/schemas.js';
import { envelope, principalOf, type HttpApp } from '../../http/server.js';
import { presentTeamRole, type TeamRolesService } from './service.js';

/** Opsgenie's Team Role API: /v2/teams/{teamIdentifier}/roles, in Opsgenie's shapes. */

/**
 * A role's name: printable text. No control characters, nor U+FFFD, which is what the API makes of a NUL
 * byte in a body: a name that held one is refused rather than stored mangled.
 */
export const TEAM_ROLE_NAME_PATTERN = '^[^\\x00-\\x1F\\x7F\\uFFFD]+$';

const RoleName = Type.String({ minLength: 1, maxLength: 100, pattern: TEAM_ROLE_NAME_PATTERN });
const Rights = Type.Array(
  Type.Object({
    right: Type.String({ minLength: 1, maxLength: 100, description: "One of Opsgenie's team rights." }),
    granted: Type.Optional(Type.Boolean({ default: true })),
  }),
  { maxItems: 100 },
);
const TeamParams = Type.Object({ identifier: Type.String({ minLength: 1, maxLength: 100 }) });
const RoleParams = Type.Object({
  identifier: Type.String({ minLength: 1, maxLength: 100 }),
  roleIdentifier: Type.String({ minLength: 1, maxLength: 100, pattern: TEAM_ROLE_NAME_PATTERN }),
});
// Here `identifierType` names the role (as in Opsgenie) and `teamIdentifierType` the team.
const RoleQuery = Type.Object({
  teamIdentifierType: Type.Optional(StringEnum(['id', 'name'], { default: 'id' })),
  identifierType: Type.Optional(StringEnum(['id', 'name'], { default: 'id' })),
});

export function registerTeamRoleRoutes(app: HttpApp, roles: TeamRolesService): void {
  app.post(
    '/v2/teams/:identifier/roles',
    {
      schema: {
        tags: ['teams'],
        summary: 'Create a team role: a name and the team rights it grants (needs edit-team-roles)',
        params: TeamParams,
        querystring: TeamIdentifierQuery,
        body: Type.Object({ name: RoleName, rights: Rights }),
      },
    },
    async (request, reply) => {
      const role = await roles.create(
        principalOf(request),
        request.params.identifier,
        teamIdentifierTypeOf(request.query),
        request.body,
      );
      return reply
        .status(201)
        .send(envelope(request, { result: 'Created', data: { id: role.id, name: role.name } }));
    },
  );

  app.get(
    '/v2/teams/:identifier/roles',
    {
      schema: {
        tags: ['teams'],
        summary: "A team's own roles with their rights (not the built-in admin and user)",
        params: TeamParams,
        querystring: TeamIdentifierQuery,
      },
    },
    async (request) => {
      const rows = await roles.list(
        principalOf(request),
        request.params.identifier,
        teamIdentifierTypeOf(request.query),
      );
      return envelope(request, { data: rows.map(presentTeamRole) });
    },
  );

  app.get(
    '/v2/teams/:identifier/roles/:roleIdentifier',
    {
      schema: {
        tags: ['teams'],
        summary: 'A team role by id or name (identifierType), with every right granted or not',
        params: RoleParams,
        querystring: RoleQuery,
      },
    },
    async (request) => {
      const q = request.query;
      const role = await roles.get(
        principalOf(request),
        request.params.identifier,
        q.teamIdentifierType ?? 'id',
        request.params.roleIdentifier,
        q.identifierType ?? 'id',
      );
      return envelope(request, { data: presentTeamRole(role) });
    },
  );

  app.patch(
    '/v2/teams/:identifier/roles/:roleIdentifier',
    {
      schema: {
        tags: ['teams'],
        summary: 'Rename a team role, or grant and revoke the rights given (others stay as they are)',
        params: RoleParams,
        querystring: RoleQuery,
        body: Type.Object({ name: Type.Optional(RoleName), rights: Type.Optional(Rights) }),
      },
    },
    async (request) => {
      const q = request.query;
      const role = await roles.update(
        principalOf(request),
        request.params.identifier,
        q.teamIdentifierType ?? 'id',
        request.params.roleIdentifier,
        q.identifierType ?? 'id',
        request.body,
      );
      return envelope(request, { result: 'Updated', data: { id: role.id, name: role.name } });
    },
  );

  app.delete(
    '/v2/teams/:identifier/roles/:roleIdentifier',
    {
      schema: {
        tags: ['teams'],
        summary: 'Delete a team role that no member holds',
        params: RoleParams,
        querystring: RoleQuery,
      },
    },
    async (request) => {
      const q = request.query;
      await roles.remove(
        principalOf(request),
        request.params.identifier,
        q.teamIdentifierType ?? 'id',
        request.params.roleIdentifier,
        q.identifierType ?? 'id',
      );
      return envelope(request, { result: 'Deleted' });
    },
  );
}
