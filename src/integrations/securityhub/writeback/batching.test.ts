import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  FILLING_MAX_WAIT_MS,
  GATHER_MAX_MS,
  GATHER_QUIET_MS,
  MAX_FINDINGS_PER_REQUEST,
  PARTIAL_MAX_WAIT_MS,
  gatherCutoffs,
  latestPerFindingField,
  partialWaitsUntil,
  planRequests,
  type BatchableChange,
} from './batching.js';

const T0 = Date.parse('2026-11-27T10:00:00Z');
const at = (ms: number) => new Date(T0 + ms);

let nextId = 1;
function change(overrides: Partial<BatchableChange> & { atMs: number }): BatchableChange {
  const id = String(nextId++);
  const { atMs, ...rest } = overrides;
  return {
    id,
    integrationId: 'hub-a',
    format: 'asff',
    productArn: 'arn:aws:securityhub:us-east-1::product/aws/securityhub',
    findingId: `finding-${id}`,
    field: 'workflow',
    value: { Status: 'RESOLVED' },
    seq: id,
    createdAt: at(atMs),
    ...rest,
  };
}

/** `count` changes to distinct findings, the first at `fromMs`, one every `everyMs`. */
function series(
  count: number,
  fromMs: number,
  everyMs: number,
  overrides: Partial<BatchableChange> = {},
): BatchableChange[] {
  return Array.from({ length: count }, (_, i) => change({ atMs: fromMs + i * everyMs, ...overrides }));
}

/** The region in a finding's product ARN: the Security Hub a request goes to. */
const regionOf = (c: BatchableChange) => c.productArn.split(':')[3];

const requestKey = (c: BatchableChange) =>
  `${c.integrationId}|${regionOf(c)}|${c.format}|${c.field}|${JSON.stringify(c.value)}`;

const productIn = (region: string) => `arn:aws:securityhub:${region}::product/aws/guardduty`;

describe('the gathering window', () => {
  it('claims after a quiet pause, or at the latest a while after the first change', () => {
    assert.deepEqual(gatherCutoffs(at(5000)), {
      firstCreatedBefore: at(5000 - GATHER_MAX_MS),
      quietSince: at(5000 - GATHER_QUIET_MS),
    });
  });
});

describe('the latest change of a finding field wins', () => {
  it('keeps the change of the latest event, whatever order they were claimed in', () => {
    const older = change({ atMs: 0, findingId: 'f', seq: '10', value: { Status: 'NOTIFIED' } });
    const newer = change({ atMs: 5, findingId: 'f', seq: '12', value: { Status: 'RESOLVED' } });
    const middle = change({ atMs: 9, findingId: 'f', seq: '11', value: { Status: 'NEW' } });
    const { latest, superseded } = latestPerFindingField([newer, older, middle]);
    assert.deepEqual(latest, [newer]);
    assert.deepEqual(new Set(superseded), new Set([older, middle]));
  });

  it('orders by row when two changes come from one event', () => {
    const first = change({ atMs: 0, findingId: 'f', seq: '7' });
    const second = change({ atMs: 0, findingId: 'f', seq: '7' });
    assert.deepEqual(latestPerFindingField([second, first]).latest, [second]);
  });

  it('keeps one change per field, per finding and per integration', () => {
    const changes = [
      change({ atMs: 0, findingId: 'f', field: 'workflow' }),
      change({ atMs: 0, findingId: 'f', field: 'severity', value: { Label: 'LOW' } }),
      change({ atMs: 0, findingId: 'f', field: 'note', value: { Text: 'x', UpdatedBy: 'Vigil' } }),
      change({ atMs: 0, findingId: 'g', field: 'workflow' }),
      change({ atMs: 0, findingId: 'f', field: 'workflow', integrationId: 'hub-b' }),
      change({ atMs: 0, findingId: 'f', field: 'workflow', productArn: 'arn:other-product' }),
    ];
    const { latest, superseded } = latestPerFindingField(changes);
    assert.equal(latest.length, changes.length);
    assert.deepEqual(superseded, []);
  });
});

