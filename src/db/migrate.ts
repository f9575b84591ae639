import { setTimeout as sleep } from 'node:timers/promises';
import { Migrator, sql, type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type pg from 'pg';
import { withoutQueryTimeout, type Db } from './database.js';
import type { Logger } from '../logger.js';
import * as m0001 from './migrations/0001_foundation.js';
import * as m0002 from './migrations/0002_outbox.js';
import * as m0003 from './migrations/0003_integrations.js';
import * as m0004 from './migrations/0004_writeback.js';
import * as m0005 from './migrations/0005_oncall.js';
import * as m0006 from './migrations/0006_writeback_retention.js';
import * as m0007 from './migrations/0007_hostile_input.js';
import * as m0008 from './migrations/0008_work.js';
import * as m0009 from './migrations/0009_destinations.js';
import * as m0010 from './migrations/0010_event_claim_order.js';
import * as m0011 from './migrations/0011_console.js';
import * as m0012 from './migrations/0012_push.js';
import * as m0013 from './migrations/0013_phones.js';
import * as m0014 from './migrations/0014_team_destinations.js';
import * as m0015 from './migrations/0015_slack.js';
import * as m0016 from './migrations/0016_heartbeats.js';
import * as m0017 from './migrations/0017_saved_searches.js';
import * as m0018 from './migrations/0018_maintenance.js';
import * as m0019 from './migrations/0019_alert_shaping.js';
import * as m0020 from './migrations/0020_alert_attachments.js';
import * as m0021 from './migrations/0021_team_logs.js';
import * as m0022 from './migrations/0022_integration_key_unique.js';
import * as m0023 from './migrations/0023_maintenance_policies.js';
import * as m0024 from './migrations/0024_email_integrations.js';
import * as m0025 from './migrations/0025_notification_policies.js';
import * as m0026 from './migrations/0026_team_roles.js';
import * as m0027 from './migrations/0027_policy_options.js';
import * as m0028 from './migrations/0028_email_messages.js';
import * as m0029 from './migrations/0029_team_member_positions.js';
import * as m0030 from './migrations/0030_user_profile_fields.js';
import * as m0031 from './migrations/0031_notification_rule_timing.js';
import * as m0032 from './migrations/0032_contact_given_to.js';
import * as m0033 from './migrations/0033_notification_repeats.js';
import * as m0036 from './migrations/0036_custom_user_roles.js';
import * as m0037 from './migrations/0037_incidents.js';
import * as m0038 from './migrations/0038_rotation_participants.js';
import * as m0039 from './migrations/0039_rotations_combine.js';
import * as m0040 from './migrations/0040_notifications_by_user.js';
import * as m0041 from './migrations/0041_alert_feed_wishes.js';
import * as m0042 from './migrations/0042_notifications_let_through.js';
import * as m0043 from './migrations/0043_verification_address.js';
import * as m0044 from './migrations/0044_writeback_ocsf.js';
import * as m0045 from './migrations/0045_send_limits_and_spent_reply_codes.js';
import * as m0046 from './migrations/0046_auto_close_policy.js';
import * as m0047 from './migrations/0047_writeback_claim_id.js';
import * as m0048 from './migrations/0048_password_reset_requests.js';
import * as m0049 from './migrations/0049_alert_search_indexes.js';
import * as m0050 from './migrations/0050_override_none.js';
import * as m0051 from './migrations/0051_maintenance_policy_rule_state.js';
import * as m0052 from './migrations/0052_api_key_holders.js';
import * as m0053 from './migrations/0053_email_threads.js';
import * as m0054 from './migrations/0054_finding_last_alert.js';
import * as m0056 from './migrations/0056_finding_event_time.js';
import * as m0057 from './migrations/0057_slack_link_by_admin.js';
import * as m0058 from './migrations/0058_notification_rule_step.js';
import * as m0059 from './migrations/0059_announce_deleted_alerts.js';
import * as m0060 from './migrations/0060_webhook_settings_from_destination.js';
import * as m0061 from './migrations/0061_account_token_given_to.js';
import * as m0062 from './migrations/0062_announce_alert_sight.js';
import * as m0063 from './migrations/0063_team_delivery_hold_indexes.js';
import * as m0064 from './migrations/0064_sns_subscription_pending.js';
import * as m0065 from './migrations/0065_team_destination_rate_limit_hold.js';
import * as m0066 from './migrations/0066_notifications_rate_limited_since.js';
import * as m0067 from './migrations/0067_announce_scope_changes.js';
import * as m0068 from './migrations/0068_announce_integration_scope_changes.js';
import * as m0069 from './migrations/0069_slack_email_match_off.js';
import * as m0070 from './migrations/0070_notifications_method_due.js';
import * as m0071 from './migrations/0071_escalation_started_at.js';
import * as m0072 from './migrations/0072_alert_scope_indexes.js';
import * as m0073 from './migrations/0073_team_deliveries_may_have_reached.js';
import * as m0074 from './migrations/0074_notifications_priority.js';
import * as m0075 from './migrations/0075_key_rate_limits.js';
import * as m0076 from './migrations/0076_alert_policy_teams.js';
import * as m0077 from './migrations/0077_password_handed.js';
import * as m0078 from './migrations/0078_integration_opsgenie_type.js';
import * as m0079 from './migrations/0079_assigned_alert_rules.js';
import * as m0080 from './migrations/0080_saved_search_name_keys.js';
import * as m0081 from './migrations/0081_reply_codes_outlive_users.js';
import * as m0082 from './migrations/0082_role_name_keys.js';
import * as m0083 from './migrations/0083_user_search_keys.js';
import * as m0084 from './migrations/0084_throttle_sends.js';

/** Every migration, in order. Listed here (not read from disk) so the same code runs from src and dist. */
const MIGRATIONS: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_outbox': m0002,
  '0003_integrations': m0003,
  '0004_writeback': m0004,
  '0005_oncall': m0005,
  '0006_writeback_retention': m0006,
  '0007_hostile_input': m0007,
  '0008_work': m0008,
  '0009_destinations': m0009,
  '0010_event_claim_order': m0010,
  '0011_console': m0011,
  '0012_push': m0012,
  '0013_phones': m0013,
  '0014_team_destinations': m0014,
  '0015_slack': m0015,
  '0016_heartbeats': m0016,
  '0017_saved_searches': m0017,
  '0018_maintenance': m0018,
  '0019_alert_shaping': m0019,
  '0020_alert_attachments': m0020,
  '0021_team_logs': m0021,
  '0022_integration_key_unique': m0022,
  '0023_maintenance_policies': m0023,
  '0024_email_integrations': m0024,
  '0025_notification_policies': m0025,
  '0026_team_roles': m0026,
  '0027_policy_options': m0027,
  '0028_email_messages': m0028,
  '0029_team_member_positions': m0029,
  '0030_user_profile_fields': m0030,
  '0031_notification_rule_timing': m0031,
  '0032_contact_given_to': m0032,
  '0033_notification_repeats': m0033,
  '0036_custom_user_roles': m0036,
  '0037_incidents': m0037,
  '0038_rotation_participants': m0038,
  '0039_rotations_combine': m0039,
  '0040_notifications_by_user': m0040,
  '0041_alert_feed_wishes': m0041,
  '0042_notifications_let_through': m0042,
  '0043_verification_address': m0043,
  '0044_writeback_ocsf': m0044,
  '0045_send_limits_and_spent_reply_codes': m0045,
  '0046_auto_close_policy': m0046,
  '0047_writeback_claim_id': m0047,
  '0048_password_reset_requests': m0048,
  '0049_alert_search_indexes': m0049,
  '0050_override_none': m0050,
  '0051_maintenance_policy_rule_state': m0051,
  '0052_api_key_holders': m0052,
  '0053_email_threads': m0053,
  '0054_finding_last_alert': m0054,
  '0056_finding_event_time': m0056,
  '0057_slack_link_by_admin': m0057,
  '0058_notification_rule_step': m0058,
  '0059_announce_deleted_alerts': m0059,
  '0060_webhook_settings_from_destination': m0060,
  '0061_account_token_given_to': m0061,
  '0062_announce_alert_sight': m0062,
  '0063_team_delivery_hold_indexes': m0063,
  '0064_sns_subscription_pending': m0064,
  '0065_team_destination_rate_limit_hold': m0065,
  '0066_notifications_rate_limited_since': m0066,
  '0067_announce_scope_changes': m0067,
  '0068_announce_integration_scope_changes': m0068,
  '0069_slack_email_match_off': m0069,
  '0070_notifications_method_due': m0070,
  '0071_escalation_started_at': m0071,
  '0072_alert_scope_indexes': m0072,
  '0073_team_deliveries_may_have_reached': m0073,
  '0074_notifications_priority': m0074,
  '0075_key_rate_limits': m0075,
  '0076_alert_policy_teams': m0076,
  '0077_password_handed': m0077,
  '0078_integration_opsgenie_type': m0078,
  '0079_assigned_alert_rules': m0079,
  '0080_saved_search_name_keys': m0080,
  '0081_reply_codes_outlive_users': m0081,
  '0082_role_name_keys': m0082,
  '0083_user_search_keys': m0083,
  '0084_throttle_sends': m0084,
};

