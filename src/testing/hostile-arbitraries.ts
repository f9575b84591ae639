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

/** Percent-encodes the UTF-8 of any string (encodeURIComponent throws on a lone surrogate). */
export function encode(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((b) =>
      /[A-Za-z0-9\-_.~]/.test(String.fromCharCode(b))
        ? String.fromCharCode(b)
        : `%${b.toString(16).padStart(2, '0')}`,
    )
    .join('');
}

/** Any generated value as query-string text (String() throws on an object whose toString is not a function). */
export function text(value: unknown): string {
  return typeof value === 'string' ? value : (JSON.stringify(value) ?? '');
}

// Mostly text, as senders send; sometimes a number or any JSON where text belongs.
const field = fc.oneof(
  { arbitrary: hostileString({ maxLength: 200 }), weight: 5 },
  { arbitrary: hostileNumber, weight: 1 },
  { arbitrary: hostileJson, weight: 1 },
);
/** A paging or sorting parameter: usually one the API accepts, so that the query itself gets exercised. */
const usually = <T>(valid: fc.Arbitrary<T>) =>
  fc.oneof({ arbitrary: valid, weight: 4 }, { arbitrary: field, weight: 1 });

/** An alert whose every field has the right type and size, and hostile text: it reaches the database. */
const plausibleAlertBody = fc.record(
  {
    message: hostileString({ minLength: 1, maxLength: 120 }),
    alias: hostileString({ maxLength: 100 }),
    description: hostileString({ maxLength: 300 }),
    tags: fc.array(hostileString({ minLength: 1, maxLength: 20 }), { maxLength: 5 }),
    details: fc.dictionary(
      hostileString({ minLength: 1, maxLength: 20 }),
      hostileString({ maxLength: 100 }),
      {
        maxKeys: 5,
      },
    ),
    entity: hostileString({ maxLength: 100 }),
    source: hostileString({ maxLength: 50 }),
    note: hostileString({ maxLength: 100 }),
    user: hostileString({ maxLength: 50 }),
    priority: fc.constantFrom('P1', 'P2', 'P3', 'P4', 'P5'),
  },
  { requiredKeys: ['message'] },
);

const alertBody = fc.record(
  {
    message: fc.oneof(hostileString({ minLength: 1, maxLength: 200 }), field),
    alias: field,
    description: field,
    tags: fc.oneof(fc.array(hostileString({ maxLength: 60 }), { maxLength: 25 }), field),
    details: fc.oneof(fc.dictionary(hostileString({ maxLength: 20 }), field, { maxKeys: 6 }), field),
    entity: field,
    source: field,
    priority: fc.oneof(fc.constantFrom('P1', 'P3', 'P5'), field),
    responders: fc.oneof(
      fc.array(fc.record({ type: fc.constantFrom('team', 'user', 'escalation', 'schedule'), name: field }), {
        maxLength: 3,
      }),
      field,
    ),
    note: field,
    user: field,
    actions: fc.oneof(fc.array(hostileString(), { maxLength: 12 }), field),
  },
  { requiredKeys: [] },
);

const identifier = fc.oneof(hostileString({ minLength: 1, maxLength: 60 }), fc.constant('TARGET'));
const identifierType = fc.constantFrom('id', 'tiny', 'alias', 'nonsense');

/**
 * A request to the API: alert creates and actions, reads with hostile identifiers and queries, and creates
 * of the other resources. `TARGET` in a path stands for an existing alert's id.
 */
