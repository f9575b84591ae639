import { stringify as toYaml } from 'yaml';
import { awsDescription, resourceNames, ruleDescription, type IntegrationRef } from './names.js';
import {
  API_KEY_HEADER,
  DELIVERY_POLICY,
  INVOKE_POLICY_NAME,
  invokePermissions,
  invokeTrustPolicy,
  ruleEventPattern,
  topicPublishStatement,
  WRITEBACK_POLICY_NAME,
  writebackPermissions,
  writebackTrustPolicy,
  type SetupEvents,
} from './policies.js';

/**
 * The CloudFormation templates of one integration, for those who deploy through CloudFormation rather
 * than run `vigil aws setup`. Everything Vigil knows is filled in; what it cannot know (the endpoint URL
 * with the integration's key, which Vigil stores only hashed) is a parameter named as the seed's guide
 * names it. Only resource types and properties listed in cloudformation-spec.ts are used.
 */

export const TEMPLATE_KINDS = ['intake', 'role', 'api-destination'] as const;
export type TemplateKind = (typeof TEMPLATE_KINDS)[number];

export interface TemplateInput {
  integration: IntegrationRef & { externalId: string };
  /** The intake's URL without the key: `${VIGIL_PUBLIC_URL}/v1/json/integrations/webhooks/amazonsecurityhub`. */
  intakeUrl: string;
  rolePrefix: string;
  /** Vigil's own AWS identity, when known (configured, or found with GetCallerIdentity). */
  vigilPrincipalArn?: string;
  events: SetupEvents;
}

export type Template = Record<string, unknown>;

const ref = (name: string) => ({ Ref: name });
const getAtt = (resource: string, attribute: string) => ({ 'Fn::GetAtt': [resource, attribute] });

/** An EventPatternParameter left empty means: use the pattern Vigil made for the integration. */
function patternParameter(input: TemplateInput) {
  const generated = ruleEventPattern(input.events, {
    customActionArn: getAtt('CustomAction', 'ActionTargetArn'),
  });
  return {
    parameter: {
      Type: 'String',
      Default: '',
      Description:
        'Leave empty to use the pattern Vigil made for this integration (shown in the rule below). To use your own, paste a JSON event pattern; for Imported findings do not filter on Workflow.Status, RecordState or the severity, or the updates that close alerts (RESOLVED, SUPPRESSED, ARCHIVED) never reach Vigil.',
    },
    condition: { 'Fn::Not': [{ 'Fn::Equals': [ref('EventPatternParameter'), ''] }] },
    value: { 'Fn::If': ['EventPatternGiven', ref('EventPatternParameter'), generated] },
  };
}

/** The rule on the default bus, where Security Hub sends its events, with its one target. */
function findingsRule(input: TemplateInput, pattern: unknown, target: Record<string, unknown>) {
  const names = resourceNames(input.integration, input.rolePrefix);
  return {
    Type: 'AWS::Events::Rule',
    Properties: {
      Name: names.rule,
      Description: ruleDescription(input.integration),
      State: 'ENABLED',
      EventPattern: pattern,
      Targets: [{ ...target, Id: names.targetId }],
    },
  };
}

function customActionResource(input: TemplateInput) {
  const names = resourceNames(input.integration, input.rolePrefix);
  return {
    Type: 'AWS::SecurityHub::ActionTarget',
    Properties: {
      Id: names.customActionId,
      Name: names.customActionName,
      Description: awsDescription(`Send the finding to Vigil (integration ${input.integration.name})`, {
        maxLength: 512,
      }),
    },
  };
}

function header(input: TemplateInput, what: string) {
  return {
    AWSTemplateFormatVersion: '2010-09-09',
    // CloudFormation counts a template's description in bytes.
    Description: awsDescription(
      `Vigil, integration "${input.integration.name}" (${input.integration.id}): ${what}`,
      {
        maxLength: 1024,
        maxBytes: 1024,
      },
    ),
  };
}

