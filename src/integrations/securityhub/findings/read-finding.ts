/**
 * One finding of either format, read by the reader its shape calls for. Apart so that a reader's failure
 * stays with its finding: the event goes on with the others.
 */
import { looksAsff, readAsff } from './asff.js';
import type { FindingResult } from './finding-result.js';
import { describeError, obj } from './lenient-read.js';
import { looksOcsf, readOcsf } from './ocsf.js';

export function readFinding(raw: unknown, preferOcsf: boolean): FindingResult {
  try {
    const finding = obj(raw);
    if (!finding) return { reason: 'finding is not an object' };
    if (looksOcsf(finding) || (preferOcsf && !looksAsff(finding))) return readOcsf(finding);
    return readAsff(finding);
  } catch (err) {
    return { reason: `finding could not be read: ${describeError(err)}` };
  }
}
