import type pg from 'pg';
import type { Runner } from 'graphile-worker';
import { createAccountsService, type AccountsService } from './accounts/service.js';
import { registerAccountRoutes } from './accounts/routes.js';
import { createAlertsService, type AlertsService } from './alerts/service.js';
import { registerAlertRoutes } from './alerts/routes.js';
import type { Config } from './config.js';
import { createDb, createPool, type Db } from './db/database.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './db/embedded.js';
import { migrate } from './db/migrate.js';
import { wantedEventTypes, type AlertEventConsumer } from './engine/consumers.js';
import { startWorker } from './engine/worker.js';
import { startRelay } from './engine/relay.js';
import type { LoopHandle } from './engine/loop.js';
import { registerHealthRoutes } from './http/health.js';
import { buildHttpApp, type HttpApp } from './http/server.js';
import type { Logger } from './logger.js';
import { createIntegrationsService, type IntegrationsService } from './integrations/service.js';
import { registerIntegrationRoutes } from './integrations/routes.js';
import { createPeopleService } from './oncall/people/service.js';
import { registerPeopleRoutes } from './oncall/people/routes.js';
import { createSecurityHubIntake } from './integrations/securityhub/intake.js';
import { createDeliveryProcessor } from './integrations/securityhub/delivery-processor.js';
import { createFindingSync } from './integrations/securityhub/finding-sync.js';
import { SnsCertificateStore } from './integrations/securityhub/sns.js';
import { httpsGet, type OutboundOptions } from './http/outbound.js';
import { createAwsAccess, type AwsAccessOptions } from './integrations/securityhub/writeback/aws.js';
import { createWriteback, type WritebackOptions } from './integrations/securityhub/writeback/writeback.js';
import { createEscalationsService } from './oncall/escalations/service.js';
import { registerEscalationRoutes } from './oncall/escalations/routes.js';
import { createRoutingService } from './oncall/routing/service.js';
import { systemClock, type Clock } from './engine/clock.js';
import { createEscalationEngine, purgeHandledEvents } from './engine/escalation/engine.js';
import type { NotificationChannel } from './notify/channel.js';
import { createChannels } from './notify/channels.js';
import { createActionLinks, loadLinkSecret } from './notify/links.js';
import { registerActionLinkRoutes } from './notify/routes.js';
import { createNotificationSender } from './notify/sender.js';
import { registerRoutingRoutes } from './oncall/routing/routes.js';
import { createSchedulesService } from './oncall/schedules/service.js';
import { registerScheduleRoutes } from './oncall/schedules/routes.js';

export type Role = 'all' | 'api' | 'worker';

/** What the HTTP layer and the workers share. */
export interface AppContext {
  config: Config;
  /** The workers' database (no statement timeout). */
  db: Db;
  /** The database of API requests: PostgreSQL stops statements after apiStatementTimeoutSeconds. */
  apiDb: Db;
  pool: pg.Pool;
  accounts: AccountsService;
  alerts: AlertsService;
  integrations: IntegrationsService;
}

export interface RunningApp {
  context: AppContext;
  http?: HttpApp;
  /** The address the HTTP server listens on, when this process serves HTTP. */
  url?: string;
  stop(): Promise<void>;
}

/**
 * Opens the database: the one in DATABASE_URL, or the embedded one in the data folder. API requests get a
 * pool of their own whose statements PostgreSQL stops after `apiStatementTimeoutSeconds`, so no request can
 * tie up the database; the workers' pool has no such limit (retention purges may rightly take long).
 */
export async function openDatabase(config: Config, log: Logger, options: { api?: boolean } = {}) {
  let embedded: EmbeddedPostgresHandle | undefined;
  let connectionString = config.databaseUrl;
  if (!connectionString) {
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, log });
    connectionString = embedded.connectionString;
  }
  const pool = createPool(connectionString);
  const db = createDb(pool);
  const apiDb = options.api
    ? createDb(
        createPool(connectionString, 10, {
          statementTimeoutMs: config.apiStatementTimeoutSeconds * 1000,
          applicationName: 'vigil-api',
        }),
      )
    : db;
  return {
    pool,
    db,
    apiDb,
    embedded,
    async close() {
      if (apiDb !== db) await apiDb.destroy().catch(() => {});
      await db.destroy().catch(() => {});
      await embedded?.stop();
    },
  };
}

export interface StartOptions {
  role: Role;
  log: Logger;
  consumers?: readonly AlertEventConsumer[];
  workerConcurrency?: number;
  /** Outbound HTTP settings (tests point SNS hosts at local servers with these). */
  outbound?: OutboundOptions;
  writeback?: WritebackOptions;
  aws?: AwsAccessOptions;
  /** The engine's time (tests move it forward instead of waiting). */
  clock?: Clock;
  /** Channels to use instead of the configured ones (tests plug fakes in). */
  channels?: readonly NotificationChannel[];
  /** How often the engine and the sender look for due work when nothing wakes them. */
  engineIntervalMs?: number;
}

