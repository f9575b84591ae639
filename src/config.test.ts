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
