import {
  sql,
  type OperationNode,
  type QueryCreator,
  type RawBuilder,
  type RawNode,
  type SelectQueryBuilder,
} from 'kysely';
import { type Queryable, isUuid } from '../db/database.js';
import { deleteInBatches } from '../db/delete-in-batches.js';
import { inSlices } from '../db/in-slices.js';
import type { AlertEvent } from './events.js';
import type { AlertRow, AlertUpdate, Database, Priority, ResponderRef } from '../db/schema.js';
import { prepared } from '../db/prepared.js';
import { tagOrTeamPart } from './query.js';

/** Everything one create statement writes (see createOrDeduplicate). */
export interface CreateStatement {
  row: {
    id: string;
    orgId: string;
    alias: string;
    message: string;
    description: string;
    source: string;
    priority: Priority;
    entity: string;
    tags: string[];
    details: string;
    actions: string[];
    responders: string;
    visibleTo: string;
    teamIds: string[];
    /** The teams whose notification policies apply to its escalations (alerts.policy_team_ids). */
    policyTeamIds: string[];
    integration?: { id: string; name: string; type: string };
  };
  requestId: string;
  /** When the request was taken, on the engine's clock: its record's processed_at, which retention reads. */
  requestAt: Date;
  owner: string;
  createdLog: string;
  /** The count is appended. */
  deduplicatedLog: string;
  note: string | null;
  noteLog: string | null;
  /**
   * When set, a create that counts one more occurrence writes this line instead of the note (its
   * requester may not add notes to an alert); a create that makes the alert keeps the note as its own.
   */
  noteLeftOutLog: string | null;
  createdEvent: AlertEvent;
  /** Completed with the existing alert's id and its new count. */
  deduplicatedEvent: Omit<Extract<AlertEvent, { type: 'deduplicated' }>, 'count'>;
  /** Completed with the alert's id (the existing one when deduplicated). */
  noteEvent?: Extract<AlertEvent, { type: 'note_added' }>;
}

/** The SQL for alerts, their notes, activity log and request outcomes. */

export type IdentifierType = 'id' | 'tiny' | 'alias';

/**
 * An alias as it is stored and looked up: without the spaces around it, so that the alert made with
 * `"db-down "` is the one `db-down ` (or `db-down`) names. Empty when there is none.
 */
export function aliasOf(given: string | undefined): string {
  return given?.trim() ?? '';
}

/**
 * The alerts a caller may see: those of its organization; for an integration's key, only those of its
 * team and those it made (see `isIntegrations`); for a user without the alerts-access-all right
 * (visibility.ts), only their own. Every read and every act goes through it.
 */
export interface AlertScope {
  orgId: string;
  integration?: AlertIntegration;
  viewer?: AlertViewer;
}

/** An integration's key, which sees its team's alerts and the alerts it made. */
export interface AlertIntegration {
  id: string;
  /** The team whose alerts the key sees (the integration's assignee team, else its owner team). */
  teamId: string;
}

/** A user who sees only the alerts that are theirs (see `isTheirs`). */
export interface AlertViewer {
  userId: string;
  /** Undefined (never empty) when the principal carries none: an unowned alert's owner is ''. */
  username: string | undefined;
  teamIds: readonly string[];
  /**
   * Whether they are in a team and were notified of more than {@link FEW_NOTIFIED} distinct alerts
   * (`alertsRepository.notifiedOfMany`): how `isTheirs` tests those alerts, never which alerts are theirs.
   */
  notifiedOfMany: boolean;
}

/**
 * The most distinct alerts a user may have been notified of for `isTheirs` to test them as a list of
 * ids. A row a plan walks searches that list in turn, so a walk costs more with each id; the hashed
 * subquery costs the same for any number but no index serves it, so a user who sees few alerts would have
 * every alert of the organization read. Measured on 100k alerts, counting for a member of a team that has
 * 30% of them (a walk): as a list, 100 ids ~95 ms, 300 ~160 ms, 1,000 ~590 ms, 5,000 ~2 s; as the
 * subquery ~100-130 ms for each. For a user without teams the list keeps a count at 1-3 ms up to 1,000
 * ids, the subquery 70-160 ms.
 */
export const FEW_NOTIFIED = 100;

const responderRefs = (type: ResponderRef['type'], ids: readonly string[]) =>
  ids.map((id) => JSON.stringify([{ type, id }]));

