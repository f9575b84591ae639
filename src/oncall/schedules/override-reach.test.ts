import assert from 'node:assert/strict';
import { after, before, describe, it, mock } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import { createRecipientResolver } from '../../engine/escalation/recipients.js';
import type { EscalationRule } from '../model.js';
import { schedulesRepository } from './repository.js';

/**
 * A schedule keeps every override it ever had, and who is on call is computed on every page: each
 * computation loads only the overrides overlapping what it asks about, so years of ended ones cost it
 * nothing. Counted here by the rows the repository hands back, not timed.
 */

let server: TestServer;
let scheduleId: string;
/** How many overrides each load read, in order. */
const read: number[] = [];
const PAST = 600;

async function ok(method: string, path: string): Promise<Json> {
  const answer = await server.call(method, path);
  assert.ok(answer.status >= 200 && answer.status < 300, `${method} ${path}: ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** The overrides read while `call` runs. */
async function readDuring(call: () => Promise<unknown>): Promise<number[]> {
  read.length = 0;
  await call();
  return [...read];
}

before(async () => {
  server = await startTestServer();
  const ids: Record<string, string> = {};
  for (const username of ['alice@example.com', 'bob@example.com', 'carol@example.com']) {
    const created = await server.callOk('POST', '/v2/users', {
      username,
      fullName: username,
      role: { name: 'User' },
    });
    ids[username] = created.data.id;
  }
  const created = await server.callOk('POST', '/v2/schedules', {
    name: 'Long history',
    timezone: 'UTC',
    rotations: [
      {
        name: 'Weekly',
        startDate: '2020-01-06T09:00:00Z',
        type: 'weekly',
        participants: [
          { type: 'user', username: 'alice@example.com' },
          { type: 'user', username: 'bob@example.com' },
        ],
      },
    ],
  });
  scheduleId = created.data.id;
  const rotationId = (await ok('GET', `/v2/schedules/${scheduleId}`)).data.rotations[0].id;
  // Years of ended overrides (of the whole schedule and of its rotation), written straight to the table.
  const hour = 3_600_000;
  const first = Date.parse('2021-01-01T00:00:00Z');
  await server.app.context.db
    .insertInto('schedule_overrides')
    .values(
      Array.from({ length: PAST }, (_, i) => ({
        schedule_id: scheduleId,
        alias: `past-${i}`,
        user_id: ids['bob@example.com'] ?? '',
        start_date: new Date(first + i * 2 * hour),
        end_date: new Date(first + i * 2 * hour + hour),
        rotation_ids: i % 2 === 0 ? null : [rotationId],
      })),
    )
    .execute();
  await server.callOk('POST', `/v2/schedules/${scheduleId}/overrides`, {
    alias: 'now',
    user: { type: 'user', username: 'carol@example.com' },
    startDate: '2026-03-10T10:00:00Z',
    endDate: '2026-03-10T14:00:00Z',
  });
  const original = schedulesRepository.overridesOf;
  mock.method(schedulesRepository, 'overridesOf', async (...args: Parameters<typeof original>) => {
    const rows = await original.apply(schedulesRepository, args);
    read.push(rows.length);
    return rows;
  });
});

after(async () => {
  mock.restoreAll();
  await server.stop();
});

describe('overrides loaded for a computation', () => {
  it("each computation reads only the overrides overlapping its reach, not the schedule's whole history", async () => {
    const date = encodeURIComponent('2026-03-10T12:00:00Z');
    assert.deepEqual(
      await readDuring(async () => {
        const body = await ok('GET', `/v2/schedules/${scheduleId}/on-calls?flat=true&date=${date}`);
        assert.deepEqual(body.data.onCallRecipients, ['carol@example.com']);
      }),
      [1],
    );
    assert.deepEqual(await readDuring(() => ok('GET', `/v2/schedules/on-calls?date=${date}`)), [1]);
    assert.deepEqual(
      await readDuring(async () => {
        const body = await ok('GET', `/v2/schedules/${scheduleId}/next-on-calls?date=${date}`);
        assert.equal(body.data.nextShift.startDate, '2026-03-10T14:00:00Z');
      }),
      [1],
    );
    assert.deepEqual(
      await readDuring(() =>
        ok(
          'GET',
          `/v2/schedules/${scheduleId}/timeline?date=2026-03-09T00:00:00Z&interval=1&intervalUnit=weeks`,
        ),
      ),
      [1],
    );
    // The calendar's window moves with the real clock: at most the one override of 2026.
    const ics = await readDuring(async () => {
      const response = await fetch(`${server.url}/v2/schedules/${scheduleId}.ics`, {
        headers: { authorization: `GenieKey ${server.key}` },
      });
      assert.equal(response.status, 200);
      await response.text();
    });
    assert.equal(ics.length, 1);
    assert.ok((ics[0] ?? Infinity) <= 1, `the calendar read ${ics[0]} overrides`);
    // What shows only the rotations reads none; the list of overrides reads them all, as it lists them.
    assert.deepEqual(await readDuring(() => ok('GET', `/v2/schedules/${scheduleId}`)), []);
    assert.deepEqual(await readDuring(() => ok('GET', `/v2/schedules/${scheduleId}/overrides`)), [PAST + 1]);
  });

  it('an escalation step reads only those that bear on its instant (now, next or previous)', async () => {
    const orgId = (
      await server.app.context.db
        .selectFrom('schedules')
        .select('org_id')
        .where('id', '=', scheduleId)
        .executeTakeFirstOrThrow()
    ).org_id;
    const resolve = createRecipientResolver(server.app.context.db, orgId);
    const at = new Date('2026-03-10T12:00:00Z');
    const rule = (notifyType: 'default' | 'next' | 'previous') =>
      ({
        condition: 'if-not-acked',
        notifyType,
        delay: { timeAmount: 0, timeUnit: 'minutes' },
        recipient: { type: 'schedule', id: scheduleId },
      }) as unknown as EscalationRule;
    const questions = ['default', 'next', 'previous'] as const;
    assert.deepEqual(
      await readDuring(async () => {
        for (const notifyType of questions) await resolve(rule(notifyType), at);
        // Asked again at the same instant, each is loaded already.
        for (const notifyType of questions) await resolve(rule(notifyType), at);
      }),
      [1, 1, 1],
      'one load for each question at the instant, with only the override of its day',
    );
  });
});
