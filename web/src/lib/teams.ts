import { useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { api, data } from '../api/client';
import type { AlertSummary, Team } from '../api/types';

export const teamsQuery = {
  queryKey: ['teams'],
  queryFn: () => data<Team[]>(api.GET('/v2/teams')),
  staleTime: 60_000,
};

export function useTeams() {
  return useQuery(teamsQuery);
}

/** An alert's responder teams by name (responders may carry only the team's id). */
export function useTeamNames(): (alert: Pick<AlertSummary, 'responders'>) => string {
  const teams = useTeams();
  return useMemo(() => {
    const names = new Map((teams.data ?? []).map((t) => [t.id, t.name]));
    return (alert) =>
      alert.responders
        .filter((r) => r.type === 'team')
        .map((r) => r.name ?? (r.id ? (names.get(r.id) ?? '') : ''))
        .filter(Boolean)
        .join(', ');
  }, [teams.data]);
}
