/**
 * Findings and insight results turned into the fields of an Opsgenie-shaped alert, within Opsgenie's
 * limits. Apart from the readers because it is the one place that knows what an alert looks like; the
 * limits and `cut` are also used by every other place that writes alert text.
 */
import { display } from './lenient-read.js';
import type { AlertFields, NormalizedFinding, ParsedEvent } from './types.js';

/** Opsgenie's hard limits on alert fields. */
export const ALERT_LIMITS = {
  message: 130,
  description: 15000,
  entity: 512,
  tags: 20,
  tag: 50,
  detailKey: 512,
  detailValue: 8000,
  alias: 512,
} as const;

export const ALERT_SOURCE = 'Amazon Security Hub';

/**
 * Cuts `text` to at most `max` UTF-16 code units (so also at most `max` characters), ending in `marker`
 * when cut, and never splitting a surrogate pair.
 */
export function cut(text: string, max: number, marker = '…'): string {
  if (text.length <= max) return text;
  let end = Math.max(0, max - marker.length);
  const last = text.charCodeAt(end - 1);
  if (end > 0 && last >= 0xd800 && last <= 0xdbff) end -= 1;
  return text.slice(0, end) + marker;
}

/** `prefix:value` with whitespace and commas in the value turned to "-", cut to the tag limit. */
function tag(prefix: string, value: string | undefined): string | undefined {
  const clean = value
    ?.trim()
    .replace(/[\s,]+/g, '-')
    .replace(/-{2,}/g, '-');
  if (!clean) return undefined;
  return cut(`${prefix}:${clean}`, ALERT_LIMITS.tag, '');
}

function tagList(candidates: (string | undefined)[]): string[] {
  const out: string[] = [];
  for (const t of candidates) {
    if (t === undefined || t.length === 0 || out.includes(t)) continue;
    if (out.length >= ALERT_LIMITS.tags) break;
    out.push(t);
  }
  return out;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

function setDetail(details: Record<string, string>, key: string, value: string | undefined): void {
  if (value === undefined || value === '') return;
  details[cut(key, ALERT_LIMITS.detailKey, '')] = cut(value, ALERT_LIMITS.detailValue);
}

/**
 * The alert for one finding. `context` carries the custom action (name and description) the finding was
 * sent with, if any; a ParsedEvent can be passed as it is.
 */
export function alertFieldsForFinding(
  finding: NormalizedFinding,
  context?: { actionName?: string; actionDescription?: string },
): AlertFields {
  const message = cut(`[${finding.productName}] ${finding.title}`, ALERT_LIMITS.message);

  const remediation: string[] = [];
  if (finding.remediationText !== undefined) remediation.push(`Remediation: ${finding.remediationText}`);
  if (finding.remediationUrl !== undefined)
    remediation.push(
      remediation.length > 0 ? finding.remediationUrl : `Remediation: ${finding.remediationUrl}`,
    );
  const description = cut(
    [finding.description, remediation.join('\n')].filter((part) => part !== '').join('\n\n'),
    ALERT_LIMITS.description,
  );

  const entity = cut(finding.resources[0]?.id ?? '', ALERT_LIMITS.entity, '');
  const resourceTypes = unique(
    finding.resources.map((r) => r.type).filter((t): t is string => t !== undefined),
  );
  const actionName = display(context?.actionName);
  const actionDescription = display(context?.actionDescription);

  const details: Record<string, string> = {};
  setDetail(details, 'FindingId', finding.key.id);
  setDetail(details, 'ProductArn', finding.key.productArn);
  setDetail(details, 'AwsAccountId', finding.awsAccountId);
  setDetail(details, 'Region', finding.region);
  setDetail(details, 'SeverityLabel', finding.severityLabel);
  setDetail(details, 'WorkflowStatus', finding.workflowStatus);
  setDetail(details, 'RecordState', finding.recordState);
  setDetail(details, 'ComplianceStatus', finding.complianceStatus);
  setDetail(details, 'GeneratorId', finding.generatorId);
  setDetail(details, 'ProductName', finding.productName);
  setDetail(details, 'ResourceIds', finding.resources.map((r) => r.id).join(', '));
  setDetail(details, 'ResourceTypes', resourceTypes.join(', '));
  setDetail(details, 'Types', finding.types.join(', '));
  setDetail(details, 'SourceUrl', finding.sourceUrl);
  setDetail(details, 'RemediationUrl', finding.remediationUrl);
  setDetail(details, 'ActionName', actionName);
  if (actionName !== undefined) setDetail(details, 'ActionDescription', actionDescription);

  const tags = tagList([
    'securityhub',
    tag('severity', finding.severityLabel),
    tag('product', finding.productName),
    tag('account', finding.awsAccountId),
    tag('region', finding.region),
    tag('compliance', finding.complianceStatus),
    tag('action', actionName),
    ...resourceTypes.map((t) => tag('resource', t)),
  ]);

  return { message, description, entity, tags, details, priority: finding.priority, source: ALERT_SOURCE };
}

/** One alert for one Insight Results invocation, listing each result identifier and its count. */
export function alertFieldsForInsight(event: ParsedEvent): AlertFields {
  const insight = event.insight ?? { results: [] };
  const name = insight.name ?? insight.arn ?? 'unnamed';
  const count = insight.count ?? insight.results.length;
  const message = cut(
    `[Security Hub] Insight ${name}: ${count} ${count === 1 ? 'result' : 'results'}`,
    ALERT_LIMITS.message,
  );

  const lines: string[] = [];
  if (event.actionDescription !== undefined) lines.push(event.actionDescription, '');
  lines.push(`Insight results${insight.resultType !== undefined ? ` by ${insight.resultType}` : ''}:`);
  for (const r of insight.results)
    lines.push(r.count !== undefined ? `${r.identifier}: ${r.count}` : r.identifier);
  if (insight.results.length === 0) lines.push('(none)');
  const description = cut(lines.join('\n'), ALERT_LIMITS.description);

  const details: Record<string, string> = {};
  setDetail(details, 'InsightArn', insight.arn);
  setDetail(details, 'InsightName', insight.name);
  setDetail(details, 'ResultType', insight.resultType);
  setDetail(details, 'ActionName', event.actionName);
  setDetail(details, 'ResultCount', String(count));

  return {
    message,
    description,
    entity: cut(insight.arn ?? insight.name ?? '', ALERT_LIMITS.entity, ''),
    tags: tagList(['securityhub', 'insight', tag('action', event.actionName)]),
    details,
    priority: 'P3',
    source: ALERT_SOURCE,
  };
}
