import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { httpAnswerOf } from './http-answer.js';

describe('httpAnswerOf', () => {
  it('answers 2xx only for a delivery stored or handled, with what the sender needs to follow it', () => {
    assert.deepEqual(httpAnswerOf({ outcome: 'accepted', verdict: 'queued', payloadId: '7' }), {
      status: 200,
      body: { result: 'Accepted', verdict: 'queued', payloadId: '7' },
    });
    assert.deepEqual(
      httpAnswerOf({ outcome: 'accepted', verdict: 'confirmed', reason: 'subscribed', alertIds: ['a'] }),
      {
        status: 200,
        body: { result: 'Accepted', verdict: 'confirmed', reason: 'subscribed', alertIds: ['a'] },
      },
    );
  });

  it('answers 4xx where a retry cannot help, 5xx where it may', () => {
    const cases = [
      ['invalid', 400],
      ['unstorable', 400],
      ['unknown-key', 401],
      ['integration-gone', 401],
      ['not-allowed', 403],
    ] as const;
    for (const [outcome, status] of cases) {
      assert.deepEqual(httpAnswerOf({ outcome, verdict: 'refused', reason: 'r' }), {
        status,
        body: { result: 'Refused', verdict: 'refused', reason: 'r' },
      });
    }
    assert.deepEqual(httpAnswerOf({ outcome: 'confirmation-failed', verdict: 'failed', reason: 'r' }), {
      status: 502,
      body: { result: 'Refused', verdict: 'failed', reason: 'r' },
    });
    assert.deepEqual(httpAnswerOf({ outcome: 'unavailable', verdict: 'failed', reason: 'r' }), {
      status: 503,
      body: { result: 'Retry', verdict: 'failed', reason: 'r' },
    });
  });

  it('keeps the body keys in the order the intake has always sent them', () => {
    const { body } = httpAnswerOf({
      outcome: 'accepted',
      verdict: 'duplicate',
      reason: 'again',
      alertIds: [],
      payloadId: '1',
    });
    assert.deepEqual(Object.keys(body), ['result', 'verdict', 'reason', 'alertIds', 'payloadId']);
  });
});
