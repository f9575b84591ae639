import { sql, type Kysely } from 'kysely';

/**
 * A finding remembers the alert it fed after that alert is deleted (`securityhub_findings.last_alert_id`).
 * Deleting an alert clears the finding's `alert_id` (ON DELETE SET NULL) in the same transaction, while
 * the alert's last changes (a close, an acknowledge) still wait to be written back: the write-back looks
 * the findings up by alert when it handles each event, and found none, so the close never reached
 * Security Hub. A trigger keeps the link, so that nothing that clears `alert_id` (the foreign key's own
 * action included) can forget it; a finding that feeds an alert again forgets the old one, whose queued
 * changes must not reach the finding while the new alert is open.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    ALTER TABLE securityhub_findings ADD COLUMN last_alert_id uuid;
    CREATE INDEX securityhub_findings_last_alert ON securityhub_findings (last_alert_id)
      WHERE last_alert_id IS NOT NULL;

    CREATE FUNCTION vigil_finding_last_alert() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.alert_id IS NOT NULL THEN
        NEW.last_alert_id := NULL;
      ELSIF OLD.alert_id IS NOT NULL THEN
        NEW.last_alert_id := OLD.alert_id;
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER securityhub_findings_last_alert BEFORE UPDATE OF alert_id ON securityhub_findings
      FOR EACH ROW WHEN (OLD.alert_id IS DISTINCT FROM NEW.alert_id)
      EXECUTE FUNCTION vigil_finding_last_alert();
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TRIGGER securityhub_findings_last_alert ON securityhub_findings;
    DROP FUNCTION vigil_finding_last_alert();
    ALTER TABLE securityhub_findings DROP COLUMN last_alert_id;
  `.execute(db);
}
