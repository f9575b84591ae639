import { FakeAwsError, type FakeRequest, type FakeResponse, type FakeService } from './types.js';
import type { FakeAwsWorld } from './world.js';

/**
 * AWS Security Hub's custom-action API (REST-JSON), plus DescribeHub, for `vigil aws setup`, and an
 * empty GetFindings and BatchUpdateFindings(V2) for the write-back test Vigil makes with the role it
 * assumed (this fake holds no findings: every one named comes back unprocessed, so nothing changes;
 * `deny('securityhub:BatchUpdateFindingsV2', roleArn)` makes a role that lacks the action).
 * Security Hub answers errors with `x-amzn-errortype` and a `{"Code", "Message"}` body; the SDK takes
 * the header first, so each refusal surfaces as its named exception. In an account and region where
 * Security Hub is not enabled every operation is refused, as AWS refuses it.
 */

/** Custom actions per account and Region (a hard quota). */
export const MAX_ACTION_TARGETS = 50;
const MAX_NAME = 20;
const MAX_ID = 20;

const ACTION_TARGETS = '/actionTargets';

export interface FakeActionTarget {
  ActionTargetArn: string;
  Name: string;
  Description: string;
}

export interface FakeSecurityHubService extends FakeService {
  /** The custom actions of an account and Region, in creation order. */
  actionTargets(account: string, region: string): FakeActionTarget[];
  /** Custom actions that exist before the test starts (to reach the quota, or to find one already there). */
  preloadActionTargets(
    account: string,
    region: string,
    targets: readonly { id: string; name: string; description: string }[],
  ): void;
}

type Input = Record<string, unknown>;

