import { hashApiKey } from '../../../accounts/apikeys.js';
import type { SecurityHubEventType } from './policies.js';

/**
 * The few Vigil API calls `vigil aws` makes, with an admin's API key: it runs where the operator's AWS
 * credentials are, which need not be where Vigil runs.
 */

export class VigilApiError extends Error {}

/**
 * The first 12 hex digits of the SHA-256 of an integration key: what Vigil stores of the key begins so
 * (GET /aws-setup's keyFingerprint), and what setup writes in an EventBridge connection's description.
 * It tells one key from another without giving it away.
 */
export const KEY_FINGERPRINT_LENGTH = 12;

export function keyFingerprint(apiKey: string): string {
  return fingerprintOfHash(hashApiKey(apiKey).hash);
}

/** The fingerprint of a key Vigil stores hashed (hashApiKey's hash). */
export function fingerprintOfHash(hash: Buffer): string {
  return hash.toString('hex').slice(0, KEY_FINGERPRINT_LENGTH);
}

/** The apiKey of an endpoint URL ('' when it has none or is no URL). */
export function endpointKey(endpointUrl: string): string {
  try {
    return new URL(endpointUrl).searchParams.get('apiKey') ?? '';
  } catch {
    return '';
  }
}

export interface AwsSetupFacts {
  integration: { id: string; name: string; enabled: boolean };
  intakeUrl: string;
  externalId: string;
  /** keyFingerprint of the integration's current key (absent from an older Vigil). */
  keyFingerprint?: string;
  rolePrefix: string;
  vigilPrincipalArn: string | null;
  minimumSeverity: 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
  sendUpdatesBack: boolean;
  roleArn: string | null;
  region: string | null;
}

export interface VigilSubscription {
  topicArn: string;
  status: string;
  subscriptionArn: string | null;
}

export interface WritebackTest {
  ok: boolean;
  steps: { step: string; ok: boolean; error?: string }[];
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function createVigilApi(options: { url: string; apiKey: string; fetch?: typeof fetch }) {
  const base = options.url.replace(/\/+$/, '');
  const doFetch = options.fetch ?? fetch;

  async function call(method: string, path: string, body?: unknown): Promise<unknown> {
    let response: Response;
    try {
      response = await doFetch(base + path, {
        method,
        headers: {
          authorization: `GenieKey ${options.apiKey}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(30_000),
      });
    } catch (error) {
      throw new VigilApiError(
        `could not reach Vigil at ${base} (${(error as Error).message}): give its URL with --vigil-url or VIGIL_URL.`,
      );
    }
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text);
    } catch {
      // not JSON: keep the text for the message
    }
    if (!response.ok) {
      const message =
        isRecord(parsed) && typeof parsed.message === 'string' ? parsed.message : text.slice(0, 300);
      const hint =
        response.status === 401
          ? ' Give an API key of an admin with --api-key or VIGIL_API_KEY.'
          : response.status === 403
            ? ' The API key must belong to an admin of the organization or of the integration’s team.'
            : '';
      throw new VigilApiError(`Vigil answered ${response.status} to ${method} ${path}: ${message}.${hint}`);
    }
    return isRecord(parsed) ? parsed.data : undefined;
  }

  return {
    url: base,
    /** An integration by id, or by name when no id matches. */
    async findIntegration(idOrName: string): Promise<{ id: string; name: string; type: string }> {
      const list = (await call('GET', '/v2/integrations')) as { id: string; name: string; type: string }[];
      const found = list.find((i) => i.id === idOrName) ?? list.filter((i) => i.name === idOrName);
      if (!Array.isArray(found)) return found;
      if (found.length === 1 && found[0]) return found[0];
      if (found.length > 1)
        throw new VigilApiError(`${found.length} integrations are named "${idOrName}": give the id instead.`);
      const securityHub = list
        .filter((i) => i.type === 'AmazonSecurityHub')
        .map((i) => `${i.name} (${i.id})`);
      throw new VigilApiError(
        `no integration "${idOrName}"${securityHub.length ? `; the Amazon Security Hub integrations are: ${securityHub.join(', ')}` : ': create one first (POST /v2/integrations, or Add integration in the console)'}.`,
      );
    },
    facts: async (id: string) => (await call('GET', `/v2/integrations/${id}/aws-setup`)) as AwsSetupFacts,
    /** The Security Hub events the integration takes (its eventTypes setting). */
    eventTypes: async (id: string) =>
      ((await call('GET', `/v2/integrations/${id}`)) as { eventTypes?: SecurityHubEventType[] }).eventTypes,
    subscriptions: async (id: string) =>
      ((await call('GET', `/v2/integrations/${id}`)) as { subscriptions?: VigilSubscription[] })
        .subscriptions ?? [],
    async regenerateKey(id: string): Promise<string> {
      const data = (await call('POST', `/v2/integrations/${id}/api-key`)) as { endpointUrl?: string };
      if (!data.endpointUrl) throw new VigilApiError('Vigil did not answer an endpoint URL for the new key.');
      return data.endpointUrl;
    },
    /** Changes some of a Security Hub integration's settings; those not given stay as they are. */
    async updateSettings(
      id: string,
      settings: {
        roleArn?: string;
        region?: string;
        sendUpdatesBack?: boolean;
        minimumSeverity?: AwsSetupFacts['minimumSeverity'];
        eventTypes?: SecurityHubEventType[];
      },
    ) {
      await call('PATCH', `/v2/integrations/${id}`, settings);
    },
    testWriteback: async (id: string) =>
      (await call('POST', `/v2/integrations/${id}/test-writeback`)) as WritebackTest,
  };
}

export type VigilApi = ReturnType<typeof createVigilApi>;