describe('whether a partial batch waits for more', () => {
  const cases: {
    name: string;
    createdAtMs: number[];
    stillArriving: boolean;
    nowMs: number;
    waits: boolean;
  }[] = [
    { name: 'nothing to wait for', createdAtMs: [], stillArriving: true, nowMs: 0, waits: false },
    { name: 'still arriving, young', createdAtMs: [0], stillArriving: true, nowMs: 1499, waits: true },
    { name: 'still arriving, 1.5 s old', createdAtMs: [0], stillArriving: true, nowMs: 1500, waits: false },
    { name: 'quiet, few', createdAtMs: [0, 1, 2], stillArriving: false, nowMs: 300, waits: false },
    {
      name: 'quiet, 20 filling fast, under 5 s',
      createdAtMs: Array.from({ length: 20 }, (_, i) => i * 10),
      stillArriving: false,
      nowMs: FILLING_MAX_WAIT_MS - 1,
      waits: true,
    },
    {
      name: 'quiet, 20 filling fast, 5 s old',
      createdAtMs: Array.from({ length: 20 }, (_, i) => i * 10),
      stillArriving: false,
      nowMs: FILLING_MAX_WAIT_MS,
      waits: false,
    },
    {
      name: 'quiet, 19 filling fast',
      createdAtMs: Array.from({ length: 19 }, (_, i) => i * 10),
      stillArriving: false,
      nowMs: 1000,
      waits: false,
    },
    {
      // 80 more at this pace would take 80 × 3800 / 20 = 15.2 s: not worth waiting for.
      name: 'quiet, 20 filling slowly',
      createdAtMs: Array.from({ length: 20 }, (_, i) => i * 200),
      stillArriving: false,
      nowMs: 4100,
      waits: false,
    },
    {
      name: 'quiet, 20 at the very same instant',
      createdAtMs: Array.from({ length: 20 }, () => 0),
      stillArriving: false,
      nowMs: 4000,
      waits: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const createdAtMs = c.createdAtMs.map((ms) => T0 + ms);
      const arrivingUntil = c.stillArriving ? Infinity : -Infinity;
      assert.equal(T0 + c.nowMs < partialWaitsUntil(createdAtMs, arrivingUntil), c.waits);
    });
  }
});

