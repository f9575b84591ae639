import type pg from 'pg';
import { createAccountsService, type AccountsService } from './accounts/service.js';
import { registerAccountRoutes } from './accounts/routes.js';
import { createAccountMailer } from './accounts/sessions/account-email.js';
import { registerSessionRoutes } from './accounts/sessions/routes.js';
import { passwordResetsQueue } from './accounts/sessions/password-resets.js';
import { createSessionsService, type SessionsService } from './accounts/sessions/service.js';
import { createSsoService } from './accounts/sso/service.js';
import { registerSsoRoutes } from './accounts/sso/routes.js';
import { hashPassword } from './accounts/passwords.js';
import { alertVisibility, createAlertFeed } from './alerts/live.js';
import { LIVE_ALERTS_ROUTE, registerLiveAlertRoutes } from './alerts/live-routes.js';
import { registerConsole } from './http/console-static.js';
import { createAlertsService, type AlertsService } from './alerts/service.js';
import { registerAlertRoutes } from './alerts/routes.js';
import { registerBulkAlertRoutes } from './alerts/bulk/routes.js';
import { createBulkAlertActions } from './alerts/bulk/service.js';
import { registerSavedSearchRoutes } from './alerts/saved-searches/routes.js';
import { registerTeamLogRoutes } from './accounts/team-log/routes.js';
import { registerCustomRoleRoutes } from './accounts/custom-roles/routes.js';
import { createCustomRolesService } from './accounts/custom-roles/service.js';
import { registerTeamRoleRoutes } from './accounts/team-roles/routes.js';
import { createTeamRolesService } from './accounts/team-roles/service.js';
import { createAttachmentLinks } from './alerts/attachments/links.js';
import { registerAttachmentRoutes } from './alerts/attachments/routes.js';
import { createAttachmentsService } from './alerts/attachments/service.js';
import { createSavedSearchesService } from './alerts/saved-searches/service.js';
import type { Config } from './config.js';
import { STATEMENT_TIMEOUT_MARGIN_MS, createDb, createPool, type Db } from './db/database.js';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './db/embedded.js';
import { migrate } from './db/migrate.js';
import type { AlertEventConsumer } from './engine/consumers.js';
import { alertEventQueues } from './engine/events/queues.js';
import { eventDeliveriesRepository } from './engine/events/repository.js';
import { daysBefore, retentionQueue } from './engine/retention.js';
import { createWorkRunner, endsWithin } from './work/runner.js';
import { snoozeEndsQueue } from './alerts/snooze-ends.js';
import { registerHealthRoutes } from './http/health.js';
import { authenticate, buildHttpApp, type HttpApp } from './http/server.js';
import { checkListenAddresses, listenFailure, type ListenAddress } from './http/listen-addresses.js';
import { secureCookiesFor } from './http/session-cookie.js';
import type { Logger } from './logger.js';
import { createIntegrationsService, type IntegrationsService } from './integrations/service.js';
import { registerIntegrationRoutes } from './integrations/routes.js';
import { registerIntegrationActionRoutes } from './integrations/actions/routes.js';
import { createIntegrationActionsService } from './integrations/actions/service.js';
import { registerAlertPolicyRoutes } from './alerts/policies/routes.js';
import { createAlertPoliciesService } from './alerts/policies/service.js';
import { createNotificationPoliciesService } from './alerts/policies/notification-service.js';
import { registerAwsSetupRoutes } from './integrations/securityhub/aws-setup/routes.js';
import { createVigilPrincipal } from './integrations/securityhub/aws-setup/vigil-principal.js';
import { createPeopleService } from './oncall/people/service.js';
import { registerPeopleRoutes } from './oncall/people/routes.js';
import { createSecurityHubIntake } from './integrations/securityhub/intake.js';
import { createEmailIntake } from './integrations/email/intake.js';
import { EMAIL_MESSAGE_RETENTION_DAYS, emailMessagesRepository } from './integrations/email/repository.js';
import type { InboundSmtp } from './integrations/email/smtp-listener.js';
import { createDeliveryProcessor } from './integrations/securityhub/delivery-processor.js';
import { createFindingSync } from './integrations/securityhub/finding-sync.js';
import { certificateIn, SnsCertificateStore } from './integrations/securityhub/sns.js';
import { createOutboundFetch } from './http/outbound-fetch.js';
import { httpsGet, type OutboundOptions } from './http/outbound.js';
import { createAwsAccess, type AwsAccessOptions } from './integrations/securityhub/writeback/aws.js';
import { createWriteback, type WritebackOptions } from './integrations/securityhub/writeback/writeback.js';
import { createEscalationsService } from './oncall/escalations/service.js';
import { registerEscalationRoutes } from './oncall/escalations/routes.js';
import { createRoutingService } from './oncall/routing/service.js';
import { systemClock, type Clock } from './work/clock.js';
import { createEscalationEngine, purgeHandledEvents } from './engine/escalation/engine.js';
import { autoClosesQueue } from './engine/auto-close.js';
import { autoRestartsQueue } from './engine/auto-restart.js';
import { maintenanceOpeningsQueue } from './engine/maintenance-openings.js';
import { notificationRepeatsQueue } from './engine/notification-repeats.js';
import type { NotificationChannel } from './notify/channel.js';
import { emailFrom } from './notify/destinations/email.js';
import { createChannels, type Channels } from './notify/destinations/registry.js';
import { throttleSendsPurge } from './notify/destinations/throttle.js';
import { createTwilioInbound } from './notify/twilio/inbound.js';
import { replyCodesRepository } from './notify/twilio/reply-codes.js';
import { verificationsRepository } from './notify/verification/repository.js';
import { registerTwilioRoutes } from './notify/twilio/routes.js';
import { twilioSettingsOf } from './notify/twilio/settings.js';
import { registerVerificationRoutes } from './notify/verification/routes.js';
import { createContactVerification } from './notify/verification/service.js';
import { createActionLinks, loadLinkSecret } from './notify/links.js';
import { registerActionLinkRoutes } from './notify/routes.js';
import { registerSlackRoutes } from './notify/slack/routes.js';
import { createSlackService } from './notify/slack/service.js';
import { createNotificationSender } from './notify/sender.js';
import { registerPushRoutes } from './notify/push/routes.js';
import { createPushService, pushServiceHosts } from './notify/push/service.js';
import { vapidKeysLoader } from './notify/push/vapid.js';
import { registerRoutingRoutes } from './oncall/routing/routes.js';
import { createTeamDeliverySender, teamDestinationsConsumer } from './notify/team-destinations/deliveries.js';
import { teamDestinationsRepository } from './notify/team-destinations/repository.js';
import { registerTeamDestinationRoutes } from './notify/team-destinations/routes.js';
import { createTeamDestinationsService } from './notify/team-destinations/service.js';
import { createSchedulesService } from './oncall/schedules/service.js';
import { heartbeatExpiryQueue } from './heartbeats/expiry.js';
import { registerHeartbeatRoutes } from './heartbeats/routes.js';
import { createHeartbeatsService } from './heartbeats/service.js';
import { registerScheduleRoutes } from './oncall/schedules/routes.js';
import { registerMaintenanceRoutes } from './maintenance/routes.js';
import { createMaintenanceService, type MaintenanceService } from './maintenance/service.js';
import { registerIncidentRoutes } from './incidents/routes.js';
import { createIncidentsService } from './incidents/service.js';
import { incidentsRepository } from './incidents/repository.js';
import { observeHttpRequests } from './metrics/http.js';
import { startMetricsListener, type MetricsListener } from './metrics/listener.js';
import { notificationMetrics } from './metrics/notifications.js';
import { createMetricsRegistry } from './metrics/registry.js';
import { createKeyRateLimiter, type KeyRateLimiter } from './accounts/key-rate-limits/limiter.js';
import { queueBacklogMetrics, workRoundMetrics } from './metrics/work.js';
import { securityHubDeliveryMetrics, securityHubWritebackMetrics } from './metrics/securityhub.js';

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
  /** Console sign-in: sessions by cookie. */
  sessions: SessionsService;
  alerts: AlertsService;
  integrations: IntegrationsService;
  /** Which integrations a maintenance disables now (the API refuses their keys). */
  maintenance: MaintenanceService;
  /** The API keys' request rate limit, when VIGIL_API_RATE_LIMIT_PER_MINUTE sets one. */
  keyRateLimiter: KeyRateLimiter | undefined;
}

