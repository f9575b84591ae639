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
  /**
   * Where the role is assumed when not `region`: always the integration's region (the one the customer
   * picked, and the one Test connection proves), while a finding of another region is updated there.
   */
  assumeInRegion?: string;
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

const PRODUCT_REGION = /^arn:(aws[\w-]*):securityhub:([a-z]{2}(?:-gov)?-[a-z]+-\d):/;

/**
 * The partition and region a product ARN names (`aws/eu-west-1`), or '': findings that share it go to
 * the same Security Hub (findingRegion), so they may share a request.
 */
export function productLocation(productArn: string): string {
  const found = PRODUCT_REGION.exec(productArn);
  return found ? `${found[1]}/${found[2]}` : '';
}

/**
 * The region of the Security Hub that holds a finding, from its ProductArn (ASFF) or metadata.product.uid
 * (OCSF), which name the region the finding was imported in: `arn:aws:securityhub:eu-west-1::product/…`.
 * Undefined unless it is a Security Hub ARN of the role's own partition with a region of the form an
 * integration's region takes: the ARN comes from outside, and its region becomes part of the host Vigil
 * sends the role's credentials to.
 */
export function findingRegion(productArn: string, roleArn: string): string | undefined {
  const found = PRODUCT_REGION.exec(productArn);
  const rolePartition = /^arn:(aws[\w-]*):iam::/.exec(roleArn)?.[1];
  return found && found[1] === rolePartition ? found[2] : undefined;
}

/**
 * Where a finding's change is sent: the integration's role, assumed in the integration's region, calling
 * the Security Hub of the region that holds the finding. A finding lives in the region it was imported in
 * (with cross-region aggregation, a copy is in the aggregation region too, and an update in either reaches
 * both); from any other region AWS answers FindingNotFound. The integration's own region is for a finding
 * whose product names none, and for the role test.
 */
export function targetForFinding(target: RoleTarget, productArn: string): RoleTarget {
  const region = findingRegion(productArn, target.roleArn) ?? target.region;
  return region === target.region ? target : { ...target, region, assumeInRegion: target.region };
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
    /**
     * AssumeRole with another external ID than the integration's, or none (undefined), which the role
     * must refuse; never cached (aws-sdk.ts says why).
     */
    async assumeWithExternalId(target: RoleTarget, externalId: string | undefined) {
      return (await sdk()).assumeWithExternalId(target, externalId);
    },
    /** One harmless call: proves the role can be assumed and Security Hub answers. */
    async probe(target: RoleTarget) {
      return (await sdk()).probe(target);
    },
  };
}

export type AwsAccess = ReturnType<typeof createAwsAccess>;