export async function startApp(config: Config, options: StartOptions): Promise<RunningApp> {
  const { log, role } = options;
  const serves = role === 'all' || role === 'api';
  const database = await openDatabase(config, log, { api: serves });
  const { apiDb } = database;
  let http: HttpApp | undefined;
  let worker: Runner | undefined;
  let relay: LoopHandle | undefined;
  let sender: LoopHandle | undefined;
  let deliveries: LoopHandle | undefined;
  let escalators: LoopHandle[] = [];
  let notifier: LoopHandle | undefined;
  const channelClosers: (() => Promise<void>)[] = [];
  try {
    await migrate(database.db, database.pool, log);
    // What API requests use runs on the API pool (statement timeout); the workers' services on the other.
    const accounts = createAccountsService(apiDb, log);
    const alerts = createAlertsService(database.db);
    const apiAlerts = createAlertsService(apiDb);
    const integrationsOn = (db: typeof apiDb) =>
      createIntegrationsService(db, { writebackRolePrefix: config.writebackRolePrefix });
    const integrations = integrationsOn(apiDb);
    const context: AppContext = {
      config,
      db: database.db,
      apiDb,
      pool: database.pool,
      accounts,
      alerts: apiAlerts,
      integrations,
    };
    const writeback = createWriteback({
      db: database.db,
      log,
      aws: createAwsAccess(options.aws),
      alerts,
      options: { leaseSeconds: config.writebackLeaseSeconds, ...options.writeback },
    });
    const outbound = options.outbound ?? {};
    const intake = createSecurityHubIntake({
      db: apiDb,
      alerts: apiAlerts,
      config,
      log,
      certificates: new SnsCertificateStore({
        certDir: config.snsCertDir,
        fetch: async (url) => {
          const answer = await httpsGet(url, { ...outbound, timeoutMs: 5000, maxBytes: 65536 });
          if (answer.status !== 200) throw new Error(`fetching ${url} answered ${answer.status}`);
          return answer.body;
        },
      }),
      confirmSubscription: async (url) => {
        const answer = await httpsGet(url, { ...outbound, timeoutMs: 10000, maxBytes: 65536 });
        return { status: answer.status, body: answer.body.toString('utf8') };
      },
      onStored: () => deliveries?.wake(),
    });

    // Emails carry the links (workers); the API answers them: every process signs and checks with one key.
    const links = createActionLinks(
      await loadLinkSecret(database.db),
      config.publicUrl,
      config.actionLinkTtlHours * 3_600_000,
    );

    if (config.bootstrapApiKey) {
      const result = await accounts.bootstrap(config.bootstrapApiKey);
      if (result.created) {
        log.info(
          { username: result.username },
          `Vigil is set up. Use the key in VIGIL_BOOTSTRAP_API_KEY: curl -H "Authorization: GenieKey $VIGIL_BOOTSTRAP_API_KEY" ${config.publicUrl}/v2/alerts`,
        );
      }
    } else if (await accounts.organizationIsEmpty()) {
      log.warn(
        'There is no organization yet. Run "vigil init" to create one and print its first API key, or start with VIGIL_BOOTSTRAP_API_KEY set.',
      );
    }

    if (role === 'all' || role === 'worker') {
      // Several at once: each waits on PostgreSQL most of the time, and SKIP LOCKED shares the queue out.
      deliveries = createDeliveryProcessor({
        db: database.db,
        log,
        sync: createFindingSync({ alerts, log }),
      }).start();
      sender = writeback.start();
      const clock = options.clock ?? systemClock;
      const channels = createChannels(config, log, options.channels);
      for (const channel of channels.values()) {
        const close = channel.close?.bind(channel);
        if (close) channelClosers.push(close);
      }
      const notifications = createNotificationSender({
        db: database.db,
        log,
        clock,
        channels,
        links,
        publicUrl: config.publicUrl,
      });
      notifier = notifications.start(options.engineIntervalMs);
      const engine = createEscalationEngine({
        db: database.db,
        log,
        clock,
        alerts,
        onDueNotifications: () => notifier?.wake(),
      });
      // Several claimers: a step waits on PostgreSQL most of the time, and SKIP LOCKED splits the due ones.
      escalators = Array.from({ length: 4 }, () => engine.start(options.engineIntervalMs));
      const consumers = [...(options.consumers ?? []), writeback.consumer, engine.consumer];
      relay = startRelay(database.db, log, wantedEventTypes(consumers));
      worker = await startWorker({
        pool: database.pool,
        log,
        alerts,
        integrations: integrationsOn(database.db),
        consumers,
        purgeHandledEvents: (days) => purgeHandledEvents(database.db, days),
        requestRetentionDays: config.requestRetentionDays,
        payloadRetentionDays: config.payloadRetentionDays,
        concurrency: options.workerConcurrency,
      });
    }

    let url: string | undefined;
    if (serves) {
      http = await buildHttpApp(context, log);
      registerHealthRoutes(http, apiDb);
      registerAccountRoutes(http, accounts);
      registerAlertRoutes(http, apiAlerts);
      registerIntegrationRoutes(http, { config, integrations, intake, writeback });
      registerPeopleRoutes(http, createPeopleService(apiDb));
      registerEscalationRoutes(http, createEscalationsService(apiDb));
      registerRoutingRoutes(http, createRoutingService(apiDb));
      registerScheduleRoutes(http, createSchedulesService(apiDb));
      registerActionLinkRoutes(http, {
        links,
        alerts: apiAlerts,
        db: apiDb,
        publicUrl: config.publicUrl,
      });
      url = await http.listen({ port: config.port, host: config.host });
      log.info({ url, role }, `Vigil is serving on ${url} (API docs at ${url}/docs)`);
    }

    let stopping: Promise<void> | undefined;
    return {
      context,
      http,
      url,
      stop() {
        stopping ??= (async () => {
          await http?.close();
          await relay?.stop();
          await deliveries?.stop();
          await sender?.stop();
          await Promise.all(escalators.map((e) => e.stop()));
          await notifier?.stop();
          await worker?.stop();
          await Promise.all(channelClosers.map((close) => close().catch(() => {})));
          await database.close();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await http?.close().catch(() => {});
    await relay?.stop().catch(() => {});
    await deliveries?.stop().catch(() => {});
    await sender?.stop().catch(() => {});
    await Promise.all(escalators.map((e) => e.stop().catch(() => {})));
    await notifier?.stop().catch(() => {});
    await worker?.stop().catch(() => {});
    await database.close();
    throw error;
  }
}
