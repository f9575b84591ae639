import crypto from 'node:crypto';
import { asList, evaluatePolicy, parsePolicy, statementsOf, type PolicyDocument } from './iam.js';
import {
  createQueryService,
  paginate,
  TAG_PATTERN,
  tagPairs,
  tagsXml,
  XmlMap,
  type QueryContext,
  type QueryOperation,
  type QueryService,
} from './query-protocol.js';
import { FakeAwsError, type Tags } from './types.js';
import type { FakeAwsWorld } from './world.js';

/**
 * SNS (Query protocol, Version 2010-03-31): topics with policies and tags, and subscriptions whose
 * HTTP(S) confirmation goes through the test (`deliver`), as SNS sends a SubscriptionConfirmation to
 * the endpoint and waits for a GET of the SubscribeURL.
 */

const VERSION = '2010-03-31';
const NAMESPACE = 'http://sns.amazonaws.com/doc/2010-03-31/';
const MAX_TAGS = 50;
const PAGE = 100;
const MAX_POLICY_BYTES = 30 * 1024;
const PENDING = 'pending confirmation';

export interface SubscriptionConfirmation {
  endpoint: string;
  topicArn: string;
  subscriptionArn: string;
  token: string;
  subscribeUrl: string;
  region: string;
  account: string;
}

interface Topic {
  account: string;
  region: string;
  name: string;
  arn: string;
  /** The attributes set (by CreateTopic or SetTopicAttributes); Policy always present. */
  attributes: Record<string, string>;
  tags: Tags;
}

interface Subscription {
  arn: string;
  topicArn: string;
  owner: string;
  protocol: string;
  endpoint: string;
  confirmed: boolean;
  confirmationWasAuthenticated: boolean;
  token: string;
  attributes: Record<string, string>;
}

export interface FakeSubscriptionView {
  arn: string;
  protocol: string;
  endpoint: string;
  confirmed: boolean;
  confirmationWasAuthenticated: boolean;
  /** The token of the SubscriptionConfirmation. */
  token: string;
  attributes: Record<string, string>;
}

export interface FakeTopicView {
  name: string;
  arn: string;
  /** As GetTopicAttributes answers them. */
  attributes: Record<string, string>;
  policy: PolicyDocument;
  tags: Tags;
  subscriptions: FakeSubscriptionView[];
}

export interface SnsService extends QueryService {
  topics(account: string, region: string): FakeTopicView[];
  /** What a GET of the SubscribeURL does: confirms, returns the subscription ARN; undefined for an unknown token. */
  confirmSubscription(topicArn: string, token: string): string | undefined;
  /** Resolves when every confirmation handed to `deliver` has settled. */
  settled(): Promise<void>;
  /** What `deliver` threw or rejected with. */
  deliveryErrors: unknown[];
}

function invalid(what: string): FakeAwsError {
  return new FakeAwsError(400, 'InvalidParameter', `Invalid parameter: ${what}`);
}

const topicNotFound = (): FakeAwsError => new FakeAwsError(404, 'NotFound', 'Topic does not exist');
const subscriptionNotFound = (): FakeAwsError =>
  new FakeAwsError(404, 'NotFound', 'Subscription does not exist');

