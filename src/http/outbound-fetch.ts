import type { Agent, Dispatcher, ProxyAgent } from 'undici';
import {
  ADDRESS_REFUSED,
  guardedLookup,
  hostProblem,
  isAllowedHost,
  privateNameProblem,
} from '../notify/team-destinations/address-guard.js';
import { proxyFor, type OutboundOptions } from './outbound.js';

/**
 * fetch for the providers Vigil calls (Twilio, Slack, Web Push services), through HTTPS_PROXY unless
 * NO_PROXY names the host: the same choice, read the same way, as the AWS calls and the SNS fetches
 * (proxyFor). Node's own fetch reads neither variable. undici's fetch and dispatchers come from one
 * package, so that a ProxyAgent is never handed to a fetch of another undici version.
 */

// Loaded with the first call (about 0.1 s of a process's start otherwise: docs/architecture.md).
let undiciModule: Promise<typeof import('undici')> | undefined;
const undici = () => (undiciModule ??= import('undici'));

export type OutboundFetch = (input: string | URL, init?: RequestInit) => Promise<Response>;

/** The proxy variables (read on every request) and, in tests, the trusted CAs: as for httpsGet. */
export interface OutboundFetchOptions extends Pick<OutboundOptions, 'env' | 'ca'> {
  /**
   * For URLs someone other than the operator chose (an organization's sign-in provider, and the endpoints
   * its discovery document names): loopback, private and reserved addresses are refused as the team
   * webhooks' are (address-guard.ts), written in the URL or resolved from its name at every connection,
   * except on `allowHosts` (and their subdomains), which the operator listed. Redirects are not followed:
   * their targets would each need the check, which behind a proxy is made only before the request.
   */
  guard?: { allowHosts: readonly string[] };
}

/** A refusal as the guard's lookup gives one (its code is what callers look for: isAddressRefusal). */
function refusal(message: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(message);
  error.code = ADDRESS_REFUSED;
  return error;
}

/** Rejects when the signal aborts: a resolver that never answers must not outlast the caller's deadline. */
function untilAborted(signal: AbortSignal | null | undefined): Promise<never> {
  return new Promise<never>((_, reject) => {
    if (!signal) return;
    if (signal.aborted) reject(signal.reason as Error);
    signal.addEventListener('abort', () => reject(signal.reason as Error), { once: true });
  });
}

export function createOutboundFetch(options: OutboundFetchOptions = {}): OutboundFetch {
  const tls = options.ca !== undefined ? { ca: options.ca } : {};
  const { guard } = options;
  let direct: Agent | undefined;
  // Guarded: the name is checked on the addresses each new connection is made to.
  let checked: Agent | undefined;
  // One per proxy URL: a changed HTTPS_PROXY (tests) gets its own, the same one keeps its connections.
  const tunnels = new Map<string, ProxyAgent>();
  const dispatcherFor = (loaded: typeof import('undici'), url: URL, proxy: URL | undefined): Dispatcher => {
    if (!proxy) {
      if (guard && !isAllowedHost(url.hostname, guard.allowHosts))
        return (checked ??= new loaded.Agent({ connect: { ...tls, lookup: guardedLookup() } }));
      return (direct ??= new loaded.Agent({ connect: tls }));
    }
    let agent = tunnels.get(proxy.href);
    if (!agent) {
      // Credentials in the proxy URL become its Proxy-Authorization (undici reads them from `uri`).
      agent = new loaded.ProxyAgent({ uri: proxy.href, requestTls: tls });
      tunnels.set(proxy.href, agent);
    }
    return agent;
  };
  return async (input, init) => {
    const url = new URL(input);
    // HTTPS_PROXY is for https: plain http (a local test double, an operator's own relay) goes direct.
    const proxy = url.protocol === 'https:' ? proxyFor(url, options.env ?? process.env) : undefined;
    const loaded = await undici();
    try {
      if (guard && !isAllowedHost(url.hostname, guard.allowHosts)) {
        // An address written in the URL is connected to without a lookup, so it is checked here.
        const problem = hostProblem(url.hostname);
        if (problem) throw refusal(problem);
        if (proxy) {
          const named = await Promise.race([privateNameProblem(url.hostname), untilAborted(init?.signal)]);
          if (named) throw refusal(named);
        }
      }
      // The two fetches share the WHATWG types; only their TypeScript declarations come from two places.
      const answer = await loaded.fetch(url, {
        ...(init as Parameters<typeof loaded.fetch>[1]),
        ...(guard && init?.redirect !== 'error' ? { redirect: 'manual' as const } : {}),
        dispatcher: dispatcherFor(loaded, url, proxy),
      });
      return answer as unknown as Response;
    } catch (error) {
      // A timeout stays the caller's own abort; anything else says what failed, as Node's fetch would
      // (TypeError "fetch failed" with the reason as its cause).
      if (init?.signal?.aborted) throw error;
      throw new TypeError('fetch failed', {
        // The callers read `cause` for why: it is the reason, with undici's own chain below it.
        // eslint-disable-next-line preserve-caught-error
        cause: new Error(failureOf(error, url, proxy), { cause: error }),
      });
    }
  };
}

/**
 * The innermost reason of a failed fetch, which is the one that helps: undici wraps a proxy's refusal
 * as "Request was cancelled", itself caused by the proxy's answer.
 */
function failureOf(error: unknown, url: URL, proxy: URL | undefined): string {
  let inner: unknown = error;
  while (inner instanceof Error && inner.cause instanceof Error) inner = inner.cause;
  const reason = inner instanceof Error ? inner.message : String(inner);
  if (!proxy) return reason;
  const target = `${url.hostname}:${url.port || '443'}`;
  const refused = /Proxy response \((\d+)\)/.exec(reason);
  if (refused) return `Proxy ${proxy.host} refused CONNECT to ${target} with status ${refused[1]}`;
  return `${reason} (through the proxy ${proxy.host}, to ${target})`;
}
