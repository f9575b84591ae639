import { accountsRepository } from '../../accounts/repository.js';
import type { Principal } from '../../accounts/service.js';
import { requireTeamRight } from '../../accounts/team-rights.js';
import { lockNames } from '../../db/advisory-locks.js';
import { isUniqueViolation, type Db, type Queryable, type Tx } from '../../db/database.js';
import { autoClosesRepository } from '../../engine/auto-close.js';
import { autoRestartsRepository } from '../../engine/auto-restart.js';
import {
  notificationHoldsRepository,
  policyLockName,
  sameDeduplication,
} from '../../engine/notification-holds.js';
import { conflict, invalidField, notFound } from '../../errors.js';
import type { Clock } from '../../work/clock.js';
import { presentFilter } from './model.js';
import {
  parseNotificationPolicy,
  type AnyPolicyBody,
  type NotificationActions,
} from './notification-model.js';
import { policiesRepository as repo, type PolicyRow } from './repository.js';
import { timingValues } from './timing.js';
import { requireReachesTeamConfiguration } from '../../integrations/principal.js';

/**
 * Managing notification policies: always a team's (`teamId` is required, as in Opsgenie), changed by
 * organization admins and the team's admins. They are rows of `alert_policies` of type `notification`,
 * ordered apart from the team's alert policies. The engine reads them itself, once per batch of alert
 * events (engine/escalation/notification-policies.ts): there is no cache here to empty. What a policy
 * started lasts only while it still does that: in the transaction that deletes or disables it, or removes
 * its deduplicationAction, the notifications it holds are let go (through the engine, which starts those
 * escalations), its pending auto-restarts are dropped once it no longer has an autoRestartAction, and its
 * pending auto-closes once it no longer has an autoCloseAction. A new deduplicationAction (count, window or
 * kind) has the engine look again at the alerts it holds: those that occurred often enough for it go out.
 * A change of what the engine reads of a policy (an update, enabling or disabling it, deleting it) takes
 * the policy's advisory lock first (notification-holds.ts, policyLockName), which the engine takes shared
 * before it holds an alert by the policy; a change of the order does not, and never waits for the engine.
 */
