import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { promisify } from 'node:util';

/** Network pieces for tests: TLS certificates for real host names, and a CONNECT proxy. */

/** A self-signed certificate (and key) for the given host names, made with the openssl CLI. */
export async function makeTestCertificate(hosts: string[]): Promise<{ cert: Buffer; key: Buffer }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-test-cert-'));
  const keyPath = path.join(dir, 'key.pem');
  const certPath = path.join(dir, 'cert.pem');
  await promisify(execFile)('/usr/bin/openssl', [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    keyPath,
    '-out',
    certPath,
    '-days',
    '2',
    '-subj',
    `/CN=${hosts[0]}`,
    '-addext',
    `subjectAltName=${hosts.map((h) => `DNS:${h}`).join(',')}`,
  ]);
  const cert = await fs.readFile(certPath);
  const key = await fs.readFile(keyPath);
  await fs.rm(dir, { recursive: true, force: true });
  return { cert, key };
}

export interface ConnectProxy {
  url: string;
  /** CONNECT requests seen: the host:port asked for and the Proxy-Authorization sent, if any. */
  connects: { target: string; auth: string | undefined }[];
  close(): Promise<void>;
}

/**
 * An HTTP proxy that accepts CONNECT for any host and tunnels it to `port` on this machine, answering
 * 407 when `refuse` says so for the request's Proxy-Authorization.
 */
export async function startConnectProxy(
  port: number,
  options: { refuse?: (auth: string | undefined) => boolean } = {},
): Promise<ConnectProxy> {
  const connects: ConnectProxy['connects'] = [];
  const sockets = new Set<net.Socket>();
  const proxy = http.createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    const auth = req.headers['proxy-authorization'];
    connects.push({ target: req.url ?? '', auth });
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    if (options.refuse?.(auth)) {
      client.end('HTTP/1.1 407 Proxy Authentication Required\r\n\r\n');
      return;
    }
    const upstream = net.connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const address = proxy.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${address.port}`,
    connects,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        proxy.closeAllConnections();
        proxy.close(() => resolve());
      }),
  };
}

export interface TlsFront {
  port: number;
  close(): Promise<void>;
}

/**
 * TLS in front of plain local servers, for a client that must speak https to a real host name (through
 * a CONNECT proxy, say): each connection is piped to the port `portFor` gives the name it asked for.
 */
export async function startTlsFront(
  certificate: { cert: Buffer; key: Buffer },
  portFor: (servername: string | undefined) => number,
): Promise<TlsFront> {
  const server = tls.createServer({ key: certificate.key, cert: certificate.cert }, (socket) => {
    const servername = (socket as tls.TLSSocket & { servername?: string | false }).servername;
    const upstream = net.connect(portFor(servername || undefined), '127.0.0.1');
    socket.pipe(upstream).pipe(socket);
    upstream.on('error', () => socket.destroy());
    socket.on('error', () => upstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export interface ProxiedHost {
  /** The CONNECT proxy, with what it was asked for. */
  proxy: ConnectProxy;
  /** For startTestServer's `outbound`: HTTPS_PROXY set to the proxy, and the front's certificate trusted. */
  outbound: { env: Record<string, string>; ca: Buffer };
  close(): Promise<void>;
}

/**
 * A real host name (api.twilio.com, slack.com…) served by a local plain server on `port`, reached the
 * way production reaches it: https through a CONNECT proxy, to a TLS front with a certificate for the name.
 */
export async function proxiedHost(
  host: string,
  port: number,
  proxyOptions: Parameters<typeof startConnectProxy>[1] = {},
): Promise<ProxiedHost> {
  const certificate = await makeTestCertificate([host]);
  const front = await startTlsFront(certificate, () => port);
  const proxy = await startConnectProxy(front.port, proxyOptions);
  return {
    proxy,
    outbound: { env: { HTTPS_PROXY: proxy.url }, ca: certificate.cert },
    async close() {
      await proxy.close();
      await front.close();
    },
  };
}

/** A loopback port free right now, for a server whose own URL must be known before it starts. */
export { freePort } from '../db/embedded.js';
