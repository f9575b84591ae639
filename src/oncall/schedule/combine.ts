/**
 * How the rotations and the overrides together make who is on call, in both ways of combining rotations
 * ("all" and "layers"): at one instant, and as a timeline of merged pieces. Both go through the same
 * resolution, asking each layer whom it has in a different way, so that they cannot disagree.
 */
import type { Compiled, CompiledOverride } from './compiled.js';
import { winnerAt } from './override-index.js';
import { rotationBounds, rotationPieces, rotationUserAt, type Piece } from './rotations.js';
import type { OnCall, Shift } from './types.js';

/** The on-call result at `ms` in "layers" mode, given a way to ask each layer (by index) whom it has there. */
function resolveAt(
  compiled: Compiled,
  ms: number,
  layerUser: (index: number) => string | undefined,
): OnCall | undefined {
  const global = winnerAt(compiled.globalOverrides, ms);
  if (global) return global.user === null ? undefined : { user: global.user, override: true };
  for (let i = compiled.rotations.length - 1; i >= 0; i--) {
    const user = layerUser(i);
    const rotation = compiled.rotations[i];
    const who = user !== undefined && rotation ? rotationOnCall(compiled, rotation, user, ms) : undefined;
    if (who) return who;
  }
  return undefined;
}

/**
 * Whom a rotation whose turn is `user`'s at `ms` puts on call: an override of that rotation, or them;
 * nobody where a `none` override blanks it (as a `none` turn would).
 */
function rotationOnCall(
  compiled: Compiled,
  rotation: { id: string },
  user: string,
  ms: number,
): OnCall | undefined {
  const scoped = winnerAt(compiled.scopedOverrides.get(rotation.id), ms);
  if (!scoped) return { user, rotationId: rotation.id };
  return scoped.user === null ? undefined : { user: scoped.user, rotationId: rotation.id, override: true };
}

/** Everyone on call at `ms` in "all" mode: each rotation's person (or its override), each person once. */
function resolveAllAt(
  compiled: Compiled,
  ms: number,
  layerUser: (index: number) => string | undefined,
): OnCall[] {
  const global = winnerAt(compiled.globalOverrides, ms);
  if (global) return global.user === null ? [] : [{ user: global.user, override: true }];
  // By person, in insertion (rotation) order: a Map rather than a search of the list for each rotation.
  const found = new Map<string, OnCall>();
  compiled.rotations.forEach((rotation, i) => {
    const user = layerUser(i);
    if (user === undefined) return;
    const who = rotationOnCall(compiled, rotation, user, ms);
    if (!who) return;
    const already = found.get(who.user);
    if (!already) {
      found.set(who.user, who);
      return;
    }
    // On call through several rotations: no single rotation, and an override only if every way is one.
    delete already.rotationId;
    if (!who.override) delete already.override;
  });
  return [...found.values()];
}

/** Everyone on call at `ms` by the schedule's way of combining rotations (at most one in "layers" mode). */
function resolveAllModesAt(
  compiled: Compiled,
  ms: number,
  layerUser: (index: number) => string | undefined,
): OnCall[] {
  if (compiled.combine === 'all') return resolveAllAt(compiled, ms, layerUser);
  const who = resolveAt(compiled, ms, layerUser);
  return who ? [who] : [];
}

/** Everyone on call at `ms`, asking each rotation directly. */
export function onCallsOf(compiled: Compiled, ms: number): OnCall[] {
  return resolveAllModesAt(compiled, ms, (index) => {
    const rotation = compiled.rotations[index];
    return rotation ? rotationUserAt(rotation, compiled.zone, ms) : undefined;
  });
}

export function toShift(piece: Piece): Shift {
  return {
    user: piece.user,
    start: new Date(piece.start).toISOString(),
    end: new Date(piece.end).toISOString(),
    ...(piece.rotationId !== undefined ? { rotationId: piece.rotationId } : {}),
    ...(piece.override ? { override: true } : {}),
  };
}

/**
 * The pieces timelineOf has given since the process started (each rotation's and the final ones): the work
 * it did, which tests read to check that a computation stays within what it was allowed, without timing it.
 */
export const timelineWork = { pieces: 0 };

/** The layer index standing for the overrides of the whole schedule in timelineOf's sweep. */
const GLOBAL = -1;

/**
 * The timeline of [fromMs, toMs): each rotation's own pieces, and the final ones, merged into one run per
 * person. The final ones are worked out in one sweep over the instants anything changes at (a rotation's
 * piece begins or ends, an override of one rotation or of the whole schedule begins or ends), and at each
 * of them only the rotations that change there are asked again, and only the people they had or now have
 * looked at: a timeline of many short shifts has a great many such instants, and asking every rotation
 * about everyone at each of them made its cost their product (seconds for a busy schedule).
 */
