import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { createOutboundFetch, type OutboundFetchOptions } from '../../http/outbound-fetch.js';
import {
  hostProblem,
  isAddressRefusal,
  isAllowedHost,
} from '../../notify/team-destinations/address-guard.js';
import type { Db } from '../../db/database.js';
import { DomainError, forbidden, invalidField, notFound, type DomainErrorKind } from '../../errors.js';
import type { Logger } from '../../logger.js';
import type { Clock } from '../../work/clock.js';
import { isOrgAdmin, type Principal } from '../service.js';
import { sessionsRepository } from '../sessions/repository.js';
import type { ClientInfo, NewSession, SessionsService } from '../sessions/service.js';
import { sameSecret } from '../sessions/tokens.js';
import { ssoRepository as repo } from './repository.js';

/**
 * Single sign-on through an organization's OpenID Connect provider (authorization code flow with PKCE,
 * state and nonce, through openid-client). The provider proves an email address; the person must already
 * be a user of the organization (an admin adds or invites them), so signing in never creates an account.
 */

// The time a person has to sign in at the provider.
const LOGIN_TTL_MS = 10 * 60_000;
// A sign-in reads the provider's discovery document when it starts and uses it again when the browser
// comes back: one fetch per provider every few minutes rather than two per sign-in.
const DISCOVERY_TTL_MS = 10 * 60_000;
// Past this many organizations' providers (far more than one Vigil serves) the cache empties itself, as
// Vigil's other caches do, rather than grow with every organization that ever signed in.
const DISCOVERY_CACHE_MAX = 1_000;

interface Discovered {
  /** Which provider, client and secret the configuration was read for (see versionOf). */
  version: string;
  config: oidc.Configuration;
  until: number;
}

/**
 * The providers' configurations read lately, one per organization: reading another provider, client or
 * secret for an organization replaces its entry, so a changed secret takes effect at once and the old one
 * is not kept in memory.
 */
export class DiscoveryCache {
  private readonly entries = new Map<string, Discovered>();

  constructor(private readonly max = DISCOVERY_CACHE_MAX) {}

  get size(): number {
    return this.entries.size;
  }

  /** The organization's configuration, when it was read for `version` and has not expired. */
  get(orgId: string, version: string, nowMs: number): oidc.Configuration | undefined {
    const entry = this.entries.get(orgId);
    return entry?.version === version && entry.until > nowMs ? entry.config : undefined;
  }

  set(orgId: string, entry: Discovered): void {
    if (!this.entries.has(orgId) && this.entries.size >= this.max) this.entries.clear();
    this.entries.set(orgId, entry);
  }

  delete(orgId: string): void {
    this.entries.delete(orgId);
  }
}

/** A digest of what a configuration is read for: the cache holds no secret of its own. */
function versionOf(issuer: string, clientId: string, clientSecret: string): string {
  return createHash('sha256')
    .update(JSON.stringify([issuer, clientId, clientSecret]))
    .digest('base64url');
}

/** Only loopback issuers may be plain HTTP (a provider run locally, for trying things out). */
function isLoopback(url: URL): boolean {
  return ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
}

const ALLOW_HINT = 'an operator can allow the host with VIGIL_SSO_ALLOW_HOSTS';

/**
 * The issuer's URL. With `allowHosts` (when an owner saves it), refused when it names an address inside
 * Vigil's network (or a local name) that the operator did not list in VIGIL_SSO_ALLOW_HOSTS, so the owner
 * is told why in the issuer field: an owner's provider must not be a way to probe or call that network.
 * The guarded fetch refuses the same addresses (and names resolving to them) anyway, at every request.
 */
function issuerUrl(issuer: string, allowHosts?: readonly string[]): URL {
  let url: URL;
  try {
    url = new URL(issuer);
  } catch {
    throw invalidField('issuer', 'is not a URL: give the issuer, such as https://login.example.com.');
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && isLoopback(url)))
    throw invalidField('issuer', 'must be an https:// URL.');
  if (allowHosts && !isAllowedHost(url.hostname, allowHosts)) {
    const problem = hostProblem(url.hostname);
    if (problem) throw invalidField('issuer', `is refused: ${problem} (${ALLOW_HINT}).`);
  }
  return url;
}

/** Why a request to the provider failed: fetch's own "fetch failed" says nothing, its cause does. */
function reasonOf(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  return error instanceof TypeError && error.cause instanceof Error ? error.cause.message : error.message;
}

