import {
  BatchUpdateFindingsCommand,
  BatchUpdateFindingsV2Command,
  GetFindingsCommand,
  SecurityHubClient,
  type BatchUpdateFindingsV2CommandInput,
} from '@aws-sdk/client-securityhub';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { OutboundAgent } from '../../../http/outbound.js';
import type { AwsAccessOptions, RoleTarget } from './aws.js';

/**
 * The AWS SDK's side of aws.ts, loaded on the first AWS call. Vigil's own identity (the SDK's default
 * chain) assumes each integration's role with its external ID (the SDK's fromTemporaryCredentials);
 * the short-lived credentials are kept by the SDK client and renewed five minutes before they expire.
 * Every AWS call, STS's included, goes through the same request handler, whose agent honours
 * HTTPS_PROXY and NO_PROXY.
 */

export function awsRequestHandler(
  env: NodeJS.ProcessEnv = process.env,
  ca?: string | Buffer | Array<string | Buffer>,
): NodeHttpHandler {
  return new NodeHttpHandler({
    httpsAgent: new OutboundAgent({ env, keepAlive: true, maxSockets: 50, ...(ca ? { ca } : {}) }),
    connectionTimeout: 5000,
    requestTimeout: 15000,
  });
}

function sessionName(target: RoleTarget): string {
  const name = target.integrationName.replace(/[^\w+=,.@-]+/g, '-');
  return `Vigil-${name}`.slice(0, 64);
}

export function createSdkAccess(options: AwsAccessOptions) {
  const env = options.env ?? process.env;
  const handler = awsRequestHandler(env, options.ca);
  // Vigil's own identity, resolved once and shared by every integration's AssumeRole.
  const ownIdentity = fromNodeProviderChain();
  const clients = new Map<string, SecurityHubClient>();
  const MAX_CLIENTS = 200;
  const roleCredentials = new Map<string, ReturnType<typeof fromTemporaryCredentials>>();

  /**
   * One provider per role, external ID and region it is assumed in, which the SDK memoises and renews
   * five minutes before the credentials expire: a role's session serves every region's Security Hub.
   */
  function credentialsOf(target: RoleTarget) {
    const region = target.assumeInRegion ?? target.region;
    const key = JSON.stringify([target.roleArn, target.externalId, region]);
    let provider = roleCredentials.get(key);
    if (!provider) {
      provider = fromTemporaryCredentials({
        params: {
          RoleArn: target.roleArn,
          ExternalId: target.externalId,
          RoleSessionName: sessionName(target),
          DurationSeconds: 3600,
        },
        masterCredentials: ownIdentity,
        // STS in the integration's region, through the same handler (proxy, CA); its endpoint, like
        // Security Hub's, may come from AWS_ENDPOINT_URL_STS.
        clientConfig: { region, requestHandler: handler },
      });
      roleCredentials.set(key, provider);
    }
    return provider;
  }

  /** One client per role, external ID, region assumed in and Security Hub region. */
  function securityHub(target: RoleTarget): SecurityHubClient {
    const key = JSON.stringify([target.roleArn, target.externalId, target.assumeInRegion, target.region]);
    let client = clients.get(key);
    if (!client) {
      // A region comes from a finding's product ARN, from outside: a flood of made-up ones must not grow
      // the process without end (a client dropped is made again, with the role's session it shares).
      if (clients.size >= MAX_CLIENTS) clients.delete(clients.keys().next().value as string);
      client = new SecurityHubClient({
        region: target.region,
        requestHandler: handler,
        // Vigil retries itself, so that every attempt passes through the shared rate limiter.
        maxAttempts: 1,
        credentials: credentialsOf(target),
      });
      clients.set(key, client);
    }
    return client;
  }

  /**
   * The role's credentials: the client's own provider, which the SDK memoises and renews five minutes
   * before they expire, so this and the client's calls share one AssumeRole.
   */
  async function credentialsFor(target: RoleTarget) {
    return securityHub(target).config.credentials();
  }

  return {
    credentialsFor,
    async batchUpdate(
      target: RoleTarget,
      input: ConstructorParameters<typeof BatchUpdateFindingsCommand>[0],
    ) {
      return securityHub(target).send(new BatchUpdateFindingsCommand(input));
    },
    async batchUpdateV2(target: RoleTarget, input: BatchUpdateFindingsV2CommandInput) {
      return securityHub(target).send(new BatchUpdateFindingsV2Command(input));
    },
    /**
     * AssumeRole with the external ID given (none when undefined) rather than the integration's, which
     * the role must refuse: IAM's guide says not to keep a role ARN whose trust policy lets it through,
     * since anyone in Vigil's account, every other integration included, could then use it. Made outside
     * credentialsOf's providers on purpose: a session the role should not have granted must not serve
     * the write-back, nor stay cached after the customer fixes the trust policy, and a check must not
     * grow that map.
     */
    async assumeWithExternalId(target: RoleTarget, externalId: string | undefined) {
      // Left to the garbage collector, not destroyed: the SDK's destroy() destroys the request handler,
      // which every client shares, and would close the process's pooled AWS connections on each check.
      const sts = new STSClient({
        region: target.region,
        requestHandler: handler,
        credentials: ownIdentity,
        maxAttempts: 1,
      });
      return sts.send(
        new AssumeRoleCommand({
          RoleArn: target.roleArn,
          RoleSessionName: sessionName(target),
          DurationSeconds: 900,
          ...(externalId !== undefined ? { ExternalId: externalId } : {}),
        }),
      );
    },
    /** One harmless call: proves the role can be assumed and Security Hub answers. */
    async probe(target: RoleTarget) {
      return securityHub(target).send(new GetFindingsCommand({ MaxResults: 1 }));
    },
  };
}
