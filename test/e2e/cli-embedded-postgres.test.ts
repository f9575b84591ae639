import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../src/db/embedded.js';
import { waitFor } from '../../src/testing/harness.js';
import {
  alertCount,
  cleanUp,
  clusterDir,
  embeddedEnv,
  freshDataDir,
  healthy,
  postAlert,
  start,
} from './vigil-command.js';

/** The real `vigil` command with its own PostgreSQL: started, stopped on SIGTERM, reused. */

after(cleanUp);

describe('vigil command', () => {
  it(
    'starts its own PostgreSQL, stops it on SIGTERM, and reuses it on the next start',
    { timeout: 120_000 },
    async () => {
      const dataDir = await freshDataDir();
      const key = '0f8fad5b-d9cb-469f-a165-70867728950e';
      for (const round of [1, 2]) {
        const port = await freePort();
        const vigil = start(embeddedEnv(dataDir, key, port));
        await waitFor(`round ${round} to serve`, () => healthy(port), 60_000);
        assert.equal(await postAlert(port, key, `round ${round}`, 'e2e'), 202);
        // The second start sees the first start's alert: the same cluster, reused.
        assert.equal(await alertCount(port, key, 'e2e'), round);
        assert.ok(!vigil.output().includes(key), 'the key never appears in the logs');
        vigil.child.kill('SIGTERM');
        assert.equal(await vigil.exited, 0, vigil.output());
        assert.match(vigil.output(), /embedded PostgreSQL stopped/);
        await assert.rejects(fs.access(path.join(await clusterDir(dataDir), 'postmaster.pid')));
      }
    },
  );
});
