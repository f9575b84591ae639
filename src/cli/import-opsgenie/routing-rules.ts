import {
  eachItem,
  enc,
  isRecord,
  readList,
  resolveNamed,
  sameJson,
  Skip,
  type ImportContext,
} from './context.js';
import { criteriaOf, timeRestrictionOf, vigilName } from './normalize.js';
import { RoutingRuleShape, shaped, text, type RoutingRuleIn } from './shapes.js';
import type { ImportedTeam } from './teams.js';

/**
 * Each team's routing rules, matched by name within the team (a rule without a name by what it does), rules
 * of one name one to one in their order, and put in Opsgenie's order, which is the order they are tried in
 * (those only Vigil has come after them); the default rule is the team's default rule.
 */

type Notify = { type: 'none' } | { type: 'escalation' | 'schedule'; name: string };

function notifyOf(ctx: ImportContext, n: RoutingRuleIn['notify']): Notify {
  if (n.type === 'none') return { type: 'none' };
  if (n.type === 'escalation' || n.type === 'schedule') {
    const found = resolveNamed(n.type === 'escalation' ? ctx.escalations : ctx.schedules, n.type, n);
    if (!found.ok) throw new Skip(`it notifies ${found.why}`);
    return { type: n.type, name: found.value };
  }
  throw new Skip(
    `it notifies "${n.type}", and Vigil's routing rules notify an escalation, a schedule or none`,
  );
}

function comparableNotify(n: RoutingRuleIn['notify']) {
  return n.type === 'none' ? { type: 'none' } : { type: n.type, name: (n.name ?? '').toLowerCase() };
}

function comparableRule(r: RoutingRuleIn) {
  const timeRestriction = timeRestrictionOf(r.timeRestriction);
  return {
    criteria: criteriaOf(r.criteria),
    timezone: r.timezone || 'UTC',
    ...(timeRestriction ? { timeRestriction } : {}),
    notify: comparableNotify(r.notify),
  };
}

/** What Vigil names a rule made without a name. */
const UNNAMED = 'unnamed rule';

/** Vigil's longest routing rule name. */
const NAME_LIMIT = 200;

/** A rule's name as Vigil keeps it: what is sent when it is made, and what it is matched by. */
const nameOf = (r: { name?: string | null }) => vigilName(r.name, NAME_LIMIT);

/** A rule's key within its team: its name, or for an unnamed rule what it does. */
function keyOf(r: RoutingRuleIn): string {
  if (r.isDefault) return 'default';
  const name = nameOf(r).toLowerCase();
  return name !== '' && name !== UNNAMED ? `name:${name}` : `content:${JSON.stringify(comparableRule(r))}`;
}

/**
 * Puts a team's imported rules in Opsgenie's order, one after the other, ahead of those only Vigil has.
 * `order` is Vigil's rules (the default one aside, which is always last) by id, in their order.
 */
function placement(ctx: ImportContext, base: string, order: string[]) {
  /** How many of Opsgenie's rules are in place: the next one goes at this index. */
  let placed = 0;
  return {
    /** Where a rule made now goes. */
    next: () => placed,
    /** A rule made at the next place. */
    made(id: string) {
      order.splice(placed, 0, id);
      placed++;
    },
    /** Moves a rule Vigil has to the next place: answers the place (from 1) it moved to, if it moved. */
    async existing(id: string): Promise<number | undefined> {
      const at = order.indexOf(id);
      // Already placed (each Vigil rule is matched once, so only as a guard).
      if (at < placed) return undefined;
      const moves = at > placed;
      if (moves) {
        if (!ctx.dryRun)
          await ctx.target.post(`${base}/${enc(id)}/change-order?teamIdentifierType=name`, {
            order: placed,
          });
        order.splice(at, 1);
        order.splice(placed, 0, id);
      }
      placed++;
      return moves ? placed : undefined;
    },
  };
}