/**
 * Kysely runs every pending migration in one transaction, so a lock taken by one is held until the last
 * has run. A statement waiting for its lock behind another session's open transaction (an older process's)
 * makes every later statement needing a conflicting lock on that table queue behind it: with no bound,
 * writes to `notifications` (paging) would wait for as long as the other transaction stays open. Set at
 * the start of each migration, transaction-local (the transaction is Kysely's, on a connection of its own).
 */
class BoundedLockWaitProvider implements MigrationProvider {
  constructor(private readonly lockTimeoutMs: number) {}

  async getMigrations(): Promise<Record<string, Migration>> {
    const bounded: Record<string, Migration> = {};
    for (const [name, migration] of Object.entries(MIGRATIONS)) {
      bounded[name] = {
        ...migration,
        up: async (db: Kysely<unknown>) => {
          await sql`SELECT set_config('lock_timeout', ${`${this.lockTimeoutMs}ms`}, true)`.execute(db);
          await migration.up(db);
        },
      };
    }
    return bounded;
  }
}

export const MIGRATION_NAMES = Object.keys(MIGRATIONS);

// An arbitrary constant: "vigil" in ASCII. Held for the whole run so concurrent starts queue up.
export const MIGRATION_LOCK_KEY = 0x766967696c;

/** How long a migration's statement waits for a lock before the batch rolls back to try again later. */
export const MIGRATION_LOCK_TIMEOUT_MS = 5_000;
/** The pauses between tries of a batch that timed out on a lock: ten tries, some two minutes in all. */
export const MIGRATION_RETRY_DELAYS_MS: readonly number[] = [1, 2, 3, 5, 8, 10, 10, 10, 10].map(
  (s) => s * 1000,
);

