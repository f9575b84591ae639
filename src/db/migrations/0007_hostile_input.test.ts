import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Migrator, sql, type Migration } from 'kysely';
import { createDb, createPool, type Db } from '../database.js';
import { createTestDatabase } from '../../testing/harness.js';
import { findingKeyDigest } from '../../integrations/securityhub/findings.js';
import { integrationsRepository } from '../../integrations/repository.js';
import * as m0001 from './0001_foundation.js';
import * as m0002 from './0002_outbox.js';
import * as m0003 from './0003_integrations.js';
import * as m0004 from './0004_writeback.js';
import * as m0005 from './0005_oncall.js';
import * as m0006 from './0006_writeback_retention.js';
import * as m0007 from './0007_hostile_input.js';

/**
 * Upgrading a database that has findings, write-backs, stored deliveries and alerts in it: the code after
 * 0007 must find the findings by the key it computes, and tinyIds must go on counting in each organization.
 */

let db: Db;

const migrations: Record<string, Migration> = {
  '0001_foundation': m0001,
  '0002_outbox': m0002,
  '0003_integrations': m0003,
  '0004_writeback': m0004,
  '0005_oncall': m0005,
  '0006_writeback_retention': m0006,
  '0007_hostile_input': m0007,
};

const GUARDDUTY = 'arn:aws:securityhub:us-east-1::product/aws/guardduty';
const VENDOR = 'arn:aws:securityhub:eu-west-1:123456789012:product/123456789012/défault-ñ';

/** Findings stored before 0007: each under the old primary key's limit (kept under ~700 bytes). */
const OLD_FINDINGS = [
  { productArn: GUARDDUTY, id: 'arn:aws:guardduty:us-east-1:123456789012:detector/d1/finding/f1' },
  { productArn: GUARDDUTY, id: 'café-🚨-日本語-\u{1F468}\u200D\u{1F469}\u200D\u{1F467}' },
  // The same text, decomposed: a different Id, so a different key (nothing normalizes it).
  { productArn: GUARDDUTY, id: 'cafe\u0301-🚨-日本語-\u{1F468}\u200D\u{1F469}\u200D\u{1F467}' },
  { productArn: VENDOR, id: `ünïcödé/${'€'.repeat(150)}` }, // 458 bytes of UTF-8
  { productArn: GUARDDUTY, id: `tab\there "quotes" 'single' back\\slash ${'x'.repeat(400)}` },
];

interface Org {
  id: string;
  integrationId: string;
}
let orgA: Org;
let orgB: Org;
let queuedPayloadId: string;
/** tinyIds the alerts had before 0007, by alias. */
const tinyIdsBefore = new Map<string, string>();

async function addOrg(name: string): Promise<Org> {
  const org = await sql<{
    id: string;
  }>`INSERT INTO organizations (name) VALUES (${name}) RETURNING id`.execute(db);
  const id = org.rows[0]!.id;
  const team = await sql<{ id: string }>`
    INSERT INTO teams (org_id, name) VALUES (${id}, ${`${name} team`}) RETURNING id`.execute(db);
  const integration = await sql<{ id: string }>`
    INSERT INTO integrations (org_id, type, name, owner_team_id, api_key_lookup, api_key_hash, external_id)
    VALUES (${id}, 'SecurityHub', ${`${name} Security Hub`}, ${team.rows[0]!.id}, ${randomBytes(4).toString('hex')},
            ${randomBytes(32)}, ${randomUUID()})
    RETURNING id`.execute(db);
  return { id, integrationId: integration.rows[0]!.id };
}

async function plainAlert(org: string, alias: string): Promise<string> {
  const row = await sql<{ tiny_id: string }>`
    INSERT INTO alerts (org_id, alias, message) VALUES (${org}, ${alias}, ${alias}) RETURNING tiny_id`.execute(
    db,
  );
  return row.rows[0]!.tiny_id;
}

