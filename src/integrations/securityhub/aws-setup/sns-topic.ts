import { isDeepStrictEqual } from 'node:util';
import {
  CreateTopicCommand,
  DeleteTopicCommand,
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  ListTagsForResourceCommand,
  SetSubscriptionAttributesCommand,
  SetTopicAttributesCommand,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import { isNotFound, SetupError } from './aws-errors.js';
import type { RegionContext } from './aws-context.js';
import { INTEGRATION_TAG, type ResourceNames } from './names.js';
import {
  DELIVERY_POLICY,
  deliveryRetrySeconds,
  TOPIC_POLICY_SID,
  topicPublishStatement,
} from './policies.js';
import { planned, type StepResult } from './steps.js';

/** The SNS topic EventBridge publishes findings to, its policy, and Vigil's HTTPS subscription. */

export function topicArn(r: RegionContext, names: ResourceNames): string {
  return `arn:${r.account.partition}:sns:${r.region}:${r.account.account}:${names.topic}`;
}

async function attributes(r: RegionContext, arn: string): Promise<Record<string, string> | undefined> {
  try {
    const answer = await r.call('sns:GetTopicAttributes', () =>
      r.sns.send(new GetTopicAttributesCommand({ TopicArn: arn })),
    );
    return answer.Attributes ?? {};
  } catch (error) {
    if (isNotFound(error)) return undefined;
    throw error;
  }
}

async function tagOf(r: RegionContext, arn: string): Promise<string | undefined> {
  const answer = await r.call('sns:ListTagsForResource', () =>
    r.sns.send(new ListTagsForResourceCommand({ ResourceArn: arn })),
  );
  return answer.Tags?.find((t) => t.Key === INTEGRATION_TAG)?.Value;
}

export async function ensureTopic(
  r: RegionContext,
  names: ResourceNames,
  integrationId: string,
  tags: Record<string, string>,
  dryRun: boolean,
): Promise<StepResult & { arn: string; policy?: string }> {
  const arn = topicArn(r, names);
  const what = `SNS topic ${names.topic}`;
  const existing = await attributes(r, arn);
  if (existing) {
    const owner = await tagOf(r, arn);
    if (owner !== integrationId)
      throw new SetupError(
        `the SNS topic ${arn} exists and is not tagged ${INTEGRATION_TAG}=${integrationId}: vigil aws setup did not make it for this integration. Delete or rename it, then run again.`,
      );
    return { what, outcome: 'unchanged', detail: arn, arn, policy: existing.Policy };
  }
  if (dryRun) return { what, outcome: 'would create', detail: arn, arn };
  await r.call('sns:CreateTopic', () =>
    r.sns.send(
      new CreateTopicCommand({
        Name: names.topic,
        Attributes: { DisplayName: 'Vigil Security Hub findings' },
        Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    ),
  );
  // The new topic's own policy (SNS's default statement), which Vigil's statement is added to.
  return { what, outcome: 'created', detail: arn, arn, policy: (await attributes(r, arn))?.Policy };
}

/** SetTopicAttributes replaces the whole policy: keep every other statement, replace only Vigil's. */
export async function ensureTopicPolicy(
  r: RegionContext,
  arn: string,
  current: string | undefined,
  dryRun: boolean,
): Promise<StepResult> {
  const what = 'SNS topic policy (EventBridge may publish)';
  const ours = topicPublishStatement(arn);
  const policy = current
    ? (JSON.parse(current) as { Version?: string; Statement?: Record<string, unknown>[] })
    : { Version: '2008-10-17', Statement: [] };
  const statements = policy.Statement ?? [];
  const present = statements.find((s) => s.Sid === TOPIC_POLICY_SID);
  if (present && isDeepStrictEqual(present, ours)) return { what, outcome: 'unchanged' };
  const next = { ...policy, Statement: [...statements.filter((s) => s.Sid !== TOPIC_POLICY_SID), ours] };
  if (!dryRun)
    await r.call('sns:SetTopicAttributes', () =>
      r.sns.send(
        new SetTopicAttributesCommand({
          TopicArn: arn,
          AttributeName: 'Policy',
          AttributeValue: JSON.stringify(next),
        }),
      ),
    );
  return { what, outcome: planned(dryRun, present ? 'updated' : 'created') };
}

async function subscriptions(r: RegionContext, arn: string) {
  const found: { SubscriptionArn?: string; Endpoint?: string; Protocol?: string }[] = [];
  let token: string | undefined;
  do {
    const page = await r.call('sns:ListSubscriptionsByTopic', () =>
      r.sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: arn, NextToken: token })),
    );
    found.push(...(page.Subscriptions ?? []));
    token = page.NextToken;
  } while (token);
  return found;
}

const isPending = (subscriptionArn: string | undefined) =>
  !subscriptionArn || !subscriptionArn.startsWith('arn:');

