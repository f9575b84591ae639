import crypto from 'node:crypto';
import { xmlEscape } from '../sigv4-verify.js';
import { FakeAwsError, type FakeRequest, type FakeResponse, type FakeService, type Tags } from './types.js';

/**
 * The AWS Query protocol as STS, IAM and SNS speak it: a form-encoded body naming `Action` and
 * `Version`, structured members flattened into `Name.member.N` (lists) and `Name.entry.N.key` (maps),
 * answers as `<ActionResponse><ActionResult>` XML and errors as `<ErrorResponse>`.
 */

const FORM = 'application/x-www-form-urlencoded';

/** A request's form fields, with the accessors for Query's flattened lists and maps. */
export class QueryParams {
  constructor(readonly form: URLSearchParams) {}

  static of(request: FakeRequest): QueryParams {
    const cached = parsed.get(request);
    if (cached) return cached;
    let form: URLSearchParams;
    if (request.method === 'GET') form = request.query;
    else {
      const type = String(request.headers['content-type'] ?? '')
        .split(';')[0]
        ?.trim()
        .toLowerCase();
      // AWS reads no parameters from a body of another type, so the request names no action.
      form = type === FORM ? new URLSearchParams(request.body.toString('utf8')) : new URLSearchParams();
    }
    const params = new QueryParams(form);
    parsed.set(request, params);
    return params;
  }

  get(name: string): string | undefined {
    return this.form.get(name) ?? undefined;
  }

  /** `Name.member.N` in N's order; [] for the `Name=` an SDK sends for an empty list; undefined when absent. */
  list(name: string): string[] | undefined {
    const items = this.indexed(`${name}.member.`, '');
    if (items.size > 0) return [...items.values()].map((fields) => fields.get('') ?? '');
    return this.form.has(name) ? [] : undefined;
  }

  /** `Name.member.N.Field` as one record per N, in N's order. */
  structs(name: string): Record<string, string>[] | undefined {
    const items = this.indexed(`${name}.member.`, undefined);
    if (items.size > 0) return [...items.values()].map((fields) => Object.fromEntries(fields));
    return this.form.has(name) ? [] : undefined;
  }

  /** `Name.entry.N.key` / `Name.entry.N.value`; an entry without a key is dropped as AWS drops it. */
  map(name: string): Record<string, string> | undefined {
    const items = this.indexed(`${name}.entry.`, undefined);
    if (items.size === 0) return this.form.has(name) ? {} : undefined;
    const out: Record<string, string> = {};
    for (const fields of items.values()) {
      const key = fields.get('key');
      if (key !== undefined) out[key] = fields.get('value') ?? '';
    }
    return out;
  }

  /** Every field but Action and Version, for the call log. */
  toRecord(): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of this.form) if (k !== 'Action' && k !== 'Version') out[k] = v;
    return out;
  }

  /**
   * Fields under `prefix` grouped by their index. With `scalar` set, only `prefix.N` itself counts and
   * is stored under that key; otherwise `prefix.N.Field` is stored under Field.
   */
  private indexed(prefix: string, scalar: string | undefined): Map<number, Map<string, string>> {
    const byIndex = new Map<number, Map<string, string>>();
    for (const [key, value] of this.form) {
      if (!key.startsWith(prefix)) continue;
      const rest = key.slice(prefix.length);
      const dot = rest.indexOf('.');
      const indexText = dot < 0 ? rest : rest.slice(0, dot);
      if (!/^[1-9]\d{0,5}$/.test(indexText)) continue;
      const field = dot < 0 ? undefined : rest.slice(dot + 1);
      if (scalar !== undefined ? field !== undefined : field === undefined) continue;
      const index = Number(indexText);
      const fields = byIndex.get(index) ?? new Map<string, string>();
      fields.set(field ?? scalar ?? '', value);
      byIndex.set(index, fields);
    }
    return new Map([...byIndex.entries()].sort((a, b) => a[0] - b[0]));
  }
}

const parsed = new WeakMap<FakeRequest, QueryParams>();

// ---------------------------------------------------------------------------------------------------
// XML

/** A map, rendered as Query renders maps: `<entry><key>…</key><value>…</value></entry>`. */
export class XmlMap {
  constructor(readonly entries: Record<string, string>) {}
}

export type XmlValue =
  | string
  | number
  | boolean
  | Date
  | undefined
  | XmlMap
  | readonly XmlValue[]
  | { readonly [name: string]: XmlValue };

