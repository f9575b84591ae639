import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import {
  PEOPLE,
  allDone,
  countBy,
  errorLines,
  expectedPairs,
  notificationOf,
  pairOf,
  received,
  settled,
  startFleet,
  stopAll,
  stopFleets,
} from './worker-fleet.js';

/** `vigil start --role worker` processes sharing the work (test/e2e/worker-fleet.ts). */

after(stopFleets);

describe('three worker processes', () => {
  it('share the work and send each email exactly once', { timeout: 240_000 }, async (t) => {
    const fleet = await startFleet();
    const { db } = fleet;
    const workers = [await fleet.worker(), await fleet.worker(), await fleet.worker()];
    await fleet.listening(workers);

    const alerts = 150;
    const began = Date.now();
    await fleet.alerts(alerts, 'shared');
    const state = await settled(db, alerts, workers, [fleet.api, ...workers]);
    const expected = alerts * PEOPLE.length;
    const mail = received(workers);
    t.diagnostic(
      `${alerts} alerts, ${mail.length} emails in ${Date.now() - began} ms; ` +
        workers.map((w) => `${w.name} sent ${w.smtp.messages.length}`).join(', '),
    );

    assert.deepEqual(state, allDone(alerts, expected));
    assert.deepEqual([...new Set(mail.map((r) => pairOf(r.mail)))].sort(), await expectedPairs(db));
    const twice = [...countBy(mail, (r) => pairOf(r.mail))].filter(([, n]) => n > 1);
    assert.deepEqual(twice, [], 'no (alert, recipient) was emailed twice');
    assert.equal(mail.length, expected);
    assert.equal(new Set(mail.map((r) => r.mail.messageId)).size, expected);
    assert.equal(new Set(mail.map((r) => notificationOf(r.mail))).size, expected);
    const busy = workers.filter((w) => w.smtp.messages.length > 0);
    assert.ok(busy.length > 1, 'more than one worker sent email');
    for (const p of [fleet.api, ...workers]) assert.deepEqual(errorLines(p), [], `${p.name} logged no error`);

    await stopAll([fleet.api, ...workers]);
  });
});
