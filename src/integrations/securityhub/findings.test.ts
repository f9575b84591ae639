import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import {
  alertFieldsForFinding,
  alertFieldsForInsight,
  parseSecurityHubEvent,
  priorityForSeverity,
  severityForPriority,
  severityFromNormalized,
  type AlertFields,
  type NormalizedFinding,
  type ParsedEvent,
  type Priority,
  type SeverityLabel,
} from './findings.js';
import { echoOfWriteBack } from './finding-sync.js';

type Json = Record<string, unknown>;

const FIXTURES = new URL('../../../test/fixtures/securityhub/', import.meta.url);

function fixture(path: string): Json {
  return JSON.parse(fs.readFileSync(new URL(path, FIXTURES), 'utf8')) as Json;
}

/** The findings of a GetFindings response (`Findings` or `findings`). */
function getFindings(path: string): Json[] {
  const body = fixture(path);
  return (body.Findings ?? body.findings) as Json[];
}

function importedEvent(findings: unknown[], overrides: Json = {}): Json {
  return {
    version: '0',
    id: 'c0ffee00-0000-4000-8000-000000000001',
    'detail-type': 'Security Hub Findings - Imported',
    source: 'aws.securityhub',
    account: '111111111111',
    time: '2024-01-17T11:40:00Z',
    region: 'us-east-1',
    resources: [],
    detail: { findings },
    ...overrides,
  };
}

function customActionEvent(findings: unknown[], actionName: string, actionDescription: string): Json {
  return importedEvent(findings, {
    'detail-type': 'Security Hub Findings - Custom Action',
    resources: ['arn:aws:securityhub:us-east-1:111111111111:action/custom/SendToVigil'],
    detail: { actionName, actionDescription, findings },
  });
}

function only(parsed: ParsedEvent): NormalizedFinding {
  assert.equal(parsed.findings.length, 1, JSON.stringify(parsed.skipped));
  return parsed.findings[0]!;
}

function parseOne(finding: unknown): NormalizedFinding {
  return only(parseSecurityHubEvent(importedEvent([finding])));
}

/** Opsgenie's hard limits hold for every alert these tests build. */
function assertWithinLimits(alert: AlertFields): void {
  assert.ok(alert.message.length >= 1 && alert.message.length <= 130, `message ${alert.message.length}`);
  assert.ok(alert.description.length <= 15000, `description ${alert.description.length}`);
  assert.ok(alert.entity.length <= 512, `entity ${alert.entity.length}`);
  assert.ok(alert.tags.length <= 20, `tags ${alert.tags.length}`);
  assert.equal(new Set(alert.tags).size, alert.tags.length, 'tags are unique');
  for (const tag of alert.tags) assert.ok(tag.length >= 1 && tag.length <= 50, `tag ${tag}`);
  for (const [key, value] of Object.entries(alert.details)) {
    assert.ok(key.length >= 1 && key.length <= 512, `detail key ${key}`);
    assert.equal(typeof value, 'string');
    assert.ok(value.length <= 8000, `detail ${key} ${value.length}`);
  }
  assert.equal(alert.source, 'Amazon Security Hub');
}

