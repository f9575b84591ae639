import { isIP } from 'node:net';
import path from 'node:path';
import { checkNewPassword } from './accounts/passwords.js';
import { isDomainError } from './errors.js';
import { proxyProblem } from './http/outbound.js';
import { isEmailAddress } from './notify/destinations/email.js';
import { bareHostname } from './notify/team-destinations/address-guard.js';
import type { KeyRateLimit } from './accounts/key-rate-limits/limiter.js';

/** Everything `vigil start` reads from the environment, parsed once and validated. */
export interface Config {
  port: number;
  host: string;
  databaseUrl: string | undefined;
  dataDir: string;
  publicUrl: string;
  /** Whether VIGIL_PUBLIC_URL gave `publicUrl`: a default one may name an address nobody else reaches. */
  publicUrlGiven: boolean;
  /** Why the default `publicUrl` may be wrong here, when VIGIL_PUBLIC_URL is not set: logged at start. */
  publicUrlWarning: string | undefined;
  bootstrapApiKey: string | undefined;
  /** On an empty database: the first admin's email and password, to sign in to the console with. */
  bootstrapAdmin: { email: string; password: string } | undefined;
  /** A console session ends after this many days without use. */
  sessionIdleDays: number;
  /** Hosts of push services accepted beside the browsers' own (Web Push endpoints). */
  extraPushServiceHosts: string[];
  /** Hosts webhook destinations may reach over plain http, private addresses included (VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS). */
  webhookAllowHttpHosts: string[];
  /**
   * Hosts an organization's single sign-on provider may be reached on at private or loopback addresses,
   * plain http too on loopback (VIGIL_SSO_ALLOW_HOSTS): an internal provider, the tests' on 127.0.0.1.
   */
  ssoAllowHosts: string[];
  /** SMS and voice through Twilio (VIGIL_TWILIO_*), when set. */
  twilio: { accountSid: string; authToken: string; from: string; apiUrl: string } | undefined;
  smtpUrl: string | undefined;
  /** Said at start when Vigil added requireTLS to VIGIL_SMTP_URL (see withRequiredTls). */
  smtpTlsNote: string | undefined;
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
  /** Vigil's own AWS identity, which the write-back roles trust; else found with GetCallerIdentity. */
  awsPrincipalArn: string | undefined;
  /** Seconds a process holds a claimed write-back batch before another may take it over. */
  writebackLeaseSeconds: number;
  /** Seconds a process holds a claimed batch of messages to send before another may take it over. */
  notificationLeaseSeconds: number;
  /** Seconds a process holds a claimed batch of alert events before another may take it over. */
  eventLeaseSeconds: number;
  /** Maximum request body size in bytes. */
  bodyLimit: number;
  /** Seconds a client has to send a whole request, headers and body (not to read the answer). */
  requestTimeoutSeconds: number;
  /**
   * Whom to believe about the client's address (X-Forwarded-For): nobody (false), every peer (true), or
   * the proxies at these addresses and networks.
   */
  /** false: believe nobody; a number: that many proxies in front; a list: the proxies' addresses. */
  trustProxy: false | number | string[];
  /** How long the acknowledge / close links in notifications work, in hours. */
  actionLinkTtlHours: number;
  /** PostgreSQL stops any statement of an API request that runs longer than this. */
  apiStatementTimeoutSeconds: number;
  /**
   * The longest a statement of the workers' pool waits for the database's answer before its connection
   * is closed and the round tried again on another (a database gone silent answers nothing, ever).
   */
  databaseQueryTimeoutSeconds: number;
  /** Send the busiest statements as named prepared statements (off for poolers that cannot keep them). */
  databasePreparedStatements: boolean;
  /** Alert attachments: the largest file in bytes, how many one alert may have, how long a download link works. */
  attachments: { maxBytes: number; perAlert: number; linkTtlMinutes: number };
  /**
   * The inbound SMTP listener of Email integrations (API role): on when port is set; addresses are
   * <emailUsername>@domain; a message larger than maxBytes is refused.
   */
  inboundEmail: {
    port: number | undefined;
    host: string;
    domain: string;
    maxBytes: number;
    /** Connections at once from one address; 0: no limit of that kind (behind NAT every sender is one). */
    maxConnectionsPerAddress: number;
  };
  /** Slack: the app's bot token (xoxb-…), its request signing secret, and the Web API's base URL. */
  slack: { botToken: string | undefined; signingSecret: string | undefined; apiUrl: string };
  /**
   * The Prometheus metrics listener, in every role (a worker serves no API): on when port is set. Its own
   * port, without authentication, as exporters do: kept off the public network, not behind API keys.
   */
  metrics: { port: number | undefined; host: string };
  /**
   * How many requests an API key may send a minute in each request domain (VIGIL_API_RATE_LIMIT_*), and
   * how many at once; undefined: no limit.
   */
  apiRateLimit: KeyRateLimit | undefined;
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

function apiRateLimitSettings(env: NodeJS.ProcessEnv): KeyRateLimit | undefined {
  const perMinute = integer(env, 'VIGIL_API_RATE_LIMIT_PER_MINUTE', 0, 0, 1_000_000);
  if (perMinute === 0) {
    if (optional(env, 'VIGIL_API_RATE_LIMIT_BURST') !== undefined) {
      throw new ConfigError(
        'VIGIL_API_RATE_LIMIT_BURST is set but VIGIL_API_RATE_LIMIT_PER_MINUTE is not: set the rate too, or unset both for no limit.',
      );
    }
    return undefined;
  }
  // A tenth of a minute's requests at once by default: a key then sends at most 1.1 times the rate in any
  // minute, and a sender's burst (an outage's alerts) still goes through at once.
  const burst = integer(env, 'VIGIL_API_RATE_LIMIT_BURST', Math.ceil(perMinute / 10), 1, 1_000_000);
  return { perMinute, burst };
}

/** An IAM principal a trust policy can name: an account id, or a user's or role's ARN. */
export const AWS_PRINCIPAL = /^(\d{12}|arn:aws[\w-]*:iam::\d{12}:(root|user\/\S+|role\/\S+))$/;

/** Role names are at most 64 characters: the prefix leaves room for '-' and 8 characters of the integration's id. */
function rolePrefix(value: string): string {
  if (!/^[\w+=,.@-]{1,55}$/.test(value))
    throw new ConfigError(
      `VIGIL_WRITEBACK_ROLE_PREFIX must be 1 to 55 of the characters IAM allows in role names (letters, digits, + = , . @ _ -), not '${value}'.`,
    );
  return value;
}

function awsPrincipal(value: string | undefined): string | undefined {
  if (value !== undefined && !AWS_PRINCIPAL.test(value))
    throw new ConfigError(
      `VIGIL_AWS_PRINCIPAL_ARN must be an account id or an IAM user or role ARN (such as arn:aws:iam::123456789012:role/vigil), not '${value}'.`,
    );
  return value;
}

/** The names proxy-addr (Fastify's) gives to the private and loopback networks. */
const NAMED_NETWORKS = new Set(['loopback', 'linklocal', 'uniquelocal']);

function trustedProxyEntry(entry: string): boolean {
  if (NAMED_NETWORKS.has(entry)) return true;
  const [address = '', prefix, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (prefix === undefined) return true;
  return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
}

// X-Forwarded-For is whatever the client writes unless a proxy of ours wrote it: believed from anyone,
// it would let one client pass for many (the per-address sign-in limit counts by it). Proxies append
// the address they saw, so only the right-most entries are theirs: `on` believes the nearest proxy
// (one hop), a number that many hops, never the left-most entry, which the client wrote.
function trustProxy(raw: string | undefined): Config['trustProxy'] {
  const value = raw?.toLowerCase().trim();
  if (value === undefined || value === 'off' || value === 'false') return false;
  if (value === 'on' || value === 'true') return 1;
  if (/^\d{1,2}$/.test(value) && Number(value) >= 1 && Number(value) <= 10) return Number(value);
  const entries = value.split(',').map((e) => e.trim());
  const wrong = entries.filter((e) => !trustedProxyEntry(e));
  if (wrong.length === 0 && entries.length > 0) return entries;
  throw new ConfigError(
    `VIGIL_TRUST_PROXY=${JSON.stringify(raw)} is not understood (${wrong.map((e) => JSON.stringify(e)).join(', ')}): give off, on (one proxy in front, and nothing reaches Vigil but through it), the number of proxies in front (1-10), or the proxies' addresses and networks, comma-separated (such as 10.0.0.0/8,127.0.0.1).`,
  );
}

function onOff(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = optional(env, name)?.toLowerCase();
  if (raw === undefined) return fallback;
  if (raw === 'on' || raw === 'true' || raw === '1') return true;
  if (raw === 'off' || raw === 'false' || raw === '0') return false;
  throw new ConfigError(`${name} must be on or off, not ${JSON.stringify(raw)}.`);
}

function optional(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const raw = env[name];
  return raw === undefined || raw.trim() === '' ? undefined : raw.trim();
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const port = integer(env, 'PORT', 8080, 0, 65535);
  const host = optional(env, 'HOST') ?? '0.0.0.0';
  const publicUrlGiven = optional(env, 'VIGIL_PUBLIC_URL');
  const publicUrlRaw = publicUrlGiven ?? `http://localhost:${port}`;
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
  // Links are made by appending paths to it: a query or fragment would end up in the middle of them,
  // and credentials in every email.
  const publicParts = new URL(publicUrl);
  if (
    publicParts.search !== '' ||
    publicParts.hash !== '' ||
    publicUrlRaw.includes('?') ||
    publicUrlRaw.includes('#')
  ) {
    throw new ConfigError(
      `VIGIL_PUBLIC_URL=${JSON.stringify(publicUrlRaw)} has a query or a fragment: give only the scheme, host, port and path Vigil is reached at, such as https://vigil.example.com.`,
    );
  }
  if (publicParts.username !== '' || publicParts.password !== '') {
    throw new ConfigError(
      'VIGIL_PUBLIC_URL holds a user name or password: give the address without them, such as https://vigil.example.com (it appears in emails and on pages).',
    );
  }
  const databaseUrl = optional(env, 'DATABASE_URL');
  if (databaseUrl && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new ConfigError('DATABASE_URL must start with postgres:// or postgresql://.');
  }
  if (databaseUrl) checkDatabaseUrl(databaseUrl);
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
  if (adminEmail !== undefined) bootstrapPassword(adminPassword);
  const twilio = twilioConfig(env);
  const proxies = trustProxy(optional(env, 'VIGIL_TRUST_PROXY'));
  // Otherwise only the first outbound HTTPS call (an SNS certificate, a Twilio page) would say so.
  const badProxy = proxyProblem(env);
  if (badProxy !== undefined) throw new ConfigError(badProxy);
  return {
    port,
    host,
    twilio,
    databaseUrl,
    dataDir: path.resolve(optional(env, 'VIGIL_DATA_DIR') ?? '.vigil'),
    publicUrl,
    publicUrlGiven: publicUrlGiven !== undefined,
    publicUrlWarning: publicUrlGiven ? undefined : defaultPublicUrlWarning(port, host, proxies !== false),
    bootstrapApiKey,
    bootstrapAdmin: adminEmail === undefined ? undefined : { email: adminEmail, password: adminPassword },
    sessionIdleDays: integer(env, 'VIGIL_SESSION_IDLE_DAYS', 14, 1, 365),
    extraPushServiceHosts: hostList(env, 'VIGIL_PUSH_SERVICE_HOSTS'),
    webhookAllowHttpHosts: hostList(env, 'VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS'),
    ssoAllowHosts: hostList(env, 'VIGIL_SSO_ALLOW_HOSTS'),
    ...smtpSettings(optional(env, 'VIGIL_SMTP_URL')),
    emailFrom: emailFromSetting(optional(env, 'VIGIL_EMAIL_FROM')),
    snsCertDir: optional(env, 'VIGIL_SNS_CERT_DIR'),
    // SNS retries for up to an hour with a custom delivery policy; allow that plus clock skew.
    // The longest an SNS message can take to arrive: at most 3,600 s of retry delays (SNS's cap), plus
    // up to 100 attempts of at most 15 s each against a Vigil that hangs, plus 5 minutes of clock skew.
    snsMaxMessageAge: integer(env, 'VIGIL_SNS_MAX_MESSAGE_AGE', 5400, 0, 30 * 86400),
    logLevel: logLevel(optional(env, 'LOG_LEVEL')),
    requestRetentionDays: integer(env, 'VIGIL_REQUEST_RETENTION_DAYS', 7, 1, 365),
    payloadRetentionDays: integer(env, 'VIGIL_PAYLOAD_RETENTION_DAYS', 14, 1, 365),
    writebackRolePrefix: rolePrefix(optional(env, 'VIGIL_WRITEBACK_ROLE_PREFIX') ?? 'VigilSecurityHubRole'),
    awsPrincipalArn: awsPrincipal(optional(env, 'VIGIL_AWS_PRINCIPAL_ARN')),
    writebackLeaseSeconds: integer(env, 'VIGIL_WRITEBACK_LEASE_SECONDS', 30, 1, 3600),
    notificationLeaseSeconds: integer(env, 'VIGIL_NOTIFICATION_LEASE_SECONDS', 360, 1, 3600),
    eventLeaseSeconds: integer(env, 'VIGIL_EVENT_LEASE_SECONDS', 120, 1, 3600),
    bodyLimit: integer(env, 'VIGIL_BODY_LIMIT', 1024 * 1024, 1024, 64 * 1024 * 1024),
    // Room for a 25 MiB attachment at 1.8 Mbit/s; a body that trickles in slower holds its memory and
    // its socket until then.
    requestTimeoutSeconds: integer(env, 'VIGIL_REQUEST_TIMEOUT_SECONDS', 120, 1, 3600),
    actionLinkTtlHours: integer(env, 'VIGIL_ACTION_LINK_TTL_HOURS', 72, 1, 720),
    apiStatementTimeoutSeconds: integer(env, 'VIGIL_API_STATEMENT_TIMEOUT_SECONDS', 10, 1, 600),
    databaseQueryTimeoutSeconds: integer(env, 'VIGIL_DATABASE_QUERY_TIMEOUT_SECONDS', 120, 1, 3600),
    databasePreparedStatements: onOff(env, 'VIGIL_DATABASE_PREPARED_STATEMENTS', true),
    trustProxy: proxies,
    attachments: {
      maxBytes: integer(env, 'VIGIL_ATTACHMENT_MAX_BYTES', 25 * 1024 * 1024, 1024, 256 * 1024 * 1024),
      perAlert: integer(env, 'VIGIL_ATTACHMENTS_PER_ALERT', 50, 1, 1000),
      linkTtlMinutes: integer(env, 'VIGIL_ATTACHMENT_LINK_TTL_MINUTES', 15, 1, 1440),
    },
    slack: slackSettings(env),
    inboundEmail: inboundEmailSettings(env, publicUrl),
    apiRateLimit: apiRateLimitSettings(env),
    metrics: {
      port:
        optional(env, 'VIGIL_METRICS_PORT') === undefined
          ? undefined
          : integer(env, 'VIGIL_METRICS_PORT', 0, 0, 65535),
      host: optional(env, 'VIGIL_METRICS_HOST') ?? '0.0.0.0',
    },
  };
}

/** pino's own levels: any other name stops pino with a message that does not say where it came from. */
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function logLevel(raw: string | undefined): string {
  if (raw === undefined) return 'info';
  const level = raw.toLowerCase();
  if (LOG_LEVELS.includes(level)) return level;
  throw new ConfigError(
    `LOG_LEVEL=${JSON.stringify(raw)} is not a log level: give one of ${LOG_LEVELS.join(', ')} (default info).`,
  );
}

/**
 * Read as the pg driver reads it (pg-connection-string: WHATWG URL, with a stand-in host for
 * `user:pass@/db?host=/socket`), so that what the driver would refuse later with a bare "Invalid URL"
 * is refused here. The value is never repeated: it holds the password.
 */
function checkDatabaseUrl(raw: string): void {
  const value = / |%[^a-f0-9]|%[a-f0-9][^a-f0-9]/i.test(raw)
    ? encodeURI(raw).replace(/%25(\d\d)/g, '%$1')
    : raw;
  for (const candidate of [value, value.replace('@/', '@___DUMMY___/')]) {
    try {
      new URL(candidate);
      return;
    } catch {
      // The next reading, or the error below.
    }
  }
  throw new ConfigError(
    'DATABASE_URL is not a valid URL: percent-encode special characters in the user name and password (/ as %2F, # as %23, ? as %3F, @ as %40, : as %3A, % as %25), such as postgres://vigil:p%2Fss@db.example.com:5432/vigil, and check the host and port.',
  );
}

/**
 * A bare address, or "Name <address>", as nodemailer takes a From. Looser than a contact's address
 * (isEmailAddress wants a dot in the domain): a relay's own one-word domain (vigil@localhost, Vigil's
 * own default, or root@mailhost) is a From nodemailer sends with.
 */
function emailFromSetting(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const address = /<([^<>]*)>\s*$/.exec(raw)?.[1]?.trim() ?? raw.trim();
  if (!/[\r\n]/.test(raw) && /^[^\s@<>]+@[^\s@<>]+$/.test(address)) return raw;
  throw new ConfigError(
    `VIGIL_EMAIL_FROM=${JSON.stringify(raw)} is not an email address: give the From of Vigil's email, such as vigil@example.com or Vigil <vigil@example.com>.`,
  );
}

/** Dot-separated labels of `chars` and hyphens, none starting or ending with a hyphen. */
const labelsOf = (chars: string) =>
  new RegExp(`^[${chars}]([${chars}-]*[${chars}])?(\\.[${chars}]([${chars}-]*[${chars}])?)*$`);

/** A host name: its labels may hold underscores too (some internal names have them). */
const HOST_NAME = labelsOf('a-z0-9_');

/**
 * A comma-separated list of hosts, each matched against a URL's host name exactly or as a parent domain
 * (isAllowedHost in notify/). A scheme, a port, a path, a network or a `*.` never matches any host
 * name, so such an entry is refused rather than left to allow nothing.
 */
function hostList(env: NodeJS.ProcessEnv, name: string): string[] {
  const entries = (optional(env, name) ?? '')
    .split(',')
    .map((entry) => entry.trim().toLowerCase())
    .filter((entry) => entry !== '');
  return entries.map((entry) => {
    // Brackets and a fully qualified name's trailing dot off, as the matching takes a URL's host.
    const bare = bareHostname(entry);
    // Each kept in the form URL.hostname gives it (::1 for 0:0:0:0:0:0:0:1, brackets off, as the matching
    // takes it); one a URL would read as another host (10.1 is 10.0.0.1) could never match, nor one a URL
    // cannot hold (fe80::1%eth0).
    const asUrlHost = (host: string) => {
      try {
        return new URL(`http://${host}/`).hostname;
      } catch {
        return undefined;
      }
    };
    if (isIP(bare) === 6) {
      const host = asUrlHost(`[${bare}]`)?.slice(1, -1);
      if (host !== undefined) return host;
    } else if ((isIP(bare) === 4 || HOST_NAME.test(bare)) && asUrlHost(bare) === bare) return bare;
    throw new ConfigError(
      `${name} has ${JSON.stringify(entry)}, which is not a host name or an IP address: give hosts comma-separated, each only a name (which covers its subdomains too, no need for *.) or an address, without a scheme, port, path or network, such as hooks.example.com,10.0.0.5.`,
    );
  });
}

/** The same rule as sign-in's (checkNewPassword): a password sign-in would refuse is refused at start. */
function bootstrapPassword(password: string): void {
  try {
    checkNewPassword(password, 'VIGIL_BOOTSTRAP_ADMIN_PASSWORD');
  } catch (error) {
    if (!isDomainError(error, 'invalid')) throw error;
    const problem = error.fields?.VIGIL_BOOTSTRAP_ADMIN_PASSWORD ?? error.message;
    throw new ConfigError(`VIGIL_BOOTSTRAP_ADMIN_PASSWORD ${problem}`);
  }
}

/** The relay's URL, and what to say at start of the STARTTLS it now requires, if Vigil added that. */
function smtpSettings(raw: string | undefined): Pick<Config, 'smtpUrl' | 'smtpTlsNote'> {
  const url = smtpUrl(raw);
  const added = url !== undefined && url !== raw;
  return {
    smtpUrl: url,
    smtpTlsNote: added
      ? `VIGIL_SMTP_URL carries a password to ${new URL(url).host}: Vigil requires STARTTLS before it sends it (requireTLS), so a relay without STARTTLS refuses every email; for one, add ?requireTLS=false to the URL, or use smtps:// where the relay has TLS from the start.`
      : undefined,
  };
}

/**
 * The relay's URL, as nodemailer reads it: smtp:// (STARTTLS; required when it carries a password, see
 * withRequiredTls) or smtps:// (TLS from the start), with a host. Without the scheme,
 * "smtp.example.com:587" parses as a URL whose scheme is smtp.example.com, and the mail would go to a
 * host nobody meant.
 */
function smtpUrl(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  let url: URL | undefined;
  try {
    url = new URL(raw);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') || url.hostname === '') {
    // The value may hold a password: it is not repeated.
    throw new ConfigError(
      'VIGIL_SMTP_URL is not an smtp:// or smtps:// URL with a host: give the relay as such as smtp://user:password@smtp.example.com:587 (or smtps://…:465 for TLS from the start).',
    );
  }
  return withRequiredTls(url) ?? raw;
}

/**
 * nodemailer's smtp:// upgrades with STARTTLS only when the relay's EHLO offers it: whoever sits between
 * Vigil and the relay can strip the offer and read the AUTH that follows, the relay's password in clear.
 * So when the URL carries credentials to a host beyond this machine, it also says requireTLS (a query
 * parameter nodemailer's parseConnectionUrl reads as an option), unless it already says requireTLS or
 * ignoreTLS either way: the operator's word for a relay without STARTTLS.
 */
function withRequiredTls(url: URL): string | undefined {
  if (url.protocol !== 'smtp:' || (url.username === '' && url.password === '')) return undefined;
  if (isLoopback(url.hostname.replace(/^\[(.*)\]$/, '$1'))) return undefined;
  if (url.searchParams.has('requireTLS') || url.searchParams.has('ignoreTLS')) return undefined;
  url.search = url.search === '' ? '?requireTLS=true' : `${url.search}&requireTLS=true`;
  return url.toString();
}

/** Host names: letters, digits and hyphens in dot-separated labels. */
const DOMAIN_NAME = labelsOf('a-z0-9');

function inboundEmailSettings(env: NodeJS.ProcessEnv, publicUrl: string): Config['inboundEmail'] {
  const port = optional(env, 'VIGIL_INBOUND_SMTP_PORT');
  const given = optional(env, 'VIGIL_INBOUND_EMAIL_DOMAIN');
  const domain = (given ?? new URL(publicUrl).hostname).toLowerCase();
  const valid = DOMAIN_NAME.test(domain) && domain.length <= 253;
  if (!valid && given !== undefined) {
    throw new ConfigError(
      `VIGIL_INBOUND_EMAIL_DOMAIN=${JSON.stringify(given)} is not a domain name: give the domain whose mail reaches Vigil's SMTP listener, such as alerts.example.com.`,
    );
  }
  // Derived from VIGIL_PUBLIC_URL, whose host need not be a mail domain (an IPv6 address, say): it
  // matters only when the listener runs.
  if (!valid && port !== undefined) {
    throw new ConfigError(
      `VIGIL_INBOUND_SMTP_PORT is set and VIGIL_INBOUND_EMAIL_DOMAIN is not, so the inbound email domain would be the host of VIGIL_PUBLIC_URL, ${JSON.stringify(domain)}, which is not a domain name: set VIGIL_INBOUND_EMAIL_DOMAIN to the domain whose mail reaches Vigil's SMTP listener, such as alerts.example.com.`,
    );
  }
  return {
    port: port === undefined ? undefined : integer(env, 'VIGIL_INBOUND_SMTP_PORT', 0, 0, 65535),
    host: optional(env, 'VIGIL_INBOUND_SMTP_HOST') ?? '0.0.0.0',
    domain,
    maxBytes: integer(env, 'VIGIL_INBOUND_EMAIL_MAX_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024),
    maxConnectionsPerAddress: integer(env, 'VIGIL_INBOUND_SMTP_MAX_CONNECTIONS_PER_ADDRESS', 10, 0, 200),
  };
}

function slackSettings(env: NodeJS.ProcessEnv): Config['slack'] {
  const botToken = optional(env, 'VIGIL_SLACK_BOT_TOKEN');
  // A user token (xoxp-) would post as that person; an app-level token (xapp-) cannot post at all.
  if (botToken !== undefined && !/^xoxb-[A-Za-z0-9-]+$/.test(botToken)) {
    throw new ConfigError(
      'VIGIL_SLACK_BOT_TOKEN is not a bot token: copy the "Bot User OAuth Token" (xoxb-…) from your Slack app\'s OAuth & Permissions page.',
    );
  }
  const raw = optional(env, 'VIGIL_SLACK_API_URL') ?? 'https://slack.com/api/';
  let apiUrl: string;
  try {
    const parsed = new URL(raw);
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new Error('scheme');
    apiUrl = parsed.toString().replace(/\/*$/, '/');
  } catch {
    throw new ConfigError(
      `VIGIL_SLACK_API_URL=${JSON.stringify(raw)} is not an http(s) URL: leave it unset for https://slack.com/api/.`,
    );
  }
  return { botToken, signingSecret: optional(env, 'VIGIL_SLACK_SIGNING_SECRET'), apiUrl };
}

function twilioConfig(env: NodeJS.ProcessEnv): Config['twilio'] {
  const accountSid = optional(env, 'VIGIL_TWILIO_ACCOUNT_SID');
  const authToken = optional(env, 'VIGIL_TWILIO_AUTH_TOKEN');
  const from = optional(env, 'VIGIL_TWILIO_FROM');
  const apiUrl = optional(env, 'VIGIL_TWILIO_API_URL') ?? 'https://api.twilio.com';
  if (!accountSid && !authToken && !from) return undefined;
  if (!accountSid || !authToken || !from) {
    throw new ConfigError(
      'Set all of VIGIL_TWILIO_ACCOUNT_SID, VIGIL_TWILIO_AUTH_TOKEN and VIGIL_TWILIO_FROM to send SMS and make calls through Twilio, or none of them.',
    );
  }
  if (!/^AC[0-9a-fA-F]{32}$/.test(accountSid)) {
    throw new ConfigError(
      `VIGIL_TWILIO_ACCOUNT_SID=${JSON.stringify(accountSid)} is not an Account SID: it is AC followed by 32 hex digits, on the Twilio console's front page.`,
    );
  }
  if (!/^\+[1-9]\d{7,14}$/.test(from) && !/^MG[0-9a-fA-F]{32}$/.test(from)) {
    throw new ConfigError(
      `VIGIL_TWILIO_FROM=${JSON.stringify(from)} is neither a phone number in E.164 form (+14155550123) nor a Messaging Service SID (MG…): give the Twilio number Vigil texts and calls from.`,
    );
  }
  try {
    const url = new URL(apiUrl);
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new Error('scheme');
  } catch {
    throw new ConfigError(
      `VIGIL_TWILIO_API_URL=${JSON.stringify(apiUrl)} is not an http(s) URL: leave it unset for https://api.twilio.com.`,
    );
  }
  return { accountSid, authToken, from, apiUrl };
}

/** Addresses only this machine reaches Vigil at (any of 127.0.0.0/8, ::1, localhost). */
function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^(::ffff:)?127\./.test(h);
}

/**
 * Without VIGIL_PUBLIC_URL, Vigil names itself http://localhost:PORT in what it sends out (links in
 * emails, integration endpoint URLs, single sign-on's redirect). That is right only where nobody but
 * this machine reaches it: not when it listens beyond loopback, nor behind a proxy (VIGIL_TRUST_PROXY),
 * and never with PORT=0 (any free port: the links would name port 0).
 */
function defaultPublicUrlWarning(port: number, host: string, proxied: boolean): string | undefined {
  const what = "the links in emails, the integration endpoint URLs and single sign-on's redirect";
  const fix =
    'set VIGIL_PUBLIC_URL to the address people and AWS reach Vigil at, such as https://vigil.example.com.';
  if (port === 0) return `VIGIL_PUBLIC_URL is not set and PORT is 0: ${what} name port 0; ${fix}`;
  if (isLoopback(host) && !proxied) return undefined;
  const why = proxied
    ? 'which those coming through the proxy do not reach'
    : 'which only this machine reaches';
  return `VIGIL_PUBLIC_URL is not set: ${what} use http://localhost:${port}, ${why}; ${fix}`;
}