export async function ensureSubscription(
  r: RegionContext,
  arn: string,
  endpointUrl: string,
  topicExists: boolean,
  dryRun: boolean,
): Promise<StepResult & { pending: boolean }> {
  const what = `HTTPS subscription to ${new URL(endpointUrl).host}`;
  const existing = topicExists
    ? (await subscriptions(r, arn)).find((s) => s.Protocol === 'https' && s.Endpoint === endpointUrl)
    : undefined;
  const subscribe = () =>
    r.call('sns:Subscribe', () =>
      r.sns.send(
        new SubscribeCommand({
          TopicArn: arn,
          Protocol: 'https',
          Endpoint: endpointUrl,
          ReturnSubscriptionArn: true,
          Attributes: { DeliveryPolicy: JSON.stringify(DELIVERY_POLICY) },
        }),
      ),
    );
  if (existing) {
    if (!isPending(existing.SubscriptionArn))
      return {
        ...(await ensureDeliveryPolicy(r, existing.SubscriptionArn ?? '', what, dryRun)),
        pending: false,
      };
    // Subscribing again is how SNS is asked to send the confirmation again.
    if (!dryRun) await subscribe();
    return {
      what,
      outcome: 'unchanged',
      detail: dryRun ? 'pending confirmation' : 'pending confirmation: SNS sends it again',
      pending: true,
    };
  }
  if (!dryRun) await subscribe();
  return {
    what,
    outcome: planned(dryRun, 'created'),
    detail: 'Vigil confirms it when SNS asks',
    pending: true,
  };
}

function sameJson(a: string, b: unknown): boolean {
  try {
    return isDeepStrictEqual(JSON.parse(a), b);
  } catch {
    return false;
  }
}

/**
 * A subscription made by an earlier setup (or by hand) keeps the delivery policy it was made with:
 * Subscribe again would be refused for its different attributes, so the policy is set on it.
 */
async function ensureDeliveryPolicy(
  r: RegionContext,
  subscriptionArn: string,
  what: string,
  dryRun: boolean,
): Promise<StepResult> {
  const answer = await r.call('sns:GetSubscriptionAttributes', () =>
    r.sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn: subscriptionArn })),
  );
  const current = answer.Attributes?.DeliveryPolicy;
  if (current !== undefined && sameJson(current, DELIVERY_POLICY))
    return { what, outcome: 'unchanged', detail: subscriptionArn };
  if (!dryRun)
    await r.call('sns:SetSubscriptionAttributes', () =>
      r.sns.send(
        new SetSubscriptionAttributesCommand({
          SubscriptionArn: subscriptionArn,
          AttributeName: 'DeliveryPolicy',
          AttributeValue: JSON.stringify(DELIVERY_POLICY),
        }),
      ),
    );
  const seconds = deliveryRetrySeconds(DELIVERY_POLICY.healthyRetryPolicy).max;
  return {
    what,
    outcome: planned(dryRun, 'updated'),
    detail: `${subscriptionArn}: delivery policy retrying for up to ${seconds} s`,
  };
}

/** Whether Vigil has confirmed the subscription (SNS lists it by its ARN only once confirmed). */
export async function subscriptionConfirmed(
  r: RegionContext,
  arn: string,
  endpointUrl: string,
): Promise<boolean> {
  const found = (await subscriptions(r, arn)).find(
    (s) => s.Protocol === 'https' && s.Endpoint === endpointUrl,
  );
  return found !== undefined && !isPending(found.SubscriptionArn);
}

/** Subscriptions to Vigil's intake on the topic, whatever key they carry. */
export async function intakeSubscriptions(r: RegionContext, arn: string, intakeUrl: string) {
  return (await subscriptions(r, arn)).filter(
    (s) => s.Protocol === 'https' && s.Endpoint?.startsWith(`${intakeUrl}?`),
  );
}

/**
 * Subscriptions to Vigil's intake on the topic with another key (the key was regenerated): their
 * deliveries are refused, so they go, once Vigil has confirmed endpointUrl's (setup waits for it).
 * Pending ones cannot be removed; SNS drops them after 3 days.
 */
export async function removeStaleSubscriptions(
  r: RegionContext,
  arn: string,
  intakeUrl: string,
  endpointUrl: string,
  dryRun: boolean,
): Promise<StepResult[]> {
  const steps: StepResult[] = [];
  for (const s of await intakeSubscriptions(r, arn, intakeUrl)) {
    if (s.Endpoint === endpointUrl || isPending(s.SubscriptionArn)) continue;
    if (!dryRun)
      await r.call('sns:Unsubscribe', () =>
        r.sns.send(new UnsubscribeCommand({ SubscriptionArn: s.SubscriptionArn })),
      );
    steps.push({
      what: 'subscription with an older key',
      outcome: planned(dryRun, 'deleted'),
      detail: s.SubscriptionArn,
    });
  }
  return steps;
}

export async function removeTopic(
  r: RegionContext,
  names: ResourceNames,
  integrationId: string,
  dryRun: boolean,
): Promise<StepResult[]> {
  const arn = topicArn(r, names);
  const what = `SNS topic ${names.topic}`;
  if (!(await attributes(r, arn))) return [{ what, outcome: 'absent' }];
  if ((await tagOf(r, arn)) !== integrationId)
    return [{ what, outcome: 'kept', detail: `not tagged ${INTEGRATION_TAG}=${integrationId}` }];
  const steps: StepResult[] = [];
  // Subscriptions outlive their topic unless removed (AWS-SETUP-FACTS §1.2).
  for (const s of await subscriptions(r, arn)) {
    if (isPending(s.SubscriptionArn)) continue;
    if (!dryRun)
      await r.call('sns:Unsubscribe', () =>
        r.sns.send(new UnsubscribeCommand({ SubscriptionArn: s.SubscriptionArn })),
      );
    steps.push({
      what: `subscription to ${s.Endpoint ? new URL(s.Endpoint).host : 'an endpoint'}`,
      outcome: planned(dryRun, 'deleted'),
    });
  }
  if (!dryRun) await r.call('sns:DeleteTopic', () => r.sns.send(new DeleteTopicCommand({ TopicArn: arn })));
  steps.push({ what, outcome: planned(dryRun, 'deleted'), detail: arn });
  return steps;
}
