import { useQuery } from '@tanstack/react-query';
import { api, data } from '../api/client';
import type { EscalationDetail, Schedule, User } from '../api/types';

/** The organization's people, by username (the first 100). */
export function useUsers(enabled = true) {
  return useQuery({
    queryKey: ['users'],
    queryFn: () =>
      data<User[]>(
        api.GET('/v2/users', {
          params: { query: { offset: 0, limit: 100, sort: 'username', order: 'asc' } },
        }),
      ),
    enabled,
  });
}

export function useSchedules() {
  return useQuery({
    queryKey: ['schedules'],
    queryFn: () => data<Schedule[]>(api.GET('/v2/schedules', {})),
  });
}

/** Every escalation policy, with its rules. */
export function useEscalations() {
  return useQuery({
    queryKey: ['escalations'],
    queryFn: () => data<EscalationDetail[]>(api.GET('/v2/escalations')),
  });
}

export const ROLE_OPTIONS = [
  { value: 'user', label: 'User' },
  { value: 'admin', label: 'Admin' },
];
