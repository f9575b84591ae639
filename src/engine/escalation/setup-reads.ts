import type { Queryable } from '../../db/database.js';
import { cachedSetups, type SetupReader } from '../../notify/planner.js';
import { routingReads, type RoutingReads } from '../../oncall/routing/route.js';
import { createRecipientResolver } from './recipients.js';
import { loadNotificationPolicies, type NotificationPolicies } from './notification-policies.js';
import { integrationsRepository } from '../../integrations/repository.js';

export type RecipientResolver = ReturnType<typeof createRecipientResolver>;

/**
 * What a transaction reads of the on-call set-up (routing rules, policies, schedules, teams, people's
 * rules), read once per transaction: a batch of alerts of one burst mostly shares them.
 */
export interface SetupReads {
  routing: RoutingReads;
  setups: SetupReader;
  resolverFor(orgId: string): RecipientResolver;
  /** The organization's enabled notification policies, by team (read once per transaction). */
  notificationPolicies(orgId: string, now: Date): Promise<NotificationPolicies>;
  /** Whether the integration suppresses its alerts' notifications (read once per transaction). */
  integrationSuppresses(integrationId: string): Promise<boolean>;
}

export function createSetupReads(db: Queryable): SetupReads {
  const plain = routingReads(db);
  const rules = new Map<string, ReturnType<RoutingReads['rules']>>();
  const policies = new Map<string, ReturnType<RoutingReads['escalation']>>();
  const resolvers = new Map<string, RecipientResolver>();
  const notificationPolicies = new Map<string, Promise<NotificationPolicies>>();
  const suppressing = new Map<string, Promise<boolean>>();
  return {
    routing: {
      rules: (teamId) => memo(rules, teamId, () => plain.rules(teamId)),
      escalation: (id) => memo(policies, id, () => plain.escalation(id)),
    },
    setups: cachedSetups(db),
    resolverFor: (orgId) => memo(resolvers, orgId, () => createRecipientResolver(db, orgId)),
    notificationPolicies: (orgId, now) =>
      memo(notificationPolicies, orgId, () => loadNotificationPolicies(db, orgId, now)),
    integrationSuppresses: (integrationId) =>
      memo(suppressing, integrationId, () =>
        integrationsRepository.suppressesNotifications(db, integrationId),
      ),
  };
}

function memo<K, V>(cache: Map<K, V>, key: K, load: () => V): V {
  if (!cache.has(key)) cache.set(key, load());
  return cache.get(key) as V;
}
