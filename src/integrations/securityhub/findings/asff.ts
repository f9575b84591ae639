/**
 * Findings in the AWS Security Finding Format ("Security Hub Findings - Imported" and custom actions). Apart
 * from the OCSF reader because the two formats share no field names and change independently.
 */
import { tidy, type FindingResult } from './finding-result.js';
import { display, num, obj, str, strings, type Obj } from './lenient-read.js';
import { productNameFromArn } from './product-names.js';
import {
  DEFAULT_SEVERITY,
  priorityForSeverity,
  severityFromNormalized,
  severityLabelOf,
} from './severity.js';
import type { NormalizedFinding } from './types.js';

export function looksAsff(raw: Obj): boolean {
  return ['Id', 'ProductArn', 'SchemaVersion', 'Title', 'AwsAccountId'].some((k) => raw[k] !== undefined);
}

export function readAsff(raw: Obj): FindingResult {
  const id = str(raw.Id);
  const productArn = str(raw.ProductArn);
  if (id === undefined && productArn === undefined) return { reason: 'finding has no Id and no ProductArn' };
  if (id === undefined) return { reason: 'finding has no Id' };
  if (productArn === undefined) return { reason: 'finding has no ProductArn' };

  const severity = obj(raw.Severity);
  const providerSeverity = obj(obj(raw.FindingProviderFields)?.Severity);
  const providerSeverityLabel =
    severityLabelOf(providerSeverity?.Label) ?? severityLabelOf(providerSeverity?.Original);
  const normalized = num(severity?.Normalized);
  const severityLabel =
    severityLabelOf(severity?.Label) ??
    (normalized !== undefined && normalized >= 0 && normalized <= 100
      ? severityFromNormalized(normalized)
      : undefined) ??
    providerSeverityLabel ??
    DEFAULT_SEVERITY;

  const productFields = obj(raw.ProductFields);
  const productName =
    display(raw.ProductName) ??
    display(productFields?.['aws/securityhub/ProductName']) ??
    productNameFromArn(productArn);

  const resources: NormalizedFinding['resources'] = [];
  if (Array.isArray(raw.Resources)) {
    for (const r of raw.Resources) {
      const resource = obj(r);
      const rid = str(resource?.Id);
      if (!resource || rid === undefined) continue;
      resources.push({ id: rid, type: display(resource.Type), region: display(resource.Region) });
    }
  }
  const types = strings(raw.Types);
  const recommendation = obj(obj(raw.Remediation)?.Recommendation);
  const note = obj(raw.Note);
  const noteText = str(note?.Text);

  const finding: NormalizedFinding = {
    key: { id, productArn },
    format: 'asff',
    title: display(raw.Title) ?? types[0] ?? display(raw.GeneratorId) ?? id,
    description: display(raw.Description) ?? '',
    productName,
    severityLabel,
    providerSeverityLabel,
    priority: priorityForSeverity(severityLabel),
    workflowStatus: display(obj(raw.Workflow)?.Status) ?? display(raw.WorkflowState),
    recordState: display(raw.RecordState),
    complianceStatus: display(obj(raw.Compliance)?.Status),
    updatedAt: display(raw.UpdatedAt),
    createdAt: display(raw.CreatedAt),
    awsAccountId: display(raw.AwsAccountId),
    region: display(raw.Region) ?? resources.find((r) => r.region !== undefined)?.region,
    generatorId: display(raw.GeneratorId),
    resources,
    types,
    sourceUrl: display(raw.SourceUrl),
    remediationText: display(recommendation?.Text),
    remediationUrl: display(recommendation?.Url),
    note:
      noteText !== undefined
        ? { text: noteText, updatedBy: display(note?.UpdatedBy), updatedAt: display(note?.UpdatedAt) }
        : undefined,
  };
  return { finding: tidy(finding) };
}