async function columnsOf(table: string, kind: 'p' | 'u'): Promise<string[][]> {
  const rows = await sql<{ columns: string[] }>`
    SELECT array_agg(a.attname::text ORDER BY k.ord) AS columns
    FROM pg_constraint c
    CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ord)
    JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
    WHERE c.conrelid = ${table}::regclass AND c.contype = ${kind}
    GROUP BY c.conname
    ORDER BY c.conname`.execute(db);
  return rows.rows.map((r) => r.columns);
}

async function indexDef(name: string): Promise<string | undefined> {
  const rows = await sql<{ indexdef: string }>`
    SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = ${name}`.execute(db);
  return rows.rows[0]?.indexdef;
}

before(async () => {
  db = createDb(createPool(await createTestDatabase(), 2));
  const migrator = new Migrator({ db, provider: { getMigrations: async () => migrations } });
  const upTo0006 = await migrator.migrateTo('0006_writeback_retention');
  assert.equal(upTo0006.error, undefined);

  orgA = await addOrg('Alpha');
  orgB = await addOrg('Beta');

  // One global sequence: interleaved, A gets 1, 3, 5 and B gets 2, 4.
  for (const [org, alias] of [
    [orgA, 'a1'],
    [orgB, 'b1'],
    [orgA, 'a2'],
    [orgB, 'b2'],
    [orgA, 'a3'],
  ] as const) {
    tinyIdsBefore.set(alias, await plainAlert(org.id, alias));
  }
  assert.deepEqual(Object.fromEntries(tinyIdsBefore), { a1: '1', b1: '2', a2: '3', b2: '4', a3: '5' });

  for (const [i, f] of OLD_FINDINGS.entries()) {
    assert.ok(
      Buffer.byteLength(f.productArn) + Buffer.byteLength(f.id) < 700,
      `finding ${i} fits the old key`,
    );
    await sql`
      INSERT INTO securityhub_findings (integration_id, product_arn, finding_id, severity_label)
      VALUES (${orgA.integrationId}, ${f.productArn}, ${f.id}, 'HIGH')`.execute(db);
    await sql`
      INSERT INTO securityhub_writebacks (integration_id, product_arn, finding_id, field, value, event_id, seq)
      VALUES (${orgA.integrationId}, ${f.productArn}, ${f.id}, 'workflow', '{"status":"RESOLVED"}', ${randomUUID()}, ${i})
    `.execute(db);
  }

  const queued = await sql<{ id: string }>`
    INSERT INTO integration_payloads (integration_id, kind, verdict, content_type, body)
    VALUES (${orgB.integrationId}, 'imported', 'queued', 'application/json', '{"detail":{"findings":[]}}')
    RETURNING id`.execute(db);
  queuedPayloadId = queued.rows[0]!.id;
  await sql`
    INSERT INTO integration_payloads (integration_id, kind, verdict, reason, body)
    VALUES (${orgA.integrationId}, 'imported', 'ignored', 'no findings', '{}')`.execute(db);

  const upgraded = await migrator.migrateToLatest();
  assert.equal(upgraded.error, undefined, String(upgraded.error));
  assert.deepEqual(
    upgraded.results?.map((r) => [r.migrationName, r.status]),
    [['0007_hostile_input', 'Success']],
  );
});
after(async () => {
  await db.destroy();
});

