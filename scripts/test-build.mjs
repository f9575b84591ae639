/**
 * Builds `.test-build/`, the tree the tests run from: every TypeScript file of src/, test/, scripts/ and
 * web/src/ transpiled by esbuild into JavaScript beside a link to its source, and every other file (and
 * web/dist, web/public) linked. Plain `node` then runs a test file without a loader: tsx's hooks cost
 * about a second of CPU in each of the suite's ~250 processes, most of which load the whole server.
 *
 * The links keep what the code finds by its own address where it was: fixtures, web/public/sw.js,
 * web/dist, a test reading a .ts source. Type checking is `tsc --noEmit`'s job (npm test runs it); this
 * only strips types. Run by scripts/test.mjs before each run; a file is transpiled again only when its
 * text changed (`stamp`).
 */
import { Buffer } from 'node:buffer';
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
const TRANSPILER = `esbuild ${esbuildVersion} ${JSON.stringify(OPTIONS)}`;

/**
 * The first line of an output (after a `#!` line) names what it was made from: the digest of its source's text and of how it
 * was transpiled. By content, not by time (a copy or an archive can give a source an older time than its
 * output), and kept in the output itself, so that no build cut short leaves a record that disagrees with
 * the files. esbuild's source map counts the line.
 */
const stamp = (digest) => `// test-build ${digest}`;

/** The output's first lines: the stamp's, after a `#!` line that esbuild keeps first. */
async function firstLines(file) {
  const handle = await fs.open(file).catch(() => undefined);
  if (!handle) return [];
  try {
    const { bytesRead, buffer } = await handle.read(Buffer.alloc(512), 0, 512, 0);
    return buffer.subarray(0, bytesRead).toString('utf8').split('\n', 2);
  } finally {
    await handle.close();
  }
}

async function transpile(source, output) {
  const code = await fs.readFile(source, 'utf8');
  const digest = createHash('sha256').update(TRANSPILER).update('\0').update(code).digest('hex');
  if ((await firstLines(output)).includes(stamp(digest))) return false;
  const result = await transform(code, {
    ...OPTIONS,
    loader: source.endsWith('x') ? 'tsx' : 'ts',
    banner: stamp(digest),
    // Stack traces name the source: the map's path is relative to the output.
    sourcefile: path.relative(path.dirname(output), source),
  });
  // Whole or not at all: a test process of a run still going may be importing it.
  const partial = `${output}.${process.pid}.partial`;
  await fs.writeFile(partial, result.code);
  await fs.rename(partial, output);
  return true;
}

/** Runs at most `max` of the functions given to it at a time (hundreds of open files fail on some systems). */
function limiter(max) {
  let running = 0;
  const waiting = [];
  const next = () => {
    if (running >= max || waiting.length === 0) return;
    running++;
    const { work, resolve, reject } = waiting.shift();
    work()
      .then(resolve, reject)
      .finally(() => {
        running--;
        next();
      });
  };
  return (work) =>
    new Promise((resolve, reject) => {
      waiting.push({ work, resolve, reject });
      next();
    });
}
const limited = limiter(32);

async function mirror(relativeDir, wanted) {
  const sourceDir = path.join(ROOT, relativeDir);
  const outputDir = path.join(BUILD_DIR, relativeDir);
  await fs.mkdir(outputDir, { recursive: true });
  let transpiled = 0;
  const work = [];
  for (const entry of await fs.readdir(sourceDir, { withFileTypes: true })) {
    const relative = path.join(relativeDir, entry.name);
    if (entry.isDirectory()) {
      if (SKIPPED.has(entry.name)) continue;
      work.push(mirror(relative, wanted).then((n) => (transpiled += n)));
      continue;
    }
    const source = path.join(sourceDir, entry.name);
    const link = path.join(outputDir, entry.name);
    wanted.add(link);
    work.push(limited(() => linkTo(source, link)));
    if (isTypeScript(entry.name)) {
      const output = path.join(outputDir, outputName(entry.name));
      wanted.add(output);
      work.push(limited(() => transpile(source, output)).then((made) => (transpiled += made ? 1 : 0)));
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
  const wanted = new Set();
  let transpiled = 0;
  for (const tree of TREES) transpiled += await mirror(tree, wanted);
  for (const dir of LINKED_DIRS) {
    const link = path.join(BUILD_DIR, dir);
    await fs.mkdir(path.dirname(link), { recursive: true });
    await linkTo(path.join(ROOT, dir), link);
    wanted.add(link);
  }
  await prune(BUILD_DIR, wanted);
  return transpiled;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  const started = performance.now();
  const transpiled = await buildTestTree();
  console.log(`.test-build: ${transpiled} files transpiled in ${Math.round(performance.now() - started)} ms`);
}
