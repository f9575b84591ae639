import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AlertEvent } from '../../alerts/events.js';
import type { EscalationPlan, EscalationRule } from '../../oncall/model.js';
import { dueAt, stepAt } from './plan.js';
import {
  dueSteps,
  runState,
  transition,
  type AlertFields,
  type DueStepsOutcome,
  type RunFields,
  type RunTransition,
  type RunUpdate,
} from './transition.js';

const MINUTE = 60_000;
const t0 = new Date('2026-11-27T10:00:00Z');
const at = (minutes: number) => new Date(t0.getTime() + minutes * MINUTE);

const rule = (
  delayMinutes: number,
  condition: EscalationRule['condition'] = 'if-not-acked',
): EscalationRule => ({
  condition,
  notifyType: 'default',
  delayMinutes,
  recipient: { type: 'user', id: 'u' },
});

/** Three people, 10 minutes apart; every rule stops at an acknowledgement. */
const plain: EscalationPlan = { name: 'Plain', rules: [rule(0), rule(10), rule(20)], repeat: null };
/** The third rule runs until the alert is closed, acknowledged or not. */
const managed: EscalationPlan = {
  name: 'Managed',
  rules: [rule(0), rule(10), rule(30, 'if-not-closed')],
  repeat: null,
};
/** Its if-not-closed rule comes first, so from step 1 on nothing runs on an acknowledged alert. */
const managerFirst: EscalationPlan = {
  name: 'Manager first',
  rules: [rule(0, 'if-not-closed'), rule(10)],
  repeat: null,
};
/** One rule, no repeat, then the alert is closed 5 minutes on. */
const closing: EscalationPlan = {
  name: 'Closing',
  rules: [rule(0)],
  repeat: { waitIntervalMinutes: 5, count: 0, closeAlertAfterAll: true },
};

/** Started at its base time unless said, as a run is. */
const run = (fields: Partial<RunFields> = {}): RunFields => ({
  id: 'run-1',
  escalation_id: 'policy-1',
  plan: plain,
  state: 'active',
  step: 1,
  base_at: t0,
  started_at: fields.base_at ?? t0,
  escalated_at: null,
  paused_at: null,
  pause_reason: null,
  finished_reason: null,
  skipped_from: null,
  replay_until: null,
  ...fields,
});

/** A run that had run every rule of its plan. */
const completedRun = (fields: Partial<RunFields> = {}): RunFields =>
  run({ state: 'finished', step: 3, finished_reason: 'completed', ...fields });

/** What the end of a snooze (or an unacknowledge) does to a run it starts over: from its first rule, at `now`. */
const restartedAt = (now: Date, planName: string, why = 'the snooze ended'): RunTransition => ({
  kind: 'restarted',
  update: {
    state: 'active',
    step: 0,
    baseAt: now,
    nextAt: now,
    pausedAt: null,
    pauseReason: null,
    finishedReason: null,
    skippedFrom: null,
    replayUntil: null,
  },
  logs: [`${planName} starts again from its first rule: ${why}`],
});
const UNACKNOWLEDGED = 'the alert was unacknowledged';

/** A run's fields once `update` is written, as the repository does. */
const updated = (before: RunFields, u: RunUpdate): RunFields => {
  const { next_at: _nextAt, ...fields } = runState(before, u);
  return { ...before, ...fields };
};
/** A run's fields once `change` is written. */
const written = (before: RunFields, change: RunTransition): RunFields =>
  change.kind === 'unchanged' ? before : updated(before, change.update);

const open: AlertFields = { status: 'open', snoozed: false, acknowledged: false };
const acked: AlertFields = { ...open, acknowledged: true };
const snoozed: AlertFields = { ...open, snoozed: true };
const closed: AlertFields = { ...open, status: 'closed' };

const base = {
  eventId: 'event-1',
  alertId: 'alert-1',
  orgId: 'org-1',
  at: t0.toISOString(),
  actor: { kind: 'user', name: 'Alice' },
} as const;
const event = {
  acknowledged: { ...base, type: 'acknowledged' },
  unacknowledged: { ...base, type: 'unacknowledged' },
  closed: { ...base, type: 'closed' },
  snoozed: { ...base, type: 'snoozed', until: at(60).toISOString() },
  snoozeEnded: { ...base, type: 'snooze_ended' },
  note: { ...base, type: 'note_added', note: 'on it' },
  escalated: { ...base, type: 'escalated' },
  escalatedOther: { ...base, type: 'escalated', escalationId: 'policy-2' },
} satisfies Record<string, AlertEvent>;

