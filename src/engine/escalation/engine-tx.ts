import type { Tx } from '../../db/database.js';
import type { AlertRow } from '../../db/schema.js';
import { LogBuffer } from './log-buffer.js';
import { createSetupReads, type SetupReads } from './setup-reads.js';

/** What the engine keeps for the length of one transaction, passed along with it. */
export interface EngineTx {
  tx: Tx;
  logs: LogBuffer;
  reads: SetupReads;
  /**
   * New alerts of a batch, read at once before their events are handled. Their rows cannot have
   * changed since, in this transaction: nothing else of a new alert is handled before its start.
   */
  newAlerts: Map<string, AlertRow>;
  /** A notification policy scheduled an auto-close: its queue is woken once this commits. */
  autoCloseScheduled: boolean;
  /** A notification policy scheduled an auto-restart: its queue is woken once this commits. */
  autoRestartScheduled: boolean;
  /**
   * An escalation on call in a schedule was started for an alert, due at once: the escalations queue is
   * woken once this commits (its loops may sleep for seconds, and it is not the queue that made it).
   */
  escalationStarted: boolean;
}

export function engineTx(tx: Tx): EngineTx {
  return {
    tx,
    logs: new LogBuffer(),
    reads: createSetupReads(tx),
    newAlerts: new Map(),
    autoCloseScheduled: false,
    autoRestartScheduled: false,
    escalationStarted: false,
  };
}
