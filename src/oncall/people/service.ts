import { accountsRepository } from '../../accounts/repository.js';
import { requireUserRight, userMay } from '../../accounts/custom-roles/rights.js';
import { administersTeamOf, isOrgAdmin, type Principal } from '../../accounts/service.js';
import { type Db, type Queryable, isUniqueViolation, isUuid } from '../../db/database.js';
import type { ContactMethodRow, NotificationRuleRow, UserRow } from '../../db/schema.js';
import { conflict, forbidden, invalidField, isDomainError, notFound } from '../../errors.js';
import { parseCriteria } from '../conditions.js';
import type {
  ContactMethodType,
  NotificationActionType,
  NotificationRuleRepeat,
  NotificationRuleStep,
  TimeRestriction,
} from '../model.js';
import { toTimeRestriction } from '../routing/service.js';
import { restrictsNothing, type TimeRestrictionInput } from '../time-restriction-input.js';
import { destinationType, whyNotTheirs } from '../../notify/destinations/registry.js';
import { giveEmptyRuleAStep, newStep } from './defaults.js';
import { peopleRepository as repo } from './repository.js';
import { alertsRepository } from '../../alerts/repository.js';
import { ENGINE_ACTOR } from '../../engine/escalation/log-buffer.js';
import { notificationRepeatsRepository } from '../../notify/repeats-repository.js';

/**
 * People's contact methods and notification rules (Opsgenie's model). They hold phone numbers and email
 * addresses: a user reads their own, organization admins anyone's, and team admins (people, not
 * integration keys) those of their teams' members who are no owner or org admin. A user changes their own
 * (unless a custom role takes contacts-edit or notification-rules-edit away), and organization admins
 * anyone's but an owner's, which only owners change.
 */

export interface ContactRef {
  method: ContactMethodType;
  to: string;
}

export interface StepInput {
  contact: ContactRef;
  sendAfter?: { timeAmount?: number; timeUnit?: 'minutes' | 'hours' | 'days' | 'minute' | 'hour' | 'day' };
  enabled?: boolean;
}

/** Opsgenie's `repeat`: the steps again `loopAfter` minutes after the first round. */
export interface RepeatInput {
  loopAfter?: number;
  enabled?: boolean;
}

export interface RuleInput {
  name: string;
  actionType: NotificationActionType;
  criteria?: unknown;
  steps?: StepInput[];
  timeRestriction?: TimeRestrictionInput | null;
  repeat?: RepeatInput | null;
  order?: number;
  enabled?: boolean;
}

/** What is left out stays as it is; null takes a time restriction or repeat away. */
export interface RuleChanges {
  name?: string;
  criteria?: unknown;
  steps?: StepInput[];
  timeRestriction?: TimeRestrictionInput | null;
  repeat?: RepeatInput | null;
  order?: number;
  enabled?: boolean;
}

/** A rule with the user's contact methods, which its steps name by id. */
export interface RuleView {
  rule: NotificationRuleRow;
  contacts: Map<string, ContactMethodRow>;
}

/** A step may wait at most a week: past that the alert is long handled or long forgotten. */
const MAX_SEND_AFTER_MINUTES = 7 * 24 * 60;
const MAX_STEPS = 50;
/** Opsgenie's units, and the singular ones older Terraform providers send. */
const UNIT_MINUTES = { minutes: 1, minute: 1, hours: 60, hour: 60, days: 1440, day: 1440 } as const;

/** The 404 of a contact method the user does not have (or no longer has). */
export function noSuchContact(contactId: string, user: Pick<UserRow, 'username'>) {
  return notFound(`Contact [${contactId}] of user [${user.username}] does not exist.`);
}

/** The address as Vigil stores it (its destination type says how it is written), or an error on `field`. */
export function normalizeAddress(method: ContactMethodType, to: string, field: string): string {
  const parsed = destinationType(method)?.parseAddress(to);
  if (!parsed) throw invalidField(field, `"${method}" is not a kind of contact method Vigil knows.`);
  if (!parsed.ok) throw invalidField(field, parsed.problem);
  return parsed.address;
}

