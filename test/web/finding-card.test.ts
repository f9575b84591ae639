import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { FINDING_DETAIL_KEYS, findingOf, type FindingView } from '../../web/src/lib/finding.js';

/**
 * The alert's page leaves every key of FINDING_DETAIL_KEYS out of its table of details, as the finding's
 * card shows them: a key the card does not show is hidden from the responder altogether (the custom
 * action's name and description, the finding's source link and product ARN once were).
 */

const cardSource = readFileSync(
  new URL('../../web/src/pages/alerts/FindingCard.tsx', import.meta.url),
  'utf8',
);

/** The field of the view that holds a detail's value, found by giving each detail a value of its own. */
function viewFieldOf(key: string): keyof FindingView | undefined {
  const details = Object.fromEntries(FINDING_DETAIL_KEYS.map((k) => [k, `value-of-${k}`]));
  // A region the console link accepts, so its value is read like any other.
  details.Region = 'eu-west-1';
  const view = findingOf(details, '');
  assert.ok(view);
  const wanted = details[key]!;
  return (Object.keys(view) as (keyof FindingView)[]).find(
    (field) => field !== 'consoleUrl' && JSON.stringify(view[field] ?? null).includes(wanted),
  );
}

describe("the finding's card on the alert's page", () => {
  it('reads every detail the page leaves out of its table into the finding', () => {
    for (const key of FINDING_DETAIL_KEYS) assert.ok(viewFieldOf(key), `${key} is not read`);
  });

  it('reads the custom action the finding was sent with, name and description', () => {
    const view = findingOf(
      {
        FindingId: 'arn:x',
        ActionName: 'Send to on-call',
        ActionDescription: 'Page whoever is on call for the account',
      },
      '',
    );
    assert.equal(view?.actionName, 'Send to on-call');
    assert.equal(view?.actionDescription, 'Page whoever is on call for the account');
  });

  it('shows every detail the page leaves out of its table', () => {
    for (const key of FINDING_DETAIL_KEYS) {
      const field = viewFieldOf(key);
      assert.ok(
        field && new RegExp(`\\bfinding\\.${field}\\b`).test(cardSource),
        `${key} (finding.${String(field)}) is hidden: the card does not show it`,
      );
    }
  });

  it('links the source only through safeUrl, as the remediation link', () => {
    assert.match(cardSource, /safeUrl\(finding\.sourceUrl\)/);
    assert.doesNotMatch(cardSource, /href=\{finding\.sourceUrl\}/);
  });
});
