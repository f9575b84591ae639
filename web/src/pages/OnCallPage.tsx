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
  Title,
} from '@mantine/core';
import { useDisclosure } from '@mantine/hooks';
import { useQuery } from '@tanstack/react-query';
import { useMemo, useState } from 'react';
import type { Schedule } from '../api/types';
import { ErrorPanel } from '../components/ErrorPanel';
import { PageTitle } from '../components/PageTitle';
import { when } from '../lib/time';
import { OverrideForm } from './oncall/OverrideForm';
import type { ScheduleOverride } from './oncall/overrides';
import { useSchedules } from '../lib/oncall';
import { onCallQueries } from './oncall/scheduleQueries';
import { ScheduleTimeline } from './oncall/ScheduleTimeline';
import { recipientLabel } from './oncall/recipientLabel';
import type { TimeRange } from './oncall/timelineParts';

function ScheduleCard({ schedule }: { schedule: Schedule }) {
  const [showTimeline, timeline] = useDisclosure(false);
  const [showOverride, override] = useDisclosure(false);
  // Times dragged on the timeline, or the override selected on it; the key remounts the form with them.
  const [dragged, setDragged] = useState<TimeRange | undefined>();
  const [editing, setEditing] = useState<ScheduleOverride | undefined>();
  const queries = onCallQueries(schedule.id);
  const now = useQuery({ ...queries.now, refetchInterval: 60_000 });
  const next = useQuery({ ...queries.next, refetchInterval: 60_000 });
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
        {schedule.rotationsCombine === 'layers' ? ' · layers: the highest rotation with someone wins' : ''}
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
                {recipientLabel(p)}
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
              {(next.data.nextShifts ?? [next.data.nextShift]).map((shift) => (
                <Text key={shift.user.id} size="sm" fw={600} className="break-anywhere">
                  {recipientLabel(shift.user)}
                </Text>
              ))}
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
        <Button
          size="xs"
          variant="default"
          onClick={() => {
            setDragged(undefined);
            setEditing(undefined);
            // From an override's form to a new one's; otherwise the form shows or hides.
            if (!(showOverride && editing)) override.toggle();
          }}
          aria-expanded={showOverride}
        >
          Override
        </Button>
      </Group>
      <Collapse expanded={showTimeline}>
        {showTimeline ? (
          <Box mt="sm">
            <ScheduleTimeline
              schedule={schedule}
              onSelect={(range) => {
                setEditing(undefined);
                setDragged(range);
                override.open();
              }}
              onEdit={(o) => {
                setDragged(undefined);
                setEditing(o);
                override.open();
              }}
            />
          </Box>
        ) : null}
      </Collapse>
      <Collapse expanded={showOverride}>
        {showOverride ? (
          <OverrideForm
            key={
              editing
                ? `edit-${editing.alias}-${editing.startDate}-${editing.endDate}`
                : dragged
                  ? `${dragged.from.getTime()}-${dragged.to.getTime()}`
                  : 'now'
            }
            schedule={schedule}
            initial={dragged}
            override={editing}
            onDone={() => {
              setDragged(undefined);
              setEditing(undefined);
              override.close();
            }}
          />
        ) : null}
      </Collapse>
    </Card>
  );
}

export default function OnCallPage() {
  const schedules = useSchedules();
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
