import path from 'node:path';
import { MIN_PASSWORD_LENGTH } from './accounts/passwords.js';
import { isEmailAddress } from './notify/destinations/email.js';

/** Everything `vigil start` reads from the environment, parsed once and validated. */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  publicUrl: string;
  bootstrapApiKey: string | undefined;
  /** On an empty database: the first admin's email and password, to sign in to the console with. */
  bootstrapAdmin: { email: string; password: string } | undefined;
  /** A console session ends after this many days without use. */
  sessionIdleDays: number;
  /** Hosts of push services accepted beside the browsers' own (Web Push endpoints). */
  extraPushServiceHosts: string[];
  smtpUrl: string | undefined;
  emailFrom: string | undefined;
  snsCertDir: string | undefined;
  /** Seconds; 0 turns the check off. */
  snsMaxMessageAge: number;
  logLevel: string;
  /** How long the outcome of an Alert API request stays queryable. */
  requestRetentionDays: number;
  /** How long the integration payload log keeps each delivery. */
  payloadRetentionDays: number;
  /** IAM role names Vigil may assume for write-back start with this (the trust policy names it too). */
  writebackRolePrefix: string;
  /** Seconds a process holds a claimed write-back batch before another may take it over. */
  writebackLeaseSeconds: number;
  /** Seconds a process holds a claimed batch of messages to send before another may take it over. */
  notificationLeaseSeconds: number;
  /** Seconds a process holds a claimed batch of alert events before another may take it over. */
  eventLeaseSeconds: number;
  /** Maximum request body size in bytes. */
  bodyLimit: number;
  /** How long the acknowledge / close links in notifications work, in hours. */
  actionLinkTtlHours: number;
  /** PostgreSQL stops any statement of an API request that runs longer than this. */
  apiStatementTimeoutSeconds: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new ConfigError(
      `${name}=${JSON.stringify(raw)} is not valid: give a whole number from ${min} to ${max}.`,
    );
  }
  return value;
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = integer(env, 'PORT', 8080, 0, 65535);
  const host = optional(env, 'HOST') ?? '0.0.0.0';
  const publicUrlRaw = optional(env, 'VIGIL_PUBLIC_URL') ?? `http://localhost:${port}`;
  let publicUrl: string;
  try {
    const parsed = new URL(publicUrlRaw);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
    publicUrl = parsed.toString().replace(/\/+$/, '');
  } catch {
    throw new ConfigError(
      `VIGIL_PUBLIC_URL=${JSON.stringify(publicUrlRaw)} is not an http(s) URL: give the address people and AWS reach Vigil at, such as https://vigil.example.com.`,
    );
  }
  const databaseUrl = optional(env, 'DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://.');
  }
  const bootstrapApiKey = optional(env, 'VIGIL_BOOTSTRAP_API_KEY');
  if (bootstrapApiKey !== undefined && bootstrapApiKey.length < 16) {
    throw new ConfigError(
      'VIGIL_BOOTSTRAP_API_KEY is too short: use at least 16 characters (a UUID is a good choice).',
    );
  }
  const adminEmail = optional(env, 'VIGIL_BOOTSTRAP_ADMIN_EMAIL');
  const adminPassword = env.VIGIL_BOOTSTRAP_ADMIN_PASSWORD ?? '';
  if ((adminEmail === undefined) !== (adminPassword === '')) {
    throw new ConfigError(
      'Set both VIGIL_BOOTSTRAP_ADMIN_EMAIL and VIGIL_BOOTSTRAP_ADMIN_PASSWORD (the first admin of an empty database), or neither.',
    );
  }
  if (adminEmail !== undefined && !isEmailAddress(adminEmail)) {
    throw new ConfigError(
      `VIGIL_BOOTSTRAP_ADMIN_EMAIL=${JSON.stringify(adminEmail)} is not an email address: give the address the first admin signs in with.`,
    );
  }
  if (adminEmail !== undefined && adminPassword.length < MIN_PASSWORD_LENGTH) {
    throw new ConfigError(
      `VIGIL_BOOTSTRAP_ADMIN_PASSWORD is too short: use at least ${MIN_PASSWORD_LENGTH} characters.`,
    );
  }
  return {
    port,
    host,
    databaseUrl,
    dataDir: path.resolve(optional(env, 'VIGIL_DATA_DIR') ?? '.vigil'),
    publicUrl,
    bootstrapApiKey,
    bootstrapAdmin: adminEmail === undefined ? undefined : { email: adminEmail, password: adminPassword },
    sessionIdleDays: integer(env, 'VIGIL_SESSION_IDLE_DAYS', 14, 1, 365),
    extraPushServiceHosts: (optional(env, 'VIGIL_PUSH_SERVICE_HOSTS') ?? '')
      .split(',')
      .map((host) => host.trim().toLowerCase())
      .filter((host) => host !== ''),
    smtpUrl: optional(env, 'VIGIL_SMTP_URL'),
    emailFrom: optional(env, 'VIGIL_EMAIL_FROM'),
    snsCertDir: optional(env, 'VIGIL_SNS_CERT_DIR'),
    // SNS retries for up to an hour with a custom delivery policy; allow that plus clock skew.
    snsMaxMessageAge: integer(env, 'VIGIL_SNS_MAX_MESSAGE_AGE', 4200, 0, 30 * 86400),
    logLevel: optional(env, 'LOG_LEVEL') ?? 'info',
    requestRetentionDays: integer(env, 'VIGIL_REQUEST_RETENTION_DAYS', 7, 1, 365),
    payloadRetentionDays: integer(env, 'VIGIL_PAYLOAD_RETENTION_DAYS', 14, 1, 365),
    writebackRolePrefix: optional(env, 'VIGIL_WRITEBACK_ROLE_PREFIX') ?? 'VigilSecurityHubRole',
    writebackLeaseSeconds: integer(env, 'VIGIL_WRITEBACK_LEASE_SECONDS', 30, 1, 3600),
    notificationLeaseSeconds: integer(env, 'VIGIL_NOTIFICATION_LEASE_SECONDS', 360, 1, 3600),
    eventLeaseSeconds: integer(env, 'VIGIL_EVENT_LEASE_SECONDS', 120, 1, 3600),
    bodyLimit: integer(env, 'VIGIL_BODY_LIMIT', 1024 * 1024, 1024, 64 * 1024 * 1024),
    actionLinkTtlHours: integer(env, 'VIGIL_ACTION_LINK_TTL_HOURS', 72, 1, 720),
    apiStatementTimeoutSeconds: integer(env, 'VIGIL_API_STATEMENT_TIMEOUT_SECONDS', 10, 1, 600),
  };
}
