import type { TimeRestriction } from './schedule.js';

/**
 * The on-call values Vigil stores as JSON (notification rules, escalation policies, routing), shared by
 * the API that writes them and the engine that reads them. The API speaks Opsgenie's shapes and turns
 * them into these.
 */

/** A kind of contact method people add (the destination registry lists them). */
export type { ContactMethodType } from '../notify/destinations/registry.js';

export type NotificationActionType =
  'create-alert' | 'acknowledged-alert' | 'closed-alert' | 'add-note' | 'assigned-alert';

export type ConditionField =
  | 'message'
  | 'alias'
  | 'description'
  | 'source'
  | 'entity'
  | 'tags'
  | 'actions'
  | 'details'
  | 'priority'
  | 'integration'
  | 'recipients'
  | 'teams';

export type ConditionOperation =
  | 'matches'
  | 'contains'
  | 'starts-with'
  | 'ends-with'
  | 'equals'
  | 'equals-ignore-whitespace'
  | 'contains-key'
  | 'contains-value'
  | 'is-empty'
  | 'greater-than'
  | 'less-than';

export interface Condition {
  field: ConditionField;
  /** For `details`: the key whose value is compared. */
  key?: string;
  not?: boolean;
  operation: ConditionOperation;
  expectedValue?: string;
}

/** Opsgenie's filter: everything, or conditions that must all (or any) hold. */
export type Criteria =
  { type: 'match-all' } | { type: 'match-all-conditions' | 'match-any-condition'; conditions: Condition[] };

export interface NotificationRuleStep {
  id: string;
  contactId: string;
  sendAfterMinutes: number;
  enabled: boolean;
}

/** Opsgenie's `repeat` of a notification rule: its steps again `loopAfterMinutes` after the first round. */
export interface NotificationRuleRepeat {
  loopAfterMinutes: number;
  enabled: boolean;
}

export type EscalationCondition = 'if-not-acked' | 'if-not-closed';

/**
 * Whom a rule notifies. For a schedule: `default` is the person on call, `next` / `previous` the one
 * after / before them. For a team: `default` is whom the team's routing rules choose for the alert (as
 * for the team as a responder), `all` and `users` are every member, `admins` the team's admins. For a
 * user: that user.
 */
export type EscalationNotifyType = 'default' | 'next' | 'previous' | 'users' | 'admins' | 'all';

export interface EscalationRecipient {
  type: 'user' | 'schedule' | 'team';
  id: string;
}

export interface EscalationRule {
  condition: EscalationCondition;
  notifyType: EscalationNotifyType;
  /** Minutes after the escalation (or its repeat) started. */
  delayMinutes: number;
  recipient: EscalationRecipient;
}

export interface EscalationRepeat {
  /** Minutes after the last rule before the policy starts again. */
  waitIntervalMinutes: number;
  /** How many times the whole policy runs again after the first time. */
  count: number;
  closeAlertAfterAll: boolean;
}

/** What an alert's escalation runs: a policy as it was when the escalation started. */
export interface EscalationPlan {
  name: string;
  rules: EscalationRule[];
  repeat: EscalationRepeat | null;
}

export type RoutingNotifyType = 'escalation' | 'schedule' | 'none';

export type { TimeRestriction };
