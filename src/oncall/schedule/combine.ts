/**
 * How the rotations and the overrides together make who is on call, in both ways of combining rotations
 * ("all" and "layers"): at one instant, and as a timeline of merged pieces. Both go through the same
 * resolution, asking each layer whom it has in a different way, so that they cannot disagree.
 */
import type { Compiled } from './compiled.js';
import { winnerAt } from './override-index.js';
import { rotationPieces, rotationUserAt, type Piece } from './rotations.js';
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
  const found: OnCall[] = [];
  compiled.rotations.forEach((rotation, i) => {
    const user = layerUser(i);
    if (user === undefined) return;
    const who = rotationOnCall(compiled, rotation, user, ms);
    if (!who) return;
    const already = found.find((f) => f.user === who.user);
    if (!already) {
      found.push(who);
      return;
    }
    // On call through several rotations: no single rotation, and an override only if every way is one.
    delete already.rotationId;
    if (!who.override) delete already.override;
  });
  return found;
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

  const bounds = new Set<number>([fromMs, toMs]);
  for (const layer of layers) {
    for (const p of layer.pieces) bounds.add(p.start).add(p.end);
  }
  for (const index of [compiled.globalOverrides, ...compiled.scopedOverrides.values()]) {
    for (const b of index.bounds) if (b > fromMs && b < toMs) bounds.add(b);
  }
  const points = [...bounds].sort((a, b) => a - b);

  const cursors = layers.map(() => 0);
  const final: Piece[] = [];
  // Each person's latest run: a piece continuing it (starting where it ends) is merged into it.
  const runs = new Map<string, Piece>();
  for (let i = 0; i + 1 < points.length; i++) {
    const start = points[i] ?? 0;
    const end = points[i + 1] ?? 0;
    const present = resolveAllModesAt(compiled, start, (index) => {
      const pieces = layers[index]?.pieces ?? [];
      let c = cursors[index] ?? 0;
      while (c < pieces.length && (pieces[c]?.end ?? Infinity) <= start) c++;
      cursors[index] = c;
      const piece = pieces[c];
      return piece && piece.start <= start ? piece.user : undefined;
    });
    for (const who of present) {
      const run = runs.get(who.user);
      if (run && run.end === start) {
        run.end = end;
        if (run.rotationId !== who.rotationId) delete run.rotationId;
        if (!who.override) delete run.override;
      } else {
        const piece: Piece = { start, end, ...who };
        final.push(piece);
        runs.set(who.user, piece);
      }
    }
  }
  return { final, rotations: layers };
}
