/**
 * The engine's time. Production uses the system clock; tests move a shifted clock forward to make a
 * 30-minute escalation step due at once, without sleeping. Every due-time comparison the engine makes
 * (in SQL too) uses this clock's now, never the database's.
 */
export interface Clock {
  now(): Date;
  /** A time recorded by the system clock (an event's commit time), on this clock. */
  fromSystemTime(time: Date): Date;
}

export const systemClock: Clock = { now: () => new Date(), fromSystemTime: (time) => time };

/** The system clock plus an offset that only grows: time still flows, and `advance` jumps ahead. */
export class ShiftedClock implements Clock {
  private offsetMs = 0;
  now(): Date {
    return new Date(Date.now() + this.offsetMs);
  }
  fromSystemTime(time: Date): Date {
    return new Date(time.getTime() + this.offsetMs);
  }
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('the clock only moves forward');
    this.offsetMs += ms;
  }
}
