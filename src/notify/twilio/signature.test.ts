import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import twilio from 'twilio';
import { formParams, isValidTwilioSignature, twilioSignature, type TwilioParams } from './signature.js';

/** Vigil's X-Twilio-Signature check, against published vectors and the official twilio package. */

const VECTOR_URL = 'https://mycompany.com/myapp.php?foo=1&bar=2';

describe('twilioSignature', () => {
  it('gives the signature of the published vectors', () => {
    const first = {
      CallSid: 'CA1234567890ABCDE',
      Caller: '+14158675309',
      Digits: '1234',
      From: '+14158675309',
      To: '+18005551212',
    };
    assert.equal(twilioSignature('12345', VECTOR_URL, first), 'RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    const second = {
      CallSid: 'CA1234567890ABCDE',
      From: '+12349013030',
      To: '+18005551212',
      Caller: '+12349013030',
      Digits: '1234',
    };
    assert.equal(twilioSignature('12345', VECTOR_URL, second), '0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
    assert.ok(isValidTwilioSignature('12345', VECTOR_URL, second, '0/KCTR6DLpKmkAf8muzZqo1nDgQ='));
  });

  it('signs a repeated key once per unique value, sorted', () => {
    const url = 'https://vigil.example.com/v1/twilio/status';
    assert.equal(
      twilioSignature('t', url, { A: ['b', 'a', 'b'] }),
      twilioSignature('t', url, { A: ['a', 'b'] }),
    );
    assert.equal(
      twilioSignature('t', url, { A: ['b', 'a'] }),
      twilio.getExpectedTwilioSignature('t', url, { A: ['b', 'a'] }),
    );
  });
});

// ------------------------------------------------------------------------------------------------
// Agreement with twilio-node on random input

const text = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary', maxLength: 12 }),
  fc.string({ unit: 'grapheme', maxLength: 8 }),
);
const key = fc.oneof(fc.constantFrom('To', 'From', 'Body', 'CallSid', 'Digits', 'MediaUrl0', 'a', 'B'), text);
const value = fc.oneof(
  text,
  fc.array(fc.constantFrom('x', 'y', 'é', '😀', ''), { minLength: 1, maxLength: 5 }),
);
const params = fc.dictionary(key, value, { maxKeys: 12 }) as fc.Arbitrary<TwilioParams>;
const token = fc.string({ minLength: 1, maxLength: 40 });

/** A URL as received and one Twilio might have signed for it: the same, or with/without the port. */
const urls = fc
  .record({
    origins: fc.constantFrom(
      ['https://vigil.example.com', 'https://vigil.example.com'],
      ['https://vigil.example.com', 'https://vigil.example.com:443'],
      ['https://vigil.example.com:443', 'https://vigil.example.com'],
      ['http://vigil.local', 'http://vigil.local:80'],
      ['http://vigil.local:80', 'http://vigil.local'],
      ['https://vigil.example.com:8443', 'https://vigil.example.com:8443'],
      ['https://vigil.example.com:8443', 'https://vigil.example.com'],
      ['https://user@[::1]:443', 'https://user@[::1]'],
      ['https://[::1]', 'https://[::1]:443'],
    ),
    path: fc.constantFrom('/v1/twilio/sms', '/v1/twilio/voice', '/'),
    query: fc.option(fc.string({ unit: 'binary', maxLength: 8 }), { nil: undefined }),
  })
  .map(({ origins, path, query }) => {
    const suffix = path + (query === undefined ? '' : `?team=${encodeURIComponent(query)}&n=1`);
    return { received: origins[0] + suffix, signed: origins[1] + suffix };
  });

