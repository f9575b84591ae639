import { fileURLToPath } from 'node:url';

/**
 * What follows `node` to run the real `vigil` command in a test: its JavaScript in .test-build/ when the
 * suite runs from there (scripts/test.mjs), its TypeScript through tsx when it runs from the sources.
 */
const fromBuild = import.meta.url.endsWith('.js');
export const VIGIL_COMMAND: readonly string[] = fromBuild
  ? [fileURLToPath(new URL('../cli/main.js', import.meta.url))]
  : ['--import', 'tsx', fileURLToPath(new URL('../cli/main.ts', import.meta.url))];
