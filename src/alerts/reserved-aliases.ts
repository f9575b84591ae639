import { invalid } from '../errors.js';

/**
 * The aliases Vigil gives its own alerts: a heartbeat's expiry alert and an incident's alert. They are
 * built here and nowhere else, so that what callers are refused (`refuseReservedAlias`) cannot drift from
 * what heartbeats and incidents raise. An open alias is one alert per organization: whoever opened an alert
 * with one of these first would have the heartbeat's or incident's alert counted into theirs (their
 * message, priority and responders), and its team never paged.
 */

export const heartbeatAliasOf = (heartbeatId: string): string => `heartbeat:${heartbeatId}`;

export const incidentAliasOf = (incidentId: string): string => `incident-${incidentId}`;

// Only the exact forms with a UUID: Opsgenie senders' own "incident-4711" or "heartbeat:db" stay theirs.
// The UUID in any case (a sender may spell it upper-case); the prefixes exactly as Vigil writes them.
const UUID = '[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}';
const RESERVED = new RegExp(`^(?:heartbeat:|incident-)${UUID}$`);

/** Whether `alias` (as stored: without the spaces around it) is one of the forms Vigil keeps for itself. */
export function isReservedAlias(alias: string | undefined): boolean {
  return alias !== undefined && RESERVED.test(alias.trim());
}

/** A 422 on `alias` when a caller gives one of the forms Vigil keeps for its heartbeat and incident alerts. */
export function refuseReservedAlias(alias: string | undefined): void {
  if (!isReservedAlias(alias)) return;
  const why = `Alias ${JSON.stringify(alias?.trim())} is reserved for Vigil's heartbeat and incident alerts: choose another alias.`;
  // Said in the message too, not only on the field: an email integration's log shows the message alone.
  throw invalid(why, { alias: why });
}
