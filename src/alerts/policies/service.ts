import { accountsRepository } from '../../accounts/repository.js';
import { requireOrgAdmin, type Principal } from '../../accounts/service.js';
import { requireTeamRight, type TeamRight } from '../../accounts/team-rights.js';
import { isUniqueViolation, type Db } from '../../db/database.js';
import { conflict, invalidField, notFound } from '../../errors.js';
import { parseCriteria, POLICY_CONDITIONS } from '../../oncall/conditions.js';
import type { Criteria } from '../../oncall/model.js';
import { requireReachesResponder, resolveResponder } from '../responders.js';
import type { AlertPolicySource } from '../service.js';
import type { ShapingRule } from '../shaping/shape.js';
import { maintenanceRepository, type PolicyRuleWindow } from '../../maintenance/repository.js';
import { policyOnAt } from '../../maintenance/service.js';
import type { Clock } from '../../work/clock.js';
import {
  parsePolicy,
  policyRule,
  presentFilter,
  type PolicyBody,
  type PolicyChanges,
  type PolicyResponder,
} from './model.js';
import { policiesRepository as repo, type PolicyRow } from './repository.js';
import { requireReachesTeamConfiguration } from '../../integrations/principal.js';
import { appliesAt, timingValues, type PolicyTiming } from './timing.js';

/**
 * Alert policies: managing them (global ones by organization admins, a team's by its admins too), and the
 * rules alert creation runs, cached per organization so that a create costs no query for them. A policy a
 * maintenance disables (maintenance/) does not run while that maintenance is active (a disabled one a
 * maintenance enables does), nor one whose time restrictions (timing.ts) the create falls outside: the
 * windows are read with the policies and compared with the Clock on every create, so a window opens and
 * closes on time without another read.
 */

/**
 * How long a process trusts the policies and maintenances it read; changes made through this process
 * (to a policy, or to a maintenance: it calls {@link forget}) apply at once, those made through another
 * process once this runs out, at most this long later. A window already read opens and closes on time.
 * Nothing else of policies and maintenance is cached: the engine reads notification policies and their
 * windows in each transaction, and what a maintenance ends when it opens (holds, auto-restarts) is done
 * in the database, so those are right in every process at once.
 */
const CACHE_MS = 5_000;

/** A policy's rule, when it runs, and the maintenances (not over when read) that turn it off or on. */
interface PolicyEntry {
  rule: ShapingRule;
  timing: PolicyTiming;
  enabled: boolean;
  maintenances: PolicyRuleWindow[];
}

interface OrgRules {
  global: PolicyEntry[];
  byTeam: Map<string, PolicyEntry[]>;
}

