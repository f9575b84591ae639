import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AlertEvent } from '../../../alerts/events.js';
import type { FindingFormat, Priority } from '../../../db/schema.js';
import { parseSecurityHubEvent, type NormalizedFinding } from '../findings.js';
import {
  changeFor,
  describeChange,
  echoOf,
  securityHubUpdate,
  securityHubUpdateV2,
  writesBackTo,
} from './changes.js';

/**
 * How each change made in Vigil is spelled for each finding format, and that the echo Vigil remembers is
 * what the finding readers make of the finding Security Hub sends back with the change applied.
 */

const base = {
  eventId: 'e1',
  alertId: 'a1',
  orgId: 'o1',
  at: '2026-11-27T10:00:00Z',
  actor: { kind: 'user' as const, name: 'Alice Example' },
};
const event = (e: Record<string, unknown>) => ({ ...base, ...e }) as AlertEvent;
const PRIORITIES: Priority[] = ['P1', 'P2', 'P3', 'P4', 'P5'];

/** An OCSF finding as Security Hub sends it back once BatchUpdateFindingsV2 applied `update`. */
function ocsfEcho(update: { StatusId?: number; SeverityId?: number; Comment?: string }): NormalizedFinding {
  const f: Record<string, unknown> = {
    class_uid: 2003,
    severity_id: update.SeverityId ?? 3,
    status_id: update.StatusId ?? 1,
    finding_info: { uid: 'finding-1', title: 'A finding' },
    metadata: { product: { uid: 'arn:aws:securityhub:us-east-1::productv2/aws/securityhub' } },
    cloud: { account: { uid: '123456789012' } },
    ...(update.Comment !== undefined ? { comment: update.Comment } : {}),
  };
  const parsed = parseSecurityHubEvent({
    'detail-type': 'Findings Imported V2',
    source: 'aws.securityhub',
    detail: f,
  });
  assert.equal(parsed.findings.length, 1, JSON.stringify(parsed.skipped));
  return parsed.findings[0]!;
}

/** What the readers normalize of the echoed finding, under the names echoOf uses. */
function normalized(f: NormalizedFinding): Record<string, string | undefined> {
  return { workflowStatus: f.workflowStatus, severityLabel: f.severityLabel, noteText: f.note?.text };
}

