/**
 * The engine's time. Production uses the system clock; tests move a shifted clock forward to make a
 * 30-minute escalation step due at once, without sleeping. Every due-time comparison the engine makes
 * (in SQL too) uses this clock's now, never the database's.
 */
export interface Clock {
  now(): Date;
  /** A time recorded by the system clock (an event's commit time), on this clock. */
  fromSystemTime(time: Date): Date;
  /** A time on this clock, as the system clock tells it (to compare with times people gave, such as a snooze's end). */
  toSystemTime(time: Date): Date;
  /** Calls `listener` when the clock jumps ahead (a test's clock), so work now due is looked at at once. */
  onAdvance?(listener: () => void): void;
}

export const systemClock: Clock = {
  now: () => new Date(),
  fromSystemTime: (time) => time,
  toSystemTime: (time) => time,
};

/** The system clock plus an offset that only grows: time still flows, and `advance` jumps ahead. */
export class ShiftedClock implements Clock {
  private offsetMs = 0;
  private heldAt: Date | undefined;
  private readonly listeners: (() => void)[] = [];
  now(): Date {
    return this.heldAt ? new Date(this.heldAt) : new Date(Date.now() + this.offsetMs);
  }
  /**
   * Stops time until the returned function is called, which lets it flow again from where it would be.
   * A test holds it while it makes many changes, so that however slowly a busy machine makes them,
   * they all happen at one instant.
   */
  hold(): () => void {
    this.heldAt = this.now();
    return () => {
      this.heldAt = undefined;
      for (const listener of this.listeners) listener();
    };
  }
  fromSystemTime(time: Date): Date {
    return new Date(time.getTime() + this.offsetMs);
  }
  toSystemTime(time: Date): Date {
    return new Date(time.getTime() - this.offsetMs);
  }
  advance(ms: number): void {
    if (ms < 0) throw new RangeError('the clock only moves forward');
    this.offsetMs += ms;
    for (const listener of this.listeners) listener();
  }
  onAdvance(listener: () => void): void {
    this.listeners.push(listener);
  }
}
