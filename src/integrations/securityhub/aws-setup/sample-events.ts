import { randomUUID } from 'node:crypto';
import { CUSTOM_ACTION_DETAIL_TYPE, IMPORTED_DETAIL_TYPE, type SeverityLabel } from './policies.js';

/**
 * Events shaped as Security Hub sends them (AWS-SETUP-FACTS §2, §4), for TestEventPattern: EventBridge
 * refuses PutEvents with source aws.securityhub, so a rule's pattern is proved against samples instead.
 */

const NORMALIZED: Record<SeverityLabel, number> = {
  INFORMATIONAL: 0,
  LOW: 20,
  MEDIUM: 50,
  HIGH: 80,
  CRITICAL: 95,
};

export interface SampleOptions {
  account: string;
  region: string;
  severity: SeverityLabel;
  workflowStatus?: 'NEW' | 'NOTIFIED' | 'RESOLVED' | 'SUPPRESSED';
}

function finding(options: SampleOptions) {
  const id = `arn:aws:securityhub:${options.region}:${options.account}:subscription/vigil-check/finding/${randomUUID()}`;
  return {
    SchemaVersion: '2018-10-08',
    Id: id,
    ProductArn: `arn:aws:securityhub:${options.region}::product/aws/securityhub`,
    GeneratorId: 'vigil-aws-check',
    AwsAccountId: options.account,
    Types: ['Software and Configuration Checks'],
    CreatedAt: new Date().toISOString(),
    UpdatedAt: new Date().toISOString(),
    Severity: { Label: options.severity, Normalized: NORMALIZED[options.severity] },
    Title: 'Vigil check: a sample finding',
    Description: 'A sample finding that vigil aws check tests the rule with; it is never sent.',
    Resources: [
      {
        Type: 'AwsAccount',
        Id: `AWS::::Account:${options.account}`,
        Partition: 'aws',
        Region: options.region,
      },
    ],
    Workflow: { Status: options.workflowStatus ?? 'NEW' },
    RecordState: 'ACTIVE',
  };
}

function envelope(
  detailType: string,
  options: SampleOptions,
  resources: string[],
  detail: Record<string, unknown>,
) {
  return {
    version: '0',
    id: randomUUID(),
    'detail-type': detailType,
    source: 'aws.securityhub',
    account: options.account,
    time: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    region: options.region,
    resources,
    detail,
  };
}

export function sampleImportedEvent(options: SampleOptions) {
  const f = finding(options);
  return envelope(IMPORTED_DETAIL_TYPE, options, [f.Id], { findings: [f] });
}

export function sampleCustomActionEvent(options: SampleOptions & { actionArn: string }) {
  return envelope(CUSTOM_ACTION_DETAIL_TYPE, options, [options.actionArn], {
    actionName: 'Send to Vigil',
    actionDescription: 'Send the finding to Vigil',
    findings: [finding(options)],
  });
}