function intakeTemplate(input: TemplateInput): Template {
  const names = resourceNames(input.integration, input.rolePrefix);
  const customAction = input.events === 'custom-action';
  const pattern = patternParameter(input);
  return {
    ...header(input, 'Security Hub findings to an SNS topic that delivers them to Vigil over HTTPS.'),
    Parameters: {
      SNSSubEndpoint: {
        Type: 'String',
        // The URL carries the integration's key: CloudFormation shows it as **** in the stack's
        // parameters and events.
        NoEcho: true,
        Description: `The endpoint URL Vigil showed when the integration was created (${input.intakeUrl}?apiKey=...). Regenerate the key on the integration's page if you no longer have it.`,
        AllowedPattern: '^https://[^\\s]+[?&]apiKey=[^\\s&]+.*$',
        ConstraintDescription:
          'must be the HTTPS endpoint URL with its apiKey: SNS delivers only to https URLs that are reachable from the internet.',
      },
      EventPatternParameter: pattern.parameter,
    },
    Conditions: { EventPatternGiven: pattern.condition },
    Resources: {
      ...(customAction ? { CustomAction: customActionResource(input) } : {}),
      FindingsTopic: {
        Type: 'AWS::SNS::Topic',
        Properties: {
          TopicName: names.topic,
          DisplayName: 'Vigil Security Hub findings',
        },
      },
      FindingsTopicPolicy: {
        Type: 'AWS::SNS::TopicPolicy',
        Properties: {
          Topics: [ref('FindingsTopic')],
          PolicyDocument: { Version: '2012-10-17', Statement: [topicPublishStatement(ref('FindingsTopic'))] },
        },
      },
      VigilSubscription: {
        Type: 'AWS::SNS::Subscription',
        Properties: {
          Protocol: 'https',
          TopicArn: ref('FindingsTopic'),
          Endpoint: ref('SNSSubEndpoint'),
          DeliveryPolicy: DELIVERY_POLICY,
        },
      },
      FindingsRule: findingsRule(input, pattern.value, { Arn: ref('FindingsTopic') }),
    },
    Outputs: {
      TopicArn: { Description: 'The SNS topic Vigil is subscribed to', Value: ref('FindingsTopic') },
      RuleArn: { Description: 'The EventBridge rule', Value: getAtt('FindingsRule', 'Arn') },
      ...(customAction
        ? {
            CustomActionArn: {
              Description: 'The custom action that sends a finding to Vigil',
              Value: getAtt('CustomAction', 'ActionTargetArn'),
            },
          }
        : {}),
    },
  };
}

function roleTemplate(input: TemplateInput): Template {
  const names = resourceNames(input.integration, input.rolePrefix);
  const maxSuffix = 64 - input.rolePrefix.length;
  return {
    ...header(input, 'the IAM role Vigil assumes to send alert updates back to Security Hub.'),
    Parameters: {
      RoleName: {
        Type: 'String',
        Default: names.role,
        Description: `The role's name: it must start with ${input.rolePrefix}, the only roles Vigil assumes.`,
        AllowedPattern: `^${input.rolePrefix.replace(/[.+]/g, '\\$&')}[\\w+=,.@-]{0,${maxSuffix}}$`,
        ConstraintDescription: `must start with ${input.rolePrefix} and be at most 64 characters.`,
      },
      VigilPrincipalArn: {
        Type: 'String',
        ...(input.vigilPrincipalArn ? { Default: input.vigilPrincipalArn } : {}),
        Description:
          "Vigil's own AWS identity (the user or role in Vigil's account that assumes this role). Vigil's administrator finds it with `aws sts get-caller-identity` where Vigil runs, or sets VIGIL_AWS_PRINCIPAL_ARN.",
        AllowedPattern: '^(\\d{12}|arn:aws[\\w-]*:iam::\\d{12}:(root|user/\\S+|role/\\S+))$',
        ConstraintDescription: 'must be an account id or an IAM user or role ARN.',
      },
      ExternalId: {
        Type: 'String',
        Default: input.integration.externalId,
        Description: "The integration's external ID: Vigil names it when it assumes the role.",
        AllowedPattern: '^[\\w+=,.@:/-]{2,1224}$',
      },
    },
    Resources: {
      WritebackRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          RoleName: ref('RoleName'),
          Description: awsDescription(
            `Vigil sends alert updates back to Security Hub (integration ${input.integration.name})`,
            { maxLength: 1000 },
          ),
          MaxSessionDuration: 3600,
          AssumeRolePolicyDocument: writebackTrustPolicy(ref('VigilPrincipalArn'), ref('ExternalId')),
          Policies: [{ PolicyName: WRITEBACK_POLICY_NAME, PolicyDocument: writebackPermissions() }],
        },
      },
    },
    Outputs: {
      RoleArn: {
        Description: 'Paste it into "AmazonSecurityHub Role ARN" on the integration\'s page',
        Value: getAtt('WritebackRole', 'Arn'),
      },
    },
  };
}