export function timelineOf(
  compiled: Compiled,
  fromMs: number,
  toMs: number,
): { final: Piece[]; rotations: { rotationId: string; pieces: Piece[] }[] } {
  const layers = compiled.rotations.map((r) => ({
    rotationId: r.id,
    pieces: toMs > fromMs ? rotationPieces(r, compiled.zone, fromMs, toMs) : [],
  }));
  if (toMs <= fromMs) return { final: [], rotations: layers };
  const rotations = compiled.rotations;

  const { times, changes } = changesOf(compiled, layers, fromMs, toMs);

  const cursors = layers.map(() => 0);
  /** Whom each layer puts on call now (its override's user, or its own). */
  const current: (OnCall | undefined)[] = layers.map(() => undefined);
  /** The override of the whole schedule in force now. */
  let global: CompiledOverride | undefined;
  /** For "all": the layers that have each person now, and how many of them through an override. */
  const holders = new Map<string, { layers: Set<number>; overrides: number }>();
  /** Each person on call now, with their run (its end is toMs until they go off call). */
  const open = new Map<string, Piece>();
  const final: Piece[] = [];

  const layerAt = (i: number, ms: number): OnCall | undefined => {
    const pieces = layers[i]?.pieces ?? [];
    let c = cursors[i] ?? 0;
    while (c < pieces.length && (pieces[c]?.end ?? Infinity) <= ms) c++;
    cursors[i] = c;
    const piece = pieces[c];
    const rotation = rotations[i];
    return piece && rotation && piece.start <= ms
      ? rotationOnCall(compiled, rotation, piece.user, ms)
      : undefined;
  };

  /**
   * Who `user` is on call as now in "all" mode (see resolveAllAt): through a single layer, with its
   * rotation; an override only if every way they are there is one. Counted, not looked through: one
   * person may be had by every layer.
   */
  const allModeWho = (user: string): OnCall | undefined => {
    if (global) return global.user === user ? { user, override: true } : undefined;
    const held = holders.get(user);
    if (!held) return undefined;
    const only = held.layers.size === 1 ? held.layers.values().next().value : undefined;
    const rotationId = only === undefined ? undefined : rotations[only]?.id;
    return {
      user,
      ...(rotationId !== undefined ? { rotationId } : {}),
      ...(held.overrides === held.layers.size ? { override: true } : {}),
    };
  };

  /** The first layer that has `user` now: those coming on call at once are listed in rotation order. */
  const orderOf = (user: string): number => {
    let order = Infinity;
    for (const i of holders.get(user)?.layers ?? []) order = Math.min(order, i);
    return order;
  };

  /** The one on call now in "layers" mode (see resolveAt). */
  const layersModeWho = (): OnCall | undefined => {
    if (global) return global.user === null ? undefined : { user: global.user, override: true };
    for (let i = current.length - 1; i >= 0; i--) {
      const who = current[i];
      if (who) return who;
    }
    return undefined;
  };

  const affected = new Set<string>();
  const step = (ms: number, changed: readonly number[]) => {
    affected.clear();
    let globalChanged = false;
    for (const i of changed) {
      if (i === GLOBAL) {
        globalChanged = true;
        continue;
      }
      const before = current[i];
      const after = layerAt(i, ms);
      if (before?.user === after?.user && before?.override === after?.override) continue;
      current[i] = after;
      if (before) {
        const held = holders.get(before.user);
        if (held) {
          held.layers.delete(i);
          if (before.override) held.overrides--;
          if (held.layers.size === 0) holders.delete(before.user);
        }
        affected.add(before.user);
      }
      if (after) {
        const held = holders.get(after.user) ?? { layers: new Set<number>(), overrides: 0 };
        held.layers.add(i);
        if (after.override) held.overrides++;
        holders.set(after.user, held);
        affected.add(after.user);
      }
    }
    if (globalChanged) {
      const winner = winnerAt(compiled.globalOverrides, ms);
      if (winner !== global) {
        global = winner;
        // It replaces (or gives back) everyone.
        for (const user of open.keys()) affected.add(user);
        if (winner) {
          if (winner.user !== null) affected.add(winner.user);
        } else {
          for (const user of holders.keys()) affected.add(user);
        }
      }
    }
    let desired = allModeWho;
    if (compiled.combine !== 'all') {
      const top = layersModeWho();
      for (const user of open.keys()) affected.add(user);
      if (top) affected.add(top.user);
      desired = (user) => (top?.user === user ? top : undefined);
    }
    const starting: { who: OnCall; order: number }[] = [];
    for (const user of affected) {
      const want = desired(user);
      const run = open.get(user);
      if (!want) {
        if (run) {
          run.end = ms;
          open.delete(user);
        }
      } else if (run) {
        // Carried on: as one merged run it keeps a rotation and "override" only if every piece has them.
        if (run.rotationId !== want.rotationId) delete run.rotationId;
        if (!want.override) delete run.override;
      } else {
        // Only "all" mode may have several start at once; a whole-schedule override is one person.
        starting.push({ who: want, order: global ? 0 : orderOf(user) });
      }
    }
    // Those coming on call at the same instant in rotation order, as onCallsOf lists them.
    starting.sort((a, b) => a.order - b.order);
    for (const { who } of starting) {
      const piece: Piece = { start: ms, end: toMs, ...who };
      final.push(piece);
      open.set(who.user, piece);
    }
  };

  step(fromMs, [GLOBAL, ...layers.keys()]);
  const changed: number[] = [];
  for (let e = 0; e < times.length;) {
    const ms = times[e] ?? toMs;
    changed.length = 0;
    for (; e < times.length && times[e] === ms; e++) changed.push(changes[e] ?? GLOBAL);
    // Those at fromMs were seen by the first step; at toMs everything ends.
    if (ms > fromMs && ms < toMs) step(ms, changed);
  }
  timelineWork.pieces += final.length + layers.reduce((sum, layer) => sum + layer.pieces.length, 0);
  return { final, rotations: layers };
}

