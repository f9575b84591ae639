import crypto from 'node:crypto';
import http from 'node:http';
import type net from 'node:net';
import {
  readBody,
  sha256Hex,
  verifySigV4,
  xmlEscape,
  type HeldCredential,
  type SigFailureReason,
} from './sigv4-verify.js';

/**
 * Local stand-ins for AWS STS (Query protocol, AssumeRole) and AWS Security Hub (REST-JSON,
 * BatchUpdateFindings, BatchUpdateFindingsV2 and GetFindings) that speak the real wire protocols, so tests drive the official
 * AWS SDK v3 against them (`endpoint` client option or AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_SECURITYHUB).
 *
 * Both verify SigV4 signatures for real: the canonical request is rebuilt from what arrived on the wire
 * and signed with the secret the fake knows (the caller's for STS, the ones STS handed out for Security
 * Hub). Security Hub also checks the session token, the credential's expiry, the credential scope's
 * region and service, throttles per (account, region) with one token bucket for every operation, and
 * validates BatchUpdateFindings and BatchUpdateFindingsV2 input as AWS documents it.
 */

export interface FakeAwsOptions {
  /** The AWS identity Vigil itself uses (the SDK's default chain in tests gets these via env or explicit credentials). */
  callerAccessKeyId: string;
  callerSecretAccessKey: string;
  /**
   * Roles that may be assumed: role ARN -> the external id required, and the IAM actions the role's
   * policy allows (`securityhub:BatchUpdateFindings`, `securityhub:*`...). Without `actions` the role may
   * call every operation; with them, any other Security Hub operation answers AccessDeniedException 403.
   */
  roles: Record<string, { externalId: string; actions?: string[] }>;
  /** Regions the Security Hub fake answers in (credential scope must name one of them). Default ['us-east-1']. */
  regions?: string[];
  /** Throttle per (account, region): requests per second and burst. Default 10 and 30. */
  ratePerSecond?: number;
  burst?: number;
  /** Credential lifetime handed out by AssumeRole, seconds (default: the DurationSeconds asked, else 3600). */
  credentialSeconds?: number;
}

export interface RecordedSecurityHubRequest {
  /** Date.now() when received. */
  at: number;
  /** From the credential scope ('' when the Authorization header could not be parsed). */
  region: string;
  /** The assumed role's account ('' when the request was not signed with credentials STS issued). */
  accountId: string;
  accessKeyId: string;
  /** What the fake answered. */
  status: number;
  /** The parsed JSON request body (the raw text when it was not JSON, undefined when empty). */
  body: unknown;
  /** 'BatchUpdateFindings', 'BatchUpdateFindingsV2', 'GetFindings' or '' for an unknown route. */
  operation: string;
  /** The error type answered (x-amzn-errortype), when status is not 200. */
  errorType?: string;
}

export interface FakeFinding {
  Id: string;
  ProductArn: string;
  Workflow?: { Status: string };
  Severity?: { Label: string };
  Note?: { Text: string; UpdatedBy: string; UpdatedAt: string };
  updates: number;
}

/** An OCSF finding (the new Security Hub's), as BatchUpdateFindingsV2 leaves it. */
export interface FakeOcsfFinding {
  CloudAccountUid: string;
  FindingInfoUid: string;
  MetadataProductUid: string;
  /** metadata.uid, for MetadataUids. */
  MetadataUid?: string;
  StatusId?: number;
  SeverityId?: number;
  Comment?: string;
  updates: number;
}

export type OcsfIdentifier = Pick<
  FakeOcsfFinding,
  'CloudAccountUid' | 'FindingInfoUid' | 'MetadataProductUid'
>;

/** The key of an OCSF finding in FakeAws.ocsfFindings. */
export function ocsfKey(i: OcsfIdentifier): string {
  return `${i.CloudAccountUid}|${i.MetadataProductUid}|${i.FindingInfoUid}`;
}

export type BatchOperation = 'BatchUpdateFindings' | 'BatchUpdateFindingsV2';

/** The statuses `failNext` can force (409 only for BatchUpdateFindingsV2, whose errors include ConflictException). */
export type ForcedStatus = 400 | 409 | 429 | 500;

export interface AssumeRoleCall {
  roleArn: string;
  externalId?: string;
  sessionName: string;
  durationSeconds?: number;
  at: number;
  /** What the fake answered (200, or the error's HTTP status). */
  status: number;
  /** The STS error code answered, when status is not 200. */
  errorCode?: string;
  /** The region of the request's credential scope: where the role was assumed ('' when unsigned). */
  region?: string;
}

