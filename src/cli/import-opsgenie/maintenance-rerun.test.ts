import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Json, TestServer } from '../../testing/harness.js';
import { MAIL_ALERTS, OPSGENIE_KEY, startFakeOpsgenie, type FakeOpsgenie } from './fake-opsgenie.js';
import { inFreshVigil, outcomesOf, runImport } from './test-cli.js';

/**
 * `vigil import opsgenie` run again after a maintenance window changed its time in Opsgenie: the window
 * Vigil has is moved, never made a second time (which would keep the old one disabling its integrations
 * until its old end). The fake Opsgenie serves the windows through `instead`; each test has a Vigil of its
 * own.
 */

const SRE_API = '3d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a';
const ONE = '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f';
const TWO = '2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a';

let opsgenie: FakeOpsgenie;

before(async () => {
  opsgenie = await startFakeOpsgenie();
});

after(async () => {
  await opsgenie?.close();
});

interface Window {
  id: string;
  status: 'planned' | 'active';
  description?: string;
  time: { type: string; startDate?: string; endDate?: string };
  integration: string;
}

/** Opsgenie's maintenances, in this order, each disabling one integration. */
function serveWindows(windows: Window[]): void {
  const meta = (w: Window) => ({ id: w.id, status: w.status, description: w.description, time: w.time });
  opsgenie.instead.set('/v1/maintenance', { data: windows.map(meta) });
  for (const w of windows)
    opsgenie.instead.set(`/v1/maintenance/${w.id}`, {
      data: {
        ...meta(w),
        rules: [{ state: 'disabled', entity: { id: w.integration, type: 'integration' } }],
      },
    });
}

/** A run's maintenance lines (a dry run's "would be updated" read as "updated"), its exit code checked. */
async function importInto(vigil: TestServer, ...extra: string[]): Promise<string[]> {
  const run = await runImport(['--api-url', opsgenie.url, '--api-key', OPSGENIE_KEY, ...extra], {
    VIGIL_URL: vigil.url,
    VIGIL_API_KEY: vigil.key,
  });
  assert.equal(run.code, 0, [...run.progress, ...run.out].join('\n'));
  return outcomesOf(run.progress).filter((l) => l.startsWith('maintenance '));
}

/** Vigil's maintenances not yet over, with their time and the integrations they disable. */
async function vigilWindows(vigil: TestServer) {
  const list = (await vigil.callOk('GET', '/v1/maintenance?type=non-expired')).data;
  const each: Json[] = await Promise.all(
    list.map(async (m: Json) => (await vigil.callOk('GET', `/v1/maintenance/${m.id}`)).data),
  );
  return each
    .map((m) => ({
      id: m.id as string,
      description: m.description as string,
      startDate: m.time.startDate as string,
      endDate: m.time.endDate as string | undefined,
      disables: m.rules.map((r: Json) => r.entity.id as string),
    }))
    .sort((a, b) => a.startDate.localeCompare(b.startDate));
}

