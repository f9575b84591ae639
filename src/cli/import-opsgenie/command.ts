import { Command } from 'commander';
import type { runOpsgenieImport as RunImport } from './run.js';

/**
 * `vigil import opsgenie`: an Opsgenie account (users, teams, schedules, escalations, routing rules,
 * heartbeats, maintenance, API integrations with their actions, alert and notification policies) made again in Vigil
 * through both REST APIs.
 */

/** The import's modules load when it runs, not with every `vigil` command. */
async function loadRun(): Promise<typeof RunImport> {
  return (await import('./run.js')).runOpsgenieImport;
}

export interface ImportCliDeps {
  out: (line: string) => void;
  err: (line: string) => void;
  env: NodeJS.ProcessEnv;
  setExitCode: (code: number) => void;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
}

export function importCommand(deps: ImportCliDeps): Command {
  const command = new Command('import').description('Bring configuration from another on-call service.');
  command
    .command('opsgenie')
    .description(
      "Read an Opsgenie account through its REST API and make it in Vigil through Vigil's: users with their contact methods and notification rules, teams, schedules with rotations and overrides, escalations, routing rules, API integrations (with their keys and actions), alert and notification policies, heartbeats and maintenance. Run it again and nothing doubles.",
    )
    .option(
      '--api-url <url>',
      "Opsgenie's API (https://api.eu.opsgenie.com for its EU instance)",
      'https://api.opsgenie.com',
    )
    .option(
      '--api-key <key>',
      'an Opsgenie API key with read access (default: OPSGENIE_API_KEY; a key in the environment stays out of the shell history)',
    )
    .option(
      '--vigil-url <url>',
      'Vigil’s URL (default: VIGIL_URL, else VIGIL_PUBLIC_URL, else http://localhost:8080)',
    )
    .option('--team-for-global <team>', 'the Vigil team that gets the integrations Opsgenie has as global')
    .option('--dry-run', 'read both sides and say what would be done, changing nothing')
    .action(
      async (options: {
        apiUrl: string;
        apiKey?: string;
        vigilUrl?: string;
        teamForGlobal?: string;
        dryRun?: boolean;
      }) => {
        const opsgenieKey = options.apiKey ?? deps.env.OPSGENIE_API_KEY;
        if (!opsgenieKey) throw new Error('give an Opsgenie API key with --api-key or OPSGENIE_API_KEY.');
        const vigilKey = deps.env.VIGIL_API_KEY;
        if (!vigilKey)
          throw new Error(
            'give an API key of an admin of Vigil in VIGIL_API_KEY (POST /v2/api-keys, or the console’s API keys page, makes one).',
          );
        const vigilUrl =
          options.vigilUrl ?? deps.env.VIGIL_URL ?? deps.env.VIGIL_PUBLIC_URL ?? 'http://localhost:8080';
        for (const [what, url] of [
          ['--api-url', options.apiUrl],
          ['--vigil-url (or VIGIL_URL)', vigilUrl],
        ] as const)
          if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol))
            throw new Error(`${what} must be an http(s) URL, not '${url}'.`);
        const code = await (
          await loadRun()
        )({
          opsgenieUrl: options.apiUrl,
          opsgenieKey,
          vigilUrl,
          vigilKey,
          dryRun: options.dryRun === true,
          teamForGlobal: options.teamForGlobal,
          progress: deps.err,
          out: deps.out,
          fetch: deps.fetch,
          sleep: deps.sleep,
        });
        deps.setExitCode(code);
      },
    );
  return command;
}
