import { Box, Text, UnstyledButton } from '@mantine/core';
import { notifications } from '@mantine/notifications';
import { useRef, useState, type MouseEvent, type PointerEvent } from 'react';
import type { Schedule } from '../../api/types';
import { ErrorPanel } from '../../components/ErrorPanel';
import { when } from '../../lib/time';
import {
  overrideUsername,
  overrideWho,
  useChangeOverride,
  useOverrides,
  type ScheduleOverride,
} from './overrides';
import {
  colorFor,
  rowStyle,
  SelectionShade,
  shiftOf,
  useRangeSelection,
  type TimeRange,
} from './timelineParts';

/** Pixels a pointer may wander before a press on an override becomes a drag (a tap still opens its form). */
const SLOP_PX = 4;

interface Moving {
  alias: string;
  pointerId: number;
  x: number;
  moved: boolean;
  shift: number;
}

/**
 * The schedule's overrides, each a bar of its own (the final line shows only where one wins). Dragging
 * across the row picks the times of a new one; dragging a bar moves it, start and end by the same whole
 * half hours, and saves at once; pressing a bar (a click, a tap, or Enter for keyboards) opens its form.
 */
export function OverridesRow({
  schedule,
  start,
  end,
  onSelect,
  onEdit,
}: {
  schedule: Schedule;
  start: number;
  end: number;
  onSelect?: (range: TimeRange) => void;
  onEdit?: (override: ScheduleOverride) => void;
}) {
  const overrides = useOverrides(schedule);
  const change = useChangeOverride(schedule);
  const row = useRef<HTMLDivElement>(null);
  const { selection, handlers } = useRangeSelection(row, start, end, onSelect);
  // Read by the handlers (a render may not have happened between two pointer events); the state draws.
  const moving = useRef<Moving | undefined>(undefined);
  // A drag may end in a click on the bar, which must not open its form.
  const dragged = useRef(false);
  const [shifted, setShifted] = useState<{ alias: string; shift: number } | undefined>();
  const span = end - start;
  const label = 'Overrides';

  const shiftAt = (e: PointerEvent, m: Moving) =>
    shiftOf(e.clientX - m.x, row.current?.getBoundingClientRect().width ?? 0, start, end);

  const barHandlers = (o: ScheduleOverride) => ({
    onPointerDown: (e: PointerEvent<HTMLButtonElement>) => {
      // The row's own handlers would start a selection underneath.
      e.stopPropagation();
      dragged.current = false;
      if (e.button !== 0 || change.isPending) return;
      e.currentTarget.setPointerCapture(e.pointerId);
      moving.current = { alias: o.alias, pointerId: e.pointerId, x: e.clientX, moved: false, shift: 0 };
    },
    onPointerMove: (e: PointerEvent) => {
      const m = moving.current;
      if (!m || m.pointerId !== e.pointerId) return;
      e.stopPropagation();
      if (Math.abs(e.clientX - m.x) > SLOP_PX) m.moved = true;
      const shift = shiftAt(e, m);
      if (shift !== m.shift) {
        m.shift = shift;
        setShifted({ alias: o.alias, shift });
      }
    },
    onPointerUp: (e: PointerEvent) => {
      const m = moving.current;
      if (!m || m.pointerId !== e.pointerId) return;
      e.stopPropagation();
      moving.current = undefined;
      dragged.current = m.moved;
      const shift = shiftAt(e, m);
      if (!m.moved || shift === 0) {
        setShifted(undefined);
        return;
      }
      setShifted({ alias: o.alias, shift });
      change.mutate(
        {
          override: o,
          user: overrideUsername(o),
          from: new Date(Date.parse(o.startDate) + shift),
          to: new Date(Date.parse(o.endDate) + shift),
        },
        {
          onError: (error) =>
            notifications.show({ color: 'red', message: `The override was not moved: ${error.message}` }),
          onSettled: () => setShifted(undefined),
        },
      );
    },
    onPointerCancel: (e: PointerEvent) => {
      e.stopPropagation();
      moving.current = undefined;
      setShifted(undefined);
    },
    onClick: (e: MouseEvent) => {
      const afterDrag = dragged.current;
      dragged.current = false;
      // A keyboard's click (detail 0) always opens the form, whatever the pointer did before.
      if (afterDrag && e.detail !== 0) return;
      onEdit?.(o);
    },
  });

  if (overrides.isError) return <ErrorPanel error={overrides.error} />;
  return (
    <Box>
      <Text size="xs" c="dimmed" mb={2}>
        {label} (drag across the row to add one, drag one to move it, or select one to change it)
      </Text>
      <Box
        ref={row}
        pos="relative"
        h={24}
        style={rowStyle(Boolean(onSelect))}
        role="list"
        aria-label={label}
        data-start={new Date(start).toISOString()}
        data-end={new Date(end).toISOString()}
        {...handlers}
      >
        {(overrides.data ?? []).map((o) => {
          const shift = shifted?.alias === o.alias ? shifted.shift : 0;
          const oStart = Date.parse(o.startDate) + shift;
          const oEnd = Date.parse(o.endDate) + shift;
          const from = Math.max(start, oStart);
          const to = Math.min(end, oEnd);
          if (to <= from) return null;
          const name = overrideWho(o);
          const times = `${when(new Date(oStart).toISOString())} – ${when(new Date(oEnd).toISOString())}`;
          return (
            <Box
              key={o.alias}
              role="listitem"
              pos="absolute"
              top={0}
              bottom={0}
              style={{
                left: `${((from - start) / span) * 100}%`,
                width: `${((to - from) / span) * 100}%`,
                zIndex: shift ? 1 : undefined,
              }}
            >
              <UnstyledButton
                className="timeline-bar"
                aria-label={`Override: ${name}, ${times}`}
                title={`${name}: ${times} (drag to move, or select to change)`}
                data-alias={o.alias}
                data-start={new Date(oStart).toISOString()}
                data-end={new Date(oEnd).toISOString()}
                w="100%"
                style={{
                  left: 0,
                  background: `var(--mantine-color-${colorFor(name)}-5)`,
                  color: 'var(--mantine-color-black)',
                  fontWeight: 700,
                  cursor: shift ? 'grabbing' : 'grab',
                  touchAction: 'none',
                  outlineOffset: -2,
                }}
                {...barHandlers(o)}
              >
                {name.split('@')[0]}
              </UnstyledButton>
            </Box>
          );
        })}
        <SelectionShade selection={selection} start={start} end={end} />
      </Box>
    </Box>
  );
}
