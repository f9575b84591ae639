import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filterOf, unsupportedCondition } from './normalize.js';

/**
 * Which Opsgenie filters `vigil import opsgenie` can bring: Opsgenie's API now answers `responders` for
 * what were `teams` conditions of alert policies (and Terraform names it so), which Vigil's policies take.
 */

const filter = (field: string) =>
  filterOf({
    type: 'match-all-conditions',
    conditions: [{ field, operation: 'contains', expectedValue: 'Payments' }],
  });

describe('conditions the import brings', () => {
  it('takes responders, recipients and teams conditions in policies only', () => {
    for (const field of ['responders', 'recipients', 'teams', 'extra-properties']) {
      assert.equal(unsupportedCondition(filter(field), { responderFields: true }), undefined, field);
    }
    for (const field of ['responders', 'recipients', 'teams']) {
      assert.match(unsupportedCondition(filter(field)) ?? '', /which only Vigil's policies have/, field);
    }
    assert.match(unsupportedCondition(filter('owner'), { responderFields: true }) ?? '', /do not have/);
  });
});
