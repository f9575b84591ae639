import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Migrator, sql, type Migration } from 'kysely';
import { createDb, createPool, type Db } from '../database.js';
import { MIGRATION_NAMES } from '../migrate.js';
import { createTestDatabase } from '../../testing/harness.js';

/**
 * Upgrading a database that knows findings of both Security Hubs: those of the new one (OCSF, product
 * uids of the `productv2` form) become OCSF, so that a change to one never goes to BatchUpdateFindings
 * in a request with ASFF findings; the others stay ASFF.
 */

const OCSF_PRODUCT = 'arn:aws:securityhub:us-east-1::productv2/aws/securityhub';
const ASFF_PRODUCT = 'arn:aws:securityhub:us-east-1::product/aws/guardduty';
let db: Db;

before(async () => {
  db = createDb(createPool(await createTestDatabase(), 2));
  const migrations: Record<string, Migration> = {};
  for (const name of MIGRATION_NAMES) migrations[name] = (await import(`./${name}.js`)) as Migration;
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  assert.equal((await migrator.migrateTo('0043_verification_address')).error, undefined);
  const org = await sql<{ id: string }>`INSERT INTO organizations (name) VALUES ('Org') RETURNING id`.execute(
    db,
  );
  const orgId = org.rows[0]!.id;
  const team = await sql<{ id: string }>`
    INSERT INTO teams (org_id, name) VALUES (${orgId}, 'SecOps') RETURNING id`.execute(db);
  const integration = await sql<{ id: string }>`
    INSERT INTO integrations (org_id, type, name, owner_team_id, api_key_lookup, api_key_hash, external_id)
    VALUES (${orgId}, 'AmazonSecurityHub', 'Hub', ${team.rows[0]!.id}, 'lookup', '\\x00', 'external')
    RETURNING id`.execute(db);
  const integrationId = integration.rows[0]!.id;
  for (const [product, id] of [
    [OCSF_PRODUCT, 'ocsf-finding'],
    [ASFF_PRODUCT, 'asff-finding'],
  ] as const) {
    await sql`
      INSERT INTO securityhub_findings (integration_id, finding_key, product_arn, finding_id)
      VALUES (${integrationId}, ${id}, ${product}, ${id})`.execute(db);
    // A change still waiting, written for BatchUpdateFindings.
    await sql`
      INSERT INTO securityhub_writebacks (integration_id, finding_key, product_arn, finding_id, field, value, event_id)
      VALUES (${integrationId}, ${id}, ${product}, ${id}, 'workflow', '{"Status":"RESOLVED"}', gen_random_uuid())`.execute(
      db,
    );
  }
  assert.equal((await migrator.migrateTo('0044_writeback_ocsf')).error, undefined);
});

after(async () => {
  await db?.destroy();
});

describe('migration 0044: each finding keeps its format', () => {
  it("makes the new Security Hub's findings OCSF and the others ASFF", async () => {
    const rows = await sql<{ finding_id: string; format: string; aws_account_id: string | null }>`
      SELECT finding_id, format, aws_account_id FROM securityhub_findings ORDER BY finding_id`.execute(db);
    assert.deepEqual(rows.rows, [
      { finding_id: 'asff-finding', format: 'asff', aws_account_id: null },
      { finding_id: 'ocsf-finding', format: 'ocsf', aws_account_id: null },
    ]);
  });

  it('ends a change to an OCSF finding still waiting, written for the V1 API, as failed with why', async () => {
    const rows = await sql<{ finding_id: string; format: string; status: string; last_error: string | null }>`
      SELECT finding_id, format, status, last_error FROM securityhub_writebacks ORDER BY finding_id`.execute(
      db,
    );
    assert.deepEqual(
      rows.rows.map((r) => [r.finding_id, r.format, r.status]),
      [
        ['asff-finding', 'asff', 'pending'],
        ['ocsf-finding', 'ocsf', 'failed'],
      ],
    );
    assert.match(rows.rows[1]?.last_error ?? '', /BatchUpdateFindingsV2/);
  });
});
