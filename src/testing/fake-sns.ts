import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { makeTestCertificate } from './network.js';

/**
 * A local stand-in for SNS's HTTPS endpoint (where SubscribeURLs point) with a certificate for the real
 * SNS host names, so the confirmation code runs unchanged against it. Tests reach it through
 * OutboundOptions.lookup, .ca and .connectPort.
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
