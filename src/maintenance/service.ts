import { customRoleOf, roleHolds, userRightRefusal } from '../accounts/custom-roles/rights.js';
import { requireOrgAdmin, type Principal } from '../accounts/service.js';
import type { TeamRight } from '../accounts/team-rights.js';
import type { Db, Queryable } from '../db/database.js';
import type { MaintenanceRow, MaintenanceTimeType } from '../db/schema.js';
import { conflict, invalidField, isDomainError, notFound } from '../errors.js';
import { reachesTeamConfiguration, requireReachesTeamConfiguration } from '../integrations/principal.js';
import type { IntegrationWithTeams } from '../integrations/repository.js';
import type { IntegrationsService } from '../integrations/service.js';
import type { Clock } from '../work/clock.js';
import { QUEUES } from '../work/queue-names.js';
import type { WorkSignal } from '../work/runner.js';
import {
  maintenanceRepository as repo,
  type MaintenanceFields,
  type MaintenanceListType,
  type MaintenanceRule,
  type MaintenanceWindow,
  type PolicyRuleWindow,
} from './repository.js';

/**
 * Maintenance, as Opsgenie's Maintenance API has it: for a while (a few minutes, an hour, until cancelled,
 * or a scheduled window), the integrations and alert policies its rules name are disabled, or, for a policy
 * whose rule's state is `enabled`, run though the policy is disabled. A disabled integration's deliveries are
 * answered and logged as ignored and its key is refused, as when its own switch is off; a disabled policy
 * does not run (on alert creation, or, a notification policy, on a team's escalation), an enabled one runs
 * as if its own switch were on. Their own switches are never touched: when the window closes (its end passes
 * on the Clock, or it is cancelled or deleted) they are as their switches say with nothing to undo.
 *
 * A window's status is worked out from its times and the Clock whenever it is read: the intake asks
 * {@link disabledBy} on every delivery, which a short cache answers, and the policies' own cache
 * (alerts/policies/) holds their windows, which {@link MaintenanceDeps.onChange} empties. What a notification
 * policy started and lasts only while it is on (its held alerts, its auto-restarts) ends when a window that
 * disables it opens, or one that ran it (disabled itself) closes, as when the policy is disabled: the
 * engine's `maintenance-openings` queue does that, at that time on the Clock, and is woken on every change
 * here so that it looks at once and learns the next such time.
 */

export const MAINTENANCE_TIME_TYPES = [
  'for-5-minutes',
  'for-30-minutes',
  'for-1-hour',
  'indefinitely',
  'schedule',
] as const satisfies readonly MaintenanceTimeType[];

export type MaintenanceStatus = 'planned' | 'active' | 'past' | 'cancelled';

const DURATION_MS: Partial<Record<MaintenanceTimeType, number>> = {
  'for-5-minutes': 5 * 60_000,
  'for-30-minutes': 30 * 60_000,
  'for-1-hour': 60 * 60_000,
};

/**
 * How long a process trusts what it read about an integration's maintenances, as long as it trusts an
 * integration's key: changes made through this process apply at once, those made through another within
 * this (of the Clock). A window's own start and end need no fresher read: they are compared with the Clock
 * on every ask.
 */
const WINDOWS_CACHE_MS = 5_000;

/** Entries the cache holds before it starts again (one per integration that delivered lately). */
const WINDOWS_CACHE_MAX = 10_000;

export interface MaintenanceTimeInput {
  type: MaintenanceTimeType;
  /** RFC 3339; read for `schedule` only. */
  startDate?: string;
  endDate?: string;
}

export interface MaintenanceRuleInput {
  state?: 'enabled' | 'disabled';
  entity: { id: string; type: 'integration' | 'policy' };
}

export interface MaintenanceInput {
  description?: string;
  time: MaintenanceTimeInput;
  rules: MaintenanceRuleInput[];
}

/** What a change gives: the rest stays. A time without a type moves the dates of a schedule. */
export interface MaintenanceChanges {
  description?: string;
  time?: Partial<MaintenanceTimeInput>;
  rules?: MaintenanceRuleInput[];
}

export interface MaintenanceWithRules {
  row: MaintenanceRow;
  rules: MaintenanceRule[];
}

