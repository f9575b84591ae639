import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { sql, type Migrator } from 'kysely';
import type { Db } from '../database.js';
import { databaseBefore } from '../../testing/migration-database.js';

/**
 * Upgrading a database whose Webhook integrations' destinations were changed through /v2/destinations:
 * each integration's settings take its own destination's (the oldest webhook on it) URL, headers and
 * payload flags; a webhook it owns besides, and other types, are left alone.
 */

const THIS = '0060_webhook_settings_from_destination';
let db: Db;
let migrator: Migrator;
let orgId: string;
let teamId: string;

const STALE = {
  webhookUrl: 'https://hooks.example.com/before',
  headers: { Authorization: 'Bearer before' },
  addAlertDescription: true,
  addAlertDetails: true,
  suppressNotifications: true,
};

async function integration(type: string, name: string, settings: object): Promise<string> {
  const made = await sql<{ id: string }>`
    INSERT INTO integrations (org_id, type, name, owner_team_id, api_key_lookup, api_key_hash, external_id, settings)
    VALUES (${orgId}, ${type}, ${name}, ${teamId}, ${name}, ${randomBytes(32)}, ${name}, ${JSON.stringify(settings)})
    RETURNING id`.execute(db);
  return made.rows[0]!.id;
}

async function webhook(integrationId: string, name: string, config: object, createdAt: string) {
  await sql`
    INSERT INTO team_destinations (org_id, integration_id, type, name, config, created_at)
    VALUES (${orgId}, ${integrationId}, 'webhook', ${name}, ${JSON.stringify(config)}, ${createdAt}::timestamptz)`.execute(
    db,
  );
}

const settingsOf = async (id: string) =>
  (
    await sql<{
      settings: Record<string, unknown>;
    }>`SELECT settings FROM integrations WHERE id = ${id}`.execute(db)
  ).rows[0]!.settings;

let moved: string;
let inStep: string;
let other: string;

before(async () => {
  ({ db, migrator } = await databaseBefore(THIS));
  orgId = (
    await sql<{ id: string }>`INSERT INTO organizations (name) VALUES ('Org') RETURNING id`.execute(db)
  ).rows[0]!.id;
  teamId = (
    await sql<{
      id: string;
    }>`INSERT INTO teams (org_id, name) VALUES (${orgId}, 'Hooks') RETURNING id`.execute(db)
  ).rows[0]!.id;

  // Its own destination moved to another URL with other headers and a flag, and a newer webhook besides.
  moved = await integration('Webhook', 'moved', STALE);
  await webhook(
    moved,
    'own of moved',
    {
      url: 'https://hooks.example.com/after',
      secret: 'whsec_x',
      headers: { Authorization: 'Bearer after' },
      addAlertDetails: false,
    },
    '2026-01-01T00:00:00Z',
  );
  await webhook(
    moved,
    'besides',
    { url: 'https://elsewhere.example.com/', secret: 'whsec_y' },
    '2026-02-01T00:00:00Z',
  );
  inStep = await integration('Webhook', 'in step', STALE);
  await webhook(
    inStep,
    'own of in step',
    { url: STALE.webhookUrl, secret: 'whsec_z', headers: STALE.headers },
    '2026-01-01T00:00:00Z',
  );
  // Not a Webhook integration: a webhook it owns is no setting of it.
  other = await integration('API', 'api', { allowWriteAccess: true });
  await webhook(
    other,
    'of api',
    { url: 'https://api.example.com/', secret: 'whsec_w' },
    '2026-01-01T00:00:00Z',
  );

  assert.equal((await migrator.migrateTo(THIS)).error, undefined);
});

after(async () => {
  await db?.destroy();
});

describe('migration 0060: a Webhook integration takes its own destination as its settings', () => {
  it("copies the oldest webhook's URL, headers and flags, and leaves the rest of the settings and others alone", async () => {
    assert.deepEqual(await settingsOf(moved), {
      webhookUrl: 'https://hooks.example.com/after',
      headers: { Authorization: 'Bearer after' },
      addAlertDescription: true,
      addAlertDetails: false,
      suppressNotifications: true,
    });
    assert.deepEqual(await settingsOf(inStep), STALE);
    assert.deepEqual(await settingsOf(other), { allowWriteAccess: true });
  });
});
