import { createHash } from 'node:crypto';
import type { Principal } from '../../accounts/service.js';
import type { Actor } from '../../alerts/events.js';
import type { AlertsService, PolicyScope } from '../../alerts/service.js';
import { withSavepoint, type Tx } from '../../db/database.js';
import type { AlertRow, DeliveryProgress, Priority, WritebackField } from '../../db/schema.js';
import { MAX_INDEXED_KEY_BYTES } from '../../db/storable.js';
import type { Logger } from '../../logger.js';
import type { Clock } from '../../work/clock.js';
import type { IntegrationWithTeams } from '../repository.js';
import { SEVERITY_LABELS, securityHubSettings, type SecurityHubSettings } from '../types.js';
import {
  alertFieldsForFinding,
  alertFieldsForInsight,
  cut,
  findingKeyDigest,
  parseSecurityHubEvent,
  priorityForSeverity,
  type NormalizedFinding,
  type ParsedEvent,
} from './findings.js';
import { integrationTeamOf } from '../principal.js';
import { ECHO_WINDOW_MS } from './echo-window.js';
import { findingsRepository } from './findings-repository.js';
import { echoOf } from './writeback/changes.js';
import { writebacksRepository, type FindingWrite } from './writeback/repository.js';

/**
 * One finding, one alert: the state machine that turns a finding (new, updated, resolved, echoed back)
 * into an alert change, and an event's findings into changes, each finding succeeding or failing alone.
 */

export type Verdict =
  | 'created'
  | 'updated'
  | 'closed'
  | 'ignored'
  | 'refused'
  | 'duplicate'
  | 'confirmed'
  | 'unsubscribed'
  | 'failed';

export interface FindingOutcome {
  verdict: Verdict;
  reason?: string;
  alertId?: string;
}

export interface EventOutcome {
  verdict: Verdict;
  reason?: string;
  alertIds: string[];
}

/** Where a delivery came from, for log lines and failure reasons. */
export interface DeliveryContext {
  payloadId?: string;
  /** The HTTP request that brought the delivery. */
  requestId: string;
}

/** A finding to sync, with the event that brought it and the delivery it came in. */
export interface FindingItem {
  finding: NormalizedFinding;
  event: ParsedEvent;
  context: DeliveryContext;
}

/** An alert to create for the integration (a finding's, an insight's, or a set-up notice). */
export interface IntegrationAlert {
  message: string;
  alias: string;
  description: string;
  entity?: string;
  tags: string[];
  details: Record<string, string>;
  priority: Priority;
  source: string;
  /** The team that gets it, when not the integration's assignee (else owner) team. */
  team?: string;
}

// IN_PROGRESS: the new Security Hub's (OCSF status_id 2) word for what ASFF calls NOTIFIED.
const HANDLED = new Set(['NOTIFIED', 'IN_PROGRESS', 'RESOLVED', 'SUPPRESSED']);

/** A delivery's reason lists at most this many distinct reasons, then says how many more there were. */
const MAX_REASONS = 20;

/** What closeReason compares an update with: the finding's state last recorded, or its open alert's. */
export interface RecordedState {
  workflow_status: string | null;
  record_state: string | null;
  compliance_status: string | null;
}

/**
 * What an update of a finding with an open alert is compared with: the state that alert shows (its
 * WorkflowStatus, RecordState and ComplianceStatus details, which alertFieldsForFinding sets and only an
 * update counted on the alert changes), each falling back to the finding's last recorded state when the
 * alert shows none. Not the recorded state alone: an update taken for Vigil's echo is recorded but not
 * shown, and one taken so wrongly (a person's RESOLVED in the console while written_back still holds the
 * RESOLVED of the earlier alert's close) would make every later update still RESOLVED no change, and the
 * alert would never close. An alert opened on a finding already handled shows that state, and the next
 * routine update still saying so is still no change.
 */
export function shownState(details: Record<string, string>, previous: RecordedState): RecordedState {
  return {
    workflow_status: details.WorkflowStatus ?? previous.workflow_status,
    record_state: details.RecordState ?? previous.record_state,
    compliance_status: details.ComplianceStatus ?? previous.compliance_status,
  };
}

/**
 * Why an open alert for this finding should close, or undefined: the update changes the finding to a state
 * auto-close closes alerts for (Workflow.Status becomes RESOLVED or SUPPRESSED, RecordState becomes
 * ARCHIVED, Compliance.Status becomes PASSED). A finding that stays in such a state closes nothing: its
 * alert was opened on it as it was (alertOnHandledFindings, a person's custom action), and the provider's
 * next routine update still saying so is no news. Compliance PASSED closes only when a known compliance
 * becomes PASSED. `previous` is the state the finding's open alert shows (shownState), else its state
 * last recorded. A finding never seen before (`previous` undefined) has no alert to close. Never asked of
 * a custom action's finding (see isAskedFor).
 */
export function closeReason(
  f: NormalizedFinding,
  settings: SecurityHubSettings,
  previous: RecordedState | undefined,
): string | undefined {
  if (!previous) return undefined;
  const became = (now: string | null | undefined, before: string | null, value: string) =>
    now === value && before !== value;
  if (settings.autoClose.resolved && became(f.workflowStatus, previous.workflow_status, 'RESOLVED'))
    return "the finding's Workflow.Status is RESOLVED";
  if (settings.autoClose.suppressed && became(f.workflowStatus, previous.workflow_status, 'SUPPRESSED'))
    return "the finding's Workflow.Status is SUPPRESSED";
  if (settings.autoClose.archived && became(f.recordState, previous.record_state, 'ARCHIVED'))
    return "the finding's RecordState is ARCHIVED";
  if (
    settings.autoClose.passed &&
    previous.compliance_status !== null &&
    became(f.complianceStatus, previous.compliance_status, 'PASSED')
  ) {
    return "the finding's Compliance.Status became PASSED";
  }
  return undefined;
}

/**
 * Why a finding without an open alert opens none for the state it is in, changed or not: one auto-close
 * closes alerts for, as closeReason's are. A known finding that stays resolved, suppressed, archived or
 * passed after its alert closed (or that never had one) opens nothing. A finding seen for the first time
 * opens none ARCHIVED; RESOLVED or SUPPRESSED, alertOnHandledFindings decides (alreadyHandled); PASSED, it
 * may still deserve its alert.
 */