describe('transition: what an alert event does to a run', () => {
  const cases: {
    name: string;
    run: RunFields;
    alert: AlertFields | undefined;
    event: AlertEvent;
    now: Date;
    /** When the event's change was made; `now` unless said. */
    madeAt?: Date;
    expect: RunTransition;
  }[] = [
    {
      name: 'a closed alert finishes it',
      run: run(),
      alert: closed,
      event: event.closed,
      now: at(3),
      expect: {
        kind: 'finished',
        update: { state: 'finished', nextAt: null, finishedReason: 'alert closed' },
        logs: [],
      },
    },
    {
      name: 'a deleted alert finishes it, paused or not',
      run: run({ state: 'paused', paused_at: at(1), pause_reason: 'acknowledged' }),
      alert: undefined,
      event: event.unacknowledged,
      now: at(3),
      expect: {
        kind: 'finished',
        update: { state: 'finished', nextAt: null, finishedReason: 'alert closed' },
        logs: [],
      },
    },
    {
      name: 'a snoozed alert pauses it from now',
      run: run(),
      alert: snoozed,
      event: event.snoozed,
      now: at(5),
      expect: {
        kind: 'paused',
        update: { state: 'paused', nextAt: null, pausedAt: at(5), pauseReason: 'snoozed' },
        logs: ['Plain paused: the alert was snoozed'],
      },
    },
    {
      name: 'an acknowledged alert pauses it when no later rule runs on an acknowledged alert',
      run: run(),
      alert: acked,
      event: event.acknowledged,
      now: at(5),
      expect: {
        kind: 'paused',
        update: { state: 'paused', nextAt: null, pausedAt: at(5), pauseReason: 'acknowledged' },
        logs: ['Plain paused: the alert was acknowledged'],
      },
    },
    {
      name: 'an acknowledged alert leaves it running when a later rule runs until the alert is closed',
      run: run({ plan: managed }),
      alert: acked,
      event: event.acknowledged,
      now: at(5),
      expect: { kind: 'unchanged' },
    },
    {
      name: 'an acknowledged alert pauses it when the rule that runs until closed is behind it',
      run: run({ plan: managerFirst }),
      alert: acked,
      event: event.acknowledged,
      now: at(5),
      expect: {
        kind: 'paused',
        update: { state: 'paused', nextAt: null, pausedAt: at(5), pauseReason: 'acknowledged' },
        logs: ['Manager first paused: the alert was acknowledged'],
      },
    },
    {
      name: 'a pause for another reason keeps the time it started',
      run: run({ state: 'paused', paused_at: at(1), pause_reason: 'acknowledged' }),
      alert: { ...acked, snoozed: true },
      event: event.snoozed,
      now: at(5),
      expect: { kind: 'paused', update: { state: 'paused', pauseReason: 'snoozed' }, logs: [] },
    },
    {
      // Paused at 4 between the first rule and the second: the first runs again now, not the second at 16.
      name: 'an unacknowledge starts a paused run over from its first rule, now',
      run: run({ state: 'paused', paused_at: at(4), pause_reason: 'acknowledged' }),
      alert: open,
      event: event.unacknowledged,
      now: at(10),
      expect: restartedAt(at(10), 'Plain', UNACKNOWLEDGED),
    },
    {
      name: 'an unacknowledge starts a run passing rules over for the acknowledgement over from its first rule',
      run: run({ plan: managed, step: 2, skipped_from: 1 }),
      alert: open,
      event: event.unacknowledged,
      now: at(15),
      expect: restartedAt(at(15), 'Managed', UNACKNOWLEDGED),
    },
    {
      name: 'an unacknowledge starts a run that had run all its rules over from its first rule',
      run: completedRun(),
      alert: open,
      event: event.unacknowledged,
      now: at(90),
      expect: restartedAt(at(90), 'Plain', UNACKNOWLEDGED),
    },
    {
      name: 'an unacknowledge leaves a run the close of the alert finished over',
      run: run({ state: 'finished', step: 1, finished_reason: 'alert closed' }),
      alert: open,
      event: event.unacknowledged,
      now: at(90),
      expect: { kind: 'unchanged' },
    },
    {
      name: 'an unacknowledge leaves a run a notification policy delayed past it to start at its time',
      run: run({ step: 0, base_at: at(30) }),
      alert: open,
      event: event.unacknowledged,
      now: at(10),
      expect: { kind: 'unchanged' },
    },
    {
      // The end of a snooze unacknowledges the alert as well: its event comes after snooze_ended's.
      name: 'an unacknowledge leaves a run the end of the snooze started over since',
      run: run({ step: 1, base_at: at(30) }),
      alert: open,
      event: event.unacknowledged,
      now: at(31),
      madeAt: at(30),
      expect: { kind: 'unchanged' },
    },
    {
      name: 'an unacknowledge on an alert acknowledged again since leaves the run paused',
      run: run({ state: 'paused', paused_at: at(4), pause_reason: 'acknowledged' }),
      alert: acked,
      event: event.unacknowledged,
      now: at(10),
      expect: { kind: 'unchanged' },
    },
    {
      name: 'an earlier event leaves a run paused for an acknowledgement taken back since: the unacknowledge starts it over',
      run: run({ state: 'paused', paused_at: at(4), pause_reason: 'acknowledged' }),
      alert: open,
      event: event.acknowledged,
      now: at(10),
      expect: { kind: 'unchanged' },
    },
    {
      name: 'an unacknowledge during a snooze leaves it paused',
      run: run({ state: 'paused', paused_at: at(4), pause_reason: 'snoozed' }),
      alert: snoozed,
      event: event.unacknowledged,
      now: at(10),
      expect: { kind: 'unchanged' },
    },
    {
      name: 'the end of a snooze starts it over from its first rule',
      run: run({
        state: 'paused',
        paused_at: at(4),
        pause_reason: 'snoozed',
        skipped_from: 1,
        replay_until: 2,
      }),
      alert: open,
      event: event.snoozeEnded,
      now: at(30),
      expect: restartedAt(at(30), 'Plain'),
    },
    {
      // snooze_ended may be handled after it: the run would otherwise wait for it paused.
      name: 'a snooze pause on an acknowledged alert no longer snoozed is ended by another event',
      run: run({ plan: managed, state: 'paused', paused_at: at(4), pause_reason: 'snoozed' }),
      alert: acked,
      event: event.acknowledged,
      now: at(30),
      expect: restartedAt(at(30), 'Managed'),
    },
    {
      name: 'a snooze pause on an acknowledged alert is a pause for it when no rule runs on an acknowledged alert',
      run: run({ state: 'paused', paused_at: at(4), pause_reason: 'snoozed' }),
      alert: acked,
      event: event.acknowledged,
      now: at(30),
      expect: { kind: 'paused', update: { state: 'paused', pauseReason: 'acknowledged' }, logs: [] },
    },
    {
      name: 'the end of a snooze on an acknowledged alert starts it over when its first rules run on one',
      run: run({ plan: managerFirst, state: 'paused', paused_at: at(4), pause_reason: 'snoozed' }),
      alert: acked,
      event: event.snoozeEnded,
      now: at(30),
      expect: restartedAt(at(30), 'Manager first'),
    },
    {
      name: 'a snooze pause on an acknowledged alert ends at snooze_ended',
      run: run({ plan: managed, state: 'paused', paused_at: at(4), pause_reason: 'snoozed' }),
      alert: acked,
      event: event.snoozeEnded,
      now: at(30),
      expect: restartedAt(at(30), 'Managed'),
    },
    {
      name: 'the end of a snooze starts a run that had run all its rules over from its first rule',
      run: completedRun(),
      alert: open,
      event: event.snoozeEnded,
      now: at(90),
      expect: restartedAt(at(90), 'Plain'),
    },
    {
      name: 'a snooze leaves a run that had run all its rules finished: nothing of it is left to pause',
      run: completedRun(),
      alert: snoozed,
      event: event.snoozed,
      now: at(30),
      expect: { kind: 'unchanged' },
    },
    {
      name: 'the end of an earlier snooze leaves a finished run alone while the alert is snoozed again',
      run: completedRun(),
      alert: snoozed,
      event: event.snoozeEnded,
      now: at(90),
      expect: { kind: 'unchanged' },
    },
    {
      name: 'the end of a snooze leaves a run the close of the alert finished over',
      run: run({ state: 'finished', step: 1, finished_reason: 'alert closed' }),
      alert: open,
      event: event.snoozeEnded,
      now: at(90),
      expect: { kind: 'unchanged' },
    },
    {
      name: 'the end of a snooze leaves a finished run alone on an acknowledged alert it would not page for',
      run: completedRun(),
      alert: acked,
      event: event.snoozeEnded,
      now: at(90),
      expect: { kind: 'unchanged' },
    },
    {
      name: 'the end of a snooze restarts a finished run on an acknowledged alert with a rule until closed',
      run: completedRun({ plan: managed }),
      alert: acked,
      event: event.snoozeEnded,
      now: at(90),
      expect: restartedAt(at(90), 'Managed'),
    },
    ...[
      { event: event.acknowledged, alert: acked },
      { event: event.escalated, alert: open },
      { event: event.note, alert: open },
    ].map((c) => ({
      name: `other events leave a finished run finished (${c.event.type})`,
      run: completedRun(),
      ...c,
      now: at(90),
      expect: { kind: 'unchanged' } as const,
    })),
    {
      name: 'escalate makes the next rule due now, from its base time back by the rule’s delay',
      run: run(),
      alert: open,
      event: event.escalated,
      now: at(3),
      expect: {
        kind: 'escalated',
        update: {
          state: 'active',
          baseAt: at(-7),
          nextAt: at(3),
          pausedAt: null,
          pauseReason: null,
          escalatedAt: at(3),
        },
        logs: [],
      },
    },
    {
      name: 'escalate wakes a paused run',
      run: run({ state: 'paused', paused_at: at(1), pause_reason: 'acknowledged' }),
      alert: acked,
      event: event.escalated,
      now: at(3),
      expect: {
        kind: 'escalated',
        update: {
          state: 'active',
          baseAt: at(-7),
          nextAt: at(3),
          pausedAt: null,
          pauseReason: null,
          escalatedAt: at(3),
        },
        logs: [],
      },
    },
    {
      name: 'escalate naming another policy leaves it alone',
      run: run(),
      alert: open,
      event: event.escalatedOther,
      now: at(3),
      expect: { kind: 'unchanged' },
    },
    {
      name: 'escalate leaves a run with no rule left alone',
      run: run({ step: 3, skipped_from: 1 }),
      alert: open,
      event: event.escalated,
      now: at(3),
      expect: { kind: 'unchanged' },
    },
    {
      name: 'escalate on a closed alert finishes it',
      run: run(),
      alert: closed,
      event: event.escalated,
      now: at(3),
      expect: {
        kind: 'finished',
        update: { state: 'finished', nextAt: null, finishedReason: 'alert closed' },
        logs: [],
      },
    },
    {
      name: 'a note changes nothing',
      run: run(),
      alert: open,
      event: event.note,
      now: at(3),
      expect: { kind: 'unchanged' },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      assert.deepEqual(transition(c.run, c.alert, c.event, c.now, c.madeAt ?? c.now), c.expect);
    });
  }

  it('escalate keeps the later rules spaced from the one it made due', () => {
    const outcome = transition(run(), open, event.escalated, at(3), at(3));
    assert.equal(outcome.kind, 'escalated');
    const baseAt = outcome.kind === 'escalated' ? outcome.update.baseAt : undefined;
    assert.ok(baseAt);
    const third = stepAt(plain, 2);
    assert.ok(third);
    assert.deepEqual(dueAt(baseAt, third), at(13));
  });
});

