import { Button, Group, Stack, TextInput, Title } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, data } from '../../api/client';
import type { Schedule } from '../../api/types';
import { FormError } from '../../components/FormError';
import { UserAutocomplete } from '../../components/UserAutocomplete';
import { when } from '../../lib/time';
import type { TimeRange } from './ScheduleTimeline';

function localInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

/** Who takes a schedule over, from when until when: the next four hours unless times were dragged. */
export function OverrideForm({
  schedule,
  initial,
  onDone,
}: {
  schedule: Schedule;
  initial?: TimeRange;
  onDone: () => void;
}) {
  const queryClient = useQueryClient();
  const now = new Date();
  const [user, setUser] = useState('');
  const [start, setStart] = useState(localInput(initial?.from ?? now));
  const [end, setEnd] = useState(localInput(initial?.to ?? new Date(now.getTime() + 4 * 3600_000)));
  const add = useMutation({
    mutationFn: () => {
      const from = new Date(start);
      const to = new Date(end);
      if (!(to > from)) throw new Error('The end must come after the start.');
      return data(
        api.POST('/v2/schedules/{identifier}/overrides', {
          params: { path: { identifier: schedule.id } },
          body: {
            user: { type: 'user', username: user.trim() },
            startDate: from.toISOString(),
            endDate: to.toISOString(),
          },
        }),
      );
    },
    onSuccess: () => {
      notifications.show({
        color: 'teal',
        message: `${user} is on call for ${schedule.name} from ${when(new Date(start).toISOString())}.`,
      });
      void queryClient.invalidateQueries({ queryKey: ['schedule', schedule.id] });
      onDone();
    },
  });
  return (
    <form
      aria-label={`Add an override to ${schedule.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        add.mutate();
      }}
    >
      <Stack gap="xs" mt="sm">
        <Title order={3} size="h5">
          Add an override
        </Title>
        <UserAutocomplete label="Who (email)" required value={user} onChange={setUser} />
        <Group grow wrap="wrap">
          <TextInput
            label="From"
            type="datetime-local"
            required
            value={start}
            onChange={(e) => setStart(e.currentTarget.value)}
            miw={180}
          />
          <TextInput
            label="Until"
            type="datetime-local"
            required
            value={end}
            onChange={(e) => setEnd(e.currentTarget.value)}
            miw={180}
          />
        </Group>
        <FormError error={add.error} />
        <Group>
          <Button type="submit" size="xs" loading={add.isPending}>
            Add override
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