export const hostileApiRequest: fc.Arbitrary<{ method: string; path: string; body: unknown }> = fc.oneof(
  fc.record({
    method: fc.constant('POST'),
    path: fc.constant('/v2/alerts'),
    body: fc.oneof(plausibleAlertBody, alertBody, hostileJson),
  }),
  fc
    .record({
      id: identifier,
      type: identifierType,
      action: fc.constantFrom(
        'acknowledge',
        'unacknowledge',
        'close',
        'snooze',
        'notes',
        'tags',
        'details',
        'assign',
        'escalate',
      ),
      body: fc.oneof(
        hostileJson,
        fc.record(
          {
            note: field,
            user: field,
            source: field,
            endTime: fc.oneof(field, fc.constantFrom('2030-06-30T23:59:60Z', '2099-01-01T00:00:00Z')),
            tags: field,
            details: field,
            owner: field,
            escalation: field,
          },
          { requiredKeys: [] },
        ),
      ),
    })
    .map((r) => ({
      method: 'POST',
      path: `/v2/alerts/${encode(r.id)}/${r.action}?identifierType=${r.type}`,
      body: r.body,
    })),
  fc
    .record({
      id: identifier,
      what: fc.constantFrom('priority', 'message', 'description'),
      body: hostileJson,
    })
    .map((r) => ({ method: 'PUT', path: `/v2/alerts/${encode(r.id)}/${r.what}`, body: r.body })),
  fc
    .record({
      id: identifier,
      type: identifierType,
      what: fc.constantFrom('', '/logs', '/notes'),
      offset: usually(fc.constant('')),
    })
    .map((r) => ({
      method: 'GET',
      path: `/v2/alerts/${encode(r.id)}${r.what}?identifierType=${r.type}${r.offset === '' ? '' : `&offset=${encode(text(r.offset))}`}`,
      body: undefined,
    })),
  fc
    .record({
      query: fc.oneof(
        hostileString({ maxLength: 120 }),
        fc
          .tuple(
            fc.constantFrom('count', 'tinyId', 'priority', 'details.x', 'message', 'tag'),
            fc.constantFrom(':', '>', '<=', '!='),
            fc.oneof(hostileNumber.map(String), hostileString()),
          )
          .map(([f, op, v]) => `${f}${op}${v}`),
      ),
      limit: usually(fc.constantFrom(1, 20, 100)),
      offset: usually(fc.constantFrom(0, 5)),
      sort: usually(fc.constantFrom('createdAt', 'tinyId', 'count')),
      count: fc.boolean(),
    })
    .map((r) => ({
      method: 'GET',
      path: r.count
        ? `/v2/alerts/count?query=${encode(r.query)}`
        : `/v2/alerts?query=${encode(r.query)}&limit=${encode(text(r.limit))}&offset=${encode(text(r.offset))}&sort=${encode(text(r.sort))}`,
      body: undefined,
    })),
  fc
    .record({
      id: identifier,
      type: identifierType,
      what: fc.constantFrom('tags', 'details'),
      values: hostileString(),
    })
    .map((r) => ({
      method: 'DELETE',
      path: `/v2/alerts/${encode(r.id)}/${r.what}?identifierType=${r.type}&tags=${encode(r.values)}&keys=${encode(r.values)}`,
      body: undefined,
    })),
  fc
    .record({
      path: fc.constantFrom('/v2/users', '/v2/teams', '/v2/schedules', '/v2/escalations', '/v2/integrations'),
      body: fc.oneof(
        hostileJson,
        // Plausible: the right types, hostile text.
        fc.record({
          name: hostileString({ minLength: 1, maxLength: 60 }),
          username: hostileString({ minLength: 1, maxLength: 40 }).map((u) => `${u}@example.com`),
          fullName: hostileString({ minLength: 1, maxLength: 60 }),
          description: hostileString({ maxLength: 100 }),
          timezone: fc.constantFrom('UTC', 'Europe/Berlin'),
          type: fc.constantFrom('API', 'AmazonSecurityHub'),
          ownerTeam: fc.constant({ name: 'Prop' }),
        }),
        fc.record(
          {
            name: field,
            username: field,
            fullName: field,
            description: field,
            timezone: field,
            type: fc.constantFrom('API', 'AmazonSecurityHub'),
            ownerTeam: fc.oneof(fc.constant({ name: 'Prop' }), field),
            rules: field,
          },
          { requiredKeys: [] },
        ),
      ),
    })
    .map((r) => ({ method: 'POST', path: r.path, body: r.body })),
);

/** Marks the findings a property run expects to become alerts. */
export const GOOD = '#good-';

/** A finding Security Hub would open an alert for: new, active, failing; anything may go in the rest. */
export const goodFinding = fc
  .tuple(
    hostileFinding,
    hostileString({ minLength: 1, maxLength: 60 }),
    fc.uuid(),
    fc.constantFrom('LOW', 'HIGH', 'CRITICAL'),
  )
  .map(([finding, id, unique, label]) => {
    const f = finding as Record<string, unknown>;
    return {
      ...f,
      Id: `${id}${GOOD}${unique}`,
      ProductArn: 'arn:aws:securityhub:us-east-1::product/aws/guardduty',
      Severity: { Label: label },
      Workflow: { Status: 'NEW' },
      RecordState: 'ACTIVE',
      Compliance: { Status: 'FAILED' },
      UpdatedAt: '2026-11-30T10:00:00Z',
    };
  });

/**
 * A body for the intake: mostly events whose findings are good (marked with {@link GOOD}: new, active,
 * failing, with anything in their other fields) among junk, else any event or any JSON.
 */
export const hostileDelivery = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .array(fc.oneof({ arbitrary: goodFinding, weight: 3 }, { arbitrary: hostileJson, weight: 1 }), {
        minLength: 1,
        maxLength: 12,
      })
      .chain((findings) => fc.uuid().map((id) => ({ findings, id })))
      .map(({ findings, id }) => ({
        id,
        'detail-type': 'Security Hub Findings - Imported',
        source: 'aws.securityhub',
        detail: { findings },
      })),
  },
  { weight: 1, arbitrary: hostileEvent },
  { weight: 1, arbitrary: hostileJson },
);

/** JSON nested `depth` levels deep (past what Vigil accepts when it is deeper than 64). */
export function nested(depth: number): unknown {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 === 0 ? { n: value } : [value];
  return value;
}

/**
 * An unsigned SNS notification (for an integration that does not verify signatures) carrying an event,
 * with hostile fields besides: MessageAttributes of any JSON or nested too deep, an id of any length.
 */
export const snsEnvelope = (event: fc.Arbitrary<unknown>) =>
  fc
    .record({
      event,
      messageId: fc.oneof(fc.uuid(), hostileString({ minLength: 1, maxLength: 9000 })),
      attributes: fc.oneof(
        fc.constant(undefined),
        hostileJson,
        fc.integer({ min: 50, max: 120 }).map(nested),
      ),
      subject: fc.oneof(fc.constant(undefined), hostileString()),
    })
    .map(({ event, messageId, attributes, subject }) => ({
      Type: 'Notification',
      MessageId: messageId,
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:property',
      Message: JSON.stringify(event),
      Timestamp: new Date().toISOString(),
      SignatureVersion: '2',
      Signature: 'unsigned',
      SigningCertURL: 'https://sns.us-east-1.amazonaws.com/unsigned.pem',
      UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
      ...(attributes !== undefined ? { MessageAttributes: attributes } : {}),
      ...(subject !== undefined ? { Subject: subject } : {}),
    }));

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
