/**
 * Generated from Vigil's /openapi.json by `npm run openapi`: do not edit by hand.
 */

export interface paths {
  '/healthz': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The process is alive */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/readyz': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The database is reachable and migrated */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/users': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List users */
    get: {
      parameters: {
        query: {
          offset: number;
          limit: number;
          sort: 'username' | 'fullName' | 'insertedAt';
          order: 'asc' | 'desc';
          query?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    /** Add a user */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** Format: email */
            username: string;
            fullName: string;
            role: {
              /** @description Owner, Admin, User, or the name of one of the organization's custom roles (/v2/roles). */
              name: string;
            };
            timeZone?: string;
            locale?: string;
            tags?: string[];
            skypeUsername?: string;
            /** @description The whole address: a field left out is empty. */
            userAddress?: {
              country?: string;
              state?: string;
              city?: string;
              line?: string;
              zipCode?: string;
            };
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/users/{identifier}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get a user by id or username */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    /** Delete a user */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    /** Update a user */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** Format: email */
            username?: string;
            fullName?: string;
            role?: {
              /** @description Owner, Admin, User, or the name of one of the organization's custom roles (/v2/roles). */
              name: string;
            };
            timeZone?: string;
            locale?: string;
            blocked?: boolean;
            tags?: string[];
            skypeUsername?: string;
            /** @description The whole address: a field left out is empty. */
            userAddress?: {
              country?: string;
              state?: string;
              city?: string;
              line?: string;
              zipCode?: string;
            };
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    trace?: never;
  };
  '/v2/users/{identifier}/teams': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A user's teams */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/teams': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List teams */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    /** Add a team */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name: string;
            description?: string;
            members?: {
              user: {
                id?: string;
                username?: string;
              };
              /** @description "admin", "user" (the default) or the name of one of the team's own roles (/v2/teams/{id}/roles). */
              role?: string;
            }[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/teams/{identifier}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get a team with its members */
    get: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          /** @description Same as identifierType. */
          teamIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    /** Delete a team */
    delete: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          /** @description Same as identifierType. */
          teamIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    /** Update a team (members, when given, replace the current ones) */
    patch: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          /** @description Same as identifierType. */
          teamIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            description?: string;
            members?: {
              user: {
                id?: string;
                username?: string;
              };
              /** @description "admin", "user" (the default) or the name of one of the team's own roles (/v2/teams/{id}/roles). */
              role?: string;
            }[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    trace?: never;
  };
  '/api/console/teams/{identifier}/rights': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The team rights the caller holds on a team
     * @description Answered by the code every team-scoped check asks, so that the console offers only what the server takes: a team's admins and the organization's admins hold them all, a plain member access-logs.
     */
    get: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          /** @description Same as identifierType. */
          teamIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              rights: (
                | 'manage-members'
                | 'edit-team-roles'
                | 'delete-team'
                | 'access-logs'
                | 'edit-team-info'
                | 'edit-integrations'
                | 'edit-heartbeats'
                | 'edit-alert-policies'
                | 'edit-notification-policies'
                | 'edit-maintenance'
                | 'edit-escalations'
                | 'edit-schedules'
                | 'edit-routing-rules'
                | 'edit-services'
              )[];
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/teams/{identifier}/members': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Add a member to a team (or change their role) */
    post: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          /** @description Same as identifierType. */
          teamIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            user: {
              id?: string;
              username?: string;
            };
            /** @description "admin", "user" (the default) or the name of one of the team's own roles (/v2/teams/{id}/roles). */
            role?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/teams/{identifier}/members/{memberIdentifier}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Remove a member from a team */
    delete: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          /** @description Same as identifierType. */
          teamIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
          memberIdentifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/api-keys': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List API keys (never the keys themselves) */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    /** Create an API key; the key is in this answer only */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name: string;
            user?: {
              id?: string;
              username?: string;
            };
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/api-keys/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Delete an API key; it stops working at once */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/organization': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** This organization */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    /** Rename the organization or change its plan (admins) */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            /** @enum {string} */
            plan?: 'standard' | 'premium' | 'enterprise';
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    trace?: never;
  };
  '/v2/account': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * This account, as Opsgenie's Account API answers it: name, user count and plan
     * @description A self-hosted Vigil has no user limit: maxUserCount is null and isYearly false. The plan names the features it allows (the standard plan has no write-back to Security Hub).
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/roles': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The organization's custom user roles with their rights */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              data: {
                id: string;
                name: string;
                /** @enum {string} */
                extendedRole: 'user' | 'observer' | 'stakeholder';
                grantedRights: string[];
                disallowedRights: string[];
              }[];
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    put?: never;
    /** Create a custom user role: a default role it extends, rights granted and disallowed */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name: string;
            /**
             * @description The default role this one extends (user by default).
             * @enum {string}
             */
            extendedRole?: 'user' | 'observer' | 'stakeholder';
            /** @description Opsgenie's user rights: who-is-on-call-show-all, notification-rules-edit, quiet-hours-edit, alerts-access-all, reports-access, logs-page-access, maintenance-edit, contacts-edit, profile-edit, login-email-edit, profile-custom-fields-edit, configurations-read-only, configurations-edit, configurations-delete, billing-manage, alert-action, alert-create, alert-add-attachment, alert-delete-attachment, alert-add-note, alert-acknowledge, alert-unacknowledge, alert-snooze, alert-escalate, alert-close, alert-delete, alert-take-ownership, alert-assign-ownership, alert-add-recipient, alert-add-team, alert-edit-tags, alert-edit-details, alert-custom-action, alert-update-priority, alert-acknowledge-all, alert-close-all, incident-create, incident-add-stakeholder, incident-add-responder, incident-resolve, incident-reopen, mass-notification-create, service-access, forwardings-edit, manage-roles, it-user-functionality, parent-login-as-user, update-login-as-user-state, see-alerts, alert-delete-note, alert-update-note, alert-update-description, alert-update-message, alert-add-responder, alert-grant-visibility, alert-create-issue, alert-link-issue, incidents-access-all, assign-response-role, incident-action, incident-associate-alerts, incident-dissociate-alerts, incident-remove-responder, incident-update-priority, incident-edit-tags, incident-edit-details, incident-edit-impact-times, incident-edit-postmortem-fields, incident-edit-message, incident-add-note, incident-close, incident-delete, incident-custom-action, update-potential-causes, incident-create-issue, incident-link-issue, edit-impacted-services, postmortem-access-published, postmortem-access-unpublished, postmortem-create, postmortem-edit, postmortem-delete, slack-channel-create, slack-channel-unlink, join-icc-session, create-icc-session, access-icc-past-sessions, incident-commander, edit-incident-command-center-room, delete-incident-command-center-room, incident-timeline-create, incident-timeline-edit, incident-timeline-delete, service-access-status, service-send-status-update. */
            grantedRights?: string[];
            /** @description Opsgenie's user rights: who-is-on-call-show-all, notification-rules-edit, quiet-hours-edit, alerts-access-all, reports-access, logs-page-access, maintenance-edit, contacts-edit, profile-edit, login-email-edit, profile-custom-fields-edit, configurations-read-only, configurations-edit, configurations-delete, billing-manage, alert-action, alert-create, alert-add-attachment, alert-delete-attachment, alert-add-note, alert-acknowledge, alert-unacknowledge, alert-snooze, alert-escalate, alert-close, alert-delete, alert-take-ownership, alert-assign-ownership, alert-add-recipient, alert-add-team, alert-edit-tags, alert-edit-details, alert-custom-action, alert-update-priority, alert-acknowledge-all, alert-close-all, incident-create, incident-add-stakeholder, incident-add-responder, incident-resolve, incident-reopen, mass-notification-create, service-access, forwardings-edit, manage-roles, it-user-functionality, parent-login-as-user, update-login-as-user-state, see-alerts, alert-delete-note, alert-update-note, alert-update-description, alert-update-message, alert-add-responder, alert-grant-visibility, alert-create-issue, alert-link-issue, incidents-access-all, assign-response-role, incident-action, incident-associate-alerts, incident-dissociate-alerts, incident-remove-responder, incident-update-priority, incident-edit-tags, incident-edit-details, incident-edit-impact-times, incident-edit-postmortem-fields, incident-edit-message, incident-add-note, incident-close, incident-delete, incident-custom-action, update-potential-causes, incident-create-issue, incident-link-issue, edit-impacted-services, postmortem-access-published, postmortem-access-unpublished, postmortem-create, postmortem-edit, postmortem-delete, slack-channel-create, slack-channel-unlink, join-icc-session, create-icc-session, access-icc-past-sessions, incident-commander, edit-incident-command-center-room, delete-incident-command-center-room, incident-timeline-create, incident-timeline-edit, incident-timeline-delete, service-access-status, service-send-status-update. */
            disallowedRights?: string[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              data: {
                id: string;
                name: string;
              };
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/roles/{identifier}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A custom user role by id or name (identifierType) */
    get: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              data: {
                id: string;
                name: string;
                /** @enum {string} */
                extendedRole: 'user' | 'observer' | 'stakeholder';
                grantedRights: string[];
                disallowedRights: string[];
              };
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    /** Replace a custom user role: rights left out are none, extendedRole left out is user, a name left out stays */
    put: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            /**
             * @description The default role this one extends (user by default).
             * @enum {string}
             */
            extendedRole?: 'user' | 'observer' | 'stakeholder';
            /** @description Opsgenie's user rights: who-is-on-call-show-all, notification-rules-edit, quiet-hours-edit, alerts-access-all, reports-access, logs-page-access, maintenance-edit, contacts-edit, profile-edit, login-email-edit, profile-custom-fields-edit, configurations-read-only, configurations-edit, configurations-delete, billing-manage, alert-action, alert-create, alert-add-attachment, alert-delete-attachment, alert-add-note, alert-acknowledge, alert-unacknowledge, alert-snooze, alert-escalate, alert-close, alert-delete, alert-take-ownership, alert-assign-ownership, alert-add-recipient, alert-add-team, alert-edit-tags, alert-edit-details, alert-custom-action, alert-update-priority, alert-acknowledge-all, alert-close-all, incident-create, incident-add-stakeholder, incident-add-responder, incident-resolve, incident-reopen, mass-notification-create, service-access, forwardings-edit, manage-roles, it-user-functionality, parent-login-as-user, update-login-as-user-state, see-alerts, alert-delete-note, alert-update-note, alert-update-description, alert-update-message, alert-add-responder, alert-grant-visibility, alert-create-issue, alert-link-issue, incidents-access-all, assign-response-role, incident-action, incident-associate-alerts, incident-dissociate-alerts, incident-remove-responder, incident-update-priority, incident-edit-tags, incident-edit-details, incident-edit-impact-times, incident-edit-postmortem-fields, incident-edit-message, incident-add-note, incident-close, incident-delete, incident-custom-action, update-potential-causes, incident-create-issue, incident-link-issue, edit-impacted-services, postmortem-access-published, postmortem-access-unpublished, postmortem-create, postmortem-edit, postmortem-delete, slack-channel-create, slack-channel-unlink, join-icc-session, create-icc-session, access-icc-past-sessions, incident-commander, edit-incident-command-center-room, delete-incident-command-center-room, incident-timeline-create, incident-timeline-edit, incident-timeline-delete, service-access-status, service-send-status-update. */
            grantedRights?: string[];
            /** @description Opsgenie's user rights: who-is-on-call-show-all, notification-rules-edit, quiet-hours-edit, alerts-access-all, reports-access, logs-page-access, maintenance-edit, contacts-edit, profile-edit, login-email-edit, profile-custom-fields-edit, configurations-read-only, configurations-edit, configurations-delete, billing-manage, alert-action, alert-create, alert-add-attachment, alert-delete-attachment, alert-add-note, alert-acknowledge, alert-unacknowledge, alert-snooze, alert-escalate, alert-close, alert-delete, alert-take-ownership, alert-assign-ownership, alert-add-recipient, alert-add-team, alert-edit-tags, alert-edit-details, alert-custom-action, alert-update-priority, alert-acknowledge-all, alert-close-all, incident-create, incident-add-stakeholder, incident-add-responder, incident-resolve, incident-reopen, mass-notification-create, service-access, forwardings-edit, manage-roles, it-user-functionality, parent-login-as-user, update-login-as-user-state, see-alerts, alert-delete-note, alert-update-note, alert-update-description, alert-update-message, alert-add-responder, alert-grant-visibility, alert-create-issue, alert-link-issue, incidents-access-all, assign-response-role, incident-action, incident-associate-alerts, incident-dissociate-alerts, incident-remove-responder, incident-update-priority, incident-edit-tags, incident-edit-details, incident-edit-impact-times, incident-edit-postmortem-fields, incident-edit-message, incident-add-note, incident-close, incident-delete, incident-custom-action, update-potential-causes, incident-create-issue, incident-link-issue, edit-impacted-services, postmortem-access-published, postmortem-access-unpublished, postmortem-create, postmortem-edit, postmortem-delete, slack-channel-create, slack-channel-unlink, join-icc-session, create-icc-session, access-icc-past-sessions, incident-commander, edit-incident-command-center-room, delete-incident-command-center-room, incident-timeline-create, incident-timeline-edit, incident-timeline-delete, service-access-status, service-send-status-update. */
            disallowedRights?: string[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              data: {
                id: string;
                name: string;
              };
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    post?: never;
    /** Delete a custom user role that no user holds */
    delete: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/teams/{identifier}/logs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A team's log: changes to the team, its members, roles and routing rules, who made them and when; for those with the access-logs right on the team. offset is the data.offset of the previous page. */
    get: {
      parameters: {
        query: {
          identifierType?: 'id' | 'name';
          /** @description Same as identifierType. */
          teamIdentifierType?: 'id' | 'name';
          limit: number;
          order: 'asc' | 'desc';
          offset?: string;
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/teams/{identifier}/roles': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A team's own roles with their rights (not the built-in admin and user) */
    get: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          /** @description Same as identifierType. */
          teamIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    /** Create a team role: a name and the team rights it grants (needs edit-team-roles) */
    post: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          /** @description Same as identifierType. */
          teamIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name: string;
            rights: {
              /** @description One of Opsgenie's team rights. */
              right: string;
              /** @default true */
              granted?: boolean;
            }[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/teams/{identifier}/roles/{roleIdentifier}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A team role by id or name (identifierType), with every right granted or not */
    get: {
      parameters: {
        query?: {
          teamIdentifierType?: 'id' | 'name';
          identifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
          roleIdentifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    /** Delete a team role that no member holds */
    delete: {
      parameters: {
        query?: {
          teamIdentifierType?: 'id' | 'name';
          identifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
          roleIdentifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    /** Rename a team role, or grant and revoke the rights given (others stay as they are) */
    patch: {
      parameters: {
        query?: {
          teamIdentifierType?: 'id' | 'name';
          identifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
          roleIdentifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            rights?: {
              /** @description One of Opsgenie's team rights. */
              right: string;
              /** @default true */
              granted?: boolean;
            }[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    trace?: never;
  };
  '/api/console/setup': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Whether Vigil still needs its first organization and admin */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              setupRequired: boolean;
            };
          };
        };
      };
    };
    put?: never;
    /** Create the organization and its first admin (only on an empty database, with the set-up code from the start-up log), signed in */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            organizationName: string;
            fullName: string;
            /** Format: email */
            email: string;
            password: string;
            /** @description The code in Vigil's start-up log, on the line "There is no organization yet" (its link carries it as ?code=). */
            setupCode?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              user: {
                id: string;
                username: string;
                fullName: string;
                /** @enum {string} */
                role: 'owner' | 'admin' | 'user';
              };
              organization: {
                id: string;
                name: string;
                /** @enum {string} */
                plan: 'standard' | 'premium' | 'enterprise';
              };
              /** @description Send it as X-CSRF-Token with every request that changes something (empty for API keys). */
              csrfToken: string;
            };
          };
        };
        /** @description Default Response */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/console/session': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Who is signed in, and the CSRF token for changes */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              user: {
                id: string;
                username: string;
                fullName: string;
                /** @enum {string} */
                role: 'owner' | 'admin' | 'user';
              };
              organization: {
                id: string;
                name: string;
                /** @enum {string} */
                plan: 'standard' | 'premium' | 'enterprise';
              };
              /** @description Send it as X-CSRF-Token with every request that changes something (empty for API keys). */
              csrfToken: string;
            };
          };
        };
        /** @description Default Response */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
            };
          };
        };
      };
    };
    put?: never;
    /** Sign in with email and password */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            email: string;
            password: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              user: {
                id: string;
                username: string;
                fullName: string;
                /** @enum {string} */
                role: 'owner' | 'admin' | 'user';
              };
              organization: {
                id: string;
                name: string;
                /** @enum {string} */
                plan: 'standard' | 'premium' | 'enterprise';
              };
              /** @description Send it as X-CSRF-Token with every request that changes something (empty for API keys). */
              csrfToken: string;
            };
          };
        };
        /** @description Default Response */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
            };
          };
        };
        /** @description Default Response */
        429: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
            };
          };
        };
      };
    };
    /** Sign out */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Signed out */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/console/password-reset': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Email a link to set a new password (answers the same whether the email has an account) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            email: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/console/password': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Set a password from an invitation or reset link, and sign in */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            token: string;
            password: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              user: {
                id: string;
                username: string;
                fullName: string;
                /** @enum {string} */
                role: 'owner' | 'admin' | 'user';
              };
              organization: {
                id: string;
                name: string;
                /** @enum {string} */
                plan: 'standard' | 'premium' | 'enterprise';
              };
              /** @description Send it as X-CSRF-Token with every request that changes something (empty for API keys). */
              csrfToken: string;
            };
          };
        };
        /** @description Default Response */
        401: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/console/invitations': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Add a person (or invite again one without a password) and email them a link to sign in */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** Format: email */
            email: string;
            fullName: string;
            /**
             * @description A new person's role (user when left out). Inviting a person again changes neither role nor full name: the answer's `unchanged` says so when another was asked for.
             * @enum {string}
             */
            role?: 'owner' | 'admin' | 'user';
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              userId: string;
              emailed: boolean;
              /** @description Only when the email could not be sent: hand it over yourself. */
              link?: string;
              /** @description Only when a person invited again was asked for with another role or full name: theirs stay, and this says so and where to change them. */
              unchanged?: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/console/sso/providers': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The organizations whose members can sign in through single sign-on */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              providers: {
                organizationId: string;
                organizationName: string;
                label: string;
              }[];
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/console/sso': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The organization's single sign-on settings (admins) */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              issuer: string;
              clientId: string;
              label: string;
              enabled: boolean;
              /** @description Register this as the redirect URI at the provider. */
              redirectUri: string;
            };
          };
        };
      };
    };
    /** Set up single sign-on through an OpenID Connect provider (owners) */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            issuer: string;
            clientId: string;
            /** @description Kept when left out; never read back. */
            clientSecret?: string;
            /** @default Single sign-on */
            label: string;
            /** @default true */
            enabled: boolean;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              issuer: string;
              clientId: string;
              label: string;
              enabled: boolean;
              /** @description Register this as the redirect URI at the provider. */
              redirectUri: string;
            };
          };
        };
      };
    };
    post?: never;
    /** Turn single sign-on off and forget its settings (owners) */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Turned off */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/console/sso/start': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Sends the browser to the organization's provider to sign in */
    get: {
      parameters: {
        query: {
          organizationId: string;
          returnTo?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/console/sso/callback': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Where the provider sends the browser back */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/console/push/key': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Vigil's VAPID public key: pushManager.subscribe's applicationServerKey */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @description The 65-byte uncompressed P-256 point, base64url. */
              publicKey: string;
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/console/push/subscriptions': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The caller's subscribed devices */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              data: {
                /** Format: uuid */
                id: string;
                deviceName: string;
                /** @description The push service's host: which browser family the device uses. */
                service: string;
                /** Format: date-time */
                createdAt: string;
                /** Format: date-time */
                lastSentAt: string | null;
              }[];
            };
          };
        };
        /** @description Default Response */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
              /** @description The fields at fault. */
              errors?: {
                [key: string]: string;
              };
              took?: number;
              requestId?: string;
            };
          };
        };
      };
    };
    put?: never;
    /**
     * Subscribe this device to the caller's pages (again: updates its keys)
     * @description The body is PushSubscription.toJSON() with a name for the device. The device becomes a mobile contact method and, unless the first "create-alert" rule already has one, a step of that rule. A new device needs the contacts-edit right (403 when a custom role takes it away); without notification-rules-edit the device is added but no rule step. A subscription the browser renewed (pushsubscriptionchange) names the one it replaces in oldEndpoint: when that is one of the caller's devices, the device moves to the new endpoint (same id, contact method and rule steps), without contacts-edit. An endpoint another person subscribed moves to the caller only with the same keys (the same browser, signed in as someone else of the organization): 409 otherwise, and always for another organization's device.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            endpoint: string;
            expirationTime?: number | null;
            keys: {
              p256dh: string;
              auth: string;
            };
            deviceName?: string;
            /** @description The renewed subscription's previous endpoint (the event's oldSubscription). */
            oldEndpoint?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** Format: uuid */
              id: string;
              deviceName: string;
              /** @description The push service's host: which browser family the device uses. */
              service: string;
              /** Format: date-time */
              createdAt: string;
              /** Format: date-time */
              lastSentAt: string | null;
            };
          };
        };
        /** @description Default Response */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
              /** @description The fields at fault. */
              errors?: {
                [key: string]: string;
              };
              took?: number;
              requestId?: string;
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
              /** @description The fields at fault. */
              errors?: {
                [key: string]: string;
              };
              took?: number;
              requestId?: string;
            };
          };
        };
        /** @description Default Response */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
              /** @description The fields at fault. */
              errors?: {
                [key: string]: string;
              };
              took?: number;
              requestId?: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/console/push/subscriptions/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    post?: never;
    /** Remove a device (its person, with contacts-edit; an org admin; an owner's: an owner) */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Removed */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/console/events': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Server-sent events: `alerts` with {ids, more, position} when alerts are created or changed, and `position`
     * @description With `after` (a position the last stream gave) or `replay` (milliseconds), the stream first tells what changed since, or `more` when this process cannot tell it all. A user or key has at most 5 streams open: a newer one ends the oldest, which is told `evicted` first.
     */
    get: {
      parameters: {
        query?: {
          after?: string;
          replay?: number;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List alerts
     * @description query: field:value terms (status, acknowledged, snoozed, isSeen, priority, tag, alias, message, description, source, owner, entity, teams, tinyId, count, integration.name, integration.type, details.<key>), free text, "quoted phrases", * wildcards, AND, OR, NOT and parentheses. searchIdentifier (with searchIdentifierType id or name) runs a saved search, AND-ed with query when both are given. The key of an API integration lists only the alerts of its team.
     */
    get: {
      parameters: {
        query: {
          query?: string;
          offset: number;
          limit: number;
          sort:
            | 'createdAt'
            | 'updatedAt'
            | 'tinyId'
            | 'alias'
            | 'message'
            | 'status'
            | 'acknowledged'
            | 'isSeen'
            | 'snoozed'
            | 'snoozedUntil'
            | 'count'
            | 'lastOccurredAt'
            | 'lastOccuredAt'
            | 'source'
            | 'owner'
            | 'priority'
            | 'integration.name'
            | 'integration.type'
            | 'report.ackTime'
            | 'report.closeTime'
            | 'report.acknowledgedBy'
            | 'report.closedBy'
            | 'created_at'
            | 'updated_at'
            | 'tiny_id'
            | 'is_seen'
            | 'snoozed_until'
            | 'last_occurred_at'
            | 'report.ack_time'
            | 'report.close_time'
            | 'report.acknowledged_by'
            | 'report.closed_by';
          order: 'asc' | 'desc';
          searchIdentifier?: string;
          /** @description id (the default) or name */
          searchIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    /** Create an alert (or count one more occurrence of the open alert with the same alias) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            message: string;
            alias?: string;
            /** @description Cut to 15,000 characters (the alert log says so) when longer */
            description?: string;
            responders?: ({
              /** @enum {string} */
              type: 'team' | 'user' | 'escalation' | 'schedule';
              id?: string;
              name?: string;
              username?: string;
            } & {
              [key: string]: unknown;
            })[];
            visibleTo?: ({
              /** @enum {string} */
              type: 'team' | 'user';
              id?: string;
              name?: string;
              username?: string;
            } & {
              [key: string]: unknown;
            })[];
            actions?: string[];
            tags?: string[];
            details?: {
              [key: string]: string | number | boolean;
            };
            entity?: string;
            /** @enum {string} */
            priority?: 'P1' | 'P2' | 'P3' | 'P4' | 'P5';
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/requests/{requestId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The outcome of an earlier request */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          requestId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/count': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Count the alerts matching a query */
    get: {
      parameters: {
        query?: {
          query?: string;
          searchIdentifier?: string;
          /** @description id (the default) or name */
          searchIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/counts': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * Count the alerts matching each of several queries, in one request (a Vigil extension)
     * @description query, repeated (1 to 10 times; empty for every alert): each is counted as GET /v2/alerts/count counts it, AND-ed with the saved search when searchIdentifier names one; the answer has one count per query, in their order, from one scan of the alerts. Together the queries have at most 50 terms no index serves (free text, wildcards, message/description, details, source and the like: see the search docs; 422 beyond); with a saved search each query also counts the saved search's, and the limit grows by five times the saved search's own.
     */
    get: {
      parameters: {
        query: {
          query: string[];
          searchIdentifier?: string;
          /** @description id (the default) or name */
          searchIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              data: {
                query: string;
                count: number;
              }[];
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/{identifier}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get an alert by id, tiny id or alias */
    get: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    /** Delete an alert */
    delete: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
          /** @description Display name of the person making the request */
          user?: string;
          source?: string;
          note?: string;
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/{identifier}/acknowledge': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Acknowledge an alert */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/{identifier}/unacknowledge': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Unacknowledge an alert */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/{identifier}/close': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Close an alert */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/{identifier}/actions/{action}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Run one of the alert's custom actions: it goes on the alert's log and to the team's webhooks as custom_action */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
        };
        header?: never;
        path: {
          identifier: string;
          action: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/{identifier}/escalate': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Move the alert to the next rule of its escalation now (of the policy given, or of every policy it is on) */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            escalation?: {
              id?: string;
              name?: string;
            };
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/{identifier}/snooze': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Snooze an alert until a time */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** Format: date-time */
            endTime: string;
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/{identifier}/notes': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** An alert's notes */
    get: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
          offset?: string;
          direction: 'next' | 'prev';
          order: 'asc' | 'desc';
          limit: number;
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    /** Add a note */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            note: string;
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/{identifier}/tags': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Add tags */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            tags: string[];
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    /** Remove tags (tags=a,b) */
    delete: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
          tags: string;
          /** @description Display name of the person making the request */
          user?: string;
          source?: string;
          note?: string;
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/{identifier}/details': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Add details (custom properties) */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            details: {
              [key: string]: string | number | boolean;
            };
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    /** Remove details (keys=a,b) */
    delete: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
          keys: string;
          /** @description Display name of the person making the request */
          user?: string;
          source?: string;
          note?: string;
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/{identifier}/priority': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /** Change the priority */
    put: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @enum {string} */
            priority: 'P1' | 'P2' | 'P3' | 'P4' | 'P5';
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/{identifier}/message': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /** Change the message */
    put: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            message: string;
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/{identifier}/description': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /** Change the description */
    put: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description Cut to 15,000 characters (the alert log and request status say so) when longer */
            description: string;
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/{identifier}/assign': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Assign an owner */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            owner: {
              id?: string;
              username?: string;
            };
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/{identifier}/responders': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Add a responder (a team, user, escalation or schedule): it is paged as if the alert had been created with it */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            responder: {
              /** @enum {string} */
              type: 'team' | 'user' | 'escalation' | 'schedule';
              id?: string;
              name?: string;
              username?: string;
            } & {
              [key: string]: unknown;
            };
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/{identifier}/teams': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Add a team: it becomes a responder (its routing rules page its people) and the alert is the team's */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            team: {
              id?: string;
              name?: string;
            } & {
              [key: string]: unknown;
            };
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/{identifier}/recipients': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The people the alert reached: each paged person, by the channel of their last page, and whether they acknowledged or closed it */
    get: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/{identifier}/logs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** An alert's activity log: every change, who or what made it, and when */
    get: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny' | 'alias';
          offset?: string;
          direction: 'next' | 'prev';
          order: 'asc' | 'desc';
          limit: number;
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/bulk/alerts/acknowledge': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Acknowledge alerts (Vigil's own, not Opsgenie's)
     * @description Each alert as the single action does it, all in one transaction; 200 with the ids done and those not done, each with why. More than 500 identifiers is a 422.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description The alerts' ids, at most 500 (a repeated id counts once). One that is not an id, or names no alert the caller can act on, fails alone. */
            identifiers: string[];
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              data: {
                /** @description The ids the action was done on. */
                succeeded: string[];
                /** @description The ids it was not done on, each with why. */
                failed: {
                  id: string;
                  reason: string;
                }[];
              };
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/bulk/alerts/unacknowledge': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Unacknowledge alerts (Vigil's own, not Opsgenie's)
     * @description Each alert as the single action does it, all in one transaction; 200 with the ids done and those not done, each with why. More than 500 identifiers is a 422.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description The alerts' ids, at most 500 (a repeated id counts once). One that is not an id, or names no alert the caller can act on, fails alone. */
            identifiers: string[];
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              data: {
                /** @description The ids the action was done on. */
                succeeded: string[];
                /** @description The ids it was not done on, each with why. */
                failed: {
                  id: string;
                  reason: string;
                }[];
              };
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/bulk/alerts/close': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Close alerts (Vigil's own, not Opsgenie's)
     * @description Each alert as the single action does it, all in one transaction; 200 with the ids done and those not done, each with why. More than 500 identifiers is a 422.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description The alerts' ids, at most 500 (a repeated id counts once). One that is not an id, or names no alert the caller can act on, fails alone. */
            identifiers: string[];
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              data: {
                /** @description The ids the action was done on. */
                succeeded: string[];
                /** @description The ids it was not done on, each with why. */
                failed: {
                  id: string;
                  reason: string;
                }[];
              };
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/bulk/alerts/addNote': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Add a note to alerts (Vigil's own, not Opsgenie's)
     * @description Each alert as the single action does it, all in one transaction; 200 with the ids done and those not done, each with why. More than 500 identifiers is a 422.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description The alerts' ids, at most 500 (a repeated id counts once). One that is not an id, or names no alert the caller can act on, fails alone. */
            identifiers: string[];
            note: string;
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              data: {
                /** @description The ids the action was done on. */
                succeeded: string[];
                /** @description The ids it was not done on, each with why. */
                failed: {
                  id: string;
                  reason: string;
                }[];
              };
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/bulk/alerts/snooze': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Snooze alerts until a time (Vigil's own, not Opsgenie's)
     * @description Each alert as the single action does it, all in one transaction; 200 with the ids done and those not done, each with why. More than 500 identifiers is a 422.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description The alerts' ids, at most 500 (a repeated id counts once). One that is not an id, or names no alert the caller can act on, fails alone. */
            identifiers: string[];
            /** Format: date-time */
            endTime: string;
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              data: {
                /** @description The ids the action was done on. */
                succeeded: string[];
                /** @description The ids it was not done on, each with why. */
                failed: {
                  id: string;
                  reason: string;
                }[];
              };
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/bulk/alerts/assign': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Assign an owner to alerts (Vigil's own, not Opsgenie's)
     * @description Each alert as the single action does it, all in one transaction; 200 with the ids done and those not done, each with why. More than 500 identifiers is a 422.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description The alerts' ids, at most 500 (a repeated id counts once). One that is not an id, or names no alert the caller can act on, fails alone. */
            identifiers: string[];
            owner: {
              id?: string;
              username?: string;
            };
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              data: {
                /** @description The ids the action was done on. */
                succeeded: string[];
                /** @description The ids it was not done on, each with why. */
                failed: {
                  id: string;
                  reason: string;
                }[];
              };
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/bulk/alerts/escalate': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Move alerts to the next rule of their escalation now (Vigil's own, not Opsgenie's)
     * @description Each alert as the single action does it, all in one transaction; 200 with the ids done and those not done, each with why. More than 500 identifiers is a 422.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description The alerts' ids, at most 500 (a repeated id counts once). One that is not an id, or names no alert the caller can act on, fails alone. */
            identifiers: string[];
            escalation?: {
              id?: string;
              name?: string;
            };
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              data: {
                /** @description The ids the action was done on. */
                succeeded: string[];
                /** @description The ids it was not done on, each with why. */
                failed: {
                  id: string;
                  reason: string;
                }[];
              };
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/bulk/alerts/priority': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Change the priority of alerts (Vigil's own, not Opsgenie's)
     * @description Each alert as the single action does it, all in one transaction; 200 with the ids done and those not done, each with why. More than 500 identifiers is a 422.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description The alerts' ids, at most 500 (a repeated id counts once). One that is not an id, or names no alert the caller can act on, fails alone. */
            identifiers: string[];
            /** @enum {string} */
            priority: 'P1' | 'P2' | 'P3' | 'P4' | 'P5';
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              data: {
                /** @description The ids the action was done on. */
                succeeded: string[];
                /** @description The ids it was not done on, each with why. */
                failed: {
                  id: string;
                  reason: string;
                }[];
              };
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/{identifier}/attachments': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** An alert's attachments: {data: [{name, id}]}, oldest first */
    get: {
      parameters: {
        query?: {
          /** @description id (the default), tiny or alias; Opsgenie's name for it here */
          alertIdentifierType?: 'id' | 'tiny' | 'alias';
          /** @description Same as alertIdentifierType. */
          identifierType?: 'id' | 'tiny' | 'alias';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    /**
     * Add an attachment: multipart/form-data with the file in the field "file"
     * @description Opsgenie's Add Alert Attachment. The form may also carry user (who the alert's log says added it) and indexFile (kept). One file per request, at most VIGIL_ATTACHMENT_MAX_BYTES (413 beyond); an alert holds at most VIGIL_ATTACHMENTS_PER_ALERT files (422 beyond). A process receives a few uploads at once: beyond, after a short wait, a 503 with Retry-After. The file name is cut to its last path segment and 255 characters.
     */
    post: {
      parameters: {
        query?: {
          /** @description id (the default), tiny or alias; Opsgenie's name for it here */
          alertIdentifierType?: 'id' | 'tiny' | 'alias';
          /** @description Same as alertIdentifierType. */
          identifierType?: 'id' | 'tiny' | 'alias';
          /** @description Display name of the person making the request */
          user?: string;
          indexFile?: string;
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/{identifier}/attachments/{attachmentId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** An attachment: {data: {name, url}}, url a signed link that downloads it until it expires (VIGIL_ATTACHMENT_LINK_TTL_MINUTES) */
    get: {
      parameters: {
        query?: {
          /** @description id (the default), tiny or alias; Opsgenie's name for it here */
          alertIdentifierType?: 'id' | 'tiny' | 'alias';
          /** @description Same as alertIdentifierType. */
          identifierType?: 'id' | 'tiny' | 'alias';
        };
        header?: never;
        path: {
          identifier: string;
          /** @description The id List Alert Attachments gives */
          attachmentId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    /** Delete an attachment */
    delete: {
      parameters: {
        query?: {
          /** @description id (the default), tiny or alias; Opsgenie's name for it here */
          alertIdentifierType?: 'id' | 'tiny' | 'alias';
          /** @description Same as alertIdentifierType. */
          identifierType?: 'id' | 'tiny' | 'alias';
          /** @description Display name of the person making the request */
          user?: string;
        };
        header?: never;
        path: {
          identifier: string;
          /** @description The id List Alert Attachments gives */
          attachmentId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/saved-searches': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List saved searches
     * @description All of the organization's saved searches (at most 1,000), by name, unpaged as in Opsgenie.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    /**
     * Create a saved search
     * @description A named alert query (validated as GET /v2/alerts validates `query`) that the list and count run by searchIdentifier. Names are unique in the organization, without regard to case. An organization holds at most 1,000 and a user owns at most 100 (a 422 beyond: delete some first).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name: string;
            query: string;
            owner: {
              id?: string;
              username?: string;
            };
            description?: string;
            teams?: {
              id?: string;
              name?: string;
            }[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/alerts/saved-searches/{identifier}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get a saved search by id or name */
    get: {
      parameters: {
        query: {
          identifierType: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    /** Delete a saved search */
    delete: {
      parameters: {
        query: {
          identifierType: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    /** Update a saved search (the fields given; teams, when given, replaces the list) */
    patch: {
      parameters: {
        query: {
          identifierType: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            query?: string;
            owner?: {
              id?: string;
              username?: string;
            };
            description?: string;
            teams?: {
              id?: string;
              name?: string;
            }[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    trace?: never;
  };
  '/v2/integrations': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List integrations */
    get: {
      parameters: {
        query?: {
          /** @description Only the integrations of this type, as they show it (Prometheus lists those made with that Opsgenie type, API the others of kind API). */
          type?: string;
          teamId?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    /**
     * Add an integration to a team
     * @description The key of an API integration reads and acts only on the alerts of its team (the assignee team, else the owner team); alerts of other teams answer as if they did not exist. Its access flags (allowReadAccess, allowWriteAccess, allowDeleteAccess, allowConfigurationAccess) say which requests it may make; a request they refuse answers 403.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description One of Vigil's types, AmazonSecurityHub, API, Email, Webhook. Any other of Opsgenie's type names (Prometheus, Grafana, Datadog, Marid, Zabbix…: 1 to 100 letters, digits, spaces, dots, dashes and underscores) makes an API integration that keeps that name as its type: it is shown as its type, and its key works as an API integration's (the Alert API, with the access flags). A tool that sends to an endpoint of its own in Opsgenie rather than to the Alert API is not served. One of Vigil's types written in other letter case is refused. */
            type: string;
            name: string;
            /** @description The team that owns the integration (Terraform: owner_team_id). Every Vigil integration has one: when it is left out, the one team `responders` names owns it, and with no team or several there a 422 asks for it (Vigil has no global integrations). */
            ownerTeam?: {
              id?: string;
              name?: string;
            };
            /** @description Opsgenie's responders of the integration (what Terraform's opsgenie_api_integration and Opsgenie's Go SDK send). Used only when ownerTeam is not given: the one team they name (by id or name) then owns the integration; they are not kept (set responders on the integration's create actions). */
            responders?:
              | {
                  type: string;
                  id?: string;
                  name?: string;
                  username?: string;
                }[]
              | null;
            assigneeTeam?: {
              id?: string;
              name?: string;
            };
            enabled?: boolean;
            /** @description Vigil's own, for moving from Opsgenie: the integration's existing API key (32 to 128 letters, digits and hyphens, such as an Opsgenie key), so its senders keep working. Organization admins only; refused with a 409 when the key is already in use. Left out, Vigil makes a new key. */
            apiKey?: string;
            /** @description Alerts this integration creates are made, routed and logged as usual, but nobody is notified of them: no escalation starts when one is created (default false). */
            suppressNotifications?: boolean;
            verifySignatures?: boolean;
            allowedTopicArns?: string[];
            eventTypes?: ('imported' | 'custom-action' | 'insight-results' | 'imported-v2')[];
            /** @enum {string} */
            minimumSeverity?: 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
            autoClose?: {
              resolved?: boolean;
              suppressed?: boolean;
              archived?: boolean;
              passed?: boolean;
            };
            alertOnHandledFindings?: boolean;
            sendUpdatesBack?: boolean;
            roleArn?: string;
            region?: string;
            /** @description Email integrations only, and required for them: the local part of the address the integration receives mail at (emailUsername@VIGIL_INBOUND_EMAIL_DOMAIN): 1 to 64 lower-case letters, digits, dots (never two in a row), underscores and hyphens, starting and ending with a letter or digit; one per Vigil instance (409 when taken). Any other type refuses it with a 422, unless given empty ("", null, or {} for headers), as Opsgenie's Go SDK and Terraform provider send it: then it counts as not given. */
            emailUsername?: string | '';
            /** @description Webhook integrations only, and required for them: where the alert activity of the integration's team is POSTed, as a signed team webhook is (https, and no private addresses unless an operator allows the host with VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS). */
            webhookUrl?: string;
            /** @description Webhook integrations only: another name for webhookUrl, the one Opsgenie's Go SDK and Terraform provider use ("" counts as not given). Given with a different webhookUrl, the one equal to the URL now is taken as read back and the other as the change; a 422 when neither is. Any other type refuses it with a 422, unless given empty ("", null, or {} for headers), as Opsgenie's Go SDK and Terraform provider send it: then it counts as not given. */
            url?: string;
            /** @description Webhook integrations only: send the alert's description (default true; null counts as not given). Any other type refuses it with a 422, unless given empty ("", null, or {} for headers), as Opsgenie's Go SDK and Terraform provider send it: then it counts as not given. */
            addAlertDescription?: boolean | null;
            /** @description Webhook integrations only: send the alert's details (default true; null counts as not given). Any other type refuses it with a 422, unless given empty ("", null, or {} for headers), as Opsgenie's Go SDK and Terraform provider send it: then it counts as not given. */
            addAlertDetails?: boolean | null;
            /** @description Webhook integrations only: headers sent with every request (at most 20), such as a receiver's credentials; shown with their values masked (****). Left out (or null), or a value sent back as ****, keeps the stored value while webhookUrl stays as it is; any other webhookUrl (another path or query on the same host too) needs every stored value given again (422 otherwise), and **** for a header with no stored value is a 422. Any other type refuses it with a 422, unless given empty ("", null, or {} for headers), as Opsgenie's Go SDK and Terraform provider send it: then it counts as not given. */
            headers?: {
              [key: string]: string;
            } | null;
            /** @description API integrations only. Its key may read alerts: GET requests (default true). */
            allowReadAccess?: boolean;
            /** @description API integrations only. Its key may create and update alerts and run their actions: POST, PUT and PATCH requests (default true). A Webhook integration takes it too, as Opsgenie's Terraform provider sends it, and shows it as given (default true), but in Vigil a Webhook integration's key does not use the Alert API: it changes nothing. */
            allowWriteAccess?: boolean;
            /** @description API integrations only. Its key may delete alerts, and tags and details of alerts: DELETE requests (default true). */
            allowDeleteAccess?: boolean;
            /** @description API integrations only. Its key may use the APIs besides the Alert API (users, teams, schedules, escalations, integrations) with the rights of an admin of the integration's owner team (default false: the Alert API only). */
            allowConfigurationAccess?: boolean;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/integrations/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get an integration */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    /**
     * Update an integration as Opsgenie's PUT does (what Terraform and the Go SDK send)
     * @description An API integration's access flags, a Webhook integration's allowWriteAccess and any integration's suppressNotifications not given go back to their defaults, as Opsgenie resets what a PUT leaves out. Other fields not given keep their value: Vigil requires an owner team, and the Security Hub settings are Vigil's own. The type cannot change. Fields Vigil does not know are ignored, and so are the fields of other types given empty, as Opsgenie's Go SDK sends every type's fields. The key of an API integration reads and acts only on the alerts of its team (the assignee team, else the owner team); alerts of other teams answer as if they did not exist. Its access flags (allowReadAccess, allowWriteAccess, allowDeleteAccess, allowConfigurationAccess) say which requests it may make; a request they refuse answers 403.
     */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            ownerTeam?: {
              id?: string;
              name?: string;
            };
            assigneeTeam?: {
              id?: string;
              name?: string;
            } | null;
            enabled?: boolean;
            /** @description Alerts this integration creates are made, routed and logged as usual, but nobody is notified of them: no escalation starts when one is created (default false). */
            suppressNotifications?: boolean;
            verifySignatures?: boolean;
            allowedTopicArns?: string[];
            eventTypes?: ('imported' | 'custom-action' | 'insight-results' | 'imported-v2')[];
            /** @enum {string} */
            minimumSeverity?: 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
            autoClose?: {
              resolved?: boolean;
              suppressed?: boolean;
              archived?: boolean;
              passed?: boolean;
            };
            alertOnHandledFindings?: boolean;
            sendUpdatesBack?: boolean;
            roleArn?: string;
            region?: string;
            /** @description Email integrations only, and required for them: the local part of the address the integration receives mail at (emailUsername@VIGIL_INBOUND_EMAIL_DOMAIN): 1 to 64 lower-case letters, digits, dots (never two in a row), underscores and hyphens, starting and ending with a letter or digit; one per Vigil instance (409 when taken). Any other type refuses it with a 422, unless given empty ("", null, or {} for headers), as Opsgenie's Go SDK and Terraform provider send it: then it counts as not given. */
            emailUsername?: string | '';
            /** @description Webhook integrations only, and required for them: where the alert activity of the integration's team is POSTed, as a signed team webhook is (https, and no private addresses unless an operator allows the host with VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS). */
            webhookUrl?: string;
            /** @description Webhook integrations only: another name for webhookUrl, the one Opsgenie's Go SDK and Terraform provider use ("" counts as not given). Given with a different webhookUrl, the one equal to the URL now is taken as read back and the other as the change; a 422 when neither is. Any other type refuses it with a 422, unless given empty ("", null, or {} for headers), as Opsgenie's Go SDK and Terraform provider send it: then it counts as not given. */
            url?: string;
            /** @description Webhook integrations only: send the alert's description (default true; null counts as not given). Any other type refuses it with a 422, unless given empty ("", null, or {} for headers), as Opsgenie's Go SDK and Terraform provider send it: then it counts as not given. */
            addAlertDescription?: boolean | null;
            /** @description Webhook integrations only: send the alert's details (default true; null counts as not given). Any other type refuses it with a 422, unless given empty ("", null, or {} for headers), as Opsgenie's Go SDK and Terraform provider send it: then it counts as not given. */
            addAlertDetails?: boolean | null;
            /** @description Webhook integrations only: headers sent with every request (at most 20), such as a receiver's credentials; shown with their values masked (****). Left out (or null), or a value sent back as ****, keeps the stored value while webhookUrl stays as it is; any other webhookUrl (another path or query on the same host too) needs every stored value given again (422 otherwise), and **** for a header with no stored value is a 422. Any other type refuses it with a 422, unless given empty ("", null, or {} for headers), as Opsgenie's Go SDK and Terraform provider send it: then it counts as not given. */
            headers?: {
              [key: string]: string;
            } | null;
            /** @description API integrations only. Its key may read alerts: GET requests (default true). */
            allowReadAccess?: boolean;
            /** @description API integrations only. Its key may create and update alerts and run their actions: POST, PUT and PATCH requests (default true). A Webhook integration takes it too, as Opsgenie's Terraform provider sends it, and shows it as given (default true), but in Vigil a Webhook integration's key does not use the Alert API: it changes nothing. */
            allowWriteAccess?: boolean;
            /** @description API integrations only. Its key may delete alerts, and tags and details of alerts: DELETE requests (default true). */
            allowDeleteAccess?: boolean;
            /** @description API integrations only. Its key may use the APIs besides the Alert API (users, teams, schedules, escalations, integrations) with the rights of an admin of the integration's owner team (default false: the Alert API only). */
            allowConfigurationAccess?: boolean;
            /** @description One of Vigil's types, AmazonSecurityHub, API, Email, Webhook. Any other of Opsgenie's type names (Prometheus, Grafana, Datadog, Marid, Zabbix…: 1 to 100 letters, digits, spaces, dots, dashes and underscores) makes an API integration that keeps that name as its type: it is shown as its type, and its key works as an API integration's (the Alert API, with the access flags). A tool that sends to an endpoint of its own in Opsgenie rather than to the Alert API is not served. One of Vigil's types written in other letter case is refused. It must be the type the integration shows: a type cannot change. */
            type?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    post?: never;
    /** Delete an integration */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    /**
     * Update an integration
     * @description The key of an API integration reads and acts only on the alerts of its team (the assignee team, else the owner team); alerts of other teams answer as if they did not exist. Its access flags (allowReadAccess, allowWriteAccess, allowDeleteAccess, allowConfigurationAccess) say which requests it may make; a request they refuse answers 403.
     */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            ownerTeam?: {
              id?: string;
              name?: string;
            };
            assigneeTeam?: {
              id?: string;
              name?: string;
            } | null;
            enabled?: boolean;
            /** @description Alerts this integration creates are made, routed and logged as usual, but nobody is notified of them: no escalation starts when one is created (default false). */
            suppressNotifications?: boolean;
            verifySignatures?: boolean;
            allowedTopicArns?: string[];
            eventTypes?: ('imported' | 'custom-action' | 'insight-results' | 'imported-v2')[];
            /** @enum {string} */
            minimumSeverity?: 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
            autoClose?: {
              resolved?: boolean;
              suppressed?: boolean;
              archived?: boolean;
              passed?: boolean;
            };
            alertOnHandledFindings?: boolean;
            sendUpdatesBack?: boolean;
            roleArn?: string;
            region?: string;
            /** @description Email integrations only, and required for them: the local part of the address the integration receives mail at (emailUsername@VIGIL_INBOUND_EMAIL_DOMAIN): 1 to 64 lower-case letters, digits, dots (never two in a row), underscores and hyphens, starting and ending with a letter or digit; one per Vigil instance (409 when taken). Any other type refuses it with a 422, unless given empty ("", null, or {} for headers), as Opsgenie's Go SDK and Terraform provider send it: then it counts as not given. */
            emailUsername?: string | '';
            /** @description Webhook integrations only, and required for them: where the alert activity of the integration's team is POSTed, as a signed team webhook is (https, and no private addresses unless an operator allows the host with VIGIL_WEBHOOK_ALLOW_HTTP_HOSTS). */
            webhookUrl?: string;
            /** @description Webhook integrations only: another name for webhookUrl, the one Opsgenie's Go SDK and Terraform provider use ("" counts as not given). Given with a different webhookUrl, the one equal to the URL now is taken as read back and the other as the change; a 422 when neither is. Any other type refuses it with a 422, unless given empty ("", null, or {} for headers), as Opsgenie's Go SDK and Terraform provider send it: then it counts as not given. */
            url?: string;
            /** @description Webhook integrations only: send the alert's description (default true; null counts as not given). Any other type refuses it with a 422, unless given empty ("", null, or {} for headers), as Opsgenie's Go SDK and Terraform provider send it: then it counts as not given. */
            addAlertDescription?: boolean | null;
            /** @description Webhook integrations only: send the alert's details (default true; null counts as not given). Any other type refuses it with a 422, unless given empty ("", null, or {} for headers), as Opsgenie's Go SDK and Terraform provider send it: then it counts as not given. */
            addAlertDetails?: boolean | null;
            /** @description Webhook integrations only: headers sent with every request (at most 20), such as a receiver's credentials; shown with their values masked (****). Left out (or null), or a value sent back as ****, keeps the stored value while webhookUrl stays as it is; any other webhookUrl (another path or query on the same host too) needs every stored value given again (422 otherwise), and **** for a header with no stored value is a 422. Any other type refuses it with a 422, unless given empty ("", null, or {} for headers), as Opsgenie's Go SDK and Terraform provider send it: then it counts as not given. */
            headers?: {
              [key: string]: string;
            } | null;
            /** @description API integrations only. Its key may read alerts: GET requests (default true). */
            allowReadAccess?: boolean;
            /** @description API integrations only. Its key may create and update alerts and run their actions: POST, PUT and PATCH requests (default true). A Webhook integration takes it too, as Opsgenie's Terraform provider sends it, and shows it as given (default true), but in Vigil a Webhook integration's key does not use the Alert API: it changes nothing. */
            allowWriteAccess?: boolean;
            /** @description API integrations only. Its key may delete alerts, and tags and details of alerts: DELETE requests (default true). */
            allowDeleteAccess?: boolean;
            /** @description API integrations only. Its key may use the APIs besides the Alert API (users, teams, schedules, escalations, integrations) with the rights of an admin of the integration's owner team (default false: the Alert API only). */
            allowConfigurationAccess?: boolean;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    trace?: never;
  };
  '/v2/integrations/{id}/enable': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Turn an integration on */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/integrations/{id}/disable': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Turn an integration off */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/integrations/{id}/api-key': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Regenerate the API key (the old one stops working at once) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/integrations/{id}/test-writeback': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Assume the role, read findings, and prove both write actions (BatchUpdateFindings, BatchUpdateFindingsV2) with calls that change no finding; answers what worked and AWS’s own error text */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/integrations/{id}/payloads': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Every delivery received, newest first, with what became of it */
    get: {
      parameters: {
        query: {
          limit: number;
          before?: string;
          verdict?:
            | 'queued'
            | 'created'
            | 'updated'
            | 'closed'
            | 'ignored'
            | 'refused'
            | 'duplicate'
            | 'confirmed'
            | 'unsubscribed'
            | 'failed';
          includeBody: boolean;
        };
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/integrations/{id}/payloads/{payloadId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** One delivery, with its body and what became of it */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
          payloadId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/integrations/{id}/payloads/{payloadId}/replay': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Process a stored payload again (admins) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
          payloadId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/integrations/{id}/actions': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * An API or Email integration's actions (create, close, acknowledge, addNote, ignore)
     * @description Before any action is set, the integration behaves as Opsgenie's default actions do: its key's requests pass unchanged. Once set: a create request matching an ignore action's filter makes no alert; otherwise the first create action (by order) whose filter matches shapes the alert ({{message}}-style dynamic fields expand from the request; tags, extraProperties, responders and alertActions are added to the request's unless ignore*FromPayload), and when none matches no alert is made. Close, acknowledge and add-note requests through the key run only when an action of that type matches the alert. An Email integration's message is a create request; with appendAttachments, its files are added to the alert it made or was de-duplicated into, within the attachment limits. Each outcome is in GET /v2/alerts/requests/{requestId}. Fields Vigil does not know are ignored.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    /**
     * Replace all of an API or Email integration's actions (a list left out or null is emptied)
     * @description Before any action is set, the integration behaves as Opsgenie's default actions do: its key's requests pass unchanged. Once set: a create request matching an ignore action's filter makes no alert; otherwise the first create action (by order) whose filter matches shapes the alert ({{message}}-style dynamic fields expand from the request; tags, extraProperties, responders and alertActions are added to the request's unless ignore*FromPayload), and when none matches no alert is made. Close, acknowledge and add-note requests through the key run only when an action of that type matches the alert. An Email integration's message is a create request; with appendAttachments, its files are added to the alert it made or was de-duplicated into, within the attachment limits. Each outcome is in GET /v2/alerts/requests/{requestId}. Fields Vigil does not know are ignored.
     */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            create?:
              | {
                  type?: string;
                  name: string;
                  order?: number;
                  filter?: {
                    /** @enum {string} */
                    conditionMatchType?: 'match-all' | 'match-any-condition' | 'match-all-conditions';
                    /** @enum {string} */
                    type?: 'match-all' | 'match-any-condition' | 'match-all-conditions';
                    conditions?:
                      | {
                          /** @enum {string} */
                          field:
                            | 'message'
                            | 'alias'
                            | 'description'
                            | 'source'
                            | 'entity'
                            | 'tags'
                            | 'actions'
                            | 'details'
                            | 'priority'
                            | 'integration'
                            | 'extra-properties'
                            | 'recipients'
                            | 'teams'
                            | 'responders';
                          key?: string;
                          not?: boolean;
                          /** @enum {string} */
                          operation:
                            | 'matches'
                            | 'contains'
                            | 'starts-with'
                            | 'ends-with'
                            | 'equals'
                            | 'equals-ignore-whitespace'
                            | 'contains-key'
                            | 'contains-value'
                            | 'is-empty'
                            | 'greater-than'
                            | 'less-than';
                          expectedValue?: string;
                          order?: number;
                        }[]
                      | null;
                  } | null;
                  user?: string;
                  note?: string;
                  alias?: string;
                  message?: string;
                  description?: string;
                  entity?: string;
                  source?: string;
                  priority?: string;
                  customPriority?: string;
                  tags?: string[] | null;
                  extraProperties?: {
                    [key: string]: string | number | boolean;
                  } | null;
                  responders?:
                    | {
                        /** @enum {string} */
                        type: 'team' | 'user' | 'escalation' | 'schedule';
                        id?: string;
                        name?: string;
                        username?: string;
                      }[]
                    | null;
                  alertActions?: string[] | null;
                  appendAttachments?: boolean;
                  ignoreAlertActionsFromPayload?: boolean;
                  ignoreRespondersFromPayload?: boolean;
                  ignoreTagsFromPayload?: boolean;
                  ignoreExtraPropertiesFromPayload?: boolean;
                  ignoreTeamsFromPayload?: boolean;
                }[]
              | null;
            close?:
              | {
                  type?: string;
                  name: string;
                  order?: number;
                  filter?: {
                    /** @enum {string} */
                    conditionMatchType?: 'match-all' | 'match-any-condition' | 'match-all-conditions';
                    /** @enum {string} */
                    type?: 'match-all' | 'match-any-condition' | 'match-all-conditions';
                    conditions?:
                      | {
                          /** @enum {string} */
                          field:
                            | 'message'
                            | 'alias'
                            | 'description'
                            | 'source'
                            | 'entity'
                            | 'tags'
                            | 'actions'
                            | 'details'
                            | 'priority'
                            | 'integration'
                            | 'extra-properties'
                            | 'recipients'
                            | 'teams'
                            | 'responders';
                          key?: string;
                          not?: boolean;
                          /** @enum {string} */
                          operation:
                            | 'matches'
                            | 'contains'
                            | 'starts-with'
                            | 'ends-with'
                            | 'equals'
                            | 'equals-ignore-whitespace'
                            | 'contains-key'
                            | 'contains-value'
                            | 'is-empty'
                            | 'greater-than'
                            | 'less-than';
                          expectedValue?: string;
                          order?: number;
                        }[]
                      | null;
                  } | null;
                  user?: string;
                  note?: string;
                  alias?: string;
                  message?: string;
                  description?: string;
                  entity?: string;
                  source?: string;
                  priority?: string;
                  customPriority?: string;
                  tags?: string[] | null;
                  extraProperties?: {
                    [key: string]: string | number | boolean;
                  } | null;
                  responders?:
                    | {
                        /** @enum {string} */
                        type: 'team' | 'user' | 'escalation' | 'schedule';
                        id?: string;
                        name?: string;
                        username?: string;
                      }[]
                    | null;
                  alertActions?: string[] | null;
                  appendAttachments?: boolean;
                  ignoreAlertActionsFromPayload?: boolean;
                  ignoreRespondersFromPayload?: boolean;
                  ignoreTagsFromPayload?: boolean;
                  ignoreExtraPropertiesFromPayload?: boolean;
                  ignoreTeamsFromPayload?: boolean;
                }[]
              | null;
            acknowledge?:
              | {
                  type?: string;
                  name: string;
                  order?: number;
                  filter?: {
                    /** @enum {string} */
                    conditionMatchType?: 'match-all' | 'match-any-condition' | 'match-all-conditions';
                    /** @enum {string} */
                    type?: 'match-all' | 'match-any-condition' | 'match-all-conditions';
                    conditions?:
                      | {
                          /** @enum {string} */
                          field:
                            | 'message'
                            | 'alias'
                            | 'description'
                            | 'source'
                            | 'entity'
                            | 'tags'
                            | 'actions'
                            | 'details'
                            | 'priority'
                            | 'integration'
                            | 'extra-properties'
                            | 'recipients'
                            | 'teams'
                            | 'responders';
                          key?: string;
                          not?: boolean;
                          /** @enum {string} */
                          operation:
                            | 'matches'
                            | 'contains'
                            | 'starts-with'
                            | 'ends-with'
                            | 'equals'
                            | 'equals-ignore-whitespace'
                            | 'contains-key'
                            | 'contains-value'
                            | 'is-empty'
                            | 'greater-than'
                            | 'less-than';
                          expectedValue?: string;
                          order?: number;
                        }[]
                      | null;
                  } | null;
                  user?: string;
                  note?: string;
                  alias?: string;
                  message?: string;
                  description?: string;
                  entity?: string;
                  source?: string;
                  priority?: string;
                  customPriority?: string;
                  tags?: string[] | null;
                  extraProperties?: {
                    [key: string]: string | number | boolean;
                  } | null;
                  responders?:
                    | {
                        /** @enum {string} */
                        type: 'team' | 'user' | 'escalation' | 'schedule';
                        id?: string;
                        name?: string;
                        username?: string;
                      }[]
                    | null;
                  alertActions?: string[] | null;
                  appendAttachments?: boolean;
                  ignoreAlertActionsFromPayload?: boolean;
                  ignoreRespondersFromPayload?: boolean;
                  ignoreTagsFromPayload?: boolean;
                  ignoreExtraPropertiesFromPayload?: boolean;
                  ignoreTeamsFromPayload?: boolean;
                }[]
              | null;
            addNote?:
              | {
                  type?: string;
                  name: string;
                  order?: number;
                  filter?: {
                    /** @enum {string} */
                    conditionMatchType?: 'match-all' | 'match-any-condition' | 'match-all-conditions';
                    /** @enum {string} */
                    type?: 'match-all' | 'match-any-condition' | 'match-all-conditions';
                    conditions?:
                      | {
                          /** @enum {string} */
                          field:
                            | 'message'
                            | 'alias'
                            | 'description'
                            | 'source'
                            | 'entity'
                            | 'tags'
                            | 'actions'
                            | 'details'
                            | 'priority'
                            | 'integration'
                            | 'extra-properties'
                            | 'recipients'
                            | 'teams'
                            | 'responders';
                          key?: string;
                          not?: boolean;
                          /** @enum {string} */
                          operation:
                            | 'matches'
                            | 'contains'
                            | 'starts-with'
                            | 'ends-with'
                            | 'equals'
                            | 'equals-ignore-whitespace'
                            | 'contains-key'
                            | 'contains-value'
                            | 'is-empty'
                            | 'greater-than'
                            | 'less-than';
                          expectedValue?: string;
                          order?: number;
                        }[]
                      | null;
                  } | null;
                  user?: string;
                  note?: string;
                  alias?: string;
                  message?: string;
                  description?: string;
                  entity?: string;
                  source?: string;
                  priority?: string;
                  customPriority?: string;
                  tags?: string[] | null;
                  extraProperties?: {
                    [key: string]: string | number | boolean;
                  } | null;
                  responders?:
                    | {
                        /** @enum {string} */
                        type: 'team' | 'user' | 'escalation' | 'schedule';
                        id?: string;
                        name?: string;
                        username?: string;
                      }[]
                    | null;
                  alertActions?: string[] | null;
                  appendAttachments?: boolean;
                  ignoreAlertActionsFromPayload?: boolean;
                  ignoreRespondersFromPayload?: boolean;
                  ignoreTagsFromPayload?: boolean;
                  ignoreExtraPropertiesFromPayload?: boolean;
                  ignoreTeamsFromPayload?: boolean;
                }[]
              | null;
            ignore?:
              | {
                  type?: string;
                  name: string;
                  order?: number;
                  filter?: {
                    /** @enum {string} */
                    conditionMatchType?: 'match-all' | 'match-any-condition' | 'match-all-conditions';
                    /** @enum {string} */
                    type?: 'match-all' | 'match-any-condition' | 'match-all-conditions';
                    conditions?:
                      | {
                          /** @enum {string} */
                          field:
                            | 'message'
                            | 'alias'
                            | 'description'
                            | 'source'
                            | 'entity'
                            | 'tags'
                            | 'actions'
                            | 'details'
                            | 'priority'
                            | 'integration'
                            | 'extra-properties'
                            | 'recipients'
                            | 'teams'
                            | 'responders';
                          key?: string;
                          not?: boolean;
                          /** @enum {string} */
                          operation:
                            | 'matches'
                            | 'contains'
                            | 'starts-with'
                            | 'ends-with'
                            | 'equals'
                            | 'equals-ignore-whitespace'
                            | 'contains-key'
                            | 'contains-value'
                            | 'is-empty'
                            | 'greater-than'
                            | 'less-than';
                          expectedValue?: string;
                          order?: number;
                        }[]
                      | null;
                  } | null;
                  user?: string;
                  note?: string;
                  alias?: string;
                  message?: string;
                  description?: string;
                  entity?: string;
                  source?: string;
                  priority?: string;
                  customPriority?: string;
                  tags?: string[] | null;
                  extraProperties?: {
                    [key: string]: string | number | boolean;
                  } | null;
                  responders?:
                    | {
                        /** @enum {string} */
                        type: 'team' | 'user' | 'escalation' | 'schedule';
                        id?: string;
                        name?: string;
                        username?: string;
                      }[]
                    | null;
                  alertActions?: string[] | null;
                  appendAttachments?: boolean;
                  ignoreAlertActionsFromPayload?: boolean;
                  ignoreRespondersFromPayload?: boolean;
                  ignoreTagsFromPayload?: boolean;
                  ignoreExtraPropertiesFromPayload?: boolean;
                  ignoreTeamsFromPayload?: boolean;
                }[]
              | null;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    /**
     * Add one action to an API or Email integration; its type says to which list
     * @description type: create, close, acknowledge, addNote, ignore. Added at its order, else last. Before any action is set, the integration behaves as Opsgenie's default actions do: its key's requests pass unchanged. Once set: a create request matching an ignore action's filter makes no alert; otherwise the first create action (by order) whose filter matches shapes the alert ({{message}}-style dynamic fields expand from the request; tags, extraProperties, responders and alertActions are added to the request's unless ignore*FromPayload), and when none matches no alert is made. Close, acknowledge and add-note requests through the key run only when an action of that type matches the alert. An Email integration's message is a create request; with appendAttachments, its files are added to the alert it made or was de-duplicated into, within the attachment limits. Each outcome is in GET /v2/alerts/requests/{requestId}. Fields Vigil does not know are ignored.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            type?: string;
            name: string;
            order?: number;
            filter?: {
              /** @enum {string} */
              conditionMatchType?: 'match-all' | 'match-any-condition' | 'match-all-conditions';
              /** @enum {string} */
              type?: 'match-all' | 'match-any-condition' | 'match-all-conditions';
              conditions?:
                | {
                    /** @enum {string} */
                    field:
                      | 'message'
                      | 'alias'
                      | 'description'
                      | 'source'
                      | 'entity'
                      | 'tags'
                      | 'actions'
                      | 'details'
                      | 'priority'
                      | 'integration'
                      | 'extra-properties'
                      | 'recipients'
                      | 'teams'
                      | 'responders';
                    key?: string;
                    not?: boolean;
                    /** @enum {string} */
                    operation:
                      | 'matches'
                      | 'contains'
                      | 'starts-with'
                      | 'ends-with'
                      | 'equals'
                      | 'equals-ignore-whitespace'
                      | 'contains-key'
                      | 'contains-value'
                      | 'is-empty'
                      | 'greater-than'
                      | 'less-than';
                    expectedValue?: string;
                    order?: number;
                  }[]
                | null;
            } | null;
            user?: string;
            note?: string;
            alias?: string;
            message?: string;
            description?: string;
            entity?: string;
            source?: string;
            priority?: string;
            customPriority?: string;
            tags?: string[] | null;
            extraProperties?: {
              [key: string]: string | number | boolean;
            } | null;
            responders?:
              | {
                  /** @enum {string} */
                  type: 'team' | 'user' | 'escalation' | 'schedule';
                  id?: string;
                  name?: string;
                  username?: string;
                }[]
              | null;
            alertActions?: string[] | null;
            appendAttachments?: boolean;
            ignoreAlertActionsFromPayload?: boolean;
            ignoreRespondersFromPayload?: boolean;
            ignoreTagsFromPayload?: boolean;
            ignoreExtraPropertiesFromPayload?: boolean;
            ignoreTeamsFromPayload?: boolean;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/policies': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Create an alert policy (last in its order)
     * @description Alert policies of type alert: each alert created that matches a policy's filter is changed by it ({{message}}-style dynamic fields expand from the alert; tags, details, actions and responders are added unless ignoreOriginal*). Policies run when the alert is created, after the integration's action, in order: the organization's global policies, then those of the alert's teams; evaluation stops at the first that matches unless it says continue. The alert's log names each policy that changed it. Notification policies (type notification, a team's: teamId is required) change how the team is notified of the alerts they match, when the alert is created: suppress (the team is not notified), delayAction (the team's escalation starts after the duration, or at the next untilHour:untilMinute on the day next-time/next-weekday/next-<day> allows; an alert acknowledged or closed meanwhile notifies nobody), deduplicationAction (the team's escalation starts only once the alert occurred count times, within duration if frequency-based), autoRestartAction (while open and unacknowledged, the team's escalation starts over every duration, at most maxRepeatCount times), autoCloseAction (the alert is closed after the duration if still open). A policy with timeRestrictions applies only inside them, read in its timezone (UTC when left out): an alert policy to alerts created inside them, a notification policy to alerts that reach its team inside them (at their creation, or when the team is added as a responder, from when a delay then counts too). Filters of both kinds may also look at the alert's teams and recipients (names).
     */
    post: {
      parameters: {
        query?: {
          /** @description The team whose policy it is; left out, the organization's global policies */
          teamId?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /**
             * @description alert: changes alerts as they are created; notification: a team’s, changes how it is notified
             * @enum {string}
             */
            type: 'alert' | 'notification';
            name: string;
            policyDescription?: string;
            enabled?: boolean;
            filter?: {
              /** @enum {string} */
              type?: 'match-all' | 'match-any-condition' | 'match-all-conditions';
              /** @enum {string} */
              conditionMatchType?: 'match-all' | 'match-any-condition' | 'match-all-conditions';
              conditions?:
                | {
                    /** @enum {string} */
                    field:
                      | 'message'
                      | 'alias'
                      | 'description'
                      | 'source'
                      | 'entity'
                      | 'tags'
                      | 'actions'
                      | 'details'
                      | 'priority'
                      | 'integration'
                      | 'extra-properties'
                      | 'recipients'
                      | 'teams'
                      | 'responders';
                    key?: string;
                    not?: boolean;
                    /** @enum {string} */
                    operation:
                      | 'matches'
                      | 'contains'
                      | 'starts-with'
                      | 'ends-with'
                      | 'equals'
                      | 'equals-ignore-whitespace'
                      | 'contains-key'
                      | 'contains-value'
                      | 'is-empty'
                      | 'greater-than'
                      | 'less-than';
                    expectedValue?: string;
                    order?: number;
                  }[]
                | null;
            } | null;
            /** @description The policy applies only inside it (read in timezone): an alert policy to alerts created inside it, a notification policy to alerts that reach its team inside it (at their creation, or when the team is added as a responder); left out, at all times */
            timeRestrictions?:
              | {
                  /** @enum {string} */
                  type: 'time-of-day' | 'weekday-and-time-of-day';
                  restriction?: {
                    startDay?: string;
                    startHour?: number;
                    startMin?: number;
                    endDay?: string;
                    endHour?: number;
                    endMin?: number;
                  };
                  restrictions?: {
                    startDay?: string;
                    startHour?: number;
                    startMin?: number;
                    endDay?: string;
                    endHour?: number;
                    endMin?: number;
                  }[];
                }
              | (never | null);
            /** @description IANA zone the time restriction and a delay until a time of day are read in (Vigil’s own field; UTC when left out) */
            timezone?: string;
            message?: string;
            continue?: boolean;
            alias?: string;
            alertDescription?: string;
            entity?: string;
            source?: string;
            priority?: string;
            tags?: string[] | null;
            ignoreOriginalTags?: boolean;
            details?: {
              [key: string]: string | number | boolean;
            } | null;
            ignoreOriginalDetails?: boolean;
            actions?: string[] | null;
            ignoreOriginalActions?: boolean;
            responders?:
              | {
                  /** @enum {string} */
                  type: 'team' | 'user' | 'escalation' | 'schedule';
                  id?: string;
                  name?: string;
                  username?: string;
                }[]
              | null;
            ignoreOriginalResponders?: boolean;
            suppress?: boolean;
            delayAction?: {
              /**
               * @description for-duration: for duration; next-time: until the next untilHour:untilMinute; next-weekday: until then on a weekday; next-<day>: until then on that day (in the policy’s timezone)
               * @enum {string}
               */
              delayOption:
                | 'for-duration'
                | 'next-time'
                | 'next-weekday'
                | 'next-monday'
                | 'next-tuesday'
                | 'next-wednesday'
                | 'next-thursday'
                | 'next-friday'
                | 'next-saturday'
                | 'next-sunday';
              duration?: {
                timeAmount: number;
                /**
                 * @description minutes when left out
                 * @enum {string}
                 */
                timeUnit?: 'minutes' | 'hours' | 'days';
              };
              untilHour?: number;
              untilMinute?: number;
            } | null;
            autoCloseAction?: {
              duration: {
                timeAmount: number;
                /**
                 * @description minutes when left out
                 * @enum {string}
                 */
                timeUnit?: 'minutes' | 'hours' | 'days';
              };
            } | null;
            /** @description While the alert is open and unacknowledged, its escalation starts over every duration, at most maxRepeatCount times */
            autoRestartAction?: {
              duration?: {
                timeAmount: number;
                /**
                 * @description minutes when left out
                 * @enum {string}
                 */
                timeUnit?: 'minutes' | 'hours' | 'days';
              };
              maxRepeatCount?: number;
            } | null;
            /** @description The team is notified only once the alert occurred count times (value-based), or count times within duration (frequency-based) */
            deduplicationAction?: {
              /** @enum {string} */
              deduplicationActionType?: 'value-based' | 'frequency-based';
              count?: number;
              duration?: {
                timeAmount: number;
                /**
                 * @description minutes when left out
                 * @enum {string}
                 */
                timeUnit?: 'minutes' | 'hours' | 'days';
              };
            } | null;
            /** @description deduplicationAction as the Go SDK's UpdateNotificationPolicyRequest (so Terraform's update) misspells it; read as deduplicationAction when that is left out */
            deduplicationActionAction?: {
              /** @enum {string} */
              deduplicationActionType?: 'value-based' | 'frequency-based';
              count?: number;
              duration?: {
                timeAmount: number;
                /**
                 * @description minutes when left out
                 * @enum {string}
                 */
                timeUnit?: 'minutes' | 'hours' | 'days';
              };
            } | null;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/policies/alert': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List alert policies, in order */
    get: {
      parameters: {
        query?: {
          /** @description The team whose policy it is; left out, the organization's global policies */
          teamId?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/policies/notification': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List a team's notification policies, in order */
    get: {
      parameters: {
        query?: {
          /** @description The team whose policy it is; left out, the organization's global policies */
          teamId?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/policies/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get a policy (alert or notification) */
    get: {
      parameters: {
        query?: {
          /** @description The team whose policy it is; left out, the organization's global policies */
          teamId?: string;
        };
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    /**
     * Update a policy: it becomes the body (its place in the order stays; its type cannot change)
     * @description Alert policies of type alert: each alert created that matches a policy's filter is changed by it ({{message}}-style dynamic fields expand from the alert; tags, details, actions and responders are added unless ignoreOriginal*). Policies run when the alert is created, after the integration's action, in order: the organization's global policies, then those of the alert's teams; evaluation stops at the first that matches unless it says continue. The alert's log names each policy that changed it. Notification policies (type notification, a team's: teamId is required) change how the team is notified of the alerts they match, when the alert is created: suppress (the team is not notified), delayAction (the team's escalation starts after the duration, or at the next untilHour:untilMinute on the day next-time/next-weekday/next-<day> allows; an alert acknowledged or closed meanwhile notifies nobody), deduplicationAction (the team's escalation starts only once the alert occurred count times, within duration if frequency-based), autoRestartAction (while open and unacknowledged, the team's escalation starts over every duration, at most maxRepeatCount times), autoCloseAction (the alert is closed after the duration if still open). A policy with timeRestrictions applies only inside them, read in its timezone (UTC when left out): an alert policy to alerts created inside them, a notification policy to alerts that reach its team inside them (at their creation, or when the team is added as a responder, from when a delay then counts too). Filters of both kinds may also look at the alert's teams and recipients (names).
     */
    put: {
      parameters: {
        query?: {
          /** @description The team whose policy it is; left out, the organization's global policies */
          teamId?: string;
        };
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /**
             * @description alert: changes alerts as they are created; notification: a team’s, changes how it is notified
             * @enum {string}
             */
            type: 'alert' | 'notification';
            name: string;
            policyDescription?: string;
            enabled?: boolean;
            filter?: {
              /** @enum {string} */
              type?: 'match-all' | 'match-any-condition' | 'match-all-conditions';
              /** @enum {string} */
              conditionMatchType?: 'match-all' | 'match-any-condition' | 'match-all-conditions';
              conditions?:
                | {
                    /** @enum {string} */
                    field:
                      | 'message'
                      | 'alias'
                      | 'description'
                      | 'source'
                      | 'entity'
                      | 'tags'
                      | 'actions'
                      | 'details'
                      | 'priority'
                      | 'integration'
                      | 'extra-properties'
                      | 'recipients'
                      | 'teams'
                      | 'responders';
                    key?: string;
                    not?: boolean;
                    /** @enum {string} */
                    operation:
                      | 'matches'
                      | 'contains'
                      | 'starts-with'
                      | 'ends-with'
                      | 'equals'
                      | 'equals-ignore-whitespace'
                      | 'contains-key'
                      | 'contains-value'
                      | 'is-empty'
                      | 'greater-than'
                      | 'less-than';
                    expectedValue?: string;
                    order?: number;
                  }[]
                | null;
            } | null;
            /** @description The policy applies only inside it (read in timezone): an alert policy to alerts created inside it, a notification policy to alerts that reach its team inside it (at their creation, or when the team is added as a responder); left out, at all times */
            timeRestrictions?:
              | {
                  /** @enum {string} */
                  type: 'time-of-day' | 'weekday-and-time-of-day';
                  restriction?: {
                    startDay?: string;
                    startHour?: number;
                    startMin?: number;
                    endDay?: string;
                    endHour?: number;
                    endMin?: number;
                  };
                  restrictions?: {
                    startDay?: string;
                    startHour?: number;
                    startMin?: number;
                    endDay?: string;
                    endHour?: number;
                    endMin?: number;
                  }[];
                }
              | (never | null);
            /** @description IANA zone the time restriction and a delay until a time of day are read in (Vigil’s own field; UTC when left out) */
            timezone?: string;
            message?: string;
            continue?: boolean;
            alias?: string;
            alertDescription?: string;
            entity?: string;
            source?: string;
            priority?: string;
            tags?: string[] | null;
            ignoreOriginalTags?: boolean;
            details?: {
              [key: string]: string | number | boolean;
            } | null;
            ignoreOriginalDetails?: boolean;
            actions?: string[] | null;
            ignoreOriginalActions?: boolean;
            responders?:
              | {
                  /** @enum {string} */
                  type: 'team' | 'user' | 'escalation' | 'schedule';
                  id?: string;
                  name?: string;
                  username?: string;
                }[]
              | null;
            ignoreOriginalResponders?: boolean;
            suppress?: boolean;
            delayAction?: {
              /**
               * @description for-duration: for duration; next-time: until the next untilHour:untilMinute; next-weekday: until then on a weekday; next-<day>: until then on that day (in the policy’s timezone)
               * @enum {string}
               */
              delayOption:
                | 'for-duration'
                | 'next-time'
                | 'next-weekday'
                | 'next-monday'
                | 'next-tuesday'
                | 'next-wednesday'
                | 'next-thursday'
                | 'next-friday'
                | 'next-saturday'
                | 'next-sunday';
              duration?: {
                timeAmount: number;
                /**
                 * @description minutes when left out
                 * @enum {string}
                 */
                timeUnit?: 'minutes' | 'hours' | 'days';
              };
              untilHour?: number;
              untilMinute?: number;
            } | null;
            autoCloseAction?: {
              duration: {
                timeAmount: number;
                /**
                 * @description minutes when left out
                 * @enum {string}
                 */
                timeUnit?: 'minutes' | 'hours' | 'days';
              };
            } | null;
            /** @description While the alert is open and unacknowledged, its escalation starts over every duration, at most maxRepeatCount times */
            autoRestartAction?: {
              duration?: {
                timeAmount: number;
                /**
                 * @description minutes when left out
                 * @enum {string}
                 */
                timeUnit?: 'minutes' | 'hours' | 'days';
              };
              maxRepeatCount?: number;
            } | null;
            /** @description The team is notified only once the alert occurred count times (value-based), or count times within duration (frequency-based) */
            deduplicationAction?: {
              /** @enum {string} */
              deduplicationActionType?: 'value-based' | 'frequency-based';
              count?: number;
              duration?: {
                timeAmount: number;
                /**
                 * @description minutes when left out
                 * @enum {string}
                 */
                timeUnit?: 'minutes' | 'hours' | 'days';
              };
            } | null;
            /** @description deduplicationAction as the Go SDK's UpdateNotificationPolicyRequest (so Terraform's update) misspells it; read as deduplicationAction when that is left out */
            deduplicationActionAction?: {
              /** @enum {string} */
              deduplicationActionType?: 'value-based' | 'frequency-based';
              count?: number;
              duration?: {
                timeAmount: number;
                /**
                 * @description minutes when left out
                 * @enum {string}
                 */
                timeUnit?: 'minutes' | 'hours' | 'days';
              };
            } | null;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    post?: never;
    /** Delete a policy */
    delete: {
      parameters: {
        query?: {
          /** @description The team whose policy it is; left out, the organization's global policies */
          teamId?: string;
        };
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/policies/{id}/enable': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Turn a policy on */
    post: {
      parameters: {
        query?: {
          /** @description The team whose policy it is; left out, the organization's global policies */
          teamId?: string;
        };
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/policies/{id}/disable': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Turn a policy off */
    post: {
      parameters: {
        query?: {
          /** @description The team whose policy it is; left out, the organization's global policies */
          teamId?: string;
        };
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/policies/{id}/change-order': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Move a policy to a place in the order of its kind (0 is first) */
    post: {
      parameters: {
        query?: {
          /** @description The team whose policy it is; left out, the organization's global policies */
          teamId?: string;
        };
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            targetIndex: number;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/maintenance': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List maintenances: non-expired (planned and active, the default), past (and cancelled), or all */
    get: {
      parameters: {
        query: {
          type: 'all' | 'past' | 'non-expired';
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    /** Create a maintenance: the integrations and alert policies its rules name are disabled while it is active */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            description?: string;
            time: {
              /**
               * @description for-5-minutes, for-30-minutes and for-1-hour start now; indefinitely starts now and lasts until cancelled; schedule runs from startDate to endDate.
               * @enum {string}
               */
              type: 'for-5-minutes' | 'for-30-minutes' | 'for-1-hour' | 'indefinitely' | 'schedule';
              /**
               * Format: date-time
               * @description For type schedule: when it starts. RFC 3339, such as 2026-03-25T08:45:00Z.
               */
              startDate?: string;
              /**
               * Format: date-time
               * @description For type schedule: when it ends (in the future). RFC 3339, such as 2026-03-25T08:45:00Z.
               */
              endDate?: string;
            };
            /** @description The integrations and policies it disables (or, policies, enables) while it is active, in the order given back by a get. */
            rules: {
              /**
               * @description disabled (the default, also when empty, as opsgenie-go-sdk-v2 sends it): the integration or policy does not work while the maintenance is active; enabled, for a policy only: it runs then, even if disabled.
               * @enum {string}
               */
              state?: 'enabled' | 'disabled' | '';
              entity: {
                /** @description The integration's or the alert policy's id (a global policy or a team's). */
                id: string;
                /**
                 * @description integration: its deliveries are ignored and its key refused; policy (alert or notification): it does not run, or, enabled, runs.
                 * @enum {string}
                 */
                type: 'integration' | 'policy';
              };
            }[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/maintenance/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get a maintenance, with its rules */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    /** Update a planned or active maintenance (Opsgenie's update: the body of a create) */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            description?: string;
            time: {
              /**
               * @description for-5-minutes, for-30-minutes and for-1-hour start now; indefinitely starts now and lasts until cancelled; schedule runs from startDate to endDate.
               * @enum {string}
               */
              type: 'for-5-minutes' | 'for-30-minutes' | 'for-1-hour' | 'indefinitely' | 'schedule';
              /**
               * Format: date-time
               * @description For type schedule: when it starts. RFC 3339, such as 2026-03-25T08:45:00Z.
               */
              startDate?: string;
              /**
               * Format: date-time
               * @description For type schedule: when it ends (in the future). RFC 3339, such as 2026-03-25T08:45:00Z.
               */
              endDate?: string;
            };
            /** @description The integrations and policies it disables (or, policies, enables) while it is active, in the order given back by a get. */
            rules: {
              /**
               * @description disabled (the default, also when empty, as opsgenie-go-sdk-v2 sends it): the integration or policy does not work while the maintenance is active; enabled, for a policy only: it runs then, even if disabled.
               * @enum {string}
               */
              state?: 'enabled' | 'disabled' | '';
              entity: {
                /** @description The integration's or the alert policy's id (a global policy or a team's). */
                id: string;
                /**
                 * @description integration: its deliveries are ignored and its key refused; policy (alert or notification): it does not run, or, enabled, runs.
                 * @enum {string}
                 */
                type: 'integration' | 'policy';
              };
            }[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    post?: never;
    /** Delete a maintenance (an active one ends at once) */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    /** Change a planned or active maintenance: the fields given change. A time without a type moves the dates (the maintenance becomes a schedule). */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            description?: string;
            time?: {
              /**
               * @description for-5-minutes, for-30-minutes and for-1-hour start now; indefinitely starts now and lasts until cancelled; schedule runs from startDate to endDate.
               * @enum {string}
               */
              type?: 'for-5-minutes' | 'for-30-minutes' | 'for-1-hour' | 'indefinitely' | 'schedule';
              /**
               * Format: date-time
               * @description For type schedule: when it starts. RFC 3339, such as 2026-03-25T08:45:00Z.
               */
              startDate?: string;
              /**
               * Format: date-time
               * @description For type schedule: when it ends (in the future). RFC 3339, such as 2026-03-25T08:45:00Z.
               */
              endDate?: string;
            };
            /** @description The integrations and policies it disables (or, policies, enables) while it is active, in the order given back by a get. */
            rules?: {
              /**
               * @description disabled (the default, also when empty, as opsgenie-go-sdk-v2 sends it): the integration or policy does not work while the maintenance is active; enabled, for a policy only: it runs then, even if disabled.
               * @enum {string}
               */
              state?: 'enabled' | 'disabled' | '';
              entity: {
                /** @description The integration's or the alert policy's id (a global policy or a team's). */
                id: string;
                /**
                 * @description integration: its deliveries are ignored and its key refused; policy (alert or notification): it does not run, or, enabled, runs.
                 * @enum {string}
                 */
                type: 'integration' | 'policy';
              };
            }[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    trace?: never;
  };
  '/v1/maintenance/{id}/change-end-date': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Change the end of a planned or active maintenance (it becomes a schedule) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /**
             * Format: date-time
             * @description The new end, in the future. RFC 3339, such as 2026-03-25T08:45:00Z.
             */
            endDate: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/maintenance/{id}/cancel': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Cancel a maintenance: its integrations and policies work again at once (one already over stays as it is) */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/incidents/create': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Create an incident: an alert carrying its message, priority, responders, tags and details is created with it, and pages its responders */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            message: string;
            description?: string;
            /** @description Teams and users (or escalations and schedules) to page through the incident's alert */
            responders?: ({
              /** @enum {string} */
              type: 'team' | 'user' | 'escalation' | 'schedule';
              id?: string;
              name?: string;
              username?: string;
            } & {
              [key: string]: unknown;
            })[];
            tags?: string[];
            details?: {
              [key: string]: string | number | boolean;
            };
            /** @enum {string} */
            priority?: 'P1' | 'P2' | 'P3' | 'P4' | 'P5';
            /** @description Service ids, kept and given back (Vigil has no services of its own) */
            impactedServices?: string[];
            statusPageEntry?: {
              title?: string;
              detail?: string;
            };
            notifyStakeholders?: boolean;
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            /** @description A note to add to the incident */
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/incidents/requests/{requestId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The outcome of an earlier Incident API request, with the incident it made or acted on */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          requestId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/incidents': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * List incidents
     * @description query: field:value terms (status (open, resolved, closed), priority, tag, message, description, tinyId, teams, details.<key>), free text, "quoted phrases", * wildcards, AND, OR, NOT and parentheses, as in the alert search. The key of an API integration lists only the incidents its team responds to.
     */
    get: {
      parameters: {
        query: {
          query?: string;
          offset: number;
          limit: number;
          sort:
            | 'createdAt'
            | 'insertedAt'
            | 'updatedAt'
            | 'tinyId'
            | 'message'
            | 'status'
            | 'priority'
            | 'owner'
            | 'isSeen';
          order: 'asc' | 'desc';
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/incidents/{identifier}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get an incident by id or tiny id */
    get: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    /** Delete an incident (its alerts stay, as alerts of their own) */
    delete: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny';
          /** @description Display name of the person making the request */
          user?: string;
          source?: string;
          /** @description A note to add to the incident */
          note?: string;
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/incidents/{identifier}/resolve': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Resolve an incident: its open alerts are closed */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            /** @description A note to add to the incident */
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/incidents/{identifier}/close': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Close an incident: its open alerts are closed */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            /** @description A note to add to the incident */
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/incidents/{identifier}/reopen': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Reopen a resolved or closed incident: a new alert pages its responders again */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            /** @description A note to add to the incident */
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/incidents/{identifier}/notes': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** An incident's notes */
    get: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny';
          offset?: string;
          direction: 'next' | 'prev';
          order: 'asc' | 'desc';
          limit: number;
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    /** Add a note to an incident */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            note: string;
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/incidents/{identifier}/priority': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /** Change an incident's priority, and that of its open alerts */
    put: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @enum {string} */
            priority: 'P1' | 'P2' | 'P3' | 'P4' | 'P5';
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            /** @description A note to add to the incident */
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    /** Change an incident's priority, and that of its open alerts */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @enum {string} */
            priority: 'P1' | 'P2' | 'P3' | 'P4' | 'P5';
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            /** @description A note to add to the incident */
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/incidents/{identifier}/responders': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Add a responder (a team or user, or an escalation or schedule) to an incident: it is added to its open alerts, which page it */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            responder?:
              | ({
                  /** @enum {string} */
                  type: 'team' | 'user' | 'escalation' | 'schedule';
                  id?: string;
                  name?: string;
                  username?: string;
                } & {
                  [key: string]: unknown;
                })
              | ({
                  /** @enum {string} */
                  type: 'team' | 'user' | 'escalation' | 'schedule';
                  id?: string;
                  name?: string;
                  username?: string;
                } & {
                  [key: string]: unknown;
                })[];
            responders?: ({
              /** @enum {string} */
              type: 'team' | 'user' | 'escalation' | 'schedule';
              id?: string;
              name?: string;
              username?: string;
            } & {
              [key: string]: unknown;
            })[];
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            /** @description A note to add to the incident */
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/incidents/{identifier}/tags': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Add tags to an incident, and to its open alerts (an alert's limits: 20 tags of 50 characters) */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            tags: string[];
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            /** @description A note to add to the incident */
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    /** Remove tags (tags=a,b) from an incident, and from its open alerts */
    delete: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny';
          tags: string;
          /** @description Display name of the person making the request */
          user?: string;
          source?: string;
          /** @description A note to add to the incident */
          note?: string;
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/incidents/{identifier}/details': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Add details (custom properties) to an incident, and to its open alerts (an alert's limits) */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            details: {
              [key: string]: string | number | boolean;
            };
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            /** @description A note to add to the incident */
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    /** Remove details (keys=a,b) from an incident, and from its open alerts */
    delete: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny';
          keys: string;
          /** @description Display name of the person making the request */
          user?: string;
          source?: string;
          /** @description A note to add to the incident */
          note?: string;
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/incidents/{identifier}/message': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Change an incident's message, and that of its open alerts (130 characters at most, as an alert's) */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            message: string;
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            /** @description A note to add to the incident */
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/incidents/{identifier}/description': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Change an incident's description, and that of its open alerts */
    post: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            description: string;
            /** @description Display name of the person making the request */
            user?: string;
            source?: string;
            /** @description A note to add to the incident */
            note?: string;
          } & {
            [key: string]: unknown;
          };
        };
      };
      responses: {
        /** @description Default Response */
        202: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/incidents/{identifier}/logs': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** An incident's log: every change, who made it, and when */
    get: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny';
          offset?: string;
          direction: 'next' | 'prev';
          order: 'asc' | 'desc';
          limit: number;
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/incidents/{identifier}/associated-alert-ids': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The ids of an incident's alerts: the one it was created with and one per reopening, newest first */
    get: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny';
          offset: number;
          limit: number;
          order: 'asc' | 'desc';
          direction?: 'next' | 'prev';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/incidents/{identifier}/responder-alert-ids': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The ids of the alerts that page an incident's responders: in Vigil, its associated alerts */
    get: {
      parameters: {
        query: {
          identifierType: 'id' | 'tiny';
          offset: number;
          limit: number;
          order: 'asc' | 'desc';
          direction?: 'next' | 'prev';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/integrations/{id}/aws-setup': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * What `vigil aws setup` needs to set up an integration's AWS side
     * @description The intake URL (without the key, which Vigil keeps only hashed), the key's fingerprint (the first 12 hex digits of its SHA-256, by which `vigil aws` tells this integration's current key from another), the external ID, the prefix of the role names Vigil assumes and Vigil's own AWS identity, which the role must trust (null when Vigil has no AWS credentials and VIGIL_AWS_PRINCIPAL_ARN is not set).
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/integrations/{id}/cloudformation/{kind}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * A CloudFormation template for the integration, filled in
     * @description intake: a Security Hub custom action (with events=custom-action), an SNS topic EventBridge may publish to, an HTTPS subscription to SNSSubEndpoint and the EventBridge rule. role: the IAM role Vigil assumes for the write-back, trusting Vigil on the condition of the external ID. api-destination: the same intake without SNS, through an EventBridge connection and API destination. JSON, or YAML with format=yaml.
     */
    get: {
      parameters: {
        query?: {
          format?: 'json' | 'yaml';
          /** @description custom-action (the default, as the seed's guide does): findings someone sends with the custom action. imported: every Imported finding event (ASFF and OCSF), new findings and their updates; Vigil applies the integration's minimumSeverity to new findings */
          events?: 'custom-action' | 'imported';
          /** @description Ignored (kept for old links): the rule does not filter on severity; Vigil applies the integration's minimumSeverity to new findings */
          minSeverity?: 'INFORMATIONAL' | 'LOW' | 'MEDIUM' | 'HIGH' | 'CRITICAL';
        };
        header?: never;
        path: {
          id: string;
          kind: 'intake' | 'role' | 'api-destination';
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/api/console/people/{identifier}/rights': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * What the caller may change of a user's contact methods and notification rules
     * @description Answered by the checks that refuse a change, so that the console offers only what the server takes. Readable by the user themselves, organization admins and the admins of the user's teams; anyone else gets a 403.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              /** @description May add, change, turn off and delete contact methods */
              contactsEdit: boolean;
              /** @description May add, change, turn off and delete notification rules and their steps */
              notificationRulesEdit: boolean;
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/users/{identifier}/contacts': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * A user's contact methods
     * @description Readable by the user themselves, organization admins and the admins of the user's teams; anyone else gets a 403.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    /** Add a contact method to a user */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @enum {string} */
            method: 'email' | 'sms' | 'voice' | 'mobile';
            to: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/users/{identifier}/contacts/{contactId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * A contact method
     * @description Readable by the user themselves, organization admins and the admins of the user's teams; anyone else gets a 403.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
          contactId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    /** Delete a contact method (and the notification-rule steps that use it) */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
          contactId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    /** Change a contact method's address */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
          contactId: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            to?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    trace?: never;
  };
  '/v2/users/{identifier}/contacts/{contactId}/enable': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Enable a contact method */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
          contactId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/users/{identifier}/contacts/{contactId}/disable': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Disable a contact method */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
          contactId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/users/{identifier}/notification-rules': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * A user's notification rules, in order
     * @description Readable by the user themselves, organization admins and the admins of the user's teams; anyone else gets a 403.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    /** Add a notification rule */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name: string;
            /** @enum {string} */
            actionType:
              'create-alert' | 'acknowledged-alert' | 'closed-alert' | 'add-note' | 'assigned-alert';
            criteria?: {
              /** @enum {string} */
              type?: 'match-all' | 'match-all-conditions' | 'match-any-condition';
              conditions?: {
                /** @enum {string} */
                field:
                  | 'message'
                  | 'alias'
                  | 'description'
                  | 'source'
                  | 'entity'
                  | 'tags'
                  | 'actions'
                  | 'details'
                  | 'priority'
                  | 'integration'
                  | 'extra-properties'
                  | 'recipients'
                  | 'teams'
                  | 'responders';
                key?: string;
                not?: boolean;
                /** @enum {string} */
                operation:
                  | 'matches'
                  | 'contains'
                  | 'starts-with'
                  | 'ends-with'
                  | 'equals'
                  | 'equals-ignore-whitespace'
                  | 'contains-key'
                  | 'contains-value'
                  | 'is-empty'
                  | 'greater-than'
                  | 'less-than';
                expectedValue?: string;
                order?: number;
              }[];
            };
            steps?: {
              contact: {
                /** @enum {string} */
                method: 'email' | 'sms' | 'voice' | 'mobile';
                to: string;
              };
              sendAfter?: {
                /** @default 0 */
                timeAmount?: number;
                /**
                 * @default minutes
                 * @enum {string}
                 */
                timeUnit?: 'minutes' | 'hours' | 'days' | 'minute' | 'hour' | 'day';
              };
              enabled?: boolean;
            }[];
            /** @description The rule applies only inside it, read in the user's time zone; left out (or null), at all times */
            timeRestriction?:
              | {
                  /** @enum {string} */
                  type: 'time-of-day' | 'weekday-and-time-of-day';
                  restriction?: {
                    startDay?: string;
                    startHour?: number;
                    startMin?: number;
                    endDay?: string;
                    endHour?: number;
                    endMin?: number;
                  };
                  restrictions?: {
                    startDay?: string;
                    startHour?: number;
                    startMin?: number;
                    endDay?: string;
                    endHour?: number;
                    endMin?: number;
                  }[];
                }
              | (never | null);
            /** @description A create-alert rule's steps run again every loopAfter minutes (1 or more) until the alert is acknowledged or closed, at most 10 times */
            repeat?: {
              /** @description Minutes */
              loopAfter?: number;
              /** @description true when left out */
              enabled?: boolean;
            } | null;
            order?: number;
            enabled?: boolean;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/users/{identifier}/notification-rules/{ruleId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * A notification rule with its criteria and steps
     * @description Readable by the user themselves, organization admins and the admins of the user's teams; anyone else gets a 403.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
          ruleId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    /** Delete a notification rule */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
          ruleId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    /** Change a notification rule (steps, when given, replace the current ones; what is left out stays) */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
          ruleId: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            criteria?: {
              /** @enum {string} */
              type?: 'match-all' | 'match-all-conditions' | 'match-any-condition';
              conditions?: {
                /** @enum {string} */
                field:
                  | 'message'
                  | 'alias'
                  | 'description'
                  | 'source'
                  | 'entity'
                  | 'tags'
                  | 'actions'
                  | 'details'
                  | 'priority'
                  | 'integration'
                  | 'extra-properties'
                  | 'recipients'
                  | 'teams'
                  | 'responders';
                key?: string;
                not?: boolean;
                /** @enum {string} */
                operation:
                  | 'matches'
                  | 'contains'
                  | 'starts-with'
                  | 'ends-with'
                  | 'equals'
                  | 'equals-ignore-whitespace'
                  | 'contains-key'
                  | 'contains-value'
                  | 'is-empty'
                  | 'greater-than'
                  | 'less-than';
                expectedValue?: string;
                order?: number;
              }[];
            };
            steps?: {
              contact: {
                /** @enum {string} */
                method: 'email' | 'sms' | 'voice' | 'mobile';
                to: string;
              };
              sendAfter?: {
                /** @default 0 */
                timeAmount?: number;
                /**
                 * @default minutes
                 * @enum {string}
                 */
                timeUnit?: 'minutes' | 'hours' | 'days' | 'minute' | 'hour' | 'day';
              };
              enabled?: boolean;
            }[];
            /** @description The rule applies only inside it, read in the user's time zone; left out (or null), at all times */
            timeRestriction?:
              | {
                  /** @enum {string} */
                  type: 'time-of-day' | 'weekday-and-time-of-day';
                  restriction?: {
                    startDay?: string;
                    startHour?: number;
                    startMin?: number;
                    endDay?: string;
                    endHour?: number;
                    endMin?: number;
                  };
                  restrictions?: {
                    startDay?: string;
                    startHour?: number;
                    startMin?: number;
                    endDay?: string;
                    endHour?: number;
                    endMin?: number;
                  }[];
                }
              | (never | null);
            /** @description A create-alert rule's steps run again every loopAfter minutes (1 or more) until the alert is acknowledged or closed, at most 10 times */
            repeat?: {
              /** @description Minutes */
              loopAfter?: number;
              /** @description true when left out */
              enabled?: boolean;
            } | null;
            order?: number;
            enabled?: boolean;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    trace?: never;
  };
  '/v2/users/{identifier}/notification-rules/{ruleId}/enable': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Enable a notification rule */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
          ruleId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/users/{identifier}/notification-rules/{ruleId}/disable': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Disable a notification rule */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
          ruleId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/users/{identifier}/notification-rules/{ruleId}/steps': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * A notification rule's steps, in the order given
     * @description Readable by the user themselves, organization admins and the admins of the user's teams; anyone else gets a 403.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
          ruleId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    /** Add a step to a notification rule */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
          ruleId: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            contact: {
              /** @enum {string} */
              method: 'email' | 'sms' | 'voice' | 'mobile';
              to: string;
            };
            sendAfter?: {
              /** @default 0 */
              timeAmount?: number;
              /**
               * @default minutes
               * @enum {string}
               */
              timeUnit?: 'minutes' | 'hours' | 'days' | 'minute' | 'hour' | 'day';
            };
            enabled?: boolean;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/users/{identifier}/notification-rules/{ruleId}/steps/{stepId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * A step of a notification rule
     * @description Readable by the user themselves, organization admins and the admins of the user's teams; anyone else gets a 403.
     */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
          ruleId: string;
          stepId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    /** Delete a step of a notification rule */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
          ruleId: string;
          stepId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    /** Change a step of a notification rule */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
          ruleId: string;
          stepId: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            contact?: {
              /** @enum {string} */
              method: 'email' | 'sms' | 'voice' | 'mobile';
              to: string;
            };
            sendAfter?: {
              /** @default 0 */
              timeAmount?: number;
              /**
               * @default minutes
               * @enum {string}
               */
              timeUnit?: 'minutes' | 'hours' | 'days' | 'minute' | 'hour' | 'day';
            };
            enabled?: boolean;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    trace?: never;
  };
  '/v2/users/{identifier}/notification-rules/{ruleId}/steps/{stepId}/enable': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Enable a step of a notification rule */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
          ruleId: string;
          stepId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/users/{identifier}/notification-rules/{ruleId}/steps/{stepId}/disable': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Disable a step of a notification rule */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
          ruleId: string;
          stepId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/users/{identifier}/contacts/{contactId}/send-verification': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Send a verification code to a contact method
     * @description Sends a six-digit code by the contact's own channel (a text, or a call that reads it out). It works for 10 minutes; one code a minute to a number, texted or called (deleting and adding the contact again does not shorten it), and at most 10 codes and test messages an hour to one person's contacts (429 past either). SMS and voice contacts are paged only once verified; other methods take no code (422).
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
          contactId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/users/{identifier}/contacts/{contactId}/verify': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Verify a contact method with the code sent to it */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
          contactId: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            code: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/users/{identifier}/contacts/{contactId}/test': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Send a test message to a contact method
     * @description Sends a message that says it is a test, now, whatever the notification rules say.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
          contactId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/escalations': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List escalation policies */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    /** Create an escalation policy */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name: string;
            description?: string;
            ownerTeam?: {
              id?: string;
              name?: string;
            };
            rules: {
              /** @enum {string} */
              condition: 'if-not-acked' | 'if-not-closed';
              /**
               * @description user: default. schedule: default (on call), next, previous. team: default (whom the team's routing rules choose for the alert), all or users (every member), admins (team admins).
               * @enum {string}
               */
              notifyType: 'default' | 'next' | 'previous' | 'users' | 'admins' | 'all';
              /** @description After the start of the escalation (not after the previous rule), at most 7 days; rules must not go back in time. */
              delay: {
                timeAmount: number;
                /** @enum {string} */
                timeUnit?: 'minutes' | 'hours' | 'days';
              };
              /** @description A user by id or username; a schedule or a team by id or name. */
              recipient: {
                /** @enum {string} */
                type: 'user' | 'schedule' | 'team';
                id?: string;
                username?: string;
                name?: string;
              };
            }[];
            /** @description {} is no repeat: the Go SDK (so Terraform) always sends repeat, {} when none is configured. */
            repeat?: {
              /** @description Minutes after the last rule before the policy starts again (0 when left out). */
              waitInterval?: number;
              /** @description How many more times it runs (0 when left out). */
              count?: number;
              resetRecipientStates?: boolean;
              closeAlertAfterAll?: boolean;
            };
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/users/{identifier}/escalations': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The escalation policies that notify a user (id or username) in one of their rules */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/escalations/{identifier}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get an escalation policy by id or name */
    get: {
      parameters: {
        query: {
          identifierType: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    /** Delete an escalation policy (refused while a routing rule uses it) */
    delete: {
      parameters: {
        query: {
          identifierType: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    /** Update an escalation policy (rules, when given, replace the current ones) */
    patch: {
      parameters: {
        query: {
          identifierType: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            description?: string;
            ownerTeam?: {
              id?: string;
              name?: string;
            } | null;
            rules?: {
              /** @enum {string} */
              condition: 'if-not-acked' | 'if-not-closed';
              /**
               * @description user: default. schedule: default (on call), next, previous. team: default (whom the team's routing rules choose for the alert), all or users (every member), admins (team admins).
               * @enum {string}
               */
              notifyType: 'default' | 'next' | 'previous' | 'users' | 'admins' | 'all';
              /** @description After the start of the escalation (not after the previous rule), at most 7 days; rules must not go back in time. */
              delay: {
                timeAmount: number;
                /** @enum {string} */
                timeUnit?: 'minutes' | 'hours' | 'days';
              };
              /** @description A user by id or username; a schedule or a team by id or name. */
              recipient: {
                /** @enum {string} */
                type: 'user' | 'schedule' | 'team';
                id?: string;
                username?: string;
                name?: string;
              };
            }[];
            /** @description {} is no repeat: the Go SDK (so Terraform) always sends repeat, {} when none is configured. */
            repeat?: {
              /** @description Minutes after the last rule before the policy starts again (0 when left out). */
              waitInterval?: number;
              /** @description How many more times it runs (0 when left out). */
              count?: number;
              resetRecipientStates?: boolean;
              closeAlertAfterAll?: boolean;
            } | null;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    trace?: never;
  };
  '/v2/teams/{identifier}/routing-rules': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * A team's routing rules
     * @description The rules in the order they are tried, the default rule last (isDefault). A team that has not set a default rule shows {"id": "default", "isDefault": true, "notify": {"type": "team-members"}}: when no rule applies, every member of the team is notified at once. Set it with PUT .../routing-rules/default.
     */
    get: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          /** @description Same as identifierType. */
          teamIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    /** Add a routing rule to a team (team or organization admins) */
    post: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          /** @description Same as identifierType. */
          teamIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            /** @description Index among the rules, from 0; the default rule is last. */
            order?: number;
            /** @description IANA time zone; UTC if not given. */
            timezone?: string;
            criteria?: {
              /** @enum {string} */
              type?: 'match-all' | 'match-all-conditions' | 'match-any-condition';
              conditions?: {
                /** @enum {string} */
                field:
                  | 'message'
                  | 'alias'
                  | 'description'
                  | 'source'
                  | 'entity'
                  | 'tags'
                  | 'actions'
                  | 'details'
                  | 'priority'
                  | 'integration'
                  | 'extra-properties'
                  | 'recipients'
                  | 'teams'
                  | 'responders';
                key?: string;
                not?: boolean;
                /** @enum {string} */
                operation:
                  | 'matches'
                  | 'contains'
                  | 'starts-with'
                  | 'ends-with'
                  | 'equals'
                  | 'equals-ignore-whitespace'
                  | 'contains-key'
                  | 'contains-value'
                  | 'is-empty'
                  | 'greater-than'
                  | 'less-than';
                expectedValue?: string;
                order?: number;
              }[];
            };
            /** @description "time-of-day": every day (an end at or before the start ends the next day); "weekday-and-time-of-day": from startDay to endDay. One window as "restriction", or several as "restrictions". */
            timeRestriction?: {
              /** @enum {string} */
              type: 'time-of-day' | 'weekday-and-time-of-day';
              restriction?: {
                startDay?: string;
                startHour?: number;
                startMin?: number;
                endDay?: string;
                endHour?: number;
                endMin?: number;
              };
              restrictions?: {
                startDay?: string;
                startHour?: number;
                startMin?: number;
                endDay?: string;
                endHour?: number;
                endMin?: number;
              }[];
            };
            /** @description An escalation or a schedule (its on-call person) by id or name, or none: do not notify. */
            notify: {
              /** @enum {string} */
              type: 'escalation' | 'schedule' | 'none';
              id?: string;
              name?: string;
            };
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/teams/{identifier}/routing-rules/default': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /**
     * Set a team's default rule: what alerts notify when no other rule applies
     * @description Creates the default rule if the team has none yet. Without one, every member of the team is notified at once.
     */
    put: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          /** @description Same as identifierType. */
          teamIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            /** @description An escalation or a schedule (its on-call person) by id or name, or none: do not notify. */
            notify: {
              /** @enum {string} */
              type: 'escalation' | 'schedule' | 'none';
              id?: string;
              name?: string;
            };
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/teams/{identifier}/routing-rules/{ruleId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A routing rule ("default" for the default rule) */
    get: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          /** @description Same as identifierType. */
          teamIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
          /** @description A rule id, or "default". */
          ruleId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    /** Delete a routing rule (not the default rule) */
    delete: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          /** @description Same as identifierType. */
          teamIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
          /** @description A rule id, or "default". */
          ruleId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    /** Update a routing rule (of the default rule, only name and notify) */
    patch: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          /** @description Same as identifierType. */
          teamIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
          /** @description A rule id, or "default". */
          ruleId: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            /** @description Index among the rules, from 0; the default rule is last. */
            order?: number;
            /** @description IANA time zone; UTC if not given. */
            timezone?: string;
            criteria?: {
              /** @enum {string} */
              type?: 'match-all' | 'match-all-conditions' | 'match-any-condition';
              conditions?: {
                /** @enum {string} */
                field:
                  | 'message'
                  | 'alias'
                  | 'description'
                  | 'source'
                  | 'entity'
                  | 'tags'
                  | 'actions'
                  | 'details'
                  | 'priority'
                  | 'integration'
                  | 'extra-properties'
                  | 'recipients'
                  | 'teams'
                  | 'responders';
                key?: string;
                not?: boolean;
                /** @enum {string} */
                operation:
                  | 'matches'
                  | 'contains'
                  | 'starts-with'
                  | 'ends-with'
                  | 'equals'
                  | 'equals-ignore-whitespace'
                  | 'contains-key'
                  | 'contains-value'
                  | 'is-empty'
                  | 'greater-than'
                  | 'less-than';
                expectedValue?: string;
                order?: number;
              }[];
            };
            /** @description "time-of-day": every day (an end at or before the start ends the next day); "weekday-and-time-of-day": from startDay to endDay. One window as "restriction", or several as "restrictions". */
            timeRestriction?: {
              /** @enum {string} */
              type: 'time-of-day' | 'weekday-and-time-of-day';
              restriction?: {
                startDay?: string;
                startHour?: number;
                startMin?: number;
                endDay?: string;
                endHour?: number;
                endMin?: number;
              };
              restrictions?: {
                startDay?: string;
                startHour?: number;
                startMin?: number;
                endDay?: string;
                endHour?: number;
                endMin?: number;
              }[];
            } | null;
            /** @description An escalation or a schedule (its on-call person) by id or name, or none: do not notify. */
            notify?: {
              /** @enum {string} */
              type: 'escalation' | 'schedule' | 'none';
              id?: string;
              name?: string;
            };
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    trace?: never;
  };
  '/v2/teams/{identifier}/routing-rules/{ruleId}/change-order': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Move a routing rule to another place in the order */
    post: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          /** @description Same as identifierType. */
          teamIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
          /** @description A rule id, or "default". */
          ruleId: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description Index among the rules, from 0; the default rule is last. */
            order: number;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/schedules': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List schedules (expand=rotation includes their rotations) */
    get: {
      parameters: {
        query?: {
          expand?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    /** Create a schedule, optionally with its rotations */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name: string;
            description?: string;
            /** @description IANA zone; UTC when left out (Opsgenie uses the account's zone, which Vigil does not have) */
            timezone?: string;
            enabled?: boolean;
            ownerTeam?: {
              id?: string;
              name?: string;
            };
            rotations?: {
              name?: string;
              startDate: string;
              endDate?: string | null;
              /** @enum {string} */
              type: 'hourly' | 'daily' | 'weekly' | 'custom';
              length?: number;
              participants: {
                /** @enum {string} */
                type: 'user' | 'team' | 'escalation' | 'none';
                id?: string;
                username?: string;
                name?: string;
              }[];
              /** @description "time-of-day": every day (an end at or before the start ends the next day); "weekday-and-time-of-day": from startDay to endDay. One window as "restriction", or several as "restrictions". */
              timeRestriction?: {
                /** @enum {string} */
                type: 'time-of-day' | 'weekday-and-time-of-day';
                restriction?: {
                  startDay?: string;
                  startHour?: number;
                  startMin?: number;
                  endDay?: string;
                  endHour?: number;
                  endMin?: number;
                };
                restrictions?: {
                  startDay?: string;
                  startHour?: number;
                  startMin?: number;
                  endDay?: string;
                  endHour?: number;
                  endMin?: number;
                }[];
              } | null;
            }[];
            /**
             * @description Vigil extension. "all" (Opsgenie's way, the default for new schedules): every rotation's participant is on call at once. "layers": the highest rotation with someone wins.
             * @enum {string}
             */
            rotationsCombine?: 'all' | 'layers';
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/users/{identifier}/schedules': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The schedules a user (id or username) takes part in through a rotation */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/schedules/{identifier}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get a schedule with its rotations */
    get: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          scheduleIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    /** Delete a schedule */
    delete: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          scheduleIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    /** Update a schedule (rotations, when given, replace the current ones) */
    patch: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          scheduleIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            description?: string;
            timezone?: string;
            enabled?: boolean;
            ownerTeam?: {
              id?: string;
              name?: string;
            } | null;
            rotations?: {
              name?: string;
              startDate: string;
              endDate?: string | null;
              /** @enum {string} */
              type: 'hourly' | 'daily' | 'weekly' | 'custom';
              length?: number;
              participants: {
                /** @enum {string} */
                type: 'user' | 'team' | 'escalation' | 'none';
                id?: string;
                username?: string;
                name?: string;
              }[];
              /** @description "time-of-day": every day (an end at or before the start ends the next day); "weekday-and-time-of-day": from startDay to endDay. One window as "restriction", or several as "restrictions". */
              timeRestriction?: {
                /** @enum {string} */
                type: 'time-of-day' | 'weekday-and-time-of-day';
                restriction?: {
                  startDay?: string;
                  startHour?: number;
                  startMin?: number;
                  endDay?: string;
                  endHour?: number;
                  endMin?: number;
                };
                restrictions?: {
                  startDay?: string;
                  startHour?: number;
                  startMin?: number;
                  endDay?: string;
                  endHour?: number;
                  endMin?: number;
                }[];
              } | null;
            }[];
            /**
             * @description Vigil extension. "all" (Opsgenie's way, the default for new schedules): every rotation's participant is on call at once. "layers": the highest rotation with someone wins.
             * @enum {string}
             */
            rotationsCombine?: 'all' | 'layers';
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    trace?: never;
  };
  '/v2/schedules/{identifier}/rotations': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A schedule's rotations, lowest layer first */
    get: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          scheduleIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    /** Add a rotation as the new top layer */
    post: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          scheduleIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            startDate: string;
            endDate?: string | null;
            /** @enum {string} */
            type: 'hourly' | 'daily' | 'weekly' | 'custom';
            length?: number;
            participants: {
              /** @enum {string} */
              type: 'user' | 'team' | 'escalation' | 'none';
              id?: string;
              username?: string;
              name?: string;
            }[];
            /** @description "time-of-day": every day (an end at or before the start ends the next day); "weekday-and-time-of-day": from startDay to endDay. One window as "restriction", or several as "restrictions". */
            timeRestriction?: {
              /** @enum {string} */
              type: 'time-of-day' | 'weekday-and-time-of-day';
              restriction?: {
                startDay?: string;
                startHour?: number;
                startMin?: number;
                endDay?: string;
                endHour?: number;
                endMin?: number;
              };
              restrictions?: {
                startDay?: string;
                startHour?: number;
                startMin?: number;
                endDay?: string;
                endHour?: number;
                endMin?: number;
              }[];
            } | null;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/schedules/{identifier}/rotations/{rotationId}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get a rotation */
    get: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          scheduleIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
          rotationId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    /** Delete a rotation (overrides of only this rotation go with it) */
    delete: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          scheduleIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
          rotationId: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    /** Update a rotation (participants, when given, replace the current ones; null clears) */
    patch: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          scheduleIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
          rotationId: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            startDate?: string;
            endDate?: string | null;
            /** @enum {string} */
            type?: 'hourly' | 'daily' | 'weekly' | 'custom';
            length?: number;
            participants?: {
              /** @enum {string} */
              type: 'user' | 'team' | 'escalation' | 'none';
              id?: string;
              username?: string;
              name?: string;
            }[];
            /** @description "time-of-day": every day (an end at or before the start ends the next day); "weekday-and-time-of-day": from startDay to endDay. One window as "restriction", or several as "restrictions". */
            timeRestriction?: {
              /** @enum {string} */
              type: 'time-of-day' | 'weekday-and-time-of-day';
              restriction?: {
                startDay?: string;
                startHour?: number;
                startMin?: number;
                endDay?: string;
                endHour?: number;
                endMin?: number;
              };
              restrictions?: {
                startDay?: string;
                startHour?: number;
                startMin?: number;
                endDay?: string;
                endHour?: number;
                endMin?: number;
              }[];
            } | null;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    trace?: never;
  };
  '/v2/schedules/{identifier}/overrides': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A schedule's overrides, oldest first (a later one wins where they overlap) */
    get: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          scheduleIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    /** Override who is on call for a while (in given rotations, or in the whole schedule) */
    post: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          scheduleIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            alias?: string;
            user: {
              /** @enum {string} */
              type: 'user' | 'none';
              id?: string;
              username?: string;
            };
            startDate: string;
            endDate: string;
            rotations?: {
              id?: string;
              name?: string;
            }[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/schedules/{identifier}/overrides/{alias}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get an override */
    get: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          scheduleIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
          alias: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    /** Replace an override */
    put: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          scheduleIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
          alias: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            user: {
              /** @enum {string} */
              type: 'user' | 'none';
              id?: string;
              username?: string;
            };
            startDate: string;
            endDate: string;
            rotations?: {
              id?: string;
              name?: string;
            }[];
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    post?: never;
    /** Delete an override */
    delete: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          scheduleIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
          alias: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/schedules/on-calls': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Who is on call at date (default now) in every schedule; flat=true gives usernames */
    get: {
      parameters: {
        query: {
          date?: string;
          flat: boolean;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/schedules/on-calls/{userIdentifier}.ics': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A user's own on-call shifts in every schedule as one iCalendar feed (a week back, 13 weeks ahead); the user by id or username */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          userIdentifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/schedules/{identifier}.ics': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The schedule's on-call shifts as an iCalendar feed (a week back, 13 weeks ahead) */
    get: {
      parameters: {
        query?: {
          identifierType?: 'id' | 'name';
          scheduleIdentifierType?: 'id' | 'name';
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/schedules/{identifier}/on-calls': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Who is on call at date (default now); flat=true gives usernames */
    get: {
      parameters: {
        query: {
          identifierType?: 'id' | 'name';
          scheduleIdentifierType?: 'id' | 'name';
          date?: string;
          flat: boolean;
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/schedules/{identifier}/next-on-calls': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Who comes on call next after date (default now): those not on call then who come on call at the next change (nextOnCallRecipients, shifts in nextShifts), and everyone on call from that change (exactNextOnCallRecipients); flat=true gives their usernames as nextOnCallParticipants and exactNextOnCallParticipants */
    get: {
      parameters: {
        query: {
          identifierType?: 'id' | 'name';
          scheduleIdentifierType?: 'id' | 'name';
          date?: string;
          flat: boolean;
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/schedules/{identifier}/timeline': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The final and base timelines from date (default now) for interval intervalUnits (at most about three months) */
    get: {
      parameters: {
        query: {
          identifierType?: 'id' | 'name';
          scheduleIdentifierType?: 'id' | 'name';
          date?: string;
          interval: number;
          intervalUnit: 'days' | 'weeks' | 'months';
          expand?: string;
        };
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/heartbeats': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** List heartbeats */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    /** Add a heartbeat */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description Unique in the organization; at most 100 characters, no control characters. */
            name: string;
            description?: string;
            /** @description How often a ping is expected, in intervalUnit; at most 365 days. */
            interval: number;
            /** @enum {string} */
            intervalUnit: 'minutes' | 'hours' | 'days';
            /** @description Whether the heartbeat is watched; false when not given. */
            enabled?: boolean;
            /** @description The team whose alert an expiry raises, by id or name. The key of an API integration always makes its own team the owner. */
            ownerTeam?: {
              id?: string;
              name?: string;
            };
            /** @description The message of the alert an expiry raises; "<name> is expired" when empty. */
            alertMessage?: string;
            alertTags?: string[];
            /**
             * @description P3 when not given.
             * @enum {string}
             */
            alertPriority?: 'P1' | 'P2' | 'P3' | 'P4' | 'P5';
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/heartbeats/{name}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Get a heartbeat by name */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          name: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    put?: never;
    post?: never;
    /** Delete a heartbeat */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          name: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    /** Update a heartbeat: the fields given change, the others stay */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          name: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            description?: string;
            /** @description How often a ping is expected, in intervalUnit; at most 365 days. */
            interval?: number;
            /** @enum {string} */
            intervalUnit?: 'minutes' | 'hours' | 'days';
            /** @description Whether the heartbeat is watched; false when not given. */
            enabled?: boolean;
            /** @description The team whose alert an expiry raises, by id or name; null for none. Left out or {}, it stays. The key of an API integration always makes its own team the owner. */
            ownerTeam?:
              | {
                  id?: string;
                  name?: string;
                }
              | (never | null);
            /** @description The message of the alert an expiry raises; "<name> is expired" when empty. */
            alertMessage?: string;
            alertTags?: string[];
            /**
             * @description P3 when not given.
             * @enum {string}
             */
            alertPriority?: 'P1' | 'P2' | 'P3' | 'P4' | 'P5';
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    trace?: never;
  };
  '/v2/heartbeats/{name}/enable': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /** Enable a heartbeat: the wait for a ping starts now */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          name: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    /** Enable a heartbeat: the wait for a ping starts now */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          name: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    /** Enable a heartbeat: the wait for a ping starts now */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          name: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    trace?: never;
  };
  '/v2/heartbeats/{name}/disable': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    /** Disable a heartbeat: it no longer expires */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          name: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    /** Disable a heartbeat: it no longer expires */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          name: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    /** Disable a heartbeat: it no longer expires */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          name: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    trace?: never;
  };
  '/v2/heartbeats/{name}/ping': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** Ping a heartbeat: it is alive (closes its expiry's alert); any API integration's key, or a user's whose role may close alerts */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          name: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    /** Ping a heartbeat: it is alive (closes its expiry's alert); any API integration's key, or a user's whose role may close alerts */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          name: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    /** Ping a heartbeat: it is alive (closes its expiry's alert); any API integration's key, or a user's whose role may close alerts */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          name: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    /** Ping a heartbeat: it is alive (closes its expiry's alert); any API integration's key, or a user's whose role may close alerts */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          name: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    trace?: never;
  };
  '/v2/destinations': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The organization's team destinations (secrets masked) */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              data: {
                /** Format: uuid */
                id: string;
                name: string;
                type: string;
                label: string;
                team: {
                  id: string;
                  name: string;
                } | null;
                integration: {
                  id: string;
                  name: string;
                } | null;
                enabled: boolean;
                /** @description Why Vigil (or someone) disabled it: a 410 from the receiver, a day of failures. */
                disabledReason: string | null;
                /** Format: date-time */
                disabledAt: string | null;
                config: {
                  [key: string]: unknown;
                };
                /** Format: date-time */
                createdAt: string;
                /** Format: date-time */
                updatedAt: string;
              }[];
              took: number;
              requestId: string;
            };
          };
        };
      };
    };
    put?: never;
    /**
     * Add a destination for a team's (or an integration's) alert events
     * @description Organization admins, and the admins of the team the destination belongs to. The answer shows the config in full, secrets included, this once.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name: string;
            /** @enum {string} */
            type: 'webhook' | 'slack' | 'slack-webhook' | 'teams';
            team?: {
              id?: string;
              name?: string;
            };
            integration?: {
              id?: string;
              name?: string;
            };
            enabled?: boolean;
            /** @description The settings of the type. webhook: {"url": "https://…", "secret"?: "whsec_…"} (a secret is made when none is given; it is shown once, in the answer to the POST). Secrets are masked when read. */
            config: {
              [key: string]: unknown;
            };
          };
        };
      };
      responses: {
        /** @description Default Response */
        201: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              data: {
                /** Format: uuid */
                id: string;
                name: string;
                type: string;
                label: string;
                team: {
                  id: string;
                  name: string;
                } | null;
                integration: {
                  id: string;
                  name: string;
                } | null;
                enabled: boolean;
                /** @description Why Vigil (or someone) disabled it: a 410 from the receiver, a day of failures. */
                disabledReason: string | null;
                /** Format: date-time */
                disabledAt: string | null;
                config: {
                  [key: string]: unknown;
                };
                /** Format: date-time */
                createdAt: string;
                /** Format: date-time */
                updatedAt: string;
              };
              took: number;
              requestId: string;
            };
          };
        };
        /** @description Default Response */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
              /** @description The fields at fault. */
              errors?: {
                [key: string]: string;
              };
              took?: number;
              requestId?: string;
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
              /** @description The fields at fault. */
              errors?: {
                [key: string]: string;
              };
              took?: number;
              requestId?: string;
            };
          };
        };
        /** @description Default Response */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
              /** @description The fields at fault. */
              errors?: {
                [key: string]: string;
              };
              took?: number;
              requestId?: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/destinations/{id}': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** A destination (secrets masked) */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              data: {
                /** Format: uuid */
                id: string;
                name: string;
                type: string;
                label: string;
                team: {
                  id: string;
                  name: string;
                } | null;
                integration: {
                  id: string;
                  name: string;
                } | null;
                enabled: boolean;
                /** @description Why Vigil (or someone) disabled it: a 410 from the receiver, a day of failures. */
                disabledReason: string | null;
                /** Format: date-time */
                disabledAt: string | null;
                config: {
                  [key: string]: unknown;
                };
                /** Format: date-time */
                createdAt: string;
                /** Format: date-time */
                updatedAt: string;
              };
              took: number;
              requestId: string;
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
              /** @description The fields at fault. */
              errors?: {
                [key: string]: string;
              };
              took?: number;
              requestId?: string;
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    /**
     * Delete a destination and its delivery log
     * @description Organization admins, and the admins of the team the destination belongs to.
     */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Deleted */
        204: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
        /** @description Default Response */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
              /** @description The fields at fault. */
              errors?: {
                [key: string]: string;
              };
              took?: number;
              requestId?: string;
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
              /** @description The fields at fault. */
              errors?: {
                [key: string]: string;
              };
              took?: number;
              requestId?: string;
            };
          };
        };
      };
    };
    options?: never;
    head?: never;
    /**
     * Change a destination; enabled: true enables it again (and clears why it was disabled)
     * @description Organization admins, and the admins of the team the destination belongs to. A config replaces the stored one; a secret left out, or sent back masked as read, is kept. So are a webhook's header values while its url stays as it is; any other url (another path or query on the same host too) needs them given again (422 otherwise).
     */
    patch: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            name?: string;
            team?: {
              id?: string;
              name?: string;
            };
            integration?: {
              id?: string;
              name?: string;
            };
            enabled?: boolean;
            /** @description The settings of the type. webhook: {"url": "https://…", "secret"?: "whsec_…"} (a secret is made when none is given; it is shown once, in the answer to the POST). Secrets are masked when read. */
            config?: {
              [key: string]: unknown;
            };
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              result: string;
              data: {
                /** Format: uuid */
                id: string;
                name: string;
                type: string;
                label: string;
                team: {
                  id: string;
                  name: string;
                } | null;
                integration: {
                  id: string;
                  name: string;
                } | null;
                enabled: boolean;
                /** @description Why Vigil (or someone) disabled it: a 410 from the receiver, a day of failures. */
                disabledReason: string | null;
                /** Format: date-time */
                disabledAt: string | null;
                config: {
                  [key: string]: unknown;
                };
                /** Format: date-time */
                createdAt: string;
                /** Format: date-time */
                updatedAt: string;
              };
              took: number;
              requestId: string;
            };
          };
        };
        /** @description Default Response */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
              /** @description The fields at fault. */
              errors?: {
                [key: string]: string;
              };
              took?: number;
              requestId?: string;
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
              /** @description The fields at fault. */
              errors?: {
                [key: string]: string;
              };
              took?: number;
              requestId?: string;
            };
          };
        };
        /** @description Default Response */
        409: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
              /** @description The fields at fault. */
              errors?: {
                [key: string]: string;
              };
              took?: number;
              requestId?: string;
            };
          };
        };
        /** @description Default Response */
        422: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
              /** @description The fields at fault. */
              errors?: {
                [key: string]: string;
              };
              took?: number;
              requestId?: string;
            };
          };
        };
      };
    };
    trace?: never;
  };
  '/v2/destinations/{id}/test': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * Send a test event to the destination now, and answer with what came of it
     * @description Organization admins, and the admins of the team the destination belongs to. The event's type is `test`; it is not retried, and not in the delivery log.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              data: {
                /**
                 * @description sent; retry (a failure a delivery would try again); failed; gone (the receiver says it is no more).
                 * @enum {string}
                 */
                status: 'sent' | 'retry' | 'failed' | 'gone';
                detail?: string;
                error?: string;
                responseStatus?: number;
                responseExcerpt?: string;
                /** @description The destination was disabled because the receiver said it is gone. */
                disabled: boolean;
              };
              took: number;
              requestId: string;
            };
          };
        };
        /** @description Default Response */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
              /** @description The fields at fault. */
              errors?: {
                [key: string]: string;
              };
              took?: number;
              requestId?: string;
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
              /** @description The fields at fault. */
              errors?: {
                [key: string]: string;
              };
              took?: number;
              requestId?: string;
            };
          };
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/destinations/{id}/deliveries': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /**
     * The destination's delivery log, newest first
     * @description It names the alerts sent and quotes the answers: organization admins, users who see every alert (alerts-access-all) and those who may change the destination read it; others get a 403, as for an integration's payload log. An integration's key reads only those of its owner team's destinations it may change: another team's destination is a 404 to it, as when read.
     */
    get: {
      parameters: {
        query: {
          limit: number;
          offset: number;
        };
        header?: never;
        path: {
          id: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              data: {
                /** Format: uuid */
                id: string;
                /** @description The webhook-id header of a webhook: the same on every attempt. */
                eventId: string;
                eventType: string;
                alertId: string;
                /** @enum {string} */
                state: 'pending' | 'sending' | 'sent' | 'failed';
                attempts: number;
                /** @description The last HTTP status answered. */
                responseStatus: number | null;
                responseExcerpt: string | null;
                lastError: string | null;
                /** Format: date-time */
                createdAt: string;
                /** Format: date-time */
                firstAttemptAt: string | null;
                /** Format: date-time */
                nextAttemptAt: string | null;
                /** Format: date-time */
                sentAt: string | null;
              }[];
              paging: {
                next?: string;
              };
              took: number;
              requestId: string;
            };
          };
        };
        /** @description Default Response */
        403: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
              /** @description The fields at fault. */
              errors?: {
                [key: string]: string;
              };
              took?: number;
              requestId?: string;
            };
          };
        };
        /** @description Default Response */
        404: {
          headers: {
            [name: string]: unknown;
          };
          content: {
            'application/json': {
              message: string;
              /** @description The fields at fault. */
              errors?: {
                [key: string]: string;
              };
              took?: number;
              requestId?: string;
            };
          };
        };
      };
    };
    put?: never;
    post?: never;
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v2/users/{identifier}/slack': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    /** The Slack user a user's clicks in Slack come from */
    get: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    /**
     * Link a Slack user to a user: their clicks on Vigil's Slack messages act as this user
     * @description Only an owner may link an owner, or a Slack user linked to an owner. Replaces the links of the user and of the Slack user.
     */
    put: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody: {
        content: {
          'application/json': {
            /** @description The Slack member ID (U…): in Slack, the person's profile, ⋮, Copy member ID. */
            slackUserId: string;
            /** @description The Slack workspace the person presses from (T…, or E… for an Enterprise Grid organization): the app's, or a Slack Connect partner's own; without it the link holds in any. */
            slackTeamId?: string;
          };
        };
      };
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    post?: never;
    /**
     * Remove a user's Slack link
     * @description Only an owner may unlink an owner. The email match no longer links the Slack users this unlinks to anyone of the organization: only a link made with PUT links them again.
     */
    delete: {
      parameters: {
        query?: never;
        header?: never;
        path: {
          identifier: string;
        };
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/json/integrations/webhooks/amazonsecurityhub': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /** Amazon Security Hub deliveries: SNS (HTTPS subscription, raw or not) or an EventBridge API destination */
    post: {
      parameters: {
        query?: {
          apiKey?: string;
        };
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
  '/v1/slack/interactions': {
    parameters: {
      query?: never;
      header?: never;
      path?: never;
      cookie?: never;
    };
    get?: never;
    put?: never;
    /**
     * The Slack app's Interactivity Request URL: buttons and the note form of Vigil's messages
     * @description Called by Slack, signed with the app's signing secret (X-Slack-Signature, X-Slack-Request-Timestamp); a form body with one field, payload. Answers 401 to a request not signed by Slack within the last 5 minutes.
     */
    post: {
      parameters: {
        query?: never;
        header?: never;
        path?: never;
        cookie?: never;
      };
      requestBody?: never;
      responses: {
        /** @description Default Response */
        200: {
          headers: {
            [name: string]: unknown;
          };
          content?: never;
        };
      };
    };
    delete?: never;
    options?: never;
    head?: never;
    patch?: never;
    trace?: never;
  };
}
export type webhooks = Record<string, never>;
export interface components {
  schemas: never;
  responses: never;
  parameters: never;
  requestBodies: never;
  headers: never;
  pathItems: never;
}
export type $defs = Record<string, never>;
export type operations = Record<string, never>;