function closedState(
  f: NormalizedFinding,
  settings: SecurityHubSettings,
  known: boolean,
): string | undefined {
  if (known && f.workflowStatus === 'RESOLVED' && settings.autoClose.resolved)
    return "the finding's Workflow.Status is RESOLVED";
  if (known && f.workflowStatus === 'SUPPRESSED' && settings.autoClose.suppressed)
    return "the finding's Workflow.Status is SUPPRESSED";
  if (f.recordState === 'ARCHIVED' && settings.autoClose.archived)
    return "the finding's RecordState is ARCHIVED";
  if (known && f.complianceStatus === 'PASSED' && settings.autoClose.passed)
    return "the finding's Compliance.Status is PASSED";
  return undefined;
}

function findingDigest(integrationId: string, f: NormalizedFinding): string {
  return createHash('sha256')
    .update(`${integrationId}\n${findingKeyDigest(f.key)}`)
    .digest('hex')
    .slice(0, 40);
}

/**
 * One finding, one alert: the alias is derived from the integration and the finding's key (so two
 * different findings never share it, whatever their identifiers hold). A form no sender uses, reserved
 * (reserved-aliases.ts), so that no one else's alert can hold it and take the finding's create. An alert
 * the finding already has, whatever its alias, is found by the finding's alert_id, never by alias.
 */
export function findingAlias(integrationId: string, f: NormalizedFinding): string {
  return `securityhub:finding:${findingDigest(integrationId, f)}`;
}

/**
 * An Insight Results event's alert alias: one per invocation (its EventBridge event id) and per
 * integration, as a finding's is (two integrations that both receive one invocation each open their own
 * alert, for their own team). Reserved (reserved-aliases.ts). An id too long for an alias is hashed.
 */
export function insightAlias(integrationId: string, eventId: string): string {
  const alias = `securityhub-insight-${integrationId}-${eventId}`;
  if (Buffer.byteLength(alias, 'utf8') <= MAX_INDEXED_KEY_BYTES) return alias;
  return `securityhub-insight-${integrationId}-sha256:${createHash('sha256').update(eventId, 'utf8').digest('hex')}`;
}

/**
 * Whether the alert a finding is bound to is someone else's that took it by its alias: opened by a user
 * (or another integration) under the alias Vigil gave findings before ("securityhub-" and the same
 * digits), which anyone could read off an alert, before the new form was reserved; the finding's create
 * then counted on it and bound the finding to it. Its team, not the finding's owner team, was paged, and
 * closing it would resolve the finding in Security Hub. An alert of someone else's under another alias,
 * one an alert policy's alias template gave the finding's create, is grouped as an admin chose, and is
 * the finding's.
 */
export function takenByAlias(
  integrationId: string,
  f: NormalizedFinding,
  alert: Pick<AlertRow, 'alias' | 'integration_id'>,
): boolean {
  return (
    alert.integration_id !== integrationId && alert.alias === `securityhub-${findingDigest(integrationId, f)}`
  );
}

const WRITEBACK_FIELDS: readonly WritebackField[] = ['workflow', 'severity', 'note'];

/** The details a custom action adds to a finding's alert (findings/alert-fields.ts names them). */
const CUSTOM_ACTION_DETAILS = ['ActionName', 'ActionDescription'] as const;

function customActionDetails(details: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    CUSTOM_ACTION_DETAILS.flatMap((key) => (details[key] !== undefined ? [[key, details[key]]] : [])),
  );
}

/** The key of a field in what echoOf reads a change back as (and written_back keeps). */
const ECHO_KEY: Record<WritebackField, string> = {
  workflow: 'workflowStatus',
  severity: 'severityLabel',
  note: 'noteText',
};

/** The finding's value of each field Vigil writes back, as echoOf spells it. */
function writableValues(f: NormalizedFinding): Record<WritebackField, string | null> {
  return { workflow: f.workflowStatus ?? null, severity: f.severityLabel, note: f.note?.text ?? null };
}

/** The fields Vigil writes back whose value the update moves from the one last seen. */
export function movedFields(
  previous: { workflow_status: string | null; severity_label: string | null; note_text: string | null },
  f: NormalizedFinding,
): WritebackField[] {
  const before: Record<WritebackField, string | null> = {
    workflow: previous.workflow_status,
    severity: previous.severity_label,
    note: previous.note_text,
  };
  const after = writableValues(f);
  return (['workflow', 'severity', 'note'] as const).filter((field) => before[field] !== after[field]);
}

/** Whether change `w` would write the finding's present value of its field. */
function carries(w: FindingWrite, f: NormalizedFinding): boolean {
  return echoOf(w)[ECHO_KEY[w.field]] === writableValues(f)[w.field];
}

/**
 * Whether the finding's value of `w`'s field may be the echo of `w`: a change of Vigil's for `alertId`
 * that was sent, or is being sent (writesOf leaves out those sent longer ago than ECHO_WINDOW_MS), and
 * carried that very value. written_back keeps only the last value recorded per field, and recording a
 * change overwrites it before that change is sent, so the echo of an earlier one (a P2 sent a moment
 * before a P1, an unacknowledge's NEW before a close) is recognised only here. Only a change of the same
 * alert counts: one of an earlier alert is older than the occurrence that opened this one, and a person
 * who sets that value again in Security Hub has set a newer one.
 */
export function echoesSentChange(w: FindingWrite, alertId: string | null, f: NormalizedFinding): boolean {
  return w.sent && w.alertId === alertId && carries(w, f);
}

/**
 * Whether the update is of the finding's version last applied: its UpdatedAt (OCSF modified_time) and its
 * provider's severity are as last seen. Vigil's write-back never changes either (BatchUpdateFindings does
 * not move UpdatedAt, AWS-FACTS §4), so an update that moves one is the provider's, whatever values of
 * Vigil's it also carries (those Security Hub kept across the provider's import).
 */
function sameVersion(
  previous: { finding_updated_at?: string | null; provider_severity?: string | null },
  f: NormalizedFinding,
): boolean {
  // Each is compared when known (a finding's stored state always has both).
  return (
    (previous.finding_updated_at === undefined || (f.updatedAt ?? null) === previous.finding_updated_at) &&
    (previous.provider_severity === undefined ||
      (f.providerSeverityLabel ?? null) === previous.provider_severity)
  );
}

/**
 * The fields the update moves to a value of Vigil's own: the last one it recorded for the field
 * (written_back), or one a change of the alert's sent lately carried (echoesSentChange). Either only
 * while the update is of the version last applied (sameVersion): one that moves UpdatedAt (or the
 * provider's severity) is the provider's, even when it carries the value Vigil wrote (the provider's import
 * after the write landed, come before the write's own echo) or sets a value Vigil sent once (a finding
 * raised again to the HIGH a person had set and then taken back).
 */
