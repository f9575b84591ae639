/**
 * A view's query (status:open, ...) AND-ed with the search box's text, as the alert list sends them. A
 * module with no imports, so that test/web/ can load it without the console's bundler.
 */

/**
 * The search box's parentheses, read as the server's tokenizer reads them (src/alerts/query.ts,
 * tokenize and readValue): a value that starts with `"` runs to the next `"` not escaped by a backslash,
 * and its parentheses are text; a `"` inside a word is a plain character. Only where each token ends is
 * kept, the same steps in the same order, so that this and the server agree on which parentheses count.
 * `detailsPair(k:v)`, one term to the server, is read here as a word and the group `(k:v)`: its
 * parentheses match as a group's do, and one the server would read otherwise it refuses.
 */
function parenthesisDepths(input: string): { lowest: number; last: number; orOutside: boolean } {
  let depth = 0;
  let lowest = 0;
  let orOutside = false;
  let i = 0;
  const readValue = (start: number): number => {
    let j = start;
    while (j < input.length && input[j] === ' ') j++;
    if (input[j] === '"') {
      j++;
      while (j < input.length && input[j] !== '"') {
        if (input[j] === '\\' && j + 1 < input.length) j++;
        j++;
      }
      // Not closed: the server refuses it whatever follows, as the rest of the query is in the quote.
      return j + 1;
    }
    while (j < input.length && !/[\s()]/.test(input[j] ?? '')) j++;
    return j;
  };
  while (i < input.length) {
    const c = input[i] ?? '';
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === '(' || c === ')') {
      depth += c === '(' ? 1 : -1;
      lowest = Math.min(lowest, depth);
      i++;
      continue;
    }
    const rest = input.slice(i);
    const keyword = /^(AND|OR|NOT)(?=[\s()]|$)/i.exec(rest);
    if (keyword) {
      if (depth === 0 && keyword[1]?.toUpperCase() === 'OR') orOutside = true;
      i += keyword[0].length;
      continue;
    }
    const term = /^([A-Za-z][\w.-]*)\s*(!=|>=|<=|:|=|>|<)\s*/.exec(rest);
    if (term) {
      const after = i + term[0].length;
      // `field:(a OR b)`: the group's parentheses are read as any others.
      i = input[after] === '(' ? after : readValue(after);
      continue;
    }
    i = readValue(i);
  }
  return { lowest, last: depth, orOutside };
}

/**
 * The view's query AND-ed with the search, or undefined when the search's parentheses do not close only
 * what they opened (one ")" too many on the way, or a "(" left open): one that did would close the
 * parenthesis the view is AND-ed with, `a) OR (b` in the Open view being `status:open AND (a) OR (b)`,
 * closed alerts too, where alone the server refuses it. The search is put in parentheses only when
 * it has an OR outside its own: an AND chain needs none, AND binding before OR, and each parenthesis is a
 * level of the server's limit on nesting (MAX_QUERY_DEPTH), which a search at that limit would pass alone
 * and fail in the view.
 */
export function combine(view: string, search: string): string | undefined {
  const q = search.trim();
  if (!q) return view;
  const { lowest, last, orOutside } = parenthesisDepths(q);
  if (lowest !== 0 || last !== 0) return undefined;
  if (!view) return q;
  return orOutside ? `${view} AND (${q})` : `${view} AND ${q}`;
}

export const UNMATCHED_PARENTHESES =
  'The search\'s parentheses do not match: each ")" must close a "(" before it, and each "(" be closed. Put a parenthesis that is text in "quotes".';
