import type { Verdict } from './finding-sync.js';

/** Why a delivery was turned away; each asks something different of the sender. */
export type RefusalKind =
  /** Not JSON, not a well-formed SNS message, or nested too deeply: sending it again will not help. */
  | 'invalid'
  /** A value PostgreSQL cannot store: sending it again will not help either. */
  | 'unstorable'
  /** No integration has this key. */
  | 'unknown-key'
  /** The integration was deleted while the delivery arrived. */
  | 'integration-gone'
  /** A signature, topic or SubscribeURL this integration does not trust. */
  | 'not-allowed'
  /** SNS did not accept the subscription confirmation. */
  | 'confirmation-failed';

/**
 * What became of one delivery, with its record in the payload log wherever it has one. "accepted" means
 * it is durably stored or handled, whatever its verdict (queued, duplicate, ignored, confirmed...);
 * "unavailable" means Vigil could not store it and the sender should retry.
 */
export type IntakeOutcome =
  | {
      outcome: 'accepted';
      verdict: Verdict | 'queued';
      reason?: string;
      alertIds?: string[];
      payloadId?: string;
    }
  | {
      outcome: Exclude<RefusalKind, 'confirmation-failed'>;
      verdict: 'refused';
      reason: string;
      /** Its record in the payload log, when it could be logged. */
      payloadId?: string;
    }
  | { outcome: 'confirmation-failed'; verdict: 'failed'; reason: string; payloadId?: string }
  | { outcome: 'unavailable'; verdict: 'failed'; reason: string; payloadId?: string };

/** The verdict's reason for an SNS notification whose Message cannot be an EventBridge event. */
export const SNS_MESSAGE_NOT_AN_EVENT = 'the SNS Message is not a JSON object, so not an EventBridge event';

export const UNKNOWN_KEY =
  'Unknown integration API key: copy the endpoint URL from the integration again (the key may have been regenerated, or the integration deleted).';

/** A delivery whose key names no Security Hub integration (or that has no key): nothing to log it under. */
export const UNKNOWN_KEY_OUTCOME: IntakeOutcome = {
  outcome: 'unknown-key',
  verdict: 'refused',
  reason: UNKNOWN_KEY,
};

/** Thrown wherever a delivery is turned away, so that one place records it and answers. */
export class Refusal extends Error {
  constructor(
    readonly kind: RefusalKind,
    message: string,
  ) {
    super(message);
  }

  get outcome(): Extract<IntakeOutcome, { outcome: RefusalKind }> {
    return this.kind === 'confirmation-failed'
      ? { outcome: this.kind, verdict: 'failed', reason: this.message }
      : { outcome: this.kind, verdict: 'refused', reason: this.message };
  }
}

/**
 * Thrown when Vigil could not check a delivery (its SNS signing certificate could not be had): nothing is
 * wrong with it that is known, so it is answered as Vigil's trouble, which SNS retries, not refused.
 */
export class CouldNotCheck extends Error {
  override name = 'CouldNotCheck';
}