/** What maintenance needs of alert policies (alerts/policies/service.ts). */
export interface MaintainedPolicies {
  /** A policy of the organization, global (teamId null) or a team's; undefined when there is none. */
  locate(p: Principal, id: string): Promise<{ id: string; teamId: string | null } | undefined>;
  /** That `p` holds `right` on the policies of this scope (org admins for the global ones; a 403 otherwise). */
  requireEditor(p: Principal, teamId: string | null, right: TeamRight): Promise<void>;
}

export interface MaintenanceDeps {
  db: Db;
  clock: Clock;
  integrations: IntegrationsService;
  policies: MaintainedPolicies;
  /** Told after a maintenance of the organization was created, changed, cancelled or deleted. */
  onChange?: (orgId: string) => void;
  /** Wakes the queue that ends what a notification policy started once a maintenance on it opens. */
  signal?: WorkSignal;
}

export function statusAt(
  row: Pick<MaintenanceRow, 'start_at' | 'end_at' | 'cancelled_at'>,
  now: Date,
): MaintenanceStatus {
  if (row.cancelled_at) return 'cancelled';
  if (now < row.start_at) return 'planned';
  if (row.end_at && row.end_at <= now) return 'past';
  return 'active';
}

/** Whether a maintenance window disables (or runs) what it names at `now`. */
export function isOpenAt(window: Pick<MaintenanceWindow, 'start_at' | 'end_at'>, now: Date): boolean {
  return window.start_at <= now && (window.end_at === null || now < window.end_at);
}

/**
 * Whether a policy (`enabled`: its own switch) runs at `now`, given its maintenance windows. A window that
 * disables it wins over one that runs it: two maintenances at odds leave the policy off, as it is while
 * anyone's maintenance says so.
 */
export function policyOnAt(
  enabled: boolean,
  windows: readonly Pick<PolicyRuleWindow, 'start_at' | 'end_at' | 'state'>[],
  now: Date,
): boolean {
  const open = windows.filter((w) => isOpenAt(w, now));
  if (open.some((w) => w.state === 'disabled')) return false;
  return enabled || open.some((w) => w.state === 'enabled');
}

/** A maintenance's time in Opsgenie's shape: an indefinite one has no end. */
export function presentTime(row: MaintenanceRow) {
  return {
    type: row.time_type,
    startDate: row.start_at.toISOString(),
    ...(row.end_at ? { endDate: row.end_at.toISOString() } : {}),
  };
}

/** What create, update and the list answer: Opsgenie's MaintenanceMeta. */
export function presentMaintenanceMeta(row: MaintenanceRow, now: Date) {
  return {
    id: row.id,
    status: statusAt(row, now),
    time: presentTime(row),
    description: row.description,
  };
}

/** GET /v1/maintenance/{id}: the meta and its rules. */
export function presentMaintenance(m: MaintenanceWithRules, now: Date) {
  return {
    ...presentMaintenanceMeta(m.row, now),
    rules: m.rules.map(({ id, type, state }) => ({ state, entity: { id, type } })),
  };
}

/** Why a delivery or a key is turned away: names the maintenance, and until when. */
function disabledPhrase(window: MaintenanceWindow): string {
  const what = window.description.trim() ? ` ("${window.description.trim().slice(0, 200)}")` : '';
  const until = window.end_at ? `until ${window.end_at.toISOString()}` : 'until it is cancelled';
  return `disabled by maintenance ${window.id}${what} ${until}`;
}

/**
 * The window a time gives, at `now`. On a change, `current` is the maintenance as it is: a started one
 * keeps its start (only its end may move), and dates a schedule leaves out stay as they were.
 */
