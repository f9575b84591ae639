import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FINDINGS_PER_SHORT_TRANSACTION,
  FINDINGS_PER_TRANSACTION,
  findingsBudget,
} from './delivery-processor.js';

describe('findingsBudget', () => {
  it('gives the full share until all other processors are on the integration, then a short one', () => {
    assert.equal(findingsBudget(0, 4), FINDINGS_PER_TRANSACTION);
    assert.equal(findingsBudget(2, 4), FINDINGS_PER_TRANSACTION);
    // Three of four already on it: the fourth stays near ready for other integrations.
    assert.equal(findingsBudget(3, 4), FINDINGS_PER_SHORT_TRANSACTION);
    assert.equal(findingsBudget(4, 4), FINDINGS_PER_SHORT_TRANSACTION);
    // A lone processor has nobody to keep ready for.
    assert.equal(findingsBudget(0, 1), FINDINGS_PER_TRANSACTION);
    assert.ok(FINDINGS_PER_SHORT_TRANSACTION < FINDINGS_PER_TRANSACTION);
  });
});
