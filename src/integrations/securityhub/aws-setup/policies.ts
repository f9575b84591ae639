import { SEVERITY_LABELS } from '../../types.js';

/**
 * The event patterns and IAM policies of the AWS side, as plain data. A value that is only known once
 * AWS made something (an ARN, the account id) is a parameter, so the CloudFormation templates pass an
 * intrinsic function (`Fn::GetAtt`, `Fn::Sub`) where the CLI passes the string AWS answered.
 */

export type SetupEvents = 'custom-action' | 'imported';
export type SeverityLabel = (typeof SEVERITY_LABELS)[number];

export const IMPORTED_DETAIL_TYPE = 'Security Hub Findings - Imported';
export const CUSTOM_ACTION_DETAIL_TYPE = 'Security Hub Findings - Custom Action';

/** The severity labels at or above `minimum`. */
export function severitiesFrom(minimum: SeverityLabel): SeverityLabel[] {
  return SEVERITY_LABELS.slice(SEVERITY_LABELS.indexOf(minimum));
}

/**
 * The rule's pattern. Imported findings are limited to NEW and ACTIVE ones: every write-back Vigil makes
 * (NOTIFIED, RESOLVED, a note) is itself an Imported event, and this keeps those echoes in AWS.
 */
export function ruleEventPattern(
  events: SetupEvents,
  options: { customActionArn: unknown; minimumSeverity: SeverityLabel },
): Record<string, unknown> {
  if (events === 'custom-action') {
    return {
      source: ['aws.securityhub'],
      'detail-type': [CUSTOM_ACTION_DETAIL_TYPE],
      resources: [options.customActionArn],
    };
  }
  return {
    source: ['aws.securityhub'],
    'detail-type': [IMPORTED_DETAIL_TYPE],
    detail: {
      findings: {
        Severity: { Label: severitiesFrom(options.minimumSeverity) },
        Workflow: { Status: ['NEW'] },
        RecordState: ['ACTIVE'],
      },
    },
  };
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

/** The delivery policy of AWS's own example: about 20 retries within SNS's hour. */
/** For the HTTPS subscription. */
export const DELIVERY_POLICY = {
  healthyRetryPolicy: {
    numRetries: 20,
    minDelayTarget: 10,
    maxDelayTarget: 30,
    numMinDelayRetries: 3,
    numMaxDelayRetries: 17,
    numNoDelayRetries: 0,
    backoffFunction: 'exponential',
  },
};

/** The header the intake reads an API destination's key from. */
export const API_KEY_HEADER = 'X-Api-Key';
