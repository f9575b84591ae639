import {
  CreateActionTargetCommand,
  DeleteActionTargetCommand,
  DescribeActionTargetsCommand,
  DescribeHubCommand,
  UpdateActionTargetCommand,
} from '@aws-sdk/client-securityhub';
import { isNotFound, SetupError } from './aws-errors.js';
import type { RegionContext } from './aws-context.js';
import { MANAGED_BY, type ResourceNames } from './names.js';
import { planned, type StepResult } from './steps.js';

/**
 * The Security Hub custom action. Custom actions take no tags: setup names its Id after the integration
 * and puts the integration's id and its own name in its description, and teardown deletes only one
 * that says both.
 */

export function customActionArn(r: RegionContext, names: ResourceNames): string {
  return `arn:${r.account.partition}:securityhub:${r.region}:${r.account.account}:action/custom/${names.customActionId}`;
}

/** Fails with what to do when Security Hub is not enabled in the region. */
export async function requireSecurityHub(r: RegionContext): Promise<void> {
  await r.call('securityhub:DescribeHub', () => r.securityHub.send(new DescribeHubCommand({})));
}

async function describe(r: RegionContext, arn: string) {
  try {
    const answer = await r.call('securityhub:DescribeActionTargets', () =>
      r.securityHub.send(new DescribeActionTargetsCommand({ ActionTargetArns: [arn] })),
    );
    return answer.ActionTargets?.find((t) => t.ActionTargetArn === arn);
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

/** Whether setup made this action for this integration: its description says so (it takes no tags). */
function madeBySetup(target: { Description?: string | undefined }, integrationId: string): boolean {
  return Boolean(target.Description?.includes(integrationId) && target.Description.includes(MANAGED_BY));
}

export async function ensureCustomAction(
  r: RegionContext,
  names: ResourceNames,
  integrationId: string,
  dryRun: boolean,
): Promise<StepResult & { arn: string }> {
  const arn = customActionArn(r, names);
  const what = `Security Hub custom action "${names.customActionName}"`;
  const existing = await describe(r, arn);
  // The intake template makes an action of the same Id, which stays with its stack: rewriting its
  // description would make it look like setup's, and teardown would then delete it under the stack.
  if (existing && !madeBySetup(existing, integrationId))
    throw new SetupError(
      `the Security Hub custom action ${names.customActionId} in ${r.region} exists and vigil aws setup did not make it (its description does not say "${MANAGED_BY}" for this integration), as when this integration's CloudFormation intake template is deployed there. Keep using that stack, or delete it (or the action), then run again.`,
    );
  if (!existing) {
    if (!dryRun)
      await r.call('securityhub:CreateActionTarget', () =>
        r.securityHub.send(
          new CreateActionTargetCommand({
            Id: names.customActionId,
            Name: names.customActionName,
            Description: names.customActionDescription,
          }),
        ),
      );
    return { what, outcome: planned(dryRun, 'created'), detail: arn, arn };
  }
  if (existing.Name === names.customActionName && existing.Description === names.customActionDescription)
    return { what, outcome: 'unchanged', detail: arn, arn };
  if (!dryRun)
    await r.call('securityhub:UpdateActionTarget', () =>
      r.securityHub.send(
        new UpdateActionTargetCommand({
          ActionTargetArn: arn,
          Name: names.customActionName,
          Description: names.customActionDescription,
        }),
      ),
    );
  return { what, outcome: planned(dryRun, 'updated'), detail: arn, arn };
}

export async function removeCustomAction(
  r: RegionContext,
  names: ResourceNames,
  integrationId: string,
  dryRun: boolean,
): Promise<StepResult> {
  const arn = customActionArn(r, names);
  const what = `Security Hub custom action "${names.customActionName}"`;
  const existing = await describe(r, arn);
  if (!existing) return { what, outcome: 'absent' };
  if (!madeBySetup(existing, integrationId))
    return {
      what,
      outcome: 'kept',
      detail: `its description does not say "${MANAGED_BY}" for this integration: setup did not make it`,
    };
  if (!dryRun)
    await r.call('securityhub:DeleteActionTarget', () =>
      r.securityHub.send(new DeleteActionTargetCommand({ ActionTargetArn: arn })),
    );
  return { what, outcome: planned(dryRun, 'deleted'), detail: arn };
}
