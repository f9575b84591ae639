import assert from 'node:assert/strict';
import { after, afterEach, before, describe, it, mock } from 'node:test';
import { sql } from 'kysely';
import { loadConfig } from '../../config.js';
import { createDb, createPool, type Db } from '../../db/database.js';
import { createLogger } from '../../logger.js';
import { createTestDatabase } from '../../testing/harness.js';
import { insertTeamDelivery } from '../../testing/team-deliveries.js';
import type { Clock } from '../../work/clock.js';
import {
  createTeamDeliverySender,
  rateLimitedUntil,
  RATE_LIMIT_MIN_WAIT_MS,
  type TeamDeliverySender,
} from './deliveries.js';
import type { TeamDelivery, TeamDeliveryResult } from './kind.js';
import { teamDestinationsRepository as repo } from './repository.js';
import { createTeamDestinationsService } from './service.js';
import { webhookKind } from './webhook.js';

/**
 * A destination is judged (disabled, counted failing) on what its receiver answered, as the attempt found
 * it: an answer from the URL it had before an admin (or Terraform) changed it says nothing of the URL it
 * has now. Driven round by round on a clock the test sets (no worker runs), with the webhook kind's
 * deliver() stubbed to wait until the test has edited the destination, as a slow receiver would.
 */

let db: Db;
let orgId: string;
let teamId: string;
let sender: TeamDeliverySender;
const at = new Date('2026-06-01T12:00:00.000Z');
let clockAt = at;
const clock: Clock = { now: () => clockAt, fromSystemTime: (t) => t, toSystemTime: (t) => t };
const secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

/** The URLs deliver() was called for; the next call waits for `release`, when a test sets it up. */
const tried: string[] = [];
let held:
  { started: () => void; answer: Promise<TeamDeliveryResult> } | { answer: TeamDeliveryResult } | undefined;

/** The next delivery waits, until the test answers it for the receiver. */
function holdNext(): { started: Promise<void>; release: (result: TeamDeliveryResult) => void } {
  let started!: () => void;
  let release!: (result: TeamDeliveryResult) => void;
  const startedPromise = new Promise<void>((resolve) => (started = resolve));
  held = { started, answer: new Promise<TeamDeliveryResult>((resolve) => (release = resolve)) };
  return { started: startedPromise, release };
}

/** A webhook destination, made with the column's default updated_at (now(), microseconds and all). */
async function destination(name: string, url: string): Promise<string> {
  const { rows } = await sql<{ id: string }>`
    INSERT INTO team_destinations (org_id, team_id, type, name, config)
    VALUES (${orgId}, ${teamId}, 'webhook', ${name}, ${JSON.stringify({ url, secret })}::jsonb)
    RETURNING id`.execute(db);
  assert.ok(rows[0]);
  return rows[0].id;
}

async function addDelivery(destinationId: string, dueAt: Date): Promise<string> {
  return insertTeamDelivery(db, { orgId, destinationId, at, dueAt });
}

async function delivery(id: string) {
  const row = await db
    .selectFrom('team_destination_deliveries')
    .select(['state', 'attempts', 'last_error'])
    .where('id', '=', id)
    .executeTakeFirst();
  assert.ok(row);
  return row;
}

async function destinationRow(id: string) {
  const row = await db
    .selectFrom('team_destinations')
    .select(['enabled', 'disabled_reason', 'failing_since'])
    .where('id', '=', id)
    .executeTakeFirst();
  assert.ok(row);
  return row;
}

const gone: TeamDeliveryResult = {
  status: 'gone',
  error: 'old.example.com answered 410 Gone: the receiver says this webhook is no more',
  response: { status: 410 },
};
const unavailable: TeamDeliveryResult = {
  status: 'retry',
  error: 'old.example.com answered 503',
  response: { status: 503 },
};

before(async () => {
  const url = await createTestDatabase({ migrated: true });
  db = createDb(createPool(url, 2));
  const org = await sql<{ id: string }>`
    INSERT INTO organizations (name) VALUES ('Judging') RETURNING id`.execute(db);
  orgId = org.rows[0]?.id ?? '';
  const team = await sql<{ id: string }>`
    INSERT INTO teams (org_id, name) VALUES (${orgId}, 'Judged') RETURNING id`.execute(db);
  teamId = team.rows[0]?.id ?? '';
  mock.method(webhookKind, 'deliver', async (delivery: TeamDelivery): Promise<TeamDeliveryResult> => {
    tried.push(String(delivery.destination.config.url));
    const now = held;
    held = undefined;
    if (!now) return { status: 'sent' };
    if ('started' in now) now.started();
    return now.answer;
  });
  sender = createTeamDeliverySender({
    db,
    log: createLogger('silent'),
    clock,
    config: loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'postgres://unused/unused' }),
    fetch: () => Promise.reject(new Error('no fetch in this test')),
  });
});

// Each test's deliveries stay its own: a round claims every due delivery there is.
afterEach(async () => {
  held = undefined;
  await sql`DELETE FROM team_destinations`.execute(db);
});

after(async () => {
  mock.restoreAll();
  await db?.destroy();
});

