import { isUserRight } from '../../accounts/custom-roles/rights.js';
import { eachItem, enc, errorText, isRecord, sameJson, Skip, type ImportContext } from './context.js';
import { RestError } from './rest-client.js';
import { CustomUserRoleShape, type CustomUserRoleIn } from './shapes.js';
import { nameKey } from '../../db/name-key.js';

/**
 * Opsgenie's custom user roles (Custom User Role API, `/v2/roles`), matched by name: made where Vigil
 * lacks them, replaced (PUT) where they differ. Read before the users, who are given them by name; a role
 * Vigil refuses is skipped, and its holders become users (users.ts says so).
 */

/** Opsgenie's default role names: they are never custom roles, in Vigil either. */
const DEFAULT_ROLES = ['owner', 'admin', 'user', 'observer', 'stakeholder'];

interface VigilRole {
  id: string;
  name: string;
  body: ReturnType<typeof bodyOf>;
}

/** A role as Vigil's POST and PUT take it, its rights without repeats and sorted to compare. */
function bodyOf(role: Pick<CustomUserRoleIn, 'extendedRole' | 'grantedRights' | 'disallowedRights'>) {
  const rights = (list: readonly string[] | null | undefined) => [...new Set(list ?? [])].sort();
  return {
    extendedRole: (role.extendedRole || 'user').toLowerCase(),
    grantedRights: rights(role.grantedRights),
    disallowedRights: rights(role.disallowedRights),
  };
}

async function vigilRoles(ctx: ImportContext): Promise<Map<string, VigilRole>> {
  const roles = new Map<string, VigilRole>();
  const got = await ctx.target.get('/v2/roles');
  for (const raw of Array.isArray(got) ? got : []) {
    if (!isRecord(raw) || typeof raw.id !== 'string' || typeof raw.name !== 'string') continue;
    const strings = (v: unknown) =>
      Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
    roles.set(nameKey(raw.name), {
      id: raw.id,
      name: raw.name,
      body: bodyOf({
        extendedRole: typeof raw.extendedRole === 'string' ? raw.extendedRole : undefined,
        grantedRights: strings(raw.grantedRights),
        disallowedRights: strings(raw.disallowedRights),
      }),
    });
  }
  return roles;
}

/** Vigil's 422 (a right it does not take, one both granted and disallowed) skips the role. */
async function refusedIsSkip<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    if (error instanceof RestError && error.status === 422)
      throw new Skip(`Vigil refused it: ${errorText(error)}; its holders are made users`);
    throw error;
  }
}

export async function importCustomRoles(ctx: ImportContext): Promise<void> {
  let items: unknown[];
  try {
    items = await ctx.source.list('/v2/roles');
  } catch (error) {
    // Opsgenie plans without custom user roles answer with an error: their holders become users.
    const noRoles = error instanceof RestError && [402, 403, 404].includes(error.status ?? 0);
    ctx.report.record(
      'custom user role',
      '(custom user roles)',
      noRoles ? 'skipped' : 'failed',
      `could not read them: ${errorText(error)}`,
    );
    return;
  }
  const current = await vigilRoles(ctx);
  await eachItem(ctx, 'custom user role', CustomUserRoleShape, items, async (role) => {
    if (DEFAULT_ROLES.includes(nameKey(role.name)))
      throw new Skip('the name of a default role: Vigil has it');
    const desired = bodyOf(role);
    const unknown = [...desired.grantedRights, ...desired.disallowedRights].filter((r) => !isUserRight(r));
    if (unknown.length > 0)
      throw new Skip(`Vigil does not know the rights ${unknown.join(', ')}; its holders are made users`);
    const have = current.get(nameKey(role.name));
    if (!have) {
      if (!ctx.dryRun)
        await refusedIsSkip(() => ctx.target.post('/v2/roles', { name: role.name, ...desired }));
      ctx.report.record('custom user role', role.name, 'created');
      ctx.customRoles.set(nameKey(role.name), role.name);
      return;
    }
    if (sameJson(have.body, desired) && have.name === role.name) {
      ctx.report.record('custom user role', role.name, 'unchanged');
    } else {
      if (!ctx.dryRun)
        await refusedIsSkip(() =>
          ctx.target.put(`/v2/roles/${enc(have.id)}`, { name: role.name, ...desired }),
        );
      ctx.report.record('custom user role', role.name, 'updated');
    }
    ctx.customRoles.set(nameKey(role.name), role.name);
  });
}
