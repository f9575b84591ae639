import { randomUUID } from 'node:crypto';
import {
  DESCRIPTION_CUT,
  DETAILS_LIMITS,
  detailsGrowPast,
  detailsSizeWith,
  fitActorText,
  fitAlertLimits,
  fitDescription,
  jsonBytes,
} from './limits.js';
import { sql } from 'kysely';
import type { Principal } from '../accounts/service.js';
import {
  alertActionRights,
  assigneeOf,
  requireUserRight,
  requireUserRights,
  userMay,
  noteLeftOutLine,
  noteLeftOutOf,
} from '../accounts/custom-roles/rights.js';
import { accountsRepository } from '../accounts/repository.js';
import { retryLostRaces, type Db, type Queryable, type Tx } from '../db/database.js';
import type { AlertRow, Priority, ResponderRef } from '../db/schema.js';
import { buildAlertEvent, recordAlertEvent } from './outbox.js';
import { createAlertBatcher } from './create-batcher.js';
import { QUEUES } from '../work/queue-names.js';
import type { WorkSignal } from '../work/runner.js';
import { systemClock, type Clock } from '../work/clock.js';
import { invalid, invalidField, isDomainError, notFound } from '../errors.js';
import type { Actor, AlertEventInput } from './events.js';
import { checkCountedCost, compileQuery, parseQuery, type QueryNode } from './query.js';
import { alertScopeOf } from './visibility.js';
import {
  findEscalation,
  findResponder,
  lookupKeyOf,
  namedResponders,
  recipientsOf,
  resolveResponder,
} from './responders.js';
import { refuseReservedAlias, reservedFor } from './reserved-aliases.js';
import { savedSearchQuery } from './saved-searches/service.js';
import type { SavedSearchIdentifierType } from './saved-searches/repository.js';
import {
  aliasOf,
  alertsRepository as repo,
  type CreateStatement,
  type IdentifierType,
  type SortField,
} from './repository.js';
import { applyRules, type ShapingRule } from './shaping/shape.js';
import { expandTemplate } from './shaping/templates.js';
import { integrationRules, type StoredAction } from '../integrations/actions/model.js';
import { matchableAlert, matchesCriteria, usesResponders } from '../oncall/conditions.js';

export const MAX_TAGS = 20;

/** "1,000 keys and 1 MiB". */
const detailsLimitsText = `${DETAILS_LIMITS.keys.toLocaleString('en-US')} keys and ${DETAILS_LIMITS.bytes / 1024 / 1024} MiB of JSON`;

/**
 * Of `added` (merged over `current`), the entries that keep the details within DETAILS_LIMITS, taken in
 * their order, and the keys of those left out. Sizes are counted entry by entry (a key, a colon, a
 * value, a comma between entries), as JSON.stringify writes them.
 */
function fitDetails(
  current: Record<string, string>,
  added: Record<string, string>,
): { kept: Record<string, string>; left: string[] } {
  // Every repeat comes here, most with nothing new: spare them stringifying details of up to 1 MiB.
  if (Object.keys(added).length === 0) return { kept: {}, left: [] };
  let keys = Object.keys(current).length;
  let bytes = jsonBytes(current);
  const kept: Record<string, string> = {};
  const left: string[] = [];
  for (const [key, value] of Object.entries(added)) {
    const old = Object.hasOwn(current, key) ? current[key] : undefined;
    const next = detailsSizeWith({ keys, bytes }, key, old, value);
    if (detailsGrowPast({ keys, bytes }, next)) {
      left.push(key);
      continue;
    }
    kept[key] = value;
    ({ keys, bytes } = next);
  }
  return { kept, left };
}

/** A responder or visibleTo entry as Opsgenie clients send it. */
export interface ResponderInput {
  type: 'team' | 'user' | 'escalation' | 'schedule';
  id?: string;
  name?: string;
  username?: string;
}

export interface CreateAlertInput {
  message: string;
  alias?: string;
  description?: string;
  responders?: ResponderInput[];
  visibleTo?: ResponderInput[];
  actions?: string[];
  tags?: string[];
  details?: Record<string, string>;
  entity?: string;
  source?: string;
  priority?: Priority;
  user?: string;
  note?: string;
}

/** What the Opsgenie action endpoints all accept besides their own fields. */
export interface ActionMeta {
  user?: string;
  source?: string;
  note?: string;
}

/** The saved search a list or count runs (`searchIdentifier` and `searchIdentifierType`). */
export interface SavedSearchRef {
  identifier: string;
  type: SavedSearchIdentifierType;
}

export type AlertAction =
  | { kind: 'acknowledge' }
  | { kind: 'unacknowledge' }
  | { kind: 'close' }
  | { kind: 'snooze'; endTime: Date }
  | { kind: 'addNote'; note: string }
  | { kind: 'addTags'; tags: string[] }
  | { kind: 'removeTags'; tags: string[] }
  | { kind: 'addDetails'; details: Record<string, string> }
  | { kind: 'removeDetails'; keys: string[] }
  | { kind: 'priority'; priority: Priority }
  | { kind: 'message'; message: string }
  | { kind: 'description'; description: string }
  | { kind: 'assign'; owner: { id?: string; username?: string } }
  | { kind: 'escalate'; escalation?: { id?: string; name?: string } }
  | { kind: 'addResponder'; responder: ResponderInput }
  | { kind: 'addTeam'; team: { id?: string; name?: string } }
  | { kind: 'customAction'; action: string }
  | { kind: 'delete' };

/** The name of each action in request statuses, as Opsgenie reports it. */
const ACTION_NAMES: Record<AlertAction['kind'], string> = {
  acknowledge: 'Acknowledge',
  unacknowledge: 'UnAcknowledge',
  close: 'Close',
  snooze: 'Snooze',
  addNote: 'AddNote',
  addTags: 'AddTags',
  removeTags: 'RemoveTags',
  addDetails: 'AddDetails',
  removeDetails: 'RemoveDetails',
  priority: 'UpdatePriority',
  message: 'UpdateMessage',
  description: 'UpdateDescription',
  assign: 'Assign',
  escalate: 'EscalateToNext',
  addResponder: 'AddResponder',
  addTeam: 'AddTeam',
  customAction: 'ExecuteCustomAction',
  delete: 'Delete',
};

export interface IntegrationRef {
  id: string;
  name: string;
  type: string;
}

/** The actor of a request: Opsgenie's `user` field when given, else whoever owns the API key. */
export function actorOf(p: Principal, user?: string): Actor {
  if (p.integration) {
    return { kind: 'integration', name: user?.trim() || p.integration.name, integrationId: p.integration.id };
  }
  const name = user?.trim() || p.fullName || p.username || 'API';
  return { kind: 'user', name, ...(p.userId ? { userId: p.userId } : {}) };
}

/** The status of an action on an alert that does not exist, or not for the caller (visibility.ts). */
export const ALERT_MISSING = 'Alert does not exist';

export interface Outcome {
  success: boolean;
  status: string;
  alert?: AlertRow;
}

