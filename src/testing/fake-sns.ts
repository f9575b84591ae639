import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

/**
 * A local stand-in for SNS's HTTPS endpoint (where SubscribeURLs point) with a certificate for the real
 * SNS host names, and a CONNECT proxy, so the confirmation code runs unchanged against them. Tests reach
 * them through OutboundOptions.lookup and .ca.
 */

export interface FakeSns {
  port: number;
  ca: Buffer;
  /** Requests received: method and path with query. */
  requests: { method: string; url: string; host: string }[];
  /** What to answer next (default 200 with a ConfirmSubscriptionResponse). */
  respond: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  lookup: net.LookupFunction;
  close(): Promise<void>;
}

/** A self-signed certificate (and key) for the given host names, made with the openssl CLI. */
export async function makeTestCertificate(hosts: string[]): Promise<{ cert: Buffer; key: Buffer }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-fake-sns-'));
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

export async function startFakeSns(
  hosts = ['sns.us-east-1.amazonaws.com', 'sns.us-west-2.amazonaws.com'],
): Promise<FakeSns> {
  const { cert: ca, key } = await makeTestCertificate(hosts);

  const fake: FakeSns = {
    port: 0,
    ca,
    requests: [],
    respond: (req, res) => {
      const topic = new URL(req.url ?? '/', 'https://x').searchParams.get('TopicArn') ?? 'unknown';
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        `<ConfirmSubscriptionResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><ConfirmSubscriptionResult><SubscriptionArn>${topic}:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>`,
      );
    },
    lookup: (_hostname, options, callback) => {
      const cb = (typeof options === 'function' ? options : callback) as (
        err: NodeJS.ErrnoException | null,
        address: string | import('node:dns').LookupAddress[],
        family?: number,
      ) => void;
      const all = typeof options === 'object' && options !== null && (options as { all?: boolean }).all;
      if (all) cb(null, [{ address: '127.0.0.1', family: 4 }]);
      else cb(null, '127.0.0.1', 4);
    },
    close: async () => {},
  };
  const server = https.createServer({ key, cert: ca }, (req, res) => {
    fake.requests.push({ method: req.method ?? '', url: req.url ?? '', host: req.headers.host ?? '' });
    fake.respond(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.port = (server.address() as net.AddressInfo).port;
  fake.close = () => new Promise((resolve) => server.close(() => resolve()));
  return fake;
}

export interface ConnectProxy {
  url: string;
  /** CONNECT targets seen, as host:port. */
  connects: string[];
  close(): Promise<void>;
}

/** An HTTP proxy that accepts CONNECT for any host and tunnels it to `port` on this machine. */
export async function startConnectProxy(port: number): Promise<ConnectProxy> {
  const connects: string[] = [];
  const sockets = new Set<net.Socket>();
  const proxy = http.createServer((_req, res) => res.writeHead(405).end());
  proxy.on('connect', (req: http.IncomingMessage, client: net.Socket, head: Buffer) => {
    connects.push(req.url ?? '');
    sockets.add(client);
    const upstream = net.connect(port, '127.0.0.1', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
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
        proxy.close(() => resolve());
      }),
  };
}
