/**
 * The words of Vigil's answer to a reply or a key pressed that acted on alerts: what became of each,
 * said once for alerts that went the same way ("23 alerts were already closed."), so that the answer to
 * a storm's bundle stays a text Twilio takes.
 */

/** Twilio refuses a text (and a TwiML <Message>) longer than this: error 21617. */
export const SMS_MAX_CHARS = 1600;

/** Ids listed by name at most; more are counted ("30 alerts acknowledged."). */
const MAX_NAMED = 24;

/** What an action did to one alert (`tiny`: its number, when known). */
export type ActResult =
  | { kind: 'done'; tiny?: string | undefined }
  /** It was closed before: nothing to do (or, for close, nothing more). */
  | { kind: 'closed'; tiny?: string | undefined }
  /** Refused, for `why` (a sentence of its own). */
  | { kind: 'not'; tiny?: string | undefined; why: string }
  /** Something broke: the person should try again. */
  | { kind: 'failed'; tiny?: string | undefined };

function listOf(names: readonly string[]): string {
  return names.length <= 1
    ? (names[0] ?? '')
    : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1] ?? ''}`;
}

/** "Alert 5", "Alerts 5, 6 and 7", or "30 alerts" (too many to name, or some without a number). */
function named(results: readonly ActResult[]): string {
  const [first] = results;
  if (results.length === 1) return first?.tiny === undefined ? 'Alert' : `Alert ${first.tiny}`;
  const tinies = results.map((r) => r.tiny);
  return tinies.length <= MAX_NAMED && tinies.every((t) => t !== undefined)
    ? `Alerts ${listOf((tinies as string[]).sort((a, b) => a.localeCompare(b, 'en', { numeric: true })))}`
    : `${results.length} alerts`;
}

/** A sentence ending in exactly one period (reasons come with their own, or none). */
function sentence(text: string): string {
  return `${text.trim().replace(/[.\s]+$/, '')}.`;
}

/**
 * The sentences of an answer: the alerts acted on first, then those refused (one sentence per reason),
 * those that failed, and those already closed. `done`: the verb's past ("acknowledged").
 */
export function describeResults(results: readonly ActResult[], done: string): string[] {
  const groups = new Map<string, ActResult[]>();
  for (const result of results) {
    const key = result.kind === 'not' ? `not:${result.why}` : result.kind;
    groups.set(key, [...(groups.get(key) ?? []), result]);
  }
  const order = (key: string) => ['done', 'not', 'failed', 'closed'].indexOf(key.split(':')[0] ?? '');
  return [...groups.entries()]
    .sort(([a], [b]) => order(a) - order(b))
    .map(([, group]) => {
      const [first] = group;
      const who = named(group);
      switch (first?.kind) {
        case 'done':
          return sentence(`${who} ${done}`);
        case 'closed':
          return group.length === 1
            ? sentence(`${who} was already closed`)
            : sentence(`${group.length} alerts were already closed`);
        case 'not':
          return sentence(`${who} not ${done}: ${first.why}`);
        default:
          return sentence(`${who} could not be ${done}: try again or use the console`);
      }
    });
}

/**
 * `text` cut to whole sentences (words, if one sentence alone is too long) so that it fits in `max`
 * characters, saying that there is more in the console.
 */
export function fitText(text: string, max = SMS_MAX_CHARS): string {
  if (text.length <= max) return text;
  const more = ' More in the Vigil console.';
  const room = max - more.length;
  const cut = text.slice(0, room + 1);
  const end = cut.lastIndexOf('. ');
  if (end > 0) return `${cut.slice(0, end + 1)}${more}`;
  const space = cut.lastIndexOf(' ', room - 1);
  return `${cut.slice(0, space > 0 ? space : room - 1)}\u2026${more}`;
}
