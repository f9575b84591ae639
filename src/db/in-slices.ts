/**
 * Rows one multi-row INSERT takes at most, the rest going in further statements (of the caller's
 * transaction): PostgreSQL's protocol counts a statement's parameters in 16 bits (65,535 at most) and
 * each row binds one a column, so a page to a team of 4,370 people, or 50 alerts' pages to a team of 90,
 * in one statement failed, was retried and never went. 1,000 rows fit a table of up to 65 columns.
 */
export const ROWS_PER_INSERT = 1_000;

/** Writes `rows` a slice of {@link ROWS_PER_INSERT} at a time, in order; what the writes return, joined. */
export async function inSlices<Row, Written>(
  rows: readonly Row[],
  write: (slice: Row[]) => Promise<readonly Written[]>,
): Promise<Written[]> {
  const written: Written[] = [];
  for (let at = 0; at < rows.length; at += ROWS_PER_INSERT) {
    written.push(...(await write(rows.slice(at, at + ROWS_PER_INSERT))));
  }
  return written;
}