export function createAlertPoliciesService(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;
  const cache = new Map<string, { rules: OrgRules; until: number }>();
  const loading = new Map<string, Promise<OrgRules>>();
  const forget = (orgId: string) => {
    cache.delete(orgId);
    loading.delete(orgId);
  };

  function ruleOf(row: PolicyRow): ShapingRule {
    let filter: Criteria;
    try {
      filter = parseCriteria(row.filter, 'filter', { ...POLICY_CONDITIONS, stored: true });
    } catch {
      // Checked when saved; a filter that no longer parses matches nothing.
      filter = { type: 'match-any-condition', conditions: [] };
    }
    return policyRule(row.name, filter, row.modifications as unknown as PolicyChanges, row.continue);
  }

  async function load(orgId: string): Promise<OrgRules> {
    const now = clock.now();
    const [rows, windows] = await Promise.all([
      repo.runnable(db, orgId, 'alert', now),
      maintenanceRepository.policyWindows(db, orgId, now),
    ]);
    const windowsOf = new Map<string, PolicyRuleWindow[]>();
    for (const { policy_id, ...window } of windows) {
      windowsOf.set(policy_id, [...(windowsOf.get(policy_id) ?? []), window]);
    }
    const rules: OrgRules = { global: [], byTeam: new Map() };
    for (const row of rows) {
      const entry = {
        rule: ruleOf(row),
        timing: { timeRestriction: row.time_restriction, timezone: row.timezone },
        enabled: row.enabled,
        maintenances: windowsOf.get(row.id) ?? [],
      };
      if (row.team_id === null) rules.global.push(entry);
      else {
        const list = rules.byTeam.get(row.team_id) ?? [];
        list.push(entry);
        rules.byTeam.set(row.team_id, list);
      }
    }
    return rules;
  }

  async function orgRules(orgId: string): Promise<OrgRules> {
    const now = clock.now().getTime();
    const cached = cache.get(orgId);
    if (cached && cached.until > now) return cached.rules;
    // Creates arriving together while the cache is cold share one read.
    const pending = loading.get(orgId);
    if (pending) return pending;
    const started = load(orgId);
    loading.set(orgId, started);
    started.then(
      (rules) => {
        // A read the organization's policies or maintenances changed under (forget ran) is not kept.
        if (loading.get(orgId) !== started) return;
        loading.delete(orgId);
        if (cache.size > 10_000) cache.clear();
        cache.set(orgId, { rules, until: now + CACHE_MS });
      },
      () => {
        // A failed read is not remembered: the next create asks again.
        if (loading.get(orgId) === started) loading.delete(orgId);
      },
    );
    return started;
  }

  /**
   * The team a `teamId` names (null: the global policies); an unknown team is a 404, and a scope `p` does
   * not reach a 403 (an integration's key reaches only its owner team's policies, not the global ones).
   */
  async function scopeOf(p: Principal, teamId: string | undefined): Promise<string | null> {
    if (teamId === undefined || teamId === '') {
      requireReachesTeamConfiguration(p, null, 'an alert policy without teamId (a global one)');
      return null;
    }
    const team = await accountsRepository.findTeam(db, p.orgId, teamId, 'id');
    if (!team) throw notFound(`Team [${teamId}] does not exist.`);
    requireReachesTeamConfiguration(p, team.id, `team [${teamId}]`);
    return team.id;
  }

  /** `right`: what the change is, on the team's policies (a maintenance that turns them off, say). */
  async function requireEditor(
    p: Principal,
    teamId: string | null,
    right: TeamRight = 'edit-alert-policies',
  ) {
    if (teamId === null) requireOrgAdmin(p, "change the organization's alert policies");
    else
      await requireTeamRight(
        db,
        p,
        teamId,
        right,
        `Only organization admins and those of the team with the ${right} right (its admins) can change the team's alert policies.`,
      );
  }

  async function find(p: Principal, teamId: string | null, id: string): Promise<PolicyRow> {
    const row = await repo.get(db, p.orgId, teamId, id);
    if (!row)
      throw notFound(
        `Alert policy [${id}] does not exist${teamId ? ` in team [${teamId}]` : ' among the global policies'}.`,
      );
    return row;
  }

  /**
   * The body checked, its responders found now (a typo is a 422 here, not on every alert) and reached by
   * `p` unless `kept` (requireReachesResponder).
   */
  async function valuesOf(p: Principal, body: PolicyBody, kept: readonly PolicyResponder[] = []) {
    const parsed = parsePolicy(body);
    const responders = [];
    for (const [i, r] of parsed.changes.responders.entries()) {
      const resolved = await resolveResponder(db, p.orgId, r, `responders[${i}]`);
      requireReachesResponder(p, r, resolved, kept);
      responders.push({ ...r, id: resolved.ref.id });
    }
    return {
      name: parsed.name,
      policy_description: parsed.policyDescription,
      enabled: parsed.enabled,
      continue: parsed.continue,
      filter: JSON.stringify(presentFilter(parsed.filter)),
      modifications: JSON.stringify({ ...parsed.changes, responders }),
      ...timingValues(parsed.timing),
    };
  }

  async function saving<T>(orgId: string, name: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`Alert policy with name [${name}] already exists.`);
      throw error;
    } finally {
      forget(orgId);
    }
  }

  const source: AlertPolicySource = {
    async rulesFor(orgId, teamIds) {
      const rules = await orgRules(orgId);
      const now = clock.now();
      const runs = (entry: PolicyEntry) =>
        appliesAt(entry.timing, now) && policyOnAt(entry.enabled, entry.maintenances, now);
      const chain = (entries: PolicyEntry[]) => entries.filter(runs).map((entry) => entry.rule);
      // Opsgenie evaluates each scope on its own: the global policies, then each team's.
      const chains = [chain(rules.global)];
      for (const teamId of new Set(teamIds)) chains.push(chain(rules.byTeam.get(teamId) ?? []));
      return chains;
    },
  };

  return {
    /** What alert creation runs (AlertPolicySource). */
    source,

    /** Drops what this process read of the organization's policies: a maintenance on them changed. */
    forget,

    /** A policy of the organization, global or a team's (`teamId`), by its id alone; undefined if none. */
    async locate(p: Principal, id: string): Promise<{ id: string; teamId: string | null } | undefined> {
      const row = await repo.locate(db, p.orgId, id);
      return row ? { id: row.id, teamId: row.team_id } : undefined;
    },

    /** That `p` may change the policies of this scope (null: the global ones), as for editing them. */
    requireEditor,

    async create(p: Principal, teamId: string | undefined, body: PolicyBody): Promise<PolicyRow> {
      const scope = await scopeOf(p, teamId);
      await requireEditor(p, scope);
      const values = await valuesOf(p, body);
      const id = await saving(p.orgId, body.name, () => repo.insert(db, p.orgId, scope, values));
      return find(p, scope, id);
    },

    async get(p: Principal, teamId: string | undefined, id: string): Promise<PolicyRow> {
      return find(p, await scopeOf(p, teamId), id);
    },

    async list(p: Principal, teamId: string | undefined): Promise<PolicyRow[]> {
      return repo.list(db, p.orgId, await scopeOf(p, teamId));
    },

    /** Opsgenie's PUT: the policy becomes the body (its place in the order stays). */
    async update(p: Principal, teamId: string | undefined, id: string, body: PolicyBody): Promise<PolicyRow> {
      const scope = await scopeOf(p, teamId);
      const row = await find(p, scope, id);
      await requireEditor(p, scope);
      const stored = row.modifications.responders;
      const values = await valuesOf(p, body, Array.isArray(stored) ? (stored as PolicyResponder[]) : []);
      await saving(p.orgId, body.name, () => repo.update(db, row.id, values));
      return find(p, scope, id);
    },

    async delete(p: Principal, teamId: string | undefined, id: string): Promise<void> {
      const scope = await scopeOf(p, teamId);
      const row = await find(p, scope, id);
      await requireEditor(p, scope);
      await repo.delete(db, row.id);
      const rest = await repo.list(db, p.orgId, scope);
      await repo.renumber(
        db,
        rest.map((r) => r.id),
      );
      forget(p.orgId);
    },

    async setEnabled(p: Principal, teamId: string | undefined, id: string, enabled: boolean): Promise<void> {
      const scope = await scopeOf(p, teamId);
      const row = await find(p, scope, id);
      await requireEditor(p, scope);
      await repo.update(db, row.id, { enabled });
      forget(p.orgId);
    },

    /** Moves the policy to `targetIndex` (0 is first) within its scope; past the end means last. */
    async changeOrder(
      p: Principal,
      teamId: string | undefined,
      id: string,
      targetIndex: number,
    ): Promise<void> {
      const scope = await scopeOf(p, teamId);
      const row = await find(p, scope, id);
      await requireEditor(p, scope);
      if (targetIndex < 0) throw invalidField('targetIndex', 'must be 0 or more.');
      await db.transaction().execute(async (tx) => {
        const ids = (await repo.list(tx, p.orgId, scope)).map((r) => r.id).filter((x) => x !== row.id);
        ids.splice(Math.min(targetIndex, ids.length), 0, row.id);
        await repo.renumber(tx, ids);
      });
      forget(p.orgId);
    },
  };
}

export type AlertPoliciesService = ReturnType<typeof createAlertPoliciesService>;
