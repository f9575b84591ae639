import { isUniqueViolation, type Db, type Queryable } from '../../db/database.js';
import type { CustomUserRoleRow, ExtendedUserRole, UserRole } from '../../db/schema.js';
import { conflict, invalid, invalidField, notFound, UNPROCESSABLE_BODY } from '../../errors.js';
import { requireOrgAdmin, type Principal } from '../service.js';
import { customRolesRepository as repo, type CustomRoleColumns } from './repository.js';
import { isUserRight, USER_RIGHTS } from './rights.js';
import { nameKey } from '../../db/name-key.js';

/**
 * Opsgenie's Custom User Role API (/v2/roles): an organization's own user roles, each extending a default
 * role with rights granted and taken away (rights.ts says what they let their holders do). Anyone in the
 * organization reads them; only its owners and admins make, change and delete them, as in Opsgenie. A role
 * someone holds can not be deleted.
 */

export interface CustomRoleInput {
  name?: string;
  extendedRole?: ExtendedUserRole;
  grantedRights?: string[];
  disallowedRights?: string[];
}

type By = 'id' | 'name';

/** Opsgenie's own role names, which no custom role may take (any case). */
const RESERVED_NAMES = ['owner', 'admin', 'user', 'observer', 'stakeholder'];

const BUILT_IN_USER_ROLES: readonly UserRole[] = ['owner', 'admin', 'user'];

/** How many holders a refusal to delete a role names. */
const HOLDERS_NAMED = 5;

/** A role as Opsgenie's GET shows one. */
export function presentCustomRole(row: CustomUserRoleRow) {
  return {
    id: row.id,
    name: row.name,
    extendedRole: row.extended_role,
    grantedRights: row.granted_rights,
    disallowedRights: row.disallowed_rights,
  };
}

function roleName(name: string | undefined): string {
  const trimmed = (name ?? '').trim();
  if (trimmed === '') throw invalidField('name', 'Give the role a name.');
  // Folded as names are compared (nameKey): "Admın" would otherwise be a custom role found as "admin".
  if (RESERVED_NAMES.includes(nameKey(trimmed))) {
    throw invalidField(
      'name',
      `"${trimmed}" is one of Opsgenie's default roles: a custom role takes another name (such as "Responder").`,
    );
  }
  return trimmed;
}

/** The rights given under `field`, once each; unknown ones are a 422 naming them and the known ones. */
function rightsOf(given: readonly string[] | undefined, field: string): string[] {
  const rights = [...new Set(given ?? [])];
  const unknown = rights.filter((r) => !isUserRight(r));
  if (unknown.length > 0) {
    throw invalidField(
      field,
      `Unknown right${unknown.length > 1 ? 's' : ''} ${unknown.map((r) => JSON.stringify(r)).join(', ')}: Opsgenie's user rights are ${USER_RIGHTS.join(', ')}.`,
    );
  }
  return rights;
}

/** The columns a create (or Opsgenie's whole-role PUT) gives the role. */
function columnsOf(input: CustomRoleInput, name: string): CustomRoleColumns {
  const granted = rightsOf(input.grantedRights, 'grantedRights');
  const disallowed = rightsOf(input.disallowedRights, 'disallowedRights');
  const both = granted.filter((r) => disallowed.includes(r));
  if (both.length > 0) {
    throw invalid(UNPROCESSABLE_BODY, {
      disallowedRights: `${both.join(', ')} ${both.length > 1 ? 'are' : 'is'} also among grantedRights: a right is granted or disallowed, not both.`,
    });
  }
  return {
    name,
    extended_role: input.extendedRole ?? 'user',
    granted_rights: granted,
    disallowed_rights: disallowed,
  };
}

