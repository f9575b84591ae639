import type {
  BatchUpdateFindingsUnprocessedFinding,
  BatchUpdateFindingsV2UnprocessedFinding,
} from '@aws-sdk/client-securityhub';
import type { Db } from '../../../db/database.js';
import type { FindingFormat } from '../../../db/schema.js';
import type { Logger } from '../../../logger.js';
import { retryAfterMs as retryAfterHeaderMs } from '../../../notify/retry-after.js';
import type { Clock } from '../../../work/clock.js';
import { accountOf, targetForFinding, type AwsAccess, type RoleTarget } from './aws.js';
import { securityHubUpdate, securityHubUpdateV2, type ClaimedChange } from './changes.js';
import type { RateLimiter } from './rate-limit.js';
import { writebacksRepository } from './repository.js';

/**
 * Sends one request's changes (one integration, one region, one format, one change, at most 100
 * findings) to the Security Hub of their findings' region through the shared rate limiter, and says
 * what became of each: this module decides nothing about retries, and writes only the claim's lease.
 * ASFF findings go by BatchUpdateFindings, OCSF findings by BatchUpdateFindingsV2.
 *
 * A round's changes wait their turn, one request after another behind the rate limiter, and their lease
 * may run out meanwhile: another process then takes them over, and may already have sent a later change
 * of the same finding (a close after an acknowledge). So right before the request, after the wait, the
 * lease of its changes is renewed, only of those still `sending` under the round's claim, and only those
 * are sent; while AWS answers, the lease is kept (as notify/sender.ts keeps its claim).
 */

export type SendOutcome =
  /**
   * The integration no longer writes back, is turned off or is gone (not a maintenance begun since the
   * changes were made: they are sent): nothing was sent, and `reason` says why.
   */
  | { kind: 'turned-off'; reason: string }
  /** Every change of the request was taken over by another claim, or settled, while it waited: nothing was sent. */
  | { kind: 'taken-over' }
  /**
   * AWS throttled a request to the account and region lately, and its bucket is held until `until`
   * (rate-limit.ts): nothing was sent, and the changes wait until then.
   */
  | { kind: 'held'; until: Date }
  /** The whole request failed; `retryable` when AWS may take it later (throttled, its own fault, no answer). */
  | {
      kind: 'request-failed';
      /** The changes the request was made for: those still this claim's. */
      sent: ClaimedChange[];
      integrationId: string;
      retryable: boolean;
      status: number | undefined;
      error: string;
      /** When AWS throttled the request: the account and region's bucket, and how long AWS asked to wait. */
      throttled?: { bucket: string; retryAfterMs: number | undefined };
    }
  | ({ kind: 'answered' } & AnswerReading);

export interface AnswerReading {
  done: ClaimedChange[];
  /** Findings AWS could not update this time but may next time. */
  retry: ClaimedChange[];
  refused: { change: ClaimedChange; error: string }[];
}

/**
 * The per-finding error codes that AWS may not answer next time, by API: the rest (FindingNotFound,
 * InvalidInput, ResourceNotFoundException, ValidationException, and any code not known here) will not
 * change by asking again.
 */
export const RETRYABLE_UNPROCESSED: Record<FindingFormat, ReadonlySet<string>> = {
  asff: new Set(['ConcurrentUpdateError', 'InternalFailure']),
  ocsf: new Set(['ConflictException', 'InternalServerException']),
};

/** Whole-request errors retried whatever their status: a conflict is the request's ConcurrentUpdateError. */
const RETRYABLE_REQUEST_ERRORS = new Set(['ConflictException']);

/** What AWS said, as people read it on an alert or an integration. */
export function awsErrorText(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return `${e.name ?? 'Error'}: ${e.message ?? String(error)}`;
}

/** How AWS names a throttled request (BatchUpdateFindings' LimitExceededException comes with a 429). */
const THROTTLING_ERRORS = new Set(['ThrottlingException', 'TooManyRequestsException']);

/**
 * The longest an AWS Retry-After is waited for: the hold it makes stops every integration's requests to
 * the account and region, in every process, so a broken or hostile header (a month, a date years ahead)
 * must not stop them for that long. An hour is twelve times the longest backoff of our own.
 */
export const MAX_RETRY_AFTER_MS = 3600_000;

/**
 * How long AWS asks to wait, when it says (Retry-After in seconds or as a date, or x-amz-retry-after
 * in ms, as the SDK's own retry reads them), at most MAX_RETRY_AFTER_MS: the SDK leaves the raw response
 * on the error. A value that is no number of ms (too large to be one) is not a wait.
 */
