/**
 * How a refusal travels from deep inside a check (including a cidr's parsing) up to validateEventPattern,
 * which turns it into EventBridge's reason and rethrows anything else (a bug). Apart because the cidr
 * parser raises it too, not only validation.
 */

export class InvalidPattern extends Error {}

export function invalid(reason: string): never {
  throw new InvalidPattern(reason);
}
