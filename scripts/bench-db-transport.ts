/**
 * What a statement costs over the embedded PostgreSQL's unix socket against TCP on 127.0.0.1, the two
 * ways the same server can be reached: short transactions (BEGIN, a parameterised SELECT, COMMIT) from
 * 20 connections, rounds alternating so that the machine's noise falls on both. Reports transactions
 * per second and the CPU each costs Vigil's side (this process) and PostgreSQL's (its processes' CPU
 * time from /proc), as medians of the rounds. Not a test: prints numbers.
 *
 *   npm run bench:db-transport [-- --rounds 5 --transactions 20000]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { startEmbeddedPostgres } from '../src/db/embedded.js';
import { createLogger } from '../src/logger.js';
import { arg } from './lib/bench-app.js';
import { percentile, reportBench } from './lib/report.js';

const rounds = arg('rounds', 5);
const transactions = arg('transactions', 20_000);
const connections = 20;

/** CPU time (ms) of every process named postgres, from /proc (100 ticks a second). */
function postgresCpuMs(): number {
  let ticks = 0;
  for (const pid of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // It exited meanwhile.
    }
    if (!stat.includes('(postgres)')) continue;
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks * 10;
}

interface Round {
  perSecond: number;
  clientUs: number;
  serverUs: number;
}

async function round(connectionString: string): Promise<Round> {
  const pool = new pg.Pool({ connectionString, max: connections });
  pool.on('error', () => {});
  await Promise.all(Array.from({ length: connections }, () => pool.query('SELECT 1')));
  const cpu = process.cpuUsage();
  const server = postgresCpuMs();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      while (next++ < transactions) {
        const client = await pool.connect();
        try {
          await client.query('BEGIN');
          await client.query('SELECT $1::int + 1 AS n, now()', [next]);
          await client.query('COMMIT');
        } finally {
          client.release();
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  const serverMs = postgresCpuMs() - server;
  await pool.end();
  return {
    perSecond: transactions / seconds,
    clientUs: (used.user + used.system) / transactions,
    serverUs: (serverMs * 1000) / transactions,
  };
}

const median = (values: number[]) => percentile(values, 50);

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'vigil-bench-transport-'));
const server = await startEmbeddedPostgres({ dataDir, log: createLogger('warn') });
try {
  const overSocket = server.connectionString;
  if (!new URL(overSocket).searchParams.get('host'))
    throw new Error(`the data folder ${dataDir} is too deep for a socket address: use a shorter TMPDIR`);
  const tcpUrl = new URL(overSocket);
  tcpUrl.search = '';
  const overTcp = tcpUrl.toString();

  const results: Record<'socket' | 'tcp', Round[]> = { socket: [], tcp: [] };
  for (let i = 1; i <= rounds; i++) {
    results.socket.push(await round(overSocket));
    results.tcp.push(await round(overTcp));
    const [s, t] = [results.socket.at(-1), results.tcp.at(-1)];
    console.log(
      `round ${i}/${rounds}: unix socket ${Math.round(s?.perSecond ?? 0)}/s, TCP ${Math.round(t?.perSecond ?? 0)}/s`,
    );
  }
  const summary = (rows: Round[]) => ({
    perSecond: Math.round(median(rows.map((r) => r.perSecond))),
    clientUs: Math.round(median(rows.map((r) => r.clientUs))),
    serverUs: Math.round(median(rows.map((r) => r.serverUs))),
  });
  const socket = summary(results.socket);
  const tcp = summary(results.tcp);
  const label = `TCP on 127.0.0.1, same server, rounds alternating (median of ${rounds})`;
  reportBench('db-transport', [
    {
      measure: `short transactions over the unix socket, ${connections} connections, median of ${rounds}`,
      value: socket.perSecond,
      unit: 'transactions/s',
      baseline: { label, value: tcp.perSecond, unit: 'transactions/s' },
    },
    {
      measure: 'CPU per transaction, the client (this process)',
      value: socket.clientUs,
      unit: 'µs',
      baseline: { label, value: tcp.clientUs, unit: 'µs' },
    },
    {
      measure: 'CPU per transaction, PostgreSQL',
      value: socket.serverUs,
      unit: 'µs',
      baseline: { label, value: tcp.serverUs, unit: 'µs' },
    },
  ]);
} finally {
  await server.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
