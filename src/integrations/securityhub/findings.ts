/**
 * Amazon Security Hub events (as EventBridge delivers them) read into plain findings, and findings turned
 * into the fields of an Opsgenie-shaped alert. Pure: no database, no HTTP, never throws on what it reads.
 *
 * Event kinds:
 * - "Security Hub Findings - Imported": detail.findings[] holds ASFF findings (usually one).
 * - "Security Hub Findings - Custom Action": detail.actionName/actionDescription, detail.findings[] (up to
 *   20); resources[0] is the custom action's ARN.
 * - "Security Hub Insight Results": detail.insightName/insightArn/resultType/"number of results" and
 *   insightResults[] of `{ "<identifier>": <count> }`: counts per resource, not findings.
 * - "Findings Imported V2" (the new Security Hub): one OCSF finding, in detail.findings[] or in detail.
 * - Any other event whose detail.findings holds findings is read as imported (the vendor's own sample
 *   says source aws.ec2 and detail-type "EC2 Instance State-change Notification").
 */
import { createHash } from 'node:crypto';
import type { Priority } from '../../db/schema.js';
import { storableJson, TooDeeplyNested } from '../../db/storable.js';
import { SEVERITY_LABELS } from '../types.js';

export type SeverityLabel = (typeof SEVERITY_LABELS)[number];
export type { Priority };
export type EventKind = 'imported' | 'custom-action' | 'insight-results' | 'imported-v2' | 'unsupported';

/** What identifies a finding: ASFF Id + ProductArn; for OCSF finding_info.uid + metadata.product.uid. */
export interface FindingKey {
  id: string;
  productArn: string;
}

/**
 * What Vigil keys a finding by: SHA-256 over the SHA-256 of its ProductArn and that of its Id (UTF-8), so
 * that identifiers of any length fit an index (Security Hub allows 512 characters; a sender may send more)
 * and no two different pairs can run together (as "a\nb" + "c" and "a" + "b\nc" would, joined by a newline).
 * Migration 0007 computes the same in SQL for the findings that existed before it.
 */
export function findingKeyDigest(key: FindingKey): string {
  // A finding's key is asked for its digest several times on its way (ordering, locks, state, alias):
  // each key object computes it once, and again only if its identifiers changed meanwhile.
  const known = digests.get(key);
  if (known && known.productArn === key.productArn && known.id === key.id) return known.digest;
  const part = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  const digest = createHash('sha256').update(part(key.productArn)).update(part(key.id)).digest('hex');
  digests.set(key, { productArn: key.productArn, id: key.id, digest });
  return digest;
}

const digests = new WeakMap<FindingKey, { productArn: string; id: string; digest: string }>();

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

const DETAIL_TYPES = {
  imported: 'security hub findings - imported',
  customAction: 'security hub findings - custom action',
  insight: 'security hub insight results',
  importedV2: 'findings imported v2',
} as const;

// ---------------------------------------------------------------------------------------------------
// Severity and priority

const PRIORITY_OF: Record<SeverityLabel, Priority> = {
  CRITICAL: 'P1',
  HIGH: 'P2',
  MEDIUM: 'P3',
  LOW: 'P4',
  INFORMATIONAL: 'P5',
};

const SEVERITY_OF: Record<Priority, SeverityLabel> = {
  P1: 'CRITICAL',
  P2: 'HIGH',
  P3: 'MEDIUM',
  P4: 'LOW',
  P5: 'INFORMATIONAL',
};

/** The severity used when a finding carries none that can be read. */
const DEFAULT_SEVERITY: SeverityLabel = 'MEDIUM';

export function priorityForSeverity(label: SeverityLabel): Priority {
  return PRIORITY_OF[label] ?? PRIORITY_OF[DEFAULT_SEVERITY];
}

/** For writing an alert's priority back to its finding: P1 CRITICAL … P5 INFORMATIONAL. */
export function severityForPriority(priority: Priority): SeverityLabel {
  return SEVERITY_OF[priority] ?? DEFAULT_SEVERITY;
}

/**
 * ASFF Severity.Normalized (0-100) to a label: 0 INFORMATIONAL, 1-39 LOW, 40-69 MEDIUM, 70-89 HIGH,
 * 90-100 CRITICAL. Fractions fall to the range below the next boundary (39.5 is LOW); below 0 is
 * INFORMATIONAL, above 100 CRITICAL, and a value that is not a number MEDIUM.
 */
export function severityFromNormalized(n: number): SeverityLabel {
  if (typeof n !== 'number' || Number.isNaN(n)) return DEFAULT_SEVERITY;
  if (n < 1) return 'INFORMATIONAL';
  if (n < 40) return 'LOW';
  if (n < 70) return 'MEDIUM';
  if (n < 90) return 'HIGH';
  return 'CRITICAL';
}

function severityLabelOf(value: unknown): SeverityLabel | undefined {
  if (typeof value !== 'string') return undefined;
  const upper = value.trim().toUpperCase();
  return SEVERITY_LABELS.find((l) => l === upper);
}

// ---------------------------------------------------------------------------------------------------
// Lenient readers

