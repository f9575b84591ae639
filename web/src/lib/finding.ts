/**
 * The Security Hub finding behind an alert, read back from the alert's details and description as
 * src/integrations/securityhub/findings.ts (alertFieldsForFinding) writes them.
 */
export interface FindingView {
  id: string;
  productArn?: string;
  productName?: string;
  account?: string;
  region?: string;
  severity?: string;
  workflowStatus?: string;
  recordState?: string;
  compliance?: string;
  generatorId?: string;
  resources: { id: string }[];
  resourceTypes: string[];
  types: string[];
  sourceUrl?: string;
  remediationText?: string;
  remediationUrl?: string;
  /** The Security Hub custom action the finding was sent with, and what it says (as whoever made the action wrote them). */
  actionName?: string;
  actionDescription?: string;
  /** The finding's description, without the remediation appended to it. */
  description: string;
  consoleUrl?: string;
}

/** The details the finding's card shows: the alert's page leaves them out of its table of details. */
export const FINDING_DETAIL_KEYS = [
  'FindingId',
  'ProductArn',
  'AwsAccountId',
  'Region',
  'SeverityLabel',
  'WorkflowStatus',
  'RecordState',
  'ComplianceStatus',
  'GeneratorId',
  'ProductName',
  'ResourceIds',
  'ResourceTypes',
  'Types',
  'SourceUrl',
  'RemediationUrl',
  'ActionName',
  'ActionDescription',
];

const list = (value: string | undefined) =>
  (value ?? '')
    .split(', ')
    .map((s) => s.trim())
    .filter(Boolean);

/**
 * The finding in the Security Hub console: the findings page filtered on Id EQUALS the finding's id, in
 * the console's own encoding of a filter (the value encoded once inside the `search` parameter, which is
 * encoded again).
 */
export function securityHubConsoleUrl(region: string, findingId: string): string {
  const search = encodeURIComponent(`Id=${encodeURIComponent(`\\operator\\:EQUALS\\:${findingId}`)}`);
  return `https://${region}.console.aws.amazon.com/securityhub/home?region=${region}#/findings?search=${search}`;
}

/**
 * A region's name as AWS writes them (us-east-1, us-gov-west-1, ap-southeast-2). Alert details come from
 * anyone with an API key, and the region becomes the link's host: "evil.example/#" would send a
 * responder who trusts the link's label to another site.
 */
const AWS_REGION_NAME = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

export function findingOf(details: Record<string, string>, description: string): FindingView | undefined {
  const id = details.FindingId;
  if (!id) return undefined;
  // The description is the finding's, then "Remediation: <text>" and the recommendation's URL.
  const at = description.search(/(^|\n\n)Remediation: /);
  const own = at >= 0 ? description.slice(0, at) : description;
  const remediationPart =
    at >= 0
      ? description
          .slice(at)
          .replace(/^\n\n/, '')
          .replace(/^Remediation: /, '')
      : '';
  const url = details.RemediationUrl;
  const remediationText = remediationPart
    .split('\n')
    .filter((line) => line.trim() !== '' && line.trim() !== url)
    .join('\n');
  const region = details.Region;
  return {
    id,
    productArn: details.ProductArn,
    productName: details.ProductName,
    account: details.AwsAccountId,
    region,
    severity: details.SeverityLabel,
    workflowStatus: details.WorkflowStatus,
    recordState: details.RecordState,
    compliance: details.ComplianceStatus,
    generatorId: details.GeneratorId,
    resources: list(details.ResourceIds).map((rid) => ({ id: rid })),
    resourceTypes: list(details.ResourceTypes),
    types: list(details.Types),
    sourceUrl: details.SourceUrl,
    remediationText: remediationText || undefined,
    remediationUrl: url,
    actionName: details.ActionName,
    actionDescription: details.ActionDescription,
    description: own.trim(),
    consoleUrl: region && AWS_REGION_NAME.test(region) ? securityHubConsoleUrl(region, id) : undefined,
  };
}

/** Only http(s) links are made clickable. */
export function safeUrl(value: string | undefined): string | undefined {
  if (!value) return undefined;
  try {
    const url = new URL(value);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}
