import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import tls from 'node:tls';

/**
 * Outbound HTTPS for URLs that arrive from outside (SNS signing certificates, SubscribeURLs): https only,
 * no redirects, a deadline for the whole request, a cap on the body, and HTTPS_PROXY / NO_PROXY honoured.
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

interface NoProxyEntry {
  host: string;
  port?: number;
}

function parseNoProxyEntry(raw: string): NoProxyEntry | undefined {
  let entry = raw.trim().toLowerCase();
  if (!entry) return undefined;
  let port: number | undefined;
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed) {
    entry = bracketed[1] ?? '';
    if (bracketed[2]) port = Number(bracketed[2]);
  } else {
    const withPort = /^([^:]+):(\d+)$/.exec(entry);
    if (withPort) {
      entry = withPort[1] ?? '';
      port = Number(withPort[2]);
    }
  }
  // "*.example.com" and ".example.com" both mean example.com and everything under it.
  entry = entry.replace(/^\*?\.+/, '').replace(/\.$/, '');
  if (!entry) return undefined;
  return { host: entry, port };
}

/**
 * The proxy an https URL should go through, or undefined for a direct connection.
 * HTTPS_PROXY (else https_proxy) names the proxy, an http:// URL (a bare host:port is read as http://).
 * NO_PROXY (else no_proxy) is a comma-separated list: `*` turns the proxy off for everything; other entries
 * are hostnames or domain suffixes (a leading dot or `*.` is optional, "example.com" also matches
 * "api.example.com"), optionally with `:port` to match only that port. Only https: URLs use the proxy.
 */
export function proxyFor(url: URL, env: Readonly<Record<string, string | undefined>>): URL | undefined {
  if (url.protocol !== 'https:') return undefined;
  const raw = (env.HTTPS_PROXY || env.https_proxy || '').trim();
  if (!raw) return undefined;

  const noProxy = (env.NO_PROXY || env.no_proxy || '').split(',');
  const host = bareHost(url.hostname);
  const port = portOf(url);
  for (const item of noProxy) {
    if (item.trim() === '*') return undefined;
    const entry = parseNoProxyEntry(item);
    if (!entry) continue;
    if (entry.port !== undefined && entry.port !== port) continue;
    if (host === entry.host || host.endsWith(`.${entry.host}`)) return undefined;
  }

  let proxy: URL;
  try {
    proxy = new URL(raw.includes('://') ? raw : `http://${raw}`);
  } catch {
    throw new OutboundError('HTTPS_PROXY is not a valid URL: give one like http://proxy.example.com:3128.');
  }
  if (proxy.protocol !== 'http:') {
    throw new OutboundError(
      `HTTPS_PROXY uses ${proxy.protocol}// which is not supported: give an http:// proxy URL.`,
    );
  }
  return proxy;
}

interface Destroyable {
  destroy(error?: Error): unknown;
}

/**
 * Opens a CONNECT tunnel to host:port through an http:// proxy; what it opens is pushed on `resources`
 * so the caller can tear it down. The AWS SDK's agent (writeback/aws.ts) tunnels through it too.
 */
export function openTunnel(
  proxy: URL,
  host: string,
  port: number,
  resources: Destroyable[] = [],
): Promise<net.Socket> {
  const target = authority(host, port);
  const headers: Record<string, string> = { Host: target };
  if (proxy.username || proxy.password) {
    const credentials = `${decodeURIComponent(proxy.username)}:${decodeURIComponent(proxy.password)}`;
    headers['Proxy-Authorization'] = `Basic ${Buffer.from(credentials).toString('base64')}`;
  }
  return new Promise((resolve, reject) => {
    const req = http.request({
      host: bareHost(proxy.hostname),
      port: portOf(proxy),
      method: 'CONNECT',
      path: target,
      headers,
      agent: false,
    });
    resources.push(req);
    req.on('connect', (res: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      resources.push(socket);
      const status = res.statusCode ?? 0;
      if (status < 200 || status > 299) {
        socket.destroy();
        reject(new OutboundError(`Proxy ${proxy.host} refused CONNECT to ${target} with status ${status}.`));
        return;
      }
      if (head.length > 0) socket.unshift(head);
      resolve(socket);
    });
    req.on('error', (error) => {
      reject(new OutboundError(`Could not reach proxy ${proxy.host}: ${error.message}`, { cause: error }));
    });
    req.end();
  });
}

async function get(
  target: URL,
  proxy: URL | undefined,
  options: OutboundOptions,
  maxBytes: number,
  resources: Destroyable[],
): Promise<OutboundResponse> {
  const host = bareHost(target.hostname);
  const port = portOf(target);
  const tlsOptions: tls.ConnectionOptions = {
    servername: net.isIP(host) ? undefined : host,
    ALPNProtocols: ['http/1.1'],
  };
  if (options.ca !== undefined) tlsOptions.ca = options.ca;

  let socket: tls.TLSSocket;
  if (proxy) {
    const tunnel = await openTunnel(proxy, host, port, resources);
    socket = tls.connect({ ...tlsOptions, socket: tunnel });
  } else {
    socket = tls.connect({ ...tlsOptions, host, port: options.connectPort ?? port, lookup: options.lookup });
  }
  resources.push(socket);

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
      defaultPort: 443,
      path: `${target.pathname}${target.search}`,
      method: 'GET',
      headers: {
        Host: port === 443 ? (net.isIPv6(host) ? `[${host}]` : host) : authority(host, port),
        Accept: '*/*',
        'User-Agent': 'vigil',
        Connection: 'close',
      },
      createConnection: () => socket,
    });
    resources.push(req);
    req.on('error', fail);
    req.on('response', (res: http.IncomingMessage) => {
      resources.push(res);
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
  const proxy = proxyFor(target, options.env ?? process.env);

  const resources: Destroyable[] = [];
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new OutboundError(`GET ${describe(target)} timed out after ${timeoutMs} ms.`)),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([get(target, proxy, options, maxBytes, resources), deadline]);
  } finally {
    clearTimeout(timer);
    for (const resource of resources) resource.destroy();
  }
}
