import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DELIVERY_POLICY, deliveryRetrySeconds } from './policies.js';

describe('the SNS delivery policy', () => {
  const p = DELIVERY_POLICY.healthyRetryPolicy;

  it('keeps every number within what SNS allows an HTTPS subscription', () => {
    for (const [name, value] of Object.entries(p))
      if (typeof value === 'number') assert.ok(Number.isInteger(value) && value >= 0, name);
    // AWS-FACTS §1: up to 100 retries.
    assert.ok(p.numRetries <= 100);
    assert.ok(p.minDelayTarget >= 1 && p.minDelayTarget <= p.maxDelayTarget);
    assert.ok(p.maxDelayTarget <= 3600);
    assert.ok(p.numNoDelayRetries + p.numMinDelayRetries + p.numMaxDelayRetries <= p.numRetries);
  });

  it('retries for close to the 3,600 s SNS allows, and never longer', () => {
    // The phases as SNS runs them: immediate, pre-backoff at minDelayTarget, backoff between the two
    // delays, post-backoff at maxDelayTarget (AWS-SETUP-FACTS §1.4: at most 3,600 s in all).
    const backoff = p.numRetries - p.numNoDelayRetries - p.numMinDelayRetries - p.numMaxDelayRetries;
    const longest =
      p.numNoDelayRetries * 0 +
      p.numMinDelayRetries * p.minDelayTarget +
      backoff * p.maxDelayTarget +
      p.numMaxDelayRetries * p.maxDelayTarget;
    const shortest = longest - backoff * (p.maxDelayTarget - p.minDelayTarget);
    assert.ok(longest <= 3600, `${longest} s is over SNS's cap`);
    assert.ok(shortest >= 3400, `${shortest} s leaves most of SNS's hour unused`);
    assert.deepEqual(deliveryRetrySeconds(p), { min: shortest, max: longest });
    // AWS's own example, which this policy used to be: 9 minutes.
    assert.deepEqual(
      deliveryRetrySeconds({
        numRetries: 20,
        numNoDelayRetries: 0,
        minDelayTarget: 10,
        numMinDelayRetries: 3,
        maxDelayTarget: 30,
        numMaxDelayRetries: 17,
      }),
      { min: 540, max: 540 },
    );
  });
});
