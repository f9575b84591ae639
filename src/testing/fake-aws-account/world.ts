import crypto from 'node:crypto';

/**
 * What the services of one fake AWS account share beyond their own state. Kept small on purpose: each
 * service owns its resources, and only facts one service decides and another reads live here.
 */
export interface FakeAwsWorld {
  /** Regions where Security Hub is enabled, per account: `${account}:${region}`. */
  securityHubEnabled: Set<string>;
  /** Used by all services to make ids. */
  newId(): string; // a random uuid
}

export function createFakeAwsWorld(init: { securityHubEnabled?: Iterable<string> } = {}): FakeAwsWorld {
  return {
    securityHubEnabled: new Set(init.securityHubEnabled ?? []),
    newId: () => crypto.randomUUID(),
  };
}
