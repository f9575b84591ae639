import { systemClock, type Clock } from '../work/clock.js';
import { randomBytes } from 'node:crypto';
import { apiKeyMatches, generateApiKey, hashApiKey } from '../accounts/apikeys.js';
import { accountsRepository } from '../accounts/repository.js';
import {
  requireOrgAdmin,
  resolveTeamRef,
  type IntegrationPrincipal,
  type Principal,
  type TeamRef,
} from '../accounts/service.js';
import {
  isOrgAdmin,
  requireHoldsRights,
  requireTeamRight,
  TEAM_RIGHTS,
  type TeamRight,
} from '../accounts/team-rights.js';
import { alertScopeOf } from '../alerts/visibility.js';
import { type Db, type Tx, isUniqueViolation } from '../db/database.js';
import { conflict, forbidden, invalidField, notFound } from '../errors.js';
import { teamDestinationsRepository as teamDestinations } from '../notify/team-destinations/repository.js';
import { MASKED_HEADER_VALUE } from '../notify/team-destinations/webhook.js';
import { integrationsRepository as repo, type IntegrationWithTeams } from './repository.js';
import { reachesTeamConfiguration, requireReachesTeamConfiguration } from './principal.js';
import { writebacksRepository } from './securityhub/writeback/repository.js';
import {
  lockOwnWebhookDestination,
  saveWebhookDestination,
  setWebhookDestinationEnabled,
  webhookDestinationConfig,
  withOwnWebhookSettings,
} from './webhook/destination.js';
import {
  API_ACCESS_FLAGS,
  apiSettings,
  defaultSettings,
  emailUsernameOf,
  SecurityHubSettingsSchema,
  securityHubSettings,
  suppressesNotifications,
  type EmailSettings,
  webhookSettings,
  type WebhookSettings,
  type ApiAccessFlag,
  type ApiSettings,
  type IntegrationType,
  kindOfType,
  vigilTypeOf,
  type SecurityHubSettings,
  webhookAllowWriteAccess,
} from './types.js';

/** Integrations of every type: teams, keys, on/off, settings. What a type does with them lives in its folder. */

export type { TeamRef };

/** The settings a request gives, of whichever type; each type takes only its own, and every type the first. */
export type SettingsInput = { suppressNotifications?: boolean } & Partial<SecurityHubSettings> &
  Partial<ApiSettings> &
  Partial<EmailSettings> &
  Partial<WebhookSettings>;

/**
 * The settings as a request gives them (settingsOf makes them a SettingsInput): Opsgenie's Go SDK names a
 * Webhook's URL `url`, and sends the Webhook's payload flags and headers as null when it has none.
 */
export type SettingsGiven = Omit<SettingsInput, 'addAlertDescription' | 'addAlertDetails' | 'headers'> & {
  url?: string;
  addAlertDescription?: boolean | null;
  addAlertDetails?: boolean | null;
  headers?: Record<string, string> | null;
};

export interface IntegrationInput {
  /** One of Vigil's types, or any other of Opsgenie's type names: an API integration that keeps it. */
  type: string;
  name: string;
  /** Left out: the one team `responders` names (ownerOf). */
  ownerTeam?: TeamRef;
  /** Opsgenie's responders of the integration, as its Go SDK sends them: only for the owner team. */
  responders?: { type: string; id?: string; name?: string; username?: string }[];
  assigneeTeam?: TeamRef | null;
  enabled?: boolean;
  settings: SettingsGiven;
  /**
   * A key the integration had elsewhere (an Opsgenie integration moved here), so its senders keep working:
   * org admins only, and refused when any key of any organization already is it.
   */
  apiKey?: string;
}

const KEY_IN_USE =
  'That API key is already in use in Vigil: leave apiKey out to have a new key made, or delete what uses it first.';
/** The unique index on integrations' key hashes (migration 0022): the last word when two creates race. */
const KEY_INDEX = 'integrations_key_hash_unique';

const ACCESS_FLAG_NAMES = Object.keys(API_ACCESS_FLAGS) as ApiAccessFlag[];

/**
 * The access flags given, refused (422 on the first) for a type other than API; but a Webhook integration
 * takes allowWriteAccess, which Terraform sends and reads back (webhookAllowWriteAccess).
 */
function accessFlagsGiven(type: IntegrationType, settings: SettingsInput): Partial<ApiSettings> {
  const given: Partial<ApiSettings> = {};
  for (const name of ACCESS_FLAG_NAMES) {
    const value = settings[name];
    if (value === undefined) continue;
    if (type !== 'API' && !(type === 'Webhook' && name === 'allowWriteAccess')) {
      throw invalidField(
        name,
        `applies only to integrations of type API: an integration of type ${type} has no API key for the Alert API.`,
      );
    }
    given[name] = value;
  }
  return given;
}

