import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findingOf } from '../../web/src/lib/finding.js';

describe("the console's link to a finding in the AWS console", () => {
  it("opens the finding in its region's Security Hub console", () => {
    const url = new URL(findingOf({ FindingId: 'arn:x', Region: 'eu-west-1' }, '')?.consoleUrl ?? '');
    assert.equal(url.host, 'eu-west-1.console.aws.amazon.com');
    assert.equal(url.searchParams.get('region'), 'eu-west-1');
    const gov = new URL(findingOf({ FindingId: 'arn:x', Region: 'us-gov-west-1' }, '')?.consoleUrl ?? '');
    assert.equal(gov.host, 'us-gov-west-1.console.aws.amazon.com');
  });

  it('gives no link for a region that is not a region name: it would be the link’s host', () => {
    for (const region of ['evil.example/#', 'x@evil.example#', 'us-east-1.evil.example', 'US-EAST-1', '']) {
      const finding = findingOf({ FindingId: 'arn:x', Region: region }, '');
      assert.equal(finding?.consoleUrl, undefined, `${JSON.stringify(region)}: ${finding?.consoleUrl}`);
    }
  });
});
