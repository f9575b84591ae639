/** What became of each object an import read: one line each as it goes, and counts at the end. */

// `deleted` is only for what Vigil made by itself and the import replaces (a new user's default rule).
export type Outcome = 'created' | 'updated' | 'deleted' | 'unchanged' | 'skipped' | 'failed';

export interface Entry {
  kind: string;
  name: string;
  outcome: Outcome;
  /** Why it was skipped or failed, or what was left out of an object imported. */
  reason?: string;
}

export const KINDS = [
  'custom user role',
  'user',
  'contact method',
  'notification rule',
  'team',
  'team role',
  'schedule',
  'schedule override',
  'escalation',
  // A rotation whose escalation participants are set once escalations are imported.
  'schedule rotation',
  'integration',
  'integration actions',
  'routing rule',
  'alert policy',
  'notification policy',
  'heartbeat',
  'maintenance',
] as const;
export type Kind = (typeof KINDS)[number];

/** How the summary names a kind: users, alert policies, integration actions. */
const plural = (kind: Kind) =>
  kind.endsWith('s') ? kind : kind.endsWith('y') ? `${kind.slice(0, -1)}ies` : `${kind}s`;

/**
 * Text from either API made safe to print: control characters (C0, DEL and C1, which start terminal escape
 * sequences: a title set, a screen cleared) become "?". Whatever answers at a URL chooses what it says.
 */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?');
}

export function createReport(progress: (line: string) => void, dryRun: boolean) {
  const entries: Entry[] = [];
  const notes: string[] = [];
  const verb = (outcome: Outcome) =>
    dryRun && (outcome === 'created' || outcome === 'updated' || outcome === 'deleted')
      ? `would be ${outcome}`
      : outcome;

  function record(kind: Kind, rawName: string, outcome: Outcome, rawReason?: string) {
    // Names and messages come from both APIs: no control characters reach the terminal.
    const name = printable(rawName);
    const reason = rawReason === undefined ? undefined : printable(rawReason);
    entries.push({ kind, name, outcome, ...(reason ? { reason } : {}) });
    const why = reason
      ? outcome === 'skipped' || outcome === 'failed'
        ? `: ${reason}`
        : ` (${reason})`
      : '';
    progress(`${kind} ${name}: ${verb(outcome)}${why}`);
  }

  return {
    record,
    /** Said once at the end, such as what people must do next. */
    note(rawText: string) {
      // Notes name objects from Opsgenie (an integration's name, an email username) too.
      const text = printable(rawText);
      if (!notes.includes(text)) notes.push(text);
    },
    entries: () => entries,
    /** `failed`: something went wrong that was not an expected limit of Vigil. */
    failed: () => entries.some((e) => e.outcome === 'failed'),
    /** The closing report, as lines. */
    summary(stopped = false): string[] {
      const lines = [
        dryRun
          ? 'Dry run: nothing was changed. What the import would do:'
          : stopped
            ? 'What was done before it stopped:'
            : 'Import finished:',
      ];
      for (const kind of KINDS) {
        const of = entries.filter((e) => e.kind === kind);
        if (of.length === 0) continue;
        const count = (o: Outcome) => of.filter((e) => e.outcome === o).length;
        const parts = [
          `${count('created')} ${dryRun ? 'to create' : 'created'}`,
          `${count('updated')} ${dryRun ? 'to update' : 'updated'}`,
          ...(count('deleted') > 0 ? [`${count('deleted')} ${dryRun ? 'to delete' : 'deleted'}`] : []),
          `${count('unchanged')} unchanged`,
          `${count('skipped')} skipped`,
          ...(count('failed') > 0 ? [`${count('failed')} failed`] : []),
        ];
        lines.push(`  ${plural(kind)}: ${parts.join(', ')}`);
      }
      const problems = entries.filter((e) => e.outcome === 'skipped' || e.outcome === 'failed');
      if (problems.length > 0) {
        lines.push('Skipped or failed:');
        for (const e of problems) lines.push(`  ${e.kind} ${e.name}: ${e.outcome}: ${e.reason ?? ''}`);
      }
      const partial = entries.filter((e) => e.reason && (e.outcome === 'created' || e.outcome === 'updated'));
      if (partial.length > 0) {
        lines.push('Imported with changes:');
        for (const e of partial) lines.push(`  ${e.kind} ${e.name}: ${e.reason ?? ''}`);
      }
      if (notes.length > 0) {
        lines.push('Next steps:');
        for (const n of notes) lines.push(`  - ${n}`);
      }
      return lines;
    },
  };
}

export type Report = ReturnType<typeof createReport>;
