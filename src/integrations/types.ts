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

export const INTEGRATION_TYPES = ['AmazonSecurityHub', 'API'] as const;
export type IntegrationType = (typeof INTEGRATION_TYPES)[number];

/** The settings an integration of each type carries. */
export interface SettingsOf {
  AmazonSecurityHub: SecurityHubSettings;
  API: Record<string, never>;
}

export function defaultSettings(type: IntegrationType): SettingsOf[IntegrationType] {
  return type === 'AmazonSecurityHub' ? structuredClone(SECURITY_HUB_DEFAULTS) : {};
}

/** Stored settings merged over today's defaults, so settings added later get their default. */
export function securityHubSettings(stored: Record<string, unknown>): SecurityHubSettings {
  const merged = { ...SECURITY_HUB_DEFAULTS, ...stored } as SecurityHubSettings;
  merged.autoClose = { ...SECURITY_HUB_DEFAULTS.autoClose, ...(stored.autoClose as object | undefined) };
  return merged;
}

/** The EventBridge rule pattern to paste into AWS for a Security Hub integration. */
export function securityHubEventPattern(settings: SecurityHubSettings) {
  const detailTypes: Record<(typeof SECURITY_HUB_EVENT_TYPES)[number], string> = {
    imported: 'Security Hub Findings - Imported',
    'custom-action': 'Security Hub Findings - Custom Action',
    'insight-results': 'Security Hub Insight Results',
    'imported-v2': 'Findings Imported V2',
  };
  return {
    source: ['aws.securityhub'],
    'detail-type': settings.eventTypes.map((t) => detailTypes[t]),
  };
}
