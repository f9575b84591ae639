import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import {
  BatchUpdateFindingsCommand,
  GetFindingsCommand,
  SecurityHubClient,
} from '@aws-sdk/client-securityhub';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { openTunnel, proxyFor } from '../../../http/outbound.js';

/**
 * AWS for the write-back: Vigil's own identity (the SDK's default chain) assumes each integration's
 * role with its external ID; the short-lived credentials are cached per integration and renewed five
 * minutes before they expire. Every AWS call honours HTTPS_PROXY and NO_PROXY.
 */

export interface RoleTarget {
  integrationId: string;
  integrationName: string;
  roleArn: string;
  externalId: string;
  region: string;
}

interface CachedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
}

/** An https.Agent that reaches hosts through the HTTPS_PROXY (CONNECT), except those NO_PROXY lists. */
class ProxyAwareAgent extends https.Agent {
  constructor(
    private readonly env: NodeJS.ProcessEnv,
    ca?: string | Buffer | Array<string | Buffer>,
  ) {
    super({ keepAlive: true, maxSockets: 50, ...(ca ? { ca } : {}) });
  }

  override createConnection(
    requestOptions: http.RequestOptions,
    callback?: (err: Error | null, stream: Duplex) => void,
  ): Duplex | null | undefined {
    const options = requestOptions as tls.ConnectionOptions & { host?: string; port?: number };
    const host = options.host ?? 'localhost';
    const port = Number(options.port ?? 443);
    const proxy = proxyFor(new URL(`https://${host}:${port}/`), this.env);
    if (!proxy) return tls.connect({ ...options, host, port, servername: options.servername ?? host });
    openTunnel(proxy, host, port).then(
      (socket) =>
        callback?.(null, tls.connect({ ...options, socket, servername: options.servername ?? host })),
      (error: Error) => callback?.(error, new net.Socket()),
    );
    return undefined;
  }
}

export function awsRequestHandler(
  env: NodeJS.ProcessEnv = process.env,
  ca?: string | Buffer | Array<string | Buffer>,
): NodeHttpHandler {
  return new NodeHttpHandler({
    httpsAgent: new ProxyAwareAgent(env, ca),
    connectionTimeout: 5000,
    requestTimeout: 15000,
  });
}

/** The account a role ARN belongs to: AWS's limits are per account and region. */
export function accountOf(roleArn: string): string {
  return /^arn:aws[\w-]*:iam::(\d{12}):/.exec(roleArn)?.[1] ?? 'unknown';
}

function sessionName(target: RoleTarget): string {
  const name = target.integrationName.replace(/[^\w+=,.@-]+/g, '-');
  return `Vigil-${name}`.slice(0, 64);
}

export interface AwsAccessOptions {
  env?: NodeJS.ProcessEnv;
  /** Extra trusted CAs (tests put local TLS servers where AWS's hosts would be). */
  ca?: string | Buffer | Array<string | Buffer>;
}

export function createAwsAccess(options: AwsAccessOptions = {}) {
  const env = options.env ?? process.env;
  const handler = awsRequestHandler(env, options.ca);
  const credentials = new Map<string, Promise<CachedCredentials>>();
  const clients = new Map<string, SecurityHubClient>();
  const stsClients = new Map<string, STSClient>();

  function sts(region: string): STSClient {
    let client = stsClients.get(region);
    if (!client) {
      client = new STSClient({ region, requestHandler: handler });
      stsClients.set(region, client);
    }
    return client;
  }

  async function assume(target: RoleTarget): Promise<CachedCredentials> {
    const answer = await sts(target.region).send(
      new AssumeRoleCommand({
        RoleArn: target.roleArn,
        ExternalId: target.externalId,
        RoleSessionName: sessionName(target),
        DurationSeconds: 3600,
      }),
    );
    const c = answer.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new Error('AssumeRole answered without credentials');
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: c.Expiration,
    };
  }

  /** The integration's credentials, from the cache unless they expire within five minutes. */
  async function credentialsFor(target: RoleTarget): Promise<CachedCredentials> {
    const key = `${target.integrationId}|${target.roleArn}|${target.externalId}`;
    const cached = credentials.get(key);
    if (cached) {
      const value = await cached.catch(() => undefined);
      if (value && value.expiration.getTime() - Date.now() > 5 * 60_000) return value;
    }
    const fresh = assume(target);
    credentials.set(key, fresh);
    fresh.catch(() => credentials.delete(key));
    return fresh;
  }

  function securityHub(target: RoleTarget): SecurityHubClient {
    const key = `${target.integrationId}|${target.roleArn}|${target.region}`;
    let client = clients.get(key);
    if (!client) {
      client = new SecurityHubClient({
        region: target.region,
        requestHandler: handler,
        // Vigil retries itself, so that every attempt passes through the shared rate limiter.
        maxAttempts: 1,
        credentials: () => credentialsFor(target),
      });
      clients.set(key, client);
    }
    return client;
  }

  return {
    credentialsFor,
    async batchUpdate(
      target: RoleTarget,
      input: ConstructorParameters<typeof BatchUpdateFindingsCommand>[0],
    ) {
      return securityHub(target).send(new BatchUpdateFindingsCommand(input));
    },
    /** One harmless call: proves the role can be assumed and Security Hub answers. */
    async probe(target: RoleTarget) {
      return securityHub(target).send(new GetFindingsCommand({ MaxResults: 1 }));
    },
  };
}

export type AwsAccess = ReturnType<typeof createAwsAccess>;
