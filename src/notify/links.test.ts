import assert from 'node:assert/strict';
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import { decodeProtectedHeader, jwtVerify, SignJWT } from 'jose';
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
const TYP = 'vigil-action+jwt';
const exp = Math.floor((now.getTime() + 72 * HOUR) / 1000);

function tokenOf(url: string): string {
  const prefix = 'https://vigil.example.com/v1/alert-actions/';
  assert.ok(url.startsWith(prefix), url);
  return url.slice(prefix.length);
}

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const fromB64 = (part: string) => JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));

/** A token signed with `key` the way jose's SignJWT does, with any header and claims. */
function signed(header: object, payload: object, key: Buffer = secret): string {
  const input = `${b64(header)}.${b64(payload)}`;
  return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
}

const goodPayload = () => ({
  sub: claims.userId,
  alert: claims.alertId,
  org: claims.orgId,
  action: 'close',
  exp,
});

describe('action links', () => {
  it('round-trips the claims, with the expiry the TTL gives', async () => {
    for (const action of ['acknowledge', 'close'] as const) {
      const url = links.url({ ...claims, action }, now);
      const verdict = await links.verify(tokenOf(url), now);
      assert.deepEqual(verdict, {
        ...claims,
        action,
        expiresAt: new Date(now.getTime() + 72 * HOUR),
      } satisfies ActionLinkClaims);
    }
  });

  it('is a standard HS256 JWT, explicitly typed, URL-safe and short enough for an email', async () => {
    const token = links.token(claims, now);
    assert.match(token, /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/);
    assert.deepEqual(decodeProtectedHeader(token), { alg: 'HS256', typ: TYP });
    // Any JWT library reads it: here jose, with nothing of Vigil's.
    const { payload } = await jwtVerify(token, secret, { algorithms: ['HS256'], currentDate: now });
    assert.deepEqual(payload, {
      sub: claims.userId,
      alert: claims.alertId,
      org: claims.orgId,
      action: 'acknowledge',
      exp,
    });
    // Three UUIDs in JSON, the header and a full 256-bit MAC: about 340 characters (the binary v1 format
    // was 75). Well inside what mail clients and servers keep whole in a link.
    assert.ok(token.length < 400, `token is ${token.length} characters`);
    assert.ok(links.url(claims, now).length < 450);
  });

  it('reads a link jose itself signed', async () => {
    const token = await new SignJWT({ alert: claims.alertId, org: claims.orgId, action: 'close' })
      .setProtectedHeader({ alg: 'HS256', typ: TYP })
      .setSubject(claims.userId)
      .setExpirationTime(exp)
      .sign(secret);
    assert.deepEqual(await links.verify(token, now), {
      ...claims,
      action: 'close',
      expiresAt: new Date(exp * 1000),
    });
  });

  it('refuses a token changed anywhere', async () => {
    const token = links.token(claims, now);
    for (let i = 0; i < token.length; i++) {
      if (token[i] === '.') continue;
      const c = token[i] === 'A' ? 'B' : 'A';
      const tampered = `${token.slice(0, i)}${c}${token.slice(i + 1)}`;
      assert.deepEqual(await links.verify(tampered, now), { error: 'invalid' }, `changed at ${i}`);
    }
    // The same MAC spelt another way: the last character's two unused low bits set.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const twin = `${token.slice(0, -1)}${alphabet[alphabet.indexOf(token.at(-1) ?? '') + 3]}`;
    const mac = (t: string) => Buffer.from(t.split('.')[2] ?? '', 'base64url');
    assert.deepEqual(mac(twin), mac(token));
    assert.deepEqual(await links.verify(twin, now), { error: 'invalid' });
    assert.deepEqual(await links.verify(token.slice(0, -1), now), { error: 'invalid' });
    assert.deepEqual(await links.verify(`${token}A`, now), { error: 'invalid' });
    assert.deepEqual(await links.verify(`${token}.x`, now), { error: 'invalid' });
    assert.deepEqual(await links.verify(token.split('.').slice(0, 2).join('.'), now), { error: 'invalid' });
    assert.deepEqual(await links.verify(`${token.split('.').slice(0, 2).join('.')}.`, now), {
      error: 'invalid',
    });
    assert.deepEqual(await links.verify('', now), { error: 'invalid' });
    assert.deepEqual(await links.verify('v1.', now), { error: 'invalid' });
    assert.deepEqual(await links.verify('v1.!!!', now), { error: 'invalid' });
    // A link in the old binary v1 format is not misread.
    assert.deepEqual(await links.verify(`v1.${Buffer.alloc(69, 1).toString('base64url')}`, now), {
      error: 'invalid',
    });
  });

  it('can not be turned into a link for another alert, user or action', async () => {
    const token = links.token(claims, now);
    const [header, body, signature] = token.split('.') as [string, string, string];
    const original = fromB64(body);
    for (const change of [
      { action: 'close' },
      { alert: randomUUID() },
      { sub: randomUUID() },
      { org: randomUUID() },
      { exp: exp + 3600 },
    ]) {
      const forged = `${header}.${b64({ ...original, ...change })}.${signature}`;
      assert.deepEqual(await links.verify(forged, now), { error: 'invalid' }, JSON.stringify(change));
    }
    const other = await links.verify(links.token({ ...claims, alertId: randomUUID() }, now), now);
    assert.ok(!('error' in other) && other.alertId !== claims.alertId);
  });

  it('pins the algorithm and the type', async () => {
    const payload = goodPayload();
    // Unsigned ("alg": "none").
    assert.deepEqual(await links.verify(`${b64({ alg: 'none', typ: TYP })}.${b64(payload)}.`, now), {
      error: 'invalid',
    });
    // The right key under another HMAC.
    const input = `${b64({ alg: 'HS512', typ: TYP })}.${b64(payload)}`;
    const hs512 = `${input}.${createHmac('sha512', secret).update(input).digest('base64url')}`;
    assert.deepEqual(await links.verify(hs512, now), { error: 'invalid' });
    // Signed with the key, but not typed as a link, or typed as something else.
    assert.deepEqual(await links.verify(signed({ alg: 'HS256' }, payload), now), { error: 'invalid' });
    assert.deepEqual(await links.verify(signed({ alg: 'HS256', typ: 'JWT' }, payload), now), {
      error: 'invalid',
    });
    // The control: the same claims, typed and signed right.
    assert.ok(!('error' in (await links.verify(signed({ alg: 'HS256', typ: TYP }, payload), now))));
  });

  it('refuses signed claims that are missing or not what a link holds', async () => {
    const header = { alg: 'HS256', typ: TYP };
    const { exp: _exp, ...noExpiry } = goodPayload();
    for (const payload of [
      noExpiry,
      { ...goodPayload(), action: 'delete' },
      { ...goodPayload(), alert: '42' },
      { ...goodPayload(), sub: 7 },
      { ...goodPayload(), exp: String(exp) },
    ]) {
      assert.deepEqual(
        await links.verify(signed(header, payload), now),
        { error: 'invalid' },
        JSON.stringify(payload),
      );
    }
  });

  it('is refused under another secret', async () => {
    const otherLinks = createActionLinks(randomBytes(32), 'https://vigil.example.com', 72 * HOUR);
    assert.deepEqual(await otherLinks.verify(links.token(claims, now), now), { error: 'invalid' });
  });

  it('expires, with no clock tolerance', async () => {
    const token = links.token(claims, now);
    const justBefore = new Date(now.getTime() + 72 * HOUR - 1000);
    const at = new Date(now.getTime() + 72 * HOUR);
    assert.ok(!('error' in (await links.verify(token, justBefore))));
    assert.deepEqual(await links.verify(token, at), { error: 'expired' });
    assert.deepEqual(await links.verify(token, new Date(now.getTime() + 1000 * HOUR)), { error: 'expired' });
  });

  it('says invalid, not expired, for an expired token that was also changed', async () => {
    const token = links.token(claims, new Date(now.getTime() - 100 * HOUR));
    assert.deepEqual(await links.verify(token, now), { error: 'expired' });
    for (const i of [10, token.indexOf('.') + 10, token.length - 10]) {
      const tampered = token.slice(0, i) + (token[i] === 'A' ? 'B' : 'A') + token.slice(i + 1);
      assert.deepEqual(await links.verify(tampered, now), { error: 'invalid' }, `changed at ${i}`);
    }
  });

  it('refuses ids that are not UUIDs when making a link', () => {
    assert.throws(() => links.token({ ...claims, alertId: '42' }, now), /UUID/);
  });
});

