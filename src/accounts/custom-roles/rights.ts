import { isUuid, type Queryable } from '../../db/database.js';
import type { CustomUserRoleRow, ExtendedUserRole } from '../../db/schema.js';
import { forbidden } from '../../errors.js';
import type { AlertAction } from '../../alerts/service.js';
import type { Principal } from '../service.js';

/**
 * What a custom user role lets its holders do. A role extends one of Opsgenie's default roles (user,
 * observer, stakeholder) and grants or takes away rights by Opsgenie's names. Vigil checks the rights it
 * has a counterpart for (ENFORCED_USER_RIGHTS); the others are kept and given back, never checked.
 */

/**
 * Opsgenie's user rights, as its API and Terraform provider name them: the provider's list for an
 * opsgenie_custom_role (validCustomRolesRights in terraform-provider-opsgenie), in its order, so a
 * configuration Opsgenie takes Vigil takes too. What Vigil does with each: ENFORCED_USER_RIGHTS below.
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
  'forwardings-edit',
  'manage-roles',
  'it-user-functionality',
  'parent-login-as-user',
  'update-login-as-user-state',
  'see-alerts',
  'alert-delete-note',
  'alert-update-note',
  'alert-update-description',
  'alert-update-message',
  'alert-add-responder',
  'alert-grant-visibility',
  'alert-create-issue',
  'alert-link-issue',
  'incidents-access-all',
  'assign-response-role',
  'incident-action',
  'incident-associate-alerts',
  'incident-dissociate-alerts',
  'incident-remove-responder',
  'incident-update-priority',
  'incident-edit-tags',
  'incident-edit-details',
  'incident-edit-impact-times',
  'incident-edit-postmortem-fields',
  'incident-edit-message',
  'incident-add-note',
  'incident-close',
  'incident-delete',
  'incident-custom-action',
  'update-potential-causes',
  'incident-create-issue',
  'incident-link-issue',
  'edit-impacted-services',
  'postmortem-access-published',
  'postmortem-access-unpublished',
  'postmortem-create',
  'postmortem-edit',
  'postmortem-delete',
  'slack-channel-create',
  'slack-channel-unlink',
  'join-icc-session',
  'create-icc-session',
  'access-icc-past-sessions',
  'incident-commander',
  'edit-incident-command-center-room',
  'delete-incident-command-center-room',
  'incident-timeline-create',
  'incident-timeline-edit',
  'incident-timeline-delete',
  'service-access-status',
  'service-send-status-update',
] as const;

export type UserRight = (typeof USER_RIGHTS)[number];

const KNOWN = new Set<string>(USER_RIGHTS);

export function isUserRight(name: string): name is UserRight {
  return KNOWN.has(name);
}

export const EXTENDED_ROLES = [
  'user',
  'observer',
  'stakeholder',
] as const satisfies readonly ExtendedUserRole[];

/**
 * The rights Vigil checks for a custom role's holders; docs/api.md says where. The others are kept on the
 * role and given back, never checked, for Vigil has no such feature or no check for it:
 * - configurations-read-only (everyone reads every configuration), reports-access, logs-page-access,
 *   profile-custom-fields-edit, quiet-hours-edit, billing-manage, mass-notification-create,
 *   service-access, service-access-status, service-send-status-update;
 * - forwardings-edit (no forwarding rules), manage-roles (custom roles are the org admins' alone: granting
 *   it gives nothing), it-user-functionality, parent-login-as-user, update-login-as-user-state;
 * - see-alerts (who sees which alert is alerts-access-all's and the alert's own: alerts/visibility.ts),
 *   alert-delete-note and alert-update-note (notes are never changed or deleted), alert-grant-visibility,
 *   alert-create-issue, alert-link-issue;
 * - incidents-access-all and every incident-* right (the Incident API's actions need the alert right
 *   each comes down to, incidents/service.ts), assign-response-role, update-potential-causes,
 *   edit-impacted-services, postmortem-*, slack-channel-*, the incident command center's
 *   (join-icc-session, create-icc-session, access-icc-past-sessions, incident-commander,
 *   edit-incident-command-center-room, delete-incident-command-center-room).
 */