/** A person may only be sent back to a page of the console, never to another site. */
export function safeReturnPath(returnTo: string | undefined): string {
  // Browsers drop tabs and newlines from a URL as they read it ("/\t/evil.example" is "//evil.example"),
  // so a path with any control character, or a backslash, is refused outright.
  // eslint-disable-next-line no-control-regex
  if (!returnTo || !returnTo.startsWith('/') || /[\u0000-\u001f\u007f\\]/.test(returnTo)) return '/';
  const base = 'http://vigil.invalid';
  const url = URL.canParse(returnTo, base) ? new URL(returnTo, base) : undefined;
  if (url?.origin !== base) return '/';
  // The URL's own serialization, percent-encoded, not the text given: it goes into a Location header,
  // which refuses characters such as '€' (a 500 once the provider's code was redeemed). Too long once
  // encoded, and the console's start page rather than a path cut short.
  const path = `${url.pathname}${url.search}${url.hash}`;
  // Parsing resolves dot segments, so '/.//evil.example' or '/a/..//evil.example' serializes as
  // '//evil.example': a scheme-relative address the browser follows to another site.
  if (path.startsWith('//') || path.startsWith('/\\')) return '/';
  return path.length > 2000 ? '/' : path;
}

/**
 * Why a sign-in through single sign-on did not complete, as the sign-in page is told: the browser is sent
 * to `/sign-in?error=<code>` and the page shows its own words for the code (web/src/lib/ssoErrors.ts),
 * never text from the address, which anyone can write into a link to Vigil's own domain. `sso_failed` is
 * any other failure.
 */
export const SSO_FAILURES = [
  'sso_not_set_up',
  'sso_wrong_browser',
  'sso_expired',
  'sso_provider_refused',
  'sso_turned_off',
  'sso_unchecked',
  'sso_no_email',
  'sso_email_unverified',
  'sso_not_a_user',
  'sso_provider_unreachable',
  'sso_failed',
] as const;
export type SsoFailure = (typeof SSO_FAILURES)[number];

/** A sign-in that did not complete: its code for the sign-in page, and a message (for the log) that may say more. */
export class SsoSignInError extends DomainError {
  constructor(
    readonly failure: SsoFailure,
    message: string,
    kind: DomainErrorKind = 'unauthenticated',
  ) {
    super(kind, message);
  }
}

export type SsoService = ReturnType<typeof createSsoService>;