describe('transition: a run a notification policy delayed, paused and resumed before its start', () => {
  /** Its first rule 5 minutes after the start, which the policy delayed to at(30). */
  const later: EscalationPlan = { name: 'Later', rules: [rule(5), rule(15)], repeat: null };
  const delayed = run({ plan: later, step: 0, base_at: at(30) });
  /** Started over from its first rule, counted from `baseAt` (the delayed start unless said). */
  const resumed = (why: string, baseAt = at(30)): RunTransition => ({
    kind: 'restarted',
    update: {
      state: 'active',
      step: 0,
      baseAt,
      nextAt: new Date(baseAt.getTime() + 5 * MINUTE),
      pausedAt: null,
      pauseReason: null,
      finishedReason: null,
      skippedFrom: null,
      replayUntil: null,
    },
    logs: [`Later starts again from its first rule: ${why}`],
  });

  it('acknowledged then unacknowledged during the delay: active again, due at its delayed start', () => {
    const paused = written(delayed, transition(delayed, acked, event.acknowledged, at(5), at(5)));
    assert.equal(paused.state, 'paused');
    const change = transition(paused, open, event.unacknowledged, at(10), at(10));
    assert.deepEqual(change, resumed(UNACKNOWLEDGED));
  });

  it('unacknowledged just before the delay ends, told just after: starts over now', () => {
    const paused = written(delayed, transition(delayed, acked, event.acknowledged, at(5), at(5)));
    const change = transition(paused, open, event.unacknowledged, at(31), at(29));
    assert.deepEqual(change, resumed(UNACKNOWLEDGED, at(31)));
  });

  it('snoozed and the snooze ended during the delay: due at its delayed start, not at the snooze’s end', () => {
    const paused = written(delayed, transition(delayed, snoozed, event.snoozed, at(5), at(5)));
    assert.equal(paused.state, 'paused');
    assert.deepEqual(
      transition(paused, open, event.snoozeEnded, at(10), at(10)),
      resumed('the snooze ended'),
    );
    // The unacknowledge that follows the snooze's end leaves it as the end left it.
    const active = written(paused, resumed('the snooze ended'));
    assert.deepEqual(transition(active, open, event.unacknowledged, at(10), at(10)), { kind: 'unchanged' });
  });

  it('snoozed during the delay and the snooze ended after it: starts over at the snooze’s end', () => {
    const paused = written(delayed, transition(delayed, snoozed, event.snoozed, at(5), at(5)));
    const change = transition(paused, open, event.snoozeEnded, at(40), at(40));
    assert.deepEqual(change, resumed('the snooze ended', at(40)));
  });

  it('escalated during the delay: started by then, so a later unacknowledge starts it over', () => {
    const escalated = written(delayed, transition(delayed, open, event.escalated, at(10), at(10)));
    assert.deepEqual(escalated.started_at, at(10));
    const ran = updated(escalated, dueSteps(escalated, open, at(10)).update);
    const reAcked = written(ran, transition(ran, acked, event.acknowledged, at(11), at(11)));
    assert.equal(transition(reAcked, open, event.unacknowledged, at(12), at(12)).kind, 'restarted');
  });
});

