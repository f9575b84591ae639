/**
 * Amazon EventBridge event patterns: what a rule accepts (validateEventPattern, worded like
 * EventBridge's InvalidEventPatternException reasons) and which events it selects (matchesEventPattern).
 *
 * The work is done in event-pattern/ (validation, matching, and cidr's IP addresses); this file is the
 * one door the rest of Vigil goes through, so that those modules can be rearranged without touching
 * their importers. It exports only what is used outside event-pattern/.
 */
export { matchesEventPattern, wildcardMatches } from './event-pattern/matching.js';
export { MAX_EVENT_PATTERN_CHARS, validateEventPattern } from './event-pattern/validation.js';
