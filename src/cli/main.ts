#!/usr/bin/env node
import { Command, Option } from 'commander';
import type { Role } from '../app.js';
import { ConfigError, loadConfig } from '../config.js';
import { createLogger } from '../logger.js';
import { awsCommand } from './aws.js';
import { importCommand } from './import-opsgenie/command.js';

// Each command imports what it runs when it runs: the server's modules take about a second to load,
// which `vigil --help`, `vigil aws` and `vigil import` need not wait for.

const program = new Command();
program
  .name('vigil')
  .description('Vigil: self-hosted on-call alerting with a two-way Amazon Security Hub integration.')
  .showHelpAfterError('(run "vigil --help" for the commands)');

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
    const { startApp } = await import('../app.js');
    let app: Awaited<ReturnType<typeof startApp>>;
    try {
      app = await startApp(config, { role: options.role, log });
    } catch (error) {
      log.error({ err: error }, 'Vigil could not start');
      fail(error);
    }
    log.info({ ms: Date.now() - started }, 'started');
    let signals = 0;
    const shutdown = (signal: string) => {
      signals++;
      if (signals > 1) {
        log.warn('second signal: exiting now');
        process.exit(1);
      }
      log.info({ signal }, 'stopping');
      app
        .stop()
        .then(() => process.exit(0))
        .catch((error: unknown) => {
          log.error({ err: error }, 'error while stopping');
          process.exit(1);
        });
    };
    process.on('SIGINT', () => shutdown('SIGINT'));
    process.on('SIGTERM', () => shutdown('SIGTERM'));
  });

program
  .command('migrate')
  .description('Apply the database migrations and exit (vigil start also applies them).')
  .action(async () => {
    try {
      const config = loadConfig();
      const log = createLogger(config.logLevel);
      const { openDatabase } = await import('../app.js');
      const { migrate } = await import('../db/migrate.js');
      const database = await openDatabase(config, log);
      try {
        const { applied } = await migrate(database.db, database.pool, log);
        console.log(applied.length > 0 ? `Applied: ${applied.join(', ')}` : 'The database is up to date.');
      } finally {
        await database.close();
      }
    } catch (error) {
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
    try {
      const config = loadConfig();
      const log = createLogger('warn');
      const { openDatabase } = await import('../app.js');
      const { migrate } = await import('../db/migrate.js');
      const { createAccountsService } = await import('../accounts/service.js');
      const { generateApiKey } = await import('../accounts/apikeys.js');
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