export interface RunningApp {
  context: AppContext;
  http?: HttpApp;
  /** The address the HTTP server listens on, when this process serves HTTP. */
  url?: string;
  /** The port of the inbound SMTP listener of Email integrations, when it runs (VIGIL_INBOUND_SMTP_PORT). */
  smtpPort?: number;
  /** The port of the Prometheus metrics listener, when it runs (VIGIL_METRICS_PORT). */
  metricsPort?: number;
  stop(): Promise<void>;
}

/** How long closing the database waits for its pools' connections to come back before it goes on. */
const POOL_CLOSE_WAIT_MS = 2_000;

/**
 * Opens the database: the one in DATABASE_URL, or the embedded one in the data folder. API requests get a
 * pool of their own whose statements PostgreSQL stops after `apiStatementTimeoutSeconds`, so no request can
 * tie up the database; the workers' pool has no such limit (retention purges may rightly take long).
 * Both pools give up on a statement the database does not answer at all (a database gone silent enforces
 * no statement_timeout): the API's a little after its statement_timeout, so that PostgreSQL's own stop
 * comes first while it answers, the workers' after `databaseQueryTimeoutSeconds`. Migrations are not bounded.
 */
export async function openDatabase(config: Config, log: Logger, options: { api?: boolean } = {}) {
  let embedded: EmbeddedPostgresHandle | undefined;
  let connectionString = config.databaseUrl;
  if (!connectionString) {
    embedded = await startEmbeddedPostgres({ dataDir: config.dataDir, log });
    connectionString = embedded.connectionString;
  }
  const pool = createPool(connectionString, 20, {
    queryTimeoutMs: config.databaseQueryTimeoutSeconds * 1000,
  });
  const prepare = config.databasePreparedStatements;
  const db = createDb(pool, { prepare });
  const apiDb = options.api
    ? createDb(
        createPool(connectionString, 10, {
          statementTimeoutMs: config.apiStatementTimeoutSeconds * 1000,
          queryTimeoutMs: config.apiStatementTimeoutSeconds * 1000 + STATEMENT_TIMEOUT_MARGIN_MS,
          applicationName: 'vigil-api',
        }),
        { prepare },
      )
    : db;
  return {
    pool,
    db,
    apiDb,
    embedded,
    async close() {
      // Closing a pool waits for every connection checked out of it, and one a round the runner's stop()
      // left behind still holds may never come back: the embedded PostgreSQL is stopped all the same.
      const closing = (async () => {
        if (apiDb !== db) await apiDb.destroy().catch(() => {});
        await db.destroy().catch(() => {});
      })();
      await endsWithin(closing, POOL_CLOSE_WAIT_MS);
      await embedded?.stop();
    },
  };
}