export function vigilsValues(
  previous: {
    alert_id?: string | null;
    finding_updated_at?: string | null;
    provider_severity?: string | null;
    workflow_status: string | null;
    severity_label: string | null;
    note_text: string | null;
    written_back: Record<string, unknown> | null;
  },
  f: NormalizedFinding,
  writes: readonly FindingWrite[],
): WritebackField[] {
  if (!sameVersion(previous, f)) return [];
  const wrote = previous.written_back ?? {};
  const now = writableValues(f);
  return movedFields(previous, f).filter(
    (field) =>
      wrote[ECHO_KEY[field]] === now[field] ||
      writes.some((w) => w.field === field && echoesSentChange(w, previous.alert_id ?? null, f)),
  );
}

/** Whether the update moves the finding's record state (never written back: the provider's change). */
function recordStateMoved(previous: { record_state: string | null }, f: NormalizedFinding): boolean {
  // An OCSF finding last seen before Vigil read its activity has no record state: ACTIVE is no move.
  return (
    (f.recordState ?? null) !== previous.record_state &&
    !(previous.record_state === null && f.recordState === 'ACTIVE')
  );
}

/** Whether the update moves what Vigil never writes back (record state, compliance): never an echo. */
function providerStateMoved(
  previous: { record_state: string | null; compliance_status: string | null },
  f: NormalizedFinding,
): boolean {
  return recordStateMoved(previous, f) || (f.complianceStatus ?? null) !== previous.compliance_status;
}

/** The fields of the changes sent lately that this update carries back (echoesSentChange). */
function echoedFields(
  previous: { alert_id?: string | null },
  f: NormalizedFinding,
  writes: readonly FindingWrite[],
): WritebackField[] {
  return writes.filter((w) => echoesSentChange(w, previous.alert_id ?? null, f)).map((w) => w.field);
}

/**
 * The update only reflects what Vigil itself wrote back (the write-back's echo) when every field it moves
 * is moved to a value of Vigil's (vigilsValues); undefined when anything else changed. Record state and
 * compliance are never written back, so an update that moves either is the provider's or Security Hub's
 * own. Returns the fields of written_back the echo reflects, for the intake to forget (`forgetWrittenBack`):
 * the same value set later by someone else, in Security Hub's console or by a reactivation's reset, is a
 * change to act on. The echo of an earlier sent change forgets nothing: the last change's is still to come.
 */
export function echoOfWriteBack(
  previous: {
    alert_id?: string | null;
    finding_updated_at?: string | null;
    provider_severity?: string | null;
    workflow_status: string | null;
    severity_label: string | null;
    note_text: string | null;
    record_state: string | null;
    compliance_status: string | null;
    written_back: Record<string, unknown> | null;
  },
  f: NormalizedFinding,
  writes: readonly FindingWrite[] = [],
): string[] | undefined {
  if (providerStateMoved(previous, f)) return undefined;
  const moved = movedFields(previous, f);
  if (moved.length === 0) return echoOfNoChange(previous, f, writes);
  const own = vigilsValues(previous, f, writes);
  if (own.length < moved.length) return undefined;
  return heldKeys(previous, f, moved);
}

/** The keys of written_back that hold, of these fields, the value the finding now has. */
function heldKeys(
  previous: { written_back: Record<string, unknown> | null },
  f: NormalizedFinding,
  fields: readonly WritebackField[],
): string[] {
  const wrote = previous.written_back ?? {};
  const now = writableValues(f);
  return fields.filter((field) => wrote[ECHO_KEY[field]] === now[field]).map((field) => ECHO_KEY[field]);
}

/**
 * Whether an update that moves no field Vigil writes back may be its echo (echoOfNoChange), before its
 * changes are read: the finding's version and provider severity are as last seen (sameVersion), and
 * written_back holds one of the fields. The intake reads the changes only then (echoAgain, for an open
 * alert, reads them itself when it is asked).
 */
function mayEchoNoChange(
  previous: {
    finding_updated_at?: string | null;
    provider_severity?: string | null;
    written_back: Record<string, unknown> | null;
  },
  f: NormalizedFinding,
): boolean {
  if (!sameVersion(previous, f)) return false;
  return WRITEBACK_FIELDS.some((field) => previous.written_back?.[ECHO_KEY[field]] !== undefined);
}

/**
 * The echo of a write that set a value the finding already had (an acknowledge of a finding someone had
 * set NOTIFIED, a priority whose label it had): every BatchUpdateFindings call emits an event (AWS-FACTS
 * §2), one that moves nothing. Vigil's own when the finding's version and provider severity are as last
 * seen (the provider's update moves UpdatedAt) and a change of the alert's sent lately carried the value
 * it holds; otherwise a repeat. Returns the fields of written_back it reflects, as echoOfWriteBack does.
 */
function echoOfNoChange(
  previous: {
    alert_id?: string | null;
    finding_updated_at?: string | null;
    provider_severity?: string | null;
    written_back: Record<string, unknown> | null;
  },
  f: NormalizedFinding,
  writes: readonly FindingWrite[],
): string[] | undefined {
  if (!sameVersion(previous, f)) return undefined;
  const echoed = echoedFields(previous, f, writes);
  if (echoed.length === 0) return undefined;
  // Only while written_back still holds the value: its first echo forgets it, and the changes sent stay in
  // writes for the whole echo window, so a later update moving nothing Vigil writes (Types, Confidence,
  // UserDefinedFields set by someone, no UpdatedAt change) would otherwise pass for an echo too (the echo
  // come again is told from those by what the open alert shows: echoAgain). A field written_back holds
  // another value of is one a newer change of Vigil's was recorded for since (an unacknowledge after the
  // acknowledge): the echo of the earlier is still Vigil's, and forgets nothing.
  const fields = [...new Set(echoed)];
  const consumed = heldKeys(previous, f, fields);
  if (consumed.length > 0) return consumed;
  return fields.some((field) => previous.written_back?.[ECHO_KEY[field]] !== undefined) ? [] : undefined;
}

/** The alert detail (alertFieldsForFinding) that shows a field Vigil writes back, when one does. */
const DETAIL_OF: Partial<Record<WritebackField, string>> = {
  workflow: 'WorkflowStatus',
  severity: 'SeverityLabel',
};

