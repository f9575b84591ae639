/**
 * Opsgenie's user rights, which a custom user role grants or disallows: a copy of USER_RIGHTS in
 * src/accounts/custom-roles/rights.ts (the console does not import server code). The API refuses a name
 * it does not know, so a right added there and not here is only missing from the pickers.
 */
export const USER_RIGHTS = [
  'who-is-on-call-show-all',
  'notification-rules-edit',
  'quiet-hours-edit',
  'alerts-access-all',
  'reports-access',
  'logs-page-access',
  'maintenance-edit',
  'contacts-edit',
  'profile-edit',
  'login-email-edit',
  'profile-custom-fields-edit',
  'configurations-read-only',
  'configurations-edit',
  'configurations-delete',
  'billing-manage',
  'alert-action',
  'alert-create',
  'alert-add-attachment',
  'alert-delete-attachment',
  'alert-add-note',
  'alert-acknowledge',
  'alert-unacknowledge',
  'alert-snooze',
  'alert-escalate',
  'alert-close',
  'alert-delete',
  'alert-take-ownership',
  'alert-assign-ownership',
  'alert-add-recipient',
  'alert-add-team',
  'alert-edit-tags',
  'alert-edit-details',
  'alert-custom-action',
  'alert-update-priority',
  'alert-acknowledge-all',
  'alert-close-all',
  'incident-create',
  'incident-add-stakeholder',
  'incident-add-responder',
  'incident-resolve',
  'incident-reopen',
  'mass-notification-create',
  'service-access',
] as const;

/** The default roles a custom role extends, as the API names them (src/accounts/custom-roles/rights.ts). */
export const EXTENDED_ROLES = ['user', 'observer', 'stakeholder'] as const;
