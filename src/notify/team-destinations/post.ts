import http from 'node:http';
import https from 'node:https';
import { OutboundAgent } from '../../http/outbound.js';
import { guardedLookup } from './address-guard.js';

/**
 * One POST to a team destination's URL: https through Vigil's outbound agent (HTTPS_PROXY and NO_PROXY
 * honoured), plain http only to a host the operator allowed. Redirects are not followed (the status is
 * returned as is), the whole exchange has a deadline, and only the start of the answer is read: it goes
 * to the delivery log, and a receiver must not be able to make Vigil read megabytes.
 */

export interface PostOptions {
  timeoutMs: number;
  /** The host is one the operator allowed: plain http and private addresses are fine. */
  allowPrivate: boolean;
  /** Bytes of the answer kept for the log. */
  excerptBytes?: number;
}

export interface PostAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  /** The start of the body, as text. */
  excerpt: string;
}

export class PostError extends Error {
  override name = 'PostError';
}

export async function postJson(
  url: URL,
  body: string,
  headers: Record<string, string>,
  options: PostOptions,
): Promise<PostAnswer> {
  const abort = new AbortController();
  const excerptBytes = options.excerptBytes ?? 1024;
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new PostError(`no answer within ${Math.round(options.timeoutMs / 1000)} s`));
      abort.abort();
    }, options.timeoutMs);
  });
  const secure = url.protocol === 'https:';
  const lookup = options.allowPrivate ? undefined : guardedLookup();
  const request = new Promise<PostAnswer>((resolve, reject) => {
    const req = (secure ? https : http).request(
      url,
      {
        method: 'POST',
        headers: { ...headers, 'content-length': String(Buffer.byteLength(body)), connection: 'close' },
        signal: abort.signal,
        ...(secure
          ? { agent: new OutboundAgent({ signal: abort.signal, ...(lookup ? { lookup } : {}) }) }
          : { agent: false, ...(lookup ? { lookup } : {}) }),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const finish = () => {
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            excerpt: Buffer.concat(chunks).subarray(0, excerptBytes).toString('utf8'),
          });
        };
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          chunks.push(chunk);
          if (size >= excerptBytes) {
            // Enough for the log: the rest is not read.
            finish();
            res.destroy();
          }
        });
        res.on('end', finish);
        res.on('error', () => finish());
      },
    );
    req.on('error', (error: Error) => {
      const cause = (error.cause instanceof Error ? error.cause : error).message;
      reject(new PostError(cause));
    });
    req.end(body);
  });
  try {
    return await Promise.race([request, deadline]);
  } finally {
    clearTimeout(timer);
    abort.abort();
  }
}