describe('planning requests', () => {
  const cases: {
    name: string;
    changes: () => BatchableChange[];
    nowMs: number;
    eventsInFlight?: boolean;
    requests: number[];
    held: number;
  }[] = [
    {
      name: 'a lone change waits while changes keep coming',
      changes: () => series(1, 0, 0),
      nowMs: 100,
      requests: [],
      held: 1,
    },
    {
      name: 'a trickle still arriving waits under 1.5 s…',
      changes: () => series(4, 0, 400),
      nowMs: PARTIAL_MAX_WAIT_MS - 200,
      requests: [],
      held: 4,
    },
    {
      name: '…and goes once its first change is 1.5 s old, though more keep coming',
      changes: () => series(5, 0, 350),
      nowMs: PARTIAL_MAX_WAIT_MS,
      requests: [5],
      held: 0,
    },
    {
      name: 'a partial batch goes at once when the changes have paused',
      changes: () => series(5, 0, 10),
      nowMs: 40 + GATHER_QUIET_MS + 10,
      requests: [5],
      held: 0,
    },
    {
      name: 'alert events still on their way count as changes still coming',
      changes: () => series(5, 0, 10),
      nowMs: 1000,
      eventsInFlight: true,
      requests: [],
      held: 5,
    },
    {
      name: 'a fast-filling batch of 20 waits through a pause…',
      changes: () => series(20, 0, 10),
      nowMs: 3000,
      requests: [],
      held: 20,
    },
    {
      name: '…for up to 5 s',
      changes: () => series(20, 0, 10),
      nowMs: FILLING_MAX_WAIT_MS,
      requests: [20],
      held: 0,
    },
    {
      name: 'a full 100 goes at once, even while changes keep coming',
      changes: () => series(100, 0, 1),
      nowMs: 100,
      requests: [100],
      held: 0,
    },
    {
      name: '250 still coming: two full requests go, the 50 wait',
      changes: () => series(250, 0, 1),
      nowMs: 260,
      requests: [100, 100],
      held: 50,
    },
    {
      name: '230 at once, 5 s on: 100 + 100 + 30',
      changes: () => series(230, 0, 0),
      nowMs: FILLING_MAX_WAIT_MS,
      requests: [100, 100, 30],
      held: 0,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const changes = c.changes();
      const plan = planRequests(changes, { now: at(c.nowMs), eventsInFlight: c.eventsInFlight ?? false });
      assert.deepEqual(
        plan.requests.map((r) => r.length),
        c.requests,
      );
      assert.equal(plan.held.length, c.held);
    });
  }

  it('holds only the partial tail, the newest changes of the group', () => {
    const changes = series(250, 0, 1);
    const plan = planRequests(changes, { now: at(260), eventsInFlight: false });
    assert.deepEqual(plan.held, changes.slice(200));
    assert.deepEqual(plan.requests.flat(), changes.slice(0, 200));
  });

  it("one integration's changes still coming do not hold another's", () => {
    const quiet = series(3, 0, 10, { integrationId: 'hub-quiet' });
    const busy = series(3, 900, 50, { integrationId: 'hub-busy' });
    const plan = planRequests([...quiet, ...busy], { now: at(1000), eventsInFlight: false });
    assert.deepEqual(plan.requests, [quiet]);
    assert.deepEqual(plan.held, busy);
  });

  it('different values never share a request', () => {
    const changes = [
      ...series(3, 0, 0, { value: { Status: 'RESOLVED' } }),
      ...series(2, 0, 0, { value: { Status: 'NOTIFIED' } }),
      ...series(2, 0, 0, { field: 'severity', value: { Label: 'LOW' } }),
      ...series(1, 0, 0, { field: 'severity', value: { Label: 'HIGH' } }),
      ...series(2, 0, 0, { field: 'note', value: { Text: 'isolating', UpdatedBy: 'Alice' } }),
      ...series(1, 0, 0, { field: 'note', value: { Text: 'isolating', UpdatedBy: 'Bob' } }),
      ...series(1, 0, 0, { field: 'note', value: { Text: 'done', UpdatedBy: 'Alice' } }),
      ...series(2, 0, 0, { integrationId: 'hub-b', value: { Status: 'RESOLVED' } }),
    ];
    const plan = planRequests(changes, { now: at(10_000), eventsInFlight: false });
    assert.equal(plan.held.length, 0);
    for (const request of plan.requests) assert.equal(new Set(request.map(requestKey)).size, 1);
    assert.deepEqual(
      plan.requests.map((r) => r.length),
      [3, 2, 2, 1, 2, 1, 1, 2],
    );
  });

  it('never puts ASFF and OCSF findings in one request, even for one value', () => {
    // BatchUpdateFindings and BatchUpdateFindingsV2 are two APIs: AWS refusing one request must not fail
    // the other format's findings.
    const asff = series(3, 0, 0, { value: { Status: 'RESOLVED' } });
    const ocsf = series(2, 0, 0, { format: 'ocsf', value: { Status: 'RESOLVED' } });
    const plan = planRequests([asff[0]!, ocsf[0]!, ...asff.slice(1), ...ocsf.slice(1)], {
      now: at(10_000),
      eventsInFlight: false,
    });
    assert.deepEqual(plan.requests, [asff, ocsf]);
  });

  it('never puts findings of two regions in one request: each goes to its own Security Hub', () => {
    // A bulk close over findings of two regions, interleaved: 150 of us-east-1, 120 of eu-west-1.
    const changes = Array.from({ length: 270 }, (_, i) =>
      change({ atMs: 0, productArn: productIn(i % 9 < 5 ? 'us-east-1' : 'eu-west-1') }),
    );
    const plan = planRequests(changes, { now: at(10_000), eventsInFlight: false });
    assert.equal(plan.held.length, 0);
    assert.deepEqual(
      plan.requests.map((r) => [regionOf(r[0]!), r.length]),
      [
        ['us-east-1', 100],
        ['us-east-1', 50],
        ['eu-west-1', 100],
        ['eu-west-1', 20],
      ],
    );
    for (const request of plan.requests) assert.equal(new Set(request.map(regionOf)).size, 1);
  });

  it('never exceeds 100 findings a request, mixes no changes, and loses none', () => {
    // A fixed pseudo-random sequence: the same cases on every run.
    let state = 42;
    const random = (n: number) => {
      state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
      return (state >>> 8) % n;
    };
    for (let round = 0; round < 50; round++) {
      const changes = Array.from({ length: 1 + random(600) }, () =>
        change({
          atMs: random(6000),
          integrationId: `hub-${random(3)}`,
          productArn: productIn(['us-east-1', 'eu-west-1'][random(2)] ?? ''),
          format: random(2) === 0 ? ('asff' as const) : ('ocsf' as const),
          ...(random(2) === 0
            ? {
                field: 'workflow' as const,
                value: { Status: ['NEW', 'NOTIFIED', 'RESOLVED'][random(3)] ?? '' },
              }
            : { field: 'severity' as const, value: { Label: ['LOW', 'HIGH'][random(2)] ?? '' } }),
        }),
      );
      const plan = planRequests(changes, { now: at(random(9000)), eventsInFlight: random(4) === 0 });
      for (const request of plan.requests) {
        assert.ok(request.length >= 1 && request.length <= MAX_FINDINGS_PER_REQUEST, `${request.length}`);
        assert.equal(new Set(request.map(requestKey)).size, 1);
      }
      const out = [...plan.requests.flat(), ...plan.held].map((c) => c.id).sort();
      assert.deepEqual(out, changes.map((c) => c.id).sort());
    }
  });
});
