import http from 'node:http';
import type net from 'node:net';
import { readBody, verifySigV4, type HeldCredential, type SigFailureReason } from '../sigv4-verify.js';
import { createEventsService } from './events.js';
import { createIamService, type FakeRoleView, type IamService } from './iam.js';
import { QueryParams, type QueryService } from './query-protocol.js';
import { createSecurityHubService } from './securityhub.js';
import {
  createSnsService,
  type FakeTopicView,
  type SnsService,
  type SubscriptionConfirmation,
} from './sns.js';
import { createStsService, type AssumeRoleCall, type StsService } from './sts.js';
import {
  FakeAwsError,
  type FakeCallRecord,
  type FakeCaller,
  type FakeRequest,
  type FakeResponse,
  type FakeService,
} from './types.js';
import { createFakeAwsWorld, type FakeAwsWorld } from './world.js';

/**
 * One fake AWS account (or several: one per caller's account) behind one local HTTP endpoint, serving
 * STS, IAM, SNS, EventBridge and Security Hub in their own wire protocols, so the official SDK v3 runs
 * unchanged against it through `endpoint` or AWS_ENDPOINT_URL_<SERVICE>. The server does what AWS does
 * before any service sees a request: it routes by the SigV4 credential scope, verifies the signature
 * against the callers' secrets and the sessions STS started, and applies the test's denials.
 */

export type { SubscriptionConfirmation } from './sns.js';
export type { AssumeRoleCall } from './sts.js';
export type { FakeRoleView } from './iam.js';
export type { FakeTopicView } from './sns.js';

export interface FakeAwsAccountOptions {
  /** The identities allowed to call (the operator, Vigil itself). */
  callers: FakeCaller[];
  /** Regions served; a credential scope naming another is refused. Default ['us-east-1']. */
  regions?: string[];
  /** `account:region` where Security Hub is enabled. Default: every caller's account in every region. */
  securityHubEnabled?: string[];
  /** Called (not awaited by the Subscribe request) for each HTTP(S) subscription SNS must confirm. */
  deliverSubscriptionConfirmation?: (c: SubscriptionConfirmation) => Promise<void> | void;
}

export interface FakeAwsServices {
  sts: StsService;
  iam: IamService;
  sns: SnsService;
  events: ReturnType<typeof createEventsService>;
  securityhub: ReturnType<typeof createSecurityHubService>;
}

export interface FakeAwsAccount {
  /** http://127.0.0.1:<port>, for every service. */
  url: string;
  /** AWS_ENDPOINT_URL_<SERVICE> for each service served, all set to `url`. */
  env: Record<string, string>;
  /** Every request received, whatever was answered, in order. */
  calls: FakeCallRecord[];
  /** Every AssumeRole STS evaluated (not those refused before: signature, `deny`). */
  assumeRoleCalls: AssumeRoleCall[];
  /**
   * From now on, refuse `action` ('sns:CreateTopic'; `*` wildcards allowed) with AWS's access denied
   * error, to the caller `arn` (a caller's ARN, a session's ARN, or a role's ARN for all its sessions)
   * or to every caller.
   */
  deny(action: string, arn?: string): void;
  /** Lifts what `deny` set with the same arguments. */
  allow(action: string, arn?: string): void;
  /** What SNS does on a GET of the SubscribeURL: the subscription's ARN, undefined for an unknown token. */
  confirmSubscription(topicArn: string, token: string): string | undefined;
  roles(account: string): FakeRoleView[];
  topics(account: string, region: string): FakeTopicView[];
  services: FakeAwsServices;
  world: FakeAwsWorld;
  /** What deliverSubscriptionConfirmation threw or rejected with. */
  deliveryErrors: unknown[];
  /** Resolves once every deliverSubscriptionConfirmation call has settled. */
  deliveriesSettled(): Promise<void>;
  close(): Promise<void>;
}

type ServiceName = keyof FakeAwsServices;
const SERVICE_NAMES: readonly ServiceName[] = ['sts', 'iam', 'sns', 'events', 'securityhub'];

/** The SDK's endpoint variables: `AWS_ENDPOINT_URL_` and the serviceId upper-cased, spaces as `_`. */
const ENDPOINT_ENV: Record<ServiceName, string> = {
  sts: 'AWS_ENDPOINT_URL_STS',
  iam: 'AWS_ENDPOINT_URL_IAM',
  sns: 'AWS_ENDPOINT_URL_SNS',
  events: 'AWS_ENDPOINT_URL_EVENTBRIDGE',
  securityhub: 'AWS_ENDPOINT_URL_SECURITYHUB',
};

interface ErrorShape {
  status: number;
  code: string;
}

