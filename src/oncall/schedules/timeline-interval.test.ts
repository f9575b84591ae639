import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type TestServer } from '../../testing/harness.js';
import type { Principal } from '../../accounts/service.js';
import { isDomainError } from '../../errors.js';
import { createSchedulesService } from './service.js';

/**
 * The timeline's interval is checked by the service too, not only by the route's schema: an interval of
 * -Infinity (which validation let through from "-1e309") reached Luxon, whose error was a 500.
 */

let server: TestServer;
let principal: Principal;
let scheduleId: string;

before(async () => {
  server = await startTestServer();
  const found = await server.app.context.accounts.authenticate(server.key);
  assert.ok(found);
  principal = found;
  scheduleId = (await server.callOk('POST', '/v2/schedules', { name: 'Interval', timezone: 'UTC' })).data.id;
});

after(async () => {
  await server?.stop();
});

describe('the interval of a timeline', () => {
  for (const interval of [-Infinity, Infinity, Number.NaN, 0, -3]) {
    it(`refuses ${interval} weeks as invalid, naming interval`, async () => {
      const schedules = createSchedulesService(server.app.context.db);
      await assert.rejects(
        schedules.timeline(principal, scheduleId, 'id', {
          date: new Date(),
          interval,
          intervalUnit: 'weeks',
        }),
        (error: unknown) => {
          assert.ok(isDomainError(error, 'invalid'), String(error));
          assert.match(error.fields?.interval ?? '', /1 to 13 weeks|at most 3 months/);
          return true;
        },
      );
    });
  }

  it('gives a timeline for an interval within the limit', async () => {
    const schedules = createSchedulesService(server.app.context.db);
    const result = await schedules.timeline(principal, scheduleId, 'id', {
      date: new Date('2026-03-01T00:00:00Z'),
      interval: 13,
      intervalUnit: 'weeks',
    });
    assert.equal(result.endDate.toISOString(), '2026-05-31T00:00:00.000Z');
  });
});
