import assert from 'node:assert/strict';
import fs from 'node:fs/promises';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { freePort } from '../../src/db/embedded.js';
import { waitFor } from '../../src/testing/harness.js';
import {
  alertCount,
  alive,
  cleanUp,
  embeddedEnv,
  clusterDir,
  freshDataDir,
  healthy,
  postAlert,
  postmaster,
  start,
} from './vigil-command.js';

/** Two `vigil` commands on one data folder: the one that attached leaves the PostgreSQL to the other. */

after(cleanUp);

describe('vigil command', () => {
  it(
    'leaves running, on SIGTERM, the PostgreSQL of a Vigil that still runs on the same data folder',
    { timeout: 180_000 },
    async () => {
      const dataDir = await freshDataDir();
      const key = '3d6f8a1c-5b7e-4c9d-a2f4-6e8b0c1d3f5a';
      const env = (port: number) => embeddedEnv(dataDir, key, port);
      const firstPort = await freePort();
      const first = start(env(firstPort));
      await waitFor('the first Vigil to serve', () => healthy(firstPort), 60_000);
      const secondPort = await freePort();
      const second = start(env(secondPort), ['start', '--role', 'api']);
      await waitFor('the second Vigil to serve', () => healthy(secondPort), 60_000);
      assert.match(second.output(), /attaching to the embedded PostgreSQL/);
      const cluster = await clusterDir(dataDir);
      const server = await postmaster(cluster);
      assert.ok(server);

      second.child.kill('SIGTERM');
      assert.equal(await second.exited, 0, second.output());
      assert.doesNotMatch(second.output(), /embedded PostgreSQL stopped/);
      // The first Vigil still serves from its database.
      assert.ok(alive(server.pid), "the first Vigil's PostgreSQL still runs");
      assert.equal(await postAlert(firstPort, key, 'after the second left', 'shared'), 202);
      assert.equal(await alertCount(firstPort, key, 'shared'), 1);

      first.child.kill('SIGTERM');
      assert.equal(await first.exited, 0, first.output());
      assert.match(first.output(), /embedded PostgreSQL stopped/);
      assert.equal(alive(server.pid), false);
      await assert.rejects(fs.access(path.join(cluster, 'postmaster.pid')));
    },
  );
});
