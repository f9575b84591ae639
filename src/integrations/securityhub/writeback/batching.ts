import { productLocation } from './aws.js';
import type { ClaimedChange } from './changes.js';

/**
 * Which claimed changes go to Security Hub now, in which requests, and which wait for more. No database
 * and no clock of its own: the caller says what time it is, so the policy can be tested to the
 * millisecond.
 *
 * BatchUpdateFindings (and its OCSF twin, BatchUpdateFindingsV2) applies one change to up to 100 findings,
 * and AWS allows few requests per second to the two together: closing 1,000 alerts should cost 10
 * requests, not 1,000. So changes are gathered before they are claimed, and a claimed batch short of 100
 * may wait a little longer to fill.
 */

export const MAX_FINDINGS_PER_REQUEST = 100;

/** An integration's changes are claimed once none has come for this long (the burst seems over)... */
export const GATHER_QUIET_MS = 250;
/** ...or once the first of them has waited this long, however fast they keep coming. */
export const GATHER_MAX_MS = 1000;

/** While changes keep coming, a batch short of 100 waits this long for more (a trickle still goes soon). */
export const PARTIAL_MAX_WAIT_MS = 1500;
/** A batch that fills fast (a bulk close) may wait this long to fill, so it still goes in whole requests. */
export const FILLING_MAX_WAIT_MS = 5000;
/** Fewer changes than this say too little about their pace to be worth waiting for. */
const FILLING_MIN_CHANGES = 20;

/** What the policy reads of a claimed change. */
export type BatchableChange = Pick<
  ClaimedChange,
  'id' | 'integrationId' | 'format' | 'productArn' | 'findingId' | 'field' | 'value' | 'seq' | 'createdAt'
>;

/** The bounds of the gathering window at `now`, for the claim's SQL. */
export function gatherCutoffs(now: Date): { firstCreatedBefore: Date; quietSince: Date } {
  return {
    firstCreatedBefore: new Date(now.getTime() - GATHER_MAX_MS),
    quietSince: new Date(now.getTime() - GATHER_QUIET_MS),
  };
}

/**
 * Keeps the latest change of each finding's field among those claimed together; the others are
 * superseded, so an older value is never sent after a newer one. "Latest" is the alert event's order
 * (then the row's), not the order the changes were recorded in: events may be handled out of order.
 */
export function latestPerFindingField<T extends BatchableChange>(
  claimed: readonly T[],
): { latest: T[]; superseded: T[] } {
  const latest = new Map<string, T>();
  const superseded: T[] = [];
  const inEventOrder = [...claimed].sort(
    (a, b) => Number(a.seq) - Number(b.seq) || Number(a.id) - Number(b.id),
  );
  for (const change of inEventOrder) {
    const key = `${change.integrationId}|${change.productArn}|${change.findingId}|${change.field}`;
    const before = latest.get(key);
    if (before) superseded.push(before);
    latest.set(key, change);
  }
  return { latest: [...latest.values()], superseded };
}

/**
 * The moment the tail of a batch short of 100 (created at `createdAtMs`) stops waiting for more if
 * nothing more comes, in ms (-Infinity if it does not wait at all), given the moment its integration
 * stops counting as still arriving. While the integration's changes are still arriving, it waits up to
 * PARTIAL_MAX_WAIT_MS: a steady trickle (acknowledgements one by one) goes within that. A tail filling
 * fast (a bulk close: at least 20 changes, at a pace that fills the request within 3 s) waits up to
 * FILLING_MAX_WAIT_MS even through a pause (a busy machine stalls the pipeline for moments), so that
 * closing 1,000 alerts still makes 10 requests. The plan and the sender's return both read it, so that
 * the sender comes back exactly when the plan would change.
 */
export function partialWaitsUntil(createdAtMs: readonly number[], arrivingUntilMs: number): number {
  if (createdAtMs.length === 0) return -Infinity;
  const oldest = Math.min(...createdAtMs);
  const whileArriving = Math.min(arrivingUntilMs, oldest + PARTIAL_MAX_WAIT_MS);
  if (createdAtMs.length < FILLING_MIN_CHANGES) return whileArriving;
  const spanMs = Math.max(1, Math.max(...createdAtMs) - oldest);
  const msToFill = ((MAX_FINDINGS_PER_REQUEST - createdAtMs.length) * spanMs) / createdAtMs.length;
  const filling = msToFill <= 2 * PARTIAL_MAX_WAIT_MS ? oldest + FILLING_MAX_WAIT_MS : -Infinity;
  return Math.max(whileArriving, filling);
}

export interface BatchPlan<T> {
  /**
   * One request each: one integration, one region, one format (BatchUpdateFindings or
   * BatchUpdateFindingsV2), one field, one value, at most 100 findings.
   */
  requests: T[][];
  /** Changes put back to wait for more of their kind. */
  held: T[];
  /**
   * When the first held tail stops waiting if nothing more comes (null when none is held). A change
   * recorded meanwhile wakes the sender anyway; while alert events are in flight, that may be sooner.
   */
  heldUntil: Date | null;
}

/**
 * Splits changes (already one per finding and field) into requests, holding back the partial tail of a
 * group while it may still fill: closing 250 alerts makes 100 + 100 + 50, however slowly the closes come.
 * `eventsInFlight`: alert events not yet turned into changes, so more may be on their way even though
 * none was recorded lately.
 */
export function planRequests<T extends BatchableChange>(
  changes: readonly T[],
  context: { now: Date; eventsInFlight: boolean },
): BatchPlan<T> {
  const nowMs = context.now.getTime();
  // The integration determines the role, and the finding's product the region whose Security Hub holds
  // it (aws.ts, targetForFinding), so one request never mixes accounts or regions; the format determines
  // the API, so ASFF and OCSF findings never share a request (a request AWS refuses because of one would
  // fail the other's too).
  const groups = new Map<string, T[]>();
  const newestByIntegration = new Map<string, number>();
  for (const change of changes) {
    const location = productLocation(change.productArn);
    const key = `${change.integrationId}|${location}|${change.format}|${change.field}|${JSON.stringify(change.value)}`;
    const group = groups.get(key) ?? [];
    group.push(change);
    groups.set(key, group);
    newestByIntegration.set(
      change.integrationId,
      Math.max(newestByIntegration.get(change.integrationId) ?? 0, change.createdAt.getTime()),
    );
  }
  const requests: T[][] = [];
  const held: T[] = [];
  let heldUntilMs = Infinity;
  for (const group of groups.values()) {
    const integrationId = group[0]?.integrationId ?? '';
    const arrivingUntilMs = context.eventsInFlight
      ? Infinity
      : (newestByIntegration.get(integrationId) ?? 0) + GATHER_QUIET_MS;
    const tailLength = group.length % MAX_FINDINGS_PER_REQUEST;
    const tail = group.slice(group.length - tailLength);
    const waitsUntilMs =
      tailLength > 0
        ? partialWaitsUntil(
            tail.map((c) => c.createdAt.getTime()),
            arrivingUntilMs,
          )
        : -Infinity;
    const tailWaits = nowMs < waitsUntilMs;
    const sendable = tailWaits ? group.slice(0, group.length - tailLength) : group;
    if (tailWaits) {
      held.push(...tail);
      heldUntilMs = Math.min(heldUntilMs, waitsUntilMs);
    }
    for (let i = 0; i < sendable.length; i += MAX_FINDINGS_PER_REQUEST) {
      requests.push(sendable.slice(i, i + MAX_FINDINGS_PER_REQUEST));
    }
  }
  return { requests, held, heldUntil: held.length > 0 ? new Date(heldUntilMs) : null };
}
