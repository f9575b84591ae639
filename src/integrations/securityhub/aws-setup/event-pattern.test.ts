import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it } from 'node:test';
import { SECURITY_HUB_DEFAULTS, securityHubEventPattern } from '../../types.js';
import { matchesEventPattern, validateEventPattern, wildcardMatches } from './event-pattern.js';
import { ruleEventPattern } from './policies.js';

// Real Security Hub events and findings; provenance in test/fixtures/securityhub/SOURCES.md.
const FIXTURES = new URL('../../../../test/fixtures/securityhub/', import.meta.url);

interface Finding {
  Severity: { Label: string };
  Workflow: { Status: string };
  RecordState: string;
  [key: string]: unknown;
}
interface SecurityHubEvent {
  'detail-type': string;
  resources: string[];
  detail: { findings: Finding[]; [key: string]: unknown };
  [key: string]: unknown;
}

function fixture<T>(path: string): T {
  return JSON.parse(fs.readFileSync(new URL(path, FIXTURES), 'utf8')) as T;
}

const event = (name: string): SecurityHubEvent =>
  fixture<SecurityHubEvent>(`events/source_layer_test_test_json_data_${name}.json`);

/** Findings put in a real Imported event's envelope, the way Security Hub sends them. */
function imported(findings: Finding[]): SecurityHubEvent {
  const envelope = event('CIS-1.4');
  envelope.detail.findings = findings;
  return envelope;
}

/** A pattern that filters on the findings (as Vigil's rule did before), for the matcher's own tests. */
const HIGH_NEW_ACTIVE = {
  source: ['aws.securityhub'],
  'detail-type': ['Security Hub Findings - Imported'],
  detail: {
    findings: {
      Severity: { Label: ['HIGH', 'CRITICAL'] },
      Workflow: { Status: ['NEW'] },
      RecordState: ['ACTIVE'],
    },
  },
};

/** The pattern `vigil aws setup` and the CloudFormation templates give the rule for Imported findings. */
const IMPORTED_RULE = ruleEventPattern('imported', { customActionArn: undefined });

describe("the rule's pattern for Imported findings, on real Security Hub events", () => {
  const critical = imported([fixture<Finding>('asff/afsbp-ec2.1.json')]);

  it('is valid and takes new findings of every severity (the intake applies the minimum)', () => {
    assert.equal(validateEventPattern(IMPORTED_RULE), undefined);
    assert.ok(matchesEventPattern(IMPORTED_RULE, critical), 'CRITICAL');
    const inspector = fixture<{ Findings: Finding[] }>('getfindings/inspector_ec2_cve.json').Findings;
    assert.ok(matchesEventPattern(IMPORTED_RULE, imported(inspector)), 'Inspector');
    assert.ok(matchesEventPattern(IMPORTED_RULE, event('CIS-1.4')), 'MEDIUM');
    assert.ok(matchesEventPattern(IMPORTED_RULE, event('afsbp-ec2.7')), 'INFORMATIONAL');
  });

  it('takes the updates of a known finding that close or change its alert', () => {
    const update = (change: (f: Finding) => void) => {
      const next = structuredClone(critical);
      change(next.detail.findings[0]!);
      return next;
    };
    const updates: Record<string, SecurityHubEvent> = {
      RESOLVED: update((f) => (f.Workflow.Status = 'RESOLVED')),
      SUPPRESSED: update((f) => (f.Workflow.Status = 'SUPPRESSED')),
      ARCHIVED: update((f) => (f.RecordState = 'ARCHIVED')),
      'RESOLVED and ARCHIVED': update((f) => {
        f.Workflow.Status = 'RESOLVED';
        f.RecordState = 'ARCHIVED';
      }),
      'downgraded to INFORMATIONAL': update((f) => (f.Severity.Label = 'INFORMATIONAL')),
      'the write-back echo (NOTIFIED), which the intake recognises': update(
        (f) => (f.Workflow.Status = 'NOTIFIED'),
      ),
    };
    for (const [what, ev] of Object.entries(updates)) assert.ok(matchesEventPattern(IMPORTED_RULE, ev), what);
  });

  it("takes the new Security Hub's Findings Imported V2 (OCSF) events, on the same bus", () => {
    const v2 = {
      ...structuredClone(critical),
      'detail-type': 'Findings Imported V2',
      detail: {
        finding_info: { uid: 'f-1', title: 'S3 bucket is public' },
        metadata: { product: { uid: 'arn:aws:securityhub:us-east-1::product/aws/securityhub' } },
        severity_id: 4,
        status_id: 4,
      },
    };
    assert.ok(matchesEventPattern(IMPORTED_RULE, v2), 'a Findings Imported V2 event');
  });

  it("is the integration page's pattern for the finding events, and takes no custom action", () => {
    assert.deepEqual(IMPORTED_RULE, securityHubEventPattern({ eventTypes: ['imported', 'imported-v2'] }));
    assert.deepEqual(IMPORTED_RULE['detail-type'], [
      'Security Hub Findings - Imported',
      'Findings Imported V2',
    ]);
    // What the rule sends, the page's default pattern (all event types) sends too.
    const page = securityHubEventPattern(SECURITY_HUB_DEFAULTS);
    assert.ok(matchesEventPattern(page, critical), 'the page takes the Imported event');
    const customAction = event('custom-action-mismatch');
    assert.equal(customAction.detail.findings[0]?.Severity.Label, 'HIGH');
    assert.ok(!matchesEventPattern(IMPORTED_RULE, customAction), 'the rule takes no custom action');
    assert.ok(matchesEventPattern(page, customAction), 'the page takes custom actions');
  });
});

