import { eachItem, enc, isRecord, readList, sameJson, Skip, type ImportContext } from './context.js';
import { addressOf } from './contacts.js';
import { criteriaOf, minutesOf } from './normalize.js';
import { RuleShape, RuleSummaryShape, shaped, text, type RuleIn } from './shapes.js';
import type { ImportedUser } from './users.js';

/** Each user's notification rules with their steps, matched by action type and name. */

const ACTION_TYPES = new Set(['create-alert', 'acknowledged-alert', 'closed-alert', 'add-note']);

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

const ruleKey = (actionType: string, name: string) => `${actionType}:${name.trim().toLowerCase()}`;

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

async function vigilRules(ctx: ImportContext, user: ImportedUser) {
  const found = new Map<string, { id: string; compare: ReturnType<typeof comparable> }>();
  if (!user.existsInVigil) {
    // A user a dry run would create gets the rule Vigil gives every new user, "New alert": every new
    // alert, their email at once.
    found.set(ruleKey('create-alert', 'New alert'), {
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
    });
    return found;
  }
  const list = await ctx.target.get(`/v2/users/${enc(user.username)}/notification-rules`);
  for (const summary of Array.isArray(list) ? list : []) {
    if (!isRecord(summary) || typeof summary.id !== 'string') continue;
    const got = shaped(
      RuleShape,
      await ctx.target.get(`/v2/users/${enc(user.username)}/notification-rules/${enc(summary.id)}`),
    );
    if (!got.ok) continue;
    const r = got.value;
    found.set(ruleKey(r.actionType, r.name ?? ''), {
      id: r.id,
      compare: comparable({
        criteria: criteriaOf(r.criteria),
        enabled: r.enabled !== false,
        steps: stepsOf(r).steps,
        timeRestriction: r.timeRestriction,
        repeat: r.repeat,
      }),
    });
  }
  return found;
}

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
    const existing = await vigilRules(ctx, user);
    const labelFor = (r: Record<string, unknown>) => `"${text(r.name ?? '')}" of ${user.username}`;
    await eachItem(
      ctx,
      'notification rule',
      RuleSummaryShape,
      items,
      async (summary) => {
        const label = labelFor(summary);
        if (!ACTION_TYPES.has(summary.actionType))
          throw new Skip(
            `Vigil's notification rules are for create-alert, acknowledged-alert, closed-alert and add-note, not ${summary.actionType}`,
          );
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
        const name = (rule.name ?? '').trim() || rule.actionType;
        const enabled = rule.enabled !== false;
        // Read in the user's time zone, in Vigil as in Opsgenie.
        const timeRestriction = rule.timeRestriction ?? null;
        const desired = comparable({ criteria, steps, enabled, timeRestriction, repeat });
        const have = existing.get(ruleKey(rule.actionType, name));
        if (have && sameJson(have.compare, desired))
          return ctx.report.record('notification rule', label, 'unchanged');
        const body = { criteria, steps, enabled, timeRestriction, repeat };
        if (have) {
          if (!ctx.dryRun)
            await ctx.target.patch(
              `/v2/users/${enc(user.username)}/notification-rules/${enc(have.id)}`,
              body,
            );
          return ctx.report.record('notification rule', label, 'updated', notes);
        }
        if (!ctx.dryRun)
          await ctx.target.post(`/v2/users/${enc(user.username)}/notification-rules`, {
            name: name.slice(0, 512),
            actionType: rule.actionType,
            ...body,
          });
        existing.set(ruleKey(rule.actionType, name), { id: '', compare: desired });
        ctx.report.record('notification rule', label, 'created', notes);
      },
      labelFor,
    );
  }
}
