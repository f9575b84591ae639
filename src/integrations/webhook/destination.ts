import type { Config } from '../../config.js';
import type { Queryable } from '../../db/database.js';
import type { TeamDestinationRow } from '../../db/schema.js';
import { teamDestinationsRepository as destinations } from '../../notify/team-destinations/repository.js';
import { webhookKind } from '../../notify/team-destinations/webhook.js';
import { integrationsRepository as integrations } from '../repository.js';
import { webhookSettings, type WebhookSettings } from '../types.js';

/**
 * Opsgenie's Webhook integration sends its team's alert activity to a URL. Vigil has that already: a
 * signed webhook destination (notify/team-destinations/webhook.ts), with its checks of the URL, its retries
 * and its delivery log. A Webhook integration is such a destination, owned by the integration (its
 * `integration_id`), which the fan-out gives the alerts of the integration's team; the integration's
 * settings are its config, written here whenever they change.
 */

export type WebhookDestinationConfig =
  { ok: true; config: Record<string, unknown> } | { ok: false; field: string; message: string };

/**
 * The destination's config for these settings, checked as a team webhook's is (private addresses refused).
 * `previous` is the config of the integration's own destination (lockOwnWebhookDestination), which keeps
 * its signing secret; `headers` are those the request gave (undefined when it gave none): the kind decides
 * which stored values they keep (a masked value, for the same URL only). `stored` stands in for a
 * destination gone missing.
 */
export function webhookDestinationConfig(
  previous: Record<string, unknown> | undefined,
  settings: Omit<WebhookSettings, 'headers'>,
  headers: Record<string, string> | undefined,
  config: Pick<Config, 'webhookAllowHttpHosts'>,
  stored?: WebhookSettings,
): WebhookDestinationConfig {
  const parsed = webhookKind.parseConfig(
    {
      url: settings.webhookUrl,
      ...(headers !== undefined ? { headers } : {}),
      addAlertDescription: settings.addAlertDescription,
      addAlertDetails: settings.addAlertDetails,
    },
    previous ?? (stored ? { url: stored.webhookUrl, headers: stored.headers } : undefined),
    // parseConfig reads only the hosts an operator allows over plain http.
    { config: config as Config },
  );
  if (parsed.ok) return parsed;
  // The kind speaks of its config's fields; the integration's have Opsgenie's names.
  const field = parsed.problem.startsWith('config.headers') ? 'headers' : 'webhookUrl';
  return {
    ok: false,
    field,
    message: parsed.problem.replace(/^config\.(url|headers)[:.\s]*/, ''),
  };
}

/**
 * The integration's own destination, locked until commit (`db` is a transaction). One found, then moved off
 * the integration or deleted by a transaction that held it, is no longer its own: written by its id alone,
 * a team's webhook would be pointed at the integration's URL, and the integration left with none. The
 * next is sought then; undefined when it has none. A save locks the integration's row first (as a change
 * through /v2/destinations does) and computes the config it writes from the one found here, not from one
 * read before: else it would write a deleted webhook's URL and secret headers into the next one.
 */
export async function lockOwnWebhookDestination(
  db: Queryable,
  integrationId: string,
): Promise<TeamDestinationRow | undefined> {
  // Each pass but the last follows a change another transaction committed: a few are plenty.
  for (let pass = 0; pass < 5; pass++) {
    const own = await destinations.ofIntegration(db, integrationId, webhookKind.type);
    if (!own || (await destinations.lockOfIntegration(db, own.id, integrationId))) return own;
  }
  return undefined;
}

/**
 * Writes the integration's destination: `own`, as the caller locked it (lockOwnWebhookDestination), made
 * when missing. `config` undefined (a save that gave no URL, header or payload flag) leaves its config as
 * it is, and turns it on or off only to follow the integration; none is made from it (the caller has
 * config for a missing one).
 */
