import { Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { consoleApi, type TeamRight } from '../../api/console';
import type { TeamDetail } from '../../api/types';

/** The question of the signed-in person's rights on a team: one cache entry, whoever asks it. */
export function teamRightsQuery(teamId: string) {
  return {
    queryKey: ['team', teamId, 'my-rights'],
    queryFn: () => consoleApi.teamRights(teamId),
    staleTime: 60_000,
  };
}

/**
 * Whether the signed-in person holds `right` on the team, as the server answers it (the same check that
 * refuses a change): undefined until it has answered. The console offers only the changes it takes.
 */
export function useTeamRight(teamId: string, right: TeamRight): boolean | undefined {
  const rights = useQuery(teamRightsQuery(teamId));
  // Unknown while asking: the caller offers nothing yet. If the question failed, the console offers what
  // it always did, and the server's answer to a change says whether it is taken.
  if (rights.isError) return true;
  return rights.data?.includes(right);
}

/** The line shown instead of the forms of a section the caller may only read. */
export function ReadOnlyNotice({ team, what = 'these' }: { team: TeamDetail; what?: string }) {
  return (
    <Text size="sm" c="dimmed" role="note">
      Your role lets you see, not change, {what}. Ask an admin of {team.name}.
    </Text>
  );
}