/**
 * Whether an update that echoOfWriteBack took for no echo is Vigil's echo come again: a write made in two
 * requests (an acknowledge with a note) or sent twice (a request that timed out had been applied, and was
 * retried) comes back as an event per request (AWS-FACTS §2), each carrying all that was applied by then.
 * The first is the echo echoOfWriteBack recognises, which forgets written_back; the next moves nothing the
 * finding's record holds (its version, values, record state and compliance as last seen), and would
 * change nothing the open alert shows (`changedDetails`, the details it would update) but values that
 * changes of the alert sent lately carried (echoesSentChange). It is no new occurrence. An update that
 * changes something else the alert shows (Types set in the console) is a repeat, as is a copy of an event
 * while Vigil sent nothing lately.
 */
export function echoAgain(
  previous: {
    alert_id?: string | null;
    finding_updated_at?: string | null;
    provider_severity?: string | null;
    workflow_status: string | null;
    severity_label: string | null;
    note_text: string | null;
    record_state: string | null;
    compliance_status: string | null;
  },
  f: NormalizedFinding,
  writes: readonly FindingWrite[],
  changedDetails: readonly string[],
): boolean {
  if (!sameVersion(previous, f) || movedFields(previous, f).length > 0) return false;
  if (providerStateMoved(previous, f)) return false;
  const echoed = new Set(echoedFields(previous, f, writes));
  if (echoed.size === 0) return false;
  const shown = new Set([...echoed].flatMap((field) => DETAIL_OF[field] ?? []));
  return changedDetails.every((key) => shown.has(key));
}

/**
 * The fields of the finding that someone or something other than Vigil changed in Security Hub, as of this
 * update: its Workflow.Status (any value: RESOLVED or SUPPRESSED from a person or automation rule, NEW from
 * a person or Security Hub's reset on reactivation, NOTIFIED from a person), its Severity.Label (the
 * top-level one people change, not the provider's) and its Note. Vigil's write-back changes of these fields
 * still to be sent are older than such a value, and would silently undo it in Security Hub (and its echo
 * would then be taken for Vigil's own), so the intake ends them. A field counts only when its value moved
 * from the one last seen, and not to the value Vigil last wrote to it: that is Vigil's echo (alone, or
 * beside another change such as an archive), or the very value the change waiting would write. Record
 * state and compliance are never written back, so they supersede nothing. Of the changes of a field it
 * reports, overriddenInSecurityHub spares those behind a sent change of Vigil's that carried the value
 * (an earlier write's echo, which written_back no longer remembers once a newer change was recorded).
 */
export function changedInSecurityHub(
  previous: {
    workflow_status: string | null;
    severity_label: string | null;
    note_text: string | null;
    written_back: Record<string, unknown> | null;
  },
  f: NormalizedFinding,
): WritebackField[] {
  const wrote = previous.written_back ?? {};
  const now = writableValues(f);
  return movedFields(previous, f).filter((field) => wrote[ECHO_KEY[field]] !== now[field]);
}

/**
 * The ids of Vigil's unsent changes (of `fields`, those changedInSecurityHub reports) that the finding's
 * new values end: those not preceded by a change of Vigil's that carried the very value Security Hub
 * now holds and was sent, or is being sent (done, sending, or superseded while being sent). One that
 * would write that very value itself is left alone too: sending it changes nothing, and one being sent
 * whose echo this is has landed (ended, it would hold back the next change of its field for its lease).
 *
 * written_back keeps only the last value recorded per field, and recording a change overwrites it before
 * that change is sent: after an acknowledge was sent and a close recorded (held back by a
 * ConcurrentUpdateError, say), the acknowledge's echo (NOTIFIED) is no longer in written_back, yet it is
 * Vigil's own, older than the close, and must not end it (echoesSentChange, which the echo check shares).
 *
 * The rule is by value, not by Security Hub's time (time bounds only how long a sent change may still
 * echo: ECHO_WINDOW_MS). Security Hub's UpdatedAt cannot order a value against Vigil's
 * changes: BatchUpdateFindings does not change UpdatedAt (AWS-FACTS §4), and a console change or an
 * automation rule goes through it, so a person's value carries the provider's last UpdatedAt, as old as
 * the one Vigil's own echo carries. "Only changes recorded before UpdatedAt" would let no console change
 * supersede anything, and still not tell an echo from a person's change.
 */
export function overriddenInSecurityHub(
  writes: readonly FindingWrite[],
  fields: readonly WritebackField[],
  f: NormalizedFinding,
): string[] {
  const order = (w: FindingWrite) => [BigInt(w.seq), BigInt(w.id)] as const;
  const earlier = (a: FindingWrite, b: FindingWrite) => {
    const [as, ai] = order(a);
    const [bs, bi] = order(b);
    return as < bs || (as === bs && ai < bi);
  };
  return writes
    .filter((p) => p.unsent && fields.includes(p.field) && !carries(p, f))
    .filter(
      (p) => !writes.some((r) => r.field === p.field && earlier(r, p) && echoesSentChange(r, p.alertId, f)),
    )
    .map((p) => p.id);
}

/**
 * An event's findings in the order they are locked, processed and taken in chunks: by their key's digest,
 * which is the same in every process, locale and version (a delivery's progress is an index into it).
 */
export function inProcessingOrder(findings: readonly NormalizedFinding[]): NormalizedFinding[] {
  const digests = new Map(findings.map((f) => [f, findingKeyDigest(f.key)]));
  return [...findings].sort((a, b) => {
    const x = digests.get(a) ?? '';
    const y = digests.get(b) ?? '';
    return x < y ? -1 : x > y ? 1 : 0;
  });
}

/** An empty tally of a delivery's findings. */
export function noProgress(): DeliveryProgress {
  return { verdicts: {}, alertIds: [], reasons: [], moreReasons: 0 };
}

/** Adds findings' outcomes to a delivery's tally: the first distinct reasons are kept, the rest counted. */
export function addOutcomes(
  progress: DeliveryProgress,
  outcomes: readonly FindingOutcome[],
): DeliveryProgress {
  const verdicts = { ...progress.verdicts };
  const alertIds = new Set(progress.alertIds);
  const reasons = [...progress.reasons];
  let moreReasons = progress.moreReasons ?? 0;
  for (const o of outcomes) {
    verdicts[o.verdict] = (verdicts[o.verdict] ?? 0) + 1;
    if (o.alertId) alertIds.add(o.alertId);
    if (!o.reason || reasons.includes(o.reason)) continue;
    if (reasons.length < MAX_REASONS) reasons.push(o.reason);
    else moreReasons++;
  }
  return { verdicts, alertIds: [...alertIds], reasons, moreReasons };
}

