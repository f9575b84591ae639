import { sql, type RawBuilder } from 'kysely';
import type { DeletedAlert } from '../../alerts/events.js';
import { isUuid, type Queryable } from '../../db/database.js';
import { deleteInBatches } from '../../db/delete-in-batches.js';
import type { TeamDestinationDeliveryRow, TeamDestinationRow } from '../../db/schema.js';
import { prepared } from '../../db/prepared.js';
import { teamDestinationKind } from './registry.js';
import type { QueueBacklog } from '../../work/runner.js';

/** The SQL of team destinations and their deliveries. */

export type DestinationWithOwners = TeamDestinationRow & {
  team_name: string | null;
  integration_name: string | null;
  /** The team whose admins may change it: its team, or its integration's owner team. */
  owner_team_id: string;
};

/** One event to hand to the destinations that take it. */
export interface EventToDeliver {
  eventId: string;
  alertId: string;
  orgId: string;
  type: string;
  event: unknown;
  seq: number;
  /** The destination types that take this event type. */
  kinds: string[];
}

export interface DeliveryOutcome {
  id: string;
  /** The attempt this claim made: an outcome lands only while the row is still this claim's. */
  attempts: number;
  state: 'pending' | 'sent' | 'failed';
  dueAt?: Date;
  error?: string | null;
  responseStatus?: number | null;
  responseExcerpt?: string | null;
  sentAt?: Date;
  /** The claim's attempt is not counted (rate limited): it is given back. */
  refundAttempt?: boolean;
  /**
   * The attempt's request may have reached the receiver (deliveries.ts mayHaveReached): the destination
   * counts as told of the alert from then on (insertDeliveries), whatever becomes of the delivery.
   */
  mayHaveReached?: boolean;
}

/**
 * How the error of a delivery recorded failed without going out begins (a maintenance, a disabled
 * destination, a team that no longer has the alert), for its delivery log. It says only that this time no
 * request went out: an earlier attempt may have reached the receiver (may_have_reached says so).
 */
export const NOT_SENT = 'not sent: ';

/** The error of a delivery recorded failed, not sent, for `why`. */
export function notSentError(why: string): string {
  return `${NOT_SENT}${why}`;
}

/** A destination's hold after a 429, or after it did not answer (deliveries.ts holdsOf). */
export interface DestinationHold {
  id: string;
  until: Date;
  /** Its updated_at when the round read it: a hold is only for the receiver that answered. */
  readAt: Date;
}

function withOwners(db: Queryable) {
  return db
    .selectFrom('team_destinations as d')
    .leftJoin('teams as t', 't.id', 'd.team_id')
    .leftJoin('integrations as i', 'i.id', 'd.integration_id')
    .selectAll('d')
    .select([
      't.name as team_name',
      'i.name as integration_name',
      sql<string>`coalesce(d.team_id, i.owner_team_id)`.as('owner_team_id'),
    ]);
}

/**
 * Whether the destination (as `table`) is still as a read found it, its updated_at then: every change to it
 * (its config, its switch) moves that. To the millisecond, as the read got it (a row written with the
 * column's default now() holds microseconds).
 */
function unchangedSince(table: string, readAt: Date | RawBuilder<unknown>) {
  return sql<boolean>`date_trunc('milliseconds', ${sql.ref(`${table}.updated_at`)}) = ${readAt}`;
}

/**
 * Whether the destination (as `destination`) takes the events of the alert (as `alert`): its team is one
 * of the alert's, it belongs to the alert's integration, or it is an enabled Webhook integration's whose
 * team (its assignee, else its owner) is one of the alert's. The one rule for making a delivery
 * (insertDeliveries) and for sending it later (stillTaking).
 */
function takesAlert(destination: string, alert: string) {
  const d = (column: string) => sql.ref(`${destination}.${column}`);
  const a = (column: string) => sql.ref(`${alert}.${column}`);
  return sql<boolean>`(${d('team_id')} = ANY(${a('team_ids')}) OR ${d('integration_id')} = ${a('integration_id')}
    OR EXISTS (SELECT 1 FROM integrations takes_w
               WHERE takes_w.id = ${d('integration_id')} AND takes_w.type = 'Webhook' AND takes_w.enabled
                 AND coalesce(takes_w.assignee_team_id, takes_w.owner_team_id) = ANY(${a('team_ids')})))`;
}

/** A destination and alert as stillTaking keys them. */
export function destinationAlertKey(destinationId: string, alertId: string): string {
  return `${destinationId}/${alertId}`;
}

/** The consumer of alert events that makes the deliveries (its name in event_deliveries). */
export const TEAM_DESTINATIONS_CONSUMER = 'team-destinations';

/** Whether an earlier change to the same alert is still to be delivered to the same destination. */
const EARLIER_UNSENT = sql`EXISTS (
  SELECT 1 FROM team_destination_deliveries e
  WHERE e.destination_id = c.destination_id AND e.alert_id = c.alert_id
    AND e.state IN ('pending', 'sending') AND e.seq < c.seq)`;

/**
 * This consumer's events not yet handled nor given up, as migration 0063's partial index on their alert
 * has them: the consumer's name is a literal, as a parameter would keep a generic plan off that index.
 */
const ON_ITS_WAY = sql`event_deliveries w
  WHERE w.consumer = ${sql.lit(TEAM_DESTINATIONS_CONSUMER)} AND w.dead_at IS NULL`;
/**
 * Whether an earlier change to the same alert has not yet been made into deliveries: on its way to this
 * consumer (its events queue runs batches side by side, and retries a failed event on its own, later), or
 * still in the outbox (another process's fan-out of it not yet committed). Its delivery may be to this
 * very destination, and would come after this one. One the consumer gave up on (dead) holds nothing.
 */
