import type { Json } from './client';
import type { paths } from './schema';

/**
 * The shapes of Vigil's answers (its OpenAPI document types requests only). Each mirrors the
 * presenter named beside it in src/.
 */

export type Priority = 'P1' | 'P2' | 'P3' | 'P4' | 'P5';
export const PRIORITIES: Priority[] = ['P1', 'P2', 'P3', 'P4', 'P5'];

export interface Responder {
  type: 'team' | 'user' | 'escalation' | 'schedule';
  id?: string;
  name?: string;
  username?: string;
}

/** src/alerts/present.ts alertSummary */
export interface AlertSummary {
  id: string;
  tinyId: string;
  alias: string;
  message: string;
  status: 'open' | 'closed';
  acknowledged: boolean;
  isSeen: boolean;
  tags: string[];
  snoozed: boolean;
  snoozedUntil?: string;
  count: number;
  lastOccurredAt: string;
  createdAt: string;
  updatedAt: string;
  source: string;
  owner: string;
  priority: Priority;
  responders: Responder[];
  integration: { id: string; name: string; type: string };
  report: { ackTime?: number; closeTime?: number; acknowledgedBy?: string; closedBy?: string };
}

/** src/alerts/present.ts alertDetail */
export interface AlertDetail extends AlertSummary {
  actions: string[];
  entity: string;
  description: string;
  details: Record<string, string>;
}

export interface AlertNote {
  note: string;
  owner: string;
  createdAt: string;
  offset: string;
}

export interface AlertLog {
  log: string;
  type: string;
  owner: string;
  createdAt: string;
  offset: string;
}

export interface Accepted {
  result: string;
  requestId: string;
}

export interface RequestStatus {
  isSuccess: boolean;
  status: string;
  alertId: string;
}

export interface Team {
  id: string;
  name: string;
  description?: string;
}

export interface TeamDetail extends Team {
  members?: { user: { id: string; username: string }; role: string }[];
}

export interface User {
  id: string;
  username: string;
  fullName: string;
  role: { id: string; name: string };
  blocked?: boolean;
  createdAt?: string;
}

/** src/accounts/custom-roles/routes.ts (GET /v2/roles): an organization's own user role. */
export type CustomUserRole = Json<paths['/v2/roles/{identifier}']['get']['responses'][200]>['data'];

/** src/accounts/routes.ts (GET /v2/users): one page, and how many people match in all. */
export interface UserPage {
  data: User[];
  totalCount: number;
}

export interface Escalation {
  id: string;
  name: string;
  ownerTeam?: { id: string; name: string };
}

export type EscalationCondition = 'if-not-acked' | 'if-not-closed';

/** src/oncall/escalations/service.ts presentRecipient */
export interface EscalationRecipient {
  type: 'user' | 'team' | 'schedule';
  id: string;
  name?: string | null;
  username?: string | null;
}

export interface EscalationRule {
  condition: EscalationCondition;
  notifyType: 'default' | 'next' | 'previous' | 'users' | 'admins' | 'all';
  delay: { timeAmount: number; timeUnit: 'minutes' };
  recipient: EscalationRecipient;
}

/** src/oncall/escalations/service.ts presentEscalation */
export interface EscalationDetail extends Escalation {
  description?: string | null;
  rules: EscalationRule[];
  repeat?: {
    waitInterval: number;
    count: number;
    resetRecipientStates: boolean;
    closeAlertAfterAll?: boolean;
  };
}

export interface Condition {
  field: string;
  key?: string;
  not: boolean;
  operation: string;
  expectedValue: string;
  order: number;
}

export interface Criteria {
  type: 'match-all' | 'match-all-conditions' | 'match-any-condition';
  conditions?: Condition[];
}

export interface TimeWindow {
  startDay?: string;
  startHour: number;
  startMin: number;
  endDay?: string;
  endHour: number;
  endMin: number;
}

/** src/oncall/routing/service.ts presentRoutingRule, syntheticDefaultRule */
export interface RoutingRule {
  id: string;
  name: string;
  isDefault: boolean;
  order: number;
  criteria: Criteria;
  timezone: string;
  timeRestriction?: {
    type: 'time-of-day' | 'weekday-and-time-of-day';
    restriction?: TimeWindow;
    restrictions?: TimeWindow[];
  };
  notify:
    | { type: 'none' | 'team-members' }
    | { type: 'escalation' | 'schedule'; id: string | null; name: string | null };
}

export type ContactMethod = 'email' | 'sms' | 'voice' | 'mobile';

/** src/oncall/people/routes.ts presentContact */
export interface Contact {
  id: string;
  method: ContactMethod;
  to: string;
  status: {
    enabled: boolean;
    /** False for an SMS or voice contact not verified yet: it is not paged until it is. */
    verified?: boolean;
    /** Why Vigil stopped using it (a STOP reply, a number Twilio says is not valid). */
    disabledReason?: string;
  };
}

/** src/oncall/people/routes.ts presentRuleSummary */
export interface NotificationRuleSummary {
  id: string;
  name: string;
  actionType: 'create-alert' | 'acknowledged-alert' | 'closed-alert' | 'add-note' | 'assigned-alert';
  order: number;
  enabled: boolean;
}

