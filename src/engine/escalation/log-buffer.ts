import { alertsRepository } from '../../alerts/repository.js';
import type { Queryable } from '../../db/database.js';

/** Who the activity log names for what the engine does. */
export const ENGINE_ACTOR = 'Vigil';

/** Where a buffer stood when a savepoint was taken (see LogBuffer.mark). */
export interface LogMark {
  readonly lines: number;
  readonly written: number;
}

/**
 * The activity-log lines of one transaction, written together at its end: a busy engine writes several
 * per alert, and round trips are what it spends its time on. A closing step writes the lines before it
 * early (so they come first on the log); the buffer remembers what it wrote, so that a rollback to a
 * savepoint taken before (dropAfter) writes again the lines that savepoint's rollback took back.
 */
export class LogBuffer {
  private lines: { alertId: string; text: string | undefined }[] = [];
  /** lines[0, written) are in the database (in this transaction). */
  private written = 0;

  add(alertId: string, text: string): void {
    this.lines.push({ alertId, text });
  }

  /**
   * A line whose text is known later (a page planned with others of its batch), kept in its place: the
   * returned function gives its text, before the next flush.
   */
  reserve(alertId: string): (text: string) => void {
    const line = { alertId, text: undefined as string | undefined };
    this.lines.push(line);
    return (text) => {
      line.text = text;
    };
  }

  /** Where the lines stand now, taken with a savepoint: dropAfter undoes what came after. */
  mark(): LogMark {
    return { lines: this.lines.length, written: this.written };
  }

  /** The work since `mark` was rolled back (to a savepoint taken then): its lines go, and what was written since is to be written again. */
  dropAfter(mark: LogMark): void {
    this.lines.splice(mark.lines);
    this.written = Math.min(this.written, mark.written);
  }

  async flush(db: Queryable): Promise<void> {
    const todo = this.lines.slice(this.written).map((l) => {
      if (l.text === undefined) throw new Error('an activity-log line was reserved but never given its text');
      return { alertId: l.alertId, type: 'escalation', log: l.text, owner: ENGINE_ACTOR };
    });
    this.written = this.lines.length;
    await alertsRepository.addLogs(db, todo);
  }
}