const TOPIC_ARN = /^arn:aws:sns:([a-z0-9-]+):(\d{12}):([A-Za-z0-9_-]{1,256}(?:\.fifo)?)$/;
const SUBSCRIPTION_ARN =
  /^(arn:aws:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(?:\.fifo)?):[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

function defaultPolicy(arn: string, account: string): string {
  return JSON.stringify({
    Version: '2008-10-17',
    Id: '__default_policy_ID',
    Statement: [
      {
        Sid: '__default_statement_ID',
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: [
          'SNS:GetTopicAttributes',
          'SNS:SetTopicAttributes',
          'SNS:AddPermission',
          'SNS:RemovePermission',
          'SNS:DeleteTopic',
          'SNS:Subscribe',
          'SNS:ListSubscriptionsByTopic',
          'SNS:Publish',
        ],
        Resource: arn,
        Condition: { StringEquals: { 'AWS:SourceOwner': account } },
      },
    ],
  });
}

const EFFECTIVE_DELIVERY_POLICY = JSON.stringify({
  http: {
    defaultHealthyRetryPolicy: {
      minDelayTarget: 20,
      maxDelayTarget: 20,
      numRetries: 3,
      numMaxDelayRetries: 0,
      numNoDelayRetries: 0,
      numMinDelayRetries: 0,
      backoffFunction: 'linear',
    },
    disableSubscriptionOverrides: false,
    defaultRequestPolicy: { headerContentType: 'text/plain; charset=UTF-8' },
  },
});

const FEEDBACK_ATTRIBUTE =
  /^(HTTP|Firehose|Lambda|SQS|Application)(Success|Failure)Feedback(RoleArn|SampleRate)$/;
const TOPIC_ATTRIBUTES = new Set([
  'DeliveryPolicy',
  'DisplayName',
  'Policy',
  'SignatureVersion',
  'TracingConfig',
  'KmsMasterKeyId',
  'ArchivePolicy',
  'ContentBasedDeduplication',
  'DataProtectionPolicy',
  'FifoThroughputScope',
]);
/** Settable only when the topic is made. */
const CREATE_ONLY_TOPIC_ATTRIBUTES = new Set(['FifoTopic']);

const PROTOCOLS = new Set([
  'http',
  'https',
  'email',
  'email-json',
  'sms',
  'sqs',
  'application',
  'lambda',
  'firehose',
]);
const SUBSCRIPTION_ATTRIBUTES = new Set([
  'DeliveryPolicy',
  'FilterPolicy',
  'FilterPolicyScope',
  'RawMessageDelivery',
  'RedrivePolicy',
  'SubscriptionRoleArn',
  'ReplayPolicy',
]);

function isJsonObject(text: string): boolean {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  } catch {
    return false;
  }
}

/** A topic policy as SNS checks it: IAM's grammar, and only SNS actions. */
function checkTopicPolicy(text: string): void {
  if (Buffer.byteLength(text) > MAX_POLICY_BYTES)
    throw invalid('Policy Error: Policy size exceeds the limit');
  const doc = parsePolicy(text, 'resource');
  if (typeof doc === 'string') throw invalid(`Policy Error: ${doc}`);
  for (const s of statementsOf(doc))
    for (const a of asList(s.Action ?? s.NotAction))
      if (a !== '*' && !a.toLowerCase().startsWith('sns:'))
        throw invalid('Policy statement action out of service scope!');
}

function checkTopicAttribute(name: string, value: string, fifo: boolean, creating: boolean): void {
  const known =
    TOPIC_ATTRIBUTES.has(name) ||
    FEEDBACK_ATTRIBUTE.test(name) ||
    (creating && CREATE_ONLY_TOPIC_ATTRIBUTES.has(name));
  if (!known) throw invalid('AttributeName');
  switch (name) {
    case 'Policy':
      return checkTopicPolicy(value);
    case 'DisplayName':
      if ([...value].length > 100) throw invalid('DisplayName');
      return;
    case 'SignatureVersion':
      if (value !== '1' && value !== '2') throw invalid('SignatureVersion');
      return;
    case 'TracingConfig':
      if (value !== 'PassThrough' && value !== 'Active') throw invalid('TracingConfig');
      return;
    case 'FifoTopic':
    case 'ContentBasedDeduplication':
      if (value !== 'true' && value !== 'false') throw invalid(name);
      if (name === 'ContentBasedDeduplication' && !fifo)
        throw invalid(
          'ContentBasedDeduplication Reason: Content-based deduplication can only be set for FIFO topics',
        );
      return;
    case 'DeliveryPolicy':
    case 'DataProtectionPolicy':
    case 'ArchivePolicy':
      if (value !== '' && !isJsonObject(value)) throw invalid(`${name}`);
      return;
  }
}

/**
 * SNS's bounds on an HTTP/S delivery policy's retries (AWS-FACTS §1, AWS-SETUP-FACTS §1.4): at most 100
 * retries, the phases within them, delays of 1 to 3,600 s with the least no more than the most, and at
 * most 3,600 s of delays in all. The backoff phase's delays are counted at their least (minDelayTarget),
 * so that only a policy the real service surely refuses is refused here.
 */
