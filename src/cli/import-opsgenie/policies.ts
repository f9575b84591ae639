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
import { filterOf, minutesOf, timeRestrictionOf, unsupportedCondition } from './normalize.js';
import type { Kind } from './report.js';
import { comparableResponders, respondersFor } from './responders.js';
import { RestError } from './rest-client.js';
import { PolicyShape, PolicySummaryShape, shaped, text, type PolicyIn } from './shapes.js';
import type { ImportedTeam } from './teams.js';

/**
 * Policies (`/v2/policies`): the organization's global alert policies, then each imported team's alert and
 * notification policies, matched by name within their scope and kind and put in Opsgenie's order (those
 * only Vigil has come after them).
 */

type PolicyType = 'alert' | 'notification';
const KIND: Record<PolicyType, Kind> = { alert: 'alert policy', notification: 'notification policy' };

function filterBody(p: PolicyIn) {
  const filter = filterOf(p.filter);
  return { type: filter.type, ...('conditions' in filter ? { conditions: filter.conditions } : {}) };
}

/**
 * Its time restrictions in one form (a list of windows), absent when there are none; Opsgenie reads them
 * in the account's zone, which the run cannot know: Vigil's policy reads them in the source's `timezone`
 * (a Vigil source's) or UTC. The zone goes along without restrictions too, since a `next-*` delay ends at
 * its time of day in it (a Vigil source shows it whenever it is not UTC; Opsgenie never does).
 */
function timingBody(p: PolicyIn) {
  const restriction = timeRestrictionOf(p.timeRestrictions);
  if (!restriction || restriction.restrictions.length === 0)
    return p.timezone ? { timezone: p.timezone } : {};
  return { timeRestrictions: restriction, timezone: p.timezone ?? 'UTC' };
}

/** Vigil leaves the zone out when it is UTC, as Opsgenie always does: compared as UTC then. */
const timezoneOf = (p: PolicyIn) => p.timezone ?? 'UTC';

function alertBody(p: PolicyIn) {
  const priority = p.priority?.trim();
  return {
    type: 'alert',
    name: p.name,
    policyDescription: p.policyDescription ?? '',
    enabled: p.enabled !== false,
    filter: filterBody(p),
    ...timingBody(p),
    continue: p.continue === true,
    message: p.message || '{{message}}',
    alias: p.alias || '{{alias}}',
    alertDescription: p.alertDescription || '{{description}}',
    entity: p.entity || '{{entity}}',
    source: p.source || '{{source}}',
    ...(priority ? { priority: /^p[1-5]$/i.test(priority) ? priority.toUpperCase() : priority } : {}),
    tags: p.tags ?? [],
    ignoreOriginalTags: p.ignoreOriginalTags === true,
    details: Object.fromEntries(Object.entries(p.details ?? {}).map(([k, v]) => [k, String(v)])),
    ignoreOriginalDetails: p.ignoreOriginalDetails === true,
    actions: p.actions ?? [],
    ignoreOriginalActions: p.ignoreOriginalActions === true,
    responders: p.responders ?? [],
    ignoreOriginalResponders: p.ignoreOriginalResponders === true,
  };
}

const durationOf = (d: { timeAmount: number; timeUnit?: string | null }) => ({
  timeAmount: d.timeAmount,
  timeUnit: d.timeUnit ?? 'minutes',
});

function delayOf(delay: NonNullable<PolicyIn['delayAction']>) {
  if (delay.delayOption === 'for-duration')
    return delay.duration ? { delayOption: 'for-duration', duration: durationOf(delay.duration) } : undefined;
  return {
    delayOption: delay.delayOption,
    untilHour: delay.untilHour ?? 0,
    untilMinute: delay.untilMinute ?? 0,
  };
}

function deduplicationOf(dedupe: NonNullable<PolicyIn['deduplicationAction']>) {
  const frequency = dedupe.deduplicationActionType === 'frequency-based';
  return {
    deduplicationActionType: dedupe.deduplicationActionType,
    count: dedupe.count,
    ...(frequency && dedupe.duration ? { duration: durationOf(dedupe.duration) } : {}),
  };
}

