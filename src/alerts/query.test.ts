import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sql } from 'kysely';
import { createDb, createPool } from '../db/database.js';
import { DomainError } from '../errors.js';
import { createTestDatabase, serverUrl } from '../testing/harness.js';
import {
  MAX_QUERY_DEPTH,
  MAX_QUERY_TERMS,
  MAX_UNINDEXED_TERMS,
  compileQuery,
  parseQuery,
  tokenize,
} from './query.js';

const ORG = '00000000-0000-0000-0000-000000000001';

/** Parses and compiles a query as the alert routes do, before any SQL runs. */
function compile(query: string) {
  const tree = parseQuery(query);
  assert.ok(tree, query);
  return compileQuery(ORG, tree);
}

/** Asserts that the query is refused as invalid (a 422 on the API) with a message that matches. */
function refused(query: string, message: RegExp | string) {
  assert.throws(
    () => compile(query),
    (error: unknown) => {
      assert.ok(error instanceof DomainError, String(error));
      assert.equal(error.kind, 'invalid');
      if (typeof message === 'string') assert.equal(error.message, message);
      else assert.match(error.message, message);
      return true;
    },
  );
}

describe('alert query parser', () => {
  it('joins side-by-side terms with AND and honours OR, NOT and parentheses', () => {
    assert.deepEqual(parseQuery('status:open priority:P1'), {
      kind: 'and',
      left: { kind: 'term', field: 'status', op: ':', value: 'open' },
      right: { kind: 'term', field: 'priority', op: ':', value: 'P1' },
    });
    const tree = parseQuery('tag:a OR NOT (tag:b AND tag:c)');
    assert.equal(tree?.kind, 'or');
    assert.equal(tree?.kind === 'or' ? tree.right.kind : '', 'not');
  });

  it('reads quoted values, operators and free text', () => {
    assert.deepEqual(tokenize('message:"disk full" count>=3 foo'), [
      { kind: 'term', field: 'message', op: ':', value: 'disk full' },
      { kind: 'term', field: 'count', op: '>=', value: '3' },
      { kind: 'term', op: ':', value: 'foo' },
    ]);
    assert.equal(parseQuery('   '), undefined);
  });

  it('refuses broken queries with a message', () => {
    assert.throws(() => parseQuery('(status:open'), /parenthesis/);
    assert.throws(() => parseQuery('message:"open'), /quoted/);
    assert.throws(() => parseQuery('status:open AND'), /ends/);
    assert.throws(() => parseQuery('status:'), /needs a value/);
  });
});

describe('alert query numbers', () => {
  it('refuses a number outside the column, naming the field and the range', () => {
    refused(
      'count>2147483648',
      'Invalid query: count takes a whole number from 0 to 2147483647, not "2147483648".',
    );
    refused(
      'tinyId>9223372036854775808',
      'Invalid query: tinyId takes a whole number from 0 to 9223372036854775807, not "9223372036854775808".',
    );
    refused(`tinyId:${'9'.repeat(400)}`, /tinyId takes a whole number from 0 to 9223372036854775807/);
    refused(`count<=${'1'.repeat(400)}`, /count takes a whole number from 0 to 2147483647/);
    refused('count>-1', /count takes a whole number from 0 to 2147483647, not "-1"/);
    refused('tinyId:1.5', /tinyId takes a whole number/);
  });

  it('accepts the largest value of each column', () => {
    assert.doesNotThrow(() => compile('count<=2147483647 tinyId<=9223372036854775807'));
    assert.doesNotThrow(() => compile('count:0002147483647'));
  });

  describe('in PostgreSQL', () => {
    const pool = createPool(serverUrl(), 1);
    const db = createDb(pool);
    after(() => pool.end());

    // Stand-ins for alerts rows; 2^53 + 1 is the first integer a Number can not hold.
    async function ids(query: string): Promise<number[]> {
      const { rows } = await sql<{ id: number }>`
        SELECT id FROM (VALUES
          (1, 7, 9007199254740993::bigint),
          (2, 2147483647, 9223372036854775807::bigint),
          (3, 1, 9007199254740992::bigint)
        ) AS alerts(id, count, tiny_id)
        WHERE ${compile(query)} ORDER BY id`.execute(db);
      return rows.map((r) => r.id);
    }

    it('compares tinyIds beyond 2^53 exactly', async () => {
      assert.deepEqual(await ids('tinyId:9007199254740993'), [1]);
      assert.deepEqual(await ids('tinyId:9007199254740992'), [3]);
      assert.deepEqual(await ids('tinyId>9007199254740992'), [1, 2]);
      assert.deepEqual(await ids('tinyId!=9223372036854775807'), [1, 3]);
    });

    it('runs the bounds of each column', async () => {
      assert.deepEqual(await ids('tinyId>=9223372036854775807'), [2]);
      assert.deepEqual(await ids('count>=2147483647'), [2]);
      assert.deepEqual(await ids('count<2147483647 count>=007'), [1]);
      assert.deepEqual(await ids('count>=0'), [1, 2, 3]);
    });
  });
});

