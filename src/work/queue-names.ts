/**
 * The names of the queues writers wake (`WorkSignal.wake`): kept here, apart from the modules that run
 * them, so that a writer (the alert service, the intake) depends on a name, not on the engine.
 */
export const QUEUES = {
  /** Alert events in the outbox, to be handed to their consumers. */
  alertEvents: 'alert-events',
  /** Snoozes whose end has come. */
  snoozeEnds: 'snooze-ends',
  /** Stored Security Hub deliveries, to be made into alerts. */
  deliveries: 'deliveries',
  /** Escalation steps that fall due. */
  escalations: 'escalations',
  /** Planned messages, to be sent. */
  notifications: 'notifications',
  /** Changes to write back to Security Hub. */
  writeback: 'writeback',
  /** Alert events for team destinations (webhooks, Slack, Teams), to be delivered. */
  teamDestinations: 'team-destinations',
  /** Alerts a notification policy's autoCloseAction closes when their time comes. */
  autoCloses: 'auto-closes',
  /** Escalations a notification policy's autoRestartAction starts over when their time comes. */
  autoRestarts: 'auto-restarts',
  /** Notification rules' repeats: their next rounds of a page. */
  notificationRepeats: 'notification-repeats',
  /** Maintenances opening on notification policies: the holds and auto-restarts those started end. */
  maintenanceOpenings: 'maintenance-openings',
  /** Heartbeats whose interval ran out without a ping. */
  heartbeats: 'heartbeats',
  /** This process's wish for the console's live alert feed: renewed, withdrawn, and others' old ones forgotten. */
  alertFeedWishes: 'alert-feed-wishes',
  /** Password resets people asked for, to be emailed. */
  passwordResets: 'password-resets',
  /** Old records past their retention. */
  retention: 'retention',
} as const;
