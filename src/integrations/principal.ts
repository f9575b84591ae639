import type { Principal } from '../accounts/service.js';
import type { IntegrationWithTeams } from './repository.js';
import { apiSettings } from './types.js';

/**
 * An integration acting on the Alert API (Opsgenie's model): as itself, for the alerts of its team (the
 * assignee team, else the owner team), with its access flags and actions. An API integration's key and an
 * Email integration's mail both act so.
 */
export function integrationPrincipalOf(integration: IntegrationWithTeams): Principal {
  return {
    orgId: integration.org_id,
    apiKeyId: integration.id,
    userId: undefined,
    username: undefined,
    fullName: integration.name,
    role: undefined,
    integration: {
      id: integration.id,
      name: integration.name,
      type: integration.type,
      teamId: integration.assignee_team_id ?? integration.owner_team_id,
      ownerTeamId: integration.owner_team_id,
      access: apiSettings(integration.settings),
      actions: integration.actions,
    },
  };
}
