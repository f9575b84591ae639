import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../src/db/embedded.js';
import { waitFor } from '../../src/testing/harness.js';
import {
  accepts,
  cleanUp,
  embeddedEnv,
  alertCount,
  alive,
  clusterDir,
  freshDataDir,
  healthy,
  postAlert,
  postmaster,
  start,
} from './vigil-command.js';

/** The real `vigil` command attaching to the PostgreSQL that a killed Vigil left running. */

after(cleanUp);

describe('vigil command', () => {
  it(
    'stops on SIGTERM the PostgreSQL it attached to after a Vigil was killed',
    { timeout: 180_000 },
    async () => {
      const dataDir = await freshDataDir();
      const key = '9b2c4e1a-3f5d-4a6b-8c7d-0e1f2a3b4c5d';
      const env = (port: number) => embeddedEnv(dataDir, key, port);
      const firstPort = await freePort();
      const first = start(env(firstPort));
      await waitFor('the first Vigil to serve', () => healthy(firstPort), 60_000);
      assert.equal(await postAlert(firstPort, key, 'before the crash', 'crash'), 202);
      assert.equal(await alertCount(firstPort, key, 'crash'), 1);
      first.child.kill('SIGKILL');
      await first.exited;
      const cluster = await clusterDir(dataDir);
      const server = await postmaster(cluster);
      assert.ok(server, 'the embedded PostgreSQL outlives a Vigil killed with SIGKILL');

      const secondPort = await freePort();
      const second = start(env(secondPort));
      await waitFor('the second Vigil to serve', () => healthy(secondPort), 60_000);
      assert.match(second.output(), /attaching to the embedded PostgreSQL/);
      assert.equal(await alertCount(secondPort, key, 'crash'), 1, 'the data from before the crash');
      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0, second.output());
      assert.match(second.output(), /embedded PostgreSQL stopped/);
      assert.equal(alive(server.pid), false, 'the PostgreSQL the second Vigil attached to is gone');
      assert.equal(await accepts(server.port), false);
      await assert.rejects(fs.access(path.join(cluster, 'postmaster.pid')));
    },
  );
});
