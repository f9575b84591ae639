import {
  isOrgAdmin,
  resolveTeamRef,
  resolveUserRef,
  type Principal,
  type TeamRef,
} from '../../accounts/service.js';
import { requireTeamRight } from '../../accounts/team-rights.js';
import {
  reachesTeamConfiguration,
  requireReachesNamed,
  requireReachesTeamConfiguration,
} from '../../integrations/principal.js';
import { accountsRepository } from '../../accounts/repository.js';
import { schedulesRepository } from '../schedules/repository.js';
import { type Db, type Queryable, isUniqueViolation } from '../../db/database.js';
import { conflict, forbidden, invalidField, notFound } from '../../errors.js';
import type {
  EscalationCondition,
  EscalationNotifyType,
  EscalationRecipient,
  EscalationRule,
} from '../model.js';
import { routingRepository } from '../routing/repository.js';
import {
  escalationsRepository as repo,
  type EscalationWithOwner,
  type RecipientNames,
  type StoredRepeat,
} from './repository.js';

/** Escalation policies: who is notified, in which order, after how long, and how often it repeats. */

export type { TeamRef };

export interface RecipientInput {
  type: EscalationRecipient['type'];
  id?: string;
  username?: string;
  name?: string;
}

export interface EscalationRuleInput {
  condition: EscalationCondition;
  notifyType: EscalationNotifyType;
  delay: { timeAmount: number; timeUnit?: 'minutes' | 'hours' | 'days' };
  recipient: RecipientInput;
}

export interface RepeatInput {
  waitInterval: number;
  count: number;
  resetRecipientStates?: boolean;
  closeAlertAfterAll?: boolean;
}

export interface EscalationInput {
  name: string;
  description?: string;
  ownerTeam?: TeamRef;
  rules: EscalationRuleInput[];
  repeat?: RepeatInput;
}

export interface EscalationChanges {
  name?: string;
  description?: string;
  ownerTeam?: TeamRef | null;
  rules?: EscalationRuleInput[];
  repeat?: RepeatInput | null;
}

export const MAX_RULES = 20;
export const MAX_DELAY_MINUTES = 7 * 24 * 60;
export const MAX_REPEAT_COUNT = 20;
export const MAX_WAIT_INTERVAL_MINUTES = 24 * 60;

const UNIT_MINUTES = { minutes: 1, hours: 60, days: 24 * 60 } as const;

/** Which notifyType values mean something for each kind of recipient (see model.ts). */
export const NOTIFY_TYPES_BY_RECIPIENT: Record<EscalationRecipient['type'], readonly EscalationNotifyType[]> =
  {
    user: ['default'],
    schedule: ['default', 'next', 'previous'],
    team: ['default', 'all', 'users', 'admins'],
  };

export interface PresentedRecipient {
  type: EscalationRecipient['type'];
  id: string;
  name?: string | null;
  username?: string | null;
}

/** An escalation in Opsgenie's shape: delays in minutes, recipients with their names. */
export function presentEscalation(row: EscalationWithOwner, names: RecipientNames) {
  const repeat = row.repeat as StoredRepeat | null;
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    ...(row.owner_team_id ? { ownerTeam: { id: row.owner_team_id, name: row.owner_team_name } } : {}),
    rules: row.rules.map((rule) => ({
      condition: rule.condition,
      notifyType: rule.notifyType,
      delay: { timeAmount: rule.delayMinutes, timeUnit: 'minutes' as const },
      recipient: presentRecipient(rule.recipient, names),
    })),
    ...(repeat
      ? {
          repeat: {
            waitInterval: repeat.waitIntervalMinutes,
            count: repeat.count,
            resetRecipientStates: repeat.resetRecipientStates ?? false,
            closeAlertAfterAll: repeat.closeAlertAfterAll,
          },
        }
      : {}),
  };
}

