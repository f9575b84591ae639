import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KeyRateLimiter } from '../accounts/key-rate-limits/limiter.js';
import { requestDomainOf } from '../accounts/key-rate-limits/domains.js';
import { ApiError } from './errors.js';

/**
 * Counts a request made with an API key against the key's limit in the request's domain, and answers a
 * 429 as Opsgenie does past it (`X-RateLimit-State: THROTTLED`, with `Retry-After`), which Opsgenie's
 * SDKs and its Terraform provider wait out and retry (every other answer says `X-RateLimit-State: OK`).
 */
export async function countAgainstKeyRateLimit(
  limiter: KeyRateLimiter,
  keyId: string,
  request: FastifyRequest,
  reply: FastifyReply,
): Promise<void> {
  const domain = requestDomainOf(request.method, request.routeOptions.url ?? '');
  const verdict = await limiter.take(keyId, domain);
  if (verdict.allowed) return;
  reply.header('x-ratelimit-state', 'THROTTLED');
  reply.header('x-ratelimit-period-in-sec', '60');
  throw new ApiError(
    429,
    `This API key sent more than ${limiter.limit.perMinute} ${domain} requests a minute (VIGIL_API_RATE_LIMIT_PER_MINUTE, ${limiter.limit.burst} at once): try again in ${verdict.retryAfterSeconds} s, or spread the requests out.`,
    undefined,
    verdict.retryAfterSeconds,
  );
}