export interface MigrateOptions {
  lockTimeoutMs?: number;
  /** One pause per try after the first: their count, plus one, is the number of tries. */
  retryDelaysMs?: readonly number[];
  /**
   * Aborted when the process is asked to stop: no further try starts, and a pause between tries, or the
   * wait for another process's migrations, ends at once, with MigrationsStoppedError. A try under way runs
   * on (each statement waits at most lockTimeoutMs).
   */
  signal?: AbortSignal;
}

/**
 * Applies Vigil's migrations under one session-level advisory lock,
 * so several processes starting together run them once, one after the other.
 *
 * A database a newer Vigil has migrated records migrations this code does not know, which Kysely's
 * migrator refuses outright ("corrupted migrations"). During a rolling upgrade an older process still
 * has to start (a crash, a reboot, a scale-up), so when every migration it knows is applied it runs
 * none and warns. When it also lacks some of its own, it cannot run safely on that schema: it fails.
 *
 * A batch whose statement waited longer than `lockTimeoutMs` for a lock rolls back and is tried again
 * after a pause, so that it does not stall the other sessions queued behind it (see BoundedLockWaitProvider).
 */
export function migrate(
  db: Db,
  pool: pg.Pool,
  log: Logger,
  options: MigrateOptions = {},
): Promise<{ applied: string[] }> {
  // The pool may bound its statements (createPool's queryTimeoutMs); an index built on a big table, or
  // the wait for another process's migrations, may rightly take longer.
  return withoutQueryTimeout(() => migrateUnbounded(db, pool, log, options));
}

