import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Json, TestServer } from '../../testing/harness.js';
import { fixtures, OPSGENIE_KEY, startFakeOpsgenie, type FakeOpsgenie } from './fake-opsgenie.js';
import { inFreshVigil, outcomesOf, runImport } from './test-cli.js';

/**
 * `vigil import opsgenie` run again after a schedule changed in Opsgenie: the schedule is updated without
 * its rotations being replaced, so the overrides bound to them (Opsgenie's, and those made in Vigil during
 * a side-by-side run) stay, and Opsgenie's overrides are found unchanged.
 */

let opsgenie: FakeOpsgenie;

before(async () => {
  opsgenie = await startFakeOpsgenie();
});

after(async () => {
  await opsgenie?.close();
});

async function importInto(vigil: TestServer, ...extra: string[]) {
  const run = await runImport(['--api-url', opsgenie.url, '--api-key', OPSGENIE_KEY, ...extra], {
    VIGIL_URL: vigil.url,
    VIGIL_API_KEY: vigil.key,
  });
  assert.equal(run.error, undefined, run.error?.message);
  assert.equal(run.code, 0, [...run.progress, ...run.out].join('\n'));
  return outcomesOf(run.progress);
}

/** Opsgenie's schedules as the fixture has them, `change` applied to the one named `name`. */
async function serveChanged(name: string, change: (schedule: Json) => Json): Promise<void> {
  const schedules = JSON.parse(await readFile(path.join(fixtures, 'schedules.json'), 'utf8'));
  opsgenie.instead.set('/v2/schedules', {
    ...schedules,
    data: schedules.data.map((s: Json) => (s.name === name ? change(s) : s)),
  });
}

const get = async (vigil: TestServer, p: string): Promise<Json> => (await vigil.callOk('GET', p)).data;

/** The schedule's overrides: alias → the names of the rotations it is bound to. */
async function overridesOf(vigil: TestServer, schedule: string): Promise<Record<string, string[]>> {
  const list = await get(vigil, `/v2/schedules/${schedule}/overrides?identifierType=name`);
  return Object.fromEntries(list.map((o: Json) => [o.alias, o.rotations.map((r: Json) => r.name)]));
}

const addVigilOverride = (vigil: TestServer, schedule: string, alias: string, rotation: string) =>
  vigil.callOk('POST', `/v2/schedules/${schedule}/overrides?identifierType=name`, {
    alias,
    user: { type: 'user', username: 'john.doe@opsgenie.example' },
    startDate: '2036-11-02T09:00:00Z',
    endDate: '2036-11-03T09:00:00Z',
    rotations: [{ name: rotation }],
  });

/** Lines other than unchanged and skipped ones. */
const changes = (outcomes: string[]) =>
  outcomes.filter((l) => !l.endsWith(': unchanged') && !l.includes(': skipped: '));

/** A run's schedule, rotation and override lines. */
const schedulesOf = (lines: string[]) => lines.filter((l) => l.startsWith('schedule'));

const SRE_OPSGENIE_OVERRIDES = [
  'schedule override b3a2c1d0-e9f8-4a7b-8c6d-5e4f3a2b1c0d in SRE_Schedule: unchanged',
  'schedule override quiet-new-year in SRE_Schedule: unchanged',
];

