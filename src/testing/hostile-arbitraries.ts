import fc from 'fast-check';

/**
 * fast-check arbitraries for hostile input: text with NULs, lone surrogates, quotes, wildcards and the
 * names of Object.prototype's properties; JSON of any shape made of it; numbers of any size. The property
 * suites run them with a fixed seed and a bounded count, so CI sees the same cases every time.
 */

/** A fixed seed: a failure in CI can be reproduced locally with the same cases. */
export const PROPERTY_SEED = 20261202;

const NASTY_UNITS = [
  '\u0000',
  '\ud800',
  '\udbff',
  '\udc00',
  '\udfff',
  '\uFFFD',
  '\uFEFF',
  '"',
  '\\',
  '%',
  '*',
  '_',
  '(',
  ')',
  ':',
  '\n',
  ' ',
];

/** One unit of hostile text: often an ordinary code point, sometimes one of the nasty ones. */
export const hostileUnit = fc.oneof(
  { arbitrary: fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), weight: 4 },
  { arbitrary: fc.constantFrom(...NASTY_UNITS), weight: 2 },
  { arbitrary: fc.constantFrom('__proto__', 'constructor', 'toString', 'hasOwnProperty'), weight: 1 },
);

export function hostileString(constraints: { minLength?: number; maxLength?: number } = {}) {
  return fc.string({ unit: hostileUnit, maxLength: 40, ...constraints });
}

/** Numbers of every kind a JSON sender can write, including ones no column holds. */
export const hostileNumber = fc.oneof(
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(2147483648, -2147483649, 2 ** 63, 1e308, -0, 0.5, 2 ** 53 + 1),
);

/** Any JSON value made of hostile strings and numbers (keys too), a few levels deep. */
export const hostileJson: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString(),
    hostileNumber,
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(hostileString({ maxLength: 12 }), tie('value'), { maxKeys: 5 }),
  ),
})).value;

/** What the parsers read of findings and events, generated hostile. */
/** A finding (ASFF or OCSF-ish) whose every field may be hostile, or missing. */
export const hostileFinding = fc.record(
  {
    Id: fc.oneof(hostileString({ minLength: 1 }), hostileNumber, fc.constant(undefined)),
    ProductArn: fc.oneof(
      hostileString({ minLength: 1 }),
      fc.constantFrom(
        'arn:aws:securityhub:us-east-1::product/aws/guardduty',
        'arn:aws:securityhub:us-east-1::product/acme/constructor',
        'arn:aws:securityhub:us-east-1::product/acme/__proto__',
      ),
    ),
    Title: hostileString({ maxLength: 400 }),
    Description: hostileString({ maxLength: 400 }),
    Severity: fc.record({
      Label: fc.oneof(hostileString(), fc.constantFrom('LOW', 'CRITICAL')),
      Normalized: hostileNumber,
    }),
    Types: fc.array(hostileString(), { maxLength: 4 }),
    Resources: fc.array(fc.record({ Id: hostileString(), Type: hostileString(), Region: hostileString() }), {
      maxLength: 30,
    }),
    Workflow: fc.record({ Status: hostileString() }),
    Compliance: fc.record({ Status: hostileString() }),
    ProductFields: fc.dictionary(hostileString({ maxLength: 10 }), hostileString()),
    UpdatedAt: hostileString(),
    Note: fc.record({ Text: hostileString(), UpdatedBy: hostileString() }),
    finding_info: fc.record({ uid: hostileString(), title: hostileString() }),
    metadata: fc.record({ product: fc.record({ uid: hostileString(), name: hostileString() }) }),
    severity_id: hostileNumber,
    status: hostileString(),
    compliance: fc.record({ status: hostileString(), status_id: hostileNumber }),
  },
  { requiredKeys: [] },
);

/** An EventBridge event of any Security Hub kind, hostile throughout. */
export const hostileEvent = fc.record(
  {
    id: fc.oneof(hostileString({ maxLength: 9000 }), hostileNumber),
    'detail-type': fc.oneof(
      hostileString(),
      fc.constantFrom(
        'Security Hub Findings - Imported',
        'Security Hub Findings - Custom Action',
        'Security Hub Insight Results',
        'Findings Imported V2',
      ),
    ),
    source: fc.oneof(hostileString(), fc.constant('aws.securityhub')),
    resources: fc.array(hostileString(), { maxLength: 3 }),
    detail: fc.record(
      {
        findings: fc.array(
          fc.oneof({ arbitrary: hostileFinding, weight: 5 }, { arbitrary: hostileJson, weight: 1 }),
          {
            maxLength: 8,
          },
        ),
        actionName: hostileString(),
        actionDescription: hostileString(),
        insightName: hostileString(),
        insightResults: fc.array(fc.dictionary(hostileString({ maxLength: 10 }), hostileNumber), {
          maxLength: 4,
        }),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: [] },
);

/** True when PostgreSQL's text and jsonb can hold the string: no NUL and no lone surrogate. */
export function isStorable(text: string): boolean {
  return !/\0|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(text);
}

/** Every string (and key) in a value, for checking them all. */
export function stringsIn(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) stringsIn(item, out);
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value)) {
      out.push(key);
      stringsIn(item, out);
    }
  }
  return out;
}
