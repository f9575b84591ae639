/**
 * Amazon Security Hub events (as EventBridge delivers them) read into plain findings, and findings turned
 * into the fields of an Opsgenie-shaped alert. Pure: no database, no HTTP, never throws on what it reads.
 *
 * The work is done in findings/ (one module per job: events, the ASFF and OCSF readers, severity, alert
 * fields); this file is the one door the rest of Vigil goes through, so that those modules can be
 * rearranged without touching their importers. It exports only what is used outside findings/.
 */
export { ALERT_LIMITS, alertFieldsForFinding, alertFieldsForInsight, cut } from './findings/alert-fields.js';
export { parseSecurityHubEvent } from './findings/events.js';
export { findingKeyDigest } from './findings/finding-key.js';
export { OCSF_SEVERITY_ID, OCSF_STATUS_ID, severityOfOcsfId, statusOfOcsfId } from './findings/ocsf.js';
export { priorityForSeverity, severityForPriority, severityFromNormalized } from './findings/severity.js';
export type {
  AlertFields,
  NormalizedFinding,
  ParsedEvent,
  Priority,
  SeverityLabel,
} from './findings/types.js';
