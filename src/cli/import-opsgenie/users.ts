import {
  eachItem,
  enc,
  errorText,
  isRecord,
  readList,
  sameJson,
  Skip,
  type ImportContext,
} from './context.js';
import { UserShape, type UserIn } from './shapes.js';
import { nameKey } from '../../db/name-key.js';

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
 * Vigil's role for an Opsgenie role: Vigil's role name (as its API takes it) and why it differs. Only an
 * owner may add owners: an Opsgenie owner becomes an admin. Observer and Stakeholder become users (Vigil
 * has them only as what custom roles extend); a custom role is given by name once imported
 * (custom-roles.ts), and its holders are users when it was not.
 */
function roleOf(ctx: ImportContext, opsgenieRole: string | undefined): { role: string; changed?: string } {
  const name = (opsgenieRole ?? 'user').toLowerCase();
  if (name === 'admin' || name === 'user') return { role: name };
  if (name === 'owner') return { role: 'admin', changed: 'Opsgenie owner made an admin' };
  if (name === 'observer' || name === 'stakeholder')
    return {
      role: 'user',
      changed: `Opsgenie role ${opsgenieRole ?? ''} made a user (Vigil has it only as what custom roles extend)`,
    };
  const custom = ctx.customRoles.get(nameKey(opsgenieRole ?? ''));
  if (custom) return { role: custom };
  return {
    role: 'user',
    changed: `made a user: its custom role ${opsgenieRole ?? ''} was not imported`,
  };
}

interface Address {
  country: string;
  state: string;
  city: string;
  line: string;
  zipCode: string;
}
const ADDRESS_PARTS = ['country', 'state', 'city', 'line', 'zipCode'] as const;
/** Vigil's limits for the profile fields it keeps (docs/api.md, users). */
const MAX_TAGS = 20;
const MAX_TAG = 100;
const MAX_PROFILE_TEXT = 250;
/** What PostgreSQL can not store in text, so Vigil refuses it. */
const NUL = '\u0000';

/**
 * The user's tags, Skype username and address as Vigil takes them (each only when Opsgenie gives it, so
 * an update keeps what it does not give), and what of them did not fit.
 */
function profileOf(u: UserIn): {
  tags?: string[];
  skypeUsername?: string;
  userAddress?: Address;
  dropped: string[];
} {
  const dropped: string[] = [];
  const out: { tags?: string[]; skypeUsername?: string; userAddress?: Address } = {};
  if (Array.isArray(u.tags)) {
    const fit = [...new Set(u.tags)].filter((t) => t !== '' && t.length <= MAX_TAG && !t.includes(NUL));
    const left = [...new Set(u.tags)].filter((t) => !fit.includes(t));
    if (left.length > 0) dropped.push(`${left.length} tag(s) Vigil does not take left out`);
    if (fit.length > MAX_TAGS) dropped.push(`tags past the first ${MAX_TAGS} left out`);
    out.tags = fit.slice(0, MAX_TAGS);
  }
  if (typeof u.skypeUsername === 'string') {
    if (u.skypeUsername.length <= MAX_PROFILE_TEXT && !u.skypeUsername.includes(NUL))
      out.skypeUsername = u.skypeUsername;
    else dropped.push('skypeUsername left out (more than 250 characters, or a NUL byte)');
  }
  if (u.userAddress) {
    const address = Object.fromEntries(
      ADDRESS_PARTS.map((part) => [part, u.userAddress?.[part] ?? '']),
    ) as unknown as Address;
    if (
      ADDRESS_PARTS.every((part) => address[part].length <= MAX_PROFILE_TEXT && !address[part].includes(NUL))
    )
      out.userAddress = address;
    else dropped.push('userAddress left out (a part of more than 250 characters, or a NUL byte)');
  }
  return { ...out, dropped };
}

