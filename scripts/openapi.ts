/**
 * `npm run openapi`: starts Vigil on a temporary embedded PostgreSQL, reads its /openapi.json and writes
 * the console's API types (web/src/api/schema.d.ts) from it. Run it after changing a route's schema;
 * `npm test` fails while the committed types differ from what the routes say.
 */
import fs from 'node:fs/promises';
import type { OpenAPI3 } from 'openapi-typescript';
import { startBenchApp } from './lib/bench-app.js';
import { API_TYPES_FILE, apiTypesOf } from './lib/openapi-types.js';

console.log('starting Vigil on a temporary database to read its API ...');
const { app, work } = await startBenchApp('openapi');
try {
  const spec = (await (await fetch(`${app.url}/openapi.json`)).json()) as OpenAPI3;
  const types = await apiTypesOf(spec);
  const before = await fs.readFile(API_TYPES_FILE, 'utf8').catch(() => '');
  await fs.writeFile(API_TYPES_FILE, types);
  console.log(
    before === types
      ? `${API_TYPES_FILE} is up to date (${Object.keys(spec.paths ?? {}).length} paths)`
      : `wrote ${API_TYPES_FILE} (${Object.keys(spec.paths ?? {}).length} paths)`,
  );
} finally {
  await app.stop();
  await fs.rm(work, { recursive: true, force: true });
}
