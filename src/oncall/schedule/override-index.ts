/**
 * Which override wins at an instant, answered by a binary search rather than by checking every override:
 * a timeline asks at every change point, and a schedule may have many overrides in the window it covers.
 * Between two consecutive boundaries (starts and ends) of a set of overrides the same one wins throughout,
 * so the winner of each such stretch is worked out once, in one sweep over the boundaries.
 */

export interface IndexedOverride {
  startMs: number;
  endMs: number;
}

export interface OverrideIndex<T extends IndexedOverride> {
  /** Every start and end of the overrides, ascending, each once. */
  bounds: number[];
  /** winners[i] is in force over [bounds[i], bounds[i + 1]); undefined where none is. */
  winners: (T | undefined)[];
}

/** The index of `overrides`, given in order of precedence: where several cover an instant, the first wins. */
export function indexOverrides<T extends IndexedOverride>(overrides: readonly T[]): OverrideIndex<T> {
  const bounds = [...new Set(overrides.flatMap((o) => [o.startMs, o.endMs]))].sort((a, b) => a - b);
  const byStart = overrides
    .map((_, rank) => rank)
    .sort((a, b) => at(overrides, a).startMs - at(overrides, b).startMs);
  // The ranks of the overrides started so far, the first in precedence on top; ended ones leave it only
  // once they reach the top, which is the only one asked about.
  const started = new MinHeap();
  let next = 0;
  const winners = bounds.map((bound) => {
    for (; next < byStart.length && at(overrides, byStart[next] ?? 0).startMs <= bound; next++) {
      started.push(byStart[next] ?? 0);
    }
    while (started.size > 0 && at(overrides, started.top()).endMs <= bound) started.pop();
    return started.size > 0 ? overrides[started.top()] : undefined;
  });
  return { bounds, winners };
}

/** The override in force at `ms`, if any. */
export function winnerAt<T extends IndexedOverride>(
  index: OverrideIndex<T> | undefined,
  ms: number,
): T | undefined {
  if (!index) return undefined;
  // The last boundary at or before ms.
  let low = 0;
  let high = index.bounds.length - 1;
  let found = -1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if ((index.bounds[mid] ?? Infinity) <= ms) {
      found = mid;
      low = mid + 1;
    } else {
      high = mid - 1;
    }
  }
  return found < 0 ? undefined : index.winners[found];
}

function at<T>(list: readonly T[], i: number): T {
  const item = list[i];
  if (item === undefined) throw new Error(`unreachable: no item ${i}`);
  return item;
}

/** A binary min-heap of numbers. */
class MinHeap {
  private readonly items: number[] = [];

  get size(): number {
    return this.items.length;
  }

  top(): number {
    return at(this.items, 0);
  }

  push(value: number): void {
    const items = this.items;
    items.push(value);
    let i = items.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (at(items, parent) <= value) break;
      items[i] = at(items, parent);
      i = parent;
    }
    items[i] = value;
  }

  pop(): void {
    const items = this.items;
    const last = items.pop();
    if (last === undefined || items.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= items.length) break;
      const right = left + 1;
      const child = right < items.length && at(items, right) < at(items, left) ? right : left;
      if (at(items, child) >= last) break;
      items[i] = at(items, child);
      i = child;
    }
    items[i] = last;
  }
}
