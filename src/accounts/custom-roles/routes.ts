import { Type } from 'typebox';
import { StringEnum } from '../../http/schemas.js';
import { envelope, principalOf, type HttpApp } from '../../http/server.js';
import { TEAM_ROLE_NAME_PATTERN } from '../team-roles/routes.js';
import { EXTENDED_ROLES, USER_RIGHTS } from './rights.js';
import { presentCustomRole, type CustomRolesService } from './service.js';

/** Opsgenie's Custom User Role API: /v2/roles, in the shapes its Go SDK and Terraform provider use. */

// Printable text, as a team role's name: a NUL byte arrives as U+FFFD and is refused, not stored mangled.
const RoleName = Type.String({ minLength: 1, maxLength: 100, pattern: TEAM_ROLE_NAME_PATTERN });
const Rights = Type.Array(
  Type.String({ minLength: 1, maxLength: 100, description: "One of Opsgenie's user rights." }),
  { maxItems: USER_RIGHTS.length * 2, description: `Opsgenie's user rights: ${USER_RIGHTS.join(', ')}.` },
);
const RoleBody = {
  extendedRole: Type.Optional(
    StringEnum([...EXTENDED_ROLES], { description: 'The default role this one extends (user by default).' }),
  ),
  grantedRights: Type.Optional(Rights),
  disallowedRights: Type.Optional(Rights),
};
const RoleParams = Type.Object({
  identifier: Type.String({ minLength: 1, maxLength: 100, pattern: TEAM_ROLE_NAME_PATTERN }),
});
const RoleQuery = Type.Object({
  identifierType: Type.Optional(StringEnum(['id', 'name'], { default: 'id' })),
});

// Answers, as presentCustomRole and the handlers below build them. Fastify serializes with these and drops
// whatever they do not list, so a field added to an answer is added here too.
const Envelope = { took: Type.Number(), requestId: Type.String() };
const CustomRole = Type.Object({
  id: Type.String(),
  name: Type.String(),
  extendedRole: StringEnum([...EXTENDED_ROLES]),
  grantedRights: Type.Array(Type.String()),
  disallowedRights: Type.Array(Type.String()),
});
const RoleChanged = Type.Object({
  result: Type.String(),
  data: Type.Object({ id: Type.String(), name: Type.String() }),
  ...Envelope,
});

export function registerCustomRoleRoutes(app: HttpApp, roles: CustomRolesService): void {
  app.post(
    '/v2/roles',
    {
      schema: {
        tags: ['users'],
        summary: 'Create a custom user role: a default role it extends, rights granted and disallowed',
        body: Type.Object({ name: RoleName, ...RoleBody }),
        response: { 201: RoleChanged },
      },
    },
    async (request, reply) => {
      const role = await roles.create(principalOf(request), request.body);
      return reply
        .status(201)
        .send(envelope(request, { result: 'Created', data: { id: role.id, name: role.name } }));
    },
  );

  app.get(
    '/v2/roles',
    {
      schema: {
        tags: ['users'],
        summary: "The organization's custom user roles with their rights",
        response: { 200: Type.Object({ data: Type.Array(CustomRole), ...Envelope }) },
      },
    },
    async (request) => {
      const rows = await roles.list(principalOf(request));
      return envelope(request, { data: rows.map(presentCustomRole) });
    },
  );

  app.get(
    '/v2/roles/:identifier',
    {
      schema: {
        tags: ['users'],
        summary: 'A custom user role by id or name (identifierType)',
        params: RoleParams,
        querystring: RoleQuery,
        response: { 200: Type.Object({ data: CustomRole, ...Envelope }) },
      },
    },
    async (request) => {
      const role = await roles.get(
        principalOf(request),
        request.params.identifier,
        request.query.identifierType ?? 'id',
      );
      return envelope(request, { data: presentCustomRole(role) });
    },
  );

  app.put(
    '/v2/roles/:identifier',
    {
      schema: {
        tags: ['users'],
        summary:
          'Replace a custom user role: rights left out are none, extendedRole left out is user, a name left out stays',
        params: RoleParams,
        querystring: RoleQuery,
        body: Type.Object({ name: Type.Optional(RoleName), ...RoleBody }),
        response: { 200: RoleChanged },
      },
    },
    async (request) => {
      const role = await roles.replace(
        principalOf(request),
        request.params.identifier,
        request.query.identifierType ?? 'id',
        request.body,
      );
      return envelope(request, { result: 'Updated', data: { id: role.id, name: role.name } });
    },
  );

  app.delete(
    '/v2/roles/:identifier',
    {
      schema: {
        tags: ['users'],
        summary: 'Delete a custom user role that no user holds',
        params: RoleParams,
        querystring: RoleQuery,
        response: { 200: Type.Object({ result: Type.String(), ...Envelope }) },
      },
    },
    async (request) => {
      await roles.remove(
        principalOf(request),
        request.params.identifier,
        request.query.identifierType ?? 'id',
      );
      return envelope(request, { result: 'Deleted' });
    },
  );
}
