import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { slackSignature, verifySlackSignature } from './signature.js';

/** Slack's worked example (api.slack.com/authentication/verifying-requests-from-slack). */
const SECRET = '8f742231b10e8888abcd99yyyzzz85a5';
const TIMESTAMP = '1531420618';
const BODY =
  'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
const EXPECTED = 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503';
const AT = new Date(Number(TIMESTAMP) * 1000);

function verify(overrides: Partial<Parameters<typeof verifySlackSignature>[0]> = {}) {
  return verifySlackSignature({
    secret: SECRET,
    signature: EXPECTED,
    timestamp: TIMESTAMP,
    rawBody: BODY,
    now: AT,
    ...overrides,
  });
}

describe('Slack request signatures', () => {
  it("computes Slack's test vector", () => {
    assert.equal(slackSignature(SECRET, TIMESTAMP, BODY), EXPECTED);
  });

  it('accepts the test vector within five minutes either way', () => {
    assert.deepEqual(verify(), { ok: true });
    assert.deepEqual(verify({ now: new Date(AT.getTime() + 300_000) }), { ok: true });
    assert.deepEqual(verify({ now: new Date(AT.getTime() - 300_000) }), { ok: true });
  });

  it('refuses a request more than five minutes from now, either way', () => {
    assert.equal(verify({ now: new Date(AT.getTime() + 301_000) }).ok, false);
    assert.equal(verify({ now: new Date(AT.getTime() - 301_000) }).ok, false);
  });

  it('refuses a changed body, another secret, a changed or missing signature or timestamp', () => {
    assert.equal(verify({ rawBody: BODY.replace('roadrunner', 'coyote') }).ok, false);
    assert.equal(verify({ secret: `${SECRET}x` }).ok, false);
    assert.equal(verify({ signature: EXPECTED.replace(/.$/, '0') }).ok, false);
    assert.equal(verify({ signature: EXPECTED.slice(0, -1) }).ok, false);
    assert.equal(verify({ signature: EXPECTED.replace('v0=', 'v1=') }).ok, false);
    assert.equal(verify({ signature: undefined }).ok, false);
    assert.equal(verify({ timestamp: undefined }).ok, false);
    assert.equal(verify({ timestamp: '1531420619' }).ok, false);
    assert.equal(verify({ timestamp: ` ${TIMESTAMP}` }).ok, false);
  });
});
