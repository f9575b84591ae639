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
import { addressOf } from './contacts.js';
import { criteriaOf, minutesOf, vigilName } from './normalize.js';
import { RuleShape, RuleSummaryShape, shaped, text, type RuleIn } from './shapes.js';
import type { ImportedUser } from './users.js';

/**
 * Each user's notification rules with their steps, matched by action type and name (rules alike in both one
 * to one, in their order), and put in Opsgenie's
 * order within their action type: the first enabled rule that matches an alert is the one that applies, in
 * Vigil as in Opsgenie, so a rule's place is part of what it does. Rules only Vigil has come after them.
 */

const ACTION_TYPES = new Set([
  'create-alert',
  'acknowledged-alert',
  'closed-alert',
  'add-note',
  'assigned-alert',
]);

interface Step {
  contact: { method: string; to: string };
  sendAfter: { timeAmount: number; timeUnit: 'minutes' };
  enabled: boolean;
}

function stepsOf(rule: { steps?: RuleIn['steps'] }): { steps: Step[]; dropped: string[] } {
  const steps: Step[] = [];
  const dropped: string[] = [];
  for (const s of rule.steps ?? []) {
    if (!s.contact) continue;
    if (!['email', 'sms', 'voice'].includes(s.contact.method)) {
      dropped.push(`the step to its ${s.contact.method} contact`);
      continue;
    }
    const minutes = s.sendAfter ? minutesOf(s.sendAfter) : 0;
    if (minutes === undefined || minutes > 10080) {
      dropped.push(
        `the step to ${s.contact.method} after ${s.sendAfter?.timeAmount} ${s.sendAfter?.timeUnit}`,
      );
      continue;
    }
    steps.push({
      contact: { method: s.contact.method, to: addressOf(s.contact.method, s.contact.to) },
      sendAfter: { timeAmount: minutes, timeUnit: 'minutes' },
      enabled: s.enabled !== false,
    });
  }
  return { steps, dropped };
}

/** Opsgenie's repeat as Vigil takes it (`loopAfter` 0 to 10080 minutes), or null for none or one it cannot take. */
function repeatOf(repeat: unknown): { loopAfter: number; enabled: boolean } | null {
  if (!isRecord(repeat)) return null;
  const { loopAfter, enabled } = repeat;
  if (typeof loopAfter !== 'number' || !Number.isInteger(loopAfter) || loopAfter < 0 || loopAfter > 10080)
    return null;
  return { loopAfter, enabled: enabled !== false };
}

/** Vigil's longest notification rule name. */
const NAME_LIMIT = 512;

/**
 * A rule's name in Vigil: Opsgenie's as Vigil keeps it (what is sent when it is made, and what it is
 * matched by), or its action type for one without.
 */
const nameOf = (r: { name?: string | null; actionType: string }) =>
  vigilName(r.name, NAME_LIMIT) || r.actionType;

const ruleKey = (r: { name?: string | null; actionType: string }) =>
  `${r.actionType}:${nameOf(r).toLowerCase()}`;

/** The rule as it would be sent, and as Vigil's is brought to for comparing. */
function comparable(rule: {
  criteria: unknown;
  steps: Step[];
  enabled: boolean;
  timeRestriction?: unknown;
  repeat?: unknown;
}) {
  return {
    criteria: rule.criteria,
    enabled: rule.enabled,
    timeRestriction: rule.timeRestriction ?? null,
    repeat: repeatOf(rule.repeat),
    steps: rule.steps.map((s) => ({
      ...s,
      contact: { method: s.contact.method, to: s.contact.to.toLowerCase() },
    })),
  };
}

/** The rule Vigil gives every new user (oncall/people/defaults.ts): every new alert, their email at once. */
const DEFAULT_RULE = 'New alert';
const DEFAULT_KEY = ruleKey({ actionType: 'create-alert', name: DEFAULT_RULE });

/**
 * Whether a rule in Vigil is, in every field, the one Vigil gave the user when it made them: then it is
 * still Vigil's, not theirs, whichever run made them (one that stopped before reading their rules, say).
 */
function isVigilsDefault(r: RuleIn, username: string): boolean {
  const [step, ...more] = r.steps ?? [];
  return (
    r.name === DEFAULT_RULE &&
    r.actionType === 'create-alert' &&
    r.enabled === true &&
    sameJson(criteriaOf(r.criteria), { type: 'match-all' }) &&
    (r.timeRestriction ?? null) === null &&
    (r.repeat ?? null) === null &&
    more.length === 0 &&
    step?.enabled === true &&
    step.contact?.method === 'email' &&
    step.contact.to.toLowerCase() === username.toLowerCase() &&
    step.sendAfter !== undefined &&
    minutesOf(step.sendAfter) === 0
  );
}

