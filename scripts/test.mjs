/**
 * `npm test`'s runner: brings .test-build/ up to date (scripts/test-build.mjs), then runs the suite
 * (scripts/test.ts, as built there) with plain Node.js, so that no test process pays for a TypeScript
 * loader. `npx tsx scripts/test.ts` runs the same suite from the sources.
 */
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { BUILD_DIR, buildTestTree } from './test-build.mjs';

const started = performance.now();
const transpiled = await buildTestTree();
console.log(
  `built .test-build/ (${transpiled} files transpiled) in ${Math.round(performance.now() - started)} ms`,
);
await import(pathToFileURL(path.join(BUILD_DIR, 'scripts', 'test.js')).href);
