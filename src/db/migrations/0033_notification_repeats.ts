import { sql, type Kysely } from 'kysely';

/**
 * `notification_repeats`: a notification rule's `repeat` acted on (Opsgenie's "repeat the steps every N
 * minutes"). One row per alert and person paged by a rule whose repeat is on: which rule, the page it
 * repeats (its idempotency key prefix, reason, stop condition and escalation run), how many rounds were
 * made and when the next falls due. The `notification-repeats` work queue plans each round; a row goes
 * when the alert no longer wants the page (acknowledged, closed, snoozed), when the rule no longer
 * repeats, or after its last round. Pages of a later step or escalation of the same alert to the same
 * person take the row over (one repeat per person and alert).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE notification_repeats (
      alert_id uuid NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      rule_id uuid NOT NULL REFERENCES notification_rules(id) ON DELETE CASCADE,
      key_prefix text NOT NULL,
      stop_on text NOT NULL CHECK (stop_on IN ('acknowledged', 'closed')),
      reason text NOT NULL,
      why text NOT NULL,
      escalation_run_id uuid,
      rounds integer NOT NULL DEFAULT 0,
      next_at timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (alert_id, user_id)
    );
    CREATE INDEX notification_repeats_due ON notification_repeats (next_at);
    CREATE INDEX notification_repeats_rule ON notification_repeats (rule_id);
    CREATE INDEX notification_repeats_user ON notification_repeats (user_id);
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`DROP TABLE notification_repeats`.execute(db);
}
