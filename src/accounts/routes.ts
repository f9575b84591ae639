import { StringEnum, TeamIdentifierQuery, teamIdentifierTypeOf, Username } from '../http/schemas.js';
import { Type } from 'typebox';
import type { UserRow } from '../db/schema.js';
import { envelope, principalOf, type HttpApp } from '../http/server.js';
import type { AccountsService } from './service.js';
import type { CustomRolesService } from './custom-roles/service.js';
import { TEAM_ROLE_NAME_PATTERN } from './team-roles/routes.js';
import { TEAM_RIGHTS } from './team-rights.js';

/** Users, teams, API keys and the organization, in Opsgenie's shapes where Opsgenie has them. */

const UserRole = Type.Object({
  name: Type.String({
    minLength: 1,
    maxLength: 100,
    pattern: TEAM_ROLE_NAME_PATTERN,
    description: "Owner, Admin, User, or the name of one of the organization's custom roles (/v2/roles).",
  }),
});
const UserRefSchema = Type.Object({
  id: Type.Optional(Type.String()),
  username: Type.Optional(Type.String()),
});
const TeamRole = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: TEAM_ROLE_NAME_PATTERN,
  description:
    '"admin", "user" (the default) or the name of one of the team\'s own roles (/v2/teams/{id}/roles).',
});
const Member = Type.Object({ user: UserRefSchema, role: Type.Optional(TeamRole) });
const TimeZone = Type.String({ minLength: 1, maxLength: 64 });
// Opsgenie's user fields that Vigil keeps only to give back (Terraform's opsgenie_user reads them).
const UserTags = Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 20 });
const SkypeUsername = Type.String({ maxLength: 250 });
const AddressPart = Type.Optional(Type.String({ maxLength: 250 }));
const UserAddressSchema = Type.Object(
  { country: AddressPart, state: AddressPart, city: AddressPart, line: AddressPart, zipCode: AddressPart },
  { description: 'The whole address: a field left out is empty.' },
);
const UserProfileFields = {
  tags: Type.Optional(UserTags),
  skypeUsername: Type.Optional(SkypeUsername),
  userAddress: Type.Optional(UserAddressSchema),
};

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** A user's role as Opsgenie shows it: a built-in role by its capitalized name, a custom role as itself. */
function displayRole(u: UserRow, customRoles: ReadonlyMap<string, { id: string; name: string }>) {
  const custom = u.custom_role_id ? customRoles.get(u.custom_role_id) : undefined;
  if (custom) return { id: custom.id, name: custom.name };
  const name = u.role.charAt(0).toUpperCase() + u.role.slice(1);
  return { id: name, name };
}

function presentUser(u: UserRow, customRoles: ReadonlyMap<string, { id: string; name: string }>) {
  return {
    id: u.id,
    username: u.username,
    fullName: u.full_name,
    role: displayRole(u, customRoles),
    blocked: u.blocked,
    verified: true,
    timeZone: u.time_zone,
    locale: u.locale,
    tags: u.tags,
    skypeUsername: u.skype_username,
    userAddress: {
      country: u.user_address.country ?? '',
      state: u.user_address.state ?? '',
      city: u.user_address.city ?? '',
      line: u.user_address.line ?? '',
      zipCode: u.user_address.zipCode ?? '',
    },
    createdAt: u.created_at.toISOString(),
  };
}

