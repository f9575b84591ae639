import {
  isOrgAdmin,
  resolveTeamRef,
  resolveUserRef,
  type Principal,
  type TeamRef,
  type UserRef,
} from '../../accounts/service.js';
import { isUniqueViolation, type Db, type Queryable } from '../../db/database.js';
import type { SavedSearchRow } from '../../db/schema.js';
import { conflict, forbidden, invalid, invalidField, isDomainError, notFound } from '../../errors.js';
import { compileQuery, parseQuery } from '../query.js';
import {
  savedSearchesRepository as repo,
  type SavedSearchIdentifierType,
  type SavedSearchWithRefs,
} from './repository.js';

/**
 * Saved searches, as Opsgenie's Alert API has them: a named alert query with an owner, a description and
 * the teams it is shared with. GET /v2/alerts and /v2/alerts/count run one by `searchIdentifier`
 * (see {@link savedSearchQuery}). Every key of the organization reads them; an organization admin or the
 * search's owner changes one (an API integration's key, which is no user, reads and runs them only).
 */

export interface SavedSearchInput {
  name: string;
  query: string;
  owner: UserRef;
  description?: string;
  teams?: TeamRef[];
}

export type SavedSearchChanges = Partial<SavedSearchInput>;

/**
 * The most saved searches an organization holds: any user may create them, and the list is one
 * answer, unpaged as Opsgenie's is, that every key of the organization reads.
 */
export const MAX_SAVED_SEARCHES = 1_000;
/** The most one user owns, so that one person cannot take all of the organization's room. */
export const MAX_SAVED_SEARCHES_PER_OWNER = 100;

const missing = (identifier: string, type: SavedSearchIdentifierType) =>
  notFound(`Saved search with ${type} [${identifier}] does not exist.`);

/**
 * The query of the saved search a request names, for running it: a 404 in Opsgenie's words when the
 * organization has none by that id or name.
 */
export async function savedSearchQuery(
  q: Queryable,
  orgId: string,
  identifier: string,
  type: SavedSearchIdentifierType,
): Promise<string> {
  const row = await repo.find(q, orgId, identifier, type);
  if (!row) throw missing(identifier, type);
  return row.query;
}

/**
 * A query the alert list can run: the list's own parser and compiler decide (a number out of its field's
 * range is the compiler's to refuse), and a 422 names `query`. It is held to the limits of one query on
 * its own, as the list holds it when it runs it AND-ed with a caller's query (alerts/service.ts
 * searchQueries), so that a search saved runs with any query the list takes.
 */
function checkQuery(orgId: string, query: string): string {
  if (query.trim() === '') throw invalidField('query', 'must not be empty: give an alert query.');
  try {
    const tree = parseQuery(query);
    if (tree) compileQuery(orgId, tree);
  } catch (error) {
    if (isDomainError(error, 'invalid')) throw invalidField('query', error.message);
    throw error;
  }
  return query;
}

function checkName(name: string): string {
  if (name.trim() === '') throw invalidField('name', 'must not be blank.');
  return name;
}

/** The search in Opsgenie's shape (GET /v2/alerts/saved-searches/{identifier}). */
export function presentSavedSearch(row: SavedSearchWithRefs) {
  return {
    id: row.id,
    name: row.name,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    teams: row.teams.map((t) => ({ id: t.id, name: t.name })),
    description: row.description,
    query: row.query,
    ...(row.owner_user_id ? { owner: { id: row.owner_user_id, username: row.owner_username ?? '' } } : {}),
  };
}

