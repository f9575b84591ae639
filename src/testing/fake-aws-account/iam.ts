import {
  createQueryService,
  paginate,
  TAG_PATTERN,
  TAG_PATTERN_TEXT,
  tagPairs,
  tagsXml,
  Validation,
  awsUniqueId,
  type QueryContext,
  type QueryOperation,
  type QueryService,
  type XmlValue,
} from './query-protocol.js';
import { FakeAwsError, type FakeCaller, type Tags } from './types.js';
import type { FakeAwsWorld } from './world.js';

/**
 * IAM roles as `vigil aws setup` makes them (Query protocol, Version 2010-05-08): a role with a trust
 * policy, tags and inline policies. Also the policy grammar and the trust policy evaluation STS uses
 * for AssumeRole and SNS for topic policies, so a document the fake takes is one IAM would take.
 */

const VERSION = '2010-05-08';
const NAMESPACE = 'https://iam.amazonaws.com/doc/2010-05-08/';

// ---------------------------------------------------------------------------------------------------
// Policy documents

export type PolicyStrings = string | string[];
export type PolicyConditionValue = string | number | boolean | (string | number | boolean)[];

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: '*' | Record<string, PolicyStrings>;
  NotPrincipal?: '*' | Record<string, PolicyStrings>;
  Action?: PolicyStrings;
  NotAction?: PolicyStrings;
  Resource?: PolicyStrings;
  NotResource?: PolicyStrings;
  Condition?: Record<string, Record<string, PolicyConditionValue>>;
}

export interface PolicyDocument {
  Version?: string;
  Id?: string;
  Statement: PolicyStatement | PolicyStatement[];
}

/** trust: a role's AssumeRolePolicyDocument; identity: an inline policy; resource: e.g. a topic policy. */
export type PolicyKind = 'trust' | 'identity' | 'resource';

const STATEMENT_KEYS = new Set([
  'Sid',
  'Effect',
  'Principal',
  'NotPrincipal',
  'Action',
  'NotAction',
  'Resource',
  'NotResource',
  'Condition',
]);
const PRINCIPAL_TYPES = new Set(['AWS', 'Service', 'Federated', 'CanonicalUser']);
const AWS_PRINCIPAL =
  /^(\*|\d{12}|arn:aws:iam::\d{12}:(root|user\/([\w+=,.@-]+\/)*[\w+=,.@-]+|role\/([\w+=,.@-]+\/)*[\w+=,.@-]+)|arn:aws:sts::\d{12}:assumed-role\/[\w+=,.@-]+\/[\w+=,.@-]+)$/;

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isStrings(v: unknown): v is PolicyStrings {
  return (
    (typeof v === 'string' && v !== '') ||
    (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && x !== ''))
  );
}

export function asList(v: PolicyStrings | undefined): string[] {
  return v === undefined ? [] : typeof v === 'string' ? [v] : v;
}

export function statementsOf(doc: PolicyDocument): PolicyStatement[] {
  return Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
}

/** IAM counts a policy's size without its whitespace. */
export function policySize(text: string): number {
  return text.replace(/\s/g, '').length;
}

function checkPrincipal(principal: unknown): string | undefined {
  if (principal === '*') return undefined;
  if (!isRecord(principal) || Object.keys(principal).length === 0) return 'Invalid principal in policy';
  for (const [type, value] of Object.entries(principal)) {
    if (!PRINCIPAL_TYPES.has(type) || !isStrings(value))
      return `Invalid principal in policy: "${type}":${JSON.stringify(value)}`;
    for (const v of asList(value)) {
      const ok =
        type === 'AWS'
          ? AWS_PRINCIPAL.test(v)
          : type === 'Service'
            ? /^[a-z0-9.-]+\.amazonaws\.com(\.cn)?$/.test(v)
            : true;
      if (!ok) return `Invalid principal in policy: "${type}":"${v}"`;
    }
  }
  return undefined;
}

/**
 * The document when IAM's grammar accepts it for `kind`, else the problem in IAM's words. Whether
 * principals exist is left to the caller, which knows the accounts.
 */