/*
 * A scope is an OR of tests, and PostgreSQL can serve an OR from indexes only when each of its tests is
 * one an index of the alerts serves (a BitmapOr): a single other test, such as `@> ANY(…)` or an
 * `IN (SELECT …)` of notifications, made every restricted count read all of the organization's alerts,
 * and a page walk them all when fewer than its end were theirs. So each test below is one an index
 * serves (migration 0072; team_ids's GIN, the primary key), and each stays cheap on a single row: the
 * planner may still walk a page's order, or check the one alert an act names, whichever costs less.
 */

/** Each of `refs` (one-element responders arrays) as a containment of its own: `@> ANY(…)` uses no index. */
function containsAny(column: 'responders' | 'visible_to', refs: readonly string[]): RawBuilder<boolean>[] {
  return refs.map((ref) => sql<boolean>`alerts.${sql.ref(column)} @> ${ref}::jsonb`);
}

/**
 * Whether an escalation or a schedule one of `teams` owns is a responder: team_ids holds only the teams
 * named as responders, while Opsgenie counts a team's escalation or schedule as the team. The owned ones
 * are read once per statement, into one JSON path the GIN index on responders serves: what
 * `responders @> '[{"type": …, "id": …}]'` for any of them is, a strict path (a non-array, a non-object
 * element, an id or type that is no string matches nothing, as for containment; the operator's null for
 * a non-array is no match in a WHERE). With none owned, a type that is both (never) keeps the path valid.
 */
function respondedByTeamsOwn(teams: readonly string[]): RawBuilder<boolean> {
  return sql<boolean>`alerts.responders @? (
    SELECT ('strict $[*] ? (' || coalesce(
      string_agg('(@.type == "' || owned.type || '" && @.id == "' || owned.id::text || '")', ' || '),
      '@.type == "escalation" && @.type == "schedule"') || ')')::jsonpath
    FROM (SELECT 'escalation' AS type, e.id FROM escalations e WHERE e.owner_team_id = ANY(${[...teams]}::uuid[])
          UNION ALL
          SELECT 'schedule', s.id FROM schedules s WHERE s.owner_team_id = ANY(${[...teams]}::uuid[])) AS owned)`;
}

/**
 * Opsgenie's "their alerts", which a user without Access All Alerts sees: those they own, those with them
 * or a team of theirs as a responder or in visibleTo (a team's escalation or schedule as a responder
 * counts for its team), and those they were notified of, whichever way they were reached. Without a
 * username they own none; without teams none is theirs through a team.
 *
 * The notified alerts are a list of ids, which the primary key serves; on a row the list is searched in
 * turn (only for an alert no other test took), which is why it holds each alert once. That search is
 * linear (the list is a parameter of the plan, which PostgreSQL does not hash), so for a user notified
 * of many alerts ({@link FEW_NOTIFIED}) they are a subquery instead, hashed once and cheap on every row.
 * No index serves it, so their scope is always read by walking the alerts: what a plan picks anyway when
 * they see many, and a bounded cost when they see few but their notified alerts.
 */
function isTheirs(viewer: AlertViewer): RawBuilder<boolean> {
  const refs = [...responderRefs('user', [viewer.userId]), ...responderRefs('team', viewer.teamIds)];
  const teams = viewer.teamIds.length > 0;
  const tests = [
    ...(viewer.username ? [sql<boolean>`alerts.owner = ${viewer.username}`] : []),
    ...(teams ? [sql<boolean>`alerts.team_ids && ${[...viewer.teamIds]}::uuid[]`] : []),
    ...containsAny('responders', refs),
    ...(teams ? [respondedByTeamsOwn(viewer.teamIds)] : []),
    ...containsAny('visible_to', refs),
    viewer.notifiedOfMany
      ? sql<boolean>`alerts.id IN (SELECT n.alert_id FROM notifications n WHERE n.user_id = ${viewer.userId})`
      : sql<boolean>`alerts.id = ANY(ARRAY(
      SELECT DISTINCT n.alert_id FROM notifications n WHERE n.user_id = ${viewer.userId}))`,
  ];
  return sql<boolean>`(${sql.join(tests, sql` OR `)})`;
}

/**
 * What an integration's key sees: the alerts of its team, counting the team's escalations and schedules
 * as the team (as for a user), those visible to its team (visibleTo), and the alerts it made, whatever
 * their responders. Without the last two,
 * a key that creates an alert for an escalation, a schedule, a user or another team could not close it
 * (Alertmanager and Grafana close on resolve by alias with the key that created the alert).
 * The team counts as a responder through team_ids alone (a user's teams through their references too).
 */
