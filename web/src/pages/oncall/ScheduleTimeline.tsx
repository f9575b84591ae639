import { Box, Skeleton, Stack, Text } from '@mantine/core';
import { useQuery } from '@tanstack/react-query';
import { useRef, useState, type PointerEvent } from 'react';
import { api, data } from '../../api/client';
import type { Schedule, Timeline, TimelineRotation } from '../../api/types';
import { ErrorPanel } from '../../components/ErrorPanel';
import { when } from '../../lib/time';

const COLORS = ['indigo', 'teal', 'grape', 'orange', 'cyan', 'pink', 'lime', 'yellow'];
/** Dragged times snap to half hours: shifts are handed over on the hour or the half hour. */
export const SNAP_MS = 30 * 60_000;

function colorFor(name: string): string {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return COLORS[h % COLORS.length] as string;
}

export interface TimeRange {
  from: Date;
  to: Date;
}

/** The time under a point of the row, snapped to the nearest half hour and kept inside the row. */
export function timeAt(x: number, row: { left: number; width: number }, start: number, end: number): number {
  const ratio = Math.min(1, Math.max(0, (x - row.left) / row.width));
  const snapped = Math.round((start + ratio * (end - start)) / SNAP_MS) * SNAP_MS;
  return Math.min(end, Math.max(start, snapped));
}

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
  // Where the drag began, read by the handlers themselves: the state below only draws the selection,
  // and may not have been rendered yet when the pointer is let go.
  const anchor = useRef<number | undefined>(undefined);
  const [drag, setDrag] = useState<{ anchor: number; at: number } | undefined>();
  const timeOf = (e: PointerEvent) => {
    const box = row.current?.getBoundingClientRect();
    return box ? timeAt(e.clientX, box, start, end) : start;
  };
  const selection = drag
    ? { from: Math.min(drag.anchor, drag.at), to: Math.max(drag.anchor, drag.at) }
    : undefined;
  const dragHandlers = onSelect
    ? {
        onPointerDown: (e: PointerEvent<HTMLDivElement>) => {
          e.currentTarget.setPointerCapture(e.pointerId);
          const t = timeOf(e);
          anchor.current = t;
          setDrag({ anchor: t, at: t });
        },
        onPointerMove: (e: PointerEvent) => {
          const from = anchor.current;
          if (from !== undefined) setDrag({ anchor: from, at: timeOf(e) });
        },
        onPointerUp: (e: PointerEvent) => {
          const from = anchor.current;
          anchor.current = undefined;
          setDrag(undefined);
          if (from === undefined) return;
          const to = timeOf(e);
          // A click, or a drag shorter than one step, is not a choice of times.
          if (Math.abs(to - from) >= SNAP_MS)
            onSelect({ from: new Date(Math.min(from, to)), to: new Date(Math.max(from, to)) });
        },
        onPointerCancel: () => {
          anchor.current = undefined;
          setDrag(undefined);
        },
      }
    : {};
  return (
    <Box>
      <Text size="xs" c="dimmed" mb={2}>
        {label}
        {onSelect ? ' (drag across it to add an override)' : ''}
      </Text>
      <Box
        ref={row}
        pos="relative"
        h={24}
        style={{
          background: 'var(--mantine-color-default-hover)',
          borderRadius: 3,
          cursor: onSelect ? 'crosshair' : undefined,
          touchAction: onSelect ? 'none' : undefined,
          userSelect: 'none',
        }}
        role="list"
        aria-label={label}
        data-start={new Date(start).toISOString()}
        data-end={new Date(end).toISOString()}
        {...dragHandlers}
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
                pointerEvents: onSelect ? 'none' : undefined,
              }}
            >
              {p.recipient.name.split('@')[0]}
            </Box>
          );
        })}
        {selection ? (
          <Box
            aria-hidden
            pos="absolute"
            top={0}
            bottom={0}
            style={{
              left: `${((selection.from - start) / span) * 100}%`,
              width: `${((selection.to - selection.from) / span) * 100}%`,
              background: 'var(--mantine-color-blue-filled)',
              opacity: 0.35,
              borderRadius: 3,
              pointerEvents: 'none',
            }}
          />
        ) : null}
      </Box>
    </Box>
  );
}

/**
 * A week of the schedule: each rotation as a layer, then the final line with overrides. Dragging
 * across the final line picks the times of a new override (the form names who).
 */
export function ScheduleTimeline({
  schedule,
  onSelect,
}: {
  schedule: Schedule;
  onSelect?: (range: TimeRange) => void;
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