export function parsePolicy(text: string, kind: PolicyKind): PolicyDocument | string {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return 'This policy contains invalid Json';
  }
  if (!isRecord(doc)) return 'This policy contains invalid Json';
  if (Object.keys(doc).some((k) => k !== 'Version' && k !== 'Id' && k !== 'Statement'))
    return 'Syntax errors in policy.';
  if (doc.Version !== undefined && doc.Version !== '2012-10-17' && doc.Version !== '2008-10-17')
    return 'The policy failed legacy parsing';
  if (doc.Id !== undefined && typeof doc.Id !== 'string') return 'Syntax errors in policy.';
  const statements = Array.isArray(doc.Statement) ? doc.Statement : [doc.Statement];
  if (doc.Statement === undefined || statements.length === 0) return 'Syntax errors in policy.';
  for (const s of statements as unknown[]) {
    if (!isRecord(s) || Object.keys(s).some((k) => !STATEMENT_KEYS.has(k))) return 'Syntax errors in policy.';
    if (s.Sid !== undefined) {
      if (typeof s.Sid !== 'string') return 'Syntax errors in policy.';
      // Resource policies (SNS's default one is `__default_statement_ID`) allow more than IAM does.
      if (kind !== 'resource' && !/^[0-9A-Za-z]*$/.test(s.Sid))
        return 'Statement IDs (SID) must be alpha-numeric. Check that your input satisfies the regular expression [0-9A-Za-z]*';
    }
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') return 'Syntax errors in policy.';
    if ((s.Action === undefined) === (s.NotAction === undefined))
      return 'Policy statement must contain actions.';
    const actions = s.Action ?? s.NotAction;
    if (!isStrings(actions)) return 'Syntax errors in policy.';
    for (const a of asList(actions))
      if (a !== '*' && !/^[A-Za-z0-9-]+:[A-Za-z0-9*?]+$/.test(a))
        return 'Actions/Conditions must be prefaced by a vendor, e.g., iam, sdb, ec2, etc.';
    const hasPrincipal = s.Principal !== undefined || s.NotPrincipal !== undefined;
    const hasResource = s.Resource !== undefined || s.NotResource !== undefined;
    if (kind === 'identity' && hasPrincipal) return 'Policy document should not specify a principal.';
    if (kind === 'trust' && hasResource) return 'Has prohibited field Resource';
    if (kind !== 'identity' && !hasPrincipal) return 'Missing required field Principal';
    if (kind !== 'trust' && !hasResource) return 'Policy statement must contain resources.';
    if (s.Principal !== undefined && s.NotPrincipal !== undefined) return 'Syntax errors in policy.';
    const principalProblem = hasPrincipal ? checkPrincipal(s.Principal ?? s.NotPrincipal) : undefined;
    if (principalProblem !== undefined) return principalProblem;
    if (hasResource) {
      if (s.Resource !== undefined && s.NotResource !== undefined) return 'Syntax errors in policy.';
      const resources = s.Resource ?? s.NotResource;
      if (!isStrings(resources)) return 'Syntax errors in policy.';
      for (const r of asList(resources))
        if (r !== '*' && !r.startsWith('arn:')) return `Resource ${r} must be in ARN format or "*".`;
    }
    if (s.Condition !== undefined) {
      if (!isRecord(s.Condition)) return 'Syntax errors in policy.';
      for (const block of Object.values(s.Condition)) {
        if (!isRecord(block) || Object.keys(block).length === 0) return 'Syntax errors in policy.';
        for (const v of Object.values(block)) {
          const values = Array.isArray(v) ? v : [v];
          if (values.length === 0 || values.some((x) => !['string', 'number', 'boolean'].includes(typeof x)))
            return 'Syntax errors in policy.';
        }
      }
    }
  }
  return doc as unknown as PolicyDocument;
}

