#!/usr/bin/env node
import { Command, Option } from 'commander';
import type { Role, RunningApp } from '../app.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { createLogger, type Logger } from '../logger.js';
import { awsCommand } from './aws.js';
import { importCommand } from './import-opsgenie/command.js';

// Each command imports what it runs when it runs: the server's modules take about a second to load,
// which `vigil --help`, `vigil aws` and `vigil import` need not wait for.

const program = new Command();
program
  .name('vigil')
  .description('Vigil: self-hosted on-call alerting with a two-way Amazon Security Hub integration.')
  .showHelpAfterError('(run "vigil --help" for the commands)');

/**
 * A second SIGINT or SIGTERM this soon after the first is the same request to stop: a Ctrl-C under
 * `npm start` reaches Vigil twice, once from the terminal (to the whole process group) and once
 * forwarded by npm. Only a signal after this forces the exit.
 */
const REPEAT_WINDOW_MS = 2000;

type EmbeddedModule = typeof import('../db/embedded.js');
/** Loaded by the commands that may run an embedded PostgreSQL, before they start it. */
let embedded: EmbeddedModule | undefined;

async function loadEmbedded(): Promise<EmbeddedModule> {
  embedded ??= await import('../db/embedded.js');
  return embedded;
}

// Whatever way the process ends (an error, a forced exit), the PostgreSQL it owns does not outlive it.
process.on('exit', () => embedded?.stopEmbeddedPostgresNow());

/**
 * Handles SIGINT and SIGTERM from the start of a command: the first runs `stop` (whose result is the
 * exit code), repeats within REPEAT_WINDOW_MS are ignored, and a later one exits at once, asking the
 * embedded PostgreSQL this process owns to shut down first. `requested` tells the command it is stopping.
 */
function handleStopSignals(log: Logger, stop: (signal: NodeJS.Signals) => Promise<number>) {
  const state = { requested: false };
  let firstAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!state.requested) {
      state.requested = true;
      firstAt = Date.now();
      log.info({ signal }, 'stopping');
      stop(signal).then(
        (code) => process.exit(code),
        (error: unknown) => {
          log.error({ err: error }, 'error while stopping');
          process.exit(1);
        },
      );
      return;
    }
    if (Date.now() - firstAt < REPEAT_WINDOW_MS) {
      log.debug({ signal }, 'already stopping: a repeat of the signal is ignored');
      return;
    }
    log.warn({ signal }, 'second signal: exiting now');
    embedded?.stopEmbeddedPostgresNow();
    process.exit(1);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return state;
}

/**
 * The stop of `vigil migrate` and `vigil init`: their work is cut short (a migration's transaction rolls
 * back with the server's fast shutdown), the embedded PostgreSQL stops, and the command fails.
 */
async function interrupt(): Promise<number> {
  await embedded?.stopEmbeddedPostgres();
  console.error('vigil: interrupted');
  return 1;
}

/**
 * Says which external PostgreSQL Vigil is about to connect to (never the credentials): when the host is
 * unreachable the connection takes until its timeout to fail, and the operator should know what it waits for.
 */
async function announceDatabase(config: Config, log: Logger): Promise<void> {
  if (!config.databaseUrl) return;
  // Loaded here, not on top: `vigil --help` need not load the database modules.
  const { CONNECT_TIMEOUT_MS } = await import('../db/database.js');
  let where: string;
  try {
    const url = new URL(config.databaseUrl);
    where = `${url.hostname || url.searchParams.get('host') || 'localhost'}:${url.port || '5432'}${url.pathname}`;
  } catch {
    where = 'the server in DATABASE_URL';
  }
  log.info(
    { database: where, timeoutMs: CONNECT_TIMEOUT_MS },
    `connecting to the PostgreSQL in DATABASE_URL (${where}); a connection that does not succeed within ${CONNECT_TIMEOUT_MS / 1000} s fails`,
  );
}

function fail(error: unknown): never {
  if (error instanceof ConfigError) {
    console.error(`vigil: ${error.message}`);
  } else {
    console.error(`vigil: ${(error as Error).message ?? String(error)}`);
  }
  process.exit(1);
}

