import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, loadConfig } from './config.js';

describe('VIGIL_DATABASE_PREPARED_STATEMENTS', () => {
  it('is on unless turned off', () => {
    assert.equal(loadConfig({}).databasePreparedStatements, true);
    assert.equal(loadConfig({ VIGIL_DATABASE_PREPARED_STATEMENTS: 'off' }).databasePreparedStatements, false);
    assert.equal(
      loadConfig({ VIGIL_DATABASE_PREPARED_STATEMENTS: ' False ' }).databasePreparedStatements,
      false,
    );
    assert.equal(loadConfig({ VIGIL_DATABASE_PREPARED_STATEMENTS: 'on' }).databasePreparedStatements, true);
  });

  it('says which values it takes', () => {
    assert.throws(
      () => loadConfig({ VIGIL_DATABASE_PREPARED_STATEMENTS: 'sometimes' }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.message === 'VIGIL_DATABASE_PREPARED_STATEMENTS must be on or off, not "sometimes".',
    );
  });
});

describe('VIGIL_TRUST_PROXY', () => {
  it('believes nobody unless told whom', () => {
    assert.equal(loadConfig({}).trustProxy, false);
    assert.equal(loadConfig({ VIGIL_TRUST_PROXY: 'off' }).trustProxy, false);
    assert.equal(loadConfig({ VIGIL_TRUST_PROXY: 'on' }).trustProxy, true);
    assert.deepEqual(
      loadConfig({ VIGIL_TRUST_PROXY: '10.0.0.0/8, 127.0.0.1,::1,fd00::/8,loopback' }).trustProxy,
      ['10.0.0.0/8', '127.0.0.1', '::1', 'fd00::/8', 'loopback'],
    );
  });

  it('names what it cannot read, and what it takes', () => {
    for (const [value, wrong] of [
      ['10.0.0.0/33', '"10.0.0.0/33"'],
      ['proxy.example.com', '"proxy.example.com"'],
      ['1', '"1"'],
      ['127.0.0.1,', '""'],
    ]) {
      assert.throws(
        () => loadConfig({ VIGIL_TRUST_PROXY: value }),
        (error: unknown) =>
          error instanceof ConfigError &&
          error.message.includes(`not understood (${wrong})`) &&
          error.message.includes('give off, on'),
        value,
      );
    }
  });
});

describe('VIGIL_PUBLIC_URL', () => {
  it('warns at start when it is not set and others may reach Vigil, or PORT is 0', () => {
    const warningOf = (env: Record<string, string>) => loadConfig(env).publicUrlWarning;
    assert.match(warningOf({}) ?? '', /^VIGIL_PUBLIC_URL is not set: .* use http:\/\/localhost:8080, /);
    assert.match(warningOf({ HOST: '0.0.0.0', PORT: '9090' }) ?? '', /localhost:9090.*set VIGIL_PUBLIC_URL/);
    assert.match(warningOf({ HOST: '127.0.0.1', PORT: '0' }) ?? '', /PORT is 0: .* name port 0/);
    assert.match(
      warningOf({ HOST: '127.0.0.1', VIGIL_TRUST_PROXY: 'loopback' }) ?? '',
      /which those coming through the proxy do not reach/,
      'behind a proxy on the same machine, others reach it',
    );
    for (const host of ['127.0.0.1', '127.0.1.1', '::1', 'localhost', 'LOCALHOST', '::ffff:127.0.0.1'])
      assert.equal(warningOf({ HOST: host }), undefined, `only this machine reaches ${host}`);
    assert.equal(warningOf({ VIGIL_PUBLIC_URL: 'https://vigil.example.com' }), undefined);
    assert.equal(warningOf({ VIGIL_PUBLIC_URL: 'https://vigil.example.com', PORT: '0' }), undefined);
  });
});