/** The unique index on Email integrations' addresses (migration 0024). */
const EMAIL_USERNAME_INDEX = 'integrations_email_username_unique';

const emailUsernameInUse = (name: string | undefined) =>
  conflict(
    `emailUsername [${name ?? ''}] is already the address of another Email integration in Vigil: choose another.`,
  );

/** How a Webhook integration's header values are shown: as a team webhook's are. */
export const MASKED_HEADER = MASKED_HEADER_VALUE;

/**
 * Whether `p` is shown a Webhook integration's header values on a read of that one integration: only an
 * org admin's own API key. Terraform's `opsgenie_api_integration` reads `headers` back into its state (as
 * Opsgenie shows them), so masked values would show as a change on every plan; Terraform runs with such a
 * key. Org admins manage every integration and every key already. A console session, an integration's key
 * and a team's admins see `****`: someone who may edit the integration but never saw its credentials cannot
 * learn them, nor have them sent elsewhere (kept only while the URL stays as it is).
 */
export function seesHeaderValues(p: Principal): boolean {
  return p.apiKeyId !== '' && p.integration === undefined && isOrgAdmin(p);
}

/** The settings only one of the newer types takes: any other type refuses them with a 422. */
const FIELDS_OF_TYPE: Partial<Record<IntegrationType, readonly string[]>> = {
  Email: ['emailUsername'],
  Webhook: ['webhookUrl', 'url', 'addAlertDescription', 'addAlertDetails', 'headers'],
};

/** The type whose own field `name` is, if it is one of FIELDS_OF_TYPE's. */
function ownerOfField(name: string): string | undefined {
  return Object.entries(FIELDS_OF_TYPE).find(([, fields]) => fields.includes(name))?.[0];
}

/** An empty value: "", null, or an object with no keys. */
function isEmptyValue(value: unknown): boolean {
  if (value === null || value === '') return true;
  return typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0;
}

/**
 * The settings a request gives, as the type takes them. Opsgenie's Go SDK updates every integration with
 * one map (ForceUpdateAllFields) that holds every type's fields, empty when not the integration's own:
 * `emailUsername: ""`, `url: ""`, `addAlertDescription: null`, `addAlertDetails: null`, `headers` {} or
 * null. Such an empty field of another type counts as not given; any other value of it is still refused
 * (requireOwnFields). A null of the type's own (the SDK's unset *bool, or no headers) is not given either:
 * the default on create, the stored value on update. `url` is the SDK's name for webhookUrl; as the
 * provider sends back what it read (webhookUrl) with the URL it wants (url), where the two differ the one
 * equal to `storedUrl` (the URL now) is that echo and the other the change; neither is a 422.
 */
function settingsOf(type: IntegrationType, given: SettingsGiven, storedUrl?: string): SettingsInput {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(given)) {
    if (value === undefined) continue;
    const owner = ownerOfField(name);
    if (owner !== undefined && owner !== type && isEmptyValue(value)) continue;
    if (value === null || (name === 'url' && value === '')) continue;
    out[name] = value;
  }
  if (type === 'Email' && out.emailUsername === '')
    throw invalidField(
      'emailUsername',
      'cannot be empty: it names the address the integration receives mail at (emailUsername@the inbound email domain).',
    );
  if (type === 'Webhook' && typeof out.url === 'string') {
    const url = out.url;
    delete out.url;
    if (out.webhookUrl === undefined || out.webhookUrl === storedUrl) out.webhookUrl = url;
    else if (out.webhookUrl !== url && url !== storedUrl)
      throw invalidField(
        'url',
        'is another name for webhookUrl, which this request gives as another URL: give one of them, or the same URL in both.',
      );
  }
  return out as SettingsInput;
}

/**
 * That the settings given are the type's own: the Email and Webhook types' fields are refused on other
 * types, and every type but AmazonSecurityHub (API and Opsgenie's other types too) refuses the Security
 * Hub settings, rather than answer 200 and keep none of them. Given is what settingsOf kept: a field left
 * out, or one of the Go SDK's given empty, is not.
 */
function requireOwnFields(type: IntegrationType, settings: SettingsInput): void {
  const given = (name: string) => (settings as Record<string, unknown>)[name] !== undefined;
  for (const [owner, fields] of Object.entries(FIELDS_OF_TYPE)) {
    if (owner === type) continue;
    const name = fields.find(given);
    if (name) throw invalidField(name, `applies only to integrations of type ${owner}.`);
  }
  if (type !== 'AmazonSecurityHub') {
    const name = Object.keys(SecurityHubSettingsSchema.properties).find(given);
    if (name) throw invalidField(name, 'applies only to integrations of type AmazonSecurityHub.');
  }
}

