import type { BatchUpdateFindingsCommandInput } from '@aws-sdk/client-securityhub';
import type { AlertEvent } from '../../../alerts/events.js';
import type { Priority, WritebackField } from '../../../db/schema.js';
import { cut, severityForPriority } from '../findings.js';

/**
 * What an alert event made in Vigil changes in its findings, and how that change is spelled for Security
 * Hub, for the intake's echo check and for people reading the alert's activity log. No database, no AWS.
 */

export interface FindingChange {
  field: WritebackField;
  value: Record<string, string>;
}

/** A change claimed for sending: one finding, one field, the value the alert last had. */
export interface ClaimedChange extends FindingChange {
  id: string;
  integrationId: string;
  /** Null once the alert is gone: the change is still sent, only nothing is logged. */
  alertId: string | null;
  productArn: string;
  findingId: string;
  /** Send attempts, this one included. */
  attempts: number;
  createdAt: Date;
  /** The alert event's place in the outbox (a bigint as text): the later change of a field wins. */
  seq: string;
}

/** The change to write for an event made in Vigil, or undefined when the event writes nothing back. */
export function changeFor(event: AlertEvent): FindingChange | undefined {
  // Only what people (or the API, or rules) do in Vigil goes back: not the integration's own changes.
  if (event.actor.kind === 'integration') return undefined;
  switch (event.type) {
    case 'acknowledged':
      return { field: 'workflow', value: { Status: 'NOTIFIED' } };
    case 'unacknowledged':
      return { field: 'workflow', value: { Status: 'NEW' } };
    case 'closed':
      return { field: 'workflow', value: { Status: 'RESOLVED' } };
    case 'priority_changed':
      return { field: 'severity', value: { Label: severityForPriority(event.to as Priority) } };
    case 'note_added': {
      // BatchUpdateFindings takes a Note's Text and UpdatedBy of 1 to 512 characters each.
      const text = cut(event.note, 512);
      const by = cut(event.actor.kind === 'user' ? event.actor.name : 'Vigil', 512, '') || 'Vigil';
      return { field: 'note', value: { Text: text, UpdatedBy: by } };
    }
    default:
      return undefined;
  }
}

/** Security Hub's limit on a finding's Id and ProductArn in BatchUpdateFindings. */
const MAX_IDENTIFIER_LENGTH = 512;

/** Why AWS would refuse these identifiers, or undefined when it would take them. */
export function unsendableIdentifier(productArn: string, findingId: string): string | undefined {
  if (findingId.length > MAX_IDENTIFIER_LENGTH)
    return `its Id is ${findingId.length} characters long; Security Hub allows ${MAX_IDENTIFIER_LENGTH}`;
  if (productArn.length > MAX_IDENTIFIER_LENGTH)
    return `its ProductArn is ${productArn.length} characters long; Security Hub allows ${MAX_IDENTIFIER_LENGTH}`;
  return undefined;
}

/** What the echo of a change looks like in the finding, for the intake's echo check. */
export function echoOf(change: FindingChange): Record<string, string> {
  if (change.field === 'workflow') return { workflowStatus: change.value.Status ?? '' };
  if (change.field === 'severity') return { severityLabel: change.value.Label ?? '' };
  return { noteText: change.value.Text ?? '' };
}

/** The change as the alert's activity log names it. */
export function describeChange(change: FindingChange): string {
  if (change.field === 'workflow') return `Workflow.Status ${change.value.Status}`;
  if (change.field === 'severity') return `Severity.Label ${change.value.Label}`;
  return 'the note';
}

/** The change as BatchUpdateFindings takes it, beside the findings it applies to. */
export function securityHubUpdate(
  change: FindingChange,
): Pick<BatchUpdateFindingsCommandInput, 'Workflow' | 'Severity' | 'Note'> {
  if (change.field === 'workflow') return { Workflow: { Status: change.value.Status as 'NEW' } };
  if (change.field === 'severity') return { Severity: { Label: change.value.Label as 'LOW' } };
  return { Note: { Text: change.value.Text ?? '', UpdatedBy: change.value.UpdatedBy ?? 'Vigil' } };
}
