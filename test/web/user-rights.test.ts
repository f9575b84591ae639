import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { USER_RIGHTS as SERVER_RIGHTS } from '../../src/accounts/custom-roles/rights.js';
import { USER_RIGHTS as CONSOLE_RIGHTS } from '../../web/src/lib/userRights.js';

describe("the console's list of user rights", () => {
  it('is the server’s, so the Roles page offers every right the API takes and no other', () => {
    assert.deepEqual([...CONSOLE_RIGHTS], [...SERVER_RIGHTS]);
  });
});