function renderChildren(value: XmlValue): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return xmlEscape(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  if (value instanceof XmlMap)
    return Object.entries(value.entries)
      .map(([k, v]) => `<entry><key>${xmlEscape(k)}</key><value>${xmlEscape(v)}</value></entry>`)
      .join('');
  if (Array.isArray(value))
    return (value as readonly XmlValue[]).map((item) => renderElement('member', item)).join('');
  return Object.entries(value as { readonly [name: string]: XmlValue })
    .map(([name, child]) => renderElement(name, child))
    .join('');
}

export function renderElement(name: string, value: XmlValue): string {
  if (value === undefined) return '';
  return `<${name}>${renderChildren(value)}</${name}>`;
}

/** An operation's answer; `result` undefined for operations AWS answers without a Result element. */
export function queryResponse(
  action: string,
  namespace: string,
  result: Record<string, XmlValue> | undefined,
  requestId: string,
): FakeResponse {
  const resultXml = result === undefined ? '' : renderElement(`${action}Result`, result);
  return {
    status: 200,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: `<${action}Response xmlns="${namespace}">${resultXml}<ResponseMetadata><RequestId>${requestId}</RequestId></ResponseMetadata></${action}Response>\n`,
  };
}

export function queryError(
  namespace: string,
  status: number,
  code: string,
  message: string,
  requestId: string,
): FakeResponse {
  return {
    status,
    headers: { 'content-type': 'text/xml', 'x-amzn-requestid': requestId },
    body: `<ErrorResponse xmlns="${namespace}"><Error><Type>${status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>${requestId}</RequestId></ErrorResponse>\n`,
  };
}

// ---------------------------------------------------------------------------------------------------
// Validation, worded as AWS's request validation words it

/**
 * Collects constraint violations the way AWS reports them for IAM and STS: every one found, in one
 * `ValidationError` ("2 validation errors detected: Value 'x' at 'roleName' failed to satisfy …").
 */
export class Validation {
  private readonly problems: string[] = [];

  private add(value: string | undefined, member: string, constraint: string): void {
    const shown = value === undefined ? 'null' : `'${value}'`;
    this.problems.push(`Value ${shown} at '${member}' failed to satisfy constraint: ${constraint}`);
  }

  /** Returns the value when present, so a caller can go on checking it. */
  required(value: string | undefined, member: string): value is string {
    if (value !== undefined) return true;
    this.add(undefined, member, 'Member must not be null');
    return false;
  }

  length(value: string | undefined, member: string, min: number, max: number): void {
    if (value === undefined) return;
    const n = [...value].length;
    if (n < min) this.add(value, member, `Member must have length greater than or equal to ${min}`);
    else if (n > max) this.add(value, member, `Member must have length less than or equal to ${max}`);
  }

  pattern(value: string | undefined, member: string, regex: RegExp, shown: string): void {
    if (value === undefined || value === '') return;
    if (!regex.test(value))
      this.add(value, member, `Member must satisfy regular expression pattern: ${shown}`);
  }

  /** An integer field; returns it parsed, or undefined when absent or invalid. */
  integer(value: string | undefined, member: string, min: number, max: number): number | undefined {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!/^-?\d+$/.test(value) || !Number.isSafeInteger(n)) {
      this.add(value, member, 'Member must be an integer');
      return undefined;
    }
    if (n < min) this.add(value, member, `Member must have value greater than or equal to ${min}`);
    else if (n > max) this.add(value, member, `Member must have value less than or equal to ${max}`);
    else return n;
    return undefined;
  }

  count(n: number, member: string, max: number): void {
    if (n > max)
      this.problems.push(
        `Value at '${member}' failed to satisfy constraint: Member must have length less than or equal to ${max}`,
      );
  }

  throwIfAny(): void {
    if (this.problems.length === 0) return;
    const n = this.problems.length;
    throw new FakeAwsError(
      400,
      'ValidationError',
      `${n} validation error${n > 1 ? 's' : ''} detected: ${this.problems.join('; ')}`,
    );
  }
}

/** The characters AWS allows in tag keys and values (IAM and SNS alike). */
export const TAG_PATTERN = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
export const TAG_PATTERN_TEXT = '[\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*';

/** `Tags.member.N.Key/Value` as the ordered pairs sent (duplicates kept, for the caller to refuse). */
export function tagPairs(params: QueryParams, name = 'Tags'): { Key?: string; Value?: string }[] | undefined {
  return params.structs(name)?.map((s) => ({ Key: s.Key, Value: s.Value }));
}

