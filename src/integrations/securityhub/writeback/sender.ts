import type { BatchUpdateFindingsUnprocessedFinding } from '@aws-sdk/client-securityhub';
import type { Db } from '../../../db/database.js';
import { accountOf, type AwsAccess } from './aws.js';
import { securityHubUpdate, type ClaimedChange } from './changes.js';
import type { RateLimiter } from './rate-limit.js';
import { writebacksRepository } from './repository.js';

/**
 * Sends one request's changes (one integration, one change, at most 100 findings) through the shared rate
 * limiter, and says what became of each: this module decides nothing about retries and writes nothing.
 */

export type SendOutcome =
  /** The integration no longer writes back (or is gone): nothing was sent. */
  | { kind: 'turned-off' }
  /** The whole request failed; `retryable` when AWS may take it later (throttled, its own fault, no answer). */
  | {
      kind: 'request-failed';
      integrationId: string;
      retryable: boolean;
      status: number | undefined;
      error: string;
    }
  | ({ kind: 'answered' } & AnswerReading);

export interface AnswerReading {
  done: ClaimedChange[];
  /** Findings AWS could not update this time but may next time. */
  retry: ClaimedChange[];
  refused: { change: ClaimedChange; error: string }[];
}

const RETRYABLE_UNPROCESSED = new Set(['ConcurrentUpdateError', 'InternalFailure']);

/** What AWS said, as people read it on an alert or an integration. */
export function awsErrorText(error: unknown): string {
  const e = error as { name?: string; message?: string };
  return `${e.name ?? 'Error'}: ${e.message ?? String(error)}`;
}

export function readRequestFailure(error: unknown): {
  retryable: boolean;
  status: number | undefined;
  error: string;
} {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const retryable = status === undefined || status === 429 || status >= 500;
  return { retryable, status, error: awsErrorText(error) };
}

/** Sorts a request's changes by AWS's answer: every finding it does not list as unprocessed is done. */
export function readAnswer(
  batch: readonly ClaimedChange[],
  unprocessed: readonly BatchUpdateFindingsUnprocessedFinding[] | undefined,
): AnswerReading {
  const pending = new Map(batch.map((c) => [`${c.productArn}|${c.findingId}`, c]));
  const retry: ClaimedChange[] = [];
  const refused: AnswerReading['refused'] = [];
  for (const u of unprocessed ?? []) {
    const key = `${u.FindingIdentifier?.ProductArn}|${u.FindingIdentifier?.Id}`;
    const change = pending.get(key);
    if (!change) continue;
    pending.delete(key);
    if (RETRYABLE_UNPROCESSED.has(u.ErrorCode ?? '')) retry.push(change);
    else refused.push({ change, error: `${u.ErrorCode}: ${u.ErrorMessage ?? ''}` });
  }
  return { done: [...pending.values()], retry, refused };
}

export function createSender(deps: { db: Db; aws: AwsAccess; rateLimiter: RateLimiter }) {
  const { db, aws, rateLimiter } = deps;
  return {
    async send(batch: readonly ClaimedChange[]): Promise<SendOutcome> {
      const first = batch[0];
      if (!first) return { kind: 'answered', done: [], retry: [], refused: [] };
      const target = await writebacksRepository.roleTarget(db, first.integrationId);
      if (!target) return { kind: 'turned-off' };
      // AWS's limits are per account and region, whichever integration the request is for.
      await rateLimiter.acquire(`${accountOf(target.roleArn)}:${target.region}`);
      let answer;
      try {
        answer = await aws.batchUpdate(target, {
          FindingIdentifiers: batch.map((c) => ({ Id: c.findingId, ProductArn: c.productArn })),
          ...securityHubUpdate(first),
        });
      } catch (error) {
        return { kind: 'request-failed', integrationId: target.integrationId, ...readRequestFailure(error) };
      }
      return { kind: 'answered', ...readAnswer(batch, answer.UnprocessedFindings) };
    },
  };
}

export type Sender = ReturnType<typeof createSender>;
