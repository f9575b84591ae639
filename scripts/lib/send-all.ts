import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Sends a burst of POSTs from a process of its own (scripts/lib/send-all-child.ts), so that making the
 * requests does not take the event loop of the Vigil being measured, as autocannon does for the steady
 * loads (load.ts). Each request is sent once, `concurrency` at a time, over kept connections; what comes
 * back is when each was sent (ms since the epoch: the same clock as this process's) and how long the
 * whole burst took.
 */
export interface BurstRequest {
  /** What the caller knows the request by. */
  key: string;
  body: unknown;
}

export interface BurstResult {
  sentAt: Map<string, number>;
  seconds: number;
}

const CHILD = fileURLToPath(new URL('./send-all-child.ts', import.meta.url));

export async function sendAll(
  url: string,
  headers: Record<string, string>,
  requests: readonly BurstRequest[],
  options: { concurrency: number; expectStatus: number },
): Promise<BurstResult> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-burst-'));
  try {
    const input = path.join(dir, 'requests.json');
    await fs.writeFile(
      input,
      JSON.stringify({
        url,
        headers,
        concurrency: options.concurrency,
        expectStatus: options.expectStatus,
        requests: requests.map((r) => ({ key: r.key, body: JSON.stringify(r.body) })),
      }),
    );
    // process.execArgv carries tsx's loader, so the child runs TypeScript as this process does.
    const child = spawn(process.execPath, [...process.execArgv, CHILD, input], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    if (code !== 0) throw new Error(`the burst's sender exited with ${code}`);
    const result = JSON.parse(out) as { sentAt: Record<string, number>; seconds: number };
    return { sentAt: new Map(Object.entries(result.sentAt)), seconds: result.seconds };
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