function presentRecipient(recipient: EscalationRecipient, names: RecipientNames): PresentedRecipient {
  switch (recipient.type) {
    case 'user':
      return { type: 'user', id: recipient.id, username: names.users.get(recipient.id) ?? null };
    case 'team':
      return { type: 'team', id: recipient.id, name: names.teams.get(recipient.id) ?? null };
    case 'schedule':
      return { type: 'schedule', id: recipient.id, name: names.schedules.get(recipient.id) ?? null };
  }
}

function toRepeat(input: RepeatInput): StoredRepeat {
  if (input.count > MAX_REPEAT_COUNT) {
    throw invalidField('repeat.count', `can be at most ${MAX_REPEAT_COUNT}.`);
  }
  if (input.waitInterval > MAX_WAIT_INTERVAL_MINUTES) {
    throw invalidField(
      'repeat.waitInterval',
      `is in minutes and can be at most ${MAX_WAIT_INTERVAL_MINUTES} (one day).`,
    );
  }
  return {
    waitIntervalMinutes: input.waitInterval,
    count: input.count,
    closeAlertAfterAll: input.closeAlertAfterAll ?? false,
    resetRecipientStates: input.resetRecipientStates ?? false,
  };
}

/**
 * The stored form of a rule's recipient. A schedule or team is read with KEY SHARE: inside the caller's
 * transaction, deleting it waits until the policy is saved, and deleteSchedule then sees the policy using
 * the schedule and refuses (as it does for routing rules, which resolve their target the same way).
 * An integration's key may name only its owner team and that team's schedules (what reading another one
 * answers, a 403, otherwise): its policy would page another team with its alerts. One of `kept` (the
 * policy's recipients before this change, an organization admin's say) may be sent again as the policy
 * shows it: Terraform sends every rule on every change.
 */
async function resolveRecipient(
  q: Queryable,
  p: Principal,
  input: RecipientInput,
  field: string,
  kept: readonly EscalationRecipient[],
): Promise<EscalationRecipient> {
  switch (input.type) {
    case 'user': {
      if (input.id === undefined && input.username === undefined) {
        throw invalidField(
          field,
          'Give the user as {"type": "user", "id": ...} or {"type": "user", "username": ...}.',
        );
      }
      // Locked, so that deleting the user waits for the policy and then sees it names them.
      const user = await resolveUserRef(q, p.orgId, input, field, undefined, 'key share');
      return { type: 'user', id: user.id };
    }
    case 'team':
    case 'schedule': {
      if (input.id === undefined && input.name === undefined) {
        throw invalidField(
          field,
          `Give the ${input.type} as {"type": "${input.type}", "id": ...} or {"type": "${input.type}", "name": ...}.`,
        );
      }
      // Locked, so that deleting the team or schedule waits for the policy (and one deleted meanwhile is
      // not found). `owner`: the team whose configuration it is (a team is its own; null: no team's).
      const found =
        input.type === 'team'
          ? await resolveTeamRef(q, p.orgId, input, field, 'key share').then((t) => ({
              id: t.id,
              owner: t.id,
            }))
          : await schedulesRepository
              .findScheduleByRef(q, p.orgId, input, 'key share')
              .then((s) => s && { id: s.id, owner: s.owner_team_id });
      if (!found) {
        throw invalidField(
          field,
          `No ${input.type} ${JSON.stringify(input.id ?? input.name)} in this organization.`,
        );
      }
      const isKept = kept.some((k) => k.type === input.type && k.id === found.id);
      requireReachesNamed(p, input.type, input, found.owner, isKept);
      return { type: input.type, id: found.id };
    }
  }
}

/**
 * Checks the rules and turns them into the stored shape; every problem is a 422 naming its field. `kept`:
 * the recipients the policy had (resolveRecipient).
 */
