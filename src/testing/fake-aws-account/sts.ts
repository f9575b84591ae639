import crypto from 'node:crypto';
import type { HeldCredential } from '../sigv4-verify.js';
import {
  evaluatePolicy,
  parsePolicy,
  roleArnOfSession,
  type IamStore,
  type PolicyCaller,
  type PolicyRequest,
} from './iam.js';
import {
  awsUniqueId,
  createQueryService,
  tagPairs,
  Validation,
  type QueryContext,
  type QueryService,
} from './query-protocol.js';
import { FakeAwsError, type FakeCaller } from './types.js';
import type { FakeAwsWorld } from './world.js';

/**
 * STS (Query protocol, Version 2011-06-15): GetCallerIdentity, and AssumeRole decided by the role's
 * trust policy as it stands in the fake IAM, so a test proves the role `vigil aws setup` made is
 * assumable with the external id and refused without it.
 */

const VERSION = '2011-06-15';
const NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
/** AWS's limit for a session a role session starts (role chaining). */
const CHAINED_SESSION_SECONDS = 3600;

export interface AssumeRoleCall {
  at: number;
  callerArn: string;
  roleArn?: string;
  roleSessionName?: string;
  externalId?: string;
  durationSeconds?: number;
  /** What the fake answered: 200, or the error's HTTP status. */
  status: number;
  errorCode?: string;
}

/** What STS knows of a session it started, beyond the credential. */
interface Session {
  credential: HeldCredential;
  roleId: string;
  sessionName: string;
}

export interface StsService extends QueryService {
  /** Every AssumeRole that reached STS (not those the server refused before: signature, denial). */
  assumeRoleCalls: AssumeRoleCall[];
  /** A credential AssumeRole issued, for the server's signature check. */
  credential(accessKeyId: string): HeldCredential | undefined;
  /** The role ARN (with its path) behind a session's access key. */
  sessionRoleArn(accessKeyId: string): string | undefined;
}

function userIdOf(arn: string, account: string): string {
  if (arn.endsWith(':root')) return account;
  const session = /^arn:aws:sts::\d{12}:assumed-role\/[^/]+\/(.+)$/.exec(arn);
  if (session) return `${awsUniqueId('AROA', 17, arn)}:${session[1] ?? ''}`;
  return awsUniqueId('AIDA', 17, arn);
}

