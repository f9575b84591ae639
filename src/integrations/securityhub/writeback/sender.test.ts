import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { BatchUpdateFindingsUnprocessedFinding } from '@aws-sdk/client-securityhub';
import type { ClaimedChange } from './changes.js';
import { readAnswer, readRequestFailure } from './sender.js';

const PRODUCT = 'arn:aws:securityhub:us-east-1::product/aws/securityhub';

function change(findingId: string): ClaimedChange {
  return {
    id: findingId,
    integrationId: 'hub',
    alertId: null,
    productArn: PRODUCT,
    findingId,
    field: 'workflow',
    value: { Status: 'RESOLVED' },
    attempts: 1,
    createdAt: new Date(0),
    seq: '1',
  };
}

function refusal(findingId: string, code: string, message?: string): BatchUpdateFindingsUnprocessedFinding {
  return {
    FindingIdentifier: { ProductArn: PRODUCT, Id: findingId },
    ErrorCode: code,
    ErrorMessage: message,
  };
}

describe("reading Security Hub's answer", () => {
  it('retries what AWS may apply later, gives up on what it refused, and the rest is done', () => {
    const [a, b, c, d] = [change('a'), change('b'), change('c'), change('d')];
    const unprocessed: BatchUpdateFindingsUnprocessedFinding[] = [
      refusal('b', 'ConcurrentUpdateError'),
      refusal('c', 'InternalFailure'),
      refusal('d', 'FindingNotFound', 'gone'),
      // Not in the request: ignored, as is a finding listed twice.
      refusal('zz', 'FindingNotFound'),
      refusal('d', 'FindingNotFound'),
    ];
    assert.deepEqual(readAnswer([a, b, c, d], unprocessed), {
      done: [a],
      retry: [b, c],
      refused: [{ change: d, error: 'FindingNotFound: gone' }],
    });
    assert.deepEqual(readAnswer([a], undefined), { done: [a], retry: [], refused: [] });
  });

  it('retries a request that was throttled, failed on their side or got no answer, and no other', () => {
    const failure = (status: number | undefined) =>
      Object.assign(new Error('nope'), { name: 'SomeException', $metadata: { httpStatusCode: status } });
    const cases: [number | undefined, boolean][] = [
      [undefined, true],
      [429, true],
      [500, true],
      [503, true],
      [400, false],
      [403, false],
      [404, false],
    ];
    for (const [status, retryable] of cases) {
      assert.deepEqual(readRequestFailure(failure(status)), {
        retryable,
        status,
        error: 'SomeException: nope',
      });
    }
  });
});