function notificationBody(p: PolicyIn) {
  const delay = p.delayAction ? delayOf(p.delayAction) : undefined;
  const close = p.autoCloseAction?.duration;
  const restart = p.autoRestartAction;
  return {
    type: 'notification',
    name: p.name,
    policyDescription: p.policyDescription ?? '',
    enabled: p.enabled !== false,
    filter: filterBody(p),
    ...timingBody(p),
    suppress: p.suppress === true,
    ...(delay ? { delayAction: delay } : {}),
    ...(p.deduplicationAction ? { deduplicationAction: deduplicationOf(p.deduplicationAction) } : {}),
    ...(restart
      ? {
          autoRestartAction: {
            duration: durationOf(restart.duration),
            maxRepeatCount: restart.maxRepeatCount,
          },
        }
      : {}),
    ...(close ? { autoCloseAction: { duration: durationOf(close) } } : {}),
  };
}

/** A duration compared in minutes (2 hours is 120 minutes). */
const minutesIn = (d: { timeAmount: number; timeUnit?: string | null } | null | undefined) =>
  d ? (minutesOf(d) ?? null) : null;

function comparable(type: PolicyType, p: PolicyIn) {
  if (type === 'notification') {
    const body = notificationBody(p);
    return {
      ...body,
      timezone: timezoneOf(p),
      delayAction: body.delayAction
        ? { ...body.delayAction, duration: minutesIn(p.delayAction?.duration) }
        : null,
      deduplicationAction: body.deduplicationAction
        ? { ...body.deduplicationAction, duration: minutesIn(p.deduplicationAction?.duration) }
        : null,
      autoRestartAction: body.autoRestartAction
        ? { ...body.autoRestartAction, duration: minutesIn(p.autoRestartAction?.duration) }
        : null,
      autoCloseAction: p.autoCloseAction?.duration ? minutesOf(p.autoCloseAction.duration) : null,
    };
  }
  const body = alertBody(p);
  return {
    ...body,
    timezone: timezoneOf(p),
    responders: comparableResponders(body.responders),
    tags: [...body.tags].sort(),
  };
}

/** What Vigil takes for this policy; what it lacks is a Skip with the reason. */
function desiredBody(ctx: ImportContext, type: PolicyType, p: PolicyIn) {
  const unsupported = unsupportedCondition(filterOf(p.filter), { responderFields: true });
  if (unsupported) throw new Skip(`its filter has ${unsupported}`);
  if (type === 'alert') return { ...alertBody(p), responders: respondersFor(ctx, p.responders, 'it') };
  return notificationBody(p);
}

interface Scope {
  /** How the report names the scope's policies: `"name"` globally, `"name" of Team` for a team's. */
  label: (name: string) => string;
  /** Query of Opsgenie's requests (`?teamId=` of the source team), and of Vigil's. */
  sourceQuery: string;
  targetQuery: string;
  /** Whether Vigil can be asked about this scope (a team a dry run would create cannot). */
  inVigil: boolean;
  /** Why the scope's policies cannot be made, when it is not in Vigil. */
  missing?: string;
}

