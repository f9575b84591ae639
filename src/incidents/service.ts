import { randomUUID } from 'node:crypto';
import type { Principal } from '../accounts/service.js';
import {
  requireUserRight,
  requireUserRights,
  noteLeftOutLine,
  noteLeftOutOf,
  type UserRight,
} from '../accounts/custom-roles/rights.js';
import {
  ALERT_LIMITS,
  cutToCharacters,
  DETAILS_LIMITS,
  detailsGrowPast,
  detailsSize,
} from '../alerts/limits.js';
import { findResponder, resolveResponder } from '../alerts/responders.js';
import { alertsRepository } from '../alerts/repository.js';
import { incidentAliasOf } from '../alerts/reserved-aliases.js';
import {
  actorOf,
  MAX_TAGS,
  type ActionMeta,
  type AlertAction,
  type AlertsService,
  type ResponderInput,
} from '../alerts/service.js';
import { alertScopeOf } from '../alerts/visibility.js';
import type { Actor } from '../alerts/events.js';
import type { Db, Tx } from '../db/database.js';
import type { AlertRow, IncidentRow, Priority, ResponderRef } from '../db/schema.js';
import { invalid, invalidField, notFound } from '../errors.js';
import { QUEUES } from '../work/queue-names.js';
import type { WorkSignal } from '../work/runner.js';
import { incidentQueryWhere } from './query.js';
import {
  incidentsRepository as repo,
  type IncidentIdentifierType,
  type IncidentPage,
  type IncidentScope,
  type IncidentSortField,
} from './repository.js';
import { systemClock, type Clock } from '../work/clock.js';

/**
 * Incidents, as Opsgenie's Incident API has them: a message with a priority, responders, tags and details,
 * open, then resolved or closed, and reopened when it burns again. Vigil pages nobody for an incident by
 * itself: as Opsgenie does, creating one creates an alert (through the alerts service, so routing,
 * escalations, notification rules and alert policies apply as to any alert) carrying the incident's
 * message, priority, responders, tags and details, and the engine pages its responders. That alert is the
 * incident's associated alert (and, in Vigil, its responder alert too).
 *
 * What is done to the incident is done to its open alerts: resolving or closing it closes them, a new
 * priority is theirs too, and a responder added to it is added to them (and so paged); a responder added
 * to an open incident with no open alert left gets a new alert of its own, so that it is paged all the
 * same. Reopening it raises a new alert, so that its responders are paged again for what burns again; the
 * alerts it closed stay closed. Deleting it leaves its alerts as they are. Every change goes on the
 * incident's log.
 *
 * Anyone of the organization sees its incidents, but not every alert: what an incident does to its alerts
 * on behalf of a caller it does only to those the caller could act on through the Alert API
 * (alerts/visibility.ts), and its request status counts the others, left as they were. An action that
 * would leave every one of them untouched is refused, incident included, rather than reported done while
 * nobody's paging changed.
 */

export interface CreateIncidentInput {
  message: string;
  description?: string;
  responders?: ResponderInput[];
  tags?: string[];
  details?: Record<string, string>;
  priority?: Priority;
  note?: string;
  impactedServices?: string[];
  statusPageEntry?: { title?: string; detail?: string };
  notifyStakeholders?: boolean;
  user?: string;
  source?: string;
}

/** What every action accepts besides its own fields. */
export interface IncidentActionMeta {
  user?: string;
  source?: string;
  note?: string;
}

export type IncidentAction =
  | { kind: 'resolve' }
  | { kind: 'close' }
  | { kind: 'reopen' }
  | { kind: 'addNote'; note: string }
  | { kind: 'priority'; priority: Priority }
  | { kind: 'addResponders'; responders: ResponderInput[] }
  | { kind: 'addTags'; tags: string[] }
  | { kind: 'removeTags'; tags: string[] }
  | { kind: 'addDetails'; details: Record<string, string> }
  | { kind: 'removeDetails'; keys: string[] }
  | { kind: 'message'; message: string }
  | { kind: 'description'; description: string }
  | { kind: 'delete' };

/** The name of each action in request statuses, as Opsgenie reports it. */
const ACTION_NAMES: Record<IncidentAction['kind'], string> = {
  resolve: 'Resolve',
  close: 'Close',
  reopen: 'Reopen',
  addNote: 'AddNote',
  priority: 'UpdatePriority',
  addResponders: 'AddResponder',
  addTags: 'AddTags',
  removeTags: 'RemoveTags',
  addDetails: 'AddDetails',
  removeDetails: 'RemoveDetails',
  message: 'UpdateMessage',
  description: 'UpdateDescription',
  delete: 'Delete',
};

