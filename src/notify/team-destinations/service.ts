import { randomUUID } from 'node:crypto';
import { resolveTeamRef, type Principal } from '../../accounts/service.js';
import { requireTeamRight } from '../../accounts/team-rights.js';
import { alertScopeOf } from '../../alerts/visibility.js';
import type { Config } from '../../config.js';
import type { OutboundFetch } from '../../http/outbound-fetch.js';
import { isUniqueViolation, type Db, type Tx } from '../../db/database.js';
import type { TeamDestinationDeliveryRow } from '../../db/schema.js';
import { conflict, forbidden, invalid, invalidField, notFound, UNPROCESSABLE_BODY } from '../../errors.js';
import type { Logger } from '../../logger.js';
import { integrationsRepository } from '../../integrations/repository.js';
import { requireAssigneeRight } from '../../integrations/service.js';
import {
  writeBackWebhookSettings,
  writeBackWebhookSettingsAfterRemoval,
} from '../../integrations/webhook/destination.js';
import type { Clock } from '../../work/clock.js';
import type { TeamDeliveryResult, TeamDestinationKind, TestEvent } from './kind.js';
import { teamDestinationKind, TEAM_DESTINATION_TYPES } from './registry.js';
import { teamDestinationsRepository as repo, type DestinationWithOwners } from './repository.js';
import { webhookKind } from './webhook.js';

/**
 * Team destinations as the API manages them. Org admins manage every one; a team's admins those of their
 * team (or of an integration their team owns). Anyone of the organization may read them, secrets masked
 * by their kind; an integration's key only those of its own team. Their delivery logs, which name the
 * alerts sent and quote the receivers' answers, only those who see every alert or manage the destination,
 * as an integration's payload log. The config a kind stores is shown in full once, in the answer that
 * created it (a generated webhook secret is only ever seen there).
 */

export interface Ref {
  id?: string;
  name?: string;
}

export interface DestinationInput {
  name: string;
  type: string;
  team?: Ref;
  integration?: Ref;
  enabled?: boolean;
  config: Record<string, unknown>;
}

export interface DestinationPatch {
  name?: string;
  team?: Ref;
  integration?: Ref;
  enabled?: boolean;
  config?: Record<string, unknown>;
}

export interface DestinationView {
  id: string;
  name: string;
  type: string;
  label: string;
  team: { id: string; name: string } | null;
  integration: { id: string; name: string } | null;
  enabled: boolean;
  disabledReason: string | null;
  disabledAt: Date | null;
  config: Record<string, unknown>;
  createdAt: Date;
  updatedAt: Date;
}

export interface DeliveryView {
  id: string;
  eventId: string;
  eventType: string;
  alertId: string;
  state: TeamDestinationDeliveryRow['state'];
  attempts: number;
  responseStatus: number | null;
  responseExcerpt: string | null;
  lastError: string | null;
  createdAt: Date;
  firstAttemptAt: Date | null;
  nextAttemptAt: Date | null;
  sentAt: Date | null;
}

export interface TestOutcome {
  result: TeamDeliveryResult;
  /** The destination answered "gone" and was disabled. */
  disabled: boolean;
}

export const MAX_DELIVERIES_PAGE = 100;

function kindOf(type: string): TeamDestinationKind {
  const kind = teamDestinationKind(type);
  if (!kind) {
    throw invalidField('type', `must be one of: ${TEAM_DESTINATION_TYPES.join(', ')}.`);
  }
  return kind;
}