function apiDestinationTemplate(input: TemplateInput): Template {
  const names = resourceNames(input.integration, input.rolePrefix);
  const customAction = input.events === 'custom-action';
  const pattern = patternParameter(input);
  return {
    ...header(input, 'Security Hub findings to Vigil through an EventBridge API destination.'),
    Parameters: {
      IntegrationApiKey: {
        Type: 'String',
        NoEcho: true,
        MinLength: 1,
        Description: `The integration's API key (the apiKey of its endpoint URL). EventBridge sends it in the ${API_KEY_HEADER} header.`,
      },
      EventPatternParameter: pattern.parameter,
    },
    Conditions: { EventPatternGiven: pattern.condition },
    Resources: {
      ...(customAction ? { CustomAction: customActionResource(input) } : {}),
      VigilConnection: {
        Type: 'AWS::Events::Connection',
        Properties: {
          Name: names.connection,
          Description: awsDescription(`Vigil's intake (integration ${input.integration.name})`, {
            maxLength: 512,
          }),
          AuthorizationType: 'API_KEY',
          AuthParameters: {
            ApiKeyAuthParameters: { ApiKeyName: API_KEY_HEADER, ApiKeyValue: ref('IntegrationApiKey') },
          },
        },
      },
      VigilApiDestination: {
        Type: 'AWS::Events::ApiDestination',
        Properties: {
          Name: names.apiDestination,
          ConnectionArn: getAtt('VigilConnection', 'Arn'),
          InvocationEndpoint: input.intakeUrl,
          HttpMethod: 'POST',
        },
      },
      InvokeRole: {
        Type: 'AWS::IAM::Role',
        Properties: {
          Description: "EventBridge calls Vigil's API destination",
          AssumeRolePolicyDocument: invokeTrustPolicy(ref('AWS::AccountId')),
          Policies: [
            {
              PolicyName: INVOKE_POLICY_NAME,
              PolicyDocument: invokePermissions(getAtt('VigilApiDestination', 'Arn')),
            },
          ],
        },
      },
      FindingsRule: findingsRule(input, pattern.value, {
        Arn: getAtt('VigilApiDestination', 'Arn'),
        RoleArn: getAtt('InvokeRole', 'Arn'),
      }),
    },
    Outputs: {
      ApiDestinationArn: { Value: getAtt('VigilApiDestination', 'Arn') },
      RuleArn: { Value: getAtt('FindingsRule', 'Arn') },
      ...(customAction ? { CustomActionArn: { Value: getAtt('CustomAction', 'ActionTargetArn') } } : {}),
    },
  };
}

export function cloudFormationTemplate(kind: TemplateKind, input: TemplateInput): Template {
  switch (kind) {
    case 'intake':
      return intakeTemplate(input);
    case 'role':
      return roleTemplate(input);
    case 'api-destination':
      return apiDestinationTemplate(input);
  }
}

/** JSON as AWS's console shows templates, or YAML (long-form intrinsics, which YAML templates accept). */
export function renderTemplate(template: Template, format: 'json' | 'yaml'): string {
  return format === 'yaml' ? toYaml(template, { lineWidth: 0 }) : JSON.stringify(template, null, 2) + '\n';
}
