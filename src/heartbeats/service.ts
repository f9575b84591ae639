import { randomUUID } from 'node:crypto';
import { resolveTeamRef, type Principal, type TeamRef } from '../accounts/service.js';
import { requireUserRight } from '../accounts/custom-roles/rights.js';
import { requireTeamRight } from '../accounts/team-rights.js';
import type { Actor } from '../alerts/events.js';
import { heartbeatAliasOf } from '../alerts/reserved-aliases.js';
import type { AlertsService } from '../alerts/service.js';
import { isUniqueViolation, withSavepoint, type Db, type Tx } from '../db/database.js';
import type { HeartbeatIntervalUnit, HeartbeatRow, Priority } from '../db/schema.js';
import { conflict, invalidField, notFound } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Clock } from '../work/clock.js';
import { QUEUES } from '../work/queue-names.js';
import type { WorkSignal } from '../work/runner.js';
import { reachesTeamConfiguration, requireReachesTeamConfiguration } from '../integrations/principal.js';
import { heartbeatsRepository as repo, type HeartbeatWithTeam } from './repository.js';

/**
 * Heartbeats, as Opsgenie's Heartbeat API has them: something pings a named heartbeat at least every
 * interval; an enabled heartbeat that goes a whole interval without a ping expires and raises an alert
 * through the alert service (so routing, escalation and notifications happen as for any alert); the next
 * ping un-expires it and closes that alert.
 *
 * Every time here is the engine's Clock's: pings, expiries and the `heartbeats` queue that expires them
 * (expiry.ts) compare on one clock, so tests move time instead of waiting.
 */

export const MAX_INTERVAL_DAYS = 365;

const UNIT_MS: Record<HeartbeatIntervalUnit, number> = {
  minutes: 60_000,
  hours: 3_600_000,
  days: 86_400_000,
};

/** Who raises and closes heartbeat alerts in their activity logs. */
const HEARTBEAT_ACTOR: Actor = { kind: 'system', name: 'Heartbeat' };
export const HEARTBEAT_SOURCE = 'Heartbeat';

export interface HeartbeatInput {
  name: string;
  description?: string;
  interval: number;
  intervalUnit: HeartbeatIntervalUnit;
  enabled?: boolean;
  ownerTeam?: TeamRef;
  alertMessage?: string;
  alertTags?: string[];
  alertPriority?: Priority;
}

/**
 * What an update changes. `ownerTeam: null` takes the owner team away; `{}` (what Opsgenie's Go SDK
 * sends when none is set) and leaving it out keep it, so a partial update never drops it by accident.
 */
export type HeartbeatChanges = Partial<Omit<HeartbeatInput, 'name' | 'ownerTeam'>> & {
  ownerTeam?: TeamRef | null;
};

export function intervalMs(interval: number, unit: HeartbeatIntervalUnit): number {
  return interval * UNIT_MS[unit];
}

/**
 * The alias of the alerts a heartbeat raises. It names the heartbeat's own id, so a heartbeat deleted and
 * made again under the same name starts afresh; no alert sent through the Alert API can have it, as callers
 * are refused the form (alerts/reserved-aliases.ts), so none can swallow the expiry alert.
 */
export function heartbeatAlias(heartbeat: { id: string }): string {
  return heartbeatAliasOf(heartbeat.id);
}

/** The heartbeat in Opsgenie's shape (GET /v2/heartbeats/{name}, the list, create and update). */
export function presentHeartbeat(
  row: HeartbeatWithTeam | (HeartbeatRow & { owner_team_name?: string | null }),
) {
  return {
    name: row.name,
    description: row.description,
    interval: row.interval_amount,
    enabled: row.enabled,
    intervalUnit: row.interval_unit,
    expired: row.expired,
    ...(row.last_ping_at ? { lastPingTime: row.last_ping_at.toISOString() } : {}),
    ...(row.owner_team_id ? { ownerTeam: { id: row.owner_team_id, name: row.owner_team_name ?? '' } } : {}),
    alertMessage: row.alert_message,
    alertTags: row.alert_tags,
    alertPriority: row.alert_priority,
  };
}

/** What enable, disable and update answer: Opsgenie's HeartbeatMeta. */
export function heartbeatMeta(row: HeartbeatRow) {
  return { name: row.name, enabled: row.enabled, expired: row.expired };
}

