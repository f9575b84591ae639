/**
 * The machine-readable result of a benchmark: every bench script ends with one line
 *
 *   BENCH {"bench":"intake","rows":[{"measure":"...","value":123,"unit":"alerts/s",
 *          "baseline":{"label":"...","value":15000,"unit":"req/s"},"ratio":0.11,"target":"≥ 3,000/s","met":false}]}
 *
 * which scripts/bench.ts collects into one table. A row's baseline is something measured in the same run
 * (the machine is shared and noisy, so the ratio is what compares across runs); a row without a natural
 * baseline has none. `met` is set only when the row has a target and the run was of the size the target
 * is stated for.
 */
export interface BenchBaseline {
  /** What the baseline is, such as "bare Fastify route, same bodies". */
  label: string;
  value: number;
  unit: string;
}

export interface BenchRow {
  measure: string;
  value: number;
  unit: string;
  baseline?: BenchBaseline;
  /** value / baseline.value; reportBench fills it in when a baseline is given. */
  ratio?: number;
  /** As the issue states it, such as "≥ 3,000/s" or "p99 ≤ 2 s". */
  target?: string;
  met?: boolean;
  /** Anything the reader must know to read the row (a smaller size than the target's, say). */
  note?: string;
}

export interface BenchReport {
  bench: string;
  rows: BenchRow[];
}

export const BENCH_PREFIX = 'BENCH ';

/** Rounds to `digits` significant digits (ratios and derived rates need no more). */
export function significant(value: number, digits = 3): number {
  if (!Number.isFinite(value) || value === 0) return value;
  return Number(value.toPrecision(digits));
}

/** The row with its ratio to the baseline filled in, when it has a baseline and no ratio yet. */
export function withRatio(row: BenchRow): BenchRow {
  const out: BenchRow = { ...row };
  if (out.baseline && (out.ratio === undefined || out.ratio === null) && out.baseline.value !== 0)
    out.ratio = significant(out.value / out.baseline.value);
  return out;
}

/** Prints the BENCH line (on a line of its own, after anything a progress counter left on the current one). */
export function reportBench(bench: string, rows: BenchRow[]): void {
  const filled = rows.map(withRatio);
  // JSON has no NaN: a figure that could not be measured is null.
  const json = JSON.stringify({ bench, rows: filled } satisfies BenchReport, (_key, value: unknown) =>
    typeof value === 'number' && !Number.isFinite(value) ? null : value,
  );
  process.stdout.write(`\n${BENCH_PREFIX}${json}\n`);
}

/** The report on a line of a bench's output, if the line is one. */
export function parseBenchLine(line: string): BenchReport | undefined {
  const trimmed = line.trim();
  if (!trimmed.startsWith(BENCH_PREFIX)) return undefined;
  try {
    const report = JSON.parse(trimmed.slice(BENCH_PREFIX.length)) as BenchReport;
    if (typeof report.bench !== 'string' || !Array.isArray(report.rows)) return undefined;
    return report;
  } catch {
    return undefined;
  }
}

/** The p-th percentile (nearest rank, 0-100) of values; NaN when there are none. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}
