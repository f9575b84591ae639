import { useQueries } from '@tanstack/react-query';
import type { TeamRight } from '../../api/console';
import type { Team } from '../../api/types';
import { useTeams } from '../../lib/teams';
import { isAdmin, useSession } from '../../session';
import { teamRightsQuery } from './teamRights';

/** What the server asks of whoever gives an integration to another team (integrations' requireAssigneeRight). */
const ASSIGNEE_RIGHT: TeamRight = 'edit-integrations';

/**
 * The teams other than `ownerTeamId` that the signed-in person may give an integration of that team to,
 * and whether some are still being asked about. The server takes such an assignee only from the
 * organization's admins and those holding edit-integrations on that team (its key reads the team's
 * alerts), so the console offers only those rather than a choice that ends in a 403. An admin's answer
 * needs no question; anyone else's rights on each team are asked as useTeamRight asks them (and kept
 * with its answers); a question that failed offers the team, as useTeamRight does, and the server decides.
 */
export function useAssignableTeams(ownerTeamId: string): { teams: Team[]; pending: boolean } {
  const session = useSession();
  const all = useTeams();
  const others = (all.data ?? []).filter((t) => t.id !== ownerTeamId);
  const admin = isAdmin(session);
  const rights = useQueries({
    queries: (admin ? [] : others).map((t) => teamRightsQuery(t.id)),
  });
  if (admin) return { teams: others, pending: all.isPending };
  return {
    teams: others.filter((_, i) => {
      const answer = rights[i];
      return answer?.isError === true || answer?.data?.includes(ASSIGNEE_RIGHT) === true;
    }),
    pending: all.isPending || rights.some((r) => r.isPending),
  };
}
