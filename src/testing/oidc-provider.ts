import http from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';

/**
 * A real OpenID Connect provider (oidc-provider, the certified implementation) on a free loopback port, for
 * testing single sign-on end to end: discovery, the authorization code flow with PKCE, signed ID tokens,
 * userinfo. Its sign-in page is skipped: whoever arrives is signed in as `signInAs()` says and consents to
 * what was asked, which is what a person clicking through a provider would do.
 */
export interface TestOidcProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** The email the next sign-in proves (and whether the provider calls it verified). */
  /** `verified` null: the provider says nothing of whether the email is verified (no claim). */
  signInAs(email: string, verified?: boolean | null, claims?: ClaimsGiven): void;
  stop(): Promise<void>;
}

/**
 * Where the claims of a sign-in are given. By default only by UserInfo, the ID token holding just `sub`
 * (as a provider conforming to OpenID Connect Core does in the code flow). `idToken: 'email'`: the ID
 * token holds the email too, but not email_verified, which only UserInfo gives. `userInfoEmail`: the
 * email UserInfo names, when it is not the ID token's.
 */
export interface ClaimsGiven {
  idToken?: 'sub' | 'email';
  userInfoEmail?: string;
}

export async function startTestOidcProvider(options: { redirectUri: string }): Promise<TestOidcProvider> {
  const clientId = 'vigil-console';
  const clientSecret = 'a-client-secret-for-tests-only-0123456789';
  let account: { email: string; verified: boolean | null; given: ClaimsGiven } = {
    email: 'nobody@example.com',
    verified: true,
    given: {},
  };
  const server = http.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [options.redirectUri],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    // The ID token may hold the scopes' claims; findAccount says which it does.
    conformIdTokenClaims: false,
    async findAccount(_ctx, sub) {
      const { email, verified, given } = account;
      return {
        accountId: sub,
        claims: async (use) => {
          if (use === 'id_token') return given.idToken === 'email' ? { sub, email } : { sub };
          return {
            sub,
            email: given.userInfoEmail ?? email,
            ...(verified === null ? {} : { email_verified: verified }),
            name: email,
          };
        },
      };
    },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    cookies: { keys: ['a-cookie-key-for-tests-only'] },
  });
  const callback = provider.callback();
  server.on('request', (req, res) => {
    if (!req.url?.startsWith('/interaction/')) return void callback(req, res);
    void (async () => {
      const details = await provider.interactionDetails(req, res);
      const accountId = account.email;
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId, clientId: String(details.params.client_id) });
      if (!grant) throw new Error('the grant of the interaction is gone');
      const missing = details.prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      const grantId = await grant.save();
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId }, consent: { grantId } },
        {
          mergeWithLastSubmission: false,
        },
      );
    })().catch((error: unknown) => {
      res.statusCode = 500;
      res.end(String(error));
    });
  });

  return {
    issuer,
    clientId,
    clientSecret,
    signInAs(email, verified = true, given = {}) {
      account = { email, verified, given };
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
