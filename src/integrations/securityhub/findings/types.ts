/**
 * The shapes every stage shares: a finding as read, an event as read, and the alert made from them.
 * Kept apart so the readers and the alert builder can all name them without importing one another.
 */
import type { Priority } from '../../../db/schema.js';
import type { SEVERITY_LABELS } from '../../types.js';
import type { FindingKey } from './finding-key.js';

export type SeverityLabel = (typeof SEVERITY_LABELS)[number];
export type { Priority };
export type EventKind = 'imported' | 'custom-action' | 'insight-results' | 'imported-v2' | 'unsupported';

export interface NormalizedFinding {
  key: FindingKey;
  format: 'asff' | 'ocsf';
  title: string;
  description: string;
  productName: string;
  /** The finding's current severity (top-level, may have been changed by a person). */
  severityLabel: SeverityLabel;
  /** FindingProviderFields.Severity (the provider's own), when present. */
  providerSeverityLabel: SeverityLabel | undefined;
  /** From severityLabel. */
  priority: Priority;
  workflowStatus?: string;
  recordState?: string;
  complianceStatus?: string;
  updatedAt?: string;
  createdAt?: string;
  awsAccountId?: string;
  region?: string;
  generatorId?: string;
  resources: { id: string; type?: string; region?: string }[];
  types: string[];
  sourceUrl?: string;
  remediationText?: string;
  remediationUrl?: string;
  note?: { text: string; updatedBy?: string; updatedAt?: string };
}

export interface ParsedEvent {
  kind: EventKind;
  detailType: string;
  source: string;
  eventId?: string;
  account?: string;
  region?: string;
  time?: string;
  actionName?: string;
  actionDescription?: string;
  actionArn?: string;
  findings: NormalizedFinding[];
  /** Findings that could not be read (index into the findings list), or index -1 for the event itself. */
  skipped: { index: number; reason: string }[];
  insight?: {
    name?: string;
    arn?: string;
    resultType?: string;
    count?: number;
    results: { identifier: string; count?: number }[];
  };
}

export interface AlertFields {
  message: string;
  description: string;
  entity: string;
  tags: string[];
  details: Record<string, string>;
  priority: Priority;
  source: string;
}