export interface FakeAws {
  /** http://127.0.0.1:<port> */
  stsUrl: string;
  /** http://127.0.0.1:<port> */
  securityHubUrl: string;
  /** Every request with Action=AssumeRole that reached the STS fake, whatever was answered. */
  assumeRoleCalls: AssumeRoleCall[];
  securityHubRequests: RecordedSecurityHubRequest[];
  /** Findings the fake holds (key `${ProductArn}|${Id}`); BatchUpdateFindings applies updates to these. */
  findings: Map<string, FakeFinding>;
  addFinding(f: { Id: string; ProductArn: string }): void;
  /** OCSF findings the fake holds (key ocsfKey(...)); BatchUpdateFindingsV2 applies updates to these. */
  ocsfFindings: Map<string, FakeOcsfFinding>;
  addOcsfFinding(f: OcsfIdentifier & { MetadataUid?: string }): void;
  /** Identifiers to answer in UnprocessedFindings with this ErrorCode (e.g. 'ConcurrentUpdateError', 'FindingNotFound'), `times` times (Infinity = always). */
  refuseFinding(id: string, productArn: string, errorCode: string, times?: number): void;
  /** The same for BatchUpdateFindingsV2 (e.g. 'ConflictException', 'ResourceNotFoundException'). */
  refuseOcsfFinding(identifier: OcsfIdentifier, errorCode: string, times?: number): void;
  /**
   * The next `count` calls of `operation` (default BatchUpdateFindings) answer this HTTP status with AWS's
   * error body: V1 400 InvalidInputException, 429 LimitExceededException, 500 InternalException; V2 400
   * ValidationException, 409 ConflictException (V2 only), 429 ThrottlingException, 500
   * InternalServerException.
   */
  failNext(count: number, status: ForcedStatus, operation?: BatchOperation): void;
  /** Hold every BatchUpdateFindings(V2) response this many ms (to kill a worker mid-request in tests). */
  setLatency(ms: number): void;
  /**
   * Holds every BatchUpdateFindings(V2) answer (decided as it comes, sent later) until the returned
   * function is called, which sends them all: a request stays in flight for as long as a test needs,
   * whatever the machine's speed.
   */
  holdAnswers(): () => void;
  /**
   * Stops the throttle's clock until the returned function is called: no token comes back meanwhile,
   * so a test sees the burst exactly, however slowly a busy machine makes its calls.
   */
  holdThrottleClock(): () => void;
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------------
// Helpers

function randomChars(alphabet: string, n: number): string {
  const bytes = crypto.randomBytes(n);
  let out = '';
  for (const b of bytes) out += alphabet[b % alphabet.length];
  return out;
}

const UPPER_ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

function isoSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0;
}

function isIntIn(v: unknown, min: number, max: number): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
}

/** Whether IAM actions (`service:Action`, `*` wildcards, any case, as IAM matches them) allow `action`. */
function allows(actions: readonly string[], action: string): boolean {
  return actions.some((pattern) =>
    new RegExp(
      `^${pattern
        .split('*')
        .map((part) => part.replace(/[\\^$.|?+()[\]{}]/g, '\\$&'))
        .join('.*')}$`,
      'i',
    ).test(action),
  );
}

const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/;

const WORKFLOW_STATUSES = ['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED'];
const SEVERITY_LABELS = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'];
const VERIFICATION_STATES = ['UNKNOWN', 'TRUE_POSITIVE', 'FALSE_POSITIVE', 'BENIGN_POSITIVE'];
const UPDATE_FIELDS = [
  'Workflow',
  'Severity',
  'Note',
  'VerificationState',
  'Confidence',
  'Criticality',
  'Types',
  'UserDefinedFields',
  'RelatedFindings',
];

function labelForNormalized(n: number): string {
  if (n === 0) return 'INFORMATIONAL';
  if (n < 40) return 'LOW';
  if (n < 70) return 'MEDIUM';
  if (n < 90) return 'HIGH';
  return 'CRITICAL';
}

const ERROR_MESSAGES: Record<string, string> = {
  FindingNotFound: 'Finding Not Found',
  DuplicatedFindingIdentifier: 'Duplicated Finding Identifier',
  ConcurrentUpdateError: 'Concurrent Update Error',
  FindingSizeExceeded: 'Finding Size Exceeded',
  InternalFailure: 'Internal Failure',
};