/** Everything one create writes: the alert, its log lines, note, events and the request's outcome. */
function createStatement(
  orgId: string,
  requestId: string,
  input: CreateAlertInput,
  made: {
    actor: Actor;
    responders: ResponderRef[];
    visibleTo: ResponderRef[];
    integration?: IntegrationRef;
    source: string;
    /** What shaped the alert, for its log: "Shaped by integration action 'X'", "Modified by policy 'Y'". */
    shapedBy?: string[];
    /** The teams whose policies the alert is in scope of (policyTeamsOf): the engine's, for notifications. */
    policyTeamIds: string[];
    /** When the request was taken, on the engine's clock. */
    at: Date;
    /**
     * Why the requester may not add notes: a note given with a create that counts one more occurrence of
     * an open alert would be added to that alert, so it is left out there (the log says why).
     */
    noteLeftOut?: string;
  },
): CreateStatement {
  const fitted = fitAlertLimits(input);
  input = fitted.input;
  const { actor } = made;
  // The source given may have been cut to Opsgenie's length; the default (the caller's address) fits.
  const source = input.source ?? made.source;
  const id = randomUUID();
  const note = input.note?.trim() ? input.note : null;
  const via = made.integration ? `integration ${made.integration.name}` : 'API';
  const base = { alertId: id, orgId, actor, ...(source ? { source } : {}) };
  const priority = input.priority ?? 'P3';
  return {
    row: {
      id,
      orgId,
      alias: aliasOf(input.alias) || id,
      message: input.message,
      description: input.description ?? '',
      source,
      priority,
      entity: input.entity ?? '',
      tags: [...new Set(input.tags ?? [])],
      details: JSON.stringify(input.details ?? {}),
      actions: input.actions ?? [],
      responders: JSON.stringify(made.responders),
      visibleTo: JSON.stringify(made.visibleTo),
      teamIds: made.responders.filter((r) => r.type === 'team').map((r) => r.id),
      policyTeamIds: made.policyTeamIds,
      integration: made.integration,
    },
    requestId,
    requestAt: made.at,
    owner: actor.name,
    createdLog:
      `Alert created via ${via} by ${actor.name}` +
      (fitted.changes.length > 0
        ? `. It was over Opsgenie's limits, and kept: ${fitted.changes.join('; ')}`
        : '') +
      (made.shapedBy?.length ? `. ${made.shapedBy.join('. ')}` : ''),
    deduplicatedLog: `Alert deduplicated: ${actor.name} sent it again; count is now `,
    note,
    noteLog: note ? `Note added by ${actor.name}: ${note}` : null,
    noteLeftOutLog: note && made.noteLeftOut ? noteLeftOutLine(actor.name, made.noteLeftOut) : null,
    createdEvent: buildAlertEvent({ ...base, type: 'created', priority }),
    deduplicatedEvent: buildAlertEvent({ ...base, type: 'deduplicated' }),
    ...(note ? { noteEvent: buildAlertEvent({ ...base, type: 'note_added', note }) } : {}),
  };
}

/**
 * The organization's enabled alert policies that apply to an alert of these teams (policies/), as the
 * chains that run one after the other: the global policies, then each team's. In each chain the first
 * policy that matches applies, and the next ones only after a `continue`. Loaded once and cached, not
 * once per alert.
 */
export interface AlertPolicySource {
  /** The global chain first, then each given team's in order, each empty when none of its policies runs now. */
  rulesFor(orgId: string, teamIds: readonly string[]): Promise<ShapingRule[][]>;
}

/**
 * Whose team policies run over a create. Opsgenie applies a team's policies only to an alert made with
 * that team's integration, made with a global integration (here: a user's or a global key, or a
 * person in the console) and routed to that team only, or made from an incident the team owns or
 * responds to. An alert for two teams through a global key runs neither's.
 */
export type PolicyScope =
  | { kind: 'integration'; teamId: string }
  | { kind: 'incident'; teamIds: readonly string[] }
  | { kind: 'routed' };

function policyTeamsOf(scope: PolicyScope, responders: readonly ResponderRef[]): string[] {
  if (scope.kind === 'integration') return [scope.teamId];
  if (scope.kind === 'incident') return [...new Set(scope.teamIds)];
  const routedTo = new Set(responders.filter((r) => r.type === 'team').map((r) => r.id));
  return routedTo.size === 1 ? [...routedTo] : [];
}

/** A create request through the Alert API: made (or counted), or not made and why. */
export type CreateOutcome =
  | {
      kind: 'created';
      alert: AlertRow;
      inserted: boolean;
      /** The integration's create action that shaped the alert, when its actions are set. */
      createAction?: StoredAction;
    }
  | { kind: 'skipped'; status: string };

/** The actions of an integration that gate these requests of its key (integrations/actions/). */
const GATED_ACTIONS = { close: 'closed', acknowledge: 'acknowledged', addNote: 'given the note' } as const;
type GatedKind = keyof typeof GATED_ACTIONS;
const isGated = (kind: AlertAction['kind']): kind is GatedKind => Object.hasOwn(GATED_ACTIONS, kind);