export async function saveWebhookDestination(
  db: Queryable,
  integration: { id: string; org_id: string; enabled: boolean },
  own: TeamDestinationRow | undefined,
  config: Record<string, unknown> | undefined,
): Promise<void> {
  const now = new Date();
  if (own) {
    if (config) await destinations.update(db, own.id, { config, enabled: integration.enabled }, now);
    // Enabling again starts its failures afresh: done only when it is off, not on every save.
    else if (own.enabled !== integration.enabled)
      await destinations.update(db, own.id, { enabled: integration.enabled }, now);
    return;
  }
  if (!config) return;
  await destinations.insert(db, {
    org_id: integration.org_id,
    team_id: null,
    integration_id: integration.id,
    type: webhookKind.type,
    name: await freeName(db, integration),
    config,
    enabled: integration.enabled,
    now,
  });
}

/**
 * The name of a destination made for the integration. Names are unique in an organization; the
 * integration's id keeps this one so, unless its own destination was moved away through /v2/destinations
 * keeping that name: then a number after it, else the integration could not be saved again (a 409).
 */
async function freeName(db: Queryable, integration: { id: string; org_id: string }): Promise<string> {
  const base = `Webhook integration ${integration.id}`;
  const taken = await destinations.namesStartingWith(db, integration.org_id, base);
  let name = base;
  for (let n = 2; taken.has(name.toLowerCase()); n++) name = `${base} (${n})`;
  return name;
}

/** Turns the integration's destination on or off with it. */
export async function setWebhookDestinationEnabled(
  db: Queryable,
  integrationId: string,
  enabled: boolean,
): Promise<void> {
  const existing = await lockOwnWebhookDestination(db, integrationId);
  if (existing) await destinations.update(db, existing.id, { enabled }, new Date());
}

/** A webhook destination's config under the names of a Webhook integration's settings (Opsgenie's). */
function settingsOfConfig(config: Record<string, unknown>): WebhookSettings {
  return webhookSettings({
    webhookUrl: config.url,
    addAlertDescription: config.addAlertDescription,
    addAlertDetails: config.addAlertDetails,
    headers: config.headers,
  });
}

/**
 * The integration's settings with the URL, headers and payload flags of its own destination (the oldest,
 * the lower id of two as old, as lockOwnWebhookDestination finds it), which are what Vigil sends by; as
 * stored when it has none. Settings written before a change there was written back still hold the URL of
 * before: an update starting from them would move the destination back there, or be refused for its
 * stored header values.
 */
export function withOwnWebhookSettings(
  settings: Record<string, unknown>,
  own: { config: Record<string, unknown> } | undefined,
): Record<string, unknown> {
  return own ? { ...settings, ...settingsOfConfig(own.config) } : settings;
}

/**
 * Writes a change made through /v2/destinations to the integration's own destination (its URL, headers and
 * payload flags) back to the integration's settings, which are that config under Opsgenie's names: else
 * the integration shows a URL Vigil no longer sends to, and its next update (even one that only suppresses
 * notifications) checks the stored header values against that old URL, a move, and is refused. A webhook
 * the integration owns besides its own (the first, as lockOwnWebhookDestination finds it) is no setting of it.
 * A webhook made for an integration that has none (its own was deleted) becomes its own, and is written too.
 */
export async function writeBackWebhookSettings(
  db: Queryable,
  destination: { id: string; integrationId: string },
  config: Record<string, unknown>,
): Promise<void> {
  const own = await destinations.ofIntegration(db, destination.integrationId, webhookKind.type);
  if (own?.id === destination.id) await writeSettings(db, destination.integrationId, config);
}

/** A Webhook integration's settings with its own destination's `config` written in. */
async function writeSettings(db: Queryable, integrationId: string, config: Record<string, unknown>) {
  const integration = await integrations.getById(db, integrationId);
  if (integration?.type !== 'Webhook') return;
  await integrations.update(db, integration.id, {
    settings: JSON.stringify({ ...integration.settings, ...settingsOfConfig(config) }),
  });
}

/**
 * After the integration's own destination is deleted, the next webhook it owns (the oldest) is its own:
 * its config is written to the settings. With none left the settings stay as they were, and the
 * integration sends nothing until its next save makes its destination again from them (with a new
 * signing secret), as saveWebhookDestination does for one gone missing.
 */
export async function writeBackWebhookSettingsAfterRemoval(
  db: Queryable,
  integrationId: string,
): Promise<void> {
  const own = await destinations.ofIntegration(db, integrationId, webhookKind.type);
  if (own) await writeSettings(db, integrationId, own.config);
}
