import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { storableJson, storableText } from '../../db/storable.js';
import {
  hostileEvent,
  hostileJson,
  hostileNumber,
  hostileString,
  isStorable,
  PROPERTY_SEED,
  stringsIn,
} from '../../testing/hostile-arbitraries.js';
import {
  ALERT_LIMITS,
  alertFieldsForFinding,
  alertFieldsForInsight,
  parseSecurityHubEvent,
} from './findings.js';
import { looksLikeSnsMessage, parseSnsMessage } from './sns/message.js';

/**
 * Properties of the parsers every delivery goes through, over any JSON and any strings (NULs, lone
 * surrogates, prototype names) and any numbers: they never throw, and what they hand on is storable and
 * within Opsgenie's limits.
 */

const runs = { seed: PROPERTY_SEED, numRuns: 300 };

function assertAlertFieldsValid(fields: ReturnType<typeof alertFieldsForFinding>): void {
  assert.ok(fields.message.length <= ALERT_LIMITS.message);
  assert.ok(fields.description.length <= ALERT_LIMITS.description);
  assert.ok(fields.entity.length <= ALERT_LIMITS.entity);
  assert.ok(fields.tags.length <= ALERT_LIMITS.tags);
  for (const tag of fields.tags) assert.ok(tag.length > 0 && tag.length <= ALERT_LIMITS.tag);
  for (const [key, value] of Object.entries(fields.details)) {
    assert.ok(key.length <= ALERT_LIMITS.detailKey);
    assert.ok(value.length <= ALERT_LIMITS.detailValue);
  }
  for (const text of stringsIn(fields)) assert.ok(isStorable(text), `storable: ${JSON.stringify(text)}`);
}

describe('the Security Hub event parser, over hostile events', () => {
  it('never throws, and hands on only storable findings whose alerts keep Opsgenie’s limits', () => {
    fc.assert(
      fc.property(fc.oneof(hostileEvent, hostileJson), (event) => {
        const parsed = parseSecurityHubEvent(event);
        for (const text of stringsIn(parsed))
          assert.ok(isStorable(text), `storable: ${JSON.stringify(text)}`);
        for (const finding of parsed.findings) {
          assert.ok(finding.key.id !== '' && finding.key.productArn !== '');
          assertAlertFieldsValid(alertFieldsForFinding(finding, parsed));
        }
        if (parsed.kind === 'insight-results') assertAlertFieldsValid(alertFieldsForInsight(parsed));
      }),
      runs,
    );
  });

  it('accounts for every finding of the list: read, or skipped with a reason', () => {
    fc.assert(
      fc.property(hostileEvent, (event) => {
        const parsed = parseSecurityHubEvent(event);
        const listed = (event.detail as { findings?: unknown[] } | undefined)?.findings;
        if (parsed.kind === 'unsupported' || parsed.kind === 'insight-results' || !Array.isArray(listed))
          return;
        assert.equal(parsed.findings.length + parsed.skipped.length, listed.length);
        for (const s of parsed.skipped) assert.ok(s.reason.length > 0);
      }),
      runs,
    );
  });
});

describe('the SNS message parser, over hostile bodies', () => {
  const snsShaped = fc.record(
    {
      Type: fc.oneof(
        fc.constantFrom('Notification', 'SubscriptionConfirmation', 'UnsubscribeConfirmation'),
        hostileString(),
      ),
      MessageId: fc.oneof(hostileString({ maxLength: 9000 }), hostileNumber),
      TopicArn: fc.oneof(
        hostileString({ maxLength: 2000 }),
        fc.constant('arn:aws:sns:us-east-1:123456789012:t'),
      ),
      Message: hostileString(),
      Timestamp: hostileString(),
      SignatureVersion: fc.constantFrom('1', '2', 'x'),
      Signature: hostileString(),
      SigningCertURL: hostileString(),
      SubscribeURL: hostileString(),
      UnsubscribeURL: hostileString(),
      Token: hostileString(),
      Subject: fc.oneof(hostileString(), hostileNumber),
    },
    // The common fields always there (most bodies then parse), the Type's own ones sometimes.
    {
      requiredKeys: [
        'Type',
        'MessageId',
        'TopicArn',
        'Message',
        'Timestamp',
        'SignatureVersion',
        'Signature',
        'SigningCertURL',
      ],
    },
  );

  it('never throws, and accepts only messages with every field their Type needs', () => {
    fc.assert(
      fc.property(fc.oneof(snsShaped, hostileJson), (body) => {
        const parsed = parseSnsMessage(body);
        looksLikeSnsMessage(body);
        if (!parsed.ok) {
          assert.ok(parsed.reason.length > 0);
          return;
        }
        assert.ok(Buffer.byteLength(parsed.message.TopicArn) <= 1024);
        // What was signed is handed on exactly as it came: the signature is checked over it.
        const sent = body as Record<string, unknown>;
        for (const field of ['Type', 'MessageId', 'TopicArn', 'Message', 'Timestamp', 'Signature'] as const)
          assert.equal(parsed.message[field], sent[field]);
      }),
      runs,
    );
  });
});

describe('storableJson', () => {
  it('makes every string storable, keeps lengths, changes nothing already storable, and is idempotent', () => {
    fc.assert(
      fc.property(hostileJson, (value) => {
        const cleaned = storableJson(value);
        for (const text of stringsIn(cleaned)) assert.ok(isStorable(text));
        assert.deepEqual(storableJson(cleaned), cleaned);
        if (stringsIn(value).every(isStorable)) assert.equal(cleaned, value);
      }),
      runs,
    );
    fc.assert(
      fc.property(hostileString({ maxLength: 200 }), (text) => {
        const cleaned = storableText(text);
        assert.ok(isStorable(cleaned));
        assert.equal(cleaned.length, text.length);
      }),
      runs,
    );
  });
});
