import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestServer, waitFor, type Json, type TestServer } from '../../testing/harness.js';
import { ShiftedClock } from '../../work/clock.js';
import { fixtures, OPSGENIE_KEY, startFakeOpsgenie, type FakeOpsgenie } from './fake-opsgenie.js';
import { runImport } from './test-cli.js';

/**
 * Imported heartbeats are made disabled: Vigil counts a heartbeat's interval from its creation, and while
 * the cron jobs still ping Opsgenie, an enabled one would expire after one interval and page its owner
 * team through the routing just imported. A later run keeps each as Vigil has it, disabled until someone
 * enables it there, enabled once they have; the next steps name each one still to enable.
 */

const MINUTE = 60_000;
const clock = new ShiftedClock();
let opsgenie: FakeOpsgenie;
let vigil: TestServer;

before(async () => {
  [opsgenie, vigil] = await Promise.all([
    startFakeOpsgenie(),
    startTestServer({ clock, engineIntervalMs: 100 }),
  ]);
});

after(async () => {
  await Promise.all([opsgenie?.close(), vigil?.stop()]);
});

const importIt = (...extra: string[]) =>
  runImport(['--api-url', opsgenie.url, '--api-key', OPSGENIE_KEY, ...extra], {
    VIGIL_URL: vigil.url,
    VIGIL_API_KEY: vigil.key,
  });

const heartbeat = async (name: string): Promise<Json> =>
  (await vigil.callOk('GET', `/v2/heartbeats/${name}`)).data;

/** Opsgenie's heartbeats: the fixture's web-front (enabled, owned by SRE) changed by `webFront`, and a disabled one. */
async function serveHeartbeats(webFront: Json = {}): Promise<void> {
  const fixture = JSON.parse(await readFile(path.join(fixtures, 'heartbeats.json'), 'utf8'));
  const [front] = fixture.data.heartbeats;
  opsgenie.instead.set('/v2/heartbeats', {
    ...fixture,
    data: {
      heartbeats: [
        { ...front, ...webFront },
        { ...front, name: 'old-batch', enabled: false, ownerTeam: undefined },
      ],
    },
  });
}

const nextSteps = (out: string[]) => out.slice(out.indexOf('Next steps:'));
const toEnable = (out: string[]) => nextSteps(out).find((l) => l.includes('/enable'));

describe('vigil import opsgenie: heartbeats', () => {
  it('are made disabled, do not expire while their senders ping Opsgenie, and the next steps say to enable them', async () => {
    await serveHeartbeats();
    const dry = await importIt('--dry-run');
    assert.equal(dry.code, 0, [...dry.progress, ...dry.out].join('\n'));
    assert.ok(dry.progress.includes('heartbeat web-front: would be created'), dry.progress.join('\n'));
    const step =
      '  - Imported heartbeats are disabled, so that none expires while its sender still pings Opsgenie: enable each in Vigil (POST /v2/heartbeats/{name}/enable) once its sender pings Vigil: web-front';
    assert.equal(toEnable(dry.out), step, dry.out.join('\n'));

    const run = await importIt();
    const all = [...run.progress, ...run.out].join('\n');
    assert.equal(run.code, 0, all);
    assert.ok(run.progress.includes('heartbeat web-front: created'), all);
    assert.ok(run.progress.includes('heartbeat old-batch: created'), all);
    // Opsgenie's disabled one is not to enable.
    assert.equal(toEnable(run.out), step, all);
    const front = await heartbeat('web-front');
    assert.deepEqual([front.enabled, front.ownerTeam?.name], [false, 'SRE']);
    assert.equal((await heartbeat('old-batch')).enabled, false);

    // One interval on, a heartbeat made enabled after the import has expired: web-front, due before it
    // were it enabled, has not, and raised no alert.
    await vigil.callOk('POST', '/v2/heartbeats', {
      name: 'sentinel',
      interval: 10,
      intervalUnit: 'minutes',
      enabled: true,
    });
    clock.advance(11 * MINUTE);
    await waitFor('the sentinel to expire', async () => (await heartbeat('sentinel')).expired === true);
    assert.equal((await heartbeat('web-front')).expired, false);
    const alerts = (await vigil.callOk('GET', '/v2/alerts')).data as Json[];
    assert.deepEqual(
      alerts.map((a) => a.message),
      ['sentinel is expired'],
    );
    await vigil.callOk('DELETE', '/v2/heartbeats/sentinel');

    // A later run that changes it keeps it disabled, and says again to enable it.
    await serveHeartbeats({ description: 'The web front end, changed' });
    const again = await importIt();
    assert.equal(again.code, 0, [...again.progress, ...again.out].join('\n'));
    assert.ok(again.progress.includes('heartbeat web-front: updated'), again.progress.join('\n'));
    assert.ok(again.progress.includes('heartbeat old-batch: unchanged'), again.progress.join('\n'));
    assert.deepEqual(
      [(await heartbeat('web-front')).description, (await heartbeat('web-front')).enabled],
      ['The web front end, changed', false],
    );
    assert.equal(toEnable(again.out), step, again.out.join('\n'));

    // Enabled in Vigil, it stays enabled, changed or not, and is no longer a step.
    await vigil.callOk('POST', '/v2/heartbeats/web-front/enable');
    const unchanged = await importIt();
    assert.ok(unchanged.progress.includes('heartbeat web-front: unchanged'), unchanged.progress.join('\n'));
    assert.equal(toEnable(unchanged.out), undefined, unchanged.out.join('\n'));
    await serveHeartbeats({ description: 'Changed again' });
    const updated = await importIt();
    assert.ok(updated.progress.includes('heartbeat web-front: updated'), updated.progress.join('\n'));
    assert.equal((await heartbeat('web-front')).enabled, true);
    assert.equal(toEnable(updated.out), undefined, updated.out.join('\n'));
    // Disabled in Opsgenie, an enabled one in Vigil is still Vigil's to disable.
    await serveHeartbeats({ description: 'Changed again', enabled: false });
    const disabledThere = await importIt();
    assert.ok(
      disabledThere.progress.includes('heartbeat web-front: unchanged'),
      disabledThere.progress.join('\n'),
    );
    assert.equal((await heartbeat('web-front')).enabled, true);
  });
});
