import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { MIGRATION_NAMES } from './migrate.js';

/**
 * Migrations are registered by hand in migrate.ts, so a slip there goes unseen until a database meets it.
 * Kysely runs them sorted by name and will not start on a database that has applied a later migration
 * when an earlier name turns up (it stops with "corrupted migrations"), so a new migration takes the next
 * number, and the numbers once skipped stay skipped. The migration tests also take a migration's
 * predecessor from MIGRATION_NAMES' order.
 */

/**
 * Numbers given out and never used. Filling one in now would put a migration before ones upgraded
 * databases have applied, which Kysely refuses at start; so they stay empty, and no new gap is left.
 */
const NEVER_USED = new Set([34, 35, 55]);

const NAME = /^(\d{4})_[a-z0-9]+(?:_[a-z0-9]+)*$/;

/** A migration's own files in the folder: not its tests. */
const isMigrationFile = (file: string) =>
  file.endsWith('.ts') && !file.endsWith('.test.ts') && !file.endsWith('.d.ts');

/**
 * What is wrong with the registration: `registered` in migrate.ts' order, `files` in the migrations
 * folder, `source` the text of migrate.ts (its imports say which file each name runs).
 */
function problemsOf(registered: readonly string[], files: readonly string[], source: string): string[] {
  const problems: string[] = [];

  let previous = 0;
  const numbers = new Set<number>();
  for (const name of registered) {
    const match = NAME.exec(name);
    if (!match) {
      problems.push(`${name} is not named NNNN_words (four digits, an underscore, lower-case words)`);
      continue;
    }
    const n = Number(match[1]);
    if (numbers.has(n)) problems.push(`${name} repeats the number ${n}`);
    else if (n < previous) problems.push(`${name} is registered after migration ${previous}: out of order`);
    numbers.add(n);
    previous = Math.max(previous, n);
  }
  for (let n = 1; n <= previous; n++) {
    const padded = String(n).padStart(4, '0');
    if (NEVER_USED.has(n) && numbers.has(n))
      problems.push(`${padded} fills a number skipped before: give it the next number after ${previous}`);
    else if (!NEVER_USED.has(n) && !numbers.has(n))
      problems.push(`${padded} is skipped: number migrations one after the other`);
  }

  const onDisk = new Set<string>();
  for (const file of files.filter(isMigrationFile)) {
    const name = file.slice(0, -'.ts'.length);
    if (!NAME.test(name)) problems.push(`migrations/${file} is not named NNNN_words.ts`);
    onDisk.add(name);
  }
  const listed = new Set(registered);
  for (const name of onDisk)
    if (!listed.has(name)) problems.push(`migrations/${name}.ts is not registered in migrate.ts`);
  for (const name of listed)
    if (!onDisk.has(name)) problems.push(`${name} is registered but migrations/${name}.ts is missing`);

  // The names are only keys: each must run its own file, not a neighbour's copied import.
  const imported = new Map<string, string>();
  for (const [, binding, file] of source.matchAll(
    /^import \* as (\w+) from '\.\/migrations\/([^']+)\.js';$/gm,
  ))
    imported.set(binding!, file!);
  const entries = [...source.matchAll(/^\s+'([^']+)': (\w+),$/gm)].map(([, name, binding]) => ({
    name: name!,
    binding: binding!,
  }));
  if (entries.map((e) => e.name).join() !== registered.join())
    problems.push("migrate.ts's MIGRATIONS entries could not be read as `'NNNN_words': mNNNN,` lines");
  for (const { name, binding } of entries) {
    const file = imported.get(binding);
    if (file !== name)
      problems.push(`${name} runs ${binding}, imported from ${file ? `migrations/${file}.js` : 'nowhere'}`);
  }
  return problems;
}

describe('the registered migrations', () => {
  it('are in numeric order, with no repeat or new gap, and are exactly the files in migrations/', () => {
    const files = fs.readdirSync(new URL('./migrations/', import.meta.url));
    const source = fs.readFileSync(new URL('./migrate.ts', import.meta.url), 'utf8');
    assert.deepEqual(problemsOf(MIGRATION_NAMES, files, source), []);
  });

  it('would be refused for each kind of slip', () => {
    /** migrate.ts as written: imports (binding, file), then MIGRATIONS entries (name, binding). */
    const sourceOf = (imports: [string, string][], entries: [string, string][]) =>
      [
        ...imports.map(([binding, file]) => `import * as ${binding} from './migrations/${file}.js';`),
        'const MIGRATIONS: Record<string, Migration> = {',
        ...entries.map(([name, binding]) => `  '${name}': ${binding},`),
        '};',
      ].join('\n');
    const bindings = (names: string[]) => names.map((n): [string, string] => [`m${n.slice(0, 4)}`, n]);
    const check = (names: string[], files = names.map((n) => `${n}.ts`)) =>
      problemsOf(
        names,
        files,
        sourceOf(
          bindings(names),
          bindings(names).map(([binding, name]) => [name, binding]),
        ),
      );
    const good = ['0001_a', '0002_b', '0003_c'];
    assert.deepEqual(check(good, [...good.map((n) => `${n}.ts`), '0002_b.test.ts']), []);

    const expect = (problems: string[], pattern: RegExp) =>
      assert.ok(
        problems.some((p) => pattern.test(p)),
        `expected ${pattern}, got ${JSON.stringify(problems)}`,
      );
    expect(check(['0001_a', '0003_c', '0002_b']), /0002_b is registered after migration 3: out of order/);
    expect(check(['0001_a', '0002_b', '0002_b2']), /0002_b2 repeats the number 2/);
    expect(check(['0001_a', '0003_c']), /0002 is skipped/);
    const upTo36 = Array.from({ length: 36 }, (_, i) => `${String(i + 1).padStart(4, '0')}_m`);
    expect(check(upTo36), /0034 fills a number skipped before/);
    expect(check(good, [...good.map((n) => `${n}.ts`), '0004_d.ts']), /0004_d\.ts is not registered/);
    expect(
      check(good, ['0001_a.ts', '0002_b.ts']),
      /0003_c is registered but migrations\/0003_c\.ts is missing/,
    );
    expect(check(good, [...good.map((n) => `${n}.ts`), '4_d.ts']), /4_d\.ts is not named/);
    expect(check(['0001_a', '0002_B']), /0002_B is not named/);
    // A copied line: 0003_c would run 0002_b's migration a second time.
    expect(
      problemsOf(
        good,
        good.map((n) => `${n}.ts`),
        sourceOf(bindings(good), [
          ['0001_a', 'm0001'],
          ['0002_b', 'm0002'],
          ['0003_c', 'm0002'],
        ]),
      ),
      /0003_c runs m0002, imported from migrations\/0002_b\.js/,
    );
  });
});
