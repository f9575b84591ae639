import { SetupError } from './aws-errors.js';
import { openAccount, type AccountAccess, type AccountContext } from './aws-context.js';
import { ensureApiDestination, ensureConnection } from './api-destination.js';
import { ensureCustomAction, requireSecurityHub } from './custom-action.js';
import { requirePublicHttps, type Lookup } from './endpoint-check.js';
import {
  awsDescription,
  integrationTags,
  resourceNames,
  ruleDescription,
  type ResourceNames,
} from './names.js';
import {
  INVOKE_POLICY_NAME,
  invokePermissions,
  invokeTrustPolicy,
  ruleEventPattern,
  ruleEventTypes,
  WRITEBACK_POLICY_NAME,
  writebackPermissions,
  writebackTrustPolicy,
  type SetupEvents,
} from './policies.js';
import { ensureRole, type RoleSpec } from './roles.js';
import { ensureRule } from './rule.js';
import {
  ensureSubscription,
  ensureTopic,
  ensureTopicPolicy,
  removeStaleSubscriptions,
  subscriptionConfirmed,
  topicArn,
} from './sns-topic.js';
import { report, type Progress, type StepResult } from './steps.js';
import { endpointKey, keyFingerprint, type AwsSetupFacts, type VigilApi } from './vigil-api.js';

/**
 * `vigil aws setup`: makes or updates, in each account and region asked, what carries Security Hub's
 * findings to Vigil, and the role Vigil assumes to write back; waits until Vigil has confirmed the SNS
 * subscription; then stores the role and region in the integration and turns the write-back on.
 * Every step first reads what is there, so a second run changes nothing, and a dry run only reads.
 */

export type SetupMode = 'sns' | 'api-destination';

export interface SetupRequest {
  facts: AwsSetupFacts;
  mode: SetupMode;
  events: SetupEvents;
  regions: string[];
  /** The first account is the one whose write-back role Vigil is told to assume. */
  accounts: AccountAccess[];
  /**
   * The endpoint URL with the integration's key, or how to get one (a new key, whose URL Vigil gives):
   * asked for only once a run that only reads has found nothing in the way and the roles are made, so
   * most refusals do not cost the old key (refusalsBeforeNewKey says which still can).
   */
  endpointUrl: string | (() => Promise<string>);
  vigilPrincipalArn: string;
  dryRun: boolean;
  /** Store the role and region in the integration and turn the write-back on. */
  writeback: boolean;
  /** The integration's minimum severity for new findings, set in Vigil when it is another. */
  minimumSeverity?: AwsSetupFacts['minimumSeverity'];
  confirmTimeoutMs: number;
  progress: Progress;
  vigil: VigilApi;
  lookup?: Lookup;
  sleep?: (ms: number) => Promise<void>;
}

