import { DateTime } from 'luxon';
import { DomainError, invalid, UNPROCESSABLE_BODY } from '../../errors.js';
import type { TimeRestrictionInput } from '../time-restriction-input.js';
import type { ParticipantInput } from './participants.js';
import { validateSchedule, type Rotation, type RotationType } from '../schedule.js';

/**
 * Opsgenie's request shapes for rotations, time restrictions and overrides, turned into the values
 * src/oncall/schedule.ts works with. Checks go through validateSchedule, whose problems become 422s naming
 * the request field at fault.
 */

export interface UserRef {
  type?: 'user';
  id?: string;
  username?: string;
}

export interface RotationInput {
  name?: string;
  startDate: string;
  endDate?: string | null;
  type: RotationType;
  length?: number;
  participants: ParticipantInput[];
  timeRestriction?: TimeRestrictionInput | null;
}

/** Instants Vigil stores: PostgreSQL and JavaScript agree on these, and no schedule needs others. */
const EARLIEST = Date.UTC(1970, 0, 1);
const LATEST = Date.UTC(10000, 0, 1);

/** Collects field errors so that one answer names every field at fault. */
export class FieldErrors {
  readonly errors: Record<string, string> = {};

  add(field: string, message: string): void {
    const text = sentence(message);
    const before = this.errors[field];
    this.errors[field] = before ? `${before} ${text}` : text;
  }

  merge(error: unknown): void {
    if (!(error instanceof DomainError) || error.kind !== 'invalid' || !error.fields) throw error;
    for (const [field, message] of Object.entries(error.fields)) this.add(field, message);
  }

  get empty(): boolean {
    return Object.keys(this.errors).length === 0;
  }

  error(): DomainError {
    return invalid(UNPROCESSABLE_BODY, this.errors);
  }

  throwIfAny(): void {
    if (!this.empty) throw this.error();
  }
}

function sentence(message: string): string {
  return /[.!?]$/.test(message) ? message : `${message}.`;
}

/**
 * The request field a validateSchedule problem is about, given the prefix of the rotation in the request
 * (`rotations[2].`, or '' for a rotation or override posted alone) and the form its restriction came in.
 */
export function fieldOfProblem(
  problem: string,
  prefix: string,
  restrictionForm: 'restriction' | 'restrictions' = 'restrictions',
): { field: string; message: string } {
  const message = problem.replace(/^(?:rotation|override) \d+(?: "[^"]*")?: /, '');
  const window = /^time restriction window (\d+): (\w+)/.exec(message);
  if (window) {
    const where =
      restrictionForm === 'restriction'
        ? 'timeRestriction.restriction'
        : `timeRestriction.restrictions[${Number(window[1]) - 1}]`;
    return { field: `${prefix}${where}.${window[2]}`, message };
  }
  if (/^time restriction type/.test(message)) return { field: `${prefix}timeRestriction.type`, message };
  if (/^the time restriction/.test(message)) {
    return { field: `${prefix}timeRestriction.${restrictionForm}`, message };
  }
  const participant = /^participant (\d+)/.exec(message);
  if (participant) return { field: `${prefix}participants[${Number(participant[1]) - 1}]`, message };
  if (/^rotationIds/.test(message)) return { field: `${prefix}rotations`, message };
  const word = /^(\w+)/.exec(message)?.[1] ?? 'body';
  return { field: `${prefix}${word}`, message };
}

/**
 * Parses an instant validateSchedule has accepted; one outside the years 1970-9999 is reported in `errors`
 * and gives undefined.
 */
export function instant(value: string, field: string, errors: FieldErrors): Date | undefined {
  const ms = DateTime.fromISO(value, { setZone: true }).toMillis();
  if (inStoredRange(ms)) return new Date(ms);
  errors.add(field, outOfRange(value));
  return undefined;
}

/** Whether Vigil stores this instant (in milliseconds); NaN is not. */
export function inStoredRange(ms: number): boolean {
  return ms >= EARLIEST && ms < LATEST;
}

/** The problem with an instant outside inStoredRange, as given in `value`. */
export function outOfRange(value: string): string {
  return `${value} is out of range: give a date between the years 1970 and 9999`;
}

/** A time zone name validateSchedule accepts, or a 422 naming `timezone`. */
export function checkTimezone(timezone: string): void {
  const problems = validateSchedule({ timezone, rotations: [], overrides: [] });
  const errors = new FieldErrors();
  for (const p of problems) errors.add('timezone', p);
  errors.throwIfAny();
}

/**
 * Checks one rotation (participants already resolved to keys, see participants.ts) with validateSchedule and throws a 422
 * naming every field at fault, each prefixed by `prefix`.
 */
export function checkRotation(
  rotation: Omit<Rotation, 'id' | 'name'>,
  prefix: string,
  restrictionForm: 'restriction' | 'restrictions',
): void {
  const problems = validateSchedule({
    timezone: 'UTC',
    rotations: [{ ...rotation, id: 'rotation', name: '' }],
    overrides: [],
  });
  const errors = new FieldErrors();
  for (const problem of problems) {
    const { field, message } = fieldOfProblem(problem, prefix, restrictionForm);
    errors.add(field, message);
  }
  errors.throwIfAny();
}

/** Checks an override's window with validateSchedule; a 422 names startDate or endDate. */
export function checkOverrideWindow(startDate: string, endDate: string): void {
  const problems = validateSchedule({
    timezone: 'UTC',
    rotations: [],
    overrides: [{ user: 'user', startDate, endDate }],
  });
  const errors = new FieldErrors();
  for (const problem of problems) {
    const { field, message } = fieldOfProblem(problem, '');
    errors.add(field, message);
  }
  errors.throwIfAny();
}