describe('0007_hostile_input on a database with findings', () => {
  it('keys existing findings by the digest the code computes', async () => {
    const rows = await sql<{ product_arn: string; finding_id: string; finding_key: string }>`
      SELECT product_arn, finding_id, finding_key FROM securityhub_findings
      WHERE integration_id = ${orgA.integrationId}`.execute(db);
    assert.equal(rows.rows.length, OLD_FINDINGS.length);
    for (const f of OLD_FINDINGS) {
      const row = rows.rows.find((r) => r.product_arn === f.productArn && r.finding_id === f.id);
      assert.ok(row, `finding ${JSON.stringify(f.id)} kept whole`);
      assert.equal(row.finding_key, findingKeyDigest({ id: f.id, productArn: f.productArn }), f.id);
    }
    assert.equal(
      new Set(rows.rows.map((r) => r.finding_key)).size,
      OLD_FINDINGS.length,
      'é and e + ◌́ differ',
    );

    // What the code after 0007 does: look a finding up by the key it computes.
    for (const f of OLD_FINDINGS) {
      const found = await db
        .selectFrom('securityhub_findings')
        .select('severity_label')
        .where('integration_id', '=', orgA.integrationId)
        .where('finding_key', '=', findingKeyDigest(f))
        .executeTakeFirst();
      assert.equal(found?.severity_label, 'HIGH', f.id);
    }
  });

  it('keys existing write-backs by the same digest', async () => {
    const rows = await db
      .selectFrom('securityhub_writebacks')
      .select(['product_arn', 'finding_id', 'finding_key'])
      .where('integration_id', '=', orgA.integrationId)
      .execute();
    assert.equal(rows.length, OLD_FINDINGS.length);
    for (const row of rows) {
      assert.equal(row.finding_key, findingKeyDigest({ id: row.finding_id, productArn: row.product_arn }));
    }
    const findingKeys = await db.selectFrom('securityhub_findings').select('finding_key').execute();
    assert.deepEqual(
      rows.map((r) => r.finding_key).sort(),
      findingKeys.map((r) => r.finding_key).sort(),
      'a write-back joins its finding on finding_key',
    );
  });

  it('keys findings by (integration_id, finding_key) and write-backs by (event_id, finding_key)', async () => {
    assert.deepEqual(await columnsOf('securityhub_findings', 'p'), [['integration_id', 'finding_key']]);
    assert.deepEqual(await columnsOf('securityhub_writebacks', 'u'), [['event_id', 'finding_key']]);
    const columns = await sql<{ table_name: string; is_nullable: string }>`
      SELECT table_name, is_nullable FROM information_schema.columns
      WHERE table_schema = current_schema() AND column_name = 'finding_key' ORDER BY table_name`.execute(db);
    assert.deepEqual(columns.rows, [
      { table_name: 'securityhub_findings', is_nullable: 'NO' },
      { table_name: 'securityhub_writebacks', is_nullable: 'NO' },
    ]);
    assert.match(
      (await indexDef('securityhub_writebacks_finding')) ?? '',
      /\(integration_id, finding_key, field, seq\)$/,
    );
  });

  it('takes an Id of 3,000 characters, which the old key could not index', async () => {
    // Random hex does not compress: 3,000 bytes is more than a btree row holds (2,704).
    const finding = { productArn: GUARDDUTY, id: `${randomBytes(1498).toString('hex')}-é🚨!` };
    assert.equal([...finding.id].length, 3_000, 'characters (code points)');
    const key = findingKeyDigest(finding);
    await db
      .insertInto('securityhub_findings')
      .values({
        integration_id: orgA.integrationId,
        finding_key: key,
        product_arn: finding.productArn,
        finding_id: finding.id,
        severity_label: 'LOW',
        written_back: null,
      })
      .execute();
    await db
      .insertInto('securityhub_writebacks')
      .values({
        integration_id: orgA.integrationId,
        alert_id: null,
        finding_key: key,
        product_arn: finding.productArn,
        finding_id: finding.id,
        field: 'note',
        value: JSON.stringify({ text: 'long' }),
        event_id: randomUUID(),
        last_error: null,
        lease_until: null,
      })
      .execute();
    const stored = await sql<{ finding_id: string; sql_key: string }>`
      SELECT finding_id, encode(sha256(sha256(convert_to(product_arn, 'UTF8')) || sha256(convert_to(finding_id, 'UTF8'))), 'hex') AS sql_key
      FROM securityhub_findings WHERE integration_id = ${orgA.integrationId} AND finding_key = ${key}`.execute(
      db,
    );
    assert.equal(stored.rows[0]?.finding_id, finding.id, 'kept whole');
    assert.equal(stored.rows[0]?.sql_key, key, "the migration's SQL digest agrees with the code's");
  });
});

