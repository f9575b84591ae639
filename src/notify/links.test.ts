import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { createActionLinks, type ActionLinkClaims } from './links.js';

const HOUR = 3_600_000;
const secret = randomBytes(32);
const links = createActionLinks(secret, 'https://vigil.example.com/', 72 * HOUR);
const now = new Date('2025-03-01T12:00:00.000Z');
const claims = {
  alertId: randomUUID(),
  userId: randomUUID(),
  orgId: randomUUID(),
  action: 'acknowledge' as const,
};

function tokenOf(url: string): string {
  const prefix = 'https://vigil.example.com/v1/alert-actions/';
  assert.ok(url.startsWith(prefix), url);
  return url.slice(prefix.length);
}

describe('action links', () => {
  it('round-trips the claims, with the expiry the TTL gives', () => {
    for (const action of ['acknowledge', 'close'] as const) {
      const url = links.url({ ...claims, action }, now);
      const verdict = links.verify(tokenOf(url), now);
      assert.deepEqual(verdict, {
        ...claims,
        action,
        expiresAt: new Date(now.getTime() + 72 * HOUR),
      } satisfies ActionLinkClaims);
    }
  });

  it('is compact, versioned and URL-safe', () => {
    const token = links.token(claims, now);
    assert.match(token, /^v1\.[A-Za-z0-9_-]+$/);
    assert.ok(token.length < 100, `token is ${token.length} characters`);
  });

  it('refuses a token changed anywhere', () => {
    const token = links.token(claims, now);
    const body = token.slice(3);
    for (let i = 0; i < body.length; i++) {
      const c = body[i] === 'A' ? 'B' : 'A';
      const tampered = `v1.${body.slice(0, i)}${c}${body.slice(i + 1)}`;
      assert.deepEqual(links.verify(tampered, now), { error: 'invalid' }, `changed at ${i}`);
    }
    assert.deepEqual(links.verify(token.slice(0, -1), now), { error: 'invalid' });
    assert.deepEqual(links.verify(`${token}A`, now), { error: 'invalid' });
    assert.deepEqual(links.verify(`v2.${body}`, now), { error: 'invalid' });
    assert.deepEqual(links.verify(`${token}.x`, now), { error: 'invalid' });
    assert.deepEqual(links.verify('', now), { error: 'invalid' });
    assert.deepEqual(links.verify('v1.', now), { error: 'invalid' });
    assert.deepEqual(links.verify('v1.!!!', now), { error: 'invalid' });
  });

  it('can not be turned into a link for another alert, user or action', () => {
    const token = links.token(claims, now);
    const bytes = Buffer.from(token.slice(3), 'base64url');
    // Flip the action byte, then a byte of the alert id: the signature no longer matches.
    for (const index of [0, 5, 21, 37]) {
      const forged = Buffer.from(bytes);
      forged[index] = (forged[index] ?? 0) ^ 0x03;
      assert.deepEqual(links.verify(`v1.${forged.toString('base64url')}`, now), { error: 'invalid' });
    }
    const other = links.verify(links.token({ ...claims, alertId: randomUUID() }, now), now);
    assert.ok(!('error' in other) && other.alertId !== claims.alertId);
  });

  it('is refused under another secret', () => {
    const otherLinks = createActionLinks(randomBytes(32), 'https://vigil.example.com', 72 * HOUR);
    assert.deepEqual(otherLinks.verify(links.token(claims, now), now), { error: 'invalid' });
  });

  it('expires', () => {
    const token = links.token(claims, now);
    const justBefore = new Date(now.getTime() + 72 * HOUR - 1000);
    const at = new Date(now.getTime() + 72 * HOUR);
    assert.ok(!('error' in links.verify(token, justBefore)));
    assert.deepEqual(links.verify(token, at), { error: 'expired' });
    assert.deepEqual(links.verify(token, new Date(now.getTime() + 1000 * HOUR)), { error: 'expired' });
  });

  it('says invalid, not expired, for an expired token that was also changed', () => {
    const token = links.token(claims, new Date(now.getTime() - 100 * HOUR));
    const tampered = token.slice(0, 10) + (token[10] === 'A' ? 'B' : 'A') + token.slice(11);
    assert.deepEqual(links.verify(tampered, now), { error: 'invalid' });
  });

  it('refuses ids that are not UUIDs when making a link', () => {
    assert.throws(() => links.token({ ...claims, alertId: '42' }, now), /UUID/);
  });
});
