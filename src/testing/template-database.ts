import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createDb, createPool } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import type { Logger } from '../logger.js';

/**
 * The database that scripts/test.ts migrates once, before the test files run, for the test servers to
 * start on copies of (createTestDatabase({ migrated: true })): applying the 38 migrations to an empty
 * database took a server 2.4 s of a busy 2-core machine, copying the migrated one and finding nothing
 * to apply 1.5 s, and the test files start about a hundred servers.
 */
export const TEMPLATE_DATABASE_VARIABLE = 'VIGIL_TEST_TEMPLATE_DATABASE';

/** Creates and migrates the template database on the server `serverUrl` names; returns its name. */
export async function createTemplateDatabase(serverUrl: string, log: Logger): Promise<string> {
  const name = `vigil_test_template_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  // Closed before any copy is made: PostgreSQL copies only a database nobody is connected to. Two
  // connections: migrate() holds one for its lock while the migrations run on the other.
  const pool = createPool(url.toString(), 2);
  const db = createDb(pool);
  try {
    await migrate(db, pool, log);
  } finally {
    await db.destroy();
  }
  return name;
}

export async function dropTemplateDatabase(serverUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name}`);
  } finally {
    await admin.end();
  }
}