const EARLIER_ON_ITS_WAY = sql`EXISTS (
  SELECT 1 FROM ${ON_ITS_WAY} AND w.seq < c.seq AND w.event->>'alertId' = c.alert_id::text)`;
const EARLIER_IN_OUTBOX = sql`EXISTS (
  SELECT 1 FROM outbox_jobs o
  WHERE o.task = 'alert-event' AND o.id < c.seq AND o.payload->>'alertId' = c.alert_id::text)`;
/**
 * No earlier change to the alert is still to reach the destination: this one may go. Three NOT EXISTS side
 * by side, each planned as an anti-join (one NOT of an OR would be run again for every row).
 */
const MAY_GO = sql`NOT ${EARLIER_UNSENT} AND NOT ${EARLIER_ON_ITS_WAY} AND NOT ${EARLIER_IN_OUTBOX}`;
/**
 * Whether the delivery's destination answered a 429 whose Retry-After runs past `now`: its receiver limits
 * the endpoint, so none of its deliveries goes until then (deliveries.ts); or is held as long after it left
 * a request unanswered for most of its timeout (NO_ANSWER_HOLD_MS). A lookup by primary key. A hold
 * that has ended holds nothing: its backlog was put off to its end when it began (holdDestinations), so
 * nothing clears it.
 */
const destinationHeld = (now: Date) => sql`EXISTS (
  SELECT 1 FROM team_destinations dh
  WHERE dh.id = c.destination_id AND dh.rate_limited_until > ${now})`;
/**
 * The fewest deliveries to one destination a claim takes when others wait beside it, and how many of
 * one destination may be in flight before a claim passes it by: a round waits for its slowest send, so a
 * receiver slow to answer holds few of every other organization's rounds. A destination alone in the
 * claim's look-ahead takes more (a share of the claim: claim's `limit` over the destinations seen), so
 * a healthy receiver's burst goes a whole claim at a time.
 */
export const PER_DESTINATION_PER_CLAIM = 5;
/**
 * How many times its limit of the earliest due deliveries a claim looks at for what it takes (the cap
 * above leaves some out): bounded so that a claim does not read a backlog of thousands each round.
 */
const CLAIM_LOOKS_AHEAD = 10;
/**
 * How many times its limit a claim picks before it locks (SKIP LOCKED): two claims at once pick alike,
 * and the second takes what the first left locked past its own limit.
 */
const CLAIM_OVER_PICKS = 2;
/**
 * How many of the earliest due deliveries the claim and nextDueAt look at for busy destinations: the
 * claim's look-ahead at the sender's batch (50 times {@link CLAIM_LOOKS_AHEAD}). One number for both, so
 * nextDueAt passes by the same destinations the claim does, and never gives a time at which the claim
 * takes nothing (the queue would look again at once).
 */
const BUSY_LOOKS_AT = 500;

/**
 * The destinations with {@link PER_DESTINATION_PER_CLAIM} or more deliveries on their way (a live lease),
 * found among the earliest {@link BUSY_LOOKS_AT} due (in flight, a destination's deliveries are its
 * earliest due, so they are there while its burst is): the claim passes them by, and nextDueAt does not
 * count their due deliveries (the round sending them goes on with them; another round waits for their
 * leases or a wake).
 */
const busyDestinations = (now: Date) => sql`
  SELECT head.destination_id FROM (
    SELECT c.destination_id, c.state, c.lease_until FROM team_destination_deliveries c
    WHERE c.state IN ('pending', 'sending') AND c.due_at <= ${now}
    ORDER BY c.due_at
    LIMIT ${BUSY_LOOKS_AT}) head
  WHERE head.state = 'sending' AND head.lease_until >= ${now}
  GROUP BY head.destination_id
  HAVING count(*) >= ${PER_DESTINATION_PER_CLAIM}`;
/**
 * How many times its limit of the earliest due deliveries the backlog gauge walks before judging them:
 * in a receiver's outage the head of the index is its blocked deliveries, and claimable ones wait behind.
 */
const BACKLOG_LOOKS_AHEAD = 10;
/**
 * How many deliveries, the earliest due, nextDueAt looks at for when a held one is to be looked at again:
 * it looks again no later than the last of them falls due, and then at the next ones.
 */
const RECHECK_LOOKS_AT = 100;

