/**
 * Time zones by IANA name, for a schedule's `timezone`. luxon supplies the zone rules; the zones handed out
 * here memoise their offsets, because schedule arithmetic asks about the same few days again and again.
 */
import { IANAZone } from 'luxon';
import { DAY_MS } from './durations.js';

/**
 * An IANA zone whose offsets are memoised per UTC day. luxon asks Intl for every offset (microseconds each) and
 * schedule arithmetic asks about the same few days again and again. For each UTC day this asks Intl for the
 * offsets at its two ends; if they differ, it finds the change by bisection (to the millisecond). This assumes
 * at most one offset change within a UTC day, which holds for the zones of the tz database.
 */
class DayCachedZone extends IANAZone {
  private readonly atMidnight = new Map<number, number>();
  private readonly days = new Map<number, { change: number; before: number; after: number }>();

  override offset(ts: number): number {
    if (!Number.isFinite(ts)) return super.offset(ts);
    const day = Math.floor(ts / DAY_MS);
    let entry = this.days.get(day);
    if (!entry) {
      if (this.days.size > 100_000) {
        this.days.clear();
        this.atMidnight.clear();
      }
      const before = this.midnightOffset(day);
      const after = this.midnightOffset(day + 1);
      let change = (day + 1) * DAY_MS;
      if (before !== after) {
        let lo = day * DAY_MS; // offset `before` here
        while (change - lo > 1) {
          const mid = Math.floor((lo + change) / 2);
          if (super.offset(mid) === before) lo = mid;
          else change = mid;
        }
      }
      entry = { change, before, after };
      this.days.set(day, entry);
    }
    return ts < entry.change ? entry.before : entry.after;
  }

  private midnightOffset(day: number): number {
    let offset = this.atMidnight.get(day);
    if (offset === undefined) {
      offset = super.offset(day * DAY_MS);
      this.atMidnight.set(day, offset);
    }
    return offset;
  }
}

const zoneCache = new Map<string, DayCachedZone | null>();

/** The zone of that name, or undefined if it is not a known IANA zone. */
export function zoneNamed(name: unknown): DayCachedZone | undefined {
  if (typeof name !== 'string' || name === '') return undefined;
  let zone = zoneCache.get(name);
  if (zone === undefined) {
    zone = IANAZone.isValidZone(name) ? new DayCachedZone(name) : null;
    if (zoneCache.size > 1000) zoneCache.clear();
    zoneCache.set(name, zone);
  }
  return zone ?? undefined;
}