export function createAlertsService(
  db: Db,
  options: { signal?: WorkSignal; policies?: AlertPolicySource; clock?: Clock } = {},
) {
  const clock = options.clock ?? systemClock;
  const batcher = createAlertBatcher(db);
  // Alert events are committed with their change; whoever committed says so, and the queues wake.
  const committed = (...queues: string[]) => {
    for (const queue of queues) options.signal?.wake(queue);
  };

  /** Every entry of `list`, each once; one the organization does not have is a 422 naming it. */
  async function resolveResponders(
    tx: Queryable,
    orgId: string,
    list: ResponderInput[] | undefined,
    field: string,
  ) {
    const refs: ResponderRef[] = [];
    for (const [i, r] of (list ?? []).entries()) {
      const where = `${field}[${i}]`;
      const ref = await findResponder(tx, orgId, r, where);
      if (!ref)
        throw invalidField(where, `No ${r.type} ${JSON.stringify(lookupKeyOf(r))} in this organization.`);
      if (!refs.some((x) => x.type === ref.type && x.id === ref.id)) refs.push(ref);
    }
    return refs;
  }

  /**
   * The responders (or visibleTo) a create request names, those of `among` only when it is given. As in
   * Opsgenie they are added "if they exist in the account": one that does not (a team renamed, a user
   * deleted, in a sender's config) is left out with a line for the alert's log, rather than a 422 that
   * loses the alert and the page to everyone else it names. So is one that names nothing (no id, name or
   * username: a template whose label was unset, `{"type": "team"}`); Add Responder refuses that one.
   */
  async function resolveRequested(
    q: Queryable,
    orgId: string,
    list: readonly ResponderInput[] | undefined,
    field: 'responders' | 'visibleTo',
    among?: ReadonlySet<ResponderInput>,
  ): Promise<{ refs: ResponderRef[]; kept: ResponderInput[]; leftOut: string[] }> {
    const refs: ResponderRef[] = [];
    const kept: ResponderInput[] = [];
    const leftOut: string[] = [];
    for (const [i, r] of (list ?? []).entries()) {
      if (among && !among.has(r)) continue;
      const where = `${field}[${i}]`;
      if (field === 'visibleTo' && r.type !== 'team' && r.type !== 'user')
        throw invalidField(where, 'An alert is visible to teams and users only.');
      if (lookupKeyOf(r) === '') {
        const naming = r.type === 'user' ? 'no id or username' : 'no id or name';
        leftOut.push(
          field === 'responders'
            ? `Responder ${r.type} names nothing (${naming}): left out`
            : `${r.type === 'team' ? 'Team' : 'User'} of visibleTo names nothing (${naming}): left out`,
        );
        continue;
      }
      const ref = await findResponder(q, orgId, r, where);
      if (!ref) {
        const name = JSON.stringify(lookupKeyOf(r));
        leftOut.push(
          field === 'responders'
            ? `Responder ${r.type} ${name} does not exist: left out`
            : `${r.type === 'team' ? 'Team' : 'User'} ${name} of visibleTo does not exist: left out`,
        );
        continue;
      }
      kept.push(r);
      if (!refs.some((x) => x.type === ref.type && x.id === ref.id)) refs.push(ref);
    }
    return { refs, kept, leftOut };
  }

  /**
   * The organization's alert policies run over a create: the global ones, then those of the teams the
   * alert belongs to for policies ({@link PolicyScope}). Returns the request as they leave it, its
   * responders (looked up again only if a policy changed them), the log's account of them, and those teams
   * (kept on the alert: the engine applies their notification policies only, engine/escalation/start.ts).
   */
  async function applyPolicies(
    q: Queryable,
    orgId: string,
    input: CreateAlertInput,
    responders: ResponderRef[],
    integrationName: string | null,
    scope: PolicyScope,
  ): Promise<{
    input: CreateAlertInput;
    responders: ResponderRef[];
    shapedBy: string[];
    policyTeamIds: string[];
  }> {
    if (!options.policies)
      return { input, responders, shapedBy: [], policyTeamIds: policyTeamsOf(scope, responders) };
    const [global = []] = await options.policies.rulesFor(orgId, []);
    // Named only when a policy's filter asks who the alert is for: that costs a read.
    // Read once, for the first chain that asks (the global and the team's chains see the same names).
    let named: ReturnType<typeof namedResponders> | undefined;
    const namedFor = async (chain: ShapingRule[]) =>
      chain.some((rule) => usesResponders(rule.filter))
        ? await (named ??= namedResponders(q, responders))
        : undefined;
    let shaped = { input, responders };
    const shapedBy: string[] = [];
    const run = async (chain: ShapingRule[]) => {
      if (chain.length === 0) return;
      const result = applyRules(shaped.input, chain, integrationName, await namedFor(chain));
      // Policies only modify: a drop rule is never among them.
      if (result.kind !== 'shaped' || result.applied.length === 0) return;
      shapedBy.push(...result.applied.map((r) => `Modified by ${r.label}`), ...result.notes);
      shaped = {
        input: result.input,
        responders: await respondersAfter(q, orgId, shaped, result.input, result.applied, shapedBy),
      };
    };
    await run(global);
    const teamIds = policyTeamsOf(scope, shaped.responders);
    if (teamIds.length > 0) {
      const [, ...teams] = await options.policies.rulesFor(orgId, teamIds);
      for (const team of teams) await run(team);
    }
    // An alias template may read the sender's fields: one that comes out as an alias Vigil keeps for its
    // own alerts would take one over (reserved-aliases.ts). The alert keeps its own; not a refusal, so a
    // delivery (a Security Hub finding) never fails for a policy's output.
    const reservedOf = shaped.input.alias !== input.alias ? reservedFor(shaped.input.alias) : undefined;
    if (reservedOf !== undefined) {
      shapedBy.push(
        `A policy gave the alias ${JSON.stringify(shaped.input.alias?.trim())}, reserved for Vigil's ${reservedOf}: the alert kept its own`,
      );
      shaped = { ...shaped, input: { ...shaped.input, alias: input.alias } };
    }
    return shapedBy.length === 0
      ? { input, responders, shapedBy, policyTeamIds: teamIds }
      : { ...shaped, shapedBy, policyTeamIds: teamIds };
  }

  /**
   * The responders once a chain of policies shaped the request: those the request had (already resolved)
   * and those a policy added, looked up; all replaced when a policy said so. One deleted since the policy
   * was saved is left out, not a refused alert.
   */
  async function respondersAfter(
    q: Queryable,
    orgId: string,
    before: { input: CreateAlertInput; responders: ResponderRef[] },
    after: CreateAlertInput,
    applied: readonly ShapingRule[],
    shapedBy: string[],
  ): Promise<ResponderRef[]> {
    if (after.responders === before.input.responders) return before.responders;
    const own = new Set(before.input.responders ?? []);
    const resolved: ResponderRef[] = [];
    for (const r of after.responders ?? []) {
      if (own.has(r)) continue;
      try {
        resolved.push(...(await resolveResponders(q, orgId, [r], 'responders')));
      } catch (error) {
        if (!isDomainError(error, 'invalid')) throw error;
        shapedBy.push(
          `Responder ${r.type} ${JSON.stringify(r.id ?? r.name ?? r.username ?? '')} of a policy no longer exists: left out`,
        );
      }
    }
    const replaced = applied.some(
      (r) => r.effect.kind === 'modify' && r.effect.modifications.replace?.responders,
    );
    const merged = replaced ? [] : [...before.responders];
    for (const r of resolved) if (!merged.some((x) => x.type === r.type && x.id === r.id)) merged.push(r);
    return merged;
  }

  async function event(
    tx: Tx,
    alert: AlertRow,
    actor: Actor,
    source: string | undefined,
    rest: DistributivePick,
  ) {
    await recordAlertEvent(tx, {
      ...rest,
      alertId: alert.id,
      orgId: alert.org_id,
      actor,
      ...(source ? { source } : {}),
    } as AlertEventInput);
  }

  /**
   * Ends the snooze of an open alert locked in `tx`. As in Opsgenie, an acknowledged alert is open and
   * unacknowledged again when its snooze ends, so the escalations page once more. Vigil ends it, also for
   * an escalate (the escalated event is the person's): what mirrors the acknowledgement would otherwise
   * credit the unacknowledge to someone who only asked for the next rule.
   */
  async function endSnoozeIn(
    tx: Tx,
    alert: AlertRow,
    why: { log: string; byEscalate?: { escalationId?: string } },
  ): Promise<AlertRow> {
    const vigil: Actor = { kind: 'system', name: 'Vigil' };
    const updated = await repo.update(tx, alert.id, {
      snoozed: false,
      snoozed_until: null,
      ...(alert.acknowledged ? { acknowledged: false } : {}),
    });
    const byEscalate = why.byEscalate ? { byEscalate: why.byEscalate } : {};
    await repo.addLog(tx, alert.id, 'snooze', why.log, vigil.name);
    await event(tx, updated, vigil, undefined, { type: 'snooze_ended', ...byEscalate });
    if (alert.acknowledged) {
      await repo.addLog(tx, alert.id, 'unacknowledge', 'Alert unacknowledged: the snooze ended', vigil.name);
      // An event of its own: what mirrors the acknowledgement (Security Hub, webhooks, Slack) follows it.
      await event(tx, updated, vigil, undefined, { type: 'unacknowledged', ...byEscalate });
    }
    return updated;
  }

  /** A note given with any action: kept as a note, logged, and announced (it may go back to Security Hub). */
  async function attachNote(
    tx: Tx,
    alert: AlertRow,
    note: string | undefined,
    actor: Actor,
    source?: string,
  ) {
    if (!note?.trim()) return;
    await repo.addNote(tx, alert.id, note, actor.name);
    await repo.addLog(tx, alert.id, 'note', `Note added by ${actor.name}: ${note}`, actor.name);
    await event(tx, alert, actor, source, { type: 'note_added', note });
  }

  /**
   * `mayOwn`: whether an acknowledging user may become the owner, i.e. may take ownership
   * ({@link mayTakeOwnership}); the acknowledgement runs either way.
   */
  async function apply(
    tx: Tx,
    alert: AlertRow,
    action: AlertAction,
    actor: Actor,
    meta: ActionMeta,
    mayOwn: boolean,
  ): Promise<Outcome> {
    const log = (type: string, text: string) => repo.addLog(tx, alert.id, type, text, actor.name);
    const closed = alert.status === 'closed';
    const refuseClosed = (what: string): Outcome => ({
      success: false,
      status: `Alert is closed: it can not be ${what}.`,
      alert,
    });
    const src = meta.source;
    switch (action.kind) {
      case 'acknowledge': {
        if (closed) return refuseClosed('acknowledged');
        // A snooze past its end that the snooze-ends queue has not reached yet ends here, before the
        // acknowledgement: its end unacknowledges only what was acknowledged during the snooze, and
        // would otherwise undo this one (or this one given again) and page the person who just took it.
        const snoozeOver =
          alert.snoozed && alert.snoozed_until !== null && alert.snoozed_until.getTime() <= Date.now();
        const endSnoozeFirst = async (ended: AlertRow) => {
          const vigil: Actor = { kind: 'system', name: 'Vigil' };
          await repo.addLog(tx, alert.id, 'snooze', 'Snooze ended', vigil.name);
          await event(tx, ended, vigil, undefined, { type: 'snooze_ended' });
        };
        if (alert.acknowledged) {
          if (!snoozeOver) return { success: true, status: 'Alert was already acknowledged', alert };
          const ended = await repo.update(tx, alert.id, { snoozed: false, snoozed_until: null });
          await endSnoozeFirst(ended);
          return { success: true, status: 'Alert was already acknowledged', alert: ended };
        }
        // As in Opsgenie, the user who acknowledges becomes the owner; one already assigned stays. Only a
        // user of the organization owns an alert: an integration, Vigil, or a key of no user with a
        // `user` name (Opsgenie's display name of the requester, not a login) takes none. Read locked as
        // assign reads the owner, so a rename or delete of the user meanwhile moves this alert too.
        // Ownership so taken is an assign to oneself: a user whose role lacks alert-take-ownership would
        // be refused that, so acknowledges and leaves the alert without an owner.
        const owner =
          mayOwn && alert.owner === '' && actor.kind === 'user' && actor.userId !== undefined
            ? await accountsRepository.findUser(tx, alert.org_id, actor.userId, 'share')
            : undefined;
        const updated = await repo.update(tx, alert.id, {
          acknowledged: true,
          is_seen: true,
          acknowledged_by: actor.name,
          ack_time: Date.now() - alert.created_at.getTime(),
          ...(owner ? { owner: owner.username } : {}),
          ...(snoozeOver ? { snoozed: false, snoozed_until: null } : {}),
        });
        if (snoozeOver) await endSnoozeFirst(updated);
        await log('acknowledge', `Alert acknowledged by ${actor.name}`);
        if (owner) await log('assign', `Alert assigned to ${owner.username} by ${actor.name}`);
        await event(tx, updated, actor, src, {
          type: 'acknowledged',
          ...(meta.note ? { note: meta.note } : {}),
        });
        return { success: true, status: 'Acknowledged', alert: updated };
      }
      case 'unacknowledge': {
        if (closed) return refuseClosed('unacknowledged');
        if (!alert.acknowledged) return { success: true, status: 'Alert was not acknowledged', alert };
        const updated = await repo.update(tx, alert.id, { acknowledged: false });
        await log('unacknowledge', `Alert unacknowledged by ${actor.name}`);
        await event(tx, updated, actor, src, {
          type: 'unacknowledged',
          ...(meta.note ? { note: meta.note } : {}),
        });
        return { success: true, status: 'Unacknowledged', alert: updated };
      }
      case 'close': {
        if (closed) return { success: true, status: 'Alert was already closed', alert };
        const updated = await repo.update(tx, alert.id, {
          status: 'closed',
          snoozed: false,
          snoozed_until: null,
          closed_by: actor.name,
          close_time: Date.now() - alert.created_at.getTime(),
        });
        await log('close', `Alert closed by ${actor.name}`);
        await event(tx, updated, actor, src, { type: 'closed', ...(meta.note ? { note: meta.note } : {}) });
        return { success: true, status: 'Closed', alert: updated };
      }
      case 'snooze': {
        if (closed) return refuseClosed('snoozed');
        if (action.endTime.getTime() <= Date.now()) throw invalidField('endTime', 'must be in the future.');
        // The end of the snooze is the snooze queue's (snooze-ends.ts): it reads snoozed_until itself.
        const updated = await repo.update(tx, alert.id, { snoozed: true, snoozed_until: action.endTime });
        const until = action.endTime.toISOString();
        await log('snooze', `Alert snoozed until ${until} by ${actor.name}`);
        await event(tx, updated, actor, src, {
          type: 'snoozed',
          until,
          ...(meta.note ? { note: meta.note } : {}),
        });
        return { success: true, status: 'Snoozed', alert: updated };
      }
      case 'customAction': {
        // Only the actions the alert was given can be run, as in Opsgenie; running one is recorded
        // and handed to whatever acts on it (the team's webhooks), Vigil itself does nothing more.
        if (!alert.actions.includes(action.action)) {
          return {
            success: false,
            status: `Action [${action.action}] is not one of the alert's actions${alert.actions.length ? ` (${alert.actions.join(', ')})` : ': it has none'}.`,
            alert,
          };
        }
        await log('action', `Custom action "${action.action}" run by ${actor.name}`);
        await event(tx, alert, actor, src, { type: 'custom_action', action: action.action });
        return { success: true, status: `Executed custom action ${action.action}`, alert };
      }
      case 'addNote':
        // A note of only white space is no note: nothing is added, and the request's status says so.
        if (!action.note.trim())
          return { success: false, status: 'The note is empty: no note was added.', alert };
        await attachNote(tx, alert, action.note, actor, src);
        return { success: true, status: 'Added note', alert };
      case 'addTags': {
        const tags = [...new Set([...alert.tags, ...action.tags])];
        if (tags.length > MAX_TAGS) {
          throw invalidField(
            'tags',
            `an alert can have at most ${MAX_TAGS} tags; it has ${alert.tags.length}.`,
          );
        }
        const added = tags.filter((t) => !alert.tags.includes(t));
        if (added.length === 0) return { success: true, status: 'Added tags', alert };
        const updated = await repo.update(tx, alert.id, { tags });
        await log('tags', `Tags [${added.join(', ')}] added by ${actor.name}`);
        await event(tx, updated, actor, src, { type: 'tags_added', tags: added });
        return { success: true, status: 'Added tags', alert: updated };
      }
      case 'removeTags': {
        const removed = alert.tags.filter((t) => action.tags.includes(t));
        if (removed.length === 0) return { success: true, status: 'Removed tags', alert };
        const updated = await repo.update(tx, alert.id, {
          tags: alert.tags.filter((t) => !removed.includes(t)),
        });
        await log('tags', `Tags [${removed.join(', ')}] removed by ${actor.name}`);
        await event(tx, updated, actor, src, { type: 'tags_removed', tags: removed });
        return { success: true, status: 'Removed tags', alert: updated };
      }
      case 'addDetails': {
        const keys = Object.keys(action.details);
        // The sum of many requests is capped too: each one's 1,000 keys would otherwise pile up on the row.
        const merged = { ...alert.details, ...action.details };
        const before = { keys: Object.keys(alert.details).length, bytes: jsonBytes(alert.details) };
        const after = { keys: Object.keys(merged).length, bytes: jsonBytes(merged) };
        if (detailsGrowPast(before, after)) {
          throw invalidField(
            'details',
            `an alert's details can hold at most ${detailsLimitsText}; with these they would have ` +
              `${after.keys.toLocaleString('en-US')} keys and ${after.bytes.toLocaleString('en-US')} bytes. ` +
              'Remove details it no longer needs first (DELETE /v2/alerts/{identifier}/details?keys=…), ' +
              'or add fewer or shorter ones.',
          );
        }
        const updated = await repo.update(tx, alert.id, {
          details: sql`details || ${JSON.stringify(action.details)}::jsonb` as never,
        });
        await log('details', `Details [${keys.join(', ')}] added by ${actor.name}`);
        await event(tx, updated, actor, src, { type: 'details_added', keys });
        return { success: true, status: 'Added details', alert: updated };
      }
      case 'removeDetails': {
        const keys = action.keys.filter((k) => Object.hasOwn(alert.details, k));
        if (keys.length === 0) return { success: true, status: 'Removed details', alert };
        const updated = await repo.update(tx, alert.id, { details: sql`details - ${keys}::text[]` as never });
        await log('details', `Details [${keys.join(', ')}] removed by ${actor.name}`);
        await event(tx, updated, actor, src, { type: 'details_removed', keys });
        return { success: true, status: 'Removed details', alert: updated };
      }
      case 'priority': {
        if (alert.priority === action.priority) return { success: true, status: 'Priority updated', alert };
        const updated = await repo.update(tx, alert.id, { priority: action.priority });
        await log(
          'priority',
          `Priority changed from ${alert.priority} to ${action.priority} by ${actor.name}`,
        );
        await event(tx, updated, actor, src, {
          type: 'priority_changed',
          from: alert.priority,
          to: action.priority,
        });
        return { success: true, status: 'Priority updated', alert: updated };
      }
      case 'message': {
        if (alert.message === action.message) return { success: true, status: 'Message updated', alert };
        const updated = await repo.update(tx, alert.id, { message: action.message });
        await log(
          'message',
          `Message changed from "${alert.message}" to "${action.message}" by ${actor.name}`,
        );
        await event(tx, updated, actor, src, { type: 'message_changed' });
        return { success: true, status: 'Message updated', alert: updated };
      }
      case 'description': {
        // Over Opsgenie's 15,000 characters it is kept and cut, as a create's is: Alertmanager's
        // update_alerts sends its create's description again, here.
        const fitted = fitDescription(action.description);
        const status = `Description updated${fitted.cut ? ` (${DESCRIPTION_CUT})` : ''}`;
        if (alert.description === fitted.description) return { success: true, status, alert };
        const updated = await repo.update(tx, alert.id, { description: fitted.description });
        await log(
          'description',
          `Description changed by ${actor.name}${fitted.cut ? ` (${DESCRIPTION_CUT})` : ''}`,
        );
        await event(tx, updated, actor, src, { type: 'description_changed' });
        return { success: true, status, alert: updated };
      }
      case 'assign': {
        if (closed) return refuseClosed('assigned');
        // Locked until the owner is written: a change of the user's login meanwhile moves their alerts to
        // the new one (accounts' renameOwner), and must see this one (a rename takes no KEY lock: the
        // username's unique index is on an expression).
        // The same user the rights were judged on (alertActionRight).
        const assignee = assigneeOf(action.owner);
        const user = await accountsRepository.findUser(tx, alert.org_id, assignee, 'share');
        if (!user) throw invalidField('owner', `No user ${JSON.stringify(assignee)} in this organization.`);
        const updated = await repo.update(tx, alert.id, { owner: user.username });
        await log('assign', `Alert assigned to ${user.username} by ${actor.name}`);
        await event(tx, updated, actor, src, {
          type: 'owner_assigned',
          owner: user.username,
          ownerId: user.id,
        });
        return { success: true, status: 'Assigned', alert: updated };
      }
      case 'escalate': {
        if (closed) return refuseClosed('escalated');
        let policy: { id: string; name: string } | undefined;
        // `{}` names no policy (clients send it for "none chosen"): every policy, as without one.
        const ref = action.escalation;
        if (ref && (ref.id !== undefined || ref.name !== undefined)) {
          const found = await findEscalation(tx, alert.org_id, ref);
          if (!found)
            throw invalidField(
              'escalation',
              `No escalation policy ${JSON.stringify(ref.id ?? ref.name ?? '')} in this organization.`,
            );
          policy = found;
        }
        await log(
          'escalate',
          `Escalated to the next rule${policy ? ` of ${policy.name}` : ''} by ${actor.name}`,
        );
        await event(tx, alert, actor, src, {
          type: 'escalated',
          ...(policy ? { escalationId: policy.id, escalationName: policy.name } : {}),
        });
        if (!alert.snoozed) return { success: true, status: 'Escalated', alert };
        // Escalating asks for the next rule now, which a snooze would hold back: the escalate ends it as
        // its time would (unacknowledged too, or the rules that stop at an acknowledgement page nobody and
        // the reminder the snooze was for never comes); the snooze-ends queue finds nothing left to end.
        // The end (and the unacknowledge) names the escalate, so the engine leaves the runs it moves on to
        // the escalated event, whichever it handles first, and starts the others over.
        const unsnoozed = await endSnoozeIn(tx, alert, {
          log: `Snooze ended: the alert was escalated by ${actor.name}`,
          byEscalate: policy ? { escalationId: policy.id } : {},
        });
        return { success: true, status: 'Escalated', alert: unsnoozed };
      }
      case 'addResponder':
      case 'addTeam': {
        // Paged by the engine as creation pages it: the responder_added event starts its escalations.
        if (closed) return refuseClosed('given a responder');
        const { ref, label } =
          action.kind === 'addTeam'
            ? await resolveResponder(tx, alert.org_id, { type: 'team', ...action.team }, 'team')
            : await resolveResponder(tx, alert.org_id, action.responder, 'responder');
        if (alert.responders.some((r) => r.type === ref.type && r.id === ref.id))
          return { success: true, status: `${label} is already a responder`, alert };
        const updated = await repo.update(tx, alert.id, {
          responders: JSON.stringify([...alert.responders, ref]),
          ...(ref.type === 'team' && !alert.team_ids.includes(ref.id)
            ? { team_ids: [...alert.team_ids, ref.id] }
            : {}),
        });
        await log('responder', `${label} added as a responder by ${actor.name}`);
        await event(tx, updated, actor, src, { type: 'responder_added', responder: ref, name: label });
        return {
          success: true,
          status: action.kind === 'addTeam' ? 'Added team' : 'Added responder',
          alert: updated,
        };
      }
      case 'delete': {
        // What the team destinations match and show it by once its row is gone (events.ts DeletedAlert).
        await event(tx, alert, actor, src, {
          type: 'deleted',
          alert: {
            tinyId: alert.tiny_id,
            alias: alert.alias,
            message: alert.message,
            entity: alert.entity,
            source: alert.source,
            priority: alert.priority,
            createdAt: alert.created_at.toISOString(),
            updatedAt: alert.updated_at.toISOString(),
            teamIds: alert.team_ids,
            integrationId: alert.integration_id,
          },
        });
        await repo.delete(tx, alert.id);
        return { success: true, status: 'Deleted' };
      }
    }
  }

  /**
   * Close, acknowledge and add-note requests through an API integration's key whose actions are set run
   * only if an action of that type matches the alert; the action's user and note (templates, by default
   * the request's own) are the request's then.
   */
  function gateThroughActions(
    p: Principal,
    alert: AlertRow,
    action: AlertAction,
    meta: ActionMeta,
  ): { kind: 'run'; action: AlertAction; meta: ActionMeta } | { kind: 'refused'; status: string } {
    const integration = p.integration;
    if (!integration?.actions || !isGated(action.kind)) return { kind: 'run', action, meta };
    const gated = integrationRules(integration.actions)[action.kind];
    const matchable = matchableAlert(alert);
    const found = gated.find((g) => matchesCriteria(g.filter, matchable));
    if (!found) {
      return {
        kind: 'refused',
        status: `No ${action.kind} action of integration [${integration.name}] matched the alert: it was not ${GATED_ACTIONS[action.kind]}.`,
      };
    }
    const values = {
      ...matchable,
      user: meta.user ?? '',
      note: action.kind === 'addNote' ? action.note : (meta.note ?? ''),
    };
    const user = fitActorText(expandTemplate(found.action.user, values).trim() || undefined);
    const note = expandTemplate(found.action.note, values);
    // An add-note with no note adds nothing, and says so, as an Email integration's does.
    if (action.kind === 'addNote' && !note.trim()) {
      return {
        kind: 'refused',
        status: `Add-note action '${found.action.name}' of integration [${integration.name}]: the note came out empty, no note was added.`,
      };
    }
    return action.kind === 'addNote'
      ? { kind: 'run', action: { kind: 'addNote', note }, meta: { ...meta, user } }
      : { kind: 'run', action, meta: { ...meta, user, note: note || undefined } };
  }

  /**
   * An action and the note given with it (an action that is itself a note, or a delete, takes none).
   * `noteLeftOut`: why the actor may not add notes ({@link noteLeftOutOf}); the action runs without the
   * note (nor does its event carry it) and the log says why.
   */
  async function applyWithNote(
    tx: Tx,
    alert: AlertRow,
    action: AlertAction,
    actor: Actor,
    meta: ActionMeta,
    mayOwn: boolean,
    noteLeftOut?: string,
  ): Promise<Outcome> {
    const withoutNote = noteLeftOut === undefined ? meta : { ...meta, note: undefined };
    const outcome = await apply(tx, alert, action, actor, withoutNote, mayOwn);
    if (outcome.success && action.kind !== 'addNote' && action.kind !== 'delete') {
      const acted = outcome.alert ?? alert;
      if (noteLeftOut === undefined) await attachNote(tx, acted, meta.note, actor, meta.source);
      else if (meta.note?.trim())
        await repo.addLog(tx, acted.id, 'note', noteLeftOutLine(actor.name, noteLeftOut), actor.name);
    }
    return outcome;
  }

  /**
   * An action of `p` on an alert locked in `tx` and in its scope: what both `act` and `actOnMany` run,
   * so that an alert is acted on alike, alone or among many. `mayOwn` as `apply` takes it, `noteLeftOut`
   * as `applyWithNote` does.
   */
  async function actAs(
    tx: Tx,
    p: Principal,
    alert: AlertRow,
    action: AlertAction,
    meta: ActionMeta,
    mayOwn: boolean,
    noteLeftOut: string | undefined,
  ): Promise<Outcome> {
    const gate = gateThroughActions(p, alert, action, meta);
    return gate.kind === 'refused'
      ? { success: false, status: gate.status, alert }
      : applyWithNote(tx, alert, gate.action, actorOf(p, gate.meta.user), gate.meta, mayOwn, noteLeftOut);
  }

  /**
   * Whether `p` acknowledging `action` may become the alert's owner: whether their custom role (when
   * they hold one) lets them take ownership, as an assign to themselves would need. Read only for an
   * acknowledge, once for all the alerts it acts on.
   */
  async function mayTakeOwnership(p: Principal, action: AlertAction): Promise<boolean> {
    return action.kind === 'acknowledge' && (await userMay(db, p, 'alert-take-ownership'));
  }

  function whereOf(orgId: string, query: QueryNode | undefined) {
    return query ? compileQuery(orgId, query) : undefined;
  }

  /** The condition of a list or count: its query AND, when one is named, the saved search's query. */
  async function searchWhere(orgId: string, query: string | undefined, search: SavedSearchRef | undefined) {
    const [where] = await searchWheres(orgId, [query], search);
    return where;
  }

  /** The condition of each query as `searchWhere` makes it, the saved search read once for them all. */
  async function searchWheres(
    orgId: string,
    queries: readonly (string | undefined)[],
    search: SavedSearchRef | undefined,
  ) {
    const searched = await searchQueries(orgId, queries, search);
    return searched.map((query) => whereOf(orgId, query));
  }

  /** Each query parsed and AND-ed with the saved search, when one is named (read once for them all). */
  async function searchQueries(
    orgId: string,
    queries: readonly (string | undefined)[],
    search: SavedSearchRef | undefined,
  ): Promise<readonly (QueryNode | undefined)[]> {
    const { own, saved } = await parsedSearch(orgId, queries, search);
    return own.map((query) => withSaved(query, saved));
  }

  /** The caller's queries and the saved search, when one is named, each parsed on its own. */
  async function parsedSearch(
    orgId: string,
    queries: readonly (string | undefined)[],
    search: SavedSearchRef | undefined,
  ): Promise<{ own: readonly (QueryNode | undefined)[]; saved: QueryNode | undefined }> {
    // The caller's queries first, so a 422 about one speaks of it.
    const own = queries.map((query) => (query ? parseQuery(query) : undefined));
    if (!search) return { own, saved: undefined };
    const stored = await savedSearchQuery(db, orgId, search.identifier, search.type);
    try {
      const saved = parseQuery(stored);
      // Compiled here as well, where it is known to be the saved search's: an unknown field is refused
      // only by the compiler, and later, AND-ed with the caller's query, it would read as theirs.
      if (saved) compileQuery(orgId, saved);
      return { own, saved };
    } catch (error) {
      if (!isDomainError(error, 'invalid')) throw error;
      // It was checked when saved: the query language has changed since (a word before a spaced operator,
      // `error : timeout`, became a field term), so the owner has to edit it.
      throw invalid(
        `Saved search with ${search.type} [${search.identifier}] no longer parses: ${error.message} Edit its query (quote free text such as "error : timeout").`,
      );
    }
  }

  /**
   * A query AND-ed with the saved search. Each is held to the limits of one query on its own, as the saved
   * search was when it was saved, and only then are the two joined: held to them together, a saved search
   * of 30 terms would refuse every query. The AND is still bounded: at most twice the terms and unindexed
   * terms one query may have, nested no deeper than either.
   */
  function withSaved(query: QueryNode | undefined, saved: QueryNode | undefined): QueryNode | undefined {
    return saved && query ? { kind: 'and', left: saved, right: query } : (query ?? saved);
  }

  return {
    /**
     * Creates an alert, or counts one more occurrence of the open alert with the same alias. The alert,
     * its log line, its event job and the request's outcome are written in one transaction.
     */
    async create(
      p: Principal,
      requestId: string,
      input: CreateAlertInput,
      options: {
        integration?: IntegrationRef;
        actor?: Actor;
        defaultSource?: string;
        tx?: Tx;
        /** Responders the caller has already resolved (an integration's own team): no lookup. */
        resolvedResponders?: ResponderRef[];
        /** Who sees the alert without being paged, already resolved (an incident's other responders). */
        resolvedVisibleTo?: ResponderRef[];
        /** What already shaped the request (the integration's create action), for the log. */
        shapedBy?: string[];
        /** The alias is one Vigil gives its own alert (a heartbeat's or an incident's, reserved-aliases.ts). */
        systemAlias?: boolean;
        /**
         * Whose team policies run, when the principal does not tell: an integration that creates as the
         * system (a Security Hub finding's alert) is still its team's, as an API or Email key is.
         */
        policyScope?: PolicyScope;
        /** Why the requester may not add notes: the note is left out of an open alert it counts again. */
        noteLeftOut?: string;
      } = {},
    ): Promise<{ alert: AlertRow; inserted: boolean }> {
      // Any other caller (the Alert API, an email, an integration's action) may not take such an alias.
      if (!options.systemAlias) refuseReservedAlias(input.alias);
      const q: Queryable = options.tx ?? db;
      const actor = options.actor ?? actorOf(p, input.user);
      const leftOut: string[] = [];
      let given = options.resolvedResponders;
      if (!given && (input.responders?.length ?? 0) > 0) {
        const requested = await resolveRequested(q, p.orgId, input.responders, 'responders');
        leftOut.push(...requested.leftOut);
        input = { ...input, responders: requested.kept };
        given = requested.refs;
      }
      // A key's alerts go to its team when they name no responders (or none that exists). That team is
      // the key's own, read with the key, so it needs no lookup: the common create stays one statement,
      // one round trip.
      if (p.integration && (input.responders?.length ?? 0) === 0) {
        input = { ...input, responders: [{ type: 'team', id: p.integration.teamId }] };
        if (!options.resolvedResponders) given = [{ type: 'team', id: p.integration.teamId }];
      }
      given ??= [];
      let visibleTo = options.resolvedVisibleTo;
      if (!visibleTo && (input.visibleTo?.length ?? 0) > 0) {
        const requested = await resolveRequested(q, p.orgId, input.visibleTo, 'visibleTo');
        leftOut.push(...requested.leftOut);
        input = { ...input, visibleTo: requested.kept };
        visibleTo = requested.refs;
      }
      visibleTo ??= [];
      const scope: PolicyScope =
        options.policyScope ??
        (options.resolvedVisibleTo
          ? {
              kind: 'incident',
              teamIds: [...given, ...visibleTo].filter((r) => r.type === 'team').map((r) => r.id),
            }
          : p.integration
            ? { kind: 'integration', teamId: p.integration.teamId }
            : { kind: 'routed' });
      const shaped = await applyPolicies(q, p.orgId, input, given, options.integration?.name ?? null, scope);
      input = shaped.input;
      const statement = createStatement(p.orgId, requestId, input, {
        actor,
        responders: shaped.responders,
        visibleTo,
        integration: options.integration,
        source: input.source ?? options.defaultSource ?? '',
        shapedBy: [...(options.shapedBy ?? []), ...leftOut, ...shaped.shapedBy],
        policyTeamIds: shaped.policyTeamIds,
        at: clock.now(),
        ...(options.noteLeftOut ? { noteLeftOut: options.noteLeftOut } : {}),
      });
      // On its own, a create waits for the others arriving with it (one commit for all of them).
      const created = options.tx
        ? await repo.createOrDeduplicate(options.tx, statement)
        : await batcher.create(statement);
      // In the caller's transaction, the caller says so once it has committed.
      if (!options.tx) committed(QUEUES.alertEvents);
      return created;
    },

    /**
     * A create request of the Alert API. Through an API integration's key whose actions are set, they
     * decide first (integrations/actions/): an ignore action that matches, or no create action that does,
     * means no alert, and the request's status says which; else the create action that matched shapes it.
     * In the caller's transaction (`tx`), the caller wakes the alert events once it has committed.
     */
    async createRequested(
      p: Principal,
      requestId: string,
      input: CreateAlertInput,
      options: { integration?: IntegrationRef; defaultSource?: string; tx?: Tx } = {},
    ): Promise<CreateOutcome> {
      await requireUserRight(options.tx ?? db, p, 'alert-create', 'create alerts');
      // A note is the new alert's own; one given with a create that counts one more occurrence of an open
      // alert is a note added to it, which alert-add-note governs.
      const noteLeftOut = await noteLeftOutOf(options.tx ?? db, p, undefined, input.note);
      const createOptions = { ...options, ...(noteLeftOut ? { noteLeftOut } : {}) };
      const integration = p.integration;
      if (!integration?.actions)
        return { kind: 'created', ...(await this.create(p, requestId, input, createOptions)) };
      const rules = integrationRules(integration.actions);
      // The actions see the request as it was sent: its ignore*FromPayload flags drop what it named, and
      // the integration's team, which it did not name, is added below.
      const result = applyRules(input, rules.create, integration.name);
      let status: string | undefined;
      if (result.kind === 'dropped') {
        status = `Ignored by ${result.by.label} of integration [${integration.name}]: no alert was made.`;
      } else if (result.applied.length === 0) {
        status = `No create action of integration [${integration.name}] matched: no alert was made.`;
      }
      if (status !== undefined) {
        await repo.recordRequest(options.tx ?? db, {
          id: requestId,
          org_id: p.orgId,
          action: 'Create',
          success: false,
          status,
          alert_id: null,
          alias: aliasOf(input.alias) || null,
          integration_id: integration.id,
          processed_at: clock.now(),
        });
        return { kind: 'skipped', status };
      }
      const shaped = result.kind === 'shaped' ? result : undefined;
      // The action's user names the actor, as the request's would: no longer than Opsgenie allows.
      const shapedInput = { ...(shaped?.input ?? input) };
      if (shapedInput.user !== undefined) shapedInput.user = fitActorText(shapedInput.user);
      // The integration's team is the responder of a request that names none (or only entries that name
      // nothing, left out), as without actions: the action's responders go with it, whatever its flags.
      // With none of the action's either, create() gives the alert to that team.
      const names = (list: ResponderInput[] | undefined) => (list ?? []).some((r) => lookupKeyOf(r) !== '');
      if (!names(input.responders) && names(shapedInput.responders)) {
        const team: ResponderInput = { type: 'team', id: integration.teamId };
        shapedInput.responders = [team, ...(shapedInput.responders ?? [])];
      }
      const shapedBy = [
        ...(shaped?.applied ?? []).map((r) => `Shaped by ${r.label}`),
        ...(shaped?.notes ?? []),
      ];
      // The responders an action adds were checked when it was saved: one deleted since is left out (the
      // log says so), not a 422 for every create through the key. So is one of the request's own that
      // does not exist, as without actions.
      let resolvedResponders: ResponderRef[] | undefined;
      if (shapedInput.responders !== input.responders) {
        const own = new Set(input.responders ?? []);
        const list = shapedInput.responders ?? [];
        const requested = await resolveRequested(db, p.orgId, input.responders, 'responders', new Set(list));
        shapedBy.push(...requested.leftOut);
        const { refs, kept } = requested;
        for (const r of list) {
          if (own.has(r)) continue;
          try {
            for (const ref of await resolveResponders(db, p.orgId, [r], 'responders'))
              if (!refs.some((x) => x.type === ref.type && x.id === ref.id)) refs.push(ref);
            kept.push(r);
          } catch (error) {
            if (!isDomainError(error, 'invalid')) throw error;
            shapedBy.push(
              `Responder ${r.type} ${JSON.stringify(r.id ?? r.name ?? r.username ?? '')} of ${shaped?.applied.at(-1)?.label ?? 'an integration action'} no longer exists: left out`,
            );
          }
        }
        shapedInput.responders = kept;
        resolvedResponders = refs.length > 0 ? refs : [{ type: 'team', id: integration.teamId }];
      }
      const created = await this.create(p, requestId, shapedInput, {
        ...createOptions,
        shapedBy,
        ...(resolvedResponders ? { resolvedResponders } : {}),
      });
      const createAction = shaped?.applied
        .map((rule) => rules.createActions.get(rule))
        .find((action) => action !== undefined);
      return { kind: 'created', ...created, ...(createAction ? { createAction } : {}) };
    },

    /**
     * Alerts an integration makes (a delivery's findings), in the caller's transaction and in one
     * statement: each as `create` makes it, with responders already resolved. Aliases must differ.
     */
    async createMany(
      tx: Tx,
      orgId: string,
      items: readonly {
        requestId: string;
        input: CreateAlertInput;
        actor: Actor;
        responders: ResponderRef[];
        integration: IntegrationRef;
        /**
         * Whose team policies run: the integration's team's (`{ kind: 'integration' }`), decided before
         * the global policies, which may add or replace responders, ran.
         */
        policyScope: PolicyScope;
      }[],
    ): Promise<{ alert: AlertRow; inserted: boolean }[]> {
      const statements: CreateStatement[] = [];
      for (const item of items) {
        const shaped = await applyPolicies(
          tx,
          orgId,
          item.input,
          item.responders,
          item.integration.name,
          item.policyScope,
        );
        statements.push(
          createStatement(orgId, item.requestId, shaped.input, {
            actor: item.actor,
            responders: shaped.responders,
            visibleTo: [],
            integration: item.integration,
            source: shaped.input.source ?? '',
            shapedBy: shaped.shapedBy,
            policyTeamIds: shaped.policyTeamIds,
            at: clock.now(),
          }),
        );
      }
      // A policy may give two of them one alias: each round holds an alias once, as the batcher's do.
      const rounds: { statement: CreateStatement; i: number }[][] = [];
      const seen = new Map<string, number>();
      statements.forEach((statement, i) => {
        const n = seen.get(statement.row.alias) ?? 0;
        seen.set(statement.row.alias, n + 1);
        (rounds[n] ??= []).push({ statement, i });
      });
      const results: { alert: AlertRow; inserted: boolean }[] = [];
      for (const round of rounds) {
        const made = await repo.createOrDeduplicateMany(
          tx,
          round.map((r) => r.statement),
        );
        round.forEach((r, k) => {
          const result = made[k];
          if (result) results[r.i] = result;
        });
      }
      return results;
    },

    async get(p: Principal, identifier: string, type: IdentifierType): Promise<AlertRow> {
      const alert = await repo.find(db, await alertScopeOf(db, p), identifier, type);
      if (!alert)
        throw notFound(`Alert with ${type === 'tiny' ? 'tinyId' : type} [${identifier}] does not exist.`);
      return alert;
    },

    async list(
      p: Principal,
      options: {
        query?: string;
        search?: SavedSearchRef;
        offset: number;
        limit: number;
        sort: SortField;
        order: 'asc' | 'desc';
      },
    ) {
      if (options.offset + options.limit > 20000) {
        throw invalid('offset + limit can not be more than 20000: narrow the query instead.');
      }
      const where = await searchWhere(p.orgId, options.query, options.search);
      return repo.list(db, await alertScopeOf(db, p), where, options);
    },

    count: async (p: Principal, query?: string, search?: SavedSearchRef) =>
      repo.count(db, await alertScopeOf(db, p), await searchWhere(p.orgId, query, search)),

    /**
     * What `count` answers for each query, in their order, from one statement: each query within its own
     * limits, and all of them within the limit on unindexed terms together (every one, and the saved
     * search in each, is evaluated on every alert of the scan).
     */
    async countEach(p: Principal, queries: readonly string[], search?: SavedSearchRef) {
      const { own, saved } = await parsedSearch(p.orgId, queries, search);
      const wheres = own.map((query) => whereOf(p.orgId, withSaved(query, saved)));
      checkCountedCost(own, saved);
      return repo.countEach(db, await alertScopeOf(db, p), wheres);
    },

    /**
     * Runs one action on one alert. As in Opsgenie, an unknown alert or an action a closed alert refuses
     * is not an HTTP error: the request is accepted and its status says what happened.
     */
    async act(
      p: Principal,
      requestId: string,
      identifier: string,
      type: IdentifierType,
      action: AlertAction,
      meta: ActionMeta,
    ): Promise<Outcome> {
      await requireUserRights(db, p, alertActionRights(action, p));
      const mayOwn = await mayTakeOwnership(p, action);
      const noteLeftOut = await noteLeftOutOf(db, p, action.kind, meta.note);
      const scope = await alertScopeOf(db, p);
      const outcome = await db.transaction().execute(async (tx) => {
        const alert = await repo.find(tx, scope, identifier, type, true);
        let outcome: Outcome;
        if (!alert) {
          outcome = { success: false, status: ALERT_MISSING };
        } else {
          outcome = await actAs(tx, p, alert, action, meta, mayOwn, noteLeftOut);
        }
        await repo.recordRequest(tx, {
          id: requestId,
          org_id: p.orgId,
          action: ACTION_NAMES[action.kind],
          success: outcome.success,
          status: outcome.status,
          alert_id: alert?.id ?? null,
          alias: alert?.alias ?? (type === 'alias' ? identifier : null),
          integration_id: p.integration?.id ?? null,
          processed_at: clock.now(),
        });
        return outcome;
      });
      committed(QUEUES.alertEvents, ...(action.kind === 'snooze' ? [QUEUES.snoozeEnds] : []));
      return outcome;
    },

    /**
     * Runs one action on many alerts by id, each as `act` runs it (the caller's scope, an integration's
     * actions, the log, events and note), in one transaction with the alerts locked in one statement.
     * An alert that does not exist (or is out of scope) or refuses the action fails alone; what the
     * action refuses in its own input (an endTime in the past, an unknown owner) throws as in `act`.
     * No request statuses are recorded: the outcomes are the answer.
     */
    async actOnMany(
      p: Principal,
      ids: readonly string[],
      action: AlertAction,
      meta: ActionMeta,
    ): Promise<Map<string, Outcome>> {
      await requireUserRights(db, p, alertActionRights(action, p, true));
      const mayOwn = await mayTakeOwnership(p, action);
      const noteLeftOut = await noteLeftOutOf(db, p, action.kind, meta.note);
      const scope = await alertScopeOf(db, p);
      // 500 alerts locked in id order meet creates and the engine locking in theirs: a deadlock aborts
      // one side, and this side goes again.
      const outcomes = await retryLostRaces(() =>
        db.transaction().execute(async (tx) => {
          const found = new Map((await repo.lockByIds(tx, scope, ids)).map((a) => [a.id, a]));
          const result = new Map<string, Outcome>();
          for (const id of new Set(ids)) {
            // PostgreSQL gives ids in lower case; a caller may send them in upper.
            const alert = found.get(id.toLowerCase());
            if (!alert) {
              result.set(id, { success: false, status: ALERT_MISSING });
              continue;
            }
            result.set(id, await actAs(tx, p, alert, action, meta, mayOwn, noteLeftOut));
          }
          return result;
        }),
      );
      committed(QUEUES.alertEvents, ...(action.kind === 'snooze' ? [QUEUES.snoozeEnds] : []));
      return outcomes;
    },

    async notes(p: Principal, identifier: string, type: IdentifierType, page: PageOptions) {
      const alert = await this.get(p, identifier, type);
      return repo.page(db, 'alert_notes', alert.id, page);
    },

    /** Get Recipients: the people the alert reached (see responders.ts). */
    async recipients(p: Principal, identifier: string, type: IdentifierType) {
      const alert = await this.get(p, identifier, type);
      return recipientsOf(db, alert, clock);
    },

    async logs(p: Principal, identifier: string, type: IdentifierType, page: PageOptions) {
      const alert = await this.get(p, identifier, type);
      return repo.page(db, 'alert_logs', alert.id, page);
    },

    /**
     * The outcome of a request. An integration's key sees the requests it made and those about alerts it
     * can see; of its own requests about other teams' alerts (a create that counted one more occurrence
     * of another team's alert), it does not learn the alert's id. Nor does a user who sees only their
     * own alerts learn the id of one that is not theirs, nor its alias (an alert's other name, often a
     * host's or a finding's): a request's id is no secret of its maker's, and they may not have made it.
     */
    async requestStatus(p: Principal, requestId: string) {
      const row = await repo.findRequest(db, p.orgId, requestId);
      const missing = () =>
        notFound(`Request [${requestId}] does not exist (or is older than the retention period).`);
      if (!row) throw missing();
      const scope = await alertScopeOf(db, p);
      if (!scope.integration && !scope.viewer) return row;
      const visible = row.alert_id ? await repo.find(db, scope, row.alert_id, 'id') : undefined;
      if (visible) return row;
      if (p.integration && row.integration_id !== p.integration.id) throw missing();
      // An integration's own request: the alias is the one it sent.
      return { ...row, alert_id: null, alias: p.integration ? row.alias : null };
    },

    /** Ends a snooze when its time comes (run by the snooze-ends queue). */
    async endSnooze(alertId: string, until: string): Promise<boolean> {
      const ended = await db.transaction().execute(async (tx) => {
        const alert = await tx
          .selectFrom('alerts')
          .selectAll()
          .where('id', '=', alertId)
          .forUpdate()
          .executeTakeFirst();
        if (!alert || !alert.snoozed || alert.status !== 'open') return false;
        // A later snooze replaced this one: its own job will end it.
        if (alert.snoozed_until && alert.snoozed_until.getTime() > new Date(until).getTime()) return false;
        await endSnoozeIn(tx, alert, { log: 'Snooze ended' });
        return true;
      });
      if (ended) committed(QUEUES.alertEvents);
      return ended;
    },

    /** Snoozes whose end has come, and when the next one ends. */
    dueSnoozes: (now: Date, limit: number) => repo.dueSnoozes(db, now, limit),
    nextSnoozeEnd: () => repo.nextSnoozeEnd(db),

    purgeRequests: (before: Date) => repo.purgeRequests(db, before),

    /**
     * Runs an action on an alert already locked in the caller's transaction (integrations use it). An
     * acknowledge through it makes no owner: no principal comes with it to judge whether the actor may
     * take ownership, and its callers acknowledge as integrations, which own nothing anyway.
     */
    async applyInTx(
      tx: Tx,
      alert: AlertRow,
      action: AlertAction,
      actor: Actor,
      meta: ActionMeta = {},
    ): Promise<Outcome> {
      return applyWithNote(tx, alert, action, actor, meta, false);
    },

    /**
     * Whether an action of `p` on this alert runs, as `act` decides it: an API integration's key whose
     * actions are set runs a close, acknowledge or note only if one of its actions of that type matches
     * the alert, and with that action's user and note. For callers acting on alerts in a transaction of
     * their own (incidents).
     */
    gate: gateThroughActions,

    /** Locks an alert by id in the caller's transaction. */
    lockInTx: (tx: Tx, alertId: string) =>
      tx.selectFrom('alerts').selectAll().where('id', '=', alertId).forUpdate().executeTakeFirst(),

    /**
     * Counts one more occurrence of an open alert whose source sent an update: details that changed,
     * the priority when it changed, and a log line saying what changed.
     */
    async recordRepeat(
      tx: Tx,
      alert: AlertRow,
      change: { details: Record<string, string>; priority?: Priority; summary: string },
      actor: Actor,
    ): Promise<AlertRow> {
      const changed = Object.fromEntries(
        Object.entries(change.details).filter(([k, v]) => alert.details[k] !== v),
      );
      // A repeat is counted whatever its details: those past the alert's limits are left out, not the repeat.
      const { kept, left } = fitDetails(alert.details, changed);
      const updated = await repo.update(tx, alert.id, {
        count: alert.count + 1,
        last_occurred_at: new Date(),
        ...(Object.keys(kept).length > 0
          ? { details: sql`details || ${JSON.stringify(kept)}::jsonb` as never }
          : {}),
        ...(change.priority && change.priority !== alert.priority ? { priority: change.priority } : {}),
      });
      await repo.addLog(
        tx,
        alert.id,
        'deduplicate',
        `${change.summary}; count is now ${updated.count}` +
          (left.length > 0
            ? `; ${left.length} of its details left out, past the ${detailsLimitsText} an alert's details hold`
            : ''),
        actor.name,
      );
      await event(tx, updated, actor, undefined, { type: 'deduplicated', count: updated.count });
      // Only an alert the engine holds notifications of has it count this occurrence (engine/notification-holds.ts).
      if (updated.notification_held)
        await event(tx, updated, actor, undefined, { type: 'hold_occurrence', count: updated.count });
      if (change.priority && change.priority !== alert.priority) {
        await repo.addLog(
          tx,
          alert.id,
          'priority',
          `Priority changed from ${alert.priority} to ${change.priority} by ${actor.name}`,
          actor.name,
        );
        await event(tx, updated, actor, undefined, {
          type: 'priority_changed',
          from: alert.priority,
          to: change.priority,
        });
      }
      return updated;
    },
  };
}

export interface PageOptions {
  after?: string;
  direction: 'next' | 'prev';
  order: 'asc' | 'desc';
  limit: number;
}

type DistributiveOmitKeys<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
type DistributivePick = DistributiveOmitKeys<AlertEventInput, 'alertId' | 'orgId' | 'actor' | 'source'>;

export type AlertsService = ReturnType<typeof createAlertsService>;