export function createNotificationPoliciesService(deps: { db: Db; clock: Clock }) {
  const { db, clock } = deps;

  async function teamOf(p: Principal, teamId: string | undefined): Promise<string> {
    if (teamId === undefined || teamId === '')
      throw invalidField('teamId', 'Notification policies belong to a team: give its teamId.');
    const team = await accountsRepository.findTeam(db, p.orgId, teamId, 'id');
    if (!team) throw notFound(`Team [${teamId}] does not exist.`);
    requireReachesTeamConfiguration(p, team.id, `team [${teamId}]`);
    return team.id;
  }

  const requireEditor = (p: Principal, teamId: string) =>
    requireTeamRight(
      db,
      p,
      teamId,
      'edit-notification-policies',
      "Only organization admins and those of the team with the edit-notification-policies right (its admins) can change the team's notification policies.",
    );

  async function find(p: Principal, teamId: string, id: string): Promise<PolicyRow> {
    const row = await repo.get(db, p.orgId, teamId, id, 'notification');
    if (!row) throw notFound(`Notification policy [${id}] does not exist in team [${teamId}].`);
    return row;
  }

  function valuesOf(body: AnyPolicyBody) {
    const parsed = parseNotificationPolicy(body);
    return {
      actions: parsed.actions,
      values: {
        name: parsed.name,
        policy_description: parsed.policyDescription,
        enabled: parsed.enabled,
        continue: false,
        filter: JSON.stringify(presentFilter(parsed.filter)),
        modifications: '{}',
        notification_actions: JSON.stringify(parsed.actions),
        ...timingValues(parsed.timing),
      },
    };
  }

  async function saving<T>(name: string, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`Notification policy with name [${name}] already exists.`);
      throw error;
    }
  }

  /**
   * The policy's row as it is, for a change of it in `tx`: its advisory lock taken first (so that the
   * engine, which takes it shared before it holds an alert by the policy, has either committed the hold
   * that releasePolicy then finds or will read the change), then the row, locked, read again: what the
   * change is compared with (letGo). A 404 once it is gone.
   */
  async function lockForChange(tx: Tx, teamId: string, row: PolicyRow): Promise<PolicyRow> {
    await lockNames(tx, [policyLockName(row.id)]);
    const locked = await repo.lockRow(tx, row.id);
    if (!locked) throw notFound(`Notification policy [${row.id}] does not exist in team [${teamId}].`);
    return locked;
  }

  /**
   * Lets go of what the policy started that it no longer does (`after`: undefined once deleted), and has the
   * engine look again at the alerts it holds when their deduplicationAction changed. `row` is the policy as
   * it was, read in `q`'s transaction by lockForChange; called once the row is changed there.
   */
  async function letGo(
    q: Queryable,
    row: PolicyRow,
    after: { enabled: boolean; actions: NotificationActions } | undefined,
  ) {
    if (
      !after?.enabled ||
      !after.actions.deduplicationAction ||
      !sameDeduplication(actionsOf(row).deduplicationAction, after.actions.deduplicationAction)
    )
      await notificationHoldsRepository.releasePolicy(q, row.id, row.name, clock.toSystemTime(clock.now()));
    if (!after?.enabled || !after.actions.autoRestartAction)
      await autoRestartsRepository.dropPolicy(q, row.id);
    if (!after?.enabled || !after.actions.autoCloseAction) await autoClosesRepository.dropPolicy(q, row.id);
  }

  const actionsOf = (row: PolicyRow) => (row.notification_actions ?? {}) as unknown as NotificationActions;

  async function renumber(orgId: string, teamId: string, moved?: { id: string; index: number }) {
    await db.transaction().execute(async (tx) => {
      const ids = (await repo.list(tx, orgId, teamId, 'notification')).map((r) => r.id);
      if (moved) {
        const rest = ids.filter((x) => x !== moved.id);
        rest.splice(Math.min(moved.index, rest.length), 0, moved.id);
        await repo.renumber(tx, rest);
      } else await repo.renumber(tx, ids);
    });
  }

  return {
    /** Whether `id` is a notification policy of the team `teamId` names (the routes dispatch on it). */
    async owns(p: Principal, teamId: string | undefined, id: string): Promise<boolean> {
      if (teamId === undefined || teamId === '') return false;
      const team = await accountsRepository.findTeam(db, p.orgId, teamId, 'id');
      return team ? (await repo.get(db, p.orgId, team.id, id, 'notification')) !== undefined : false;
    },

    async create(p: Principal, teamId: string | undefined, body: AnyPolicyBody): Promise<PolicyRow> {
      const team = await teamOf(p, teamId);
      await requireEditor(p, team);
      const { values } = valuesOf(body);
      const id = await saving(body.name, () => repo.insert(db, p.orgId, team, values, 'notification'));
      return find(p, team, id);
    },

    async list(p: Principal, teamId: string | undefined): Promise<PolicyRow[]> {
      return repo.list(db, p.orgId, await teamOf(p, teamId), 'notification');
    },

    async get(p: Principal, teamId: string | undefined, id: string): Promise<PolicyRow> {
      return find(p, await teamOf(p, teamId), id);
    },

    async update(p: Principal, teamId: string | undefined, id: string, body: AnyPolicyBody) {
      const team = await teamOf(p, teamId);
      const row = await find(p, team, id);
      await requireEditor(p, team);
      const { values, actions } = valuesOf(body);
      await saving(body.name, () =>
        db.transaction().execute(async (tx) => {
          const before = await lockForChange(tx, team, row);
          await repo.update(tx, row.id, values);
          await letGo(tx, before, { enabled: values.enabled, actions });
        }),
      );
      return find(p, team, id);
    },

    async delete(p: Principal, teamId: string | undefined, id: string): Promise<void> {
      const team = await teamOf(p, teamId);
      const row = await find(p, team, id);
      await requireEditor(p, team);
      await db.transaction().execute(async (tx) => {
        const before = await lockForChange(tx, team, row);
        await repo.delete(tx, row.id);
        await letGo(tx, before, undefined);
      });
      await renumber(p.orgId, team);
    },

    async setEnabled(p: Principal, teamId: string | undefined, id: string, enabled: boolean) {
      const team = await teamOf(p, teamId);
      const row = await find(p, team, id);
      await requireEditor(p, team);
      await db.transaction().execute(async (tx) => {
        const before = await lockForChange(tx, team, row);
        await repo.update(tx, row.id, { enabled });
        await letGo(tx, before, { enabled, actions: actionsOf(before) });
      });
    },

    async changeOrder(p: Principal, teamId: string | undefined, id: string, targetIndex: number) {
      const team = await teamOf(p, teamId);
      const row = await find(p, team, id);
      await requireEditor(p, team);
      await renumber(p.orgId, team, { id: row.id, index: targetIndex });
    },
  };
}

export type NotificationPoliciesService = ReturnType<typeof createNotificationPoliciesService>;