describe('event patterns on real Security Hub events', () => {
  const critical = imported([fixture<Finding>('asff/afsbp-ec2.1.json')]);

  it('a pattern on the findings selects by their fields', () => {
    assert.equal(validateEventPattern(HIGH_NEW_ACTIVE), undefined);
    assert.ok(matchesEventPattern(HIGH_NEW_ACTIVE, critical));
    assert.ok(!matchesEventPattern(HIGH_NEW_ACTIVE, event('CIS-1.4')), 'MEDIUM');
    assert.ok(!matchesEventPattern(HIGH_NEW_ACTIVE, event('afsbp-ec2.7')), 'INFORMATIONAL');
    const archived = structuredClone(critical);
    archived.detail.findings[0]!.RecordState = 'ARCHIVED';
    assert.ok(!matchesEventPattern(HIGH_NEW_ACTIVE, archived));
  });

  it('a custom-action pattern selects its own action by ARN, exactly', () => {
    const action = event('custom-action-mismatch');
    const pattern = (arn: string) => ({
      source: ['aws.securityhub'],
      'detail-type': ['Security Hub Findings - Custom Action'],
      resources: [arn],
    });
    const own = action.resources[0]!;
    assert.ok(matchesEventPattern(pattern(own), action));
    assert.ok(!matchesEventPattern(pattern(own.replace('cis134RR', 'cis134rr')), action));
    assert.ok(!matchesEventPattern(pattern(own), event('CIS_1-6')), 'another custom action');
    assert.ok(!matchesEventPattern(pattern(own), event('CIS-1.4')), 'an Imported event');
  });

  it('looks through arrays: each field asks whether any finding has the value (EventBridge flattens)', () => {
    const [first, second] = fixture<{ Findings: Finding[] }>('getfindings/guardduty.json').Findings;
    const mixed = imported([
      { ...first!, Workflow: { Status: 'NOTIFIED' }, Severity: { Label: 'HIGH' } },
      { ...second!, Workflow: { Status: 'NEW' }, Severity: { Label: 'LOW' } },
    ]);
    // No single finding is HIGH and NEW, yet the flattened event has both values.
    assert.ok(matchesEventPattern(HIGH_NEW_ACTIVE, mixed));
    assert.ok(matchesEventPattern({ findings: { A: [1], B: [2] } }, { findings: [{ A: 1 }, { B: 2 }] }));
    assert.ok(!matchesEventPattern({ findings: { A: [1], B: [2] } }, { findings: [{ A: 1 }, { B: 3 }] }));
    assert.ok(matchesEventPattern({ a: { b: { c: ['x'] } } }, { a: [{ b: [[{ c: ['y', 'x'] }]] }] }));
  });

  it('joins keys with dots, in the pattern and in the event alike', () => {
    const nested = { detail: { state: { status: 'running' } } };
    const dotted = { detail: { 'state.status': 'running' } };
    for (const event of [nested, dotted]) {
      assert.ok(matchesEventPattern({ detail: { 'state.status': ['running'] } }, event));
      assert.ok(matchesEventPattern({ detail: { state: { status: ['running'] } } }, event));
      assert.ok(!matchesEventPattern({ detail: { state: { status: ['stopped'] } } }, event));
    }
  });
});