export function createSavedSearchesService(db: Db) {
  async function load(p: Principal, identifier: string, type: SavedSearchIdentifierType) {
    const row = await repo.find(db, p.orgId, identifier, type);
    if (!row) throw missing(identifier, type);
    return row;
  }

  /** Organization admins change any saved search; a user the searches they own (or will own). */
  function requireManager(p: Principal, ownerUserId: string | null, what: string): void {
    if (p.integration) {
      throw forbidden(
        `The API key of integration [${p.integration.name}] can read and run saved searches but not ${what} them: use a user's API key.`,
      );
    }
    if (isOrgAdmin(p)) return;
    if (p.userId !== undefined && ownerUserId === p.userId) return;
    throw forbidden(
      `Only organization admins and the saved search's owner can ${what} it: ask an admin, or make yourself its owner.`,
    );
  }

  async function teamIdsOf(q: Queryable, p: Principal, teams: TeamRef[]): Promise<string[]> {
    const ids: string[] = [];
    for (const [i, ref] of teams.entries()) {
      const team = await resolveTeamRef(q, p.orgId, ref, `teams[${i}]`);
      if (!ids.includes(team.id)) ids.push(team.id);
    }
    return ids;
  }

  /**
   * A 422 when the organization has no room for another saved search (`adding`), or `owner` owns as
   * many as one user may. The caller holds the organization's lock (repo.lockOrganization), so two
   * requests cannot both take the last place.
   */
  async function requireRoom(
    q: Queryable,
    orgId: string,
    owner: { id: string; username: string },
    adding: boolean,
  ): Promise<void> {
    const counts = await repo.counts(q, orgId, owner.id);
    if (adding && counts.organization >= MAX_SAVED_SEARCHES) {
      throw invalid(
        `The organization already has ${counts.organization} saved searches, the most it may have (${MAX_SAVED_SEARCHES}): delete some first.`,
      );
    }
    if (counts.owner >= MAX_SAVED_SEARCHES_PER_OWNER) {
      throw invalid(
        `User [${owner.username}] already owns ${counts.owner} saved searches, the most one user may own (${MAX_SAVED_SEARCHES_PER_OWNER}): delete some of them first.`,
      );
    }
  }

  /**
   * The owner a request names, found inside the transaction that saves it and kept from being deleted
   * until it ends (a user being deleted is waited for, then is no user: the 422 of an unknown one).
   */
  function ownerOf(tx: Queryable, p: Principal, ref: UserRef) {
    return resolveUserRef(tx, p.orgId, ref, 'owner', undefined, 'key share');
  }

  const clash = (name: string) =>
    conflict(`Saved search with name [${name}] already exists: choose another name, or update that one.`);

  return {
    list: (p: Principal) => repo.list(db, p.orgId),

    async get(p: Principal, identifier: string, type: SavedSearchIdentifierType) {
      return repo.withRefs(db, await load(p, identifier, type));
    },

    async create(p: Principal, input: SavedSearchInput): Promise<SavedSearchRow> {
      const name = checkName(input.name);
      const query = checkQuery(p.orgId, input.query);
      try {
        return await db.transaction().execute(async (tx) => {
          // Found under a lock: a user deleted meanwhile is a 422, not an owner the insert's reference
          // no longer finds; one being deleted is waited for. Refusals about the owner come before the
          // teams'.
          const owner = await ownerOf(tx, p, input.owner);
          requireManager(p, owner.id, 'create');
          const teamIds = await teamIdsOf(tx, p, input.teams ?? []);
          await repo.lockOrganization(tx, p.orgId);
          await requireRoom(tx, p.orgId, owner, true);
          return repo.insert(tx, {
            org_id: p.orgId,
            name,
            query,
            description: input.description ?? '',
            owner_user_id: owner.id,
            team_ids: teamIds,
          });
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw clash(name);
        throw error;
      }
    },

    /** Changes the fields given; `teams`, when given, replaces the list. */
    async update(
      p: Principal,
      identifier: string,
      type: SavedSearchIdentifierType,
      changes: SavedSearchChanges,
    ): Promise<SavedSearchRow> {
      const row = await load(p, identifier, type);
      requireManager(p, row.owner_user_id, 'change');
      const name = changes.name !== undefined ? checkName(changes.name) : undefined;
      const query = changes.query !== undefined ? checkQuery(p.orgId, changes.query) : undefined;
      const newOwner = changes.owner;
      const valuesWith = async (q: Queryable) => {
        const teamIds = changes.teams ? await teamIdsOf(q, p, changes.teams) : undefined;
        return {
          ...(name !== undefined ? { name } : {}),
          ...(query !== undefined ? { query } : {}),
          ...(changes.description !== undefined ? { description: changes.description } : {}),
          ...(teamIds ? { team_ids: teamIds } : {}),
        };
      };
      let updated: SavedSearchRow | undefined;
      try {
        updated = !newOwner
          ? await repo.update(db, row.id, await valuesWith(db))
          : await db.transaction().execute(async (tx) => {
              // Found under a lock, as create does (and before the teams, whose refusals come after).
              const owner = await ownerOf(tx, p, newOwner);
              const values = await valuesWith(tx);
              // Handing a search to another user counts against theirs.
              if (owner.id !== row.owner_user_id) {
                await repo.lockOrganization(tx, p.orgId);
                await requireRoom(tx, p.orgId, owner, false);
              }
              return repo.update(tx, row.id, { ...values, owner_user_id: owner.id });
            });
      } catch (error) {
        if (isUniqueViolation(error)) throw clash(name ?? row.name);
        throw error;
      }
      // Deleted since it was loaded: as if it had been before.
      if (!updated) throw missing(identifier, type);
      return updated;
    },

    async delete(p: Principal, identifier: string, type: SavedSearchIdentifierType): Promise<void> {
      const row = await load(p, identifier, type);
      requireManager(p, row.owner_user_id, 'delete');
      await repo.delete(db, row.id);
    },
  };
}

export type SavedSearchesService = ReturnType<typeof createSavedSearchesService>;
