import { SetupError } from './aws-errors.js';
import { openAccount, type AccountAccess, type AccountContext } from './aws-context.js';
import { removeApiDestination } from './api-destination.js';
import { removeCustomAction } from './custom-action.js';
import { resourceNames } from './names.js';
import { removeRole } from './roles.js';
import { removeRule } from './rule.js';
import { removeTopic } from './sns-topic.js';
import { report, type Progress, type StepResult } from './steps.js';
import type { AwsSetupFacts, VigilApi } from './vigil-api.js';

/**
 * `vigil aws teardown`: removes what setup made for this integration, and only that: a resource that
 * does not carry the integration's tag (or, for the untaggable ones, name it in its description) is
 * kept and said so. The rule goes first, so no finding is sent to a topic on its way out. The IAM
 * roles are global, so they go too unless asked to stay (other regions still set up use them). Every
 * account is opened before anything is deleted, and once the write-back role is gone the write-back is
 * turned off in Vigil, whatever fails after.
 */

export interface TeardownRequest {
  facts: AwsSetupFacts;
  regions: string[];
  accounts: AccountAccess[];
  dryRun: boolean;
  /** The IAM roles are global: keep them when other regions still use them. */
  keepRoles: boolean;
  vigil: VigilApi;
  progress: Progress;
}

export async function runTeardown(request: TeardownRequest): Promise<StepResult[]> {
  const { facts, progress, dryRun } = request;
  const id = facts.integration.id;
  const names = resourceNames(facts.integration, facts.rolePrefix);
  const steps: StepResult[] = [];
  const deletedRoles: string[] = [];
  const failures: string[] = [];
  progress(
    `${dryRun ? 'Dry run: nothing is changed. ' : ''}Removing what vigil aws setup made for "${facts.integration.name}" (${id}):`,
  );
  const fail = (where: string, error: unknown) => {
    if (!(error instanceof SetupError)) throw error;
    failures.push(`${where}: ${error.message}`);
    progress(`  ${where}  FAILED: ${error.message}`);
  };
  const opened: AccountContext[] = [];
  // Said after whatever else failed; an error that escapes the loop (a bug) is not replaced by it.
  let writebackLeftOn: SetupError | undefined;
  try {
    // Every account is opened (the operator's credentials, each --account-role assumed) before anything
    // is deleted: a role that cannot be assumed stops the teardown before it has begun, not halfway.
    for (const access of request.accounts)
      opened.push(await openAccount(access, request.regions[0] ?? 'us-east-1'));
    for (const a of opened) {
      let regionFailed = false;
      for (const region of request.regions) {
        const r = a.region(region);
        const where = `${a.account} ${region}`;
        const add = (step: StepResult) => steps.push(report(progress, where, step));
        // One region's refusal (Security Hub off, a missing permission) does not stop the others.
        try {
          add(await removeRule(r, names, id, dryRun));
          for (const step of await removeTopic(r, names, id, dryRun)) add(step);
          for (const step of await removeApiDestination(r, names, id, dryRun)) add(step);
          add(await removeCustomAction(r, names, id, dryRun));
        } catch (error) {
          regionFailed = true;
          fail(where, error);
        }
      }
      if (request.keepRoles || regionFailed) {
        progress(
          `  ${a.account} global  IAM roles kept${regionFailed ? ': a region above was not torn down, and may still use them' : ' (--keep-roles)'}`,
        );
        continue;
      }
      try {
        for (const role of [names.role, names.invokeRole]) {
          const step = report(progress, `${a.account} global`, await removeRole(a, role, id, dryRun));
          steps.push(step);
          if (step.outcome === 'deleted' && step.detail) deletedRoles.push(step.detail);
        }
      } catch (error) {
        fail(`${a.account} global`, error);
      }
    }
  } finally {
    for (const a of opened) a.close();
    // Vigil would otherwise go on assuming a role that no longer exists, whatever failed after it went.
    if (facts.roleArn && deletedRoles.includes(facts.roleArn)) {
      try {
        await request.vigil.updateSettings(id, { sendUpdatesBack: false });
        progress('Turned the write-back off in Vigil: its role is gone.');
      } catch (error) {
        writebackLeftOn = new SetupError(
          `the write-back role ${facts.roleArn} is deleted, but Vigil could not be told to stop assuming it (${(error as Error).message}): turn the write-back off in the integration's settings.`,
          { cause: error },
        );
        progress(`  Vigil  FAILED: ${writebackLeftOn.message}`);
      }
    }
  }
  if (failures.length > 0)
    throw new SetupError(
      `teardown did not finish in ${failures.length} places:\n  ${failures.join('\n  ')}\nFix what is said and run vigil aws teardown again.${writebackLeftOn ? `\nAlso: ${writebackLeftOn.message}` : ''}`,
      { cause: writebackLeftOn },
    );
  if (writebackLeftOn) throw writebackLeftOn;
  const removed = steps.filter((s) => s.outcome === 'deleted' || s.outcome === 'would delete').length;
  const kept = steps.filter((s) => s.outcome === 'kept').length;
  progress(
    `Done: ${removed} ${dryRun ? 'would be removed' : 'removed'}${kept ? `, ${kept} kept (not made by setup for this integration)` : ''}.`,
  );
  return steps;
}