describe("Opsgenie's time, id, report and actions fields", () => {
  it('refuses hostile values for the time fields with a 422 that names the field and the range', () => {
    const range = (field: string, value: string) =>
      `Invalid query: ${field} takes a time in epoch milliseconds, a whole number from 0 to 253402300799999, not "${value}".`;
    refused('createdAt>abc', range('createdAt', 'abc'));
    refused('createdAt<253402300800000', range('createdAt', '253402300800000'));
    refused(`lastOccurredAt>=${'9'.repeat(400)}`, range('lastOccurredAt', '9'.repeat(400)));
    refused('snoozedUntil<-1', range('snoozedUntil', '-1'));
    refused('createdAt:1.5', range('createdAt', '1.5'));
    refused('createdAt:1e12', range('createdAt', '1e12'));
    refused('createdAt:2026-01-01T00:00:00Z', /createdAt takes a time in epoch milliseconds/);
    refused('createdAt:*', /createdAt takes a time in epoch milliseconds/);
    refused('alertId>1', /alertId can not be compared with >/);
    refused('actions<=x', /actions can not be compared with <=/);
    assert.doesNotThrow(() => compile('createdAt<=253402300799999 lastOccurredAt>0 snoozedUntil:0'));
  });

  it('still refuses a field it does not know, listing the ones it does', () => {
    refused(
      'nosuch:x',
      /unknown field "nosuch"\. Known fields: .*createdAt, lastOccurredAt, snoozedUntil, alertId, acknowledgedBy, closedBy, actions/,
    );
  });

  describe('in PostgreSQL', () => {
    const pool = createPool(serverUrl(), 1);
    const db = createDb(pool);
    after(() => pool.end());

    const A = '3f1c0a52-4b7e-4c1d-9a5e-0d2b6c8e9f10';
    const B = '7a2d4e6f-8b0c-4d1e-a2f3-b4c5d6e7f809';
    // 1700000000123 ms is 2023-11-14T22:13:20.123Z; the columns hold microseconds, as alerts' do.
    async function ids(query: string): Promise<number[]> {
      const { rows } = await sql<{ n: number }>`
        SELECT n FROM (VALUES
          (1, ${A}::uuid, '2023-11-14T22:13:20.123456Z'::timestamptz, '2023-11-14T22:13:20.999Z'::timestamptz,
           NULL::timestamptz, 'alice@example.com', NULL, ARRAY['Restart', 'Page DBA']),
          (2, ${B}::uuid, '2023-11-14T22:13:20.124Z'::timestamptz, '2023-11-14T22:13:21Z'::timestamptz,
           '2023-11-14T22:13:20.123999Z'::timestamptz, NULL, 'bob@example.com', ARRAY[]::text[])
        ) AS alerts(n, id, created_at, last_occurred_at, snoozed_until, acknowledged_by, closed_by, actions)
        WHERE ${compile(query)} ORDER BY n`.execute(db);
      return rows.map((r) => r.n);
    }

    it('compares the time fields with the millisecond the API shows', async () => {
      assert.deepEqual(await ids('createdAt:1700000000123'), [1]);
      assert.deepEqual(await ids('createdAt=1700000000124'), [2]);
      assert.deepEqual(await ids('createdAt>1700000000123'), [2]);
      assert.deepEqual(await ids('createdAt>=1700000000123'), [1, 2]);
      assert.deepEqual(await ids('createdAt<1700000000124'), [1]);
      assert.deepEqual(await ids('createdAt<=1700000000123'), [1]);
      assert.deepEqual(await ids('createdAt<1700000000123'), []);
      assert.deepEqual(await ids('createdAt!=1700000000123'), [2]);
      assert.deepEqual(await ids('lastOccurredAt>=1700000001000'), [2]);
      assert.deepEqual(await ids('lastOccurredAt<=1700000000999 createdAt>0'), [1]);
      assert.deepEqual(await ids('createdAt<=253402300799999'), [1, 2]);
    });

    it('finds no snoozedUntil where an alert has none, and its negation finds it', async () => {
      assert.deepEqual(await ids('snoozedUntil:1700000000123'), [2]);
      assert.deepEqual(await ids('snoozedUntil>0'), [2]);
      assert.deepEqual(await ids('NOT snoozedUntil>0'), [1]);
      assert.deepEqual(await ids('snoozedUntil!=1700000000123'), [1]);
    });

    it('matches alertId, and no alert for a value that is not a uuid', async () => {
      assert.deepEqual(await ids(`alertId:${A}`), [1]);
      assert.deepEqual(await ids(`alertId:${B.toUpperCase()}`), [2]);
      assert.deepEqual(await ids(`alertId!=${A}`), [2]);
      assert.deepEqual(await ids('alertId:not-a-uuid'), []);
      assert.deepEqual(await ids(`alertId:"${A}' OR true"`), []);
    });

    it('matches acknowledgedBy, closedBy and actions', async () => {
      assert.deepEqual(await ids('acknowledgedBy:ALICE@example.com'), [1]);
      assert.deepEqual(await ids('acknowledgedBy:alice*'), [1]);
      assert.deepEqual(await ids('NOT acknowledgedBy:alice@example.com'), [2]);
      assert.deepEqual(await ids('closedBy:bob@example.com'), [2]);
      assert.deepEqual(await ids('closedBy!=bob@example.com'), [1]);
      assert.deepEqual(await ids('actions:restart'), [1]);
      assert.deepEqual(await ids('actions:"Page DBA"'), [1]);
      assert.deepEqual(await ids('actions:Page*'), [1]);
      assert.deepEqual(await ids('actions:Restar'), []);
      assert.deepEqual(await ids('actions!=Restart'), [2]);
    });
  });
});

