import { Button, Fieldset, Group, NativeSelect, Stack, Text, TextInput } from '@mantine/core';
import { clock, WEEKDAYS, windowsOf, type TimeRestriction, type Weekday } from '../lib/timeRestriction';

/**
 * Opsgenie's time restrictions as a form: none, every day between two times, or ranges from a weekday and
 * time to another. Routing rules use it, and it takes and gives the API's shape (src/oncall/
 * time-restriction-input.ts), so a restriction made through the API is edited without losing a window.
 */

export type RestrictionKind = 'none' | TimeRestriction['type'];

export interface DraftWindow {
  /** React's key: ranges are removed from the middle of the list. */
  id: number;
  startDay: Weekday;
  /** "HH:MM", as a time input holds it. */
  start: string;
  endDay: Weekday;
  end: string;
}

export interface DraftTimeRestriction {
  kind: RestrictionKind;
  /** Kept while the kind changes, so switching back and forth loses nothing; days unused by time-of-day. */
  windows: DraftWindow[];
}

/** At most what the API takes (maxItems of restrictions). */
const MAX_WINDOWS = 100;

let nextId = 1;

const dayOf = (day: string | undefined): Weekday =>
  WEEKDAYS.includes(day as Weekday) ? (day as Weekday) : 'monday';
const nextDay = (day: Weekday): Weekday => WEEKDAYS[(WEEKDAYS.indexOf(day) + 1) % 7] ?? 'monday';

/** A new range: the last one moved to the next day (office hours are a range per day), else 09:00–17:00. */
function newWindow(windows: DraftWindow[]): DraftWindow {
  const last = windows.at(-1);
  if (!last) return { id: nextId++, startDay: 'monday', start: '09:00', endDay: 'monday', end: '17:00' };
  return { ...last, id: nextId++, startDay: nextDay(last.startDay), endDay: nextDay(last.endDay) };
}

export function draftTimeRestriction(restriction?: TimeRestriction | null): DraftTimeRestriction {
  if (!restriction) return { kind: 'none', windows: [] };
  return {
    kind: restriction.type,
    windows: windowsOf(restriction).map((w) => ({
      id: nextId++,
      startDay: dayOf(w.startDay),
      start: clock(w.startHour, w.startMin),
      endDay: dayOf(w.endDay),
      end: clock(w.endHour, w.endMin),
    })),
  };
}

function hourAndMinute(time: string): { hour: number; min: number } {
  const [hour = 0, min = 0] = time.split(':').map(Number);
  return { hour, min };
}

/** The restriction as the API takes it (a list of `restrictions`), or null for none. */
export function timeRestrictionBody(draft: DraftTimeRestriction): TimeRestriction | null {
  if (draft.kind === 'none') return null;
  const weekly = draft.kind === 'weekday-and-time-of-day';
  return {
    type: draft.kind,
    restrictions: draft.windows.map((w) => {
      const start = hourAndMinute(w.start);
      const end = hourAndMinute(w.end);
      return {
        ...(weekly ? { startDay: w.startDay } : {}),
        startHour: start.hour,
        startMin: start.min,
        ...(weekly ? { endDay: w.endDay } : {}),
        endHour: end.hour,
        endMin: end.min,
      };
    }),
  };
}

/** Whether the draft says what `stored` says (whichever form either is in): unchanged, it need not be sent. */
export function sameTimeRestriction(
  draft: DraftTimeRestriction,
  stored: TimeRestriction | null | undefined,
): boolean {
  const normal = (r: TimeRestriction | null | undefined) =>
    JSON.stringify(r ? timeRestrictionBody(draftTimeRestriction(r)) : null);
  return JSON.stringify(timeRestrictionBody(draft)) === normal(stored);
}

const DAY_OPTIONS = WEEKDAYS.map((d) => ({ value: d, label: d[0]?.toUpperCase() + d.slice(1) }));

function WindowFields({
  window: w,
  weekly,
  onChange,
}: {
  window: DraftWindow;
  weekly: boolean;
  onChange: (patch: Partial<DraftWindow>) => void;
}) {
  return (
    <Group gap="xs" align="flex-start" wrap="wrap">
      {weekly ? (
        <NativeSelect
          label="Start day"
          data={DAY_OPTIONS}
          value={w.startDay}
          onChange={(e) => onChange({ startDay: e.currentTarget.value as Weekday })}
          miw={130}
        />
      ) : null}
      <TextInput
        label="Start time"
        type="time"
        required
        value={w.start}
        onChange={(e) => onChange({ start: e.currentTarget.value })}
        miw={110}
      />
      {weekly ? (
        <NativeSelect
          label="End day"
          data={DAY_OPTIONS}
          value={w.endDay}
          onChange={(e) => onChange({ endDay: e.currentTarget.value as Weekday })}
          miw={130}
        />
      ) : null}
      <TextInput
        label="End time"
        type="time"
        required
        value={w.end}
        onChange={(e) => onChange({ end: e.currentTarget.value })}
        miw={110}
      />
    </Group>
  );
}

export function TimeRestrictionEditor({
  value,
  onChange,
}: {
  value: DraftTimeRestriction;
  onChange: (value: DraftTimeRestriction) => void;
}) {
  const { kind, windows } = value;
  const weekly = kind === 'weekday-and-time-of-day';
  const setWindow = (id: number, patch: Partial<DraftWindow>) =>
    onChange({ ...value, windows: windows.map((w) => (w.id === id ? { ...w, ...patch } : w)) });
  return (
    <Stack gap="xs">
      <NativeSelect
        label="When it applies"
        data={[
          { value: 'none', label: 'At any time' },
          { value: 'time-of-day', label: 'Every day, between two times' },
          { value: 'weekday-and-time-of-day', label: 'On weekdays and times' },
        ]}
        value={kind}
        onChange={(e) => {
          const next = e.currentTarget.value as RestrictionKind;
          onChange({
            kind: next,
            windows: next !== 'none' && windows.length === 0 ? [newWindow([])] : windows,
          });
        }}
      />
      {kind !== 'none' ? (
        <>
          <Text size="xs" c="dimmed">
            {weekly
              ? 'Each range runs from its start day and time to its end day and time: Monday 09:00 to Friday 17:00 is one stretch, nights included. For office hours, give each day its own range: "Add range" adds the last one again, a day later.'
              : 'Every day from the start time to the end time; an end at or before the start ends the next day (22:00–06:00 is overnight).'}
          </Text>
          {windows.map((w, i) => (
            <Fieldset key={w.id} legend={`Range ${i + 1}`} p="sm">
              <WindowFields window={w} weekly={weekly} onChange={(patch) => setWindow(w.id, patch)} />
              {windows.length > 1 ? (
                <Button
                  size="xs"
                  variant="subtle"
                  color="red"
                  mt="xs"
                  onClick={() => onChange({ ...value, windows: windows.filter((x) => x.id !== w.id) })}
                  aria-label={`Remove range ${i + 1}`}
                >
                  Remove
                </Button>
              ) : null}
            </Fieldset>
          ))}
          <Group>
            <Button
              size="xs"
              variant="light"
              disabled={windows.length >= MAX_WINDOWS}
              onClick={() => onChange({ ...value, windows: [...windows, newWindow(windows)] })}
            >
              Add range
            </Button>
          </Group>
        </>
      ) : null}
    </Stack>
  );
}
