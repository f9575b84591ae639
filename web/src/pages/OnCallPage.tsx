import {
  Badge,
  Box,
  Button,
  Card,
  Collapse,
  Group,
  SimpleGrid,
  Skeleton,
  Stack,
  Text,
  TextInput,
  Title,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { notifications } from '@mantine/notifications';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import { api, data } from '../api/client';
import type { NextOnCalls, OnCalls, Schedule, Timeline, TimelineRotation } from '../api/types';
import { ErrorPanel } from '../components/ErrorPanel';
import { FormError } from '../components/FormError';
import { PageTitle } from '../components/PageTitle';
import { UserAutocomplete } from '../components/UserAutocomplete';
import { when } from '../lib/time';

const COLORS = ['indigo', 'teal', 'grape', 'orange', 'cyan', 'pink', 'lime', 'yellow'];

function colorFor(name: string): string {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return COLORS[h % COLORS.length] as string;
}

function TimelineRow({
  rotation,
  start,
  end,
  label,
}: {
  rotation: TimelineRotation;
  start: number;
  end: number;
  label: string;
}) {
  const span = end - start;
  return (
    <Box>
      <Text size="xs" c="dimmed" mb={2}>
        {label}
      </Text>
      <Box
        pos="relative"
        h={24}
        style={{ background: 'var(--mantine-color-default-hover)', borderRadius: 3 }}
        role="list"
        aria-label={label}
      >
        {rotation.periods.map((p) => {
          const from = Math.max(start, new Date(p.startDate).getTime());
          const to = Math.min(end, new Date(p.endDate).getTime());
          if (to <= from) return null;
          const color = colorFor(p.recipient.name);
          return (
            <Box
              key={`${p.startDate}-${p.recipient.id}`}
              role="listitem"
              className="timeline-bar"
              title={`${p.recipient.name}: ${when(p.startDate)} – ${when(p.endDate)}${p.type === 'override' ? ' (override)' : ''}`}
              style={{
                left: `${((from - start) / span) * 100}%`,
                width: `${((to - from) / span) * 100}%`,
                background: `var(--mantine-color-${color}-${p.type === 'override' ? 5 : 2})`,
                color: 'var(--mantine-color-black)',
                fontWeight: p.type === 'override' ? 700 : undefined,
              }}
            >
              {p.recipient.name.split('@')[0]}
            </Box>
          );
        })}
      </Box>
    </Box>
  );
}

function ScheduleTimeline({ schedule }: { schedule: Schedule }) {
  const timeline = useQuery({
    queryKey: ['schedule', schedule.id, 'timeline'],
    queryFn: () =>
      data<Timeline>(
        api.GET('/v2/schedules/{identifier}/timeline', {
          params: { path: { identifier: schedule.id }, query: { interval: 1, intervalUnit: 'weeks' } },
        }),
      ),
  });
  if (timeline.isError) return <ErrorPanel error={timeline.error} />;
  if (!timeline.data) return <Skeleton height={60} />;
  const start = new Date(timeline.data.startDate).getTime();
  const end = new Date(timeline.data.endDate).getTime();
  return (
    <Stack gap={6}>
      <Text size="xs" c="dimmed">
        {when(timeline.data.startDate)} – {when(timeline.data.endDate)}
      </Text>
      {timeline.data.baseTimeline.rotations.map((r) => (
        <TimelineRow key={r.id} rotation={r} start={start} end={end} label={`Rotation: ${r.name}`} />
      ))}
      {timeline.data.finalTimeline.rotations.map((r) => (
        <TimelineRow
          key={`final-${r.id}`}
          rotation={r}
          start={start}
          end={end}
          label="Final schedule (with overrides)"
        />
      ))}
    </Stack>
  );
}

function localInput(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function OverrideForm({ schedule, onDone }: { schedule: Schedule; onDone: () => void }) {
  const queryClient = useQueryClient();
  const now = new Date();
  const [user, setUser] = useState('');
  const [start, setStart] = useState(localInput(now));
  const [end, setEnd] = useState(localInput(new Date(now.getTime() + 4 * 3600_000)));
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

function ScheduleCard({ schedule }: { schedule: Schedule }) {
  const [showTimeline, timeline] = useDisclosure(false);
  const [showOverride, override] = useDisclosure(false);
  const path = { identifier: schedule.id };
  const now = useQuery({
    queryKey: ['schedule', schedule.id, 'on-calls'],
    queryFn: () =>
      data<OnCalls>(
        api.GET('/v2/schedules/{identifier}/on-calls', { params: { path, query: { flat: false } } }),
      ),
    refetchInterval: 60_000,
  });
  const next = useQuery({
    queryKey: ['schedule', schedule.id, 'next'],
    queryFn: () =>
      data<NextOnCalls>(
        api.GET('/v2/schedules/{identifier}/next-on-calls', { params: { path, query: { flat: false } } }),
      ),
    refetchInterval: 60_000,
  });
  return (
    <Card withBorder component="section" aria-labelledby={`schedule-${schedule.id}`}>
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Title order={3} size="h4" id={`schedule-${schedule.id}`} className="break-anywhere">
          {schedule.name}
        </Title>
        {!schedule.enabled ? <Badge color="gray">Off</Badge> : null}
      </Group>
      <Text size="xs" c="dimmed" mb="sm">
        {schedule.timezone}
      </Text>
      <SimpleGrid cols={2} spacing="sm">
        <div>
          <Text size="xs" c="dimmed" fw={500} tt="uppercase">
            On call now
          </Text>
          {now.isError ? (
            <Text size="sm" c="red">
              {now.error.message}
            </Text>
          ) : !now.data ? (
            <Skeleton height={20} />
          ) : now.data.onCallParticipants.length === 0 ? (
            <Text size="sm" c="dimmed">
              Nobody
            </Text>
          ) : (
            now.data.onCallParticipants.map((p) => (
              <Text key={p.id} size="sm" fw={600} className="break-anywhere">
                {p.name}
              </Text>
            ))
          )}
        </div>
        <div>
          <Text size="xs" c="dimmed" fw={500} tt="uppercase">
            Next
          </Text>
          {next.isError ? (
            <Text size="sm" c="red">
              {next.error.message}
            </Text>
          ) : !next.data ? (
            <Skeleton height={20} />
          ) : next.data.nextShift ? (
            <>
              <Text size="sm" fw={600} className="break-anywhere">
                {next.data.nextShift.user.name}
              </Text>
              <Text size="xs" c="dimmed">
                from {when(next.data.nextShift.startDate)}
              </Text>
            </>
          ) : (
            <Text size="sm" c="dimmed">
              Nobody scheduled
            </Text>
          )}
        </div>
      </SimpleGrid>
      <Group gap="xs" mt="sm">
        <Button size="xs" variant="default" onClick={timeline.toggle} aria-expanded={showTimeline}>
          {showTimeline ? 'Hide timeline' : 'Timeline'}
        </Button>
        <Button size="xs" variant="default" onClick={override.toggle} aria-expanded={showOverride}>
          Override
        </Button>
      </Group>
      <Collapse expanded={showTimeline}>
        {showTimeline ? (
          <Box mt="sm">
            <ScheduleTimeline schedule={schedule} />
          </Box>
        ) : null}
      </Collapse>
      <Collapse expanded={showOverride}>
        {showOverride ? <OverrideForm schedule={schedule} onDone={override.close} /> : null}
      </Collapse>
    </Card>
  );
}

export default function OnCallPage() {
  const schedules = useQuery({
    queryKey: ['schedules'],
    queryFn: () => data<Schedule[]>(api.GET('/v2/schedules', {})),
  });
  const byTeam = useMemo(() => {
    const groups = new Map<string, { team: string; schedules: Schedule[] }>();
    for (const s of schedules.data ?? []) {
      const key = s.ownerTeam?.id ?? '';
      const group = groups.get(key) ?? { team: s.ownerTeam?.name ?? 'No team', schedules: [] };
      group.schedules.push(s);
      groups.set(key, group);
    }
    return [...groups.values()].sort((a, b) => a.team.localeCompare(b.team));
  }, [schedules.data]);

  return (
    <>
      <PageTitle>On-call</PageTitle>
      {schedules.isError ? (
        <ErrorPanel error={schedules.error} retry={() => void schedules.refetch()} />
      ) : schedules.isPending ? (
        <Skeleton height={120} />
      ) : byTeam.length === 0 ? (
        <Text c="dimmed">
          No schedules yet. Create one with POST /v2/schedules (see the API docs at /docs).
        </Text>
      ) : (
        <Stack gap="xl">
          {byTeam.map((group) => (
            <Stack key={group.team} gap="sm">
              <Title order={2} size="h3">
                {group.team}
              </Title>
              <SimpleGrid cols={{ base: 1, md: 2 }}>
                {group.schedules.map((s) => (
                  <ScheduleCard key={s.id} schedule={s} />
                ))}
              </SimpleGrid>
            </Stack>
          ))}
        </Stack>
      )}
    </>
  );
}
