import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  changedInSecurityHub,
  echoOfWriteBack,
  overriddenInSecurityHub,
  vigilsValues,
} from '../finding-sync.js';
import type { NormalizedFinding } from '../findings.js';
import type { FindingWrite } from './repository.js';

/**
 * Which of Vigil's unsent changes a finding's update from Security Hub ends, without a database: a value
 * someone set there ends them, Vigil's own echo (of the last change recorded, or of an earlier one sent
 * while a newer one waits) does not.
 */

const ALERT = 'alert-1';

function update(values: { workflow?: string; severity?: string; note?: string }): NormalizedFinding {
  return {
    key: { productArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub', id: 'finding-1' },
    format: 'asff',
    severityLabel: values.severity ?? 'MEDIUM',
    workflowStatus: values.workflow ?? 'NEW',
    ...(values.note !== undefined ? { note: { text: values.note } } : {}),
  } as unknown as NormalizedFinding;
}

function write(
  id: number,
  status: 'pending' | 'sending' | 'done' | 'superseded in flight',
  value: Record<string, string>,
  more: Partial<FindingWrite> = {},
): FindingWrite {
  return {
    id: String(id),
    alertId: ALERT,
    field: 'Status' in value || 'StatusId' in value ? 'workflow' : 'Label' in value ? 'severity' : 'note',
    value,
    seq: String(id),
    unsent: status === 'pending' || status === 'sending',
    sent: status !== 'pending',
    ...more,
  };
}

/** The finding's last known state: NEW, acknowledged in Vigil and then closed (RESOLVED remembered). */
const previous = {
  workflow_status: 'NEW',
  severity_label: 'MEDIUM',
  note_text: null,
  written_back: { workflowStatus: 'RESOLVED' },
};

describe('a value come back from Security Hub', () => {
  it("does not end a close waiting behind the acknowledge whose echo it is (written_back remembers only the close's RESOLVED)", () => {
    const notified = update({ workflow: 'NOTIFIED' });
    // Moved, and not to what written_back remembers: the intake looks at the field's changes...
    const fields = changedInSecurityHub(previous, notified);
    assert.deepEqual(fields, ['workflow']);
    // ...and spares the close, behind the acknowledge that carried NOTIFIED (sent, or being sent).
    for (const ackStatus of ['done', 'sending', 'superseded in flight'] as const) {
      const writes = [
        write(1, ackStatus, { Status: 'NOTIFIED' }),
        write(2, 'pending', { Status: 'RESOLVED' }),
      ];
      assert.deepEqual(overriddenInSecurityHub(writes, fields, notified), [], ackStatus);
    }
  });

  it('ends the close when the value is one no change of Vigil sent before it', () => {
    const suppressed = update({ workflow: 'SUPPRESSED' });
    const fields = changedInSecurityHub(previous, suppressed);
    const writes = [write(1, 'done', { Status: 'NOTIFIED' }), write(2, 'pending', { Status: 'RESOLVED' })];
    assert.deepEqual(overriddenInSecurityHub(writes, fields, suppressed), ['2']);
  });

  it('ends the close when the acknowledge that carried the value was never sent', () => {
    const notified = update({ workflow: 'NOTIFIED' });
    const fields = changedInSecurityHub(previous, notified);
    // Still waiting itself: NOTIFIED can only be a person's, and ends the close (the acknowledge, which
    // would write that very value, is left: sending it changes nothing).
    const writes = [write(1, 'pending', { Status: 'NOTIFIED' }), write(2, 'pending', { Status: 'RESOLVED' })];
    assert.deepEqual(overriddenInSecurityHub(writes, fields, notified), ['2']);
  });

  it('ends a change behind a sent one that carried the value for an earlier alert', () => {
    const resolved = update({ workflow: 'RESOLVED' });
    const fields = changedInSecurityHub(
      { ...previous, written_back: { workflowStatus: 'NOTIFIED' } },
      resolved,
    );
    const writes = [
      write(1, 'done', { Status: 'RESOLVED' }, { alertId: 'earlier-alert' }),
      write(2, 'pending', { Status: 'NOTIFIED' }),
    ];
    assert.deepEqual(overriddenInSecurityHub(writes, fields, resolved), ['2']);
  });

  it('compares by the alert event order, not only the row id, and reads OCSF values back', () => {
    const notified = update({ workflow: 'NOTIFIED' });
    const fields = changedInSecurityHub(previous, notified);
    // An In Progress (StatusId 2) sent before the close, by the event order, read back as the OCSF
    // reader reads the finding's own.
    const inProgress = update({ workflow: 'IN_PROGRESS' });
    const ocsf = [
      write(5, 'done', { StatusId: '2' }, { seq: '1' }),
      write(4, 'pending', { StatusId: '4' }, { seq: '2' }),
    ];
    assert.deepEqual(
      overriddenInSecurityHub(ocsf, changedInSecurityHub(previous, inProgress), inProgress),
      [],
    );
    // Sent after it (a later event), it is no echo the close waits behind.
    const after = [
      write(4, 'done', { Status: 'NOTIFIED' }, { seq: '3' }),
      write(5, 'pending', { Status: 'RESOLVED' }, { seq: '2' }),
    ];
    assert.deepEqual(overriddenInSecurityHub(after, fields, notified), ['5']);
  });

  it('looks only at the fields changed in Security Hub, and changes nothing for an echo of the last change', () => {
    const echo = update({ workflow: 'RESOLVED' });
    assert.deepEqual(changedInSecurityHub(previous, echo), []);
    const writes = [write(1, 'pending', { Status: 'RESOLVED' }), write(2, 'pending', { Label: 'HIGH' })];
    assert.deepEqual(overriddenInSecurityHub(writes, [], echo), []);
    const low = update({ workflow: 'NEW', severity: 'LOW' });
    assert.deepEqual(changedInSecurityHub(previous, low), ['severity']);
    assert.deepEqual(overriddenInSecurityHub(writes, ['severity'], low), ['2']);
  });
});

describe('the echo of an earlier change of Vigil, come back after a newer one was recorded', () => {
  /** Seen MEDIUM and NOTIFIED; Vigil then sent HIGH and recorded CRITICAL (written_back's severity). */
  const seen = {
    alert_id: ALERT,
    workflow_status: 'NOTIFIED',
    severity_label: 'MEDIUM',
    note_text: null,
    record_state: 'ACTIVE',
    compliance_status: null,
    written_back: { severityLabel: 'CRITICAL' },
  };
  const ocsf = (severityId: string, status: 'done' | 'pending' | 'sending') =>
    write(Number(severityId), status, { SeverityId: severityId }, { field: 'severity' });
  const at = (values: { workflow?: string; severity?: string }) =>
    ({ ...update({ workflow: 'NOTIFIED', ...values }), recordState: 'ACTIVE' }) as NormalizedFinding;

  it("is Vigil's own when a sent change carried the value, and forgets nothing of written_back", () => {
    const high = at({ severity: 'HIGH' });
    assert.equal(echoOfWriteBack(seen, high), undefined, 'written_back alone no longer knows HIGH');
    assert.deepEqual(echoOfWriteBack(seen, high, [ocsf('4', 'done'), ocsf('5', 'pending')]), []);
    assert.deepEqual(echoOfWriteBack(seen, high, [ocsf('4', 'sending')]), []);
    assert.deepEqual(vigilsValues(seen, high, [ocsf('4', 'done')]), ['severity']);
    // The last change's echo still forgets what written_back remembers.
    assert.deepEqual(echoOfWriteBack(seen, at({ severity: 'CRITICAL' }), [ocsf('4', 'done')]), [
      'severityLabel',
    ]);
  });

  it("is not when the finding's UpdatedAt moved: the provider set that value, not Vigil", () => {
    const raised = {
      ...at({ severity: 'HIGH' }),
      updatedAt: '2026-12-06T10:00:00.000Z',
    } as NormalizedFinding;
    const before = { ...seen, finding_updated_at: '2026-12-06T09:00:00.000Z' };
    assert.equal(echoOfWriteBack(before, raised, [ocsf('4', 'done')]), undefined);
    assert.deepEqual(vigilsValues(before, raised, [ocsf('4', 'done')]), []);
    const echo = { ...raised, updatedAt: '2026-12-06T09:00:00.000Z' } as NormalizedFinding;
    assert.deepEqual(echoOfWriteBack(before, echo, [ocsf('4', 'done')]), []);
  });

  it("is not when the change was never sent, was another alert's, or something else moved too", () => {
    const high = at({ severity: 'HIGH' });
    assert.equal(echoOfWriteBack(seen, high, [ocsf('4', 'pending')]), undefined);
    assert.equal(
      echoOfWriteBack(seen, high, [
        write(4, 'done', { SeverityId: '4' }, { field: 'severity', alertId: 'earlier-alert' }),
      ]),
      undefined,
    );
    const andResolved = at({ severity: 'HIGH', workflow: 'SUPPRESSED' });
    assert.equal(echoOfWriteBack(seen, andResolved, [ocsf('4', 'done')]), undefined);
    assert.deepEqual(vigilsValues(seen, andResolved, [ocsf('4', 'done')]), ['severity']);
  });

  it("takes an unacknowledge's NEW for Vigil's own while a close waits", () => {
    const previousAck = { ...seen, written_back: { workflowStatus: 'RESOLVED' } };
    const writes = [
      write(1, 'done', { Status: 'NOTIFIED' }),
      write(2, 'done', { Status: 'NEW' }),
      write(3, 'pending', { Status: 'RESOLVED' }),
    ];
    const fresh = at({ workflow: 'NEW', severity: 'MEDIUM' });
    assert.deepEqual(echoOfWriteBack(previousAck, fresh, writes), []);
    assert.deepEqual(overriddenInSecurityHub(writes, changedInSecurityHub(previousAck, fresh), fresh), []);
  });
});