describe('transition: the end of a snooze handled after a later event', () => {
  /** One person at once, then a manager at 30 minutes until the alert is closed, acknowledged or not. */
  const backstop: EscalationPlan = {
    name: 'Backstop',
    rules: [rule(0), rule(30, 'if-not-closed')],
    repeat: null,
  };
  /** Paused by a snooze that ended at 20; the alert was acknowledged at 21. */
  const paused = run({ plan: backstop, step: 1, state: 'paused', paused_at: at(4), pause_reason: 'snoozed' });
  const ended = at(20);

  it('snooze_ended first: starts over, and the acknowledgement after it leaves it so', () => {
    const change = transition(paused, acked, event.snoozeEnded, at(22), ended);
    assert.deepEqual(change, restartedAt(at(22), 'Backstop'));
    const active = written(paused, change);
    assert.deepEqual(transition(active, acked, event.acknowledged, at(23), at(21)), { kind: 'unchanged' });
  });

  it('acknowledged first: starts over all the same, and the late snooze_ended leaves it so', () => {
    const change = transition(paused, acked, event.acknowledged, at(22), at(21));
    assert.deepEqual(change, restartedAt(at(22), 'Backstop'));
    const active = written(paused, change);
    assert.deepEqual(transition(active, acked, event.snoozeEnded, at(23), ended), { kind: 'unchanged' });
    // Its rule that runs until the alert is closed is still due, 30 minutes on.
    const outcome = dueSteps(active, acked, at(52));
    assert.deepEqual(
      outcome.steps.map((s) => s.step.index),
      [1],
    );
  });

  it('acknowledged first, with no rule that runs on an acknowledged alert: paused for it, and an unacknowledge starts it over', () => {
    const plainPaused = { ...paused, plan: plain };
    const change = transition(plainPaused, acked, event.acknowledged, at(22), at(21));
    assert.deepEqual(change, {
      kind: 'paused',
      update: { state: 'paused', pauseReason: 'acknowledged' },
      logs: [],
    });
    const ackPaused = written(plainPaused, change);
    assert.deepEqual(transition(ackPaused, acked, event.snoozeEnded, at(23), ended), { kind: 'unchanged' });
    assert.deepEqual(
      transition(ackPaused, open, event.unacknowledged, at(40), at(40)),
      restartedAt(at(40), 'Plain', UNACKNOWLEDGED),
    );
  });

  it('a run started over before the late snooze_ended, and done since, is not started over twice', () => {
    const managerOnly: EscalationPlan = { name: 'Manager', rules: [rule(0, 'if-not-closed')], repeat: null };
    const snoozePaused = { ...paused, plan: managerOnly, step: 0 };
    const restarted = written(
      snoozePaused,
      transition(snoozePaused, acked, event.acknowledged, at(22), at(21)),
    );
    assert.equal(restarted.state, 'active');
    const outcome = dueSteps(restarted, acked, at(22));
    assert.deepEqual(
      outcome.steps.map((s) => s.step.index),
      [0],
    );
    const done = updated(restarted, outcome.update);
    assert.equal(done.finished_reason, 'completed');
    assert.deepEqual(transition(done, acked, event.snoozeEnded, at(23), ended), { kind: 'unchanged' });
    // The end of a later snooze starts it over as ever.
    assert.deepEqual(
      transition(done, acked, event.snoozeEnded, at(60), at(59)),
      restartedAt(at(60), 'Manager'),
    );
  });

  it('a run the unacknowledge at the snooze’s end started over, and done since, is not started over twice', () => {
    const onePerson: EscalationPlan = { name: 'One', rules: [rule(0)], repeat: null };
    const snoozePaused = { ...paused, plan: onePerson, step: 0 };
    const restarted = written(
      snoozePaused,
      transition(snoozePaused, open, event.unacknowledged, at(22), ended),
    );
    assert.equal(restarted.state, 'active');
    const done = updated(restarted, dueSteps(restarted, open, at(22)).update);
    assert.equal(done.finished_reason, 'completed');
    assert.deepEqual(transition(done, open, event.snoozeEnded, at(23), ended), { kind: 'unchanged' });
  });
});

