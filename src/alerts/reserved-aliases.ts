import { invalid } from '../errors.js';

/**
 * The aliases Vigil gives its own alerts: a heartbeat's expiry alert, an incident's alert, and the Amazon
 * Security Hub integration's (a finding's, an insight's, its SNS subscription notices and its write-back
 * warning). Callers are refused them (`refuseReservedAlias`). An open alias is one alert per organization:
 * whoever opened an alert with one of these first would have Vigil's alert counted into theirs (their
 * message, priority and responders), its team never paged, and a Security Hub finding bound to their
 * alert (closing it would resolve the finding in Security Hub).
 */

export const heartbeatAliasOf = (heartbeatId: string): string => `heartbeat:${heartbeatId}`;

export const incidentAliasOf = (incidentId: string): string => `incident-${incidentId}`;

// Only the exact forms with a UUID (or a finding's digest): Opsgenie senders' own "incident-4711",
// "heartbeat:db" or "securityhub-ec2-ebs-check" stay theirs. The UUID in any case (a sender may spell it
// upper-case); the prefixes exactly as Vigil writes them.
const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const RESERVED: readonly { form: RegExp; of: string }[] = [
  { form: new RegExp(`^(?:heartbeat:|incident-)${UUID}$`), of: 'heartbeat and incident alerts' },
  {
    // A finding's (findingAlias: 40 lower-case hex digits of a digest; an open alias is one alert per
    // exact spelling, so an upper-case one never meets it), an insight's (insightAlias: the integration's
    // id, then its EventBridge event id; before, the event id alone), the write-back warning (the
    // integration's id), the SNS notices (the integration's id, then the topic).
    // Not "securityhub-" and 40 hex digits, the finding alias Vigil gave before: that is a SHA-1 after a
    // prefix, what Opsgenie-era forwarders of findings send, and their pages must go through.
    form: new RegExp(
      `^securityhub(?::finding:[0-9a-f]{40}|-insight-${UUID}(?:-[\\s\\S]*)?|-writeback-failing-${UUID}|-(?:subscription|unsubscribed)-${UUID}-[\\s\\S]*)$`,
    ),
    of: 'Amazon Security Hub alerts',
  },
];

/** Which of Vigil's alerts `alias` (as stored: without the spaces around it) is kept for, or undefined. */
export function reservedFor(alias: string | undefined): string | undefined {
  if (alias === undefined) return undefined;
  const trimmed = alias.trim();
  return RESERVED.find((r) => r.form.test(trimmed))?.of;
}

/** Whether `alias` (as stored: without the spaces around it) is one of the forms Vigil keeps for itself. */
export function isReservedAlias(alias: string | undefined): boolean {
  return reservedFor(alias) !== undefined;
}

/** A 422 on `alias` when a caller gives one of the forms Vigil keeps for its own alerts. */
export function refuseReservedAlias(alias: string | undefined): void {
  const of = reservedFor(alias);
  if (of === undefined) return;
  const why = `Alias ${JSON.stringify(alias?.trim())} is reserved for Vigil's ${of}: choose another alias.`;
  // Said in the message too, not only on the field: an email integration's log shows the message alone.
  throw invalid(why, { alias: why });
}