/**
 * What a delivery's tally says: the strongest outcome names it (created, closed, updated, ignored; failed
 * only when every finding failed), and its reasons, with the findings the parser skipped, are kept.
 */
export function settleOutcome(progress: DeliveryProgress, event: ParsedEvent): EventOutcome {
  const rank: Verdict[] = ['created', 'closed', 'updated', 'ignored', 'failed'];
  const total = Object.values(progress.verdicts).reduce((a, b) => a + b, 0);
  if (total === 0) {
    return {
      verdict: 'ignored',
      reason: event.skipped[0]?.reason ?? 'the event holds no findings',
      alertIds: progress.alertIds,
    };
  }
  const verdict = rank.find((v) => (progress.verdicts[v] ?? 0) > 0) ?? 'ignored';
  const skipped = event.skipped.map((s) => `finding ${s.index} skipped: ${s.reason}`);
  const all = [...new Set([...progress.reasons, ...skipped])];
  const shown = all.slice(0, MAX_REASONS);
  const more = all.length - shown.length + (progress.moreReasons ?? 0);
  if (more > 0) shown.push(`and ${more} more`);
  const failed = progress.verdicts.failed ?? 0;
  if (failed > 0 && verdict !== 'failed') shown.unshift(`${failed} of ${total} findings failed`);
  return { verdict, reason: shown.join('; ') || undefined, alertIds: progress.alertIds };
}

/** What an event asks for: nothing (and why), the alert of its insight results, or its findings synced. */
export type EventPlan =
  | { kind: 'not-taken'; reason: string }
  | { kind: 'insight' }
  | { kind: 'findings'; findings: NormalizedFinding[] };

export function planEvent(event: ParsedEvent, settings: SecurityHubSettings): EventPlan {
  if (event.kind === 'unsupported')
    return { kind: 'not-taken', reason: event.skipped[0]?.reason ?? 'not a Security Hub event' };
  if (!settings.eventTypes.includes(event.kind)) {
    return {
      kind: 'not-taken',
      reason: `event type "${event.detailType}" is not selected in this integration`,
    };
  }
  if (event.kind === 'insight-results') return { kind: 'insight' };
  return { kind: 'findings', findings: inProcessingOrder(event.findings) };
}

function belowMinimum(f: NormalizedFinding, settings: SecurityHubSettings): string | undefined {
  return SEVERITY_LABELS.indexOf(f.severityLabel) < SEVERITY_LABELS.indexOf(settings.minimumSeverity)
    ? `severity ${f.severityLabel} is below the minimum ${settings.minimumSeverity}`
    : undefined;
}

/**
 * What becomes of a finding Vigil has never seen: ignored without a trace (below the minimum severity),
 * ignored but remembered (it arrives resolved, suppressed, archived or already handled), or an alert.
 */
export function newFindingDecision(
  f: NormalizedFinding,
  settings: SecurityHubSettings,
  event: ParsedEvent,
): { kind: 'ignore'; reason: string; remember: boolean } | { kind: 'create' } {
  const below = belowMinimum(f, settings);
  if (below) return { kind: 'ignore', reason: below, remember: false };
  const reason = isAskedFor(event) ? undefined : closedState(f, settings, false);
  if (reason) return { kind: 'ignore', reason: `${reason}, and it has no open alert`, remember: true };
  const handled = alreadyHandled(f, settings, event);
  if (handled) return { kind: 'ignore', reason: handled, remember: true };
  return { kind: 'create' };
}

/**
 * Whether a person sent the event's findings with the custom action: they ask for attention now, so the
 * finding's state in Security Hub (resolved, suppressed, archived, passed, already handled) is what they
 * chose to send, not a reason to stay quiet or to close the alert they asked for. Imported events carry
 * no such wish, and keep the state machine.
 */
function isAskedFor(event: ParsedEvent): boolean {
  return event.kind === 'custom-action';
}

/** Why a finding that arrives already handled in Security Hub opens no alert, or undefined. */
function alreadyHandled(
  f: NormalizedFinding,
  settings: SecurityHubSettings,
  event: ParsedEvent,
): string | undefined {
  if (isAskedFor(event) || settings.alertOnHandledFindings) return undefined;
  return f.workflowStatus && HANDLED.has(f.workflowStatus)
    ? `the finding is already ${f.workflowStatus} (alertOnHandledFindings is off)`
    : undefined;
}

/** The EventBridge time of the event, when it has a readable one. */
function envelopeTime(event: ParsedEvent): Date | undefined {
  const t = Date.parse(event.time ?? '');
  return Number.isFinite(t) ? new Date(t) : undefined;
}

/**
 * How the finding's UpdatedAt (OCSF modified_time) stands against the one already applied: older, the
 * same (or the same unreadable one, or none on both), or neither.
 */
function versionAgainstApplied(
  previous: { finding_updated_at: string | null },
  f: NormalizedFinding,
): 'older' | 'same' | 'other' {
  const before = Date.parse(previous.finding_updated_at ?? '');
  const now = Date.parse(f.updatedAt ?? '');
  if (Number.isFinite(before) && Number.isFinite(now)) {
    return now < before ? 'older' : now === before ? 'same' : 'other';
  }
  return (f.updatedAt ?? null) === previous.finding_updated_at ? 'same' : 'other';
}

/**
 * Why an update is older than the finding's state already applied, or undefined: an older UpdatedAt
 * (OCSF modified_time), or the same one in an event EventBridge emitted before the last one applied (a
 * delivery held back by a retry, which would put back a state Security Hub has since left). A custom
 * action's finding is acted on even then (a person asked for it), but its state is not recorded.
 */
export function olderThanApplied(
  previous: { finding_updated_at: string | null; event_time: Date | null },
  f: NormalizedFinding,
  eventTime: Date | undefined,
): string | undefined {
  const version = versionAgainstApplied(previous, f);
  if (version === 'older') return 'an older version of the finding than the one already applied';
  // The same UpdatedAt, or the same unreadable one (or none): only the event's time orders them.
  if (version === 'same' && eventTime && previous.event_time && eventTime < previous.event_time)
    return 'an earlier event of the finding than the one already applied (same UpdatedAt)';
  return undefined;
}