/** An address that must name something of the user's own (a device) and does not: an error on `field`. */
async function requireTheirs(
  q: Queryable,
  user: UserRow,
  method: ContactMethodType,
  address: string,
  field: string,
): Promise<void> {
  const problem = await whyNotTheirs(q, method, user.id, address);
  if (problem) throw invalidField(field, problem);
}

/** What `given_to` keeps of what the caller wrote: nothing when it is the stored address itself. */
function givenTo(to: string, address: string): string | null {
  return to === address ? null : to;
}

function sendAfterMinutes(sendAfter: StepInput['sendAfter'], field: string): number {
  if (!sendAfter) return 0;
  const minutes = (sendAfter.timeAmount ?? 0) * UNIT_MINUTES[sendAfter.timeUnit ?? 'minutes'];
  if (!Number.isInteger(minutes) || minutes < 0 || minutes > MAX_SEND_AFTER_MINUTES) {
    throw invalidField(field, `must be between 0 and ${MAX_SEND_AFTER_MINUTES} minutes (a week).`);
  }
  return minutes;
}

/**
 * The rule's window, read in the user's time zone as Opsgenie reads it. Opsgenie clients send an empty
 * restriction for "none", and Vigil reads it so: the rule then applies at all times.
 */
function ruleTimeRestriction(input: TimeRestrictionInput | null, user: UserRow): TimeRestriction | null {
  if (input === null) return null;
  if (restrictsNothing(input)) return null;
  return toTimeRestriction(input, user.time_zone, 'timeRestriction');
}

function ruleRepeat(input: RepeatInput | null): NotificationRuleRepeat | null {
  if (input === null) return null;
  return { loopAfterMinutes: input.loopAfter ?? 0, enabled: input.enabled ?? true };
}

/** A field's name under a prefix ('' for the top of the body). */
function at(prefix: string, name: string): string {
  return prefix ? `${prefix}.${name}` : name;
}

/** What the caller wants of a user's contact methods and rules: to read them, or the right a change needs. */
type Access = 'read' | 'contacts-edit' | 'notification-rules-edit';

const CHANGING: Record<Exclude<Access, 'read'>, string> = {
  'contacts-edit': 'change your contact methods',
  'notification-rules-edit': 'change your notification rules',
};

function clamp(value: number, min: number, max: number): number {
  return Math.min(Math.max(value, min), max);
}

