import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type {
  BatchUpdateFindingsCommandInput,
  BatchUpdateFindingsV2CommandInput,
} from '@aws-sdk/client-securityhub';
import type { AwsAccess, RoleTarget } from './aws.js';
import { checkRole } from './role-check.js';

/** The role test's write checks name a finding of the role's own partition, without AWS. */

/**
 * A role whose trust policy lets Vigil in with the external IDs `letIn` accepts (only the integration's
 * own, which credentialsFor uses, unless a test says otherwise).
 */
function recordingAws(letIn: (externalId: string | undefined) => boolean = () => false) {
  const updates: BatchUpdateFindingsCommandInput[] = [];
  const updatesV2: BatchUpdateFindingsV2CommandInput[] = [];
  const triedIds: (string | undefined)[] = [];
  const aws = {
    credentialsFor: async () => ({}),
    assumeWithExternalId: async (_target: RoleTarget, externalId: string | undefined) => {
      triedIds.push(externalId);
      if (letIn(externalId)) return {};
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
  return { aws, updates, updatesV2, triedIds };
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

describe('the role test: ways in the trust policy must shut', () => {
  const role = 'arn:aws:iam::123456789012:role/VigilSecurityHubRoleTest';

  it('tries no external ID, then another of the form Vigil gives, in the one step', async () => {
    const { aws, triedIds } = recordingAws();
    const result = await checkRole(aws, target(role, 'us-east-1'));
    assert.equal(result.ok, true, JSON.stringify(result.steps));
    assert.equal(triedIds.length, 2);
    assert.equal(triedIds[0], undefined);
    assert.match(triedIds[1] ?? '', /^[0-9a-f]{32}$/);
    assert.notEqual(triedIds[1], 'x');
    assert.deepEqual(
      result.steps.map((s) => s.step),
      [
        'AssumeRole',
        'AssumeRoleWithoutExternalId',
        'GetFindings',
        'BatchUpdateFindings',
        'BatchUpdateFindingsV2',
      ],
    );
  });

  it('fails a role any external ID assumes, and says what to put in its trust policy', async () => {
    const { aws, updates } = recordingAws((id) => id !== undefined);
    const result = await checkRole(aws, target(role, 'us-east-1'));
    assert.equal(result.ok, false);
    assert.deepEqual(result.steps.at(-1), {
      step: 'AssumeRoleWithoutExternalId',
      ok: false,
      error:
        "the role can be assumed with any external ID, not only this integration's: its trust policy's sts:ExternalId condition matches other values (StringLike with a wildcard, or Null). Replace it with StringEquals sts:ExternalId = x.",
    });
    assert.equal(updates.length, 0, 'nothing after the failed step');
  });

  it('fails a role assumed without an external ID, as before, without trying another', async () => {
    const { aws, triedIds } = recordingAws(() => true);
    const result = await checkRole(aws, target(role, 'us-east-1'));
    assert.equal(result.ok, false);
    assert.match(
      result.steps.at(-1)?.error ?? '',
      /^the role can be assumed without the integration's external ID/,
    );
    assert.deepEqual(triedIds, [undefined]);
  });

  it("gives AWS's own words when STS fails otherwise than refusing", async () => {
    const { aws } = recordingAws();
    const failing = {
      ...aws,
      assumeWithExternalId: async (_target: RoleTarget, externalId: string | undefined) => {
        if (externalId === undefined)
          throw Object.assign(new Error('not authorized'), { name: 'AccessDenied' });
        throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
      },
    } as AwsAccess;
    const result = await checkRole(failing, target(role, 'us-east-1'));
    assert.equal(result.ok, false);
    assert.equal(result.steps.at(-1)?.step, 'AssumeRoleWithoutExternalId');
    assert.equal(result.steps.at(-1)?.error, 'Throttling: Rate exceeded');
  });
});
