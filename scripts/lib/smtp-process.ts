import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { messageArrivals } from '../../src/testing/smtp.js';

/**
 * The test SMTP server (src/testing/smtp.ts) in a process of its own, for benchmarks: a relay is never in
 * Vigil's process, and parsing each message there would take the event loop from the Vigil being
 * measured. It still shares the machine's cores, as a relay on the same host would. The child reports
 * each message as it is accepted; what a benchmark reads of it is when it arrived and its headers.
 */

export interface ArrivedMail {
  /** When the server had the whole message (the end of DATA). */
  receivedAt: Date;
  /** Header values by lower-cased name. */
  headers: Record<string, string>;
}

export interface SmtpProcess {
  url: string;
  port: number;
  messages: ArrivedMail[];
  /** Resolves once at least `count` messages arrived since the last clear; rejects after `timeoutMs`. */
  waitForMessages(count: number, timeoutMs?: number): Promise<ArrivedMail[]>;
  /** Forgets the messages that arrived (here and in the child). */
  clear(): Promise<void>;
  stop(): Promise<void>;
}

type FromChild =
  | { type: 'listening'; url: string; port: number }
  | { type: 'message'; receivedAt: number; headers: Record<string, string> }
  | { type: 'cleared' };

const CHILD = fileURLToPath(new URL('./smtp-process-child.ts', import.meta.url));

export async function startSmtpProcess(): Promise<SmtpProcess> {
  // process.execArgv carries tsx's loader, so the child runs TypeScript as the parent does.
  const child: ChildProcess = fork(CHILD, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const messages: ArrivedMail[] = [];
  const arrivals = messageArrivals(messages);
  let onCleared: (() => void) | undefined;

  const listening = new Promise<{ url: string; port: number }>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the SMTP server process exited (${code})`)));
    child.on('message', (m: FromChild) => {
      if (m.type === 'listening') resolve({ url: m.url, port: m.port });
      else if (m.type === 'message') {
        messages.push({ receivedAt: new Date(m.receivedAt), headers: m.headers });
        arrivals.arrived();
      } else if (m.type === 'cleared') onCleared?.();
    });
  });
  const { url, port } = await listening;

  return {
    url,
    port,
    messages,
    waitForMessages: arrivals.waitFor,
    async clear() {
      const cleared = new Promise<void>((resolve) => (onCleared = resolve));
      child.send({ type: 'clear' });
      await cleared;
      messages.length = 0;
    },
    async stop() {
      child.removeAllListeners('exit');
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ type: 'stop' });
      await exited;
    },
  };
}
