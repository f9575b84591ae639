import {
  SECURITY_HUB_DETAIL_TYPES,
  type SECURITY_HUB_EVENT_TYPES,
  securityHubEventPattern,
  SEVERITY_LABELS,
} from '../../types.js';

/**
 * The event patterns and IAM policies of the AWS side, as plain data. A value that is only known once
 * AWS made something (an ARN, the account id) is a parameter, so the CloudFormation templates pass an
 * intrinsic function (`Fn::GetAtt`, `Fn::Sub`) where the CLI passes the string AWS answered.
 */

export type SetupEvents = 'custom-action' | 'imported';
export type SeverityLabel = (typeof SEVERITY_LABELS)[number];
export type SecurityHubEventType = (typeof SECURITY_HUB_EVENT_TYPES)[number];

export const IMPORTED_DETAIL_TYPE = SECURITY_HUB_DETAIL_TYPES.imported;
export const CUSTOM_ACTION_DETAIL_TYPE = SECURITY_HUB_DETAIL_TYPES['custom-action'];

/** The finding events a rule for Imported findings takes: Security Hub CSPM's (ASFF) and the new Security Hub's (OCSF). */
export const FINDING_EVENT_TYPES = ['imported', 'imported-v2'] as const;

/** The integration's event types (its eventTypes setting) that the rule of `events` sends. */
export function ruleEventTypes(events: SetupEvents): SecurityHubEventType[] {
  return events === 'custom-action' ? ['custom-action'] : [...FINDING_EVENT_TYPES];
}

/**
 * The rule's pattern. For Imported findings it is the integration page's pattern for the finding events
 * (securityHubEventPattern), with no filter on the findings: the updates that close an alert (RESOLVED,
 * SUPPRESSED, ARCHIVED) or change it (a new severity) must reach Vigil, whose intake applies the minimum
 * severity to new findings and recognises the echoes of its own write-back. A custom action's rule takes
 * only that action's events.
 */
export function ruleEventPattern(
  events: SetupEvents,
  options: { customActionArn: unknown },
): Record<string, unknown> {
  if (events === 'custom-action') {
    return {
      source: ['aws.securityhub'],
      'detail-type': [CUSTOM_ACTION_DETAIL_TYPE],
      resources: [options.customActionArn],
    };
  }
  return securityHubEventPattern({ eventTypes: [...FINDING_EVENT_TYPES] });
}

/** Vigil may assume the write-back role only when it names the integration's external ID. */
export function writebackTrustPolicy(vigilPrincipal: unknown, externalId: unknown) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: vigilPrincipal },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'sts:ExternalId': externalId } },
      },
    ],
  };
}

export const WRITEBACK_POLICY_NAME = 'VigilSecurityHubWriteback';

/**
 * Only what the write-back calls: BatchUpdateFindings for ASFF findings, BatchUpdateFindingsV2 for the new
 * Security Hub's OCSF findings, GetFindings for the test. AWS documents no resource-level ARN for them,
 * hence "*".
 */
export const WRITEBACK_ACTIONS = [
  'securityhub:BatchUpdateFindings',
  'securityhub:BatchUpdateFindingsV2',
  'securityhub:GetFindings',
];

export function writebackPermissions() {
  return {
    Version: '2012-10-17',
    Statement: [{ Effect: 'Allow', Action: WRITEBACK_ACTIONS, Resource: '*' }],
  };
}

export const TOPIC_POLICY_SID = 'VigilEventBridgePublish';

/** EventBridge publishes to the topic by the topic's resource policy (AWS advises no RoleArn on SNS targets). */
export function topicPublishStatement(topicArn: unknown) {
  return {
    Sid: TOPIC_POLICY_SID,
    Effect: 'Allow',
    Principal: { Service: 'events.amazonaws.com' },
    Action: 'sns:Publish',
    Resource: topicArn,
  };
}

/** The role EventBridge assumes to call the API destination, for rules of this account only. */
export function invokeTrustPolicy(account: unknown) {
  return {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sts:AssumeRole',
        Condition: { StringEquals: { 'aws:SourceAccount': account } },
      },
    ],
  };
}

export const INVOKE_POLICY_NAME = 'VigilInvokeApiDestination';

export function invokePermissions(apiDestinationArnPattern: unknown) {
  return {
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Action: 'events:InvokeApiDestination', Resource: apiDestinationArnPattern },
    ],
  };
}

/**
 * For the HTTPS subscription: how SNS retries a delivery Vigil did not take (a 5xx, a timeout, Vigil
 * down), using the whole of the hour SNS allows (AWS-SETUP-FACTS §1.4: total retry time at most 3,600 s;
 * AWS-FACTS §1: at most 100 retries). AWS's own example (20 retries, 10 to 30 s) gives up after 9
 * minutes, so an upgrade or a database failover lost what Security Hub sent meanwhile. Three retries
 * 20 s apart (SNS's default) ride out a blip; then one a minute, so that a delivery arrives within a
 * minute of Vigil coming back. No backoff phase (numRetries is the sum of the other phases): its delays
 * depend on a function AWS does not spell out, and the total must be known to stay within SNS's cap.
 * deliveryRetrySeconds computes it (3,540 s); VIGIL_SNS_MAX_MESSAGE_AGE (5,400 s) still takes the last
 * retry, even when every attempt before it waited out SNS's 15 s timeout.
 */
export const DELIVERY_POLICY = {
  healthyRetryPolicy: {
    numRetries: 61,
    numNoDelayRetries: 0,
    minDelayTarget: 20,
    numMinDelayRetries: 3,
    maxDelayTarget: 60,
    numMaxDelayRetries: 58,
    // Applies only to the backoff phase, which this policy does not have.
    backoffFunction: 'exponential',
  },
};

export interface RetryPolicy {
  numRetries: number;
  numNoDelayRetries: number;
  minDelayTarget: number;
  numMinDelayRetries: number;
  maxDelayTarget: number;
  numMaxDelayRetries: number;
}

/**
 * The longest and shortest time SNS spends retrying under a policy, in seconds, by its four phases:
 * immediate retries (no delay), pre-backoff (minDelayTarget apart), backoff (the retries left over,
 * each between minDelayTarget and maxDelayTarget apart), post-backoff (maxDelayTarget apart).
 */
export function deliveryRetrySeconds(p: RetryPolicy): { min: number; max: number } {
  const backoff = p.numRetries - p.numNoDelayRetries - p.numMinDelayRetries - p.numMaxDelayRetries;
  const fixed = p.numMinDelayRetries * p.minDelayTarget + p.numMaxDelayRetries * p.maxDelayTarget;
  return { min: fixed + backoff * p.minDelayTarget, max: fixed + backoff * p.maxDelayTarget };
}

/** The header the intake reads an API destination's key from. */
export const API_KEY_HEADER = 'X-Api-Key';