/** Principal ARNs named by a document's `AWS` principals, for checking they exist. */
export function awsPrincipalsOf(doc: PolicyDocument): string[] {
  const out: string[] = [];
  for (const s of statementsOf(doc)) {
    const p = s.Principal ?? s.NotPrincipal;
    if (p !== undefined && p !== '*') out.push(...asList(p.AWS));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Evaluation

/** Who is asking, as a policy's Principal element can name it. */
export interface PolicyCaller {
  /** The caller's ARN: a user, a role, or an STS assumed-role session. */
  arn: string;
  account: string;
  /** For a session, its role's ARN with the role's path (the session ARN leaves the path out). */
  roleArn?: string;
}

export interface PolicyRequest {
  action: string;
  caller: PolicyCaller;
  resource?: string;
  /** Condition keys known for the request (lower case names), e.g. `sts:externalid`. */
  context: Record<string, string | undefined>;
}

/** The role behind an assumed-role session ARN, as trust policies name it. */
export function roleArnOfSession(arn: string): string | undefined {
  const m = /^arn:aws:sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/[\w+=,.@-]+$/.exec(arn);
  return m ? `arn:aws:iam::${m[1]}:role/${m[2]}` : undefined;
}

function wildcard(pattern: string, value: string, ignoreCase: boolean): boolean {
  const source = pattern
    .split('')
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[\\^$.|+()[\]{}]/g, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, ignoreCase ? 'is' : 's').test(value);
}

function principalMatches(principal: PolicyStatement['Principal'], caller: PolicyCaller): boolean {
  if (principal === undefined) return false;
  if (principal === '*') return true;
  const role = caller.roleArn ?? roleArnOfSession(caller.arn);
  return asList(principal.AWS).some(
    (p) =>
      p === '*' ||
      p === caller.account ||
      p === `arn:aws:iam::${caller.account}:root` ||
      p === caller.arn ||
      (role !== undefined && p === role),
  );
}

const CONDITION_OPERATORS: Record<string, (values: string[], actual: string | undefined) => boolean> = {
  stringequals: (values, actual) => actual !== undefined && values.includes(actual),
  stringnotequals: (values, actual) => actual === undefined || !values.includes(actual),
  stringequalsignorecase: (values, actual) =>
    actual !== undefined && values.some((v) => v.toLowerCase() === actual.toLowerCase()),
  stringlike: (values, actual) => actual !== undefined && values.some((v) => wildcard(v, actual, false)),
  stringnotlike: (values, actual) => actual === undefined || !values.some((v) => wildcard(v, actual, false)),
  // As IAM has it: "true" holds when the request lacks the key, "false" when it has it, whatever its value
  // (so Null sts:ExternalId "false" lets in any external ID).
  // Any other value holds never, as no condition the fake cannot read lets a request through.
  null: (values, actual) =>
    values.some((v) => {
      const wanted = v.toLowerCase();
      return wanted === 'true' ? actual === undefined : wanted === 'false' && actual !== undefined;
    }),
};

function conditionsHold(condition: PolicyStatement['Condition'], context: PolicyRequest['context']): boolean {
  if (condition === undefined) return true;
  for (const [operator, block] of Object.entries(condition)) {
    const test = CONDITION_OPERATORS[operator.toLowerCase()];
    for (const [key, value] of Object.entries(block)) {
      const name = key.toLowerCase();
      // A key the fake cannot evaluate must not let a request through that AWS might refuse.
      if (test === undefined || !Object.hasOwn(context, name)) return false;
      const values = (Array.isArray(value) ? value : [value]).map(String);
      if (!test(values, context[name])) return false;
    }
  }
  return true;
}

function statementApplies(s: PolicyStatement, request: PolicyRequest, checkPrincipal: boolean): boolean {
  const actionHit = (patterns: string[]) => patterns.some((p) => wildcard(p, request.action, true));
  if (s.Action !== undefined ? !actionHit(asList(s.Action)) : actionHit(asList(s.NotAction))) return false;
  if (checkPrincipal) {
    if (s.Principal !== undefined ? !principalMatches(s.Principal, request.caller) : true) return false;
  }
  if (request.resource !== undefined && (s.Resource !== undefined || s.NotResource !== undefined)) {
    const resource = request.resource;
    const hit = (patterns: string[]) => patterns.some((p) => wildcard(p, resource, false));
    if (s.Resource !== undefined ? !hit(asList(s.Resource)) : hit(asList(s.NotResource))) return false;
  }
  return conditionsHold(s.Condition, request.context);
}

/** IAM's evaluation of one policy: an applicable Deny wins, else an applicable Allow, else no decision. */
export function evaluatePolicy(
  doc: PolicyDocument,
  request: PolicyRequest,
  checkPrincipal = true,
): 'allow' | 'deny' | 'none' {
  let allowed = false;
  for (const s of statementsOf(doc)) {
    if (!statementApplies(s, request, checkPrincipal)) continue;
    if (s.Effect === 'Deny') return 'deny';
    allowed = true;
  }
  return allowed ? 'allow' : 'none';
}

// ---------------------------------------------------------------------------------------------------
// The store

export interface IamRole {
  account: string;
  name: string;
  path: string;
  arn: string;
  roleId: string;
  createDate: Date;
  /** As sent (decoded from the form). */
  trustPolicy: string;
  description?: string;
  maxSessionDuration: number;
  tags: Tags;
  /** Name -> document as sent. */
  inlinePolicies: Map<string, string>;
}

export class IamStore {
  private readonly accounts = new Map<string, Map<string, IamRole>>();

  private rolesOf(account: string): Map<string, IamRole> {
    let roles = this.accounts.get(account);
    if (roles === undefined) {
      roles = new Map();
      this.accounts.set(account, roles);
    }
    return roles;
  }

  /** Role names are unique regardless of case, and found regardless of case. */
  get(account: string, name: string): IamRole | undefined {
    return this.accounts.get(account)?.get(name.toLowerCase());
  }

  byArn(arn: string): IamRole | undefined {
    const m = /^arn:aws:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]+)$/.exec(arn);
    if (m === null) return undefined;
    const role = this.get(m[1] ?? '', m[2] ?? '');
    return role?.arn === arn ? role : undefined;
  }

  list(account: string): IamRole[] {
    return [...(this.accounts.get(account)?.values() ?? [])].sort((a, b) =>
      a.name.toLowerCase() < b.name.toLowerCase() ? -1 : 1,
    );
  }

  add(role: IamRole): void {
    this.rolesOf(role.account).set(role.name.toLowerCase(), role);
  }

  delete(role: IamRole): void {
    this.accounts.get(role.account)?.delete(role.name.toLowerCase());
  }
}