function checkRetryPolicy(value: string): void {
  const policy = JSON.parse(value) as { healthyRetryPolicy?: Record<string, unknown> };
  const retry = policy.healthyRetryPolicy;
  if (retry === undefined) return;
  const count = (key: string, fallback: number): number => {
    const v = retry[key] ?? fallback;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
      throw invalid(`DeliveryPolicy: ${key} must be a whole number`);
    return v;
  };
  const numRetries = count('numRetries', 3);
  const noDelay = count('numNoDelayRetries', 0);
  const atMin = count('numMinDelayRetries', 0);
  const atMax = count('numMaxDelayRetries', 0);
  const minDelay = count('minDelayTarget', 20);
  const maxDelay = count('maxDelayTarget', 20);
  if (numRetries > 100) throw invalid('DeliveryPolicy: numRetries must be at most 100');
  if (noDelay + atMin + atMax > numRetries)
    throw invalid('DeliveryPolicy: the retry phases add up to more than numRetries');
  if (minDelay < 1 || maxDelay > 3600 || minDelay > maxDelay)
    throw invalid(
      'DeliveryPolicy: minDelayTarget and maxDelayTarget must be 1-3600, the min at most the max',
    );
  const backoff = numRetries - noDelay - atMin - atMax;
  if (atMin * minDelay + atMax * maxDelay + backoff * minDelay > 3600)
    throw invalid('DeliveryPolicy: the retries take more than 3600 seconds in all');
}

function checkSubscriptionAttribute(name: string, value: string, protocol: string): void {
  if (!SUBSCRIPTION_ATTRIBUTES.has(name)) throw invalid('AttributeName');
  switch (name) {
    case 'RawMessageDelivery':
      if (value !== 'true' && value !== 'false') throw invalid('RawMessageDelivery');
      if (!['http', 'https', 'sqs', 'firehose'].includes(protocol))
        throw invalid(
          `Attributes Reason: Delivery protocol [${protocol}] does not support raw message delivery.`,
        );
      return;
    case 'FilterPolicyScope':
      if (value !== 'MessageAttributes' && value !== 'MessageBody') throw invalid('FilterPolicyScope');
      return;
    case 'DeliveryPolicy':
      if (protocol !== 'http' && protocol !== 'https')
        throw invalid('DeliveryPolicy: Delivery policy can only be set for HTTP/HTTPS subscriptions');
      if (!isJsonObject(value)) throw invalid('DeliveryPolicy');
      checkRetryPolicy(value);
      return;
    case 'FilterPolicy':
    case 'RedrivePolicy':
    case 'ReplayPolicy':
      if (value !== '' && !isJsonObject(value)) throw invalid(`${name}: failed to parse JSON.`);
      return;
  }
}

function readTags(ctx: QueryContext, required: boolean): Tags | undefined {
  const pairs = tagPairs(ctx.params);
  if (pairs === undefined) {
    if (required) throw invalid('Tags');
    return undefined;
  }
  if (pairs.length > MAX_TAGS)
    throw new FakeAwsError(
      400,
      'TagLimitExceeded',
      'Could not complete request: tag quota of per resource exceeded',
    );
  const tags: Tags = {};
  for (const { Key: key, Value: value } of pairs) {
    if (key === undefined || key.length < 1 || key.length > 128 || !TAG_PATTERN.test(key))
      throw invalid(
        'Tags Reason: Tag keys must be between 1 and 128 characters of letters, numbers, spaces and _.:/=+-@',
      );
    if (value === undefined || value.length > 256 || !TAG_PATTERN.test(value))
      throw invalid(
        'Tags Reason: Tag values must be between 0 and 256 characters of letters, numbers, spaces and _.:/=+-@',
      );
    if (key.toLowerCase().startsWith('aws:')) throw invalid("Tags Reason: Tag keys can't start with 'aws:'");
    if (Object.hasOwn(tags, key)) throw invalid('Tags Reason: Duplicated keys are not allowed.');
    tags[key] = value;
  }
  return tags;
}