function windowOf(
  time: Partial<MaintenanceTimeInput>,
  now: Date,
  current?: MaintenanceRow,
): Pick<MaintenanceFields, 'time_type' | 'start_at' | 'end_at'> {
  const started = current !== undefined && current.start_at <= now;
  // Moving only the dates makes the window a schedule: "for-1-hour" with another end would say otherwise.
  const type = time.type ?? 'schedule';
  let start: Date | undefined;
  let end: Date | null | undefined;
  const duration = DURATION_MS[type];
  if (type === 'schedule') {
    start = time.startDate !== undefined ? new Date(time.startDate) : current?.start_at;
    end = time.endDate !== undefined ? new Date(time.endDate) : (current?.end_at ?? undefined);
    if (!start) throw invalidField('time.startDate', 'is required for a maintenance of type schedule.');
    if (!end) throw invalidField('time.endDate', 'is required for a maintenance of type schedule.');
    if (started && start.getTime() !== current.start_at.getTime()) {
      throw invalidField(
        'time.startDate',
        `the maintenance started at ${current.start_at.toISOString()}, so its start can no longer change: change its end, or cancel it and create another.`,
      );
    }
  } else {
    // A started maintenance given a duration lasts that long from now, and keeps its start.
    start = started ? current.start_at : now;
    end = duration !== undefined ? new Date(now.getTime() + duration) : null;
  }
  if (end !== null) {
    if (end <= start) {
      throw invalidField('time.endDate', `must be after time.startDate (${start.toISOString()}).`);
    }
    if (end <= now) {
      throw invalidField(
        'time.endDate',
        `${end.toISOString()} is not in the future, so the maintenance would never apply: give a later end (to end a maintenance now, cancel it).`,
      );
    }
  }
  return { time_type: type, start_at: start, end_at: end };
}