export function tagsXml(tags: Tags): { Key: string; Value: string }[] {
  return Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
}

/**
 * A page of a List* answer. The marker is the next index, opaque to the caller as AWS's is; an index
 * past the end or an unreadable marker is refused as AWS refuses a marker it did not issue.
 */
export function paginate<T>(
  items: readonly T[],
  marker: string | undefined,
  maxItems: number,
  invalid: () => FakeAwsError,
): { page: T[]; next: string | undefined } {
  let start = 0;
  if (marker !== undefined) {
    const decoded = Buffer.from(marker, 'base64url').toString('utf8');
    const m = /^fake-page:(\d+)$/.exec(decoded);
    if (m === null || Number(m[1]) > items.length) throw invalid();
    start = Number(m[1]);
  }
  const page = items.slice(start, start + maxItems);
  const end = start + page.length;
  return {
    page,
    next: end < items.length ? Buffer.from(`fake-page:${end}`).toString('base64url') : undefined,
  };
}

// ---------------------------------------------------------------------------------------------------
// Ids

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** AWS's unique ids (AROA…, AIDA…, ASIA…): a prefix and upper-case base32 characters. */
export function awsUniqueId(prefix: string, length: number, seed?: string): string {
  const bytes =
    seed === undefined
      ? crypto.randomBytes(length)
      : crypto.createHash('sha256').update(seed).digest().subarray(0, length);
  let out = prefix;
  for (const b of bytes) out += BASE32[b % 32];
  return out;
}

// ---------------------------------------------------------------------------------------------------
// A Query service

export interface QueryContext {
  request: FakeRequest;
  params: QueryParams;
  /** The caller's account: the one whose resources the call acts on. */
  account: string;
  region: string;
  requestId: string;
}

export interface QueryOperation {
  mutating: boolean;
  /** The resource a denial names ('*' when the operation has none). */
  resource?(ctx: QueryContext): string | undefined;
  /** The Result element's members; undefined for operations AWS answers without one. */
  run(
    ctx: QueryContext,
  ): Record<string, XmlValue> | undefined | Promise<Record<string, XmlValue> | undefined>;
}

/** What the server asks of a Query service beyond FakeService. */
export interface QueryService extends FakeService {
  /** The resource ARN a denial of this call names, when the request names one. */
  resourceOf(request: FakeRequest, action: string): string | undefined;
  /** AWS's refusal of an Action it does not have for this Version. */
  unknownOperation(request: FakeRequest): FakeAwsError;
}

export function createQueryService(definition: {
  version: string;
  namespace: string;
  operations: Record<string, QueryOperation>;
  newId: () => string;
}): QueryService {
  const { version, namespace, operations, newId } = definition;
  const operationOf = (name: string): QueryOperation | undefined =>
    Object.hasOwn(operations, name) ? operations[name] : undefined;
  const context = (request: FakeRequest): QueryContext => ({
    request,
    params: QueryParams.of(request),
    account: request.caller.account,
    region: request.region,
    requestId: newId(),
  });

  const unknownOperation = (request: FakeRequest): FakeAwsError => {
    const params = QueryParams.of(request);
    const action = params.get('Action');
    if (action === undefined) return new FakeAwsError(400, 'MissingAction', 'Missing Action');
    return new FakeAwsError(
      400,
      'InvalidAction',
      `Could not find operation ${action} for version ${params.get('Version') ?? 'NO_VERSION_SPECIFIED'}`,
    );
  };

  return {
    actionOf(request) {
      const params = QueryParams.of(request);
      const action = params.get('Action');
      if (action === undefined || params.get('Version') !== version) return undefined;
      return operationOf(action) ? action : undefined;
    },
    isMutating: (action) => operationOf(action)?.mutating ?? false,
    error: (status, code, message) => queryError(namespace, status, code, message, newId()),
    async handle(request, action) {
      const operation = operationOf(action);
      if (operation === undefined) throw unknownOperation(request);
      const ctx = context(request);
      const result = await operation.run(ctx);
      return queryResponse(action, namespace, result, ctx.requestId);
    },
    inputOf: (request) => QueryParams.of(request).toRecord(),
    resourceOf(request, action) {
      const operation = operationOf(action);
      return operation?.resource?.(context(request));
    },
    unknownOperation,
  };
}