async function migrateUnbounded(
  db: Db,
  pool: pg.Pool,
  log: Logger,
  options: MigrateOptions,
): Promise<{ applied: string[] }> {
  const lockTimeoutMs = options.lockTimeoutMs ?? MIGRATION_LOCK_TIMEOUT_MS;
  const retryDelaysMs = options.retryDelaysMs ?? MIGRATION_RETRY_DELAYS_MS;
  const { signal } = options;
  const client = await pool.connect();
  // Set when the unlock fails: the session may still hold the lock, so it must not go back to the pool.
  let unlockError: Error | undefined;
  try {
    await takeMigrationLock(client, log, signal);
    try {
      // Read under the lock, so a newer Vigil migrating at the same time has finished.
      const executed = await executedMigrationNames(db);
      const known = new Set(MIGRATION_NAMES);
      const unknown = executed.filter((name) => !known.has(name));
      if (unknown.length > 0) {
        const done = new Set(executed);
        const pending = MIGRATION_NAMES.filter((name) => !done.has(name));
        if (pending.length > 0) throw new UnknownAndPendingMigrationsError(unknown, pending);
        log.warn(
          { unknownMigrations: unknown },
          'the database is newer than this Vigil: it has migrations this version does not know, so none ' +
            'were applied. Fine while an upgrade rolls out; upgrade this process to the newest Vigil.',
        );
        return { applied: [] };
      }
      await client.query('CREATE EXTENSION IF NOT EXISTS pgcrypto').catch(() => {
        // gen_random_uuid is built in from PostgreSQL 13; the extension is only a fallback.
      });
      // allowUnorderedMigrations stays off: it would not let the unknown names above through (Kysely
      // checks for missing migrations regardless), only let one of ours run after a later one.
      const migrator = new Migrator({ db, provider: new BoundedLockWaitProvider(lockTimeoutMs) });
      for (let tries = 1; ; tries++) {
        if (signal?.aborted) throw stopped(log, tries - 1);
        const { error, results } = await migrator.migrateToLatest();
        const failed = (results ?? []).find((r) => r.status === 'Error')?.migrationName;
        if (isLockTimeout(error)) {
          // Rolled back: the batch's transaction is gone, and with it every lock it held.
          const pauseMs = retryDelaysMs[tries - 1];
          const openTransactions = await otherOpenTransactions(client);
          const waited =
            `${failed ? `migration ${failed}` : 'the migrations'} waited ${lockTimeoutMs / 1000} s for a ` +
            'lock another session holds (see openTransactions); all pending migrations were rolled back';
          if (pauseMs === undefined) {
            log.error({ migration: failed, tries, openTransactions }, `${waited}; giving up`);
            throw new MigrationLockTimeoutError(failed, tries, lockTimeoutMs);
          }
          log.warn(
            { migration: failed, tries, retryInMs: pauseMs, openTransactions },
            `${waited}; trying again in ${pauseMs / 1000} s`,
          );
          // Without the signal a stop during start would wait out every pause (some two minutes in all),
          // longer than a service manager waits before it kills the process.
          await sleep(pauseMs, undefined, { signal }).catch((sleepError: unknown) => {
            throw signal?.aborted ? stopped(log, tries) : sleepError;
          });
          continue;
        }
        if (failed) log.error({ migration: failed }, 'migration failed');
        if (error) throw error instanceof Error ? error : new Error(String(error));
        const applied = (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
        if (applied.length > 0) log.info({ applied }, 'database migrations applied');
        return { applied };
      }
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK_KEY]).catch((error: unknown) => {
        unlockError = error instanceof Error ? error : new Error(String(error));
        log.warn(
          { err: unlockError },
          'could not release the migration lock: closing its connection instead',
        );
      });
    }
  } finally {
    // Given an error, the pool closes the connection, and its session's advisory lock goes with it.
    client.release(unlockError);
  }
}

/** How often a start waiting for another process's migrations asks for the lock again. */
const LOCK_POLL_MS = 250;

/**
 * Polled rather than waited for in pg_advisory_lock: a stop (the signal) cannot interrupt a statement
 * waiting for a lock, and another process may hold it for minutes (an index on a big table, its own
 * lock-timeout retries), past a service manager's grace period. The order among waiting processes does
 * not matter: each runs whatever the one before it left pending.
 */
async function takeMigrationLock(client: pg.PoolClient, log: Logger, signal: AbortSignal | undefined) {
  if (signal?.aborted) throw stopped(log, 0);
  for (let logged = false; ; logged = true) {
    const { rows } = await client.query<{ taken: boolean }>('SELECT pg_try_advisory_lock($1) AS taken', [
      MIGRATION_LOCK_KEY,
    ]);
    if (rows[0]?.taken) return;
    if (!logged) {
      log.info(
        { holder: await migrationLockHolder(client) },
        'another process is applying the migrations: waiting for it to finish',
      );
    }
    await sleep(LOCK_POLL_MS, undefined, { signal }).catch((sleepError: unknown) => {
      throw signal?.aborted ? stopped(log, 0, true) : sleepError;
    });
  }
}