/**
 * Whether the finding arrives exactly as last applied, in the very event that applied it: the same
 * UpdatedAt, the same EventBridge time, and no field Vigil reads moved. EventBridge delivers at least once,
 * and SNS and an API destination may both carry an event: such a copy, come under another MessageId, is
 * counted on the open alert as another occurrence, but once that alert was closed in Vigil it is the
 * finding state the person already closed, and opens no new alert. Security Hub's own later event of the
 * finding (a console change, a reset to NEW) has a later time, and is acted on as before.
 */
export function sameEventAsApplied(
  previous: {
    finding_updated_at: string | null;
    event_time: Date | null;
    workflow_status: string | null;
    severity_label: string | null;
    note_text: string | null;
    record_state: string | null;
    compliance_status: string | null;
  },
  f: NormalizedFinding,
  eventTime: Date | undefined,
): boolean {
  if (!eventTime || !previous.event_time || eventTime.getTime() !== previous.event_time.getTime())
    return false;
  return (
    versionAgainstApplied(previous, f) === 'same' &&
    movedFields(previous, f).length === 0 &&
    (f.recordState ?? null) === previous.record_state &&
    (f.complianceStatus ?? null) === previous.compliance_status
  );
}

/**
 * The priority an open alert takes from an update's severity, or undefined to leave it. ASFF follows only
 * the provider's own severity (FindingProviderFields), since the top-level one may be a person's or
 * Vigil's write-back. OCSF has no provider severity apart from severity_id, so its change is followed,
 * except when it is a value Vigil wrote back itself (`vigils`, vigilsValues: an echo, of the last change
 * or of an earlier one sent, that the alert's priority already reflects or has moved on from).
 */
function followedSeverity(
  previous: { provider_severity: string | null; severity_label: string | null } | undefined,
  f: NormalizedFinding,
  vigils: readonly WritebackField[],
): Priority | undefined {
  if (!previous) return undefined;
  if (f.format === 'ocsf') {
    const changed = previous.severity_label !== null && previous.severity_label !== f.severityLabel;
    return changed && !vigils.includes('severity') ? priorityForSeverity(f.severityLabel) : undefined;
  }
  const provider = f.providerSeverityLabel;
  return provider !== undefined &&
    previous.provider_severity !== null &&
    previous.provider_severity !== provider
    ? priorityForSeverity(provider)
    : undefined;
}

function systemPrincipal(orgId: string): Principal {
  return {
    orgId,
    apiKeyId: '',
    userId: undefined,
    username: undefined,
    fullName: undefined,
    role: undefined,
  };
}

/**
 * Whose team policies run over an alert the integration makes: its team's, as over an API or Email
 * integration's (Opsgenie applies a team's policies to alerts made with that team's integration). Not
 * the teams the alert is routed to once the global policies ran: one that adds a responder would stop
 * the team's own policies, one that replaces them would run another team's.
 */
function policyScopeOf(teamId: string): PolicyScope {
  return { kind: 'integration', teamId };
}

export function actorFor(integration: IntegrationWithTeams): Actor {
  return { kind: 'integration', name: integration.name, integrationId: integration.id };
}

