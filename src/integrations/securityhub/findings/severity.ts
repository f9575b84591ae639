/**
 * Severity labels and alert priorities, both ways. Apart because both finding formats read severities
 * and the write-back turns priorities into severities, and the mapping has to be the same for all three.
 */
import { SEVERITY_LABELS } from '../../types.js';
import type { Priority, SeverityLabel } from './types.js';

const PRIORITY_OF: Record<SeverityLabel, Priority> = {
  CRITICAL: 'P1',
  HIGH: 'P2',
  MEDIUM: 'P3',
  LOW: 'P4',
  INFORMATIONAL: 'P5',
};

const SEVERITY_OF: Record<Priority, SeverityLabel> = {
  P1: 'CRITICAL',
  P2: 'HIGH',
  P3: 'MEDIUM',
  P4: 'LOW',
  P5: 'INFORMATIONAL',
};

/** The severity used when a finding carries none that can be read. */
export const DEFAULT_SEVERITY: SeverityLabel = 'MEDIUM';

export function priorityForSeverity(label: SeverityLabel): Priority {
  return PRIORITY_OF[label] ?? PRIORITY_OF[DEFAULT_SEVERITY];
}

/** For writing an alert's priority back to its finding: P1 CRITICAL … P5 INFORMATIONAL. */
export function severityForPriority(priority: Priority): SeverityLabel {
  return SEVERITY_OF[priority] ?? DEFAULT_SEVERITY;
}

/**
 * ASFF Severity.Normalized (0-100) to a label: 0 INFORMATIONAL, 1-39 LOW, 40-69 MEDIUM, 70-89 HIGH,
 * 90-100 CRITICAL. Fractions fall to the range below the next boundary (39.5 is LOW); below 0 is
 * INFORMATIONAL, above 100 CRITICAL, and a value that is not a number MEDIUM.
 */
export function severityFromNormalized(n: number): SeverityLabel {
  if (typeof n !== 'number' || Number.isNaN(n)) return DEFAULT_SEVERITY;
  if (n < 1) return 'INFORMATIONAL';
  if (n < 40) return 'LOW';
  if (n < 70) return 'MEDIUM';
  if (n < 90) return 'HIGH';
  return 'CRITICAL';
}

export function severityLabelOf(value: unknown): SeverityLabel | undefined {
  if (typeof value !== 'string') return undefined;
  const upper = value.trim().toUpperCase();
  return SEVERITY_LABELS.find((l) => l === upper);
}