/** The session holding the migration lock, for the log: which process the start waits for. */
async function migrationLockHolder(client: pg.PoolClient) {
  // A bigint key is kept as two halves: classid the high 32 bits, objid the low, objsubid 1.
  const { rows } = await client.query<{ pid: number; applicationName: string; clientAddr: string | null }>(
    `
    SELECT l.pid, a.application_name AS "applicationName", host(a.client_addr) AS "clientAddr"
    FROM pg_locks l LEFT JOIN pg_stat_activity a ON a.pid = l.pid
    WHERE l.locktype = 'advisory' AND l.granted AND l.database = (
        SELECT oid FROM pg_database WHERE datname = current_database())
      AND l.classid = ($1::bigint >> 32)::oid AND l.objid = ($1::bigint & 4294967295)::oid AND l.objsubid = 1
    LIMIT 1`,
    [MIGRATION_LOCK_KEY],
  );
  return rows[0];
}

/** The database was migrated by a Vigil this one does not descend from, or was restored over a newer one. */
export class UnknownAndPendingMigrationsError extends Error {
  constructor(
    readonly unknown: string[],
    readonly pending: string[],
  ) {
    super(
      `the database has migrations this Vigil does not know (${unknown.join(', ')}) and lacks some it ` +
        `needs (${pending.join(', ')}), so this Vigil cannot run on it. Run the newest Vigil on this ` +
        'database, or restore a backup taken by this version.',
    );
    this.name = 'UnknownAndPendingMigrationsError';
  }
}

/** Which other sessions had a transaction open, oldest first: those a migration may have waited behind. */
async function otherOpenTransactions(client: pg.PoolClient) {
  const { rows } = await client.query<{
    pid: number;
    applicationName: string;
    state: string | null;
    openSeconds: number;
    query: string;
  }>(`
    SELECT pid, application_name AS "applicationName", state,
      round(extract(epoch FROM now() - xact_start))::int AS "openSeconds", left(query, 200) AS query
    FROM pg_stat_activity
    WHERE datname = current_database() AND pid <> pg_backend_pid() AND xact_start IS NOT NULL
    ORDER BY xact_start
    LIMIT 5`);
  return rows;
}

function stopped(log: Logger, tries: number, behindOtherProcess = false): MigrationsStoppedError {
  const error = new MigrationsStoppedError(tries, behindOtherProcess);
  log.info({ tries }, error.message);
  return error;
}

/** The process was asked to stop before the migrations could be applied: none were. */
export class MigrationsStoppedError extends Error {
  constructor(
    readonly tries: number,
    /** It was waiting for another process's migrations (their advisory lock), so ran no try. */
    readonly behindOtherProcess = false,
  ) {
    super(
      behindOtherProcess
        ? "stopped while waiting for another process's migrations; none were applied"
        : tries === 0
          ? 'stopped before the migrations ran; none were applied'
          : `stopped while waiting to retry the migrations: ${tries} ${tries === 1 ? 'try' : 'tries'} ` +
            'waited for a lock and rolled back, so none were applied',
    );
    this.name = 'MigrationsStoppedError';
  }
}

/** PostgreSQL's lock_not_available: a statement's wait for a lock outlasted lock_timeout. */
function isLockTimeout(error: unknown): boolean {
  return typeof error === 'object' && error !== null && 'code' in error && error.code === '55P03';
}

/** Every try of the migrations waited too long for a lock other sessions held. */
export class MigrationLockTimeoutError extends Error {
  constructor(
    readonly migration: string | undefined,
    readonly tries: number,
    lockTimeoutMs: number,
  ) {
    super(
      `${migration ? `migration ${migration}` : 'the migrations'} could not take the locks it needs: ` +
        `${tries} tries each waited ` +
        `${lockTimeoutMs / 1000} s behind other sessions' open transactions (logged above) and were ` +
        'rolled back. Stop the Vigil processes of older versions (or end those transactions) and start ' +
        'again, or run "vigil migrate" while the database is quiet.',
    );
    this.name = 'MigrationLockTimeoutError';
  }
}

/** Names the database records as applied; none before the first migration made the table. */
async function executedMigrationNames(db: Db): Promise<string[]> {
  // Unqualified, as Kysely names it: its table is in the first schema of the search path, which is not
  // public for a role with a schema of its own (search_path "$user", public: PostgreSQL 15's advice).
  const exists = await sql<{ exists: boolean }>`
    SELECT to_regclass('kysely_migration') IS NOT NULL AS exists`.execute(db);
  if (!exists.rows[0]?.exists) return [];
  const rows = await sql<{ name: string }>`SELECT name FROM kysely_migration ORDER BY name`.execute(db);
  return rows.rows.map((r) => r.name);
}

/** Names of migrations this code knows that the database has not applied yet. */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const done = new Set(await executedMigrationNames(db));
  return MIGRATION_NAMES.filter((name) => !done.has(name));
}