describe('an answer from a URL the destination no longer has', () => {
  it('a 410 from the old URL, in flight while the URL changed, neither disables it nor fails its deliveries', async () => {
    const id = await destination('Moved', 'https://old.example.com/hook');
    const answered = await addDelivery(id, at);
    const waiting = await addDelivery(id, new Date(at.getTime() + 3600_000));

    const { started, release } = holdNext();
    const round = sender.deliverDue(at);
    await started;
    await repo.update(db, id, { config: { url: 'https://new.example.com/hook', secret } }, at);
    release(gone);
    assert.equal(await round, 1);

    assert.deepEqual(await destinationRow(id), { enabled: true, disabled_reason: null, failing_since: null });
    assert.equal((await delivery(waiting)).state, 'pending');
    // Not given up: tried again, at the new URL.
    const again = await delivery(answered);
    assert.equal(again.state, 'pending', again.last_error ?? '');
    assert.match(again.last_error ?? '', /410 Gone.*before the destination was changed/);
    assert.equal(await sender.deliverDue(new Date(at.getTime() + 60_000)), 1);
    assert.equal((await delivery(answered)).state, 'sent');
    assert.equal(tried.at(-1), 'https://new.example.com/hook');
  });

  it('a 410 from the URL it still has disables it, and fails its waiting deliveries', async () => {
    const id = await destination('Gone', 'https://old.example.com/gone');
    await addDelivery(id, at);
    const waiting = await addDelivery(id, new Date(at.getTime() + 3600_000));
    held = { answer: gone };
    assert.equal(await sender.deliverDue(at), 1);
    const row = await destinationRow(id);
    assert.equal(row.enabled, false);
    assert.match(row.disabled_reason ?? '', /410 Gone/);
    assert.match((await delivery(waiting)).last_error ?? '', /not sent: the destination was disabled/);
  });

  it('a failure from the old URL, in flight while the URL changed, starts no day of failures for the new one', async () => {
    const id = await destination('Moving', 'https://old.example.com/slow');
    await addDelivery(id, at);
    const { started, release } = holdNext();
    const round = sender.deliverDue(at);
    await started;
    await repo.update(db, id, { config: { url: 'https://new.example.com/slow', secret } }, at);
    release(unavailable);
    await round;
    assert.equal((await destinationRow(id)).failing_since, null);
  });
});

describe('a day of failures', () => {
  it("is the URL's: a new URL starts afresh, and its first failure does not disable it", async () => {
    const id = await destination('Switched', 'https://old.example.com/down');
    const since = new Date(at.getTime() - 23 * 3600_000);
    await sql`UPDATE team_destinations SET failing_since = ${since} WHERE id = ${id}`.execute(db);

    // Saved again as it was (an integration saved with the same URL): still failing since then.
    await repo.update(db, id, { config: { url: 'https://old.example.com/down', secret } }, at);
    assert.deepEqual((await destinationRow(id)).failing_since, since);

    await repo.update(db, id, { config: { url: 'https://new.example.com/down', secret } }, at);
    assert.equal((await destinationRow(id)).failing_since, null);

    // An hour on, the new URL's first round fails: failing since then, not disabled.
    clockAt = new Date(at.getTime() + 3600_000);
    try {
      await addDelivery(id, clockAt);
      held = { answer: unavailable };
      assert.equal(await sender.deliverDue(clockAt), 1);
      const row = await destinationRow(id);
      assert.equal(row.enabled, true, row.disabled_reason ?? '');
      assert.deepEqual(row.failing_since, clockAt);
    } finally {
      clockAt = at;
    }
  });

  it('goes on through a save of `"enabled": true` to a destination already on, and ends when one off is turned on', async () => {
    const id = await destination('Reapplied', 'https://reapplied.example.com/down');
    const since = new Date(at.getTime() - 23 * 3600_000);
    await sql`UPDATE team_destinations SET failing_since = ${since} WHERE id = ${id}`.execute(db);

    // An integration saved whole, as Terraform saves it, and a PATCH that says it again.
    await repo.update(
      db,
      id,
      { config: { url: 'https://reapplied.example.com/down', secret }, enabled: true },
      at,
    );
    await repo.update(db, id, { enabled: true }, at);
    assert.deepEqual((await destinationRow(id)).failing_since, since);

    await repo.update(db, id, { enabled: false }, at);
    await repo.update(db, id, { enabled: true }, at);
    assert.equal((await destinationRow(id)).failing_since, null);
  });
});

describe('a 429', () => {
  it('whose Retry-After is 0, or a date already past, still waits a moment', () => {
    const first = new Date(at.getTime() - 60_000);
    for (const retryAfterMs of [0, -5000]) {
      const until = rateLimitedUntil(first, at, retryAfterMs);
      assert.ok(until);
      assert.ok(
        until.getTime() >= at.getTime() + RATE_LIMIT_MIN_WAIT_MS,
        `Retry-After ${retryAfterMs} ms: tried again after ${until.getTime() - at.getTime()} ms`,
      );
    }
  });
});

describe('a test sent from the destination page', () => {
  it('answered 410 by the URL the destination had before it changed, does not disable it', async () => {
    const service = createTeamDestinationsService({
      db,
      clock,
      log: createLogger('silent'),
      config: loadConfig({ PORT: '0', HOST: '127.0.0.1', DATABASE_URL: 'postgres://unused/unused' }),
      fetch: () => Promise.reject(new Error('no fetch in this test')),
    });
    const admin = {
      orgId,
      apiKeyId: '',
      userId: undefined,
      username: undefined,
      fullName: 'Admin',
      role: 'admin' as const,
    };
    const id = await destination('Tested', 'https://old.example.com/test');
    const { started, release } = holdNext();
    const outcome = service.test(admin, id);
    await started;
    await repo.update(db, id, { config: { url: 'https://new.example.com/test', secret } }, at);
    release(gone);
    assert.equal((await outcome).disabled, false);
    assert.equal((await destinationRow(id)).enabled, true);
  });
});