describe('severity and priority tables', () => {
  it('maps each severity label to a priority and back', () => {
    const table: [SeverityLabel, Priority][] = [
      ['CRITICAL', 'P1'],
      ['HIGH', 'P2'],
      ['MEDIUM', 'P3'],
      ['LOW', 'P4'],
      ['INFORMATIONAL', 'P5'],
    ];
    for (const [label, priority] of table) {
      assert.equal(priorityForSeverity(label), priority);
      assert.equal(severityForPriority(priority), label);
      assert.equal(severityForPriority(priorityForSeverity(label)), label);
    }
  });

  it('reads Severity.Normalized by range, at every boundary', () => {
    const table: [number, SeverityLabel][] = [
      [0, 'INFORMATIONAL'],
      [1, 'LOW'],
      [39, 'LOW'],
      [40, 'MEDIUM'],
      [69, 'MEDIUM'],
      [70, 'HIGH'],
      [89, 'HIGH'],
      [90, 'CRITICAL'],
      [100, 'CRITICAL'],
      [0.5, 'INFORMATIONAL'],
      [39.5, 'LOW'],
      [89.9, 'HIGH'],
      [-3, 'INFORMATIONAL'],
      [250, 'CRITICAL'],
      [Number.NaN, 'MEDIUM'],
    ];
    for (const [n, label] of table) assert.equal(severityFromNormalized(n), label, `Normalized ${n}`);
  });

  it('takes Severity.Label first, then Normalized, then FindingProviderFields, then MEDIUM', () => {
    const base = { Id: 'f-1', ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty' };
    const cases: [string, Json, SeverityLabel, Priority][] = [
      ['Label beats Normalized', { Severity: { Label: 'LOW', Normalized: 40 } }, 'LOW', 'P4'],
      ['Label in lower case', { Severity: { Label: 'high' } }, 'HIGH', 'P2'],
      ['Normalized without Label', { Severity: { Product: 8.3, Normalized: 25 } }, 'LOW', 'P4'],
      ['Normalized as a string', { Severity: { Normalized: '95' } }, 'CRITICAL', 'P1'],
      ['Normalized 0', { Severity: { Normalized: 0 } }, 'INFORMATIONAL', 'P5'],
      [
        'Normalized out of range falls through',
        { Severity: { Normalized: 150 }, FindingProviderFields: { Severity: { Label: 'HIGH' } } },
        'HIGH',
        'P2',
      ],
      ['unknown Label falls to Normalized', { Severity: { Label: 'SEVERE', Normalized: 75 } }, 'HIGH', 'P2'],
      [
        'provider Label',
        { Severity: { Product: 3 }, FindingProviderFields: { Severity: { Label: 'CRITICAL' } } },
        'CRITICAL',
        'P1',
      ],
      [
        'provider Original when it is a label',
        { FindingProviderFields: { Severity: { Original: 'informational' } } },
        'INFORMATIONAL',
        'P5',
      ],
      [
        'provider Original that is no label',
        { FindingProviderFields: { Severity: { Original: '8.3' } } },
        'MEDIUM',
        'P3',
      ],
      ['no severity at all', {}, 'MEDIUM', 'P3'],
      ['Severity of the wrong type', { Severity: 'HIGH' }, 'MEDIUM', 'P3'],
    ];
    for (const [name, fields, label, priority] of cases) {
      const finding = parseOne({ ...base, ...fields });
      assert.equal(finding.severityLabel, label, name);
      assert.equal(finding.priority, priority, name);
    }
  });

  it('keeps the current severity apart from the provider severity', () => {
    const finding = parseOne({
      Id: 'f-2',
      ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/inspector',
      Severity: { Label: 'HIGH', Normalized: 70, Original: 'LOW' },
      FindingProviderFields: { Severity: { Label: 'LOW', Original: 'LOW' } },
    });
    assert.equal(finding.severityLabel, 'HIGH');
    assert.equal(finding.providerSeverityLabel, 'LOW');
    assert.equal(finding.priority, 'P2');
    assert.equal(
      parseOne({ Id: 'x', ProductArn: 'p', Severity: { Label: 'LOW' } }).providerSeverityLabel,
      undefined,
    );
  });
});

describe('Security Hub Findings - Imported (events/)', () => {
  it('reads the CIS 1.4 event field by field', () => {
    const parsed = parseSecurityHubEvent(fixture('events/source_layer_test_test_json_data_CIS-1.4.json'));
    const id =
      'arn:aws:securityhub:us-east-1:111111111111:subscription/cis-aws-foundations-benchmark/v/1.2.0/1.4/finding/e7d83ca8-6afd-428e-8ab0-e5b5b3b2239f';
    assert.deepEqual(parsed, {
      kind: 'imported',
      detailType: 'Security Hub Findings - Imported',
      source: 'aws.securityhub',
      eventId: 'b3efc128-c676-4a33-b5e6-99b4227dd5a3',
      account: '111111111111',
      region: 'us-east-1',
      time: '2020-05-27T03:38:32Z',
      skipped: [],
      findings: [
        {
          key: { id, productArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub' },
          format: 'asff',
          title: '1.4 Ensure access keys are rotated every 90 days or less',
          description:
            'Access keys consist of an access key ID and secret access key, which are used to sign programmatic requests that you make to AWS. It is recommended that all access keys be regularly rotated.',
          productName: 'Security Hub',
          severityLabel: 'MEDIUM',
          providerSeverityLabel: undefined,
          priority: 'P3',
          workflowStatus: 'NEW',
          recordState: 'ACTIVE',
          complianceStatus: 'WARNING',
          updatedAt: '2020-05-27T03:38:28.102Z',
          createdAt: '2020-05-08T03:41:45.527Z',
          awsAccountId: '111111111111',
          region: 'us-east-1',
          generatorId: 'arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/1.4',
          resources: [{ id: 'AWS::::Account:111111111111', type: 'AwsAccount', region: 'us-east-1' }],
          types: [
            'Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark',
          ],
          remediationText:
            'For directions on how to fix this issue, please consult the AWS Security Hub CIS documentation.',
          remediationUrl: 'https://docs.aws.amazon.com/console/securityhub/standards-cis-1.4/remediation',
        },
      ],
    });

    const alert = alertFieldsForFinding(parsed.findings[0]!);
    assert.deepEqual(alert, {
      message: '[Security Hub] 1.4 Ensure access keys are rotated every 90 days or less',
      description:
        'Access keys consist of an access key ID and secret access key, which are used to sign programmatic requests that you make to AWS. It is recommended that all access keys be regularly rotated.' +
        '\n\nRemediation: For directions on how to fix this issue, please consult the AWS Security Hub CIS documentation.' +
        '\nhttps://docs.aws.amazon.com/console/securityhub/standards-cis-1.4/remediation',
      entity: 'AWS::::Account:111111111111',
      tags: [
        'securityhub',
        'severity:MEDIUM',
        'product:Security-Hub',
        'account:111111111111',
        'region:us-east-1',
        'compliance:WARNING',
        'resource:AwsAccount',
      ],
      details: {
        FindingId: id,
        ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
        AwsAccountId: '111111111111',
        Region: 'us-east-1',
        SeverityLabel: 'MEDIUM',
        WorkflowStatus: 'NEW',
        RecordState: 'ACTIVE',
        ComplianceStatus: 'WARNING',
        GeneratorId: 'arn:aws:securityhub:::ruleset/cis-aws-foundations-benchmark/v/1.2.0/rule/1.4',
        ProductName: 'Security Hub',
        ResourceIds: 'AWS::::Account:111111111111',
        ResourceTypes: 'AwsAccount',
        Types:
          'Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark',
        RemediationUrl: 'https://docs.aws.amazon.com/console/securityhub/standards-cis-1.4/remediation',
      },
      priority: 'P3',
      source: 'Amazon Security Hub',
    });
    assertWithinLimits(alert);
  });

  it('reads the AFSBP EC2.7 event', () => {
    const parsed = parseSecurityHubEvent(fixture('events/source_layer_test_test_json_data_afsbp-ec2.7.json'));
    assert.equal(parsed.kind, 'imported');
    assert.equal(parsed.eventId, '1622bd23-7237-fdec-8fb0-a019cccfd3cb');
    assert.equal(parsed.actionName, undefined);
    const finding = only(parsed);
    assert.equal(
      finding.key.id,
      'arn:aws:securityhub:us-east-1:111111111111:subscription/aws-foundational-security-best-practices/v/1.0.0/EC2.7/finding/0003b335-cf3f-4f93-a025-6b1a7baced06',
    );
    assert.equal(finding.title, 'EC2.7 EBS default encryption should be enabled');
    assert.equal(finding.severityLabel, 'INFORMATIONAL');
    assert.equal(finding.priority, 'P5');
    assert.equal(finding.complianceStatus, 'FAILED');
    assert.equal(finding.generatorId, 'aws-foundational-security-best-practices/v/1.0.0/EC2.7');
    // No top-level Region in this finding: the first resource's region stands in.
    assert.equal(finding.region, 'us-east-1');

    const alert = alertFieldsForFinding(finding);
    assert.equal(alert.message, '[Security Hub] EC2.7 EBS default encryption should be enabled');
    assert.equal(alert.priority, 'P5');
    assert.equal(alert.entity, 'AWS::::Account:111111111111');
    assert.deepEqual(alert.tags, [
      'securityhub',
      'severity:INFORMATIONAL',
      'product:Security-Hub',
      'account:111111111111',
      'region:us-east-1',
      'compliance:FAILED',
      'resource:AwsAccount',
    ]);
    assert.equal(alert.details.ComplianceStatus, 'FAILED');
    assert.equal(alert.details.ActionName, undefined);
    assertWithinLimits(alert);
  });
});

describe('Security Hub Findings - Custom Action (events/)', () => {
  it('reads the action and its finding (CIS 1.6, with a Note)', () => {
    const parsed = parseSecurityHubEvent(fixture('events/source_layer_test_test_json_data_CIS_1-6.json'));
    assert.equal(parsed.kind, 'custom-action');
    assert.equal(parsed.detailType, 'Security Hub Findings - Custom Action');
    assert.equal(parsed.actionName, 'CIS 1.5 - 1.11 RR');
    assert.equal(
      parsed.actionDescription,
      'Remediates CIS Checks 1.5 through 1.11 by establishing a CIS Compliant Strong Password Policy',
    );
    assert.equal(parsed.actionArn, 'arn:aws:securityhub:us-east-1:111111111111:action/custom/cis1511RR');
    assert.deepEqual(parsed.skipped, []);
    const finding = only(parsed);
    assert.equal(finding.title, '1.6 Ensure IAM password policy requires at least one lowercase letter');
    assert.equal(finding.severityLabel, 'INFORMATIONAL');
    // Workflow.Status wins over the legacy WorkflowState (NEW).
    assert.equal(finding.workflowStatus, 'RESOLVED');
    assert.equal(finding.complianceStatus, 'PASSED');
    assert.deepEqual(finding.note, {
      text: 'Set IAM Password Policy remediation was successful.',
      updatedBy: 'resolve',
      updatedAt: '2020-06-02T17:24:33.113Z',
    });

    const alert = alertFieldsForFinding(finding, parsed);
    assert.equal(
      alert.message,
      '[Security Hub] 1.6 Ensure IAM password policy requires at least one lowercase letter',
    );
    assert.equal(alert.priority, 'P5');
    assert.equal(alert.details.ActionName, 'CIS 1.5 - 1.11 RR');
    assert.equal(
      alert.details.ActionDescription,
      'Remediates CIS Checks 1.5 through 1.11 by establishing a CIS Compliant Strong Password Policy',
    );
    assert.equal(alert.details.WorkflowStatus, 'RESOLVED');
    assert.deepEqual(alert.tags, [
      'securityhub',
      'severity:INFORMATIONAL',
      'product:Security-Hub',
      'account:111111111111',
      'region:us-east-1',
      'compliance:PASSED',
      'action:CIS-1.5-1.11-RR',
      'resource:AwsAccount',
    ]);
    assertWithinLimits(alert);
  });

  it('reads the custom action whose name does not match its finding', () => {
    const parsed = parseSecurityHubEvent(
      fixture('events/source_layer_test_test_json_data_custom-action-mismatch.json'),
    );
    assert.equal(parsed.kind, 'custom-action');
    assert.equal(parsed.actionName, 'CIS 1.3 & 1.4 RR');
    assert.equal(parsed.actionArn, 'arn:aws:securityhub:us-east-1:111111111111:action/custom/cis134RR');
    const finding = only(parsed);
    assert.equal(
      finding.title,
      'CloudTrail.1 CloudTrail should be enabled and configured with at least one multi-region trail',
    );
    assert.equal(finding.severityLabel, 'HIGH');
    assert.equal(finding.priority, 'P2');

    const alert = alertFieldsForFinding(finding, {
      actionName: parsed.actionName,
      actionDescription: parsed.actionDescription,
    });
    assert.equal(
      alert.message,
      '[Security Hub] CloudTrail.1 CloudTrail should be enabled and configured with at least one multi-region trail',
    );
    assert.equal(alert.priority, 'P2');
    assert.equal(alert.details.ActionName, 'CIS 1.3 & 1.4 RR');
    assert.equal(
      alert.details.ActionDescription,
      'Remediates CIS 1.3 and CIS 1.4 by Deleting IAM Keys over 90 Days Old',
    );
    assert.ok(alert.tags.includes('action:CIS-1.3-&-1.4-RR'));
    assert.ok(alert.tags.includes('severity:HIGH'));
    assert.ok(alert.tags.includes('compliance:WARNING'));
    assertWithinLimits(alert);
  });
});

describe('ASFF findings (asff/) wrapped in an Imported event', () => {
  const cases: {
    file: string;
    control: string;
    title: string;
    severity: SeverityLabel;
    priority: Priority;
    provider: SeverityLabel | undefined;
    compliance: string;
    workflow: string;
    entity: string;
    resourceType: string;
    account: string;
  }[] = [
    {
      file: 'afsbp-ec2.1.json',
      control: 'EC2.1/finding/863e6dda-dd2e-4fd3-89a5-973d430599f4',
      title: 'EC2.1 EBS snapshots should not be public, determined by the ability to be restorable by anyone',
      severity: 'CRITICAL',
      priority: 'P1',
      provider: undefined,
      compliance: 'FAILED',
      workflow: 'NEW',
      entity: 'AWS::::Account:111111111111',
      resourceType: 'AwsAccount',
      account: '111111111111',
    },
    {
      file: 'afsbp-iam.8.json',
      control: 'IAM.8/finding/7a04a6d5-07ec-4430-ab8f-67c0119b5acd',
      title: 'IAM.8 Unused IAM user credentials should be removed',
      severity: 'MEDIUM',
      priority: 'P3',
      provider: 'MEDIUM',
      compliance: 'FAILED',
      workflow: 'NEW',
      entity: 'arn:aws:iam::111111111111:user/sharrtest',
      resourceType: 'AwsIamUser',
      account: '111111111111',
    },
    {
      file: 'afsbp-rds.1-nodetails.json',
      control: 'RDS.1/finding/f14594d2-dbf0-4507-9408-66d2732420b9',
      title: 'RDS.1 RDS snapshot should be private',
      severity: 'INFORMATIONAL',
      priority: 'P5',
      provider: 'INFORMATIONAL',
      compliance: 'FAILED',
      workflow: 'NEW',
      entity: 'arn:aws:rds:us-east-1:111122223333:dbclustersnapshot:rds:database-1-2021-10-27-04-10',
      resourceType: 'AwsRdsDbClusterSnapshot',
      account: '111122223333',
    },
    {
      file: 'afsbp-s3.2.json',
      control: 'S3.2/finding/ef33c951-94b7-4d92-acd2-99c2a3e3a78a',
      title: 'S3.2 S3 buckets should prohibit public read access',
      severity: 'INFORMATIONAL',
      priority: 'P5',
      provider: 'INFORMATIONAL',
      compliance: 'PASSED',
      workflow: 'RESOLVED',
      entity: 'arn:aws:s3:::so0111-aws-cloudtrail-111111111111',
      resourceType: 'AwsS3Bucket',
      account: '111111111111',
    },
    {
      file: 'cis-110.json',
      control: '1.10/finding/9d44acd7-65cc-4332-8189-820358c30fbe',
      title: '1.10 Ensure IAM password policy prevents password reuse',
      severity: 'LOW',
      priority: 'P4',
      provider: 'LOW',
      compliance: 'FAILED',
      workflow: 'NEW',
      entity: 'AWS::::Account:111111111111',
      resourceType: 'AwsAccount',
      account: '111111111111',
    },
    {
      file: 'pci-cloudtrail.1.json',
      control: 'PCI.CloudTrail.1/finding/e1c765cb-e349-4244-8549-9772b7171562',
      title: 'PCI.CloudTrail.1 CloudTrail logs should be encrypted at rest using AWS KMS CMKs',
      severity: 'MEDIUM',
      priority: 'P3',
      provider: 'MEDIUM',
      compliance: 'FAILED',
      workflow: 'NEW',
      entity: 'arn:aws:cloudtrail:us-east-1:111111111111:trail/sharr-test',
      resourceType: 'AwsCloudTrailTrail',
      account: '111111111111',
    },
  ];

  for (const c of cases) {
    it(c.file, () => {
      const raw = fixture(`asff/${c.file}`);
      const finding = parseOne(raw);
      assert.equal(finding.format, 'asff');
      assert.equal(finding.key.id, raw.Id);
      assert.ok(finding.key.id.endsWith(c.control), finding.key.id);
      assert.equal(finding.key.productArn, 'arn:aws:securityhub:us-east-1::product/aws/securityhub');
      assert.equal(finding.title, c.title);
      assert.equal(finding.description, raw.Description);
      assert.equal(finding.productName, 'Security Hub');
      assert.equal(finding.severityLabel, c.severity);
      assert.equal(finding.providerSeverityLabel, c.provider);
      assert.equal(finding.priority, c.priority);
      assert.equal(finding.complianceStatus, c.compliance);
      assert.equal(finding.workflowStatus, c.workflow);
      assert.equal(finding.recordState, 'ACTIVE');
      assert.equal(finding.awsAccountId, c.account);
      assert.equal(finding.region, 'us-east-1');
      assert.equal(finding.updatedAt, raw.UpdatedAt);
      assert.equal(finding.createdAt, raw.CreatedAt);
      assert.deepEqual(finding.resources, [{ id: c.entity, type: c.resourceType, region: 'us-east-1' }]);
      assert.deepEqual(finding.types, raw.Types);
      assert.equal(finding.note, undefined);

      const alert = alertFieldsForFinding(finding);
      assert.equal(alert.message, `[Security Hub] ${c.title}`);
      assert.equal(alert.priority, c.priority);
      assert.equal(alert.entity, c.entity);
      assert.ok(alert.description.startsWith(`${String(raw.Description)}\n\nRemediation: For directions`));
      assert.ok(alert.description.endsWith(`\n${finding.remediationUrl}`));
      assert.deepEqual(alert.tags, [
        'securityhub',
        `severity:${c.severity}`,
        'product:Security-Hub',
        `account:${c.account}`,
        'region:us-east-1',
        `compliance:${c.compliance}`,
        `resource:${c.resourceType}`,
      ]);
      assert.equal(alert.details.FindingId, raw.Id);
      assert.equal(alert.details.SeverityLabel, c.severity);
      assert.equal(alert.details.ResourceIds, c.entity);
      assert.equal(alert.details.ResourceTypes, c.resourceType);
      assert.equal(alert.details.GeneratorId, raw.GeneratorId);
      assert.equal(alert.details.SourceUrl, undefined);
      assertWithinLimits(alert);
    });
  }
});

describe('GetFindings findings (getfindings/) wrapped in events', () => {
  it('GuardDuty: four findings in one Imported event; the Label wins over Normalized', () => {
    const raw = getFindings('getfindings/guardduty.json');
    const parsed = parseSecurityHubEvent(importedEvent(raw));
    assert.equal(parsed.kind, 'imported');
    assert.deepEqual(parsed.skipped, []);
    assert.deepEqual(
      parsed.findings.map((f) => [f.severityLabel, f.priority]),
      [
        ['MEDIUM', 'P3'],
        ['MEDIUM', 'P3'],
        ['LOW', 'P4'],
        ['LOW', 'P4'],
      ],
    );
    const first = parsed.findings[0]!;
    assert.deepEqual(first.key, {
      id: 'arn:aws:guardduty:us-east-1:123456789012:detector/123456789/finding/123456789789',
      productArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty',
    });
    assert.equal(first.productName, 'GuardDuty');
    assert.equal(first.providerSeverityLabel, 'MEDIUM');
    assert.deepEqual(first.types, ['TTPs/Defense Evasion/DefenseEvasion:EC2-UnusualDNSResolver']);
    assert.equal(first.remediationText, undefined);
    assert.equal(first.complianceStatus, undefined);

    const alert = alertFieldsForFinding(first);
    assert.equal(
      alert.message,
      '[GuardDuty] EC2 instance i-1234567890 is communicating with an Unusual DNS Resolver 1.1.1.1.',
    );
    assert.equal(
      alert.description,
      'EC2 instance i-1234567890 is communicating with an Unusual DNS Resolver 1.1.1.1.',
    );
    assert.equal(alert.entity, 'arn:aws:ec2:us-east-1:123456789012:instance/i-1234567890');
    assert.equal(alert.priority, 'P3');
    assert.deepEqual(alert.tags, [
      'securityhub',
      'severity:MEDIUM',
      'product:GuardDuty',
      'account:123456789012',
      'region:us-east-1',
      'resource:AwsEc2Instance',
    ]);
    assert.deepEqual(alert.details, {
      FindingId: 'arn:aws:guardduty:us-east-1:123456789012:detector/123456789/finding/123456789789',
      ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty',
      AwsAccountId: '123456789012',
      Region: 'us-east-1',
      SeverityLabel: 'MEDIUM',
      WorkflowStatus: 'NEW',
      RecordState: 'ACTIVE',
      GeneratorId: 'arn:aws:guardduty:us-east-1:123456789012:detector/123456789',
      ProductName: 'GuardDuty',
      ResourceIds: 'arn:aws:ec2:us-east-1:123456789012:instance/i-1234567890',
      ResourceTypes: 'AwsEc2Instance',
      Types: 'TTPs/Defense Evasion/DefenseEvasion:EC2-UnusualDNSResolver',
      SourceUrl:
        'https://us-east-1.console.aws.amazon.com/guardduty/home?region=us-east-1#/findings?macros=current&fId=123456789789',
    });
    assertWithinLimits(alert);

    const last = alertFieldsForFinding(parsed.findings[3]!);
    assert.equal(last.entity, 'AWS::IAM::AccessKey:123123123');
    assert.ok(last.tags.includes('resource:AwsIamAccessKey'));
    assert.equal(last.priority, 'P4');
  });

  it('Inspector: CVE findings are CRITICAL, P1', () => {
    const raw = getFindings('getfindings/inspector_ec2_cve.json');
    const parsed = parseSecurityHubEvent(importedEvent(raw));
    assert.equal(parsed.findings.length, 5);
    for (const finding of parsed.findings) {
      assert.equal(finding.productName, 'Inspector');
      assert.equal(finding.key.productArn, 'arn:aws:securityhub:us-east-1::product/aws/inspector');
      assert.equal(finding.severityLabel, 'CRITICAL');
      assert.equal(finding.providerSeverityLabel, 'CRITICAL');
      assert.equal(finding.priority, 'P1');
      assert.equal(finding.title, 'CVE-2022-3643 - kernel');
    }
    const alert = alertFieldsForFinding(parsed.findings[0]!);
    assert.equal(alert.message, '[Inspector] CVE-2022-3643 - kernel');
    assert.equal(alert.entity, 'arn:aws:ec2:us-east-1:XXXXXXXXXXXX:i-11111111111111111');
    assert.ok(alert.description.endsWith('said misbehavior.\n\nRemediation: None Provided'));
    assert.equal(alert.details.RemediationUrl, undefined);
    assert.equal(alert.details.Types, 'Software and Configuration Checks/Vulnerabilities/CVE');
    assert.equal(alert.details.AwsAccountId, 'XXXXXXXXXXXX');
    assert.deepEqual(alert.tags, [
      'securityhub',
      'severity:CRITICAL',
      'product:Inspector',
      'account:XXXXXXXXXXXX',
      'region:us-east-1',
      'resource:AwsEc2Instance',
    ]);
    assertWithinLimits(alert);
  });

  it('Config controls: no ProductName, so ProductFields names the product', () => {
    const one = getFindings('getfindings/config_one_finding.json');
    const many = getFindings('getfindings/config_many_findings.json');
    const parsed = parseSecurityHubEvent(importedEvent(many));
    assert.deepEqual(
      parsed.findings.map((f) => f.title),
      [
        'IAM.5 MFA should be enabled for all IAM users that have console password',
        'SSM.2 EC2 instances managed by Systems Manager should have a patch compliance status of COMPLIANT after a patch installation',
        'ELBv2.1 Application Load Balancer should be configured to redirect all HTTP requests to HTTPS',
      ],
    );
    const finding = only(parseSecurityHubEvent(importedEvent(one)));
    assert.equal(finding.productName, 'Security Hub');
    assert.equal(finding.severityLabel, 'INFORMATIONAL');
    assert.equal(finding.complianceStatus, 'PASSED');
    assert.equal(finding.awsAccountId, '012345678912');
    const alert = alertFieldsForFinding(finding);
    assert.equal(
      alert.message,
      '[Security Hub] IAM.5 MFA should be enabled for all IAM users that have console password',
    );
    assert.equal(alert.priority, 'P5');
    assert.ok(alert.tags.includes('compliance:PASSED'));

    // The SSM.2 title is long: the message is cut at 130 with an ellipsis.
    const ssm = alertFieldsForFinding(parsed.findings[1]!);
    assert.equal(ssm.message.length, 130);
    assert.ok(ssm.message.startsWith('[Security Hub] SSM.2 EC2 instances managed by Systems Manager'));
    assert.ok(ssm.message.endsWith('…'));
    assertWithinLimits(ssm);
  });

  it('all of them at once in a Custom Action event (up to 20 findings)', () => {
    const raw = [
      ...getFindings('getfindings/guardduty.json'),
      ...getFindings('getfindings/inspector_ec2_cve.json'),
      ...getFindings('getfindings/config_many_findings.json'),
      ...getFindings('getfindings/config_one_finding.json'),
    ];
    assert.equal(raw.length, 13);
    const parsed = parseSecurityHubEvent(customActionEvent(raw, 'Send to Vigil', 'Page the on-call person'));
    assert.equal(parsed.kind, 'custom-action');
    assert.equal(parsed.actionArn, 'arn:aws:securityhub:us-east-1:111111111111:action/custom/SendToVigil');
    assert.equal(parsed.findings.length, 13);
    assert.deepEqual(
      [...new Set(parsed.findings.map((f) => f.productName))],
      ['GuardDuty', 'Inspector', 'Security Hub'],
    );
    for (const finding of parsed.findings) {
      const alert = alertFieldsForFinding(finding, parsed);
      assert.equal(alert.details.ActionName, 'Send to Vigil');
      assert.equal(alert.details.ActionDescription, 'Page the on-call person');
      assert.ok(alert.tags.includes('action:Send-to-Vigil'));
      assertWithinLimits(alert);
    }
  });

  it('names a product from its ProductArn when the finding does not', () => {
    const [guardduty] = getFindings('getfindings/guardduty.json');
    const bare: Json = { ...guardduty };
    delete bare.ProductName;
    delete bare.ProductFields;
    assert.equal(parseOne(bare).productName, 'GuardDuty');
    const cases: [string, string][] = [
      ['arn:aws:securityhub:us-east-1::product/aws/securityhub', 'Security Hub'],
      ['arn:aws:securityhub:us-east-1::product/aws/inspector', 'Inspector'],
      ['arn:aws:securityhub:us-east-1::product/aws/access-analyzer', 'IAM Access Analyzer'],
      ['arn:aws:securityhub:us-west-2::product/acme/secure-pro', 'Secure Pro'],
      ['arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default', 'Default'],
    ];
    for (const [productArn, name] of cases)
      assert.equal(parseOne({ Id: 'f', ProductArn: productArn }).productName, name, productArn);
    assert.equal(
      parseOne({
        Id: 'f',
        ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty',
        ProductName: ' ',
      }).productName,
      'GuardDuty',
    );
  });
});

describe('the vendor sample (seed guide "Sample payload")', () => {
  it('is read as imported whatever its source says, and gives a P4 alert titled from its finding', () => {
    const parsed = parseSecurityHubEvent(fixture('vendor-sample-event.json'));
    assert.equal(parsed.kind, 'imported');
    assert.equal(parsed.source, 'aws.ec2');
    assert.equal(parsed.detailType, 'EC2 Instance State-change Notification');
    assert.equal(parsed.eventId, '3ee38987-e0ce--91a1');
    // Read as imported: its detail's actionName is not taken as a custom action.
    assert.equal(parsed.actionName, undefined);
    assert.equal(parsed.actionArn, undefined);
    const finding = only(parsed);
    assert.deepEqual(finding.key, {
      id: 'us-west-2/111111111111/98aebb2207407c87f51e89943f12b1ef',
      productArn: 'arn:aws:securityhub:us-east-1:111111111111:product/111111111111/default',
    });
    // Severity {Product: 8.3, Normalized: 25}, no Label: Normalized 25 is LOW.
    assert.equal(finding.severityLabel, 'LOW');
    assert.equal(finding.providerSeverityLabel, undefined);
    assert.equal(finding.priority, 'P4');
    assert.equal(finding.title, 'title');
    assert.equal(finding.productName, 'Default');
    assert.equal(finding.updatedAt, '123578964332');
    assert.equal(finding.workflowStatus, 'NEW');
    assert.equal(finding.region, 'us-west-2');
    assert.deepEqual(finding.note, {
      text: "Don't forget to check under the mat.",
      updatedBy: 'jsmith',
      updatedAt: '2018-08-31T00:15:09Z',
    });

    const alert = alertFieldsForFinding(finding);
    assert.equal(alert.priority, 'P4');
    assert.equal(alert.message, '[Default] title');
    assert.equal(alert.entity, 'i-cafebabe');
    assert.equal(
      alert.description,
      'The version of openssl found on instance i-abcd1234 is known to contain a vulnerability.\n\n' +
        'Remediation: Run sudo yum update and cross your fingers and toes.\n' +
        'http://myfp.com/recommendations/dangerous_things_and_how_to_fix_them.html',
    );
    assert.deepEqual(alert.tags, [
      'securityhub',
      'severity:LOW',
      'product:Default',
      'account:abc',
      'region:us-west-2',
      'compliance:PASSED',
      'resource:AwsEc2Instance',
    ]);
    assert.equal(alert.details.SourceUrl, 'string');
    assert.equal(alert.details.ActionName, undefined);
    assertWithinLimits(alert);
  });
});

describe('Security Hub Insight Results', () => {
  const insightEvent = (detail: Json): Json => ({
    version: '0',
    id: '1a1111a1-b22b-3c33-444d-5555e5ee5555',
    'detail-type': 'Security Hub Insight Results',
    source: 'aws.securityhub',
    account: '111122223333',
    time: '2017-12-22T18:43:48Z',
    region: 'us-west-1',
    resources: ['arn:aws:securityhub:us-west-1:111122223333:action/custom/InsightToVigil'],
    detail,
  });

  it('reads the documented shape and makes one alert listing the results', () => {
    const parsed = parseSecurityHubEvent(
      insightEvent({
        actionName: 'Insight to Vigil',
        actionDescription: 'Send insight results to the on-call team',
        insightArn: 'arn:aws:securityhub:us-west-1:111122223333:insight/111122223333/custom/a1b2c3d4',
        insightName: 'Users with exposed access keys',
        resultType: 'ResourceAwsIamAccessKeyUserName',
        'number of results': '2',
        insightResults: [{ alice: 5 }, { bob: 6 }],
      }),
    );
    assert.equal(parsed.kind, 'insight-results');
    assert.deepEqual(parsed.findings, []);
    assert.deepEqual(parsed.skipped, []);
    assert.equal(parsed.actionName, 'Insight to Vigil');
    assert.equal(parsed.actionDescription, 'Send insight results to the on-call team');
    assert.equal(parsed.actionArn, 'arn:aws:securityhub:us-west-1:111122223333:action/custom/InsightToVigil');
    assert.deepEqual(parsed.insight, {
      name: 'Users with exposed access keys',
      arn: 'arn:aws:securityhub:us-west-1:111122223333:insight/111122223333/custom/a1b2c3d4',
      resultType: 'ResourceAwsIamAccessKeyUserName',
      count: 2,
      results: [
        { identifier: 'alice', count: 5 },
        { identifier: 'bob', count: 6 },
      ],
    });

    const alert = alertFieldsForInsight(parsed);
    assert.deepEqual(alert, {
      message: '[Security Hub] Insight Users with exposed access keys: 2 results',
      description:
        'Send insight results to the on-call team\n\n' +
        'Insight results by ResourceAwsIamAccessKeyUserName:\nalice: 5\nbob: 6',
      entity: 'arn:aws:securityhub:us-west-1:111122223333:insight/111122223333/custom/a1b2c3d4',
      tags: ['securityhub', 'insight', 'action:Insight-to-Vigil'],
      details: {
        InsightArn: 'arn:aws:securityhub:us-west-1:111122223333:insight/111122223333/custom/a1b2c3d4',
        InsightName: 'Users with exposed access keys',
        ResultType: 'ResourceAwsIamAccessKeyUserName',
        ActionName: 'Insight to Vigil',
        ResultCount: '2',
      },
      priority: 'P3',
      source: 'Amazon Security Hub',
    });
    assertWithinLimits(alert);
  });

  it('counts the results when "number of results" is missing or no number, and cuts long lists', () => {
    const results = Array.from({ length: 1000 }, (_, i) => ({ [`arn:aws:iam::111122223333:user/u${i}`]: i }));
    const parsed = parseSecurityHubEvent(
      insightEvent({
        actionName: 'a',
        insightName: 'x'.repeat(200),
        'number of results': 'number of results, max of 100',
        insightResults: [
          ...results,
          'bare-identifier',
          { GroupByAttributeValue: 'grouped', Count: 3 },
          7,
          null,
        ],
      }),
    );
    assert.equal(parsed.insight?.count, undefined);
    assert.equal(parsed.insight?.results.length, 1003);
    assert.deepEqual(parsed.insight?.results.slice(-3), [
      { identifier: 'bare-identifier' },
      { identifier: 'grouped', count: 3 },
      { identifier: '7' },
    ]);
    const alert = alertFieldsForInsight(parsed);
    assert.equal(alert.message.length, 130);
    assert.ok(alert.message.startsWith('[Security Hub] Insight xxx'));
    assert.ok(alert.message.endsWith('…'));
    assert.equal(alert.details.ResultCount, '1003');
    assert.equal(alert.description.length, 15000);
    assert.ok(alert.description.includes('arn:aws:iam::111122223333:user/u0: 0\n'));
    assert.ok(alert.description.endsWith('…'));
    assertWithinLimits(alert);
  });

  it('still makes an alert for an insight event with almost nothing in it', () => {
    const parsed = parseSecurityHubEvent(insightEvent({}));
    assert.equal(parsed.kind, 'insight-results');
    const alert = alertFieldsForInsight(parsed);
    assert.equal(alert.message, '[Security Hub] Insight unnamed: 0 results');
    const one = alertFieldsForInsight(
      parseSecurityHubEvent(insightEvent({ insightResults: [{ alice: 5 }] })),
    );
    assert.equal(one.message, '[Security Hub] Insight unnamed: 1 result');
    assert.deepEqual(alert.tags, ['securityhub', 'insight']);
    assert.deepEqual(alert.details, { ResultCount: '0' });
    assertWithinLimits(alert);
    assertWithinLimits(alertFieldsForInsight(parseSecurityHubEvent(null)));
  });
});

describe('Findings Imported V2 (OCSF)', () => {
  const ocsf = (overrides: Json = {}): Json => ({
    activity_id: 1,
    class_uid: 2003,
    category_uid: 2,
    time: 1736935200000,
    severity: 'High',
    severity_id: 4,
    status: 'New',
    status_id: 1,
    message: 'S3 general purpose buckets should block public read access',
    finding_info: {
      uid: 'arn:aws:securityhub:us-east-1:123456789012:security-control/S3.2/finding/7d3c5a0e-1111-2222-3333-444455556666',
      title: 'S3 general purpose buckets should block public read access',
      desc: 'This control checks whether an Amazon S3 general purpose bucket permits public read access.',
      types: ['Software and Configuration Checks/Industry and Regulatory Standards'],
      created_time_dt: '2025-01-15T09:00:00.000Z',
      modified_time: 1736935200000,
      src_url: 'https://console.aws.amazon.com/securityhub/home?region=us-east-1#/findings',
    },
    metadata: {
      uid: 'b4e3a2f1-0000-4000-8000-000000000002',
      version: '1.5.0',
      product: {
        uid: 'arn:aws:securityhub:us-east-1::productv2/aws/securityhub',
        name: 'Security Hub',
        vendor_name: 'AWS',
      },
    },
    cloud: { account: { uid: '123456789012' }, region: 'us-east-1', provider: 'AWS' },
    resources: [
      { uid: 'arn:aws:s3:::example-bucket', type: 'AWS::S3::Bucket', region: 'us-east-1' },
      { name: 'named-only', type: 'AWS::S3::Bucket' },
      { type: 'no identifier' },
    ],
    compliance: { status: 'Fail', status_id: 3, control: 'S3.2' },
    remediation: {
      desc: 'For information on how to correct this issue, consult the Security Hub documentation.',
      references: ['https://docs.aws.amazon.com/console/securityhub/S3.2/remediation'],
    },
    ...overrides,
  });
  const v2Event = (detail: Json): Json =>
    importedEvent([], {
      'detail-type': 'Findings Imported V2',
      resources: ['e51603d1054aad9d9f498d82d6e81acf4cf6bc88140e8ad2273123c73b81084'],
      detail,
    });

  it('reads the OCSF finding from detail.findings[] (severity_id 4 is HIGH, P2)', () => {
    const parsed = parseSecurityHubEvent(v2Event({ findings: [ocsf()] }));
    assert.equal(parsed.kind, 'imported-v2');
    assert.equal(parsed.detailType, 'Findings Imported V2');
    assert.deepEqual(parsed.skipped, []);
    assert.deepEqual(only(parsed), {
      key: {
        id: 'arn:aws:securityhub:us-east-1:123456789012:security-control/S3.2/finding/7d3c5a0e-1111-2222-3333-444455556666',
        productArn: 'arn:aws:securityhub:us-east-1::productv2/aws/securityhub',
      },
      format: 'ocsf',
      title: 'S3 general purpose buckets should block public read access',
      description:
        'This control checks whether an Amazon S3 general purpose bucket permits public read access.',
      productName: 'Security Hub',
      severityLabel: 'HIGH',
      providerSeverityLabel: undefined,
      priority: 'P2',
      workflowStatus: 'NEW',
      recordState: 'ACTIVE',
      complianceStatus: 'FAILED',
      updatedAt: '2025-01-15T10:00:00.000Z',
      createdAt: '2025-01-15T09:00:00.000Z',
      awsAccountId: '123456789012',
      region: 'us-east-1',
      resources: [
        { id: 'arn:aws:s3:::example-bucket', type: 'AWS::S3::Bucket', region: 'us-east-1' },
        { id: 'named-only', type: 'AWS::S3::Bucket' },
      ],
      types: ['Software and Configuration Checks/Industry and Regulatory Standards'],
      sourceUrl: 'https://console.aws.amazon.com/securityhub/home?region=us-east-1#/findings',
      remediationText:
        'For information on how to correct this issue, consult the Security Hub documentation.',
      remediationUrl: 'https://docs.aws.amazon.com/console/securityhub/S3.2/remediation',
    });

    const alert = alertFieldsForFinding(parsed.findings[0]!);
    assert.equal(alert.message, '[Security Hub] S3 general purpose buckets should block public read access');
    assert.equal(alert.priority, 'P2');
    assert.equal(alert.entity, 'arn:aws:s3:::example-bucket');
    assert.deepEqual(alert.tags, [
      'securityhub',
      'severity:HIGH',
      'product:Security-Hub',
      'account:123456789012',
      'region:us-east-1',
      'compliance:FAILED',
      'resource:AWS::S3::Bucket',
    ]);
    assert.equal(alert.details.ResourceIds, 'arn:aws:s3:::example-bucket, named-only');
    assert.equal(alert.details.ResourceTypes, 'AWS::S3::Bucket');
    assert.equal(alert.details.WorkflowStatus, 'NEW');
    assertWithinLimits(alert);
  });

  it('finds the OCSF finding in detail itself, and reads severity and status by name or number', () => {
    const parsed = parseSecurityHubEvent(
      v2Event(ocsf({ severity: 'Fatal', severity_id: 99, status: undefined, status_id: 4 })),
    );
    assert.equal(parsed.kind, 'imported-v2');
    const finding = only(parsed);
    assert.equal(finding.severityLabel, 'CRITICAL');
    assert.equal(finding.priority, 'P1');
    assert.equal(finding.workflowStatus, 'RESOLVED');

    const table: [Json, SeverityLabel][] = [
      [{ severity_id: 1 }, 'INFORMATIONAL'],
      [{ severity_id: 2 }, 'LOW'],
      [{ severity_id: 3 }, 'MEDIUM'],
      [{ severity_id: 5 }, 'CRITICAL'],
      [{ severity_id: 6 }, 'CRITICAL'],
      [{ severity_id: 0, severity: 'Low' }, 'LOW'],
      [{ severity_id: undefined, severity: 'Unknown' }, 'MEDIUM'],
    ];
    for (const [fields, label] of table) {
      const f = only(parseSecurityHubEvent(v2Event({ findings: [ocsf(fields)] })));
      assert.equal(f.severityLabel, label, JSON.stringify(fields));
    }
  });

  it('reads a closed OCSF finding (activity Close) as ASFF reads an ARCHIVED one, and any other activity as ACTIVE', () => {
    const table: [Json, string | undefined][] = [
      [{ activity_id: 1 }, 'ACTIVE'],
      [{ activity_id: 2, activity_name: 'Update' }, 'ACTIVE'],
      [{ activity_id: 3, activity_name: 'Close' }, 'ARCHIVED'],
      [{ activity_id: '3' }, 'ARCHIVED'],
      [{ activity_id: undefined, activity_name: ' close ' }, 'ARCHIVED'],
      [{ activity_id: undefined, activity_name: 'Update' }, 'ACTIVE'],
      // Unknown and Other say nothing of the finding: its name decides.
      [{ activity_id: 99, activity_name: 'Close' }, 'ARCHIVED'],
      [{ activity_id: 0 }, 'ACTIVE'],
      [{ activity_id: undefined }, undefined],
    ];
    for (const [fields, recordState] of table) {
      const f = only(parseSecurityHubEvent(v2Event({ findings: [ocsf(fields)] })));
      assert.equal(f.recordState, recordState, JSON.stringify(fields));
    }
    const closed = only(parseSecurityHubEvent(v2Event({ findings: [ocsf({ activity_id: 3 })] })));
    assert.equal(alertFieldsForFinding(closed).details.RecordState, 'ARCHIVED');
  });

  it("takes an OCSF finding's first ACTIVE, after one last seen before its activity was read, for no move", () => {
    const previous = {
      workflow_status: 'NEW',
      severity_label: 'HIGH',
      note_text: null,
      record_state: null,
      compliance_status: 'FAILED',
      written_back: { workflowStatus: 'IN_PROGRESS' },
    };
    const echo = (fields: Json) =>
      echoOfWriteBack(
        previous,
        only(parseSecurityHubEvent(v2Event({ findings: [ocsf({ status: 'In Progress', ...fields })] }))),
      );
    assert.deepEqual(echo({ activity_id: 2 }), ['workflowStatus']);
    assert.deepEqual(echo({ activity_id: undefined }), ['workflowStatus']);
    // A Close beside the echo is the provider's: it is acted on.
    assert.equal(echo({ activity_id: 3 }), undefined);
  });

  it('takes an OCSF finding in an Imported-looking event, and skips OCSF findings without identity', () => {
    const parsed = parseSecurityHubEvent(
      importedEvent(
        [ocsf(), ocsf({ finding_info: { title: 'no uid' }, metadata: { product: { name: 'x' } } })],
        {
          'detail-type': 'Something Else',
          source: 'custom.scanner',
        },
      ),
    );
    assert.equal(parsed.kind, 'imported-v2');
    assert.equal(parsed.findings.length, 1);
    assert.deepEqual(parsed.skipped, [
      { index: 1, reason: 'OCSF finding has no finding_info.uid and no metadata.product.uid' },
    ]);
  });
});

describe('truncation', () => {
  const base = {
    Id: 'arn:aws:guardduty:us-east-1:123456789012:detector/d/finding/f',
    ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty',
    ProductName: 'GuardDuty',
  };

  it('cuts the message to 130 characters ending in an ellipsis, without splitting a character', () => {
    const alert = alertFieldsForFinding(parseOne({ ...base, Title: 'T'.repeat(300) }));
    assert.equal(alert.message.length, 130);
    assert.equal(alert.message, `[GuardDuty] ${'T'.repeat(117)}…`);
    const exact = alertFieldsForFinding(parseOne({ ...base, Title: 'T'.repeat(118) }));
    assert.equal(exact.message, `[GuardDuty] ${'T'.repeat(118)}`);
    // A surrogate pair straddling the cut is dropped whole.
    const emoji = alertFieldsForFinding(parseOne({ ...base, Title: `${'T'.repeat(116)}😀😀😀` }));
    assert.equal(emoji.message, `[GuardDuty] ${'T'.repeat(116)}…`);
    assert.ok(emoji.message.length <= 130);
  });

  it('cuts the description to 15000 characters', () => {
    const alert = alertFieldsForFinding(
      parseOne({
        ...base,
        Description: 'd'.repeat(20000),
        Remediation: { Recommendation: { Text: 'fix it', Url: 'https://example.com/fix' } },
      }),
    );
    assert.equal(alert.description.length, 15000);
    assert.equal(alert.description, `${'d'.repeat(14999)}…`);
    const short = alertFieldsForFinding(
      parseOne({ ...base, Remediation: { Recommendation: { Url: 'https://x.y/z' } } }),
    );
    assert.equal(short.description, 'Remediation: https://x.y/z');
  });

  it('keeps tags unique, at most 20 and each at most 50 characters; cuts entity and detail values', () => {
    const resources = Array.from({ length: 40 }, (_, i) => ({
      Type: i % 2 === 0 ? `AwsType${i}WithAVeryLongNameThatGoesOnAndOnAndOnForever` : 'AwsEc2Instance',
      Id: `arn:aws:ec2:us-east-1:123456789012:instance/i-${String(i).padStart(4, '0')}-${'z'.repeat(600)}`,
    }));
    const finding = parseOne({
      ...base,
      ProductName: `Very Long Product Name That Goes On, And On ${'P'.repeat(60)}`,
      AwsAccountId: '123456789012',
      Region: 'us-east-1',
      Resources: resources,
    });
    const alert = alertFieldsForFinding(finding, { actionName: '  send   to  on-call  ' });
    assert.equal(alert.tags.length, 20);
    assert.equal(new Set(alert.tags).size, 20);
    for (const tag of alert.tags) assert.ok(tag.length <= 50, tag);
    assert.ok(!alert.tags.some((t) => /\s|,/.test(t)), 'no spaces or commas');
    assert.equal(alert.tags[2], 'product:Very-Long-Product-Name-That-Goes-On-And-On');
    assert.equal(alert.tags[6], 'resource:AwsType0WithAVeryLongNameThatGoesOnAndOnA');
    assert.equal(alert.tags[7], 'resource:AwsEc2Instance');
    assert.ok(alert.tags.includes('action:send-to-on-call'));
    assert.ok(alert.tags.includes('resource:AwsEc2Instance'));
    assert.equal(alert.entity.length, 512);
    assert.equal(alert.entity, resources[0]!.Id.slice(0, 512));
    assert.equal(alert.details.ResourceIds?.length, 8000);
    assert.ok(alert.details.ResourceIds?.endsWith('…'));
    assertWithinLimits(alert);
  });
});

describe('malformed input never throws', () => {
  it('reports events that are not Security Hub events as unsupported', () => {
    const inputs: unknown[] = [
      null,
      undefined,
      'a string',
      '{"detail-type":"Security Hub Findings - Imported"}',
      42,
      true,
      [],
      [importedEvent([])],
      {},
      { detail: 'not an object' },
      { 'detail-type': 'Security Hub Findings - Imported', detail: {} },
      { 'detail-type': 'Security Hub Findings - Imported', detail: { findings: 'nope' } },
      { 'detail-type': 'Security Hub Findings - Custom Action', detail: { findings: [] } },
      { 'detail-type': 'Findings Imported V2', detail: { something: 'else' } },
      {
        'detail-type': 'EC2 Instance State-change Notification',
        source: 'aws.ec2',
        detail: { state: 'running' },
      },
      { 'detail-type': 'Other', detail: { findings: [{ foo: 1 }, 'x', null] } },
      { 'detail-type': 42, source: {}, id: [], detail: { findings: [null] } },
    ];
    for (const input of inputs) {
      const parsed = parseSecurityHubEvent(input);
      assert.equal(parsed.kind, 'unsupported', JSON.stringify(input));
      assert.deepEqual(parsed.findings, []);
      assert.equal(parsed.skipped.length, 1);
      assert.equal(parsed.skipped[0]!.index, -1);
      assert.ok(parsed.skipped[0]!.reason.length > 0);
      assert.equal(typeof parsed.detailType, 'string');
      assert.equal(typeof parsed.source, 'string');
    }
    assert.equal(parseSecurityHubEvent(null).skipped[0]!.reason, 'event is not an object (null)');
  });

  it('skips findings that cannot be identified and reads the rest', () => {
    const good = fixture('asff/cis-110.json');
    const parsed = parseSecurityHubEvent(
      importedEvent([
        null,
        'finding',
        {},
        { Id: 'only-id', Title: 'x' },
        { ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty', Title: 'x' },
        { Id: '   ', ProductArn: 'p' },
        good,
        [],
      ]),
    );
    assert.equal(parsed.kind, 'imported');
    assert.equal(parsed.findings.length, 1);
    assert.equal(parsed.findings[0]!.key.id, good.Id);
    assert.deepEqual(parsed.skipped, [
      { index: 0, reason: 'finding is not an object' },
      { index: 1, reason: 'finding is not an object' },
      { index: 2, reason: 'finding has no Id and no ProductArn' },
      { index: 3, reason: 'finding has no ProductArn' },
      { index: 4, reason: 'finding has no Id' },
      { index: 5, reason: 'finding has no Id' },
      { index: 7, reason: 'finding is not an object' },
    ]);
  });

  it('reads untidy findings leniently', () => {
    const finding = parseOne({
      Id: 12345,
      ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/macie',
      Title: 42,
      Description: { not: 'text' },
      Severity: { Label: null, Normalized: 'n/a' },
      FindingProviderFields: 'x',
      Types: 'not-a-list',
      Resources: [null, 'x', { Id: 7, Type: ['AwsThing'] }, { Type: 'AwsNoId' }],
      Workflow: 'NEW',
      WorkflowState: 'IN_PROGRESS',
      Compliance: null,
      Remediation: { Recommendation: 'fix' },
      Note: { Text: '' },
      UpdatedAt: 123578964332,
      RecordState: 'ARCHIVED',
    });
    assert.deepEqual(finding, {
      key: { id: '12345', productArn: 'arn:aws:securityhub:us-east-1::product/aws/macie' },
      format: 'asff',
      title: '42',
      description: '',
      productName: 'Macie',
      severityLabel: 'MEDIUM',
      providerSeverityLabel: undefined,
      priority: 'P3',
      workflowStatus: 'IN_PROGRESS',
      recordState: 'ARCHIVED',
      updatedAt: '123578964332',
      resources: [{ id: '7' }],
      types: [],
    });
    const alert = alertFieldsForFinding(finding);
    assert.equal(alert.message, '[Macie] 42');
    assert.equal(alert.description, '');
    assert.equal(alert.entity, '7');
    assert.deepEqual(alert.tags, ['securityhub', 'severity:MEDIUM', 'product:Macie']);
    assert.equal(alert.details.RecordState, 'ARCHIVED');
    assertWithinLimits(alert);

    // No Title: the first type, then the GeneratorId, then the Id titles it.
    assert.equal(parseOne({ Id: 'i', ProductArn: 'p', Types: ['A/B/C'] }).title, 'A/B/C');
    assert.equal(parseOne({ Id: 'i', ProductArn: 'p', GeneratorId: 'gen' }).title, 'gen');
    assert.equal(parseOne({ Id: 'i', ProductArn: 'p' }).title, 'i');
    assert.equal(alertFieldsForFinding(parseOne({ Id: 'i', ProductArn: 'p' })).entity, '');
  });
});
