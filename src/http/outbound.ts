import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { Agent, type AgentConnectOpts } from 'agent-base';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';

/**
 * Outbound HTTPS for URLs that arrive from outside (SNS signing certificates, SubscribeURLs): https only,
 * no redirects, a deadline for the whole request, a cap on the body, and HTTPS_PROXY / NO_PROXY honoured.
 * Which proxy: proxy-from-env. The CONNECT tunnel: https-proxy-agent, through OutboundAgent, which the AWS
 * SDK's request handler (writeback/aws.ts) uses too.
 */

export interface OutboundOptions {
  /** Deadline for the whole request (connect, proxy, TLS, response, body). Default 10000. */
  timeoutMs?: number;
  /** Largest body accepted, in bytes. Default 1 MiB. */
  maxBytes?: number;
  /** Read for HTTPS_PROXY / https_proxy and NO_PROXY / no_proxy. Default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Trusted CAs for the target, replacing the default set (tests only). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Name resolution for a direct (proxy-less) connection to the target (tests only). */
  lookup?: net.LookupFunction;
  /** Port for a direct (proxy-less) connection instead of the URL's (tests only, with `lookup`). */
  connectPort?: number;
}

export interface OutboundResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export class OutboundError extends Error {
  override name = 'OutboundError';
}

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_MAX_BYTES = 1024 * 1024;

/** A hostname without IPv6 brackets or a trailing dot, lower-cased. */
function bareHost(hostname: string): string {
  return hostname
    .replace(/^\[(.*)\]$/, '$1')
    .replace(/\.$/, '')
    .toLowerCase();
}

function portOf(url: URL): number {
  if (url.port) return Number(url.port);
  return url.protocol === 'https:' ? 443 : 80;
}

function authority(host: string, port: number): string {
  return `${net.isIPv6(host) ? `[${host}]` : host}:${port}`;
}

/** The URL without userinfo, query or fragment, for messages. */
function describe(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}`;
}

/**
 * NO_PROXY put in proxy-from-env's terms. Vigil documents (and has always applied) the reading of curl, Go
 * and Python, where a bare name covers its subdomains ("example.com" matches "api.example.com");
 * proxy-from-env (like undici) matches a bare name only exactly, and reads "::1" as host ":" port 1. So
 * every name is given both bare and with a leading dot ("*.example.com" and ".example.com" also cover
 * "example.com" itself), a bare IPv6 address is bracketed, and `*` anywhere in the list turns the proxy
 * off. Ports, and the matching itself, are proxy-from-env's.
 */
function noProxyForProxyFromEnv(value: string): string {
  const entries = value
    .toLowerCase()
    .split(/[\s,]+/)
    .filter(Boolean);
  if (entries.includes('*')) return '*';
  return entries
    .flatMap((entry) => {
      if (net.isIPv6(entry)) return [`[${entry}]`];
      // "*.example.com", ".example.com" and "example.com." all name example.com.
      const name = entry.replace(/^\*?\.+/, '').replace(/\.(?=(:\d+)?$)/, '');
      if (!name) return [];
      if (name.startsWith('[') || net.isIP(name.replace(/:\d+$/, ''))) return [name];
      return [name, `.${name}`];
    })
    .join(',');
}

/**
 * proxy-from-env reads process.env and nothing else; the tests (and OutboundOptions.env) give their own.
 * The call is synchronous, so no other code can run, or see process.env, while it is swapped.
 */
function withProcessEnv<T>(env: NodeJS.ProcessEnv, read: () => T): T {
  const saved = process.env;
  process.env = env;
  try {
    return read();
  } finally {
    process.env = saved;
  }
}

/**
 * The proxy an https URL should go through, or undefined for a direct connection.
 * HTTPS_PROXY (else https_proxy) names the proxy, an http:// URL (a bare host:port is read as http://).
 * NO_PROXY (else no_proxy) is a comma-separated list: `*` turns the proxy off for everything; other entries
 * are hostnames or domain suffixes (a leading dot or `*.` is optional, "example.com" also matches
 * "api.example.com"), optionally with `:port` to match only that port. Only https: URLs use the proxy.
 * The matching is proxy-from-env's getProxyForUrl; see noProxyForProxyFromEnv for how NO_PROXY is given to it.
 */
export function proxyFor(url: URL, env: Readonly<Record<string, string | undefined>>): URL | undefined {
  if (url.protocol !== 'https:') return undefined;
  const setting = proxySetting(env);
  if (!setting) return undefined;
  const chosen = withProcessEnv(
    {
      https_proxy: setting.configured,
      no_proxy: noProxyForProxyFromEnv(env.NO_PROXY || env.no_proxy || ''),
    },
    () => getProxyForUrl(`https://${authority(bareHost(url.hostname), portOf(url))}/`),
  );
  if (!chosen) return undefined;
  return parseProxy(setting);
}