export function createStsService(
  world: FakeAwsWorld,
  deps: { iam: IamStore; callers: readonly FakeCaller[] },
): StsService {
  const sessions = new Map<string, Session>();
  const assumeRoleCalls: AssumeRoleCall[] = [];

  const liveSession = (accessKeyId: string): Session | undefined => sessions.get(accessKeyId);

  const policyCaller = (ctx: QueryContext): PolicyCaller => {
    const roleArn = liveSession(ctx.request.caller.accessKeyId)?.credential.issued?.roleArn;
    return {
      arn: ctx.request.caller.arn,
      account: ctx.request.caller.account,
      ...(roleArn !== undefined ? { roleArn } : {}),
    };
  };

  const assumeRole = (ctx: QueryContext) => {
    const p = ctx.params;
    const v = new Validation();
    const roleArn = p.get('RoleArn');
    if (v.required(roleArn, 'roleArn')) v.length(roleArn, 'roleArn', 20, 2048);
    const sessionName = p.get('RoleSessionName');
    if (v.required(sessionName, 'roleSessionName')) {
      v.length(sessionName, 'roleSessionName', 2, 64);
      v.pattern(sessionName, 'roleSessionName', /^[\w+=,.@-]*$/, '[\\w+=,.@-]*');
    }
    const externalId = p.get('ExternalId');
    v.length(externalId, 'externalId', 2, 1224);
    v.pattern(externalId, 'externalId', /^[\w+=,.@:/-]*$/, '[\\w+=,.@:\\/-]*');
    const duration = v.integer(p.get('DurationSeconds'), 'durationSeconds', 900, 43200);
    const sourceIdentity = p.get('SourceIdentity');
    v.length(sourceIdentity, 'sourceIdentity', 2, 64);
    v.pattern(sourceIdentity, 'sourceIdentity', /^[\w+=,.@-]*$/, '[\\w+=,.@-]*');
    const sessionPolicy = p.get('Policy');
    v.length(sessionPolicy, 'policy', 1, 2048);
    const tags = tagPairs(p) ?? [];
    v.count(tags.length, 'tags', 50);
    v.throwIfAny();
    if (sessionPolicy !== undefined) {
      const doc = parsePolicy(sessionPolicy, 'identity');
      if (typeof doc === 'string') throw new FakeAwsError(400, 'MalformedPolicyDocument', doc);
    }
    if (roleArn === undefined || sessionName === undefined) return undefined;

    const caller = policyCaller(ctx);
    const denied = new FakeAwsError(
      403,
      'AccessDenied',
      `User: ${caller.arn} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    );
    const role = deps.iam.byArn(roleArn);
    if (role === undefined) throw denied;
    const request = (action: string): PolicyRequest => ({
      action,
      caller,
      context: {
        'sts:externalid': externalId,
        'sts:rolesessionname': sessionName,
        'aws:principalarn': caller.roleArn ?? caller.arn,
        'aws:principalaccount': caller.account,
        ...(sourceIdentity !== undefined ? { 'sts:sourceidentity': sourceIdentity } : {}),
      },
    });
    // The trust policy as it stands now: an update since the role was made takes effect at once.
    const trust = parsePolicy(role.trustPolicy, 'trust');
    if (typeof trust === 'string' || evaluatePolicy(trust, request('sts:AssumeRole')) !== 'allow')
      throw denied;
    // Session tags and a source identity each need their own permission in the trust policy.
    if (tags.length > 0 && evaluatePolicy(trust, request('sts:TagSession')) !== 'allow')
      throw new FakeAwsError(
        403,
        'AccessDenied',
        `User: ${caller.arn} is not authorized to perform: sts:TagSession on resource: ${roleArn}`,
      );
    if (sourceIdentity !== undefined && evaluatePolicy(trust, request('sts:SetSourceIdentity')) !== 'allow')
      throw new FakeAwsError(
        403,
        'AccessDenied',
        `User: ${caller.arn} is not authorized to perform: sts:SetSourceIdentity on resource: ${roleArn}`,
      );

    const chained = liveSession(ctx.request.caller.accessKeyId) !== undefined;
    if (chained && duration !== undefined && duration > CHAINED_SESSION_SECONDS)
      throw new FakeAwsError(
        400,
        'ValidationError',
        'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.',
      );
    if (duration !== undefined && duration > role.maxSessionDuration)
      throw new FakeAwsError(
        400,
        'ValidationError',
        'The requested DurationSeconds exceeds the MaxSessionDuration set for this role.',
      );

    const seconds = duration ?? 3600;
    const expiresAt = Math.floor(Date.now() / 1000 + seconds) * 1000;
    const assumedRoleArn = `arn:aws:sts::${role.account}:assumed-role/${role.name}/${sessionName}`;
    const credential: HeldCredential = {
      accessKeyId: awsUniqueId('ASIA', 16),
      secretAccessKey: crypto.randomBytes(30).toString('base64'),
      sessionToken: `IQoJb3JpZ2luX2VjE${crypto.randomBytes(192).toString('base64')}`,
      issued: { accountId: role.account, roleArn: role.arn, assumedRoleArn, expiresAt },
    };
    sessions.set(credential.accessKeyId, { credential, roleId: role.roleId, sessionName });
    return {
      Credentials: {
        AccessKeyId: credential.accessKeyId,
        SecretAccessKey: credential.secretAccessKey,
        SessionToken: credential.sessionToken,
        Expiration: new Date(expiresAt),
      },
      AssumedRoleUser: { AssumedRoleId: `${role.roleId}:${sessionName}`, Arn: assumedRoleArn },
      ...(sourceIdentity !== undefined ? { SourceIdentity: sourceIdentity } : {}),
    };
  };

  const service = createQueryService({
    version: VERSION,
    namespace: NAMESPACE,
    newId: world.newId,
    operations: {
      GetCallerIdentity: {
        mutating: false,
        run(ctx) {
          const { arn, account, accessKeyId } = ctx.request.caller;
          const session = liveSession(accessKeyId);
          return {
            UserId: session ? `${session.roleId}:${session.sessionName}` : userIdOf(arn, account),
            Account: account,
            Arn: arn,
          };
        },
      },
      AssumeRole: {
        // It changes no resource; a dry run may still try it to check the role.
        mutating: false,
        resource: (ctx) => ctx.params.get('RoleArn'),
        run(ctx) {
          const p = ctx.params;
          const duration = p.get('DurationSeconds');
          const call: AssumeRoleCall = {
            at: Date.now(),
            callerArn: ctx.request.caller.arn,
            status: 0,
          };
          const roleArn = p.get('RoleArn');
          const sessionName = p.get('RoleSessionName');
          const externalId = p.get('ExternalId');
          if (roleArn !== undefined) call.roleArn = roleArn;
          if (sessionName !== undefined) call.roleSessionName = sessionName;
          if (externalId !== undefined) call.externalId = externalId;
          if (duration !== undefined) call.durationSeconds = Number(duration);
          assumeRoleCalls.push(call);
          try {
            const result = assumeRole(ctx);
            call.status = 200;
            return result;
          } catch (err) {
            if (err instanceof FakeAwsError) {
              call.status = err.status;
              call.errorCode = err.code;
            }
            throw err;
          }
        },
      },
    },
  });

  return {
    ...service,
    assumeRoleCalls,
    credential: (accessKeyId) => liveSession(accessKeyId)?.credential,
    sessionRoleArn: (accessKeyId) =>
      liveSession(accessKeyId)?.credential.issued?.roleArn ??
      roleArnOfSession(deps.callers.find((c) => c.accessKeyId === accessKeyId)?.arn ?? ''),
  };
}
