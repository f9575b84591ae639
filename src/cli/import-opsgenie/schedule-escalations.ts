import { enc, errorText, resolveNamed, sameJson, Skip, type ImportContext } from './context.js';
import {
  comparableParticipant,
  isPending,
  type EscalationRotation,
  type ImportedSchedule,
  type VigilParticipant,
} from './schedules.js';
import { RotationShape, shaped, type RotationIn } from './shapes.js';

/**
 * The escalations in schedules' rotations, once escalations are imported (escalation rules notify
 * schedules, so schedules come first, with nobody on call in an escalation's turn). Each such rotation
 * gets its whole participant list with one PATCH of that rotation: its id, its place in the schedule and
 * the overrides bound to it stay. A rotation naming an escalation that was not imported is skipped: Vigil
 * keeps what it has in that turn.
 */

/** Vigil's rotations of the schedule, lowest first. */
async function vigilRotations(ctx: ImportContext, schedule: string): Promise<RotationIn[]> {
  const list = await ctx.target.get(`/v2/schedules/${enc(schedule)}/rotations?identifierType=name`);
  return (Array.isArray(list) ? list : []).flatMap((raw) => {
    const got = shaped(RotationShape, raw);
    return got.ok ? [got.value] : [];
  });
}

function participantsOf(
  ctx: ImportContext,
  rotation: EscalationRotation,
  vigilKeptIt: boolean,
): VigilParticipant[] {
  return rotation.participants.map((p) => {
    if (!isPending(p)) return p;
    const found = resolveNamed(ctx.escalations, 'escalation', p.pending);
    if (!found.ok)
      throw new Skip(
        vigilKeptIt
          ? `${found.why}: its turn is left as Vigil has it`
          : `${found.why}: nobody is on call in its turn (none) until it is set in Vigil`,
      );
    return { type: 'escalation', name: found.value };
  });
}

const labelOf = (schedule: ImportedSchedule, rotation: EscalationRotation) =>
  `${rotation.name} in ${schedule.name}`;

async function setEscalations(
  ctx: ImportContext,
  schedule: ImportedSchedule,
  rotation: EscalationRotation,
  current: RotationIn[] | undefined,
): Promise<void> {
  const label = labelOf(schedule, rotation);
  const participants = participantsOf(ctx, rotation, !schedule.rotationsWritten);
  // A dry run that would have made or replaced the schedule has no rotations of it in Vigil to read.
  if (!current) return ctx.report.record('schedule rotation', label, 'updated');
  const have = current[rotation.index];
  if (!have?.id || (have.name?.trim() || `Rotation ${rotation.index + 1}`) !== rotation.nameRead)
    throw new Skip(`Vigil's schedule has no rotation ${rotation.name} in its place any more`);
  if (sameJson((have.participants ?? []).map(comparableParticipant), participants))
    return ctx.report.record('schedule rotation', label, 'unchanged');
  if (!ctx.dryRun)
    await ctx.target.patch(
      `/v2/schedules/${enc(schedule.name)}/rotations/${enc(have.id)}?identifierType=name`,
      { participants },
    );
  ctx.report.record('schedule rotation', label, 'updated');
}

export async function importScheduleEscalations(
  ctx: ImportContext,
  schedules: ImportedSchedule[],
): Promise<void> {
  for (const schedule of schedules) {
    if (schedule.escalationRotations.length === 0) continue;
    let current: RotationIn[] | undefined;
    try {
      if (!(ctx.dryRun && schedule.rotationsWritten)) current = await vigilRotations(ctx, schedule.name);
    } catch (error) {
      for (const rotation of schedule.escalationRotations) {
        const why = `could not read it: ${errorText(error)}`;
        ctx.report.record('schedule rotation', labelOf(schedule, rotation), 'failed', why);
      }
      continue;
    }
    for (const rotation of schedule.escalationRotations) {
      try {
        await setEscalations(ctx, schedule, rotation, current);
      } catch (error) {
        const outcome = error instanceof Skip ? 'skipped' : 'failed';
        ctx.report.record('schedule rotation', labelOf(schedule, rotation), outcome, errorText(error));
      }
    }
  }
}