describe('matchesEventPattern', () => {
  const ev = {
    source: 'aws.securityhub',
    'detail-type': 'Security Hub Findings - Imported',
    resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-1', 'arn:aws:s3:::bucket'],
    detail: {
      state: 'running',
      count: 5,
      ratio: 0.5,
      flag: false,
      nothing: null,
      empty: [],
      nested: { inner: 'v' },
      ip: '10.0.0.17',
      ip6: '2001:db8::1',
      file: 'Report.PNG',
      path: 'a/b/dir/c.txt',
    },
  };
  const yes = (pattern: object, why?: string): void =>
    assert.ok(matchesEventPattern(pattern, ev), why ?? JSON.stringify(pattern));
  const no = (pattern: object, why?: string): void =>
    assert.ok(!matchesEventPattern(pattern, ev), why ?? JSON.stringify(pattern));
  const detail = (field: string, rules: unknown[]) => ({ detail: { [field]: rules } });

  it('exact values: strings, numbers, booleans and null, by type', () => {
    yes({ source: ['aws.ec2', 'aws.securityhub'] });
    no({ source: ['AWS.securityhub'] });
    yes(detail('count', [5]));
    yes(detail('count', [5.0]));
    no(detail('count', ['5']));
    yes(detail('flag', [false]));
    no(detail('flag', ['false']));
    yes(detail('nothing', [null]));
    no(detail('state', [null]));
    yes({ resources: ['arn:aws:s3:::bucket'] });
    no({ resources: ['arn:aws:s3:::other'] });
  });

  it('a key missing from the event matches nothing but exists:false', () => {
    no(detail('absent', ['x']));
    no(detail('absent', [{ 'anything-but': 'x' }]));
    no(detail('absent', [{ numeric: ['>', 0] }]));
    yes(detail('absent', [{ exists: false }]));
    no(detail('absent', [{ exists: true }]));
    no({ missing: { deeper: ['x'] } });
    yes({ missing: { deeper: [{ exists: false }] } });
  });

  it('exists looks at leaf values only', () => {
    yes(detail('state', [{ exists: true }]));
    no(detail('state', [{ exists: false }]));
    yes(detail('nothing', [{ exists: true }]), 'null is a value');
    no(detail('empty', [{ exists: true }]), 'an empty array has no value');
    yes(detail('empty', [{ exists: false }]));
    no(detail('nested', [{ exists: true }]), 'an object is not a leaf');
  });

  it('prefix, suffix and equals-ignore-case', () => {
    yes({ source: [{ prefix: 'aws.' }] });
    no({ source: [{ prefix: 'AWS.' }] });
    yes({ source: [{ prefix: { 'equals-ignore-case': 'AWS.SEC' } }] });
    yes(detail('file', [{ suffix: '.PNG' }]));
    no(detail('file', [{ suffix: '.png' }]));
    yes(detail('file', [{ suffix: { 'equals-ignore-case': '.png' } }]));
    yes({ 'detail-type': [{ 'equals-ignore-case': 'security hub findings - imported' }] });
    no(detail('count', [{ prefix: '5' }]), 'prefix applies to strings only');
  });

  it('anything-but', () => {
    yes(detail('state', [{ 'anything-but': 'stopped' }]));
    no(detail('state', [{ 'anything-but': 'running' }]));
    no(detail('state', [{ 'anything-but': ['stopped', 'running'] }]));
    yes(detail('count', [{ 'anything-but': [4, 6] }]));
    no(detail('count', [{ 'anything-but': 5 }]));
    yes(detail('nothing', [{ 'anything-but': 'x' }]), 'null is not x');
    no(detail('state', [{ 'anything-but': { prefix: 'run' } }]));
    yes(detail('state', [{ 'anything-but': { prefix: ['stop', 'pend'] } }]));
    no(detail('file', [{ 'anything-but': { suffix: '.PNG' } }]));
    no(detail('path', [{ 'anything-but': { wildcard: '*/dir/*' } }]));
    no(detail('state', [{ 'anything-but': { 'equals-ignore-case': 'RUNNING' } }]));
    yes(detail('count', [{ 'anything-but': { prefix: '5' } }]), 'a number is not a string with that prefix');
  });

  it('numeric', () => {
    yes(detail('count', [{ numeric: ['>', 0, '<=', 5] }]));
    no(detail('count', [{ numeric: ['>', 0, '<', 5] }]));
    yes(detail('count', [{ numeric: ['=', 5] }]));
    yes(detail('ratio', [{ numeric: ['>=', 0.5] }]));
    no(detail('state', [{ numeric: ['>', 0] }]));
    no(detail('nothing', [{ numeric: ['>', 0] }]));
  });

  it('wildcard, in linear time', () => {
    yes(detail('path', [{ wildcard: 'a/*/dir/*.txt' }]));
    no(detail('path', [{ wildcard: 'a/*/dir/*.png' }]));
    assert.ok(wildcardMatches('*', ''));
    assert.ok(wildcardMatches('a*b*c', 'aXbYbZc'));
    assert.ok(!wildcardMatches('a*b*c', 'aXcYb'));
    assert.ok(!wildcardMatches('ab*ba', 'aba'), 'prefix and suffix may not overlap');
    assert.ok(wildcardMatches('*.*', 'a.b.c'));
    const started = performance.now();
    assert.ok(!wildcardMatches(`${'*a'.repeat(40)}*b`, 'a'.repeat(200_000)));
    assert.ok(performance.now() - started < 1000);
  });

  it('cidr, IPv4 and IPv6', () => {
    yes(detail('ip', [{ cidr: '10.0.0.0/24' }]));
    no(detail('ip', [{ cidr: '10.0.1.0/24' }]));
    yes(detail('ip', [{ cidr: '0.0.0.0/0' }]));
    yes(detail('ip', [{ cidr: '10.0.0.17/32' }]));
    yes(detail('ip6', [{ cidr: '2001:db8::/32' }]));
    no(detail('ip6', [{ cidr: '2001:db9::/32' }]));
    no(detail('ip', [{ cidr: '::/0' }]), 'families do not mix');
    no(detail('state', [{ cidr: '0.0.0.0/0' }]));
  });

  it('$or', () => {
    yes({ $or: [{ source: ['aws.ec2'] }, { detail: { count: [5] } }] });
    no({ $or: [{ source: ['aws.ec2'] }, { detail: { count: [6] } }] });
    yes({ detail: { $or: [{ state: ['stopped'] }, { flag: [false] }] } });
  });
});

