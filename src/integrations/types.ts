import { Type, type Static } from 'typebox';
import { StringEnum } from '../http/schemas.js';

/**
 * The integration types Vigil knows. Each has a settings schema (validated at the API edge, stored as
 * JSONB) and defaults; everything else (keys, teams, on/off, the payload log) is shared by all types.
 */

export const SECURITY_HUB_EVENT_TYPES = [
  'imported',
  'custom-action',
  'insight-results',
  'imported-v2',
] as const;
export const SEVERITY_LABELS = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;

export const SecurityHubSettingsSchema = Type.Object(
  {
    verifySignatures: Type.Boolean({ description: 'Verify SNS signatures (default true)' }),
    allowedTopicArns: Type.Array(Type.String({ minLength: 1, maxLength: 2048 }), {
      maxItems: 100,
      description:
        'SNS topics whose notifications are accepted besides the ones whose subscription this integration confirmed; "*" allows any',
    }),
    eventTypes: Type.Array(StringEnum(SECURITY_HUB_EVENT_TYPES), {
      maxItems: 4,
      description: 'Which Security Hub events create alerts',
    }),
    minimumSeverity: StringEnum(SEVERITY_LABELS, {
      description: 'Findings below this severity create no alert',
    }),
    autoClose: Type.Object({
      resolved: Type.Boolean({ description: 'Close the alert when Workflow.Status becomes RESOLVED' }),
      suppressed: Type.Boolean({ description: 'Close the alert when Workflow.Status becomes SUPPRESSED' }),
      archived: Type.Boolean({ description: 'Close the alert when RecordState becomes ARCHIVED' }),
      passed: Type.Boolean({ description: 'Close the alert when Compliance.Status becomes PASSED' }),
    }),
    alertOnHandledFindings: Type.Boolean({
      description:
        'Open alerts for findings already NOTIFIED, RESOLVED or SUPPRESSED when they arrive (default false)',
    }),
    sendUpdatesBack: Type.Boolean({
      description: 'Write acknowledge, close, notes and priority back to the finding',
    }),
    roleArn: Type.Optional(Type.String({ maxLength: 2048 })),
    region: Type.Optional(Type.String({ pattern: '^[a-z]{2}(-gov)?-[a-z]+-\\d$' })),
  },
  { additionalProperties: false },
);
export type SecurityHubSettings = Static<typeof SecurityHubSettingsSchema>;

export const SECURITY_HUB_DEFAULTS: SecurityHubSettings = {
  verifySignatures: true,
  allowedTopicArns: [],
  eventTypes: [...SECURITY_HUB_EVENT_TYPES],
  minimumSeverity: 'INFORMATIONAL',
  autoClose: { resolved: true, suppressed: true, archived: true, passed: true },
  alertOnHandledFindings: false,
  sendUpdatesBack: false,
};

/**
 * Opsgenie's access flags on API integrations, which say what the integration's key may do: the key of a
 * monitoring tool should reach no further than the tool needs.
 */
export const API_ACCESS_FLAGS = {
  allowReadAccess: 'Its key may read alerts: GET requests (default true)',
  allowWriteAccess:
    'Its key may create and update alerts and run their actions: POST, PUT and PATCH requests (default true)',
  allowDeleteAccess:
    'Its key may delete alerts, and tags and details of alerts: DELETE requests (default true)',
  allowConfigurationAccess:
    "Its key may use the APIs besides the Alert API (users, teams, schedules, escalations, integrations) with the rights of an admin of the integration's owner team (default false: the Alert API only)",
} as const;
export type ApiAccessFlag = keyof typeof API_ACCESS_FLAGS;

export const ApiSettingsSchema = Type.Object(
  {
    allowReadAccess: Type.Boolean({ description: API_ACCESS_FLAGS.allowReadAccess }),
    allowWriteAccess: Type.Boolean({ description: API_ACCESS_FLAGS.allowWriteAccess }),
    allowDeleteAccess: Type.Boolean({ description: API_ACCESS_FLAGS.allowDeleteAccess }),
    allowConfigurationAccess: Type.Boolean({ description: API_ACCESS_FLAGS.allowConfigurationAccess }),
  },
  { additionalProperties: false },
);
export type ApiSettings = Static<typeof ApiSettingsSchema>;

/** Opsgenie's defaults; API integrations made before the flags existed have them too. */
export const API_DEFAULTS: ApiSettings = {
  allowReadAccess: true,
  allowWriteAccess: true,
  allowDeleteAccess: true,
  allowConfigurationAccess: false,
};

