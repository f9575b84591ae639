import { sql, type Kysely } from 'kysely';

/**
 * The console's accounts: a password per user (Argon2id, PHC string), sessions (only the SHA-256 of each
 * token is stored), failed sign-ins (to slow down guessing, counted across every process) and the
 * one-time tokens of invitation and password-reset links; an organization's single sign-on (OpenID
 * Connect) and its sign-ins in flight.
 *
 * And the live feed of the console's alert list: after each statement that creates or changes alerts, one
 * `NOTIFY vigil_alerts` per organization names (up to 100 of) the alerts, so every API process can tell
 * its browsers without polling. Statement-level, so a batch of 200 creates costs one notification.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE user_passwords (
      user_id uuid PRIMARY KEY REFERENCES users(id) ON DELETE CASCADE,
      hash text NOT NULL,
      updated_at timestamptz NOT NULL
    );

    CREATE TABLE console_sessions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      token_hash bytea NOT NULL UNIQUE,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL,
      last_seen_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      user_agent text
    );
    CREATE INDEX console_sessions_user ON console_sessions (user_id);
    CREATE INDEX console_sessions_expiry ON console_sessions (expires_at);

    CREATE TABLE sign_in_failures (
      id bigserial PRIMARY KEY,
      email text NOT NULL,
      ip text NOT NULL,
      failed_at timestamptz NOT NULL
    );
    CREATE INDEX sign_in_failures_email ON sign_in_failures (email, failed_at);
    CREATE INDEX sign_in_failures_ip ON sign_in_failures (ip, failed_at);

    CREATE TABLE account_tokens (
      token_hash bytea PRIMARY KEY,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      purpose text NOT NULL CHECK (purpose IN ('invitation', 'password-reset')),
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz
    );
    CREATE INDEX account_tokens_user ON account_tokens (user_id);

    CREATE TABLE organization_sso (
      org_id uuid PRIMARY KEY REFERENCES organizations(id) ON DELETE CASCADE,
      issuer text NOT NULL,
      client_id text NOT NULL,
      client_secret text NOT NULL,
      label text NOT NULL,
      enabled boolean NOT NULL,
      updated_at timestamptz NOT NULL
    );

    CREATE TABLE sso_logins (
      state text PRIMARY KEY,
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      code_verifier text NOT NULL,
      nonce text NOT NULL,
      return_to text NOT NULL,
      expires_at timestamptz NOT NULL
    );

    CREATE FUNCTION vigil_announce_alerts() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      changed_org record;
    BEGIN
      FOR changed_org IN
        SELECT org_id, (array_agg(id))[1:100] AS ids, count(*) AS n FROM changed_alerts GROUP BY org_id
      LOOP
        PERFORM pg_notify(
          'vigil_alerts',
          json_build_object('org', changed_org.org_id, 'ids', changed_org.ids, 'more', changed_org.n > 100)::text
        );
      END LOOP;
      RETURN NULL;
    END
    $$;
    CREATE TRIGGER alerts_announce_insert AFTER INSERT ON alerts
      REFERENCING NEW TABLE AS changed_alerts FOR EACH STATEMENT EXECUTE FUNCTION vigil_announce_alerts();
    CREATE TRIGGER alerts_announce_update AFTER UPDATE ON alerts
      REFERENCING NEW TABLE AS changed_alerts FOR EACH STATEMENT EXECUTE FUNCTION vigil_announce_alerts();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER alerts_announce_update ON alerts;
    DROP TRIGGER alerts_announce_insert ON alerts;
    DROP FUNCTION vigil_announce_alerts();
    DROP TABLE sso_logins, organization_sso, account_tokens, sign_in_failures, console_sessions, user_passwords;
  `.execute(db);
}