describe('changes for OCSF findings (BatchUpdateFindingsV2)', () => {
  it('maps acknowledge, unacknowledge and close to StatusId 2, 1 and 4', () => {
    const cases: [AlertEvent['type'], number, string][] = [
      ['acknowledged', 2, 'IN_PROGRESS'],
      ['unacknowledged', 1, 'NEW'],
      ['closed', 4, 'RESOLVED'],
    ];
    for (const [type, statusId, status] of cases) {
      const change = changeFor(event({ type }), 'ocsf');
      assert.deepEqual(change, { field: 'workflow', value: { StatusId: String(statusId) } });
      assert.deepEqual(securityHubUpdateV2(change!), { StatusId: statusId });
      assert.equal(describeChange(change!), `StatusId ${statusId} (${status})`);
      assert.deepEqual(echoOf(change!), { workflowStatus: status });
      assert.equal(ocsfEcho({ StatusId: statusId }).workflowStatus, status);
    }
  });

  it('maps P1..P5 to SeverityId 5..1, as ASFF maps them to CRITICAL..INFORMATIONAL', () => {
    for (const [i, priority] of PRIORITIES.entries()) {
      const severityId = 5 - i;
      const asff = changeFor(event({ type: 'priority_changed', from: 'P3', to: priority }), 'asff');
      const change = changeFor(event({ type: 'priority_changed', from: 'P3', to: priority }), 'ocsf');
      assert.deepEqual(securityHubUpdateV2(change!), { SeverityId: severityId });
      // The same severity either way: what the ASFF write-back labels it is what the OCSF id reads as.
      assert.deepEqual(echoOf(change!), echoOf(asff!));
      assert.equal(ocsfEcho({ SeverityId: severityId }).severityLabel, echoOf(change!).severityLabel);
      assert.equal(ocsfEcho({ SeverityId: severityId }).priority, priority);
    }
  });

  it('writes a note as the Comment, cut to 512 characters like the Note text, and reads it back', () => {
    const note = `Isolating ${'x'.repeat(600)}`;
    const asff = changeFor(event({ type: 'note_added', note }), 'asff');
    const change = changeFor(event({ type: 'note_added', note }), 'ocsf');
    const { Comment } = securityHubUpdateV2(change!);
    assert.equal(Comment, asff?.value.Text);
    assert.equal(Comment?.length, 512);
    assert.equal(describeChange(change!), 'the comment');
    assert.deepEqual(normalized(ocsfEcho({ Comment })).noteText, echoOf(change!).noteText);
  });

  it('remembers, for every change, exactly what the reader makes of its echo', () => {
    const events = [
      event({ type: 'acknowledged' }),
      event({ type: 'unacknowledged' }),
      event({ type: 'closed' }),
      event({ type: 'note_added', note: 'Isolating the bucket' }),
      ...PRIORITIES.map((to) => event({ type: 'priority_changed', from: 'P3', to })),
    ];
    for (const e of events) {
      const change = changeFor(e, 'ocsf')!;
      const echoed = normalized(ocsfEcho(securityHubUpdateV2(change)));
      for (const [field, value] of Object.entries(echoOf(change))) assert.equal(echoed[field], value, field);
    }
  });

  it('leaves the ASFF spelling as it was', () => {
    const formats: (FindingFormat | undefined)[] = ['asff', undefined];
    for (const format of formats) {
      const change = changeFor(event({ type: 'acknowledged' }), format);
      assert.deepEqual(change, { field: 'workflow', value: { Status: 'NOTIFIED' } });
      assert.deepEqual(securityHubUpdate(change!), { Workflow: { Status: 'NOTIFIED' } });
    }
  });
});

describe('who writes back', () => {
  const hub = { kind: 'integration' as const, name: 'Prod Hub', integrationId: 'hub' };
  const api = { kind: 'integration' as const, name: 'alice', integrationId: 'api' };

  it("writes back what anyone but the finding's own integration did, an API integration's key included", () => {
    assert.equal(writesBackTo(event({ type: 'closed' }), 'hub'), true);
    assert.equal(writesBackTo({ ...event({ type: 'closed' }), actor: api }, 'hub'), true);
    assert.equal(
      writesBackTo({ ...event({ type: 'closed' }), actor: { kind: 'system', name: 'Vigil' } }, 'hub'),
      true,
    );
    // The integration's own change, from what Security Hub sent: writing it back would only echo it.
    assert.equal(writesBackTo({ ...event({ type: 'closed' }), actor: hub }, 'hub'), false);
    // Another Security Hub integration's finding on the same alert still hears of it.
    assert.equal(writesBackTo({ ...event({ type: 'closed' }), actor: hub }, 'other-hub'), true);
    assert.deepEqual(changeFor({ ...event({ type: 'closed' }), actor: api }), {
      field: 'workflow',
      value: { Status: 'RESOLVED' },
    });
  });

  it("signs a note with the person's name, the API request's user or integration name, else Vigil", () => {
    const note = (actor: AlertEvent['actor']) =>
      changeFor({ ...event({ type: 'note_added', note: 'Isolating' }), actor }, 'asff')?.value.UpdatedBy;
    assert.equal(note(base.actor), 'Alice Example');
    assert.equal(note(api), 'alice');
    assert.equal(
      note({ kind: 'integration', name: 'Monitoring API', integrationId: 'api' }),
      'Monitoring API',
    );
    assert.equal(note({ kind: 'system', name: 'Heartbeat' }), 'Vigil');
  });
});