export const ENFORCED_USER_RIGHTS: readonly UserRight[] = [
  'alert-create',
  'alert-action',
  'alert-acknowledge',
  'alert-unacknowledge',
  'alert-close',
  'alert-add-note',
  'alert-snooze',
  'alert-escalate',
  'alert-take-ownership',
  'alert-assign-ownership',
  'alert-add-recipient',
  'alert-add-responder',
  'alert-add-team',
  'alert-edit-tags',
  'alert-edit-details',
  'alert-custom-action',
  'alert-update-priority',
  'alert-update-message',
  'alert-update-description',
  'alert-acknowledge-all',
  'alert-close-all',
  'alert-delete',
  'alert-add-attachment',
  'alert-delete-attachment',
  'configurations-edit',
  'configurations-delete',
  'maintenance-edit',
  'contacts-edit',
  'notification-rules-edit',
  'profile-edit',
  'login-email-edit',
  'who-is-on-call-show-all',
  'alerts-access-all',
];

/**
 * What each default role holds, by Opsgenie's table of default user rights: a user acts on and creates
 * alerts and manages their own settings; observers and stakeholders only their own profile and contacts.
 * Deleting alerts, reports, logs and configuration are an admin's, unless a role grants them.
 */
const DEFAULT_RIGHTS: Record<ExtendedUserRole, ReadonlySet<UserRight>> = {
  user: new Set<UserRight>([
    'who-is-on-call-show-all',
    'notification-rules-edit',
    'quiet-hours-edit',
    'contacts-edit',
    'profile-edit',
    'alert-action',
    'alert-create',
  ]),
  observer: new Set<UserRight>(['contacts-edit', 'profile-edit']),
  stakeholder: new Set<UserRight>(['contacts-edit', 'profile-edit']),
};

/**
 * The right a right is part of: each alert action is part of "alert-action" (Opsgenie's "perform alert
 * actions"), and acting on all listed alerts part of the action itself. Creating and deleting alerts are
 * rights of their own: an Opsgenie user creates alerts without alert-action, and deletes none.
 */
const PART_OF: Partial<Record<UserRight, UserRight>> = {
  'alert-add-attachment': 'alert-action',
  'alert-delete-attachment': 'alert-action',
  'alert-add-note': 'alert-action',
  'alert-acknowledge': 'alert-action',
  'alert-unacknowledge': 'alert-action',
  'alert-snooze': 'alert-action',
  'alert-escalate': 'alert-action',
  'alert-close': 'alert-action',
  'alert-take-ownership': 'alert-action',
  'alert-assign-ownership': 'alert-action',
  'alert-add-recipient': 'alert-action',
  'alert-add-responder': 'alert-action',
  'alert-add-team': 'alert-action',
  'alert-edit-tags': 'alert-action',
  'alert-edit-details': 'alert-action',
  'alert-custom-action': 'alert-action',
  'alert-update-priority': 'alert-action',
  'alert-update-message': 'alert-action',
  'alert-update-description': 'alert-action',
  'alert-acknowledge-all': 'alert-acknowledge',
  'alert-close-all': 'alert-close',
};

/**
 * Rights Opsgenie has under two names: alert-add-responder is its newer name for alert-add-recipient (Add
 * Responder). Vigil checks the older name, and a role's holders hold it by either: either disallowed
 * takes it away, either granted (the other not disallowed) gives it.
 */
const OTHER_NAME: Partial<Record<UserRight, UserRight>> = {
  'alert-add-recipient': 'alert-add-responder',
  'alert-add-responder': 'alert-add-recipient',
};

/** `right` and its other name, if it has one. */
function namesOf(right: UserRight): UserRight[] {
  const other = OTHER_NAME[right];
  return other ? [right, other] : [right];
}

/** How a refusal names `right`: with its other name, which a role may have disallowed instead. */
function rightName(right: UserRight): string {
  return namesOf(right).join(' / ');
}

export type CustomRoleRights = Pick<
  CustomUserRoleRow,
  'name' | 'extended_role' | 'granted_rights' | 'disallowed_rights'
>;

/**
 * Whether a role's holders hold `right`: taken away wins, then granted; else a part of a larger right
 * goes with it (a role without alert-close but with alert-action closes alerts; one that takes away
 * alert-action but grants alert-add-note only adds notes); else what the default role holds.
 */
export function roleHolds(role: CustomRoleRights, right: UserRight): boolean {
  const names = namesOf(right);
  if (names.some((n) => role.disallowed_rights.includes(n))) return false;
  if (names.some((n) => role.granted_rights.includes(n))) return true;
  const whole = PART_OF[right];
  if (whole) return roleHolds(role, whole);
  return DEFAULT_RIGHTS[role.extended_role].has(right);
}