function sameTags(a: Tags, b: Tags): boolean {
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

function sameJson(a: string, b: string): boolean {
  try {
    return JSON.stringify(JSON.parse(a)) === JSON.stringify(JSON.parse(b));
  } catch {
    return a === b;
  }
}

export function createSnsService(
  world: FakeAwsWorld,
  deps: { deliver?: (c: SubscriptionConfirmation) => Promise<void> | void } = {},
): SnsService {
  const topics = new Map<string, Topic>();
  const subscriptions = new Map<string, Subscription>();
  const pending = new Set<Promise<void>>();
  const deliveryErrors: unknown[] = [];

  const subscriptionsOf = (topicArn: string): Subscription[] =>
    [...subscriptions.values()].filter((s) => s.topicArn === topicArn);

  const topicAttributes = (topic: Topic): Record<string, string> => {
    const subs = subscriptionsOf(topic.arn);
    return {
      ...topic.attributes,
      DisplayName: topic.attributes.DisplayName ?? '',
      Owner: topic.account,
      TopicArn: topic.arn,
      SubscriptionsPending: String(subs.filter((s) => !s.confirmed).length),
      SubscriptionsConfirmed: String(subs.filter((s) => s.confirmed).length),
      SubscriptionsDeleted: '0',
      EffectiveDeliveryPolicy: topic.attributes.DeliveryPolicy ?? EFFECTIVE_DELIVERY_POLICY,
    };
  };

  const subscriptionAttributes = (s: Subscription): Record<string, string> => ({
    ...s.attributes,
    SubscriptionArn: s.arn,
    TopicArn: s.topicArn,
    Owner: s.owner,
    Protocol: s.protocol,
    Endpoint: s.endpoint,
    PendingConfirmation: String(!s.confirmed),
    ConfirmationWasAuthenticated: String(s.confirmationWasAuthenticated),
    RawMessageDelivery: s.attributes.RawMessageDelivery ?? 'false',
    ...(s.protocol === 'http' || s.protocol === 'https'
      ? { EffectiveDeliveryPolicy: s.attributes.DeliveryPolicy ?? EFFECTIVE_DELIVERY_POLICY }
      : {}),
  });

  /**
   * The topic an ARN names, for an action by the caller: another region's topic is not addressable
   * from this endpoint, and another account's topic only as its policy allows.
   */
  const topicFor = (ctx: QueryContext, arn: string | undefined, action: string, name = 'TopicArn'): Topic => {
    if (arn === undefined) throw invalid(name);
    const m = TOPIC_ARN.exec(arn);
    if (m === null || m[1] !== ctx.region) throw invalid(name);
    const topic = topics.get(arn);
    if (m[2] !== ctx.account) {
      const policy = topic ? parsePolicy(topic.attributes.Policy ?? '', 'resource') : undefined;
      const decision =
        policy === undefined || typeof policy === 'string'
          ? 'none'
          : evaluatePolicy(policy, {
              action: `sns:${action}`,
              caller: { arn: ctx.request.caller.arn, account: ctx.account },
              resource: arn,
              context: {},
            });
      if (decision !== 'allow')
        throw new FakeAwsError(
          403,
          'AuthorizationError',
          `User: ${ctx.request.caller.arn} is not authorized to perform: SNS:${action} on resource: ${arn} because no resource-based policy allows the SNS:${action} action`,
        );
    }
    if (topic === undefined) throw topicNotFound();
    return topic;
  };

  const subscriptionFor = (ctx: QueryContext): Subscription => {
    const arn = ctx.params.get('SubscriptionArn');
    if (arn === undefined) throw invalid('SubscriptionArn');
    const m = SUBSCRIPTION_ARN.exec(arn);
    if (m === null || TOPIC_ARN.exec(m[1] ?? '')?.[1] !== ctx.region) throw invalid('SubscriptionArn');
    const s = subscriptions.get(arn);
    if (s === undefined || s.owner !== ctx.account) throw subscriptionNotFound();
    return s;
  };

  const deliverConfirmation = (s: Subscription, region: string, account: string): void => {
    const deliver = deps.deliver;
    if (deliver === undefined) return;
    const confirmation: SubscriptionConfirmation = {
      endpoint: s.endpoint,
      topicArn: s.topicArn,
      subscriptionArn: s.arn,
      token: s.token,
      subscribeUrl: `https://sns.${region}.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(s.topicArn)}&Token=${s.token}`,
      region,
      account,
    };
    // SNS sends the confirmation on its own time: the Subscribe answer does not wait for it.
    const delivery = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => deliver(confirmation))
      .catch((err: unknown) => {
        deliveryErrors.push(err);
      })
      .finally(() => pending.delete(delivery));
    pending.add(delivery);
  };

  const confirm = (topicArn: string, token: string, authenticated: boolean): Subscription | undefined => {
    const s = [...subscriptions.values()].find((x) => x.token === token && x.topicArn === topicArn);
    if (s === undefined) return undefined;
    if (!s.confirmed) {
      s.confirmed = true;
      s.confirmationWasAuthenticated = authenticated;
    }
    return s;
  };

  const topicResource = (ctx: QueryContext): string | undefined =>
    ctx.params.get('TopicArn') ?? ctx.params.get('ResourceArn') ?? ctx.params.get('SubscriptionArn');

  const op = (mutating: boolean, run: QueryOperation['run']): QueryOperation => ({
    mutating,
    resource: topicResource,
    run,
  });

  const listPage = <T>(ctx: QueryContext, items: T[]) =>
    paginate(items, ctx.params.get('NextToken'), PAGE, () => invalid('NextToken'));

  const subscriptionXml = (s: Subscription) => ({
    SubscriptionArn: s.confirmed ? s.arn : 'PendingConfirmation',
    Owner: s.owner,
    Protocol: s.protocol,
    Endpoint: s.endpoint,
    TopicArn: s.topicArn,
  });

  const operations: Record<string, QueryOperation> = {
    CreateTopic: {
      mutating: true,
      resource: (ctx) => `arn:aws:sns:${ctx.region}:${ctx.account}:${ctx.params.get('Name') ?? ''}`,
      run(ctx) {
        const name = ctx.params.get('Name');
        if (name === undefined || !/^[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(name) || name.length > 256)
          throw invalid('Topic Name');
        const attributes = ctx.params.map('Attributes') ?? {};
        const fifo = attributes.FifoTopic === 'true';
        if (fifo !== name.endsWith('.fifo'))
          throw invalid(
            'Topic Name Reason: Fifo Topic names must end with .fifo and Standard Topic names must not',
          );
        for (const [k, v] of Object.entries(attributes)) checkTopicAttribute(k, v, fifo, true);
        const tags = readTags(ctx, false);
        const arn = `arn:aws:sns:${ctx.region}:${ctx.account}:${name}`;
        const existing = topics.get(arn);
        if (existing) {
          // SNS answers the existing topic only when the request would not change it.
          if (tags !== undefined && !sameTags(tags, existing.tags))
            throw invalid('Tags Reason: Topic already exists with different tags');
          for (const [k, v] of Object.entries(attributes)) {
            const current =
              existing.attributes[k] ?? (k === 'FifoTopic' ? 'false' : k === 'DisplayName' ? '' : undefined);
            if (current === undefined || !(k === 'Policy' ? sameJson(current, v) : current === v))
              throw invalid('Attributes Reason: Topic already exists with different attributes');
          }
          return { TopicArn: arn };
        }
        topics.set(arn, {
          account: ctx.account,
          region: ctx.region,
          name,
          arn,
          attributes: { Policy: defaultPolicy(arn, ctx.account), ...attributes },
          tags: tags ?? {},
        });
        return { TopicArn: arn };
      },
    },

    GetTopicAttributes: op(false, (ctx) => {
      const topic = topicFor(ctx, ctx.params.get('TopicArn'), 'GetTopicAttributes');
      return { Attributes: new XmlMap(topicAttributes(topic)) };
    }),

    SetTopicAttributes: op(true, (ctx) => {
      const topic = topicFor(ctx, ctx.params.get('TopicArn'), 'SetTopicAttributes');
      const name = ctx.params.get('AttributeName');
      if (name === undefined) throw invalid('AttributeName');
      const value = ctx.params.get('AttributeValue') ?? '';
      checkTopicAttribute(name, value, topic.attributes.FifoTopic === 'true', false);
      // An empty Policy puts the default one back, as SNS does.
      if (name === 'Policy' && value === '')
        topic.attributes.Policy = defaultPolicy(topic.arn, topic.account);
      else topic.attributes[name] = value;
      return undefined;
    }),

    ListTopics: {
      mutating: false,
      run(ctx) {
        const mine = [...topics.values()]
          .filter((t) => t.account === ctx.account && t.region === ctx.region)
          .map((t) => ({ TopicArn: t.arn }));
        const { page, next } = listPage(ctx, mine);
        return { Topics: page, NextToken: next };
      },
    },

    DeleteTopic: op(true, (ctx) => {
      const arn = ctx.params.get('TopicArn');
      try {
        topicFor(ctx, arn, 'DeleteTopic');
      } catch (err) {
        // Deleting a topic that does not exist succeeds.
        if (err instanceof FakeAwsError && err.code === 'NotFound') return undefined;
        throw err;
      }
      topics.delete(arn ?? '');
      for (const s of subscriptionsOf(arn ?? '')) subscriptions.delete(s.arn);
      return undefined;
    }),

    TagResource: op(true, (ctx) => {
      const topic = taggable(ctx);
      const tags = readTags(ctx, true) ?? {};
      const merged = { ...topic.tags, ...tags };
      if (Object.keys(merged).length > MAX_TAGS)
        throw new FakeAwsError(
          400,
          'TagLimitExceeded',
          'Could not complete request: tag quota of per resource exceeded',
        );
      topic.tags = merged;
      return {};
    }),

    UntagResource: op(true, (ctx) => {
      const topic = taggable(ctx);
      const keys = ctx.params.list('TagKeys');
      if (keys === undefined) throw invalid('TagKeys');
      if (keys.length > MAX_TAGS)
        throw new FakeAwsError(
          400,
          'TagLimitExceeded',
          'Could not complete request: tag quota of per resource exceeded',
        );
      topic.tags = Object.fromEntries(Object.entries(topic.tags).filter(([k]) => !keys.includes(k)));
      return {};
    }),

    ListTagsForResource: op(false, (ctx) => ({ Tags: tagsXml(taggable(ctx).tags) })),

    Subscribe: op(true, (ctx) => {
      const topic = topicFor(ctx, ctx.params.get('TopicArn'), 'Subscribe');
      const protocol = ctx.params.get('Protocol');
      if (protocol === undefined) throw invalid('Protocol');
      if (!PROTOCOLS.has(protocol))
        throw invalid(`Amazon SNS does not support this protocol string: ${protocol}`);
      const endpoint = ctx.params.get('Endpoint');
      if (endpoint === undefined || endpoint === '') throw invalid('Endpoint');
      if (protocol === 'http' || protocol === 'https') {
        if (!endpoint.toLowerCase().startsWith(`${protocol}://`))
          throw invalid('Endpoint must match the specified protocol');
        if (!URL.canParse(endpoint)) throw invalid('Endpoint');
      } else if ((protocol === 'email' || protocol === 'email-json') && !/^[^@\s]+@[^@\s]+$/.test(endpoint))
        throw invalid('Email address');
      else if (protocol === 'sqs' && !/^arn:aws:sqs:[a-z0-9-]+:\d{12}:[\w-]+(\.fifo)?$/.test(endpoint))
        throw invalid('SQS endpoint ARN');
      else if (
        protocol === 'lambda' &&
        !/^arn:aws:lambda:[a-z0-9-]+:\d{12}:function:[\w-]+(:[\w$-]+)?$/.test(endpoint)
      )
        throw invalid('Lambda endpoint ARN');
      const attributes = ctx.params.map('Attributes') ?? {};
      for (const [k, v] of Object.entries(attributes)) checkSubscriptionAttribute(k, v, protocol);
      if (protocol === 'firehose' && attributes.SubscriptionRoleArn === undefined)
        throw invalid('Attributes Reason: SubscriptionRoleArn is required for firehose subscriptions');
      const returnArn = ctx.params.get('ReturnSubscriptionArn') === 'true';

      const existing = subscriptionsOf(topic.arn).find(
        (s) => s.protocol === protocol && s.endpoint === endpoint,
      );
      if (existing) {
        if (Object.entries(attributes).some(([k, v]) => existing.attributes[k] !== v))
          throw invalid('Attributes Reason: Subscription already exists with different attributes');
        // SNS sends the confirmation again to an endpoint that has not confirmed yet.
        if (!existing.confirmed) deliverConfirmation(existing, ctx.region, ctx.account);
        return { SubscriptionArn: existing.confirmed || returnArn ? existing.arn : PENDING };
      }
      const needsConfirmation = ['http', 'https', 'email', 'email-json'].includes(protocol);
      const s: Subscription = {
        arn: `${topic.arn}:${crypto.randomUUID()}`,
        topicArn: topic.arn,
        owner: ctx.account,
        protocol,
        endpoint,
        confirmed: !needsConfirmation,
        confirmationWasAuthenticated: !needsConfirmation,
        token: crypto.randomBytes(64).toString('hex'),
        attributes,
      };
      subscriptions.set(s.arn, s);
      if (protocol === 'http' || protocol === 'https') deliverConfirmation(s, ctx.region, ctx.account);
      return { SubscriptionArn: s.confirmed || returnArn ? s.arn : PENDING };
    }),

    ConfirmSubscription: op(true, (ctx) => {
      const topic = topicFor(ctx, ctx.params.get('TopicArn'), 'ConfirmSubscription');
      const token = ctx.params.get('Token');
      if (token === undefined || token === '') throw invalid('Token');
      const s = confirm(topic.arn, token, ctx.params.get('AuthenticateOnUnsubscribe') === 'true');
      if (s === undefined) throw invalid('Invalid token');
      return { SubscriptionArn: s.arn };
    }),

    GetSubscriptionAttributes: op(false, (ctx) => ({
      Attributes: new XmlMap(subscriptionAttributes(subscriptionFor(ctx))),
    })),

    SetSubscriptionAttributes: op(true, (ctx) => {
      const s = subscriptionFor(ctx);
      const name = ctx.params.get('AttributeName');
      if (name === undefined) throw invalid('AttributeName');
      const value = ctx.params.get('AttributeValue') ?? '';
      checkSubscriptionAttribute(name, value, s.protocol);
      s.attributes[name] = value;
      return undefined;
    }),

    ListSubscriptionsByTopic: op(false, (ctx) => {
      const topic = topicFor(ctx, ctx.params.get('TopicArn'), 'ListSubscriptionsByTopic');
      const { page, next } = listPage(ctx, subscriptionsOf(topic.arn).map(subscriptionXml));
      return { Subscriptions: page, NextToken: next };
    }),

    ListSubscriptions: {
      mutating: false,
      run(ctx) {
        const mine = [...subscriptions.values()].filter(
          (s) => s.owner === ctx.account && TOPIC_ARN.exec(s.topicArn)?.[1] === ctx.region,
        );
        const { page, next } = listPage(ctx, mine.map(subscriptionXml));
        return { Subscriptions: page, NextToken: next };
      },
    },

    Unsubscribe: op(true, (ctx) => {
      if (ctx.params.get('SubscriptionArn') === PENDING) throw invalid('SubscriptionArn');
      const s = subscriptionFor(ctx);
      subscriptions.delete(s.arn);
      return undefined;
    }),
  };

  /** Tags live on topics only in this fake; any other ARN is a resource SNS does not have. */
  function taggable(ctx: QueryContext): Topic {
    const arn = ctx.params.get('ResourceArn');
    if (arn === undefined) throw invalid('ResourceArn');
    const m = TOPIC_ARN.exec(arn);
    if (m === null || m[1] !== ctx.region) throw invalid('ResourceArn');
    const topic = topics.get(arn);
    if (topic === undefined || topic.account !== ctx.account)
      throw new FakeAwsError(404, 'ResourceNotFound', 'Resource does not exist');
    return topic;
  }

  const service = createQueryService({
    version: VERSION,
    namespace: NAMESPACE,
    operations,
    newId: world.newId,
  });
  return {
    ...service,
    deliveryErrors,
    topics: (account, region) =>
      [...topics.values()]
        .filter((t) => t.account === account && t.region === region)
        .map((t) => ({
          name: t.name,
          arn: t.arn,
          attributes: topicAttributes(t),
          policy: JSON.parse(t.attributes.Policy ?? '{}') as PolicyDocument,
          tags: { ...t.tags },
          subscriptions: subscriptionsOf(t.arn).map((s) => ({
            arn: s.arn,
            protocol: s.protocol,
            endpoint: s.endpoint,
            confirmed: s.confirmed,
            confirmationWasAuthenticated: s.confirmationWasAuthenticated,
            token: s.token,
            attributes: subscriptionAttributes(s),
          })),
        })),
    confirmSubscription: (topicArn, token) => confirm(topicArn, token, false)?.arn,
    settled: async () => {
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
