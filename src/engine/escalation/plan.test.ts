import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { EscalationPlan, EscalationRule } from '../../oncall/model.js';
import { formatDuration } from '../../work/durations.js';
import { describeStep, dueAt, nextStepWhenAcknowledged, stepAt, stepCount } from './plan.js';

const rule = (
  delayMinutes: number,
  condition: EscalationRule['condition'] = 'if-not-acked',
): EscalationRule => ({
  condition,
  notifyType: 'default',
  delayMinutes,
  recipient: { type: 'user', id: 'u' },
});

const base = new Date('2026-11-27T10:00:00Z');
const due = (plan: EscalationPlan, k: number) => {
  const step = stepAt(plan, k);
  return step ? dueAt(base, step).toISOString() : undefined;
};

describe('escalation plan arithmetic', () => {
  it('delays count from the start of the escalation, not from the previous rule', () => {
    const plan: EscalationPlan = { name: 'P', rules: [rule(0), rule(5), rule(15)], repeat: null };
    assert.equal(stepCount(plan), 3);
    assert.equal(due(plan, 0), '2026-11-27T10:00:00.000Z');
    assert.equal(due(plan, 1), '2026-11-27T10:05:00.000Z');
    assert.equal(due(plan, 2), '2026-11-27T10:15:00.000Z');
    assert.equal(stepAt(plan, 3), undefined);
  });

  it('a repeat starts waitInterval after the last rule, and the closing step comes when the next would', () => {
    const plan: EscalationPlan = {
      name: 'P',
      rules: [rule(0), rule(10)],
      repeat: { waitIntervalMinutes: 20, count: 2, closeAlertAfterAll: true },
    };
    // cycle length 10 + 20 = 30 min; 2 rules x 3 cycles + 1 closing step
    assert.equal(stepCount(plan), 7);
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6].map((k) => due(plan, k)),
      [
        '2026-11-27T10:00:00.000Z',
        '2026-11-27T10:10:00.000Z',
        '2026-11-27T10:30:00.000Z',
        '2026-11-27T10:40:00.000Z',
        '2026-11-27T11:00:00.000Z',
        '2026-11-27T11:10:00.000Z',
        '2026-11-27T11:30:00.000Z',
      ],
    );
    assert.equal(stepAt(plan, 6)?.closesAlert, true);
    assert.equal(stepAt(plan, 5)?.closesAlert, false);
    assert.equal(stepAt(plan, 3)?.cycle, 1);
    assert.equal(stepAt(plan, 3)?.ruleIndex, 1);
  });

  it('repeats of a policy whose rules all fire at once are at least a minute apart', () => {
    const plan: EscalationPlan = {
      name: 'P',
      rules: [rule(0)],
      repeat: { waitIntervalMinutes: 0, count: 2, closeAlertAfterAll: false },
    };
    assert.deepEqual(
      [0, 1, 2].map((k) => due(plan, k)),
      ['2026-11-27T10:00:00.000Z', '2026-11-27T10:01:00.000Z', '2026-11-27T10:02:00.000Z'],
    );
  });

  it('an acknowledged alert skips to the next if-not-closed rule, never to the closing step', () => {
    const plan: EscalationPlan = {
      name: 'P',
      rules: [rule(0), rule(5), rule(30, 'if-not-closed')],
      repeat: { waitIntervalMinutes: 0, count: 1, closeAlertAfterAll: true },
    };
    assert.equal(nextStepWhenAcknowledged(plan, 0)?.index, 2);
    assert.equal(nextStepWhenAcknowledged(plan, 3)?.index, 5);
    assert.equal(nextStepWhenAcknowledged(plan, 6), undefined);
    const none: EscalationPlan = { name: 'P', rules: [rule(0), rule(5)], repeat: null };
    assert.equal(nextStepWhenAcknowledged(none, 0), undefined);
  });

  it('names steps and durations for the activity log', () => {
    const plan: EscalationPlan = {
      name: 'Security',
      rules: [rule(0), rule(90)],
      repeat: { waitIntervalMinutes: 1440, count: 1, closeAlertAfterAll: true },
    };
    assert.equal(describeStep(plan, stepAt(plan, 0)!), 'Security rule 1 (at once)');
    assert.equal(describeStep(plan, stepAt(plan, 3)!), 'Security rule 2 (after 90 min, repeat 1)');
    assert.equal(describeStep(plan, stepAt(plan, 4)!), 'Security: closing the alert after the last repeat');
    assert.equal(formatDuration(4_000), '4 s');
    assert.equal(formatDuration(192_000), '3 min 12 s');
    assert.equal(formatDuration(3 * 3_600_000 + 60_000), '3 h 1 min');
  });

  it('a plan without rules has no steps', () => {
    assert.equal(stepAt({ name: 'P', rules: [], repeat: null }, 0), undefined);
  });
});
