import type { paths } from '../../api/schema';
import type { Criteria } from '../../api/types';
import type { TimeRestriction } from '../../lib/timeRestriction';

/** The body of POST and PUT /v2/policies (either kind). */
export type PolicyBody = NonNullable<
  paths['/v2/policies']['post']['requestBody']
>['content']['application/json'];

export type PolicyKind = 'alert' | 'notification';

/** GET /v2/policies/alert and /v2/policies/notification (src/alerts/policies/routes.ts). */
export interface PolicySummary {
  id: string;
  name: string;
  type: PolicyKind;
  order: number;
  enabled: boolean;
}

export interface Duration {
  timeAmount: number;
  timeUnit?: 'minutes' | 'hours' | 'days';
}

export interface PolicyResponder {
  type: 'team' | 'user' | 'escalation' | 'schedule';
  id?: string;
  name?: string;
  username?: string;
}

/** GET /v2/policies/{id}: presentPolicy and presentNotificationPolicy. */
export interface Policy {
  id: string;
  type: PolicyKind;
  name: string;
  policyDescription: string;
  teamId?: string;
  enabled: boolean;
  order: number;
  filter: Criteria | null;
  // Alert policies
  continue?: boolean;
  message?: string;
  alias?: string;
  alertDescription?: string;
  entity?: string;
  source?: string;
  priority?: string;
  tags?: string[];
  ignoreOriginalTags?: boolean;
  details?: Record<string, string>;
  ignoreOriginalDetails?: boolean;
  actions?: string[];
  ignoreOriginalActions?: boolean;
  responders?: PolicyResponder[];
  ignoreOriginalResponders?: boolean;
  // Notification policies
  suppress?: boolean;
  delayAction?: {
    delayOption: string;
    duration?: Duration;
    untilHour?: number;
    untilMinute?: number;
  } | null;
  autoCloseAction?: { duration: Duration } | null;
  /** Left out, the policy applies at any time. */
  timeRestrictions?: TimeRestriction | null;
  /** Where timeRestrictions and next-time delays are read (a Vigil field); left out, UTC. */
  timezone?: string;
  // What the console does not edit (yet): kept as they are when a policy is saved.
  autoRestartAction?: unknown;
  deduplicationAction?: unknown;
}

/** The fields of a stored policy that its PUT body carries: what the form does not edit is sent back unchanged. */
const BODY_FIELDS = [
  'name',
  'policyDescription',
  'enabled',
  'filter',
  'timeRestrictions',
  'timezone',
  'continue',
  'message',
  'alias',
  'alertDescription',
  'entity',
  'source',
  'priority',
  'tags',
  'ignoreOriginalTags',
  'details',
  'ignoreOriginalDetails',
  'actions',
  'ignoreOriginalActions',
  'responders',
  'ignoreOriginalResponders',
  'suppress',
  'delayAction',
  'autoCloseAction',
  'autoRestartAction',
  'deduplicationAction',
] as const;

/** The policy as a PUT body, before the form's changes are laid over it. */
export function storedBody(policy: Policy | undefined, type: PolicyKind): PolicyBody {
  const body: Record<string, unknown> = { type };
  if (policy)
    for (const field of BODY_FIELDS) {
      const value = (policy as unknown as Record<string, unknown>)[field];
      if (value !== undefined) body[field] = value;
    }
  return body as unknown as PolicyBody;
}

/** The settings a notification policy has that the console shows but does not edit. */
export function settingsKeptAsTheyAre(policy: Policy | undefined): string[] {
  if (!policy) return [];
  const kept: string[] = [];
  if (policy.autoRestartAction) kept.push('auto-restart');
  if (policy.deduplicationAction) kept.push('de-duplication');
  if (policy.delayAction && policy.delayAction.delayOption !== 'for-duration')
    kept.push(`the delay (${delaySummary(policy.delayAction)})`);
  return kept;
}

export function durationSummary(duration: Duration | undefined): string {
  if (!duration) return '';
  const unit = duration.timeUnit ?? 'minutes';
  return `${duration.timeAmount} ${duration.timeAmount === 1 ? unit.replace(/s$/, '') : unit}`;
}

function delaySummary(delay: NonNullable<Policy['delayAction']>): string {
  if (delay.delayOption === 'for-duration') return `for ${durationSummary(delay.duration)}`;
  const at =
    delay.untilHour !== undefined
      ? ` at ${String(delay.untilHour).padStart(2, '0')}:${String(delay.untilMinute ?? 0).padStart(2, '0')}`
      : '';
  return `until ${delay.delayOption.replace(/^next-/, 'next ').replace(/-/g, ' ')}${at}`;
}

/** "Suppress", "Delay for 10 minutes, auto-close after 1 day": what a notification policy does. */
export function notificationSummary(policy: Policy): string {
  const parts: string[] = [];
  if (policy.suppress) parts.push('Suppress notifications');
  if (policy.delayAction) parts.push(`Delay ${delaySummary(policy.delayAction)}`);
  if (policy.autoCloseAction)
    parts.push(`Auto-close after ${durationSummary(policy.autoCloseAction.duration)}`);
  if (policy.autoRestartAction) parts.push('Auto-restart');
  if (policy.deduplicationAction) parts.push('De-duplicate');
  return parts.join(', ') || 'Nothing';
}

/** The query naming a policy's scope: a team's, or (none) the organization's global policies. */
export function scopeQuery(teamId: string | undefined): { teamId?: string } {
  return teamId ? { teamId } : {};
}
