import { errorText, type ImportContext } from './context.js';
import { importContacts } from './contacts.js';
import { importCustomRoles } from './custom-roles.js';
import { importEscalations } from './escalations.js';
import { importHeartbeats } from './heartbeats.js';
import { importIntegrations } from './integrations.js';
import { importMaintenance } from './maintenance.js';
import { importNotificationRules } from './notification-rules.js';
import { importOverrides } from './overrides.js';
import { importPolicies } from './policies.js';
import { createReport, printable } from './report.js';
import { createRestClient, OPSGENIE_KEY_REFUSED, VIGIL_KEY_REFUSED } from './rest-client.js';
import { importRoutingRules } from './routing-rules.js';
import { importScheduleEscalations } from './schedule-escalations.js';
import { importSchedules } from './schedules.js';
import { importTeams } from './teams.js';
import { importUsers } from './users.js';

export interface ImportOptions {
  opsgenieUrl: string;
  opsgenieKey: string;
  vigilUrl: string;
  vigilKey: string;
  dryRun: boolean;
  teamForGlobal?: string;
  /** One line per object as it goes (stderr). */
  progress: (line: string) => void;
  /** The closing report (stdout). */
  out: (line: string) => void;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  now?: () => Date;
}

/**
 * Reads an Opsgenie account and makes it in Vigil, in the order references need: custom user roles before
 * the users given them, people before the teams, schedules and escalations that name them (and the
 * integration actions and policies that name them as responders), integrations before the maintenance
 * that disables them; escalations in rotations are set after the escalations, which name schedules.
 * Answers the exit code: 1 when something failed, 0 when everything was imported or skipped for a known
 * reason.
 */
export async function runOpsgenieImport(options: ImportOptions): Promise<number> {
  const report = createReport(options.progress, options.dryRun);
  const common = { fetch: options.fetch, sleep: options.sleep };
  const ctx: ImportContext = {
    source: createRestClient({
      ...common,
      url: options.opsgenieUrl,
      apiKey: options.opsgenieKey,
      label: 'Opsgenie',
      refusedHint: OPSGENIE_KEY_REFUSED,
    }),
    target: createRestClient({
      ...common,
      url: options.vigilUrl,
      apiKey: options.vigilKey,
      label: 'Vigil',
      refusedHint: VIGIL_KEY_REFUSED,
    }),
    dryRun: options.dryRun,
    report,
    teamForGlobal: options.teamForGlobal,
    customRoles: new Map(),
    users: new Map(),
    teams: new Map(),
    schedules: new Map(),
    escalations: new Map(),
    integrations: new Map(),
    policies: new Map(),
  };
  options.progress(
    `${options.dryRun ? 'Dry run: reading' : 'Importing'} ${options.opsgenieUrl} into Vigil at ${options.vigilUrl}`,
  );
  try {
    // Both keys first, so a refused one stops the run before anything is read or made.
    await ctx.source.get('/v2/account');
    await ctx.target.get('/v2/account');
    await importCustomRoles(ctx);
    const users = await importUsers(ctx);
    await importContacts(ctx, users);
    await importNotificationRules(ctx, users);
    const teams = await importTeams(ctx);
    const schedules = await importSchedules(ctx);
    await importOverrides(ctx, schedules, (options.now ?? (() => new Date()))());
    await importEscalations(ctx);
    await importScheduleEscalations(ctx, schedules);
    await importRoutingRules(ctx, teams);
    await importIntegrations(ctx);
    await importPolicies(ctx, teams);
    await importHeartbeats(ctx);
    await importMaintenance(ctx);
  } catch (error) {
    // Its text may be a remote server's own words (a RestError's message), printed as the report's are.
    options.out(`The import stopped: ${printable(errorText(error))}`);
    if (report.entries().length > 0) for (const line of report.summary(true)) options.out(line);
    return 1;
  }
  for (const line of report.summary()) options.out(line);
  return report.failed() ? 1 : 0;
}
