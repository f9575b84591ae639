import type {
  BatchUpdateFindingsCommandInput,
  BatchUpdateFindingsV2CommandInput,
} from '@aws-sdk/client-securityhub';

/**
 * AWS for the write-back, as the rest of Vigil sees it. The AWS SDK itself (aws-sdk.ts) is loaded on
 * the first call: it is about a third of the modules Vigil would load at start, and most processes
 * (a test, an API-only process, a Vigil without write-back) never call AWS.
 */

export interface RoleTarget {
  integrationId: string;
  integrationName: string;
  roleArn: string;
  externalId: string;
  region: string;
}

export interface AwsAccessOptions {
  env?: NodeJS.ProcessEnv;
  /** Extra trusted CAs (tests put local TLS servers where AWS's hosts would be). */
  ca?: string | Buffer | Array<string | Buffer>;
}

/** The account a role ARN belongs to: AWS's limits are per account and region. */
export function accountOf(roleArn: string): string {
  return /^arn:aws[\w-]*:iam::(\d{12}):/.exec(roleArn)?.[1] ?? 'unknown';
}

type SdkAccess = ReturnType<typeof import('./aws-sdk.js').createSdkAccess>;

export function createAwsAccess(options: AwsAccessOptions = {}) {
  let loading: Promise<SdkAccess> | undefined;
  const sdk = () => (loading ??= import('./aws-sdk.js').then((m) => m.createSdkAccess(options)));
  return {
    async credentialsFor(target: RoleTarget) {
      return (await sdk()).credentialsFor(target);
    },
    async batchUpdate(target: RoleTarget, input: BatchUpdateFindingsCommandInput) {
      return (await sdk()).batchUpdate(target, input);
    },
    /** The same for OCSF findings (the new Security Hub's). */
    async batchUpdateV2(target: RoleTarget, input: BatchUpdateFindingsV2CommandInput) {
      return (await sdk()).batchUpdateV2(target, input);
    },
    /** AssumeRole without the external ID, which the role must refuse (aws-sdk.ts says why). */
    async assumeWithoutExternalId(target: RoleTarget) {
      return (await sdk()).assumeWithoutExternalId(target);
    },
    /** One harmless call: proves the role can be assumed and Security Hub answers. */
    async probe(target: RoleTarget) {
      return (await sdk()).probe(target);
    },
  };
}

export type AwsAccess = ReturnType<typeof createAwsAccess>;