function checkInterval(interval: number, unit: HeartbeatIntervalUnit): void {
  if (intervalMs(interval, unit) > MAX_INTERVAL_DAYS * UNIT_MS.days) {
    throw invalidField(
      'interval',
      `${interval} ${unit} is longer than ${MAX_INTERVAL_DAYS} days, the longest interval a heartbeat can have.`,
    );
  }
}

/** A team reference that names a team ({} is what Opsgenie's Go SDK sends for "no owner team"). */
function givenTeam(ref: TeamRef | undefined): TeamRef | undefined {
  return ref && (ref.id !== undefined || ref.name !== undefined) ? ref : undefined;
}

function systemPrincipal(orgId: string): Principal {
  return {
    orgId,
    apiKeyId: '',
    userId: undefined,
    username: undefined,
    fullName: HEARTBEAT_ACTOR.name,
    role: undefined,
  };
}

export function createHeartbeatsService(deps: {
  db: Db;
  alerts: AlertsService;
  clock: Clock;
  signal?: WorkSignal;
  log?: Logger;
}) {
  const { db, alerts, clock, signal, log } = deps;
  const wake = (...queues: string[]) => {
    for (const queue of queues) signal?.wake(queue);
  };

  const missing = (name: string) => notFound(`Heartbeat with name [${name}] does not exist.`);

  async function load(p: Principal, name: string): Promise<HeartbeatWithTeam> {
    const row = await repo.find(db, p.orgId, name);
    if (!row) throw missing(name);
    requireReachesTeamConfiguration(p, row.owner_team_id, `heartbeat with name [${name}]`);
    return row;
  }

  /** Org admins manage every heartbeat; those with edit-heartbeats on a team (its admins) those it owns. */
  const requireManager = (p: Principal, ownerTeamId: string | null) =>
    requireTeamRight(
      db,
      p,
      ownerTeamId,
      'edit-heartbeats',
      ownerTeamId
        ? 'Only organization admins and those of the owner team with the edit-heartbeats right (its admins) can change this heartbeat.'
        : 'Only organization admins can manage a heartbeat without an owner team: ask an admin, or give it an ownerTeam you administer.',
    );

  /**
   * The owner team a request names (null: none); an API integration's key always makes its own team the
   * owner.
   */
  async function ownerTeamOf(
    p: Principal,
    ref: TeamRef | null | undefined,
  ): Promise<string | null | undefined> {
    if (p.integration) return p.integration.ownerTeamId;
    if (ref === null) return null;
    const given = givenTeam(ref);
    if (!given) return undefined;
    return (await resolveTeamRef(db, p.orgId, given, 'ownerTeam')).id;
  }

  /** Closes the alert the heartbeat's last expiry raised, if it is still open. */
  async function closeAlertOf(tx: Tx, heartbeat: HeartbeatRow, note: string): Promise<boolean> {
    if (!heartbeat.alert_id) return false;
    const alert = await alerts.lockInTx(tx, heartbeat.alert_id);
    if (!alert || alert.status !== 'open') return false;
    await alerts.applyInTx(tx, alert, { kind: 'close' }, HEARTBEAT_ACTOR, {
      note,
      source: HEARTBEAT_SOURCE,
    });
    return true;
  }

  /** Raises the alert of a heartbeat that has just expired, in the caller's transaction. */
  async function raise(tx: Tx, heartbeat: HeartbeatRow, now: Date): Promise<HeartbeatRow> {
    const every = `${heartbeat.interval_amount} ${heartbeat.interval_unit}`;
    const last = heartbeat.last_ping_at
      ? `its last ping came at ${heartbeat.last_ping_at.toISOString()}`
      : 'it has not been pinged yet';
    const { alert } = await alerts.create(
      systemPrincipal(heartbeat.org_id),
      randomUUID(),
      {
        message: heartbeat.alert_message.trim() || `${heartbeat.name} is expired`,
        alias: heartbeatAlias(heartbeat),
        description: `Heartbeat ${heartbeat.name} expects a ping at least every ${every}; ${last}. It expired at ${now.toISOString()}. A ping closes this alert.`,
        source: HEARTBEAT_SOURCE,
        tags: heartbeat.alert_tags,
        priority: heartbeat.alert_priority,
        details: { heartbeat: heartbeat.name },
      },
      {
        tx,
        actor: HEARTBEAT_ACTOR,
        resolvedResponders: heartbeat.owner_team_id ? [{ type: 'team', id: heartbeat.owner_team_id }] : [],
        systemAlias: true,
      },
    );
    return repo.update(tx, heartbeat.id, { expired: true, expires_at: null, alert_id: alert.id });
  }

  return {
    /** The organization's heartbeats `p` reaches: an integration's key only its owner team's. */
    async list(p: Principal) {
      const rows = await repo.list(db, p.orgId);
      return rows.filter((row) => reachesTeamConfiguration(p, row.owner_team_id));
    },

    get: (p: Principal, name: string) => load(p, name),

    async create(p: Principal, input: HeartbeatInput): Promise<HeartbeatWithTeam> {
      checkInterval(input.interval, input.intervalUnit);
      const ownerTeamId = (await ownerTeamOf(p, input.ownerTeam)) ?? null;
      await requireManager(p, ownerTeamId);
      const now = clock.now();
      const enabled = input.enabled ?? false;
      let row: HeartbeatRow;
      try {
        row = await repo.insert(db, {
          org_id: p.orgId,
          name: input.name,
          description: input.description ?? '',
          interval_amount: input.interval,
          interval_unit: input.intervalUnit,
          enabled,
          owner_team_id: ownerTeamId,
          alert_message: input.alertMessage ?? '',
          alert_tags: [...new Set(input.alertTags ?? [])],
          alert_priority: input.alertPriority ?? 'P3',
          watch_from: enabled ? now : null,
          expires_at: enabled
            ? new Date(now.getTime() + intervalMs(input.interval, input.intervalUnit))
            : null,
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(`Heartbeat with name [${input.name}] already exists.`);
        throw error;
      }
      if (enabled) wake(QUEUES.heartbeats);
      return load(p, row.name);
    },

    /**
     * Opsgenie's partial update: what is given changes, the rest stays. A new interval counts from the
     * last ping (or the enabling), so a shorter one may make the heartbeat expire at once.
     */
    async update(p: Principal, name: string, changes: HeartbeatChanges): Promise<HeartbeatWithTeam> {
      const newOwner = await ownerTeamOf(p, changes.ownerTeam);
      await db.transaction().execute(async (tx) => {
        const current = await repo.lock(tx, p.orgId, name);
        if (!current) throw missing(name);
        await requireManager(p, current.owner_team_id);
        if (newOwner !== undefined && newOwner !== current.owner_team_id) await requireManager(p, newOwner);
        const interval = changes.interval ?? current.interval_amount;
        const unit = changes.intervalUnit ?? current.interval_unit;
        checkInterval(interval, unit);
        const enabled = changes.enabled ?? current.enabled;
        const now = clock.now();
        const watchFrom = !enabled ? null : current.enabled ? (current.watch_from ?? now) : now;
        const expired = enabled && !current.enabled ? false : current.expired;
        await repo.update(tx, current.id, {
          ...(changes.description !== undefined ? { description: changes.description } : {}),
          interval_amount: interval,
          interval_unit: unit,
          enabled,
          ...(newOwner !== undefined ? { owner_team_id: newOwner } : {}),
          ...(changes.alertMessage !== undefined ? { alert_message: changes.alertMessage } : {}),
          ...(changes.alertTags !== undefined ? { alert_tags: [...new Set(changes.alertTags)] } : {}),
          ...(changes.alertPriority !== undefined ? { alert_priority: changes.alertPriority } : {}),
          watch_from: watchFrom,
          expired,
          expires_at:
            watchFrom && !expired ? new Date(watchFrom.getTime() + intervalMs(interval, unit)) : null,
        });
      });
      wake(QUEUES.heartbeats);
      return load(p, name);
    },

    /**
     * Deletes the heartbeat. The alert of an expiry it still has open is closed first: only a ping of this
     * heartbeat closes it, and once the heartbeat is gone nothing can ping it, so it would stay open for good.
     */
    async remove(p: Principal, name: string): Promise<void> {
      const closed = await db.transaction().execute(async (tx) => {
        const current = await repo.lock(tx, p.orgId, name);
        if (!current) throw missing(name);
        requireReachesTeamConfiguration(p, current.owner_team_id, `heartbeat with name [${name}]`);
        await requireManager(p, current.owner_team_id);
        const closed = await closeAlertOf(
          tx,
          current,
          `Heartbeat ${current.name} was deleted at ${clock.now().toISOString()}: nothing watches it any more, and no ping can close this alert.`,
        );
        await repo.delete(tx, current.id);
        return closed ? current : undefined;
      });
      if (closed) {
        log?.info(
          { heartbeat: closed.name, orgId: closed.org_id, alertId: closed.alert_id },
          'closed the open alert of a deleted heartbeat: no ping could close it any more',
        );
      }
      // Its expiry, if one was due, is gone: the queue looks again for the next.
      wake(QUEUES.heartbeats, ...(closed ? [QUEUES.alertEvents] : []));
    },

    /** Enables (the wait for a ping starts now, and an earlier expiry is forgotten) or disables it. */
    async setEnabled(p: Principal, name: string, enabled: boolean): Promise<HeartbeatRow> {
      const row = await db.transaction().execute(async (tx) => {
        const current = await repo.lock(tx, p.orgId, name);
        if (!current) throw missing(name);
        await requireManager(p, current.owner_team_id);
        if (current.enabled === enabled) return current;
        const now = clock.now();
        return repo.update(
          tx,
          current.id,
          enabled
            ? {
                enabled: true,
                expired: false,
                watch_from: now,
                expires_at: new Date(
                  now.getTime() + intervalMs(current.interval_amount, current.interval_unit),
                ),
              }
            : { enabled: false, watch_from: null, expires_at: null },
        );
      });
      wake(QUEUES.heartbeats);
      return row;
    },

    /**
     * A ping: the heartbeat is alive. Its wait starts again (when enabled), it is no longer expired, and
     * the alert its expiry raised is closed with a note. Any API integration's key may ping, as in
     * Opsgenie: the importer moves Opsgenie's global keys (the Default API's, which cron jobs ping with)
     * into one team, and they must go on pinging every heartbeat. So may users and admins, but not a
     * holder of a custom role without alert-close (an observer's or stakeholder's, unless it grants it):
     * the ping closes an alert of any team, which their own key must not do by another route.
     */
    async ping(p: Principal, name: string): Promise<void> {
      const closed = await db.transaction().execute(async (tx) => {
        await requireUserRight(
          tx,
          p,
          'alert-close',
          "ping heartbeats (a ping closes the alert of the heartbeat's expiry)",
        );
        const current = await repo.lock(tx, p.orgId, name);
        if (!current) throw missing(name);
        const now = clock.now();
        const closed = await closeAlertOf(
          tx,
          current,
          `Heartbeat ${current.name} was pinged at ${now.toISOString()}: it is alive again.`,
        );
        await repo.update(tx, current.id, {
          last_ping_at: now,
          expired: false,
          alert_id: null,
          ...(current.enabled
            ? {
                watch_from: now,
                expires_at: new Date(
                  now.getTime() + intervalMs(current.interval_amount, current.interval_unit),
                ),
              }
            : {}),
        });
        return closed;
      });
      wake(QUEUES.heartbeats, ...(closed ? [QUEUES.alertEvents] : []));
    },

    /**
     * Expires the heartbeats due at `now` (the `heartbeats` queue): each raises one alert, in the
     * transaction that claims it, so a crash raises nothing and another worker never raises it twice.
     * One that cannot raise its alert is logged and looked at again a minute later, apart from the others.
     */
    async expireDue(now: Date, limit: number): Promise<number> {
      const raised = await db.transaction().execute(async (tx) => {
        const due = await repo.claimDue(tx, now, limit);
        let raised = 0;
        for (const heartbeat of due) {
          const outcome = await withSavepoint(tx, () => raise(tx, heartbeat, now));
          if (outcome.ok) {
            raised++;
            continue;
          }
          log?.error(
            { err: outcome.error, heartbeat: heartbeat.name, orgId: heartbeat.org_id },
            'a heartbeat expired but its alert could not be raised; trying again in a minute',
          );
          await repo.update(tx, heartbeat.id, { expires_at: new Date(now.getTime() + 60_000) });
        }
        return { claimed: due.length, raised };
      });
      if (raised.raised > 0) wake(QUEUES.alertEvents);
      return raised.claimed;
    },

    nextExpiry: () => repo.nextExpiry(db),
  };
}

export type HeartbeatsService = ReturnType<typeof createHeartbeatsService>;