function isIntegrations(integration: AlertIntegration): RawBuilder<boolean> {
  const tests = [
    sql<boolean>`alerts.integration_id = ${integration.id}`,
    sql<boolean>`alerts.team_ids && ${[integration.teamId]}::uuid[]`,
    respondedByTeamsOwn([integration.teamId]),
    ...containsAny('visible_to', responderRefs('team', [integration.teamId])),
  ];
  return sql<boolean>`(${sql.join(tests, sql` OR `)})`;
}

/** `query` narrowed to the alerts of `scope`. */
function withinScope<O>(query: SelectQueryBuilder<Database, 'alerts', O>, scope: AlertScope) {
  let scoped = query.where('alerts.org_id', '=', scope.orgId);
  if (scope.integration) scoped = scoped.where(isIntegrations(scope.integration));
  if (scope.viewer) scoped = scoped.where(isTheirs(scope.viewer));
  return scoped;
}

/** The scope's alerts, to count. */
function inScope(db: Queryable, scope: AlertScope) {
  return withinScope(db.selectFrom('alerts'), scope);
}

/**
 * The top-level conjuncts every condition has, each once, and what is left of each condition without
 * them (undefined: nothing, every alert the shared ones leave). Read from the conditions' operation
 * nodes, as compileQuery (query.ts) writes an AND: `(left AND right)`, both sides whole conditions, as it
 * parenthesizes every AND and OR it writes; so moving a conjunct out changes nothing, as `a AND b` is
 * true exactly when both are. An OR, a NOT or any other shape is one conjunct, never looked into, and
 * conjuncts are the same only when their nodes are (the same SQL with the same parameters). With a
 * condition of every alert (undefined) there is nothing shared.
 */
function sharedConjuncts(wheres: readonly (RawBuilder<boolean> | undefined)[]): {
  shared: RawBuilder<boolean>[];
  rest: (RawBuilder<boolean> | undefined)[];
} {
  const split = wheres.map((where) => (where ? conjunctsOf(where.toOperationNode()) : undefined));
  const [first, ...others] = split;
  const shared: OperationNode[] = [];
  if (first && others.every((c) => c !== undefined)) {
    for (const node of first) {
      if (shared.some((s) => sameNode(s, node))) continue;
      if (others.every((c) => c.some((o) => sameNode(o, node)))) shared.push(node);
    }
  }
  if (shared.length === 0) return { shared: [], rest: [...wheres] };
  return {
    shared: shared.map(condition),
    rest: split.map((conjuncts) => {
      const left = (conjuncts ?? []).filter((c) => !shared.some((s) => sameNode(s, c)));
      return left.length === 0 ? undefined : sql.join(left.map(condition), sql` AND `);
    }),
  };
}

const AND_FRAGMENTS = ['(', ' AND ', ')'];

function isRawNode(node: OperationNode): node is RawNode {
  return node.kind === 'RawNode';
}

/** A condition's top-level `(left AND right)`s, flattened: `((a AND b) AND c)` is a, b and c. */
function conjunctsOf(node: OperationNode): OperationNode[] {
  if (
    isRawNode(node) &&
    node.parameters.length === 2 &&
    node.sqlFragments.length === AND_FRAGMENTS.length &&
    node.sqlFragments.every((f, i) => f === AND_FRAGMENTS[i])
  ) {
    return node.parameters.flatMap(conjunctsOf);
  }
  return [node];
}

/** A conjunct as a condition of its own, parenthesized (whatever it holds, AND-ed as one). */
function condition(node: OperationNode): RawBuilder<boolean> {
  return sql<boolean>`(${{ toOperationNode: () => node }})`;
}

/** Whether two operation nodes are alike, and so compile to the same SQL with the same parameters. */
function sameNode(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (a instanceof Date || b instanceof Date) {
    return a instanceof Date && b instanceof Date && a.getTime() === b.getTime();
  }
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b) || Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) {
    return false;
  }
  const keys = Object.keys(a);
  const record = (o: object) => o as Record<string, unknown>;
  return (
    keys.length === Object.keys(b).length &&
    keys.every((k) => Object.hasOwn(b, k) && sameNode(record(a)[k], record(b)[k]))
  );
}

