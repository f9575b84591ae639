import type {
  BatchUpdateFindingsCommandInput,
  BatchUpdateFindingsV2CommandInput,
} from '@aws-sdk/client-securityhub';
import type { AlertEvent } from '../../../alerts/events.js';
import type { FindingFormat, Priority, WritebackField } from '../../../db/schema.js';
import {
  cut,
  OCSF_SEVERITY_ID,
  OCSF_STATUS_ID,
  severityForPriority,
  severityOfOcsfId,
  statusOfOcsfId,
  type SeverityLabel,
} from '../findings.js';

/**
 * What an alert event made in Vigil changes in its findings, and how that change is spelled for Security
 * Hub (BatchUpdateFindings for ASFF findings, BatchUpdateFindingsV2 for OCSF ones), for the intake's echo
 * check and for people reading the alert's activity log. No database, no AWS.
 */

export interface FindingChange {
  field: WritebackField;
  /** As the finding's API takes it: { Status } / { Label } / { Text, UpdatedBy } for ASFF, { StatusId } / { SeverityId } / { Comment } for OCSF. */
  value: Record<string, string>;
}

/** A change claimed for sending: one finding, one field, the value the alert last had. */
export interface ClaimedChange extends FindingChange {
  id: string;
  integrationId: string;
  /** Null once the alert is gone: the change is still sent, only nothing is logged. */
  alertId: string | null;
  /** Which API the change goes through, and so which requests it may share. */
  format: FindingFormat;
  /** ASFF ProductArn, or OCSF metadata.product.uid. */
  productArn: string;
  /** ASFF Id, or OCSF finding_info.uid. */
  findingId: string;
  /** OCSF cloud.account.uid (BatchUpdateFindingsV2 names a finding by it too); not sent for ASFF. */
  awsAccountId: string | null;
  /** Send attempts, this one included. */
  attempts: number;
  createdAt: Date;
  /** The alert event's place in the outbox (a bigint as text): the later change of a field wins. */
  seq: string;
}

type WrittenStatus = 'NEW' | 'NOTIFIED' | 'RESOLVED';

/** OCSF has no "notified": an acknowledged finding is In Progress, as a person would set it in Security Hub. */
const OCSF_STATUS_FOR: Record<WrittenStatus, number> = {
  NEW: OCSF_STATUS_ID.NEW,
  NOTIFIED: OCSF_STATUS_ID.IN_PROGRESS,
  RESOLVED: OCSF_STATUS_ID.RESOLVED,
};

function workflow(format: FindingFormat, status: WrittenStatus): FindingChange {
  return format === 'ocsf'
    ? { field: 'workflow', value: { StatusId: String(OCSF_STATUS_FOR[status]) } }
    : { field: 'workflow', value: { Status: status } };
}

function severity(format: FindingFormat, label: SeverityLabel): FindingChange {
  return format === 'ocsf'
    ? { field: 'severity', value: { SeverityId: String(OCSF_SEVERITY_ID[label]) } }
    : { field: 'severity', value: { Label: label } };
}

/**
 * Whether an event's change goes to a finding of this Security Hub integration. Not when that integration
 * made it itself (finding sync, acting on what Security Hub sent): that would write Security Hub's own
 * change back to it. What anyone else does goes back, an API or Email integration's key included.
 */
export function writesBackTo(event: AlertEvent, integrationId: string): boolean {
  return !(event.actor.kind === 'integration' && event.actor.integrationId === integrationId);
}

/**
 * The change to write to a finding of `format` for an event made in Vigil, or undefined when the event
 * writes nothing back (whatever the format: the recorder asks before it knows the findings). Which
 * findings it goes to is writesBackTo's to say.
 */
