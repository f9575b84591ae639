import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api, data } from '../../api/client';
import type { paths } from '../../api/schema';
import type { Schedule } from '../../api/types';
import { browserTimezone, when } from '../../lib/time';

/** GET /v2/schedules/{identifier}/overrides (src/oncall/schedules/routes.ts presentOverride). */
export interface ScheduleOverride {
  alias: string;
  /** The person on call instead, or nobody (Opsgenie's `none`). */
  user: { type: 'user'; id: string; username: string } | { type: 'none' };
  startDate: string;
  endDate: string;
  /** The rotations it overrides; empty, the whole schedule. */
  rotations: { id: string; name: string }[];
}

type OverrideBody =
  paths['/v2/schedules/{identifier}/overrides/{alias}']['put']['requestBody']['content']['application/json'];

export function useOverrides(schedule: Schedule) {
  return useQuery({
    queryKey: ['schedule', schedule.id, 'overrides'],
    queryFn: () =>
      data<ScheduleOverride[]>(
        api.GET('/v2/schedules/{identifier}/overrides', {
          params: { path: { identifier: schedule.id }, query: { identifierType: 'id' } },
        }),
      ),
  });
}

/** Its person's username, or '' when it puts nobody on call. */
export function overrideUsername(override: ScheduleOverride): string {
  return override.user.type === 'user' ? override.user.username : '';
}

/** Who it puts on call, as the page says it. */
export function overrideWho(override: ScheduleOverride): string {
  return override.user.type === 'user' ? override.user.username : 'nobody';
}

/** The override with new times (PUT replaces it): `user` ('' for nobody), in the same rotations. */
function movedBody(override: ScheduleOverride, user: string, from: Date, to: Date): OverrideBody {
  return {
    user:
      user === ''
        ? { type: 'none' }
        : override.user.type === 'user' && user === override.user.username
          ? { type: 'user', id: override.user.id }
          : { type: 'user', username: user },
    startDate: from.toISOString(),
    endDate: to.toISOString(),
    ...(override.rotations.length > 0 ? { rotations: override.rotations.map((r) => ({ id: r.id })) } : {}),
  };
}

export interface OverrideChange {
  override: ScheduleOverride;
  /** Its person's username ('' for nobody): the override's own unless the form changed it. */
  user: string;
  from: Date;
  to: Date;
}

/**
 * Changes an override (PUT /v2/schedules/{identifier}/overrides/{alias}): moved by a drag, or edited in
 * the form. The schedule's queries are refetched before the mutation settles, so a moved bar is drawn
 * at its new place until the stored one replaces it.
 */
export function useChangeOverride(schedule: Schedule, onDone?: () => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: ({ override, user, from, to }: OverrideChange) => {
      if (!(to > from)) throw new Error('The end must come after the start.');
      return data(
        api.PUT('/v2/schedules/{identifier}/overrides/{alias}', {
          params: {
            path: { identifier: schedule.id, alias: override.alias },
            query: { identifierType: 'id' },
          },
          body: movedBody(override, user.trim(), from, to),
        }),
      );
    },
    onSuccess: (_saved, { user, from, to }) => {
      notifications.show({
        color: 'teal',
        message: `${user.trim() || 'Nobody'} is on call for ${schedule.name} from ${when(from.toISOString())} until ${when(to.toISOString())} (${browserTimezone()}).`,
      });
      onDone?.();
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['schedule', schedule.id] }),
  });
}

/** Deletes an override (DELETE /v2/schedules/{identifier}/overrides/{alias}): the rotations take over again. */
export function useDeleteOverride(schedule: Schedule, onDone?: () => void) {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (override: ScheduleOverride) =>
      data(
        api.DELETE('/v2/schedules/{identifier}/overrides/{alias}', {
          params: {
            path: { identifier: schedule.id, alias: override.alias },
            query: { identifierType: 'id' },
          },
        }),
      ),
    onSuccess: (_deleted, override) => {
      notifications.show({
        color: 'teal',
        message: `The override of ${overrideWho(override)} in ${schedule.name} is deleted.`,
      });
      onDone?.();
    },
    onSettled: () => queryClient.invalidateQueries({ queryKey: ['schedule', schedule.id] }),
  });
}