/** The proxy variable in effect (upper case first: proxy-from-env would take the lower-case one first). */
function proxySetting(
  env: Readonly<Record<string, string | undefined>>,
): { name: string; configured: string } | undefined {
  const name = env.HTTPS_PROXY ? 'HTTPS_PROXY' : 'https_proxy';
  const raw = (env[name] ?? '').trim();
  if (!raw) return undefined;
  // A bare host:port is an http:// proxy (proxy-from-env would give it the target's scheme, https://).
  return { name, configured: raw.includes('://') ? raw : `http://${raw}` };
}

function parseProxy(setting: { name: string; configured: string }): URL {
  let proxy: URL;
  try {
    proxy = new URL(setting.configured);
  } catch {
    throw new OutboundError(
      `${setting.name} is not a valid URL: give one like http://proxy.example.com:3128.`,
    );
  }
  if (proxy.protocol !== 'http:') {
    throw new OutboundError(
      `${setting.name} uses ${proxy.protocol}// which is not supported: give an http:// proxy URL.`,
    );
  }
  return proxy;
}

/**
 * Why the proxy HTTPS_PROXY (else https_proxy) names cannot be used, or undefined: checked at start
 * (loadConfig), where proxyFor would say it only at the first outbound call. Never the value, which may
 * hold the proxy's password.
 */
export function proxyProblem(env: Readonly<Record<string, string | undefined>>): string | undefined {
  const setting = proxySetting(env);
  if (!setting) return undefined;
  try {
    parseProxy(setting);
    return undefined;
  } catch (error) {
    if (error instanceof OutboundError) return error.message;
    throw error;
  }
}

export interface OutboundAgentOptions {
  /** Read for HTTPS_PROXY / https_proxy and NO_PROXY / no_proxy on every new connection. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Trusted CAs for the targets, replacing the default set (tests only). */
  ca?: string | Buffer | Array<string | Buffer>;
  /** Name resolution for direct (proxy-less) connections (tests only). */
  lookup?: net.LookupFunction;
  /** Port for direct (proxy-less) connections instead of the request's (tests only, with `lookup`). */
  connectPort?: number;
  /** Ends connections being opened, proxy ones included, when aborted. */
  signal?: AbortSignal;
  keepAlive?: boolean;
  maxSockets?: number;
}

/**
 * An agent for https requests (Node's https.request, and the AWS SDK's NodeHttpHandler as its httpsAgent)
 * that picks, for each new connection, the proxy proxyFor() names: through it with https-proxy-agent's
 * CONNECT tunnel, or straight to the host. This small choice is kept here rather than taken from the
 * proxy-agent package, which makes it too but brings PAC scripts (with a JavaScript engine to run them),
 * SOCKS and HTTP proxies that Vigil has no use for, and has no way to point direct connections elsewhere
 * for the tests (`lookup`, `connectPort`).
 */
export class OutboundAgent extends Agent {
  private readonly settings: OutboundAgentOptions;
  private readonly tunnels = new Map<string, HttpsProxyAgent<string>>();

  constructor(settings: OutboundAgentOptions = {}) {
    super({
      keepAlive: settings.keepAlive ?? false,
      ...(settings.maxSockets ? { maxSockets: settings.maxSockets } : {}),
      ...(settings.ca !== undefined ? { ca: settings.ca } : {}),
    });
    this.settings = settings;
  }

  /** https only: agent-base would otherwise guess from the call stack. */
  override isSecureEndpoint(): boolean {
    return true;
  }

