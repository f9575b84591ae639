import crypto from 'node:crypto';
import {
  MAX_EVENT_PATTERN_CHARS,
  matchesEventPattern,
  validateEventPattern,
} from '../../integrations/securityhub/aws-setup/event-pattern.js';
import { paginate } from './query-protocol.js';
import { FakeAwsError, type FakeRequest, type FakeResponse, type FakeService, type Tags } from './types.js';
import type { FakeAwsWorld } from './world.js';

/**
 * Amazon EventBridge as the AWS JSON 1.1 protocol speaks it (POST /, `X-Amz-Target: AWSEvents.<Op>`),
 * for the operations `vigil aws setup|check|teardown` uses: rules and their targets on the default
 * bus, connections, API destinations, tags and TestEventPattern. It refuses what EventBridge refuses,
 * worded as EventBridge words it where that wording is known, so the SDK raises the same exceptions.
 */

const TARGET_PREFIX = 'AWSEvents.';
const JSON_11 = 'application/x-amz-json-1.1';
const DEFAULT_BUS = 'default';
const LIMIT_MESSAGE = 'The requested resource exceeds the maximum number allowed.';

/** Per rule (a hard quota), per PutTargets request, per RemoveTargets request. */
const MAX_TARGETS_PER_RULE = 5;
const MAX_TARGETS_PER_REQUEST = 10;
/** Rules per event bus (the default quota). */
const MAX_RULES_PER_BUS = 300;

