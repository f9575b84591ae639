import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { parseCriteria } from '../../oncall/conditions.js';
import type { CreateAlertInput } from '../service.js';
import { DETAILS_LIMITS, detailsSize } from '../limits.js';
import { applyRules, modify, SHAPED_LIMITS, type ShapingRule } from './shape.js';
import { expandTemplate, MAX_EXPANDED_LENGTH, type TemplateValues } from './templates.js';

const request: CreateAlertInput = {
  message: 'Disk full on db-1',
  alias: 'disk-db-1',
  description: 'Only 2% left',
  entity: 'db-1',
  source: 'prometheus',
  priority: 'P3',
  tags: ['disk', 'prod'],
  details: { Region: 'eu-west-1', team: 'storage' },
  responders: [{ type: 'team', name: 'storage' }],
  user: 'alertmanager',
  note: 'from rule DiskFull',
};

const values: TemplateValues = {
  message: 'Disk full',
  alias: 'a',
  description: 'd',
  entity: 'e',
  source: 's',
  priority: 'P2',
  user: 'u',
  note: 'n',
  tags: ['x', 'y'],
  actions: ['Restart'],
  details: { Region: 'eu-west-1' },
};

const matchAll = parseCriteria({ type: 'match-all' }, 'filter');
const when = (conditions: object[]) => parseCriteria({ type: 'match-all-conditions', conditions }, 'filter');

function rule(label: string, filter = matchAll, extra: Partial<ShapingRule> = {}): ShapingRule {
  return { label, filter, effect: { kind: 'modify', modifications: {} }, continue: false, ...extra };
}

describe('templates', () => {
  it('expands the simple {{field}} form, details by key, and unknown ones to nothing', () => {
    assert.equal(
      expandTemplate('[{{priority}}] {{message}} in {{details.Region}} / {{extraProperties.region}}', values),
      '[P2] Disk full in eu-west-1 / eu-west-1',
    );
    assert.equal(expandTemplate('{{tags}}|{{ missing }}|{{message.substring(0,3)}}|', values), 'x,y|||');
    assert.equal(expandTemplate('no placeholders {single}', values), 'no placeholders {single}');
    assert.equal(expandTemplate('{{details.Nope}}', values), '');
  });

  it('never evaluates what it is given', () => {
    const hostile = "{{constructor.constructor('return process')()}}{{__proto__}}{{toString}}";
    assert.equal(expandTemplate(hostile, values), '');
  });

  it('reads an unclosed or spaced placeholder without backtracking over the template', () => {
    const unclosed = `{{ ${'a '.repeat(7000)}`;
    assert.equal(expandTemplate(unclosed, values), unclosed);
    const many = '{{ message '.repeat(1400);
    assert.equal(expandTemplate(many, values), many);
    assert.equal(expandTemplate('{{  message  }}', values), 'Disk full');
  });

  it('bounds the output however many placeholders multiply a long value', () => {
    const long = { ...values, message: 'm'.repeat(15_000) };
    const out = expandTemplate('{{message}}'.repeat(1000), long);
    assert.equal(out.length, MAX_EXPANDED_LENGTH);
  });

  it('counts and cuts by characters, never leaving half a surrogate pair', () => {
    const chars = (text: string) => Array.from(text).length;
    // 15,000 characters (the longest description) in 29,999 UTF-16 units: passed through whole.
    const description = `a${'😀'.repeat(14_999)}`;
    assert.equal(expandTemplate('{{description}}', { ...values, description }), description);
    assert.equal(
      modify({ ...request, description }, { description: '{{description}}' }).description,
      description,
    );
    // Over the limit: cut at a character, whichever unit the limit falls on.
    for (const text of [`a${'😀'.repeat(MAX_EXPANDED_LENGTH)}`, '😀'.repeat(MAX_EXPANDED_LENGTH + 1)]) {
      for (const template of ['{{note}}', '{{note}}{{note}}', text]) {
        const out = expandTemplate(template, { ...values, note: text });
        assert.equal(chars(out), MAX_EXPANDED_LENGTH, template.slice(0, 20));
        assert.ok(!/\p{Cs}/u.test(out), 'no lone surrogate');
        assert.ok(text.startsWith(out));
      }
    }
    const many = expandTemplate('{{message}}'.repeat(1000), { ...values, message: '😀'.repeat(15_000) });
    assert.equal(many, '😀'.repeat(MAX_EXPANDED_LENGTH));
  });

  it('property: output is bounded and text without placeholders is kept', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 300 }), fc.string({ maxLength: 2000 }), (template, message) => {
        const out = expandTemplate(template, { ...values, message });
        assert.ok(Array.from(out).length <= MAX_EXPANDED_LENGTH);
        if (!template.includes('{{')) assert.equal(out, template);
      }),
    );
  });
});