  async connect(req: http.ClientRequest, opts: AgentConnectOpts): Promise<Duplex> {
    if (!opts.secureEndpoint) throw new OutboundError('Only https connections are made.');
    const host = bareHost(opts.host ?? 'localhost');
    const port = opts.port;
    const target = authority(host, port);
    const proxy = proxyFor(new URL(`https://${target}/`), this.settings.env ?? process.env);
    const servername = opts.servername || (net.isIP(host) ? undefined : host);
    if (!proxy) {
      const { lookup, connectPort } = this.settings;
      return tls.connect({
        ...opts,
        host,
        port: connectPort ?? port,
        ...(servername ? { servername } : {}),
        ...(lookup ? { lookup } : {}),
      });
    }

    let tunnel = this.tunnels.get(proxy.href);
    if (!tunnel) {
      tunnel = new HttpsProxyAgent(proxy.href, {
        keepAlive: this.keepAlive,
        ...(this.settings.signal ? { signal: this.settings.signal } : {}),
      });
      this.tunnels.set(proxy.href, tunnel);
    }
    // https-proxy-agent hands a refused CONNECT's answer to the request as if the target had sent it;
    // here it is an error, so that a 407 from the proxy is never taken for the target's response.
    let refused: number | undefined;
    const onProxyConnect = (answer: { statusCode: number }) => {
      if (answer.statusCode !== 200) refused = answer.statusCode;
    };
    req.once('proxyConnect', onProxyConnect);
    let socket: Duplex;
    try {
      socket = await tunnel.connect(req, { ...opts, host, ...(servername ? { servername } : {}) });
    } catch (error) {
      throw new OutboundError(`Could not reach proxy ${proxy.host}: ${(error as Error).message}`, {
        cause: error,
      });
    } finally {
      req.removeListener('proxyConnect', onProxyConnect);
    }
    if (refused !== undefined) {
      socket.destroy();
      throw new OutboundError(`Proxy ${proxy.host} refused CONNECT to ${target} with status ${refused}.`);
    }
    return socket;
  }
}

function request(
  target: URL,
  options: OutboundOptions,
  maxBytes: number,
  signal: AbortSignal,
): Promise<OutboundResponse> {
  const host = bareHost(target.hostname);
  const port = portOf(target);
  const agent = new OutboundAgent({
    env: options.env ?? process.env,
    ...(options.ca !== undefined ? { ca: options.ca } : {}),
    ...(options.lookup ? { lookup: options.lookup } : {}),
    ...(options.connectPort !== undefined ? { connectPort: options.connectPort } : {}),
    signal,
  });

  return new Promise((resolve, reject) => {
    const fail = (error: Error) => {
      reject(
        error instanceof OutboundError
          ? error
          : new OutboundError(`GET ${describe(target)} failed: ${error.message}`, { cause: error }),
      );
    };
    const req = https.request({
      host,
      port,
      path: `${target.pathname}${target.search}`,
      method: 'GET',
      headers: {
        Host: port === 443 ? (net.isIPv6(host) ? `[${host}]` : host) : authority(host, port),
        Accept: '*/*',
        'User-Agent': 'vigil',
        Connection: 'close',
      },
      agent,
      signal,
    });
    req.on('error', fail);
    req.on('response', (res: http.IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if (status >= 300 && status <= 399) {
        const location = res.headers.location;
        res.destroy();
        fail(
          new OutboundError(
            `Refused to follow a redirect: GET ${describe(target)} answered ${status} pointing to ${location ?? '(no Location header)'}.`,
          ),
        );
        return;
      }
      const tooLarge = () =>
        new OutboundError(
          `GET ${describe(target)} returned a body too large: over the ${maxBytes} byte limit.`,
        );
      const declared = Number(res.headers['content-length']);
      if (Number.isFinite(declared) && declared > maxBytes) {
        res.destroy();
        fail(tooLarge());
        return;
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > maxBytes) {
          res.destroy();
          fail(tooLarge());
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', fail);
      res.on('close', () => {
        if (!res.complete)
          fail(new OutboundError(`GET ${describe(target)}: the connection closed mid-response.`));
      });
    });
    req.end();
  });
}

/**
 * GET an https URL that came from outside. Never follows redirects (a 3xx is an OutboundError), gives up
 * after `timeoutMs` for the whole exchange, and refuses bodies over `maxBytes`. Other statuses are returned.
 */
export async function httpsGet(url: string, options: OutboundOptions = {}): Promise<OutboundResponse> {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    throw new OutboundError(`Not a valid URL: ${JSON.stringify(url)}.`);
  }
  if (target.protocol !== 'https:') {
    throw new OutboundError(`Refused a non-https URL: ${describe(target)} (only https:// is fetched).`);
  }
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;

  // Aborting ends whatever is still open: the request, its socket, a proxy connection still in CONNECT.
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new OutboundError(`GET ${describe(target)} timed out after ${timeoutMs} ms.`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([request(target, options, maxBytes, abort.signal), deadline]);
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}
