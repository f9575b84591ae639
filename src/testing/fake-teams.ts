import http from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local Teams Workflows webhook ("When a Teams webhook request is received"): `POST /workflows/<id>`
 * with JSON that is a message carrying an Adaptive Card (`type: "message"`, `attachments[0].contentType`
 * `application/vnd.microsoft.card.adaptive`, `content.type` AdaptiveCard with a `version` and a `body`
 * array) is accepted with 202, as the workflow answers before it runs; anything else is refused with 400
 * and why. An unknown workflow is 404. `failNext(status)` answers the next post with a status (429 with
 * Retry-After: 1).
 */

export interface TeamsPost {
  path: string;
  body: Record<string, unknown>;
  /** The card: attachments[0].content. */
  card: {
    type: string;
    version: string;
    body: Record<string, unknown>[];
    actions?: Record<string, unknown>[];
  };
}

export interface FakeTeams {
  /** A workflow's URL on the fake. */
  url: string;
  posts: TeamsPost[];
  refused: { status: number; reason: string }[];
  failNext(status: number): void;
  close(): Promise<void>;
}

/** Why the body is not a message with an Adaptive Card, or undefined. */
export function cardProblem(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null) return 'the body is not a JSON object';
  const message = body as Record<string, unknown>;
  if (message.type !== 'message') return 'type is not "message"';
  const attachments = message.attachments;
  if (!Array.isArray(attachments) || attachments.length === 0) return 'attachments is not a non-empty array';
  const first = attachments[0] as Record<string, unknown> | null;
  if (first?.contentType !== 'application/vnd.microsoft.card.adaptive') {
    return 'attachments[0].contentType is not application/vnd.microsoft.card.adaptive';
  }
  const content = first.content as Record<string, unknown> | null | undefined;
  if (typeof content !== 'object' || content === null) return 'attachments[0].content is not an object';
  if (content.type !== 'AdaptiveCard') return 'content.type is not AdaptiveCard';
  if (typeof content.version !== 'string' || !/^1\.\d$/.test(content.version))
    return 'content.version is not 1.x';
  if (!Array.isArray(content.body)) return 'content.body is not an array';
  return undefined;
}

export async function startFakeTeams(): Promise<FakeTeams> {
  const posts: TeamsPost[] = [];
  const refused: FakeTeams['refused'] = [];
  const failures: number[] = [];
  const workflowPath = '/workflows/4f9c1e2a7b/triggers/manual/paths/invoke';

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const answer = (status: number, text: string, headers: Record<string, string> = {}) => {
        if (status >= 400) refused.push({ status, reason: text });
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(status >= 400 ? JSON.stringify({ error: { code: String(status), message: text } }) : '');
      };
      if (req.method !== 'POST') return answer(405, 'only POST');
      if (url.pathname !== workflowPath) return answer(404, 'no such workflow');
      const failure = failures.shift();
      if (failure !== undefined)
        return answer(failure, 'scripted failure', failure === 429 ? { 'retry-after': '1' } : {});
      if (!(req.headers['content-type'] ?? '').startsWith('application/json')) return answer(400, 'not JSON');
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return answer(400, 'not JSON');
      }
      const problem = cardProblem(body);
      if (problem) return answer(400, problem);
      const message = body as { attachments: { content: TeamsPost['card'] }[] };
      posts.push({
        path: url.pathname,
        body: body as Record<string, unknown>,
        card: message.attachments[0]?.content as TeamsPost['card'],
      });
      return answer(202, '');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url: `${base}${workflowPath}?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig=fake`,
    posts,
    refused,
    failNext: (status) => void failures.push(status),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