type Obj = Record<string, unknown>;

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function obj(value: unknown): Obj | undefined {
  return isObj(value) ? value : undefined;
}

/** A non-blank string as it is, or a finite number/boolean as a string; anything else undefined. */
function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value.trim() === '' ? undefined : value;
  if ((typeof value === 'number' && Number.isFinite(value)) || typeof value === 'boolean')
    return String(value);
  return undefined;
}

/** Like str, trimmed: for text shown to people. */
function display(value: unknown): string | undefined {
  return str(value)?.trim();
}

/** A finite number, or a string holding one. */
function num(value: unknown): number | undefined {
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  if (typeof value === 'string' && value.trim() !== '') {
    const n = Number(value.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function strings(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const out: string[] = [];
  for (const item of value) {
    const s = display(item);
    if (s !== undefined) out.push(s);
  }
  return out;
}

function describeError(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

// ---------------------------------------------------------------------------------------------------
// Product names

/** Readable names for AWS's own products, by the last segment of their ProductArn (a Map: keys come from outside). */
const AWS_PRODUCT_NAMES = new Map<string, string>([
  ['securityhub', 'Security Hub'],
  ['guardduty', 'GuardDuty'],
  ['inspector', 'Inspector'],
  ['macie', 'Macie'],
  ['config', 'Config'],
  ['access-analyzer', 'IAM Access Analyzer'],
  ['firewall-manager', 'Firewall Manager'],
  ['ssm-patch-manager', 'Systems Manager Patch Manager'],
  ['health', 'Health'],
  ['detective', 'Detective'],
]);

/**
 * A readable product name from a product ARN's last path segment:
 * `…:product/aws/guardduty` → "GuardDuty"; anything else by words: `…/product/acme/secure-pro` → "Secure Pro".
 */
function productNameFromArn(productArn: string): string {
  const segment = productArn.split('/').pop() ?? productArn;
  const last = (segment.includes(':') ? segment.split(':').pop() : segment)?.trim() ?? '';
  const known = AWS_PRODUCT_NAMES.get(last.toLowerCase());
  if (known) return known;
  const words = last.split(/[-_\s]+/).filter((w) => w !== '');
  if (words.length === 0) return productArn;
  return words.map((w) => w.charAt(0).toUpperCase() + w.slice(1)).join(' ');
}

// ---------------------------------------------------------------------------------------------------
// ASFF findings

type FindingResult = { finding: NormalizedFinding } | { reason: string };

function readAsff(raw: Obj): FindingResult {
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

// ---------------------------------------------------------------------------------------------------
// OCSF findings (the new Security Hub, "Findings Imported V2")

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

function looksOcsf(raw: Obj): boolean {
  if (raw.Id !== undefined || raw.ProductArn !== undefined) return false;
  return isObj(raw.finding_info) || isObj(obj(raw.metadata)?.product) || raw.class_uid !== undefined;
}

function looksAsff(raw: Obj): boolean {
  return ['Id', 'ProductArn', 'SchemaVersion', 'Title', 'AwsAccountId'].some((k) => raw[k] !== undefined);
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

function readOcsf(raw: Obj): FindingResult {
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

/** A shallow copy without the keys whose value is undefined (except those in `keep`). */
function compact<T extends object>(value: T, keep: readonly string[] = []): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined || keep.includes(k)) out[k] = v;
  return out as T;
}

/** The finding without undefined optional keys (providerSeverityLabel is always present). */
function tidy(finding: NormalizedFinding): NormalizedFinding {
  return compact(
    {
      ...finding,
      resources: finding.resources.map((r) => compact(r)),
      note: finding.note ? compact(finding.note) : undefined,
    },
    ['providerSeverityLabel'],
  );
}

function readFinding(raw: unknown, preferOcsf: boolean): FindingResult {
  try {
    const finding = obj(raw);
    if (!finding) return { reason: 'finding is not an object' };
    if (looksOcsf(finding) || (preferOcsf && !looksAsff(finding))) return readOcsf(finding);
    return readAsff(finding);
  } catch (err) {
    return { reason: `finding could not be read: ${describeError(err)}` };
  }
}

// ---------------------------------------------------------------------------------------------------
// Events

function readInsight(detail: Obj): NonNullable<ParsedEvent['insight']> {
  const results: { identifier: string; count?: number }[] = [];
  if (Array.isArray(detail.insightResults)) {
    for (const item of detail.insightResults) {
      const entry = obj(item);
      if (entry) {
        // GetInsightResults' own shape, in case a sender copies it: { GroupByAttributeValue, Count }.
        const grouped = str(entry.GroupByAttributeValue);
        if (grouped !== undefined) {
          results.push(withCount(grouped, num(entry.Count)));
          continue;
        }
        for (const [identifier, count] of Object.entries(entry))
          results.push(withCount(identifier, num(count)));
      } else {
        const identifier = str(item);
        if (identifier !== undefined) results.push({ identifier });
      }
    }
  }
  const insight: NonNullable<ParsedEvent['insight']> = { results };
  const name = display(detail.insightName);
  const arn = display(detail.insightArn);
  const resultType = display(detail.resultType);
  const count = num(detail['number of results']);
  if (name !== undefined) insight.name = name;
  if (arn !== undefined) insight.arn = arn;
  if (resultType !== undefined) insight.resultType = resultType;
  if (count !== undefined) insight.count = count;
  return insight;
}

function withCount(identifier: string, count: number | undefined): { identifier: string; count?: number } {
  return count === undefined ? { identifier } : { identifier, count };
}

function unsupported(parsed: ParsedEvent, reason: string): ParsedEvent {
  parsed.kind = 'unsupported';
  parsed.findings = [];
  parsed.skipped = [{ index: -1, reason }];
  delete parsed.insight;
  return parsed;
}

/**
 * Reads an EventBridge event from Security Hub. Never throws: what cannot be read is reported in
 * `skipped` (index -1 for the event itself) and an event with nothing usable is kind "unsupported".
 */
export function parseSecurityHubEvent(input: unknown): ParsedEvent {
  const parsed: ParsedEvent = { kind: 'unsupported', detailType: '', source: '', findings: [], skipped: [] };
  try {
    // Every string read below is storable in PostgreSQL (see db/storable.ts), whatever the sender put in it.
    let event: unknown;
    try {
      event = storableJson(input);
    } catch (err) {
      if (err instanceof TooDeeplyNested)
        return unsupported(parsed, `event could not be read: ${err.message}`);
      throw err;
    }
    const ev = obj(event);
    if (!ev) return unsupported(parsed, `event is not an object (${event === null ? 'null' : typeof event})`);
    parsed.detailType = str(ev['detail-type']) ?? '';
    parsed.source = str(ev.source) ?? '';
    const eventId = str(ev.id);
    const account = str(ev.account);
    const region = str(ev.region);
    const time = str(ev.time);
    if (eventId !== undefined) parsed.eventId = eventId;
    if (account !== undefined) parsed.account = account;
    if (region !== undefined) parsed.region = region;
    if (time !== undefined) parsed.time = time;

    const detail = obj(ev.detail);
    if (!detail) return unsupported(parsed, 'event has no detail object');
    const resources = Array.isArray(ev.resources) ? ev.resources.map((r) => str(r)) : [];
    const detailType = parsed.detailType.trim().toLowerCase();

    if (detailType === DETAIL_TYPES.insight) {
      parsed.kind = 'insight-results';
      setAction(
        parsed,
        detail,
        resources.find((r) => r !== undefined && /:action\/custom\//.test(r)),
      );
      parsed.insight = readInsight(detail);
      return parsed;
    }

    // Where the findings are: detail.findings[], or (V2) the single OCSF finding as detail itself.
    let list: unknown[] | undefined = Array.isArray(detail.findings) ? detail.findings : undefined;
    if (detailType === DETAIL_TYPES.importedV2) {
      parsed.kind = 'imported-v2';
      if (!list && looksOcsf(detail)) list = [detail];
    } else if (detailType === DETAIL_TYPES.customAction) {
      parsed.kind = 'custom-action';
      setAction(parsed, detail, resources[0]);
    } else if (detailType === DETAIL_TYPES.imported) {
      parsed.kind = 'imported';
    } else {
      // Not a Security Hub detail-type: take it when detail.findings holds something finding-shaped.
      const shaped = (list ?? []).map(obj).filter((f): f is Obj => f !== undefined);
      const ocsf = shaped.filter(looksOcsf);
      if (ocsf.length === 0 && !shaped.some(looksAsff))
        return unsupported(
          parsed,
          `not a Security Hub event (source "${parsed.source}", detail-type "${parsed.detailType}") and detail.findings holds no findings`,
        );
      parsed.kind = ocsf.length === shaped.length ? 'imported-v2' : 'imported';
    }
    if (!list)
      return unsupported(
        parsed,
        parsed.kind === 'imported-v2'
          ? 'detail.findings is missing and detail is not an OCSF finding'
          : 'detail.findings is missing or not a list',
      );
    if (list.length === 0) return unsupported(parsed, 'detail.findings is empty');

    const preferOcsf = parsed.kind === 'imported-v2';
    list.forEach((raw, index) => {
      const result = readFinding(raw, preferOcsf);
      if ('finding' in result) parsed.findings.push(result.finding);
      else parsed.skipped.push({ index, reason: result.reason });
    });
    return parsed;
  } catch (err) {
    return unsupported(parsed, `event could not be read: ${describeError(err)}`);
  }
}

function setAction(parsed: ParsedEvent, detail: Obj, actionArn: string | undefined): void {
  const name = display(detail.actionName);
  const description = display(detail.actionDescription);
  if (name !== undefined) parsed.actionName = name;
  if (description !== undefined) parsed.actionDescription = description;
  if (actionArn !== undefined) parsed.actionArn = actionArn;
}

// ---------------------------------------------------------------------------------------------------
// Alert fields

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
  const message = cut(`[Security Hub] Insight ${name}: ${count} results`, ALERT_LIMITS.message);

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
