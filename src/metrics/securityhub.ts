import { Counter, type Registry } from 'prom-client';
import type { DeliveryObserver } from '../integrations/securityhub/delivery-processor.js';
import type { WritebackObserver } from '../integrations/securityhub/writeback/writeback.js';

/** Stored Security Hub deliveries made into alerts, by the verdict their payload log shows. */
export function securityHubDeliveryMetrics(registry: Registry): DeliveryObserver {
  const settled = new Counter({
    name: 'vigil_securityhub_deliveries_total',
    help: 'Stored Security Hub deliveries this process settled, by verdict (created, updated, closed, ignored, failed). Deliveries refused or found duplicate at the door count in vigil_http_requests_total.',
    labelNames: ['verdict'],
    registers: [registry],
  });
  return { settled: (verdict) => settled.inc({ verdict }) };
}

/** BatchUpdateFindings requests and the findings they carried. */
export function securityHubWritebackMetrics(registry: Registry): WritebackObserver {
  const requests = new Counter({
    name: 'vigil_securityhub_writeback_requests_total',
    help: 'BatchUpdateFindings requests this process made, by outcome: answered, throttled (by AWS), failed.',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const findings = new Counter({
    name: 'vigil_securityhub_writeback_findings_total',
    help: 'Findings in answered BatchUpdateFindings requests, by outcome: written, retry (AWS may take it later), refused (for good).',
    labelNames: ['outcome'],
    registers: [registry],
  });
  return {
    requested: (outcome) => requests.inc({ outcome }),
    changes(counts) {
      for (const [outcome, n] of Object.entries(counts)) if (n > 0) findings.inc({ outcome }, n);
    },
  };
}
