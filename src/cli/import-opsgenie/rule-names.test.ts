import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Json, TestServer } from '../../testing/harness.js';
import { fixtures, JANE, OPSGENIE_KEY, SRE, startFakeOpsgenie, type FakeOpsgenie } from './fake-opsgenie.js';
import { inFreshVigil, outcomesOf, runImport } from './test-cli.js';

/**
 * Routing and notification rules matched by name run after run: a name longer than Vigil takes (it is cut
 * on the way in) matches what Vigil kept, and rules sharing a name are matched one to one, in order, so a
 * run neither copies them again nor changes one for the other.
 */

let opsgenie: FakeOpsgenie;

before(async () => {
  opsgenie = await startFakeOpsgenie();
});

after(async () => {
  await opsgenie?.close();
});

const fixture = async (file: string): Promise<Json> =>
  JSON.parse(await readFile(path.join(fixtures, file), 'utf8'));

const JANE_RULES = `/v2/users/${JANE}/notification-rules`;
const WORKING_HOURS = '8d3c1a5e-2f4b-4a6c-9d8e-0f1a2b3c4d5e';
const SRE_RULES = `/v2/teams/${SRE}/routing-rules`;

const importInto = (vigil: TestServer) =>
  runImport(['--api-url', opsgenie.url, '--api-key', OPSGENIE_KEY], {
    VIGIL_URL: vigil.url,
    VIGIL_API_KEY: vigil.key,
  });

/** The run's outcomes for routing and notification rules. */
const ruleOutcomes = (progress: string[]) =>
  outcomesOf(progress).filter((l) => /^(routing|notification) rule /.test(l));

async function sreRules(vigil: TestServer): Promise<Json[]> {
  const all = (await vigil.callOk('GET', '/v2/teams/SRE/routing-rules?teamIdentifierType=name')).data;
  return all.filter((r: Json) => !r.isDefault);
}

async function janeRules(vigil: TestServer): Promise<Json[]> {
  const jane = '/v2/users/jane.doe@opsgenie.example/notification-rules';
  const list = (await vigil.callOk('GET', jane)).data as Json[];
  return Promise.all(list.map(async (r) => (await vigil.callOk('GET', `${jane}/${r.id}`)).data));
}

