import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSmsReply } from './sms-text.js';

/**
 * Twilio blocks a number that texts any of its default opt-out words: Vigil must read each as STOP, or
 * it keeps paging a number Twilio refuses (21610) and answers the opt-out with help text.
 */
describe("Twilio's opt-out words", () => {
  it('all mark the number opted out, in any case, REVOKE and OPTOUT included', () => {
    for (const word of ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'REVOKE', 'OPTOUT']) {
      assert.deepEqual(parseSmsReply(word), { kind: 'stop' }, word);
      assert.deepEqual(parseSmsReply(` ${word.toLowerCase()} `), { kind: 'stop' }, word);
    }
  });
});
