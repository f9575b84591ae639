import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * A Standard Webhooks receiver for tests, on 127.0.0.1: each endpoint (a path) has its secret, and every
 * request is checked with the reference library's `Webhook.verify`, as a real receiver would; one that
 * fails is refused with 400 and kept among the refused. A test can make an endpoint answer given statuses
 * (and headers) for its next requests; otherwise it answers 204.
 */

export interface ReceivedWebhook {
  path: string;
  id: string;
  timestamp: string;
  signature: string;
  userAgent: string | undefined;
  contentType: string | undefined;
  /** Every request header, names in lower case (a destination's own headers among them). */
  headers: http.IncomingHttpHeaders;
  raw: string;
  /** The verified, parsed body. */
  // Tests read it loosely and assert on the values.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any;
  /** The status this request was answered with. */
  status: number;
}

export interface RefusedWebhook {
  path: string;
  raw: string;
  headers: http.IncomingHttpHeaders;
  error: string;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
}

export interface WebhookReceiver {
  /** The base URL (http://127.0.0.1:port). */
  url: string;
  /** Adds an endpoint at `path` that verifies with `secret` (set it once the destination made one). */
  endpoint(path: string, secret?: string): void;
  setSecret(path: string, secret: string): void;
  /** The next requests to `path` that verify are answered these, in order; then 204 again. */
  answerNext(path: string, ...answers: (number | Answer)[]): void;
  received(path?: string): ReceivedWebhook[];
  refused(path?: string): RefusedWebhook[];
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const secrets = new Map<string, string | undefined>();
  const scripted = new Map<string, Answer[]>();
  const received: ReceivedWebhook[] = [];
  const refused: RefusedWebhook[] = [];

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = (req.url ?? '/').split('?')[0] ?? '/';
      const raw = Buffer.concat(chunks).toString('utf8');
      const refuse = (status: number, error: string) => {
        refused.push({ path, raw, headers: req.headers, error });
        res.writeHead(status, { 'content-type': 'text/plain' }).end(error);
      };
      if (!secrets.has(path)) return refuse(404, 'no such endpoint');
      const secret = secrets.get(path);
      if (!secret) return refuse(503, 'the endpoint has no secret yet');
      let body: unknown;
      try {
        body = new Webhook(secret).verify(raw, {
          'webhook-id': String(req.headers['webhook-id'] ?? ''),
          'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
          'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
        });
      } catch (error) {
        return refuse(400, `verification failed: ${(error as Error).message}`);
      }
      const answer = scripted.get(path)?.shift() ?? { status: 204 };
      received.push({
        path,
        id: String(req.headers['webhook-id']),
        timestamp: String(req.headers['webhook-timestamp']),
        signature: String(req.headers['webhook-signature']),
        userAgent: req.headers['user-agent'],
        contentType: req.headers['content-type'],
        headers: req.headers,
        raw,
        body,
        status: answer.status,
      });
      res.writeHead(answer.status, answer.headers ?? {}).end(answer.body ?? '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    endpoint(path, secret) {
      secrets.set(path, secret);
    },
    setSecret(path, secret) {
      secrets.set(path, secret);
    },
    answerNext(path, ...answers) {
      const list = scripted.get(path) ?? [];
      list.push(...answers.map((a) => (typeof a === 'number' ? { status: a } : a)));
      scripted.set(path, list);
    },
    received: (path) => received.filter((r) => path === undefined || r.path === path),
    refused: (path) => refused.filter((r) => path === undefined || r.path === path),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
