import { randomUUID } from 'node:crypto';

/**
 * An EventBridge event of Security Hub's imported findings, as much of it as Vigil's intake reads: what
 * the benchmarks send to `/v1/json/integrations/webhooks/amazonsecurityhub`.
 */
export function importedFindingsEvent(findings: readonly object[]) {
  return {
    id: randomUUID(),
    'detail-type': 'Security Hub Findings - Imported',
    source: 'aws.securityhub',
    detail: { findings },
  };
}
