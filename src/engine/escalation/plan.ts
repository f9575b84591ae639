import type { EscalationPlan, EscalationRule } from '../../oncall/model.js';
import { formatMinutes } from '../../work/durations.js';

/**
 * The arithmetic of an escalation policy, with no database: which rule a step runs and when it is due.
 *
 * Steps are counted over every repeat: step k runs rule (k mod n) of cycle (k div n), n rules per cycle.
 * As in Opsgenie, a rule's delay counts from the start of its cycle, and a repeat starts `waitInterval`
 * minutes after the last rule's delay. With closeAlertAfterAll, one more step (k = n·(count+1)) closes the
 * alert when the next repeat would have started.
 */

const MINUTE_MS = 60_000;

export interface PlanStep {
  index: number;
  cycle: number;
  ruleIndex: number;
  /** Undefined for the closing step. */
  rule?: EscalationRule;
  closesAlert: boolean;
  /** Milliseconds after the escalation's base time. */
  offsetMs: number;
}

function cycleLengthMinutes(plan: EscalationPlan): number {
  const last = plan.rules[plan.rules.length - 1]?.delayMinutes ?? 0;
  // Repeats that would all fire at the same instant would page everyone count times at once.
  return Math.max(last + (plan.repeat?.waitIntervalMinutes ?? 0), plan.repeat ? 1 : 0);
}

/** How many steps the plan has, the closing step included. */
export function stepCount(plan: EscalationPlan): number {
  const rules = plan.rules.length * ((plan.repeat?.count ?? 0) + 1);
  return rules + (plan.repeat?.closeAlertAfterAll ? 1 : 0);
}

export function stepAt(plan: EscalationPlan, index: number): PlanStep | undefined {
  const n = plan.rules.length;
  if (n === 0 || index < 0 || index >= stepCount(plan)) return undefined;
  const cycle = Math.floor(index / n);
  const ruleIndex = index % n;
  const cycleMs = cycleLengthMinutes(plan) * MINUTE_MS;
  const closes = index === n * ((plan.repeat?.count ?? 0) + 1);
  if (closes) return { index, cycle, ruleIndex: 0, closesAlert: true, offsetMs: cycle * cycleMs };
  const rule = plan.rules[ruleIndex];
  return {
    index,
    cycle,
    ruleIndex,
    rule,
    closesAlert: false,
    offsetMs: cycle * cycleMs + (rule?.delayMinutes ?? 0) * MINUTE_MS,
  };
}

export function dueAt(base: Date, step: PlanStep): Date {
  return new Date(base.getTime() + step.offsetMs);
}

/**
 * The first step from `from` on that still runs on an acknowledged alert (an `if-not-closed` rule), or
 * undefined: then the escalation waits until the alert is unacknowledged. The closing step is not one:
 * an acknowledged alert has someone on it, and is not closed behind their back.
 */
export function nextStepWhenAcknowledged(plan: EscalationPlan, from: number): PlanStep | undefined {
  for (let k = from; k < stepCount(plan); k++) {
    const step = stepAt(plan, k);
    if (step?.rule?.condition === 'if-not-closed') return step;
  }
  return undefined;
}

/** "rule 2 (after 5 min), repeat 1": how the activity log names a step. */
export function describeStep(plan: EscalationPlan, step: PlanStep): string {
  if (step.closesAlert) return `${plan.name}: closing the alert after the last repeat`;
  const delay = step.rule?.delayMinutes ?? 0;
  const after = delay === 0 ? 'at once' : `after ${formatMinutes(delay)}`;
  const repeat = step.cycle > 0 ? `, repeat ${step.cycle}` : '';
  return `${plan.name} rule ${step.ruleIndex + 1} (${after}${repeat})`;
}
