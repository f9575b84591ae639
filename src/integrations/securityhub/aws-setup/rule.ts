import { isDeepStrictEqual } from 'node:util';
import {
  DeleteRuleCommand,
  DescribeRuleCommand,
  ListTagsForResourceCommand,
  ListTargetsByRuleCommand,
  PutRuleCommand,
  PutTargetsCommand,
  RemoveTargetsCommand,
} from '@aws-sdk/client-eventbridge';
import { isNotFound, SetupError } from './aws-errors.js';
import type { RegionContext } from './aws-context.js';
import { INTEGRATION_TAG, type ResourceNames } from './names.js';
import { planned, type StepResult } from './steps.js';

/** The EventBridge rule on the default bus (where Security Hub sends its events) and its one target. */

export interface RuleTarget {
  Arn: string;
  /** Needed for API destinations; SNS targets go by the topic's policy instead. */
  RoleArn?: string;
}

async function describe(r: RegionContext, name: string) {
  try {
    return await r.call('events:DescribeRule', () => r.events.send(new DescribeRuleCommand({ Name: name })));
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function tagOf(r: RegionContext, ruleArn: string): Promise<string | undefined> {
  const answer = await r.call('events:ListTagsForResource', () =>
    r.events.send(new ListTagsForResourceCommand({ ResourceARN: ruleArn })),
  );
  return answer.Tags?.find((t) => t.Key === INTEGRATION_TAG)?.Value;
}

export async function ensureRule(
  r: RegionContext,
  names: ResourceNames,
  options: {
    integrationId: string;
    description: string;
    pattern: Record<string, unknown>;
    target: RuleTarget;
    tags: Record<string, string>;
  },
  dryRun: boolean,
): Promise<StepResult[]> {
  const what = `EventBridge rule ${names.rule}`;
  const existing = await describe(r, names.rule);
  const steps: StepResult[] = [];
  const put = (withTags: boolean) =>
    r.call('events:PutRule', () =>
      r.events.send(
        new PutRuleCommand({
          Name: names.rule,
          Description: options.description,
          EventPattern: JSON.stringify(options.pattern),
          State: 'ENABLED',
          ...(withTags ? { Tags: Object.entries(options.tags).map(([Key, Value]) => ({ Key, Value })) } : {}),
        }),
      ),
    );
  if (!existing) {
    const made = dryRun ? undefined : await put(true);
    steps.push({ what, outcome: planned(dryRun, 'created'), detail: made?.RuleArn });
  } else {
    if ((await tagOf(r, existing.Arn ?? '')) !== options.integrationId)
      throw new SetupError(
        `the EventBridge rule ${names.rule} in ${r.region} exists and is not tagged ${INTEGRATION_TAG}=${options.integrationId}: vigil aws setup did not make it for this integration. Delete or rename it, then run again.`,
      );
    const same =
      existing.State === 'ENABLED' &&
      existing.Description === options.description &&
      isDeepStrictEqual(JSON.parse(existing.EventPattern ?? 'null'), options.pattern);
    // PutRule replaces the rule: it is called only when something differs.
    if (!same && !dryRun) await put(false);
    steps.push({ what, outcome: same ? 'unchanged' : planned(dryRun, 'updated'), detail: existing.Arn });
  }

  const targets = existing
    ? ((
        await r.call('events:ListTargetsByRule', () =>
          r.events.send(new ListTargetsByRuleCommand({ Rule: names.rule })),
        )
      ).Targets ?? [])
    : [];
  const current = targets.find((t) => t.Id === names.targetId);
  const targetWhat = `rule target ${names.targetId}`;
  if (
    current &&
    current.Arn === options.target.Arn &&
    (current.RoleArn ?? undefined) === options.target.RoleArn
  ) {
    steps.push({ what: targetWhat, outcome: 'unchanged', detail: options.target.Arn });
    return steps;
  }
  if (!dryRun) {
    const answer = await r.call('events:PutTargets', () =>
      r.events.send(
        new PutTargetsCommand({ Rule: names.rule, Targets: [{ Id: names.targetId, ...options.target }] }),
      ),
    );
    const failed = answer.FailedEntries?.[0];
    if ((answer.FailedEntryCount ?? 0) > 0 && failed)
      throw new SetupError(
        `EventBridge refused the rule's target in ${r.region}: ${failed.ErrorCode ?? ''} ${failed.ErrorMessage ?? ''}`.trim(),
      );
  }
  steps.push({
    what: targetWhat,
    outcome: planned(dryRun, current ? 'updated' : 'created'),
    detail: options.target.Arn,
  });
  return steps;
}

/** The rule's pattern as AWS holds it, for `vigil aws check`. */
export async function rulePattern(r: RegionContext, names: ResourceNames): Promise<string | undefined> {
  return (await describe(r, names.rule))?.EventPattern;
}

export async function removeRule(
  r: RegionContext,
  names: ResourceNames,
  integrationId: string,
  dryRun: boolean,
): Promise<StepResult> {
  const what = `EventBridge rule ${names.rule}`;
  const existing = await describe(r, names.rule);
  if (!existing) return { what, outcome: 'absent' };
  if ((await tagOf(r, existing.Arn ?? '')) !== integrationId)
    return { what, outcome: 'kept', detail: `not tagged ${INTEGRATION_TAG}=${integrationId}` };
  if (!dryRun) {
    // A rule can be deleted only once its targets are gone.
    const targets =
      (
        await r.call('events:ListTargetsByRule', () =>
          r.events.send(new ListTargetsByRuleCommand({ Rule: names.rule })),
        )
      ).Targets ?? [];
    const ids = targets.map((t) => t.Id ?? '').filter(Boolean);
    for (let i = 0; i < ids.length; i += 10)
      await r.call('events:RemoveTargets', () =>
        r.events.send(new RemoveTargetsCommand({ Rule: names.rule, Ids: ids.slice(i, i + 10) })),
      );
    await r.call('events:DeleteRule', () => r.events.send(new DeleteRuleCommand({ Name: names.rule })));
  }
  return { what, outcome: planned(dryRun, 'deleted'), detail: existing.Arn };
}