function viewOf(row: DestinationWithOwners, options: { unmasked?: boolean } = {}): DestinationView {
  const kind = teamDestinationKind(row.type);
  return {
    id: row.id,
    name: row.name,
    type: row.type,
    label: kind?.label ?? row.type,
    team: row.team_id ? { id: row.team_id, name: row.team_name ?? '' } : null,
    integration: row.integration_id ? { id: row.integration_id, name: row.integration_name ?? '' } : null,
    enabled: row.enabled,
    disabledReason: row.enabled ? null : row.disabled_reason,
    disabledAt: row.enabled ? null : row.disabled_at,
    // A kind Vigil no longer knows shows nothing of its config: it may hold secrets.
    config: options.unmasked ? row.config : kind ? kind.present(row.config) : {},
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * `heldUntil`: the destination's hold after a 429 or an unanswered send (rate_limited_until), if any: a pending delivery goes
 * no sooner than it ends, so its next attempt is the later of the two, not a due time long past.
 */
export function deliveryViewOf(row: TeamDestinationDeliveryRow, heldUntil: Date | null): DeliveryView {
  const nextAttemptAt =
    row.state !== 'pending' ? null : heldUntil && heldUntil > row.due_at ? heldUntil : row.due_at;
  return {
    id: row.id,
    eventId: row.event_id,
    eventType: row.event_type,
    alertId: row.alert_id,
    state: row.state,
    attempts: row.attempts,
    responseStatus: row.response_status,
    responseExcerpt: row.response_excerpt,
    lastError: row.last_error,
    createdAt: row.created_at,
    firstAttemptAt: row.first_attempt_at,
    nextAttemptAt,
    sentAt: row.sent_at,
  };
}

export function createTeamDestinationsService(deps: {
  db: Db;
  clock: Clock;
  log: Logger;
  config: Config;
  fetch: OutboundFetch;
}) {
  const { db, clock, log, config, fetch } = deps;

  /**
   * That `p` may manage the destinations of a team, or of an integration (`integrationId`): one on an
   * integration gets the alerts of its assignee team (a Webhook integration's own destination sends them
   * out), so it needs the right on that team too, as managing the integration does.
   */
  async function requireManager(
    p: Principal,
    ownerTeamId: string | null,
    integrationId: string | null,
    doing: { it: string; them: string } = { it: 'change it', them: 'manage its destinations' },
  ) {
    await requireTeamRight(
      db,
      p,
      ownerTeamId,
      'edit-integrations',
      `Only organization admins and those of the destination's team with the edit-integrations right (its admins) can ${doing.it}: ask one of them.`,
    );
    if (!integrationId) return;
    const integration = await integrationsRepository.get(db, p.orgId, integrationId);
    // Deleted meanwhile: its destinations went with it, and get no team's alerts.
    if (!integration) return;
    await requireAssigneeRight(
      db,
      p,
      { owner: integration.owner_team_id, assignee: integration.assignee_team_id },
      'edit-integrations',
      {
        ofKey: (key) =>
          `The key of integration [${key.name}] can manage only destinations of integrations assigned to its own team or its owner team: integration [${integration.name}] is assigned to another team; use the API key of an admin of that team.`,
        ofPerson: `Integration [${integration.name}] is assigned to another team, whose alerts its destinations get: only organization admins and those of that team with the edit-integrations right (its admins) can ${doing.them}.`,
      },
    );
  }

  function canSee(p: Principal, row: DestinationWithOwners): boolean {
    return !p.integration || p.integration.ownerTeamId === row.owner_team_id;
  }

  async function load(p: Principal, id: string): Promise<DestinationWithOwners> {
    const row = await repo.find(db, p.orgId, id);
    if (!row || !canSee(p, row)) throw notFound(`No destination exists with id [${id}].`);
    return row;
  }

  /** The destination's owner as the input names it: a team, or an integration (exactly one). */
  async function ownerOf(
    p: Principal,
    input: { team?: Ref; integration?: Ref },
  ): Promise<{ teamId: string | null; integrationId: string | null; ownerTeamId: string }> {
    if (input.team && input.integration) {
      throw invalid(UNPROCESSABLE_BODY, {
        team: 'Give a team or an integration, not both.',
        integration: 'Give a team or an integration, not both.',
      });
    }
    if (input.team) {
      const team = await resolveTeamRef(db, p.orgId, input.team, 'team');
      return { teamId: team.id, integrationId: null, ownerTeamId: team.id };
    }
    if (input.integration) {
      const { id, name } = input.integration;
      const identifier = id ?? name;
      if (!identifier)
        throw invalidField('integration', 'Give the integration as {"id": ...} or {"name": ...}.');
      const found = await repo.findIntegrations(db, p.orgId, identifier, id !== undefined ? 'id' : 'name');
      const integration = found[0];
      if (!integration) {
        throw invalidField(
          'integration',
          `No integration ${JSON.stringify(identifier)} in this organization.`,
        );
      }
      if (found.length > 1) {
        throw invalidField(
          'integration',
          `Several integrations are named ${JSON.stringify(identifier)}: give its id.`,
        );
      }
      return { teamId: null, integrationId: integration.id, ownerTeamId: integration.owner_team_id };
    }
    throw invalid(UNPROCESSABLE_BODY, {
      team: 'Give the team whose alerts go to this destination, or an integration.',
    });
  }

  function parseConfig(
    kind: TeamDestinationKind,
    input: Record<string, unknown>,
    previous?: Record<string, unknown>,
  ): Record<string, unknown> {
    const parsed = kind.parseConfig(input, previous, { config });
    if (!parsed.ok) throw invalidField('config', parsed.problem);
    return parsed.config;
  }

  async function named<T>(name: string, write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`A destination named [${name}] already exists.`);
      throw error;
    }
  }

  /**
   * Before a webhook of integrations is changed, moved or deleted, locks those integrations' rows (in id
   * order), as a Webhook integration's save does before it writes its own destination: both then take
   * their locks in one order. Else the save, holding the integration, waits for the destination this
   * change holds, while this change waits for the integration to write its settings back: a deadlock,
   * which PostgreSQL ends by failing one of them.
   */
  async function lockWebhookIntegrations(tx: Tx, type: string, ids: readonly (string | null)[]) {
    if (type !== webhookKind.type) return;
    await repo.lockIntegrations(tx, [...new Set(ids.filter((id): id is string => id !== null))]);
  }

  /**
   * The destination as it is now, locked until commit (after the integrations: lockWebhookIntegrations),
   * for a change `p` was allowed on `row` as read before the transaction. Moved meanwhile to another team
   * or integration, the rights checked were another owner's, and the integrations locked (whose settings
   * follow their own webhook) not its: a 409, to read it again, rather than a change approved for the
   * wrong team. Deleted meanwhile, a 404.
   */
  async function lockedAsRead(tx: Tx, p: Principal, row: DestinationWithOwners) {
    const now = (await repo.lock(tx, row.id)) ? await repo.find(tx, p.orgId, row.id) : undefined;
    if (!now) throw notFound(`No destination exists with id [${row.id}].`);
    if (
      now.team_id !== row.team_id ||
      now.integration_id !== row.integration_id ||
      now.owner_team_id !== row.owner_team_id
    )
      throw conflict(
        `Destination [${row.name}] was moved to another team or integration meanwhile: read it again, then make the change.`,
      );
    return now;
  }

  return {
    async list(p: Principal): Promise<DestinationView[]> {
      const rows = await repo.list(db, p.orgId, p.integration?.ownerTeamId);
      return rows.map((row) => viewOf(row));
    },

    async get(p: Principal, id: string): Promise<DestinationView> {
      return viewOf(await load(p, id));
    },

    /** Creates it; the answer shows its config unmasked, the only time it is. */
    async create(p: Principal, input: DestinationInput): Promise<DestinationView> {
      const kind = kindOf(input.type);
      const owner = await ownerOf(p, input);
      await requireManager(p, owner.ownerTeamId, owner.integrationId);
      const stored = parseConfig(kind, input.config);
      const name = input.name.trim();
      if (!name) throw invalidField('name', 'can not be empty.');
      const id = await named(name, () =>
        db.transaction().execute(async (tx) => {
          // The integration first, as a save, update and remove take it: else a save running meanwhile
          // (which cannot see this webhook, and makes one from the settings) writes its settings, and the
          // write-back below, whose settings were read before, overwrites them with their old values.
          await lockWebhookIntegrations(tx, kind.type, [owner.integrationId]);
          const made = await repo.insert(tx, {
            org_id: p.orgId,
            team_id: owner.teamId,
            integration_id: owner.integrationId,
            type: kind.type,
            name,
            config: stored,
            enabled: input.enabled ?? true,
            now: clock.now(),
          });
          // Made for a Webhook integration whose own was deleted, it is its own now: its settings follow.
          if (kind.type === webhookKind.type && owner.integrationId)
            await writeBackWebhookSettings(tx, { id: made, integrationId: owner.integrationId }, stored);
          return made;
        }),
      );
      return viewOf(await load(p, id), { unmasked: true });
    },

    async update(p: Principal, id: string, patch: DestinationPatch): Promise<DestinationView> {
      const row = await load(p, id);
      await requireManager(p, row.owner_team_id, row.integration_id);
      const moved = patch.team || patch.integration ? await ownerOf(p, patch) : undefined;
      // Moving it to another team, or integration, needs the right to manage its destinations too.
      if (moved) await requireManager(p, moved.ownerTeamId, moved.integrationId);
      const kind = kindOf(row.type);
      const name = patch.name?.trim();
      if (patch.name !== undefined && !name) throw invalidField('name', 'can not be empty.');
      // Checked now for a 422 before any lock; made again below from the config as locked.
      if (patch.config) parseConfig(kind, patch.config, row.config);
      const integrationId = moved ? moved.integrationId : row.integration_id;
      await named(name ?? row.name, () =>
        db.transaction().execute(async (tx) => {
          await lockWebhookIntegrations(tx, row.type, [row.integration_id, integrationId]);
          const current = await lockedAsRead(tx, p, row);
          // A partial config keeps the rest (URL, secret, headers) of the config as it is now, not as read.
          const config = patch.config ? parseConfig(kind, patch.config, current.config) : undefined;
          await repo.update(
            tx,
            row.id,
            {
              ...(name ? { name } : {}),
              ...(moved ? { team_id: moved.teamId, integration_id: moved.integrationId } : {}),
              ...(config ? { config } : {}),
              ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}),
            },
            clock.now(),
          );
          // A Webhook integration's settings are its own destination's config: kept in step with it.
          if (kind.type === webhookKind.type && integrationId && (config || moved))
            await writeBackWebhookSettings(tx, { id: row.id, integrationId }, config ?? current.config);
          // Moved off an integration, it is no longer that one's own: as when it is deleted, the next
          // webhook the integration owns is, and gives it its settings, else they describe a URL that no
          // longer posts its alerts.
          if (
            kind.type === webhookKind.type &&
            row.integration_id &&
            moved &&
            row.integration_id !== integrationId
          )
            await writeBackWebhookSettingsAfterRemoval(tx, row.integration_id);
        }),
      );
      return viewOf(await load(p, id));
    },

    async remove(p: Principal, id: string): Promise<void> {
      const row = await load(p, id);
      await requireManager(p, row.owner_team_id, row.integration_id);
      await db.transaction().execute(async (tx) => {
        await lockWebhookIntegrations(tx, row.type, [row.integration_id]);
        await lockedAsRead(tx, p, row);
        await repo.delete(tx, row.id);
        // A Webhook integration's own destination gone, the next webhook it owns is its own.
        if (row.type === webhookKind.type && row.integration_id)
          await writeBackWebhookSettingsAfterRemoval(tx, row.integration_id);
      });
    },

    /**
     * Sends a `test` event now, through the kind's own deliver(), and says what came of it. Nothing is
     * retried or stored, but a destination that answers "gone" is disabled, as a delivery would have it.
     */
    async test(p: Principal, id: string): Promise<TestOutcome> {
      const row = await load(p, id);
      await requireManager(p, row.owner_team_id, row.integration_id);
      const kind = teamDestinationKind(row.type);
      if (!kind) throw forbidden(`Vigil no longer knows destinations of type ${row.type}.`);
      const now = clock.now();
      const event: TestEvent = {
        type: 'test',
        eventId: randomUUID(),
        orgId: row.org_id,
        at: clock.toSystemTime(now).toISOString(),
        actor: p.integration
          ? { kind: 'integration', name: p.integration.name, integrationId: p.integration.id }
          : {
              kind: 'user',
              name: p.fullName || p.username || 'API',
              ...(p.userId ? { userId: p.userId } : {}),
            },
      };
      let result: TeamDeliveryResult;
      try {
        result = await kind.deliver(
          {
            deliveryId: randomUUID(),
            attempt: 1,
            destination: {
              id: row.id,
              orgId: row.org_id,
              name: row.name,
              teamId: row.team_id,
              integrationId: row.integration_id,
              config: row.config,
            },
            event,
            alert: undefined,
            links: { view: `${config.publicUrl}/alerts` },
          },
          { db, log, clock, config, fetch },
        );
      } catch (error) {
        result = { status: 'retry', error: error instanceof Error ? error.message : String(error) };
      }
      // Only the destination as tested: one edited meanwhile has a URL this answer says nothing of.
      const disabled =
        result.status === 'gone' &&
        (await repo.disable(db, row.id, result.error, clock.now(), row.updated_at));
      return { result, disabled };
    },

    /**
     * The log names the alerts sent and quotes what the receiver answered (which may echo them): whoever
     * sees only some alerts (a user without alerts-access-all, an integration's key) reads it only of the
     * destinations they manage, as an integration's payload log, else a 403.
     */
    async deliveries(
      p: Principal,
      id: string,
      page: { limit: number; offset: number },
    ): Promise<DeliveryView[]> {
      const row = await load(p, id);
      const scope = await alertScopeOf(db, p);
      if (scope.integration || scope.viewer)
        await requireManager(p, row.owner_team_id, row.integration_id, {
          it: 'read its delivery log',
          them: 'read the delivery logs of its destinations',
        });
      const rows = await repo.log(db, row.id, page);
      return rows.map((delivery) => deliveryViewOf(delivery, row.rate_limited_until));
    },
  };
}

export type TeamDestinationsService = ReturnType<typeof createTeamDestinationsService>;