describe('vigil import opsgenie, a schedule changed in Opsgenie and imported again', () => {
  it('a changed description updates the schedule alone: its rotation and every override stay', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      await importInto(vigil);
      await addVigilOverride(vigil, 'SRE_Schedule', 'vigil-only', 'First Rotation');
      const before = await get(vigil, '/v2/schedules/SRE_Schedule?identifierType=name');

      await serveChanged('SRE_Schedule', (s) => ({ ...s, description: 'The SRE on-call, reworded' }));
      const outcomes = await importInto(vigil);
      assert.deepEqual(changes(outcomes), ['schedule SRE_Schedule: updated'], outcomes.join('\n'));
      for (const line of SRE_OPSGENIE_OVERRIDES) assert.ok(outcomes.includes(line), outcomes.join('\n'));

      const afterRun = await get(vigil, '/v2/schedules/SRE_Schedule?identifierType=name');
      assert.equal(afterRun.description, 'The SRE on-call, reworded');
      assert.deepEqual(afterRun.rotations, before.rotations, 'the rotation is the same one, id and all');
      assert.deepEqual(await overridesOf(vigil, 'SRE_Schedule'), {
        'b3a2c1d0-e9f8-4a7b-8c6d-5e4f3a2b1c0d': ['First Rotation'],
        'quiet-new-year': [],
        'vigil-only': ['First Rotation'],
      });

      assert.deepEqual(changes(await importInto(vigil)), [], 'the run after finds it all in place');
    }));

  it("a rotation's length, participants and end changed: it is changed in place, keeping its overrides", () =>
    inFreshVigil(opsgenie, async (vigil) => {
      await importInto(vigil);
      await addVigilOverride(vigil, 'SRE_Schedule', 'vigil-only', 'First Rotation');
      const before = await get(vigil, '/v2/schedules/SRE_Schedule?identifierType=name');

      await serveChanged('SRE_Schedule', (s) => {
        const [first] = s.rotations;
        const [john, jane] = first.participants;
        const { endDate: _ended, ...rest } = first;
        return { ...s, rotations: [{ ...rest, length: 8, participants: [jane, john] }] };
      });
      const outcomes = await importInto(vigil);
      assert.deepEqual(changes(outcomes), ['schedule SRE_Schedule: updated'], outcomes.join('\n'));
      for (const line of SRE_OPSGENIE_OVERRIDES) assert.ok(outcomes.includes(line), outcomes.join('\n'));

      const afterRun = await get(vigil, '/v2/schedules/SRE_Schedule?identifierType=name');
      assert.equal(afterRun.rotations.length, 1);
      const [rotation] = afterRun.rotations;
      assert.equal(rotation.id, before.rotations[0].id, 'the rotation keeps its id');
      assert.equal(rotation.length, 8);
      assert.equal(rotation.endDate, undefined, 'its end is cleared, as in Opsgenie');
      assert.deepEqual(
        rotation.participants.map((p: Json) => p.username),
        ['jane.doe@opsgenie.example', 'john.doe@opsgenie.example'],
      );
      assert.deepEqual(rotation.timeRestriction, before.rotations[0].timeRestriction);
      assert.deepEqual(await overridesOf(vigil, 'SRE_Schedule'), {
        'b3a2c1d0-e9f8-4a7b-8c6d-5e4f3a2b1c0d': ['First Rotation'],
        'quiet-new-year': [],
        'vigil-only': ['First Rotation'],
      });

      assert.deepEqual(changes(await importInto(vigil)), [], 'the run after finds it all in place');
    }));

  it('a rotation renamed in Opsgenie, alike in all else, is renamed in place: its overrides follow it', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      await importInto(vigil);
      await addVigilOverride(vigil, 'SRE_Schedule', 'vigil-only', 'First Rotation');
      const before = await get(vigil, '/v2/schedules/SRE_Schedule?identifierType=name');

      await serveChanged('SRE_Schedule', (s) => ({
        ...s,
        rotations: s.rotations.map((r: Json) => ({ ...r, name: 'Primary' })),
      }));
      const dry = await importInto(vigil, '--dry-run');
      const outcomes = await importInto(vigil);
      assert.deepEqual(schedulesOf(dry), schedulesOf(outcomes), 'the dry run says what the run does');
      assert.deepEqual(changes(outcomes), ['schedule SRE_Schedule: updated'], outcomes.join('\n'));
      assert.ok(
        outcomes.includes('schedule override quiet-new-year in SRE_Schedule: unchanged'),
        outcomes.join('\n'),
      );
      const afterRun = await get(vigil, '/v2/schedules/SRE_Schedule?identifierType=name');
      assert.deepEqual(afterRun.rotations, [{ ...before.rotations[0], name: 'Primary' }]);
      assert.deepEqual(await overridesOf(vigil, 'SRE_Schedule'), {
        'b3a2c1d0-e9f8-4a7b-8c6d-5e4f3a2b1c0d': ['Primary'],
        'quiet-new-year': [],
        'vigil-only': ['Primary'],
      });
    }));

  for (const renamed of ['Night shift', 'nights'])
    it(`a rotation with an escalation renamed ${renamed}: the dry run says what the run does, all unchanged but the schedule`, () =>
      inFreshVigil(opsgenie, async (vigil) => {
        await importInto(vigil);
        const before = await get(vigil, '/v2/schedules/Escalation_Cover?identifierType=name');

        await serveChanged('Escalation_Cover', (s) => ({
          ...s,
          rotations: s.rotations.map((r: Json) => (r.name === 'Nights' ? { ...r, name: renamed } : r)),
        }));
        const dry = await importInto(vigil, '--dry-run');
        const outcomes = await importInto(vigil);
        assert.deepEqual(schedulesOf(dry), schedulesOf(outcomes), 'the dry run says what the run does');
        assert.deepEqual(changes(outcomes), ['schedule Escalation_Cover: updated'], outcomes.join('\n'));
        for (const line of [
          `schedule rotation ${renamed} in Escalation_Cover: unchanged`,
          'schedule override jane-covers-nights in Escalation_Cover: unchanged',
        ])
          assert.ok(outcomes.includes(line), `${line}\n${outcomes.join('\n')}`);
        const afterRun = await get(vigil, '/v2/schedules/Escalation_Cover?identifierType=name');
        assert.deepEqual(
          afterRun.rotations,
          before.rotations.map((r: Json) => (r.name === 'Nights' ? { ...r, name: renamed } : r)),
          'renamed in place, its escalation kept',
        );
        assert.deepEqual(await overridesOf(vigil, 'Escalation_Cover'), { 'jane-covers-nights': [renamed] });
      }));

  it('a rotation removed and one added in Opsgenie are removed and added alone; the others keep theirs', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      await importInto(vigil);
      await addVigilOverride(vigil, 'Escalation_Cover', 'vigil-nights', 'Nights');
      await addVigilOverride(vigil, 'Escalation_Cover', 'vigil-days', 'Days');
      const before = await get(vigil, '/v2/schedules/Escalation_Cover?identifierType=name');
      const nightsBefore = before.rotations.find((r: Json) => r.name === 'Nights');

      await serveChanged('Escalation_Cover', (s) => {
        const [days, nights, random] = s.rotations;
        const weekends = {
          ...days,
          id: '2c3d4e5f-6a7b-4c8d-9e0f-1a2b3c4d5e6f',
          name: 'Weekends',
          type: 'weekly',
        };
        return { ...s, rotations: [{ ...nights, length: 2 }, random, weekends] };
      });
      const dry = await importInto(vigil, '--dry-run');
      assert.deepEqual(
        await get(vigil, '/v2/schedules/Escalation_Cover?identifierType=name'),
        before,
        'a dry run changes nothing',
      );
      const outcomes = await importInto(vigil);
      assert.deepEqual(schedulesOf(dry), schedulesOf(outcomes), 'the dry run says what the run does');
      assert.deepEqual(changes(outcomes), ['schedule Escalation_Cover: updated'], outcomes.join('\n'));
      for (const line of [
        'schedule rotation Nights in Escalation_Cover: unchanged',
        'schedule override jane-covers-nights in Escalation_Cover: unchanged',
      ])
        assert.ok(outcomes.includes(line), `${line}\n${outcomes.join('\n')}`);

      const afterRun = await get(vigil, '/v2/schedules/Escalation_Cover?identifierType=name');
      assert.deepEqual(
        afterRun.rotations.map((r: Json) => r.name),
        ['Nights', 'Random turns', 'Weekends'],
      );
      const nights = afterRun.rotations[0];
      assert.deepEqual(
        { ...nights, order: undefined },
        { ...nightsBefore, length: 2, order: undefined },
        'Nights keeps its id and its escalation, its length changed',
      );
      // Vigil's own override of the rotation removed goes with it; the others stay.
      assert.deepEqual(await overridesOf(vigil, 'Escalation_Cover'), {
        'jane-covers-nights': ['Nights'],
        'vigil-nights': ['Nights'],
      });

      assert.deepEqual(changes(await importInto(vigil)), [], 'the run after finds it all in place');
    }));
});