export function createMaintenanceService(deps: MaintenanceDeps) {
  const { db, clock, integrations, policies } = deps;

  // The intake asks on every delivery: a short cache per integration keeps that off the database. It holds
  // the promise, so a burst on a cold entry makes one query.
  const windowsCache = new Map<string, { windows: Promise<MaintenanceWindow[]>; until: number }>();
  const forget = (orgId: string) => {
    windowsCache.clear();
    deps.onChange?.(orgId);
    deps.signal?.wake(QUEUES.maintenanceOpenings);
  };

  const missing = (id: string) => notFound(`Maintenance with id [${id}] does not exist.`);

  /**
   * The teams that own what each maintenance names: a maintenance is its teams' configuration, and one
   * whose rules are all gone is no team's (an org admin's, as `requireManagesEach` has it).
   */
  async function ownersOf(q: Queryable, ids: readonly string[]): Promise<(id: string) => (string | null)[]> {
    const owners = await repo.ownerTeamsOf(q, ids);
    return (id) => owners.get(id) ?? [null];
  }

  /**
   * An integration's key reaches only its owner team's configuration: a 403 as for a heartbeat, when any
   * rule of the maintenance names another team's integration or policy (or one no team owns). Asked as
   * soon as the maintenance is read, before any check on its rules: those name what they refuse, and
   * would tell a key that may not read the maintenance which of another team's integrations it holds.
   */
  async function requireReaches(q: Queryable, p: Principal, id: string, row: MaintenanceRow): Promise<void> {
    if (!p.integration) return;
    for (const team of (await ownersOf(q, [row.id]))(row.id))
      requireReachesTeamConfiguration(p, team, `maintenance with id [${id}]`);
  }

  async function load(p: Principal, id: string): Promise<MaintenanceWithRules> {
    const row = await repo.find(db, p.orgId, id);
    if (!row) throw missing(id);
    await requireReaches(db, p, id, row);
    return { row, rules: await repo.rulesOf(db, row.id) };
  }

  /** The integration a rule names, or a 422 on the rule. */
  async function integrationOfRule(p: Principal, i: number, id: string): Promise<IntegrationWithTeams> {
    try {
      return await integrations.get(p, id);
    } catch (error) {
      if (!isDomainError(error, 'not-found')) throw error;
      throw invalidField(`rules[${i}].entity.id`, `Integration [${id}] does not exist in this organization.`);
    }
  }

  /**
   * The integrations and policies the rules name, in their order (each once), each one `p` may put in
   * maintenance: org admins any; those with the edit-maintenance right on a team (its admins) the team's
   * integrations and policies.
   */
  async function entitiesOfRules(p: Principal, rules: MaintenanceRuleInput[]): Promise<MaintenanceRule[]> {
    const found: MaintenanceRule[] = [];
    const checks: (() => Promise<void>)[] = [];
    for (const [i, rule] of rules.entries()) {
      const { type } = rule.entity;
      // Opsgenie's default, and what an integration rule must be: an integration has nothing to switch on.
      const state = rule.state ?? 'disabled';
      if (type === 'integration' && state === 'enabled') {
        throw invalidField(
          `rules[${i}].state`,
          'a maintenance can only disable an integration: give "disabled" or leave state out (state "enabled" is for policy rules: the policy runs while the maintenance is active).',
        );
      }
      let id: string;
      if (type === 'policy') {
        const policy = await policies.locate(p, rule.entity.id);
        if (!policy) {
          throw invalidField(
            `rules[${i}].entity.id`,
            `Alert policy [${rule.entity.id}] does not exist in this organization (neither global nor a team's).`,
          );
        }
        id = policy.id;
        checks.push(() => policies.requireEditor(p, policy.teamId, 'edit-maintenance'));
      } else {
        const integration = await integrationOfRule(p, i, rule.entity.id);
        id = integration.id;
        checks.push(() => integrations.requireManages(p, integration, 'edit-maintenance'));
      }
      const given = found.findIndex((f) => f.type === type && f.id === id);
      if (given === -1) found.push({ type, id, state });
      else if (found[given]?.state !== state) {
        // Which of the two was meant cannot be guessed, and keeping either would quietly drop the other.
        throw invalidField(
          `rules[${i}].state`,
          `the policy [${rule.entity.id}] has a rule with state "${found[given]?.state}" already: a maintenance either runs a policy or disables it, so give one rule for it.`,
        );
      }
    }
    // Every rule is checked to exist before any is refused to `p`, so a typo reads as a typo.
    await asMaintainer(p, async () => {
      for (const check of checks) await check();
    });
    return found;
  }

  /**
   * Runs `checkTeams`, the check of `p`'s team rights on what a maintenance disables, unless a custom
   * user role of `p` holds maintenance-edit: that gives every maintenance of the organization, as org
   * admins have it. A holder refused by their teams is told the role's right would allow it.
   */
  async function asMaintainer(p: Principal, checkTeams: () => Promise<void>): Promise<void> {
    const role = await customRoleOf(db, p);
    if (role && roleHolds(role, 'maintenance-edit')) return;
    try {
      await checkTeams();
    } catch (error) {
      if (role && isDomainError(error, 'forbidden')) {
        throw userRightRefusal(
          role,
          'maintenance-edit',
          'maintain integrations and alert policies of teams where you lack edit-maintenance',
        );
      }
      throw error;
    }
  }

  /**
   * That `p` may change a maintenance: it must hold edit-maintenance on the team of every integration and
   * policy the maintenance disables. One left without any (they were deleted) is for org admins.
   */
  async function requireManagesAll(p: Principal, rules: MaintenanceRule[]): Promise<void> {
    await asMaintainer(p, () => requireManagesEach(p, rules));
  }

  async function requireManagesEach(p: Principal, rules: MaintenanceRule[]): Promise<void> {
    if (rules.length === 0) {
      requireOrgAdmin(p, 'change a maintenance that no longer disables any integration or alert policy');
      return;
    }
    for (const rule of rules) {
      if (rule.type === 'policy') {
        const policy = await policies.locate(p, rule.id);
        // Deleted since it was read: nothing of it left to protect.
        if (policy) await policies.requireEditor(p, policy.teamId, 'edit-maintenance');
        continue;
      }
      let integration: IntegrationWithTeams;
      try {
        integration = await integrations.get(p, rule.id);
      } catch (error) {
        if (isDomainError(error, 'not-found')) continue;
        throw error;
      }
      await integrations.requireManages(p, integration, 'edit-maintenance');
    }
  }

  async function windowsOf(integrationId: string): Promise<MaintenanceWindow[]> {
    // On the Clock, like the key caches it goes with, so a test moves past it instead of waiting.
    const now = clock.now();
    const t = now.getTime();
    const cached = windowsCache.get(integrationId);
    if (cached && cached.until > t) return cached.windows;
    const windows = repo.windowsOf(db, integrationId, now);
    if (windowsCache.size >= WINDOWS_CACHE_MAX) windowsCache.clear();
    windowsCache.set(integrationId, { windows, until: t + WINDOWS_CACHE_MS });
    // A failed read is not remembered: the next delivery asks again.
    windows.catch(() => {
      if (windowsCache.get(integrationId)?.windows === windows) windowsCache.delete(integrationId);
    });
    return windows;
  }

  /** Applies a change to a planned or active maintenance, in one transaction with its row locked. */
  async function change(
    p: Principal,
    id: string,
    changes: MaintenanceChanges,
  ): Promise<{ row: MaintenanceRow; now: Date }> {
    const newRules = changes.rules ? await entitiesOfRules(p, changes.rules) : undefined;
    const result = await db.transaction().execute(async (tx) => {
      const current = await repo.lock(tx, p.orgId, id);
      if (!current) throw missing(id);
      await requireReaches(tx, p, id, current);
      await requireManagesAll(p, await repo.rulesOf(tx, current.id));
      const now = clock.now();
      const status = statusAt(current, now);
      if (status === 'past' || status === 'cancelled') {
        throw conflict(
          `Maintenance with id [${id}] is ${status}, so it can no longer change: create another instead.`,
        );
      }
      const window =
        changes.time && Object.keys(changes.time).length > 0 ? windowOf(changes.time, now, current) : {};
      await repo.update(tx, current.id, {
        ...(changes.description !== undefined ? { description: changes.description } : {}),
        ...window,
      });
      if (newRules) await repo.replaceRules(tx, current.id, newRules);
      const row = await repo.find(tx, p.orgId, current.id);
      if (!row) throw missing(id);
      return { row, now };
    });
    forget(p.orgId);
    return result;
  }

  return {
    async create(p: Principal, input: MaintenanceInput): Promise<{ row: MaintenanceRow; now: Date }> {
      const now = clock.now();
      const window = windowOf(input.time, now);
      const rules = await entitiesOfRules(p, input.rules);
      const row = await db.transaction().execute(async (tx) => {
        const id = await repo.insert(tx, p.orgId, { description: input.description ?? '', ...window }, rules);
        const row = await repo.find(tx, p.orgId, id);
        if (!row) throw missing(id);
        return row;
      });
      forget(p.orgId);
      return { row, now };
    },

    async list(p: Principal, type: MaintenanceListType) {
      const now = clock.now();
      const rows = await repo.list(db, p.orgId, type, now);
      if (!p.integration) return { rows, now };
      // An integration's key lists only the maintenances all of whose rules its owner team owns.
      const owners = await ownersOf(
        db,
        rows.map((row) => row.id),
      );
      return {
        rows: rows.filter((row) => owners(row.id).every((team) => reachesTeamConfiguration(p, team))),
        now,
      };
    },

    async get(p: Principal, id: string) {
      return { maintenance: await load(p, id), now: clock.now() };
    },

    /** Opsgenie's update (PUT) and the partial one (PATCH): what is given changes. */
    update: change,

    /** Opsgenie's change-end-date: a new end for a planned or active maintenance. */
    changeEnd: (p: Principal, id: string, endDate: string) => change(p, id, { time: { endDate } }),

    /**
     * Ends a planned or active maintenance now: its integrations and policies work again at once. One already over
     * (past or cancelled) stays as it is, so a pipeline's clean-up step does not fail when its window ran
     * out first.
     */
    async cancel(p: Principal, id: string): Promise<void> {
      await db.transaction().execute(async (tx) => {
        const current = await repo.lock(tx, p.orgId, id);
        if (!current) throw missing(id);
        await requireReaches(tx, p, id, current);
        await requireManagesAll(p, await repo.rulesOf(tx, current.id));
        const now = clock.now();
        const status = statusAt(current, now);
        if (status === 'planned' || status === 'active') {
          await repo.update(tx, current.id, { cancelled_at: now });
        }
      });
      forget(p.orgId);
    },

    async remove(p: Principal, id: string): Promise<void> {
      const { row, rules } = await load(p, id);
      await requireManagesAll(p, rules);
      await repo.delete(db, row.id);
      forget(p.orgId);
    },

    /**
     * When a maintenance disables the integration now, why (naming the maintenance and until when), to be
     * read after "the integration is" or "integration [name] is"; otherwise undefined.
     */
    async disabledBy(integrationId: string): Promise<string | undefined> {
      const windows = await windowsOf(integrationId);
      const now = clock.now();
      // Of the windows open now, the one that lasts longest says when the integration works again.
      const endOf = (w: MaintenanceWindow) => w.end_at?.getTime() ?? Number.POSITIVE_INFINITY;
      let longest: MaintenanceWindow | undefined;
      for (const w of windows) {
        if (isOpenAt(w, now) && (!longest || endOf(w) > endOf(longest))) longest = w;
      }
      return longest ? disabledPhrase(longest) : undefined;
    },
  };
}

export type MaintenanceService = ReturnType<typeof createMaintenanceService>;
