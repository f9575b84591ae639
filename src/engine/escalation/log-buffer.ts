import { alertsRepository } from '../../alerts/repository.js';
import type { Queryable } from '../../db/database.js';

/** Who the activity log names for what the engine does. */
export const ENGINE_ACTOR = 'Vigil';

/**
 * The activity-log lines of one transaction, written together at its end: a busy engine writes several
 * per alert, and round trips are what it spends its time on.
 */
export class LogBuffer {
  private lines: { alertId: string; text: string }[] = [];

  add(alertId: string, text: string): void {
    this.lines.push({ alertId, text });
  }

  /** Where the lines stand now, to drop the later ones of work that was rolled back (see dropAfter). */
  mark(): number {
    return this.lines.length;
  }

  dropAfter(mark: number): void {
    this.lines.splice(mark);
  }

  async flush(db: Queryable): Promise<void> {
    const lines = this.lines;
    this.lines = [];
    await alertsRepository.addLogs(
      db,
      lines.map((l) => ({ alertId: l.alertId, type: 'escalation', log: l.text, owner: ENGINE_ACTOR })),
    );
  }
}