/** A role as a test reads it: documents parsed. */
export interface FakeRoleView {
  name: string;
  path: string;
  arn: string;
  roleId: string;
  createDate: Date;
  description?: string;
  maxSessionDuration: number;
  tags: Tags;
  trustPolicy: PolicyDocument;
  inlinePolicies: Record<string, PolicyDocument>;
}

export function viewRole(role: IamRole): FakeRoleView {
  const parse = (text: string): PolicyDocument => JSON.parse(text) as PolicyDocument;
  return {
    name: role.name,
    path: role.path,
    arn: role.arn,
    roleId: role.roleId,
    createDate: role.createDate,
    ...(role.description !== undefined ? { description: role.description } : {}),
    maxSessionDuration: role.maxSessionDuration,
    tags: { ...role.tags },
    trustPolicy: parse(role.trustPolicy),
    inlinePolicies: Object.fromEntries([...role.inlinePolicies].map(([name, doc]) => [name, parse(doc)])),
  };
}

// ---------------------------------------------------------------------------------------------------
// The service

const NAME = /^[\w+=,.@-]+$/;
const NAME_TEXT = '[\\w+=,.@-]+';
const PATH = /^(\/|\/[\u0021-\u007E]+\/)$/;
const PATH_TEXT = '(\\u002F)|(\\u002F[\\u0021-\\u007E]+\\u002F)';
const DESCRIPTION = /^[\t\n\r\u0020-\u007E\u00A1-\u00FF]*$/;
const DESCRIPTION_TEXT = '[\\u0009\\u000A\\u000D\\u0020-\\u007E\\u00A1-\\u00FF]*';
const DOCUMENT = /^[\t\n\r\u0020-\u00FF]+$/;
const DOCUMENT_TEXT = '[\\u0009\\u000A\\u000D\\u0020-\\u00FF]+';
const TRUST_POLICY_QUOTA = 2048;
const INLINE_POLICIES_QUOTA = 10240;
const MAX_TAGS = 50;