/**
 * Whether a user holds `right` under `role`, their custom role, or under Opsgenie's default user role
 * when they hold none (undefined): what a plain user of Vigil is.
 */
export function userHolds(role: CustomRoleRights | undefined, right: UserRight): boolean {
  return role ? roleHolds(role, right) : DEFAULT_RIGHTS.user.has(right);
}

/**
 * The custom role `p` acts under, if any: only a user's own principal (their API key, console session,
 * a link or reply of theirs) holds one; org admins and integration keys hold none.
 */
export async function customRoleOf(q: Queryable, p: Principal): Promise<CustomRoleRights | undefined> {
  if (p.integration || p.userId === undefined || p.role !== 'user' || p.customRoleId === null)
    return undefined;
  return q
    .selectFrom('users as u')
    .innerJoin('custom_user_roles as r', 'r.id', 'u.custom_role_id')
    .select(['r.name', 'r.extended_role', 'r.granted_rights', 'r.disallowed_rights'])
    .where('u.id', '=', p.userId)
    .executeTakeFirst();
}

/** The 403 for a holder of `role`, which lacks `right`; `what` says what was refused. */
export function userRightRefusal(role: CustomRoleRights, right: UserRight, what: string) {
  return forbidden(
    `Your role [${role.name}] does not allow you to ${what} (it lacks the ${rightName(right)} right). Ask an organization admin to grant it (PUT /v2/roles/{id}) or to give you another role.`,
  );
}

/** A 403 unless `p`'s custom role (when it has one) holds `right`; `what` says what was refused. */
export async function requireUserRight(
  q: Queryable,
  p: Principal,
  right: UserRight,
  what: string,
): Promise<void> {
  await requireUserRights(q, p, [{ right, what }]);
}

/** {@link requireUserRight} for each of `needed` in turn, the role read once: the first lacking is the 403. */
export async function requireUserRights(
  q: Queryable,
  p: Principal,
  needed: readonly { right: UserRight; what: string }[],
): Promise<void> {
  const role = await customRoleOf(q, p);
  for (const { right, what } of needed) {
    if (role && !roleHolds(role, right)) throw userRightRefusal(role, right, what);
    if (!role && isPlainUser(p) && ADMINS_ONLY.has(right)) {
      throw forbidden(
        `Only the organization's owners and admins ${what}: Opsgenie's User role lacks the ${right} right. Ask an admin, or to be given a custom role that grants it.`,
      );
    }
  }
}

/**
 * What a user of the built-in User role, holding no custom role, may not do. Vigil's plain user otherwise
 * keeps the reach it has always had (team rights decide the rest); deleting an alert destroys its log
 * and notes, which Opsgenie leaves to owners and admins.
 */
const ADMINS_ONLY: ReadonlySet<UserRight> = new Set<UserRight>(['alert-delete']);

/** A user's own principal under the built-in User role (not an org admin's, not an integration's key). */
function isPlainUser(p: Principal): boolean {
  return !p.integration && p.userId !== undefined && p.role === 'user';
}

/**
 * Whether `p` may do what `right` covers, as {@link requireUserRight} judges it, for what is done or left
 * undone rather than refused (an acknowledger becomes the owner only if they may take ownership).
 */
export async function userMay(q: Queryable, p: Principal, right: UserRight): Promise<boolean> {
  return (await whyUserMayNot(q, p, right)) === undefined;
}

/**
 * Why `p` may not do what `right` covers, as {@link userMay} judges it, for a log line about what was left
 * undone ("their role [Responder] lacks the alert-add-note right"); undefined when they may.
 */
export async function whyUserMayNot(
  q: Queryable,
  p: Principal,
  right: UserRight,
): Promise<string | undefined> {
  const role = await customRoleOf(q, p);
  if (role)
    return roleHolds(role, right)
      ? undefined
      : `their role [${role.name}] lacks the ${rightName(right)} right`;
  return isPlainUser(p) && ADMINS_ONLY.has(right)
    ? `Opsgenie's User role lacks the ${right} right`
    : undefined;
}

/**
 * Why the note `p` gives with an action of `actionKind` is left out, or undefined when it is not: their
 * custom role lacks alert-add-note, which Add Note would be refused, so the action runs without it (as an
 * acknowledge runs without taking ownership). An action that is itself a note, or a delete, takes none.
 * Read only when a note is given.
 */