/**
 * The instants within [fromMs, toMs] at which a layer may change (its pieces begin or end, its overrides
 * begin or end) or the overrides of the whole schedule do (layer GLOBAL), ascending: times[e] and
 * changes[e] are one such instant and layer. Each is packed into one number, instant * width + layer + 1,
 * to be sorted as a typed array, as a busy timeline has hundreds of thousands of them; as pairs only where
 * the packed numbers would not stay exact integers (instants centuries off, or thousands of layers).
 */
function changesOf(
  compiled: Compiled,
  layers: readonly { rotationId: string; pieces: readonly Piece[] }[],
  fromMs: number,
  toMs: number,
): { times: Float64Array; changes: Int32Array } {
  const forEach = (visit: (ms: number, layer: number) => void) => {
    layers.forEach((layer, i) => {
      for (const p of layer.pieces) {
        visit(p.start, i);
        visit(p.end, i);
      }
      for (const b of compiled.scopedOverrides.get(layer.rotationId)?.bounds ?? []) {
        if (b > fromMs && b < toMs) visit(b, i);
      }
    });
    for (const b of compiled.globalOverrides.bounds) if (b > fromMs && b < toMs) visit(b, GLOBAL);
  };
  const width = layers.length + 1;
  const pairs: [number, number][] = [];
  const packed: number[] = [];
  const exact = Math.max(Math.abs(fromMs), Math.abs(toMs)) * width < 2 ** 52;
  forEach(
    exact ? (ms, layer) => packed.push(ms * width + layer + 1) : (ms, layer) => pairs.push([ms, layer]),
  );
  pairs.sort((x, y) => x[0] - y[0]);
  const sorted = Float64Array.from(packed).sort();
  const count = exact ? sorted.length : pairs.length;
  const times = new Float64Array(count);
  const changes = new Int32Array(count);
  for (let e = 0; e < count; e++) {
    if (exact) {
      const n = sorted[e] ?? 0;
      const slot = ((n % width) + width) % width;
      times[e] = (n - slot) / width;
      changes[e] = slot - 1;
    } else {
      const [ms, layer] = pairs[e] ?? [toMs, GLOBAL];
      times[e] = ms;
      changes[e] = layer;
    }
  }
  return { times, changes };
}

/**
 * At most how many pieces timelineOf(compiled, fromMs, toMs) works through and gives, worked out cheaply
 * before it runs (TimelinePlan.pieces in src/oncall/schedule.ts). Worked through: each rotation's
 * own pieces, one more for each bound of an override of some rotations, and for each bound of an override
 * of the whole schedule as many as there are rotations, whose people it takes off or gives back at once.
 * Given: the final pieces, each of which starts at the window's start (one for each rotation at most) or
 * where something changes: in "layers" mode one at most at each instant a rotation's piece begins or ends
 * or an override's bound is; in "all" mode one at most for each rotation's piece or an override of it
 * beginning, and as many as there are rotations where an override of the whole schedule begins or ends.
 */
export function timelineCostOf(compiled: Compiled, fromMs: number, toMs: number): number {
  if (toMs <= fromMs) return 0;
  const within = (bounds: readonly number[]) => bounds.filter((b) => b > fromMs && b < toMs).length;
  const everyone = Math.max(1, compiled.rotations.length);
  let own = 0;
  let instants = 0;
  for (const r of compiled.rotations) {
    const bounds = rotationBounds(r, fromMs, toMs);
    own += bounds.pieces;
    instants += bounds.instants;
  }
  let scoped = 0;
  for (const index of compiled.scopedOverrides.values()) scoped += within(index.bounds);
  const global = within(compiled.globalOverrides.bounds) * everyone;
  // A rotation's instants are at least its pieces, so this covers both modes.
  const final = instants + scoped + global + everyone;
  return own + scoped + global + final;
}