export function createPeopleService(db: Db) {
  /**
   * The user named in the path, when the caller may read their contact methods and rules, or change them
   * (`access` names the right that takes): org admins may do both, though only owners change an owner's;
   * the user themselves too, as far as a custom role of theirs allows; admins (people) of a team the user
   * belongs to may read, unless the user is an owner or org admin.
   */
  async function target(p: Principal, identifier: string, access: Access): Promise<UserRow> {
    const user = await accountsRepository.findUser(db, p.orgId, identifier);
    if (!user) throw notFound(`User [${identifier}] does not exist.`);
    if (isOrgAdmin(p)) {
      // As with the account itself (accounts/service.ts updateUser): an admin who could change an owner's
      // contacts or rules could stop the owner being paged, or point a login code at themselves.
      if (access !== 'read' && user.role === 'owner' && p.role !== 'owner')
        throw forbidden("Only an owner can change an owner's contact methods and notification rules.");
      return user;
    }
    if (p.userId !== undefined && p.userId === user.id) {
      if (access !== 'read') await requireUserRight(db, p, access, CHANGING[access]);
      return user;
    }
    if (access !== 'read') {
      throw forbidden(
        "Only the user themselves and organization admins can change a user's contact methods and notification rules.",
      );
    }
    // A team admin may add anyone to their team, so this read reaches only plain users: an owner's or an
    // org admin's phone numbers stay theirs. An integration's key pages through its team and needs no one's.
    const readable =
      p.integration === undefined &&
      user.role !== 'owner' &&
      user.role !== 'admin' &&
      (await administersTeamOf(db, p, user.id));
    if (!readable) {
      throw forbidden(
        `Only ${user.username}, organization admins and the admins of ${user.username}'s teams (unless ${user.username} is an owner or admin) can see their contact methods and notification rules: ask one of them.`,
      );
    }
    return user;
  }

  /**
   * Takes KEY SHARE on the user (as deleteUser asks of writers that save a reference to a user) in `tx`,
   * the transaction that saves a row naming them: a delete of theirs in flight is waited for and they are
   * then gone (the 404 of a user already deleted), rather than the insert failing the foreign key (a 500);
   * a delete that comes after waits for the row, and takes it with the user.
   */
  async function lockTargetRow(
    tx: Queryable,
    p: Principal,
    user: UserRow,
    identifier: string,
  ): Promise<void> {
    if (!(await accountsRepository.findUser(tx, p.orgId, user.id, 'key share')))
      throw notFound(`User [${identifier}] does not exist.`);
  }

  async function contactOf(q: Queryable, user: UserRow, contactId: string): Promise<ContactMethodRow> {
    const contact = isUuid(contactId) ? await repo.findContact(q, user.id, contactId) : undefined;
    if (!contact) throw noSuchContact(contactId, user);
    return contact;
  }

  async function ruleOf(q: Queryable, user: UserRow, ruleId: string): Promise<NotificationRuleRow> {
    const rule = isUuid(ruleId) ? await repo.findRule(q, user.id, ruleId) : undefined;
    if (!rule) throw notFound(`Notification rule [${ruleId}] of user [${user.username}] does not exist.`);
    return rule;
  }

  async function contactsById(q: Queryable, userId: string): Promise<Map<string, ContactMethodRow>> {
    return new Map((await repo.listContacts(q, userId)).map((c) => [c.id, c]));
  }

  /** A step as stored: its contact must be one of the user's contact methods. */
  async function resolveStep(
    q: Queryable,
    user: UserRow,
    input: StepInput,
    field: string,
    id?: string,
  ): Promise<NotificationRuleStep> {
    const address = normalizeAddress(input.contact.method, input.contact.to, at(field, 'contact.to'));
    const contact = await repo.findContactByAddress(q, user.id, input.contact.method, address);
    if (!contact) {
      throw invalidField(
        at(field, 'contact'),
        `${input.contact.method} ${address} is not one of ${user.username}'s contact methods: add it with POST /v2/users/{identifier}/contacts first.`,
      );
    }
    const delay = sendAfterMinutes(input.sendAfter, at(field, 'sendAfter'));
    const step = newStep(contact.id, delay, input.enabled ?? true);
    return id ? { ...step, id } : step;
  }

  async function resolveSteps(q: Queryable, user: UserRow, steps: StepInput[], field: string) {
    const resolved: NotificationRuleStep[] = [];
    for (const [i, step] of steps.entries())
      resolved.push(await resolveStep(q, user, step, `${field}[${i}]`));
    // Kept in the order given (Opsgenie's, and Terraform's ordered step list); each fires after its own delay.
    return resolved;
  }

  /** Runs `work` in a transaction holding the user's lock, and returns the rule with its contacts. */
  async function changeRule(
    p: Principal,
    identifier: string,
    ruleId: string,
    work: (
      tx: Queryable,
      user: UserRow,
      rule: NotificationRuleRow,
    ) => Promise<NotificationRuleRow | undefined>,
  ): Promise<RuleView> {
    const user = await target(p, identifier, 'notification-rules-edit');
    return db.transaction().execute(async (tx) => {
      await repo.lockUser(tx, user.id);
      const rule = await ruleOf(tx, user, ruleId);
      const changed = (await work(tx, user, rule)) ?? rule;
      return { rule: changed, contacts: await contactsById(tx, user.id) };
    });
  }

  async function getRule(p: Principal, identifier: string, ruleId: string): Promise<RuleView> {
    const user = await target(p, identifier, 'read');
    const rule = await ruleOf(db, user, ruleId);
    return { rule, contacts: await contactsById(db, user.id) };
  }

  function stepOf(rule: NotificationRuleRow, stepId: string): NotificationRuleStep {
    const step = rule.steps.find((s) => s.id === stepId);
    if (!step) throw notFound(`Step [${stepId}] of notification rule [${rule.name}] does not exist.`);
    return step;
  }

  /** Whether `target` lets the caller have `access` to the user: false on its 403, any other error thrown. */
  async function allowed(p: Principal, identifier: string, access: Access): Promise<boolean> {
    try {
      await target(p, identifier, access);
      return true;
    } catch (error) {
      if (isDomainError(error, 'forbidden')) return false;
      throw error;
    }
  }

  return {
    /**
     * What the caller may change of the user's contact methods and notification rules, by the very checks
     * that refuse a change (target): for the console, which hides what the server would refuse. A caller
     * who may not read them gets the same 403 (or 404) as reading them would.
     */
    async editRights(
      p: Principal,
      identifier: string,
    ): Promise<{ contacts: boolean; notificationRules: boolean }> {
      await target(p, identifier, 'read');
      const [contacts, notificationRules] = await Promise.all([
        allowed(p, identifier, 'contacts-edit'),
        allowed(p, identifier, 'notification-rules-edit'),
      ]);
      return { contacts, notificationRules };
    },

    // Contact methods

    async listContacts(p: Principal, identifier: string): Promise<ContactMethodRow[]> {
      const user = await target(p, identifier, 'read');
      return repo.listContacts(db, user.id);
    },

    /** A contact method the caller may change (theirs, or as an admin), with its person. */
    async contactToManage(
      p: Principal,
      identifier: string,
      contactId: string,
    ): Promise<{ user: UserRow; contact: ContactMethodRow }> {
      const user = await target(p, identifier, 'contacts-edit');
      return { user, contact: await contactOf(db, user, contactId) };
    },

    async getContact(p: Principal, identifier: string, contactId: string): Promise<ContactMethodRow> {
      const user = await target(p, identifier, 'read');
      return contactOf(db, user, contactId);
    },

    async addContact(p: Principal, identifier: string, input: ContactRef): Promise<ContactMethodRow> {
      const user = await target(p, identifier, 'contacts-edit');
      const address = normalizeAddress(input.method, input.to, 'to');
      await requireTheirs(db, user, input.method, address, 'to');
      try {
        return await db.transaction().execute(async (tx) => {
          await repo.lockUser(tx, user.id);
          await lockTargetRow(tx, p, user, identifier);
          const contact = await repo.insertContact(tx, {
            user_id: user.id,
            method: input.method,
            address,
            given_to: givenTo(input.to, address),
          });
          // The step changes a notification rule: only for a caller who may change this user's rules
          // (as push subscriptions add a device). target() let through only the user themselves and org
          // admins (an owner's rules only for owners, as their contacts), so the user's own custom role is
          // what is left to ask; without the right the contact is added and the rule stays as it was.
          if (await userMay(tx, p, 'notification-rules-edit')) await giveEmptyRuleAStep(tx, contact);
          return contact;
        });
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw conflict(`User [${user.username}] already has the ${input.method} contact ${address}.`);
        }
        throw error;
      }
    },

    async updateContact(
      p: Principal,
      identifier: string,
      contactId: string,
      changes: { to?: string },
    ): Promise<ContactMethodRow> {
      const user = await target(p, identifier, 'contacts-edit');
      const contact = await contactOf(db, user, contactId);
      if (changes.to === undefined) return contact;
      const address = normalizeAddress(contact.method, changes.to, 'to');
      const given_to = givenTo(changes.to, address);
      try {
        if (address === contact.address) {
          // The same number written another way: only what the API answers changes.
          if (given_to === contact.given_to) return contact;
          return (await repo.updateContact(db, contact.id, { given_to })) ?? contact;
        }
        await requireTheirs(db, user, contact.method, address, 'to');
        // A new number has to prove it reaches this person again; what was wrong with the old one is gone.
        return (
          (await repo.updateContact(db, contact.id, {
            address,
            given_to,
            verified_at: null,
            problem: null,
            problem_at: null,
          })) ?? contact
        );
      } catch (error) {
        if (isUniqueViolation(error)) {
          throw conflict(`User [${user.username}] already has the ${contact.method} contact ${address}.`);
        }
        throw error;
      }
    },

    async setContactEnabled(
      p: Principal,
      identifier: string,
      contactId: string,
      enabled: boolean,
    ): Promise<ContactMethodRow> {
      const user = await target(p, identifier, 'contacts-edit');
      const contact = await contactOf(db, user, contactId);
      return (await repo.updateContact(db, contact.id, { enabled })) ?? contact;
    },

    /** Deletes a contact method and takes it out of the steps that used it. */
    async deleteContact(p: Principal, identifier: string, contactId: string): Promise<void> {
      const user = await target(p, identifier, 'contacts-edit');
      await db.transaction().execute(async (tx) => {
        await repo.lockUser(tx, user.id);
        const contact = await contactOf(tx, user, contactId);
        await repo.removeContactFromSteps(tx, user.id, contact.id);
        await repo.deleteContact(tx, contact.id);
      });
    },

    // Notification rules

    async listRules(p: Principal, identifier: string): Promise<NotificationRuleRow[]> {
      const user = await target(p, identifier, 'read');
      return repo.listRules(db, user.id);
    },

    getRule,

    async createRule(p: Principal, identifier: string, input: RuleInput): Promise<NotificationRuleRow> {
      const user = await target(p, identifier, 'notification-rules-edit');
      const criteria = parseCriteria(input.criteria, 'criteria');
      return db.transaction().execute(async (tx) => {
        await repo.lockUser(tx, user.id);
        await lockTargetRow(tx, p, user, identifier);
        const steps = await resolveSteps(tx, user, input.steps ?? [], 'steps');
        const timeRestriction = ruleTimeRestriction(input.timeRestriction ?? null, user);
        const count = await repo.countRules(tx, user.id, input.actionType);
        const position = clamp(input.order ?? count, 0, count);
        await repo.shiftPositions(tx, user.id, input.actionType, position, undefined, 1);
        return repo.insertRule(tx, {
          user_id: user.id,
          name: input.name,
          action_type: input.actionType,
          criteria,
          steps,
          time_restriction: timeRestriction,
          repeat: ruleRepeat(input.repeat ?? null),
          enabled: input.enabled ?? true,
          position,
        });
      });
    },

    /** Changes a rule; steps, when given, replace the current ones. */
    async updateRule(
      p: Principal,
      identifier: string,
      ruleId: string,
      changes: RuleChanges,
    ): Promise<RuleView> {
      const criteria =
        changes.criteria === undefined ? undefined : parseCriteria(changes.criteria, 'criteria');
      return changeRule(p, identifier, ruleId, async (tx, user, rule) => {
        const steps = changes.steps ? await resolveSteps(tx, user, changes.steps, 'steps') : undefined;
        const timeRestriction =
          changes.timeRestriction === undefined
            ? undefined
            : ruleTimeRestriction(changes.timeRestriction, user);
        let position: number | undefined;
        if (changes.order !== undefined) {
          const count = await repo.countRules(tx, user.id, rule.action_type);
          position = clamp(changes.order, 0, count - 1);
          if (position < rule.position) {
            await repo.shiftPositions(tx, user.id, rule.action_type, position, rule.position - 1, 1);
          } else if (position > rule.position) {
            await repo.shiftPositions(tx, user.id, rule.action_type, rule.position + 1, position, -1);
          }
        }
        return repo.updateRule(tx, rule.id, {
          name: changes.name,
          criteria,
          steps,
          time_restriction: timeRestriction,
          repeat: changes.repeat === undefined ? undefined : ruleRepeat(changes.repeat),
          enabled: changes.enabled,
          position,
        });
      });
    },

    setRuleEnabled: (p: Principal, identifier: string, ruleId: string, enabled: boolean) =>
      changeRule(p, identifier, ruleId, (tx, _user, rule) => repo.updateRule(tx, rule.id, { enabled })),

    async deleteRule(p: Principal, identifier: string, ruleId: string): Promise<void> {
      await changeRule(p, identifier, ruleId, async (tx, user, rule) => {
        // Its repeats go with it (the foreign key): ended here, so that their alerts' logs say why, as they
        // do for a rule disabled or no longer repeating (engine/notification-repeats.ts).
        const alertIds = await notificationRepeatsRepository.endForRule(tx, rule.id);
        const person = user.full_name || user.username;
        await alertsRepository.addLogs(
          tx,
          alertIds.map((alertId) => ({
            alertId,
            type: 'escalation',
            log: `No more repeats for ${person}: their rule "${rule.name}" was deleted`,
            owner: ENGINE_ACTOR,
          })),
        );
        await repo.deleteRule(tx, rule.id);
        // Close the gap so the remaining rules keep the orders 0..n-1.
        await repo.shiftPositions(tx, user.id, rule.action_type, rule.position + 1, undefined, -1);
        return rule;
      });
    },

    // Steps of a rule

    async getStep(p: Principal, identifier: string, ruleId: string, stepId: string) {
      const view = await getRule(p, identifier, ruleId);
      return { ...view, step: stepOf(view.rule, stepId) };
    },

    async addStep(p: Principal, identifier: string, ruleId: string, input: StepInput) {
      let added: NotificationRuleStep | undefined;
      const view = await changeRule(p, identifier, ruleId, async (tx, user, rule) => {
        if (rule.steps.length >= MAX_STEPS) {
          throw invalidField('steps', `a rule has at most ${MAX_STEPS} steps.`);
        }
        added = await resolveStep(tx, user, input, '');
        return repo.updateRule(tx, rule.id, { steps: [...rule.steps, added] });
      });
      return { ...view, step: added as NotificationRuleStep };
    },

    async updateStep(
      p: Principal,
      identifier: string,
      ruleId: string,
      stepId: string,
      changes: Partial<StepInput>,
    ) {
      let updated: NotificationRuleStep | undefined;
      const view = await changeRule(p, identifier, ruleId, async (tx, user, rule) => {
        const step = stepOf(rule, stepId);
        updated = { ...step };
        if (changes.contact) {
          updated.contactId = (await resolveStep(tx, user, { contact: changes.contact }, '')).contactId;
        }
        if (changes.sendAfter) updated.sendAfterMinutes = sendAfterMinutes(changes.sendAfter, 'sendAfter');
        if (changes.enabled !== undefined) updated.enabled = changes.enabled;
        const next = updated;
        return repo.updateRule(tx, rule.id, {
          steps: rule.steps.map((s) => (s.id === stepId ? next : s)),
        });
      });
      return { ...view, step: updated as NotificationRuleStep };
    },

    async deleteStep(p: Principal, identifier: string, ruleId: string, stepId: string): Promise<void> {
      await changeRule(p, identifier, ruleId, async (tx, _user, rule) => {
        stepOf(rule, stepId);
        return repo.updateRule(tx, rule.id, { steps: rule.steps.filter((s) => s.id !== stepId) });
      });
    },
  };
}

export type PeopleService = ReturnType<typeof createPeopleService>;