export function createFindingSync(deps: {
  alerts: AlertsService;
  log: Logger;
  /** The write-back stamps its changes on this clock: the echo window is measured on it too. */
  clock: Clock;
}) {
  const { alerts, log, clock } = deps;

  async function createAlert(
    tx: Tx,
    integration: IntegrationWithTeams,
    requestId: string,
    fields: IntegrationAlert,
  ): Promise<{ alert: AlertRow; inserted: boolean }> {
    const team = fields.team ?? integrationTeamOf(integration);
    return alerts.create(
      systemPrincipal(integration.org_id),
      requestId,
      {
        message: fields.message,
        alias: fields.alias,
        description: fields.description,
        entity: fields.entity,
        tags: fields.tags,
        details: fields.details,
        priority: fields.priority,
        source: fields.source,
      },
      {
        tx,
        resolvedResponders: [{ type: 'team', id: team }],
        policyScope: policyScopeOf(team),
        actor: actorFor(integration),
        integration: { id: integration.id, name: integration.name, type: integration.type },
        // Every alias made here is one of the forms reserved for Security Hub's alerts (reserved-aliases.ts).
        systemAlias: true,
      },
    );
  }

  async function syncFinding(
    tx: Tx,
    integration: IntegrationWithTeams,
    settings: SecurityHubSettings,
    event: ParsedEvent,
    finding: NormalizedFinding,
    requestId: string,
  ): Promise<FindingOutcome> {
    const isCustomAction = isAskedFor(event);
    // The caller holds the finding's lock (syncFindings takes them all, in one order).
    const previous = await findingsRepository.find(tx, integration.id, finding);
    // The minimum severity decides only whether a finding opens an alert: one Vigil has never seen is
    // dropped without a trace (as newFindingDecision does), but a known one that drops below it must
    // still close, update or echo its alert, or that alert would stay open for good.
    const below = belowMinimum(finding, settings);
    if (below && !previous) return { verdict: 'ignored', reason: below };
    const eventTime = envelopeTime(event);

    // Deliveries may be processed out of order: an update older than the one applied changes nothing,
    // not even as an echo (its state would replace a newer one). Security Hub's changes (Vigil's
    // write-back, a person's in the console) keep UpdatedAt as it was (AWS-FACTS §4): between two events
    // of one UpdatedAt, EventBridge's time tells which came later.
    const older = previous ? olderThanApplied(previous, finding, eventTime) : undefined;
    if (older && !isCustomAction)
      return { verdict: 'ignored', reason: older, alertId: previous?.alert_id ?? undefined };
    // A custom action carries the finding as it was when a person chose the action, which may be before
    // the last update applied: the alert is still what they asked for, but that older state must not
    // replace the newer one, nor count as a change made in Security Hub since.
    const stale = older !== undefined;
    const moved = previous ? movedFields(previous, finding) : [];
    // The provider's update (it moved UpdatedAt or its severity: not sameVersion) that carries the value
    // Vigil last wrote to a field shows that write landed before it: its echo, emitted earlier, is older
    // and will be dropped, so what written_back holds of it is forgotten here (as an echo would), and the
    // same value set later by someone else is a change to act on.
    const landed =
      previous && !stale && !sameVersion(previous, finding) ? heldKeys(previous, finding, moved) : undefined;
    const save = (alertId: string | null, forgetWrittenBack: readonly string[] | undefined = landed) =>
      findingsRepository.save(tx, integration.id, finding, alertId, {
        eventTime,
        forgetWrittenBack,
        sightingOnly: stale,
      });

    const findingKey = findingKeyDigest(finding.key);
    // Vigil's changes of the fields the update moves: to tell its echoes (of the last change, or of an
    // earlier one sent) from a value someone set, and to end those that value makes out of date.
    // An update that moves nothing may be the echo of a write of a value the finding had, or the echo come
    // again of one already ignored (echoAgain): all fields then, when it may be one (mayEchoNoChange);
    // otherwise nothing reads them, and none are asked for.
    const asked =
      moved.length > 0
        ? moved
        : previous && !isCustomAction && mayEchoNoChange(previous, finding)
          ? WRITEBACK_FIELDS
          : [];
    const sentSince = new Date(clock.now().getTime() - ECHO_WINDOW_MS);
    const writes = previous
      ? await writebacksRepository.writesOf(tx, integration.id, findingKey, asked, { sentSince })
      : [];
    const echoed = previous && !isCustomAction ? echoOfWriteBack(previous, finding, writes) : undefined;
    if (previous && echoed) {
      await save(previous.alert_id, echoed);
      return {
        verdict: 'ignored',
        reason: 'the update only reflects what Vigil wrote back',
        alertId: previous.alert_id ?? undefined,
      };
    }

    // Someone changed the finding in Security Hub: Vigil's changes of those fields not yet sent (or to be
    // retried) would overwrite that newer value, so they are never sent.
    // An echo of an earlier change of Vigil's, come back while a newer one waits, is not such a value.
    if (previous && !stale) {
      const fields = changedInSecurityHub(previous, finding);
      await writebacksRepository.supersedeUnsent(
        tx,
        {
          integrationId: integration.id,
          findingKey,
          fields,
          ids: overriddenInSecurityHub(writes, fields, finding),
        },
        'a newer value was set in Security Hub',
        clock.now(),
      );
    }
    const open = previous?.alert_id ? await alerts.lockInTx(tx, previous.alert_id) : undefined;
    // One taken by its alias is not the finding's: the finding has no alert, as if that one were closed,
    // and raises its own (under an alias no one else can hold). Nothing more is counted on that one, and
    // the finding is bound to its own from then on.
    const owned = open && !takenByAlias(integration.id, finding, open) ? open : undefined;
    const boundId = owned ? owned.id : null;
    const alert = owned?.status === 'open' ? owned : undefined;
    // The finding became a closing state since what was recorded, or since what the open alert shows
    // (shownState): an echo may have recorded a state the alert never showed (a console resolve taken for
    // Vigil's), and Vigil's own write may have moved the finding from what the alert shows (an
    // acknowledge's NOTIFIED on an alert opened on a RESOLVED finding, then resolved again).
    const reason = isCustomAction
      ? undefined
      : (closeReason(finding, settings, previous) ??
        (alert && previous
          ? closeReason(finding, settings, shownState(alert.details, previous))
          : undefined));
    const actor = actorFor(integration);
    const fields = alertFieldsForFinding(finding, {
      actionName: event.actionName,
      actionDescription: event.actionDescription,
    });

    if (alert) {
      if (reason) {
        await alerts.applyInTx(tx, alert, { kind: 'close' }, actor, {
          note: `Closed by Amazon Security Hub: ${reason}.`,
          source: 'Amazon Security Hub',
        });
        await save(alert.id);
        return { verdict: 'closed', reason, alertId: alert.id };
      }
      // A stale custom action's finding is older than the details the alert holds: only the action is news.
      const details = stale ? customActionDetails(fields.details) : fields.details;
      const changed = Object.keys(details).filter((k) => alert.details[k] !== details[k]);
      // What echoAgain weighs, read only for an open alert's update that moves nothing, of the version last
      // seen (any other is no echo): the reads above asked for no field then.
      const sentLately =
        asked.length > 0 || isCustomAction || !previous || moved.length > 0 || !sameVersion(previous, finding)
          ? writes
          : await writebacksRepository.writesOf(tx, integration.id, findingKey, WRITEBACK_FIELDS, {
              sentSince,
            });
      if (!isCustomAction && previous && echoAgain(previous, finding, sentLately, changed)) {
        await save(alert.id);
        return {
          verdict: 'ignored',
          reason: 'the update only reflects what Vigil wrote back',
          alertId: alert.id,
        };
      }
      await alerts.recordRepeat(
        tx,
        alert,
        {
          details,
          priority: stale
            ? undefined
            : followedSeverity(previous, finding, previous ? vigilsValues(previous, finding, writes) : []),
          summary: stale
            ? `Finding sent again from Security Hub (custom action ${details.ActionName ?? 'unnamed'})`
            : changed.length > 0
              ? `Finding updated in Security Hub (${changed.join(', ')} changed)`
              : 'Finding sent again by Security Hub',
        },
        actor,
      );
      await save(alert.id);
      return { verdict: 'updated', alertId: alert.id };
    }

    // A finding that stays resolved, suppressed, archived or passed after its alert closed opens nothing
    // (closedState); one a person sends again with the custom action does.
    const quiet = isCustomAction
      ? undefined
      : (reason ?? closedState(finding, settings, previous !== undefined));
    if (quiet) {
      await save(boundId);
      return { verdict: 'ignored', reason: `${quiet}, and it has no open alert` };
    }
    const handled = alreadyHandled(finding, settings, event);
    if (handled) {
      await save(boundId);
      return { verdict: 'ignored', reason: handled };
    }
    // A known finding below the minimum opens no new alert; its state is kept so that a later update
    // (raised above the minimum, or its compliance changing) compares with what it was.
    if (below) {
      await save(boundId);
      return { verdict: 'ignored', reason: below };
    }
    if (boundId && !isCustomAction && previous && sameEventAsApplied(previous, finding, eventTime)) {
      await save(boundId);
      return {
        verdict: 'ignored',
        reason: 'the same event of the finding as the one already applied, whose alert was closed',
        alertId: boundId,
      };
    }
    const { alert: created } = await createAlert(tx, integration, requestId, {
      ...fields,
      alias: findingAlias(integration.id, finding),
    });
    // What was written back stays remembered: a change of the earlier alert may still be on its way
    // (being sent, or slow to apply), and its echo must not close this one. One still waiting (or being
    // sent, and so perhaps to be retried) is moot.
    if (previous)
      await writebacksRepository.supersedeUnsent(
        tx,
        {
          integrationId: integration.id,
          findingKey: findingKeyDigest(finding.key),
          fields: ['workflow'],
          exceptAlert: created.id,
        },
        'the finding opened a new alert',
        clock.now(),
      );
    await save(created.id);
    return { verdict: 'created', alertId: created.id };
  }

  function failure(
    error: unknown,
    integration: IntegrationWithTeams,
    context: DeliveryContext,
    what: string,
  ): FindingOutcome {
    const message = error instanceof Error ? error.message : String(error);
    log.error(
      {
        err: error,
        integrationId: integration.id,
        payloadId: context.payloadId,
        requestId: context.requestId,
      },
      `${what} could not be made into an alert`,
    );
    return {
      verdict: 'failed',
      reason: `${what} failed: ${cut(message, 300)} (request ${context.requestId}); replay the delivery once fixed`,
    };
  }

  /**
   * Syncs findings (parts of one or more deliveries' events, each in processing order), each one
   * succeeding or failing alone. Their locks are taken first, all at once and in the one order every
   * transaction uses. They are then tried together behind one savepoint; only when something fails are
   * they done again one by one, each behind its own, so the common case costs a few statements for all
   * of them.
   */
  async function syncFindings(
    tx: Tx,
    integration: IntegrationWithTeams,
    settings: SecurityHubSettings,
    items: readonly FindingItem[],
  ): Promise<FindingOutcome[]> {
    await findingsRepository.lockAll(
      tx,
      integration.id,
      items.map((i) => i.finding),
    );
    const together = await withSavepoint(tx, () => syncTogether(tx, integration, settings, items));
    if (together.ok) return together.value;
    const outcomes: FindingOutcome[] = [];
    for (const { finding, event, context } of items) {
      const alone = await withSavepoint(tx, () =>
        syncFinding(tx, integration, settings, event, finding, context.requestId),
      );
      outcomes.push(
        alone.ok
          ? alone.value
          : failure(alone.error, integration, context, `finding ${cut(finding.key.id, 120)}`),
      );
    }
    return outcomes;
  }

  /**
   * Findings seen for the first time (most of a burst) in a few statements for all of them: their states
   * read at once, their alerts made at once, their states recorded at once. The others (updates, closes,
   * echoes, a finding twice in one batch) then go one by one, in order.
   */
  async function syncTogether(
    tx: Tx,
    integration: IntegrationWithTeams,
    settings: SecurityHubSettings,
    items: readonly FindingItem[],
  ): Promise<FindingOutcome[]> {
    const known = await findingsRepository.findMany(
      tx,
      integration.id,
      items.map((i) => i.finding),
    );
    const outcomes = new Array<FindingOutcome | undefined>(items.length);
    const creates: { index: number; item: FindingItem }[] = [];
    const remember: { finding: NormalizedFinding; alertId: string | null; eventTime?: Date }[] = [];
    const oneByOne: number[] = [];
    const fresh = new Set<string>();
    items.forEach((item, index) => {
      const key = findingKeyDigest(item.finding.key);
      if (known.has(key) || fresh.has(key)) {
        oneByOne.push(index);
        return;
      }
      fresh.add(key);
      const decision = newFindingDecision(item.finding, settings, item.event);
      if (decision.kind === 'create') {
        creates.push({ index, item });
        return;
      }
      if (decision.remember)
        remember.push({ finding: item.finding, alertId: null, eventTime: envelopeTime(item.event) });
      outcomes[index] = { verdict: 'ignored', reason: decision.reason };
    });
    const actor = actorFor(integration);
    const team = integrationTeamOf(integration);
    const made = await alerts.createMany(
      tx,
      integration.org_id,
      creates.map(({ item: { finding, event, context } }) => ({
        requestId: context.requestId,
        input: {
          ...alertFieldsForFinding(finding, {
            actionName: event.actionName,
            actionDescription: event.actionDescription,
          }),
          alias: findingAlias(integration.id, finding),
        },
        actor,
        responders: [{ type: 'team', id: team }],
        integration: { id: integration.id, name: integration.name, type: integration.type },
        policyScope: policyScopeOf(team),
      })),
    );
    made.forEach(({ alert }, n) => {
      const create = creates[n];
      if (!create) return;
      outcomes[create.index] = { verdict: 'created', alertId: alert.id };
      remember.push({
        finding: create.item.finding,
        alertId: alert.id,
        eventTime: envelopeTime(create.item.event),
      });
    });
    await findingsRepository.saveNew(tx, integration.id, remember);
    for (const index of oneByOne) {
      const item = items[index];
      if (item)
        outcomes[index] = await syncFinding(
          tx,
          integration,
          settings,
          item.event,
          item.finding,
          item.context.requestId,
        );
    }
    return outcomes.map((o) => o ?? { verdict: 'failed', reason: 'not processed' });
  }

  /** The alert for an Insight Results event (one per invocation), isolated like a finding. */
  async function syncInsight(
    tx: Tx,
    integration: IntegrationWithTeams,
    event: ParsedEvent,
    context: DeliveryContext,
  ): Promise<FindingOutcome> {
    const fields = alertFieldsForInsight(event);
    const alias = insightAlias(integration.id, event.eventId ?? context.requestId);
    const result = await withSavepoint(tx, () =>
      createAlert(tx, integration, context.requestId, { ...fields, alias }),
    );
    if (!result.ok) return failure(result.error, integration, context, 'the insight results');
    return { verdict: 'created', alertId: result.value.alert.id };
  }

  return {
    createAlert,
    syncFindings,
    syncInsight,

    /** Turns one whole EventBridge event into alert changes, in the caller's transaction (replays use it). */
    async syncEvent(
      tx: Tx,
      integration: IntegrationWithTeams,
      raw: unknown,
      context: DeliveryContext,
    ): Promise<EventOutcome> {
      const settings = securityHubSettings(integration.settings);
      const event = parseSecurityHubEvent(raw);
      const plan = planEvent(event, settings);
      if (plan.kind === 'not-taken') return { verdict: 'ignored', reason: plan.reason, alertIds: [] };
      const outcomes =
        plan.kind === 'insight'
          ? [await syncInsight(tx, integration, event, context)]
          : await syncFindings(
              tx,
              integration,
              settings,
              plan.findings.map((finding) => ({ finding, event, context })),
            );
      return settleOutcome(addOutcomes(noProgress(), outcomes), event);
    },
  };
}

export type FindingSync = ReturnType<typeof createFindingSync>;
