import { isDeepStrictEqual } from 'node:util';
import {
  CreateRoleCommand,
  DeleteRoleCommand,
  DeleteRolePolicyCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  ListRolePoliciesCommand,
  ListRoleTagsCommand,
  PutRolePolicyCommand,
  UpdateAssumeRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { isNotFound, SetupError } from './aws-errors.js';
import type { AccountContext } from './aws-context.js';
import { INTEGRATION_TAG } from './names.js';
import { planned, type StepResult } from './steps.js';

/** IAM roles with one inline policy: the write-back role Vigil assumes, and the one EventBridge assumes. */

export interface RoleSpec {
  name: string;
  description: string;
  trust: unknown;
  policyName: string;
  policy: unknown;
  tags: Record<string, string>;
}

/** IAM answers policy documents URL-encoded. */
const decodePolicy = (document: string | undefined): unknown =>
  document ? JSON.parse(decodeURIComponent(document)) : undefined;

async function getRole(a: AccountContext, name: string) {
  try {
    return (
      await a.call({ action: 'iam:GetRole', region: 'global' }, () =>
        a.iam.send(new GetRoleCommand({ RoleName: name })),
      )
    ).Role;
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function tagOf(a: AccountContext, name: string): Promise<string | undefined> {
  const answer = await a.call({ action: 'iam:ListRoleTags', region: 'global' }, () =>
    a.iam.send(new ListRoleTagsCommand({ RoleName: name })),
  );
  return answer.Tags?.find((t) => t.Key === INTEGRATION_TAG)?.Value;
}

async function inlinePolicy(a: AccountContext, role: string, policy: string): Promise<unknown> {
  try {
    const answer = await a.call({ action: 'iam:GetRolePolicy', region: 'global' }, () =>
      a.iam.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: policy })),
    );
    return decodePolicy(answer.PolicyDocument);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

export function roleArn(a: AccountContext, name: string): string {
  return `arn:${a.partition}:iam::${a.account}:role/${name}`;
}

export async function ensureRole(
  a: AccountContext,
  spec: RoleSpec,
  integrationId: string,
  dryRun: boolean,
): Promise<StepResult & { arn: string }> {
  const what = `IAM role ${spec.name}`;
  const arn = roleArn(a, spec.name);
  const existing = await getRole(a, spec.name);
  const putPolicy = () =>
    a.call({ action: 'iam:PutRolePolicy', region: 'global' }, () =>
      a.iam.send(
        new PutRolePolicyCommand({
          RoleName: spec.name,
          PolicyName: spec.policyName,
          PolicyDocument: JSON.stringify(spec.policy),
        }),
      ),
    );
  if (!existing) {
    if (!dryRun) {
      await a.call({ action: 'iam:CreateRole', region: 'global' }, () =>
        a.iam.send(
          new CreateRoleCommand({
            RoleName: spec.name,
            Description: spec.description,
            MaxSessionDuration: 3600,
            AssumeRolePolicyDocument: JSON.stringify(spec.trust),
            Tags: Object.entries(spec.tags).map(([Key, Value]) => ({ Key, Value })),
          }),
        ),
      );
      await putPolicy();
    }
    return { what, outcome: planned(dryRun, 'created'), detail: arn, arn };
  }
  if ((await tagOf(a, spec.name)) !== integrationId)
    throw new SetupError(
      `the IAM role ${spec.name} exists and is not tagged ${INTEGRATION_TAG}=${integrationId}: vigil aws setup did not make it for this integration. Delete or rename it, then run again.`,
    );
  let changed = false;
  if (!isDeepStrictEqual(decodePolicy(existing.AssumeRolePolicyDocument), spec.trust)) {
    changed = true;
    if (!dryRun)
      await a.call({ action: 'iam:UpdateAssumeRolePolicy', region: 'global' }, () =>
        a.iam.send(
          new UpdateAssumeRolePolicyCommand({
            RoleName: spec.name,
            PolicyDocument: JSON.stringify(spec.trust),
          }),
        ),
      );
  }
  if (!isDeepStrictEqual(await inlinePolicy(a, spec.name, spec.policyName), spec.policy)) {
    changed = true;
    if (!dryRun) await putPolicy();
  }
  return {
    what,
    outcome: changed ? planned(dryRun, 'updated') : 'unchanged',
    detail: existing.Arn ?? arn,
    arn: existing.Arn ?? arn,
  };
}

/** The role's trust policy as IAM holds it, for `vigil aws check`. */
export async function roleTrust(a: AccountContext, name: string): Promise<unknown> {
  return decodePolicy((await getRole(a, name))?.AssumeRolePolicyDocument);
}

export async function removeRole(
  a: AccountContext,
  name: string,
  integrationId: string,
  dryRun: boolean,
): Promise<StepResult> {
  const what = `IAM role ${name}`;
  if (!(await getRole(a, name))) return { what, outcome: 'absent' };
  if ((await tagOf(a, name)) !== integrationId)
    return { what, outcome: 'kept', detail: `not tagged ${INTEGRATION_TAG}=${integrationId}` };
  if (!dryRun) {
    // IAM refuses to delete a role that still has inline policies.
    const policies =
      (
        await a.call({ action: 'iam:ListRolePolicies', region: 'global' }, () =>
          a.iam.send(new ListRolePoliciesCommand({ RoleName: name })),
        )
      ).PolicyNames ?? [];
    for (const policy of policies)
      await a.call({ action: 'iam:DeleteRolePolicy', region: 'global' }, () =>
        a.iam.send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: policy })),
      );
    await a.call({ action: 'iam:DeleteRole', region: 'global' }, () =>
      a.iam.send(new DeleteRoleCommand({ RoleName: name })),
    );
  }
  return { what, outcome: planned(dryRun, 'deleted'), detail: roleArn(a, name) };
}