export interface SetupResult {
  steps: StepResult[];
  roleArn?: string;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function requireEndpointOfIntake(endpointUrl: string, intakeUrl: string): void {
  if (!endpointUrl.startsWith(`${intakeUrl}?`) || endpointKey(endpointUrl) === '')
    throw new SetupError(
      `the endpoint URL must be this integration's, ${intakeUrl}?apiKey=<its key>, as Vigil showed it when the integration was made: give it with --endpoint-url (or VIGIL_ENDPOINT_URL), or pass --regenerate-key to make a new key (senders using the old one stop working).`,
    );
}

/**
 * Every integration's endpoint URL starts with the same intake URL: only the key tells whose it is.
 * Another integration's (VIGIL_ENDPOINT_URL left from an earlier run) would page that integration's
 * team with these findings, and a mistyped or older key is refused by Vigil: the subscription is never
 * confirmed. Vigil gives the fingerprint of the integration's current key; an older Vigil does not.
 */
export function requireKeyOfIntegration(endpointUrl: string, facts: AwsSetupFacts): void {
  const expected = facts.keyFingerprint;
  if (!expected) return;
  const given = keyFingerprint(endpointKey(endpointUrl));
  if (given !== expected)
    throw new SetupError(
      `the endpoint URL's key is not the current key of integration "${facts.integration.name}" (its fingerprint is ${given}, the integration's ${expected}): it is another integration's endpoint URL (VIGIL_ENDPOINT_URL left from an earlier run?), an older key of this one, or mistyped. Nothing was changed. Give this integration's endpoint URL, as Vigil showed it when the integration was made or its key last regenerated, with --endpoint-url (or VIGIL_ENDPOINT_URL), or pass --regenerate-key to make a new key (senders using the old one stop working).`,
    );
}

/** What setUpRegion did; `replaces` when the topic was there before, maybe with older subscriptions. */
interface RegionSetUp {
  steps: StepResult[];
  replaces: boolean;
}

async function setUpRegion(
  a: AccountContext,
  regionName: string,
  request: SetupRequest,
  endpointUrl: string,
  names: ResourceNames,
  invokeRoleArn: string | undefined,
): Promise<RegionSetUp> {
  const r = a.region(regionName);
  const where = `${a.account} ${regionName}`;
  const steps: StepResult[] = [];
  const add = (step: StepResult) => steps.push(report(request.progress, where, step));
  const id = request.facts.integration.id;
  const tags = integrationTags(request.facts.integration);

  let actionArn: string | undefined;
  if (request.events === 'custom-action') {
    const action = await ensureCustomAction(r, names, id, request.dryRun);
    add(action);
    actionArn = action.arn;
  }
  const pattern = ruleEventPattern(request.events, { customActionArn: actionArn });

  let target: { Arn: string; RoleArn?: string };
  let replaces = false;
  if (request.mode === 'sns') {
    const topic = await ensureTopic(r, names, id, tags, request.dryRun);
    add(topic);
    add(await ensureTopicPolicy(r, topic.arn, topic.policy, request.dryRun));
    const topicExists = topic.outcome === 'unchanged';
    add(await ensureSubscription(r, topic.arn, endpointUrl, topicExists, request.dryRun));
    // Older subscriptions go once Vigil has confirmed this one (removeConfirmedStale); a dry run says so now.
    replaces = topicExists;
    if (topicExists && request.dryRun)
      for (const step of await removeStaleSubscriptions(
        r,
        topic.arn,
        request.facts.intakeUrl,
        endpointUrl,
        true,
      ))
        add(step);
    target = { Arn: topic.arn };
  } else {
    const connection = await ensureConnection(r, names, id, endpointKey(endpointUrl), request.dryRun);
    add(connection);
    const destination = await ensureApiDestination(
      r,
      names,
      id,
      connection.arn,
      request.facts.intakeUrl,
      request.dryRun,
    );
    add(destination);
    target = { Arn: destination.arn, RoleArn: invokeRoleArn };
  }
  for (const step of await ensureRule(
    r,
    names,
    {
      integrationId: id,
      description: ruleDescription(request.facts.integration),
      pattern,
      target,
      tags,
    },
    request.dryRun,
  ))
    add(step);
  return { steps, replaces };
}

async function waitForConfirmation(
  a: AccountContext,
  regionName: string,
  request: SetupRequest,
  endpointUrl: string,
  names: ResourceNames,
) {
  const r = a.region(regionName);
  const arn = topicArn(r, names);
  const sleep = request.sleep ?? defaultSleep;
  const started = Date.now();
  request.progress(`  ${a.account} ${regionName}  waiting for Vigil to confirm the SNS subscription…`);
  for (;;) {
    if (await subscriptionConfirmed(r, arn, endpointUrl)) {
      request.progress(
        `  ${a.account} ${regionName}  subscription confirmed by Vigil after ${Math.round((Date.now() - started) / 1000)} s`,
      );
      return;
    }
    if (Date.now() - started > request.confirmTimeoutMs)
      throw new SetupError(
        `SNS has not had Vigil's confirmation of the subscription in ${regionName} after ${Math.round(request.confirmTimeoutMs / 1000)} s. SNS must reach ${new URL(endpointUrl).origin} over HTTPS from the internet: check that it does, look at the integration's payload log in Vigil for the SubscriptionConfirmation, then run vigil aws setup again: it keeps what is done and asks SNS to send the confirmation again.`,
      );
    await sleep(2000);
  }
}

/**
 * Once Vigil has confirmed this key's subscription, those with another key on the topic go. Vigil
 * refuses another key, so they deliver nothing even before; the wait matters only with an older Vigil,
 * which gives no key fingerprint (requireKeyOfIntegration): there the key given may be the wrong one,
 * and the older subscription the one that works.
 */
async function removeConfirmedStale(
  a: AccountContext,
  regionName: string,
  request: SetupRequest,
  endpointUrl: string,
  names: ResourceNames,
): Promise<StepResult[]> {
  const r = a.region(regionName);
  const removed = await removeStaleSubscriptions(
    r,
    topicArn(r, names),
    request.facts.intakeUrl,
    endpointUrl,
    false,
  );
  return removed.map((step) => report(request.progress, `${a.account} ${regionName}`, step));
}

/** An account id in a trust policy is its root; IAM stores it so, and comparing says "changed" otherwise. */
function trustedPrincipal(principal: string, partition: string): string {
  return /^\d{12}$/.test(principal) ? `arn:${partition}:iam::${principal}:root` : principal;
}

function writebackRole(a: AccountContext, request: SetupRequest, names: ResourceNames): RoleSpec {
  const { facts } = request;
  return {
    name: names.role,
    description: awsDescription(
      `Vigil sends alert updates back to Security Hub (integration ${facts.integration.name})`,
      { maxLength: 1000 },
    ),
    trust: writebackTrustPolicy(trustedPrincipal(request.vigilPrincipalArn, a.partition), facts.externalId),
    policyName: WRITEBACK_POLICY_NAME,
    policy: writebackPermissions(),
    tags: integrationTags(facts.integration),
  };
}

function invokeRole(a: AccountContext, request: SetupRequest, names: ResourceNames): RoleSpec {
  return {
    name: names.invokeRole,
    description: "EventBridge calls Vigil's API destination",
    trust: invokeTrustPolicy(a.account),
    policyName: INVOKE_POLICY_NAME,
    policy: invokePermissions(
      `arn:${a.partition}:events:*:${a.account}:api-destination/${names.apiDestination}/*`,
    ),
    tags: integrationTags(request.facts.integration),
  };
}

/**
 * Before a new key is made (--regenerate-key), what would stop setup is looked for, by a dry run that
 * only reads: a role, custom action, topic, connection, API destination or rule of the same name that
 * is not this integration's, or a reading operation that may not be called. Made first, the key would
 * be lost to such a refusal and every subscription with the old one refused. Then the roles are made
 * for real (they do not need the key), so a refused write there (a missing IAM permission, IAM's
 * "Invalid principal" in the trust policy) costs no key either. What a read cannot tell is whether a
 * write in a region will be allowed (sns:Subscribe, events:PutRule, …): refused, it comes after the
 * key is made, so the old key no longer works there; setup says so and to run again with the new
 * endpoint URL, which makes the subscriptions with it (NEW_KEY_MADE).
 */
async function refusalsBeforeNewKey(
  usable: { a: AccountContext; regions: string[] }[],
  request: SetupRequest,
  names: ResourceNames,
): Promise<string[]> {
  const quiet: SetupRequest = { ...request, dryRun: true, progress: () => {} };
  const id = request.facts.integration.id;
  const placeholder = `${request.facts.intakeUrl}?apiKey=(a-new-key)`;
  const refusals: string[] = [];
  const refused = (where: string, error: unknown) => {
    if (!(error instanceof SetupError)) throw error;
    refusals.push(`${where}: ${error.message}`);
  };
  for (const { a, regions } of usable) {
    if (regions.length === 0) continue;
    let invokeRoleArn: string | undefined;
    try {
      await ensureRole(a, writebackRole(a, request, names), id, true);
      if (request.mode === 'api-destination')
        invokeRoleArn = (await ensureRole(a, invokeRole(a, request, names), id, true)).arn;
    } catch (error) {
      refused(`${a.account} global`, error);
      continue;
    }
    for (const region of regions)
      try {
        await setUpRegion(a, region, quiet, placeholder, names, invokeRoleArn);
      } catch (error) {
        refused(`${a.account} ${region}`, error);
      }
  }
  return refusals;
}

/**
 * The rule sends every severity (an update of a known finding must reach Vigil to close its alert), so a
 * minimum is Vigil's to apply: set before the rule exists, so that no finding below it pages meanwhile.
 */
async function setMinimumSeverity(request: SetupRequest): Promise<void> {
  const { facts, progress, minimumSeverity } = request;
  if (minimumSeverity === undefined) return;
  if (minimumSeverity === facts.minimumSeverity) {
    progress(`Minimum severity: already ${minimumSeverity}.`);
    return;
  }
  const what = `the integration's minimum severity to ${minimumSeverity} (was ${facts.minimumSeverity}): new findings below it open no alert`;
  if (request.dryRun) {
    progress(`Would set ${what}.`);
    return;
  }
  await request.vigil.updateSettings(facts.integration.id, { minimumSeverity });
  progress(`Set ${what}.`);
}

/**
 * The integration must take the events the rule sends, or the intake settles every delivery "not
 * selected" while every link in AWS works: the types the rule sends are added (set, like the minimum,
 * before the rule exists), and those chosen before are kept.
 */
async function setEventTypes(request: SetupRequest): Promise<void> {
  const { facts, progress } = request;
  const needed = ruleEventTypes(request.events);
  const current = await request.vigil.eventTypes(facts.integration.id);
  if (current === undefined) {
    progress(
      `Event types: Vigil did not say which the integration takes; make sure they include ${needed.join(', ')}, or the rule's events are ignored.`,
    );
    return;
  }
  const missing = needed.filter((t) => !current.includes(t));
  if (missing.length === 0) {
    progress(`Event types: already take ${needed.join(', ')}.`);
    return;
  }
  const what = `${missing.join(', ')} to the integration's event types (was ${current.join(', ') || 'none'}): the rule sends them`;
  if (request.dryRun) {
    progress(`Would add ${what}.`);
    return;
  }
  await request.vigil.updateSettings(facts.integration.id, { eventTypes: [...current, ...missing] });
  progress(`Added ${what}.`);
}

/**
 * Vigil assumes one role, the first account's: Security Hub there updates only the findings it holds,
 * that account's own and, if it is their Security Hub administrator, its members'. A finding of another
 * account is not found there and its changes fail. The same-named role setup makes in each other account
 * is not used for that account's findings: a finding names the account it is about (AwsAccountId), not
 * the one whose Security Hub sent it, and an administrator's members have no such role.
 */
function warnOtherAccounts(
  request: SetupRequest,
  writeback: { roleArn: string; account: string },
  accounts: readonly string[],
): void {
  const first = writeback.account;
  const others = accounts.filter((account) => account !== first);
  if (others.length === 0) return;
  const one = others.length === 1;
  request.progress(
    `Warning: the write-back assumes ${writeback.roleArn} only, so it updates only the findings account ${first}'s Security Hub holds: its own, and its member accounts' if ${first} is their Security Hub administrator (delegated administrator). Updates of findings from ${others.join(', ')} fail unless ${one ? 'it is' : 'they are'} ${first}'s member${one ? '' : 's'}. To write back to every account, run vigil aws setup with the administrator account's credentials, and the others with --account-role.`,
  );
}

/** Added to what stops setup once a new key is made: another --regenerate-key would make yet another. */
const NEW_KEY_MADE =
  'A new key was made (its endpoint URL is above): run vigil aws setup again with --endpoint-url <that URL>, not --regenerate-key (which would make yet another), and it makes the subscriptions with it; the old key no longer works.';

export async function runSetup(request: SetupRequest): Promise<SetupResult> {
  const { facts, progress } = request;
  if (typeof request.endpointUrl === 'string') {
    requireEndpointOfIntake(request.endpointUrl, facts.intakeUrl);
    requireKeyOfIntegration(request.endpointUrl, facts);
  }
  await requirePublicHttps(facts.intakeUrl, request.lookup);
  const names = resourceNames(facts.integration, facts.rolePrefix);
  const id = facts.integration.id;
  const steps: StepResult[] = [];
  const failures: string[] = [];
  const fail = (where: string, error: unknown) => {
    if (!(error instanceof SetupError)) throw error;
    failures.push(`${where}: ${error.message}`);
    progress(`  ${where}  FAILED: ${error.message}`);
  };
  progress(
    `${request.dryRun ? 'Dry run: nothing is changed. ' : ''}Setting up integration "${facts.integration.name}" (${id}): ${request.mode === 'sns' ? 'SNS' : 'API destination'}, ${request.events === 'custom-action' ? 'findings sent with the custom action' : 'every Imported finding event (new findings and their updates)'}, in ${request.regions.join(', ')}.`,
  );

  const opened: AccountContext[] = [];
  let writebackRoleArn: string | undefined;
  let writebackAccount = '';
  let home: string | undefined;
  const setUpAccounts: string[] = [];
  const newKey = typeof request.endpointUrl !== 'string' && !request.dryRun;
  try {
    // First find out where setup can work at all (credentials, Security Hub on), before making anything.
    const usable: { a: AccountContext; regions: string[] }[] = [];
    for (const access of request.accounts) {
      const a = await openAccount(access, request.regions[0] ?? 'us-east-1');
      opened.push(a);
      const regions: string[] = [];
      for (const region of request.regions) {
        try {
          await requireSecurityHub(a.region(region));
          regions.push(region);
        } catch (error) {
          fail(`${a.account} ${region}`, error);
        }
      }
      usable.push({ a, regions });
    }
    if (usable.every((u) => u.regions.length === 0))
      throw new SetupError(`nothing was set up:\n  ${failures.join('\n  ')}`);
    if (newKey) {
      const refusals = await refusalsBeforeNewKey(usable, request, names);
      if (refusals.length > 0)
        throw new SetupError(
          `nothing was set up and no new key was made, so the old key still works:\n  ${refusals.join('\n  ')}\nFix what is said and run vigil aws setup again.`,
        );
    }

    // The roles go first: they do not need the key, so a write IAM refuses (a permission, the trust
    // policy's principal) stops setup before a new key is made.
    const roles = new Map<AccountContext, { roleArn: string; invokeRoleArn?: string }>();
    for (const { a, regions } of usable) {
      if (regions.length === 0) continue;
      progress(`Account ${a.account}, as ${a.identity}:`);
      try {
        const role = await ensureRole(a, writebackRole(a, request, names), id, request.dryRun);
        steps.push(report(progress, `${a.account} global`, role));
        let invokeRoleArn: string | undefined;
        if (request.mode === 'api-destination') {
          const invoke = await ensureRole(a, invokeRole(a, request, names), id, request.dryRun);
          steps.push(report(progress, `${a.account} global`, invoke));
          invokeRoleArn = invoke.arn;
        }
        roles.set(a, { roleArn: role.arn, invokeRoleArn });
      } catch (error) {
        if (!newKey || !(error instanceof SetupError)) throw error;
        throw new SetupError(
          `no new key was made, so the old key still works:\n  ${a.account} global: ${error.message}\nFix what is said and run vigil aws setup again: it keeps what is done.`,
          { cause: error },
        );
      }
    }

    await setMinimumSeverity(request);
    await setEventTypes(request);

    const endpointUrl =
      typeof request.endpointUrl === 'string' ? request.endpointUrl : await request.endpointUrl();
    requireEndpointOfIntake(endpointUrl, facts.intakeUrl);

    const ready: { a: AccountContext; region: string; replaces: boolean }[] = [];
    setUpAccounts.push(...usable.filter((u) => u.regions.length > 0).map((u) => u.a.account));
    for (const { a, regions } of usable) {
      const role = roles.get(a);
      if (!role) continue;
      const { invokeRoleArn } = role;
      for (const region of regions) {
        // One region's refusal (a missing permission, a limit) does not stop the others.
        try {
          const done = await setUpRegion(a, region, request, endpointUrl, names, invokeRoleArn);
          steps.push(...done.steps);
          ready.push({ a, region, replaces: done.replaces });
        } catch (error) {
          fail(`${a.account} ${region}`, error);
        }
      }
      // Vigil writes back with the first account's role. Each finding's change goes to its own region
      // (writeback/aws.ts, targetForFinding); the region stored is the role test's.
      if (!writebackRoleArn) {
        const first = ready.find((r) => r.a === a)?.region;
        if (first) {
          writebackRoleArn = role.roleArn;
          writebackAccount = a.account;
          home = first;
        }
      }
    }

    if (request.mode === 'sns' && !request.dryRun)
      for (const { a, region, replaces } of ready) {
        try {
          await waitForConfirmation(a, region, request, endpointUrl, names);
        } catch (error) {
          if (!newKey || !(error instanceof SetupError)) throw error;
          throw new SetupError(`${error.message} ${NEW_KEY_MADE}`, { cause: error });
        }
        // The subscription is made and confirmed: an older one that cannot go fails this region only.
        if (replaces)
          try {
            steps.push(...(await removeConfirmedStale(a, region, request, endpointUrl, names)));
          } catch (error) {
            fail(`${a.account} ${region}`, error);
          }
      }
  } finally {
    for (const a of opened) a.close();
  }

  if (request.writeback && writebackRoleArn && home) {
    warnOtherAccounts(request, { roleArn: writebackRoleArn, account: writebackAccount }, setUpAccounts);
    if (request.dryRun)
      progress(`Would store in Vigil: role ${writebackRoleArn}, region ${home}, and turn the write-back on.`);
    else {
      await request.vigil.updateSettings(id, {
        roleArn: writebackRoleArn,
        region: home,
        sendUpdatesBack: true,
      });
      progress(
        `Stored in Vigil: role ${writebackRoleArn}, region ${home}; updates are sent back to Security Hub, each finding's to the region it came from.`,
      );
    }
  }
  if (failures.length > 0)
    throw new SetupError(
      `setup did not finish in ${failures.length} of ${request.accounts.length * request.regions.length} places (the others are set up):\n  ${failures.join('\n  ')}\nFix what is said and run vigil aws setup again: it keeps what is done.${newKey ? ` ${NEW_KEY_MADE}` : ''}`,
    );
  const counts = new Map<string, number>();
  for (const step of steps) counts.set(step.outcome, (counts.get(step.outcome) ?? 0) + 1);
  progress(`Done: ${[...counts].map(([outcome, n]) => `${n} ${outcome}`).join(', ')}.`);
  return { steps, roleArn: writebackRoleArn };
}
