import type { AwsAccess, RoleTarget } from './aws.js';
import { awsErrorText } from './sender.js';

/**
 * Checks an integration's write-back set-up the way the sender will use it, step by step, so that people
 * see which step fails and AWS's own words for why.
 */

export interface RoleCheckStep {
  step: string;
  ok: boolean;
  error?: string;
}

export interface RoleCheck {
  ok: boolean;
  steps: RoleCheckStep[];
}

/** How STS refuses a role whose trust policy does not let the caller in. */
const REFUSED = new Set(['AccessDenied', 'AccessDeniedException']);

/** Assumes the role, checks it is refused without the external ID, and makes one harmless call; `target` is undefined when the settings lack one. */
export async function checkRole(aws: AwsAccess, target: RoleTarget | undefined): Promise<RoleCheck> {
  if (!target) {
    return {
      ok: false,
      steps: [
        { step: 'settings', ok: false, error: 'sendUpdatesBack is off, or roleArn or region is missing' },
      ],
    };
  }
  const steps: RoleCheckStep[] = [];
  try {
    await aws.credentialsFor(target);
    steps.push({ step: 'AssumeRole', ok: true });
  } catch (error) {
    steps.push({ step: 'AssumeRole', ok: false, error: awsErrorText(error) });
    return { ok: false, steps };
  }
  try {
    await aws.assumeWithoutExternalId(target);
    steps.push({
      step: 'AssumeRoleWithoutExternalId',
      ok: false,
      error:
        "the role can be assumed without the integration's external ID: add the condition StringEquals sts:ExternalId to its trust policy (the role template has it)",
    });
    return { ok: false, steps };
  } catch (error) {
    if (!REFUSED.has((error as { name?: string }).name ?? '')) {
      steps.push({ step: 'AssumeRoleWithoutExternalId', ok: false, error: awsErrorText(error) });
      return { ok: false, steps };
    }
    steps.push({ step: 'AssumeRoleWithoutExternalId', ok: true });
  }
  try {
    await aws.probe(target);
    steps.push({ step: 'GetFindings', ok: true });
  } catch (error) {
    steps.push({ step: 'GetFindings', ok: false, error: awsErrorText(error) });
    return { ok: false, steps };
  }
  return { ok: true, steps };
}
