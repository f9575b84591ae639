import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * An HTTP proxy on 127.0.0.1 that forwards every request to `target` as it came (method, path and query,
 * headers, body) and keeps each exchange. Put in front of the server when a third-party client (an SDK,
 * Alertmanager) talks to it: the client is used unchanged, and a failing test can say exactly what the
 * client sent and what it was answered, which is what someone fixing the server needs.
 */

export interface Exchange {
  method: string;
  /** Path and query as the client sent them. */
  url: string;
  requestHeaders: http.IncomingHttpHeaders;
  requestBody: string;
  /** 502 when the target could not be reached (`responseBody` then says why). */
  status: number;
  responseBody: string;
}

export interface RecordingProxy {
  url: string;
  exchanges: Exchange[];
  stop(): Promise<void>;
}

async function readBody(stream: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export async function startRecordingProxy(target: string): Promise<RecordingProxy> {
  const upstream = new URL(target);
  const exchanges: Exchange[] = [];
  const server = http.createServer((req, res) => {
    void (async () => {
      const body = await readBody(req);
      const exchange: Exchange = {
        method: req.method ?? '',
        url: req.url ?? '',
        requestHeaders: req.headers,
        requestBody: body.toString('utf8'),
        status: 0,
        responseBody: '',
      };
      exchanges.push(exchange);
      const forwarded = http.request({
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      });
      forwarded.on('response', (answer) => {
        void readBody(answer).then((answerBody) => {
          exchange.status = answer.statusCode ?? 0;
          exchange.responseBody = answerBody.toString('utf8');
          res.writeHead(exchange.status, answer.headers);
          res.end(answerBody);
        });
      });
      forwarded.on('error', (error) => {
        exchange.status = 502;
        exchange.responseBody = `the proxy could not reach ${target}: ${error.message}`;
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end(exchange.responseBody);
      });
      forwarded.end(body);
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    exchanges,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** One exchange as a reader fixing the server wants it: the request line, its body, the answer. */
export function describeExchange(e: Exchange): string {
  const headers = Object.entries(e.requestHeaders)
    // The scheme tells how the client authenticates; the key itself is the test's.
    .map(([name, value]) =>
      name === 'authorization'
        ? `${name}: ${String(value).split(' ')[0]} <key>`
        : `${name}: ${String(value)}`,
    )
    .join('\n  ');
  return `${e.method} ${e.url}\n  ${headers}\n  body: ${e.requestBody || '(none)'}\n→ ${e.status} ${e.responseBody}`;
}