describe('transition: an escalate handled before the late end of the snooze', () => {
  /** One person at once, another at 30 minutes. */
  const twoPeople: EscalationPlan = { name: 'Two', rules: [rule(0), rule(30)], repeat: null };
  /** Paused by a snooze at its second rule; the snooze ended at 20. */
  const paused = run({
    plan: twoPeople,
    step: 1,
    state: 'paused',
    paused_at: at(4),
    pause_reason: 'snoozed',
  });
  const ended = at(20);
  /** The rules the runner pages at `now`, and the run as it leaves it. */
  const runDue = (r: RunFields, now: Date, alert: AlertFields = open) => {
    const outcome = dueSteps(r, alert, now);
    return {
      paged: outcome.steps.map((s) => s.step.index),
      after: updated(r, outcome.update),
      nextAt: outcome.update.nextAt,
    };
  };

  it('in order: the end starts it over and pages the first rule, the escalate pages the second', () => {
    const restarted = written(paused, transition(paused, open, event.snoozeEnded, ended, ended));
    const first = runDue(restarted, ended);
    assert.deepEqual(first.paged, [0]);
    const escalated = written(first.after, transition(first.after, open, event.escalated, at(21), at(21)));
    const second = runDue(escalated, at(21));
    assert.deepEqual(second.paged, [1]);
    assert.equal(second.after.finished_reason, 'completed');
  });

  it('escalate first: moves on from the rule the snooze paused it at, and the late end pages nobody again', () => {
    const change = transition(paused, open, event.escalated, at(21), at(21));
    assert.deepEqual(change, {
      kind: 'escalated',
      // The second rule due now: the first ran before the snooze.
      update: {
        state: 'active',
        baseAt: at(-9),
        nextAt: at(21),
        pausedAt: null,
        pauseReason: null,
        escalatedAt: at(21),
        // Resumed at the escalate, as the end of a snooze starts a run over.
        startedAt: at(21),
      },
      logs: [],
    });
    const now = runDue(written(paused, change), at(21));
    assert.deepEqual(now.paged, [1]);
    assert.equal(now.after.finished_reason, 'completed');
    assert.deepEqual(transition(now.after, open, event.snoozeEnded, at(22), ended), { kind: 'unchanged' });
  });

  it('the escalate that ended the snooze, then its snooze_ended: the next rule pages, nothing starts over', () => {
    const threePeople: EscalationPlan = { name: 'Three', rules: [rule(0), rule(30), rule(40)], repeat: null };
    const snoozePaused = { ...paused, plan: threePeople };
    const escalated = written(snoozePaused, transition(snoozePaused, open, event.escalated, at(21), at(21)));
    const now = runDue(escalated, at(21));
    assert.deepEqual(now.paged, [1]);
    // The third rule keeps its spacing from the second.
    assert.deepEqual(now.nextAt, at(31));
    assert.deepEqual(transition(now.after, open, event.snoozeEnded, at(21), at(21)), { kind: 'unchanged' });
  });

  it('escalate first on an acknowledged alert: as on one never snoozed, the rules that stop at it are passed over', () => {
    const backstop: EscalationPlan = {
      name: 'Backstop',
      rules: [rule(0), rule(10), rule(30, 'if-not-closed')],
      repeat: null,
    };
    const ackPaused = { ...paused, plan: backstop };
    const change = transition(ackPaused, acked, event.escalated, at(21), at(21));
    const now = runDue(written(ackPaused, change), at(21), acked);
    assert.deepEqual(now.paged, []);
    // The rule until closed keeps its spacing from the second one, which the escalate made due now.
    assert.deepEqual(now.nextAt, at(41));
  });

  it('escalate first on a run with no rule left: it starts over, as at the end of the snooze', () => {
    const noneLeft = { ...paused, step: 2, skipped_from: 1 };
    assert.deepEqual(transition(noneLeft, open, event.escalated, at(21), at(21)), restartedAt(at(21), 'Two'));
  });

  it('an escalate naming another policy starts it over all the same', () => {
    assert.deepEqual(
      transition(paused, open, event.escalatedOther, at(21), at(21)),
      restartedAt(at(21), 'Two'),
    );
  });

  it('a run started over at the end, escalated since and done, is not started over again by the late end', () => {
    // The unacknowledge that came with the end started it over; the escalate set its base time back.
    const restarted = written(paused, transition(paused, open, event.unacknowledged, at(21), ended));
    assert.deepEqual(runDue(restarted, at(21)).paged, [0]);
    const first = runDue(restarted, at(21)).after;
    const escalated = written(first, transition(first, open, event.escalated, at(22), at(22)));
    assert.ok(escalated.base_at.getTime() < ended.getTime());
    const done = runDue(escalated, at(22));
    assert.deepEqual(done.paged, [1]);
    assert.equal(done.after.finished_reason, 'completed');
    assert.deepEqual(transition(done.after, open, event.snoozeEnded, at(23), ended), { kind: 'unchanged' });
  });
});

