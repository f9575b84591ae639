import { randomUUID } from 'node:crypto';
import { startApp, type RunningApp, type StartOptions } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createLogger } from '../../src/logger.js';
import { stopLeftoverPostgresOnExit } from './leftover-postgres.js';
import { makeWorkDir } from './work-dir.js';

/** `--name N` from the command line, or `fallback`. */
export function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
}

/** `--name text` from the command line, or `fallback`. */
export function textArg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

export interface BenchApp {
  app: RunningApp;
  config: Config;
  /** The bootstrap API key. */
  key: string;
  /** The temporary folder: the data folder is `work`, or what `dataDir` said below it. */
  work: string;
}

/**
 * The real Vigil for a benchmark: a temporary data folder (with its embedded PostgreSQL, unless
 * DATABASE_URL is set), a bootstrap key, any port on 127.0.0.1, warnings only in the log.
 */
export async function startBenchApp(
  name: string,
  options: {
    env?: Record<string, string>;
    /** A folder below the work folder for the data (the work folder itself by default). */
    dataDir?: (work: string) => string;
    start?: Partial<Omit<StartOptions, 'log'>>;
  } = {},
): Promise<BenchApp> {
  const work = await makeWorkDir(name);
  stopLeftoverPostgresOnExit(work);
  const key = randomUUID();
  const config = loadConfig({
    ...process.env,
    PORT: '0',
    HOST: '127.0.0.1',
    VIGIL_DATA_DIR: options.dataDir?.(work) ?? work,
    VIGIL_BOOTSTRAP_API_KEY: key,
    ...options.env,
  });
  const app = await startApp(config, { role: 'all', ...options.start, log: createLogger('warn') });
  return { app, config, key, work };
}
