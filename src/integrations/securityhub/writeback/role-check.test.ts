import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  BatchUpdateFindingsCommandInput,
  BatchUpdateFindingsV2CommandInput,
} from '@aws-sdk/client-securityhub';
import type { AwsAccess, RoleTarget } from './aws.js';
import { checkRole } from './role-check.js';

/** The role test's write checks name a finding of the role's own partition, without AWS. */

function recordingAws() {
  const updates: BatchUpdateFindingsCommandInput[] = [];
  const updatesV2: BatchUpdateFindingsV2CommandInput[] = [];
  const aws = {
    credentialsFor: async () => ({}),
    assumeWithoutExternalId: async () => {
      throw Object.assign(new Error('not authorized'), { name: 'AccessDenied' });
    },
    probe: async () => ({}),
    batchUpdate: async (_target: RoleTarget, input: BatchUpdateFindingsCommandInput) => {
      updates.push(input);
      return {};
    },
    batchUpdateV2: async (_target: RoleTarget, input: BatchUpdateFindingsV2CommandInput) => {
      updatesV2.push(input);
      return {};
    },
  } as unknown as AwsAccess;
  return { aws, updates, updatesV2 };
}

function target(roleArn: string, region: string): RoleTarget {
  return { integrationId: 'i', integrationName: 'Hub', roleArn, externalId: 'x', region };
}

describe('the role test', () => {
  for (const [partition, region] of [
    ['aws', 'us-east-1'],
    ['aws-us-gov', 'us-gov-west-1'],
    ['aws-cn', 'cn-north-1'],
  ] as const) {
    it(`names a finding of the ${partition} partition for a role of it`, async () => {
      const { aws, updates, updatesV2 } = recordingAws();
      const result = await checkRole(
        aws,
        target(`arn:${partition}:iam::123456789012:role/VigilSecurityHubRoleTest`, region),
      );
      assert.equal(result.ok, true, JSON.stringify(result.steps));
      assert.deepEqual(
        updates.map((u) => u.FindingIdentifiers?.map((f) => f.ProductArn)),
        [[`arn:${partition}:securityhub:${region}::product/vigil/vigil-permission-check`]],
      );
      assert.equal(updatesV2[0]?.FindingIdentifiers?.[0]?.CloudAccountUid, '123456789012');
    });
  }
});
