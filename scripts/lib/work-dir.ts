import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/**
 * A temporary folder for a benchmark's data. Searchable by others (0711), unlike mkdtemp's 0700: run as
 * root, the embedded PostgreSQL runs as "nobody" and must reach the data folder inside; otherwise its
 * cluster would go under /var/lib/vigil and outlive the temporary folder.
 */
export async function makeWorkDir(name: string): Promise<string> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `vigil-${name}-`));
  await fs.chmod(dir, 0o711);
  return dir;
}