/** The fields of `names` given, for merging over the stored settings. */
function pick<K extends keyof SettingsInput>(
  settings: SettingsInput,
  names: readonly K[],
): Partial<SettingsInput> {
  return Object.fromEntries(names.filter((n) => settings[n] !== undefined).map((n) => [n, settings[n]]));
}

/** The path Opsgenie uses, so a user moving over changes only the host. */
export const SECURITY_HUB_INTAKE_PATH = '/v1/json/integrations/webhooks/amazonsecurityhub';

export function endpointUrl(publicUrl: string, type: string, apiKey: string): string | undefined {
  if (type !== 'AmazonSecurityHub') return undefined;
  return `${publicUrl}${SECURITY_HUB_INTAKE_PATH}?apiKey=${encodeURIComponent(apiKey)}`;
}

/** How long a process trusts what it read about an integration's key without asking again. */
const KEY_CACHE_MS = 5_000;

/**
 * The write-back settings must make sense together: a role ARN of an IAM role whose name starts with
 * the configured prefix, a region, and a plan that allows it.
 */
export function writebackProblem(
  settings: SecurityHubSettings,
  rolePrefix: string,
): { field: string; message: string } | undefined {
  if (settings.roleArn !== undefined && settings.roleArn !== '') {
    const match = /^arn:aws[\w-]*:iam::(\d{12}):role\/(?:[\w+=,.@-]+\/)*([\w+=,.@-]{1,64})$/.exec(
      settings.roleArn,
    );
    if (!match) {
      return {
        field: 'roleArn',
        message: 'must be an IAM role ARN, such as arn:aws:iam::123456789012:role/' + rolePrefix + 'Prod.',
      };
    }
    if (!match[2]?.startsWith(rolePrefix)) {
      return {
        field: 'roleArn',
        message: `the role's name must start with ${rolePrefix} (Vigil may assume only such roles); the CloudFormation template names it so.`,
      };
    }
  }
  if (settings.sendUpdatesBack) {
    const missing = [
      !settings.roleArn ? 'roleArn' : undefined,
      !settings.region ? 'region' : undefined,
    ].filter(Boolean);
    if (missing.length > 0) {
      return {
        field: missing[0] ?? 'sendUpdatesBack',
        message: `sending updates back to Security Hub needs ${missing.join(' and ')}: give the IAM role ARN Vigil assumes and the region where Security Hub runs.`,
      };
    }
  }
  return undefined;
}

/**
 * An integration's own key (with configuration access) reaches the alerts of two teams at most: its own
 * team, and its owner team, whose admin it acts as.
 */
function reaches(integration: IntegrationPrincipal, teamId: string) {
  return teamId === integration.teamId || teamId === integration.ownerTeamId;
}

/**
 * An integration's key reads, acts on and (allowDeleteAccess) deletes its assignee team's alerts, and a
 * Webhook integration sends that team's alert activity out, as does any destination on an integration:
 * so giving an integration to a team other than its owner team, or managing one given to another team (or
 * its destinations), needs on that team the `right` it needs on the owner team. Else an admin of one team
 * could reach another team's alerts through a key or destination they made. An integration's key holds
 * rights on its owner team only; it may also use its own team, whose alerts it reads already.
 */
export async function requireAssigneeRight(
  db: Db,
  p: Principal,
  teams: { owner: string; assignee: string | null | undefined },
  right: TeamRight,
  refusal: { ofKey: (key: IntegrationPrincipal) => string; ofPerson: string },
) {
  if (!teams.assignee || teams.assignee === teams.owner) return;
  if (p.integration) {
    if (reaches(p.integration, teams.assignee)) return;
    throw forbidden(refusal.ofKey(p.integration));
  }
  await requireTeamRight(db, p, teams.assignee, right, refusal.ofPerson);
}