describe('vigil import opsgenie: rules matched by name', () => {
  it('a name longer than Vigil takes is cut once and matched as cut on every run after', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      const routing = await fixture('routing-rules-sre.json');
      routing.data[0].name = `Business hours ${'x'.repeat(230)}`;
      opsgenie.instead.set(SRE_RULES, routing);
      // Trimmed, then cut: what is left after the cut ends in a space, which Vigil's name does not.
      const long = ` Working hours ${'y'.repeat(497)} and then some more`;
      const list = await fixture('notification-rules-jane.json');
      list.data[2].name = long;
      opsgenie.instead.set(JANE_RULES, list);
      const one = await fixture('notification-rule-working-hours.json');
      one.data.name = long;
      opsgenie.instead.set(`${JANE_RULES}/${WORKING_HOURS}`, one);

      const first = await importInto(vigil);
      assert.equal(first.code, 0, first.out.join('\n'));
      const routingName = `business hours ${'x'.repeat(230)}`.slice(0, 200);
      assert.deepEqual(
        (await sreRules(vigil)).map((r) => r.name.toLowerCase()),
        [routingName],
      );
      const cut = `Working hours ${'y'.repeat(497)}`;
      assert.equal(cut.length, 511);
      assert.deepEqual((await janeRules(vigil)).map((r) => r.name).sort(), ['New Alert Rule', cut]);

      for (const run of [2, 3]) {
        const again = await importInto(vigil);
        assert.equal(again.code, 0, again.out.join('\n'));
        // Jane's two rules and SRE's two, by names the report shortens.
        const said = ruleOutcomes(again.progress).filter((l) => !l.includes(': skipped'));
        assert.equal(said.length, 4, said.join('\n'));
        assert.ok(
          said.every((l) => l.endsWith(': unchanged')),
          `run ${run}: ${said.join('\n')}`,
        );
        assert.equal((await sreRules(vigil)).length, 1, `run ${run}`);
        assert.equal((await janeRules(vigil)).length, 2, `run ${run}`);
      }
    }));

  it('routing rules of one name are matched one to one, in order: none is changed for the other', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      const routing = await fixture('routing-rules-sre.json');
      const [business, fallback] = routing.data;
      const byPriority = {
        ...business,
        name: 'Prod',
        criteria: {
          type: 'match-all-conditions',
          conditions: [{ field: 'priority', not: false, operation: 'equals', expectedValue: 'P1' }],
        },
      };
      const byTag = (tag: string) => ({
        ...business,
        id: 'b7c8d9e0-f1a2-4b3c-8d4e-5f6a7b8c9d0e',
        name: 'Prod',
        order: 1,
        timeRestriction: undefined,
        criteria: {
          type: 'match-all-conditions',
          conditions: [{ field: 'tags', not: false, operation: 'contains', expectedValue: tag }],
        },
        notify: fallback.notify,
      });
      const serve = (tag: string) =>
        opsgenie.instead.set(SRE_RULES, { ...routing, data: [byPriority, byTag(tag), fallback] });
      const inVigil = async () =>
        (await sreRules(vigil)).map(
          (r) => `${r.name}: ${r.criteria.conditions[0].expectedValue} → ${r.notify.type} ${r.notify.name}`,
        );
      const expected = (tag: string) => [
        'Prod: P1 → schedule SRE_Schedule',
        `Prod: ${tag} → escalation SRE_Escalation`,
      ];
      const routingOutcomes = (progress: string[]) =>
        ruleOutcomes(progress).filter((l) => l.startsWith('routing rule "Prod"'));

      serve('db');
      const first = await importInto(vigil);
      assert.equal(first.code, 0, first.out.join('\n'));
      assert.deepEqual(routingOutcomes(first.progress), [
        'routing rule "Prod" of SRE: created',
        'routing rule "Prod" of SRE: created',
      ]);
      assert.deepEqual(await inVigil(), expected('db'));

      for (const run of [2, 3]) {
        const again = await importInto(vigil);
        assert.equal(again.code, 0, again.out.join('\n'));
        assert.deepEqual(
          routingOutcomes(again.progress),
          ['routing rule "Prod" of SRE: unchanged', 'routing rule "Prod" of SRE: unchanged'],
          `run ${run}`,
        );
        assert.deepEqual(await inVigil(), expected('db'), `run ${run}`);
      }

      // The second one changes in Opsgenie: its own Vigil rule is updated, and said to be.
      serve('cache');
      const changed = await importInto(vigil);
      assert.equal(changed.code, 0, changed.out.join('\n'));
      assert.deepEqual(routingOutcomes(changed.progress), [
        'routing rule "Prod" of SRE: unchanged',
        'routing rule "Prod" of SRE: updated',
      ]);
      assert.deepEqual(await inVigil(), expected('cache'));
    }));

  it("a user's notification rules of one name and action are each made, and matched one to one after", () =>
    inFreshVigil(opsgenie, async (vigil) => {
      const EVENINGS = 'c1d2e3f4-a5b6-4c7d-8e9f-0a1b2c3d4e5f';
      const list = await fixture('notification-rules-jane.json');
      list.data.push({ ...list.data[2], id: EVENINGS, order: 3 });
      opsgenie.instead.set(JANE_RULES, list);
      const one = await fixture('notification-rule-working-hours.json');
      const evenings = (startHour: number) => ({
        data: {
          ...one.data,
          id: EVENINGS,
          order: 3,
          timeRestriction: {
            type: 'time-of-day',
            restriction: { startHour, startMin: 0, endHour: 23, endMin: 0 },
          },
        },
      });
      opsgenie.instead.set(`${JANE_RULES}/${EVENINGS}`, evenings(18));
      const inVigil = async () =>
        (await janeRules(vigil))
          .filter((r) => r.name === 'Working hours')
          .sort((a, b) => a.order - b.order)
          .map((r) => `${r.timeRestriction.restriction.startHour}-${r.timeRestriction.restriction.endHour}`);
      const workingHoursOutcomes = (progress: string[]) =>
        ruleOutcomes(progress).filter((l) => l.startsWith('notification rule "Working hours"'));
      const said = (outcome: string) =>
        `notification rule "Working hours" of jane.doe@opsgenie.example: ${outcome}`;

      const first = await importInto(vigil);
      assert.equal(first.code, 0, first.out.join('\n'));
      assert.deepEqual(workingHoursOutcomes(first.progress), [said('created'), said('created')]);
      assert.deepEqual(await inVigil(), ['9-17', '18-23']);

      for (const run of [2, 3]) {
        const again = await importInto(vigil);
        assert.deepEqual(
          workingHoursOutcomes(again.progress),
          [said('unchanged'), said('unchanged')],
          `run ${run}`,
        );
        assert.deepEqual(await inVigil(), ['9-17', '18-23'], `run ${run}`);
      }

      opsgenie.instead.set(`${JANE_RULES}/${EVENINGS}`, evenings(19));
      const changed = await importInto(vigil);
      assert.deepEqual(workingHoursOutcomes(changed.progress), [said('unchanged'), said('updated')]);
      assert.deepEqual(await inVigil(), ['9-17', '19-23']);
    }));
});
