import { randomBytes } from 'node:crypto';
import { accountOf, type AwsAccess, type RoleTarget } from './aws.js';
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

/**
 * The partition of the role's ARN (`aws`, `aws-us-gov`, `aws-cn`...), as aws-setup/aws-context.ts reads
 * it from an identity's: a ProductArn of another partition than the region's is not one AWS would name.
 */
function partitionOf(roleArn: string): string {
  return /^arn:(aws[\w-]*):/.exec(roleArn)?.[1] ?? 'aws';
}

/**
 * An external ID that is not the integration's, of the form Vigil gives every integration (32 hex
 * digits, integrations/service.ts): a trust policy that lets it in would let in another integration,
 * of this organization or any other on the instance, with its own external ID.
 */
function anotherExternalId(own: string): string {
  let id: string;
  do id = randomBytes(16).toString('hex');
  while (id === own);
  return id;
}

/**
 * Tries a way into the role that its trust policy must shut: undefined when STS refuses it, else what
 * the step says (`letIn` when the role let Vigil in, AWS's own text when STS failed otherwise).
 */
async function refused(assume: () => Promise<unknown>, letIn: string): Promise<string | undefined> {
  try {
    await assume();
    return letIn;
  } catch (error) {
    return REFUSED.has((error as { name?: string }).name ?? '') ? undefined : awsErrorText(error);
  }
}

/** What a finding that does not exist is called in the write checks below: AWS answers it unprocessed. */
const PERMISSION_CHECK_ID = 'vigil-permission-check';

/**
 * Proves the role's policy allows a write action without changing anything: the call names a finding
 * that does not exist. Security Hub checks the permission first (AccessDeniedException 403 when the
 * policy does not allow the action); an allowed call answers the made-up finding in
 * UnprocessedFindings, which here means success.
 */
async function checkWrite(action: string, call: () => Promise<unknown>): Promise<RoleCheckStep> {
  try {
    await call();
    return { step: action, ok: true };
  } catch (error) {
    // AWS's own text, as for every step: it names the action the policy lacks, and the console and
    // `vigil aws check` say in plain words what to add.
    return { step: action, ok: false, error: awsErrorText(error) };
  }
}

/**
 * Assumes the role, checks it is refused without the external ID and with another one, makes one
 * harmless read, and proves both write actions are allowed without changing any finding; when the
 * settings lack the role ARN or the region (`missing`), says which, and calls nothing. Whether write-back
 * is on does not matter: a role is tested before it is used.
 */
export async function checkRole(
  aws: AwsAccess,
  role: RoleTarget | { missing: readonly string[] },
): Promise<RoleCheck> {
  if ('missing' in role) {
    const [first, ...rest] = role.missing;
    const missing = rest.length > 0 ? `${[first, ...rest].join(' and ')} are` : `${first ?? 'roleArn'} is`;
    return { ok: false, steps: [{ step: 'settings', ok: false, error: `${missing} missing` }] };
  }
  const target = role;
  const steps: RoleCheckStep[] = [];
  try {
    await aws.credentialsFor(target);
    steps.push({ step: 'AssumeRole', ok: true });
  } catch (error) {
    steps.push({ step: 'AssumeRole', ok: false, error: awsErrorText(error) });
    return { ok: false, steps };
  }
  // Both ways in that must be shut are tried within this one step, the one the console and `vigil aws
  // check` list: without an external ID, and with another one. A condition that matches any value
  // (StringLike "*", or Null "false") refuses the first and lets in the second, that is every Vigil
  // integration on the instance, of any organization: the confused deputy the external ID is there to stop.
  const letIn =
    (await refused(
      () => aws.assumeWithExternalId(target, undefined),
      "the role can be assumed without the integration's external ID: add the condition StringEquals sts:ExternalId to its trust policy (the role template has it)",
    )) ??
    (await refused(
      () => aws.assumeWithExternalId(target, anotherExternalId(target.externalId)),
      `the role can be assumed with any external ID, not only this integration's: its trust policy's sts:ExternalId condition matches other values (StringLike with a wildcard, or Null). Replace it with StringEquals sts:ExternalId = ${target.externalId}.`,
    ));
  if (letIn !== undefined) {
    steps.push({ step: 'AssumeRoleWithoutExternalId', ok: false, error: letIn });
    return { ok: false, steps };
  }
  steps.push({ step: 'AssumeRoleWithoutExternalId', ok: true });
  try {
    await aws.probe(target);
    steps.push({ step: 'GetFindings', ok: true });
  } catch (error) {
    steps.push({ step: 'GetFindings', ok: false, error: awsErrorText(error) });
    return { ok: false, steps };
  }
  // Both write actions are checked, so that a role lacking both is told so at once.
  const writes = [
    await checkWrite('BatchUpdateFindings', () =>
      aws.batchUpdate(target, {
        FindingIdentifiers: [
          {
            Id: PERMISSION_CHECK_ID,
            ProductArn: `arn:${partitionOf(target.roleArn)}:securityhub:${target.region}::product/vigil/${PERMISSION_CHECK_ID}`,
          },
        ],
        Note: { Text: 'Vigil permission check', UpdatedBy: 'Vigil' },
      }),
    ),
    await checkWrite('BatchUpdateFindingsV2', () =>
      aws.batchUpdateV2(target, {
        FindingIdentifiers: [
          {
            CloudAccountUid: accountOf(target.roleArn),
            FindingInfoUid: PERMISSION_CHECK_ID,
            MetadataProductUid: PERMISSION_CHECK_ID,
          },
        ],
        Comment: 'Vigil permission check',
      }),
    ),
  ];
  steps.push(...writes);
  return { ok: writes.every((w) => w.ok), steps };
}
