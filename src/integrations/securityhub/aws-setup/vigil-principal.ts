import { systemClock, type Clock } from '../../../work/clock.js';

/**
 * Vigil's own AWS identity, which each write-back role's trust policy names. Configured
 * (VIGIL_AWS_PRINCIPAL_ARN) or asked of STS with Vigil's credentials; GetCallerIdentity needs no
 * permission, but without credentials there is no answer, and then the templates leave it a parameter.
 * A role's session does not show the role's path (AWS SSO's aws-reserved/sso.amazonaws.com/,
 * service-role/), and IAM refuses a trust policy naming the role without it, so the role's ARN is asked
 * of IAM (iam:GetRole on Vigil's own role); when IAM refuses that, the role's ARN without a path is used.
 * Any other failure (a timeout, throttling, IAM unavailable) is no answer, asked again later: a guess
 * kept for the process's life would put a role with a path wrongly in every template.
 */

export interface VigilPrincipal {
  arn: string;
  source: 'configured' | 'GetCallerIdentity';
}

/**
 * The role behind an STS session (arn:aws:sts::A:assumed-role/Name/session): a trust policy names the
 * role, not one of its sessions. Its path is not in the session's ARN.
 */
export function sessionRole(
  callerArn: string,
): { partition: string; account: string; name: string } | undefined {
  const assumed = /^arn:(aws[\w-]*):sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/[^/]+$/.exec(callerArn);
  if (!assumed?.[1] || !assumed[2] || !assumed[3]) return undefined;
  return { partition: assumed[1], account: assumed[2], name: assumed[3] };
}

/** A failed lookup is not retried for this long, so a page of templates does not wait on it each time. */
const RETRY_AFTER_MS = 60_000;

/** IAM's answer that the caller may not call iam:GetRole (an SCP's or a permissions boundary's too). */
const REFUSED = new Set(['AccessDenied', 'AccessDeniedException']);

export function createVigilPrincipal(options: {
  configured?: string;
  env?: NodeJS.ProcessEnv;
  clock?: Pick<Clock, 'now'>;
}) {
  const clock = options.clock ?? systemClock;
  let known: VigilPrincipal | undefined = options.configured
    ? { arn: options.configured, source: 'configured' }
    : undefined;
  let failedAt = -Infinity;
  let pending: Promise<VigilPrincipal | undefined> | undefined;

  /**
   * Where to ask: Vigil's credentials are refused by another partition's STS (GovCloud's and China's
   * by us-east-1), so the region is the one given (AWS_REGION), else the SDK's own choice (the
   * environment, the profile's region), and us-east-1 only when neither names one.
   */
  async function regionOf(Client: typeof import('@aws-sdk/client-sts').STSClient): Promise<string> {
    const given = options.env?.AWS_REGION;
    if (given) return given;
    const defaults = new Client({});
    try {
      return await defaults.config.region();
    } catch {
      return 'us-east-1';
    } finally {
      defaults.destroy();
    }
  }

  async function ask(): Promise<VigilPrincipal | undefined> {
    // The AWS SDK loads on this first lookup, not with Vigil (writeback/aws.ts says why).
    const [
      { GetCallerIdentityCommand, STSClient },
      { GetRoleCommand, IAMClient },
      { fromNodeProviderChain },
      { awsRequestHandler },
      { iamRegionFor },
    ] = await Promise.all([
      import('@aws-sdk/client-sts'),
      import('@aws-sdk/client-iam'),
      import('@aws-sdk/credential-providers'),
      import('../writeback/aws-sdk.js'),
      import('./aws-context.js'),
    ]);
    const common = {
      requestHandler: awsRequestHandler(options.env),
      credentials: fromNodeProviderChain(),
      maxAttempts: 1,
    };
    const sts = new STSClient({ ...common, region: await regionOf(STSClient) });
    try {
      const identity = await sts.send(new GetCallerIdentityCommand({}), {
        abortSignal: AbortSignal.timeout(5000),
      });
      if (!identity.Arn) return undefined;
      const role = sessionRole(identity.Arn);
      if (!role) return { arn: identity.Arn, source: 'GetCallerIdentity' };
      // Most roles have no path, and most may not call iam:GetRole on themselves (an ECS task role): then
      // the ARN without a path is the best guess, and IAM's "Invalid principal" refusal of it says to
      // give the identity (aws-errors.ts). IAM failing otherwise says nothing about the path.
      const guess = `arn:${role.partition}:iam::${role.account}:role/${role.name}`;
      const iam = new IAMClient({ ...common, region: iamRegionFor(role.partition) });
      try {
        const found = await iam.send(new GetRoleCommand({ RoleName: role.name }), {
          abortSignal: AbortSignal.timeout(5000),
        });
        return { arn: found.Role?.Arn ?? guess, source: 'GetCallerIdentity' };
      } catch (error) {
        if (!REFUSED.has((error as { name?: string } | undefined)?.name ?? '')) return undefined;
        return { arn: guess, source: 'GetCallerIdentity' };
      } finally {
        iam.destroy();
      }
    } catch {
      return undefined;
    } finally {
      sts.destroy();
    }
  }

  return {
    async get(): Promise<VigilPrincipal | undefined> {
      if (known) return known;
      if (clock.now().getTime() - failedAt < RETRY_AFTER_MS) return undefined;
      pending ??= ask().then((found) => {
        pending = undefined;
        if (found) known = found;
        else failedAt = clock.now().getTime();
        return found;
      });
      return pending;
    },
  };
}

export type VigilPrincipalSource = ReturnType<typeof createVigilPrincipal>;
