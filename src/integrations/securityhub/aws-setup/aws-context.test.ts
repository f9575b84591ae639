import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { iamRegionFor } from './aws-context.js';

describe("IAM's region for the setup's account", () => {
  it("is the partition's own, so that China's and GovCloud's credentials reach their IAM", () => {
    assert.equal(iamRegionFor('aws'), 'us-east-1');
    assert.equal(iamRegionFor('aws-cn'), 'cn-north-1');
    assert.equal(iamRegionFor('aws-us-gov'), 'us-gov-west-1');
  });
});
