import { ListTargetsByRuleCommand, TestEventPatternCommand } from '@aws-sdk/client-eventbridge';
import { SetupError } from './aws-errors.js';
import { openAccount, type AccountAccess, type AccountContext, type RegionContext } from './aws-context.js';
import { apiDestinationState } from './api-destination.js';
import { customActionArn } from './custom-action.js';
import { resourceNames, type ResourceNames } from './names.js';
import { CUSTOM_ACTION_DETAIL_TYPE, ruleEventTypes, type SecurityHubEventType } from './policies.js';
import { roleTrust } from './roles.js';
import { rulePattern } from './rule.js';
import { sampleCustomActionEvent, sampleImportedEvent } from './sample-events.js';
import { intakeSubscriptions, topicArn } from './sns-topic.js';
import type { Progress } from './steps.js';
import { endpointKey, keyFingerprint, type AwsSetupFacts, type VigilApi } from './vigil-api.js';

/**
 * `vigil aws check`: proves each link of the chain, from a finding to Vigil and from Vigil back to
 * the finding, and says which link is missing. It changes nothing.
 */

export interface CheckRequest {
  facts: AwsSetupFacts;
  regions: string[];
  accounts: AccountAccess[];
  vigil: VigilApi;
  progress: Progress;
}

export interface Check {
  where: string;
  what: string;
  ok: boolean;
  detail?: string;
}

async function matches(r: RegionContext, pattern: string, event: unknown): Promise<boolean> {
  const answer = await r.call('events:TestEventPattern', () =>
    r.events.send(new TestEventPatternCommand({ EventPattern: pattern, Event: JSON.stringify(event) })),
  );
  return answer.Result === true;
}

async function checkRegion(
  a: AccountContext,
  region: string,
  request: CheckRequest,
  names: ResourceNames,
  add: (check: Omit<Check, 'where'>) => void,
  taken: SecurityHubEventType[] | undefined,
) {
  const r = a.region(region);
  const pattern = await rulePattern(r, names);
  if (!pattern) {
    add({ what: `EventBridge rule ${names.rule}`, ok: false, detail: 'not found: run vigil aws setup' });
    return;
  }
  // A rule AWS delivers perfectly is still no link when the integration settles its events "not selected".
  const sent = ruleEventTypes(pattern.includes(CUSTOM_ACTION_DETAIL_TYPE) ? 'custom-action' : 'imported');
  if (taken !== undefined) {
    const missing = sent.filter((t) => !taken.includes(t));
    add({
      what: `Vigil takes the events the rule sends (${sent.join(', ')})`,
      ok: missing.length === 0,
      detail:
        missing.length === 0
          ? undefined
          : `the integration's event types leave out ${missing.join(', ')}: run vigil aws setup again`,
    });
  }
  const sample = { account: a.account, region, severity: 'CRITICAL' as const };
  if (pattern.includes(CUSTOM_ACTION_DETAIL_TYPE)) {
    const event = sampleCustomActionEvent({ ...sample, actionArn: customActionArn(r, names) });
    const ok = await matches(r, pattern, event);
    add({
      what: 'the rule takes a finding sent with the custom action',
      ok,
      detail: ok
        ? undefined
        : "TestEventPattern said no: the rule's pattern does not name this integration's custom action",
    });
  } else {
    const ok = await matches(r, pattern, sampleImportedEvent(sample));
    add({
      what: 'the rule takes a new CRITICAL finding',
      ok,
      detail: ok ? undefined : 'TestEventPattern said no',
    });
    const resolved = await matches(
      r,
      pattern,
      sampleImportedEvent({ ...sample, workflowStatus: 'RESOLVED' }),
    );
    add({
      what: 'the rule takes updates that close an alert (Workflow.Status RESOLVED)',
      ok: resolved,
      detail: resolved
        ? undefined
        : "TestEventPattern said no: the rule filters on the findings' state, so Vigil never closes alerts of resolved, suppressed or archived findings; run vigil aws setup",
    });
  }
  const targets =
    (
      await r.call('events:ListTargetsByRule', () =>
        r.events.send(new ListTargetsByRuleCommand({ Rule: names.rule })),
      )
    ).Targets ?? [];
  const target = targets.find((t) => t.Id === names.targetId);
  add({
    what: 'the rule targets Vigil',
    ok: target !== undefined,
    detail: target?.Arn ?? 'no target: run vigil aws setup',
  });

  // The target says how findings reach Vigil: an SNS topic, or an API destination. Either must carry
  // the integration's current key: Vigil refuses (401) what an older key (regenerated since) sends.
  const current = request.facts.keyFingerprint;
  const rerun = "run vigil aws setup again with the integration's current endpoint URL (or --regenerate-key)";
  if (!target?.Arn?.includes(':api-destination/')) {
    const topic = topicArn(r, names);
    const subscriptions = await intakeSubscriptions(r, topic, request.facts.intakeUrl);
    // Without the fingerprint (an older Vigil), every key is taken for the current one.
    const isCurrent = (s: { Endpoint?: string }) =>
      !current || keyFingerprint(endpointKey(s.Endpoint ?? '')) === current;
    const confirmed = subscriptions.filter((s) => s.SubscriptionArn?.startsWith('arn:'));
    const working = confirmed.filter(isCurrent);
    const older = confirmed.filter((s) => !isCurrent(s));
    add({
      what: 'the SNS subscription to Vigil is confirmed',
      ok: working.length > 0,
      detail:
        working.length > 0
          ? topic
          : subscriptions.some(isCurrent)
            ? 'pending: SNS has not had Vigil’s confirmation; check that Vigil is reachable over HTTPS from the internet, then run vigil aws setup again'
            : older.length > 0
              ? `only those with an older key of the integration are, which Vigil refuses: ${rerun}`
              : 'no subscription to Vigil on the topic: run vigil aws setup',
    });
    if (!current && confirmed.length > 1)
      add({
        what: 'one subscription to Vigil on the topic',
        ok: false,
        detail: `${confirmed.length}: those with an older key are refused; run vigil aws setup with the current endpoint URL, which removes them`,
      });
    if (current && older.length > 0)
      add({
        what: 'no subscription to Vigil with an older key',
        ok: false,
        detail: `${older.length}, refused by Vigil: ${rerun}, which removes them`,
      });
  } else {
    const state = await apiDestinationState(r, names);
    // A connection setup did not make (a stack's) names no key fingerprint: its key cannot be compared.
    const compared = current !== undefined && state.keyFingerprint !== undefined;
    add({
      what: 'the connection is authorized and the API destination active',
      ok: state.connection === 'AUTHORIZED' && state.destination === 'ACTIVE',
      detail: `connection ${state.connection ?? 'missing'}, API destination ${state.destination ?? 'missing'}${
        current && state.connection !== undefined && !compared
          ? "; the connection's description names no key fingerprint, so its key is not compared with the integration's"
          : ''
      }`,
    });
    if (compared)
      add({
        what: "the connection sends the integration's current key",
        ok: state.keyFingerprint === current,
        detail:
          state.keyFingerprint === current
            ? undefined
            : `it sends an older key (fingerprint ${state.keyFingerprint}, the integration's is ${current}), which Vigil refuses: ${rerun}`,
      });
  }
}