describe('agreement with the twilio package', () => {
  it('computes the same signature as getExpectedTwilioSignature', () => {
    fc.assert(
      fc.property(token, urls, params, (t, { received }, p) => {
        assert.equal(twilioSignature(t, received, p), twilio.getExpectedTwilioSignature(t, received, p));
      }),
      { numRuns: 500 },
    );
  });

  it('accepts what validateRequest accepts, with or without the port', () => {
    fc.assert(
      fc.property(token, urls, params, (t, { received, signed }, p) => {
        const signature = twilio.getExpectedTwilioSignature(t, signed, p);
        assert.equal(twilio.validateRequest(t, signature, received, p), true);
        assert.equal(isValidTwilioSignature(t, received, p, signature), true);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses what validateRequest refuses: another token, a changed param, a random header', () => {
    fc.assert(
      fc.property(token, token, urls, params, text, (t, other, { received, signed }, p, header) => {
        fc.pre(t !== other);
        const wrongToken = twilio.getExpectedTwilioSignature(other, signed, p);
        assert.equal(twilio.validateRequest(t, wrongToken, received, p), false);
        assert.equal(isValidTwilioSignature(t, received, p, wrongToken), false);
        const signature = twilioSignature(t, signed, p);
        const changed = { ...p, Digits: `${String(p.Digits ?? '')}1` };
        assert.equal(twilio.validateRequest(t, signature, received, changed), false);
        assert.equal(isValidTwilioSignature(t, received, changed, signature), false);
        fc.pre(header !== signature);
        assert.equal(
          isValidTwilioSignature(t, received, p, header),
          twilio.validateRequest(t, header, received, p),
        );
      }),
      { numRuns: 300 },
    );
  });
});

describe('isValidTwilioSignature', () => {
  const url = 'https://vigil.example.com/v1/twilio/sms?org=1';
  const p = { From: '+15005550006', To: '+14155550100', Body: 'ACK 42' };
  const good = twilioSignature('secret', url, p);

  it('accepts the right signature', () => {
    assert.ok(isValidTwilioSignature('secret', url, p, good));
  });

  it('refuses a missing or empty header, another token, a changed param or an extra one', () => {
    assert.equal(isValidTwilioSignature('secret', url, p, undefined), false);
    assert.equal(isValidTwilioSignature('secret', url, p, ''), false);
    assert.equal(isValidTwilioSignature('other', url, p, good), false);
    assert.equal(isValidTwilioSignature('secret', url, { ...p, Body: 'ACK 43' }, good), false);
    assert.equal(isValidTwilioSignature('secret', url, { ...p, NumMedia: '0' }, good), false);
    assert.equal(isValidTwilioSignature('secret', `${url}&x=1`, p, good), false);
    assert.equal(isValidTwilioSignature('secret', url, p, `${good}=`), false);
  });

  it('takes the URL with or without the default port, but not another port', () => {
    assert.ok(isValidTwilioSignature('secret', 'https://vigil.example.com:443/v1/twilio/sms?org=1', p, good));
    const withPort = twilioSignature('secret', 'https://vigil.example.com:443/v1/twilio/sms?org=1', p);
    assert.ok(isValidTwilioSignature('secret', url, p, withPort));
    const http80 = twilioSignature('secret', 'http://vigil.local:80/x', p);
    assert.ok(isValidTwilioSignature('secret', 'http://vigil.local/x', p, http80));
    const otherPort = twilioSignature('secret', 'https://vigil.example.com:8443/v1/twilio/sms?org=1', p);
    assert.equal(isValidTwilioSignature('secret', url, p, otherPort), false);
  });
});

describe('formParams', () => {
  it('decodes values and keeps a repeated key as an array in order', () => {
    const parsed = formParams(
      'To=%2B14155550100&Body=ACK+42%20%C3%A9&StatusCallbackEvent=initiated&StatusCallbackEvent=completed&Empty=',
    );
    assert.deepEqual(
      { ...parsed },
      {
        To: '+14155550100',
        Body: 'ACK 42 é',
        StatusCallbackEvent: ['initiated', 'completed'],
        Empty: '',
      },
    );
  });

  it('takes keys that name Object.prototype members as ordinary params', () => {
    const parsed = formParams('__proto__=x&constructor=a&constructor=b&toString=y');
    assert.deepEqual(Object.entries(parsed), [
      ['__proto__', 'x'],
      ['constructor', ['a', 'b']],
      ['toString', 'y'],
    ]);
  });

  it('gives params that sign as the twilio package signs the decoded form', () => {
    fc.assert(
      fc.property(token, params, (t, p) => {
        const form = new URLSearchParams();
        for (const [k, v] of Object.entries(p))
          for (const one of typeof v === 'string' ? [v] : v) form.append(k, one);
        const parsed = formParams(form.toString());
        const decoded = Object.create(null) as Record<string, string[]>;
        for (const [k, v] of form) (decoded[k] ??= []).push(v);
        assert.equal(
          twilioSignature(t, VECTOR_URL, parsed),
          twilio.getExpectedTwilioSignature(t, VECTOR_URL, decoded),
        );
      }),
      { numRuns: 300 },
    );
  });
});