export async function toRules(
  q: Queryable,
  p: Principal,
  inputs: EscalationRuleInput[],
  kept: readonly EscalationRecipient[] = [],
): Promise<EscalationRule[]> {
  if (inputs.length === 0) {
    throw invalidField('rules', 'An escalation needs at least one rule: whom to notify, and after how long.');
  }
  if (inputs.length > MAX_RULES) throw invalidField('rules', `can have at most ${MAX_RULES} rules.`);
  const rules: EscalationRule[] = [];
  for (const [i, input] of inputs.entries()) {
    const field = `rules[${i}]`;
    const delayMinutes = input.delay.timeAmount * UNIT_MINUTES[input.delay.timeUnit ?? 'minutes'];
    if (delayMinutes > MAX_DELAY_MINUTES) {
      throw invalidField(`${field}.delay`, `can be at most 7 days (${MAX_DELAY_MINUTES} minutes).`);
    }
    const previous = rules[i - 1];
    if (previous && delayMinutes < previous.delayMinutes) {
      throw invalidField(
        `${field}.delay`,
        `is ${delayMinutes} minutes, less than the ${previous.delayMinutes} of the rule before it. Delays count from the start of the escalation, not from the previous rule: give ${previous.delayMinutes} or more.`,
      );
    }
    const allowed = NOTIFY_TYPES_BY_RECIPIENT[input.recipient.type];
    if (!allowed.includes(input.notifyType)) {
      throw invalidField(
        `${field}.notifyType`,
        `"${input.notifyType}" does not apply to a ${input.recipient.type} recipient: use ${allowed.map((t) => `"${t}"`).join(', ')}.`,
      );
    }
    rules.push({
      condition: input.condition,
      notifyType: input.notifyType,
      delayMinutes,
      recipient: await resolveRecipient(q, p, input.recipient, `${field}.recipient`, kept),
    });
  }
  return rules;
}

