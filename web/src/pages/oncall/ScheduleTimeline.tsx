import { Box, Skeleton, Stack, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useRef } from 'react';
import { api, data } from '../../api/client';
import type { Schedule, Timeline, TimelineRotation } from '../../api/types';
import { ErrorPanel } from '../../components/ErrorPanel';
import { when } from '../../lib/time';
import { OverridesRow } from './OverridesRow';
import { recipientLabel } from './recipientLabel';
import type { ScheduleOverride } from './overrides';
import {
  colorFor,
  lanesOf,
  rowStyle,
  SelectionShade,
  useRangeSelection,
  type TimeRange,
} from './timelineParts';

const LANE_PX = 24;

function TimelineRow({
  rotation,
  start,
  end,
  label,
  onSelect,
}: {
  rotation: TimelineRotation;
  start: number;
  end: number;
  label: string;
  /** Given, the row takes a drag across it as the times of a new override. */
  onSelect?: (range: TimeRange) => void;
}) {
  const span = end - start;
  const row = useRef<HTMLDivElement>(null);
  const { selection, handlers } = useRangeSelection(row, start, end, onSelect);
  const bars = rotation.periods.flatMap((p) => {
    const from = Math.max(start, new Date(p.startDate).getTime());
    const to = Math.min(end, new Date(p.endDate).getTime());
    return to > from ? [{ period: p, from, to }] : [];
  });
  // People on call at once (a schedule whose rotations all count) stack in lanes, one above the other.
  const { lanes, count } = lanesOf(bars);
  return (
    <Box>
      <Text size="xs" c="dimmed" mb={2}>
        {label}
        {onSelect ? ' (drag across it to add an override)' : ''}
      </Text>
      <Box
        ref={row}
        pos="relative"
        h={LANE_PX * count}
        style={rowStyle(Boolean(onSelect))}
        role="list"
        aria-label={label}
        data-start={new Date(start).toISOString()}
        data-end={new Date(end).toISOString()}
        {...handlers}
      >
        {bars.map(({ period: p, from, to }, i) => {
          const color = colorFor(p.recipient.name);
          return (
            <Box
              key={`${p.startDate}-${p.recipient.id}`}
              role="listitem"
              className="timeline-bar"
              title={`${recipientLabel(p.recipient)}: ${when(p.startDate)} – ${when(p.endDate)}${p.type === 'override' ? ' (override)' : ''}`}
              style={{
                left: `${((from - start) / span) * 100}%`,
                width: `${((to - from) / span) * 100}%`,
                top: (lanes[i] ?? 0) * LANE_PX,
                bottom: 'auto',
                height: LANE_PX - 2,
                background: `var(--mantine-color-${color}-${p.type === 'override' ? 5 : 2})`,
                color: 'var(--mantine-color-black)',
                fontWeight: p.type === 'override' ? 700 : undefined,
                pointerEvents: onSelect ? 'none' : undefined,
              }}
            >
              {p.recipient.name.split('@')[0]}
            </Box>
          );
        })}
        <SelectionShade selection={selection} start={start} end={end} />
      </Box>
    </Box>
  );
}

/**
 * A week of the schedule: each rotation as a layer, the overrides, then the final line with the
 * overrides in it. Dragging across the overrides or the final line picks the times of a new override
 * (the form names who); dragging an override moves it, and selecting one opens its form.
 */
export function ScheduleTimeline({
  schedule,
  onSelect,
  onEdit,
}: {
  schedule: Schedule;
  onSelect?: (range: TimeRange) => void;
  onEdit?: (override: ScheduleOverride) => void;
}) {
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
      <OverridesRow schedule={schedule} start={start} end={end} onSelect={onSelect} onEdit={onEdit} />
      {timeline.data.finalTimeline.rotations.map((r, _, all) => (
        <TimelineRow
          key={`final-${r.id}`}
          rotation={r}
          start={start}
          end={end}
          label={`Final schedule (with overrides)${all.length > 1 ? `: ${r.name}` : ''}`}
          onSelect={onSelect}
        />
      ))}
    </Stack>
  );
}