/**
 * The local part of an Email integration's address (Opsgenie's emailUsername): what a mail server routes
 * on, so only characters every MTA passes through unquoted, compared in lower case.
 */
// No two dots in a row: RFC 5321 refuses them in an unquoted local part, and so do mail servers.
export const EMAIL_USERNAME_PATTERN = '^[a-z0-9](?:(?:[a-z0-9_-]|\\.(?!\\.)){0,62}[a-z0-9])?$';

export const EmailSettingsSchema = Type.Object(
  {
    emailUsername: Type.String({ pattern: EMAIL_USERNAME_PATTERN }),
  },
  { additionalProperties: false },
);
export type EmailSettings = Static<typeof EmailSettingsSchema>;

export const WebhookSettingsSchema = Type.Object(
  {
    webhookUrl: Type.String({ minLength: 1, maxLength: 2048 }),
    addAlertDescription: Type.Boolean(),
    addAlertDetails: Type.Boolean(),
    headers: Type.Record(Type.String(), Type.String()),
  },
  { additionalProperties: false },
);
export type WebhookSettings = Static<typeof WebhookSettingsSchema>;

/** Vigil's webhook payload has always carried the description and details: kept on unless turned off. */
export const WEBHOOK_DEFAULTS: Omit<WebhookSettings, 'webhookUrl'> = {
  addAlertDescription: true,
  addAlertDetails: true,
  headers: {},
};

/**
 * A Webhook integration's allowWriteAccess: Opsgenie's Terraform provider (opsgenie_api_integration with
 * type Webhook) always sends it and reads it back, so it is kept and shown as given (default true). A
 * Webhook integration's key never uses the Alert API in Vigil (only an API integration's does), so it
 * changes nothing else.
 */
export const WEBHOOK_ALLOW_WRITE_ACCESS_DEFAULT = true;

export function webhookAllowWriteAccess(stored: Record<string, unknown>): boolean {
  return typeof stored.allowWriteAccess === 'boolean'
    ? stored.allowWriteAccess
    : WEBHOOK_ALLOW_WRITE_ACCESS_DEFAULT;
}

/** Stored settings over the defaults (the URL is required on create, so always stored). */
export function webhookSettings(stored: Record<string, unknown>): WebhookSettings {
  const flag = (name: 'addAlertDescription' | 'addAlertDetails') =>
    typeof stored[name] === 'boolean' ? stored[name] : WEBHOOK_DEFAULTS[name];
  const headers =
    stored.headers && typeof stored.headers === 'object' && !Array.isArray(stored.headers)
      ? Object.fromEntries(
          Object.entries(stored.headers).filter((e): e is [string, string] => typeof e[1] === 'string'),
        )
      : {};
  return {
    webhookUrl: typeof stored.webhookUrl === 'string' ? stored.webhookUrl : '',
    addAlertDescription: flag('addAlertDescription'),
    addAlertDetails: flag('addAlertDetails'),
    headers,
  };
}

/**
 * Opsgenie's suppressNotifications, which every type takes: the alerts the integration creates are made,
 * routed and logged as any other, but their creation pages nobody (engine/escalation/start.ts).
 */
export const SUPPRESS_NOTIFICATIONS =
  'Alerts this integration creates are made, routed and logged as usual, but nobody is notified of them: no escalation starts when one is created (default false).';

/** Whether the stored settings suppress notifications: only a stored true does. */
export function suppressesNotifications(stored: Record<string, unknown>): boolean {
  return stored.suppressNotifications === true;
}

export const INTEGRATION_TYPES = ['AmazonSecurityHub', 'API', 'Email', 'Webhook'] as const;
export type IntegrationType = (typeof INTEGRATION_TYPES)[number];

/**
 * The name of any other of Opsgenie's integration types (Prometheus, Grafana, Datadog, Marid, Zabbix…;
 * Terraform's opsgenie_api_integration takes `type` as free text): letters, digits, spaces, dots, dashes and
 * underscores, starting and ending with a letter, digit, dot, dash or underscore, 1 to 100 characters.
 */
export const OPSGENIE_TYPE_PATTERN = '^[A-Za-z0-9._-](?:[A-Za-z0-9 ._-]{0,98}[A-Za-z0-9._-])?$';
export const OPSGENIE_TYPE_MAX_LENGTH = 100;