export interface IamService extends QueryService {
  store: IamStore;
  roles(account: string): FakeRoleView[];
}

function noSuchRole(name: string): FakeAwsError {
  return new FakeAwsError(404, 'NoSuchEntity', `The role with name ${name} cannot be found.`);
}

function malformed(message: string): FakeAwsError {
  return new FakeAwsError(400, 'MalformedPolicyDocument', message);
}

/** The `Tags.member.N` of a request, checked as IAM checks them; undefined when none were sent. */
function readTags(ctx: QueryContext, v: Validation): Tags | undefined {
  const pairs = tagPairs(ctx.params);
  if (pairs === undefined) return undefined;
  v.count(pairs.length, 'tags', MAX_TAGS);
  const tags: Tags = {};
  const seen = new Set<string>();
  let duplicate = false;
  pairs.forEach((pair, i) => {
    const member = `tags.${i + 1}.member`;
    if (v.required(pair.Key, `${member}.key`)) {
      v.length(pair.Key, `${member}.key`, 1, 128);
      v.pattern(pair.Key, `${member}.key`, TAG_PATTERN, TAG_PATTERN_TEXT.replace(/\*$/, '+'));
    }
    if (v.required(pair.Value, `${member}.value`)) {
      v.length(pair.Value, `${member}.value`, 0, 256);
      v.pattern(pair.Value, `${member}.value`, TAG_PATTERN, TAG_PATTERN_TEXT);
    }
    const key = pair.Key ?? '';
    if (seen.has(key.toLowerCase())) duplicate = true;
    seen.add(key.toLowerCase());
    tags[key] = pair.Value ?? '';
  });
  v.throwIfAny();
  if (duplicate)
    throw new FakeAwsError(
      400,
      'InvalidInput',
      'Duplicate tag keys found. Please note that Tag keys are case insensitive.',
    );
  if (Object.keys(tags).some((k) => k.toLowerCase().startsWith('aws:')))
    throw new FakeAwsError(400, 'InvalidInput', "User-defined tag keys can't start with 'aws:'.");
  return tags;
}

/** Sets `tags` on `target`, keys compared regardless of case as IAM compares them. */
function mergeTags(target: Tags, tags: Tags): Tags {
  const out: Tags = { ...target };
  for (const [key, value] of Object.entries(tags)) {
    for (const existing of Object.keys(out))
      if (existing.toLowerCase() === key.toLowerCase()) delete out[existing];
    out[key] = value;
  }
  return out;
}

function roleXml(role: IamRole): Record<string, XmlValue> {
  return {
    Path: role.path,
    RoleName: role.name,
    RoleId: role.roleId,
    Arn: role.arn,
    CreateDate: role.createDate,
    // IAM answers policy documents percent-encoded; SDK users decode them.
    AssumeRolePolicyDocument: encodeURIComponent(role.trustPolicy),
    Description: role.description,
    MaxSessionDuration: role.maxSessionDuration,
    Tags: Object.keys(role.tags).length > 0 ? tagsXml(role.tags) : undefined,
    RoleLastUsed: {},
  };
}