describe('vigil import opsgenie, run again after a maintenance moved', () => {
  it('a window whose end moved is updated in place: one window in Vigil, with the new end', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      // Started, as the window whose end an operator pulls in is: 01:00 to 03:00 becomes 01:00 to 02:00.
      const window: Window = {
        id: ONE,
        status: 'active',
        description: 'Database upgrade',
        time: { type: 'schedule', startDate: '2020-01-01T01:00:00Z', endDate: '2036-12-30T03:00:00Z' },
        integration: SRE_API,
      };
      serveWindows([window]);
      assert.deepEqual(await importInto(vigil), [`maintenance "Database upgrade" (${ONE}): created`]);
      const [before, ...others] = await vigilWindows(vigil);
      assert.deepEqual(others, []);
      assert.equal(before?.endDate, '2036-12-30T03:00:00.000Z');

      serveWindows([{ ...window, time: { ...window.time, endDate: '2036-12-30T02:00:00Z' } }]);
      const updated = [`maintenance "Database upgrade" (${ONE}): updated`];
      assert.deepEqual(await importInto(vigil, '--dry-run'), updated);
      assert.deepEqual(await importInto(vigil), updated);
      assert.deepEqual(await vigilWindows(vigil), [{ ...before, endDate: '2036-12-30T02:00:00.000Z' }]);

      assert.deepEqual(await importInto(vigil), [`maintenance "Database upgrade" (${ONE}): unchanged`]);
      assert.equal((await vigilWindows(vigil)).length, 1);
    }));

  it('a planned window whose start moved is updated, not left at its old start', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      const window: Window = {
        id: ONE,
        status: 'planned',
        description: 'Database upgrade',
        time: { type: 'schedule', startDate: '2036-12-30T01:00:00Z', endDate: '2036-12-30T03:00:00Z' },
        integration: SRE_API,
      };
      serveWindows([window]);
      await importInto(vigil);
      const [before] = await vigilWindows(vigil);

      serveWindows([{ ...window, time: { ...window.time, startDate: '2036-12-29T23:00:00Z' } }]);
      assert.deepEqual(await importInto(vigil), [`maintenance "Database upgrade" (${ONE}): updated`]);
      assert.deepEqual(await vigilWindows(vigil), [{ ...before, startDate: '2036-12-29T23:00:00.000Z' }]);
    }));

  it('of two windows of one description and rules, only the one whose end moved is changed', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      const nightly = (id: string, day: number): Window => ({
        id,
        status: 'planned',
        description: 'Nightly backup',
        time: {
          type: 'schedule',
          startDate: `2036-12-${day}T01:00:00Z`,
          endDate: `2036-12-${day}T03:00:00Z`,
        },
        integration: SRE_API,
      });
      const [first, second] = [nightly(ONE, 20), nightly(TWO, 21)];
      serveWindows([first, second]);
      await importInto(vigil);
      const before = await vigilWindows(vigil);
      assert.equal(before.length, 2);

      // The later one, listed first, now ends at 02:00.
      serveWindows([{ ...second, time: { ...second.time, endDate: '2036-12-21T02:00:00Z' } }, first]);
      assert.deepEqual(await importInto(vigil), [
        `maintenance "Nightly backup" (${TWO}): updated`,
        `maintenance "Nightly backup" (${ONE}): unchanged`,
      ]);
      assert.deepEqual(await vigilWindows(vigil), [
        before[0],
        { ...before[1], endDate: '2036-12-21T02:00:00.000Z' },
      ]);
    }));

  for (const own of ['for-1-hour', 'indefinitely'])
    it(`a new window of other rules leaves Vigil's own (${own}) of its (empty) description as it is`, () =>
      inFreshVigil(opsgenie, async (vigil) => {
        serveWindows([]);
        await importInto(vigil);
        const integrations = (await vigil.callOk('GET', '/v2/integrations')).data;
        const idOf = (name: string): string => integrations.find((i: Json) => i.name === name).id;
        // Made in Vigil: no description, Mail Alerts in maintenance.
        await vigil.callOk('POST', '/v1/maintenance', {
          time: { type: own },
          rules: [{ entity: { id: idOf('Mail Alerts'), type: 'integration' } }],
        });
        const [ownWindow, ...none] = await vigilWindows(vigil);
        assert.deepEqual(none, []);

        // In Opsgenie, started, indefinite, without a description: SRE API in maintenance.
        serveWindows([{ id: ONE, status: 'active', time: { type: 'indefinitely' }, integration: SRE_API }]);
        const created = [`maintenance "" (${ONE}): created`];
        assert.deepEqual(await importInto(vigil, '--dry-run'), created);
        assert.deepEqual(await vigilWindows(vigil), [ownWindow], 'a dry run changes nothing');
        assert.deepEqual(await importInto(vigil), created);
        const after = await vigilWindows(vigil);
        assert.deepEqual(
          after.find((w) => w.id === ownWindow?.id),
          ownWindow,
          "Vigil's own window keeps its time and Mail Alerts",
        );
        assert.deepEqual(
          after.filter((w) => w.id !== ownWindow?.id).map((w) => ({ ...w, id: '', startDate: '' })),
          [{ id: '', description: '', startDate: '', endDate: undefined, disables: [idOf('SRE API')] }],
        );
        assert.deepEqual(await importInto(vigil), [`maintenance "" (${ONE}): unchanged`]);
      }));

  it('of two windows of one description and rules, one gone and the other moved, the nearest is moved', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      const deploy = (id: string, day: string): Window => ({
        id,
        status: 'planned',
        description: 'Deploy',
        time: { type: 'schedule', startDate: `2036-${day}T01:00:00Z`, endDate: `2036-${day}T03:00:00Z` },
        integration: SRE_API,
      });
      serveWindows([deploy(ONE, '06-01'), deploy(TWO, '07-01')]);
      await importInto(vigil);
      const [june, july, ...none] = await vigilWindows(vigil);
      assert.deepEqual(none, []);
      assert.equal(june?.startDate, '2036-06-01T01:00:00.000Z');

      // July's cancelled (gone from Opsgenie's list), June's moved to the 10th.
      serveWindows([deploy(ONE, '06-10')]);
      const updated = [`maintenance "Deploy" (${ONE}): updated`];
      assert.deepEqual(await importInto(vigil, '--dry-run'), updated);
      assert.deepEqual(await vigilWindows(vigil), [june, july], 'a dry run changes nothing');
      assert.deepEqual(await importInto(vigil), updated);
      assert.deepEqual(await vigilWindows(vigil), [
        { ...june, startDate: '2036-06-10T01:00:00.000Z', endDate: '2036-06-10T03:00:00.000Z' },
        july,
      ]);
      assert.deepEqual(await importInto(vigil), [`maintenance "Deploy" (${ONE}): unchanged`]);
    }));

  it('a window that could not be read, listed before a new one alike, keeps its own maintenance', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      const indefinite = (id: string, integration: string): Window => ({
        id,
        status: 'active',
        time: { type: 'indefinitely' },
        integration,
      });
      const old = indefinite(ONE, SRE_API);
      serveWindows([old]);
      await importInto(vigil);
      const before = await vigilWindows(vigil);

      // The old one first, unreadable: the new one after it must not take the old one's maintenance.
      serveWindows([old, indefinite(TWO, MAIL_ALERTS)]);
      opsgenie.failing.add(`/v1/maintenance/${ONE}`);
      const run = await runImport(['--api-url', opsgenie.url, '--api-key', OPSGENIE_KEY], {
        VIGIL_URL: vigil.url,
        VIGIL_API_KEY: vigil.key,
      });
      const lines = outcomesOf(run.progress).filter((l) => l.startsWith('maintenance '));
      assert.ok(
        lines.some((l) => l.startsWith(`maintenance "" (${TWO}): skipped`) && l.includes('run the import')),
        lines.join('\n'),
      );
      assert.deepEqual(await vigilWindows(vigil), before, 'the old one still disables its integration');

      opsgenie.failing.clear();
      assert.deepEqual(await importInto(vigil), [
        `maintenance "" (${ONE}): unchanged`,
        `maintenance "" (${TWO}): created`,
      ]);
    }));
});