describe('transition: the escalate that ended the snooze of an acknowledged alert, in any order', () => {
  const twoPeople: EscalationPlan = { name: 'Two', rules: [rule(0), rule(30)], repeat: null };
  /** Acknowledged and then snoozed ("remind me later") at its second rule. */
  const paused = run({
    plan: twoPeople,
    step: 1,
    state: 'paused',
    paused_at: at(4),
    pause_reason: 'snoozed',
  });
  /** Another policy's run the snooze paused, which the escalate does not name. */
  const other = { ...paused, id: 'run-2', escalation_id: 'policy-2' };
  const made = at(20);
  /** The escalate's events: recorded in this order, a little apart, the alert unacknowledged by its end. */
  const escalated = { ...event.escalated, escalationId: 'policy-1' };
  const byEscalate = { escalationId: 'policy-1' };
  const ended = { ...event.snoozeEnded, byEscalate };
  const unacked = { ...event.unacknowledged, actor: { kind: 'system', name: 'Vigil' }, byEscalate } as const;
  const madeAt = new Map<AlertEvent, Date>([
    [escalated, made],
    [ended, new Date(made.getTime() + 2)],
    [unacked, new Date(made.getTime() + 4)],
  ]);
  /** Tells a run the events in `order`, the runner running it after each; the rules it paged. */
  const handle = (r: RunFields, order: AlertEvent[]) => {
    const paged: number[] = [];
    for (const [i, e] of order.entries()) {
      const now = new Date(at(21).getTime() + i * 1000);
      r = written(r, transition(r, open, e, now, madeAt.get(e) ?? now));
      // The runner runs only active runs.
      if (r.state !== 'active') continue;
      const outcome = dueSteps(r, open, now);
      paged.push(...outcome.steps.map((s) => s.step.index));
      r = updated(r, outcome.update);
    }
    return paged;
  };

  const named = { escalated, snooze_ended: ended, unacknowledged: unacked };
  const orders: (keyof typeof named)[][] = [
    ['escalated', 'snooze_ended', 'unacknowledged'],
    ['escalated', 'unacknowledged', 'snooze_ended'],
    ['snooze_ended', 'escalated', 'unacknowledged'],
    ['snooze_ended', 'unacknowledged', 'escalated'],
    ['unacknowledged', 'escalated', 'snooze_ended'],
    ['unacknowledged', 'snooze_ended', 'escalated'],
  ];
  for (const order of orders)
    it(`${order.join(' then ')}: the second rule pages once, the first not again; another policy's run starts over`, () => {
      const events = order.map((type) => named[type]);
      assert.deepEqual(handle(paused, events), [1]);
      assert.deepEqual(handle(other, events), [0]);
    });

  it('the snooze_ended of an escalate naming no policy leaves every snooze-paused run to it', () => {
    const endedByAny = { ...event.snoozeEnded, byEscalate: {} };
    assert.deepEqual(transition(other, open, endedByAny, at(21), made), { kind: 'unchanged' });
    assert.deepEqual(transition(other, open, ended, at(21), made), restartedAt(at(21), 'Two'));
  });

  it('so does its unacknowledge, and it starts over one paused for the acknowledgement', () => {
    const unackedByAny = { ...unacked, byEscalate: {} };
    assert.deepEqual(transition(other, open, unackedByAny, at(21), made), { kind: 'unchanged' });
    assert.deepEqual(
      transition(other, open, unacked, at(21), made),
      restartedAt(at(21), 'Two', UNACKNOWLEDGED),
    );
    const ackPaused = { ...paused, pause_reason: 'acknowledged' };
    assert.deepEqual(
      transition(ackPaused, open, unacked, at(21), made),
      restartedAt(at(21), 'Two', UNACKNOWLEDGED),
    );
  });

  it('handled late, the run it moved on is still started over by a later unacknowledge of a person', () => {
    const threePeople: EscalationPlan = { name: 'Three', rules: [rule(0), rule(30), rule(40)], repeat: null };
    const r = { ...paused, plan: threePeople };
    // Handled at 22; acknowledged again and unacknowledged at 21 meanwhile.
    const escalatedRun = written(r, transition(r, open, escalated, at(22), made));
    const outcome = dueSteps(escalatedRun, open, at(22));
    assert.deepEqual(
      outcome.steps.map((s) => s.step.index),
      [1],
    );
    const ran = updated(escalatedRun, outcome.update);
    assert.deepEqual(transition(ran, open, unacked, at(22), new Date(made.getTime() + 4)), {
      kind: 'unchanged',
    });
    assert.deepEqual(
      transition(ran, open, event.unacknowledged, at(22), at(21)),
      restartedAt(at(22), 'Three', UNACKNOWLEDGED),
    );
  });
});

