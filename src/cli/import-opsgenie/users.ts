import { eachItem, enc, isRecord, readList, Skip, type ImportContext } from './context.js';
import { UserShape, type UserIn } from './shapes.js';

/** Opsgenie's users → Vigil's users, matched by username. */

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Vigil's role for an Opsgenie role. Only an owner may add owners, and Vigil has one set of roles: an
 * Opsgenie owner becomes an admin, and Observer, Stakeholder and custom roles a user.
 */
function roleOf(opsgenieRole: string | undefined): { role: 'admin' | 'user'; changed?: string } {
  const name = (opsgenieRole ?? 'user').toLowerCase();
  if (name === 'admin') return { role: 'admin' };
  if (name === 'user') return { role: 'user' };
  if (name === 'owner') return { role: 'admin', changed: 'Opsgenie owner made an admin' };
  return {
    role: 'user',
    changed: `Opsgenie role ${opsgenieRole ?? ''} made a user (Vigil has owner, admin, user)`,
  };
}

interface VigilUser {
  id: string;
  username: string;
  fullName: string;
  role: string;
  timeZone: string;
  locale: string;
  blocked: boolean;
}

function vigilUser(v: unknown): VigilUser | undefined {
  if (!isRecord(v) || typeof v.username !== 'string' || typeof v.id !== 'string') return undefined;
  const role = isRecord(v.role) && typeof v.role.name === 'string' ? v.role.name.toLowerCase() : 'user';
  return {
    id: v.id,
    username: v.username,
    fullName: typeof v.fullName === 'string' ? v.fullName : '',
    role,
    timeZone: typeof v.timeZone === 'string' ? v.timeZone : '',
    locale: typeof v.locale === 'string' ? v.locale : '',
    blocked: v.blocked === true,
  };
}

/** The users imported: Opsgenie's id, and whether Vigil has them yet (not in a dry run's new ones). */
export interface ImportedUser {
  sourceId: string;
  username: string;
  existsInVigil: boolean;
}

export async function importUsers(ctx: ImportContext): Promise<ImportedUser[]> {
  const items = await readList(ctx, 'user', 'users', () => ctx.source.list('/v2/users', { offset: true }));
  if (!items) return [];
  const existing = new Map<string, VigilUser>();
  for (const raw of await ctx.target.list('/v2/users', { offset: true })) {
    const user = vigilUser(raw);
    if (user) existing.set(user.username.toLowerCase(), user);
  }
  const imported: ImportedUser[] = [];
  await eachItem(ctx, 'user', UserShape, items, async (u: UserIn) => {
    if (!EMAIL.test(u.username) || u.username.length > 100)
      throw new Skip('Vigil usernames are email addresses of at most 100 characters');
    const { role, changed } = roleOf(u.role?.name);
    const fullName = (u.fullName ?? '').trim() || u.username;
    const zoneDropped =
      u.timeZone && !isTimeZone(u.timeZone) ? `time zone ${u.timeZone} is not an IANA zone` : '';
    const timeZone = u.timeZone && !zoneDropped ? u.timeZone : undefined;
    const locale = u.locale && u.locale.length <= 16 ? u.locale : undefined;
    const have = existing.get(u.username.toLowerCase());
    const label = u.username;
    if (!have) {
      if (!ctx.dryRun)
        await ctx.target.post('/v2/users', {
          username: u.username,
          fullName: fullName.slice(0, 512),
          role: { name: role },
          ...(timeZone ? { timeZone } : {}),
          ...(locale ? { locale } : {}),
        });
      ctx.report.record('user', label, 'created', [changed, zoneDropped].filter(Boolean).join('; '));
      ctx.report.note(
        'Users made by the import have no password: invite them from the console (People → a person → invite), or have them use "Forgot password" (POST /api/console/password-reset), or sign in with single sign-on.',
      );
      ctx.users.set(u.id, u.username);
      imported.push({ sourceId: u.id, username: u.username, existsInVigil: false });
      return;
    }
    const changes: Record<string, unknown> = {};
    if (have.fullName !== fullName.slice(0, 512)) changes.fullName = fullName.slice(0, 512);
    if (timeZone && have.timeZone !== timeZone) changes.timeZone = timeZone;
    if (locale && have.locale !== locale) changes.locale = locale;
    // An owner stays an owner; otherwise the role follows Opsgenie's.
    if (have.role !== 'owner' && have.role !== role) changes.role = { name: role };
    if (u.blocked !== undefined && u.blocked !== have.blocked) changes.blocked = u.blocked;
    if (Object.keys(changes).length > 0) {
      if (!ctx.dryRun) await ctx.target.patch(`/v2/users/${enc(have.id)}`, changes);
      ctx.report.record(
        'user',
        label,
        'updated',
        `${Object.keys(changes).join(', ')}${changed ? `; ${changed}` : ''}`,
      );
    } else {
      ctx.report.record('user', label, 'unchanged');
    }
    ctx.users.set(u.id, have.username);
    imported.push({ sourceId: u.id, username: have.username, existsInVigil: true });
  });
  return imported;
}
