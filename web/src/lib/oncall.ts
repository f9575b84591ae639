import { useQuery } from '@tanstack/react-query';
import { api, data } from '../api/client';
import type { EscalationDetail, Schedule } from '../api/types';

export const schedulesQuery = {
  queryKey: ['schedules'],
  queryFn: () => data<Schedule[]>(api.GET('/v2/schedules', {})),
};

export function useSchedules() {
  return useQuery(schedulesQuery);
}

/** Every escalation policy, with its rules. */
export const escalationsQuery = {
  queryKey: ['escalations'],
  queryFn: () => data<EscalationDetail[]>(api.GET('/v2/escalations')),
};

export function useEscalations() {
  return useQuery(escalationsQuery);
}

export const ROLE_OPTIONS = [
  { value: 'user', label: 'User' },
  { value: 'admin', label: 'Admin' },
];
