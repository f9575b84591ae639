import { randomBytes } from 'node:crypto';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { makeTestCertificate } from './network.js';

/**
 * A local stand-in for SNS's HTTPS endpoint (where SubscribeURLs point) with a certificate for the real
 * SNS host names, so the confirmation code runs unchanged against it. Tests reach it through
 * OutboundOptions.lookup, .ca and .connectPort.
 *
 * As SNS does, it confirms only a GET of Action=ConfirmSubscription with the TopicArn and a Token it
 * issued for that topic (`issueToken`); anything else gets SNS's 400 or 404 error document.
 */

export interface FakeSns {
  port: number;
  ca: Buffer;
  /** Requests received: method and path with query. */
  requests: { method: string; url: string; host: string }[];
  /** A token for a subscription to `topicArn`, as SNS puts in a SubscriptionConfirmation. */
  issueToken(topicArn: string): string;
  /** What to answer next (default: SNS's own checks, then 200 with a ConfirmSubscriptionResponse). */
  respond: (req: http.IncomingMessage, res: http.ServerResponse) => void;
  lookup: net.LookupFunction;
  close(): Promise<void>;
}

export async function startFakeSns(
  hosts = ['sns.us-east-1.amazonaws.com', 'sns.us-west-2.amazonaws.com'],
): Promise<FakeSns> {
  const { cert: ca, key } = await makeTestCertificate(hosts);
  const tokens = new Map<string, string>();

  const fake: FakeSns = {
    port: 0,
    ca,
    requests: [],
    issueToken: (topicArn) => {
      const token = randomBytes(32).toString('hex');
      tokens.set(token, topicArn);
      return token;
    },
    respond: (req, res) => {
      const query = new URL(req.url ?? '/', 'https://x').searchParams;
      const topic = query.get('TopicArn') ?? '';
      const token = query.get('Token') ?? '';
      const refuse = (status: number, code: string, message: string) => {
        res.writeHead(status, { 'content-type': 'text/xml' });
        res.end(
          `<ErrorResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error></ErrorResponse>`,
        );
      };
      if (req.method !== 'GET') return refuse(400, 'InvalidAction', 'Use GET to confirm a subscription');
      if (query.get('Action') !== 'ConfirmSubscription')
        return refuse(400, 'InvalidAction', `Unsupported action ${query.get('Action') ?? ''}`);
      if (!/^arn:aws[\w-]*:sns:[a-z0-9-]+:\d{12}:[\w-]+$/.test(topic))
        return refuse(400, 'InvalidParameter', 'Invalid parameter: TopicArn');
      if (tokens.get(token) !== topic) return refuse(400, 'InvalidParameter', 'Invalid token');
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