export async function runCheck(request: CheckRequest): Promise<{ ok: boolean; checks: Check[] }> {
  const { facts, progress } = request;
  const names = resourceNames(facts.integration, facts.rolePrefix);
  const checks: Check[] = [];
  const addAt = (where: string) => (check: Omit<Check, 'where'>) => {
    checks.push({ where, ...check });
    progress(
      `  ${check.ok ? 'ok  ' : 'FAIL'} ${where}  ${check.what}${check.detail ? ` (${check.detail})` : ''}`,
    );
  };
  progress(`Checking integration "${facts.integration.name}" (${facts.integration.id}):`);
  const taken = await request.vigil.eventTypes(facts.integration.id);
  for (const access of request.accounts) {
    const a = await openAccount(access, request.regions[0] ?? 'us-east-1');
    try {
      const add = addAt(`${a.account} global`);
      const trust = JSON.stringify((await roleTrust(a, names.role)) ?? null);
      if (trust === 'null')
        add({ what: `IAM role ${names.role}`, ok: false, detail: 'not found: run vigil aws setup' });
      else {
        add({
          what: "the role's trust policy requires the integration's external ID",
          ok:
            trust.includes(`"sts:ExternalId":"${facts.externalId}"`) ||
            trust.includes(`"sts:ExternalId":["${facts.externalId}"]`),
        });
        const principal = facts.vigilPrincipalArn;
        if (principal) {
          // IAM keeps an account id as that account's root.
          const stored = /^\d{12}$/.test(principal) ? `:iam::${principal}:root"` : `"${principal}"`;
          add({ what: `the role trusts Vigil (${principal})`, ok: trust.includes(stored) });
        }
      }
      for (const region of request.regions) {
        try {
          await checkRegion(a, region, request, names, addAt(`${a.account} ${region}`), taken);
        } catch (error) {
          if (!(error instanceof SetupError)) throw error;
          addAt(`${a.account} ${region}`)({ what: 'reading the set-up', ok: false, detail: error.message });
        }
      }
    } finally {
      a.close();
    }
  }

  const add = addAt('Vigil');
  // The link back to the finding needs the write-back on; the role is tested whenever one is stored (as
  // the console's "Test connection" is, with write-back off), so that turning it on is the only step left.
  if (!facts.roleArn) {
    add({
      what: 'the write-back is on',
      ok: false,
      detail:
        'off, and no role ARN: run vigil aws setup, which makes the role, stores it and turns the write-back on',
    });
  } else {
    if (!facts.sendUpdatesBack)
      add({
        what: 'the write-back is on',
        ok: false,
        detail:
          "off: Vigil sends no alert changes back to Security Hub; turn on “Send alert updates back” in the integration's settings (sendUpdatesBack: true in PATCH /v2/integrations/{id}), or run vigil aws setup again",
      });
    const test = await request.vigil.testWriteback(facts.integration.id);
    const said: Record<string, string> = {
      settings: 'the write-back settings are complete',
      AssumeRole: `Vigil assumes ${facts.roleArn} with the external ID`,
      AssumeRoleWithoutExternalId: 'the role refuses Vigil without the external ID, and with another one',
      GetFindings: `Vigil reads findings in ${facts.region ?? 'the region'}`,
      BatchUpdateFindings:
        'the role may update ASFF findings (securityhub:BatchUpdateFindings; if not, run vigil aws setup again)',
      BatchUpdateFindingsV2:
        'the role may update OCSF findings (securityhub:BatchUpdateFindingsV2; if not, run vigil aws setup again)',
    };
    for (const step of test.steps)
      add({ what: said[step.step] ?? step.step, ok: step.ok, detail: step.error });
  }
  const ok = checks.every((c) => c.ok);
  progress(
    ok ? 'Every link works.' : `${checks.filter((c) => !c.ok).length} of ${checks.length} checks failed.`,
  );
  return { ok, checks };
}
