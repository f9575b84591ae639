import { Command, Option } from 'commander';
import type { AccountAccess } from '../integrations/securityhub/aws-setup/aws-context.js';
import { SetupError } from '../integrations/securityhub/aws-setup/aws-errors.js';
import type { Lookup } from '../integrations/securityhub/aws-setup/endpoint-check.js';
import type { SetupMode } from '../integrations/securityhub/aws-setup/setup.js';
import {
  createVigilApi,
  type AwsSetupFacts,
  type VigilApi,
} from '../integrations/securityhub/aws-setup/vigil-api.js';
import { AWS_PRINCIPAL } from '../config.js';
import { SEVERITY_LABELS } from '../integrations/types.js';
import type { SetupEvents, SeverityLabel } from '../integrations/securityhub/aws-setup/policies.js';

// The AWS SDK's clients are imported when a command runs, not when `vigil` starts: loading them
// would make every other command, and `--help`, wait for them.

/**
 * `vigil aws setup | check | teardown`: the AWS side of a Security Hub integration in one command,
 * run with the operator's AWS credentials (the SDK's default chain, or --profile) against Vigil's API
 * (an admin's API key).
 */

export interface AwsCliDeps {
  out: (line: string) => void;
  env: NodeJS.ProcessEnv;
  /** Tests resolve Vigil's public host without DNS. */
  lookup?: Lookup;
  sleep?: (ms: number) => Promise<void>;
}

interface CommonOptions {
  integration: string;
  region?: string[];
  accountRole?: string[];
  profile?: string;
  vigilUrl?: string;
  apiKey?: string;
}

const REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

function list(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((v) => v.trim())
      .filter(Boolean),
  ];
}

function common(command: Command): Command {
  return command
    .requiredOption('--integration <id or name>', 'the Amazon Security Hub integration in Vigil')
    .option(
      '--region <regions>',
      'AWS regions, comma-separated or repeated (default: the integration’s region, else AWS_REGION)',
      list,
    )
    .option(
      '--account-role <role ARN>',
      'also set up another account by assuming this role in it (repeat for several accounts of an organization)',
      list,
    )
    .option('--profile <name>', 'the AWS profile to use (default: the SDK’s default chain)')
    .option(
      '--vigil-url <url>',
      'Vigil’s URL (default: VIGIL_URL, else VIGIL_PUBLIC_URL, else http://localhost:8080)',
    )
    .option('--api-key <key>', 'an admin’s API key for Vigil (default: VIGIL_API_KEY)');
}

async function context(options: CommonOptions, deps: AwsCliDeps) {
  const apiKey = options.apiKey ?? deps.env.VIGIL_API_KEY;
  if (!apiKey)
    throw new SetupError(
      'give an API key of an admin of Vigil with --api-key or VIGIL_API_KEY (POST /v2/api-keys, or the console’s API keys page, makes one).',
    );
  const url = options.vigilUrl ?? deps.env.VIGIL_URL ?? deps.env.VIGIL_PUBLIC_URL ?? 'http://localhost:8080';
  const vigil = createVigilApi({ url, apiKey });
  const integration = await vigil.findIntegration(options.integration);
  if (integration.type !== 'AmazonSecurityHub')
    throw new SetupError(
      `"${integration.name}" is an integration of type ${integration.type}, not AmazonSecurityHub.`,
    );
  const facts = await vigil.facts(integration.id);
  const regions =
    options.region ?? (facts.region ? [facts.region] : deps.env.AWS_REGION ? [deps.env.AWS_REGION] : []);
  if (regions.length === 0)
    throw new SetupError(
      'say which AWS regions to set up with --region (for example --region us-east-1,eu-west-1).',
    );
  const bad = regions.find((r) => !REGION.test(r));
  if (bad) throw new SetupError(`'${bad}' is not an AWS region name, such as us-east-1.`);
  const { memberAccountAccess, operatorAccess } =
    await import('../integrations/securityhub/aws-setup/aws-context.js');
  const operator = operatorAccess(options.profile);
  const accounts: AccountAccess[] = [
    operator,
    ...(options.accountRole ?? []).map((arn) => memberAccountAccess(operator, arn)),
  ];
  return { vigil, facts, regions, accounts };
}

/**
 * The endpoint URL given, or the way to a new key: made only once setup knows it can go ahead.
 * --regenerate-key goes before VIGIL_ENDPOINT_URL (the one exported for an earlier run).
 */
function endpointUrl(
  options: { endpointUrl?: string; regenerateKey?: boolean; dryRun?: boolean },
  deps: AwsCliDeps,
  vigil: VigilApi,
  facts: AwsSetupFacts,
): string | (() => Promise<string>) {
  if (options.regenerateKey && options.endpointUrl)
    throw new SetupError(
      'give --endpoint-url (the integration’s current key) or --regenerate-key (a new key), not both.',
    );
  const given = options.regenerateKey ? undefined : (options.endpointUrl ?? deps.env.VIGIL_ENDPOINT_URL);
  if (given) return given;
  if (options.regenerateKey) {
    // A dry run makes no key: the URL stands for the one that would be made.
    if (options.dryRun) return () => Promise.resolve(`${facts.intakeUrl}?apiKey=(a-new-key)`);
    return async () => {
      const url = await vigil.regenerateKey(facts.integration.id);
      deps.out(
        `Made a new key for the integration. Its endpoint URL, shown only now (keep it for later runs; senders that used the old key must get it): ${url}`,
      );
      return url;
    };
  }
  throw new SetupError(
    `Vigil keeps the integration's key only hashed, so it cannot give the endpoint URL again: pass the URL it showed when the integration was made (${facts.intakeUrl}?apiKey=…) in VIGIL_ENDPOINT_URL or with --endpoint-url, or add --regenerate-key to make a new key (senders using the old one stop working).`,
  );
}