/**
 * The user right each action needs of a custom role: that of the alert action it comes down to, since
 * that is what it does to the incident's alerts (docs/api.md).
 */
const ACTION_RIGHTS: Record<IncidentAction['kind'], { right: UserRight; what: string }> = {
  resolve: { right: 'alert-close', what: 'resolve incidents' },
  close: { right: 'alert-close', what: 'close incidents' },
  reopen: { right: 'alert-create', what: 'reopen incidents' },
  addNote: { right: 'alert-add-note', what: 'add notes to incidents' },
  priority: { right: 'alert-update-priority', what: "change incidents' priority" },
  addResponders: { right: 'alert-add-recipient', what: 'add responders to incidents' },
  addTags: { right: 'alert-edit-tags', what: "change incidents' tags" },
  removeTags: { right: 'alert-edit-tags', what: "change incidents' tags" },
  addDetails: { right: 'alert-edit-details', what: "change incidents' details" },
  removeDetails: { right: 'alert-edit-details', what: "change incidents' details" },
  message: { right: 'alert-update-message', what: "change incidents' message" },
  description: { right: 'alert-update-description', what: "change incidents' description" },
  delete: { right: 'alert-delete', what: 'delete incidents' },
};

export interface IncidentOutcome {
  success: boolean;
  status: string;
  incident?: IncidentRow;
}

export interface IncidentListOptions {
  query?: string;
  offset: number;
  limit: number;
  sort: IncidentSortField;
  order: 'asc' | 'desc';
}

/** The incidents `p` may see: an integration's key only those its team responds to or it made (as alerts). */
function scopeOf(p: Principal): IncidentScope {
  return p.integration
    ? { orgId: p.orgId, integration: { id: p.integration.id, teamId: p.integration.teamId } }
    : { orgId: p.orgId };
}

/**
 * The incident's open alerts an action of the caller reaches, locked, oldest first, and how many open ones
 * it does not reach and why.
 */
interface ReachedAlerts {
  alerts: { alert: AlertRow; meta: ActionMeta }[];
  untouched: number;
  /** Why the untouched ones are, for the request status and the log. */
  reason: string;
}

/**
 * The alias of an incident's alerts: one open alert per incident at a time. Callers of the Alert API are
 * refused the form (alerts/reserved-aliases.ts), so none can hold it for the incident's next alert.
 */
export const incidentAlertAlias = (incidentId: string) => incidentAliasOf(incidentId);

/** The details an incident's alert carries besides the incident's own: its link to the incident. */
const LINK_DETAILS = ['incidentId', 'incidentTinyId'] as const;

const linkDetailsOf = (incident: IncidentRow): Record<(typeof LINK_DETAILS)[number], string> => ({
  incidentId: incident.id,
  incidentTinyId: incident.tiny_id,
});

/** Of details or keys bound for the incident's alerts, those that are not its link to the incident. */
const notLink = (key: string) => !(LINK_DETAILS as readonly string[]).includes(key);

/**
 * Whether the incident's details, as its alerts carry them (with their link to it), would grow past an
 * alert's DETAILS_LIMITS with `merged`: an alert raised for it (a reopen) must hold them, and its open
 * alerts refuse them past those limits all the same. Counted as the Alert API's Add Details counts them.
 */
function detailsPastLimits(incident: IncidentRow, merged: Record<string, string>): string | undefined {
  const measure = (details: Record<string, string>) =>
    detailsSize({ ...details, ...linkDetailsOf(incident) });
  const after = measure(merged);
  if (!detailsGrowPast(measure(incident.details), after)) return undefined;
  const count = (n: number) => n.toLocaleString('en-US');
  return (
    `an incident's details, with the ${LINK_DETAILS.join(' and ')} its alerts carry, can hold at most ` +
    `${count(DETAILS_LIMITS.keys)} keys and ${DETAILS_LIMITS.bytes / 1024 / 1024} MiB of JSON, ` +
    `as an alert's; with these they would have ${count(after.keys)} keys and ${count(after.bytes)} bytes. ` +
    'Remove details it no longer needs first (DELETE /v1/incidents/{identifier}/details?keys=…), ' +
    'or add fewer or shorter ones.'
  );
}

export interface IncidentsDeps {
  db: Db;
  alerts: AlertsService;
  /** Wakes the alert-event queue once the alerts an incident changed are committed. */
  signal?: WorkSignal;
  /** Request records are stamped on it, as retention's cut-off is. */
  clock?: Clock;
}