export const OPSGENIE_TYPES =
  "Any other of Opsgenie's type names (Prometheus, Grafana, Datadog, Marid, Zabbix…: 1 to 100 letters, digits, spaces, dots, dashes and underscores) makes an API integration that keeps that name as its type: it is shown as its type, and its key works as an API integration's (the Alert API, with the access flags). A tool that sends to an endpoint of its own in Opsgenie rather than to the Alert API is not served. One of Vigil's types written in other letter case is refused.";

/** The one of Vigil's types `typeName` is in any letter case ("api" is API), if any. */
export function vigilTypeOf(typeName: string): IntegrationType | undefined {
  return INTEGRATION_TYPES.find((t) => t.toLowerCase() === typeName.toLowerCase());
}

/**
 * The kind of integration `typeName` makes: one of Vigil's types, else API (any other Opsgenie type, kept
 * as its name: typeNameOf). Undefined for one of Vigil's types written in other letter case ("api",
 * "webhook"), which would otherwise quietly make an API integration.
 */
export function kindOfType(typeName: string): IntegrationType | undefined {
  const known = vigilTypeOf(typeName);
  if (known) return known === typeName ? known : undefined;
  return 'API';
}

/** The type an integration shows: its Opsgenie type name when it has one, else its kind. */
export function typeNameOf(row: { type: string; opsgenie_type: string | null }): string {
  return row.opsgenie_type ?? row.type;
}

/** The settings an integration of each type carries. */
export interface SettingsOf {
  AmazonSecurityHub: SecurityHubSettings;
  API: ApiSettings;
  Email: Partial<EmailSettings>;
  Webhook: Partial<WebhookSettings>;
}

export function defaultSettings(type: IntegrationType): SettingsOf[IntegrationType] {
  if (type === 'AmazonSecurityHub') return structuredClone(SECURITY_HUB_DEFAULTS);
  if (type === 'API') return { ...API_DEFAULTS };
  if (type === 'Webhook') return structuredClone(WEBHOOK_DEFAULTS);
  // An Email integration's address has no default: it is given on create.
  return {};
}

/** An Email integration's stored address name, or undefined when the column holds none. */
export function emailUsernameOf(stored: Record<string, unknown>): string | undefined {
  const value = stored.emailUsername;
  return typeof value === 'string' ? value : undefined;
}

/**
 * Stored settings over the defaults. The flags decide what a key may do, so only a stored boolean counts:
 * anything else in the column leaves the default.
 */
export function apiSettings(stored: Record<string, unknown>): ApiSettings {
  const flag = (name: ApiAccessFlag) => {
    const value = stored[name];
    return typeof value === 'boolean' ? value : API_DEFAULTS[name];
  };
  return {
    allowReadAccess: flag('allowReadAccess'),
    allowWriteAccess: flag('allowWriteAccess'),
    allowDeleteAccess: flag('allowDeleteAccess'),
    allowConfigurationAccess: flag('allowConfigurationAccess'),
  };
}

/** Stored settings merged over today's defaults, so settings added later get their default. */
export function securityHubSettings(stored: Record<string, unknown>): SecurityHubSettings {
  const merged = { ...SECURITY_HUB_DEFAULTS, ...stored } as SecurityHubSettings;
  merged.autoClose = { ...SECURITY_HUB_DEFAULTS.autoClose, ...(stored.autoClose as object | undefined) };
  return merged;
}

/** The EventBridge detail-type of each kind of Security Hub event Vigil takes. */
export const SECURITY_HUB_DETAIL_TYPES: Readonly<Record<(typeof SECURITY_HUB_EVENT_TYPES)[number], string>> =
  {
    imported: 'Security Hub Findings - Imported',
    'custom-action': 'Security Hub Findings - Custom Action',
    'insight-results': 'Security Hub Insight Results',
    'imported-v2': 'Findings Imported V2',
  };

/**
 * The EventBridge rule pattern for a Security Hub integration: the one the integration's page shows to
 * paste into AWS, and (for the finding events) the one `vigil aws setup` and the CloudFormation templates
 * make. It filters on nothing in the findings: updates (RESOLVED, SUPPRESSED, ARCHIVED, a new severity)
 * are what close or change an alert, and the intake itself applies the minimum severity to new findings
 * and ignores the echoes of Vigil's write-back.
 */
export function securityHubEventPattern(settings: Pick<SecurityHubSettings, 'eventTypes'>) {
  return {
    source: ['aws.securityhub'],
    'detail-type': settings.eventTypes.map((t) => SECURITY_HUB_DETAIL_TYPES[t]),
  };
}
