import type { IntakeOutcome } from './securityhub/outcome.js';

/**
 * The Security Hub intake's outcomes as HTTP answers. SNS and EventBridge retry a 5xx and drop a 4xx, so
 * only Vigil's own trouble may answer 5xx, and a delivery that can never succeed must answer 4xx.
 */

export interface IntakeHttpAnswer {
  status: number;
  body: {
    result: 'Accepted' | 'Refused' | 'Retry';
    verdict: IntakeOutcome['verdict'];
    reason?: string;
    alertIds?: string[];
    payloadId?: string;
  };
}

const STATUS: Record<IntakeOutcome['outcome'], number> = {
  accepted: 200,
  invalid: 400,
  unstorable: 400,
  'unknown-key': 401,
  'integration-gone': 401,
  'not-allowed': 403,
  // The upstream, SNS itself, failed: a gateway's error rather than the sender's.
  'confirmation-failed': 502,
  unavailable: 503,
};

export function httpAnswerOf(outcome: IntakeOutcome): IntakeHttpAnswer {
  const result =
    outcome.outcome === 'accepted' ? 'Accepted' : outcome.outcome === 'unavailable' ? 'Retry' : 'Refused';
  const alertIds = outcome.outcome === 'accepted' ? outcome.alertIds : undefined;
  const payloadId = 'payloadId' in outcome ? outcome.payloadId : undefined;
  return {
    status: STATUS[outcome.outcome],
    body: {
      result,
      verdict: outcome.verdict,
      ...(outcome.reason !== undefined ? { reason: outcome.reason } : {}),
      ...(alertIds !== undefined ? { alertIds } : {}),
      ...(payloadId !== undefined ? { payloadId } : {}),
    },
  };
}