describe('alert query cost', () => {
  const words = (n: number, make: (i: number) => string) =>
    Array.from({ length: n }, (_, i) => make(i)).join(' ');

  it('refuses more terms than allowed, before any SQL', () => {
    assert.equal(MAX_QUERY_TERMS, 30);
    refused(
      words(999, (i) => `word${i}`),
      'Invalid query: it has 999 terms; at most 30 are allowed. Narrow it: fewer free-text words, or field:value terms.',
    );
    refused(
      words(31, (i) => `alias:a${i}`),
      /it has 31 terms; at most 30 are allowed/,
    );
    assert.doesNotThrow(() => compile(words(30, (i) => `alias:a${i}`)));
    // Operators are not terms.
    assert.doesNotThrow(() => compile(words(15, (i) => `(alias:a${i} OR NOT tag:t${i})`)));
  });

  it('refuses more free-text, wildcard or substring terms than allowed', () => {
    assert.equal(MAX_UNINDEXED_TERMS, 10);
    refused(
      words(11, (i) => `word${i}`),
      /it has 11 free-text, wildcard \(\*\) or message\/description terms.*at most 10 are allowed\. Narrow it/,
    );
    refused(
      words(11, (i) => `alias:a${i}*`),
      /it has 11 free-text/,
    );
    refused(
      words(11, (i) => `message:m${i}`),
      /it has 11 free-text/,
    );
    refused(`${words(6, (i) => `"w ${i}"`)} ${words(5, (i) => `tag:t${i}*`)}`, /it has 11 free-text/);
    assert.doesNotThrow(() => compile(`${words(10, (i) => `word${i}`)} ${words(20, (i) => `alias:a${i}`)}`));
    // message= is exact, so not a substring search.
    assert.doesNotThrow(() => compile(words(11, (i) => `message=m${i}`)));
  });

  it('counts every term no index serves, not only free text, wildcards and substrings', () => {
    const limit =
      /^Invalid query: it has 11 free-text, wildcard \(\*\) or message\/description terms or others no index serves \(.*\), which search every alert; at most 10 are allowed\. Narrow it: fewer of those, or terms an index serves, such as status:open, alias:x, tag:x/;
    for (const make of [
      (i: number) => `details.k${i}:v`,
      (i: number) => `details.k=v${i}`,
      (i: number) => `source:s${i}`,
      (i: number) => `owner:o${i}`,
      (i: number) => `entity:e${i}`,
      (i: number) => `acknowledgedBy:u${i}`,
      (i: number) => `closedBy:u${i}`,
      (i: number) => `actions:a${i}`,
      (i: number) => `integration.name:n${i}`,
      (i: number) => `integration.type=t${i}`,
      (i: number) => `count>${i}`,
      (i: number) => `lastOccurredAt>${i}`,
      (i: number) => `snoozedUntil:${i}`,
      (i: number) => `source!=s${i}`,
      (i: number) => `NOT entity:e${i}`,
    ]) {
      refused(words(11, make), limit);
      assert.doesNotThrow(() => compile(words(10, make)));
    }
    // Mixed with free text: one limit for all of them, OR-ed or not.
    refused(`${words(6, (i) => `word${i}`)} ${words(5, (i) => `details.k${i}:v`)}`, /it has 11 free-text/);
    refused(
      words(11, (i) => `alias:a${i} OR source:s${i}`),
      /it has 11 free-text/,
    );
  });

  it('does not count terms an index serves, up to the limit on terms', () => {
    const indexed = [
      (i: number) => `alias:a${i}`,
      (i: number) => `alias=A${i}`,
      (i: number) => `tag:t${i}`,
      (i: number) => `tags:t${i}`,
      (i: number) => `status:${i % 2 ? 'open' : 'closed'}`,
      (i: number) => `teams:team${i}`,
      (i: number) => `tinyId>${i}`,
      (i: number) => `createdAt>=${i}`,
      (i: number) => `alertId:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    ];
    for (const make of indexed) {
      assert.doesNotThrow(() => compile(words(30, (i) => `${i ? 'OR ' : ''}${make(i)}`)));
    }
    assert.doesNotThrow(() => compile(words(30, (i) => `OR ${indexed[i % indexed.length]?.(i)}`).slice(3)));
    // The console's own view terms are not counted either (web/src/pages/alerts/listQueries.ts).
    assert.doesNotThrow(() =>
      compile(`status:open AND acknowledged:false AND (${words(10, (i) => `details.k${i}:v`)})`),
    );
  });

  it('refuses nesting deeper than allowed instead of overflowing the stack', () => {
    assert.equal(MAX_QUERY_DEPTH, 20);
    const depth = /Invalid query: parentheses and NOT are nested more than 20 deep/;
    refused(`${'('.repeat(2000)}status:open${')'.repeat(2000)}`, depth);
    refused('('.repeat(2000), depth);
    refused(`${'NOT '.repeat(2000)}status:open`, depth);
    refused(`${'(NOT '.repeat(11)}status:open${')'.repeat(11)}`, depth);
    assert.doesNotThrow(() => compile(`${'(NOT '.repeat(10)}status:open${')'.repeat(10)}`));
    assert.doesNotThrow(() =>
      compile(`${'('.repeat(20)}status:open${')'.repeat(20)} ${'('.repeat(20)}tag:x${')'.repeat(20)}`),
    );
  });
});

describe('tag, alias and team terms on the alerts table', () => {
  let pool: ReturnType<typeof createPool>;
  let db: ReturnType<typeof createDb>;
  let org = '';
  before(async () => {
    pool = createPool(await createTestDatabase({ migrated: true }), 1);
    db = createDb(pool);
    const { rows } = await sql<{ id: string }>`
      INSERT INTO organizations (name) VALUES ('Tags') RETURNING id`.execute(db);
    org = rows[0]?.id ?? '';
    await sql`
      INSERT INTO alerts (org_id, tiny_id, alias, message, tags) VALUES
        (${org}, 1, 'Disk-Full', 'one', ARRAY['Prod', 'db']),
        (${org}, 2, 'disk-full-2', 'two', ARRAY['prod']),
        (${org}, 3, 'cpu', 'three', ARRAY[]::text[])`.execute(db);
    // An alert of the alias before the open one, closed.
    await sql`
      INSERT INTO alerts (org_id, tiny_id, alias, message, tags, status) VALUES
        (${org}, 4, 'cpu', 'four', ARRAY['cache', 'db-replica'], 'closed')`.execute(db);
    // Responder teams: Platform's 1 and 4, Plates' 2, Data's 3 and 4.
    await sql`
      WITH made AS (
        INSERT INTO teams (org_id, name) VALUES (${org}, 'Platform'), (${org}, 'Plates'), (${org}, 'Data')
        RETURNING id, name
      )
      UPDATE alerts SET team_ids = ARRAY(
        SELECT made.id FROM made
        WHERE (made.name, alerts.tiny_id) IN (('Platform', 1), ('Platform', 4), ('Plates', 2), ('Data', 3), ('Data', 4))
        ORDER BY made.name
      )
      WHERE alerts.org_id = ${org}`.execute(db);
  });
  after(() => pool.end());

  /** The tinyIds a query finds, read both by a scan and (as far as the planner can) by the indexes. */
  async function tinyIds(query: string): Promise<number[]> {
    const tree = parseQuery(query);
    assert.ok(tree, query);
    const read = async () =>
      (
        await sql<{ tiny_id: string }>`
          SELECT tiny_id FROM alerts WHERE alerts.org_id = ${org} AND ${compileQuery(org, tree)}
          ORDER BY tiny_id`.execute(db)
      ).rows.map((r) => Number(r.tiny_id));
    const scanned = await read();
    await sql`SET enable_seqscan = off`.execute(db);
    try {
      assert.deepEqual(await read(), scanned, query);
    } finally {
      await sql`RESET enable_seqscan`.execute(db);
    }
    return scanned;
  }

  it('matches a tag whole and with regard to case, and an alias whole without', async () => {
    assert.deepEqual(await tinyIds('tag:Prod'), [1]);
    assert.deepEqual(await tinyIds('tags:prod'), [2]);
    assert.deepEqual(await tinyIds('tag:PROD'), []);
    assert.deepEqual(await tinyIds('tag:pro'), []);
    assert.deepEqual(await tinyIds('tag!=Prod'), [2, 3, 4]);
    assert.deepEqual(await tinyIds('NOT tag:db'), [2, 3, 4]);
    assert.deepEqual(await tinyIds('tag:Prod OR tag:prod'), [1, 2]);
    assert.deepEqual(await tinyIds('tag:Prod tag:db'), [1]);
    assert.deepEqual(await tinyIds('tag:"Prod db"'), []);
    assert.deepEqual(await tinyIds('tag:pro*'), [1, 2]);
    assert.deepEqual(await tinyIds('alias:disk-full'), [1]);
    assert.deepEqual(await tinyIds('alias=DISK-FULL-2'), [2]);
    assert.deepEqual(await tinyIds('alias:disk'), []);
    assert.deepEqual(await tinyIds('alias!=Disk-Full'), [2, 3, 4]);
    assert.deepEqual(await tinyIds('alias:disk* tag:prod'), [2]);
    assert.deepEqual(await tinyIds('alias:cpu OR tag:db'), [1, 3]);
  });

  it('finds by a whole alias only the open alert, and by an alias pattern every alert', async () => {
    assert.deepEqual(await tinyIds('alias:cpu'), [3]);
    assert.deepEqual(await tinyIds('alias=CPU'), [3]);
    assert.deepEqual(await tinyIds('alias!=cpu'), [1, 2, 4]);
    assert.deepEqual(await tinyIds('NOT alias:cpu'), [1, 2, 4]);
    assert.deepEqual(await tinyIds('alias:cpu status:closed'), []);
    assert.deepEqual(await tinyIds('alias:cpu*'), [3, 4]);
    assert.deepEqual(await tinyIds('alias:cp* status:closed'), [4]);
    assert.deepEqual(await tinyIds('alias!=cpu*'), [1, 2]);
  });

  it('finds by a whole team name its alerts, and by a team name pattern the alerts of each team it matches', async () => {
    assert.deepEqual(await tinyIds('teams:platform'), [1, 4]);
    assert.deepEqual(await tinyIds('teams:"Data"'), [3, 4]);
    assert.deepEqual(await tinyIds('teams:plat'), []);
    assert.deepEqual(await tinyIds('teams:Plat*'), [1, 2, 4]);
    assert.deepEqual(await tinyIds('team:platform*'), [1, 4]);
    assert.deepEqual(await tinyIds('responders:*es'), [2]);
    assert.deepEqual(await tinyIds('teams:*a*'), [1, 2, 3, 4]);
    assert.deepEqual(await tinyIds('teams:Plat* status:closed'), [4]);
    assert.deepEqual(await tinyIds('teams!=Plat*'), [3]);
    assert.deepEqual(await tinyIds('NOT teams:plat*'), [3]);
    // A % or _ in the pattern is itself, not SQL's wildcard.
    assert.deepEqual(await tinyIds('teams:Pl%*'), []);
    assert.deepEqual(await tinyIds('teams:Plat_s*'), []);
  });

  it('finds with a * all that it finds without, and free text in each tag on its own', async () => {
    assert.deepEqual(await tinyIds('hre'), [3]);
    assert.deepEqual(await tinyIds('hre*'), [3]);
    assert.deepEqual(await tinyIds('*ree'), [3]);
    assert.deepEqual(await tinyIds('message:hr*e'), [3]);
    assert.deepEqual(await tinyIds('description:*'), [1, 2, 3, 4]);
    // db is the second tag of 1 and begins the second of 4; "Prod db" is no one tag.
    assert.deepEqual(await tinyIds('db*'), [1, 4]);
    assert.deepEqual(await tinyIds('"Prod db"'), []);
    assert.deepEqual(await tinyIds('tag:db*'), [1, 4]);
    for (const word of ['one', 'ne', 'o', 'disk', 'full', 'db', 'prod', 'cache', 'cpu', 'platform', 'data']) {
      for (const field of ['', 'message:', 'alias:', 'tag:', 'teams:']) {
        const found = await tinyIds(`${field}${word}`);
        for (const widened of [`${word}*`, `*${word}`, `*${word}*`, `${word.slice(0, 1)}*${word.slice(1)}`]) {
          const more = await tinyIds(`${field}${widened}`);
          assert.ok(
            found.every((id) => more.includes(id)),
            `${field}${widened} finds ${more}, not all of ${field}${word}'s ${found}`,
          );
        }
      }
    }
  });
});

