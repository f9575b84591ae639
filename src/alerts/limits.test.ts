import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitAlertLimits } from './limits.js';

describe("Opsgenie's limits on an alert", () => {
  it('leave an alert that fits as it is', () => {
    const input = { message: 'm'.repeat(130), tags: Array.from({ length: 20 }, (_, i) => `t${i}`) };
    assert.deepEqual(fitAlertLimits(input), { input, changes: [] });
  });

  it('cut a long message on a character boundary and keep it whole in details', () => {
    const message = `${'😀'.repeat(140)}`;
    const { input, changes } = fitAlertLimits({ message, details: { host: 'db-1' } });
    assert.equal(Array.from(input.message).length, 130);
    assert.ok(input.message.endsWith('…'));
    assert.deepEqual(input.details, { host: 'db-1', fullMessage: message });
    assert.deepEqual(changes, [
      'the message was cut to 130 characters (all of it is in details.fullMessage)',
    ]);
  });

  it('keep 20 tags and 10 actions, cut long ones, and keep what changed in details', () => {
    const tags = [...Array.from({ length: 21 }, (_, i) => `t${i}`), 't0'];
    tags[3] = 'x'.repeat(51);
    const actions = Array.from({ length: 12 }, (_, i) => `a${i}`);
    const { input, changes } = fitAlertLimits({ message: 'm', tags, actions });
    assert.equal(input.tags?.length, 20);
    assert.equal(input.tags?.[3], `${'x'.repeat(49)}…`);
    assert.equal(input.details?.tagsOverLimits, `${'x'.repeat(51)}, t20`);
    assert.deepEqual(input.actions, actions.slice(0, 10));
    assert.equal(input.details?.actionsOverLimits, 'a10, a11');
    assert.deepEqual(changes, [
      '1 tag over 20 left out and 1 tag cut to 50 characters (in full in details.tagsOverLimits)',
      '2 actions over 10 left out (in full in details.actionsOverLimits)',
    ]);
  });

  it("cuts a source over Opsgenie's 100 characters and keeps it whole in details", () => {
    const source = `https://alertmanager.example.com/#/alerts?receiver=${'team-'.repeat(20)}`;
    const { input, changes } = fitAlertLimits({ message: 'm', source });
    assert.equal(Array.from(input.source ?? '').length, 100);
    assert.equal(input.details?.fullSource, source);
    assert.match(changes[0] ?? '', /source was cut to 100 characters/);
  });
});
