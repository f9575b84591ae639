import { resolveNamed, resolveUser, Skip, type ImportContext } from './context.js';
import type { ResponderIn } from './shapes.js';

/**
 * The responders of an integration action or an alert policy, named as the Vigil objects they were
 * imported as (Vigil's API takes names wherever it takes ids). One that was not imported skips the object.
 */

export type VigilResponder =
  { type: 'user'; username: string } | { type: 'team' | 'escalation' | 'schedule'; name: string };

export function respondersFor(
  ctx: ImportContext,
  list: ResponderIn[] | null | undefined,
  where: string,
): VigilResponder[] {
  return (list ?? []).map((r) => {
    if (r.type === 'user') {
      const user = resolveUser(ctx, r);
      if (!user.ok) throw new Skip(`${where} has a responder ${user.why}`);
      return { type: 'user', username: user.value };
    }
    const maps = { team: ctx.teams, escalation: ctx.escalations, schedule: ctx.schedules } as const;
    if (!(r.type in maps))
      throw new Skip(
        `${where} has a responder of type ${r.type}, and Vigil's are teams, users, escalations and schedules`,
      );
    const type = r.type as keyof typeof maps;
    const found = resolveNamed(maps[type], type, r);
    if (!found.ok) throw new Skip(`${where} has a responder ${found.why}`);
    return { type, name: found.value };
  });
}

/** Responders as compared: type and name (Vigil answers them with the names they were given). */
export function comparableResponders(list: ResponderIn[] | VigilResponder[] | null | undefined) {
  return (list ?? []).map((r) => {
    const named = r as { type: string; name?: string | null; username?: string | null };
    return { type: named.type, name: (named.username ?? named.name ?? '').toLowerCase() };
  });
}