/** A user's rule in Vigil: its id, what it does (`comparable`), and whether it is Vigil's default. */
interface VigilRule {
  id: string;
  compare: ReturnType<typeof comparable>;
  vigilsDefault: boolean;
}

/**
 * Puts a user's imported rules of one action type in Opsgenie's order, one after the other, ahead of those
 * only Vigil has. `order` is Vigil's rules of that type by id, in their order.
 */
function placement(order: string[]) {
  /** How many of Opsgenie's rules are in place: the next one goes at this index. */
  let placed = 0;
  return {
    /** Where the next rule goes (Vigil's `order`). */
    next: () => placed,
    /** Whether Vigil's rule must move to the next place: not when an alike rule before it placed it. */
    moves: (id: string) => order.indexOf(id) > placed,
    /** The rule (one Vigil has, or one made now) is at the next place. */
    put(id: string) {
      const at = order.indexOf(id);
      if (at !== -1 && at < placed) return;
      if (at !== -1) order.splice(at, 1);
      order.splice(placed, 0, id);
      placed++;
    },
  };
}

/**
 * A user's rules in Vigil by key, in their order within their action type, several to a key: a user may
 * have rules of one name. Each is taken by the first of Opsgenie's rules with its key, in Opsgenie's order,
 * so it is matched to one rule only: never compared with, or changed for, a second rule of that name.
 */
async function vigilRules(ctx: ImportContext, user: ImportedUser) {
  const found = new Map<string, VigilRule[]>();
  /** Action type → Vigil's rules' ids, in their order. */
  const orders = new Map<string, string[]>();
  if (!user.existsInVigil) {
    // A user a dry run would create gets the rule Vigil gives every new user.
    orders.set('create-alert', ['']);
    found.set(DEFAULT_KEY, [
      {
        id: '',
        compare: comparable({
          criteria: { type: 'match-all' },
          enabled: true,
          steps: [
            {
              contact: { method: 'email', to: user.username },
              sendAfter: { timeAmount: 0, timeUnit: 'minutes' },
              enabled: true,
            },
          ],
        }),
        vigilsDefault: true,
      },
    ]);
    return { found, orders };
  }
  const list = await ctx.target.get(`/v2/users/${enc(user.username)}/notification-rules`);
  const summaries = (Array.isArray(list) ? list : []).flatMap((raw) => {
    const got = shaped(RuleSummaryShape, raw);
    return got.ok ? [got.value] : [];
  });
  const sorted = [...summaries].sort((a, b) => (a.order ?? 0) - (b.order ?? 0));
  for (const summary of sorted) {
    const ids = orders.get(summary.actionType) ?? [];
    ids.push(summary.id);
    orders.set(summary.actionType, ids);
  }
  for (const summary of sorted) {
    const got = shaped(
      RuleShape,
      await ctx.target.get(`/v2/users/${enc(user.username)}/notification-rules/${enc(summary.id)}`),
    );
    if (!got.ok) continue;
    const r = got.value;
    const key = ruleKey(r);
    found.set(key, [
      ...(found.get(key) ?? []),
      {
        id: r.id,
        compare: comparable({
          criteria: criteriaOf(r.criteria),
          enabled: r.enabled !== false,
          steps: stepsOf(r).steps,
          timeRestriction: r.timeRestriction,
          repeat: r.repeat,
        }),
        vigilsDefault: isVigilsDefault(r, user.username),
      },
    ]);
  }
  return { found, orders };
}

/** Opsgenie's `order` of a rule as listed; one without it goes after those with it, as listed. */
const opsgenieOrder = (raw: unknown) =>
  isRecord(raw) && typeof raw.order === 'number' ? raw.order : Number.MAX_SAFE_INTEGER;