export function createIntegrationsService(
  db: Db,
  options: {
    writebackRolePrefix: string;
    /** Hosts a Webhook integration may reach over plain http (VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS). */
    webhookAllowHttpHosts?: string[];
    /** Times the key cache (a test moves it on rather than waiting KEY_CACHE_MS). */
    clock?: Clock;
  } = { writebackRolePrefix: 'VigilSecurityHubRole' },
) {
  const clock = options.clock ?? systemClock;
  /**
   * A Webhook integration's destination config, checked as a team webhook's; a 422 when refused. The
   * headers given (undefined: none given) keep stored values as the webhook kind allows: a masked value
   * only while the URL stays as it is.
   */
  async function webhookConfig(
    previous: Record<string, unknown> | undefined,
    settings: Record<string, unknown>,
    headers: Record<string, string> | undefined,
    stored?: Record<string, unknown>,
  ) {
    const checked = webhookDestinationConfig(
      previous,
      webhookSettings(settings),
      headers,
      { webhookAllowHttpHosts: options.webhookAllowHttpHosts ?? [] },
      stored ? webhookSettings(stored) : undefined,
    );
    if (!checked.ok) throw invalidField(checked.field, checked.message);
    return checked.config;
  }

  /**
   * A Webhook integration's save, inside its transaction: its row locked first (as a change through
   * /v2/destinations locks it), then its own destination, and the settings and the destination's config
   * made from both as they are now. Read before the transaction, a destination deleted meanwhile would
   * give its URL and secret headers to the next one, and a change made through /v2/destinations would be
   * undone. The settings start from the own destination's (which a change there may have made differ from
   * those stored); a save that gives no URL, header or payload flag leaves its config as it is.
   */
  async function saveWebhook(
    tx: Tx,
    p: Principal,
    read: IntegrationWithTeams,
    changes: { enabled?: boolean; settings: SettingsGiven },
  ): Promise<Record<string, unknown>> {
    await teamDestinations.lockIntegrations(tx, [read.id]);
    const row = await repo.get(tx, p.orgId, read.id);
    if (!row) throw notFound(`Integration [${read.id}] does not exist.`);
    // The rights were checked on the teams as read.
    if (row.owner_team_id !== read.owner_team_id || row.assignee_team_id !== read.assignee_team_id)
      throw conflict(
        `Integration [${read.name}] was given to another team meanwhile: read it again, then make the change.`,
      );
    const own = await lockOwnWebhookDestination(tx, row.id);
    const base = withOwnWebhookSettings(row.settings, own);
    const given = settingsOf('Webhook', changes.settings, webhookSettings(base).webhookUrl);
    let settings: Record<string, unknown> = mergedSettings('Webhook', base, given);
    const changesDestination =
      given.webhookUrl !== undefined ||
      given.addAlertDescription !== undefined ||
      given.addAlertDetails !== undefined ||
      given.headers !== undefined;
    // One missing is made again from the settings: without it the integration sends nothing.
    const config =
      changesDestination || !own
        ? await webhookConfig(own?.config, settings, given.headers, row.settings)
        : undefined;
    if (config) settings = withStoredHeaders(settings, config);
    await saveWebhookDestination(
      tx,
      { id: row.id, org_id: row.org_id, enabled: changes.enabled ?? row.enabled },
      own,
      config,
    );
    return settings;
  }

  /** The integration's settings with the headers its destination stores (masked ones resolved). */
  const withStoredHeaders = (settings: Record<string, unknown>, config: Record<string, unknown>) => ({
    ...settings,
    headers: webhookSettings(config).headers,
  });

  async function checkWriteback(orgId: string, type: IntegrationType, settings: Record<string, unknown>) {
    if (type !== 'AmazonSecurityHub') return;
    const merged = securityHubSettings(settings);
    const problem = writebackProblem(merged, options.writebackRolePrefix);
    if (problem) throw invalidField(problem.field, problem.message);
    if (merged.sendUpdatesBack) {
      const org = await accountsRepository.getOrganization(db, orgId);
      if (org?.plan === 'standard') {
        throw forbidden(
          'Sending alert updates back to Amazon Security Hub is not available on the standard plan: an admin can change the plan with PATCH /v2/organization.',
        );
      }
    }
  }

  // Intake authenticates every delivery; a short cache keeps that off the database. Changes made
  // through this process empty it at once; other processes see them within KEY_CACHE_MS.
  // A key may be given (one carried over from Opsgenie), so a miss kept before its integration was made
  // is forgotten too; and a lookup that was in flight across a change must not keep what it read before.
  const byKeyCache = new Map<string, { row: IntegrationWithTeams; until: number }>();
  // Keys that match no integration, until when: kept apart, so that a flood of made-up keys empties only
  // these and never the cache of the keys in use.
  const missedKeys = new Map<string, number>();
  let generation = 0;
  /** After a change has been written (not before: a lookup meanwhile would keep the old). */
  const forget = () => {
    byKeyCache.clear();
    missedKeys.clear();
    generation++;
  };

  const resolveTeam = (orgId: string, ref: TeamRef, field: string) => resolveTeamRef(db, orgId, ref, field);

  /**
   * The owner team of an integration being made: ownerTeam, else the one team its responders name (what
   * Opsgenie's Terraform provider and Go SDK send for an integration given no owner team). The column is
   * required: Vigil has no global integrations.
   */
  async function ownerOf(orgId: string, input: IntegrationInput) {
    if (input.ownerTeam) return resolveTeam(orgId, input.ownerTeam, 'ownerTeam');
    const teams = new Map<string, Awaited<ReturnType<typeof resolveTeam>>>();
    for (const [i, r] of (input.responders ?? []).entries()) {
      if (r.type !== 'team') continue;
      const team = await resolveTeam(
        orgId,
        { id: r.id || undefined, name: r.name || undefined },
        `responders[${i}]`,
      );
      teams.set(team.id, team);
    }
    const [only, ...more] = teams.values();
    if (only && more.length === 0) return only;
    const named =
      teams.size > 1
        ? // Counted, not named: a team-scoped key may not learn other teams' names from this answer.
          ` The responders name ${teams.size} teams: give the one that owns it.`
        : '';
    throw invalidField(
      'ownerTeam',
      `is required: give ownerTeam (Terraform: owner_team_id), the team that owns the integration, or responders that name exactly one team, which then owns it; Vigil has no global integrations.${named}`,
    );
  }

  /**
   * Org admins manage every integration; those with `right` (edit-integrations, or edit-maintenance to put
   * one in maintenance) on its owner team, such as the team's admins, those it owns.
   */
  const requireManager = (p: Principal, ownerTeamId: string, right: TeamRight = 'edit-integrations') =>
    requireTeamRight(
      db,
      p,
      ownerTeamId,
      right,
      `Only organization admins and those of the owner team with the ${right} right (its admins) can manage this integration.`,
    );

  async function load(p: Principal, id: string): Promise<IntegrationWithTeams> {
    const row = await repo.get(db, p.orgId, id);
    if (!row) throw notFound(`Integration [${id}] does not exist.`);
    requireReachesTeamConfiguration(p, row.owner_team_id, `integration [${id}]`);
    return row;
  }

  /** The settings every type takes over its own. */
  function mergedSettings(type: IntegrationType, stored: Record<string, unknown>, changes: SettingsInput) {
    return {
      ...mergedTypeSettings(type, stored, changes),
      suppressNotifications: changes.suppressNotifications ?? suppressesNotifications(stored),
    };
  }

  function mergedTypeSettings(
    type: IntegrationType,
    stored: Record<string, unknown>,
    changes: SettingsInput,
  ) {
    const flags = accessFlagsGiven(type, changes);
    requireOwnFields(type, changes);
    if (type === 'API') return { ...apiSettings(stored), ...flags };
    if (type === 'Email')
      return { emailUsername: emailUsernameOf(stored), ...pick(changes, ['emailUsername']) };
    // Its headers are the destination's to resolve (webhookConfig): masked values, a URL that moves.
    if (type === 'Webhook')
      return {
        ...webhookSettings(stored),
        allowWriteAccess: webhookAllowWriteAccess(stored),
        ...pick(changes, ['webhookUrl', 'addAlertDescription', 'addAlertDetails']),
        ...flags,
      };
    const merged = { ...securityHubSettings(stored), ...changes };
    if (changes.autoClose)
      merged.autoClose = { ...securityHubSettings(stored).autoClose, ...changes.autoClose };
    return merged;
  }

  /** That `p` may give an integration owned by `ownerTeamId` to `assigneeTeamId` (see requireAssigneeRight). */
  const requireAssignable = (p: Principal, ownerTeamId: string, assigneeTeamId: string | null | undefined) =>
    requireAssigneeRight(db, p, { owner: ownerTeamId, assignee: assigneeTeamId }, 'edit-integrations', {
      ofKey: (key) =>
        `The key of integration [${key.name}] can assign integrations only to its own team or its owner team: use the API key of an admin of the other team.`,
      ofPerson:
        "Only organization admins and those of the assignee team with the edit-integrations right (its admins) can give an integration to that team: its key reads the team's alerts.",
    });

  /**
   * That `p` may manage an existing integration: org admins and those with `right` on its owner team, and
   * on its assignee team too when that is another (see requireAssigneeRight): else they could regenerate
   * its key, or widen its access flags, and so reach that team's alerts.
   */
  async function requireManages(
    p: Principal,
    row: IntegrationWithTeams,
    right: TeamRight = 'edit-integrations',
  ) {
    await requireManager(p, row.owner_team_id, right);
    await requireAssigneeRight(db, p, { owner: row.owner_team_id, assignee: row.assignee_team_id }, right, {
      ofKey: (key) =>
        `The key of integration [${key.name}] can manage only integrations assigned to its own team or its owner team: integration [${row.name}] is assigned to another team; use the API key of an admin of that team.`,
      ofPerson: `Integration [${row.name}] is assigned to another team, whose alerts its key reads: only organization admins and those of that team with the ${right} right (its admins) can manage it.`,
    });
  }

  /**
   * An integration whose deliveries `p` may read. Deliveries hold what became alerts (their whole bodies,
   * and the alerts made), so whoever sees only some alerts (an integration's key, a user without
   * alerts-access-all) reads only those of the integrations they manage.
   */
  async function loadPayloadsOf(p: Principal, id: string): Promise<IntegrationWithTeams> {
    const row = await load(p, id);
    const scope = await alertScopeOf(db, p);
    if (scope.integration || scope.viewer) await requireManages(p, row);
    return row;
  }

  /** A key given on create must be no other integration's nor any user's: it would authenticate as either. */
  async function requireUnusedKey(key: string) {
    const { lookup } = hashApiKey(key);
    const integrations = await repo.byKeyLookup(db, lookup);
    const userKeys = await accountsRepository.keysByLookup(db, lookup);
    const taken =
      integrations.some((r) => apiKeyMatches(key, r.api_key_hash)) ||
      userKeys.some((r) => apiKeyMatches(key, r.key_hash));
    if (taken) throw conflict(KEY_IN_USE);
  }

  /**
   * An API integration's key with allowConfigurationAccess acts as an admin of its owner team and may give
   * the admin role (team-rights.ts): so making such a key on `teamId` (creating the integration, switching
   * the flag on, moving it to a team, regenerating its key) needs every right a team admin holds there,
   * else edit-integrations alone would make its holder a team admin. Org admins, the team's admins and a
   * key of that team with configuration access hold them.
   */
  const requireMayConfigure = (p: Principal, teamId: string, name: string) =>
    requireHoldsRights(
      db,
      p,
      teamId,
      TEAM_RIGHTS,
      `API integration [${name}] has allowConfigurationAccess, whose key acts as an admin of its owner team: creating it, turning the flag on, moving it to another team or regenerating its key needs every right of a team admin on that team`,
    );

  return {
    /** Empties the key cache: another process changed an integration (alerts/live.ts hears it). */
    forgetCachedKeys: forget,

    async create(p: Principal, input: IntegrationInput) {
      const type = kindOfType(input.type);
      if (!type)
        throw invalidField(
          'type',
          `is one of Vigil's types written otherwise: write it ${vigilTypeOf(input.type)}.`,
        );
      // Any other Opsgenie type is an API integration that keeps its name (shown as its type).
      const opsgenieType = type === 'API' && input.type !== 'API' ? input.type : null;
      const owner = await ownerOf(p.orgId, input);
      const assignee = input.assigneeTeam
        ? await resolveTeam(p.orgId, input.assigneeTeam, 'assigneeTeam')
        : undefined;
      await requireManager(p, owner.id);
      await requireAssignable(p, owner.id, assignee?.id);
      if (input.apiKey !== undefined) {
        requireOrgAdmin(p, 'give an integration an API key of their choosing');
        await requireUnusedKey(input.apiKey);
      }
      const apiKey = input.apiKey ?? generateApiKey();
      const { lookup, hash } = hashApiKey(apiKey);
      const given = settingsOf(type, input.settings);
      let settings: Record<string, unknown> = {
        ...defaultSettings(type),
        ...mergedSettings(type, {}, given),
      };
      if (type === 'API' && apiSettings(settings).allowConfigurationAccess)
        await requireMayConfigure(p, owner.id, input.name);
      if (type === 'Email' && given.emailUsername === undefined)
        throw invalidField(
          'emailUsername',
          'is required for an integration of type Email: it names the address the integration receives mail at (emailUsername@the inbound email domain).',
        );
      if (type === 'Webhook' && given.webhookUrl === undefined)
        throw invalidField(
          'webhookUrl',
          'is required for an integration of type Webhook: the URL alert activity is sent to.',
        );
      const destination =
        type === 'Webhook' ? await webhookConfig(undefined, settings, given.headers) : undefined;
      if (destination) settings = withStoredHeaders(settings, destination);
      await checkWriteback(p.orgId, type, settings);
      try {
        const id = await db.transaction().execute(async (tx) => {
          const made = await repo.insert(tx, {
            org_id: p.orgId,
            type,
            opsgenie_type: opsgenieType,
            name: input.name,
            owner_team_id: owner.id,
            assignee_team_id: assignee?.id ?? null,
            enabled: input.enabled ?? true,
            api_key_lookup: lookup,
            api_key_hash: hash,
            // For the IAM role's trust policy (confused-deputy protection): random, and not the API key.
            external_id: randomBytes(16).toString('hex'),
            settings: JSON.stringify(settings),
          });
          if (destination)
            await saveWebhookDestination(
              tx,
              { id: made, org_id: p.orgId, enabled: input.enabled ?? true },
              undefined,
              destination,
            );
          return made;
        });
        forget();
        return { integration: await load(p, id), apiKey };
      } catch (error) {
        if (isUniqueViolation(error) && (error as { constraint?: string }).constraint === KEY_INDEX)
          throw conflict(KEY_IN_USE);
        if (
          isUniqueViolation(error) &&
          (error as { constraint?: string }).constraint === EMAIL_USERNAME_INDEX
        )
          throw emailUsernameInUse(given.emailUsername);
        if (isUniqueViolation(error)) throw conflict(`Integration with name [${input.name}] already exists.`);
        throw error;
      }
    },

    get: load,

    /** The organization's integrations `p` reaches: an integration's key only its owner team's. */
    async list(p: Principal, filter: { type?: string; teamId?: string }) {
      const rows = await repo.list(db, p.orgId, filter);
      return rows.filter((row) => reachesTeamConfiguration(p, row.owner_team_id));
    },

    async update(
      p: Principal,
      id: string,
      changes: {
        name?: string;
        ownerTeam?: TeamRef;
        assigneeTeam?: TeamRef | null;
        enabled?: boolean;
        settings: SettingsGiven;
      },
    ) {
      const row = await load(p, id);
      await requireManages(p, row);
      const owner = changes.ownerTeam
        ? await resolveTeam(p.orgId, changes.ownerTeam, 'ownerTeam')
        : undefined;
      if (owner) await requireManager(p, owner.id);
      // A Webhook integration's settings are made in the transaction, from its row and its own
      // destination as locked there (saveWebhook).
      const given =
        row.type === 'Webhook' ? undefined : settingsOf(row.type as IntegrationType, changes.settings);
      const nextSettings = given && mergedSettings(row.type as IntegrationType, row.settings, given);
      if (nextSettings) await checkWriteback(p.orgId, row.type as IntegrationType, nextSettings);
      const assignee =
        changes.assigneeTeam === null
          ? null
          : changes.assigneeTeam
            ? (await resolveTeam(p.orgId, changes.assigneeTeam, 'assigneeTeam')).id
            : undefined;
      // The assignee kept (or none) is checked already: requireManages took the right on it.
      await requireAssignable(p, owner?.id ?? row.owner_team_id, assignee);
      if (row.type === 'API' && nextSettings && apiSettings(nextSettings).allowConfigurationAccess) {
        // No key is handed out here: only a key that becomes an admin of a team it was not one of needs
        // the rights, and a move takes that admin away from the team left too (as removing an admin does).
        const moves = owner !== undefined && owner.id !== row.owner_team_id;
        if (moves) await requireMayConfigure(p, row.owner_team_id, row.name);
        if (moves || !apiSettings(row.settings).allowConfigurationAccess)
          await requireMayConfigure(p, owner?.id ?? row.owner_team_id, row.name);
      }
      try {
        await db.transaction().execute(async (tx) => {
          const settings = nextSettings ?? (await saveWebhook(tx, p, row, changes));
          await repo.update(tx, row.id, {
            name: changes.name,
            owner_team_id: owner?.id,
            assignee_team_id: assignee,
            enabled: changes.enabled,
            settings: JSON.stringify(settings),
          });
          // Turned off, or its write-back: what waits to be written back is dropped, not sent once on again.
          if (row.type === 'AmazonSecurityHub')
            await writebacksRepository.endUnsentOf(tx, row.id, clock.now());
        });
      } catch (error) {
        if (
          isUniqueViolation(error) &&
          (error as { constraint?: string }).constraint === EMAIL_USERNAME_INDEX
        )
          throw emailUsernameInUse(given?.emailUsername);
        if (isUniqueViolation(error))
          throw conflict(`Integration with name [${changes.name}] already exists.`);
        throw error;
      }
      forget();
      return load(p, id);
    },

    async setEnabled(p: Principal, id: string, enabled: boolean) {
      const row = await load(p, id);
      await requireManages(p, row);
      await db.transaction().execute(async (tx) => {
        await repo.update(tx, row.id, { enabled });
        // Its URL is not checked again: turning an integration off must always work.
        if (row.type === 'Webhook') await setWebhookDestinationEnabled(tx, row.id, enabled);
        // What waits to be written back to Security Hub is dropped, not sent once it is on again.
        if (!enabled && row.type === 'AmazonSecurityHub')
          await writebacksRepository.endUnsentOf(tx, row.id, clock.now());
      });
      forget();
      return load(p, id);
    },

    /**
     * Stores an API integration's actions (actions/), checked by the caller; the key's next request uses
     * them (in other processes, within KEY_CACHE_MS).
     */
    async setActions(p: Principal, id: string, actions: object) {
      const row = await load(p, id);
      await requireManages(p, row);
      await repo.update(db, row.id, { actions: JSON.stringify(actions) });
      forget();
      return load(p, id);
    },

    /**
     * As setActions, for a change made to the actions `basedOn` (as read): undefined, storing nothing,
     * when they have changed since, so that the caller reads them again rather than overwrite that change.
     */
    async changeActions(p: Principal, id: string, actions: object, basedOn: Record<string, unknown> | null) {
      const row = await load(p, id);
      await requireManages(p, row);
      if (!(await repo.replaceActionsIf(db, row.id, JSON.stringify(actions), basedOn))) return undefined;
      forget();
      return load(p, id);
    },

    /** A new key; the old one stops working at once. */
    async regenerateKey(p: Principal, id: string) {
      const row = await load(p, id);
      await requireManages(p, row);
      // The new key is handed to the caller: one with configuration access is a team admin's key.
      if (row.type === 'API' && apiSettings(row.settings).allowConfigurationAccess)
        await requireMayConfigure(p, row.owner_team_id, row.name);
      const apiKey = generateApiKey();
      const { lookup, hash } = hashApiKey(apiKey);
      await db.transaction().execute(async (tx) => {
        await repo.update(tx, row.id, { api_key_lookup: lookup, api_key_hash: hash });
        await repo.forgetConfirmedSubscriptions(tx, row.id, clock.now());
      });
      forget();
      return { integration: await load(p, id), apiKey };
    },

    async delete(p: Principal, id: string): Promise<void> {
      const row = await load(p, id);
      await requireManages(p, row);
      await repo.delete(db, row.id);
      forget();
    },

    /** The integration an API key belongs to, compared in constant time. */
    async byApiKey(key: string): Promise<IntegrationWithTeams | undefined> {
      const { lookup, hash } = hashApiKey(key);
      const cacheKey = hash.toString('base64');
      const now = clock.now().getTime();
      const cached = byKeyCache.get(cacheKey);
      if (cached && cached.until > now) return cached.row;
      if ((missedKeys.get(cacheKey) ?? 0) > now) return undefined;
      const readIn = generation;
      const rows = await repo.byKeyLookup(db, lookup);
      const row = rows.find((r) => apiKeyMatches(key, r.api_key_hash));
      if (readIn === generation) {
        const kept = row ? byKeyCache : missedKeys;
        if (kept.size > 10_000) kept.clear();
        if (row) byKeyCache.set(cacheKey, { row, until: now + KEY_CACHE_MS });
        else missedKeys.set(cacheKey, now + KEY_CACHE_MS);
      }
      return row;
    },

    subscriptions: (integrationId: string) => repo.subscriptions(db, integrationId),

    /**
     * The Email integration whose address has this local part (lower case), whichever its organization:
     * asked on every RCPT TO, so an enabled one is cached as keys are, and forgotten with them on every
     * change. Anything else (no such address, a disabled one) is read from the database each time: the
     * intake must not refuse an address on a stale answer (a refusal bounces the mail for good), and
     * kept misses would let anyone sending to many made-up addresses fill the cache and so empty it of
     * the API keys.
     */
    async byEmailUsername(emailUsername: string): Promise<IntegrationWithTeams | undefined> {
      // Keys are cached by a base64 hash, which has no ':'.
      const cacheKey = `email:${emailUsername}`;
      const now = clock.now().getTime();
      const cached = byKeyCache.get(cacheKey);
      if (cached && cached.until > now) return cached.row;
      const readIn = generation;
      const row = await repo.byEmailUsername(db, emailUsername);
      if (row?.enabled && readIn === generation) {
        if (byKeyCache.size > 10_000) byKeyCache.clear();
        byKeyCache.set(cacheKey, { row, until: now + KEY_CACHE_MS });
      }
      return row;
    },

    async payloads(
      p: Principal,
      id: string,
      page: { before?: string; limit: number; verdict?: string; includeBody: boolean },
    ) {
      const row = await loadPayloadsOf(p, id);
      return repo.payloads(db, row.id, page);
    },

    async payload(p: Principal, id: string, payloadId: string) {
      const row = await loadPayloadsOf(p, id);
      const payload = await repo.payload(db, row.id, payloadId);
      if (!payload)
        throw notFound(
          `Payload [${payloadId}] of integration [${id}] does not exist (or is past retention).`,
        );
      return { integration: row, payload };
    },

    requireManager,
    /** That `p` may manage an existing integration (turn it off, or have a maintenance disable it). */
    requireManages,
    /** `snsMaxMessageAgeSeconds`: SNS message ids stay while a replay of theirs would pass the age check. */
    purge: (before: Date, now: Date, snsMaxMessageAgeSeconds?: number) =>
      repo.purge(db, before, now, snsMaxMessageAgeSeconds),
  };
}

export type IntegrationsService = ReturnType<typeof createIntegrationsService>;