/** A failed accept() is logged at most this often: a connection flood can fail thousands a second. */
const SERVER_ERROR_LOG_INTERVAL_MS = 10_000;

/**
 * Keeps errors of the listening HTTP server from ending Vigil. Fastify takes its 'error' listener off
 * once listening, and an accept() failure that libuv passes on afterwards (EMFILE or ENFILE in a
 * connection flood, ENOBUFS, ENOMEM) is emitted on the server, where nothing else listens: uncaught, it
 * would end the process, and paging with it. The server goes on listening after one (libuv closes the
 * connection it could not take), so it only needs saying, with what to do about it.
 */
function logServerErrors(server: NodeJS.EventEmitter, log: Logger): void {
  // Per code: one kind of failure said once every interval does not hide another kind.
  const byCode = new Map<string, { loggedAt: number; unlogged: number }>();
  server.on('error', (error: NodeJS.ErrnoException) => {
    const code = error.code ?? error.message;
    const now = Date.now();
    const seen = byCode.get(code);
    if (seen && now - seen.loggedAt < SERVER_ERROR_LOG_INTERVAL_MS) {
      seen.unlogged++;
      return;
    }
    const outOfFiles = code === 'EMFILE' || code === 'ENFILE';
    log.error(
      { err: error, code, alsoSinceLastLogged: seen?.unlogged ?? 0 },
      outOfFiles
        ? `the HTTP server could not accept a connection: too many open files (${code}). Raise the open-files limit (LimitNOFILE= in the systemd unit, ulimit -n, or fs.file-max for ENFILE); Vigil keeps serving the connections it has`
        : `the HTTP server could not accept a connection (${code}); Vigil keeps serving`,
    );
    byCode.set(code, { loggedAt: now, unlogged: 0 });
  });
}

