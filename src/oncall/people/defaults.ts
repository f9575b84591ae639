import { randomUUID } from 'node:crypto';
import type { Queryable } from '../../db/database.js';
import type { ContactMethodRow } from '../../db/schema.js';
import { isEmailAddress } from '../../notify/destinations/email.js';
import { contactMethodDefaults } from '../../notify/destinations/registry.js';
import type { NotificationRuleStep } from '../model.js';
import { peopleRepository as repo } from './repository.js';

/**
 * What a person gets without asking: an email contact and a "New alert" rule when their account is made,
 * and a first step for a rule that has none when they add a contact. Kept apart from service.ts so the
 * accounts service can call it inside its own transaction without importing the people service.
 */

export function newStep(contactId: string, sendAfterMinutes: number, enabled = true): NotificationRuleStep {
  return { id: randomUUID(), contactId, sendAfterMinutes, enabled };
}

/**
 * For a user just created, in the caller's transaction: an email contact method for the username when
 * it is an email address, and the rule "New alert" (every new alert, that email at once). Without an
 * email the rule starts with no steps, and the first contact the user adds fills it (see below).
 */
export async function createDefaultNotificationSetup(
  tx: Queryable,
  userId: string,
  username: string,
): Promise<void> {
  const steps: NotificationRuleStep[] = [];
  if (isEmailAddress(username)) {
    const contact = await repo.insertContact(tx, { user_id: userId, method: 'email', address: username });
    steps.push(newStep(contact.id, contactMethodDefaults('email').defaultDelayMinutes));
  }
  await repo.insertRule(tx, {
    user_id: userId,
    name: 'New alert',
    action_type: 'create-alert',
    criteria: { type: 'match-all' },
    steps,
    enabled: true,
    position: 0,
  });
}

/**
 * After a contact method is added by a caller who may change the user's notification rules (one added
 * without notification-rules-edit changes no rule), in the same transaction (with the user locked): when
 * the user has "create-alert" rules without any step, the first of them gets a step for the new contact.
 *
 * Why: a user whose username is not an email address starts with an empty "New alert" rule, and someone
 * who removed their only contact leaves rules with no steps; either way they would be paged by nobody until
 * they also edited a rule, and the usual mistake is to add a phone number and believe that is enough.
 * Rules that have steps (even disabled ones) were shaped by the person and are never touched.
 */
export async function giveEmptyRuleAStep(tx: Queryable, contact: ContactMethodRow): Promise<void> {
  const rules = await repo.listRules(tx, contact.user_id, 'create-alert');
  const empty = rules.find((r) => r.steps.length === 0);
  if (!empty) return;
  await repo.updateRule(tx, empty.id, {
    steps: [newStep(contact.id, contactMethodDefaults(contact.method).defaultDelayMinutes)],
  });
}
