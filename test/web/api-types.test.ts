import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import type { OpenAPI3 } from 'openapi-typescript';
import { API_TYPES_FILE, apiTypesOf } from '../../scripts/lib/openapi-types.js';
import { startTestServer, type TestServer } from '../../src/testing/harness.js';

describe("the console's API types", () => {
  let server: TestServer;
  before(async () => {
    server = await startTestServer();
  });
  after(() => server.stop());

  it('are what the running server publishes at /openapi.json (run npm run openapi when this fails)', async () => {
    const spec = (await (await fetch(`${server.url}/openapi.json`)).json()) as OpenAPI3;
    const committed = await fs.readFile(API_TYPES_FILE, 'utf8');
    assert.ok(
      committed === (await apiTypesOf(spec)),
      `${API_TYPES_FILE} differs from the server's /openapi.json: run "npm run openapi" and commit the result.`,
    );
  });
});