export const SORT_COLUMNS = {
  createdAt: 'created_at',
  updatedAt: 'updated_at',
  tinyId: 'tiny_id',
  alias: 'alias',
  message: 'message',
  status: 'status',
  acknowledged: 'acknowledged',
  isSeen: 'is_seen',
  snoozed: 'snoozed',
  snoozedUntil: 'snoozed_until',
  count: 'count',
  lastOccurredAt: 'last_occurred_at',
  // As Opsgenie's Go SDK spells it (its alert.LastOccurredAt sort field), so its clients send it.
  lastOccuredAt: 'last_occurred_at',
  source: 'source',
  owner: 'owner',
  priority: 'priority',
  // Opsgenie's report and integration fields, which its clients sort by too.
  'integration.name': 'integration_name',
  'integration.type': 'integration_type',
  'report.ackTime': 'ack_time',
  'report.closeTime': 'close_time',
  'report.acknowledgedBy': 'acknowledged_by',
  'report.closedBy': 'closed_by',
  // Opsgenie takes the snake_case names as well (its Python SDK sends them).
  created_at: 'created_at',
  updated_at: 'updated_at',
  tiny_id: 'tiny_id',
  is_seen: 'is_seen',
  snoozed_until: 'snoozed_until',
  last_occurred_at: 'last_occurred_at',
  'report.ack_time': 'ack_time',
  'report.close_time': 'close_time',
  'report.acknowledged_by': 'acknowledged_by',
  'report.closed_by': 'closed_by',
} as const;
export type SortField = keyof typeof SORT_COLUMNS;

/**
 * The most alerts a list narrowed by a tag or a team reads whole and sorts, rather than letting PostgreSQL
 * pick its plan (see `alertsRepository.list`). A top-N sort of 2,000 alerts takes a few milliseconds; past
 * that many, a walk of the order's index meets the page's alerts soon enough.
 */
const FEW_TO_SORT = 2000;

/** Whether the scope holds at most `most` alerts the condition holds: reads at most one more. */
async function holdsAtMost(
  db: Queryable,
  scope: AlertScope,
  where: RawBuilder<boolean>,
  most: number,
): Promise<boolean> {
  const few = inScope(db, scope)
    .where(where)
    .select(sql<number>`1`.as('one'))
    .limit(most + 1);
  const row = await db
    .selectFrom(few.as('few'))
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n) <= most;
}