export async function noteLeftOutOf(
  q: Queryable,
  p: Principal,
  actionKind: string | undefined,
  note: string | undefined,
): Promise<string | undefined> {
  if (!note?.trim() || actionKind === 'addNote' || actionKind === 'delete') return undefined;
  return whyUserMayNot(q, p, 'alert-add-note');
}

/** The log line for a note {@link noteLeftOutOf} left out, `why` being what it gave. */
export function noteLeftOutLine(actorName: string, why: string): string {
  return `Note of ${actorName} left out: ${why}`;
}

/**
 * The user an assign names, as its owner is looked up: by the id when one is given, else by the username
 * (Opsgenie takes either; a request giving both is assigned by the id).
 */
export function assigneeOf(owner: { id?: string; username?: string }): string {
  return owner.id ?? owner.username ?? '';
}

/** The right an alert action needs, and how a refusal names it. `bulk`: on many alerts at once. */
export function alertActionRight(
  action: AlertAction,
  p: Principal,
  bulk = false,
): { right: UserRight; what: string } {
  switch (action.kind) {
    case 'acknowledge':
      return bulk
        ? { right: 'alert-acknowledge-all', what: 'acknowledge many alerts at once' }
        : { right: 'alert-acknowledge', what: 'acknowledge alerts' };
    case 'unacknowledge':
      return { right: 'alert-unacknowledge', what: 'unacknowledge alerts' };
    case 'close':
      return bulk
        ? { right: 'alert-close-all', what: 'close many alerts at once' }
        : { right: 'alert-close', what: 'close alerts' };
    case 'snooze':
      return { right: 'alert-snooze', what: 'snooze alerts' };
    case 'addNote':
      return { right: 'alert-add-note', what: 'add notes to alerts' };
    case 'addTags':
    case 'removeTags':
      return { right: 'alert-edit-tags', what: "change alerts' tags" };
    case 'addDetails':
    case 'removeDetails':
      return { right: 'alert-edit-details', what: "change alerts' details" };
    case 'priority':
      return { right: 'alert-update-priority', what: "change alerts' priority" };
    case 'message':
      return { right: 'alert-update-message', what: "change alerts' message" };
    case 'description':
      return { right: 'alert-update-description', what: "change alerts' description" };
    case 'assign': {
      // Judged on the one user the assign will make the owner, read as accounts' findUser reads it: a
      // request naming someone else by id and the caller by username assigns that someone.
      const assignee = assigneeOf(action.owner).toLowerCase();
      const self = isUuid(assignee)
        ? assignee === p.userId
        : p.username !== undefined && assignee === p.username.toLowerCase();
      return self
        ? { right: 'alert-take-ownership', what: 'take ownership of alerts' }
        : { right: 'alert-assign-ownership', what: 'assign alerts' };
    }
    case 'escalate':
      return { right: 'alert-escalate', what: 'escalate alerts' };
    case 'addResponder':
      return { right: 'alert-add-recipient', what: 'add responders to alerts' };
    case 'addTeam':
      return { right: 'alert-add-team', what: 'add teams to alerts' };
    case 'customAction':
      return { right: 'alert-custom-action', what: "run alerts' custom actions" };
    case 'delete':
      return { right: 'alert-delete', what: 'delete alerts' };
  }
}

/**
 * Every right an alert action needs: {@link alertActionRight}'s, and alert-add-team too for a team added
 * through Add Responder, which makes the alert that team's as Add Team does.
 */
export function alertActionRights(
  action: AlertAction,
  p: Principal,
  bulk = false,
): { right: UserRight; what: string }[] {
  const needed = [alertActionRight(action, p, bulk)];
  if (action.kind === 'addResponder' && action.responder.type === 'team')
    needed.push({ right: 'alert-add-team', what: 'add teams to alerts' });
  return needed;
}

/**
 * The team rights a custom role gives on every team: configurations-edit makes its holders edit what
 * every team owns (as its admins would, short of deleting it), configurations-delete with it lets them
 * delete teams too. Undefined when it gives none.
 */
export function configurationTeamRights(role: CustomRoleRights): 'edit' | 'edit-and-delete' | undefined {
  if (!roleHolds(role, 'configurations-edit')) return undefined;
  return roleHolds(role, 'configurations-delete') ? 'edit-and-delete' : 'edit';
}
