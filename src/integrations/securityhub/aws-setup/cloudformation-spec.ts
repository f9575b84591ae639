/**
 * The part of CloudFormation's resource specification the templates use, kept as data so a test can
 * hold every template to it. Taken from AWS's template reference, as ../shared/AWS-SETUP-FACTS.md §1
 * records it (section in each entry); `required` is what the reference marks Required: Yes.
 */

export interface PropertySpec {
  required?: boolean;
  /** Where the reference gives them: a string's length and pattern. */
  maxLength?: number;
  pattern?: RegExp;
}

export interface ResourceSpec {
  source: string;
  properties: Record<string, PropertySpec>;
  /** What Fn::GetAtt may read. */
  attributes: string[];
}

const NAME_64 = { maxLength: 64, pattern: /^[.\-_A-Za-z0-9]+$/ };

export const CLOUDFORMATION_SPEC: Record<string, ResourceSpec> = {
  'AWS::SecurityHub::ActionTarget': {
    source: '§1.1',
    properties: {
      Description: { required: true, pattern: /\S/ },
      // The API allows up to 20 characters for both (§2).
      Id: { required: true, maxLength: 20, pattern: /^[A-Za-z0-9]+$/ },
      Name: { required: true, maxLength: 20, pattern: /\S/ },
    },
    attributes: ['ActionTargetArn'],
  },
  'AWS::SNS::Topic': {
    source: '§1.2',
    properties: {
      TopicName: { maxLength: 256, pattern: /^[A-Za-z0-9_-]+$/ },
      DisplayName: { maxLength: 100 },
      KmsMasterKeyId: {},
      Subscription: {},
      Tags: {},
      SignatureVersion: {},
      FifoTopic: {},
      ContentBasedDeduplication: {},
      DataProtectionPolicy: {},
      TracingConfig: {},
    },
    attributes: ['TopicArn', 'TopicName'],
  },
  'AWS::SNS::TopicPolicy': {
    source: '§1.3',
    properties: { PolicyDocument: { required: true }, Topics: { required: true } },
    attributes: ['Id'],
  },
  'AWS::SNS::Subscription': {
    source: '§1.4',
    properties: {
      Protocol: { required: true },
      TopicArn: { required: true },
      Endpoint: {},
      DeliveryPolicy: {},
      RawMessageDelivery: {},
      FilterPolicy: {},
      Region: {},
    },
    attributes: [],
  },
  'AWS::Events::Rule': {
    source: '§1.5',
    properties: {
      Name: NAME_64,
      Description: { maxLength: 512 },
      EventBusName: {},
      EventPattern: {},
      ScheduleExpression: {},
      State: { pattern: /^(ENABLED|DISABLED)$/ },
      RoleArn: {},
      Targets: {},
    },
    attributes: ['Arn'],
  },
  'AWS::Events::Connection': {
    source: '§1.6',
    properties: {
      // CloudFormation marks it optional; the API requires it.
      AuthorizationType: { required: true, pattern: /^(API_KEY|BASIC|OAUTH_CLIENT_CREDENTIALS)$/ },
      AuthParameters: {},
      Description: { maxLength: 512 },
      Name: NAME_64,
      InvocationConnectivityParameters: {},
      KmsKeyIdentifier: {},
    },
    attributes: ['Arn', 'SecretArn'],
  },
  'AWS::Events::ApiDestination': {
    source: '§1.7',
    properties: {
      ConnectionArn: { required: true },
      HttpMethod: { required: true, pattern: /^(DELETE|GET|HEAD|OPTIONS|PATCH|POST|PUT)$/ },
      InvocationEndpoint: { required: true, maxLength: 2048, pattern: /^https:\/\// },
      InvocationRateLimitPerSecond: {},
      Name: NAME_64,
      Description: { maxLength: 512 },
    },
    attributes: ['Arn'],
  },
  'AWS::IAM::Role': {
    source: '§1.9 (GetAtt Arn: the template reference, Return values)',
    properties: {
      AssumeRolePolicyDocument: { required: true },
      Policies: {},
      ManagedPolicyArns: {},
      RoleName: { maxLength: 64, pattern: /^[\w+=,.@-]+$/ },
      MaxSessionDuration: {},
      Description: { maxLength: 1000 },
      Path: {},
    },
    attributes: ['Arn', 'RoleId'],
  },
};

/** Limits the templates must stay within (§1.5, §3). */
export const CLOUDFORMATION_LIMITS = {
  templateBodyBytes: 51_200,
  eventPatternChars: 4096,
  targetsPerRule: 5,
  targetIdPattern: /^[.\-_A-Za-z0-9]{1,64}$/,
};

export const PSEUDO_PARAMETERS = [
  'AWS::AccountId',
  'AWS::Region',
  'AWS::Partition',
  'AWS::StackName',
  'AWS::StackId',
  'AWS::URLSuffix',
  'AWS::NoValue',
  'AWS::NotificationARNs',
];