export async function importRoutingRules(ctx: ImportContext, teams: ImportedTeam[]): Promise<void> {
  for (const team of teams) {
    const items = await readList(ctx, 'routing rule', `routing rules of ${team.name}`, async () => {
      const got = await ctx.source.get(`/v2/teams/${enc(team.sourceId)}/routing-rules`);
      return Array.isArray(got) ? got : [];
    });
    if (!items) continue;
    /**
     * Vigil's rules by key, in their order, several to a key: a team may have rules of one name. Each is
     * taken by the first of Opsgenie's rules with its key, in Opsgenie's order, so it is matched to one
     * rule only: never compared with, or changed for, a second rule of that name.
     */
    const existing = new Map<string, RoutingRuleIn[]>();
    const order: string[] = [];
    if (team.existsInVigil) {
      const got = await ctx.target.get(`/v2/teams/${enc(team.name)}/routing-rules?teamIdentifierType=name`);
      for (const raw of Array.isArray(got) ? got : []) {
        const rule = shaped(RoutingRuleShape, raw);
        if (!rule.ok) continue;
        const key = keyOf(rule.value);
        existing.set(key, [...(existing.get(key) ?? []), rule.value]);
        if (!rule.value.isDefault) order.push(rule.value.id);
      }
    }
    const base = `/v2/teams/${enc(team.name)}/routing-rules`;
    const place = placement(ctx, base, order);
    const labelFor = (r: Record<string, unknown>) =>
      `${r.isDefault === true ? 'default rule' : `"${text(r.name ?? '')}"`} of ${team.name}`;
    await eachItem(
      ctx,
      'routing rule',
      RoutingRuleShape,
      items,
      async (r) => {
        const label = labelFor(r);
        // Taken before anything can skip it: a rule skipped this run keeps its Vigil rule from the next one.
        const have = existing.get(keyOf(r))?.shift();
        if (r.isDefault) {
          // A Vigil team without a default rule of its own notifies its members: the same on either side.
          if (r.notify.type === 'team-members' && (!have || have.notify.type === 'team-members'))
            return ctx.report.record('routing rule', label, 'unchanged');
          const notify = notifyOf(ctx, r.notify);
          if (have && sameJson(comparableNotify(have.notify), comparableNotify({ ...notify, id: undefined })))
            return ctx.report.record('routing rule', label, 'unchanged');
          if (!ctx.dryRun) await ctx.target.put(`${base}/default?teamIdentifierType=name`, { notify });
          return ctx.report.record('routing rule', label, have ? 'updated' : 'created');
        }
        const notify = notifyOf(ctx, r.notify);
        const timeRestriction = timeRestrictionOf(r.timeRestriction);
        const body = {
          criteria: criteriaOf(r.criteria),
          timezone: r.timezone || 'UTC',
          ...(timeRestriction ? { timeRestriction } : {}),
          notify,
        };
        if (have) {
          const same = sameJson(
            comparableRule(have),
            comparableRule({ ...r, notify: { ...notify, id: undefined } }),
          );
          if (!same && !ctx.dryRun)
            await ctx.target.patch(`${base}/${enc(have.id)}?teamIdentifierType=name`, {
              ...body,
              ...(timeRestriction ? {} : { timeRestriction: null }),
            });
          const movedTo = await place.existing(have.id);
          const note = movedTo ? `moved to place ${movedTo}, as in Opsgenie` : undefined;
          return ctx.report.record('routing rule', label, same && !movedTo ? 'unchanged' : 'updated', note);
        }
        // Made at its place: Vigil would put it after every rule the team has.
        let id = `(would be created) ${label}`;
        if (!ctx.dryRun) {
          const made = await ctx.target.post(`${base}?teamIdentifierType=name`, {
            ...(nameOf(r) ? { name: nameOf(r) } : {}),
            order: place.next(),
            ...body,
          });
          if (!isRecord(made) || typeof made.id !== 'string')
            throw new Error('Vigil made the routing rule without answering its id');
          id = made.id;
        }
        place.made(id);
        ctx.report.record('routing rule', label, 'created');
      },
      labelFor,
    );
  }
}