describe('modify', () => {
  it('replaces text fields from templates and adds tags, details and responders', () => {
    const out = modify(request, {
      message: '[{{entity}}] {{message}}',
      description: '{{description}} (via {{source}})',
      tags: ['paged', '{{entity}}'],
      details: { runbook: 'https://runbooks/{{alias}}' },
      responders: [{ type: 'user', username: 'oncall@example.com' }],
      priority: 'p1',
    });
    assert.equal(out.message, '[db-1] Disk full on db-1');
    assert.equal(out.description, 'Only 2% left (via prometheus)');
    assert.deepEqual(out.tags, ['disk', 'prod', 'paged', 'db-1']);
    assert.deepEqual(out.details, {
      Region: 'eu-west-1',
      team: 'storage',
      runbook: 'https://runbooks/disk-db-1',
    });
    assert.equal(out.responders?.length, 2);
    assert.equal(out.priority, 'P1');
  });

  it('replaces lists and details when told to ignore the original ones', () => {
    const out = modify(request, {
      tags: ['only'],
      details: { k: 'v' },
      responders: [{ type: 'team', name: 'sre' }],
      replace: { tags: true, details: true, responders: true },
    });
    assert.deepEqual(out.tags, ['only']);
    assert.deepEqual(out.details, { k: 'v' });
    assert.deepEqual(out.responders, [{ type: 'team', name: 'sre' }]);
  });

  it('drops only the teams the request named when told to ignore its teams, not its other responders', () => {
    const named: CreateAlertInput = {
      ...request,
      responders: [
        { type: 'user', username: 'alice@example.com' },
        { type: 'team', name: 'db' },
        { type: 'escalation', name: 'esc' },
        { type: 'schedule', name: 'sched' },
      ],
    };
    const out = modify(named, { responders: [{ type: 'team', name: 'sre' }], replace: { teams: true } });
    assert.deepEqual(out.responders, [
      { type: 'user', username: 'alice@example.com' },
      { type: 'escalation', name: 'esc' },
      { type: 'schedule', name: 'sched' },
      { type: 'team', name: 'sre' },
    ]);
    const all = modify(named, { responders: [{ type: 'team', name: 'sre' }], replace: { responders: true } });
    assert.deepEqual(all.responders, [{ type: 'team', name: 'sre' }]);
  });

  it('keeps a priority that does not come out as P1..P5, and leaves absent fields absent', () => {
    const bare: CreateAlertInput = { message: 'm' };
    const out = modify(bare, { priority: '{{details.sev}}', source: '{{source}}', alias: '{{alias}}' });
    assert.equal(out.priority, undefined);
    assert.equal(out.source, undefined);
    assert.equal(out.alias, undefined);
  });

  it('keeps a detail named __proto__ as a detail', () => {
    const out = modify(request, { details: JSON.parse('{"__proto__": "x"}') as Record<string, string> });
    assert.equal(Object.getOwnPropertyDescriptor(out.details, '__proto__')?.value, 'x');
    assert.equal(Object.getPrototypeOf(out.details), Object.prototype);
  });

  it('keeps every expanded field within what the Alert API accepts', () => {
    const long = { ...request, description: 'd'.repeat(15_000), details: { big: 'x'.repeat(8000) } };
    const out = modify(long, {
      alias: '{{description}}',
      entity: '{{description}}{{description}}',
      tags: ['{{description}}'],
      details: { copy: '{{details.big}}{{details.big}}' },
    });
    assert.equal(out.alias?.length, SHAPED_LIMITS.alias);
    assert.equal(out.entity?.length, SHAPED_LIMITS.entity);
    assert.ok(out.tags?.every((t) => t.length <= SHAPED_LIMITS.listItem));
    assert.equal(out.details?.copy?.length, SHAPED_LIMITS.detailValue);
  });

  it('never leaves the message empty', () => {
    assert.equal(modify(request, { message: '{{nothing}}' }).message, request.message);
  });
});