async function importScope(ctx: ImportContext, scope: Scope, type: PolicyType): Promise<void> {
  const kind = KIND[type];
  const items = await readList(ctx, kind, scope.label(`(${type} policies)`), async () => {
    try {
      const got = await ctx.source.get(`/v2/policies/${type}${scope.sourceQuery}`);
      return Array.isArray(got) ? got : [];
    } catch (error) {
      // A source without notification policies (an older Vigil) has none to list.
      if (type === 'notification' && error instanceof RestError && error.status === 404) return [];
      throw error;
    }
  });
  if (!items) return;
  /** Vigil's policies of this kind in the scope, in their order, and their ids by name. */
  const order: string[] = [];
  const byName = new Map<string, string>();
  if (scope.inVigil) {
    const got = await ctx.target.get(`/v2/policies/${type}${scope.targetQuery}`);
    for (const raw of Array.isArray(got) ? got : []) {
      const summary = shaped(PolicySummaryShape, raw);
      if (!summary.ok) continue;
      order.push(summary.value.id);
      byName.set(summary.value.name, summary.value.id);
    }
  }
  /** How many of Opsgenie's policies are in place: the next one goes at this index. */
  let placed = 0;
  const refused = (error: unknown) =>
    error instanceof RestError && error.status === 422
      ? new Skip(`Vigil refused it: ${errorText(error)}`)
      : error;
  await eachItem(
    ctx,
    kind,
    PolicySummaryShape,
    items,
    async (summary) => {
      const label = scope.label(summary.name);
      if (!scope.inVigil && !ctx.dryRun) throw new Skip(scope.missing ?? 'its team is not in Vigil');
      const got = shaped(
        PolicyShape,
        await ctx.source.get(`/v2/policies/${enc(summary.id)}${scope.sourceQuery}`),
      );
      if (!got.ok) throw new Skip(got.why);
      const p = got.value;
      const body = desiredBody(ctx, type, p);
      const haveId = byName.get(p.name);
      let outcome: 'created' | 'updated' | 'unchanged';
      /** Its id in Vigil; a dry run's stand-in for one it would create. */
      let id: string;
      if (haveId !== undefined) {
        id = haveId;
        const have = shaped(
          PolicyShape,
          await ctx.target.get(`/v2/policies/${enc(haveId)}${scope.targetQuery}`),
        );
        if (have.ok && sameJson(comparable(type, have.value), comparable(type, { ...p, ...body })))
          outcome = 'unchanged';
        else {
          if (!ctx.dryRun)
            await ctx.target
              .put(`/v2/policies/${enc(haveId)}${scope.targetQuery}`, body)
              .catch((e: unknown) => {
                throw refused(e);
              });
          outcome = 'updated';
        }
      } else {
        id = `(would be created) ${p.name}`;
        if (!ctx.dryRun) {
          const made = await ctx.target.post(`/v2/policies${scope.targetQuery}`, body).catch((e: unknown) => {
            throw refused(e);
          });
          if (!isRecord(made) || typeof made.id !== 'string')
            throw new Error('Vigil made the policy without answering its id');
          id = made.id;
        }
        // Vigil puts a new policy last in its scope.
        order.push(id);
        byName.set(p.name, id);
        outcome = 'created';
      }
      let moved: string | undefined;
      const at = order.indexOf(id);
      if (at !== placed) {
        if (!ctx.dryRun)
          await ctx.target.post(`/v2/policies/${enc(id)}/change-order${scope.targetQuery}`, {
            targetIndex: placed,
          });
        order.splice(at, 1);
        order.splice(placed, 0, id);
        if (outcome === 'unchanged') {
          outcome = 'updated';
          moved = `moved to place ${placed + 1}, as in Opsgenie`;
        }
      }
      placed++;
      // For the maintenance that names it: a dry run's stand-in id is no id.
      ctx.policies.set(summary.id, id.startsWith('(would be created)') ? undefined : id);
      ctx.report.record(kind, label, outcome, moved);
    },
    (raw) => scope.label(text(raw.name ?? raw.id ?? '')),
  );
}

export async function importPolicies(ctx: ImportContext, teams: ImportedTeam[]): Promise<void> {
  await importScope(
    ctx,
    { label: (n) => `"${n}"`, sourceQuery: '', targetQuery: '', inVigil: true },
    'alert',
  );
  // Vigil's teamId is its own team id: found by name among Vigil's teams.
  const vigilTeams = new Map<string, string>();
  const got = await ctx.target.get('/v2/teams');
  for (const t of Array.isArray(got) ? got : [])
    if (isRecord(t) && typeof t.id === 'string' && typeof t.name === 'string')
      vigilTeams.set(t.name.toLowerCase(), t.id);
  for (const team of teams) {
    const vigilId = vigilTeams.get(team.name.toLowerCase());
    const scope: Scope = {
      label: (n) => `"${n}" of ${team.name}`,
      sourceQuery: `?teamId=${enc(team.sourceId)}`,
      targetQuery: vigilId ? `?teamId=${enc(vigilId)}` : '',
      inVigil: vigilId !== undefined,
      missing: `its team ${team.name} is not in Vigil`,
    };
    await importScope(ctx, scope, 'alert');
    await importScope(ctx, scope, 'notification');
  }
}
