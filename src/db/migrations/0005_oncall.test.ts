import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Migrator, sql, type Migration } from 'kysely';
import { createDb, createPool, type Db } from '../database.js';
import { createTestDatabase } from '../../testing/harness.js';
import * as m0001 from './0001_foundation.js';
import * as m0002 from './0002_outbox.js';
import * as m0003 from './0003_integrations.js';
import * as m0004 from './0004_writeback.js';
import * as m0005 from './0005_oncall.js';

/** Upgrading a database that has people in it: they must be pageable afterwards, as new users are. */

let db: Db;
before(async () => {
  db = createDb(createPool(await createTestDatabase(), 2));
});
after(async () => {
  await db.destroy();
});

const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_outbox': m0002,
  '0003_integrations': m0003,
  '0004_writeback': m0004,
  '0005_oncall': m0005,
};

describe('0005_oncall on a database with users', () => {
  it('gives existing users an email contact and a "New alert" rule, as a new user gets', async () => {
    const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
    const before = await migrator.migrateTo('0004_writeback');
    assert.equal(before.error, undefined);
    await sql`
      WITH org AS (INSERT INTO organizations (name) VALUES ('Upgraded') RETURNING id)
      INSERT INTO users (org_id, username, full_name, role)
      SELECT id, u.username, u.full_name, 'user' FROM org,
        (VALUES ('Old.Timer@Example.com', 'Old Timer'), ('sam.ops@example.com', 'Sam'), ('not-an-email', 'Service account'))
        AS u(username, full_name)
    `.execute(db);
    const upgraded = await migrator.migrateToLatest();
    assert.equal(upgraded.error, undefined);

    const rows = await sql<{ username: string; address: string | null; steps: unknown[] }>`
      SELECT u.username, c.address, r.steps
      FROM users u
      LEFT JOIN contact_methods c ON c.user_id = u.id
      JOIN notification_rules r ON r.user_id = u.id AND r.action_type = 'create-alert' AND r.name = 'New alert'
      ORDER BY u.username`.execute(db);
    assert.equal(rows.rows.length, 3);
    const byName = (name: string) => rows.rows.find((r) => r.username === name);
    const [person, service, sam] = [
      byName('Old.Timer@Example.com'),
      byName('not-an-email'),
      byName('sam.ops@example.com'),
    ];
    assert.equal(sam?.address, 'sam.ops@example.com', 'whitespace classes are not the letter s');
    assert.equal(sam?.steps.length, 1);
    assert.equal(person?.address, 'Old.Timer@Example.com');
    assert.equal(person?.steps.length, 1);
    assert.deepEqual(
      { ...(person?.steps[0] as Record<string, unknown>), id: 'x', contactId: 'y' },
      { id: 'x', contactId: 'y', sendAfterMinutes: 0, enabled: true },
    );
    assert.equal(service?.address, null, 'no contact for a username that is not an email address');
    assert.deepEqual(service?.steps, []);
  });
});