export interface NotificationStep {
  id: string;
  contact: { method: ContactMethod; to: string } | null;
  sendAfter: { timeAmount: number; timeUnit: 'minutes' };
  enabled: boolean;
}

/** src/oncall/people/routes.ts presentRule */
export interface NotificationRule extends NotificationRuleSummary {
  criteria: Criteria;
  steps: NotificationStep[];
}

/** src/accounts/routes.ts (GET /v2/api-keys) */
export interface ApiKey {
  id: string;
  name: string;
  userId: string | null;
  createdAt: string;
  lastUsedAt?: string | null;
  /** Only in the answer that made it. */
  key?: string;
}

export type SecurityHubEventType = 'imported' | 'custom-action' | 'insight-results' | 'imported-v2';

/** src/integrations/routes.ts presentIntegration */
export interface Integration {
  id: string;
  name: string;
  type: 'AmazonSecurityHub' | 'API' | string;
  enabled: boolean;
  ownerTeam: { id: string; name: string };
  assigneeTeam?: { id: string; name: string };
  /** Every type: the alerts it creates notify nobody. */
  suppressNotifications?: boolean;
  createdAt: string;
  updatedAt: string;
  /** Only in the answers that made the key (create, regenerate). */
  apiKey?: string;
  endpointUrl?: string;
  // AmazonSecurityHub
  endpointUrlTemplate?: string;
  externalId?: string;
  verifySignatures?: boolean;
  allowedTopicArns?: string[];
  eventTypes?: SecurityHubEventType[];
  minimumSeverity?: string;
  autoClose?: { resolved: boolean; suppressed: boolean; archived: boolean; passed: boolean };
  alertOnHandledFindings?: boolean;
  sendUpdatesBack?: boolean;
  roleArn?: string;
  region?: string;
  writebackStatus?: Record<string, unknown> | null;
  eventPattern?: { source: string[]; 'detail-type': string[] };
  subscriptions?: { topicArn: string; status: string; subscriptionArn: string | null; updatedAt: string }[];
  // API
  allowReadAccess?: boolean;
  allowWriteAccess?: boolean;
  allowDeleteAccess?: boolean;
  allowConfigurationAccess?: boolean;
  // Email
  emailUsername?: string;
  emailAddress?: string;
  // Webhook (header values masked)
  webhookUrl?: string;
  addAlertDescription?: boolean;
  addAlertDetails?: boolean;
  headers?: Record<string, string>;
}

export interface Payload {
  id: string;
  receivedAt: string;
  messageId: string | null;
  kind: string;
  verdict: string;
  reason: string | null;
  alertIds: string[] | null;
  contentType: string | null;
}

/** src/integrations/securityhub/writeback/role-check.ts */
export interface RoleCheck {
  ok: boolean;
  steps: { step: string; ok: boolean; error?: string }[];
}

export interface Schedule {
  id: string;
  name: string;
  description?: string;
  timezone: string;
  enabled: boolean;
  ownerTeam?: { id: string; name: string };
  /** "all": every rotation's person is on call at once (Opsgenie's); "layers": the highest wins. */
  rotationsCombine?: 'all' | 'layers';
}

/** src/oncall/schedules/routes.ts presentRecipient: a rotation's participant on call. */
export interface Recipient {
  id: string;
  type: 'user' | 'team' | 'escalation';
  name: string;
}

export interface OnCalls {
  onCallParticipants: Recipient[];
}

export interface NextOnCalls {
  nextOnCallRecipients: Recipient[];
  nextShift: { user: Recipient; startDate: string; endDate: string } | null;
  /** Everyone who comes on call at the next change (several in an "all" schedule). */
  nextShifts?: { user: Recipient; startDate: string; endDate: string }[];
}

export interface TimelinePeriod {
  startDate: string;
  endDate: string;
  type: string;
  recipient: Recipient;
}

export interface TimelineRotation {
  id: string;
  name: string;
  order: number;
  periods: TimelinePeriod[];
}

export interface Timeline {
  startDate: string;
  endDate: string;
  finalTimeline: { rotations: TimelineRotation[] };
  baseTimeline: { rotations: TimelineRotation[] };
}

export type DestinationType = 'webhook' | 'slack' | 'slack-webhook' | 'teams';

// The destinations API declares its answers: their types come from the generated schema.
/** A destination: secrets masked, except in the answer that created it. */
export type Destination = Json<paths['/v2/destinations/{id}']['get']['responses'][200]>['data'];

export type Delivery = Json<
  paths['/v2/destinations/{id}/deliveries']['get']['responses'][200]
>['data'][number];

/** POST /v2/destinations/{id}/test */
export type DestinationTestResult = Json<
  paths['/v2/destinations/{id}/test']['post']['responses'][200]
>['data'];

/** src/alerts/saved-searches/routes.ts (GET /v2/alerts/saved-searches) */
export interface SavedSearchSummary {
  id: string;
  name: string;
}

/** src/alerts/saved-searches/service.ts presentSavedSearch */
export interface SavedSearch extends SavedSearchSummary {
  createdAt: string;
  updatedAt: string;
  teams: { id: string; name: string }[];
  description: string;
  query: string;
  owner?: { id: string; username: string };
}