export function createIamService(world: FakeAwsWorld, deps: { callers: readonly FakeCaller[] }): IamService {
  const store = new IamStore();
  const knownAccounts = new Set(deps.callers.map((c) => c.account));

  /**
   * IAM refuses a trust policy naming a principal that does not exist. The fake knows the accounts of
   * its callers; a principal in another account is taken on trust, as the fake cannot know it.
   */
  const checkPrincipalsExist = (doc: PolicyDocument): void => {
    for (const p of awsPrincipalsOf(doc)) {
      const arn = /^\d{12}$/.test(p) ? `arn:aws:iam::${p}:root` : p;
      const m = /^arn:aws:(?:iam|sts)::(\d{12}):/.exec(arn);
      if (m === null || !knownAccounts.has(m[1] ?? '')) continue;
      const exists =
        arn.endsWith(':root') ||
        deps.callers.some((c) => c.arn === arn || roleArnOfSession(c.arn) === arn) ||
        store.byArn(arn) !== undefined;
      if (!exists) throw malformed(`Invalid principal in policy: "AWS":"${p}"`);
    }
  };

  const trustPolicy = (text: string): string => {
    const doc = parsePolicy(text, 'trust');
    if (typeof doc === 'string') throw malformed(doc);
    checkPrincipalsExist(doc);
    if (policySize(text) > TRUST_POLICY_QUOTA)
      throw new FakeAwsError(
        409,
        'LimitExceeded',
        `Cannot exceed quota for ACLSizePerRole: ${TRUST_POLICY_QUOTA}`,
      );
    return text;
  };

  const roleName = (ctx: QueryContext, v: Validation): string | undefined => {
    const name = ctx.params.get('RoleName');
    if (v.required(name, 'roleName')) {
      v.length(name, 'roleName', 1, 64);
      v.pattern(name, 'roleName', NAME, NAME_TEXT);
    }
    return name;
  };

  /** The role a request names, after checking its other fields with `more`. */
  const existingRole = (ctx: QueryContext, more?: (v: Validation) => void): IamRole => {
    const v = new Validation();
    const name = roleName(ctx, v);
    more?.(v);
    v.throwIfAny();
    const role = store.get(ctx.account, name ?? '');
    if (role === undefined) throw noSuchRole(name ?? '');
    return role;
  };

  const policyName = (ctx: QueryContext, v: Validation): string | undefined => {
    const name = ctx.params.get('PolicyName');
    if (v.required(name, 'policyName')) {
      v.length(name, 'policyName', 1, 128);
      v.pattern(name, 'policyName', NAME, NAME_TEXT);
    }
    return name;
  };

  const maxItems = (ctx: QueryContext, v: Validation): number =>
    v.integer(ctx.params.get('MaxItems'), 'maxItems', 1, 1000) ?? 100;

  const page = <T>(ctx: QueryContext, items: T[], v: Validation) => {
    const max = maxItems(ctx, v);
    v.throwIfAny();
    return paginate(
      items,
      ctx.params.get('Marker'),
      max,
      () => new FakeAwsError(400, 'InvalidInput', 'Invalid Marker.'),
    );
  };

  const roleResource = (ctx: QueryContext): string =>
    `arn:aws:iam::${ctx.account}:role/${ctx.params.get('RoleName') ?? '*'}`;

  const operation = (mutating: boolean, run: QueryOperation['run']): QueryOperation => ({
    mutating,
    resource: roleResource,
    run,
  });

  const operations: Record<string, QueryOperation> = {
    CreateRole: operation(true, (ctx) => {
      const v = new Validation();
      const name = roleName(ctx, v);
      const path = ctx.params.get('Path') ?? '/';
      v.length(path, 'path', 1, 512);
      v.pattern(path, 'path', PATH, PATH_TEXT);
      const document = ctx.params.get('AssumeRolePolicyDocument');
      if (v.required(document, 'assumeRolePolicyDocument')) {
        v.length(document, 'assumeRolePolicyDocument', 1, 131072);
        v.pattern(document, 'assumeRolePolicyDocument', DOCUMENT, DOCUMENT_TEXT);
      }
      const description = ctx.params.get('Description');
      v.length(description, 'description', 0, 1000);
      v.pattern(description, 'description', DESCRIPTION, DESCRIPTION_TEXT);
      const maxSession = v.integer(ctx.params.get('MaxSessionDuration'), 'maxSessionDuration', 3600, 43200);
      v.throwIfAny();
      const tags = readTags(ctx, v) ?? {};
      if (name === undefined || document === undefined) return undefined;
      if (store.get(ctx.account, name) !== undefined)
        throw new FakeAwsError(409, 'EntityAlreadyExists', `Role with name ${name} already exists.`);
      const role: IamRole = {
        account: ctx.account,
        name,
        path,
        arn: `arn:aws:iam::${ctx.account}:role${path}${name}`,
        roleId: awsUniqueId('AROA', 17),
        createDate: new Date(Math.floor(Date.now() / 1000) * 1000),
        trustPolicy: trustPolicy(document),
        ...(description !== undefined ? { description } : {}),
        maxSessionDuration: maxSession ?? 3600,
        tags,
        inlinePolicies: new Map(),
      };
      store.add(role);
      return { Role: roleXml(role) };
    }),

    GetRole: operation(false, (ctx) => ({ Role: roleXml(existingRole(ctx)) })),

    ListRoles: {
      mutating: false,
      run(ctx) {
        const v = new Validation();
        const prefix = ctx.params.get('PathPrefix') ?? '/';
        const { page: roles, next } = page(
          ctx,
          store.list(ctx.account).filter((r) => r.path.startsWith(prefix)),
          v,
        );
        // Listing leaves tags and the last use out, as IAM does.
        return {
          Roles: roles.map((r) => ({ ...roleXml(r), Tags: undefined, RoleLastUsed: undefined })),
          IsTruncated: next !== undefined,
          Marker: next,
        };
      },
    },

    UpdateRole: operation(true, (ctx) => {
      let description: string | undefined;
      let maxSession: number | undefined;
      const role = existingRole(ctx, (v) => {
        description = ctx.params.get('Description');
        v.length(description, 'description', 0, 1000);
        v.pattern(description, 'description', DESCRIPTION, DESCRIPTION_TEXT);
        maxSession = v.integer(ctx.params.get('MaxSessionDuration'), 'maxSessionDuration', 3600, 43200);
      });
      if (description !== undefined) role.description = description;
      if (maxSession !== undefined) role.maxSessionDuration = maxSession;
      return {};
    }),

    UpdateRoleDescription: operation(true, (ctx) => {
      let description: string | undefined;
      const role = existingRole(ctx, (v) => {
        description = ctx.params.get('Description');
        if (v.required(description, 'description')) {
          v.length(description, 'description', 0, 1000);
          v.pattern(description, 'description', DESCRIPTION, DESCRIPTION_TEXT);
        }
      });
      role.description = description ?? '';
      return { Role: roleXml(role) };
    }),

    UpdateAssumeRolePolicy: operation(true, (ctx) => {
      let document: string | undefined;
      const role = existingRole(ctx, (v) => {
        document = ctx.params.get('PolicyDocument');
        if (v.required(document, 'policyDocument')) {
          v.length(document, 'policyDocument', 1, 131072);
          v.pattern(document, 'policyDocument', DOCUMENT, DOCUMENT_TEXT);
        }
      });
      role.trustPolicy = trustPolicy(document ?? '');
      return undefined;
    }),

    DeleteRole: operation(true, (ctx) => {
      const role = existingRole(ctx);
      if (role.inlinePolicies.size > 0)
        throw new FakeAwsError(409, 'DeleteConflict', 'Cannot delete entity, must delete policies first.');
      store.delete(role);
      return undefined;
    }),

    TagRole: operation(true, (ctx) => {
      let tags: Tags | undefined;
      const role = existingRole(ctx, (v) => {
        v.required(ctx.params.structs('Tags') === undefined ? undefined : '', 'tags');
        tags = readTags(ctx, v);
      });
      const merged = mergeTags(role.tags, tags ?? {});
      if (Object.keys(merged).length > MAX_TAGS)
        throw new FakeAwsError(409, 'LimitExceeded', 'The number of tags has reached the maximum limit.');
      role.tags = merged;
      return undefined;
    }),

    UntagRole: operation(true, (ctx) => {
      let keys: string[] = [];
      const role = existingRole(ctx, (v) => {
        const given = ctx.params.list('TagKeys');
        if (v.required(given === undefined ? undefined : '', 'tagKeys')) keys = given ?? [];
        v.count(keys.length, 'tagKeys', MAX_TAGS);
        keys.forEach((k, i) => {
          v.length(k, `tagKeys.${i + 1}.member`, 1, 128);
          v.pattern(k, `tagKeys.${i + 1}.member`, TAG_PATTERN, TAG_PATTERN_TEXT.replace(/\*$/, '+'));
        });
      });
      const drop = new Set(keys.map((k) => k.toLowerCase()));
      role.tags = Object.fromEntries(Object.entries(role.tags).filter(([k]) => !drop.has(k.toLowerCase())));
      return undefined;
    }),

    ListRoleTags: operation(false, (ctx) => {
      const v = new Validation();
      const role = existingRole(ctx, (check) => maxItems(ctx, check));
      const { page: tags, next } = page(ctx, tagsXml(role.tags), v);
      return { Tags: tags, IsTruncated: next !== undefined, Marker: next };
    }),

    PutRolePolicy: operation(true, (ctx) => {
      let name: string | undefined;
      let document: string | undefined;
      const role = existingRole(ctx, (v) => {
        name = policyName(ctx, v);
        document = ctx.params.get('PolicyDocument');
        if (v.required(document, 'policyDocument')) {
          v.length(document, 'policyDocument', 1, 131072);
          v.pattern(document, 'policyDocument', DOCUMENT, DOCUMENT_TEXT);
        }
      });
      const doc = parsePolicy(document ?? '', 'identity');
      if (typeof doc === 'string') throw malformed(doc);
      const others = [...role.inlinePolicies]
        .filter(([n]) => n !== name)
        .reduce((sum, [, text]) => sum + policySize(text), 0);
      if (others + policySize(document ?? '') > INLINE_POLICIES_QUOTA)
        throw new FakeAwsError(
          409,
          'LimitExceeded',
          `Maximum policy size of ${INLINE_POLICIES_QUOTA} bytes exceeded for role ${role.name}`,
        );
      role.inlinePolicies.set(name ?? '', document ?? '');
      return undefined;
    }),

    GetRolePolicy: operation(false, (ctx) => {
      let name: string | undefined;
      const role = existingRole(ctx, (v) => (name = policyName(ctx, v)));
      const document = role.inlinePolicies.get(name ?? '');
      if (document === undefined)
        throw new FakeAwsError(
          404,
          'NoSuchEntity',
          `The role policy with name ${name ?? ''} cannot be found.`,
        );
      return { RoleName: role.name, PolicyName: name, PolicyDocument: encodeURIComponent(document) };
    }),

    ListRolePolicies: operation(false, (ctx) => {
      const v = new Validation();
      const role = existingRole(ctx, (check) => maxItems(ctx, check));
      const { page: names, next } = page(ctx, [...role.inlinePolicies.keys()].sort(), v);
      return { PolicyNames: names, IsTruncated: next !== undefined, Marker: next };
    }),

    DeleteRolePolicy: operation(true, (ctx) => {
      let name: string | undefined;
      const role = existingRole(ctx, (v) => (name = policyName(ctx, v)));
      if (!role.inlinePolicies.delete(name ?? ''))
        throw new FakeAwsError(
          404,
          'NoSuchEntity',
          `The role policy with name ${name ?? ''} cannot be found.`,
        );
      return undefined;
    }),

    ListAttachedRolePolicies: operation(false, (ctx) => {
      existingRole(ctx, (v) => maxItems(ctx, v));
      return { AttachedPolicies: [], IsTruncated: false };
    }),
  };

  const service = createQueryService({
    version: VERSION,
    namespace: NAMESPACE,
    operations,
    newId: world.newId,
  });
  return {
    ...service,
    store,
    roles: (account) => store.list(account).map(viewRole),
  };
}
