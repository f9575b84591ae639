import type { Queryable } from '../../db/database.js';

/** The SQL of single sign-on: each organization's OpenID Connect provider, and sign-ins in flight. */
export const ssoRepository = {
  async settingsOf(q: Queryable, orgId: string) {
    return q.selectFrom('organization_sso').selectAll().where('org_id', '=', orgId).executeTakeFirst();
  },

  async enabledProviders(q: Queryable) {
    return q
      .selectFrom('organization_sso as s')
      .innerJoin('organizations as o', 'o.id', 's.org_id')
      .select(['s.org_id', 's.label', 'o.name as org_name'])
      .where('s.enabled', '=', true)
      .orderBy('o.name')
      .limit(50)
      .execute();
  },

  async saveSettings(
    q: Queryable,
    row: {
      orgId: string;
      issuer: string;
      clientId: string;
      clientSecret: string;
      label: string;
      enabled: boolean;
      now: Date;
    },
  ): Promise<void> {
    const values = {
      issuer: row.issuer,
      client_id: row.clientId,
      client_secret: row.clientSecret,
      label: row.label,
      enabled: row.enabled,
      updated_at: row.now,
    };
    await q
      .insertInto('organization_sso')
      .values({ org_id: row.orgId, ...values })
      .onConflict((oc) => oc.column('org_id').doUpdateSet(values))
      .execute();
  },

  async deleteSettings(q: Queryable, orgId: string): Promise<void> {
    await q.deleteFrom('organization_sso').where('org_id', '=', orgId).execute();
  },

  async insertLogin(
    q: Queryable,
    row: {
      state: string;
      orgId: string;
      codeVerifier: string;
      nonce: string;
      returnTo: string;
      expiresAt: Date;
    },
  ): Promise<void> {
    await q
      .insertInto('sso_logins')
      .values({
        state: row.state,
        org_id: row.orgId,
        code_verifier: row.codeVerifier,
        nonce: row.nonce,
        return_to: row.returnTo,
        expires_at: row.expiresAt,
      })
      .execute();
  },

  /** Takes a sign-in in flight by its state, once; undefined when unknown, taken or expired. */
  async takeLogin(q: Queryable, state: string, now: Date) {
    const row = await q.deleteFrom('sso_logins').where('state', '=', state).returningAll().executeTakeFirst();
    return row && row.expires_at > now ? row : undefined;
  },

  async purgeLogins(q: Queryable, now: Date): Promise<number> {
    const result = await q.deleteFrom('sso_logins').where('expires_at', '<', now).executeTakeFirst();
    return Number(result.numDeletedRows);
  },
};