const QUERY_SIGNATURE_ERRORS: Record<SigFailureReason, ErrorShape> = {
  missing: { status: 403, code: 'MissingAuthenticationToken' },
  incomplete: { status: 400, code: 'IncompleteSignature' },
  'unknown-key': { status: 403, code: 'InvalidClientTokenId' },
  mismatch: { status: 403, code: 'SignatureDoesNotMatch' },
  'expired-token': { status: 403, code: 'ExpiredToken' },
};

const JSON_SIGNATURE_ERRORS: Record<SigFailureReason, ErrorShape> = {
  missing: { status: 403, code: 'MissingAuthenticationTokenException' },
  incomplete: { status: 400, code: 'IncompleteSignatureException' },
  'unknown-key': { status: 403, code: 'UnrecognizedClientException' },
  mismatch: { status: 403, code: 'InvalidSignatureException' },
  'expired-token': { status: 403, code: 'ExpiredTokenException' },
};

/** How each service refuses what the server refuses before the service sees the request. */
const REFUSALS: Record<
  ServiceName,
  { signature: Record<SigFailureReason, ErrorShape>; denied: ErrorShape; unknown: ErrorShape }
> = {
  sts: {
    signature: QUERY_SIGNATURE_ERRORS,
    denied: { status: 403, code: 'AccessDenied' },
    unknown: { status: 400, code: 'InvalidAction' },
  },
  iam: {
    signature: QUERY_SIGNATURE_ERRORS,
    denied: { status: 403, code: 'AccessDenied' },
    unknown: { status: 400, code: 'InvalidAction' },
  },
  sns: {
    signature: QUERY_SIGNATURE_ERRORS,
    denied: { status: 403, code: 'AuthorizationError' },
    unknown: { status: 400, code: 'InvalidAction' },
  },
  events: {
    signature: JSON_SIGNATURE_ERRORS,
    denied: { status: 400, code: 'AccessDeniedException' },
    unknown: { status: 400, code: 'UnknownOperationException' },
  },
  securityhub: {
    signature: JSON_SIGNATURE_ERRORS,
    denied: { status: 403, code: 'AccessDeniedException' },
    unknown: { status: 404, code: 'UnknownOperationException' },
  },
};

/** Actions AWS answers whatever the caller's policies say. */
const NEVER_DENIED = new Set(['sts:getcalleridentity']);

function isServiceName(s: string): s is ServiceName {
  return (SERVICE_NAMES as readonly string[]).includes(s);
}

function isQueryService(s: FakeService): s is QueryService {
  return 'unknownOperation' in s && typeof s.unknownOperation === 'function';
}

/** The credential scope of a SigV4 Authorization header, when it has one. */
function scopeOf(authorization: string | undefined): { region: string; service: string } | undefined {
  const m = /Credential=[^/,\s]+\/\d{8}\/([^/,\s]+)\/([^/,\s]+)\/aws4_request/.exec(authorization ?? '');
  return m ? { region: m[1] ?? '', service: m[2] ?? '' } : undefined;
}

/** For a request whose scope names no service served, the service its shape suggests, to word the refusal. */
function guessService(req: http.IncomingMessage, body: Buffer): ServiceName {
  if (String(req.headers['x-amz-target'] ?? '').startsWith('AWSEvents.')) return 'events';
  const version = new URLSearchParams(body.toString('utf8')).get('Version');
  if (version === '2010-05-08') return 'iam';
  if (version === '2010-03-31') return 'sns';
  if (version === '2011-06-15') return 'sts';
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  return path === '/' ? 'sts' : 'securityhub';
}

function wildcardMatch(pattern: string, value: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[\\^$.|?+()[\]{}]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 'i').test(value);
}