export const alertsRepository = {
  /**
   * Creates an alert, or counts one more occurrence of the open alert with the same alias, together
   * with its log lines, its note, its event jobs and the request's outcome: one statement, so one round
   * trip and one atomic change. The partial unique index makes it race-free: concurrent creates of one
   * alias make one alert.
   */
  async createOrDeduplicate(
    db: Queryable,
    input: CreateStatement,
  ): Promise<{ alert: AlertRow; inserted: boolean }> {
    const [created] = await alertsRepository.createOrDeduplicateMany(db, [input]);
    if (!created) throw new Error('the alert insert returned no row');
    return created;
  },

  /**
   * Many creates at once, each as `createOrDeduplicate` does it, all in one statement: a burst of alerts
   * (a delivery's findings) costs one round trip, not one each. The aliases must differ (PostgreSQL
   * cannot count one alert twice in one statement); the results come back in the inputs' order.
   */
  async createOrDeduplicateMany(
    db: Queryable,
    inputs: readonly CreateStatement[],
  ): Promise<{ alert: AlertRow; inserted: boolean }[]> {
    if (inputs.length === 0) return [];
    const rows = inputs.map((input, ord) => {
      const r = input.row;
      return {
        ord,
        id: r.id,
        org_id: r.orgId,
        alias: r.alias,
        message: r.message,
        description: r.description,
        source: r.source,
        priority: r.priority,
        entity: r.entity,
        tags: r.tags,
        details: JSON.parse(r.details) as unknown,
        actions: r.actions,
        responders: JSON.parse(r.responders) as unknown,
        visible_to: JSON.parse(r.visibleTo) as unknown,
        team_ids: r.teamIds,
        policy_team_ids: r.policyTeamIds,
        integration_id: r.integration?.id ?? null,
        integration_name: r.integration?.name ?? null,
        integration_type: r.integration?.type ?? null,
        request_id: input.requestId,
        request_at: input.requestAt.toISOString(),
        owner: input.owner,
        created_log: input.createdLog,
        deduplicated_log: input.deduplicatedLog,
        note: input.note,
        note_log: input.noteLog,
        note_left_out_log: input.noteLeftOutLog,
        created_event: input.createdEvent,
        deduplicated_event: input.deduplicatedEvent,
        note_event: input.noteEvent ?? null,
      };
    });
    const result = await prepared(sql<AlertRow & { inserted: boolean; ord: number }>`
      WITH input AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS r(
          ord int, id uuid, org_id uuid, alias text, message text, description text, source text,
          priority text, entity text, tags jsonb, details jsonb, actions jsonb, responders jsonb,
          visible_to jsonb, team_ids jsonb, policy_team_ids jsonb, integration_id uuid, integration_name text,
          integration_type text, request_id text, request_at timestamptz, owner text, created_log text,
          deduplicated_log text, note text, note_log text, note_left_out_log text, created_event jsonb,
          deduplicated_event jsonb, note_event jsonb)
      ),
      upsert AS (
        INSERT INTO alerts (id, org_id, alias, message, description, source, priority, entity, tags, details,
                            actions, responders, visible_to, team_ids, policy_team_ids, integration_id, integration_name,
                            integration_type)
        SELECT id, org_id, alias, message, description, source, priority, entity,
               ARRAY(SELECT jsonb_array_elements_text(tags)), details,
               ARRAY(SELECT jsonb_array_elements_text(actions)), responders, visible_to,
               ARRAY(SELECT jsonb_array_elements_text(team_ids))::uuid[],
               ARRAY(SELECT jsonb_array_elements_text(policy_team_ids))::uuid[],
               integration_id, integration_name, integration_type
        FROM input ORDER BY ord
        ON CONFLICT (org_id, alias) WHERE status = 'open'
        DO UPDATE SET count = alerts.count + 1, last_occurred_at = now(), updated_at = now()
        RETURNING *, (xmax = 0) AS inserted
      ),
      -- An open alias is one alert per organization: that is how each result finds its input.
      made AS (
        SELECT upsert.*, input.ord AS input_ord, input.request_id, input.request_at, input.owner AS log_owner,
               input.created_log, input.deduplicated_log, input.note, input.note_log, input.created_event,
               input.deduplicated_event, input.note_event, input.integration_id AS requester_integration_id,
               (NOT inserted AND input.note_left_out_log IS NOT NULL) AS note_left_out,
               input.note_left_out_log
        FROM upsert JOIN input ON input.org_id = upsert.org_id AND input.alias = upsert.alias
      ),
      logs AS (
        INSERT INTO alert_logs (alert_id, type, log, owner)
        SELECT id, kind, text, log_owner FROM (
          SELECT input_ord, 0 AS n, id, log_owner,
                 CASE WHEN inserted THEN 'create' ELSE 'deduplicate' END AS kind,
                 CASE WHEN inserted THEN created_log ELSE deduplicated_log || count END AS text
          FROM made
          UNION ALL
          SELECT input_ord, 1, id, log_owner, 'note',
                 CASE WHEN note_left_out THEN note_left_out_log ELSE note_log END
          FROM made WHERE note IS NOT NULL
        ) AS lines
        ORDER BY input_ord, n
      ),
      notes AS (
        INSERT INTO alert_notes (alert_id, note, owner)
        SELECT id, note, log_owner FROM made WHERE note IS NOT NULL AND NOT note_left_out ORDER BY input_ord
      ),
      -- The request's integration is the requester's, not the alert's: a de-duplicated create counts one
      -- more occurrence of an alert another integration (or a user) may have made.
      request AS (
        INSERT INTO alert_requests (id, org_id, action, success, status, alert_id, alias, integration_id,
                                    processed_at)
        SELECT request_id, org_id, 'Create', true,
               CASE WHEN inserted THEN 'Created alert' ELSE 'Alert deduplicated' END, id, alias,
               requester_integration_id, request_at
        FROM made ORDER BY input_ord
        ON CONFLICT (id) DO NOTHING
      ),
      events AS (
        INSERT INTO outbox_jobs (task, payload)
        SELECT 'alert-event', payload FROM (
          SELECT input_ord, 0 AS n,
                 CASE WHEN inserted THEN created_event
                      ELSE deduplicated_event || jsonb_build_object('alertId', id, 'count', count)
                 END AS payload
          FROM made
          UNION ALL
          SELECT input_ord, 1, note_event || jsonb_build_object('alertId', id)
          FROM made WHERE note_event IS NOT NULL AND NOT note_left_out
          UNION ALL
          -- Only an alert the engine holds notifications of (engine/notification-holds.ts) has it count this
          -- occurrence: the flag is read from the row this statement updated, after any lock it waited for.
          SELECT input_ord, 2, deduplicated_event || jsonb_build_object(
                   'type', 'hold_occurrence', 'eventId', gen_random_uuid(), 'alertId', id, 'count', count)
          FROM made WHERE NOT inserted AND notification_held
        ) AS out
        ORDER BY input_ord, n
      )
      -- Only the alerts' own columns come back (the logs' and events' texts stay in the database).
      SELECT upsert.*, made.input_ord AS ord FROM upsert JOIN made ON made.id = upsert.id
      ORDER BY made.input_ord`).execute(db);
    const byOrd = new Map<number, { alert: AlertRow; inserted: boolean }>();
    for (const row of result.rows) {
      const { inserted, ord, ...alert } = row;
      byOrd.set(Number(ord), { alert, inserted });
    }
    return inputs.map((_, ord) => {
      const made = byOrd.get(ord);
      if (!made) throw new Error('an alert insert returned no row');
      return made;
    });
  },

  /** Finds an alert by id, tiny id or alias (the open one first, else the latest), locking it when asked. */
  async find(
    db: Queryable,
    scope: AlertScope,
    identifier: string,
    type: IdentifierType,
    forUpdate = false,
  ): Promise<AlertRow | undefined> {
    let query = withinScope(db.selectFrom('alerts').selectAll(), scope);
    if (type === 'id') {
      if (!isUuid(identifier)) return undefined;
      query = query.where('id', '=', identifier);
    } else if (type === 'tiny') {
      if (!/^\d{1,18}$/.test(identifier)) return undefined;
      query = query.where('tiny_id', '=', identifier as never);
    } else {
      query = query
        .where('alias', '=', aliasOf(identifier))
        .orderBy(sql`status = 'open'`, 'desc')
        .orderBy('created_at', 'desc')
        .limit(1);
    }
    if (forUpdate) query = query.forUpdate();
    return query.executeTakeFirst();
  },

  /**
   * The alerts of these ids the scope holds, locked, in one statement. Locked in id order, so two
   * callers locking overlapping sets wait for each other instead of deadlocking.
   */
  async lockByIds(db: Queryable, scope: AlertScope, ids: readonly string[]): Promise<AlertRow[]> {
    const uuids = ids.filter(isUuid);
    if (uuids.length === 0) return [];
    return withinScope(db.selectFrom('alerts').selectAll(), scope)
      .where('id', 'in', uuids)
      .orderBy('id')
      .forUpdate()
      .execute();
  },

  /** Which of these ids name alerts of the scope (in no particular order). */
  async idsInScope(db: Queryable, scope: AlertScope, ids: readonly string[]): Promise<string[]> {
    const uuids = ids.filter(isUuid);
    if (uuids.length === 0) return [];
    const rows = await withinScope(db.selectFrom('alerts').select('alerts.id'), scope)
      .where('alerts.id', 'in', uuids)
      .execute();
    return rows.map((r) => r.id);
  },

  /**
   * Whether the user was notified of more than {@link FEW_NOTIFIED} distinct alerts (for
   * `AlertViewer.notifiedOfMany`): reads at most one more than that from their notifications' index.
   */
  async notifiedOfMany(db: Queryable, userId: string): Promise<boolean> {
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM (
        SELECT DISTINCT alert_id FROM notifications WHERE user_id = ${userId} LIMIT ${FEW_NOTIFIED + 1}) AS few`.execute(
      db,
    );
    return (rows[0]?.n ?? 0) > FEW_NOTIFIED;
  },

  /** An alert by its id alone, for the workers (the API's reads go through `find`, scoped). */
  byId(db: Queryable, id: string): Promise<AlertRow | undefined> {
    return db.selectFrom('alerts').selectAll().where('id', '=', id).executeTakeFirst();
  },

  async byIds(db: Queryable, ids: readonly string[]): Promise<AlertRow[]> {
    if (ids.length === 0) return [];
    return db.selectFrom('alerts').selectAll().where('id', 'in', ids).execute();
  },

  async update(db: Queryable, id: string, changes: AlertUpdate): Promise<AlertRow> {
    return db
      .updateTable('alerts')
      .set({ ...changes, updated_at: new Date() })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirstOrThrow();
  },

  async delete(db: Queryable, id: string): Promise<void> {
    await db.deleteFrom('alerts').where('id', '=', id).execute();
  },

  /**
   * A user's alerts follow their login when it changes (`to`), and have no owner once they are deleted
   * (`to` empty): an alert's owner is their username (Opsgenie's), and who owns an alert may see it, so
   * the old name would otherwise pass them to whoever takes it next.
   */
  async renameOwner(db: Queryable, orgId: string, from: string, to: string): Promise<void> {
    await db
      .updateTable('alerts')
      .set({ owner: to })
      .where('org_id', '=', orgId)
      .where('owner', '=', from)
      .execute();
  },

  /**
   * A page of the scope's alerts the condition holds, in the order asked, tiny ids breaking ties.
   *
   * PostgreSQL knows no frequency of a tag its statistics missed (each alert's own tags leave it none) nor
   * of the teams a `teams:` term names (read as the statement runs), and guesses 0.5% or 1% of the alerts.
   * Asked for a page in created_at or tiny_id order, it then walks that index to find the page early,
   * which for a rare tag or team reads every alert of the organization (300k alerts: 150-800 ms, where
   * its GIN index finds them in 0.1 ms). So for a condition that only tagged or teamed alerts meet, the
   * alerts of its tags and teams (`tagOrTeamPart`) are first counted up to {@link FEW_TO_SORT}, a read that
   * index serves; when that few, they are read whole (the materialized CTE, which no order reaches into)
   * and sorted. The count is of that part, not of the whole condition: the CTE reads every alert the part
   * holds, however few of them the rest keeps (`tag:prod AND priority:P1`, prod on 250k of 300k alerts,
   * matches a few but reads 250k), where the walk stops at the page's last. The rows and their order are
   * the same either way: the same condition, the same ORDER BY. The count costs a tag or team on many
   * alerts its whole GIN posting list (a team on 60k of 300k: some 15-20 ms more).
   */
  async list(
    db: Queryable,
    scope: AlertScope,
    where: RawBuilder<boolean> | undefined,
    page: { offset: number; limit: number; sort: SortField; order: 'asc' | 'desc' },
  ): Promise<AlertRow[]> {
    const matching = (from: QueryCreator<Database>) => {
      const query = withinScope(from.selectFrom('alerts').selectAll(), scope);
      return where ? query.where(where) : query;
    };
    const narrowing = where && tagOrTeamPart(where);
    if (narrowing && (await holdsAtMost(db, scope, narrowing, FEW_TO_SORT))) {
      return db
        .with((cte) => cte('m').materialized(), matching)
        .selectFrom('m')
        .selectAll()
        .orderBy(SORT_COLUMNS[page.sort], page.order)
        .orderBy('tiny_id', page.order)
        .offset(page.offset)
        .limit(page.limit)
        .execute();
    }
    return matching(db)
      .orderBy(SORT_COLUMNS[page.sort], page.order)
      .orderBy('tiny_id', page.order)
      .offset(page.offset)
      .limit(page.limit)
      .execute();
  },

  async count(db: Queryable, scope: AlertScope, where: RawBuilder<boolean> | undefined): Promise<number> {
    let query = inScope(db, scope).select((eb) => eb.fn.countAll<string>().as('n'));
    if (where) query = query.where(where);
    return Number((await query.executeTakeFirstOrThrow()).n);
  },

  /**
   * The count of each condition (undefined: every alert of the scope), in their order, from one scan of
   * the scope's alerts: one statement however many there are, where `count` would take one each.
   *
   * The conjuncts every condition has (the console's search box and saved search, AND-ed to each of its
   * views) go to the WHERE, once: an index may then serve them, and a row is checked against them once,
   * not once per count. Each FILTER keeps the rest of its condition, so each count is what it was.
   */
  async countEach(
    db: Queryable,
    scope: AlertScope,
    wheres: readonly (RawBuilder<boolean> | undefined)[],
  ): Promise<number[]> {
    if (wheres.length === 0) return [];
    const { shared, rest } = sharedConjuncts(wheres);
    let query = inScope(db, scope);
    for (const conjunct of shared) query = query.where(conjunct);
    const row = await query
      .select(
        rest.map((where, i) =>
          (where ? sql<string>`count(*) FILTER (WHERE ${where})` : sql<string>`count(*)`).as(`n${i}`),
        ),
      )
      .executeTakeFirstOrThrow();
    const counts = row as Record<string, string>;
    return wheres.map((_, i) => Number(counts[`n${i}`]));
  },

  async addLog(db: Queryable, alertId: string, type: string, log: string, owner: string): Promise<void> {
    await alertsRepository.addLogs(db, [{ alertId, type, log, owner }]);
  },

  /** Lines of activity logs, in the order given (the one way an alert's log is written). */
  async addLogs(
    db: Queryable,
    lines: readonly { alertId: string; type: string; log: string; owner: string }[],
  ): Promise<void> {
    // The engine's lines of one transaction (one a person paged, for 50 alerts at once) can be more
    // than one statement binds.
    await inSlices(lines, async (slice) => {
      await db
        .insertInto('alert_logs')
        .values(slice.map((l) => ({ alert_id: l.alertId, type: l.type, log: l.log, owner: l.owner })))
        .execute();
      return [];
    });
  },

  /**
   * addLogs for alerts that may have been deleted since the lines were made (work settled after its
   * alert went): only those that still exist get theirs, and a deleted one costs the others nothing.
   */
  async addLogsToExisting(
    db: Queryable,
    lines: readonly { alertId: string; type: string; log: string; owner: string }[],
  ): Promise<void> {
    if (lines.length === 0) return;
    await sql`
      INSERT INTO alert_logs (alert_id, type, log, owner)
      SELECT l.alert_id, l.type, l.log, l.owner
      FROM unnest(${lines.map((l) => l.alertId)}::uuid[], ${lines.map((l) => l.type)}::text[],
        ${lines.map((l) => l.log)}::text[], ${lines.map((l) => l.owner)}::text[])
        WITH ORDINALITY AS l(alert_id, type, log, owner, n)
      JOIN alerts a ON a.id = l.alert_id
      ORDER BY l.n`.execute(db);
  },

  async addNote(db: Queryable, alertId: string, note: string, owner: string): Promise<void> {
    await db.insertInto('alert_notes').values({ alert_id: alertId, note, owner }).execute();
  },

  /** A page of an alert's notes or log, by id as the cursor (`offset` in Opsgenie's terms). */
  async page<T extends 'alert_logs' | 'alert_notes'>(
    db: Queryable,
    table: T,
    alertId: string,
    page: { after?: string; direction: 'next' | 'prev'; order: 'asc' | 'desc'; limit: number },
  ) {
    // "next" walks in the requested order; "prev" walks back from the cursor and is re-sorted.
    const forward = page.direction === 'next';
    const ascending = page.order === 'asc' ? forward : !forward;
    let query = db
      .selectFrom(table as 'alert_logs')
      .selectAll()
      .where('alert_id', '=', alertId);
    if (page.after !== undefined) {
      query = query.where('id', ascending ? '>' : '<', page.after as never);
    }
    const rows = await query
      .orderBy('id', ascending ? 'asc' : 'desc')
      .limit(page.limit)
      .execute();
    if (!forward) rows.reverse();
    return rows as unknown as T extends 'alert_logs'
      ? { id: string; alert_id: string; created_at: Date; type: string; log: string; owner: string }[]
      : { id: string; alert_id: string; created_at: Date; note: string; owner: string }[];
  },

  async recordRequest(
    db: Queryable,
    row: {
      id: string;
      org_id: string;
      action: string;
      success: boolean;
      status: string;
      alert_id: string | null;
      alias: string | null;
      integration_id?: string | null;
      /** On the engine's clock, which retention reads. */
      processed_at: Date;
    },
  ): Promise<void> {
    await db
      .insertInto('alert_requests')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  },

  async findRequest(db: Queryable, orgId: string, id: string) {
    return db
      .selectFrom('alert_requests')
      .selectAll()
      .where('org_id', '=', orgId)
      .where('id', '=', id)
      .executeTakeFirst();
  },

  async purgeRequests(db: Queryable, before: Date): Promise<number> {
    return deleteInBatches(db, 'alert_requests', sql`processed_at < ${before}::timestamptz`);
  },

  /** Open snoozed alerts whose snooze has ended by `now`, soonest first. */
  async dueSnoozes(db: Queryable, now: Date, limit: number): Promise<{ id: string; until: Date }[]> {
    const rows = await db
      .selectFrom('alerts')
      .select(['id', 'snoozed_until'])
      .where('snoozed', '=', true)
      .where('snoozed_until', '<=', now)
      .orderBy('snoozed_until')
      .limit(limit)
      .execute();
    return rows.flatMap((r) => (r.snoozed_until ? [{ id: r.id, until: r.snoozed_until }] : []));
  },

  async nextSnoozeEnd(db: Queryable): Promise<Date | null> {
    const row = await db
      .selectFrom('alerts')
      .select((eb) => eb.fn.min('snoozed_until').as('at'))
      .where('snoozed', '=', true)
      .executeTakeFirst();
    return (row?.at as Date | null | undefined) ?? null;
  },
};