describe('transition: an unacknowledge handled after a later escalate', () => {
  /** Acknowledged at 5 on its second rule: paused for it, with no rule that runs on an acknowledged alert. */
  const ackPaused = run({ step: 1, state: 'paused', paused_at: at(5), pause_reason: 'acknowledged' });
  const unacked = at(8);
  const escalatedAt = at(9);
  /** The rules the runner pages at `now`, and the run as it leaves it. */
  const runDue = (r: RunFields, now: Date) => {
    const outcome = dueSteps(r, open, now);
    return { paged: outcome.steps.map((s) => s.step.index), after: updated(r, outcome.update) };
  };

  it('in order: the unacknowledge starts it over, the escalate pages the second rule', () => {
    const restarted = written(ackPaused, transition(ackPaused, open, event.unacknowledged, unacked, unacked));
    const first = runDue(restarted, unacked);
    assert.deepEqual(first.paged, [0]);
    const escalated = written(
      first.after,
      transition(first.after, open, event.escalated, escalatedAt, escalatedAt),
    );
    assert.deepEqual(runDue(escalated, escalatedAt).paged, [1]);
  });

  it('escalate first: the late unacknowledge leaves the run as the escalate left it', () => {
    const change = transition(ackPaused, open, event.escalated, at(10), escalatedAt);
    assert.equal(change.kind, 'escalated');
    const escalated = written(ackPaused, change);
    // The escalate set its base time back by the second rule's delay, to before the unacknowledge.
    assert.ok(escalated.base_at.getTime() < unacked.getTime());
    const second = runDue(escalated, at(10));
    assert.deepEqual(second.paged, [1]);
    for (const r of [escalated, second.after])
      assert.deepEqual(transition(r, open, event.unacknowledged, at(11), unacked), { kind: 'unchanged' });
  });

  it('an escalate made before the unacknowledge and handled first: the unacknowledge still starts it over', () => {
    const escalated = written(ackPaused, transition(ackPaused, open, event.escalated, at(10), at(7)));
    assert.deepEqual(
      transition(escalated, open, event.unacknowledged, at(11), unacked),
      restartedAt(at(11), 'Plain', UNACKNOWLEDGED),
    );
  });

  it('a run the end of a snooze started over, escalated since: the unacknowledge of that end leaves it', () => {
    const snoozePaused = run({ step: 1, state: 'paused', paused_at: at(4), pause_reason: 'snoozed' });
    const ended = at(20);
    const restarted = written(snoozePaused, transition(snoozePaused, open, event.snoozeEnded, ended, ended));
    assert.deepEqual(restarted.started_at, ended);
    const first = runDue(restarted, ended).after;
    const escalated = written(first, transition(first, open, event.escalated, at(21), at(21)));
    assert.deepEqual(escalated.started_at, ended, 'an escalate is no start');
    assert.deepEqual(transition(escalated, open, event.unacknowledged, at(22), ended), {
      kind: 'unchanged',
    });
  });

  it('an escalate that moved a snooze-paused run on: the unacknowledge of that end leaves it', () => {
    const snoozePaused = run({ step: 1, state: 'paused', paused_at: at(4), pause_reason: 'snoozed' });
    const ended = at(20);
    const escalated = written(snoozePaused, transition(snoozePaused, open, event.escalated, at(21), at(21)));
    assert.deepEqual(runDue(escalated, at(21)).paged, [1]);
    assert.deepEqual(transition(escalated, open, event.unacknowledged, at(22), ended), {
      kind: 'unchanged',
    });
  });

  it('a policy’s auto-restart (back to the first rule from a new base) is a start, a rule run is not', () => {
    const escalated = written(ackPaused, transition(ackPaused, open, event.escalated, at(10), escalatedAt));
    const autoRestarted = updated(escalated, { state: 'active', step: 0, baseAt: at(40), nextAt: at(40) });
    assert.deepEqual(autoRestarted.started_at, at(40));
    assert.deepEqual(autoRestarted.escalated_at, escalatedAt);
    const ran = updated(autoRestarted, dueSteps(autoRestarted, open, at(40)).update);
    assert.deepEqual(ran.started_at, at(40));
  });

  it('a run started before started_at was kept counts from its base time', () => {
    const legacy = {
      ...run({ state: 'paused', paused_at: at(4), pause_reason: 'snoozed' }),
      started_at: null,
    };
    const active = { ...legacy, state: 'active' as const, pause_reason: null, base_at: at(30) };
    assert.deepEqual(transition(active, open, event.unacknowledged, at(31), at(30)), { kind: 'unchanged' });
    assert.deepEqual(
      transition(active, open, event.unacknowledged, at(31), at(31)),
      restartedAt(at(31), 'Plain', UNACKNOWLEDGED),
    );
  });
});