describe('applyRules', () => {
  it('drops on the first matching drop rule, naming it', () => {
    const rules: ShapingRule[] = [
      {
        ...rule('ignore other'),
        filter: when([{ field: 'tags', operation: 'contains', expectedValue: 'test' }]),
        effect: { kind: 'drop' },
        continue: true,
      },
      {
        ...rule('ignore prod'),
        filter: when([{ field: 'tags', operation: 'contains', expectedValue: 'prod' }]),
        effect: { kind: 'drop' },
        continue: true,
      },
      rule('create'),
    ];
    const result = applyRules(request, rules, null);
    assert.equal(result.kind, 'dropped');
    assert.equal(result.kind === 'dropped' && result.by.label, 'ignore prod');
  });

  it('stops at the first matching rule unless it says continue, and later rules see the change', () => {
    const rules: ShapingRule[] = [
      rule('no match', when([{ field: 'message', operation: 'contains', expectedValue: 'cpu' }])),
      {
        ...rule('tag it', matchAll, { continue: true }),
        effect: { kind: 'modify', modifications: { tags: ['seen'] } },
      },
      {
        ...rule('uses the tag', when([{ field: 'tags', operation: 'contains', expectedValue: 'seen' }])),
        effect: { kind: 'modify', modifications: { priority: 'P1' } },
      },
      { ...rule('never reached'), effect: { kind: 'modify', modifications: { priority: 'P5' } } },
    ];
    const result = applyRules(request, rules, null);
    assert.equal(result.kind, 'shaped');
    if (result.kind !== 'shaped') return;
    assert.deepEqual(
      result.applied.map((r) => r.label),
      ['tag it', 'uses the tag'],
    );
    assert.equal(result.input.priority, 'P1');
    assert.ok(result.input.tags?.includes('seen'));
  });

  it('reports no rule applied when none matches, the request untouched', () => {
    const result = applyRules(
      request,
      [rule('x', when([{ field: 'priority', operation: 'equals', expectedValue: 'P1' }]))],
      null,
    );
    assert.deepEqual(result, { kind: 'shaped', input: request, applied: [], notes: [] });
  });

  it('property: rules that change nothing leave any request as it was', () => {
    const input = fc.record(
      {
        message: fc.string({ minLength: 1, maxLength: 50 }).filter((m) => m.trim() !== ''),
        alias: fc.string({ maxLength: 20 }),
        description: fc.string({ maxLength: 50 }),
        entity: fc.string({ maxLength: 20 }),
        source: fc.string({ maxLength: 20 }),
        tags: fc.uniqueArray(fc.string({ minLength: 1, maxLength: 10 }), { maxLength: 5 }),
        details: fc.dictionary(fc.string({ minLength: 1, maxLength: 5 }), fc.string({ maxLength: 10 })),
      },
      { requiredKeys: ['message'] },
    );
    const identity: ShapingRule = {
      label: 'defaults',
      filter: matchAll,
      effect: {
        kind: 'modify',
        modifications: {
          message: '{{message}}',
          alias: '{{alias}}',
          description: '{{description}}',
          entity: '{{entity}}',
          source: '{{source}}',
          priority: '{{priority}}',
          tags: [],
          details: {},
          responders: [],
        },
      },
      continue: false,
    };
    fc.assert(
      fc.property(input, (req) => {
        const result = applyRules(req, [identity], null);
        assert.equal(result.kind, 'shaped');
        if (result.kind !== 'shaped') return;
        const out = result.input;
        for (const field of ['message', 'alias', 'description', 'entity', 'source'] as const) {
          assert.equal(out[field] ?? '', req[field] ?? '', field);
        }
        assert.deepEqual(out.tags ?? [], [...new Set(req.tags ?? [])]);
        assert.deepEqual(Object.entries(out.details ?? {}), Object.entries(req.details ?? {}));
        assert.equal(out.responders, (req as CreateAlertInput).responders);
      }),
    );
  });
});

