/**
 * Builds `.test-build/`, the tree the tests run from: every TypeScript file of src/, test/, scripts/ and
 * web/src/ transpiled by esbuild into JavaScript beside a link to its source, and every other file (and
 * web/dist, web/public) linked. Plain `node` then runs a test file without a loader: tsx's hooks cost
 * about a second of CPU in each of the suite's ~250 processes, most of which load the whole server.
 *
 * The links keep what the code finds by its own address where it was: fixtures, web/public/sw.js,
 * web/dist, a test reading a .ts source. Type checking is `tsc --noEmit`'s job (npm test runs it); this
 * only strips types. Run by scripts/test.mjs before each run; a file is transpiled again only when its
 * text changed.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { transform, version as esbuildVersion } from 'esbuild';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BUILD_DIR = path.join(ROOT, '.test-build');
const TREES = ['src', 'test', 'scripts', 'web/src'];
// Linked whole: nothing in them is transpiled, and web/dist may not be built yet.
const LINKED_DIRS = ['web/dist', 'web/public'];
const SKIPPED = new Set(['node_modules', '.test-build', 'dist']);

const isTypeScript = (name) => /\.(ts|tsx|mts)$/.test(name) && !name.endsWith('.d.ts');
const outputName = (name) => name.replace(/\.tsx?$/, '.js').replace(/\.mts$/, '.mjs');

async function linkTo(target, link) {
  const wanted = path.relative(path.dirname(link), target);
  const current = await fs.readlink(link).catch(() => undefined);
  if (current === wanted) return;
  await fs.rm(link, { force: true });
  await fs.symlink(wanted, link);
}

const OPTIONS = {
  format: 'esm',
  platform: 'node',
  target: 'node20',
  jsx: 'automatic',
  sourcemap: 'inline',
  tsconfigRaw: { compilerOptions: { useDefineForClassFields: true, verbatimModuleSyntax: false } },
};
// A file is transpiled again when its text, or what it is transpiled with, changed since: by content, not
// by time, as a checkout or a copy may give a file an older time than its output.
const MANIFEST = path.join(BUILD_DIR, '.transpiled.json');
const TRANSPILER = `esbuild ${esbuildVersion} ${JSON.stringify(OPTIONS)}`;

async function transpile(source, output, done, now) {
  const code = await fs.readFile(source, 'utf8');
  const digest = createHash('sha256').update(TRANSPILER).update('\0').update(code).digest('hex');
  now[output] = digest;
  if (done[output] === digest && (await fs.stat(output).catch(() => undefined))) return false;
  const result = await transform(code, {
    ...OPTIONS,
    loader: source.endsWith('x') ? 'tsx' : 'ts',
    // Stack traces name the source: the map's path is relative to the output.
    sourcefile: path.relative(path.dirname(output), source),
  });
  await fs.writeFile(output, result.code);
  return true;
}

async function mirror(relativeDir, wanted, done, now) {
  const sourceDir = path.join(ROOT, relativeDir);
  const outputDir = path.join(BUILD_DIR, relativeDir);
  await fs.mkdir(outputDir, { recursive: true });
  let transpiled = 0;
  const work = [];
  for (const entry of await fs.readdir(sourceDir, { withFileTypes: true })) {
    const relative = path.join(relativeDir, entry.name);
    if (entry.isDirectory()) {
      if (SKIPPED.has(entry.name) || LINKED_DIRS.includes(relative)) continue;
      work.push(mirror(relative, wanted, done, now).then((n) => (transpiled += n)));
      continue;
    }
    const source = path.join(sourceDir, entry.name);
    const link = path.join(outputDir, entry.name);
    wanted.add(link);
    work.push(linkTo(source, link));
    if (isTypeScript(entry.name)) {
      const output = path.join(outputDir, outputName(entry.name));
      wanted.add(output);
      work.push(transpile(source, output, done, now).then((made) => (transpiled += made ? 1 : 0)));
    }
  }
  await Promise.all(work);
  return transpiled;
}

/** Removes what a deleted or renamed source left behind. */
async function prune(dir, wanted) {
  for (const entry of await fs.readdir(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) await prune(full, wanted);
    else if (!wanted.has(full)) await fs.rm(full, { force: true });
  }
}

/** Brings .test-build/ up to date; answers how many files were transpiled. */
export async function buildTestTree() {
  const wanted = new Set([MANIFEST]);
  const done = JSON.parse(await fs.readFile(MANIFEST, 'utf8').catch(() => '{}'));
  const now = {};
  let transpiled = 0;
  for (const tree of TREES) transpiled += await mirror(tree, wanted, done, now);
  for (const dir of LINKED_DIRS) {
    const link = path.join(BUILD_DIR, dir);
    await fs.mkdir(path.dirname(link), { recursive: true });
    await linkTo(path.join(ROOT, dir), link);
    wanted.add(link);
  }
  await prune(BUILD_DIR, wanted);
  await fs.writeFile(MANIFEST, JSON.stringify(now));
  return transpiled;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const started = performance.now();
  const transpiled = await buildTestTree();
  console.log(`.test-build: ${transpiled} files transpiled in ${Math.round(performance.now() - started)} ms`);
}
