import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  BatchUpdateFindingsUnprocessedFinding,
  BatchUpdateFindingsV2UnprocessedFinding,
} from '@aws-sdk/client-securityhub';
import { findingRegion, targetForFinding, type RoleTarget } from './aws.js';
import type { ClaimedChange } from './changes.js';
import { MAX_RETRY_AFTER_MS, readAnswer, readAnswerV2, readRequestFailure, retryAfterMs } from './sender.js';

const PRODUCT = 'arn:aws:securityhub:us-east-1::product/aws/securityhub';

function change(findingId: string): ClaimedChange {
  return {
    id: findingId,
    integrationId: 'hub',
    alertId: null,
    format: 'asff',
    productArn: PRODUCT,
    findingId,
    awsAccountId: null,
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

const ACCOUNT = '123456789012';
const PRODUCT_V2 = 'arn:aws:securityhub:us-east-1::productv2/aws/securityhub';

function ocsfChange(findingId: string): ClaimedChange {
  return {
    ...change(findingId),
    format: 'ocsf',
    productArn: PRODUCT_V2,
    awsAccountId: ACCOUNT,
    value: { StatusId: '4' },
  };
}

function refusalV2(
  findingId: string,
  code: string | undefined,
  message?: string,
  account = ACCOUNT,
): BatchUpdateFindingsV2UnprocessedFinding {
  return {
    FindingIdentifier: {
      CloudAccountUid: account,
      FindingInfoUid: findingId,
      MetadataProductUid: PRODUCT_V2,
    },
    ErrorCode: code as BatchUpdateFindingsV2UnprocessedFinding['ErrorCode'],
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

  it('reads BatchUpdateFindingsV2 the same way, with its own error codes; an unknown one is not retried', () => {
    const [a, b, c, d, e, f] = ['a', 'b', 'c', 'd', 'e', 'f'].map(ocsfChange) as [
      ClaimedChange,
      ClaimedChange,
      ClaimedChange,
      ClaimedChange,
      ClaimedChange,
      ClaimedChange,
    ];
    const unprocessed = [
      refusalV2('b', 'ConflictException'),
      refusalV2('c', 'InternalServerException'),
      refusalV2('d', 'ResourceNotFoundException', 'no such finding'),
      refusalV2('e', 'ValidationException', 'bad'),
      refusalV2('f', 'SomethingNew', 'a code this Vigil does not know'),
      // Another account's finding of the same uid is not this one.
      refusalV2('a', 'ResourceNotFoundException', 'elsewhere', '210987654321'),
    ];
    assert.deepEqual(readAnswerV2([a, b, c, d, e, f], unprocessed), {
      done: [a],
      retry: [b, c],
      refused: [
        { change: d, error: 'ResourceNotFoundException: no such finding' },
        { change: e, error: 'ValidationException: bad' },
        { change: f, error: 'SomethingNew: a code this Vigil does not know' },
      ],
    });
    assert.deepEqual(readAnswerV2([a], undefined), { done: [a], retry: [], refused: [] });
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
    // BatchUpdateFindingsV2's ConflictException (409) is the request's ConcurrentUpdateError.
    assert.equal(
      readRequestFailure(
        Object.assign(new Error('busy'), { name: 'ConflictException', $metadata: { httpStatusCode: 409 } }),
      ).retryable,
      true,
    );
    for (const [status, retryable] of cases) {
      assert.deepEqual(readRequestFailure(failure(status)), {
        retryable,
        throttled: status === 429,
        status,
        error: 'SomeException: nope',
      });
    }
  });

  it('knows a throttled request by its 429 or its name, and reads how long AWS asks to wait', () => {
    const now = new Date('2026-11-27T10:00:00Z');
    const throttled = (name: string, headers: Record<string, string> = {}) =>
      Object.assign(new Error('Rate exceeded'), {
        name,
        $metadata: { httpStatusCode: 400 },
        $response: { statusCode: 400, headers },
      });
    assert.equal(readRequestFailure(throttled('ThrottlingException')).throttled, true);
    assert.equal(readRequestFailure(throttled('TooManyRequestsException')).retryable, true);
    assert.equal(readRequestFailure(throttled('InvalidInputException')).throttled, false);
    assert.equal(retryAfterMs(throttled('ThrottlingException'), now), undefined);
    assert.equal(retryAfterMs(throttled('ThrottlingException', { 'Retry-After': '3' }), now), 3000);
    assert.equal(
      retryAfterMs(throttled('ThrottlingException', { 'retry-after': 'Fri, 27 Nov 2026 10:00:05 GMT' }), now),
      5000,
    );
    assert.equal(retryAfterMs(throttled('ThrottlingException', { 'x-amz-retry-after': '750' }), now), 750);
  });

  it('waits at most an hour whatever AWS asks, never less than nothing, and ignores a wait no Date can hold', () => {
    const now = new Date('2026-11-27T10:00:00Z');
    const asking = (headers: Record<string, string>) =>
      retryAfterMs(
        Object.assign(new Error('Rate exceeded'), {
          name: 'ThrottlingException',
          $metadata: { httpStatusCode: 429 },
          $response: { statusCode: 429, headers },
        }),
        now,
      );
    // A month, a date years ahead, more ms than a Date can count: each would hold the account and region.
    assert.equal(asking({ 'Retry-After': '2592000' }), MAX_RETRY_AFTER_MS);
    assert.equal(asking({ 'retry-after': 'Tue, 27 Nov 2035 10:00:00 GMT' }), MAX_RETRY_AFTER_MS);
    assert.equal(asking({ 'x-amz-retry-after': '9'.repeat(30) }), MAX_RETRY_AFTER_MS);
    assert.equal(MAX_RETRY_AFTER_MS, 3600_000);
    // A date already past is no wait; a number too large to be one at all is no answer.
    assert.equal(asking({ 'retry-after': 'Fri, 27 Nov 2026 09:00:00 GMT' }), 0);
    assert.equal(asking({ 'Retry-After': '9'.repeat(400) }), undefined);
    assert.equal(asking({ 'Retry-After': '9'.repeat(400), 'x-amz-retry-after': '750' }), 750);
  });
});

describe('the region a change is sent to', () => {
  const configured: RoleTarget = {
    integrationId: 'hub',
    integrationName: 'Hub',
    roleArn: `arn:aws:iam::${ACCOUNT}:role/VigilSecurityHubRole-hub`,
    externalId: 'external',
    region: 'us-east-1',
  };

  it("is the region of the finding's product, where Security Hub holds the finding; the role is assumed in the integration's", () => {
    const cases: [string, string, string][] = [
      ['arn:aws:securityhub:eu-west-1::product/aws/guardduty', 'aws', 'eu-west-1'],
      [`arn:aws:securityhub:ap-southeast-2:${ACCOUNT}:product/${ACCOUNT}/default`, 'aws', 'ap-southeast-2'],
      ['arn:aws:securityhub:eu-central-1::productv2/aws/securityhub', 'aws', 'eu-central-1'],
      ['arn:aws-us-gov:securityhub:us-gov-west-1::product/aws/inspector', 'aws-us-gov', 'us-gov-west-1'],
      ['arn:aws-cn:securityhub:cn-north-1::product/aws/guardduty', 'aws-cn', 'cn-north-1'],
    ];
    for (const [productArn, partition, region] of cases) {
      const target = {
        ...configured,
        roleArn: `arn:${partition}:iam::${ACCOUNT}:role/VigilSecurityHubRole-hub`,
      };
      assert.equal(findingRegion(productArn, target.roleArn), region, productArn);
      assert.deepEqual(targetForFinding(target, productArn), {
        ...target,
        region,
        assumeInRegion: configured.region,
      });
    }
    const home = 'arn:aws:securityhub:us-east-1::product/aws/guardduty';
    assert.deepEqual(targetForFinding(configured, home), configured);
  });

  it("is the integration's own when the product names none, nothing that is a region, or another partition's", () => {
    for (const productArn of [
      'guardduty',
      'arn:aws:securityhub:::product/aws/guardduty',
      'arn:aws:guardduty:eu-west-1:123456789012:detector/d',
      'arn:aws:securityhub:evil.example.com#:123456789012:product/x/y',
      'arn:aws:securityhub:EU-WEST-1::product/aws/guardduty',
      'arn:aws:securityhub:us-iso-east-1::product/aws/guardduty',
      // Another partition's Security Hub, on another domain, with this partition's role.
      'arn:aws-cn:securityhub:cn-north-1::product/aws/guardduty',
    ]) {
      assert.equal(findingRegion(productArn, configured.roleArn), undefined, productArn);
      assert.deepEqual(targetForFinding(configured, productArn), configured);
    }
  });
});
