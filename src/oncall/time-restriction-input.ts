import { Type, type Static } from 'typebox';
import { invalid, UNPROCESSABLE_BODY } from '../errors.js';
import { StringEnum } from '../http/schemas.js';
import type { TimeRestriction, Weekday } from './schedule.js';

/**
 * Time restrictions as the API takes and shows them, for schedules' rotations and teams' routing rules
 * alike. Opsgenie writes a `time-of-day` restriction as one `restriction` and a `weekday-and-time-of-day`
 * one as a list of `restrictions`; either form is accepted for either type, and stored as a list.
 * Ranges and day names are left to schedule.ts's validation, whose messages say what to give instead.
 */

/**
 * Opsgenie always sends hours and minutes, but the Go SDK (so Terraform) leaves out every field that is 0:
 * its 00:00–08:00 comes as `{"endHour": 8}`. Vigil reads a missing hour or minute as 0.
 */
const Window = Type.Object({
  startDay: Type.Optional(Type.String({ maxLength: 16 })),
  startHour: Type.Optional(Type.Integer()),
  startMin: Type.Optional(Type.Integer()),
  endDay: Type.Optional(Type.String({ maxLength: 16 })),
  endHour: Type.Optional(Type.Integer()),
  endMin: Type.Optional(Type.Integer()),
});

export const TimeRestrictionSchema = Type.Object(
  {
    type: StringEnum(['time-of-day', 'weekday-and-time-of-day']),
    restriction: Type.Optional(Window),
    restrictions: Type.Optional(Type.Array(Window, { maxItems: 100 })),
  },
  {
    description:
      '"time-of-day": every day (an end at or before the start ends the next day); "weekday-and-time-of-day": from startDay to endDay. One window as "restriction", or several as "restrictions".',
  },
);

export type WindowInput = Static<typeof Window>;
export type TimeRestrictionInput = Static<typeof TimeRestrictionSchema>;

/**
 * The single window given as `restriction`, if any. The Go SDK's og.TimeRestriction holds it as a struct,
 * not a pointer, so `omitempty` never leaves it out: a weekday-and-time-of-day restriction from it comes
 * with `"restriction": {}` beside its `restrictions`, and a "none" as only that. A window with no field at
 * all is therefore none, not 00:00–00:00.
 */
export function singleWindow(input: TimeRestrictionInput): WindowInput | undefined {
  const window = input.restriction;
  if (window === undefined) return undefined;
  const { startDay, startHour, startMin, endDay, endHour, endMin } = window;
  const given = [startDay, startHour, startMin, endDay, endHour, endMin].some((f) => f !== undefined);
  return given ? window : undefined;
}

/** Whether `input` restricts nothing: Opsgenie clients send no window (or the Go SDK's `{}`) for "none". */
export function restrictsNothing(input: TimeRestrictionInput): boolean {
  return singleWindow(input) === undefined && (input.restrictions?.length ?? 0) === 0;
}

/** The stored shape, and the form it was given in (so errors can name the field the caller used). */
export function timeRestrictionOf(
  given: TimeRestrictionInput,
  field: string,
): { restriction: TimeRestriction; form: 'restriction' | 'restrictions' } {
  const single = singleWindow(given);
  const input = { type: given.type, restrictions: given.restrictions, restriction: single };
  if (input.restriction !== undefined && input.restrictions !== undefined) {
    throw invalid(UNPROCESSABLE_BODY, {
      [field]:
        'Give either restriction (one window) or restrictions (a list of windows), not both: Opsgenie uses restriction for time-of-day and restrictions for weekday-and-time-of-day.',
    });
  }
  const windows = input.restrictions ?? (input.restriction ? [input.restriction] : []);
  return {
    form: input.restriction !== undefined ? 'restriction' : 'restrictions',
    restriction: {
      type: input.type,
      restrictions: windows.map((w) => ({
        ...(w.startDay !== undefined ? { startDay: w.startDay as Weekday } : {}),
        startHour: w.startHour ?? 0,
        startMin: w.startMin ?? 0,
        ...(w.endDay !== undefined ? { endDay: w.endDay as Weekday } : {}),
        endHour: w.endHour ?? 0,
        endMin: w.endMin ?? 0,
      })),
    },
  };
}

/** Opsgenie's own shape: a single time-of-day window is `restriction`. */
export function presentTimeRestriction(restriction: TimeRestriction) {
  const [only] = restriction.restrictions;
  return restriction.type === 'time-of-day' && only && restriction.restrictions.length === 1
    ? { type: restriction.type, restriction: only }
    : { type: restriction.type, restrictions: restriction.restrictions };
}
