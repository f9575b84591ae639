import { Box } from '@mantine/core';
import { useRef, useState, type PointerEvent, type RefObject } from 'react';

/**
 * What a schedule's timeline rows share: their colours, and dragging, across a row to pick the times of a
 * new override or an override's bar to move it. Pointer events, so a finger does what a mouse does; the
 * rows that take a drag say `touch-action: none`, so the browser does not scroll the page instead.
 */

const COLORS = ['indigo', 'teal', 'grape', 'orange', 'cyan', 'pink', 'lime', 'yellow'];

/** A person's colour, the same on every row. */
export function colorFor(name: string): string {
  let h = 0;
  for (const ch of name) h = (h * 31 + ch.charCodeAt(0)) >>> 0;
  return COLORS[h % COLORS.length] as string;
}

/**
 * Lanes for bars that may overlap (in a schedule whose rotations are all on call at once, the final line
 * can have several people at the same time): each bar goes in the first lane free at its start, so
 * overlapping bars stack instead of hiding each other. Returns each bar's lane and the number of lanes.
 */
export function lanesOf(bars: readonly { from: number; to: number }[]): { lanes: number[]; count: number } {
  const ends: number[] = [];
  const order = bars.map((_, i) => i).sort((a, b) => (bars[a]?.from ?? 0) - (bars[b]?.from ?? 0));
  const lanes = bars.map(() => 0);
  for (const i of order) {
    const bar = bars[i];
    if (!bar) continue;
    let lane = ends.findIndex((end) => end <= bar.from);
    if (lane === -1) lane = ends.push(bar.to) - 1;
    else ends[lane] = bar.to;
    lanes[i] = lane;
  }
  return { lanes, count: Math.max(1, ends.length) };
}

/** Dragged times snap to half hours: shifts are handed over on the hour or the half hour. */
export const SNAP_MS = 30 * 60_000;

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

/** The time a move of `pixels` along a row `width` wide stands for, in whole half hours. */
export function shiftOf(pixels: number, width: number, start: number, end: number): number {
  if (width <= 0) return 0;
  return Math.round(((pixels / width) * (end - start)) / SNAP_MS) * SNAP_MS || 0;
}

/**
 * A drag across the row `row` (start to end in time) as a range of times, given to `onSelect` when the
 * pointer is let go; `selection` is the range while it is dragged. Without `onSelect`, no handlers.
 */
export function useRangeSelection(
  row: RefObject<HTMLDivElement | null>,
  start: number,
  end: number,
  onSelect: ((range: TimeRange) => void) | undefined,
) {
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
  const handlers = onSelect
    ? {
        onPointerDown: (e: PointerEvent<HTMLDivElement>) => {
          if (e.button !== 0) return;
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
  return { selection, handlers };
}

/** The range being dragged, drawn over the row. */
export function SelectionShade({
  selection,
  start,
  end,
}: {
  selection: { from: number; to: number } | undefined;
  start: number;
  end: number;
}) {
  if (!selection) return null;
  const span = end - start;
  return (
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
  );
}

/** The style of a row: one that takes a drag shows a crosshair and keeps touches for itself. */
export function rowStyle(draggable: boolean) {
  return {
    background: 'var(--mantine-color-default-hover)',
    borderRadius: 3,
    cursor: draggable ? 'crosshair' : undefined,
    touchAction: draggable ? 'none' : undefined,
    userSelect: 'none' as const,
  };
}