interface VigilUser {
  id: string;
  username: string;
  fullName: string;
  role: string;
  timeZone: string;
  locale: string;
  blocked: boolean;
  tags: string[];
  skypeUsername: string;
  userAddress: Address;
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
    tags: Array.isArray(v.tags) ? v.tags.filter((t): t is string => typeof t === 'string') : [],
    skypeUsername: typeof v.skypeUsername === 'string' ? v.skypeUsername : '',
    userAddress: Object.fromEntries(
      ADDRESS_PARTS.map((part) => {
        const value = isRecord(v.userAddress) ? v.userAddress[part] : undefined;
        return [part, typeof value === 'string' ? value : ''];
      }),
    ) as unknown as Address,
  };
}

/**
 * The id of the Vigil user the import's API key acts as (Vigil's `GET /api/console/session` answers an
 * API key's caller too, its whole body being the session), or undefined when Vigil does not say.
 */
async function keyUserOf(ctx: ImportContext): Promise<string | undefined> {
  try {
    // `list` with `pick` reads one answer's whole body (no paging): `get` gives only its `data`.
    const [user] = await ctx.target.list('/api/console/session', { pick: (body) => [body.user] });
    return isRecord(user) && typeof user.id === 'string' && user.id !== '' ? user.id : undefined;
  } catch {
    // An older Vigil: its admins and owners are still never lowered (below), only the key's user's block
    // is not foreseen.
    return undefined;
  }
}

/** Owners above admins above everyone else (users, custom roles). */
const RANK: Record<string, number> = { owner: 2, admin: 1 };
const rankOf = (role: string) => RANK[role.toLowerCase()] ?? 0;

/** The users imported: Opsgenie's id, and whether Vigil has them yet (not in a dry run's new ones). */
export interface ImportedUser {
  sourceId: string;
  username: string;
  existsInVigil: boolean;
  /** Made by this run (or would be, in a dry run): what Vigil gave them by default is not theirs yet. */
  madeNow: boolean;
}

