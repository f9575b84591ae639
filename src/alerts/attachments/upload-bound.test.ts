import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import type { Principal } from '../../accounts/service.js';
import { createDb, createPool } from '../../db/database.js';
import { slowUplinkProxy } from '../../testing/freezing-proxy.js';
import { createAlert, startTestServer, type TestServer } from '../../testing/harness.js';
import { createAttachmentLinks } from './links.js';
import { createAttachmentsService } from './service.js';

/**
 * The API pool's bound on a statement (createPool's queryTimeoutMs) counts the time spent sending it: an
 * upload's insert over a slower link was cut off every time (a 503) once the file took longer to send than
 * the bound. The insert now gets time for its bytes on top (PostgreSQL's statement_timeout still bounds it
 * once received).
 */

describe("an attachment's upload over a slow link to the database", () => {
  let server: TestServer;
  let proxy: Awaited<ReturnType<typeof slowUplinkProxy>>;
  before(async () => {
    server = await startTestServer();
    proxy = await slowUplinkProxy(server.databaseUrl, 2 * 1024 * 1024);
  });
  after(async () => {
    await proxy?.close();
    await server?.stop();
  });

  it('is not cut off by the bound while the file is still being sent', { timeout: 30_000 }, async () => {
    const BOUND_MS = 500;
    const db = createDb(createPool(proxy.url, 2, { queryTimeoutMs: BOUND_MS }));
    const owner = new pg.Client({ connectionString: server.databaseUrl });
    await owner.connect();
    try {
      const alertId = await createAlert(server, { message: 'slow upload', alias: randomUUID() });
      const { rows } = await owner.query<{ org_id: string }>('SELECT org_id FROM alerts WHERE id = $1', [
        alertId,
      ]);
      const principal: Principal = {
        orgId: rows[0]!.org_id,
        apiKeyId: randomUUID(),
        userId: undefined,
        username: undefined,
        fullName: undefined,
        role: undefined,
      };
      const service = createAttachmentsService({
        db,
        links: createAttachmentLinks(randomBytes(32), 'https://vigil.example.test', 60_000),
        limits: { maxBytes: 8 * 1024 * 1024, perAlert: 5 },
      });
      // About 1.5 s to send at 2 MiB/s, three times the bound.
      const content = randomBytes(3 * 1024 * 1024);
      const added = await service.add(principal, alertId, 'id', {
        fileName: 'big.bin',
        contentType: 'application/octet-stream',
        content,
      });
      assert.equal(added.size, content.length);
    } finally {
      await owner.end();
      await db.destroy();
    }
  });
});