export function createSsoService(deps: {
  db: Db;
  clock: Clock;
  log: Logger;
  publicUrl: string;
  sessions: SessionsService;
  /** How the provider's endpoints are fetched (proxy variables, trusted CAs): createOutboundFetch's options. */
  outbound?: Omit<OutboundFetchOptions, 'guard'>;
  /**
   * Hosts the provider may be on at a private or loopback address (VIGIL_SSO_ALLOW_HOSTS): the one list
   * both the issuer's check on save and the guarded fetch read, for discovery, keys, token and user info
   * alike, whatever hosts the discovery document names.
   */
  allowHosts: readonly string[];
  /** Where the providers' configurations are kept: a cache of its own unless given (tests look into it). */
  discovered?: DiscoveryCache;
}) {
  const { db, clock, log, publicUrl, sessions } = deps;
  const redirectUri = `${publicUrl}/api/console/sso/callback`;

  const discovered = deps.discovered ?? new DiscoveryCache();
  const fetch = createOutboundFetch({ ...deps.outbound, guard: { allowHosts: deps.allowHosts } });

  /**
   * Reads the provider's discovery document. `checkHost` (on save) refuses a private issuer with words
   * for the issuer field; on sign-in the guarded fetch refuses it before any request, as it would anyway.
   */
  async function discover(
    orgId: string,
    issuer: string,
    clientId: string,
    clientSecret: string,
    checkHost = false,
  ) {
    const url = issuerUrl(issuer, checkHost ? deps.allowHosts : undefined);
    const config = await oidc.discovery(url, clientId, clientSecret, undefined, {
      execute: url.protocol === 'http:' ? [oidc.allowInsecureRequests] : [],
      timeout: 10,
      // Kept by the configuration for the token and user info calls too.
      [oidc.customFetch]: fetch,
    });
    discovered.set(orgId, {
      version: versionOf(issuer, clientId, clientSecret),
      config,
      until: clock.now().getTime() + DISCOVERY_TTL_MS,
    });
    return config;
  }

  /** The provider's configuration as read within the last minutes, else read now. */
  async function configurationOf(row: {
    org_id: string;
    issuer: string;
    client_id: string;
    client_secret: string;
  }) {
    const version = versionOf(row.issuer, row.client_id, row.client_secret);
    const cached = discovered.get(row.org_id, version, clock.now().getTime());
    if (cached) return cached;
    try {
      return await discover(row.org_id, row.issuer, row.client_id, row.client_secret);
    } catch (error) {
      // An issuer saved before a check of its form existed.
      if (error instanceof DomainError && !(error instanceof SsoSignInError))
        throw new SsoSignInError(
          'sso_provider_unreachable',
          `The sign-in provider's issuer ${error.fields?.issuer ?? error.message}`,
        );
      // Also an issuer saved before its host was taken off VIGIL_SSO_ALLOW_HOSTS (or before the guard).
      if (isAddressRefusal(error))
        throw refusedSignIn(
          row.org_id,
          `The sign-in provider's discovery document was not read (${reasonOf(error)}): ${ALLOW_HINT}.`,
        );
      throw error;
    }
  }

  /**
   * A sign-in the address guard stopped: after an upgrade (or a host taken off VIGIL_SSO_ALLOW_HOSTS) a
   * provider that worked no longer does, and the operator, not the person signing in, can change that,
   * so it is logged at warn naming the setting rather than as one more sign-in that did not complete.
   */
  function refusedSignIn(
    orgId: string,
    message: string,
    failure: SsoFailure = 'sso_provider_unreachable',
  ): SsoSignInError {
    log.warn({ orgId, reason: message }, `a single sign-on was refused by the address guard: ${ALLOW_HINT}`);
    return new SsoSignInError(failure, message);
  }

  function requireAdmin(p: Principal): void {
    if (!isOrgAdmin(p)) throw forbidden('Only organization admins can set up single sign-on. Ask an admin.');
  }

  /**
   * Single sign-on signs in whichever user has the email the provider vouches for, owners included: an
   * admin who could point it at a provider of their own could sign in as an owner. Owners only, as for
   * everything else that would let an admin act as an owner (accounts/service.ts).
   */
  function requireOwner(p: Principal): void {
    requireAdmin(p);
    if (p.role !== 'owner')
      throw forbidden('Only organization owners can change single sign-on. Ask an owner.');
  }

  return {
    redirectUri,

    /** The organizations whose sign-in page offers single sign-on. */
    async providers() {
      const rows = await repo.enabledProviders(db);
      return rows.map((r) => ({ organizationId: r.org_id, organizationName: r.org_name, label: r.label }));
    },

    async settings(p: Principal) {
      requireAdmin(p);
      const row = await repo.settingsOf(db, p.orgId);
      if (!row) throw notFound('Single sign-on is not set up: PUT /api/console/sso with the provider.');
      return {
        issuer: row.issuer,
        clientId: row.client_id,
        label: row.label,
        enabled: row.enabled,
        redirectUri,
      };
    },

    /** Saves the provider after reading its discovery document, so a mistyped issuer is refused now. */
    async save(
      p: Principal,
      input: { issuer: string; clientId: string; clientSecret?: string; label: string; enabled: boolean },
    ) {
      requireOwner(p);
      const existing = await repo.settingsOf(db, p.orgId);
      const clientSecret = input.clientSecret ?? existing?.client_secret;
      if (clientSecret === undefined) throw invalidField('clientSecret', 'is required the first time.');
      try {
        await discover(p.orgId, input.issuer, input.clientId, clientSecret, true);
      } catch (error) {
        if (error instanceof Error && error.name === 'DomainError') throw error;
        const where = `${input.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
        throw invalidField(
          'issuer',
          isAddressRefusal(error)
            ? `could not be read (${reasonOf(error)}): ${ALLOW_HINT}.`
            : `could not be read (${reasonOf(error)}): check that ${where} answers from Vigil's network.`,
        );
      }
      await repo.saveSettings(db, {
        orgId: p.orgId,
        issuer: input.issuer,
        clientId: input.clientId,
        clientSecret,
        label: input.label,
        enabled: input.enabled,
        now: clock.now(),
      });
      return {
        issuer: input.issuer,
        clientId: input.clientId,
        label: input.label,
        enabled: input.enabled,
        redirectUri,
      };
    },

    async remove(p: Principal): Promise<void> {
      requireOwner(p);
      await repo.deleteSettings(db, p.orgId);
      discovered.delete(p.orgId);
    },

    /**
     * Where to send the browser to sign in at the organization's provider, and the state the browser must
     * keep (a cookie) and bring back to the callback, for as long as the sign-in may take.
     */
    async start(
      orgId: string,
      returnTo: string | undefined,
    ): Promise<{ url: string; state: string; maxAgeSeconds: number }> {
      const row = await repo.settingsOf(db, orgId);
      if (!row?.enabled)
        throw new SsoSignInError(
          'sso_not_set_up',
          'This organization has no single sign-on: sign in with your password.',
          'not-found',
        );
      const config = await configurationOf(row);
      const codeVerifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      await repo.insertLogin(db, {
        state,
        orgId,
        codeVerifier,
        nonce,
        returnTo: safeReturnPath(returnTo),
        expiresAt: new Date(clock.now().getTime() + LOGIN_TTL_MS),
      });
      const url = oidc
        .buildAuthorizationUrl(config, {
          redirect_uri: redirectUri,
          scope: 'openid email profile',
          code_challenge: await oidc.calculatePKCECodeChallenge(codeVerifier),
          code_challenge_method: 'S256',
          state,
          nonce,
        })
        .toString();
      return { url, state, maxAgeSeconds: LOGIN_TTL_MS / 1000 };
    },

    /** The provider sent the browser back: check everything, and sign in the user the email belongs to. */
    async finish(
      callbackPathAndQuery: string,
      browserState: string | undefined,
      client: ClientInfo,
    ): Promise<NewSession & { returnTo: string }> {
      const currentUrl = new URL(callbackPathAndQuery, publicUrl);
      const state = currentUrl.searchParams.get('state') ?? '';
      if (!browserState || !sameSecret(browserState, state))
        throw new SsoSignInError(
          'sso_wrong_browser',
          'This sign-in was not started in this browser (or its cookie was blocked): sign in again from here.',
        );
      const login = await repo.takeLogin(db, state, clock.now());
      if (!login)
        throw new SsoSignInError(
          'sso_expired',
          'This sign-in took too long or was already used: sign in again.',
        );
      const providerError = currentUrl.searchParams.get('error');
      if (providerError) {
        const description = currentUrl.searchParams.get('error_description');
        throw new SsoSignInError(
          'sso_provider_refused',
          `The sign-in provider refused: ${description ?? providerError}. Try again, or sign in with your password.`,
        );
      }
      const row = await repo.settingsOf(db, login.org_id);
      if (!row?.enabled)
        throw new SsoSignInError(
          'sso_turned_off',
          'Single sign-on has been turned off: sign in with your password.',
        );
      const config = await configurationOf(row);
      let email: unknown;
      let verified: unknown;
      try {
        const tokens = await oidc.authorizationCodeGrant(config, currentUrl, {
          pkceCodeVerifier: login.code_verifier,
          expectedState: login.state,
          expectedNonce: login.nonce,
        });
        const claims = tokens.claims();
        email = claims?.email;
        verified = claims?.email_verified;
        // A provider may give either claim only from UserInfo (OpenID Connect Core allows it).
        if ((email === undefined || verified === undefined) && claims) {
          const info = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub);
          email ??= info.email;
          // email_verified speaks of the email beside it: only of this one.
          if (
            verified === undefined &&
            typeof info.email === 'string' &&
            typeof email === 'string' &&
            info.email.toLowerCase() === email.toLowerCase()
          )
            verified = info.email_verified;
        }
      } catch (error) {
        // The token, keys or user info endpoint the discovery document names, refused by the guard.
        if (isAddressRefusal(error))
          throw refusedSignIn(
            login.org_id,
            `The sign-in provider's answer could not be checked (${reasonOf(error)}): ${ALLOW_HINT}.`,
            'sso_unchecked',
          );
        log.warn({ err: error, orgId: login.org_id }, 'a single sign-on could not be completed');
        throw new SsoSignInError(
          'sso_unchecked',
          `The sign-in provider's answer could not be checked (${reasonOf(error)}): sign in again, or ask an admin to check the single sign-on settings.`,
        );
      }
      // Only an address the provider vouches for: where people may edit their own email claim, one left
      // unverified (or without the claim) could name anyone's account.
      if (typeof email !== 'string' || (verified !== true && verified !== 'true'))
        throw typeof email !== 'string'
          ? new SsoSignInError(
              'sso_no_email',
              'The sign-in provider did not give an email address: ask an admin to let it share the email scope.',
            )
          : new SsoSignInError(
              'sso_email_unverified',
              'The sign-in provider did not say your email address is verified (email_verified): verify it there, or ask an admin to have the provider send the claim.',
            );
      const user = (await sessionsRepository.usersByEmail(db, email)).find(
        (u) => u.org_id === login.org_id && !u.blocked,
      );
      if (!user)
        throw new SsoSignInError(
          'sso_not_a_user',
          `${email} is not a user of this organization in Vigil: ask an admin to add or invite you.`,
        );
      log.info({ userId: user.user_id }, 'signed in to the console through single sign-on');
      // Checked again: a sign-in started before the path was stored percent-encoded may hold any text.
      return {
        ...(await sessions.signInAs(user.user_id, client)),
        returnTo: safeReturnPath(login.return_to),
      };
    },

    purge: (now: Date) => repo.purgeLogins(db, now),
  };
}