export function retryAfterMs(error: unknown, now: Date): number | undefined {
  const headers = (error as { $response?: { headers?: Record<string, string | undefined> } }).$response
    ?.headers;
  if (!headers) return undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const ms = headerWaitMs(name.toLowerCase(), value.trim(), now);
    if (ms !== undefined && Number.isFinite(ms)) return Math.min(MAX_RETRY_AFTER_MS, Math.max(0, ms));
  }
  return undefined;
}

function headerWaitMs(header: string, value: string, now: Date): number | undefined {
  if (header === 'x-amz-retry-after') return /^\d+$/.test(value) ? Number(value) : undefined;
  if (header !== 'retry-after') return undefined;
  // More seconds than a number holds is no answer (the shared reader would take it for its longest wait).
  if (/^\d+$/.test(value) && !Number.isFinite(Number(value))) return undefined;
  return retryAfterHeaderMs(value, now);
}

export function readRequestFailure(error: unknown): {
  retryable: boolean;
  throttled: boolean;
  status: number | undefined;
  error: string;
} {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const name = (error as { name?: string }).name ?? '';
  const throttled = status === 429 || THROTTLING_ERRORS.has(name);
  const retryable = status === undefined || throttled || status >= 500 || RETRYABLE_REQUEST_ERRORS.has(name);
  return { retryable, throttled, status, error: awsErrorText(error) };
}

/** A finding AWS did not update, named the way its change is keyed below. */
interface Unprocessed {
  key: string;
  errorCode: string | undefined;
  errorMessage: string | undefined;
}

/** Sorts a request's changes by AWS's answer: every finding it does not list as unprocessed is done. */
function sortByAnswer(
  batch: readonly ClaimedChange[],
  keyOf: (c: ClaimedChange) => string,
  unprocessed: readonly Unprocessed[],
  retryable: ReadonlySet<string>,
): AnswerReading {
  const pending = new Map(batch.map((c) => [keyOf(c), c]));
  const retry: ClaimedChange[] = [];
  const refused: AnswerReading['refused'] = [];
  for (const u of unprocessed) {
    const change = pending.get(u.key);
    if (!change) continue;
    pending.delete(u.key);
    if (retryable.has(u.errorCode ?? '')) retry.push(change);
    else refused.push({ change, error: `${u.errorCode ?? 'UnknownError'}: ${u.errorMessage ?? ''}` });
  }
  return { done: [...pending.values()], retry, refused };
}

/** BatchUpdateFindings' answer: findings are named by ProductArn and Id. */
export function readAnswer(
  batch: readonly ClaimedChange[],
  unprocessed: readonly BatchUpdateFindingsUnprocessedFinding[] | undefined,
): AnswerReading {
  return sortByAnswer(
    batch,
    (c) => `${c.productArn}|${c.findingId}`,
    (unprocessed ?? []).map((u) => ({
      key: `${u.FindingIdentifier?.ProductArn}|${u.FindingIdentifier?.Id}`,
      errorCode: u.ErrorCode,
      errorMessage: u.ErrorMessage,
    })),
    RETRYABLE_UNPROCESSED.asff,
  );
}

/** BatchUpdateFindingsV2's answer: findings are named by account, product uid and finding uid. */
export function readAnswerV2(
  batch: readonly ClaimedChange[],
  unprocessed: readonly BatchUpdateFindingsV2UnprocessedFinding[] | undefined,
): AnswerReading {
  return sortByAnswer(
    batch,
    (c) => `${c.awsAccountId}|${c.productArn}|${c.findingId}`,
    (unprocessed ?? []).map((u) => ({
      key: `${u.FindingIdentifier?.CloudAccountUid}|${u.FindingIdentifier?.MetadataProductUid}|${u.FindingIdentifier?.FindingInfoUid}`,
      errorCode: u.ErrorCode,
      errorMessage: u.ErrorMessage,
    })),
    RETRYABLE_UNPROCESSED.ocsf,
  );
}

/** Makes the request for the batch's format (every change in a batch has the first's). */
async function request(
  aws: AwsAccess,
  target: RoleTarget,
  batch: readonly ClaimedChange[],
  first: ClaimedChange,
): Promise<AnswerReading> {
  if (first.format === 'ocsf') {
    const answer = await aws.batchUpdateV2(target, {
      FindingIdentifiers: batch.map((c) => ({
        // Changes of findings without an account are never pending (changes.ts, unsendableIdentifier).
        CloudAccountUid: c.awsAccountId ?? '',
        FindingInfoUid: c.findingId,
        MetadataProductUid: c.productArn,
      })),
      ...securityHubUpdateV2(first),
    });
    return readAnswerV2(batch, answer.UnprocessedFindings);
  }
  const answer = await aws.batchUpdate(target, {
    FindingIdentifiers: batch.map((c) => ({ Id: c.findingId, ProductArn: c.productArn })),
    ...securityHubUpdate(first),
  });
  return readAnswer(batch, answer.UnprocessedFindings);
}