program
  .command('start')
  .description(
    'Serve the API and run the workers. Without DATABASE_URL it starts its own PostgreSQL in VIGIL_DATA_DIR (default ./.vigil).',
  )
  .addOption(
    new Option('--role <role>', 'all: API and workers; api: HTTP only; worker: jobs only')
      .choices(['all', 'api', 'worker'])
      .default('all'),
  )
  .action(async (options: { role: Role }) => {
    let config;
    try {
      config = loadConfig();
    } catch (error) {
      fail(error);
    }
    const log = createLogger(config.logLevel);
    const started = Date.now();
    // The start under way, then the app it started.
    const app: { starting?: Promise<RunningApp>; running?: RunningApp } = {};
    // Ends the migrations' pauses between tries (an external PostgreSQL's locks), which nothing else cuts short.
    const startStop = new AbortController();
    // Before anything starts: a stop requested during start-up (initdb, migrations) stops the embedded
    // PostgreSQL at once, which makes the rest of the start fail and close what it opened.
    const stopping = handleStopSignals(log, async () => {
      if (!app.running && app.starting) {
        startStop.abort();
        await embedded?.stopEmbeddedPostgres();
        try {
          app.running = await app.starting;
        } catch {
          return 0; // The start failed and closed what it had opened.
        }
      }
      await app.running?.stop();
      return 0;
    });
    await loadEmbedded();
    const { startApp } = await import('../app.js');
    await announceDatabase(config, log);
    if (stopping.requested) return;
    app.starting = startApp(config, { role: options.role, log, stopSignal: startStop.signal });
    try {
      app.running = await app.starting;
    } catch (error) {
      if (stopping.requested) return; // The signal handler finishes stopping, and exits.
      log.error({ err: error }, 'Vigil could not start');
      fail(error);
    }
    if (!stopping.requested) log.info({ ms: Date.now() - started }, 'started');
  });

program
  .command('migrate')
  .description('Apply the database migrations and exit (vigil start also applies them).')
  .action(async () => {
    let stopping: { requested: boolean } | undefined;
    try {
      const config = loadConfig();
      const log = createLogger(config.logLevel);
      stopping = handleStopSignals(log, interrupt);
      await loadEmbedded();
      const { openDatabase } = await import('../app.js');
      const { migrate } = await import('../db/migrate.js');
      await announceDatabase(config, log);
      const database = await openDatabase(config, log);
      try {
        const { applied } = await migrate(database.db, database.pool, log);
        console.log(applied.length > 0 ? `Applied: ${applied.join(', ')}` : 'The database is up to date.');
      } finally {
        await database.close();
      }
    } catch (error) {
      if (stopping?.requested) return; // The signal handler finishes stopping, and exits.
      fail(error);
    }
  });

program
  .command('init')
  .description(
    'On an empty database: create the organization, its owner and a first API key, and print the key once.',
  )
  .option('--org <name>', 'the organization name', 'Vigil')
  .option('--admin <email>', "the owner's username (an email address)", 'admin@vigil.local')
  .action(async (options: { org: string; admin: string }) => {
    let stopping: { requested: boolean } | undefined;
    try {
      const config = loadConfig();
      const log = createLogger('warn');
      stopping = handleStopSignals(log, interrupt);
      await loadEmbedded();
      const { openDatabase } = await import('../app.js');
      const { migrate } = await import('../db/migrate.js');
      const { createAccountsService } = await import('../accounts/service.js');
      const { generateApiKey } = await import('../accounts/apikeys.js');
      await announceDatabase(config, log);
      const database = await openDatabase(config, log);
      try {
        await migrate(database.db, database.pool, log);
        const key = config.bootstrapApiKey ?? generateApiKey();
        const result = await createAccountsService(database.db, log).bootstrap({
          apiKey: key,
          orgName: options.org,
          admin: { username: options.admin },
        });
        if (!result.created) {
          console.error(
            'vigil: this database already has an organization; create more API keys with POST /v2/api-keys.',
          );
          process.exitCode = 1;
          return;
        }
        console.log(`Created organization "${options.org}" with owner ${options.admin}.`);
        console.log(`API key (shown once, keep it safe): ${key}`);
        console.log(`Try it: curl -H "Authorization: GenieKey ${key}" ${config.publicUrl}/v2/alerts`);
      } finally {
        await database.close();
      }
    } catch (error) {
      if (stopping?.requested) return; // The signal handler finishes stopping, and exits.
      fail(error);
    }
  });

program.addCommand(awsCommand({ out: (line) => console.log(line), env: process.env }));
program.addCommand(
  importCommand({
    out: (line) => console.log(line),
    err: (line) => console.error(line),
    env: process.env,
    setExitCode: (code) => (process.exitCode = code),
  }),
);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  fail(error);
}