/** Returns why a BatchUpdateFindings body is invalid, or undefined when AWS would accept it. */
function validateBatchUpdate(body: unknown): string | undefined {
  if (!isRecord(body)) return 'The request body must be a JSON object.';
  const ids = body.FindingIdentifiers;
  if (!Array.isArray(ids)) return "Invalid parameter 'FindingIdentifiers'. Missing required field.";
  if (ids.length < 1 || ids.length > 100)
    return "Invalid parameter 'FindingIdentifiers'. Array size must be between 1 and 100.";
  for (const [i, id] of ids.entries()) {
    if (!isRecord(id) || !isNonEmptyString(id.Id) || !isNonEmptyString(id.ProductArn))
      return `Invalid parameter 'FindingIdentifiers[${i}]'. Id and ProductArn must be non-empty strings.`;
    // A finding's Id is at most 512 characters: AWS refuses the whole request for a longer one.
    if (id.Id.length > 512)
      return `Invalid parameter 'FindingIdentifiers[${i}].Id'. Length must be between 1 and 512 characters.`;
  }
  if (!UPDATE_FIELDS.some((f) => body[f] !== undefined))
    return `At least one of ${UPDATE_FIELDS.join(', ')} must be provided.`;

  if (body.Note !== undefined) {
    const note = body.Note;
    if (!isRecord(note)) return "Invalid parameter 'Note'. Must be an object.";
    for (const field of ['Text', 'UpdatedBy']) {
      const v = note[field];
      if (v === undefined) return `Invalid parameter 'Note.${field}'. Missing required field.`;
      if (typeof v !== 'string' || v.length < 1 || v.length > 512)
        return `Invalid parameter 'Note.${field}'. Length must be between 1 and 512 characters.`;
    }
  }
  if (body.Workflow !== undefined) {
    const wf = body.Workflow;
    if (!isRecord(wf) || typeof wf.Status !== 'string' || !WORKFLOW_STATUSES.includes(wf.Status))
      return `Invalid parameter 'Workflow.Status'. Must be one of ${WORKFLOW_STATUSES.join(', ')}.`;
  }
  if (body.Severity !== undefined) {
    const sev = body.Severity;
    if (!isRecord(sev)) return "Invalid parameter 'Severity'. Must be an object.";
    if (sev.Label === undefined && sev.Normalized === undefined && sev.Product === undefined)
      return "Invalid parameter 'Severity'. One of Label, Normalized or Product is required.";
    if (sev.Label !== undefined && (typeof sev.Label !== 'string' || !SEVERITY_LABELS.includes(sev.Label)))
      return `Invalid parameter 'Severity.Label'. Must be one of ${SEVERITY_LABELS.join(', ')}.`;
    if (sev.Normalized !== undefined && !isIntIn(sev.Normalized, 0, 100))
      return "Invalid parameter 'Severity.Normalized'. Must be an integer between 0 and 100.";
    if (sev.Product !== undefined && typeof sev.Product !== 'number')
      return "Invalid parameter 'Severity.Product'. Must be a number.";
  }
  if (
    body.VerificationState !== undefined &&
    (typeof body.VerificationState !== 'string' || !VERIFICATION_STATES.includes(body.VerificationState))
  )
    return `Invalid parameter 'VerificationState'. Must be one of ${VERIFICATION_STATES.join(', ')}.`;
  for (const field of ['Confidence', 'Criticality'])
    if (body[field] !== undefined && !isIntIn(body[field], 0, 100))
      return `Invalid parameter '${field}'. Must be an integer between 0 and 100.`;
  if (body.Types !== undefined && (!Array.isArray(body.Types) || !body.Types.every(isNonEmptyString)))
    return "Invalid parameter 'Types'. Must be an array of non-empty strings.";
  if (
    body.UserDefinedFields !== undefined &&
    (!isRecord(body.UserDefinedFields) ||
      !Object.values(body.UserDefinedFields).every((v) => typeof v === 'string'))
  )
    return "Invalid parameter 'UserDefinedFields'. Must be a map of strings.";
  if (body.RelatedFindings !== undefined) {
    const related = body.RelatedFindings;
    if (
      !Array.isArray(related) ||
      related.length > 10 ||
      !related.every((r) => isRecord(r) && isNonEmptyString(r.Id) && isNonEmptyString(r.ProductArn))
    )
      return "Invalid parameter 'RelatedFindings'. Must be at most 10 objects with Id and ProductArn.";
  }
  return undefined;
}

const OCSF_SEVERITY_IDS = [0, 1, 2, 3, 4, 5, 6, 99];
const OCSF_STATUS_IDS = [0, 1, 2, 3, 4, 5, 99];
const V2_UPDATE_FIELDS = ['Comment', 'SeverityId', 'StatusId'];

/** Returns why a BatchUpdateFindingsV2 body is invalid, or undefined when AWS would accept it. */
function validateBatchUpdateV2(body: unknown): string | undefined {
  if (!isRecord(body)) return 'The request body must be a JSON object.';
  const ids = body.FindingIdentifiers;
  const uids = body.MetadataUids;
  if (ids !== undefined && uids !== undefined)
    return 'MetadataUids and FindingIdentifiers cannot be used together.';
  if (ids === undefined && uids === undefined)
    return 'One of MetadataUids or FindingIdentifiers must be provided.';
  if (ids !== undefined) {
    if (!Array.isArray(ids) || ids.length < 1 || ids.length > 100)
      return "Invalid parameter 'FindingIdentifiers'. Array size must be between 1 and 100.";
    for (const [i, id] of ids.entries())
      if (
        !isRecord(id) ||
        !isNonEmptyString(id.CloudAccountUid) ||
        !isNonEmptyString(id.FindingInfoUid) ||
        !isNonEmptyString(id.MetadataProductUid)
      )
        return `Invalid parameter 'FindingIdentifiers[${i}]'. CloudAccountUid, FindingInfoUid and MetadataProductUid must be non-empty strings.`;
  }
  if (uids !== undefined) {
    if (!Array.isArray(uids) || uids.length < 1 || uids.length > 100)
      return "Invalid parameter 'MetadataUids'. Array size must be between 1 and 100.";
    if (!uids.every(isNonEmptyString))
      return "Invalid parameter 'MetadataUids'. Must be an array of non-empty strings.";
  }
  if (!V2_UPDATE_FIELDS.some((f) => body[f] !== undefined))
    return `At least one of ${V2_UPDATE_FIELDS.join(', ')} must be provided.`;
  if (
    body.Comment !== undefined &&
    (typeof body.Comment !== 'string' || body.Comment.length < 1 || body.Comment.length > 512)
  )
    return "Invalid parameter 'Comment'. Length must be between 1 and 512 characters.";
  if (
    body.SeverityId !== undefined &&
    (typeof body.SeverityId !== 'number' || !OCSF_SEVERITY_IDS.includes(body.SeverityId))
  )
    return `Invalid parameter 'SeverityId'. Must be one of ${OCSF_SEVERITY_IDS.join(', ')}.`;
  if (
    body.StatusId !== undefined &&
    (typeof body.StatusId !== 'number' || !OCSF_STATUS_IDS.includes(body.StatusId))
  )
    return `Invalid parameter 'StatusId'. Must be one of ${OCSF_STATUS_IDS.join(', ')}.`;
  return undefined;
}