export function createSender(deps: {
  db: Db;
  log: Logger;
  aws: AwsAccess;
  rateLimiter: RateLimiter;
  clock: Clock;
  /** How long a renewed lease lasts: it must outlast one request (5 s to connect, 15 s to answer). */
  leaseMs: number;
}) {
  const { db, log, aws, rateLimiter, clock, leaseMs } = deps;
  const leaseFromNow = () => new Date(clock.now().getTime() + leaseMs);

  /**
   * The changes of `batch` still this claim's, their lease renewed. Those a turn-off or a newer value
   * ended while they waited are taken back (their request never goes): see takeBackEnded.
   */
  async function stillMine(claimId: string, batch: readonly ClaimedChange[]): Promise<ClaimedChange[]> {
    const kept = new Set(
      await writebacksRepository.keepClaim(
        db,
        claimId,
        batch.map((c) => c.id),
        leaseFromNow(),
      ),
    );
    await takeBackEnded(
      claimId,
      batch.filter((c) => !kept.has(c.id)),
    );
    return batch.filter((c) => kept.has(c.id));
  }

  /** Takes back those of `batch` ended under this claim, which sends none of them. */
  async function takeBackEnded(claimId: string, batch: readonly ClaimedChange[]): Promise<void> {
    await writebacksRepository.takeBackEnded(
      db,
      claimId,
      batch.map((c) => c.id),
      clock.now(),
    );
  }

  /**
   * Keeps the claim on a request's changes while AWS answers, renewing it every third of the lease, as
   * notify/sender.ts's keepClaim does: a slow answer must not let another process take them and send
   * them again, or send a later change of theirs alongside.
   */
  function keepClaim(claimId: string, batch: readonly ClaimedChange[]): () => void {
    const ids = batch.map((c) => c.id);
    const timer = setInterval(() => {
      writebacksRepository
        .keepClaim(db, claimId, ids, leaseFromNow())
        .catch((error: unknown) => log.warn({ err: error }, 'a write-back lease could not be extended'));
    }, leaseMs / 3);
    return () => clearInterval(timer);
  }

  return {
    /** Sends what is still `claimId`'s of `batch`, once the rate limiter lets it. */
    async send(batch: readonly ClaimedChange[], claimId: string): Promise<SendOutcome> {
      const first = batch[0];
      if (!first) return { kind: 'answered', done: [], retry: [], refused: [] };
      const configured = await writebacksRepository.roleTarget(db, first.integrationId);
      if (!configured) return { kind: 'turned-off', reason: 'write-back was turned off' };
      // Asked again at sending: the integration may have been turned off since its changes were recorded.
      // Not a maintenance begun since: the recorder judged that at each change's own time, and these were
      // made while the integration was on.
      const off = await writebacksRepository.switchedOff(db, first.integrationId);
      if (off !== undefined) return { kind: 'turned-off', reason: `the integration is ${off}` };
      // A request's findings share their region (batching.ts groups them so).
      const target = targetForFinding(configured, first.productArn);
      // AWS's limits are per account and region, whichever integration the request is for, and shared
      // by BatchUpdateFindings and BatchUpdateFindingsV2: one bucket for both.
      const bucket = `${accountOf(target.roleArn)}:${target.region}`;
      const token = await rateLimiter.acquire(bucket);
      if (!token.taken) {
        // Put back to wait (outcomes.ts), those still this claim's; those ended meanwhile are taken back
        // there, after the put-back (a turn-off between the two would otherwise end one neither matches).
        return { kind: 'held', until: token.heldUntil };
      }
      const mine = await stillMine(claimId, batch);
      const [sending] = mine;
      if (!sending) return { kind: 'taken-over' };
      const stopKeeping = keepClaim(claimId, mine);
      let reading: AnswerReading;
      try {
        reading = await request(aws, target, mine, sending);
      } catch (error) {
        const { throttled, ...failure } = readRequestFailure(error);
        return {
          kind: 'request-failed',
          sent: mine,
          integrationId: target.integrationId,
          ...failure,
          ...(throttled ? { throttled: { bucket, retryAfterMs: retryAfterMs(error, clock.now()) } } : {}),
        };
      } finally {
        stopKeeping();
      }
      return { kind: 'answered', ...reading };
    },
  };
}

export type Sender = ReturnType<typeof createSender>;