export async function importUsers(ctx: ImportContext): Promise<ImportedUser[]> {
  const items = await readList(ctx, 'user', 'users', () => ctx.source.list('/v2/users', { offset: true }));
  if (!items) return [];
  const existing = new Map<string, VigilUser>();
  for (const raw of await ctx.target.list('/v2/users', { offset: true })) {
    const user = vigilUser(raw);
    if (user) existing.set(user.username.toLowerCase(), user);
  }
  const keyUser = await keyUserOf(ctx);
  const imported: ImportedUser[] = [];
  await eachItem(ctx, 'user', UserShape, items, async (u: UserIn) => {
    if (!EMAIL.test(u.username) || u.username.length > 100)
      throw new Skip('Vigil usernames are email addresses of at most 100 characters');
    const { role, changed } = roleOf(ctx, u.role?.name);
    const { dropped, ...profile } = profileOf(u);
    const fullName = (u.fullName ?? '').trim() || u.username;
    const zoneDropped =
      u.timeZone && !isTimeZone(u.timeZone) ? `time zone ${u.timeZone} is not an IANA zone` : '';
    const timeZone = u.timeZone && !zoneDropped ? u.timeZone : undefined;
    const locale = u.locale && u.locale.length <= 16 ? u.locale : undefined;
    const have = existing.get(u.username.toLowerCase());
    const label = u.username;
    if (!have) {
      if (!ctx.dryRun) {
        const made = await ctx.target.post('/v2/users', {
          username: u.username,
          fullName: fullName.slice(0, 512),
          role: { name: role },
          ...(timeZone ? { timeZone } : {}),
          ...(locale ? { locale } : {}),
          ...profile,
        });
        // Vigil's POST has no `blocked`: a blocked person (someone who left) is blocked at once, before
        // their contacts, rules and memberships are imported, so that they are never paged in between.
        if (u.blocked === true) {
          const id = isRecord(made) && typeof made.id === 'string' ? made.id : u.username;
          try {
            await ctx.target.patch(`/v2/users/${enc(id)}`, { blocked: true });
          } catch (error) {
            // Not in ctx.users: nothing else of theirs is imported until they are blocked.
            throw new Error(
              `made in Vigil but not blocked as in Opsgenie, so nothing else of theirs was imported: block them in Vigil, or run the import again (${errorText(error)})`,
              { cause: error },
            );
          }
        }
      }
      ctx.report.record(
        'user',
        label,
        'created',
        [u.blocked === true ? 'blocked, as in Opsgenie' : '', changed, zoneDropped, ...dropped]
          .filter(Boolean)
          .join('; '),
      );
      ctx.report.note(
        'Users made by the import have no password: invite them from the console (People → a person → invite), or have them use "Forgot password" (POST /api/console/password-reset), or sign in with single sign-on.',
      );
      ctx.users.set(u.id, u.username);
      // Made now (not in a dry run): their contacts and rules are read from Vigil, with their ids.
      imported.push({ sourceId: u.id, username: u.username, existsInVigil: !ctx.dryRun, madeNow: true });
      return;
    }
    const changes: Record<string, unknown> = {};
    if (have.fullName !== fullName.slice(0, 512)) changes.fullName = fullName.slice(0, 512);
    if (timeZone && have.timeZone !== timeZone) changes.timeZone = timeZone;
    if (locale && have.locale !== locale) changes.locale = locale;
    // Kept as Vigil has it, each with why, on their line and under the next steps: the key's own user
    // (lowered or blocked, the rest of the run would lose the rights it needs), and any admin or owner
    // Opsgenie has lower (who runs the import decides that, in Vigil).
    const kept: string[] = [];
    const ownKey = keyUser !== undefined && keyUser === have.id;
    const opsgenieRole = u.role?.name ?? 'User';
    const fromOwner = have.role === 'owner' && opsgenieRole.toLowerCase() === 'owner';
    if (have.role !== role.toLowerCase() && !fromOwner) {
      if (rankOf(role) < rankOf(have.role)) {
        kept.push(
          `role not lowered: Vigil has them as ${have.role}, Opsgenie as ${opsgenieRole}${ownKey ? ', and the import runs with their API key' : "; the import never lowers an admin's or owner's role"}`,
        );
        ctx.report.note(
          `Lower ${have.username}'s role in Vigil from ${have.role} to ${opsgenieRole}, as in Opsgenie, if it should be: the import does not lower an admin's or owner's role${ownKey ? ' and ran with their API key (do it once the import is done, as another admin)' : ''} (People → the person, or PATCH /v2/users/{id} with {"role": {"name": …}}).`,
        );
      } else changes.role = { name: role };
    }
    if (u.blocked !== undefined && u.blocked !== have.blocked) {
      if (u.blocked && ownKey) {
        kept.push('not blocked as in Opsgenie: the import runs with their API key');
        ctx.report.note(
          `Block ${have.username} in Vigil, as in Opsgenie, once the import is done: it ran with their API key, which blocking them stops (People → the person, or PATCH /v2/users/{id} with {"blocked": true}, as another admin).`,
        );
      } else changes.blocked = u.blocked;
    }
    if (profile.tags && !sameJson(have.tags, profile.tags)) changes.tags = profile.tags;
    if (profile.skypeUsername !== undefined && have.skypeUsername !== profile.skypeUsername)
      changes.skypeUsername = profile.skypeUsername;
    if (profile.userAddress && !sameJson(have.userAddress, profile.userAddress))
      changes.userAddress = profile.userAddress;
    if (Object.keys(changes).length > 0) {
      if (!ctx.dryRun) await ctx.target.patch(`/v2/users/${enc(have.id)}`, changes);
      ctx.report.record(
        'user',
        label,
        'updated',
        [Object.keys(changes).join(', '), changed, ...kept, ...dropped].filter(Boolean).join('; '),
      );
    } else {
      ctx.report.record('user', label, 'unchanged', kept.join('; ') || undefined);
    }
    ctx.users.set(u.id, have.username);
    imported.push({ sourceId: u.id, username: have.username, existsInVigil: true, madeNow: false });
  });
  return imported;
}