/** The error each forced status answers, by operation. */
const FORCED_ERRORS: Record<BatchOperation, Partial<Record<ForcedStatus, [string, string]>>> = {
  BatchUpdateFindings: {
    400: ['InvalidInputException', 'Invalid input'],
    429: ['LimitExceededException', 'Rate exceeded'],
    500: ['InternalException', 'Internal service error'],
  },
  BatchUpdateFindingsV2: {
    400: ['ValidationException', 'The request failed validation'],
    409: ['ConflictException', 'The request causes conflict with the current state of the service resource.'],
    429: ['ThrottlingException', 'Rate exceeded'],
    500: ['InternalServerException', 'Internal service error'],
  },
};

// ---------------------------------------------------------------------------------------------------
// The fake

export async function startFakeAws(options: FakeAwsOptions): Promise<FakeAws> {
  const regions = options.regions ?? ['us-east-1'];
  const ratePerSecond = options.ratePerSecond ?? 10;
  const burst = options.burst ?? 30;
  for (const arn of Object.keys(options.roles))
    if (!ROLE_ARN.test(arn))
      throw new Error(`fake AWS: '${arn}' is not an IAM role ARN (arn:aws:iam::<12 digits>:role/<name>)`);

  const caller: HeldCredential = {
    accessKeyId: options.callerAccessKeyId,
    secretAccessKey: options.callerSecretAccessKey,
  };
  /** Credentials STS issued, by access key id. */
  const issued = new Map<string, HeldCredential>();
  const buckets = new Map<string, { tokens: number; last: number }>();
  const refusals = new Map<string, { errorCode: string; remaining: number }>();
  const ocsfRefusals = new Map<string, { errorCode: string; remaining: number }>();
  const forcedFailures: Record<BatchOperation, ForcedStatus[]> = {
    BatchUpdateFindings: [],
    BatchUpdateFindingsV2: [],
  };
  let latencyMs = 0;
  /** The answers holdAnswers keeps back while it holds them. */
  let heldAnswers: (() => void)[] | undefined;
  let throttleHeldAt: number | undefined;
  const timers = new Set<NodeJS.Timeout>();

  const fake: FakeAws = {
    stsUrl: '',
    securityHubUrl: '',
    assumeRoleCalls: [],
    securityHubRequests: [],
    findings: new Map(),
    addFinding: (f) => {
      fake.findings.set(`${f.ProductArn}|${f.Id}`, { Id: f.Id, ProductArn: f.ProductArn, updates: 0 });
    },
    ocsfFindings: new Map(),
    addOcsfFinding: (f) => {
      fake.ocsfFindings.set(ocsfKey(f), {
        CloudAccountUid: f.CloudAccountUid,
        FindingInfoUid: f.FindingInfoUid,
        MetadataProductUid: f.MetadataProductUid,
        ...(f.MetadataUid !== undefined ? { MetadataUid: f.MetadataUid } : {}),
        updates: 0,
      });
    },
    refuseFinding: (id, productArn, errorCode, times = Infinity) => {
      refusals.set(`${productArn}|${id}`, { errorCode, remaining: times });
    },
    refuseOcsfFinding: (identifier, errorCode, times = Infinity) => {
      ocsfRefusals.set(ocsfKey(identifier), { errorCode, remaining: times });
    },
    failNext: (count, status, operation = 'BatchUpdateFindings') => {
      if (FORCED_ERRORS[operation][status] === undefined)
        throw new Error(`fake AWS: ${operation} has no ${status} error`);
      for (let i = 0; i < count; i++) forcedFailures[operation].push(status);
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    holdAnswers: () => {
      const held: (() => void)[] = [];
      heldAnswers = held;
      return () => {
        if (heldAnswers === held) heldAnswers = undefined;
        for (const send of held.splice(0)) send();
      };
    },
    holdThrottleClock: () => {
      const heldAt = Date.now();
      throttleHeldAt = heldAt;
      // Time moves on from where it stopped: the held span never refills the buckets.
      return () => {
        const heldFor = Date.now() - heldAt;
        for (const bucket of buckets.values()) bucket.last += heldFor;
        throttleHeldAt = undefined;
      };
    },
    close: async () => {},
  };

  // ---------------------------------------------------------------------------------------------
  // STS

  const stsError = (res: http.ServerResponse, status: number, code: string, message: string): void => {
    const requestId = crypto.randomUUID();
    const type = status >= 500 ? 'Receiver' : 'Sender';
    res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
    res.end(
      `<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">\n  <Error>\n    <Type>${type}</Type>\n    <Code>${xmlEscape(code)}</Code>\n    <Message>${xmlEscape(message)}</Message>\n  </Error>\n  <RequestId>${requestId}</RequestId>\n</ErrorResponse>\n`,
    );
  };

  const STS_SIG_ERRORS: Record<SigFailureReason, string> = {
    missing: 'MissingAuthenticationToken',
    incomplete: 'IncompleteSignature',
    'unknown-key': 'InvalidClientTokenId',
    mismatch: 'SignatureDoesNotMatch',
    'expired-token': 'ExpiredToken',
  };

  const handleSts = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const at = Date.now();
    const body = await readBody(req);
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
    const form = new URLSearchParams(
      contentType === 'application/x-www-form-urlencoded' ? body.toString('utf8') : '',
    );
    const action = form.get('Action');

    let call: AssumeRoleCall | undefined;
    if (action === 'AssumeRole') {
      call = {
        roleArn: form.get('RoleArn') ?? '',
        sessionName: form.get('RoleSessionName') ?? '',
        at,
        status: 0,
      };
      const externalId = form.get('ExternalId');
      if (externalId !== null) call.externalId = externalId;
      const duration = form.get('DurationSeconds');
      if (duration !== null) call.durationSeconds = Number(duration);
      fake.assumeRoleCalls.push(call);
    }
    const fail = (status: number, code: string, message: string): void => {
      if (call) {
        call.status = status;
        call.errorCode = code;
      }
      stsError(res, status, code, message);
    };

    if (req.method !== 'POST' || (req.url ?? '/').split('?')[0] !== '/')
      return fail(404, 'InvalidAction', 'Only POST / is supported by this fake.');
    // Only the caller's long-term key is known to STS here (no role chaining).
    const sig = verifySigV4(
      req,
      body,
      'sts',
      () => true,
      (akid) => (akid === caller.accessKeyId ? caller : undefined),
    );
    if (call) call.region = sig.region;
    if (!sig.ok)
      return fail(sig.reason === 'incomplete' ? 400 : 403, STS_SIG_ERRORS[sig.reason], sig.message);
    if (contentType !== 'application/x-www-form-urlencoded')
      return fail(400, 'InvalidParameterValue', 'Content-Type must be application/x-www-form-urlencoded.');
    if (action !== 'AssumeRole' || call === undefined)
      return fail(
        400,
        'InvalidAction',
        `Could not find operation ${action ?? ''} for version ${form.get('Version') ?? ''}`,
      );
    if (form.get('Version') !== '2011-06-15')
      return fail(
        400,
        'InvalidAction',
        `Could not find operation AssumeRole for version ${form.get('Version') ?? ''}`,
      );

    const validation: string[] = [];
    const roleArn = call.roleArn;
    const sessionName = call.sessionName;
    if (form.get('RoleArn') === null)
      validation.push("Value null at 'roleArn' failed to satisfy constraint: Member must not be null");
    else if (roleArn.length < 20 || roleArn.length > 2048)
      validation.push(
        `Value '${roleArn}' at 'roleArn' failed to satisfy constraint: Member must have length between 20 and 2048`,
      );
    if (form.get('RoleSessionName') === null)
      validation.push(
        "Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null",
      );
    else if (!/^[\w+=,.@-]{2,64}$/.test(sessionName))
      validation.push(
        `Value '${sessionName}' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]* and have length between 2 and 64`,
      );
    if (call.externalId !== undefined && !/^[\w+=,.@:/-]{2,1224}$/.test(call.externalId))
      validation.push(
        `Value '${call.externalId}' at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@:\\/-]* and have length between 2 and 1224`,
      );
    if (
      call.durationSeconds !== undefined &&
      !(
        Number.isInteger(call.durationSeconds) &&
        call.durationSeconds >= 900 &&
        call.durationSeconds <= 43200
      )
    )
      validation.push(
        `Value '${form.get('DurationSeconds') ?? ''}' at 'durationSeconds' failed to satisfy constraint: Member must have value between 900 and 43200`,
      );
    if (validation.length > 0)
      return fail(
        400,
        'ValidationError',
        `${validation.length} validation error${validation.length > 1 ? 's' : ''} detected: ${validation.join('; ')}`,
      );

    const role = Object.hasOwn(options.roles, roleArn) ? options.roles[roleArn] : undefined;
    const parsedArn = ROLE_ARN.exec(roleArn);
    if (role === undefined || parsedArn === null || call.externalId !== role.externalId)
      return fail(
        403,
        'AccessDenied',
        `User: ${caller.accessKeyId} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      );
    const accountId = parsedArn[1] ?? '';
    const roleName = parsedArn[2] ?? '';
    const seconds = options.credentialSeconds ?? call.durationSeconds ?? 3600;
    const expiresAt = Math.floor((Date.now() + seconds * 1000) / 1000) * 1000;
    const credential: HeldCredential = {
      accessKeyId: `ASIA${randomChars(UPPER_ALNUM, 16)}`,
      secretAccessKey: crypto.randomBytes(30).toString('base64'),
      sessionToken: `FwoGZXIvYXdzE${crypto.randomBytes(180).toString('base64')}`,
      issued: {
        accountId,
        roleArn,
        assumedRoleArn: `arn:aws:sts::${accountId}:assumed-role/${roleName}/${sessionName}`,
        expiresAt,
      },
    };
    issued.set(credential.accessKeyId, credential);
    const roleId = `AROA${sha256Hex(roleArn)
      .slice(0, 17)
      .toUpperCase()
      .replace(/[^A-Z2-7]/g, (c) => UPPER_ALNUM[c.charCodeAt(0) % 32] ?? 'A')}`;
    const requestId = crypto.randomUUID();
    call.status = 200;
    res.writeHead(200, { 'content-type': 'text/xml', 'x-amzn-requestid': requestId });
    res.end(
      `<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>${credential.accessKeyId}</AccessKeyId>
      <SecretAccessKey>${xmlEscape(credential.secretAccessKey)}</SecretAccessKey>
      <SessionToken>${xmlEscape(credential.sessionToken ?? '')}</SessionToken>
      <Expiration>${isoSeconds(expiresAt)}</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <AssumedRoleId>${roleId}:${xmlEscape(sessionName)}</AssumedRoleId>
      <Arn>${xmlEscape(credential.issued?.assumedRoleArn ?? '')}</Arn>
    </AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata>
    <RequestId>${requestId}</RequestId>
  </ResponseMetadata>
</AssumeRoleResponse>
`,
    );
  };

  // ---------------------------------------------------------------------------------------------
  // Security Hub

  const SH_SIG_ERRORS: Record<SigFailureReason, string> = {
    missing: 'MissingAuthenticationTokenException',
    incomplete: 'IncompleteSignatureException',
    'unknown-key': 'UnrecognizedClientException',
    mismatch: 'InvalidSignatureException',
    'expired-token': 'ExpiredTokenException',
  };

  const takeToken = (key: string): boolean => {
    const now = throttleHeldAt ?? Date.now();
    const bucket = buckets.get(key) ?? { tokens: burst, last: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.last) / 1000) * ratePerSecond);
    bucket.last = now;
    buckets.set(key, bucket);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  };

  /** BatchUpdateFindingsV2, once the request is signed, allowed and within the throttle. */
  const batchUpdateV2 = (
    body: unknown,
    bodyIsJson: boolean,
    answer: (status: number, payload: unknown) => void,
    error: (status: number, type: string, message: string) => void,
  ): void => {
    if (!bodyIsJson) return error(400, 'ValidationException', 'The request body is not valid JSON.');
    const invalid = validateBatchUpdateV2(body);
    if (invalid !== undefined || !isRecord(body))
      return error(400, 'ValidationException', invalid ?? 'Invalid input');
    // Each finding named, as AWS names it back: by its identifier, or by the metadata.uid it was asked by.
    const named: { finding: FakeOcsfFinding | undefined; key: string; name: Record<string, unknown> }[] =
      Array.isArray(body.MetadataUids)
        ? (body.MetadataUids as string[]).map((uid) => {
            const finding = [...fake.ocsfFindings.values()].find((f) => f.MetadataUid === uid);
            return { finding, key: finding ? ocsfKey(finding) : '', name: { MetadataUid: uid } };
          })
        : (body.FindingIdentifiers as OcsfIdentifier[]).map((i) => {
            const identifier: OcsfIdentifier = {
              CloudAccountUid: i.CloudAccountUid,
              FindingInfoUid: i.FindingInfoUid,
              MetadataProductUid: i.MetadataProductUid,
            };
            return {
              finding: fake.ocsfFindings.get(ocsfKey(identifier)),
              key: ocsfKey(identifier),
              name: { FindingIdentifier: identifier },
            };
          });
    const processed: Record<string, unknown>[] = [];
    const unprocessed: Record<string, unknown>[] = [];
    for (const { finding, key, name } of named) {
      const refusal = ocsfRefusals.get(key);
      if (refusal && refusal.remaining > 0) {
        refusal.remaining -= 1;
        unprocessed.push({ ...name, ErrorCode: refusal.errorCode, ErrorMessage: refusal.errorCode });
        continue;
      }
      if (finding === undefined) {
        unprocessed.push({
          ...name,
          ErrorCode: 'ResourceNotFoundException',
          ErrorMessage: 'Finding not found',
        });
        continue;
      }
      if (typeof body.StatusId === 'number') finding.StatusId = body.StatusId;
      if (typeof body.SeverityId === 'number') finding.SeverityId = body.SeverityId;
      if (typeof body.Comment === 'string') finding.Comment = body.Comment;
      finding.updates += 1;
      processed.push(name);
    }
    answer(200, { ProcessedFindings: processed, UnprocessedFindings: unprocessed });
  };

  const handleSecurityHub = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<void> => {
    const at = Date.now();
    const raw = await readBody(req);
    let body: unknown = undefined;
    let bodyIsJson = true;
    if (raw.length > 0) {
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        body = raw.toString('utf8');
        bodyIsJson = false;
      }
    }
    const path = (req.url ?? '/').split('?')[0];
    const operation =
      req.method === 'PATCH' && path === '/findings/batchupdate'
        ? 'BatchUpdateFindings'
        : req.method === 'PATCH' && path === '/findingsv2/batchupdatev2'
          ? 'BatchUpdateFindingsV2'
          : req.method === 'POST' && path === '/findings'
            ? 'GetFindings'
            : '';
    const record: RecordedSecurityHubRequest = {
      at,
      region: '',
      accountId: '',
      accessKeyId: '',
      status: 0,
      body,
      operation,
    };
    fake.securityHubRequests.push(record);

    const answer = (status: number, payload: unknown, errorType?: string): void => {
      record.status = status;
      if (errorType !== undefined) record.errorType = errorType;
      const headers: http.OutgoingHttpHeaders = {
        'content-type': 'application/json',
        'x-amzn-requestid': crypto.randomUUID(),
      };
      if (errorType !== undefined) headers['x-amzn-errortype'] = errorType;
      const text = JSON.stringify(payload);
      const send = (): void => {
        if (res.destroyed) return;
        res.writeHead(status, headers);
        res.end(text);
      };
      if (operation.startsWith('BatchUpdateFindings') && heldAnswers !== undefined) {
        heldAnswers.push(send);
      } else if (operation.startsWith('BatchUpdateFindings') && latencyMs > 0) {
        const timer = setTimeout(() => {
          timers.delete(timer);
          send();
        }, latencyMs);
        timers.add(timer);
      } else send();
    };
    const error = (status: number, type: string, message: string): void =>
      answer(status, { __type: type, Code: type, Message: message }, type);

    const sig = verifySigV4(
      req,
      raw,
      'securityhub',
      (r) => regions.includes(r),
      (akid) => issued.get(akid) ?? (akid === caller.accessKeyId ? caller : undefined),
    );
    record.region = sig.region;
    record.accessKeyId = sig.accessKeyId;
    if (!sig.ok)
      return error(sig.reason === 'incomplete' ? 400 : 403, SH_SIG_ERRORS[sig.reason], sig.message);
    const issuedTo = sig.credential.issued;
    if (issuedTo === undefined)
      // The caller's own identity has no Security Hub permissions: Vigil must act through the assumed role.
      return error(
        403,
        'AccessDeniedException',
        `User: ${sig.accessKeyId} is not authorized to perform: securityhub:${operation || 'Unknown'} because no identity-based policy allows it`,
      );
    record.accountId = issuedTo.accountId;
    // IAM decides before anything else: a role whose policy lacks the action is refused, as AWS words it.
    const allowed = Object.hasOwn(options.roles, issuedTo.roleArn)
      ? options.roles[issuedTo.roleArn]?.actions
      : undefined;
    if (operation !== '' && allowed !== undefined && !allows(allowed, `securityhub:${operation}`))
      return error(
        403,
        'AccessDeniedException',
        `User: ${issuedTo.assumedRoleArn} is not authorized to perform: securityhub:${operation} on resource: arn:aws:securityhub:${sig.region}:${issuedTo.accountId}:hub/default because no identity-based policy allows the securityhub:${operation} action`,
      );

    if (!takeToken(`${issuedTo.accountId}|${sig.region}`)) {
      // Each API names its throttling its own way (V2's is ThrottlingException).
      const [type, message] =
        operation === 'BatchUpdateFindings' || operation === 'BatchUpdateFindingsV2'
          ? (FORCED_ERRORS[operation][429] ?? ['LimitExceededException', 'Rate exceeded'])
          : ['LimitExceededException', 'Rate exceeded'];
      return error(429, type, message);
    }
    if (operation === '')
      return error(404, 'UnknownOperationException', `No operation for ${req.method ?? ''} ${path ?? ''}`);

    if (operation === 'GetFindings') {
      if (!bodyIsJson || (body !== undefined && !isRecord(body)))
        return error(400, 'InvalidInputException', 'The request body must be a JSON object.');
      const input = body ?? {};
      const maxResults = input.MaxResults ?? 100;
      if (!isIntIn(maxResults, 1, 100))
        return error(
          400,
          'InvalidInputException',
          "Invalid parameter 'MaxResults'. Must be between 1 and 100.",
        );
      const start =
        typeof input.NextToken === 'string' ? Number(Buffer.from(input.NextToken, 'base64').toString()) : 0;
      if (!Number.isInteger(start) || start < 0)
        return error(400, 'InvalidInputException', "Invalid parameter 'NextToken'.");
      const all = [...fake.findings.values()];
      const page = all.slice(start, start + Number(maxResults));
      const out: Record<string, unknown> = {
        Findings: page.map(({ updates: _updates, ...f }) => ({
          ...f,
          AwsAccountId: issuedTo.accountId,
          Region: sig.region,
        })),
      };
      if (start + page.length < all.length)
        out.NextToken = Buffer.from(String(start + page.length)).toString('base64');
      return answer(200, out);
    }

    const forced = forcedFailures[operation].shift();
    const forcedError = forced === undefined ? undefined : FORCED_ERRORS[operation][forced];
    if (forced !== undefined && forcedError !== undefined) return error(forced, ...forcedError);
    if (operation === 'BatchUpdateFindingsV2') return batchUpdateV2(body, bodyIsJson, answer, error);

    // BatchUpdateFindings
    if (!bodyIsJson) return error(400, 'InvalidInputException', 'The request body is not valid JSON.');
    const invalid = validateBatchUpdate(body);
    if (invalid !== undefined || !isRecord(body))
      return error(400, 'InvalidInputException', invalid ?? 'Invalid input');

    const identifiers = (body.FindingIdentifiers as { Id: string; ProductArn: string }[]).map((i) => ({
      Id: i.Id,
      ProductArn: i.ProductArn,
    }));
    const seen = new Map<string, number>();
    for (const i of identifiers)
      seen.set(`${i.ProductArn}|${i.Id}`, (seen.get(`${i.ProductArn}|${i.Id}`) ?? 0) + 1);
    const processed: { Id: string; ProductArn: string }[] = [];
    const unprocessed: {
      FindingIdentifier: { Id: string; ProductArn: string };
      ErrorCode: string;
      ErrorMessage: string;
    }[] = [];
    const unprocess = (identifier: { Id: string; ProductArn: string }, code: string): void => {
      unprocessed.push({
        FindingIdentifier: identifier,
        ErrorCode: code,
        ErrorMessage: ERROR_MESSAGES[code] ?? code,
      });
    };
    const reportedDuplicates = new Set<string>();
    const now = new Date().toISOString();
    for (const identifier of identifiers) {
      const key = `${identifier.ProductArn}|${identifier.Id}`;
      if ((seen.get(key) ?? 0) > 1) {
        // Every copy of a duplicated identifier is left alone; it is reported once.
        if (!reportedDuplicates.has(key)) unprocess(identifier, 'DuplicatedFindingIdentifier');
        reportedDuplicates.add(key);
        continue;
      }
      const refusal = refusals.get(key);
      if (refusal && refusal.remaining > 0) {
        refusal.remaining -= 1;
        unprocess(identifier, refusal.errorCode);
        continue;
      }
      const finding = fake.findings.get(key);
      if (finding === undefined) {
        unprocess(identifier, 'FindingNotFound');
        continue;
      }
      if (isRecord(body.Workflow) && typeof body.Workflow.Status === 'string')
        finding.Workflow = { Status: body.Workflow.Status };
      if (isRecord(body.Severity)) {
        const label = body.Severity.Label;
        const normalized = body.Severity.Normalized;
        if (typeof label === 'string') finding.Severity = { Label: label };
        else if (typeof normalized === 'number') finding.Severity = { Label: labelForNormalized(normalized) };
      }
      if (
        isRecord(body.Note) &&
        typeof body.Note.Text === 'string' &&
        typeof body.Note.UpdatedBy === 'string'
      )
        finding.Note = { Text: body.Note.Text, UpdatedBy: body.Note.UpdatedBy, UpdatedAt: now };
      finding.updates += 1;
      processed.push(identifier);
    }
    answer(200, { ProcessedFindings: processed, UnprocessedFindings: unprocessed });
  };

  // ---------------------------------------------------------------------------------------------
  // Servers

  const serve =
    (handler: (req: http.IncomingMessage, res: http.ServerResponse) => Promise<void>) =>
    (req: http.IncomingMessage, res: http.ServerResponse): void => {
      handler(req, res).catch((err: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { 'content-type': 'text/plain' });
          res.end(String(err));
        }
      });
    };
  const stsServer = http.createServer(serve(handleSts));
  const securityHubServer = http.createServer(serve(handleSecurityHub));
  const listen = async (server: http.Server): Promise<string> => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  };
  fake.stsUrl = await listen(stsServer);
  fake.securityHubUrl = await listen(securityHubServer);
  const closeServer = (server: http.Server): Promise<void> =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  fake.close = async () => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
    await Promise.all([closeServer(stsServer), closeServer(securityHubServer)]);
  };
  return fake;
}

/** The largest number of requests accepted (non-429) in any 1-second window, per account+region, for asserting rate limits. */
export function maxRequestsPerSecond(requests: RecordedSecurityHubRequest[], onlyAccepted = true): number {
  const groups = new Map<string, number[]>();
  for (const r of requests) {
    if (onlyAccepted && r.status === 429) continue;
    const key = `${r.accountId}|${r.region}`;
    const times = groups.get(key) ?? [];
    times.push(r.at);
    groups.set(key, times);
  }
  let max = 0;
  for (const times of groups.values()) {
    times.sort((a, b) => a - b);
    let start = 0;
    for (let end = 0; end < times.length; end++) {
      while ((times[end] ?? 0) - (times[start] ?? 0) >= 1000) start++;
      max = Math.max(max, end - start + 1);
    }
  }
  return max;
}