describe("Opsgenie's details.key, details.value, detailsPair and recipients", () => {
  it('reads detailsPair(k:v) as the value of the detail named k, whatever k is', () => {
    assert.deepEqual(tokenize('detailsPair(impact:high)'), [
      { kind: 'term', field: 'details.impact', op: ':', value: 'high', detailKey: 'impact' },
    ]);
    assert.deepEqual(tokenize('NOT detailsPair( "on call" : "Team A" ) status:open'), [
      { kind: 'not' },
      { kind: 'term', field: 'details.on call', op: ':', value: 'Team A', detailKey: 'on call' },
      { kind: 'term', field: 'status', op: ':', value: 'open' },
    ]);
    for (const broken of [
      'detailsPair(impact)',
      'detailsPair(:high)',
      'detailsPair(impact:)',
      'detailsPair(a:b c)',
    ]) {
      refused(broken, 'Invalid query: detailsPair takes a key and a value, as detailsPair(key:value).');
    }
  });

  it('refuses an order comparison of keys, values and responders, and counts them as unindexed', () => {
    refused('details.key>a', 'Invalid query: details.key can not be compared with >; use details.key:value.');
    refused(
      'details.value<a',
      'Invalid query: details.value can not be compared with <; use details.value:value.',
    );
    refused('recipients>=a', 'Invalid query: recipients can not be compared with >=; use recipients:value.');
    const words = (n: number, make: (i: number) => string) =>
      Array.from({ length: n }, (_, i) => make(i)).join(' ');
    for (const make of [
      (i: number) => `details.key:k${i}`,
      (i: number) => `details.value:v${i}`,
      (i: number) => `detailsPair(k${i}:v)`,
      (i: number) => `recipients:u${i}`,
      (i: number) => `responders:u${i}`,
    ]) {
      refused(words(11, make), /it has 11 free-text/);
      assert.doesNotThrow(() => compile(words(10, make)));
    }
  });

  describe('in PostgreSQL', () => {
    let pool: ReturnType<typeof createPool>;
    let db: ReturnType<typeof createDb>;
    let org = '';
    let otherOrg = '';
    before(async () => {
      pool = createPool(await createTestDatabase({ migrated: true }), 1);
      db = createDb(pool);
      const orgs = await sql<{ id: string }>`
        INSERT INTO organizations (name) VALUES ('Details'), ('Elsewhere') RETURNING id`.execute(db);
      org = orgs.rows[0]?.id ?? '';
      otherOrg = orgs.rows[1]?.id ?? '';
      // Alert 1 is for alice (a user) and has impact: high; 2 is for the Platform team and has a detail
      // named "key"; 3 is for the Night escalation and has none; 4 for bob of another organization.
      await sql`
        WITH alice AS (
          INSERT INTO users (org_id, username, full_name, role) VALUES (${org}, 'alice@example.com', 'Alice', 'user')
          RETURNING id
        ), bob AS (
          INSERT INTO users (org_id, username, full_name, role) VALUES (${otherOrg}, 'bob@example.com', 'Bob', 'user')
          RETURNING id
        ), platform AS (
          INSERT INTO teams (org_id, name) VALUES (${org}, 'Platform') RETURNING id
        ), night AS (
          INSERT INTO escalations (org_id, name, rules) VALUES (${org}, 'Night', '[]') RETURNING id
        )
        INSERT INTO alerts (org_id, tiny_id, alias, message, details, responders, team_ids)
        SELECT ${org}::uuid, 1, 'a1', 'one', '{"impact": "high", "env": "Prod"}'::jsonb,
               jsonb_build_array(jsonb_build_object('type', 'user', 'id', alice.id)), '{}' FROM alice
        UNION ALL
        SELECT ${org}::uuid, 2, 'a2', 'two', '{"key": "impact", "value": "high"}'::jsonb,
               jsonb_build_array(jsonb_build_object('type', 'team', 'id', platform.id)), ARRAY[platform.id] FROM platform
        UNION ALL
        SELECT ${org}::uuid, 3, 'a3', 'three', '{}'::jsonb,
               jsonb_build_array(jsonb_build_object('type', 'escalation', 'id', night.id)), '{}' FROM night
        UNION ALL
        SELECT ${org}::uuid, 4, 'a4', 'four', '{"Impact": "low"}'::jsonb,
               jsonb_build_array(jsonb_build_object('type', 'user', 'id', bob.id)), '{}' FROM bob`.execute(
        db,
      );
    });
    after(() => pool.end());

    async function tinyIds(query: string): Promise<number[]> {
      const tree = parseQuery(query);
      assert.ok(tree, query);
      const { rows } = await sql<{ tiny_id: string }>`
        SELECT tiny_id FROM alerts WHERE alerts.org_id = ${org} AND ${compileQuery(org, tree)}
        ORDER BY tiny_id`.execute(db);
      return rows.map((r) => Number(r.tiny_id));
    }

    it('finds by details.key the alerts with that key, and by details.value those with that value', async () => {
      assert.deepEqual(await tinyIds('details.key:impact'), [1]);
      assert.deepEqual(await tinyIds('details.key=env'), [1]);
      assert.deepEqual(await tinyIds('details.key:high'), []);
      assert.deepEqual(await tinyIds('details.key:Impact'), [4]);
      assert.deepEqual(await tinyIds('NOT details.key:impact'), [2, 3, 4]);
      assert.deepEqual(await tinyIds('details.key!=impact'), [2, 3, 4]);
      assert.deepEqual(await tinyIds('details.key:imp*'), [1, 4]);
      assert.deepEqual(await tinyIds('details.key:*'), [1, 2, 4]);
      assert.deepEqual(await tinyIds('details.value:high'), [1, 2]);
      assert.deepEqual(await tinyIds('details.value:PROD'), [1]);
      assert.deepEqual(await tinyIds('details.value:impact'), [2]);
      assert.deepEqual(await tinyIds('details.value:hi'), []);
      assert.deepEqual(await tinyIds('details.value:hi*'), [1, 2]);
      assert.deepEqual(await tinyIds('details.value!=high'), [3, 4]);
      assert.deepEqual(await tinyIds('NOT details.value:high'), [3, 4]);
      assert.deepEqual(await tinyIds('details.key:(env OR value)'), [1, 2]);
      // Another detail's value is still a value by its key, as before.
      assert.deepEqual(await tinyIds('details.impact:HIGH'), [1]);
      assert.deepEqual(await tinyIds('details.impact!=high'), [2, 3, 4]);
    });

    it('reaches a detail named "key" or "value" with detailsPair', async () => {
      assert.deepEqual(await tinyIds('detailsPair(key:impact)'), [2]);
      assert.deepEqual(await tinyIds('detailsPair(value:HIGH)'), [2]);
      assert.deepEqual(await tinyIds('detailsPair(impact:high)'), [1]);
      assert.deepEqual(await tinyIds('detailsPair("impact":hi*)'), [1]);
      assert.deepEqual(await tinyIds('NOT detailsPair(key:impact)'), [1, 3, 4]);
    });

    it('finds by recipients and responders the alerts for a user by username and a team, escalation or schedule by name', async () => {
      assert.deepEqual(await tinyIds('recipients:alice@example.com'), [1]);
      assert.deepEqual(await tinyIds('recipients:ALICE@example.com'), [1]);
      assert.deepEqual(await tinyIds('responders:alice@example.com'), [1]);
      assert.deepEqual(await tinyIds('recipients:alice'), []);
      assert.deepEqual(await tinyIds('recipients:alice*'), [1]);
      assert.deepEqual(await tinyIds('recipients:platform'), [2]);
      assert.deepEqual(await tinyIds('recipients:Night'), [3]);
      assert.deepEqual(await tinyIds('recipients:*'), [1, 2, 3]);
      assert.deepEqual(await tinyIds('NOT recipients:alice@example.com'), [2, 3, 4]);
      assert.deepEqual(await tinyIds('recipients!=alice@example.com'), [2, 3, 4]);
      // Another organization's user is no name here, even on an alert that has them.
      assert.deepEqual(await tinyIds('recipients:bob@example.com'), []);
      assert.deepEqual(await tinyIds('teams:alice@example.com'), []);
    });
  });
});
