import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAlertReplay } from './live-replay.js';

const org = 'org-1';
const change = (id: string) => ({ ids: [id], more: false });
const idsOf = (heard: { change: { ids: string[] } }[] | undefined) => heard?.map((h) => h.change.ids[0]);

describe('the announcements a process kept for streams that open late', () => {
  it('tells what was heard since a time, once hearing, per organization', () => {
    const replay = createAlertReplay();
    replay.record(org, change('before'), 500);
    replay.hearingFrom(1_000);
    replay.record(org, change('a'), 1_100);
    replay.record('org-2', change('other'), 1_150);
    replay.record(org, change('b'), 1_200);
    assert.deepEqual(idsOf(replay.since(org, 1_000, 2_000)), ['a', 'b']);
    assert.deepEqual(idsOf(replay.since(org, 1_150, 2_000)), ['b']);
    assert.deepEqual(replay.since(org, 1_300, 2_000), []);
    assert.deepEqual(replay.since('org-3', 1_000, 2_000), [], 'an organization nothing happened in');
    assert.equal(replay.since(org, 999, 2_000), undefined, 'before it heard everything');
    assert.equal(replay.since(org, 2_001, 2_000), undefined, 'a time ahead of its clock');
  });

  it('cannot tell after it went deaf, until it hears again', () => {
    const replay = createAlertReplay();
    assert.equal(replay.since(org, 0, 10), undefined, 'never heard');
    replay.hearingFrom(1_000);
    replay.record(org, change('a'), 1_100);
    replay.hearingFrom(1_500);
    assert.deepEqual(idsOf(replay.since(org, 1_000, 2_000)), ['a'], 'a renewal does not restart it');
    replay.deaf();
    assert.equal(replay.since(org, 1_000, 2_000), undefined);
    replay.hearingFrom(3_000);
    assert.equal(replay.since(org, 2_500, 3_500), undefined);
    assert.deepEqual(replay.since(org, 3_000, 3_500), []);
  });

  it('forgets what is older than it keeps, and what is beyond its limit', () => {
    const replay = createAlertReplay({ keepMs: 1_000, maxPerOrg: 2 });
    replay.hearingFrom(0);
    replay.record(org, change('a'), 100);
    replay.record(org, change('b'), 200);
    assert.deepEqual(idsOf(replay.since(org, 0, 1_000)), ['a', 'b']);
    assert.equal(replay.since(org, 0, 1_101), undefined, 'asked for more than it keeps');
    assert.deepEqual(idsOf(replay.since(org, 150, 1_150)), ['b'], 'what it keeps');
    replay.record(org, change('c'), 300);
    replay.record(org, change('d'), 400);
    assert.equal(replay.since(org, 150, 1_000), undefined, 'b was dropped to keep within its limit');
    assert.deepEqual(idsOf(replay.since(org, 250, 1_000)), ['c', 'd']);
    assert.deepEqual(replay.since(org, 1_300, 2_300), [], 'all of it too old by then');
  });
});
