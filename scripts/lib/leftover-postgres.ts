import fs from 'node:fs';
import path from 'node:path';

/** The embedded PostgreSQL servers whose cluster lies in `folder`: their `-D` argument, read from /proc. */
function serversIn(folder: string): number[] {
  const prefix = path.resolve(folder) + path.sep;
  const pids: number[] = [];
  let entries: string[];
  try {
    entries = fs.readdirSync('/proc');
  } catch {
    return pids;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    const flag = args.indexOf('-D');
    const cluster = flag >= 0 ? args[flag + 1] : undefined;
    if (cluster && path.resolve(cluster).startsWith(prefix)) pids.push(Number(entry));
  }
  return pids;
}

/**
 * A benchmark that throws, or is stopped with Ctrl-C, before it stops Vigil would leave the embedded
 * PostgreSQL running: it runs in a process group of its own (so that a Ctrl-C reaches Vigil, which
 * stops it in order) and outlives a process that ends without stopping it. On exit, a server still
 * running on a cluster in `folder` is told to stop (SIGINT, PostgreSQL's fast shutdown), synchronously
 * as an exit handler must, and the folder is named for removal.
 */
export function stopLeftoverPostgresOnExit(folder: string): void {
  // Ctrl-C ends the process as it would without this handler, unless the benchmark has a handler of its
  // own (which stops Vigil in order, and removes the folder): that one decides. First in line, so that
  // it sees the others whenever they were added.
  process.prependOnceListener('SIGINT', () => {
    if (process.listenerCount('SIGINT') === 0) process.exit(130);
  });
  process.once('exit', () => {
    const left = serversIn(folder);
    if (left.length === 0) return;
    for (const pid of left) {
      try {
        process.kill(pid, 'SIGINT');
      } catch {
        // Gone meanwhile.
      }
    }
    console.error(
      `stopped the embedded PostgreSQL left running in ${folder}; remove it with: rm -rf ${folder}`,
    );
  });
}