export function changeFor(event: AlertEvent, format: FindingFormat = 'asff'): FindingChange | undefined {
  switch (event.type) {
    case 'acknowledged':
      return workflow(format, 'NOTIFIED');
    case 'unacknowledged':
      return workflow(format, 'NEW');
    case 'closed':
      return workflow(format, 'RESOLVED');
    case 'priority_changed':
      return severity(format, severityForPriority(event.to as Priority));
    case 'note_added': {
      // BatchUpdateFindings takes a Note's Text and UpdatedBy of 1 to 512 characters each, and
      // BatchUpdateFindingsV2 a Comment of as many (it keeps no author).
      const text = cut(event.note, 512);
      if (format === 'ocsf') return { field: 'note', value: { Comment: text } };
      // A person's name, or the request's `user` (else the integration's name) for an integration's key.
      const by = cut(event.actor.kind === 'system' ? 'Vigil' : event.actor.name, 512, '') || 'Vigil';
      return { field: 'note', value: { Text: text, UpdatedBy: by } };
    }
    default:
      return undefined;
  }
}

/** Security Hub's limit on a finding's Id and ProductArn in BatchUpdateFindings. */
const MAX_IDENTIFIER_LENGTH = 512;

/** Why AWS would refuse to identify this finding, or undefined when it would take it. */
export function unsendableIdentifier(finding: {
  format: FindingFormat;
  productArn: string;
  findingId: string;
  awsAccountId: string | null;
}): string | undefined {
  const { productArn, findingId } = finding;
  if (finding.format === 'ocsf')
    return finding.awsAccountId
      ? undefined
      : 'it has no cloud.account.uid, which BatchUpdateFindingsV2 needs to identify it';
  if (findingId.length > MAX_IDENTIFIER_LENGTH)
    return `its Id is ${findingId.length} characters long; Security Hub allows ${MAX_IDENTIFIER_LENGTH}`;
  if (productArn.length > MAX_IDENTIFIER_LENGTH)
    return `its ProductArn is ${productArn.length} characters long; Security Hub allows ${MAX_IDENTIFIER_LENGTH}`;
  return undefined;
}

/**
 * What the echo of a change looks like in the finding as the readers normalize it, for the intake's echo
 * check: an OCSF id is read back through the same table ocsf.ts reads the finding's own with.
 */
export function echoOf(change: FindingChange): Record<string, string> {
  const { value } = change;
  if (change.field === 'workflow')
    return { workflowStatus: value.Status ?? statusOfOcsfId(Number(value.StatusId)) ?? '' };
  if (change.field === 'severity')
    return { severityLabel: value.Label ?? severityOfOcsfId(Number(value.SeverityId)) ?? '' };
  return { noteText: value.Text ?? value.Comment ?? '' };
}

/** The change as the alert's activity log names it. */
export function describeChange(change: FindingChange): string {
  const { value } = change;
  if (change.field === 'workflow')
    return value.Status !== undefined
      ? `Workflow.Status ${value.Status}`
      : `StatusId ${value.StatusId} (${statusOfOcsfId(Number(value.StatusId))})`;
  if (change.field === 'severity')
    return value.Label !== undefined
      ? `Severity.Label ${value.Label}`
      : `SeverityId ${value.SeverityId} (${severityOfOcsfId(Number(value.SeverityId))})`;
  return value.Comment !== undefined ? 'the comment' : 'the note';
}

/** The change as BatchUpdateFindings takes it, beside the findings it applies to. */
export function securityHubUpdate(
  change: FindingChange,
): Pick<BatchUpdateFindingsCommandInput, 'Workflow' | 'Severity' | 'Note'> {
  if (change.field === 'workflow') return { Workflow: { Status: change.value.Status as 'NEW' } };
  if (change.field === 'severity') return { Severity: { Label: change.value.Label as 'LOW' } };
  return { Note: { Text: change.value.Text ?? '', UpdatedBy: change.value.UpdatedBy ?? 'Vigil' } };
}

/** The change as BatchUpdateFindingsV2 takes it, beside the findings it applies to. */
export function securityHubUpdateV2(
  change: FindingChange,
): Pick<BatchUpdateFindingsV2CommandInput, 'StatusId' | 'SeverityId' | 'Comment'> {
  if (change.field === 'workflow') return { StatusId: Number(change.value.StatusId) };
  if (change.field === 'severity') return { SeverityId: Number(change.value.SeverityId) };
  return { Comment: change.value.Comment ?? '' };
}
