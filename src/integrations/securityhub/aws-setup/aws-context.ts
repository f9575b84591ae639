import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IAMClient } from '@aws-sdk/client-iam';
import { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { SNSClient } from '@aws-sdk/client-sns';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { fromNodeProviderChain, fromTemporaryCredentials } from '@aws-sdk/credential-providers';
import { awsRequestHandler } from '../writeback/aws-sdk.js';
import { explainAwsError, type AwsCallContext } from './aws-errors.js';

/**
 * The operator's AWS access for one account: the SDK's default chain (a profile if asked), or, for an
 * organization's member accounts, a role in each assumed from it. Endpoints follow the SDK's own
 * settings, AWS_ENDPOINT_URL_<SERVICE> included.
 */

export interface AccountAccess {
  /** What the operator named: 'default' or the role assumed into the account. */
  label: string;
  credentials: ReturnType<typeof fromNodeProviderChain>;
}

export function operatorAccess(profile?: string): AccountAccess {
  return {
    label: profile ? `profile ${profile}` : 'default credentials',
    credentials: fromNodeProviderChain(profile ? { profile } : {}),
  };
}

export function memberAccountAccess(base: AccountAccess, roleArn: string): AccountAccess {
  return {
    label: roleArn,
    credentials: fromTemporaryCredentials({
      params: { RoleArn: roleArn, RoleSessionName: 'vigil-aws-setup', DurationSeconds: 3600 },
      masterCredentials: base.credentials,
    }),
  };
}

export interface AccountContext {
  access: AccountAccess;
  account: string;
  /** The ARN the operator acts as, for messages. */
  identity: string;
  partition: string;
  iam: IAMClient;
  /** Runs one AWS call, turning a refusal into words that say what to do. */
  call<T>(context: Omit<AwsCallContext, 'account' | 'identity'>, run: () => Promise<T>): Promise<T>;
  region(name: string): RegionContext;
  close(): void;
}

export interface RegionContext {
  account: AccountContext;
  region: string;
  securityHub: SecurityHubClient;
  sns: SNSClient;
  events: EventBridgeClient;
  call<T>(action: string, run: () => Promise<T>): Promise<T>;
}

/**
 * The region IAM's endpoint is signed for in each partition: IAM is global within a partition, and
 * credentials of one partition are refused by another's endpoint (China's and GovCloud's included).
 */
export function iamRegionFor(partition: string): string {
  switch (partition) {
    case 'aws-cn':
      return 'cn-north-1';
    case 'aws-us-gov':
      return 'us-gov-west-1';
    case 'aws-iso':
      return 'us-iso-east-1';
    case 'aws-iso-b':
      return 'us-isob-east-1';
    default:
      return 'us-east-1';
  }
}

export async function openAccount(access: AccountAccess, homeRegion: string): Promise<AccountContext> {
  const requestHandler = awsRequestHandler();
  const common = { credentials: access.credentials, requestHandler, maxAttempts: 4 };
  const sts = new STSClient({ ...common, region: homeRegion });
  let identity;
  try {
    identity = await sts.send(new GetCallerIdentityCommand({}));
  } catch (error) {
    throw explainAwsError(error, {
      action: 'sts:GetCallerIdentity',
      region: homeRegion,
      identity: access.label,
    });
  } finally {
    sts.destroy();
  }
  const arn = identity.Arn ?? '';
  const account = identity.Account ?? '';
  const call: AccountContext['call'] = async (context, run) => {
    try {
      return await run();
    } catch (error) {
      throw explainAwsError(error, { ...context, account, identity: arn });
    }
  };
  const regions = new Map<string, RegionContext>();
  const partition = /^arn:(aws[\w-]*):/.exec(arn)?.[1] ?? 'aws';
  const context: AccountContext = {
    access,
    account,
    identity: arn,
    partition,
    iam: new IAMClient({ ...common, region: iamRegionFor(partition) }),
    call,
    region(name) {
      let found = regions.get(name);
      if (!found) {
        found = {
          account: context,
          region: name,
          securityHub: new SecurityHubClient({ ...common, region: name }),
          sns: new SNSClient({ ...common, region: name }),
          events: new EventBridgeClient({ ...common, region: name }),
          call: (action, run) => call({ action, region: name }, run),
        };
        regions.set(name, found);
      }
      return found;
    },
    close() {
      context.iam.destroy();
      for (const r of regions.values()) {
        r.securityHub.destroy();
        r.sns.destroy();
        r.events.destroy();
      }
    },
  };
  return context;
}
