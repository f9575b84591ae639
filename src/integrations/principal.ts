import type { Principal } from '../accounts/service.js';
import type { IntegrationWithTeams } from './repository.js';
import { apiSettings } from './types.js';
import { forbidden } from '../errors.js';

/**
 * The integration's team: its assignee team, else its owner team. Its alerts' responder when nothing says
 * otherwise, and the team whose alert policies run over them, whatever kind of integration made them.
 */
export function integrationTeamOf(integration: IntegrationWithTeams): string {
  return integration.assignee_team_id ?? integration.owner_team_id;
}

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
      teamId: integrationTeamOf(integration),
      ownerTeamId: integration.owner_team_id,
      access: apiSettings(integration.settings),
      actions: integration.actions,
    },
  };
}

/**
 * Whether `p` reaches configuration (a team itself, its schedules, escalations, integrations, heartbeats,
 * policies) that `ownerTeamId` owns. An integration's key reaches only its owner team's, not another
 * team's nor what no team owns: Opsgenie serves a team integration's key the team's configuration only,
 * and the account's (what no team owns) to global keys.
 * Users and user-less keys are not limited here (their rights are checked where they act).
 */
export function reachesTeamConfiguration(p: Principal, ownerTeamId: string | null): boolean {
  return p.integration === undefined || p.integration.ownerTeamId === ownerTeamId;
}

/**
 * A 403 (Opsgenie's answer) unless `p` reaches the configuration `ownerTeamId` owns; `named` says what was
 * asked for as the request named it ("schedule with id [...]"), so the refusal tells nothing the caller did
 * not already know.
 */
export function requireReachesTeamConfiguration(
  p: Principal,
  ownerTeamId: string | null,
  named: string,
): void {
  if (!p.integration || reachesTeamConfiguration(p, ownerTeamId)) return;
  throw forbidden(
    `The key of integration [${p.integration.name}] reaches only its owner team's configuration, and ${named} is not its team's. Use the API key of a user who may see it, or an integration key of the team that owns it.`,
  );
}

/**
 * requireReachesTeamConfiguration for a `type` ("team", "escalation", "schedule") a request names in its
 * team's configuration (a routing target, a recipient, a participant, a responder), named as reading it
 * would name it (`escalation with name [...]`); unless `kept`: the configuration already has it (an
 * organization admin's say), and the team's key may send it back as it shows it.
 */
export function requireReachesNamed(
  p: Principal,
  type: string,
  given: { id?: string; name?: string },
  ownerTeamId: string | null,
  kept = false,
): void {
  if (kept) return;
  const named = given.id !== undefined ? `id [${given.id}]` : `name [${given.name ?? ''}]`;
  requireReachesTeamConfiguration(p, ownerTeamId, `${type} with ${named}`);
}