export interface StartOptions {
  role: Role;
  log: Logger;
  consumers?: readonly AlertEventConsumer[];
  /** Outbound HTTPS settings (tests point SNS hosts, and the providers behind a proxy, at local servers). */
  outbound?: OutboundOptions;
  writeback?: WritebackOptions;
  aws?: AwsAccessOptions;
  /** The engine's time (tests move it forward instead of waiting). */
  clock?: Clock;
  /** Channels to use instead of the configured ones (tests plug fakes in). */
  channels?: readonly NotificationChannel[];
  /** The longest the engine and the sender sleep when nothing wakes them (they wake when work is due). */
  engineIntervalMs?: number;
  /** Aborted when the process is asked to stop while starting: the migrations stop waiting to retry. */
  stopSignal?: AbortSignal;
}

export async function startApp(config: Config, options: StartOptions): Promise<RunningApp> {
  const { log, role } = options;
  const serves = role === 'all' || role === 'api';
  const httpAddress: ListenAddress = {
    what: 'Vigil',
    port: config.port,
    host: config.host,
    portSetting: 'PORT',
    hostSetting: 'HOST',
  };
  const inbound = config.inboundEmail;
  const smtpAddress: ListenAddress | undefined =
    inbound.port === undefined
      ? undefined
      : {
          what: 'The inbound SMTP listener of Email integrations',
          port: inbound.port,
          host: inbound.host,
          portSetting: 'VIGIL_INBOUND_SMTP_PORT',
          hostSetting: 'VIGIL_INBOUND_SMTP_HOST',
        };
  const metricsAddress: ListenAddress | undefined =
    config.metrics.port === undefined
      ? undefined
      : {
          what: 'The metrics listener',
          port: config.metrics.port,
          host: config.metrics.host,
          portSetting: 'VIGIL_METRICS_PORT',
          hostSetting: 'VIGIL_METRICS_HOST',
        };
  await checkListenAddresses(
    [...(serves ? [httpAddress, smtpAddress] : []), metricsAddress].filter((a) => a !== undefined),
  );
  const database = await openDatabase(config, log, { api: serves });
  const { apiDb } = database;
  const clock = options.clock ?? systemClock;
  // One for the process: its connections (and a proxy's tunnels) are kept between calls.
  const outboundFetch = createOutboundFetch(options.outbound);
  // Made only when served: Node's own metrics keep an event-loop monitor running.
  const metrics = metricsAddress && createMetricsRegistry();
  // Every process has the runner: a worker runs its queues, and any process wakes them.
  const runner = createWorkRunner({
    pool: database.pool,
    clock,
    log,
    observer: metrics && workRoundMetrics(metrics),
  });
  if (metrics) {
    queueBacklogMetrics(
      metrics,
      { backlogs: (now) => runner.backlogs(now), queues: () => runner.backlogQueues() },
      clock,
    );
  }
  const signal = runner;
  let http: HttpApp | undefined;
  let inboundSmtp: InboundSmtp | undefined;
  let metricsListener: MetricsListener | undefined;
  const channelClosers: (() => Promise<void>)[] = [];
  try {
    await migrate(database.db, database.pool, log, { signal: options.stopSignal });
    // What API requests use runs on the API pool (statement timeout); the workers' services on the other.
    const accounts = createAccountsService(apiDb, log, clock);
    const mailer = createAccountMailer({ smtpUrl: config.smtpUrl, from: emailFrom(config), log });
    channelClosers.push(async () => mailer.close());
    const sessions = createSessionsService({ db: apiDb, clock, log, config, accounts, mailer, signal });
    const sso = createSsoService({
      db: apiDb,
      clock,
      log,
      publicUrl: config.publicUrl,
      sessions,
      // Guarded: an owner's provider must not be a way into Vigil's own network.
      outbound: options.outbound,
      allowHosts: config.ssoAllowHosts,
    });
    // One per process: the policy routes empty the cache both alert services read.
    const alertPolicies = createAlertPoliciesService({ db: apiDb, clock });
    const alerts = createAlertsService(database.db, { signal, policies: alertPolicies.source, clock });
    const apiAlerts = createAlertsService(apiDb, { signal, policies: alertPolicies.source, clock });
    const integrationsOn = (db: typeof apiDb) =>
      createIntegrationsService(db, {
        writebackRolePrefix: config.writebackRolePrefix,
        webhookAllowHttpHosts: config.webhookAllowHttpHosts,
        clock,
      });
    const integrations = integrationsOn(apiDb);
    // One per process: the routes that change maintenances empty the cache the intake and the API read,
    // and the policies' (which holds the maintenances on them).
    const maintenance = createMaintenanceService({
      db: apiDb,
      clock,
      integrations,
      policies: alertPolicies,
      onChange: (orgId) => alertPolicies.forget(orgId),
      signal,
    });
    const context: AppContext = {
      config,
      db: database.db,
      apiDb,
      pool: database.pool,
      accounts,
      sessions,
      alerts: apiAlerts,
      integrations,
      maintenance,
      keyRateLimiter: config.apiRateLimit
        ? createKeyRateLimiter({ db: apiDb, clock, limit: config.apiRateLimit })
        : undefined,
    };
    const writeback = createWriteback({
      db: database.db,
      log,
      aws: createAwsAccess(options.aws),
      alerts,
      clock,
      signal,
      options: { leaseSeconds: config.writebackLeaseSeconds, ...options.writeback },
      observer: metrics && securityHubWritebackMetrics(metrics),
    });
    const outbound = options.outbound ?? {};
    const intake = createSecurityHubIntake({
      db: apiDb,
      alerts: apiAlerts,
      config,
      log,
      certificates: new SnsCertificateStore({
        certDir: config.snsCertDir,
        fetch: async (url) =>
          certificateIn(url, await httpsGet(url, { ...outbound, timeoutMs: 5000, maxBytes: 65536 })),
      }),
      confirmSubscription: async (url) => {
        const answer = await httpsGet(url, { ...outbound, timeoutMs: 10000, maxBytes: 65536 });
        return { status: answer.status, body: answer.body.toString('utf8') };
      },
      clock,
      signal,
      disabledBy: (integrationId) => maintenance.disabledBy(integrationId),
    });

    // Emails carry the links (workers); the API answers them: every process signs and checks with one key.
    const links = createActionLinks(
      await loadLinkSecret(database.db),
      config.publicUrl,
      config.actionLinkTtlHours * 3_600_000,
    );

    if (config.bootstrapApiKey || config.bootstrapAdmin) {
      const admin = config.bootstrapAdmin;
      const result = await accounts.bootstrap({
        apiKey: config.bootstrapApiKey,
        admin: admin && {
          username: admin.email,
          passwordHash: await hashPassword(admin.password),
          now: clock.now(),
        },
      });
      if (result.created) {
        log.info(
          { username: result.username },
          admin
            ? `Vigil is set up. Sign in at ${config.publicUrl} as ${admin.email} with VIGIL_BOOTSTRAP_ADMIN_PASSWORD.`
            : `Vigil is set up. Use the key in VIGIL_BOOTSTRAP_API_KEY: curl -H "Authorization: GenieKey $VIGIL_BOOTSTRAP_API_KEY" ${config.publicUrl}/v2/alerts`,
        );
      } else if (admin) {
        // They act on an empty database only: an operator who changed the password expects it to work.
        log.warn(
          { username: admin.email },
          'VIGIL_BOOTSTRAP_ADMIN_EMAIL and VIGIL_BOOTSTRAP_ADMIN_PASSWORD are set but ignored: this database already has an organization, and they only create the first admin of an empty one (they neither add that admin nor change a password). Unset them, and manage people and passwords in the console.',
        );
      }
    } else if (await accounts.organizationIsEmpty()) {
      const setupCode = await sessions.issueSetupCode();
      log.warn(
        `There is no organization yet. Open ${config.publicUrl}/setup?code=${setupCode} to create it and its first admin, run "vigil init" to create one and print its first API key, or start with VIGIL_BOOTSTRAP_ADMIN_EMAIL and VIGIL_BOOTSTRAP_ADMIN_PASSWORD (or VIGIL_BOOTSTRAP_API_KEY) set.`,
      );
    }

    // Every role: the API shows the URLs, the workers send the emails with the links.
    if (config.publicUrlWarning) log.warn(config.publicUrlWarning);
    if (config.smtpTlsNote) log.info(config.smtpTlsNote);

    if (role === 'all' || role === 'worker') {
      const idleMs = options.engineIntervalMs;
      const channels = createChannels(
        { config, log, db: database.db, fetch: outboundFetch, clock },
        options.channels,
      );
      channelClosers.push(() => channels.close());
      const notifications = createNotificationSender({
        db: database.db,
        log,
        clock,
        channels,
        links,
        publicUrl: config.publicUrl,
        leaseMs: config.notificationLeaseSeconds * 1000,
        signal,
        observer: metrics && notificationMetrics(metrics),
      });
      const engine = createEscalationEngine({ db: database.db, log, clock, alerts, signal });
      const teamDeliveries = createTeamDeliverySender({
        db: database.db,
        log,
        clock,
        config,
        fetch: outboundFetch,
        disabledBy: (integrationId) => maintenance.disabledBy(integrationId),
      });
      const consumers = [
        ...(options.consumers ?? []),
        writeback.consumer,
        engine.consumer,
        teamDestinationsConsumer({
          db: database.db,
          clock,
          signal,
          disabledBy: (integrationId) => maintenance.disabledBy(integrationId),
        }),
      ];
      const workIntegrations = integrationsOn(database.db);
      for (const queue of [
        ...alertEventQueues({
          db: database.db,
          log,
          signal,
          consumers,
          leaseMs: config.eventLeaseSeconds * 1000,
        }),
        createDeliveryProcessor({
          db: database.db,
          log,
          signal,
          sync: createFindingSync({ alerts, log, clock }),
          observer: metrics && securityHubDeliveryMetrics(metrics),
        }).queue(),
        engine.queue({ idleMs }),
        notifications.queue({ idleMs }),
        writeback.queue(),
        teamDeliveries.queue({ idleMs }),
        snoozeEndsQueue(alerts, clock),
        autoClosesQueue({ db: database.db, alerts, signal, log }),
        autoRestartsQueue({ db: database.db, signal, log }),
        maintenanceOpeningsQueue({ db: database.db, signal, clock }),
        notificationRepeatsQueue({ db: database.db, signal, log }),
        passwordResetsQueue(sessions),
        heartbeatExpiryQueue(createHeartbeatsService({ db: database.db, alerts, clock, signal, log })),
        retentionQueue({
          db: database.db,
          log,
          purges: [
            throttleSendsPurge(database.db),
            {
              what: 'alert request records',
              purge: (now) => alerts.purgeRequests(daysBefore(now, config.requestRetentionDays)),
            },
            {
              what: 'incident request records',
              purge: (now) =>
                incidentsRepository.purgeRequests(database.db, daysBefore(now, config.requestRetentionDays)),
            },
            {
              what: 'integration payloads',
              // SNS message ids stay while a replayed message would pass VIGIL_SNS_MAX_MESSAGE_AGE.
              purge: (now) =>
                workIntegrations.purge(
                  daysBefore(now, config.payloadRetentionDays),
                  now,
                  config.snsMaxMessageAge,
                ),
            },
            {
              what: 'handled-event marks',
              purge: (now) => purgeHandledEvents(database.db, daysBefore(now, 7)),
            },
            {
              what: 'ended console sessions, old failed sign-ins and spent links',
              purge: (now) => sessions.purge(now),
            },
            { what: 'unfinished single sign-ons', purge: (now) => sso.purge(now) },
            {
              what: 'expired verification codes',
              purge: (now) => verificationsRepository.purge(database.db, now),
            },
            { what: 'spent SMS reply codes', purge: (now) => replyCodesRepository.purge(database.db, now) },
            {
              what: "Email integrations' Message-IDs",
              purge: (now) =>
                emailMessagesRepository.purge(database.db, daysBefore(now, EMAIL_MESSAGE_RETENTION_DAYS)),
            },
            {
              what: 'team destination deliveries',
              purge: (now) =>
                teamDestinationsRepository.purge(database.db, daysBefore(now, config.payloadRetentionDays)),
            },
            {
              what: 'dead alert-event deliveries',
              purge: (now) =>
                eventDeliveriesRepository.purgeDead(
                  database.db,
                  daysBefore(now, config.payloadRetentionDays),
                ),
            },
          ],
        }),
      ]) {
        runner.register(queue);
      }
    }
    // Before the runner starts, so its one listening connection also hears alert announcements.
    const alertFeed = serves
      ? createAlertFeed({
          runner,
          db: database.db,
          clock,
          log,
          onScopeChange: accounts.forgetCachedKeys,
          onIntegrationScopeChange: integrations.forgetCachedKeys,
        })
      : undefined;
    await runner.start();

    let url: string | undefined;
    if (serves) {
      http = await buildHttpApp(context, log);
      if (metrics) observeHttpRequests(http, metrics);
      registerHealthRoutes(http, database.pool); // the probe opens a connection of its own
      const customRoles = createCustomRolesService(apiDb);
      registerAccountRoutes(http, accounts, customRoles);
      registerCustomRoleRoutes(http, customRoles);
      registerTeamLogRoutes(http, apiDb);
      registerTeamRoleRoutes(http, createTeamRolesService(apiDb));
      const secureCookies = secureCookiesFor(config.publicUrl);
      registerSessionRoutes(http, { sessions, secureCookies });
      registerSsoRoutes(http, { sso, secureCookies });
      registerPushRoutes(
        http,
        createPushService(apiDb, vapidKeysLoader(database.db), pushServiceHosts(config)),
      );
      if (alertFeed) {
        registerLiveAlertRoutes(http, alertFeed, {
          visibility: alertVisibility(apiDb),
          // As a request is authenticated, for as long as its stream stays open.
          authenticate: async (credential) =>
            (await authenticate(context, credential, 'GET', LIVE_ALERTS_ROUTE, { renew: false })).principal,
          clock,
        });
      }
      // Paging links name the configured address; without one, the address each request was sent to.
      const linkBase = config.publicUrlGiven ? config.publicUrl : undefined;
      registerAlertRoutes(http, apiAlerts, linkBase);
      registerBulkAlertRoutes(http, createBulkAlertActions(apiAlerts));
      const attachments = createAttachmentsService({
        db: apiDb,
        links: createAttachmentLinks(
          await loadLinkSecret(database.db),
          config.publicUrl,
          config.attachments.linkTtlMinutes * 60_000,
        ),
        limits: config.attachments,
      });
      registerAttachmentRoutes(http, {
        attachments,
        clock,
        maxBytes: config.attachments.maxBytes,
      });
      registerSavedSearchRoutes(http, createSavedSearchesService(apiDb));
      registerIntegrationRoutes(http, { config, integrations, intake, writeback });
      registerIntegrationActionRoutes(http, createIntegrationActionsService(apiDb, integrations));
      registerAlertPolicyRoutes(http, alertPolicies, createNotificationPoliciesService({ db: apiDb, clock }));
      registerMaintenanceRoutes(http, maintenance);
      registerIncidentRoutes(
        http,
        createIncidentsService({ db: apiDb, alerts: apiAlerts, signal, clock }),
        linkBase,
      );
      registerAwsSetupRoutes(http, {
        config,
        integrations,
        vigilPrincipal: createVigilPrincipal({ configured: config.awsPrincipalArn, env: options.aws?.env }),
      });
      const people = createPeopleService(apiDb);
      registerPeopleRoutes(http, people);
      // Codes and tests go out from the API process at once; its channels are made on first use.
      let noticeChannels: Channels | undefined;
      registerVerificationRoutes(
        http,
        createContactVerification({
          db: apiDb,
          clock,
          contactToManage: (p, identifier, contactId) => people.contactToManage(p, identifier, contactId),
          channels: () => {
            if (!noticeChannels) {
              const made = createChannels(
                { config, log, db: apiDb, fetch: outboundFetch, clock },
                options.channels,
                { quiet: true },
              );
              channelClosers.push(() => made.close());
              noticeChannels = made;
            }
            return noticeChannels;
          },
        }),
      );
      registerTwilioRoutes(http, {
        settings: twilioSettingsOf(config),
        inbound: createTwilioInbound({ db: apiDb, alerts: apiAlerts, clock, log }),
        log,
      });
      registerEscalationRoutes(http, createEscalationsService(apiDb));
      registerRoutingRoutes(http, createRoutingService(apiDb));
      registerScheduleRoutes(http, createSchedulesService(apiDb), clock);
      registerHeartbeatRoutes(
        http,
        createHeartbeatsService({ db: apiDb, alerts: apiAlerts, clock, signal, log }),
      );
      registerTeamDestinationRoutes(
        http,
        createTeamDestinationsService({ db: apiDb, clock, log, config, fetch: outboundFetch }),
      );
      registerActionLinkRoutes(http, {
        links,
        alerts: apiAlerts,
        db: apiDb,
        publicUrl: config.publicUrl,
        clock,
      });
      registerSlackRoutes(http, {
        slack: createSlackService({ db: apiDb, alerts: apiAlerts, config, log, fetch: outboundFetch }),
        config,
        clock,
      });
      await registerConsole(http);
      url = await http.listen({ port: config.port, host: config.host }).catch((error: unknown) => {
        throw listenFailure(error, httpAddress);
      });
      logServerErrors(http.server, log);
      log.info({ url, role }, `Vigil is serving on ${url} (API docs at ${url}/docs)`);
      if (smtpAddress) {
        // Loaded only where the listener runs: smtp-server is not small.
        const { startInboundSmtp } = await import('./integrations/email/smtp-listener.js');
        inboundSmtp = await startInboundSmtp({
          ...inbound,
          port: smtpAddress.port,
          intake: createEmailIntake({
            db: apiDb,
            alerts: apiAlerts,
            attachments,
            domain: inbound.domain,
            log,
            disabledBy: (integrationId) => maintenance.disabledBy(integrationId),
            signal,
            clock,
            lookup: (emailUsername) => integrations.byEmailUsername(emailUsername),
          }),
          log,
        }).catch((error: unknown) => {
          throw listenFailure(error, smtpAddress);
        });
      }
    }

    if (metrics && metricsAddress) {
      metricsListener = await startMetricsListener({
        registry: metrics,
        port: metricsAddress.port,
        host: metricsAddress.host,
        log,
      }).catch((error: unknown) => {
        throw listenFailure(error, metricsAddress);
      });
      log.info(
        { port: metricsListener.port },
        `Prometheus metrics are served on ${metricsAddress.host}:${metricsListener.port}/metrics`,
      );
    }

    let stopping: Promise<void> | undefined;
    return {
      context,
      http,
      url,
      smtpPort: inboundSmtp?.port,
      metricsPort: metricsListener?.port,
      stop() {
        stopping ??= (async () => {
          await metricsListener?.close();
          await inboundSmtp?.close();
          await http?.close();
          await alertFeed?.close();
          await runner.stop();
          await Promise.all(channelClosers.map((close) => close().catch(() => {})));
          await database.close();
        })();
        return stopping;
      },
    };
  } catch (error) {
    await metricsListener?.close().catch(() => {});
    await inboundSmtp?.close().catch(() => {});
    await http?.close().catch(() => {});
    await runner.stop().catch(() => {});
    await database.close();
    throw error;
  }
}