export function awsCommand(deps: AwsCliDeps): Command {
  const aws = new Command('aws').description(
    'Set up, check and remove the AWS side of an Amazon Security Hub integration, with your AWS credentials.',
  );

  common(aws.command('setup'))
    .description(
      'Create or update the custom action, SNS topic and subscription (or API destination), EventBridge rule and write-back role; wait for Vigil to confirm; store the role in the integration.',
    )
    .addOption(
      new Option('--mode <mode>', 'how findings reach Vigil')
        .choices(['sns', 'api-destination'])
        .default('sns'),
    )
    .addOption(
      new Option(
        '--events <events>',
        'custom-action: findings people send with the custom action; imported: every finding imported or updated (new ones below the integration’s minimum severity are dropped by Vigil)',
      )
        .choices(['custom-action', 'imported'])
        .default('custom-action'),
    )
    .addOption(
      new Option(
        '--min-severity <label>',
        "set the integration's minimum severity: new findings below it open no alert (the rule still sends every severity, so that an update of a known finding can close its alert)",
      ).choices([...SEVERITY_LABELS]),
    )
    .option(
      '--endpoint-url <url>',
      'the endpoint URL Vigil showed when the integration was made (default: VIGIL_ENDPOINT_URL)',
    )
    .option('--regenerate-key', 'make a new integration key for the endpoint URL (the old key stops working)')
    .option(
      '--vigil-principal <arn>',
      "Vigil's own AWS identity, if Vigil does not know it (VIGIL_AWS_PRINCIPAL_ARN where Vigil runs)",
    )
    .option('--no-writeback', 'do not store the role in the integration nor turn the write-back on')
    .option(
      '--confirm-timeout <seconds>',
      'how long to wait for Vigil to confirm the SNS subscription',
      '120',
    )
    .option('--dry-run', 'say what would be made, and change nothing')
    .action(
      async (
        options: CommonOptions & {
          mode: SetupMode;
          events: SetupEvents;
          minSeverity?: SeverityLabel;
          endpointUrl?: string;
          regenerateKey?: boolean;
          vigilPrincipal?: string;
          writeback: boolean;
          confirmTimeout: string;
          dryRun?: boolean;
        },
      ) => {
        const { vigil, facts, regions, accounts } = await context(options, deps);
        const principal = options.vigilPrincipal ?? facts.vigilPrincipalArn;
        if (!principal)
          throw new SetupError(
            'Vigil does not know its own AWS identity, which the write-back role must trust: set VIGIL_AWS_PRINCIPAL_ARN where Vigil runs (or give Vigil AWS credentials), or pass --vigil-principal <arn>.',
          );
        if (!AWS_PRINCIPAL.test(principal))
          throw new SetupError(
            `--vigil-principal must be an account id or an IAM user or role ARN, not '${principal}'.`,
          );
        const timeout = Number(options.confirmTimeout);
        if (!Number.isFinite(timeout) || timeout < 1 || timeout > 3600)
          throw new SetupError('--confirm-timeout must be a number of seconds from 1 to 3600.');
        const { runSetup } = await import('../integrations/securityhub/aws-setup/setup.js');
        await runSetup({
          facts,
          mode: options.mode,
          events: options.events,
          regions,
          accounts,
          endpointUrl: endpointUrl(options, deps, vigil, facts),
          vigilPrincipalArn: principal,
          dryRun: options.dryRun === true,
          writeback: options.writeback,
          ...(options.minSeverity ? { minimumSeverity: options.minSeverity } : {}),
          confirmTimeoutMs: timeout * 1000,
          progress: deps.out,
          vigil,
          lookup: deps.lookup,
          sleep: deps.sleep,
        });
      },
    );

  common(aws.command('check'))
    .description(
      'Prove the chain: the rule against sample findings (TestEventPattern), the subscription confirmed (or the API destination active), the role assumable only with the external ID, and a write-back test. Changes nothing.',
    )
    .action(async (options: CommonOptions) => {
      const { vigil, facts, regions, accounts } = await context(options, deps);
      const { runCheck } = await import('../integrations/securityhub/aws-setup/check.js');
      const result = await runCheck({ facts, regions, accounts, vigil, progress: deps.out });
      if (!result.ok)
        throw new SetupError(
          'the check found links that do not work (above): fix them, or run vigil aws setup again.',
        );
    });

  common(aws.command('teardown'))
    .description(
      'Remove what setup made for the integration, and only that (it is tagged with the integration’s id).',
    )
    .option('--dry-run', 'say what would be removed, and change nothing')
    .option('--keep-roles', 'keep the IAM roles (they are global: other regions set up still use them)')
    .action(async (options: CommonOptions & { dryRun?: boolean; keepRoles?: boolean }) => {
      const { vigil, facts, regions, accounts } = await context(options, deps);
      const { runTeardown } = await import('../integrations/securityhub/aws-setup/teardown.js');
      await runTeardown({
        facts,
        regions,
        accounts,
        dryRun: options.dryRun === true,
        keepRoles: options.keepRoles === true,
        vigil,
        progress: deps.out,
      });
    });

  return aws;
}
