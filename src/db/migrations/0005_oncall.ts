import { sql, type Kysely } from 'kysely';

/**
 * On-call: people's contact methods and notification rules, schedules, escalation policies, team
 * routing, and the engine's durable state (escalations in progress and the notifications they plan).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    CREATE TABLE contact_methods (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      method text NOT NULL CHECK (method IN ('email', 'sms', 'voice', 'mobile')),
      address text NOT NULL,
      enabled boolean NOT NULL DEFAULT true,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX contact_methods_user_address ON contact_methods (user_id, method, lower(address));

    -- Opsgenie's notification rules: for an action type (a new alert, an acknowledgement...), alerts matching
    -- the criteria notify the steps' contact methods, each after its own delay.
    CREATE TABLE notification_rules (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      name text NOT NULL,
      action_type text NOT NULL CHECK (action_type IN ('create-alert', 'acknowledged-alert', 'closed-alert', 'add-note')),
      -- {"type": "match-all"} or conditions; see oncall/conditions.ts.
      criteria jsonb NOT NULL DEFAULT '{"type":"match-all"}',
      -- [{"id", "contactId", "sendAfterMinutes", "enabled"}], in the order they fire.
      steps jsonb NOT NULL DEFAULT '[]',
      enabled boolean NOT NULL DEFAULT true,
      position integer NOT NULL DEFAULT 0,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX notification_rules_user ON notification_rules (user_id, action_type, position);

    CREATE TABLE schedules (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      name text NOT NULL,
      description text NOT NULL DEFAULT '',
      timezone text NOT NULL,
      enabled boolean NOT NULL DEFAULT true,
      owner_team_id uuid REFERENCES teams(id) ON DELETE SET NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX schedules_org_name ON schedules (org_id, lower(name));

    CREATE TABLE schedule_rotations (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      schedule_id uuid NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
      name text NOT NULL,
      -- Layers: a higher position wins where it has someone.
      position integer NOT NULL,
      type text NOT NULL CHECK (type IN ('hourly', 'daily', 'weekly', 'custom')),
      length integer NOT NULL CHECK (length > 0),
      -- User ids in rotation order.
      participants uuid[] NOT NULL DEFAULT '{}',
      start_date timestamptz NOT NULL,
      end_date timestamptz,
      time_restriction jsonb,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX schedule_rotations_schedule ON schedule_rotations (schedule_id, position);

    CREATE TABLE schedule_overrides (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      schedule_id uuid NOT NULL REFERENCES schedules(id) ON DELETE CASCADE,
      alias text NOT NULL,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      start_date timestamptz NOT NULL,
      end_date timestamptz NOT NULL CHECK (end_date > start_date),
      rotation_ids uuid[],
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX schedule_overrides_alias ON schedule_overrides (schedule_id, alias);
    CREATE INDEX schedule_overrides_window ON schedule_overrides (schedule_id, end_date);

    CREATE TABLE escalations (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      org_id uuid NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
      name text NOT NULL,
      description text NOT NULL DEFAULT '',
      owner_team_id uuid REFERENCES teams(id) ON DELETE SET NULL,
      -- [{"condition", "notifyType", "delayMinutes", "recipient": {"type", "id"}}]; see oncall/escalations.
      rules jsonb NOT NULL,
      -- {"waitIntervalMinutes", "count", "closeAlertAfterAll"} or null.
      repeat jsonb,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX escalations_org_name ON escalations (org_id, lower(name));

    -- A team's routing: rules in order, then its default rule (is_default, always last). notify_type 'none'
    -- means "do not notify"; 'escalation' and 'schedule' name what to notify in target_id.
    CREATE TABLE team_routing_rules (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      team_id uuid NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
      name text NOT NULL,
      position integer NOT NULL DEFAULT 0,
      is_default boolean NOT NULL DEFAULT false,
      criteria jsonb NOT NULL DEFAULT '{"type":"match-all"}',
      timezone text NOT NULL DEFAULT 'UTC',
      time_restriction jsonb,
      notify_type text NOT NULL CHECK (notify_type IN ('escalation', 'schedule', 'none')),
      target_id uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      CHECK ((notify_type = 'none') = (target_id IS NULL))
    );
    CREATE INDEX team_routing_rules_team ON team_routing_rules (team_id, is_default, position);
    CREATE UNIQUE INDEX team_routing_rules_one_default ON team_routing_rules (team_id) WHERE is_default;

    -- One escalation in progress per alert and policy (or per directly paged user). The engine claims the
    -- rows whose next step is due (SKIP LOCKED), so any number of worker processes share them out.
    CREATE TABLE alert_escalations (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      alert_id uuid NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
      org_id uuid NOT NULL,
      -- What started it, one escalation each per alert: 'team:<id>' (the team's routing), 'user:<id>',
      -- 'escalation:<id>' and 'schedule:<id>' (responders of those types), 'escalate:<id>' (the escalate
      -- action starting a policy the alert was not on). And the stored policy it runs, when it runs one
      -- (the escalate action names policies by it).
      source text NOT NULL,
      escalation_id uuid,
      -- The policy as it was when the escalation started (a later edit does not change a running one).
      plan jsonb NOT NULL,
      state text NOT NULL CHECK (state IN ('active', 'paused', 'finished')),
      pause_reason text,
      -- The next step to run, counted over every repeat: rule (step % rules) of cycle (step / rules).
      step integer NOT NULL DEFAULT 0,
      -- The first if-not-acked step passed over while the alert was acknowledged: an unacknowledge goes
      -- back to it, so no step is lost to an acknowledgement that was taken back.
      skipped_from integer,
      -- After such a go-back: the step it had reached. if-not-closed steps below it already ran, and are
      -- not run twice.
      replay_until integer,
      -- When step 0 of cycle 0 was due; every step's due time is this plus its offset. Pauses move it on.
      base_at timestamptz NOT NULL,
      next_at timestamptz,
      paused_at timestamptz,
      finished_reason text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX alert_escalations_source ON alert_escalations (alert_id, source);
    CREATE INDEX alert_escalations_due ON alert_escalations (next_at) WHERE state = 'active';

    -- Every message to a person, planned before it is sent. The idempotency key makes planning the same
    -- message twice (a retried job, two workers) a no-op; the lease keeps two processes from sending it at once.
    CREATE TABLE notifications (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      idempotency_key text NOT NULL UNIQUE,
      org_id uuid NOT NULL,
      alert_id uuid NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
      contact_method_id uuid REFERENCES contact_methods(id) ON DELETE SET NULL,
      method text NOT NULL,
      address text NOT NULL,
      -- What it tells: 'create-alert' (page: stops at acknowledge or close), or the other action types.
      kind text NOT NULL,
      -- Why this person: "escalation X rule 1, on call in schedule Y".
      reason text NOT NULL DEFAULT '',
      escalation_run_id uuid,
      -- A page stops being wanted when the alert is acknowledged (an if-not-acked rule's) or only when it
      -- is closed (an if-not-closed rule's); follow-ups ('none') go out whatever happens next.
      stop_on text NOT NULL DEFAULT 'none' CHECK (stop_on IN ('acknowledged', 'closed', 'none')),
      -- What the message reports, as it was when planned: who acknowledged or closed, the note.
      context jsonb NOT NULL DEFAULT '{}',
      state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'cancelled')),
      due_at timestamptz NOT NULL,
      attempts integer NOT NULL DEFAULT 0,
      lease_until timestamptz,
      sent_at timestamptz,
      provider_id text,
      last_error text,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX notifications_due ON notifications (due_at) WHERE state = 'pending';
    CREATE INDEX notifications_leased ON notifications (lease_until) WHERE state = 'sending';
    CREATE INDEX notifications_alert ON notifications (alert_id, created_at);

    -- Secrets Vigil makes for itself and shares between its processes (the key that signs action links).
    CREATE TABLE app_secrets (
      name text PRIMARY KEY,
      value bytea NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );

    -- People who existed before on-call did get what a new user gets: their username as an email contact
    -- (when it is one) and a "New alert" rule that emails it at once. Without it, nobody would be paged.
    INSERT INTO contact_methods (user_id, method, address)
    SELECT id, 'email', username FROM users WHERE username ~ '^[^@[:space:]]+@[^@[:space:]]+[.][^@[:space:]]+$';
    INSERT INTO notification_rules (user_id, name, action_type, steps)
    SELECT u.id, 'New alert', 'create-alert',
      coalesce(
        (SELECT jsonb_agg(jsonb_build_object('id', gen_random_uuid(), 'contactId', c.id, 'sendAfterMinutes', 0, 'enabled', true))
         FROM contact_methods c WHERE c.user_id = u.id),
        '[]'::jsonb)
    FROM users u;

    -- Alert events the engine has acted on, so a retried job does not act twice.
    CREATE TABLE engine_handled_events (
      event_id uuid PRIMARY KEY,
      handled_at timestamptz NOT NULL DEFAULT now()
    );
  `.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
    DROP TABLE engine_handled_events, app_secrets, notifications, alert_escalations, team_routing_rules,
      escalations, schedule_overrides, schedule_rotations, schedules, notification_rules, contact_methods;
  `.execute(db);
}