export function createCustomRolesService(db: Db) {
  async function roleOf(q: Queryable, p: Principal, identifier: string, by: By) {
    const role = await repo.find(q, p.orgId, identifier, by);
    if (!role) throw notFound(`No custom user role exists with ${by} [${identifier}].`);
    return role;
  }

  const clash = (name: string) => conflict(`A custom user role named [${name}] already exists.`);

  return {
    list: (p: Principal) => repo.list(db, p.orgId),

    get: (p: Principal, identifier: string, by: By) => roleOf(db, p, identifier, by),

    async create(p: Principal, input: CustomRoleInput) {
      requireOrgAdmin(p, 'create custom user roles');
      const name = roleName(input.name);
      try {
        return await repo.insert(db, { org_id: p.orgId, ...columnsOf(input, name) });
      } catch (error) {
        if (isUniqueViolation(error)) throw clash(name);
        throw error;
      }
    },

    /**
     * Opsgenie's PUT: the role becomes what the request says. Its Go SDK leaves out an empty list (and so
     * Terraform, when a configuration drops the last right), so rights left out are none; extendedRole left
     * out is user, Opsgenie's default. The name left out stays.
     */
    async replace(p: Principal, identifier: string, by: By, input: CustomRoleInput) {
      requireOrgAdmin(p, 'change custom user roles');
      const name = input.name === undefined ? undefined : roleName(input.name);
      try {
        return await db.transaction().execute(async (tx) => {
          const current = await roleOf(tx, p, identifier, by);
          return repo.update(tx, current.id, columnsOf(input, name ?? current.name));
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw clash(name ?? identifier);
        throw error;
      }
    },

    /** Deletes a role nobody holds; one still held is a 409 naming who holds it. */
    async remove(p: Principal, identifier: string, by: By) {
      requireOrgAdmin(p, 'delete custom user roles');
      await db.transaction().execute(async (tx) => {
        const role = await roleOf(tx, p, identifier, by);
        const inUse = (holders: { usernames: string[]; count: number }) => {
          const more = holders.count - holders.usernames.length;
          const who =
            holders.usernames.length > 0
              ? `${holders.usernames.join(', ')}${more > 0 ? ` and ${more} more` : ''}`
              : 'a user';
          return conflict(
            `Custom user role [${role.name}] is held by ${who}: give them another role first (PATCH /v2/users/{id} with {"role": {"name": ...}}).`,
          );
        };
        const holders = await repo.holders(tx, role.id, HOLDERS_NAMED);
        if (holders.count > 0) throw inUse(holders);
        try {
          await repo.remove(tx, role.id);
        } catch (error) {
          // Given to someone since the holders were read: their reference holds the role.
          if ((error as { code?: string } | null)?.code === '23503') throw inUse({ usernames: [], count: 1 });
          throw error;
        }
      });
    },

    /**
     * The role a user is given by name (POST and PATCH /v2/users `role.name`): Owner, Admin or User in any
     * case, else one of the organization's custom roles, whose holders are users in Vigil's built-in terms.
     */
    async userRoleNamed(
      p: Principal,
      name: string,
    ): Promise<{ role: UserRole; customRoleId: string | null }> {
      const normal = nameKey(name.trim());
      const builtIn = BUILT_IN_USER_ROLES.find((r) => r === normal);
      if (builtIn) return { role: builtIn, customRoleId: null };
      const custom = await repo.find(db, p.orgId, name.trim(), 'name');
      if (!custom) {
        throw invalidField(
          'role.name',
          `No role ${JSON.stringify(name)}: give Owner, Admin, User or one of the organization's custom roles (GET /v2/roles).`,
        );
      }
      return { role: 'user', customRoleId: custom.id };
    },

    /** The custom roles of these users, by role id, for showing them by name. */
    rolesOf: (p: Principal, users: readonly { custom_role_id: string | null }[]) =>
      repo.byIds(
        db,
        p.orgId,
        users.flatMap((u) => (u.custom_role_id ? [u.custom_role_id] : [])),
      ),
  };
}

export type CustomRolesService = ReturnType<typeof createCustomRolesService>;
