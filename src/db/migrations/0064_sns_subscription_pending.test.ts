import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, it } from 'node:test';
import { sql, type Migrator } from 'kysely';
import type { Db } from '../database.js';
import { databaseBefore } from '../../testing/migration-database.js';

/**
 * A topic's subscription may be `pending` while it is confirmed, and records every confirmed subscription;
 * going back keeps a pending one as confirmed (its GET was accepted).
 */

const THIS = '0064_sns_subscription_pending';
let db: Db;
let migrator: Migrator;
let integrationId: string;

const subscribe = (topic: string, status: string, arn: string | null = null) =>
  sql`INSERT INTO sns_subscriptions (integration_id, topic_arn, status, subscription_arn)
      VALUES (${integrationId}, ${topic}, ${status}, ${arn})`.execute(db);
const statuses = async () =>
  (
    await sql<{ topic_arn: string; status: string }>`
      SELECT topic_arn, status FROM sns_subscriptions ORDER BY topic_arn`.execute(db)
  ).rows;

before(async () => {
  ({ db, migrator } = await databaseBefore(THIS));
  const orgId = (
    await sql<{ id: string }>`INSERT INTO organizations (name) VALUES ('Org') RETURNING id`.execute(db)
  ).rows[0]!.id;
  const teamId = (
    await sql<{
      id: string;
    }>`INSERT INTO teams (org_id, name) VALUES (${orgId}, 'SecOps') RETURNING id`.execute(db)
  ).rows[0]!.id;
  integrationId = (
    await sql<{ id: string }>`
      INSERT INTO integrations (org_id, type, name, owner_team_id, api_key_lookup, api_key_hash, external_id)
      VALUES (${orgId}, 'AmazonSecurityHub', 'Hub', ${teamId}, 'k', ${randomBytes(32)}, 'e')
      RETURNING id`.execute(db)
  ).rows[0]!.id;
  await subscribe(
    'arn:aws:sns:us-east-1:123456789012:a',
    'confirmed',
    'arn:aws:sns:us-east-1:123456789012:a:1',
  );
  await assert.rejects(subscribe('arn:aws:sns:us-east-1:123456789012:b', 'pending'));
});

after(async () => {
  await db?.destroy();
});

it('takes pending subscriptions, and keeps them as confirmed going back', async () => {
  assert.equal((await migrator.migrateTo(THIS)).error, undefined);
  const arns = await sql<{ confirmed_arns: string[] }>`SELECT confirmed_arns FROM sns_subscriptions`.execute(
    db,
  );
  assert.deepEqual(arns.rows, [{ confirmed_arns: ['arn:aws:sns:us-east-1:123456789012:a:1'] }]);
  await subscribe('arn:aws:sns:us-east-1:123456789012:b', 'pending');
  await assert.rejects(subscribe('arn:aws:sns:us-east-1:123456789012:c', 'maybe'));
  assert.equal((await migrator.migrateDown()).error, undefined);
  assert.deepEqual(await statuses(), [
    { topic_arn: 'arn:aws:sns:us-east-1:123456789012:a', status: 'confirmed' },
    { topic_arn: 'arn:aws:sns:us-east-1:123456789012:b', status: 'confirmed' },
  ]);
  assert.equal((await migrator.migrateTo(THIS)).error, undefined);
});
