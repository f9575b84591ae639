import { sql } from 'kysely';
import type { Tx } from '../../db/database.js';
import { lockNames } from '../../db/advisory-locks.js';
import { findingKeyDigest, type NormalizedFinding } from './findings.js';

/**
 * The SQL for the last known state of each finding and the alert it feeds. A finding is keyed by a digest
 * of its ProductArn and Id (whatever their length); both are kept whole beside it.
 */

export interface FindingStateRow {
  alert_id: string | null;
  provider_severity: string | null;
  severity_label: string | null;
  workflow_status: string | null;
  record_state: string | null;
  compliance_status: string | null;
  note_text: string | null;
  finding_updated_at: string | null;
  written_back: Record<string, unknown> | null;
  /** The EventBridge time of the latest event applied, when known. */
  event_time: Date | null;
}

const STATE_COLUMNS = [
  'alert_id',
  'provider_severity',
  'severity_label',
  'workflow_status',
  'record_state',
  'compliance_status',
  'note_text',
  'finding_updated_at',
  'written_back',
  'event_time',
] as const;

/** How a sighting is recorded beside the finding's own state. */
export interface SaveOptions {
  /** The EventBridge time of the event that brought it, when it has one. */
  eventTime?: Date;
  /** Drops these fields of what Vigil wrote back (the echo of them has come). */
  forgetWrittenBack?: readonly string[];
  /**
   * The finding is older than the state recorded (a custom action's, sent from the console before the
   * last update Vigil applied): its state would put the recorded one back in time, and let a later stale
   * update through the older-update check, so only the alert, the sighting and the event time are set.
   */
  sightingOnly?: boolean;
}

/** The columns of a finding's state that each sighting sets. */
function stateOf(f: NormalizedFinding, alertId: string | null, seenAt: Date) {
  return {
    alert_id: alertId,
    provider_severity: f.providerSeverityLabel ?? null,
    severity_label: f.severityLabel,
    workflow_status: f.workflowStatus ?? null,
    record_state: f.recordState ?? null,
    compliance_status: f.complianceStatus ?? null,
    note_text: f.note?.text ?? null,
    finding_updated_at: f.updatedAt ?? null,
    // Set at every sighting, so that a row from before the finding's format was kept is put right.
    format: f.format,
    aws_account_id: f.awsAccountId ?? null,
    last_seen_at: seenAt,
  };
}

export const findingsRepository = {
  /** Serialises work on these findings across transactions and processes until the caller's commit. */
  async lockAll(tx: Tx, integrationId: string, findings: readonly NormalizedFinding[]): Promise<void> {
    await lockNames(
      tx,
      findings.map((f) => `${integrationId}\n${findingKeyDigest(f.key)}`),
    );
  },

  async find(
    tx: Tx,
    integrationId: string,
    finding: NormalizedFinding,
  ): Promise<FindingStateRow | undefined> {
    return tx
      .selectFrom('securityhub_findings')
      .select(STATE_COLUMNS)
      .where('integration_id', '=', integrationId)
      .where('finding_key', '=', findingKeyDigest(finding.key))
      .executeTakeFirst();
  },

  /** Records a finding's state. */
  async save(
    tx: Tx,
    integrationId: string,
    f: NormalizedFinding,
    alertId: string | null,
    { eventTime, forgetWrittenBack, sightingOnly }: SaveOptions = {},
  ): Promise<void> {
    const state = stateOf(f, alertId, new Date());
    const updated = sightingOnly ? { alert_id: state.alert_id, last_seen_at: state.last_seen_at } : state;
    // The latest event's, never an earlier one's: a custom action's event, applied whatever its time,
    // must not let an event older than one already applied through.
    const time =
      eventTime !== undefined
        ? {
            event_time: sql<Date>`GREATEST(securityhub_findings.event_time, ${eventTime}::timestamptz)`,
          }
        : {};
    const forget = forgetWrittenBack?.length
      ? {
          written_back: sql<string>`securityhub_findings.written_back - ${[...forgetWrittenBack]}::text[]`,
        }
      : {};
    await tx
      .insertInto('securityhub_findings')
      .values({
        integration_id: integrationId,
        finding_key: findingKeyDigest(f.key),
        product_arn: f.key.productArn,
        finding_id: f.key.id,
        ...state,
        event_time: eventTime ?? null,
      })
      .onConflict((oc) =>
        oc.columns(['integration_id', 'finding_key']).doUpdateSet({ ...updated, ...time, ...forget }),
      )
      .execute();
  },

  /** The last known state of each of these findings that has one, by key digest. */
  async findMany(
    tx: Tx,
    integrationId: string,
    findings: readonly NormalizedFinding[],
  ): Promise<Map<string, FindingStateRow>> {
    if (findings.length === 0) return new Map();
    const rows = await tx
      .selectFrom('securityhub_findings')
      .select(['finding_key', ...STATE_COLUMNS])
      .where('integration_id', '=', integrationId)
      .where(
        'finding_key',
        'in',
        findings.map((f) => findingKeyDigest(f.key)),
      )
      .execute();
    return new Map(rows.map(({ finding_key, ...state }) => [finding_key, state]));
  },

  /** Records the state of findings seen for the first time (one statement for all of them). */
  async saveNew(
    tx: Tx,
    integrationId: string,
    items: readonly { finding: NormalizedFinding; alertId: string | null; eventTime?: Date }[],
  ): Promise<void> {
    if (items.length === 0) return;
    const now = new Date();
    await tx
      .insertInto('securityhub_findings')
      .values(
        items.map(({ finding: f, alertId, eventTime }) => ({
          integration_id: integrationId,
          finding_key: findingKeyDigest(f.key),
          product_arn: f.key.productArn,
          finding_id: f.key.id,
          ...stateOf(f, alertId, now),
          event_time: eventTime ?? null,
        })),
      )
      .execute();
  },
};
