/**
 * Vigil's own AWS identity, which each write-back role's trust policy names. Configured
 * (VIGIL_AWS_PRINCIPAL_ARN) or asked of STS with Vigil's credentials; GetCallerIdentity needs no
 * permission, but without credentials there is no answer, and then the templates leave it a parameter.
 */

export interface VigilPrincipal {
  arn: string;
  source: 'configured' | 'GetCallerIdentity';
}

/** A trust policy names a role, not one of its sessions: assumed-role/Name/session becomes role/Name. */
export function trustablePrincipal(callerArn: string): string {
  const assumed = /^arn:(aws[\w-]*):sts::(\d{12}):assumed-role\/([\w+=,.@-]+)\/[^/]+$/.exec(callerArn);
  if (assumed) return `arn:${assumed[1]}:iam::${assumed[2]}:role/${assumed[3]}`;
  return callerArn;
}

/** A failed lookup is not retried for this long, so a page of templates does not wait on it each time. */
const RETRY_AFTER_MS = 60_000;

export function createVigilPrincipal(options: { configured?: string; env?: NodeJS.ProcessEnv }) {
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
    const [{ GetCallerIdentityCommand, STSClient }, { fromNodeProviderChain }, { awsRequestHandler }] =
      await Promise.all([
        import('@aws-sdk/client-sts'),
        import('@aws-sdk/credential-providers'),
        import('../writeback/aws-sdk.js'),
      ]);
    const client = new STSClient({
      region: await regionOf(STSClient),
      requestHandler: awsRequestHandler(options.env),
      credentials: fromNodeProviderChain(),
      maxAttempts: 1,
    });
    try {
      const identity = await client.send(new GetCallerIdentityCommand({}), {
        abortSignal: AbortSignal.timeout(5000),
      });
      return identity.Arn
        ? { arn: trustablePrincipal(identity.Arn), source: 'GetCallerIdentity' }
        : undefined;
    } catch {
      return undefined;
    } finally {
      client.destroy();
    }
  }

  return {
    async get(): Promise<VigilPrincipal | undefined> {
      if (known) return known;
      if (Date.now() - failedAt < RETRY_AFTER_MS) return undefined;
      pending ??= ask().then((found) => {
        pending = undefined;
        if (found) known = found;
        else failedAt = Date.now();
        return found;
      });
      return pending;
    },
  };
}

export type VigilPrincipalSource = ReturnType<typeof createVigilPrincipal>;