export function createEscalationsService(db: Db) {
  const resolveTeam = (orgId: string, ref: TeamRef, field: string) => resolveTeamRef(db, orgId, ref, field);

  /** Org admins manage every escalation; those with edit-escalations on a team (its admins) its own. */
  const requireManager = (p: Principal, ownerTeamId: string | null) =>
    requireTeamRight(
      db,
      p,
      ownerTeamId,
      'edit-escalations',
      ownerTeamId
        ? 'Only organization admins and those of the owner team with the edit-escalations right (its admins) can change this escalation.'
        : 'Only organization admins can change an escalation without an owner team: ask an admin, or give it an ownerTeam you administer.',
    );

  async function load(p: Principal, identifier: string, by: 'id' | 'name') {
    const row = await repo.find(db, p.orgId, identifier, by);
    if (!row) throw notFound(`No escalation exists with ${by} [${identifier}].`);
    requireReachesTeamConfiguration(p, row.owner_team_id, `escalation with ${by} [${identifier}]`);
    return row;
  }

  /** The organization's escalations `p` reaches: an integration's key only its owner team's. */
  async function listReachable(p: Principal) {
    const rows = await repo.list(db, p.orgId);
    return rows.filter((row) => reachesTeamConfiguration(p, row.owner_team_id));
  }

  async function present(orgId: string, rows: EscalationWithOwner[]) {
    const names = await repo.recipientNames(
      db,
      orgId,
      rows.flatMap((r) => r.rules.map((rule) => rule.recipient)),
    );
    return rows.map((row) => presentEscalation(row, names));
  }

  return {
    async create(p: Principal, input: EscalationInput) {
      const owner = input.ownerTeam ? await resolveTeam(p.orgId, input.ownerTeam, 'ownerTeam') : undefined;
      // As a schedule: one made with a team integration's key is that team's when the request names none.
      const ownerTeamId = owner?.id ?? p.integration?.ownerTeamId ?? null;
      await requireManager(p, ownerTeamId);
      try {
        // One transaction, so that the locks toRules takes on the recipients last until the policy is saved.
        return await db.transaction().execute(async (tx) => {
          const rules = await toRules(tx, p, input.rules);
          const repeat = input.repeat ? toRepeat(input.repeat) : null;
          return repo.insert(tx, {
            org_id: p.orgId,
            name: input.name,
            description: input.description ?? '',
            owner_team_id: ownerTeamId,
            rules,
            repeat,
          });
        });
      } catch (error) {
        if (isUniqueViolation(error)) throw conflict(`Escalation with name [${input.name}] already exists.`);
        throw error;
      }
    },

    async get(p: Principal, identifier: string, by: 'id' | 'name') {
      const [presented] = await present(p.orgId, [await load(p, identifier, by)]);
      if (!presented) throw notFound(`No escalation exists with ${by} [${identifier}].`);
      return presented;
    },

    async list(p: Principal) {
      return present(p.orgId, await listReachable(p));
    },

    /** The policies that notify this user by name in one of their rules (Opsgenie's List User Escalations). */
    async ofUser(p: Principal, userIdentifier: string) {
      const user = await accountsRepository.findUser(db, p.orgId, userIdentifier);
      if (!user) throw notFound(`User [${userIdentifier}] does not exist.`);
      const rows = await listReachable(p);
      return present(
        p.orgId,
        rows.filter((row) =>
          row.rules.some((r) => r.recipient.type === 'user' && r.recipient.id === user.id),
        ),
      );
    },

    async update(p: Principal, identifier: string, by: 'id' | 'name', changes: EscalationChanges) {
      const row = await load(p, identifier, by);
      await requireManager(p, row.owner_team_id);
      let ownerTeamId: string | null | undefined;
      if (changes.ownerTeam === null) {
        // Giving up the owner team leaves an escalation only org admins may change.
        if (!isOrgAdmin(p))
          throw forbidden("Only organization admins can remove an escalation's owner team.");
        ownerTeamId = null;
      } else if (changes.ownerTeam) {
        ownerTeamId = (await resolveTeam(p.orgId, changes.ownerTeam, 'ownerTeam')).id;
        await requireManager(p, ownerTeamId);
      }
      try {
        // As in create: the recipients stay locked until the new rules are saved.
        return await db.transaction().execute(async (tx) => {
          const kept = row.rules.map((r) => r.recipient);
          const rules = changes.rules ? await toRules(tx, p, changes.rules, kept) : undefined;
          const repeat =
            changes.repeat === null ? null : changes.repeat ? toRepeat(changes.repeat) : undefined;
          const updated = await repo.update(tx, row.id, {
            name: changes.name,
            description: changes.description,
            owner_team_id: ownerTeamId,
            rules,
            repeat,
          });
          if (!updated) throw notFound(`No escalation exists with ${by} [${identifier}].`);
          return updated;
        });
      } catch (error) {
        if (isUniqueViolation(error))
          throw conflict(`Escalation with name [${changes.name}] already exists.`);
        throw error;
      }
    },

    /** Refused while a routing rule notifies it: alerts would have nowhere to go. */
    async delete(p: Principal, identifier: string, by: 'id' | 'name'): Promise<void> {
      const row = await load(p, identifier, by);
      await requireManager(p, row.owner_team_id);
      await db.transaction().execute(async (tx) => {
        // The row lock waits for routing changes that are pointing a rule at it (they hold KEY SHARE).
        const locked = await repo.find(tx, p.orgId, row.id, 'id', 'update');
        if (!locked) throw notFound(`No escalation exists with ${by} [${identifier}].`);
        const users = await routingRepository.usingTarget(tx, 'escalation', row.id);
        if (users.length > 0) {
          const named = users
            .slice(0, 3)
            .map((r) => `${r.is_default ? 'the default rule' : `rule [${r.name}]`} of team [${r.team_name}]`);
          const more = users.length > 3 ? ` and ${users.length - 3} more` : '';
          throw conflict(
            `Escalation [${row.name}] is used by ${named.join(', ')}${more}: point ${users.length > 1 ? 'those rules' : 'that rule'} at another escalation (or delete ${users.length > 1 ? 'them' : 'it'}) first.`,
          );
        }
        await repo.delete(tx, row.id);
      });
    },
  };
}

export type EscalationsService = ReturnType<typeof createEscalationsService>;