const NAME = { pattern: /^[.\-_A-Za-z0-9]+$/, shown: '[\\.\\-_A-Za-z0-9]+' };
const NAME_RULE = { min: 1, max: 64, pattern: NAME };
const REQUIRED_NAME = { ...NAME_RULE, required: true };
const BUS_NAME = {
  pattern: /^(arn:aws[\w-]*:events:[a-z]+-[a-z]+-[\w-]+:[0-9]{12}:event-bus\/)?[/.\-_A-Za-z0-9]+$/,
  shown: '(arn:aws[\\w-]*:events:[a-z]+-[a-z]+-[\\w-]+:[0-9]{12}:event-bus\\/)?[/\\.\\-_A-Za-z0-9]+',
};
const AUTH_VALUE = {
  // eslint-disable-next-line no-control-regex -- AWS's own pattern: no control characters and no ':'.
  pattern: /^[ \t]*[^\x00-\x1F:\x7F]+([ \t]+[^\x00-\x1F:\x7F]+)*[ \t]*$/,
  shown: '^[ \\t]*[^\\x00-\\x1F:\\x7F]+([ \\t]+[^\\x00-\\x1F:\\x7F]+)*[ \\t]*$',
};
const CONNECTION_ARN = {
  pattern:
    /^arn:aws([a-z]|-)*:events:([a-z]|\d|-)*:([0-9]{12})?:connection\/[.\-_A-Za-z0-9]+\/[-A-Za-z0-9]+$/,
  shown:
    '^arn:aws([a-z]|\\-)*:events:([a-z]|\\d|\\-)*:([0-9]{12})?:connection\\/[\\.\\-_A-Za-z0-9]+\\/[\\-A-Za-z0-9]+$',
};
const HTTPS_ENDPOINT = {
  pattern: /^((%[0-9A-Fa-f]{2}|[-()_.!~*';/?:@&=+$,A-Za-z0-9])+)([).!';/?:,])?$/,
  shown: "^((%[0-9A-Fa-f]{2}|[-()_.!~*';/?:@\\x26=+$,A-Za-z0-9])+)([).!';/?:,])?$",
};
const RULE_STATES = ['ENABLED', 'DISABLED', 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS'] as const;
const AUTH_TYPES = ['BASIC', 'OAUTH_CLIENT_CREDENTIALS', 'API_KEY'] as const;
const HTTP_METHODS = ['HEAD', 'POST', 'PATCH', 'DELETE', 'PUT', 'GET', 'OPTIONS'] as const;
const OAUTH_METHODS = ['GET', 'POST', 'PUT'] as const;
/** Which AuthParameters member each AuthorizationType takes: the others must be absent. */
const AUTH_MEMBER: Record<(typeof AUTH_TYPES)[number], string> = {
  API_KEY: 'ApiKeyAuthParameters',
  BASIC: 'BasicAuthParameters',
  OAUTH_CLIENT_CREDENTIALS: 'OAuthParameters',
};
/** The fields TestEventPattern needs in its Event (AWS documents `resources` too but does not insist). */
const EVENT_ENVELOPE = ['id', 'account', 'source', 'time', 'region', 'detail-type'];

type Input = Record<string, unknown>;

export interface FakeRuleTarget {
  Id: string;
  Arn: string;
  RoleArn?: string;
  /** Every member sent (Input, InputTransformer, HttpParameters, RetryPolicy…), as sent. */
  [member: string]: unknown;
}

export interface FakeRule {
  name: string;
  arn: string;
  eventBusName: string;
  /** The EventPattern as sent, and parsed. */
  eventPatternText?: string;
  eventPattern?: unknown;
  scheduleExpression?: string;
  state: string;
  description?: string;
  roleArn?: string;
  tags: Tags;
  targets: FakeRuleTarget[];
}

export interface FakeConnection {
  name: string;
  arn: string;
  description?: string;
  authorizationType: string;
  /** As sent, secrets included (DescribeConnection never shows them). */
  authParameters: Input;
  /** The API key EventBridge would send, for API_KEY connections. */
  apiKey?: { name: string; value: string };
  state: string;
  secretArn: string;
  creationTime: number;
  lastModifiedTime: number;
  lastAuthorizedTime: number;
}

export interface FakeApiDestination {
  name: string;
  arn: string;
  description?: string;
  connectionArn: string;
  invocationEndpoint: string;
  httpMethod: string;
  invocationRateLimitPerSecond: number;
  state: string;
  creationTime: number;
  lastModifiedTime: number;
}

export interface FakeEventsService extends FakeService {
  rules(account: string, region: string): FakeRule[];
  connections(account: string, region: string): FakeConnection[];
  apiDestinations(account: string, region: string): FakeApiDestination[];
}

interface RegionState {
  rules: Map<string, FakeRule>;
  busTags: Tags;
  connections: Map<string, FakeConnection>;
  destinations: Map<string, FakeApiDestination>;
}

interface Context {
  input: Input;
  account: string;
  region: string;
  state: RegionState;
}

// ---------------------------------------------------------------------------------------------
// Reading and validating JSON input, as AWS's request validation words it

function present(value: unknown): boolean {
  return value !== undefined && value !== null;
}

function isRecord(value: unknown): value is Input {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function serializationError(member: string): FakeAwsError {
  return new FakeAwsError(400, 'SerializationException', `Unexpected value type for ${member}`);
}

interface StringRule {
  required?: boolean;
  min?: number;
  max?: number;
  pattern?: { pattern: RegExp; shown: string };
  values?: readonly string[];
}

/** Collects every constraint violation of a request, answered as one ValidationException. */
class Checks {
  private readonly problems: string[] = [];

  private add(value: unknown, member: string, constraint: string): void {
    const shown =
      value === undefined ? 'null' : `'${typeof value === 'string' ? value : JSON.stringify(value)}'`;
    this.problems.push(`Value ${shown} at '${member}' failed to satisfy constraint: ${constraint}`);
  }

  string(input: Input, key: string, member: string, rule: StringRule = {}): string | undefined {
    const value = input[key];
    if (value === undefined || value === null) {
      if (rule.required) this.add(undefined, member, 'Member must not be null');
      return undefined;
    }
    if (typeof value !== 'string') throw serializationError(key);
    const length = [...value].length;
    if (rule.min !== undefined && length < rule.min)
      this.add(value, member, `Member must have length greater than or equal to ${rule.min}`);
    else if (rule.max !== undefined && length > rule.max)
      this.add(value, member, `Member must have length less than or equal to ${rule.max}`);
    else if (rule.pattern !== undefined && !rule.pattern.pattern.test(value))
      this.add(value, member, `Member must satisfy regular expression pattern: ${rule.pattern.shown}`);
    else if (rule.values !== undefined && !rule.values.includes(value))
      this.add(value, member, `Member must satisfy enum value set: [${rule.values.join(', ')}]`);
    return value;
  }

  integer(input: Input, key: string, member: string, min: number, max: number): number | undefined {
    const value = input[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'number' || !Number.isInteger(value)) throw serializationError(key);
    if (value < min) this.add(value, member, `Member must have value greater than or equal to ${min}`);
    else if (value > max) this.add(value, member, `Member must have value less than or equal to ${max}`);
    return value;
  }

  boolean(input: Input, key: string): boolean | undefined {
    const value = input[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'boolean') throw serializationError(key);
    return value;
  }

  record(input: Input, key: string, member: string, required = false): Input | undefined {
    const value = input[key];
    if (value === undefined || value === null) {
      if (required) this.add(undefined, member, 'Member must not be null');
      return undefined;
    }
    if (!isRecord(value)) throw serializationError(key);
    return value;
  }

  list(
    input: Input,
    key: string,
    member: string,
    rule: { required?: boolean; min?: number; max?: number } = {},
  ) {
    const value = input[key];
    if (value === undefined || value === null) {
      if (rule.required) this.add(undefined, member, 'Member must not be null');
      return undefined;
    }
    if (!Array.isArray(value)) throw serializationError(key);
    if (rule.min !== undefined && value.length < rule.min)
      this.add(value, member, `Member must have length greater than or equal to ${rule.min}`);
    else if (rule.max !== undefined && value.length > rule.max)
      this.add(value, member, `Member must have length less than or equal to ${rule.max}`);
    return value as unknown[];
  }

  throwIfAny(): void {
    const n = this.problems.length;
    if (n === 0) return;
    throw new FakeAwsError(
      400,
      'ValidationException',
      `${n} validation error${n > 1 ? 's' : ''} detected: ${this.problems.join('; ')}`,
    );
  }
}

function validation(message: string): FakeAwsError {
  return new FakeAwsError(400, 'ValidationException', message);
}

function notFound(message: string): FakeAwsError {
  return new FakeAwsError(400, 'ResourceNotFoundException', message);
}

function tagList(checks: Checks, input: Input, key: string, member: string): Tags | undefined {
  const list = checks.list(input, key, member);
  if (list === undefined) return undefined;
  const tags: Tags = {};
  list.forEach((item, i) => {
    if (!isRecord(item)) throw serializationError(key);
    const k = checks.string(item, 'Key', `${member}.${i + 1}.member.key`, {
      required: true,
      min: 1,
      max: 128,
    });
    const v = checks.string(item, 'Value', `${member}.${i + 1}.member.value`, { required: true, max: 256 });
    if (k !== undefined && v !== undefined) tags[k] = v;
  });
  return tags;
}

function now(): number {
  return Date.now() / 1000;
}

/** AWS's pagination tokens are opaque; this one is an index the caller cannot forge past the end. */
function page<T>(items: readonly T[], input: Input, checks: Checks): { page: T[]; next: string | undefined } {
  const token = checks.string(input, 'NextToken', 'nextToken', { min: 1, max: 2048 });
  const limit = checks.integer(input, 'Limit', 'limit', 1, 100) ?? 100;
  checks.throwIfAny();
  return paginate(items, token, limit, () => validation('The NextToken provided is invalid.'));
}

// ---------------------------------------------------------------------------------------------
// The service

export function createEventsService(world: FakeAwsWorld): FakeEventsService {
  const regions = new Map<string, RegionState>();
  const stateOf = (account: string, region: string): RegionState => {
    const key = `${account}:${region}`;
    let state = regions.get(key);
    if (state === undefined) {
      state = { rules: new Map(), busTags: {}, connections: new Map(), destinations: new Map() };
      regions.set(key, state);
    }
    return state;
  };

  const arn = (ctx: Context, resource: string): string =>
    `arn:aws:events:${ctx.region}:${ctx.account}:${resource}`;

  /** Only the default bus exists in this fake; AWS also accepts the bus by its ARN. */
  const busOf = (ctx: Context, checks: Checks): string => {
    const name = checks.string(ctx.input, 'EventBusName', 'eventBusName', {
      min: 1,
      max: 1600,
      pattern: BUS_NAME,
    });
    checks.throwIfAny();
    if (name === undefined || name === DEFAULT_BUS || name === arn(ctx, `event-bus/${DEFAULT_BUS}`))
      return DEFAULT_BUS;
    throw notFound(`Event bus ${name.replace(/^.*:event-bus\//, '')} does not exist.`);
  };

  const ruleNotFound = (name: string, bus: string) =>
    notFound(`Rule ${name} does not exist on EventBus ${bus}.`);

  const findRule = (ctx: Context, name: string, bus: string): FakeRule => {
    const rule = ctx.state.rules.get(name);
    if (rule === undefined) throw ruleNotFound(name, bus);
    return rule;
  };

  /** Parses and checks an EventPattern the way PutRule and TestEventPattern do. */
  const parsePattern = (text: string): unknown => {
    let pattern: unknown;
    try {
      pattern = JSON.parse(text);
    } catch (err) {
      throw new FakeAwsError(
        400,
        'InvalidEventPatternException',
        `Event pattern is not valid. Reason: ${(err as Error).message}`,
      );
    }
    const reason = validateEventPattern(pattern);
    if (reason !== undefined)
      throw new FakeAwsError(
        400,
        'InvalidEventPatternException',
        `Event pattern is not valid. Reason: ${reason}`,
      );
    return pattern;
  };

  const describeRule = (rule: FakeRule): Input => ({
    Name: rule.name,
    Arn: rule.arn,
    EventPattern: rule.eventPatternText,
    ScheduleExpression: rule.scheduleExpression,
    State: rule.state,
    Description: rule.description,
    RoleArn: rule.roleArn,
    EventBusName: rule.eventBusName,
  });

  const connectionNamed = (ctx: Context, name: string, verb: string): FakeConnection => {
    const connection = ctx.state.connections.get(name);
    if (connection === undefined)
      throw notFound(`Failed to ${verb} the connection(s). Connection '${name}' does not exist.`);
    return connection;
  };

  const destinationNamed = (ctx: Context, name: string, verb: string): FakeApiDestination => {
    const destination = ctx.state.destinations.get(name);
    if (destination === undefined)
      throw notFound(
        `Failed to ${verb} the api-destination(s). An api-destination '${name}' does not exist.`,
      );
    return destination;
  };

  /** Checks the members of one auth kind; `creating` makes their secrets and names required. */
  const checkAuthMember = (
    checks: Checks,
    kind: string,
    params: Input,
    member: string,
    creating: boolean,
  ): void => {
    const secret = (key: string, field: string) =>
      checks.string(params, key, `${member}.${field}`, {
        required: creating,
        min: 1,
        max: 512,
        pattern: AUTH_VALUE,
      });
    if (kind === 'ApiKeyAuthParameters') {
      secret('ApiKeyName', 'apiKeyName');
      secret('ApiKeyValue', 'apiKeyValue');
    } else if (kind === 'BasicAuthParameters') {
      secret('Username', 'username');
      secret('Password', 'password');
    } else if (kind === 'OAuthParameters') {
      const client = checks.record(params, 'ClientParameters', `${member}.clientParameters`, creating);
      if (client !== undefined) {
        checks.string(client, 'ClientID', `${member}.clientParameters.clientID`, {
          required: creating,
          min: 1,
          max: 512,
        });
        checks.string(client, 'ClientSecret', `${member}.clientParameters.clientSecret`, {
          required: creating,
          min: 1,
          max: 512,
        });
      }
      checks.string(params, 'AuthorizationEndpoint', `${member}.authorizationEndpoint`, {
        required: creating,
        min: 1,
        max: 2048,
        pattern: HTTPS_ENDPOINT,
      });
      checks.string(params, 'HttpMethod', `${member}.httpMethod`, {
        required: creating,
        values: OAUTH_METHODS,
      });
    }
  };

  /** AuthParameters hold the chosen type's member and no other type's ("only … for the AuthorizationType"). */
  const checkAuthParameters = (
    checks: Checks,
    type: string,
    auth: Input | undefined,
    creating: boolean,
  ): void => {
    if (auth === undefined) return;
    for (const kind of Object.values(AUTH_MEMBER)) {
      const member = `authParameters.${kind.charAt(0).toLowerCase()}${kind.slice(1)}`;
      const params = checks.record(auth, kind, member);
      if (params !== undefined) checkAuthMember(checks, kind, params, member, creating);
    }
    checks.record(auth, 'InvocationHttpParameters', 'authParameters.invocationHttpParameters');
    checks.throwIfAny();
    const wanted = AUTH_MEMBER[type as keyof typeof AUTH_MEMBER];
    const others = Object.values(AUTH_MEMBER).filter((kind) => kind !== wanted && present(auth[kind]));
    if (others.length > 0)
      throw validation(
        `Only ${wanted} may be specified for AuthorizationType ${type}; found ${others.join(', ')}.`,
      );
    if (creating && !present(auth[wanted]))
      throw validation(`${wanted} must be specified for AuthorizationType ${type}.`);
  };

  const apiKeyOf = (type: string, auth: Input): { name: string; value: string } | undefined => {
    const params = auth.ApiKeyAuthParameters;
    if (type !== 'API_KEY' || !isRecord(params)) return undefined;
    const { ApiKeyName: name, ApiKeyValue: value } = params;
    return typeof name === 'string' && typeof value === 'string' ? { name, value } : undefined;
  };

  /** DescribeConnection's view: names and endpoints, never a secret. */
  const publicAuthParameters = (auth: Input): Input => {
    const out: Input = {};
    const pick = (from: unknown, keys: string[]): Input | undefined => {
      if (!isRecord(from)) return undefined;
      return Object.fromEntries(keys.filter((k) => from[k] !== undefined).map((k) => [k, from[k]]));
    };
    if (isRecord(auth.ApiKeyAuthParameters))
      out.ApiKeyAuthParameters = pick(auth.ApiKeyAuthParameters, ['ApiKeyName']);
    if (isRecord(auth.BasicAuthParameters))
      out.BasicAuthParameters = pick(auth.BasicAuthParameters, ['Username']);
    if (isRecord(auth.OAuthParameters)) {
      const oauth = auth.OAuthParameters;
      out.OAuthParameters = {
        ...pick(oauth, ['AuthorizationEndpoint', 'HttpMethod', 'OAuthHttpParameters']),
        ClientParameters: pick(oauth.ClientParameters, ['ClientID']),
      };
    }
    if (isRecord(auth.InvocationHttpParameters)) {
      const hide = (list: unknown) =>
        Array.isArray(list)
          ? list.map((p: unknown) =>
              isRecord(p) && p.IsValueSecret === true ? { ...p, Value: undefined } : p,
            )
          : undefined;
      const http = auth.InvocationHttpParameters;
      out.InvocationHttpParameters = {
        HeaderParameters: hide(http.HeaderParameters),
        QueryStringParameters: hide(http.QueryStringParameters),
        BodyParameters: hide(http.BodyParameters),
      };
    }
    return out;
  };

  const connectionTimes = (c: FakeConnection): Input => ({
    ConnectionArn: c.arn,
    ConnectionState: c.state,
    CreationTime: c.creationTime,
    LastModifiedTime: c.lastModifiedTime,
    LastAuthorizedTime: c.lastAuthorizedTime,
  });

  const destinationSummary = (d: FakeApiDestination): Input => ({
    ApiDestinationArn: d.arn,
    Name: d.name,
    ApiDestinationState: d.state,
    ConnectionArn: d.connectionArn,
    InvocationEndpoint: d.invocationEndpoint,
    HttpMethod: d.httpMethod,
    InvocationRateLimitPerSecond: d.invocationRateLimitPerSecond,
    CreationTime: d.creationTime,
    LastModifiedTime: d.lastModifiedTime,
  });

  const connectionByArn = (ctx: Context, connectionArn: string): FakeConnection => {
    const connection = [...ctx.state.connections.values()].find((c) => c.arn === connectionArn);
    if (connection === undefined)
      throw notFound(`Connection '${connectionArn.split('/')[1] ?? connectionArn}' does not exist.`);
    return connection;
  };

  const checkEndpoint = (endpoint: string | undefined): void => {
    if (endpoint !== undefined && !/^https:\/\//i.test(endpoint))
      throw validation(`Invalid InvocationEndpoint ${endpoint}: the endpoint must use HTTPS.`);
  };

  /** The tag store an ARN names; connections and API destinations have none in EventBridge. */
  const taggable = (ctx: Context, resourceArn: string): Tags => {
    const m =
      /^arn:aws[\w-]*:events:([a-z0-9-]+):(\d{12}):(rule|event-bus|connection|api-destination)\/(.+)$/.exec(
        resourceArn,
      );
    if (m === null) throw validation('Parameter ResourceARN is not valid.');
    const [, region, account, kind = '', rest = ''] = m;
    if (kind === 'connection' || kind === 'api-destination')
      throw validation(`Resource type ${kind} does not support tags.`);
    if (region !== ctx.region || account !== ctx.account)
      throw notFound(`Resource ${resourceArn} does not exist.`);
    if (kind === 'event-bus') {
      if (rest !== DEFAULT_BUS) throw notFound(`Event bus ${rest} does not exist.`);
      return ctx.state.busTags;
    }
    const [bus, name] = rest.includes('/') ? (rest.split('/', 2) as [string, string]) : [DEFAULT_BUS, rest];
    if (bus !== DEFAULT_BUS) throw notFound(`Event bus ${bus} does not exist.`);
    return findRule(ctx, name, bus).tags;
  };

  type Operation = { mutating: boolean; run(ctx: Context): Input };

  const operations: Record<string, Operation> = {
    PutRule: {
      mutating: true,
      run(ctx) {
        const checks = new Checks();
        const { input } = ctx;
        const name = checks.string(input, 'Name', 'name', REQUIRED_NAME);
        const patternText = checks.string(input, 'EventPattern', 'eventPattern', {
          max: MAX_EVENT_PATTERN_CHARS,
        });
        const schedule = checks.string(input, 'ScheduleExpression', 'scheduleExpression', { max: 256 });
        const state = checks.string(input, 'State', 'state', { values: RULE_STATES });
        const description = checks.string(input, 'Description', 'description', { max: 512 });
        const roleArn = checks.string(input, 'RoleArn', 'roleArn', { min: 1, max: 1600 });
        const tags = tagList(checks, input, 'Tags', 'tags');
        const bus = busOf(ctx, checks);
        if (name === undefined) throw validation('Name is required');
        if (patternText === undefined && schedule === undefined)
          throw validation('Parameter(s) EventPattern or ScheduleExpression must be specified.');
        if (schedule !== undefined && !/^(rate|cron)\(.+\)$/.test(schedule))
          throw validation('Parameter ScheduleExpression is not valid.');
        const pattern = patternText === undefined ? undefined : parsePattern(patternText);

        const existing = ctx.state.rules.get(name);
        if (existing === undefined && ctx.state.rules.size >= MAX_RULES_PER_BUS)
          throw new FakeAwsError(400, 'LimitExceededException', LIMIT_MESSAGE);
        // An update replaces the rule: what it omits is unset. Tags apply only when it is created.
        const rule: FakeRule = {
          name,
          arn: arn(ctx, `rule/${name}`),
          eventBusName: bus,
          eventPatternText: patternText,
          eventPattern: pattern,
          scheduleExpression: schedule,
          state: state ?? 'ENABLED',
          description,
          roleArn,
          tags: existing?.tags ?? { ...tags },
          targets: existing?.targets ?? [],
        };
        ctx.state.rules.set(name, rule);
        return { RuleArn: rule.arn };
      },
    },

    DescribeRule: {
      mutating: false,
      run(ctx) {
        const checks = new Checks();
        const name = checks.string(ctx.input, 'Name', 'name', REQUIRED_NAME);
        const bus = busOf(ctx, checks);
        return { ...describeRule(findRule(ctx, name ?? '', bus)), CreatedBy: ctx.account };
      },
    },

    ListRules: {
      mutating: false,
      run(ctx) {
        const checks = new Checks();
        const prefix = checks.string(ctx.input, 'NamePrefix', 'namePrefix', NAME_RULE);
        busOf(ctx, checks);
        const rules = [...ctx.state.rules.values()]
          .filter((r) => prefix === undefined || r.name.startsWith(prefix))
          .sort((a, b) => (a.name < b.name ? -1 : 1));
        const { page: rulesPage, next } = page(rules, ctx.input, checks);
        return { Rules: rulesPage.map(describeRule), NextToken: next };
      },
    },

    ListTargetsByRule: {
      mutating: false,
      run(ctx) {
        const checks = new Checks();
        const name = checks.string(ctx.input, 'Rule', 'rule', REQUIRED_NAME);
        const bus = busOf(ctx, checks);
        const rule = findRule(ctx, name ?? '', bus);
        const { page: targets, next } = page(rule.targets, ctx.input, checks);
        return { Targets: targets, NextToken: next };
      },
    },

    PutTargets: {
      mutating: true,
      run(ctx) {
        const checks = new Checks();
        const name = checks.string(ctx.input, 'Rule', 'rule', REQUIRED_NAME);
        const list = checks.list(ctx.input, 'Targets', 'targets', {
          required: true,
          min: 1,
          max: MAX_TARGETS_PER_REQUEST,
        });
        const targets: FakeRuleTarget[] = [];
        (list ?? []).forEach((item, i) => {
          if (!isRecord(item)) throw serializationError('Targets');
          const member = (field: string) => `targets.${i + 1}.member.${field}`;
          const id = checks.string(item, 'Id', member('id'), REQUIRED_NAME);
          const targetArn = checks.string(item, 'Arn', member('arn'), { required: true, min: 1, max: 1600 });
          checks.string(item, 'RoleArn', member('roleArn'), { min: 1, max: 1600 });
          checks.string(item, 'Input', member('input'), { max: 8192 });
          checks.string(item, 'InputPath', member('inputPath'), { max: 256 });
          checks.record(item, 'InputTransformer', member('inputTransformer'));
          checks.record(item, 'HttpParameters', member('httpParameters'));
          if (id !== undefined && targetArn !== undefined) targets.push({ ...item, Id: id, Arn: targetArn });
        });
        const bus = busOf(ctx, checks);
        const rule = findRule(ctx, name ?? '', bus);

        for (const target of targets) {
          const inputs = ['Input', 'InputPath', 'InputTransformer'].filter((k) => present(target[k]));
          if (inputs.length > 1)
            throw validation(
              `Only one of Input, InputPath, or InputTransformer can be specified for target ${target.Id}.`,
            );
          if (typeof target.Input === 'string') {
            try {
              JSON.parse(target.Input);
            } catch {
              throw validation(`Input for target ${target.Id} is not valid JSON text.`);
            }
          }
          // EventBridge needs a role to call an API destination (events:InvokeApiDestination).
          if (
            /^arn:aws[\w-]*:events:[^:]*:\d{12}:api-destination\//.test(target.Arn) &&
            !present(target.RoleArn)
          )
            throw validation(`RoleArn is required for target ${target.Arn}.`);
        }
        const ids = new Set([...rule.targets.map((t) => t.Id), ...targets.map((t) => t.Id)]);
        if (ids.size > MAX_TARGETS_PER_RULE)
          throw new FakeAwsError(400, 'LimitExceededException', LIMIT_MESSAGE);

        for (const target of targets) {
          const at = rule.targets.findIndex((t) => t.Id === target.Id);
          if (at >= 0) rule.targets[at] = target;
          else rule.targets.push(target);
        }
        return { FailedEntryCount: 0, FailedEntries: [] };
      },
    },

    RemoveTargets: {
      mutating: true,
      run(ctx) {
        const checks = new Checks();
        const name = checks.string(ctx.input, 'Rule', 'rule', REQUIRED_NAME);
        const list = checks.list(ctx.input, 'Ids', 'ids', {
          required: true,
          min: 1,
          max: MAX_TARGETS_PER_REQUEST,
        });
        const ids = (list ?? []).map((id, i) => {
          if (typeof id !== 'string') throw serializationError('Ids');
          checks.string({ id }, 'id', `ids.${i + 1}.member`, NAME_RULE);
          return id;
        });
        checks.boolean(ctx.input, 'Force');
        const bus = busOf(ctx, checks);
        const rule = findRule(ctx, name ?? '', bus);
        rule.targets = rule.targets.filter((t) => !ids.includes(t.Id));
        return { FailedEntryCount: 0, FailedEntries: [] };
      },
    },

    DeleteRule: {
      mutating: true,
      run(ctx) {
        const checks = new Checks();
        const name = checks.string(ctx.input, 'Name', 'name', REQUIRED_NAME);
        checks.boolean(ctx.input, 'Force');
        busOf(ctx, checks);
        const rule = ctx.state.rules.get(name ?? '');
        // Deleting a rule that is not there succeeds, so a teardown can be repeated.
        if (rule === undefined) return {};
        if (rule.targets.length > 0) throw validation("Rule can't be deleted since it has targets.");
        ctx.state.rules.delete(rule.name);
        return {};
      },
    },

    TestEventPattern: {
      mutating: false,
      run(ctx) {
        const checks = new Checks();
        const patternText = checks.string(ctx.input, 'EventPattern', 'eventPattern', {
          required: true,
          max: MAX_EVENT_PATTERN_CHARS,
        });
        const eventText = checks.string(ctx.input, 'Event', 'event', { required: true });
        checks.throwIfAny();
        const pattern = parsePattern(patternText ?? '');
        let event: unknown;
        try {
          event = JSON.parse(eventText ?? '');
        } catch {
          throw validation('Parameter Event is not valid.');
        }
        if (!isRecord(event) || !EVENT_ENVELOPE.every((field) => Object.hasOwn(event, field)))
          throw validation('Parameter Event is not valid.');
        if (typeof event.time !== 'string' || Number.isNaN(Date.parse(event.time)))
          throw validation('Parameter Event is not valid.');
        return { Result: matchesEventPattern(pattern, event) };
      },
    },

    TagResource: {
      mutating: true,
      run(ctx) {
        const checks = new Checks();
        const resource = checks.string(ctx.input, 'ResourceARN', 'resourceARN', {
          required: true,
          min: 1,
          max: 1600,
        });
        const tags = tagList(checks, ctx.input, 'Tags', 'tags');
        if (tags === undefined) checks.list(ctx.input, 'Tags', 'tags', { required: true });
        checks.throwIfAny();
        Object.assign(taggable(ctx, resource ?? ''), tags);
        return {};
      },
    },

    UntagResource: {
      mutating: true,
      run(ctx) {
        const checks = new Checks();
        const resource = checks.string(ctx.input, 'ResourceARN', 'resourceARN', {
          required: true,
          min: 1,
          max: 1600,
        });
        const keys = checks.list(ctx.input, 'TagKeys', 'tagKeys', { required: true });
        checks.throwIfAny();
        const tags = taggable(ctx, resource ?? '');
        for (const key of keys ?? []) if (typeof key === 'string') delete tags[key];
        return {};
      },
    },

    ListTagsForResource: {
      mutating: false,
      run(ctx) {
        const checks = new Checks();
        const resource = checks.string(ctx.input, 'ResourceARN', 'resourceARN', {
          required: true,
          min: 1,
          max: 1600,
        });
        checks.throwIfAny();
        const tags = taggable(ctx, resource ?? '');
        return { Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) };
      },
    },

    CreateConnection: {
      mutating: true,
      run(ctx) {
        const checks = new Checks();
        const { input } = ctx;
        const name = checks.string(input, 'Name', 'name', REQUIRED_NAME);
        const description = checks.string(input, 'Description', 'description', { max: 512 });
        const type = checks.string(input, 'AuthorizationType', 'authorizationType', {
          required: true,
          values: AUTH_TYPES,
        });
        const auth = checks.record(input, 'AuthParameters', 'authParameters', true);
        checks.throwIfAny();
        if (name === undefined || type === undefined || auth === undefined)
          throw validation('Missing parameters');
        checkAuthParameters(checks, type, auth, true);
        if (ctx.state.connections.has(name))
          throw new FakeAwsError(400, 'ResourceAlreadyExistsException', `Connection ${name} already exists.`);

        const at = now();
        // OAuth connections authorize against the endpoint first; key and basic ones are usable at once.
        const state = type === 'OAUTH_CLIENT_CREDENTIALS' ? 'AUTHORIZING' : 'AUTHORIZED';
        const suffix = crypto.randomBytes(3).toString('hex');
        const connection: FakeConnection = {
          name,
          arn: arn(ctx, `connection/${name}/${world.newId()}`),
          description,
          authorizationType: type,
          authParameters: structuredClone(auth),
          apiKey: apiKeyOf(type, auth),
          state,
          secretArn: `arn:aws:secretsmanager:${ctx.region}:${ctx.account}:secret:events!connection/${name}/${world.newId()}-${suffix}`,
          creationTime: at,
          lastModifiedTime: at,
          lastAuthorizedTime: at,
        };
        ctx.state.connections.set(name, connection);
        return {
          ConnectionArn: connection.arn,
          ConnectionState: connection.state,
          CreationTime: at,
          LastModifiedTime: at,
        };
      },
    },

    DescribeConnection: {
      mutating: false,
      run(ctx) {
        const checks = new Checks();
        const name = checks.string(ctx.input, 'Name', 'name', REQUIRED_NAME);
        checks.throwIfAny();
        const c = connectionNamed(ctx, name ?? '', 'describe');
        return {
          ...connectionTimes(c),
          Name: c.name,
          Description: c.description,
          AuthorizationType: c.authorizationType,
          SecretArn: c.secretArn,
          AuthParameters: publicAuthParameters(c.authParameters),
        };
      },
    },

    UpdateConnection: {
      mutating: true,
      run(ctx) {
        const checks = new Checks();
        const { input } = ctx;
        const name = checks.string(input, 'Name', 'name', REQUIRED_NAME);
        const description = checks.string(input, 'Description', 'description', { max: 512 });
        const type = checks.string(input, 'AuthorizationType', 'authorizationType', { values: AUTH_TYPES });
        const auth = checks.record(input, 'AuthParameters', 'authParameters');
        checks.throwIfAny();
        const c = connectionNamed(ctx, name ?? '', 'update');
        const newType = type ?? c.authorizationType;
        const changesType = newType !== c.authorizationType;
        checkAuthParameters(checks, newType, auth ?? (changesType ? {} : undefined), changesType);
        let merged = c.authParameters;
        if (auth !== undefined) {
          // Members given replace their fields; a changed type drops the old type's member.
          merged = changesType
            ? Object.fromEntries(
                Object.entries(merged).filter(([k]) => !Object.values(AUTH_MEMBER).includes(k)),
              )
            : { ...merged };
          for (const [k, v] of Object.entries(auth))
            merged[k] = isRecord(v) && isRecord(merged[k]) ? { ...merged[k], ...v } : structuredClone(v);
        }
        c.authParameters = merged;
        c.authorizationType = newType;
        c.apiKey = apiKeyOf(newType, merged);
        if (description !== undefined) c.description = description;
        c.lastModifiedTime = now();
        return connectionTimes(c);
      },
    },

    DeleteConnection: {
      mutating: true,
      run(ctx) {
        const checks = new Checks();
        const name = checks.string(ctx.input, 'Name', 'name', REQUIRED_NAME);
        checks.throwIfAny();
        const c = connectionNamed(ctx, name ?? '', 'delete');
        // Unconfirmed against AWS (its DeleteConnection documents no such error): refusing is the
        // stricter choice, so a teardown that works here deletes API destinations first anyway.
        const users = [...ctx.state.destinations.values()].filter((d) => d.connectionArn === c.arn);
        if (users.length > 0)
          throw validation(
            `Connection ${c.name} is used by API destination(s) ${users.map((d) => d.name).join(', ')} and can't be deleted.`,
          );
        ctx.state.connections.delete(c.name);
        return { ...connectionTimes(c), ConnectionState: 'DELETING' };
      },
    },

    ListConnections: {
      mutating: false,
      run(ctx) {
        const checks = new Checks();
        const prefix = checks.string(ctx.input, 'NamePrefix', 'namePrefix', NAME_RULE);
        const state = checks.string(ctx.input, 'ConnectionState', 'connectionState');
        const connections = [...ctx.state.connections.values()]
          .filter(
            (c) =>
              (prefix === undefined || c.name.startsWith(prefix)) &&
              (state === undefined || c.state === state),
          )
          .sort((a, b) => (a.name < b.name ? -1 : 1));
        const { page: connectionsPage, next } = page(connections, ctx.input, checks);
        return {
          Connections: connectionsPage.map((c) => ({
            ...connectionTimes(c),
            Name: c.name,
            AuthorizationType: c.authorizationType,
          })),
          NextToken: next,
        };
      },
    },

    CreateApiDestination: {
      mutating: true,
      run(ctx) {
        const checks = new Checks();
        const { input } = ctx;
        const name = checks.string(input, 'Name', 'name', REQUIRED_NAME);
        const description = checks.string(input, 'Description', 'description', { max: 512 });
        const connectionArn = checks.string(input, 'ConnectionArn', 'connectionArn', {
          required: true,
          min: 1,
          max: 1600,
          pattern: CONNECTION_ARN,
        });
        const endpoint = checks.string(input, 'InvocationEndpoint', 'invocationEndpoint', {
          required: true,
          min: 1,
          max: 2048,
          pattern: HTTPS_ENDPOINT,
        });
        const method = checks.string(input, 'HttpMethod', 'httpMethod', {
          required: true,
          values: HTTP_METHODS,
        });
        const rate = checks.integer(
          input,
          'InvocationRateLimitPerSecond',
          'invocationRateLimitPerSecond',
          1,
          300,
        );
        checks.throwIfAny();
        if (
          name === undefined ||
          connectionArn === undefined ||
          endpoint === undefined ||
          method === undefined
        )
          throw validation('Missing parameters');
        checkEndpoint(endpoint);
        const connection = connectionByArn(ctx, connectionArn);
        if (ctx.state.destinations.has(name))
          throw new FakeAwsError(
            400,
            'ResourceAlreadyExistsException',
            `An api-destination '${name}' already exists.`,
          );
        const at = now();
        const destination: FakeApiDestination = {
          name,
          arn: arn(ctx, `api-destination/${name}/${world.newId()}`),
          description,
          connectionArn,
          invocationEndpoint: endpoint,
          httpMethod: method,
          invocationRateLimitPerSecond: rate ?? 300,
          state: connection.state === 'AUTHORIZED' ? 'ACTIVE' : 'INACTIVE',
          creationTime: at,
          lastModifiedTime: at,
        };
        ctx.state.destinations.set(name, destination);
        return {
          ApiDestinationArn: destination.arn,
          ApiDestinationState: destination.state,
          CreationTime: at,
          LastModifiedTime: at,
        };
      },
    },

    DescribeApiDestination: {
      mutating: false,
      run(ctx) {
        const checks = new Checks();
        const name = checks.string(ctx.input, 'Name', 'name', REQUIRED_NAME);
        checks.throwIfAny();
        const d = destinationNamed(ctx, name ?? '', 'describe');
        return { ...destinationSummary(d), Description: d.description };
      },
    },

    UpdateApiDestination: {
      mutating: true,
      run(ctx) {
        const checks = new Checks();
        const { input } = ctx;
        const name = checks.string(input, 'Name', 'name', REQUIRED_NAME);
        const description = checks.string(input, 'Description', 'description', { max: 512 });
        const connectionArn = checks.string(input, 'ConnectionArn', 'connectionArn', {
          min: 1,
          max: 1600,
          pattern: CONNECTION_ARN,
        });
        const endpoint = checks.string(input, 'InvocationEndpoint', 'invocationEndpoint', {
          min: 1,
          max: 2048,
          pattern: HTTPS_ENDPOINT,
        });
        const method = checks.string(input, 'HttpMethod', 'httpMethod', { values: HTTP_METHODS });
        const rate = checks.integer(
          input,
          'InvocationRateLimitPerSecond',
          'invocationRateLimitPerSecond',
          1,
          300,
        );
        checks.throwIfAny();
        const d = destinationNamed(ctx, name ?? '', 'update');
        checkEndpoint(endpoint);
        if (connectionArn !== undefined) {
          const connection = connectionByArn(ctx, connectionArn);
          d.connectionArn = connectionArn;
          d.state = connection.state === 'AUTHORIZED' ? 'ACTIVE' : 'INACTIVE';
        }
        if (description !== undefined) d.description = description;
        if (endpoint !== undefined) d.invocationEndpoint = endpoint;
        if (method !== undefined) d.httpMethod = method;
        if (rate !== undefined) d.invocationRateLimitPerSecond = rate;
        d.lastModifiedTime = now();
        return {
          ApiDestinationArn: d.arn,
          ApiDestinationState: d.state,
          CreationTime: d.creationTime,
          LastModifiedTime: d.lastModifiedTime,
        };
      },
    },

    DeleteApiDestination: {
      mutating: true,
      run(ctx) {
        const checks = new Checks();
        const name = checks.string(ctx.input, 'Name', 'name', REQUIRED_NAME);
        checks.throwIfAny();
        const d = destinationNamed(ctx, name ?? '', 'delete');
        ctx.state.destinations.delete(d.name);
        return {};
      },
    },

    ListApiDestinations: {
      mutating: false,
      run(ctx) {
        const checks = new Checks();
        const prefix = checks.string(ctx.input, 'NamePrefix', 'namePrefix', NAME_RULE);
        const connectionArn = checks.string(ctx.input, 'ConnectionArn', 'connectionArn', {
          min: 1,
          max: 1600,
          pattern: CONNECTION_ARN,
        });
        const destinations = [...ctx.state.destinations.values()]
          .filter(
            (d) =>
              (prefix === undefined || d.name.startsWith(prefix)) &&
              (connectionArn === undefined || d.connectionArn === connectionArn),
          )
          .sort((a, b) => (a.name < b.name ? -1 : 1));
        const { page: destinationsPage, next } = page(destinations, ctx.input, checks);
        return { ApiDestinations: destinationsPage.map(destinationSummary), NextToken: next };
      },
    },
  };

  const operationOf = (name: string): Operation | undefined =>
    Object.hasOwn(operations, name) ? operations[name] : undefined;

  const inputCache = new WeakMap<FakeRequest, Input>();
  const inputOf = (request: FakeRequest): Input => {
    const cached = inputCache.get(request);
    if (cached !== undefined) return cached;
    const text = request.body.toString('utf8');
    let input: unknown = {};
    if (text.trim() !== '') {
      try {
        input = JSON.parse(text);
      } catch {
        throw new FakeAwsError(400, 'SerializationException', 'The request body is not valid JSON.');
      }
    }
    if (!isRecord(input))
      throw new FakeAwsError(400, 'SerializationException', 'The request body is not an object.');
    inputCache.set(request, input);
    return input;
  };

  const respond = (status: number, body: Input, extra: Record<string, string> = {}): FakeResponse => ({
    status,
    headers: { 'content-type': JSON_11, 'x-amzn-requestid': world.newId(), ...extra },
    body: JSON.stringify(body),
  });

  const copyRule = (rule: FakeRule): FakeRule => structuredClone(rule);

  return {
    actionOf(request) {
      const target = request.headers['x-amz-target'];
      if (request.method !== 'POST' || typeof target !== 'string' || !target.startsWith(TARGET_PREFIX))
        return undefined;
      const action = target.slice(TARGET_PREFIX.length);
      return operationOf(action) ? action : undefined;
    },
    isMutating: (action) => operationOf(action)?.mutating ?? false,
    error: (status, code, message) =>
      respond(status, { __type: code, message }, { 'x-amzn-errortype': code }),
    handle(request, action) {
      const operation = operationOf(action);
      if (operation === undefined)
        throw new FakeAwsError(400, 'UnknownOperationException', `Operation ${action} is not supported.`);
      const account = request.caller.account;
      const ctx: Context = {
        input: inputOf(request),
        account,
        region: request.region,
        state: stateOf(account, request.region),
      };
      return respond(200, operation.run(ctx));
    },
    inputOf(request) {
      try {
        return inputOf(request);
      } catch {
        return request.body.toString('utf8');
      }
    },
    rules: (account, region) => [...stateOf(account, region).rules.values()].map(copyRule),
    connections: (account, region) =>
      [...stateOf(account, region).connections.values()].map((c) => structuredClone(c)),
    apiDestinations: (account, region) =>
      [...stateOf(account, region).destinations.values()].map((d) => structuredClone(d)),
  };
}