describe('action links bound to a contact method', () => {
  const contact = { id: randomUUID(), address: 'ana@exmaple.com' };

  it('carry the contact id and a keyed hash of its address, never the address', async () => {
    const token = links.token({ ...claims, contact }, now);
    const verdict = await links.verify(token, now);
    assert.ok(!('error' in verdict) && verdict.contact, JSON.stringify(verdict));
    assert.equal(verdict.contact.id, contact.id);
    assert.equal(links.sentTo(verdict.contact, 'ana@exmaple.com'), true);
    assert.equal(links.sentTo(verdict.contact, 'ana@example.com'), false);
    assert.equal(links.sentTo(verdict.contact, 'ANA@exmaple.com'), false);
    const payload = fromB64(token.split('.')[1] ?? '');
    assert.deepEqual(Object.keys(payload).sort(), [
      'action',
      'alert',
      'contact',
      'exp',
      'org',
      'sub',
      'to_hash',
    ]);
    assert.ok(!JSON.stringify(payload).includes('exmaple'));
    // Under another key the same address hashes otherwise: the hash is no plain digest to test guesses on.
    const other = createActionLinks(randomBytes(32), 'https://vigil.example.com', 72 * HOUR);
    assert.equal(other.sentTo(verdict.contact, 'ana@exmaple.com'), false);
    assert.ok(links.url({ ...claims, contact }, now).length < 550);
  });

  it('refuse a contact claim changed, or one without the other', async () => {
    const token = links.token({ ...claims, contact }, now);
    const [header, body, signature] = token.split('.') as [string, string, string];
    const original = fromB64(body);
    for (const change of [{ contact: randomUUID() }, { to_hash: 'A'.repeat(22) }, { contact: undefined }]) {
      const forged = `${header}.${b64({ ...original, ...change })}.${signature}`;
      assert.deepEqual(await links.verify(forged, now), { error: 'invalid' }, JSON.stringify(change));
    }
    const header0 = { alg: 'HS256', typ: TYP };
    for (const payload of [
      { ...goodPayload(), contact: contact.id },
      { ...goodPayload(), to_hash: original.to_hash },
      { ...goodPayload(), contact: '42', to_hash: original.to_hash },
      { ...goodPayload(), contact: contact.id, to_hash: 7 },
      { ...goodPayload(), contact: contact.id, to_hash: 'AAAA' },
    ]) {
      assert.deepEqual(
        await links.verify(signed(header0, payload), now),
        { error: 'invalid' },
        JSON.stringify(payload),
      );
    }
    // The control: both, signed right.
    const both = await links.verify(
      signed(header0, { ...goodPayload(), contact: contact.id, to_hash: original.to_hash }),
      now,
    );
    assert.ok(!('error' in both) && both.contact?.id === contact.id);
  });

  it('read a link without a contact (made before links named one) as bound to the person only', async () => {
    const verdict = await links.verify(links.token(claims, now), now);
    assert.ok(!('error' in verdict) && !('contact' in verdict));
  });
});