describe('dueSteps: what running a run’s due steps does to it', () => {
  const cases: {
    name: string;
    run: RunFields;
    alert: AlertFields | undefined;
    now: Date;
    /** Indexes of the steps run, with when each fell due (minutes after t0). */
    steps: [number, number][];
    update: DueStepsOutcome['update'];
    logs?: string[];
  }[] = [
    {
      name: 'runs every step due, late ones too, then waits for the next',
      run: run({ step: 0 }),
      alert: open,
      now: at(12),
      steps: [
        [0, 0],
        [1, 10],
      ],
      update: {
        state: 'active',
        step: 2,
        skippedFrom: null,
        replayUntil: null,
        nextAt: at(20),
        pausedAt: null,
        pauseReason: null,
      },
    },
    {
      name: 'finishes after the last rule',
      run: run({ step: 2 }),
      alert: open,
      now: at(25),
      steps: [[2, 20]],
      update: {
        state: 'finished',
        step: 3,
        skippedFrom: null,
        replayUntil: null,
        nextAt: null,
        finishedReason: 'completed',
      },
      logs: ['Plain: every rule has run; the escalation is over'],
    },
    {
      name: 'closes the alert after the last repeat',
      run: run({ plan: closing, step: 1 }),
      alert: open,
      now: at(6),
      steps: [[1, 5]],
      update: {
        state: 'finished',
        step: 2,
        skippedFrom: null,
        replayUntil: null,
        nextAt: null,
        finishedReason: 'closed after the last repeat',
      },
    },
    {
      name: 'repeats the policy from its first rule',
      run: run({
        plan: { ...plain, repeat: { waitIntervalMinutes: 10, count: 1, closeAlertAfterAll: false } },
        step: 2,
      }),
      alert: open,
      now: at(30),
      steps: [
        [2, 20],
        [3, 30],
      ],
      update: {
        state: 'active',
        step: 4,
        skippedFrom: null,
        replayUntil: null,
        nextAt: at(40),
        pausedAt: null,
        pauseReason: null,
      },
    },
    {
      name: 'finishes without a step on a closed alert',
      run: run(),
      alert: closed,
      now: at(12),
      steps: [],
      update: {
        state: 'finished',
        step: 1,
        skippedFrom: null,
        replayUntil: null,
        nextAt: null,
        finishedReason: 'alert closed',
      },
    },
    {
      name: 'finishes without a step on a deleted alert',
      run: run(),
      alert: undefined,
      now: at(12),
      steps: [],
      update: {
        state: 'finished',
        step: 1,
        skippedFrom: null,
        replayUntil: null,
        nextAt: null,
        finishedReason: 'alert closed',
      },
    },
    {
      name: 'pauses without a step on a snoozed alert',
      run: run(),
      alert: snoozed,
      now: at(12),
      steps: [],
      update: {
        state: 'paused',
        step: 1,
        skippedFrom: null,
        replayUntil: null,
        nextAt: null,
        pausedAt: at(12),
        pauseReason: 'snoozed',
      },
      logs: ['Plain paused: the alert was snoozed'],
    },
    {
      name: 'on an acknowledged alert, passes over to the rule that runs until closed, and remembers where from',
      run: run({ plan: managed }),
      alert: acked,
      now: at(12),
      steps: [],
      update: {
        state: 'active',
        step: 2,
        skippedFrom: 1,
        replayUntil: null,
        nextAt: at(30),
        pausedAt: null,
        pauseReason: null,
      },
    },
    {
      name: 'on an acknowledged alert, runs the rule that runs until closed when it is due',
      run: run({ plan: managed, step: 2, skipped_from: 1 }),
      alert: acked,
      now: at(31),
      steps: [[2, 30]],
      update: {
        state: 'paused',
        step: 3,
        skippedFrom: 1,
        replayUntil: null,
        nextAt: null,
        pausedAt: at(31),
        pauseReason: 'acknowledged',
      },
      logs: ['Managed paused: the alert was acknowledged'],
    },
    {
      name: 'on an acknowledged alert with no such rule ahead, pauses and remembers where from',
      run: run(),
      alert: acked,
      now: at(12),
      steps: [],
      update: {
        state: 'paused',
        step: 1,
        skippedFrom: 1,
        replayUntil: null,
        nextAt: null,
        pausedAt: at(12),
        pauseReason: 'acknowledged',
      },
      logs: ['Plain paused: the alert was acknowledged'],
    },
    {
      name: 'going back over passed-over rules does not run a rule that ran while acknowledged',
      run: run({ plan: managed, step: 1, base_at: at(-30), replay_until: 3 }),
      alert: open,
      now: at(0),
      steps: [[1, -20]],
      update: {
        state: 'finished',
        step: 3,
        skippedFrom: null,
        replayUntil: 3,
        nextAt: null,
        finishedReason: 'completed',
      },
      logs: ['Managed: every rule has run; the escalation is over'],
    },
    {
      name: 'does nothing before the step is due',
      run: run(),
      alert: open,
      now: at(9),
      steps: [],
      update: {
        state: 'active',
        step: 1,
        skippedFrom: null,
        replayUntil: null,
        nextAt: at(10),
        pausedAt: null,
        pauseReason: null,
      },
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const outcome = dueSteps(c.run, c.alert, c.now);
      assert.deepEqual(
        outcome.steps.map((s) => [s.step.index, (s.dueAt.getTime() - t0.getTime()) / MINUTE]),
        c.steps,
      );
      assert.deepEqual(outcome.update, c.update);
      assert.deepEqual(outcome.logs, c.logs ?? []);
    });
  }

  it('marks the closing step as the one that closes the alert', () => {
    const outcome = dueSteps(run({ plan: closing, step: 1 }), open, at(6));
    assert.equal(outcome.steps[0]?.step.closesAlert, true);
  });
});
