/**
 * AWS's refusals, said so that the person running `vigil aws` knows what to do next. The AWS text is
 * kept at the end: it is what a search or AWS support will recognise.
 */

export class SetupError extends Error {}

export interface AwsCallContext {
  /** e.g. 'sns:CreateTopic' */
  action: string;
  region: string;
  account?: string;
  /** Whoever the SDK signed as, for the message. */
  identity?: string;
}

function errorName(error: unknown): string {
  return (error as { name?: string } | undefined)?.name ?? '';
}

export function explainAwsError(error: unknown, context: AwsCallContext): SetupError {
  return new SetupError(explanation(error, context), { cause: error });
}

function explanation(error: unknown, context: AwsCallContext): string {
  const name = errorName(error);
  const text = (error as Error).message ?? String(error);
  const where = `${context.region}${context.account ? ` of account ${context.account}` : ''}`;
  if (
    [
      'AccessDenied',
      'AccessDeniedException',
      'AuthorizationError',
      'AuthorizationErrorException',
      'UnauthorizedOperation',
    ].includes(name)
  ) {
    const action = /not authorized to perform:? ([\w-]+:\w+)/.exec(text)?.[1] ?? context.action;
    return `${context.identity ?? 'your AWS identity'} may not call ${action} in ${where}: allow ${action} in its IAM policy (all the actions vigil aws uses are listed in docs/securityhub.md#permissions) and run again. AWS said: ${text}`;
  }
  if (
    context.action.startsWith('iam:') &&
    /^MalformedPolicyDocument/.test(name) &&
    /Invalid principal/i.test(text)
  ) {
    // The only principal setup names that IAM checks is Vigil's own identity, in the role's trust policy.
    const principal = /Invalid principal in policy:\s*"AWS"\s*:\s*"([^"]+)"/i.exec(text)?.[1];
    return `IAM refused the write-back role's trust policy in account ${context.account ?? '?'}: the principal it names${principal ? ` (${principal})` : ''}, Vigil's own AWS identity, is no user or role IAM knows. A role with a path (AWS SSO's aws-reserved/sso.amazonaws.com/…, service-role/…) must be named with its path: give Vigil's identity with --vigil-principal <arn>, or set VIGIL_AWS_PRINCIPAL_ARN where Vigil runs, and run again. AWS said: ${text}`;
  }
  if (name === 'InvalidAccessException' && /not subscribed|not enabled|Security Hub/i.test(text)) {
    return `Security Hub is not enabled in ${where}: enable it (aws securityhub enable-security-hub --region ${context.region}), or leave ${context.region} out of --region. AWS said: ${text}`;
  }
  if (name === 'LimitExceededException' && context.action === 'securityhub:CreateActionTarget') {
    return `${where} already has the most custom actions Security Hub allows (50): delete one you no longer use (aws securityhub delete-action-target --action-target-arn …), or run with --events imported, which needs none. AWS said: ${text}`;
  }
  if (
    [
      'ExpiredToken',
      'ExpiredTokenException',
      'InvalidClientTokenId',
      'UnrecognizedClientException',
      'CredentialsProviderError',
    ].includes(name)
  ) {
    return `your AWS credentials were refused or not found (${name}): sign in again (aws sso login, or fresh keys) or pick a profile with --profile. AWS said: ${text}`;
  }
  return `${context.action} in ${where} failed: ${name ? `${name}: ` : ''}${text}`;
}

/** AWS said the thing asked for does not exist (also when wrapped in a SetupError). */
export function isNotFound(error: unknown): boolean {
  const cause = error instanceof SetupError ? error.cause : error;
  return [
    'ResourceNotFoundException',
    'NoSuchEntity',
    'NoSuchEntityException',
    'NotFound',
    'NotFoundException',
  ].includes(errorName(cause));
}
