/**
 * Findings in OCSF, as the new Security Hub sends them ("Findings Imported V2"). Apart from the ASFF
 * reader because the two formats share no field names and change independently.
 */
import { tidy, type FindingResult } from './finding-result.js';
import { display, isObj, num, obj, str, strings, type Obj } from './lenient-read.js';
import { productNameFromArn } from './product-names.js';
import { DEFAULT_SEVERITY, priorityForSeverity, severityLabelOf } from './severity.js';
import type { NormalizedFinding, SeverityLabel } from './types.js';

/** OCSF severity_id: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical, 6 Fatal. */
const OCSF_SEVERITY_IDS = new Map<number, SeverityLabel>([
  [1, 'INFORMATIONAL'],
  [2, 'LOW'],
  [3, 'MEDIUM'],
  [4, 'HIGH'],
  [5, 'CRITICAL'],
  [6, 'CRITICAL'],
]);
const OCSF_STATUS_IDS = new Map<number, string>([
  [1, 'NEW'],
  [2, 'IN_PROGRESS'],
  [3, 'SUPPRESSED'],
  [4, 'RESOLVED'],
]);
const OCSF_COMPLIANCE = new Map<string, string>([
  ['PASS', 'PASSED'],
  ['WARNING', 'WARNING'],
  ['FAIL', 'FAILED'],
]);
const OCSF_COMPLIANCE_IDS = new Map<number, string>([
  [1, 'PASSED'],
  [2, 'WARNING'],
  [3, 'FAILED'],
]);

export function looksOcsf(raw: Obj): boolean {
  if (raw.Id !== undefined || raw.ProductArn !== undefined) return false;
  return isObj(raw.finding_info) || isObj(obj(raw.metadata)?.product) || raw.class_uid !== undefined;
}

function upperWords(value: string): string {
  return value.trim().toUpperCase().replace(/\s+/g, '_');
}

/** An ISO timestamp from OCSF's `*_dt` string, or its epoch-milliseconds number. */
function ocsfTime(dt: unknown, epochMs: unknown): string | undefined {
  const text = display(dt);
  if (text !== undefined) return text;
  const ms = num(epochMs);
  if (ms === undefined) return undefined;
  const date = new Date(ms);
  return Number.isFinite(date.getTime()) ? date.toISOString() : undefined;
}

export function readOcsf(raw: Obj): FindingResult {
  const info = obj(raw.finding_info);
  const metadata = obj(raw.metadata);
  const product = obj(metadata?.product);
  const id = str(info?.uid) ?? str(metadata?.uid);
  const productUid = str(product?.uid);
  if (id === undefined && productUid === undefined)
    return { reason: 'OCSF finding has no finding_info.uid and no metadata.product.uid' };
  if (id === undefined) return { reason: 'OCSF finding has no finding_info.uid' };
  if (productUid === undefined) return { reason: 'OCSF finding has no metadata.product.uid' };

  const severityId = num(raw.severity_id);
  const severityText = display(raw.severity)?.toUpperCase();
  const severityLabel =
    (severityId !== undefined ? OCSF_SEVERITY_IDS.get(severityId) : undefined) ??
    (severityText === 'FATAL' ? 'CRITICAL' : severityLabelOf(severityText)) ??
    DEFAULT_SEVERITY;

  const statusText = display(raw.status);
  const statusId = num(raw.status_id);
  const compliance = obj(raw.compliance);
  const complianceText = display(compliance?.status);
  const complianceId = num(compliance?.status_id);
  const cloud = obj(raw.cloud);
  const remediation = obj(raw.remediation);
  const references = strings(remediation?.references);

  const resources: NormalizedFinding['resources'] = [];
  if (Array.isArray(raw.resources)) {
    for (const r of raw.resources) {
      const resource = obj(r);
      const rid = str(resource?.uid) ?? str(resource?.name);
      if (!resource || rid === undefined) continue;
      resources.push({ id: rid, type: display(resource.type), region: display(resource.region) });
    }
  }
  const types = strings(info?.types);

  const finding: NormalizedFinding = {
    key: { id, productArn: productUid },
    format: 'ocsf',
    title: display(info?.title) ?? display(raw.message) ?? types[0] ?? id,
    description: display(info?.desc) ?? display(raw.message) ?? '',
    productName: display(product?.name) ?? productNameFromArn(productUid),
    severityLabel,
    providerSeverityLabel: undefined,
    priority: priorityForSeverity(severityLabel),
    workflowStatus:
      statusText !== undefined
        ? upperWords(statusText)
        : statusId !== undefined
          ? OCSF_STATUS_IDS.get(statusId)
          : undefined,
    complianceStatus:
      complianceText !== undefined
        ? (OCSF_COMPLIANCE.get(upperWords(complianceText)) ?? upperWords(complianceText))
        : complianceId !== undefined
          ? OCSF_COMPLIANCE_IDS.get(complianceId)
          : undefined,
    updatedAt: ocsfTime(info?.modified_time_dt, info?.modified_time) ?? ocsfTime(raw.time_dt, raw.time),
    createdAt: ocsfTime(info?.created_time_dt, info?.created_time),
    awsAccountId: display(obj(cloud?.account)?.uid),
    region: display(cloud?.region) ?? resources.find((r) => r.region !== undefined)?.region,
    resources,
    types,
    sourceUrl: display(info?.src_url),
    remediationText: display(remediation?.desc),
    remediationUrl: references[0],
  };
  return { finding: tidy(finding) };
}