export const teamDestinationsRepository = {
  async insert(
    db: Queryable,
    row: {
      org_id: string;
      team_id: string | null;
      integration_id: string | null;
      type: string;
      name: string;
      config: Record<string, unknown>;
      enabled: boolean;
      now: Date;
    },
  ): Promise<string> {
    const { now, config, ...rest } = row;
    const inserted = await db
      .insertInto('team_destinations')
      .values({
        ...rest,
        config: JSON.stringify(config),
        created_at: now,
        updated_at: now,
        ...(rest.enabled ? {} : { disabled_reason: 'disabled when it was created', disabled_at: now }),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return inserted.id;
  },

  async find(db: Queryable, orgId: string, id: string): Promise<DestinationWithOwners | undefined> {
    if (!isUuid(id)) return undefined;
    return withOwners(db).where('d.org_id', '=', orgId).where('d.id', '=', id).executeTakeFirst();
  },

  async list(db: Queryable, orgId: string, ownerTeamId?: string): Promise<DestinationWithOwners[]> {
    let query = withOwners(db).where('d.org_id', '=', orgId);
    if (ownerTeamId) query = query.where(sql<boolean>`coalesce(d.team_id, i.owner_team_id) = ${ownerTeamId}`);
    return query.orderBy(sql`lower(d.name)`).execute();
  },

  /**
   * The own destination of an outgoing integration (a Webhook integration's), of this kind: the oldest,
   * the lower id of two as old.
   */
  async ofIntegration(
    db: Queryable,
    integrationId: string,
    type: string,
  ): Promise<TeamDestinationRow | undefined> {
    // Two made in one transaction share their created_at: the id decides, the same for every caller.
    return db
      .selectFrom('team_destinations')
      .selectAll()
      .where('integration_id', '=', integrationId)
      .where('type', '=', type)
      .orderBy('created_at')
      .orderBy('id')
      .executeTakeFirst();
  },

  /** Of the organization's destination names, those starting with `prefix` (any case), lower-cased. */
  async namesStartingWith(db: Queryable, orgId: string, prefix: string): Promise<Set<string>> {
    const rows = await db
      .selectFrom('team_destinations')
      .select(sql<string>`lower(name)`.as('name'))
      .where('org_id', '=', orgId)
      .where(sql<boolean>`starts_with(lower(name), ${prefix.toLowerCase()})`)
      .execute();
    return new Set(rows.map((r) => r.name));
  },

  async byIds(db: Queryable, ids: readonly string[]): Promise<TeamDestinationRow[]> {
    if (ids.length === 0) return [];
    return db.selectFrom('team_destinations').selectAll().where('id', 'in', ids).execute();
  },

  async update(
    db: Queryable,
    id: string,
    changes: {
      name?: string;
      team_id?: string | null;
      integration_id?: string | null;
      config?: Record<string, unknown>;
      enabled?: boolean;
    },
    now: Date,
  ): Promise<void> {
    const { config, enabled, ...rest } = changes;
    // Another receiver (a new config: another URL) or a destination turned on from off starts afresh,
    // with no 429 hold and no day of failures from before. Not a save that changes neither (a PATCH of
    // `"enabled": true` to one already on, an integration saved whole as Terraform saves it): the
    // receiver's limit still holds, and one failing for good must still be turned off in the end. SET
    // reads the row as it was, so this compares with the destination before the change.
    const startsAfresh = sql<boolean>`((NOT enabled AND ${enabled === true})
      OR (${config !== undefined} AND config IS DISTINCT FROM ${JSON.stringify(config ?? null)}::jsonb))`;
    if (config || enabled === true) {
      // What the hold put off to its end (holdDestinations, insertDeliveries) goes at once with it lifted;
      // a retry due later on its own schedule keeps its time. Before the update, which clears the hold.
      await sql`
        UPDATE team_destination_deliveries SET due_at = ${now}
        WHERE destination_id = ${id} AND state = 'pending'
          AND due_at = (SELECT rate_limited_until FROM team_destinations WHERE id = ${id} AND ${startsAfresh})
          AND due_at > ${now}`.execute(db);
    }
    await db
      .updateTable('team_destinations')
      .set({
        ...rest,
        ...(config || enabled === true
          ? {
              rate_limited_until: sql<Date | null>`CASE WHEN ${startsAfresh} THEN NULL ELSE rate_limited_until END`,
              failing_since: sql<Date | null>`CASE WHEN ${startsAfresh} THEN NULL ELSE failing_since END`,
            }
          : {}),
        ...(config ? { config: JSON.stringify(config) } : {}),
        // Enabling clears the reason it was off.
        ...(enabled === true ? { enabled, disabled_reason: null, disabled_at: null } : {}),
        ...(enabled === false
          ? {
              enabled,
              disabled_reason: sql<string>`CASE WHEN enabled THEN 'disabled through the API' ELSE disabled_reason END`,
              disabled_at: sql<Date>`CASE WHEN enabled THEN ${now}::timestamptz ELSE disabled_at END`,
            }
          : {}),
        updated_at: now,
      })
      .where('id', '=', id)
      .execute();
  },

  async delete(db: Queryable, id: string): Promise<void> {
    await db.deleteFrom('team_destinations').where('id', '=', id).execute();
  },

  /**
   * Disables an enabled destination with its reason, and fails its deliveries still waiting (they would
   * only fail the same way). With `readAt` (its updated_at when the attempt that answered read it), only
   * if it is unchanged since: an old URL's answer says nothing of the URL it has now. Returns whether it
   * was disabled.
   */
  async disable(db: Queryable, id: string, reason: string, now: Date, readAt?: Date): Promise<boolean> {
    const done = await sql<{ id: string }>`
      WITH off AS (
        UPDATE team_destinations SET enabled = false, disabled_reason = ${reason}, disabled_at = ${now},
          failing_since = NULL, updated_at = ${now}
        WHERE id = ${id} AND enabled
          AND ${readAt ? unchangedSince('team_destinations', readAt) : sql`true`}
        RETURNING id
      ), dropped AS (
        UPDATE team_destination_deliveries SET state = 'failed', updated_at = ${now},
          last_error = ${notSentError(`the destination was disabled (${reason})`)}
        WHERE destination_id IN (SELECT id FROM off) AND state = 'pending'
      )
      SELECT id FROM off`.execute(db);
    return done.rows.length > 0;
  },

  /**
   * Notes how a round went for each destination: one that delivered is well again; one that only failed
   * is failing since its first failure. Only for a destination unchanged since the round read it
   * (`readAt`, its updated_at then): what its old config met says nothing of the new. Returns, for the
   * failing ones noted, since when.
   */
  async recordHealth(
    db: Queryable,
    health: { id: string; delivered: boolean; readAt: Date }[],
    now: Date,
  ): Promise<Map<string, Date>> {
    if (health.length === 0) return new Map();
    const input = health.map((h) => ({ id: h.id, delivered: h.delivered, read_at: h.readAt }));
    const rows = await sql<{ id: string; failing_since: Date }>`
      UPDATE team_destinations d
      SET failing_since = CASE WHEN h.delivered THEN NULL ELSE coalesce(d.failing_since, ${now}) END
      FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS h(id uuid, delivered boolean, read_at timestamptz)
      WHERE d.id = h.id AND ${unchangedSince('d', sql.ref('h.read_at'))}
      RETURNING d.id, d.failing_since`.execute(db);
    return new Map(rows.rows.filter((r) => r.failing_since).map((r) => [r.id, r.failing_since]));
  },

  /** Of these destinations as read (their updated_at then), those changed since (deleted ones are not). */
  async changedSince(db: Queryable, read: readonly { id: string; readAt: Date }[]): Promise<Set<string>> {
    if (read.length === 0) return new Set();
    const input = read.map((r) => ({ id: r.id, read_at: r.readAt }));
    const rows = await sql<{ id: string }>`
      SELECT d.id FROM team_destinations d
      JOIN jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS r(id uuid, read_at timestamptz) ON r.id = d.id
      WHERE NOT ${unchangedSince('d', sql.ref('r.read_at'))}`.execute(db);
    return new Set(rows.rows.map((r) => r.id));
  },

  /**
   * One delivery per event and enabled destination that takes it: those of the alert's teams (its
   * responders), of its integration, and of the Webhook integrations of its teams. The deleted event of an
   * alert goes to those that take the alert as the event keeps it (its teams and integration as it was
   * deleted), and to no other: not to one sent the alert before that no longer takes it (a Webhook
   * integration moved to another team), which would be sent what the alert was; and whether or not the
   * retention purged the deliveries that told a destination of an old alert. Another event of an alert
   * deleted since (or a deleted event recorded before the alert was kept in it) goes where the alert's
   * earlier events went (the destinations with a delivery of it).
   * A responder added only when it is a team, and then to the added team's own destinations (its team's,
   * or its Webhook integrations') and to the others of the kinds that take other teams added (kind.ts
   * addsOwnTeam): a channel has nothing to show for another team, nor anyone for a person added, so no
   * delivery is made to be marked "nothing posted". An added team's own destination that already has a
   * delivery of an earlier change of the alert still to go, sent, or failed after a request that may have
   * reached its receiver (may_have_reached) gets none for it either: this consumer can lag
   * (docs/architecture.md), and an earlier event handled after the team was added went to the alert's
   * teams as they are now, so the destination was told of the alert; a Create would post it twice. A
   * later change's delivery (its batch handled first) told it nothing of the alert, and waits behind the
   * Create. One that failed with no request reaching the receiver (a maintenance, a move, a refusal
   * answered, a URL no longer allowed) told it nothing. The other way round (the alert's `created` handled
   * after the added team's responder_added, a retried event) is not undone: the added team then gets the
   * alert twice, as its later changes go behind both, rather than a change before its Create or none.
   * A delivery to a destination held for a 429 (holdDestinations) is due at the hold's end.
   * An event already delivered to a destination adds nothing. A destination owned by an integration in
   * `paused` (a maintenance disables it) gets its delivery recorded as failed, never sent, with the reason
   * as its error, so that its delivery log says why the receiver heard nothing. Returns how many were
   * added to be sent.
   */
  async insertDeliveries(
    db: Queryable,
    events: readonly EventToDeliver[],
    now: Date,
    paused: ReadonlyMap<string, string> = new Map(),
  ): Promise<number> {
    const input = events
      .filter((e) => e.kinds.length > 0)
      .map((e) => ({
        event_id: e.eventId,
        alert_id: e.alertId,
        org_id: e.orgId,
        event_type: e.type,
        event: e.event,
        seq: e.seq,
        kinds: e.kinds,
        other_team_kinds: e.kinds.filter((k) => teamDestinationKind(k)?.takesOtherTeamsAdded === true),
      }));
    if (input.length === 0) return 0;
    const pausedInput = [...paused].map(([integration_id, reason]) => ({
      integration_id,
      error: notSentError(`the integration is ${reason}`),
    }));
    const inserted = await prepared(sql<{ state: string }>`
      WITH paused AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(pausedInput)}::jsonb) AS paused(integration_id uuid, error text)
      ), e AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS e(
          event_id uuid, alert_id uuid, org_id uuid, event_type text, event jsonb, seq bigint, kinds text[],
          other_team_kinds text[])
      ), targets AS (
        SELECT e.*, d.id AS destination_id, d.integration_id, d.type AS destination_type,
          d.team_id AS destination_team_id, d.rate_limited_until AS held_until
        FROM e
        JOIN alerts a ON a.id = e.alert_id
        JOIN team_destinations d ON d.org_id = a.org_id AND ${takesAlert('d', 'a')}
        WHERE d.enabled AND d.type = ANY(e.kinds)
        UNION ALL
        SELECT e.*, d.id AS destination_id, d.integration_id, d.type AS destination_type,
          d.team_id AS destination_team_id, d.rate_limited_until AS held_until
        FROM e
        -- The teams and integration of a deleted alert, as its deleted event keeps them (none on an older
        -- event, or on another change handled after the deletion).
        CROSS JOIN LATERAL (
          SELECT e.event_type = 'deleted' AND coalesce(jsonb_typeof(e.event -> 'alert') = 'object', false)
                   AS kept,
                 ARRAY(SELECT gone_team::uuid
                       FROM jsonb_array_elements_text(e.event #> '{alert,teamIds}') gone_team) AS team_ids,
                 (e.event #>> '{alert,integrationId}')::uuid AS integration_id) gone
        JOIN team_destinations d ON d.org_id = e.org_id
        WHERE d.enabled AND d.type = ANY(e.kinds)
          AND NOT EXISTS (SELECT 1 FROM alerts a WHERE a.id = e.alert_id)
          -- A deleted event that keeps the alert goes by it alone: a destination sent the alert before no
          -- longer takes it when it no longer takes the alert as it was deleted (a Webhook integration
          -- moved to another team since, a team removed from the alert).
          AND CASE WHEN gone.kept THEN ${takesAlert('d', 'gone')}
                   ELSE EXISTS (SELECT 1 FROM team_destination_deliveries p
                                WHERE p.destination_id = d.id AND p.alert_id = e.alert_id) END
      ), with_own_team AS (
        SELECT o.*,
          -- Never null (a destination of no team: an integration's other than a Webhook one's), so that
          -- NOT of it below keeps the row.
          coalesce(o.event_type = 'responder_added' AND o.event #>> '{responder,type}' = 'team'
            AND o.event #>> '{responder,id}' = o.own_team, false) AS adds_own_team
        FROM (
          -- The destination's own team: its team, or its Webhook integration's (null for no team).
          SELECT t.*, coalesce(t.destination_team_id::text,
                   (SELECT coalesce(w.assignee_team_id, w.owner_team_id)::text FROM integrations w
                    WHERE w.id = t.integration_id AND w.type = 'Webhook')) AS own_team
          FROM targets t) o
      ), candidates AS (
        SELECT j.* FROM with_own_team j
        WHERE j.event_type <> 'responder_added' OR j.adds_own_team
          OR (j.event #>> '{responder,type}' = 'team' AND j.destination_type = ANY(j.other_team_kinds))
      )
      INSERT INTO team_destination_deliveries
        (destination_id, event_id, alert_id, event_type, event, seq, due_at, created_at, updated_at,
         state, last_error)
      SELECT t.destination_id, t.event_id, t.alert_id, t.event_type, t.event, t.seq,
        greatest(${now}::timestamptz, t.held_until), ${now}, ${now},
        CASE WHEN paused.error IS NULL THEN 'pending' ELSE 'failed' END,
        paused.error
      FROM candidates t
      LEFT JOIN paused ON paused.integration_id = t.integration_id
      -- An added team's own destination told of the alert already gets no Create: it would post it again.
      -- Told by a delivery of an earlier event still to go or sent, or failed after a request that may
      -- have reached the receiver (a failed one that never did told it nothing, and it would else get the
      -- alert's later changes only), or by an earlier event of this batch (the rows this statement inserts
      -- are not visible to it). Only an earlier one: a later change handled first (batches run side by
      -- side, a failed event is retried alone) went to the team as one of the alert's, and waits behind
      -- this Create (MAY_GO); it told the destination of the change, not of the alert.
      WHERE (NOT t.adds_own_team
             OR NOT (EXISTS (SELECT 1 FROM team_destination_deliveries p
                             WHERE p.destination_id = t.destination_id AND p.alert_id = t.alert_id
                               AND p.seq < t.seq AND (p.state <> 'failed' OR p.may_have_reached))
                     OR EXISTS (SELECT 1 FROM candidates earlier
                                WHERE earlier.destination_id = t.destination_id
                                  AND earlier.alert_id = t.alert_id AND earlier.seq < t.seq)))
      ON CONFLICT (destination_id, event_id) DO NOTHING
      RETURNING state`).execute(db);
    return inserted.rows.filter((r) => r.state === 'pending').length;
  },

  /**
   * Of these deliveries' destinations and alerts, the pairs (as {@link destinationAlertKey}) whose
   * destination still takes the alert (takesAlert), read when a delivery made earlier is sent. A deleted
   * alert's is taken: its last event goes where the earlier ones went (insertDeliveries); a deleted
   * destination's is not.
   */
  async stillTaking(
    db: Queryable,
    pairs: readonly { destinationId: string; alertId: string }[],
  ): Promise<Set<string>> {
    if (pairs.length === 0) return new Set();
    const input = pairs.map((p) => ({ destination_id: p.destinationId, alert_id: p.alertId }));
    const rows = await sql<{ destination_id: string; alert_id: string }>`
      SELECT DISTINCT p.destination_id, p.alert_id
      FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS p(destination_id uuid, alert_id uuid)
      JOIN team_destinations d ON d.id = p.destination_id
      LEFT JOIN alerts a ON a.id = p.alert_id
      WHERE a.id IS NULL OR ${takesAlert('d', 'a')}`.execute(db);
    return new Set(rows.rows.map((r) => destinationAlertKey(r.destination_id, r.alert_id)));
  },

  /**
   * Of these deliveries' destinations and alerts (deleted), the pairs (as {@link destinationAlertKey}) whose
   * destination was itself made a delivery of the alert's deleted event keeping it (events.ts DeletedAlert),
   * with that snapshot: what a change of the alert sent to it after the deletion shows of the alert. A
   * destination not sent the deletion (one that no longer took the alert as it was deleted) is left out:
   * another's deleted delivery would show it what it is no longer to see.
   */
  async deletedAlerts(
    db: Queryable,
    pairs: readonly { destinationId: string; alertId: string }[],
  ): Promise<Map<string, DeletedAlert>> {
    if (pairs.length === 0) return new Map();
    const input = pairs.map((p) => ({ destination_id: p.destinationId, alert_id: p.alertId }));
    const rows = await sql<{ destination_id: string; alert_id: string; alert: DeletedAlert }>`
      SELECT DISTINCT ON (t.destination_id, t.alert_id) t.destination_id, t.alert_id, t.event -> 'alert' AS alert
      FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS p(destination_id uuid, alert_id uuid)
      JOIN team_destination_deliveries t ON t.destination_id = p.destination_id AND t.alert_id = p.alert_id
      WHERE t.event_type = 'deleted' AND jsonb_typeof(t.event -> 'alert') = 'object'
      ORDER BY t.destination_id, t.alert_id`.execute(db);
    return new Map(rows.rows.map((r) => [destinationAlertKey(r.destination_id, r.alert_id), r.alert]));
  },

  /** The integrations that own enabled destinations in these organizations. */
  async destinationIntegrations(db: Queryable, orgIds: readonly string[]): Promise<string[]> {
    if (orgIds.length === 0) return [];
    const result = await prepared(sql<{ integration_id: string }>`
      SELECT DISTINCT integration_id FROM team_destinations
      WHERE org_id = ANY(${orgIds}::uuid[]) AND integration_id IS NOT NULL AND enabled`).execute(db);
    return result.rows.map((r) => r.integration_id);
  },

  /**
   * Holds each destination until its `until` (its receiver answered 429 with that Retry-After, or left a
   * request unanswered: deliveries.ts holdsOf), or later if it is held so already; only one unchanged
   * since the round read it (`readAt`): another URL is another receiver, with limits of its own. Its
   * updated_at is left as it is: the hold is no change to it.
   *
   * The hold is written first, in a statement of its own (committed at once, so that another round's
   * claim sees it within milliseconds); then its waiting deliveries are put off to the hold's end, so that
   * no claim walks them meanwhile (each keeps a later due time of its own: a retry on the schedule). A
   * delivery made during the hold is due at its end (insertDeliveries); one made while the hold was
   * being written, due at once, is left out by the claim (destinationHeld).
   * At the hold's end what waits goes, one change per alert in order (MAY_GO); a receiver still limiting
   * answers 429 and is held again. Lining the backlog up at a pace (Slack's message a second) was tried and
   * left out: what arrives meanwhile, and each new hold, undo the line, and a line of thousands sends
   * alerts hours late. One destination at a time, in id order, so two rounds never wait on each other.
   */
  async holdDestinations(db: Queryable, holds: readonly DestinationHold[]): Promise<void> {
    for (const hold of [...holds].sort((a, b) => (a.id < b.id ? -1 : 1))) {
      const held = await sql<{ until: Date }>`
        UPDATE team_destinations d
        SET rate_limited_until = greatest(d.rate_limited_until, ${hold.until}::timestamptz)
        WHERE d.id = ${hold.id} AND ${unchangedSince('d', hold.readAt)}
        RETURNING d.rate_limited_until AS until`.execute(db);
      const until = held.rows[0]?.until;
      if (!until) continue;
      await sql`
        UPDATE team_destination_deliveries SET due_at = ${until}
        WHERE destination_id = ${hold.id} AND state = 'pending' AND due_at < ${until}`.execute(db);
    }
  },

  /**
   * Claims up to `limit` due deliveries (and ones whose claim ran out) for `leaseUntil`, oldest due first
   * but a share of the claim per destination (at least {@link PER_DESTINATION_PER_CLAIM}), each
   * destination's first before any one's second; only the oldest unsent change to an alert per
   * destination, so the next waits until it is done; none of a destination held (holdDestinations) until
   * its hold ends.
   *
   * The share is why a flood to one receiver does not take every round: a round waits for its slowest
   * send (up to a timeout), and one organization's receiver slow to answer, fed an alert storm, filled
   * every round and held every other organization's Slack, Teams and webhooks behind it. A destination
   * with {@link PER_DESTINATION_PER_CLAIM} or more deliveries in flight (a live lease) is passed by
   * before the look-ahead is counted, so the round beside the one sending its burst reaches the
   * deliveries due after that burst, rather than the burst's next rows. The claim looks at the earliest
   * {@link CLAIM_LOOKS_AHEAD} times `limit` due deliveries that may go, as the index has them, not the
   * whole backlog; busy destinations are looked for among the earliest {@link BUSY_LOOKS_AT} (in flight,
   * a destination's deliveries are its earliest due, so they are there while its burst is).
   */
  async claim(
    db: Queryable,
    now: Date,
    leaseUntil: Date,
    limit: number,
  ): Promise<TeamDestinationDeliveryRow[]> {
    // Picked once (MATERIALIZED), never again per row of the table: docs/architecture.md, "Claiming a batch".
    // A window function cannot sit beside FOR UPDATE: the rows are picked first (more than `limit`), then
    // locked in their order (SKIP LOCKED) and checked again as locked, up to `limit`: a claim beside this
    // one picks alike, and takes the picks past the ones this one locked rather than none.
    const claimable = sql`((c.state = 'pending' AND c.due_at <= ${now})
      OR (c.state = 'sending' AND c.lease_until < ${now}))`;
    const result = await sql<TeamDestinationDeliveryRow>`
      WITH busy AS MATERIALIZED (${busyDestinations(now)}), due AS MATERIALIZED (
        SELECT c.id, c.destination_id, c.due_at FROM team_destination_deliveries c
        WHERE ${claimable} AND NOT c.destination_id = ANY(ARRAY(SELECT busy.destination_id FROM busy))
          AND ${MAY_GO} AND NOT ${destinationHeld(now)}
        ORDER BY c.due_at
        LIMIT ${limit * CLAIM_LOOKS_AHEAD}
      ), picked AS MATERIALIZED (
        SELECT ranked.id, row_number() OVER (ORDER BY ranked.nth, ranked.due_at, ranked.id) AS ord FROM (
          SELECT due.id, due.due_at,
                 row_number() OVER (PARTITION BY due.destination_id ORDER BY due.due_at, due.id) AS nth
          FROM due) ranked
        WHERE ranked.nth <= greatest(${PER_DESTINATION_PER_CLAIM}::int,
          ceil(${limit}::numeric / (SELECT greatest(count(DISTINCT due.destination_id), 1) FROM due)))
        ORDER BY ranked.nth, ranked.due_at, ranked.id
        LIMIT ${limit * CLAIM_OVER_PICKS}
      ), claimed AS MATERIALIZED (
        SELECT c.id FROM team_destination_deliveries c JOIN picked ON picked.id = c.id
        WHERE ${claimable}
        ORDER BY picked.ord
        LIMIT ${limit}
        FOR UPDATE OF c SKIP LOCKED
      )
      UPDATE team_destination_deliveries d
      SET state = 'sending', lease_until = ${leaseUntil}, attempts = d.attempts + 1,
          first_attempt_at = coalesce(d.first_attempt_at, ${now}), updated_at = ${now},
          -- A lease that ran out while sending: that attempt's request may have reached the receiver.
          may_have_reached = d.may_have_reached OR d.state = 'sending'
      FROM claimed WHERE d.id = claimed.id
      RETURNING d.*`.execute(db);
    // RETURNING keeps no order: the earliest due first.
    return result.rows.sort((a, b) => a.due_at.getTime() - b.due_at.getTime());
  },

  /**
   * What a claim at `now` could take (its own conditions), for the metrics; counted up to `limit`. Not
   * every due delivery: one behind an unsent earlier change to its alert, or of a destination held for a
   * 429, waits for its receiver (or for the alert events' queue, which tells its own backlog), and
   * counting it would show a receiver's outage, or a retry's backoff, as this queue falling behind.
   *
   * One walk of team_destination_deliveries_due from its earliest end, as the claim walks it, of at most
   * {@link BACKLOG_LOOKS_AHEAD} times `limit` due deliveries, judged after: the judging (three lookups
   * each) bounded by the walk, not the walk by what passes it, which in a receiver's outage (every
   * alert's later changes due and waiting behind its first) read every due delivery each scrape. The walk
   * reaches well past `limit` as, in such an outage, the head of the index is the blocked ones and what
   * may go waits behind them. What may go past the walk is not counted: the count is of the walk, and
   * the oldest is of the walk too (what lies past it was due no earlier). A delivery being sent keeps the
   * due_at it was claimed at (none later than that claim's `now`), so `due_at <= now` leaves none out.
   *
   * The claim's share per destination is left out: it spreads what may go over rounds, and the next
   * claim takes what one left; every delivery counted here is taken that way.
   */
  async backlog(db: Queryable, now: Date, limit: number): Promise<QueueBacklog> {
    const row = await sql<{ due: string; oldest: Date | null }>`
      SELECT count(*) AS due,
             min(CASE WHEN due.state = 'pending' THEN due.due_at ELSE due.lease_until END) AS oldest
      FROM (
        SELECT c.state, c.due_at, c.lease_until FROM (
          SELECT * FROM team_destination_deliveries
          WHERE state IN ('pending', 'sending') AND due_at <= ${now}
            AND (state = 'pending' OR lease_until < ${now})
          ORDER BY due_at
          LIMIT ${limit * BACKLOG_LOOKS_AHEAD}) AS c
        WHERE ${MAY_GO} AND NOT ${destinationHeld(now)}
        ORDER BY c.due_at
        LIMIT ${limit}) AS due`.execute(db);
    return { due: Number(row.rows[0]?.due ?? 0), oldestDueAt: row.rows[0]?.oldest ?? null };
  },

  /** Records outcomes in one statement; returns the ids whose claim was still current. */
  async recordOutcomes(db: Queryable, outcomes: readonly DeliveryOutcome[], now: Date): Promise<Set<string>> {
    if (outcomes.length === 0) return new Set();
    const input = outcomes.map((o) => ({
      id: o.id,
      attempts: o.attempts,
      state: o.state,
      due_at: o.dueAt?.toISOString() ?? null,
      last_error: o.error ?? null,
      response_status: o.responseStatus ?? null,
      response_excerpt: o.responseExcerpt ?? null,
      sent_at: o.sentAt?.toISOString() ?? null,
      refund: o.refundAttempt ?? false,
      reached: o.mayHaveReached ?? false,
    }));
    const updated = await prepared(sql<{ id: string }>`
      WITH input AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(input)}::jsonb) AS r(
          id uuid, attempts int, state text, due_at timestamptz, last_error text, response_status int,
          response_excerpt text, sent_at timestamptz, refund boolean, reached boolean)
      )
      UPDATE team_destination_deliveries d
      SET state = i.state, lease_until = NULL, updated_at = ${now},
          attempts = d.attempts - CASE WHEN i.refund THEN 1 ELSE 0 END,
          due_at = coalesce(i.due_at, d.due_at), last_error = i.last_error,
          response_status = i.response_status, response_excerpt = i.response_excerpt,
          sent_at = coalesce(i.sent_at, d.sent_at), may_have_reached = d.may_have_reached OR i.reached
      FROM input i
      WHERE d.id = i.id AND d.state = 'sending' AND d.attempts = i.attempts
      RETURNING d.id`).execute(db);
    return new Set(updated.rows.map((r) => r.id));
  },

  /**
   * When the next delivery that may go falls due, or a claimed one's lease runs out. With `recheckAt`, a
   * delivery held only for an earlier change still on its way to the consumer is looked at again: when
   * that change's event is next due to the consumer (its retry, or its lease running out), but no sooner
   * than `recheckAt` nor later than `fallbackAt` (`recheckAt` when not given); one held for a change still
   * in the outbox, at `recheckAt`. The consumer's queue wakes the sender once it is done with a batch, so
   * these are the fallbacks for a wake that never came, or a change that made no delivery here.
   *
   * A destination held for a 429's Retry-After at `now` (holdDestinations) counts for when its hold ends,
   * its deliveries for nothing until then. Every part leaves out what the claim leaves out, so no time it
   * gives has passed unless a claim can take something then (else the queue would look again at once).
   *
   * Each part walks the deliveries in due order and stops early (at the first that may go, or after the
   * first {@link RECHECK_LOOKS_AT} not behind an unsent one), rather than reading the whole backlog.
   */
  async nextDueAt(db: Queryable, now: Date, recheckAt?: Date, fallbackAt?: Date): Promise<Date | null> {
    const latest = fallbackAt ?? recheckAt;
    // A busy destination's due deliveries are the claim's to pass by, so not a time to look again at:
    // counted, a round beside the one sending its burst would look again every few milliseconds, each
    // look walking the burst. Its in-flight leases' end (the part on claimed deliveries) is when it may be
    // taken again.
    const held = destinationHeld(now);
    const passedBy = sql`(${held} OR c.destination_id = ANY(ARRAY(${busyDestinations(now)})))`;
    const recheck = recheckAt
      ? sql`(SELECT least(min(greatest(h.due_at, h.held_until)),
                   -- Those past the ones looked at fall due no sooner than the last of them.
                   CASE WHEN count(*) >= ${RECHECK_LOOKS_AT} THEN greatest(max(h.due_at), ${recheckAt}) END)
             FROM (SELECT c.due_at,
                     CASE WHEN ${EARLIER_IN_OUTBOX} THEN ${recheckAt}::timestamptz
                     ELSE (SELECT min(greatest(${recheckAt}::timestamptz, least(${latest}::timestamptz,
                                    greatest(w.due_at, coalesce(w.lease_until, w.due_at)))))
                           FROM ${ON_ITS_WAY} AND w.seq < c.seq AND w.event->>'alertId' = c.alert_id::text)
                     END AS held_until
                   FROM team_destination_deliveries c
                   WHERE c.state = 'pending' AND NOT ${EARLIER_UNSENT} AND NOT ${passedBy}
                   ORDER BY c.due_at
                   LIMIT ${RECHECK_LOOKS_AT}) h),`
      : sql``;
    const row = await sql<{ at: Date | null }>`
      SELECT least(
        (SELECT c.due_at FROM team_destination_deliveries c
          WHERE c.state = 'pending' AND ${MAY_GO} AND NOT ${passedBy}
          ORDER BY c.due_at
          LIMIT 1),
        ${recheck}
        (SELECT min(c.lease_until) FROM team_destination_deliveries c
          WHERE c.state = 'sending' AND ${MAY_GO} AND NOT ${held}),
        -- A held destination's deliveries are looked at when its hold ends (one of them may go then).
        (SELECT min(h.rate_limited_until) FROM team_destinations h
          WHERE h.rate_limited_until > ${now}
            AND EXISTS (SELECT 1 FROM team_destination_deliveries c
                        WHERE c.destination_id = h.id AND c.state IN ('pending', 'sending')))) AS at`.execute(
      db,
    );
    return row.rows[0]?.at ?? null;
  },

  /** A destination's delivery log, newest first. */
  async log(
    db: Queryable,
    destinationId: string,
    page: { limit: number; offset: number },
  ): Promise<TeamDestinationDeliveryRow[]> {
    return db
      .selectFrom('team_destination_deliveries')
      .selectAll()
      .where('destination_id', '=', destinationId)
      .orderBy('created_at', 'desc')
      .orderBy('seq', 'desc')
      .limit(page.limit)
      .offset(page.offset)
      .execute();
  },

  /** Deletes finished deliveries made before `before`; returns how many. */
  async purge(db: Queryable, before: Date): Promise<number> {
    return deleteInBatches(
      db,
      'team_destination_deliveries',
      sql`state IN ('sent', 'failed') AND created_at < ${before}::timestamptz`,
    );
  },

  /** An integration of the organization by id or name (names need not be unique: then it is ambiguous). */
  async findIntegrations(db: Queryable, orgId: string, identifier: string, by: 'id' | 'name') {
    if (by === 'id' && !isUuid(identifier)) return [];
    return db
      .selectFrom('integrations')
      .select(['id', 'name', 'owner_team_id'])
      .where('org_id', '=', orgId)
      .where((eb) =>
        by === 'id' ? eb('id', '=', identifier) : eb(sql`lower(name)`, '=', identifier.toLowerCase()),
      )
      .limit(2)
      .execute();
  },

  /**
   * Locks Webhook integrations' rows until commit, in id order: a Webhook integration's save locks its row
   * before it reads and writes its own destination, so a change of that destination taking the same rows
   * first waits for it rather than holding the destination the save waits for (a deadlock), and the save
   * then reads what the change left. FOR NO KEY UPDATE, not FOR UPDATE: the key share every insert
   * referring to an integration takes (a payload logged on each intake) is not kept waiting. Integrations
   * of other types have no own destination, nor settings a webhook writes back: they are not locked.
   */
  async lockIntegrations(db: Queryable, ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await db
      .selectFrom('integrations')
      .select('id')
      .where('id', 'in', ids)
      .where('type', '=', 'Webhook')
      .orderBy('id')
      .forNoKeyUpdate()
      .execute();
  },

  /** Locks the destination until commit: false once deleted. */
  async lock(db: Queryable, id: string): Promise<boolean> {
    const row = await db
      .selectFrom('team_destinations')
      .select('id')
      .where('id', '=', id)
      .forUpdate()
      .executeTakeFirst();
    return row !== undefined;
  },

  /**
   * Locks the destination until commit if it still belongs to the integration: false once a transaction
   * that held it moved it away or deleted it (PostgreSQL checks the row again as that one committed it).
   */
  async lockOfIntegration(db: Queryable, id: string, integrationId: string): Promise<boolean> {
    const row = await db
      .selectFrom('team_destinations')
      .select('id')
      .where('id', '=', id)
      .where('integration_id', '=', integrationId)
      .forUpdate()
      .executeTakeFirst();
    return row !== undefined;
  },
};
