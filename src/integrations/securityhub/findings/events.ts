/**
 * Amazon Security Hub events (as EventBridge delivers them) read into plain findings. Apart from the
 * finding readers because what an event is (its detail-type, where its findings sit, insight results)
 * is a question about the envelope, not about any one finding.
 *
 * Event kinds:
 * - "Security Hub Findings - Imported": detail.findings[] holds ASFF findings (usually one).
 * - "Security Hub Findings - Custom Action": detail.actionName/actionDescription, detail.findings[] (up to
 *   20); resources[0] is the custom action's ARN.
 * - "Security Hub Insight Results": detail.insightName/insightArn/resultType/"number of results" and
 *   insightResults[] of `{ "<identifier>": <count> }`: counts per resource, not findings.
 * - "Findings Imported V2" (the new Security Hub): one OCSF finding, in detail.findings[] or in detail.
 * - Any other event whose detail.findings holds findings is read as imported (the vendor's own sample
 *   says source aws.ec2 and detail-type "EC2 Instance State-change Notification").
 */
import { storableJson, TooDeeplyNested } from '../../../db/storable.js';
import { looksAsff } from './asff.js';
import { describeError, display, num, obj, str, type Obj } from './lenient-read.js';
import { looksOcsf } from './ocsf.js';
import { readFinding } from './read-finding.js';
import type { ParsedEvent } from './types.js';

const DETAIL_TYPES = {
  imported: 'security hub findings - imported',
  customAction: 'security hub findings - custom action',
  insight: 'security hub insight results',
  importedV2: 'findings imported v2',
} as const;

function readInsight(detail: Obj): NonNullable<ParsedEvent['insight']> {
  const results: { identifier: string; count?: number }[] = [];
  if (Array.isArray(detail.insightResults)) {
    for (const item of detail.insightResults) {
      const entry = obj(item);
      if (entry) {
        // GetInsightResults' own shape, in case a sender copies it: { GroupByAttributeValue, Count }.
        const grouped = str(entry.GroupByAttributeValue);
        if (grouped !== undefined) {
          results.push(withCount(grouped, num(entry.Count)));
          continue;
        }
        for (const [identifier, count] of Object.entries(entry))
          results.push(withCount(identifier, num(count)));
      } else {
        const identifier = str(item);
        if (identifier !== undefined) results.push({ identifier });
      }
    }
  }
  const insight: NonNullable<ParsedEvent['insight']> = { results };
  const name = display(detail.insightName);
  const arn = display(detail.insightArn);
  const resultType = display(detail.resultType);
  const count = num(detail['number of results']);
  if (name !== undefined) insight.name = name;
  if (arn !== undefined) insight.arn = arn;
  if (resultType !== undefined) insight.resultType = resultType;
  if (count !== undefined) insight.count = count;
  return insight;
}

function withCount(identifier: string, count: number | undefined): { identifier: string; count?: number } {
  return count === undefined ? { identifier } : { identifier, count };
}

function unsupported(parsed: ParsedEvent, reason: string): ParsedEvent {
  parsed.kind = 'unsupported';
  parsed.findings = [];
  parsed.skipped = [{ index: -1, reason }];
  delete parsed.insight;
  return parsed;
}

/**
 * Reads an EventBridge event from Security Hub. Never throws: what cannot be read is reported in
 * `skipped` (index -1 for the event itself) and an event with nothing usable is kind "unsupported".
 */
export function parseSecurityHubEvent(input: unknown): ParsedEvent {
  const parsed: ParsedEvent = { kind: 'unsupported', detailType: '', source: '', findings: [], skipped: [] };
  try {
    // Every string read below is storable in PostgreSQL (see db/storable.ts), whatever the sender put in it.
    let event: unknown;
    try {
      event = storableJson(input);
    } catch (err) {
      if (err instanceof TooDeeplyNested)
        return unsupported(parsed, `event could not be read: ${err.message}`);
      throw err;
    }
    const ev = obj(event);
    if (!ev) return unsupported(parsed, `event is not an object (${event === null ? 'null' : typeof event})`);
    parsed.detailType = str(ev['detail-type']) ?? '';
    parsed.source = str(ev.source) ?? '';
    const eventId = str(ev.id);
    const account = str(ev.account);
    const region = str(ev.region);
    const time = str(ev.time);
    if (eventId !== undefined) parsed.eventId = eventId;
    if (account !== undefined) parsed.account = account;
    if (region !== undefined) parsed.region = region;
    if (time !== undefined) parsed.time = time;

    const detail = obj(ev.detail);
    if (!detail) return unsupported(parsed, 'event has no detail object');
    const resources = Array.isArray(ev.resources) ? ev.resources.map((r) => str(r)) : [];
    const detailType = parsed.detailType.trim().toLowerCase();

    if (detailType === DETAIL_TYPES.insight) {
      parsed.kind = 'insight-results';
      setAction(
        parsed,
        detail,
        resources.find((r) => r !== undefined && /:action\/custom\//.test(r)),
      );
      parsed.insight = readInsight(detail);
      return parsed;
    }

    // Where the findings are: detail.findings[], or (V2) the single OCSF finding as detail itself.
    let list: unknown[] | undefined = Array.isArray(detail.findings) ? detail.findings : undefined;
    if (detailType === DETAIL_TYPES.importedV2) {
      parsed.kind = 'imported-v2';
      if (!list && looksOcsf(detail)) list = [detail];
    } else if (detailType === DETAIL_TYPES.customAction) {
      parsed.kind = 'custom-action';
      setAction(parsed, detail, resources[0]);
    } else if (detailType === DETAIL_TYPES.imported) {
      parsed.kind = 'imported';
    } else {
      // Not a Security Hub detail-type: take it when detail.findings holds something finding-shaped.
      const shaped = (list ?? []).map(obj).filter((f): f is Obj => f !== undefined);
      const ocsf = shaped.filter(looksOcsf);
      if (ocsf.length === 0 && !shaped.some(looksAsff))
        return unsupported(
          parsed,
          `not a Security Hub event (source "${parsed.source}", detail-type "${parsed.detailType}") and detail.findings holds no findings`,
        );
      parsed.kind = ocsf.length === shaped.length ? 'imported-v2' : 'imported';
    }
    if (!list)
      return unsupported(
        parsed,
        parsed.kind === 'imported-v2'
          ? 'detail.findings is missing and detail is not an OCSF finding'
          : 'detail.findings is missing or not a list',
      );
    if (list.length === 0) return unsupported(parsed, 'detail.findings is empty');

    const preferOcsf = parsed.kind === 'imported-v2';
    list.forEach((raw, index) => {
      const result = readFinding(raw, preferOcsf);
      if ('finding' in result) parsed.findings.push(result.finding);
      else parsed.skipped.push({ index, reason: result.reason });
    });
    return parsed;
  } catch (err) {
    return unsupported(parsed, `event could not be read: ${describeError(err)}`);
  }
}

function setAction(parsed: ParsedEvent, detail: Obj, actionArn: string | undefined): void {
  const name = display(detail.actionName);
  const description = display(detail.actionDescription);
  if (name !== undefined) parsed.actionName = name;
  if (description !== undefined) parsed.actionDescription = description;
  if (actionArn !== undefined) parsed.actionArn = actionArn;
}
