/**
 * What a finding reader returns, and the tidying both readers apply to what they read. Apart so the ASFF
 * and OCSF readers hand on findings of the same shape without depending on each other.
 */
import type { NormalizedFinding } from './types.js';

export type FindingResult = { finding: NormalizedFinding } | { reason: string };

/** A shallow copy without the keys whose value is undefined (except those in `keep`). */
function compact<T extends object>(value: T, keep: readonly string[] = []): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) if (v !== undefined || keep.includes(k)) out[k] = v;
  return out as T;
}

/** The finding without undefined optional keys (providerSeverityLabel is always present). */
export function tidy(finding: NormalizedFinding): NormalizedFinding {
  return compact(
    {
      ...finding,
      resources: finding.resources.map((r) => compact(r)),
      note: finding.note ? compact(finding.note) : undefined,
    },
    ['providerSeverityLabel'],
  );
}