export function registerAccountRoutes(
  app: HttpApp,
  accounts: AccountsService,
  customRoles: CustomRolesService,
): void {
  const zoneError = (zone: string | undefined) =>
    zone !== undefined && !isTimeZone(zone)
      ? {
          message: 'Request body is not processable. Please check the errors.',
          errors: { timeZone: `"${zone}" is not an IANA time zone, such as Europe/Berlin.` },
        }
      : undefined;

  app.post(
    '/v2/users',
    {
      schema: {
        tags: ['users'],
        summary: 'Add a user',
        body: Type.Object({
          username: Username,
          fullName: Type.String({ minLength: 1, maxLength: 512 }),
          role: UserRole,
          timeZone: Type.Optional(TimeZone),
          locale: Type.Optional(Type.String({ maxLength: 16 })),
          ...UserProfileFields,
        }),
      },
    },
    async (request, reply) => {
      const b = request.body;
      const invalid = zoneError(b.timeZone);
      if (invalid) return reply.status(422).send(envelope(request, invalid));
      const p = principalOf(request);
      const role = await customRoles.userRoleNamed(p, b.role.name);
      const user = await accounts.createUser(p, { ...b, ...role });
      return reply
        .status(201)
        .send(envelope(request, { result: 'Created', data: { id: user.id, username: user.username } }));
    },
  );

  app.get(
    '/v2/users',
    {
      schema: {
        tags: ['users'],
        summary: 'List users',
        querystring: Type.Object({
          offset: Type.Integer({ minimum: 0, default: 0 }),
          limit: Type.Integer({ minimum: 1, maximum: 500, default: 100 }),
          sort: StringEnum(['username', 'fullName', 'insertedAt'], {
            default: 'username',
          }),
          order: StringEnum(['asc', 'desc'], { default: 'asc' }),
          query: Type.Optional(Type.String({ maxLength: 200 })),
        }),
      },
    },
    async (request) => {
      const p = principalOf(request);
      const { rows, total } = await accounts.listUsers(p, request.query);
      const roles = await customRoles.rolesOf(p, rows);
      return envelope(request, { totalCount: total, data: rows.map((u) => presentUser(u, roles)) });
    },
  );

  const UserParams = Type.Object({ identifier: Type.String({ minLength: 1, maxLength: 100 }) });

  app.get(
    '/v2/users/:identifier',
    { schema: { tags: ['users'], summary: 'Get a user by id or username', params: UserParams } },
    async (request) => {
      const p = principalOf(request);
      const user = await accounts.getUser(p, request.params.identifier);
      return envelope(request, { data: presentUser(user, await customRoles.rolesOf(p, [user])) });
    },
  );

  app.patch(
    '/v2/users/:identifier',
    {
      schema: {
        tags: ['users'],
        summary: 'Update a user',
        params: UserParams,
        body: Type.Object({
          username: Type.Optional(Username),
          fullName: Type.Optional(Type.String({ minLength: 1, maxLength: 512 })),
          role: Type.Optional(UserRole),
          timeZone: Type.Optional(TimeZone),
          locale: Type.Optional(Type.String({ maxLength: 16 })),
          blocked: Type.Optional(Type.Boolean()),
          ...UserProfileFields,
        }),
      },
    },
    async (request, reply) => {
      const b = request.body;
      const invalid = zoneError(b.timeZone);
      if (invalid) return reply.status(422).send(envelope(request, invalid));
      const p = principalOf(request);
      const role = b.role ? await customRoles.userRoleNamed(p, b.role.name) : undefined;
      const user = await accounts.updateUser(p, request.params.identifier, {
        ...b,
        role: role?.role,
        customRoleId: role?.customRoleId,
      });
      return envelope(request, { result: 'Updated', data: { id: user.id, name: user.full_name } });
    },
  );

  app.delete(
    '/v2/users/:identifier',
    { schema: { tags: ['users'], summary: 'Delete a user', params: UserParams } },
    async (request) => {
      await accounts.deleteUser(principalOf(request), request.params.identifier);
      return envelope(request, { result: 'Deleted' });
    },
  );

  app.get(
    '/v2/users/:identifier/teams',
    { schema: { tags: ['users'], summary: "A user's teams", params: UserParams } },
    async (request) => {
      const teams = await accounts.teamsOfUser(principalOf(request), request.params.identifier);
      return envelope(request, { data: teams.map((t) => ({ id: t.id, name: t.name, role: t.role })) });
    },
  );

  // Teams

  const TeamParams = Type.Object({ identifier: Type.String({ minLength: 1, maxLength: 100 }) });
  const teamName = Type.String({ minLength: 1, maxLength: 100, pattern: '^[\\w .\\-]+$' });

  app.post(
    '/v2/teams',
    {
      schema: {
        tags: ['teams'],
        summary: 'Add a team',
        body: Type.Object({
          name: teamName,
          description: Type.Optional(Type.String({ maxLength: 10000 })),
          members: Type.Optional(Type.Array(Member, { maxItems: 500 })),
        }),
      },
    },
    async (request, reply) => {
      const team = await accounts.createTeam(principalOf(request), request.body);
      return reply
        .status(201)
        .send(envelope(request, { result: 'Created', data: { id: team.id, name: team.name } }));
    },
  );

  app.get('/v2/teams', { schema: { tags: ['teams'], summary: 'List teams' } }, async (request) => {
    const teams = await accounts.listTeams(principalOf(request));
    return envelope(request, {
      data: teams.map((t) => ({ id: t.id, name: t.name, description: t.description })),
    });
  });

  app.get(
    '/v2/teams/:identifier',
    {
      schema: {
        tags: ['teams'],
        summary: 'Get a team with its members',
        params: TeamParams,
        querystring: TeamIdentifierQuery,
      },
    },
    async (request) => {
      const { team, members } = await accounts.getTeam(
        principalOf(request),
        request.params.identifier,
        teamIdentifierTypeOf(request.query),
      );
      return envelope(request, {
        data: {
          id: team.id,
          name: team.name,
          description: team.description,
          members: members.map((m) => ({ user: { id: m.id, username: m.username }, role: m.role })),
        },
      });
    },
  );

  app.get(
    '/api/console/teams/:identifier/rights',
    {
      schema: {
        tags: ['console'],
        summary: 'The team rights the caller holds on a team',
        description:
          "Answered by the code every team-scoped check asks, so that the console offers only what the server takes: a team's admins and the organization's admins hold them all, a plain member access-logs.",
        params: TeamParams,
        querystring: TeamIdentifierQuery,
        response: { 200: Type.Object({ rights: Type.Array(StringEnum(TEAM_RIGHTS)) }) },
      },
    },
    async (request) => ({
      rights: await accounts.myTeamRights(
        principalOf(request),
        request.params.identifier,
        teamIdentifierTypeOf(request.query),
      ),
    }),
  );

  app.patch(
    '/v2/teams/:identifier',
    {
      schema: {
        tags: ['teams'],
        summary: 'Update a team (members, when given, replace the current ones)',
        params: TeamParams,
        querystring: TeamIdentifierQuery,
        body: Type.Object({
          name: Type.Optional(teamName),
          description: Type.Optional(Type.String({ maxLength: 10000 })),
          members: Type.Optional(Type.Array(Member, { maxItems: 500 })),
        }),
      },
    },
    async (request) => {
      const team = await accounts.updateTeam(
        principalOf(request),
        request.params.identifier,
        teamIdentifierTypeOf(request.query),
        request.body,
      );
      return envelope(request, { result: 'Updated', data: { id: team.id, name: team.name } });
    },
  );

  app.delete(
    '/v2/teams/:identifier',
    {
      schema: {
        tags: ['teams'],
        summary: 'Delete a team',
        params: TeamParams,
        querystring: TeamIdentifierQuery,
      },
    },
    async (request) => {
      await accounts.deleteTeam(
        principalOf(request),
        request.params.identifier,
        teamIdentifierTypeOf(request.query),
      );
      return envelope(request, { result: 'Deleted' });
    },
  );

  app.post(
    '/v2/teams/:identifier/members',
    {
      schema: {
        tags: ['teams'],
        summary: 'Add a member to a team (or change their role)',
        params: TeamParams,
        querystring: TeamIdentifierQuery,
        body: Type.Object({ user: UserRefSchema, role: Type.Optional(TeamRole) }),
      },
    },
    async (request) => {
      const { team } = await accounts.addTeamMember(
        principalOf(request),
        request.params.identifier,
        teamIdentifierTypeOf(request.query),
        request.body.user,
        request.body.role,
      );
      return envelope(request, { result: 'Added', data: { id: team.id, name: team.name } });
    },
  );

  app.delete(
    '/v2/teams/:identifier/members/:memberIdentifier',
    {
      schema: {
        tags: ['teams'],
        summary: 'Remove a member from a team',
        params: Type.Object({
          identifier: Type.String({ minLength: 1 }),
          memberIdentifier: Type.String({ minLength: 1 }),
        }),
        querystring: TeamIdentifierQuery,
      },
    },
    async (request) => {
      await accounts.removeTeamMember(
        principalOf(request),
        request.params.identifier,
        teamIdentifierTypeOf(request.query),
        request.params.memberIdentifier,
      );
      return envelope(request, { result: 'Removed' });
    },
  );

  // API keys (Vigil's own: Opsgenie keeps these in its UI)

  app.post(
    '/v2/api-keys',
    {
      schema: {
        tags: ['api keys'],
        summary: 'Create an API key; the key is in this answer only',
        body: Type.Object({
          name: Type.String({ minLength: 1, maxLength: 100 }),
          user: Type.Optional(UserRefSchema),
        }),
      },
    },
    async (request, reply) => {
      const key = await accounts.createApiKey(principalOf(request), request.body);
      return reply.status(201).send(
        envelope(request, {
          result: 'Created',
          data: {
            id: key.id,
            name: key.name,
            userId: key.user_id,
            key: key.key,
            createdAt: key.created_at.toISOString(),
          },
        }),
      );
    },
  );

  app.get(
    '/v2/api-keys',
    { schema: { tags: ['api keys'], summary: 'List API keys (never the keys themselves)' } },
    async (request) => {
      const keys = await accounts.listApiKeys(principalOf(request));
      return envelope(request, {
        data: keys.map((k) => ({
          id: k.id,
          name: k.name,
          userId: k.user_id,
          createdAt: k.created_at.toISOString(),
          lastUsedAt: k.last_used_at?.toISOString() ?? null,
        })),
      });
    },
  );

  app.delete(
    '/v2/api-keys/:id',
    {
      schema: {
        tags: ['api keys'],
        summary: 'Delete an API key; it stops working at once',
        params: Type.Object({ id: Type.String() }),
      },
    },
    async (request) => {
      await accounts.deleteApiKey(principalOf(request), request.params.id);
      return envelope(request, { result: 'Deleted' });
    },
  );

  // The organization

  app.get(
    '/v2/organization',
    { schema: { tags: ['organization'], summary: 'This organization' } },
    async (request) => {
      const org = await accounts.getOrganization(principalOf(request));
      return envelope(request, {
        data: { id: org.id, name: org.name, plan: org.plan, createdAt: org.created_at.toISOString() },
      });
    },
  );

  app.get(
    '/v2/account',
    {
      schema: {
        tags: ['organization'],
        summary: "This account, as Opsgenie's Account API answers it: name, user count and plan",
        description:
          'A self-hosted Vigil has no user limit: maxUserCount is null and isYearly false. The plan names the features it allows (the standard plan has no write-back to Security Hub).',
      },
    },
    async (request) => {
      const { org, userCount } = await accounts.getAccount(principalOf(request));
      return envelope(request, {
        data: {
          name: org.name,
          userCount,
          plan: {
            maxUserCount: null,
            name: org.plan.charAt(0).toUpperCase() + org.plan.slice(1),
            isYearly: false,
          },
        },
      });
    },
  );

  app.patch(
    '/v2/organization',
    {
      schema: {
        tags: ['organization'],
        summary: 'Rename the organization or change its plan (admins)',
        body: Type.Object({
          name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          plan: Type.Optional(StringEnum(['standard', 'premium', 'enterprise'])),
        }),
      },
    },
    async (request) => {
      const org = await accounts.updateOrganization(principalOf(request), request.body);
      return envelope(request, { result: 'Updated', data: { id: org.id, name: org.name, plan: org.plan } });
    },
  );
}
