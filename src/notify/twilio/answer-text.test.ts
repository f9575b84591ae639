import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { describeResults, fitText, SMS_MAX_CHARS, type ActResult } from './answer-text.js';
import { withoutNumbers } from './client.js';

describe('the words of an answer', () => {
  it('says once what happened to alerts that went the same way, each sentence with one period', () => {
    const results: ActResult[] = [
      { kind: 'closed', tiny: '5' },
      { kind: 'done', tiny: '10' },
      { kind: 'closed', tiny: '6' },
      { kind: 'done', tiny: '8' },
      { kind: 'not', tiny: '9', why: 'Alert is closed: it can not be acknowledged.' },
      { kind: 'not', why: 'Alert does not exist' },
      { kind: 'not', why: 'Alert does not exist' },
    ];
    assert.deepEqual(describeResults(results, 'acknowledged'), [
      'Alerts 8 and 10 acknowledged.',
      'Alert 9 not acknowledged: Alert is closed: it can not be acknowledged.',
      '2 alerts not acknowledged: Alert does not exist.',
      '2 alerts were already closed.',
    ]);
    assert.deepEqual(describeResults([{ kind: 'closed', tiny: '3' }], 'closed'), [
      'Alert 3 was already closed.',
    ]);
  });

  it('cuts an answer Twilio would refuse to whole sentences, saying there is more', () => {
    const many = Array.from({ length: 200 }, (_, i) => `Alert ${i} not escalated: reason number ${i}.`).join(
      ' ',
    );
    const fitted = fitText(`Vigil: ${many}`);
    assert.ok(fitted.length <= SMS_MAX_CHARS, String(fitted.length));
    assert.match(fitted, /\d\. More in the Vigil console\.$/);
    const oneLong = fitText(`Vigil: ${'word '.repeat(500)}`);
    assert.ok(oneLong.length <= SMS_MAX_CHARS);
    assert.match(oneLong, /word… More in the Vigil console\.$/);
    assert.equal(fitText('Vigil: Alert 1 closed.'), 'Vigil: Alert 1 closed.');
  });
});

describe("Twilio's words in a log", () => {
  it('keep no phone number, however written, and keep the error codes', () => {
    for (const [given, kept] of [
      [
        "The 'To' number +15005550001 is not a valid phone number.",
        "The 'To' number [number] is not a valid phone number.",
      ],
      [
        "The 'To' phone number: +1 (415) 555-0190, is not currently reachable using the 'From' phone number: +15005550006 via SMS.",
        "The 'To' phone number: [number], is not currently reachable using the 'From' phone number: [number] via SMS.",
      ],
      [
        "'To' number 0049 30 1234567 is not a valid mobile number",
        "'To' number [number] is not a valid mobile number",
      ],
      [
        'See https://www.twilio.com/docs/errors/21614 (error 21614).',
        'See https://www.twilio.com/docs/errors/21614 (error 21614).',
      ],
    ] as const) {
      assert.equal(withoutNumbers(given), kept);
    }
  });
});