function isRecord(value: unknown): value is Input {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalidInput(message: string): FakeAwsError {
  return new FakeAwsError(400, 'InvalidInputException', message);
}

function actionArn(account: string, region: string, id: string): string {
  return `arn:aws:securityhub:${region}:${account}:action/custom/${id}`;
}

/** A required string member with some non-blank character (`.*\S.*`) of at most `max` characters. */
function requiredText(input: Input, key: string, max: number | undefined): string {
  const value = input[key];
  if (value === undefined || value === null)
    throw invalidInput(`Invalid parameter '${key}'. ${key} is required.`);
  if (typeof value !== 'string' || !/\S/.test(value))
    throw invalidInput(`Invalid parameter '${key}'. ${key} must contain a non-whitespace character.`);
  if (max !== undefined && [...value].length > max)
    throw invalidInput(`Invalid parameter '${key}'. ${key} must be at most ${max} characters long.`);
  return value;
}

function optionalText(input: Input, key: string, max: number | undefined): string | undefined {
  return input[key] === undefined || input[key] === null ? undefined : requiredText(input, key, max);
}

export function createSecurityHubService(world: FakeAwsWorld): FakeSecurityHubService {
  const targets = new Map<string, Map<string, FakeActionTarget>>();
  const subscribedAt = new Map<string, string>();
  const targetsOf = (account: string, region: string): Map<string, FakeActionTarget> => {
    const key = `${account}:${region}`;
    let found = targets.get(key);
    if (found === undefined) {
      found = new Map();
      targets.set(key, found);
    }
    return found;
  };

  /** The ARN in the path (`{ActionTargetArn+}`: its `/`s are literal, the rest percent-encoded). */
  const arnInPath = (path: string): string | undefined => {
    if (!path.startsWith(`${ACTION_TARGETS}/`) || path === `${ACTION_TARGETS}/get`) return undefined;
    try {
      return path
        .slice(ACTION_TARGETS.length + 1)
        .split('/')
        .map(decodeURIComponent)
        .join('/');
    } catch {
      return undefined;
    }
  };

  const routes: {
    action: string;
    method: string;
    matches: (path: string) => boolean;
    mutating: boolean;
  }[] = [
    { action: 'CreateActionTarget', method: 'POST', matches: (p) => p === ACTION_TARGETS, mutating: true },
    {
      action: 'DescribeActionTargets',
      method: 'POST',
      matches: (p) => p === `${ACTION_TARGETS}/get`,
      mutating: false,
    },
    {
      action: 'UpdateActionTarget',
      method: 'PATCH',
      matches: (p) => arnInPath(p) !== undefined,
      mutating: true,
    },
    {
      action: 'DeleteActionTarget',
      method: 'DELETE',
      matches: (p) => arnInPath(p) !== undefined,
      mutating: true,
    },
    { action: 'DescribeHub', method: 'GET', matches: (p) => p === '/accounts', mutating: false },
    // What Vigil's write-back test calls with the role it assumed.
    { action: 'GetFindings', method: 'POST', matches: (p) => p === '/findings', mutating: false },
    // Not mutating here: with no findings held, every finding named comes back unprocessed.
    {
      action: 'BatchUpdateFindings',
      method: 'PATCH',
      matches: (p) => p === '/findings/batchupdate',
      mutating: false,
    },
    {
      action: 'BatchUpdateFindingsV2',
      method: 'PATCH',
      matches: (p) => p === '/findingsv2/batchupdatev2',
      mutating: false,
    },
  ];

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
        throw invalidInput('The request body is not valid JSON.');
      }
    }
    if (!isRecord(input)) throw invalidInput('The request body must be a JSON object.');
    inputCache.set(request, input);
    return input;
  };

  const respond = (status: number, body: unknown, errorType?: string): FakeResponse => {
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-amzn-requestid': world.newId(),
    };
    if (errorType !== undefined) headers['x-amzn-errortype'] = errorType;
    return { status, headers, body: JSON.stringify(body) };
  };

  const notFound = (arn: string): FakeAwsError =>
    new FakeAwsError(404, 'ResourceNotFoundException', `ActionTarget ${arn} not found.`);

  const handlers: Record<string, (request: FakeRequest, account: string, region: string) => unknown> = {
    CreateActionTarget(request, account, region) {
      const input = inputOf(request);
      const name = requiredText(input, 'Name', MAX_NAME);
      const description = requiredText(input, 'Description', undefined);
      const id = requiredText(input, 'Id', MAX_ID);
      if (!/^[A-Za-z0-9]+$/.test(id))
        throw invalidInput(`Invalid parameter 'Id'. Id must contain only alphanumeric characters.`);
      const existing = targetsOf(account, region);
      if (existing.has(id))
        throw new FakeAwsError(409, 'ResourceConflictException', `Action with Id: ${id} already exists`);
      if (existing.size >= MAX_ACTION_TARGETS)
        throw new FakeAwsError(
          429,
          'LimitExceededException',
          `The number of custom actions in this account and Region has reached the limit of ${MAX_ACTION_TARGETS}.`,
        );
      const target = {
        ActionTargetArn: actionArn(account, region, id),
        Name: name,
        Description: description,
      };
      existing.set(id, target);
      return { ActionTargetArn: target.ActionTargetArn };
    },

    DescribeActionTargets(request, account, region) {
      const input = inputOf(request);
      const { ActionTargetArns: arns, NextToken: token, MaxResults: max } = input;
      if (arns !== undefined && (!Array.isArray(arns) || !arns.every((a) => typeof a === 'string')))
        throw invalidInput("Invalid parameter 'ActionTargetArns'.");
      if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 100))
        throw invalidInput("Invalid parameter 'MaxResults'. MaxResults must be between 1 and 100.");
      let start = 0;
      if (token !== undefined) {
        const m =
          typeof token === 'string'
            ? /^fake-next:(\d+)$/.exec(Buffer.from(token, 'base64url').toString())
            : null;
        if (m === null) throw invalidInput("Invalid parameter 'NextToken'.");
        start = Number(m[1]);
      }
      const all = [...targetsOf(account, region).values()];
      let chosen = all;
      if (Array.isArray(arns) && arns.length > 0) {
        const missing = arns.filter((arn) => !all.some((t) => t.ActionTargetArn === arn));
        if (missing.length > 0) throw notFound(String(missing[0]));
        chosen = all.filter((t) => arns.includes(t.ActionTargetArn));
      }
      const size = typeof max === 'number' ? max : 100;
      const pageOf = chosen.slice(start, start + size);
      const end = start + pageOf.length;
      return {
        ActionTargets: pageOf,
        NextToken: end < chosen.length ? Buffer.from(`fake-next:${end}`).toString('base64url') : undefined,
      };
    },

    UpdateActionTarget(request, account, region) {
      const arn = arnInPath(request.path) ?? '';
      const input = inputOf(request);
      const name = optionalText(input, 'Name', MAX_NAME);
      const description = optionalText(input, 'Description', undefined);
      const target = [...targetsOf(account, region).values()].find((t) => t.ActionTargetArn === arn);
      if (target === undefined) throw notFound(arn);
      if (name !== undefined) target.Name = name;
      if (description !== undefined) target.Description = description;
      return {};
    },

    DeleteActionTarget(request, account, region) {
      const arn = arnInPath(request.path) ?? '';
      const mine = targetsOf(account, region);
      const id = [...mine.entries()].find(([, t]) => t.ActionTargetArn === arn)?.[0];
      if (id === undefined) throw notFound(arn);
      mine.delete(id);
      return { ActionTargetArn: arn };
    },

    GetFindings(request) {
      const input = inputOf(request);
      const max = input.MaxResults;
      if (max !== undefined && (typeof max !== 'number' || !Number.isInteger(max) || max < 1 || max > 100))
        throw invalidInput("Invalid parameter 'MaxResults'. MaxResults must be between 1 and 100.");
      return { Findings: [] };
    },

    BatchUpdateFindings(request) {
      const ids = inputOf(request).FindingIdentifiers;
      if (!Array.isArray(ids) || ids.length < 1 || ids.length > 100)
        throw invalidInput("Invalid parameter 'FindingIdentifiers'. Array size must be between 1 and 100.");
      return {
        ProcessedFindings: [],
        UnprocessedFindings: ids.map((id) => ({
          FindingIdentifier: id,
          ErrorCode: 'FindingNotFound',
          ErrorMessage: 'Finding Not Found',
        })),
      };
    },

    BatchUpdateFindingsV2(request) {
      const input = inputOf(request);
      const named: unknown[] = Array.isArray(input.FindingIdentifiers)
        ? input.FindingIdentifiers.map((id) => ({ FindingIdentifier: id }))
        : Array.isArray(input.MetadataUids)
          ? input.MetadataUids.map((uid) => ({ MetadataUid: uid }))
          : [];
      if (named.length < 1 || named.length > 100)
        throw new FakeAwsError(
          400,
          'ValidationException',
          'One of MetadataUids or FindingIdentifiers (1 to 100) must be provided.',
        );
      return {
        ProcessedFindings: [],
        UnprocessedFindings: named.map((n) => ({
          ...(n as Input),
          ErrorCode: 'ResourceNotFoundException',
          ErrorMessage: 'Finding not found',
        })),
      };
    },

    DescribeHub(request, account, region) {
      const hubArn = `arn:aws:securityhub:${region}:${account}:hub/default`;
      const asked = request.query.get('HubArn');
      if (asked !== null && asked !== hubArn)
        throw new FakeAwsError(404, 'ResourceNotFoundException', `Hub ${asked} not found.`);
      return {
        HubArn: hubArn,
        SubscribedAt: subscribedAt.get(`${account}:${region}`),
        AutoEnableControls: true,
        ControlFindingGenerator: 'SECURITY_CONTROL',
      };
    },
  };

  const routeOf = (request: FakeRequest) =>
    routes.find((r) => r.method === request.method && r.matches(request.path));

  return {
    actionOf: (request) => routeOf(request)?.action,
    isMutating: (action) => routes.find((r) => r.action === action)?.mutating ?? false,
    error: (status, code, message) => respond(status, { Code: code, Message: message }, code),
    handle(request, action) {
      const handler = Object.hasOwn(handlers, action) ? handlers[action] : undefined;
      if (handler === undefined) throw new FakeAwsError(404, 'ResourceNotFoundException', 'Not Found');
      const { account } = request.caller;
      const key = `${account}:${request.region}`;
      if (!world.securityHubEnabled.has(key))
        throw new FakeAwsError(
          401,
          'InvalidAccessException',
          `Account ${account} is not subscribed to AWS Security Hub`,
        );
      if (!subscribedAt.has(key)) subscribedAt.set(key, new Date().toISOString());
      return respond(200, handler(request, account, request.region));
    },
    inputOf(request) {
      try {
        return inputOf(request);
      } catch {
        return request.body.toString('utf8');
      }
    },
    actionTargets: (account, region) => [...targetsOf(account, region).values()].map((t) => ({ ...t })),
    preloadActionTargets(account, region, preload) {
      const mine = targetsOf(account, region);
      for (const { id, name, description } of preload)
        mine.set(id, {
          ActionTargetArn: actionArn(account, region, id),
          Name: name,
          Description: description,
        });
    },
  };
}