describe('validateEventPattern', () => {
  const reason = (pattern: unknown): string | undefined => validateEventPattern(pattern);

  it('accepts the documented forms', () => {
    for (const pattern of [
      HIGH_NEW_ACTIVE,
      { source: [{ prefix: { 'equals-ignore-case': 'aws.' } }] },
      { a: [{ 'anything-but': { prefix: 'init' } }, { 'anything-but': [1, 2] }, { numeric: ['<', 0] }] },
      { a: [{ numeric: ['>', 0, '<=', 5] }, { cidr: '10.0.0.0/8' }, { cidr: '2001:db8::/32' }] },
      { a: [{ exists: false }, { wildcard: '*/x/*' }, { 'equals-ignore-case': 'X' }, null, true, 1.5] },
      { $or: [{ a: ['1'] }, { b: { c: ['2'] } }] },
    ])
      assert.equal(reason(pattern), undefined, JSON.stringify(pattern));
  });

  it('refuses what EventBridge refuses, with its reasons', () => {
    assert.equal(reason(['not', 'an', 'object']), 'Filter is not an object');
    assert.equal(reason('{}'), 'Filter is not an object');
    assert.equal(reason({ int: 42 }), '"int" must be an object or an array');
    assert.equal(reason({ resources: [] }), 'Empty arrays are not allowed');
    assert.equal(reason({ my_key: [{ EXISTS: true }] }), 'Unrecognized match type EXISTS');
    assert.equal(reason({ a: [{ contains: 'x' }] }), 'Unrecognized match type contains');
    assert.equal(reason({ a: [{ prefix: 'a', suffix: 'b' }] }), 'Only one key allowed in match expression');
    assert.equal(reason({ a: [['nested']] }), 'Match value must be String, number, true, false, or null');
    assert.equal(reason({ c: [{ numeric: ['>', 0, '>', 0] }] }), 'Bad numeric range operator: >');
    assert.equal(reason({ c: [{ numeric: ['>', 0, '<'] }] }), 'Value of < must be numeric');
    assert.equal(reason({ c: [{ numeric: ['>', 5, '<', 1] }] }), 'Bottom must be less than top');
    assert.equal(reason({ t: [{ prefix: ['2022'] }] }), 'prefix match pattern must be a string');
    assert.equal(reason({ t: [{ suffix: 123 }] }), 'suffix match pattern must be a string');
    assert.equal(
      reason({ t: [{ 'equals-ignore-case': ['x'] }] }),
      'equals-ignore-case match pattern must be a string',
    );
    assert.equal(reason({ t: [{ wildcard: 'arn:aws:**:x' }] }), 'Consecutive wildcard characters at pos 9');
    assert.equal(reason({ t: [{ wildcard: 123 }] }), 'wildcard match pattern must be a string');
    assert.equal(reason({ t: [{ exists: 'yes' }] }), 'exists match pattern must be either true or false.');
    assert.equal(reason({ ip: [{ cidr: '10.0.0.0' }] }), "Malformed CIDR, one '/' required");
    assert.equal(reason({ ip: [{ cidr: '10.0.0.0/x' }] }), 'Malformed CIDR, mask bits must be an integer');
    assert.equal(reason({ ip: [{ cidr: 'xx.11.xx/8' }] }), 'Nonstandard IP address: xx.11.xx');
    assert.equal(
      reason({ s: [{ 'anything-but': ['stopped', null] }] }),
      'Inside anything but list, start|null|boolean is not supported.',
    );
    assert.equal(
      reason({ s: [{ 'anything-but': { prefix: { 'equals-ignore-case': 'x' } } }] }),
      'prefix/suffix match pattern must be a string',
    );
    assert.equal(
      reason({ s: [{ 'anything-but': true }] }),
      'Value of anything-but must be an array or single string/number value.',
    );
  });

  it('refuses patterns over 4096 characters and over 1000 combinations', () => {
    const long = { source: ['x'.repeat(4090)] };
    assert.match(reason(long) ?? '', /longer than 4096/);
    const range = (n: number) => Array.from({ length: n }, (_, i) => i);
    assert.equal(reason({ a: range(40), b: range(25) }), undefined, '1000 is allowed');
    assert.match(reason({ a: range(40), b: range(26) }) ?? '', /1040 combinations/);
    const or = { $or: [{ a: range(20) }, { b: range(20) }], c: range(30) };
    assert.match(reason(or) ?? '', /1200 combinations/);
  });
});
