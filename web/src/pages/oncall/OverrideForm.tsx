import { Button, Checkbox, Group, Stack, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, data } from '../../api/client';
import type { Schedule } from '../../api/types';
import { ConfirmButton } from '../../components/ConfirmButton';
import { FormError } from '../../components/FormError';
import { UserAutocomplete } from '../../components/UserAutocomplete';
import { browserTimezone, when } from '../../lib/time';
import {
  overrideUsername,
  overrideWho,
  useChangeOverride,
  useDeleteOverride,
  type ScheduleOverride,
} from './overrides';
import type { TimeRange } from './timelineParts';

function localInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/**
 * Who takes a schedule over, from when until when: a new override (the next four hours unless times were
 * dragged), or, given `override`, that one changed (the way to move one without dragging it).
 */
export function OverrideForm({
  schedule,
  initial,
  override,
  onDone,
}: {
  schedule: Schedule;
  initial?: TimeRange;
  override?: ScheduleOverride;
  onDone: () => void;
}) {
  const queryClient = useQueryClient();
  const now = new Date();
  const [user, setUser] = useState(override ? overrideUsername(override) : '');
  // Opsgenie's `none`: the override puts nobody on call (a quiet night, a holiday).
  const [nobody, setNobody] = useState(override?.user.type === 'none');
  const [start, setStart] = useState(
    localInput(override ? new Date(override.startDate) : (initial?.from ?? now)),
  );
  const [end, setEnd] = useState(
    localInput(
      override ? new Date(override.endDate) : (initial?.to ?? new Date(now.getTime() + 4 * 3600_000)),
    ),
  );
  const add = useMutation({
    mutationFn: () => {
      const from = new Date(start);
      const to = new Date(end);
      if (!(to > from)) throw new Error('The end must come after the start.');
      return data(
        api.POST('/v2/schedules/{identifier}/overrides', {
          params: { path: { identifier: schedule.id } },
          body: {
            user: nobody ? { type: 'none' } : { type: 'user', username: user.trim() },
            startDate: from.toISOString(),
            endDate: to.toISOString(),
          },
        }),
      );
    },
    onSuccess: () => {
      notifications.show({
        color: 'teal',
        message: `${nobody ? 'Nobody' : user} is on call for ${schedule.name} from ${when(new Date(start).toISOString())} (${zone}).`,
      });
      void queryClient.invalidateQueries({ queryKey: ['schedule', schedule.id] });
      onDone();
    },
  });
  // The fields are read in the browser's zone; the schedule card above shows the schedule's own.
  const zone = browserTimezone();
  const zoneNote = zone === schedule.timezone ? undefined : `In your time zone, ${zone}`;
  const change = useChangeOverride(schedule, onDone);
  const remove = useDeleteOverride(schedule, onDone);
  const save = override ? change : add;
  return (
    <form
      aria-label={
        override
          ? `Change the override of ${overrideWho(override)} in ${schedule.name}`
          : `Add an override to ${schedule.name}`
      }
      onSubmit={(e) => {
        e.preventDefault();
        if (override)
          change.mutate({ override, user: nobody ? '' : user, from: new Date(start), to: new Date(end) });
        else add.mutate();
      }}
    >
      <Stack gap="xs" mt="sm">
        <Title order={3} size="h5">
          {override ? 'Change the override' : 'Add an override'}
        </Title>
        <Checkbox
          label="Nobody on call"
          checked={nobody}
          onChange={(e) => setNobody(e.currentTarget.checked)}
        />
        {!nobody && <UserAutocomplete label="Who (email)" required value={user} onChange={setUser} />}
        <Group grow wrap="wrap">
          <TextInput
            label="From"
            description={zoneNote}
            type="datetime-local"
            required
            value={start}
            onChange={(e) => setStart(e.currentTarget.value)}
            miw={180}
          />
          <TextInput
            label="Until"
            description={zoneNote}
            type="datetime-local"
            required
            value={end}
            onChange={(e) => setEnd(e.currentTarget.value)}
            miw={180}
          />
        </Group>
        <FormError error={save.error ?? remove.error} />
        <Group gap="xs">
          <Button type="submit" size="xs" loading={save.isPending}>
            {override ? 'Save override' : 'Add override'}
          </Button>
          {override ? (
            <>
              <Button size="xs" variant="default" onClick={onDone}>
                Cancel
              </Button>
              <ConfirmButton
                label="Delete override"
                question={`Delete this override of ${overrideWho(override)}?`}
                confirmLabel="Delete"
                loading={remove.isPending}
                onConfirm={() => remove.mutate(override)}
              />
            </>
          ) : null}
        </Group>
      </Stack>
    </form>
  );
}
