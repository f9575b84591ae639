/** What one step of `vigil aws setup` or `teardown` did to one AWS resource, for the printed report. */

export type Outcome =
  | 'created'
  | 'updated'
  | 'unchanged'
  | 'deleted'
  | 'absent'
  | 'kept'
  | 'would create'
  | 'would update'
  | 'would delete';

export interface StepResult {
  /** e.g. 'SNS topic vigil-securityhub-3f1c9a52' */
  what: string;
  outcome: Outcome;
  /** An ARN, or why something was kept. */
  detail?: string;
}

export type Progress = (line: string) => void;

export function report(progress: Progress, where: string, step: StepResult): StepResult {
  progress(`  ${where}  ${step.what}: ${step.outcome}${step.detail ? ` (${step.detail})` : ''}`);
  return step;
}

/** Outcome of a change that a dry run only announces. */
export function planned(dryRun: boolean, outcome: 'created' | 'updated' | 'deleted'): Outcome {
  if (!dryRun) return outcome;
  return outcome === 'created' ? 'would create' : outcome === 'updated' ? 'would update' : 'would delete';
}