export async function importNotificationRules(ctx: ImportContext, users: ImportedUser[]): Promise<void> {
  for (const user of users) {
    const base = `/v2/users/${enc(user.sourceId)}/notification-rules`;
    const items = await readList(
      ctx,
      'notification rule',
      `notification rules of ${user.username}`,
      async () => {
        const got = await ctx.source.get(base);
        return Array.isArray(got) ? got : [];
      },
    );
    if (!items) continue;
    const { found: existing, orders } = await vigilRules(ctx, user);
    const places = new Map<string, ReturnType<typeof placement>>();
    const placeFor = (actionType: string) => {
      let place = places.get(actionType);
      if (!place) {
        place = placement(orders.get(actionType) ?? []);
        places.set(actionType, place);
      }
      return place;
    };
    const labelFor = (r: Record<string, unknown>) => `"${text(r.name ?? '')}" of ${user.username}`;
    await eachItem(
      ctx,
      'notification rule',
      RuleSummaryShape,
      // Opsgenie numbers a user's rules across action types; each type's in that order is its ranking.
      [...items].sort((a, b) => opsgenieOrder(a) - opsgenieOrder(b)),
      async (summary) => {
        const label = labelFor(summary);
        if (!ACTION_TYPES.has(summary.actionType))
          throw new Skip(
            `Vigil's notification rules are for create-alert, acknowledged-alert, closed-alert, add-note and assigned-alert, not ${summary.actionType}`,
          );
        // Taken before anything can fail it, by the name Opsgenie lists it by (as `dropDefaultRule` reads
        // them): a rule that cannot be read this run keeps its Vigil rule from the next one of its name.
        const name = nameOf(summary);
        const have = existing.get(ruleKey(summary))?.shift();
        const got = shaped(RuleShape, await ctx.source.get(`${base}/${enc(summary.id)}`));
        if (!got.ok) throw new Skip(got.why);
        const rule = got.value;
        const criteria = criteriaOf(rule.criteria);
        const { steps, dropped } = stepsOf(rule);
        // Vigil repeats a rule's steps as Opsgenie does; a repeat it cannot take (a loopAfter out of range) is said.
        const repeat = repeatOf(rule.repeat);
        const notes = [
          ...dropped.map((d) => `${d} left out`),
          ...(isRecord(rule.repeat) && repeat === null
            ? ['its repeat left out (loopAfter out of range)']
            : []),
        ].join('; ');
        const enabled = rule.enabled !== false;
        // Read in the user's time zone, in Vigil as in Opsgenie.
        const timeRestriction = rule.timeRestriction ?? null;
        const desired = comparable({ criteria, steps, enabled, timeRestriction, repeat });
        const body = { criteria, steps, enabled, timeRestriction, repeat };
        const place = placeFor(rule.actionType);
        const order = place.next();
        if (have) {
          const same = sameJson(have.compare, desired);
          const moves = place.moves(have.id);
          if (same && !moves) {
            place.put(have.id);
            return ctx.report.record('notification rule', label, 'unchanged');
          }
          if (!ctx.dryRun)
            await ctx.target.patch(`/v2/users/${enc(user.username)}/notification-rules/${enc(have.id)}`, {
              ...(same ? {} : body),
              ...(moves ? { order } : {}),
            });
          place.put(have.id);
          const moved = moves ? `moved to place ${order + 1}, as in Opsgenie` : '';
          return ctx.report.record(
            'notification rule',
            label,
            'updated',
            [notes, moved].filter(Boolean).join('; '),
          );
        }
        // Made at its place: Vigil would put it after every rule the user has, its default among them.
        let id = `(would be made) ${rule.id}`;
        if (!ctx.dryRun) {
          const made = await ctx.target.post(`/v2/users/${enc(user.username)}/notification-rules`, {
            name,
            actionType: rule.actionType,
            order,
            ...body,
          });
          if (isRecord(made) && typeof made.id === 'string') id = made.id;
        }
        place.put(id);
        ctx.report.record('notification rule', label, 'created', notes);
      },
      labelFor,
    );
    // Those Opsgenie's rules did not take; Vigil's own default among them, if it is there. It is Vigil's
    // when this run made the user, or when it is still as Vigil made it: a run that made them may have
    // stopped before their rules.
    const defaults = existing.get(DEFAULT_KEY) ?? [];
    await dropDefaultRule(
      ctx,
      user,
      items,
      defaults.find((r) => user.madeNow || r.vigilsDefault),
    );
  }
}

/**
 * Deletes the rule Vigil gave a user, when Opsgenie has create-alert rules and none by its name: it
 * matches every alert, so it would page them for alerts none of their Opsgenie rules does (`have`: the
 * caller found it Vigil's). A rule by that name that differs stays, as it may be theirs by now; a user
 * Opsgenie gives no create-alert rule keeps it too, as someone new to Vigil is told of their alerts by it
 * until they set their own.
 */
async function dropDefaultRule(
  ctx: ImportContext,
  user: ImportedUser,
  items: unknown[],
  have: VigilRule | undefined,
): Promise<void> {
  if (!have) return;
  const { id } = have;
  const keys = items.flatMap((raw) => {
    const got = shaped(RuleSummaryShape, raw);
    return got.ok && got.value.actionType === 'create-alert' ? [ruleKey(got.value)] : [];
  });
  if (keys.length === 0 || keys.includes(DEFAULT_KEY)) return;
  try {
    if (!ctx.dryRun) await ctx.target.delete(`/v2/users/${enc(user.username)}/notification-rules/${enc(id)}`);
    ctx.report.record(
      'notification rule',
      `"${DEFAULT_RULE}" of ${user.username}`,
      'deleted',
      "Vigil's default for a new user, which Opsgenie does not have: their Opsgenie rules alone page them",
    );
  } catch (error) {
    ctx.report.record(
      'notification rule',
      `"${DEFAULT_RULE}" of ${user.username}`,
      'failed',
      `Vigil's default for a new user, which Opsgenie does not have, could not be deleted (${errorText(error)}): delete it in Vigil, as it pages them for every alert`,
    );
  }
}
