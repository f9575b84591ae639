/**
 * Findings in OCSF, as the new Security Hub sends them ("Findings Imported V2"). Apart from the ASFF
 * reader because the two formats share no field names and change independently.
 */
import { tidy, type FindingResult } from './finding-result.js';
import { display, isObj, num, obj, str, strings, type Obj } from './lenient-read.js';
import { productNameFromArn } from './product-names.js';
import { DEFAULT_SEVERITY, priorityForSeverity, severityLabelOf } from './severity.js';
import type { NormalizedFinding, SeverityLabel } from './types.js';

/**
 * OCSF severity_id of each label: 1 Informational, 2 Low, 3 Medium, 4 High, 5 Critical. The write-back
 * writes these, and reads them back through the same table, so that its echo is recognised.
 */
export const OCSF_SEVERITY_ID: Readonly<Record<SeverityLabel, number>> = {
  INFORMATIONAL: 1,
  LOW: 2,
  MEDIUM: 3,
  HIGH: 4,
  CRITICAL: 5,
};
/** 6 (Fatal) has no label of its own: read as CRITICAL, never written. */
const OCSF_SEVERITY_IDS = new Map<number, SeverityLabel>([
  ...Object.entries(OCSF_SEVERITY_ID).map(([label, id]): [number, SeverityLabel] => [
    id,
    label as SeverityLabel,
  ]),
  [6, 'CRITICAL'],
]);
/**
 * OCSF status_id, as the workflow status Vigil reads it (5 Archived and 99 Other are not workflow states).
 * Shared with the write-back for the same reason as OCSF_SEVERITY_ID.
 */
export const OCSF_STATUS_ID = { NEW: 1, IN_PROGRESS: 2, SUPPRESSED: 3, RESOLVED: 4 } as const;
const OCSF_STATUS_IDS = new Map<number, string>(
  Object.entries(OCSF_STATUS_ID).map(([status, id]): [number, string] => [id, status]),
);

/** The severity label an OCSF severity_id reads as, or undefined for one without a label. */
export function severityOfOcsfId(id: number): SeverityLabel | undefined {
  return OCSF_SEVERITY_IDS.get(id);
}

/** The workflow status an OCSF status_id reads as, or undefined for one that is no workflow state. */
export function statusOfOcsfId(id: number): string | undefined {
  return OCSF_STATUS_IDS.get(id);
}

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

/** OCSF activity_id of a finding: 1 Create, 2 Update, 3 Close; 0 Unknown and 99 Other say nothing. */
const OCSF_ACTIVITY = { CREATE: 1, UPDATE: 2, CLOSE: 3 } as const;
const OCSF_ACTIVITY_IDS = new Set<number>(Object.values(OCSF_ACTIVITY));

/**
 * The finding's activity as the RecordState an ASFF finding would have, or undefined when it has none.
 * Security Hub "considers findings with activity_name = Close as closed findings" and any other as active
 * ("OCSF findings in Security Hub", https://docs.aws.amazon.com/securityhub/latest/userguide/ocsf-findings.html),
 * so a provider's Close closes the alert under autoClose.archived, as an ASFF ARCHIVED does. The id
 * decides when it is one of OCSF's own (OCSF derives the name from it), else the name.
 */
function recordStateOf(raw: Obj): 'ACTIVE' | 'ARCHIVED' | undefined {
  const id = num(raw.activity_id);
  if (id !== undefined && OCSF_ACTIVITY_IDS.has(id))
    return id === OCSF_ACTIVITY.CLOSE ? 'ARCHIVED' : 'ACTIVE';
  const name = display(raw.activity_name);
  if (name !== undefined) return name.toUpperCase() === 'CLOSE' ? 'ARCHIVED' : 'ACTIVE';
  return id !== undefined ? 'ACTIVE' : undefined;
}

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
    (severityId !== undefined ? severityOfOcsfId(severityId) : undefined) ??
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
  // The comment is what BatchUpdateFindingsV2 writes for Vigil's notes: ASFF's Note, without an author.
  const comment = str(raw.comment);

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
          ? statusOfOcsfId(statusId)
          : undefined,
    recordState: recordStateOf(raw),
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
    note: comment !== undefined ? { text: comment } : undefined,
  };
  return { finding: tidy(finding) };
}