describe('0007_hostile_input on a database with alerts', () => {
  it('keeps existing tinyIds, and each organization continues from its own highest', async () => {
    const rows = await sql<{ alias: string; tiny_id: string }>`
      SELECT alias, tiny_id FROM alerts WHERE alias = ANY(${[...tinyIdsBefore.keys()]})`.execute(db);
    assert.deepEqual(
      Object.fromEntries(rows.rows.map((r) => [r.alias, r.tiny_id])),
      Object.fromEntries(tinyIdsBefore),
    );
    assert.equal(await plainAlert(orgA.id, 'a4'), '6');
    assert.equal(await plainAlert(orgB.id, 'b3'), '5');
    assert.equal(await plainAlert(orgA.id, 'a5'), '7');
    assert.equal(await plainAlert(orgB.id, 'b4'), '6');
  });

  it('starts a new organization at 1, and allows the same tinyId in two organizations', async () => {
    const orgC = await addOrg('Gamma');
    assert.equal(await plainAlert(orgC.id, 'c1'), '1');
    assert.equal(await plainAlert(orgC.id, 'c2'), '2');
    const ones = await sql<{ org_id: string }>`SELECT org_id FROM alerts WHERE tiny_id = 1`.execute(db);
    assert.deepEqual(ones.rows.map((r) => r.org_id).sort(), [orgA.id, orgC.id].sort());

    assert.match(
      (await indexDef('alerts_org_tiny_id')) ?? '',
      /^CREATE UNIQUE INDEX .* \(org_id, tiny_id\)$/,
    );
    assert.deepEqual(await columnsOf('alerts', 'u'), [], 'no unique constraint on tiny_id alone');
    await assert.rejects(
      sql`INSERT INTO alerts (org_id, tiny_id, alias, message) VALUES (${orgC.id}, 2, 'c-dup', 'dup')`.execute(
        db,
      ),
      (error: { code?: string }) => error.code === '23505',
      'the same tinyId twice in one organization is refused',
    );
  });

  it('keeps a tinyId the insert supplies (as pg_restore does)', async () => {
    const row = await sql<{ tiny_id: string }>`
      INSERT INTO alerts (org_id, tiny_id, alias, message) VALUES (${orgB.id}, 42, 'restored', 'restored')
      RETURNING tiny_id`.execute(db);
    assert.equal(row.rows[0]?.tiny_id, '42');
  });
});

describe('0007_hostile_input on a database with stored deliveries', () => {
  it('adds request_id, progress (0) and partial to existing deliveries', async () => {
    const rows = await db
      .selectFrom('integration_payloads')
      .select(['verdict', 'request_id', 'progress', 'partial'])
      .orderBy('id')
      .execute();
    assert.deepEqual(rows, [
      { verdict: 'queued', request_id: null, progress: 0, partial: null },
      { verdict: 'ignored', request_id: null, progress: 0, partial: null },
    ]);
  });

  it('still finds an existing queued delivery, by the new queued index', async () => {
    assert.match(
      (await indexDef('integration_payloads_queued')) ?? '',
      /\(integration_id, id\) WHERE \(verdict = 'queued'::text\)$/,
    );
    assert.deepEqual(await integrationsRepository.integrationsWithQueuedDeliveries(db), [orgB.integrationId]);
    const claimed = await db
      .transaction()
      .execute((tx) => integrationsRepository.claimQueuedDeliveries(tx, orgB.integrationId, 10));
    assert.deepEqual(
      claimed.map((d) => ({ id: d.id, progress: d.progress, partial: d.partial })),
      [{ id: queuedPayloadId, progress: 0, partial: null }],
    );
  });
});