export function createIncidentsService({ db, alerts, signal, clock = systemClock }: IncidentsDeps) {
  const wakeAlertEvents = () => signal?.wake(QUEUES.alertEvents);

  async function resolveAll(tx: Tx, orgId: string, list: ResponderInput[], field: string) {
    const resolved: { ref: ResponderRef; label: string }[] = [];
    for (const [index, r] of list.entries()) {
      const found = await resolveResponder(tx, orgId, r, `${field}[${index}]`);
      if (!resolved.some((x) => x.ref.type === found.ref.type && x.ref.id === found.ref.id))
        resolved.push(found);
    }
    return resolved;
  }

  const log = (tx: Tx, incident: IncidentRow, type: string, text: string, actor: Actor) =>
    repo.addLog(tx, incident.id, type, text, actor.name);

  async function addNote(tx: Tx, incident: IncidentRow, note: string | undefined, actor: Actor) {
    if (!note?.trim()) return;
    await repo.addNote(tx, incident.id, note, actor.name);
    await log(tx, incident, 'note', `Note added by ${actor.name}: ${note}`, actor);
  }

  /**
   * The incident's responders that still exist, and a line for each deleted since it was named: nothing
   * empties an incident's responders when a user, team, escalation or schedule goes. Those of `found`,
   * found in this transaction already, are not looked up again.
   */
  async function existingResponders(tx: Tx, incident: IncidentRow, found: readonly ResponderRef[]) {
    const kept: ResponderRef[] = [];
    const leftOut: string[] = [];
    for (const r of incident.responders) {
      if (found.some((x) => x.type === r.type && x.id === r.id)) {
        kept.push(r);
        continue;
      }
      if (await findResponder(tx, incident.org_id, { type: r.type, id: r.id }, 'responders')) kept.push(r);
      else
        leftOut.push(
          `Responder ${r.type} ${JSON.stringify(r.id)} of the incident no longer exists: left out`,
        );
    }
    return { kept, leftOut };
  }

  /**
   * An alert for the incident's responders (or only those `paged` names), made as any alert is (so they
   * are paged), and linked to it. In the caller's transaction: the caller wakes the alert events once it
   * has committed. A responder deleted since the incident named it is left out, as alert creation leaves
   * out one that does not exist, and both logs say so: otherwise the alert would carry it and page nobody
   * for it without a word (a reopen long after the incident was made). `found`: responders found in this
   * transaction already (a create's), not looked up again.
   */
  async function raiseAlert(
    tx: Tx,
    p: Principal,
    incident: IncidentRow,
    actor: Actor,
    asked: { responders: ResponderRef[]; why: string } = {
      responders: incident.responders,
      why: "it pages the incident's responders",
    },
    found: readonly ResponderRef[] = [],
  ) {
    const existing = await existingResponders(tx, incident, found);
    const exists = (r: ResponderRef) => existing.kept.some((x) => x.type === r.type && x.id === r.id);
    const paged = { ...asked, responders: asked.responders.filter(exists) };
    const { alert } = await alerts.create(
      p,
      randomUUID(),
      {
        message: incident.message,
        alias: incidentAlertAlias(incident.id),
        description: incident.description,
        tags: incident.tags,
        details: { ...incident.details, ...linkDetailsOf(incident) },
        priority: incident.priority,
        source: `Incident #${incident.tiny_id}`,
      },
      {
        tx,
        actor,
        resolvedResponders: paged.responders,
        // The incident's other responders see the alert without being paged by it: it is theirs to act on
        // through the incident, and the Alert API's scope (alerts/visibility.ts) counts visibleTo.
        resolvedVisibleTo: existing.kept.filter(
          (r) => !paged.responders.some((x) => x.type === r.type && x.id === r.id),
        ),
        ...(existing.leftOut.length > 0 ? { shapedBy: existing.leftOut } : {}),
        ...(p.integration
          ? { integration: { id: p.integration.id, name: p.integration.name, type: p.integration.type } }
          : {}),
        systemAlias: true,
      },
    );
    await repo.linkAlert(tx, incident.id, alert.id);
    await log(
      tx,
      incident,
      'alert',
      paged.responders.length > 0
        ? `Alert #${alert.tiny_id} raised: ${paged.why}`
        : asked.responders.length > 0
          ? `Alert #${alert.tiny_id} raised, but none of the responders it would page exists any more: nobody is paged`
          : `Alert #${alert.tiny_id} raised (the incident has no responders to page yet)`,
      actor,
    );
    for (const line of existing.leftOut) await log(tx, incident, 'responder', line, actor);
    return alert;
  }

  /**
   * The incident's open alerts that `p` may run `kind` on, locked: those in its alert scope, as the Alert
   * API finds them for it (a user without alerts-access-all only their own, a key only its team's and
   * its own). Locked in one statement and in id order, as the bulk alert actions lock theirs.
   */
  async function reachAlerts(
    tx: Tx,
    p: Principal,
    incident: IncidentRow,
    action: AlertAction,
  ): Promise<ReachedAlerts> {
    const ids = await repo.openAlertIds(tx, incident.id);
    if (ids.length === 0) return { alerts: [], untouched: 0, reason: '' };
    const locked = new Map(
      (await alertsRepository.lockByIds(tx, await alertScopeOf(tx, p), ids)).map((a) => [a.id, a]),
    );
    // One that was closed since openAlertIds read it is neither acted on nor out of scope.
    const inScope = ids.flatMap((id) => locked.get(id) ?? []).filter((a) => a.status === 'open');
    // An integration's actions gate its key's closes as they do through the Alert API (with the action's
    // user and note); an alert no action of it matches is left as it is.
    const gated = inScope.map((alert) => ({ alert, gate: alerts.gate(p, alert, action, {}) }));
    const reasons = new Set<string>();
    if (inScope.length < ids.length) reasons.add("out of the caller's alert scope");
    const alertsReached: ReachedAlerts['alerts'] = [];
    for (const { alert, gate } of gated) {
      if (gate.kind === 'run') alertsReached.push({ alert, meta: gate.meta });
      else reasons.add(`no ${action.kind} action of integration [${p.integration?.name ?? ''}] matched`);
    }
    return {
      alerts: alertsReached,
      untouched: ids.length - alertsReached.length,
      reason: [...reasons].join('; '),
    };
  }

  const openAlerts = (n: number) => `${n} open alert${n === 1 ? '' : 's'}`;

  /** What the request status adds when some of the incident's alerts were left as they were. */
  const leftOut = (reached: ReachedAlerts) =>
    reached.untouched === 0
      ? ''
      : `; ${openAlerts(reached.untouched)} of the incident left untouched (${reached.reason})`;

  /**
   * The refusal of an action none of whose alerts the caller reaches: done to the incident alone, it
   * would read as done while nobody's paging changed (the alerts that page stay as they were).
   */
  const unreached = (
    reached: ReachedAlerts,
    what: string,
    incident: IncidentRow,
  ): IncidentOutcome | undefined =>
    reached.untouched > 0 && reached.alerts.length === 0
      ? {
          success: false,
          status: `Incident was not ${what}: none of its open alerts can be acted on (${reached.reason}).`,
          incident,
        }
      : undefined;

  async function logLeftOut(tx: Tx, incident: IncidentRow, reached: ReachedAlerts, actor: Actor) {
    if (reached.untouched > 0)
      await log(
        tx,
        incident,
        'alert',
        `${openAlerts(reached.untouched)} left untouched (${reached.reason})`,
        actor,
      );
  }

  /** Closes the alerts reached, as their own close would (their log names the actor). */
  async function closeAlerts(
    tx: Tx,
    p: Principal,
    incident: IncidentRow,
    reached: ReachedAlerts,
    actor: Actor,
    source: string | undefined,
  ) {
    for (const { alert, meta } of reached.alerts) {
      // An integration's close action may name another user and add its note, as through the Alert API.
      const by = meta.user ? actorOf(p, meta.user) : actor;
      await alerts.applyInTx(tx, alert, { kind: 'close' }, by, { source, note: meta.note });
      await log(tx, incident, 'alert', `Alert #${alert.tiny_id} closed with the incident`, actor);
    }
    await logLeftOut(tx, incident, reached, actor);
  }

  /**
   * A change of the incident's own fields (tags, details, message, description), made to the incident and,
   * through the alerts' own action (so their log names the actor and their webhooks hear of it), to the
   * open alerts of it the caller reaches, as a new priority is. Refused, the incident unchanged, when it
   * reaches none of them. `alertAction`: what the alerts get (and what gates reaching them), unless
   * `onAlerts` is false: the change is nothing of theirs (a detail that is only the incident's).
   */
  async function changeFields(
    tx: Tx,
    p: Principal,
    incident: IncidentRow,
    actor: Actor,
    meta: IncidentActionMeta,
    change: {
      what: string;
      status: string;
      fields: Parameters<typeof repo.update>[2];
      log: { type: string; text: string };
      alertAction: AlertAction;
      onAlerts?: boolean;
    },
  ): Promise<IncidentOutcome> {
    const reached = await reachAlerts(tx, p, incident, change.alertAction);
    const refused = unreached(reached, change.what, incident);
    if (refused) return refused;
    const updated = await repo.update(tx, incident.id, change.fields);
    await log(tx, incident, change.log.type, change.log.text, actor);
    if (change.onAlerts !== false)
      for (const { alert } of reached.alerts)
        await alerts.applyInTx(tx, alert, change.alertAction, actor, { source: meta.source });
    await logLeftOut(tx, incident, reached, actor);
    return { success: true, status: `${change.status}${leftOut(reached)}`, incident: updated };
  }

  async function apply(
    tx: Tx,
    p: Principal,
    incident: IncidentRow,
    action: IncidentAction,
    actor: Actor,
    meta: IncidentActionMeta,
  ): Promise<IncidentOutcome> {
    switch (action.kind) {
      case 'resolve': {
        if (incident.status === 'closed')
          return { success: false, status: 'Incident is closed: it can not be resolved.', incident };
        if (incident.status === 'resolved')
          return { success: true, status: 'Incident was already resolved', incident };
        const reached = await reachAlerts(tx, p, incident, { kind: 'close' });
        const refused = unreached(reached, 'resolved', incident);
        if (refused) return refused;
        const updated = await repo.update(tx, incident.id, { status: 'resolved' });
        await log(tx, incident, 'status', `Incident resolved by ${actor.name}`, actor);
        await closeAlerts(tx, p, updated, reached, actor, meta.source);
        return { success: true, status: `Resolved${leftOut(reached)}`, incident: updated };
      }
      case 'close': {
        if (incident.status === 'closed')
          return { success: true, status: 'Incident was already closed', incident };
        const reached = await reachAlerts(tx, p, incident, { kind: 'close' });
        const refused = unreached(reached, 'closed', incident);
        if (refused) return refused;
        const updated = await repo.update(tx, incident.id, { status: 'closed' });
        await log(tx, incident, 'status', `Incident closed by ${actor.name}`, actor);
        await closeAlerts(tx, p, updated, reached, actor, meta.source);
        return { success: true, status: `Closed${leftOut(reached)}`, incident: updated };
      }
      case 'reopen': {
        if (incident.status === 'open')
          return { success: true, status: 'Incident is already open', incident };
        const updated = await repo.update(tx, incident.id, { status: 'open' });
        await log(tx, incident, 'status', `Incident reopened by ${actor.name}`, actor);
        await raiseAlert(tx, p, updated, actor);
        return { success: true, status: 'Reopened', incident: updated };
      }
      case 'addNote':
        await addNote(tx, incident, action.note, actor);
        return { success: true, status: 'Added note', incident };
      case 'priority': {
        if (incident.priority === action.priority)
          return { success: true, status: 'Priority updated', incident };
        return changeFields(tx, p, incident, actor, meta, {
          what: 'given the priority',
          status: 'Priority updated',
          fields: { priority: action.priority },
          log: {
            type: 'priority',
            text: `Priority changed from ${incident.priority} to ${action.priority} by ${actor.name}`,
          },
          alertAction: { kind: 'priority', priority: action.priority },
        });
      }
      case 'addResponders': {
        if (incident.status === 'closed')
          return { success: false, status: 'Incident is closed: it can not be given a responder.', incident };
        const found = await resolveAll(tx, incident.org_id, action.responders, 'responders');
        const added = found.filter(
          ({ ref }) => !incident.responders.some((r) => r.type === ref.type && r.id === ref.id),
        );
        if (added.length === 0) return { success: true, status: 'Already responders', incident };
        const [first] = added;
        const reached = await reachAlerts(tx, p, incident, {
          kind: 'addResponder',
          responder: { type: first?.ref.type ?? 'team', id: first?.ref.id ?? '' },
        });
        const refused = unreached(reached, 'given the responder', incident);
        if (refused) return refused;
        const updated = await repo.update(tx, incident.id, {
          responders: [...incident.responders, ...added.map((a) => a.ref)],
        });
        for (const { label } of added)
          await log(tx, incident, 'responder', `${label} added as a responder by ${actor.name}`, actor);
        if (reached.alerts.length === 0 && reached.untouched === 0) {
          // A resolved incident pages nobody until it is reopened (which pages every responder, this one too).
          if (updated.status !== 'open')
            return {
              success: true,
              status: 'Added responder; the incident is resolved, so nobody was paged',
              incident: updated,
            };
          // Its alerts were closed (from a phone, Slack, a policy) while it burns on: a new alert pages the
          // added responders, as Opsgenie pages a responder added to an incident. Only them: the others
          // already had this incident's alert, and closing it was their call; reopening pages them all.
          const alert = await raiseAlert(tx, p, updated, actor, {
            responders: added.map((a) => a.ref),
            why: 'it pages the added responders (the incident had no open alert)',
          });
          return {
            success: true,
            status: `Added responder; alert #${alert.tiny_id} raised to page ${added.length === 1 ? 'it' : 'them'} (the incident had no open alert)`,
            incident: updated,
          };
        }
        // The alerts' own Add Responder pages them, as it pages a responder added to any alert.
        for (const reachedAlert of reached.alerts) {
          // Each add works on the alert as the one before left it, or it would drop that one's responder.
          let alert = reachedAlert.alert;
          for (const { ref } of added) {
            const outcome = await alerts.applyInTx(
              tx,
              alert,
              { kind: 'addResponder', responder: { type: ref.type, id: ref.id } },
              actor,
              { source: meta.source },
            );
            alert = outcome.alert ?? alert;
          }
        }
        await logLeftOut(tx, incident, reached, actor);
        return { success: true, status: `Added responder${leftOut(reached)}`, incident: updated };
      }
      case 'addTags': {
        const added = [...new Set(action.tags)].filter((t) => !incident.tags.includes(t));
        if (added.length === 0) return { success: true, status: 'Added tags', incident };
        const tags = [...incident.tags, ...added];
        // An alert's limit (alerts/service.ts): the incident's tags are its alerts'.
        if (tags.length > MAX_TAGS)
          throw invalidField(
            'tags',
            `an incident can have at most ${MAX_TAGS} tags, as an alert; it has ${incident.tags.length}.`,
          );
        const alertAction: AlertAction = { kind: 'addTags', tags: added };
        return changeFields(tx, p, incident, actor, meta, {
          what: 'given the tags',
          status: 'Added tags',
          fields: { tags },
          log: { type: 'tags', text: `Tags [${added.join(', ')}] added by ${actor.name}` },
          alertAction,
        });
      }
      case 'removeTags': {
        const removed = incident.tags.filter((t) => action.tags.includes(t));
        if (removed.length === 0) return { success: true, status: 'Removed tags', incident };
        const alertAction: AlertAction = { kind: 'removeTags', tags: removed };
        return changeFields(tx, p, incident, actor, meta, {
          what: 'stripped of the tags',
          status: 'Removed tags',
          fields: { tags: incident.tags.filter((t) => !removed.includes(t)) },
          log: { type: 'tags', text: `Tags [${removed.join(', ')}] removed by ${actor.name}` },
          alertAction,
        });
      }
      case 'addDetails': {
        const changed = Object.fromEntries(
          Object.entries(action.details).filter(
            ([k, v]) => !Object.hasOwn(incident.details, k) || incident.details[k] !== v,
          ),
        );
        const keys = Object.keys(changed);
        if (keys.length === 0) return { success: true, status: 'Added details', incident };
        const details = { ...incident.details, ...changed };
        const over = detailsPastLimits(incident, details);
        if (over) throw invalidField('details', over);
        // The alerts' link to the incident stays theirs.
        const forAlerts = Object.fromEntries(Object.entries(changed).filter(([k]) => notLink(k)));
        const alertAction: AlertAction = { kind: 'addDetails', details: forAlerts };
        return changeFields(tx, p, incident, actor, meta, {
          what: 'given the details',
          status: 'Added details',
          fields: { details },
          log: { type: 'details', text: `Details [${keys.join(', ')}] added by ${actor.name}` },
          alertAction,
          onAlerts: Object.keys(forAlerts).length > 0,
        });
      }
      case 'removeDetails': {
        const keys = [...new Set(action.keys)].filter((k) => Object.hasOwn(incident.details, k));
        if (keys.length === 0) return { success: true, status: 'Removed details', incident };
        const forAlerts = keys.filter(notLink);
        const alertAction: AlertAction = { kind: 'removeDetails', keys: forAlerts };
        return changeFields(tx, p, incident, actor, meta, {
          what: 'stripped of the details',
          status: 'Removed details',
          fields: {
            details: Object.fromEntries(Object.entries(incident.details).filter(([k]) => !keys.includes(k))),
          },
          log: { type: 'details', text: `Details [${keys.join(', ')}] removed by ${actor.name}` },
          alertAction,
          onAlerts: forAlerts.length > 0,
        });
      }
      case 'message': {
        if (incident.message === action.message)
          return { success: true, status: 'Message updated', incident };
        const alertAction: AlertAction = { kind: 'message', message: action.message };
        // One made with a longer message (up to 15,000) is named in the log as its alert was named.
        const was = cutToCharacters(incident.message, ALERT_LIMITS.message);
        return changeFields(tx, p, incident, actor, meta, {
          what: 'given the message',
          status: 'Message updated',
          fields: { message: action.message },
          log: {
            type: 'message',
            text: `Message changed from "${was}" to "${action.message}" by ${actor.name}`,
          },
          alertAction,
        });
      }
      case 'description': {
        if (incident.description === action.description)
          return { success: true, status: 'Description updated', incident };
        const alertAction: AlertAction = { kind: 'description', description: action.description };
        return changeFields(tx, p, incident, actor, meta, {
          what: 'given the description',
          status: 'Description updated',
          fields: { description: action.description },
          log: { type: 'description', text: `Description changed by ${actor.name}` },
          alertAction,
        });
      }
      case 'delete':
        await repo.delete(tx, incident.id);
        return { success: true, status: 'Deleted' };
    }
  }

  async function find(p: Principal, identifier: string, type: IncidentIdentifierType) {
    const incident = await repo.find(db, scopeOf(p), identifier, type);
    if (!incident)
      throw notFound(`Incident with ${type === 'tiny' ? 'tinyId' : 'id'} [${identifier}] does not exist.`);
    return incident;
  }

  return {
    /**
     * Creates an incident and its alert, in one transaction with the request's outcome. Responders are
     * checked first: one that does not exist is a 422, and nothing is made. An integration's key that names
     * none makes the incident its team's.
     */
    async create(p: Principal, requestId: string, input: CreateIncidentInput): Promise<IncidentRow> {
      await requireUserRight(db, p, 'alert-create', 'create incidents');
      const actor = actorOf(p, input.user);
      const incident = await db.transaction().execute(async (tx) => {
        const found = (await resolveAll(tx, p.orgId, input.responders ?? [], 'responders')).map((r) => r.ref);
        let responders = found;
        if (responders.length === 0 && p.integration)
          responders = [{ type: 'team', id: p.integration.teamId }];
        const incident = await repo.insert(tx, p.orgId, {
          message: input.message,
          description: input.description ?? '',
          priority: input.priority ?? 'P3',
          tags: [...new Set(input.tags ?? [])],
          details: input.details ?? {},
          responders,
          impactedServices: [...new Set(input.impactedServices ?? [])],
          statusPageEntry: input.statusPageEntry ?? null,
          notifyStakeholders: input.notifyStakeholders ?? false,
          createdBy: actor.name,
          integrationId: p.integration?.id ?? null,
        });
        const via = p.integration ? `integration ${p.integration.name}` : 'API';
        await log(tx, incident, 'create', `Incident created via ${via} by ${actor.name}`, actor);
        await addNote(tx, incident, input.note, actor);
        await raiseAlert(tx, p, incident, actor, undefined, found);
        await repo.recordRequest(tx, {
          id: requestId,
          org_id: p.orgId,
          action: 'Create',
          success: true,
          status: 'Created incident',
          incident_id: incident.id,
          integration_id: p.integration?.id ?? null,
          processed_at: clock.now(),
        });
        return incident;
      });
      wakeAlertEvents();
      return incident;
    },

    get: find,

    async list(p: Principal, options: IncidentListOptions): Promise<IncidentRow[]> {
      if (options.offset + options.limit > 20000)
        throw invalid('offset + limit can not be more than 20000: narrow the query instead.');
      return repo.list(db, scopeOf(p), incidentQueryWhere(p.orgId, options.query), options);
    },

    /**
     * Runs one action on one incident. As Opsgenie's (and Vigil's alert actions), an unknown incident or an
     * action its state refuses is not an HTTP error: the request is accepted and its status says what
     * happened. A note given with an action goes on the incident.
     */
    async act(
      p: Principal,
      requestId: string,
      identifier: string,
      type: IncidentIdentifierType,
      action: IncidentAction,
      meta: IncidentActionMeta,
    ): Promise<IncidentOutcome> {
      const needed = [ACTION_RIGHTS[action.kind]];
      // A team added as a responder becomes a responder team of the incident's alerts, as Add Team makes it.
      if (action.kind === 'addResponders' && action.responders.some((r) => r.type === 'team'))
        needed.push({ right: 'alert-add-team', what: 'add teams to incidents' });
      await requireUserRights(db, p, needed);
      if (action.kind === 'addResponders' && action.responders.length === 0)
        throw invalidField('responder', 'is required: the team or user to add.');
      if ((action.kind === 'addTags' || action.kind === 'removeTags') && action.tags.length === 0)
        throw invalidField('tags', 'is required: the tags to add or remove.');
      if (action.kind === 'addDetails' && Object.keys(action.details).length === 0)
        throw invalidField('details', 'is required: the details to add.');
      if (action.kind === 'removeDetails' && action.keys.length === 0)
        throw invalidField('keys', 'is required: the keys of the details to remove.');
      // A note given with the action is one Add Note would be refused: the action runs without it, as the
      // alert actions do.
      const noteLeftOut = await noteLeftOutOf(db, p, action.kind, meta.note);
      const actor = actorOf(p, meta.user);
      const outcome = await db.transaction().execute(async (tx) => {
        const incident = await repo.find(tx, scopeOf(p), identifier, type, true);
        const outcome: IncidentOutcome = incident
          ? await apply(tx, p, incident, action, actor, meta)
          : { success: false, status: 'Incident does not exist' };
        if (incident && outcome.success && action.kind !== 'addNote' && action.kind !== 'delete') {
          if (noteLeftOut === undefined) await addNote(tx, incident, meta.note, actor);
          else await log(tx, incident, 'note', noteLeftOutLine(actor.name, noteLeftOut), actor);
        }
        await repo.recordRequest(tx, {
          id: requestId,
          org_id: p.orgId,
          action: ACTION_NAMES[action.kind],
          success: outcome.success,
          status: outcome.status,
          incident_id: incident?.id ?? null,
          integration_id: p.integration?.id ?? null,
          processed_at: clock.now(),
        });
        return outcome;
      });
      wakeAlertEvents();
      return outcome;
    },

    async notes(p: Principal, identifier: string, type: IncidentIdentifierType, page: IncidentPage) {
      const incident = await find(p, identifier, type);
      return repo.page(db, 'incident_notes', incident.id, page);
    },

    async logs(p: Principal, identifier: string, type: IncidentIdentifierType, page: IncidentPage) {
      const incident = await find(p, identifier, type);
      return repo.page(db, 'incident_logs', incident.id, page);
    },

    /**
     * The ids of the incident's alerts (the one it was created with, and one per reopening), newest first
     * unless `order` is asc. They are its associated alerts and, in Vigil, its responder alerts too: the
     * alert that pages its responders is the one it was created with.
     */
    async alertIds(
      p: Principal,
      identifier: string,
      type: IncidentIdentifierType,
      page: { offset: number; limit: number; order: 'asc' | 'desc' },
    ): Promise<string[]> {
      const incident = await find(p, identifier, type);
      const ids = await repo.alertIds(db, incident.id);
      const ordered = page.order === 'asc' ? ids : ids.reverse();
      return ordered.slice(page.offset, page.offset + page.limit);
    },

    /**
     * The outcome of a request. An integration's key sees the requests it made and those about incidents
     * it can see.
     */
    async requestStatus(p: Principal, requestId: string) {
      const row = await repo.findRequest(db, p.orgId, requestId);
      const missing = () =>
        notFound(`Request [${requestId}] does not exist (or is older than the retention period).`);
      if (!row) throw missing();
      if (!p.integration || row.integration_id === p.integration.id) return row;
      const visible = row.incident_id ? await repo.find(db, scopeOf(p), row.incident_id, 'id') : undefined;
      if (!visible) throw missing();
      return row;
    },

    purgeRequests: (before: Date) => repo.purgeRequests(db, before),
  };
}

export type IncidentsService = ReturnType<typeof createIncidentsService>;

/** An incident in Opsgenie's shape (Get Incident, and each of List Incidents). */
export function presentIncident(row: IncidentRow) {
  return {
    id: row.id,
    tinyId: String(row.tiny_id),
    message: row.message,
    description: row.description,
    status: row.status,
    tags: row.tags,
    priority: row.priority,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    ownerTeam: row.team_ids[0] ?? '',
    responders: row.responders.map((r) => ({ type: r.type, id: r.id })),
    extraProperties: row.details,
    impactedServices: row.impacted_services,
    ...(row.status_page_entry ? { statusPageEntry: row.status_page_entry } : {}),
    notifyStakeholders: row.notify_stakeholders,
  };
}
