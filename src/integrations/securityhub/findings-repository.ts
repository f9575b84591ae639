import { sql } from 'kysely';
import type { Tx } from '../../db/database.js';
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
}

export const findingsRepository = {
  /** Serialises work on one finding across transactions and processes until the caller's commit. */
  async lock(tx: Tx, integrationId: string, finding: NormalizedFinding): Promise<void> {
    const lockKey = `${integrationId}\n${findingKeyDigest(finding.key)}`;
    await sql`SELECT pg_advisory_xact_lock(hashtextextended(${lockKey}, 0))`.execute(tx);
  },

  async find(
    tx: Tx,
    integrationId: string,
    finding: NormalizedFinding,
  ): Promise<FindingStateRow | undefined> {
    return tx
      .selectFrom('securityhub_findings')
      .select([
        'alert_id',
        'provider_severity',
        'severity_label',
        'workflow_status',
        'record_state',
        'compliance_status',
        'note_text',
        'finding_updated_at',
        'written_back',
      ])
      .where('integration_id', '=', integrationId)
      .where('finding_key', '=', findingKeyDigest(finding.key))
      .executeTakeFirst();
  },

  async save(tx: Tx, integrationId: string, f: NormalizedFinding, alertId: string | null): Promise<void> {
    const state = {
      alert_id: alertId,
      provider_severity: f.providerSeverityLabel ?? null,
      severity_label: f.severityLabel,
      workflow_status: f.workflowStatus ?? null,
      record_state: f.recordState ?? null,
      compliance_status: f.complianceStatus ?? null,
      note_text: f.note?.text ?? null,
      finding_updated_at: f.updatedAt ?? null,
      last_seen_at: new Date(),
    };
    await tx
      .insertInto('securityhub_findings')
      .values({
        integration_id: integrationId,
        finding_key: findingKeyDigest(f.key),
        product_arn: f.key.productArn,
        finding_id: f.key.id,
        ...state,
      })
      .onConflict((oc) => oc.columns(['integration_id', 'finding_key']).doUpdateSet(state))
      .execute();
  },
};
