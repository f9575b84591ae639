import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql, type Migrator } from 'kysely';
import type { Db } from '../database.js';
import { databaseBefore } from '../../testing/migration-database.js';

/** Upgrading a database with a write-back change in flight: it keeps its lease, with no claim. */

const THIS = '0047_writeback_claim_id';
let db: Db;
let migrator: Migrator;
let previous: string;
let changeId: string;
const leaseUntil = new Date('2030-01-01T10:00:00Z');

before(async () => {
  ({ db, migrator, previous } = await databaseBefore(THIS));
  const org = await sql<{ id: string }>`INSERT INTO organizations (name) VALUES ('Org') RETURNING id`.execute(
    db,
  );
  const team = await sql<{ id: string }>`
    INSERT INTO teams (org_id, name) VALUES (${org.rows[0]!.id}, 'SecOps') RETURNING id`.execute(db);
  const integration = await sql<{ id: string }>`
    INSERT INTO integrations (org_id, type, name, owner_team_id, api_key_lookup, api_key_hash, external_id)
    VALUES (${org.rows[0]!.id}, 'AmazonSecurityHub', 'Hub', ${team.rows[0]!.id}, 'lookup', '\\x00', 'external')
    RETURNING id`.execute(db);
  const change = await sql<{ id: string }>`
    INSERT INTO securityhub_writebacks
      (integration_id, finding_key, product_arn, finding_id, field, value, event_id, status, lease_until)
    VALUES (${integration.rows[0]!.id}, 'f', 'arn:aws:securityhub:us-east-1::product/aws/securityhub', 'f',
      'workflow', '{"Status":"RESOLVED"}', gen_random_uuid(), 'sending', ${leaseUntil})
    RETURNING id`.execute(db);
  changeId = change.rows[0]!.id;
  assert.equal((await migrator.migrateTo(THIS)).error, undefined);
});

after(async () => {
  await db?.destroy();
});

describe('migration 0047: each write-back claim names itself', () => {
  it('keeps a change in flight with its lease and no claim, and goes back and forth', async () => {
    const row = await sql<{ status: string; lease_until: Date; claim_id: string | null }>`
      SELECT status, lease_until, claim_id FROM securityhub_writebacks WHERE id = ${changeId}`.execute(db);
    assert.deepEqual(row.rows, [{ status: 'sending', lease_until: leaseUntil, claim_id: null }]);

    assert.equal((await migrator.migrateTo(previous)).error, undefined);
    const columns = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM information_schema.columns
      WHERE table_name = 'securityhub_writebacks' AND column_name = 'claim_id'`.execute(db);
    assert.equal(columns.rows[0]!.n, 0);
    assert.equal((await migrator.migrateTo(THIS)).error, undefined);
  });
});
