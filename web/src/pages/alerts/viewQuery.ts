/**
 * A view's query (status:open, ...) AND-ed with the search box's text, as the alert list sends them. A
 * module with no imports, so that test/web/ can load it without the console's bundler.
 */

const DETAILS_PAIR = 'detailsPair(';

/**
 * The search box's parentheses, read as the server's tokenizer reads them (src/alerts/query.ts,
 * tokenize and readValue): a value that starts with `"` runs to the next `"` not escaped by a backslash,
 * and its parentheses are text; a `"` inside a word is a plain character. Only where each token ends is
 * kept, the same steps in the same order, so that this and the server agree on which parentheses count.
 * `detailsPair(k:v)` is one term to the server (readDetailsPair), whatever its key (`@timestamp`,
 * `a=b`) and its value's quotes hold: read here as one token too, its parentheses none of the search's.
 * `refused` is a search the server refuses whatever it is AND-ed with, as it fails before parsing.
 */
function parenthesisDepths(input: string): {
  lowest: number;
  last: number;
  orOutside: boolean;
  refused: boolean;
} {
  let depth = 0;
  let lowest = 0;
  let orOutside = false;
  let i = 0;
  // Where a value that starts with `"` at `start` ends, after its closing quote; -1 if it is not closed.
  const quotedEnd = (start: number): number => {
    let j = start + 1;
    while (j < input.length && input[j] !== '"') {
      if (input[j] === '\\' && j + 1 < input.length) j++;
      j++;
    }
    return j < input.length ? j + 1 : -1;
  };
  const readValue = (start: number): number => {
    let j = start;
    while (j < input.length && input[j] === ' ') j++;
    // Not closed: the server refuses it whatever follows, as the rest of the query is in the quote.
    if (input[j] === '"') {
      const end = quotedEnd(j);
      return end === -1 ? input.length : end;
    }
    while (j < input.length && !/[\s()]/.test(input[j] ?? '')) j++;
    return j;
  };
  // readDetailsPair's steps from just after `detailsPair(`: the end, after its ")", or -1 where it refuses.
  const detailsPairEnd = (start: number): number => {
    let j = start;
    while (input[j] === ' ') j++;
    const keyStart = j;
    if (input[j] === '"') {
      // Not closed, or "" (an empty key): refused.
      j = quotedEnd(j);
      if (j === -1 || j === keyStart + 2) return -1;
    } else {
      while (j < input.length && !/[\s():"]/.test(input[j] ?? '')) j++;
      if (j === keyStart) return -1;
    }
    while (input[j] === ' ') j++;
    if (input[j] !== ':') return -1;
    j++;
    while (input[j] === ' ') j++;
    const valueStart = j;
    if (input[j] === '"') {
      j = quotedEnd(j);
      if (j === -1 || j === valueStart + 2) return -1;
    } else {
      while (j < input.length && !/[\s()]/.test(input[j] ?? '')) j++;
      if (j === valueStart) return -1;
    }
    while (input[j] === ' ') j++;
    return input[j] === ')' ? j + 1 : -1;
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
    // Before a term, as the server looks: `detailsPair(a:b)` is no term `detailsPair(a:`.
    if (rest.startsWith(DETAILS_PAIR)) {
      const end = detailsPairEnd(i + DETAILS_PAIR.length);
      if (end === -1) return { lowest, last: depth, orOutside, refused: true };
      i = end;
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
  return { lowest, last: depth, orOutside, refused: false };
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
  const { lowest, last, orOutside, refused } = parenthesisDepths(q);
  // Sent as typed after the view, nothing after it, so that the server refuses it as it would alone, and
  // says why (the parentheses are not what is wrong).
  if (refused) return view ? `${view} AND ${q}` : q;
  if (lowest !== 0 || last !== 0) return undefined;
  if (!view) return q;
  return orOutside ? `${view} AND (${q})` : `${view} AND ${q}`;
}

export const UNMATCHED_PARENTHESES =
  'The search\'s parentheses do not match: each ")" must close a "(" before it, and each "(" be closed. Put a parenthesis that is text in "quotes".';
