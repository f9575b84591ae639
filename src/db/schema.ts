import type { ColumnType, Generated, Selectable, Updateable } from 'kysely';
import type {
  ContactMethodType,
  Criteria,
  EscalationPlan,
  EscalationRepeat,
  EscalationRule,
  NotificationActionType,
  NotificationRuleRepeat,
  NotificationRuleStep,
  RoutingNotifyType,
  TimeRestriction,
} from '../oncall/model.js';

/** The tables, as Kysely sees them. Kept by hand next to the migrations that create them. */

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type CreatedAt = ColumnType<Date, Date | string | undefined, never>;
/** bigint columns come back from pg as strings; we only write numbers. */
type BigIntColumn = ColumnType<string, number | string, number | string>;

export type OrgPlan = 'standard' | 'premium' | 'enterprise';
export type UserRole = 'owner' | 'admin' | 'user';
export type TeamRole = 'admin' | 'user';
export type Priority = 'P1' | 'P2' | 'P3' | 'P4' | 'P5';

export interface OrganizationsTable {
  id: Generated<string>;
  name: string;
  plan: ColumnType<OrgPlan, OrgPlan | undefined, OrgPlan>;
  created_at: CreatedAt;
}

export interface UsersTable {
  id: Generated<string>;
  org_id: string;
  username: string;
  full_name: string;
  role: UserRole;
  time_zone: ColumnType<string, string | undefined, string>;
  locale: ColumnType<string, string | undefined, string>;
  blocked: ColumnType<boolean, boolean | undefined, boolean>;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  skype_username: ColumnType<string, string | undefined, string>;
  /** Opsgenie's userAddress; {} for a user given none (JSON text on insert and update). */
  user_address: ColumnType<Partial<UserAddress>, string | undefined, string>;
  /** A custom user role of the organization (role is then 'user'); null for the built-in roles. */
  custom_role_id: ColumnType<string | null, string | null | undefined, string | null>;
  /**
   * The username and full name as the user search compares them (accounts/user-search.ts userSearchKey):
   * null for a user written by a process from before migration 0083, and once either name changes (its
   * trigger clears it) until Vigil keys it again.
   */
  search_key: ColumnType<string | null, string | undefined, string | null>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export type ExtendedUserRole = 'user' | 'observer' | 'stakeholder';

/** An organization's custom user role (Opsgenie's /v2/roles): a default role, plus and minus rights. */
export interface CustomUserRolesTable {
  id: Generated<string>;
  org_id: string;
  name: string;
  /** The name as names are compared (db/name-key.ts), unique in the organization (migration 0082). */
  name_key: string;
  extended_role: ExtendedUserRole;
  granted_rights: string[];
  disallowed_rights: string[];
  created_at: CreatedAt;
  updated_at: Timestamp;
}

/** A user's postal address as Opsgenie's users API has it. */
export interface UserAddress {
  country: string;
  state: string;
  city: string;
  line: string;
  zipCode: string;
}

export interface TeamsTable {
  id: Generated<string>;
  org_id: string;
  name: string;
  description: ColumnType<string, string | undefined, string>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface TeamMembersTable {
  team_id: string;
  user_id: string;
  role: TeamRole;
  /** A custom role of the team (role is then 'user'); null for the built-in roles. */
  team_role_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** Where the member stands in the team's list: Opsgenie keeps the order members were given in. */
  position: number;
  created_at: CreatedAt;
}

/** A team's custom role (Opsgenie's Team Role API): the rights it grants, by Opsgenie's names. */
export interface TeamRolesTable {
  id: Generated<string>;
  team_id: string;
  name: string;
  /** The name as names are compared (db/name-key.ts), unique in the team (migration 0082). */
  name_key: string;
  rights: string[];
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface ApiKeysTable {
  id: Generated<string>;
  org_id: string;
  user_id: string | null;
  name: string;
  lookup: string;
  key_hash: Buffer;
  created_at: CreatedAt;
  last_used_at: Date | null;
  /**
   * Who saw the key's value (migration 0052): its maker, and the holders of the key it was made with
   * (accounts/service.ts, `holdersOf`); a null element is someone not known, null all of them.
   */
  holders: (string | null)[] | null;
}

export interface ResponderRef {
  type: 'team' | 'user' | 'escalation' | 'schedule';
  id: string;
}

export interface AlertsTable {
  id: Generated<string>;
  org_id: string;
  tiny_id: ColumnType<string, never, never>;
  alias: string;
  message: string;
  description: ColumnType<string, string | undefined, string>;
  status: ColumnType<'open' | 'closed', 'open' | 'closed' | undefined, 'open' | 'closed'>;
  acknowledged: ColumnType<boolean, boolean | undefined, boolean>;
  is_seen: ColumnType<boolean, boolean | undefined, boolean>;
  snoozed: ColumnType<boolean, boolean | undefined, boolean>;
  snoozed_until: Date | null;
  count: ColumnType<number, number | undefined, number>;
  last_occurred_at: Timestamp;
  created_at: CreatedAt;
  updated_at: Timestamp;
  source: ColumnType<string, string | undefined, string>;
  owner: ColumnType<string, string | undefined, string>;
  priority: ColumnType<Priority, Priority | undefined, Priority>;
  entity: ColumnType<string, string | undefined, string>;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  details: ColumnType<Record<string, string>, string | undefined, string>;
  actions: ColumnType<string[], string[] | undefined, string[]>;
  responders: ColumnType<ResponderRef[], string | undefined, string>;
  visible_to: ColumnType<ResponderRef[], string | undefined, string>;
  team_ids: ColumnType<string[], string[] | undefined, string[]>;
  integration_id: string | null;
  integration_name: string | null;
  integration_type: string | null;
  acknowledged_by: string | null;
  ack_time: BigIntColumn | null;
  closed_by: string | null;
  close_time: BigIntColumn | null;
  /** The engine holds some team's notifications of it (alert_notification_holds): occurrences are counted. */
  notification_held: ColumnType<boolean, boolean | undefined, boolean>;
  /**
   * The teams whose notification policies apply to the alert's escalations (its create's policy scope,
   * alerts/service.ts); null for an alert made before migration 0076: every team responder's.
   */
  policy_team_ids: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
}

export interface AlertLogsTable {
  id: ColumnType<string, never, never>;
  alert_id: string;
  created_at: CreatedAt;
  type: string;
  log: string;
  owner: string;
}

export interface AlertNotesTable {
  id: ColumnType<string, never, never>;
  alert_id: string;
  note: string;
  owner: string;
  created_at: CreatedAt;
}

export interface AlertRequestsTable {
  id: string;
  org_id: string;
  action: string;
  success: boolean;
  status: string;
  alert_id: string | null;
  alias: string | null;
  integration_id: string | null;
  processed_at: CreatedAt;
}

/** An alert event on its way to one consumer (engine/events). */
export interface EventDeliveriesTable {
  id: ColumnType<string, never, never>;
  consumer: string;
  seq: ColumnType<string, number | string, never>;
  event: ColumnType<Record<string, unknown>, string, string>;
  due_at: Date;
  lease_until: Date | null;
  attempts: ColumnType<number, number | undefined, number>;
  last_error: string | null;
  dead_at: Date | null;
}

/** When a piece of periodic work runs next (engine/retention). */
export interface WorkSchedulesTable {
  name: string;
  next_at: Date;
}

export interface OutboxJobsTable {
  id: ColumnType<string, never, never>;
  task: string;
  payload: ColumnType<unknown, string, never>;
  created_at: CreatedAt;
}

/** Opsgenie's alert policies (alerts/policies/): global when team_id is null. */
export interface AlertPoliciesTable {
  id: Generated<string>;
  org_id: string;
  team_id: string | null;
  name: string;
  policy_description: ColumnType<string, string | undefined, string>;
  position: number;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  filter: ColumnType<Record<string, unknown>, string, string>;
  modifications: ColumnType<Record<string, unknown>, string, string>;
  continue: ColumnType<boolean, boolean | undefined, boolean>;
  type: ColumnType<PolicyType, PolicyType | undefined, never>;
  /** A notification policy's actions (alerts/policies/notification-model.ts); null for an alert policy. */
  notification_actions: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  /** Alerts created outside it are not the policy's; null: it always applies. */
  time_restriction: ColumnType<TimeRestriction | null, string | null | undefined, string | null>;
  /** The zone its time restriction and a delay until a time of day are read in. */
  timezone: ColumnType<string, string | undefined, string>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export type PolicyType = 'alert' | 'notification';

/**
 * An alert a notification policy's autoCloseAction closes at `close_at` (engine clock) if still open and the
 * policy still closes it: one row per alert and policy.
 */
export interface AlertAutoClosesTable {
  alert_id: string;
  org_id: string;
  close_at: Date;
  /** The policy that scheduled it (no foreign key); null on rows from before migration 0046. */
  policy_id: string | null;
  policy_name: string;
  created_at: CreatedAt;
}

/** A team's escalation of an alert that a deduplicationAction holds until the alert occurs `count` times. */
export interface AlertNotificationHoldsTable {
  alert_id: string;
  team_id: string;
  org_id: string;
  /** No foreign key: a hold whose policy is gone counts as met. */
  policy_id: string;
  policy_name: string;
  count: number;
  /** Frequency-based: the occurrences must fall within this long; null for value-based. */
  window_ms: BigIntColumn | null;
  occurrences: ColumnType<Date[], Date[], Date[]>;
  created_at: CreatedAt;
}

/** An autoRestartAction's next restart (engine clock) of a team's escalation of an alert. */
export interface AlertAutoRestartsTable {
  alert_id: string;
  team_id: string;
  org_id: string;
  restart_at: Date;
  every_ms: BigIntColumn;
  remaining: number;
  policy_id: string;
  policy_name: string;
  created_at: CreatedAt;
}

/** The message an alert's email thread keeps in its subject (migration 0053; notify/email-threads.ts). */
export interface EmailThreadsTable {
  alert_id: string;
  message: string;
}

/** A notification rule's repeat of a page to a person (engine clock): see migration 0033. */
export interface NotificationRepeatsTable {
  alert_id: string;
  user_id: string;
  org_id: string;
  rule_id: string;
  /** The repeated page's key prefix: round n's messages are keyed under `<key_prefix>:repeat:<n>`. */
  key_prefix: string;
  stop_on: Exclude<NotificationStopOn, 'none'>;
  reason: string;
  /** Why this person (the page's recipient line). */
  why: string;
  escalation_run_id: string | null;
  /** Rounds made after the first. */
  rounds: ColumnType<number, number | undefined, number>;
  next_at: Date;
  created_at: CreatedAt;
}

export interface IntegrationsTable {
  id: Generated<string>;
  org_id: string;
  type: string;
  name: string;
  owner_team_id: string;
  assignee_team_id: string | null;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  api_key_lookup: string;
  api_key_hash: Buffer;
  external_id: string;
  settings: ColumnType<Record<string, unknown>, string, string>;
  writeback_status: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  /** API integrations' actions (integrations/actions/); null when never set. */
  actions: ColumnType<Record<string, unknown> | null, string | null | undefined, string | null>;
  /**
   * The Opsgenie type name of an API integration made as another of Opsgenie's types (Prometheus, Grafana…),
   * shown as its type (migration 0078); null for every other integration.
   */
  opsgenie_type: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface SnsSubscriptionsTable {
  integration_id: string;
  topic_arn: string;
  subscription_arn: string | null;
  status: 'confirmed' | 'unsubscribed' | 'pending';
  /** The topic's subscriptions Vigil confirmed and SNS has not reported removed (empty: unknown). */
  confirmed_arns: ColumnType<string[], string[] | undefined, string[]>;
  updated_at: Timestamp;
}

export interface IntegrationPayloadsTable {
  id: ColumnType<string, never, never>;
  integration_id: string;
  received_at: CreatedAt;
  message_id: string | null;
  kind: string;
  verdict: string;
  reason: string | null;
  alert_ids: ColumnType<string[], string[] | undefined, string[]>;
  content_type: string | null;
  body: string;
  /** The HTTP request that stored the delivery, for logs. */
  request_id: string | null;
  /** Findings of the delivery already processed (a large delivery is taken in chunks). */
  progress: ColumnType<number, number | undefined, number>;
  partial: ColumnType<DeliveryProgress | null, string | null | undefined, string | null>;
}

/** What became of a delivery's findings so far, while it is processed in chunks. */
export interface DeliveryProgress {
  verdicts: Record<string, number>;
  alertIds: string[];
  /** The first distinct reasons; `moreReasons` counts the others. */
  reasons: string[];
  moreReasons: number;
}

export interface SnsProcessedMessagesTable {
  integration_id: string;
  message_id: string;
  processed_at: CreatedAt;
}

/** An Email integration's messages by Message-ID (integrations/email/repository.ts). */
export interface EmailMessagesTable {
  integration_id: string;
  message_key: string;
  request_id: string;
  verdict: 'created' | 'ignored';
  alert_id: string | null;
  received_at: CreatedAt;
}

export interface SecurityHubFindingsTable {
  integration_id: string;
  /** Digest of (product_arn, finding_id): the key, whatever their length. */
  finding_key: string;
  product_arn: string;
  finding_id: string;
  alert_id: string | null;
  /** The alert it fed, once that alert is deleted (set by a trigger): its queued changes still go back. */
  last_alert_id: ColumnType<string | null, never, never>;
  provider_severity: string | null;
  severity_label: string | null;
  workflow_status: string | null;
  record_state: string | null;
  compliance_status: string | null;
  note_text: string | null;
  finding_updated_at: string | null;
  written_back: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  /** The EventBridge time of the last event applied (migration 0056): orders events of equal UpdatedAt. */
  event_time: ColumnType<Date | null, Date | null | undefined, Date | null>;
  last_seen_at: Timestamp;
  format: ColumnType<FindingFormat, FindingFormat | undefined, FindingFormat>;
  /** AwsAccountId, or the OCSF finding's cloud.account.uid (which BatchUpdateFindingsV2 needs). */
  aws_account_id: string | null;
}

export type WritebackField = 'workflow' | 'severity' | 'note';

/** ASFF findings are written back by BatchUpdateFindings, OCSF ones by BatchUpdateFindingsV2. */
export type FindingFormat = 'asff' | 'ocsf';

export interface SecurityHubWritebacksTable {
  id: ColumnType<string, never, never>;
  integration_id: string;
  alert_id: string | null;
  finding_key: string;
  product_arn: string;
  finding_id: string;
  format: ColumnType<FindingFormat, FindingFormat | undefined, FindingFormat>;
  aws_account_id: string | null;
  field: WritebackField;
  value: ColumnType<Record<string, string>, string, string>;
  event_id: string;
  seq: ColumnType<string, number | undefined, never>;
  status: ColumnType<'pending' | 'sending' | 'done' | 'failed' | 'superseded', string | undefined, string>;
  attempts: ColumnType<number, number | undefined, number>;
  not_before: Timestamp;
  lease_until: Date | null;
  /** The claim that is sending it (migration 0047): only that claim may renew, send or settle it. */
  claim_id: string | null;
  last_error: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface AwsRateBucketsTable {
  key: string;
  tokens: number;
  updated_at: Date;
}

/** JSON columns: read as the stored value, written as its JSON text. */
type Json<T> = ColumnType<T, string, string>;
type JsonWithDefault<T> = ColumnType<T, string | undefined, string>;

export interface ContactMethodsTable {
  id: Generated<string>;
  user_id: string;
  method: ContactMethodType;
  address: string;
  /** The address as its owner wrote it, when that differs from `address` (what the API answers as `to`). */
  given_to: ColumnType<string | null, string | null | undefined, string | null>;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: CreatedAt;
  /** Null until a code sent to it was entered (destination types that require it: SMS, voice). */
  verified_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** What the provider said is wrong with it (it is not paged until verified again). */
  problem: ColumnType<string | null, string | null | undefined, string | null>;
  problem_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface ContactVerificationsTable {
  contact_method_id: string;
  code_hash: Buffer;
  /** The address the code was sent to: it verifies the contact only while that is still its address. */
  address: string | null;
  sent_at: Date;
  expires_at: Date;
  attempts: ColumnType<number, number | undefined, number>;
}

export interface SmsReplyCodesTable {
  id: Generated<string>;
  org_id: string;
  phone: string;
  code: number;
  /** Null once the person was deleted: the code stays taken (and acts on nothing) until it is freed. */
  user_id: string | null;
  alert_ids: string[];
  created_at: Date;
  /** When its alerts were first seen all closed (or gone): it is answered for, and given again a day later. */
  spent_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

/**
 * A verification code or test message sent, by address rather than by contact method (it outlives the
 * contact and its person): the waits and the cap an hour are counted from these.
 */
export interface VerificationSendsTable {
  id: Generated<string>;
  org_id: string;
  /** The person whose contact it was sent to. */
  user_id: string;
  method: string;
  address: string;
  kind: 'code' | 'test';
  sent_at: Date;
}

export interface NotificationRulesTable {
  id: Generated<string>;
  user_id: string;
  name: string;
  action_type: NotificationActionType;
  criteria: JsonWithDefault<Criteria>;
  steps: JsonWithDefault<NotificationRuleStep[]>;
  time_restriction: ColumnType<TimeRestriction | null, string | null | undefined, string | null>;
  repeat: ColumnType<NotificationRuleRepeat | null, string | null | undefined, string | null>;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  position: ColumnType<number, number | undefined, number>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface SchedulesTable {
  id: Generated<string>;
  org_id: string;
  name: string;
  description: ColumnType<string, string | undefined, string>;
  timezone: string;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  owner_team_id: string | null;
  /** 'all' (new schedules' default, Opsgenie's) or 'layers' (schedules from before migration 0039). */
  rotations_combine: ColumnType<
    RotationsCombineColumn,
    RotationsCombineColumn | undefined,
    RotationsCombineColumn
  >;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export type RotationsCombineColumn = 'all' | 'layers';

export type RotationTypeColumn = 'hourly' | 'daily' | 'weekly' | 'custom';

/** A rotation's turn: someone (or a team, or an escalation) on call, or `none`: nobody on call in it. */
export type RotationParticipantColumn =
  { type: 'user' | 'team' | 'escalation'; id: string } | { type: 'none' };

export interface ScheduleRotationsTable {
  id: Generated<string>;
  schedule_id: string;
  name: string;
  position: number;
  type: RotationTypeColumn;
  length: number;
  /** In turn order; written as JSON text. */
  participants: ColumnType<RotationParticipantColumn[], string | undefined, string>;
  start_date: ColumnType<Date, Date | string, Date | string>;
  end_date: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  time_restriction: ColumnType<TimeRestriction | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
}

export interface ScheduleOverridesTable {
  id: Generated<string>;
  schedule_id: string;
  alias: string;
  /** null: nobody is on call in the override's window (Opsgenie's `none`; migration 0050). */
  user_id: string | null;
  start_date: ColumnType<Date, Date | string, Date | string>;
  end_date: ColumnType<Date, Date | string, Date | string>;
  rotation_ids: ColumnType<string[] | null, string[] | null | undefined, string[] | null>;
  created_at: CreatedAt;
}

export interface EscalationsTable {
  id: Generated<string>;
  org_id: string;
  name: string;
  description: ColumnType<string, string | undefined, string>;
  owner_team_id: string | null;
  rules: Json<EscalationRule[]>;
  repeat: ColumnType<EscalationRepeat | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface TeamRoutingRulesTable {
  id: Generated<string>;
  team_id: string;
  name: string;
  position: ColumnType<number, number | undefined, number>;
  is_default: ColumnType<boolean, boolean | undefined, boolean>;
  criteria: JsonWithDefault<Criteria>;
  timezone: ColumnType<string, string | undefined, string>;
  time_restriction: ColumnType<TimeRestriction | null, string | null | undefined, string | null>;
  notify_type: RoutingNotifyType;
  target_id: string | null;
  created_at: CreatedAt;
}

export type EscalationState = 'active' | 'paused' | 'finished';

export interface AlertEscalationsTable {
  id: Generated<string>;
  alert_id: string;
  org_id: string;
  source: string;
  escalation_id: string | null;
  plan: Json<EscalationPlan>;
  state: EscalationState;
  pause_reason: string | null;
  step: ColumnType<number, number | undefined, number>;
  skipped_from: ColumnType<number | null, number | null | undefined, number | null>;
  replay_until: ColumnType<number | null, number | null | undefined, number | null>;
  base_at: Timestamp;
  /** When it started or last started over; null on runs written before 0071 (their base_at). */
  started_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /** When the last escalate that moved it on was made. */
  escalated_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  next_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  paused_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  finished_reason: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export type NotificationState = 'pending' | 'sending' | 'sent' | 'failed' | 'cancelled';
export type NotificationStopOn = 'acknowledged' | 'closed' | 'none';
export interface NotificationContext {
  actor?: string;
  note?: string;
}

/** A notification rule's step as it planned a message (oncall/model.ts NotificationRuleStep). */
export type PlannedRuleStep = Pick<NotificationRuleStep, 'id' | 'contactId' | 'sendAfterMinutes'>;

export interface NotificationsTable {
  id: Generated<string>;
  idempotency_key: string;
  org_id: string;
  alert_id: string;
  /** Null for a destination that is not a person (then destination_name says what it is). */
  user_id: string | null;
  destination_name: ColumnType<string | null, string | null | undefined, string | null>;
  contact_method_id: string | null;
  /** The destination type (notify/destinations): a contact method's, or another kind. */
  method: string;
  address: string;
  kind: NotificationActionType;
  reason: ColumnType<string, string | undefined, string>;
  escalation_run_id: string | null;
  /** The notification rule that planned it; null for a message no rule planned (rule_step too). */
  rule_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** That rule's step as it was when planned, checked again when the message falls due. */
  rule_step: ColumnType<PlannedRuleStep | null, string | null | undefined, string | null>;
  state: ColumnType<NotificationState, NotificationState | undefined, NotificationState>;
  stop_on: ColumnType<NotificationStopOn, NotificationStopOn | undefined, NotificationStopOn>;
  context: JsonWithDefault<NotificationContext>;
  due_at: Timestamp;
  /**
   * Its alert's priority when it was planned, P1..P5 as 1..5 (3 when not given, and for messages planned
   * before migration 0074): the sender claims by it first, then by due time.
   */
  priority: ColumnType<number, number | undefined, number>;
  attempts: ColumnType<number, number | undefined, number>;
  lease_until: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  sent_at: ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
  /**
   * When its destination's throttle let it through, while it is being sent (it counts meanwhile): marked
   * by processes from before migration 0084 only; newer ones mark in `throttle_sends`.
   */
  let_through_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /**
   * When its provider first answered it 429, on the engine's clock (notify/sender.ts): how long it has
   * been rate limited. Null: never.
   */
  rate_limited_since: ColumnType<Date | null, Date | null | undefined, Date | null>;
  provider_id: string | null;
  last_error: string | null;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

/**
 * A text or call a destination's throttle counts (migration 0084), kept apart from its message so that
 * it counts whatever becomes of that (an alert deleted): let through and being sent (`sent` false), or
 * recorded sent. Deleted by retention once past the longest throttle window.
 */
export interface ThrottleSendsTable {
  notification_id: string;
  method: string;
  address: string;
  /** The person (their id) or named destination it was for: messages that went as one count once. */
  who: string | null;
  at: Date;
  sent: boolean;
}

export interface AppSecretsTable {
  name: string;
  value: Buffer;
  created_at: CreatedAt;
}

export interface PushSubscriptionsTable {
  id: string;
  user_id: string;
  endpoint: string;
  /** The browser's ECDH P-256 public key (65-byte uncompressed point), base64url. */
  p256dh: string;
  /** The browser's 16-byte auth secret, base64url. */
  auth: string;
  device_name: string;
  created_at: CreatedAt;
  last_sent_at: Date | null;
  /** The `mobile` contact method that stands for this device (its address is this row's id). */
  contact_method_id: string;
}

/** The Slack message a `slack` team destination posted for an alert (notify/slack). */
export interface SlackMessagesTable {
  destination_id: string;
  alert_id: string;
  org_id: string;
  channel: string;
  ts: string;
  /** The alert's first line as posted, kept to edit the message once the alert is deleted. */
  title: string;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

/** A Slack user who acts as a Vigil user when pressing a button. */
export interface SlackUserLinksTable {
  org_id: string;
  /** '' when an admin linked the user without naming the workspace: any workspace of the bot. */
  slack_team_id: string;
  slack_user_id: string;
  user_id: string;
  /**
   * Made by an organization admin (PUT /v2/users/{id}/slack), not by the email match: it holds for a
   * presser of any workspace. False for links made before this was recorded.
   */
  by_admin: boolean;
  created_at: CreatedAt;
}

/** A Slack user an admin unlinked: the email match links them to no one of the organization. */
export interface SlackEmailMatchOffTable {
  org_id: string;
  slack_user_id: string;
  created_at: CreatedAt;
}

/** A place a team's (or an integration's) alert events go that is not a person (notify/team-destinations). */
export interface TeamDestinationsTable {
  id: Generated<string>;
  org_id: string;
  /** Exactly one of team_id and integration_id is set. */
  team_id: string | null;
  integration_id: string | null;
  type: string;
  name: string;
  /** As the kind's parseConfig returned it (secrets unmasked). */
  config: ColumnType<Record<string, unknown>, string, string>;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  disabled_reason: ColumnType<string | null, string | null | undefined, string | null>;
  disabled_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  failing_since: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** Held as a whole until then: it answered 429 with a Retry-After (migration 0065). */
  rate_limited_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export type TeamDestinationDeliveryState = 'pending' | 'sending' | 'sent' | 'failed';

/** One alert event for one team destination, and what became of it. */
export interface TeamDestinationDeliveriesTable {
  id: Generated<string>;
  destination_id: string;
  event_id: string;
  alert_id: string;
  event_type: string;
  event: ColumnType<Record<string, unknown>, string, never>;
  seq: BigIntColumn;
  state: ColumnType<
    TeamDestinationDeliveryState,
    TeamDestinationDeliveryState | undefined,
    TeamDestinationDeliveryState
  >;
  attempts: ColumnType<number, number | undefined, number>;
  due_at: Timestamp;
  lease_until: ColumnType<Date | null, Date | null | undefined, Date | null>;
  first_attempt_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  last_error: ColumnType<string | null, string | null | undefined, string | null>;
  response_status: ColumnType<number | null, number | null | undefined, number | null>;
  response_excerpt: ColumnType<string | null, string | null | undefined, string | null>;
  sent_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /**
   * An attempt's request may have reached the receiver (a 2xx, or no answer once it may have gone out):
   * the destination was told of the alert (repository.ts insertDeliveries). Never set back to false.
   */
  may_have_reached: ColumnType<boolean, boolean | undefined, boolean>;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface EngineHandledEventsTable {
  event_id: string;
  handled_at: CreatedAt;
}

export interface UserPasswordsTable {
  user_id: string;
  hash: string;
  updated_at: Date;
  /**
   * Who was handed the link the password was set through (migration 0077), as the link's `given_to`; NULL
   * for a password set otherwise (an emailed link, the first set-up).
   */
  given_to: ColumnType<
    (string | null)[] | null,
    (string | null)[] | null | undefined,
    (string | null)[] | null
  >;
}

export interface ConsoleSessionsTable {
  id: Generated<string>;
  token_hash: Buffer;
  user_id: string;
  created_at: Date;
  last_seen_at: Date;
  expires_at: Date;
  user_agent: string | null;
}

export interface SignInFailuresTable {
  id: Generated<string>;
  email: string;
  ip: string;
  failed_at: Date;
}

/** An API key's standing against the request rate limit, per request domain (migration 0075). */
export interface KeyRateLimitsTable {
  bucket: string;
  tat_ms: number;
}

export type AccountTokenPurpose = 'invitation' | 'password-reset';

export interface AccountTokensTable {
  token_hash: Buffer;
  user_id: string;
  purpose: AccountTokenPurpose;
  created_at: Date;
  expires_at: Date;
  used_at: Date | null;
  /** Who a link that could not be emailed was handed to (migration 0061); NULL for an emailed one. */
  given_to: ColumnType<
    (string | null)[] | null,
    (string | null)[] | null | undefined,
    (string | null)[] | null
  >;
}

/** A password reset someone asked for, by email (lower-cased), until a worker has sent it. */
export interface PasswordResetRequestsTable {
  email: string;
  requested_at: Date;
  leased_until: Date | null;
}

export interface OrganizationSsoTable {
  org_id: string;
  issuer: string;
  client_id: string;
  client_secret: string;
  label: string;
  enabled: boolean;
  updated_at: Date;
}

export interface SsoLoginsTable {
  state: string;
  org_id: string;
  code_verifier: string;
  nonce: string;
  return_to: string;
  expires_at: Date;
}

/** A heartbeat (Opsgenie's Heartbeat API); times are on the engine's Clock. */
export interface HeartbeatsTable {
  id: Generated<string>;
  org_id: string;
  name: string;
  description: ColumnType<string, string | undefined, string>;
  interval_amount: number;
  interval_unit: HeartbeatIntervalUnit;
  enabled: ColumnType<boolean, boolean | undefined, boolean>;
  owner_team_id: string | null;
  alert_message: ColumnType<string, string | undefined, string>;
  alert_tags: ColumnType<string[], string[] | undefined, string[]>;
  alert_priority: ColumnType<Priority, Priority | undefined, Priority>;
  last_ping_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** When the current wait for a ping began: the last ping, or when it was enabled. */
  watch_from: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** When it expires unless pinged first; null while disabled or expired. */
  expires_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  expired: ColumnType<boolean, boolean | undefined, boolean>;
  /** The alert its last expiry raised, until a ping closes it. */
  alert_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export type HeartbeatIntervalUnit = 'minutes' | 'hours' | 'days';

/** A saved alert search (Opsgenie's Alert API saved searches). */
export interface SavedSearchesTable {
  id: Generated<string>;
  org_id: string;
  name: string;
  /** The name as names are compared (db/name-key.ts), unique in the organization (migration 0080). */
  name_key: string;
  description: ColumnType<string, string | undefined, string>;
  query: string;
  /** Null once the owner is deleted. */
  owner_user_id: string | null;
  team_ids: ColumnType<string[], string[] | undefined, string[]>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export type MaintenanceTimeType =
  'for-5-minutes' | 'for-30-minutes' | 'for-1-hour' | 'indefinitely' | 'schedule';

/** A maintenance window (Opsgenie's Maintenance API); its times are on the engine's Clock. */
export interface MaintenancesTable {
  id: Generated<string>;
  org_id: string;
  description: ColumnType<string, string | undefined, string>;
  time_type: MaintenanceTimeType;
  start_at: Date;
  /** Null for an indefinite maintenance. */
  end_at: Date | null;
  cancelled_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

/** An integration a maintenance disables. */
export interface MaintenanceRulesTable {
  maintenance_id: string;
  integration_id: string;
  state: ColumnType<'disabled', 'disabled' | undefined, 'disabled'>;
  position: number;
}

/** What a maintenance's rule does to a policy while open: runs it though disabled, or keeps it from running. */
export type MaintenancePolicyRuleState = 'enabled' | 'disabled';

/**
 * An alert policy a maintenance switches on or off (`state`, migration 0051); `position` counts with the
 * maintenance's integration rules.
 */
export interface MaintenancePolicyRulesTable {
  maintenance_id: string;
  policy_id: string;
  state: ColumnType<
    MaintenancePolicyRuleState,
    MaintenancePolicyRuleState | undefined,
    MaintenancePolicyRuleState
  >;
  position: number;
}

/** A file attached to an alert; `content` is read only to download it. */
export interface AlertAttachmentsTable {
  id: ColumnType<string, never, never>;
  alert_id: string;
  org_id: string;
  name: string;
  content_type: string;
  size: number;
  /** Lowercase hex. */
  sha256: string;
  index_file: string | null;
  content: Buffer;
  added_by: string;
  added_by_user_id: string | null;
  added_by_integration_id: string | null;
  created_at: CreatedAt;
}

/** A line of a team's log: a change to the team, its members or its routing rules. */
export interface TeamLogsTable {
  id: ColumnType<string, never, never>;
  team_id: string;
  log: string;
  owner: string;
  created_at: CreatedAt;
}

/** An incident (Opsgenie's Incident API): its people are paged through its alerts (incident_alerts). */
export type IncidentStatus = 'open' | 'resolved' | 'closed';

export interface IncidentsTable {
  id: Generated<string>;
  org_id: string;
  tiny_id: ColumnType<string, string, never>;
  message: string;
  description: ColumnType<string, string | undefined, string>;
  status: ColumnType<IncidentStatus, IncidentStatus | undefined, IncidentStatus>;
  priority: ColumnType<Priority, Priority | undefined, Priority>;
  tags: ColumnType<string[], string[] | undefined, string[]>;
  details: ColumnType<Record<string, string>, string | undefined, string>;
  responders: ColumnType<ResponderRef[], string | undefined, string>;
  team_ids: ColumnType<string[], string[] | undefined, string[]>;
  impacted_services: ColumnType<string[], string[] | undefined, string[]>;
  status_page_entry: ColumnType<{ title?: string; detail?: string } | null, string | null, string | null>;
  notify_stakeholders: ColumnType<boolean, boolean | undefined, boolean>;
  created_by: ColumnType<string, string | undefined, never>;
  integration_id: ColumnType<string | null, string | null | undefined, never>;
  created_at: CreatedAt;
  updated_at: Timestamp;
}

export interface IncidentCountersTable {
  org_id: string;
  last_tiny_id: string;
}

export interface IncidentAlertsTable {
  incident_id: string;
  alert_id: string;
  created_at: CreatedAt;
}

export interface IncidentNotesTable {
  id: ColumnType<string, never, never>;
  incident_id: string;
  note: string;
  owner: string;
  created_at: CreatedAt;
}

export interface IncidentLogsTable {
  id: ColumnType<string, never, never>;
  incident_id: string;
  type: string;
  log: string;
  owner: string;
  created_at: CreatedAt;
}

export interface IncidentRequestsTable {
  id: string;
  org_id: string;
  action: string;
  success: boolean;
  status: string;
  incident_id: string | null;
  integration_id: string | null;
  processed_at: CreatedAt;
}

/** A process that wants the live feed's announcements now (migration 0041). */
export interface AlertFeedWishesTable {
  process_id: string;
  /** On the process's clock. */
  renewed_at: Date;
}

export interface Database {
  alert_feed_wishes: AlertFeedWishesTable;
  organization_sso: OrganizationSsoTable;
  sso_logins: SsoLoginsTable;
  user_passwords: UserPasswordsTable;
  console_sessions: ConsoleSessionsTable;
  sign_in_failures: SignInFailuresTable;
  key_rate_limits: KeyRateLimitsTable;
  account_tokens: AccountTokensTable;
  password_reset_requests: PasswordResetRequestsTable;
  contact_methods: ContactMethodsTable;
  contact_verifications: ContactVerificationsTable;
  sms_reply_codes: SmsReplyCodesTable;
  verification_sends: VerificationSendsTable;
  notification_rules: NotificationRulesTable;
  schedules: SchedulesTable;
  schedule_rotations: ScheduleRotationsTable;
  schedule_overrides: ScheduleOverridesTable;
  escalations: EscalationsTable;
  team_routing_rules: TeamRoutingRulesTable;
  alert_escalations: AlertEscalationsTable;
  notifications: NotificationsTable;
  throttle_sends: ThrottleSendsTable;
  app_secrets: AppSecretsTable;
  push_subscriptions: PushSubscriptionsTable;
  slack_messages: SlackMessagesTable;
  slack_user_links: SlackUserLinksTable;
  slack_email_match_off: SlackEmailMatchOffTable;
  team_destinations: TeamDestinationsTable;
  team_destination_deliveries: TeamDestinationDeliveriesTable;
  engine_handled_events: EngineHandledEventsTable;
  securityhub_writebacks: SecurityHubWritebacksTable;
  aws_rate_buckets: AwsRateBucketsTable;
  integrations: IntegrationsTable;
  sns_subscriptions: SnsSubscriptionsTable;
  integration_payloads: IntegrationPayloadsTable;
  sns_processed_messages: SnsProcessedMessagesTable;
  email_messages: EmailMessagesTable;
  securityhub_findings: SecurityHubFindingsTable;
  outbox_jobs: OutboxJobsTable;
  event_deliveries: EventDeliveriesTable;
  work_schedules: WorkSchedulesTable;
  organizations: OrganizationsTable;
  users: UsersTable;
  teams: TeamsTable;
  team_members: TeamMembersTable;
  team_roles: TeamRolesTable;
  custom_user_roles: CustomUserRolesTable;
  api_keys: ApiKeysTable;
  alerts: AlertsTable;
  alert_logs: AlertLogsTable;
  alert_notes: AlertNotesTable;
  alert_requests: AlertRequestsTable;
  heartbeats: HeartbeatsTable;
  saved_searches: SavedSearchesTable;
  maintenances: MaintenancesTable;
  maintenance_rules: MaintenanceRulesTable;
  maintenance_policy_rules: MaintenancePolicyRulesTable;
  alert_attachments: AlertAttachmentsTable;
  team_logs: TeamLogsTable;
  alert_policies: AlertPoliciesTable;
  alert_auto_closes: AlertAutoClosesTable;
  alert_notification_holds: AlertNotificationHoldsTable;
  alert_auto_restarts: AlertAutoRestartsTable;
  notification_repeats: NotificationRepeatsTable;
  email_threads: EmailThreadsTable;
  incidents: IncidentsTable;
  incident_counters: IncidentCountersTable;
  incident_alerts: IncidentAlertsTable;
  incident_notes: IncidentNotesTable;
  incident_logs: IncidentLogsTable;
  incident_requests: IncidentRequestsTable;
}

export type AlertRow = Selectable<AlertsTable>;
export type AlertUpdate = Updateable<AlertsTable>;
export type UserRow = Selectable<UsersTable>;
export type TeamRow = Selectable<TeamsTable>;
export type TeamRoleRow = Selectable<TeamRolesTable>;
export type CustomUserRoleRow = Selectable<CustomUserRolesTable>;
export type IntegrationRow = Selectable<IntegrationsTable>;
export type ContactMethodRow = Selectable<ContactMethodsTable>;
export type NotificationRuleRow = Selectable<NotificationRulesTable>;
export type ScheduleRow = Selectable<SchedulesTable>;
export type ScheduleRotationRow = Selectable<ScheduleRotationsTable>;
export type ScheduleOverrideRow = Selectable<ScheduleOverridesTable>;
export type EscalationRow = Selectable<EscalationsTable>;
export type TeamRoutingRuleRow = Selectable<TeamRoutingRulesTable>;
export type AlertEscalationRow = Selectable<AlertEscalationsTable>;
export type NotificationRow = Selectable<NotificationsTable>;
export type TeamDestinationRow = Selectable<TeamDestinationsTable>;
export type HeartbeatRow = Selectable<HeartbeatsTable>;
export type SavedSearchRow = Selectable<SavedSearchesTable>;
export type MaintenanceRow = Selectable<MaintenancesTable>;
export type IncidentRow = Selectable<IncidentsTable>;
export type TeamDestinationDeliveryRow = Selectable<TeamDestinationDeliveriesTable>;