export async function startFakeAwsAccount(options: FakeAwsAccountOptions): Promise<FakeAwsAccount> {
  const regions = options.regions ?? ['us-east-1'];
  const callers = options.callers;
  const accounts = [...new Set(callers.map((c) => c.account))];
  const world = createFakeAwsWorld({
    securityHubEnabled:
      options.securityHubEnabled ?? accounts.flatMap((a) => regions.map((r) => `${a}:${r}`)),
  });

  const iam = createIamService(world, { callers });
  const services: FakeAwsServices = {
    iam,
    sts: createStsService(world, { iam: iam.store, callers }),
    sns: createSnsService(
      world,
      options.deliverSubscriptionConfirmation ? { deliver: options.deliverSubscriptionConfirmation } : {},
    ),
    events: createEventsService(world),
    securityhub: createSecurityHubService(world),
  };
  const byName: Record<ServiceName, FakeService> = services;

  const callerByKey = new Map(callers.map((c) => [c.accessKeyId, c]));
  const lookup = (accessKeyId: string): HeldCredential | undefined =>
    callerByKey.get(accessKeyId) ?? services.sts.credential(accessKeyId);
  // IAM is global and signed for us-east-1; STS answers in every region as well as globally.
  const regionOk =
    (service: ServiceName) =>
    (region: string): boolean =>
      regions.includes(region) || ((service === 'iam' || service === 'sts') && region === 'us-east-1');

  const denials: { action: string; arn?: string }[] = [];
  const deniedTo = (action: string, caller: FakeRequest['caller']): boolean => {
    if (NEVER_DENIED.has(action.toLowerCase())) return false;
    const role = services.sts.sessionRoleArn(caller.accessKeyId);
    return denials.some(
      (d) =>
        wildcardMatch(d.action, action) &&
        (d.arn === undefined || d.arn === caller.arn || (role !== undefined && d.arn === role)),
    );
  };

  const calls: FakeCallRecord[] = [];

  const answer = async (req: http.IncomingMessage): Promise<FakeResponse> => {
    const body = await readBody(req);
    const scope = scopeOf(req.headers.authorization);
    const name: ServiceName =
      scope !== undefined && isServiceName(scope.service) ? scope.service : guessService(req, body);
    const service = byName[name];
    const refusals = REFUSALS[name];
    const url = new URL(req.url ?? '/', 'http://fake.invalid');

    const sig = verifySigV4(req, body, name, regionOk(name), lookup);
    const issued = sig.ok ? sig.credential.issued : undefined;
    const known = sig.ok ? callerByKey.get(sig.accessKeyId) : undefined;
    const caller: FakeRequest['caller'] = issued
      ? { arn: issued.assumedRoleArn, account: issued.accountId, accessKeyId: sig.accessKeyId }
      : { arn: known?.arn ?? '', account: known?.account ?? '', accessKeyId: sig.accessKeyId };
    const request: FakeRequest = {
      service: name,
      region: sig.region,
      caller,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: url.searchParams,
      headers: req.headers,
      body,
    };

    let action: string | undefined;
    let input: unknown;
    try {
      action = service.actionOf(request);
      input = service.inputOf(request);
    } catch {
      // A body the service cannot read names no operation; the service's refusal below says so.
    }
    const named = action ?? (isQueryService(service) ? QueryParams.of(request).get('Action') : undefined);
    const record: FakeCallRecord = {
      service: name,
      action: `${name}:${named ?? 'Unknown'}`,
      region: sig.region,
      account: caller.account,
      mutating: action !== undefined && service.isMutating(action),
      status: 0,
      input,
    };
    calls.push(record);

    const refuse = (status: number, code: string, message: string): FakeResponse => {
      record.status = status;
      record.errorCode = code;
      return service.error(status, code, message);
    };

    if (!sig.ok) {
      const shape = refusals.signature[sig.reason];
      return refuse(shape.status, shape.code, sig.message);
    }
    if (action === undefined) {
      if (isQueryService(service)) {
        const err = service.unknownOperation(request);
        return refuse(err.status, err.code, err.message);
      }
      return refuse(
        refusals.unknown.status,
        refusals.unknown.code,
        `No operation for ${request.method} ${request.path}`,
      );
    }
    const qualified = `${name}:${action}`;
    if (deniedTo(qualified, caller)) {
      const resource = (isQueryService(service) ? service.resourceOf(request, action) : undefined) ?? '*';
      return refuse(
        refusals.denied.status,
        refusals.denied.code,
        `User: ${caller.arn} is not authorized to perform: ${qualified} on resource: ${resource} because no identity-based policy allows the ${qualified} action`,
      );
    }
    try {
      const response = await service.handle(request, action);
      record.status = response.status;
      return response;
    } catch (err) {
      if (err instanceof FakeAwsError) return refuse(err.status, err.code, err.message);
      return refuse(
        500,
        name === 'events' || name === 'securityhub' ? 'InternalException' : 'InternalFailure',
        String(err),
      );
    }
  };

  const server = http.createServer((req, res) => {
    answer(req).then(
      (response) => {
        if (res.destroyed) return;
        res.writeHead(response.status, response.headers);
        res.end(response.body);
      },
      (err: unknown) => {
        if (res.headersSent) return;
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;

  return {
    url,
    env: Object.fromEntries(SERVICE_NAMES.map((s) => [ENDPOINT_ENV[s], url])),
    calls,
    assumeRoleCalls: services.sts.assumeRoleCalls,
    deny(action, arn) {
      denials.push(arn === undefined ? { action } : { action, arn });
    },
    allow(action, arn) {
      for (let i = denials.length - 1; i >= 0; i--)
        if (denials[i]?.action === action && denials[i]?.arn === arn) denials.splice(i, 1);
    },
    confirmSubscription: (topicArn, token) => services.sns.confirmSubscription(topicArn, token),
    roles: (account) => services.iam.roles(account),
    topics: (account, region) => services.sns.topics(account, region),
    services,
    world,
    deliveryErrors: services.sns.deliveryErrors,
    deliveriesSettled: () => services.sns.settled(),
    async close() {
      // A delivery the test left hanging must not hang the test's teardown too.
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        services.sns.settled(),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, 2000);
          timer.unref();
        }),
      ]);
      clearTimeout(timer);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
