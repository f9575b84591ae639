import { sql, type Kysely } from 'kysely';

/**
 * Hardening against hostile input:
 * - findings and their write-backs are keyed by a digest of (ProductArn, Id), so an identifier of any
 *   length fits an index; the whole identifiers stay in their own columns, for display and for AWS;
 * - stored deliveries remember the request that stored them (for logs) and how far a large delivery has
 *   been processed, so workers take it in chunks and other senders' findings are not stuck behind it;
 * - tinyId counts per organization (one sequence each), so no organization learns another's volume.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE securityhub_findings ADD COLUMN finding_key text;
    UPDATE securityhub_findings
      SET finding_key = encode(sha256(sha256(convert_to(product_arn, 'UTF8')) || sha256(convert_to(finding_id, 'UTF8'))), 'hex');
    ALTER TABLE securityhub_findings ALTER COLUMN finding_key SET NOT NULL;
    ALTER TABLE securityhub_findings DROP CONSTRAINT securityhub_findings_pkey;
    ALTER TABLE securityhub_findings ADD PRIMARY KEY (integration_id, finding_key);

    ALTER TABLE securityhub_writebacks ADD COLUMN finding_key text;
    UPDATE securityhub_writebacks
      SET finding_key = encode(sha256(sha256(convert_to(product_arn, 'UTF8')) || sha256(convert_to(finding_id, 'UTF8'))), 'hex');
    ALTER TABLE securityhub_writebacks ALTER COLUMN finding_key SET NOT NULL;
    ALTER TABLE securityhub_writebacks DROP CONSTRAINT securityhub_writebacks_event_id_product_arn_finding_id_key;
    ALTER TABLE securityhub_writebacks ADD CONSTRAINT securityhub_writebacks_event_finding UNIQUE (event_id, finding_key);
    DROP INDEX securityhub_writebacks_finding;
    CREATE INDEX securityhub_writebacks_finding ON securityhub_writebacks (integration_id, finding_key, field, seq);

    ALTER TABLE integration_payloads ADD COLUMN request_id text;
    -- Findings of the delivery already processed, and what became of them so far.
    ALTER TABLE integration_payloads ADD COLUMN progress integer NOT NULL DEFAULT 0;
    ALTER TABLE integration_payloads ADD COLUMN partial jsonb;
    DROP INDEX integration_payloads_queued;
    CREATE INDEX integration_payloads_queued ON integration_payloads (integration_id, id) WHERE verdict = 'queued';

    CREATE FUNCTION alert_tiny_id_sequence(org uuid) RETURNS text
      LANGUAGE sql IMMUTABLE AS $$ SELECT 'alert_tiny_id_' || replace(org::text, '-', '') $$;

    CREATE FUNCTION organizations_create_tiny_id_sequence() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I', alert_tiny_id_sequence(NEW.id));
      RETURN NEW;
    END $$;
    CREATE TRIGGER organizations_tiny_id_sequence AFTER INSERT ON organizations
      FOR EACH ROW EXECUTE FUNCTION organizations_create_tiny_id_sequence();

    CREATE FUNCTION organizations_drop_tiny_id_sequence() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      EXECUTE format('DROP SEQUENCE IF EXISTS %I', alert_tiny_id_sequence(OLD.id));
      RETURN OLD;
    END $$;
    CREATE TRIGGER organizations_drop_tiny_id_sequence AFTER DELETE ON organizations
      FOR EACH ROW EXECUTE FUNCTION organizations_drop_tiny_id_sequence();

    -- A row that comes with its tinyId keeps it: a restore from pg_dump, which also restores the sequences.
    -- (Anything else that supplies one must move its organization's sequence on itself.)
    CREATE FUNCTION alerts_assign_tiny_id() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.tiny_id IS NULL THEN
        NEW.tiny_id := nextval(alert_tiny_id_sequence(NEW.org_id)::regclass);
      END IF;
      RETURN NEW;
    END $$;

    ALTER TABLE alerts ALTER COLUMN tiny_id DROP DEFAULT;
    ALTER TABLE alerts DROP CONSTRAINT IF EXISTS alerts_tiny_id_key;
    CREATE UNIQUE INDEX alerts_org_tiny_id ON alerts (org_id, tiny_id);
    CREATE TRIGGER alerts_tiny_id BEFORE INSERT ON alerts
      FOR EACH ROW EXECUTE FUNCTION alerts_assign_tiny_id();
    DROP SEQUENCE alert_tiny_id_seq;
  `.execute(db);
  // Existing organizations continue from their own highest tinyId, so links and emails keep working.
  await sql`
    DO $$
    DECLARE org record;
    BEGIN
      FOR org IN SELECT o.id, (SELECT max(a.tiny_id) FROM alerts a WHERE a.org_id = o.id) AS top FROM organizations o LOOP
        EXECUTE format('CREATE SEQUENCE IF NOT EXISTS %I', alert_tiny_id_sequence(org.id));
        IF org.top IS NOT NULL THEN
          PERFORM setval(alert_tiny_id_sequence(org.id)::regclass, org.top);
        END IF;
      END LOOP;
    END $$;
  `.execute(db);
}

/**
 * Back to one tinyId sequence and findings keyed by their identifiers. Not possible once a finding's
 * identifiers are too long for that key, or once two organizations share a tinyId: restore a backup.
 */
export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE SEQUENCE alert_tiny_id_seq;
    SELECT setval('alert_tiny_id_seq', coalesce((SELECT max(tiny_id) FROM alerts), 0) + 1, false);
    DROP TRIGGER alerts_tiny_id ON alerts;
    DROP INDEX alerts_org_tiny_id;
    ALTER TABLE alerts ALTER COLUMN tiny_id SET DEFAULT nextval('alert_tiny_id_seq');
    DROP TRIGGER organizations_drop_tiny_id_sequence ON organizations;
    DROP TRIGGER organizations_tiny_id_sequence ON organizations;
    DROP FUNCTION alerts_assign_tiny_id(), organizations_drop_tiny_id_sequence(), organizations_create_tiny_id_sequence();
    DO $$
    DECLARE org record;
    BEGIN
      FOR org IN SELECT id FROM organizations LOOP
        EXECUTE format('DROP SEQUENCE IF EXISTS %I', alert_tiny_id_sequence(org.id));
      END LOOP;
    END $$;
    DROP FUNCTION alert_tiny_id_sequence(uuid);

    DROP INDEX integration_payloads_queued;
    CREATE INDEX integration_payloads_queued ON integration_payloads (id) WHERE verdict = 'queued';
    ALTER TABLE integration_payloads DROP COLUMN partial, DROP COLUMN progress, DROP COLUMN request_id;

    DROP INDEX securityhub_writebacks_finding;
    CREATE INDEX securityhub_writebacks_finding
      ON securityhub_writebacks (integration_id, product_arn, finding_id, field, seq);
    ALTER TABLE securityhub_writebacks DROP CONSTRAINT securityhub_writebacks_event_finding;
    ALTER TABLE securityhub_writebacks ADD UNIQUE (event_id, product_arn, finding_id);
    ALTER TABLE securityhub_writebacks DROP COLUMN finding_key;

    ALTER TABLE securityhub_findings DROP CONSTRAINT securityhub_findings_pkey;
    ALTER TABLE securityhub_findings ADD PRIMARY KEY (integration_id, product_arn, finding_id);
    ALTER TABLE securityhub_findings DROP COLUMN finding_key;
  `.execute(db);
}