describe('details a rule adds, within the alert’s details limits', () => {
  const keys = (prefix: string, n: number, value: string) =>
    Object.fromEntries(Array.from({ length: n }, (_, i) => [`${prefix}${i}`, value]));
  const adding = (label: string, details: Record<string, string>, cont = false): ShapingRule => ({
    ...rule(label, matchAll, { continue: cont }),
    effect: { kind: 'modify', modifications: { details } },
  });
  const within = (details: Record<string, string> | undefined) => {
    const size = detailsSize(details ?? {});
    assert.ok(size.keys <= DETAILS_LIMITS.keys, `${size.keys} keys`);
    assert.ok(size.bytes <= DETAILS_LIMITS.bytes, `${size.bytes} bytes`);
    return size;
  };
  const shaped = (input: CreateAlertInput, rules: ShapingRule[]) => {
    const result = applyRules(input, rules, null);
    assert.equal(result.kind, 'shaped');
    return result as Extract<typeof result, { kind: 'shaped' }>;
  };

  it('leaves out those past 1,000 keys, keeps the alert’s own, and says how many', () => {
    const own = keys('k', 1000, 'w'.repeat(900));
    const result = shaped({ message: 'm', details: own }, [
      adding("policy 'Adds'", keys('pk', 1000, 'v'.repeat(900))),
    ]);
    within(result.input.details);
    assert.deepEqual(result.input.details, own);
    assert.deepEqual(result.notes, ["1000 details of policy 'Adds' left out: the alert's details are full"]);
    // With room for some, those that fit are taken in order.
    const some = shaped({ message: 'm', details: keys('k', 998, 'w') }, [
      adding("policy 'Adds'", keys('pk', 3, 'v')),
    ]);
    assert.equal(some.input.details?.pk0, 'v');
    assert.equal(some.input.details?.pk1, 'v');
    assert.equal(some.input.details?.pk2, undefined);
    assert.deepEqual(some.notes, ["1 detail of policy 'Adds' left out: the alert's details are full"]);
  });

  it('leaves out those past 1 MiB of JSON, as the Alert API counts it, and still replaces values', () => {
    const big = 'b'.repeat(8000);
    const own = keys('k', 120, big);
    const result = shaped({ message: 'm', details: own }, [
      adding("policy 'Big'", { k0: 'short', k1: '{{details.k2}}', ...keys('pk', 20, big) }),
    ]);
    const size = within(result.input.details);
    const added = Object.keys(result.input.details ?? {}).filter((k) => k.startsWith('pk')).length;
    assert.ok(added > 0 && added < 20, `${added} added`);
    // One more would not have fit.
    assert.ok(size.bytes + 8000 > DETAILS_LIMITS.bytes);
    assert.equal(result.input.details?.k0, 'short');
    assert.equal(result.input.details?.k1, big);
    assert.deepEqual(result.notes, [
      `${20 - added} details of policy 'Big' left out: the alert's details are full`,
    ]);
  });

  it('bounds templates that read long fields, however many rules continue', () => {
    const description = 'd'.repeat(15_000);
    const rules = Array.from({ length: 35 }, (_, r) =>
      adding(`policy 'Amplify ${r}'`, keys(`p${r}-`, 1000, '{{description}}{{description}}'), true),
    );
    const result = shaped({ message: 'm', description, details: keys('k', 10, 'w') }, rules);
    const size = within(result.input.details);
    assert.equal(result.applied.length, 35);
    // Each value is cut to a detail's 8,000 characters; the first rule fills the details.
    assert.equal(result.input.details?.['p0-0'], 'd'.repeat(8000));
    assert.equal(Object.keys(result.input.details ?? {}).filter((k) => k.startsWith('p1-')).length, 0);
    assert.equal(result.notes.length, 35);
    assert.match(result.notes[0] ?? '', /^\d+ details of policy 'Amplify 0' left out/);
    assert.equal(
      result.notes[1],
      "1000 details of policy 'Amplify 1' left out: the alert's details are full",
    );
    assert.ok(size.bytes > DETAILS_LIMITS.bytes - 8100, `${size.bytes} bytes: the details were filled`);
  });

  it('keeps a key such as __proto__ as a detail, and replaces the original when told', () => {
    const result = shaped({ message: 'm', details: { a: '1' } }, [
      {
        ...rule("policy 'Proto'"),
        effect: {
          kind: 'modify',
          modifications: { details: { ['__proto__']: 'x' }, replace: { details: true } },
        },
      },
    ]);
    assert.deepEqual(Object.entries(result.input.details ?? {}), [['__proto__', 'x']]);
    assert.deepEqual(result.notes, []);
  });

  it('expands a template no further than it is asked to', () => {
    assert.equal(
      expandTemplate('{{description}}!', { ...values, description: 'x'.repeat(100) }, 10),
      'x'.repeat(10),
    );
  });
});
