import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { accountsRepository } from '../accounts/repository.js';
import type { Principal } from '../accounts/service.js';
import { createDb, createPool, type Db } from '../db/database.js';
import { createTestDatabase } from '../testing/harness.js';
import { whenWaitedFor } from '../testing/lock-waits.js';
import { createAlertsService } from './service.js';

/**
 * Creates batched into one statement, on a real PostgreSQL: a batch that counts two open alerts locks
 * them in arrival order, so another transaction taking them in the other order makes a deadlock, and the
 * batch must come through it rather than fail every create in it.
 */

let url: string;
let pool: pg.Pool;
let db: Db;
let owner: Principal;
let alerts: ReturnType<typeof createAlertsService>;

before(async () => {
  url = await createTestDatabase({ migrated: true });
  pool = createPool(url, 4);
  db = createDb(pool);
  const org = await accountsRepository.insertOrganization(db, 'Batched');
  owner = {
    orgId: org.id,
    apiKeyId: 'test',
    userId: undefined,
    username: undefined,
    fullName: undefined,
    role: 'owner',
  };
  alerts = createAlertsService(db);
});
after(async () => {
  await db.destroy();
});

let requests = 0;
const create = (alias: string) =>
  alerts.create(owner, `00000000-0000-4000-8000-${String(++requests).padStart(12, '0')}`, {
    message: `batched ${alias}`,
    alias,
  });

describe('a batch of creates meeting a transaction that locks its alerts in the other order', () => {
  it('is aborted by the deadlock detector, runs again and counts both', async () => {
    const first = (await create('first')).alert;
    const second = (await create('second')).alert;
    const other = new pg.Client({ connectionString: url });
    await other.connect();
    try {
      // The other side (say a bulk action) holds the second alert first...
      await other.query('BEGIN');
      // PostgreSQL checks a waiter for a cycle once, deadlock_timeout after it began to wait, and aborts
      // the side whose check finds it: the batch, which waits first. Should the cycle never be found, the
      // other side gives up with a clear error rather than hanging.
      await other.query(`SET LOCAL deadlock_timeout = '60s'`);
      await other.query(`SET LOCAL lock_timeout = '30s'`);
      await other.query('SELECT 1 FROM alerts WHERE id = $1 FOR UPDATE', [second.id]);
      // ...the batch (both sent in one tick, so one statement) counts the first and waits for the second...
      const counted = Promise.allSettled([create('first'), create('second')]);
      // ...and the other side then wants the first: a cycle. Its second lock is taken inside PostgreSQL,
      // once the batch waits, so that the batch's one check comes after the cycle closes.
      await whenWaitedFor(other, {
        then: `PERFORM 1 FROM alerts WHERE id = '${first.id}' FOR UPDATE`,
        never: 'the batch never waited for the second alert',
      });
      await other.query('COMMIT');
      const outcomes = await counted;
      assert.deepEqual(
        outcomes.map((o) =>
          o.status === 'fulfilled'
            ? { id: o.value.alert.id, count: o.value.alert.count, inserted: o.value.inserted }
            : String(o.reason),
        ),
        [
          { id: first.id, count: 2, inserted: false },
          { id: second.id, count: 2, inserted: false },
        ],
      );
    } finally {
      await other.end();
    }
  });
});
