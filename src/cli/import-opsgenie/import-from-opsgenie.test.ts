import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import {
  fixtures,
  JANE,
  MAIL_ALERTS,
  OPSGENIE_KEY,
  SRE,
  SRE_API_KEY,
  startFakeOpsgenie,
  type FakeOpsgenie,
} from './fake-opsgenie.js';
import { inFreshVigil, outcomesOf, runImport } from './test-cli.js';

/**
 * `vigil import opsgenie` against a local Opsgenie serving answers shaped as Opsgenie's API reference
 * documents them (test/fixtures/opsgenie, see SOURCES.md): users on two pages, a 429 on the way, and
 * what Vigil lacks (a mobile contact, a schedule-start rule, a team in a rotation, a "random" escalation,
 * a global and a Datadog integration, a policy in a maintenance, an integration action filtering on
 * recipients, a custom user role with a right Vigil does not know or one it refuses) skipped with its
 * reason.
 */

let opsgenie: FakeOpsgenie;
let target: TestServer;

before(async () => {
  [opsgenie, target] = await Promise.all([startFakeOpsgenie(), startTestServer()]);
});

after(async () => {
  await Promise.all([opsgenie?.close(), target?.stop()]);
});

const importInto = (vigil: TestServer, ...extra: string[]) =>
  runImport(['--api-url', opsgenie.url, '--api-key', OPSGENIE_KEY, ...extra], {
    VIGIL_URL: vigil.url,
    VIGIL_API_KEY: vigil.key,
  });
const importIt = (...extra: string[]) => importInto(target, ...extra);

/**
 * Runs `test` against a Vigil of its own, where nothing is imported yet; Opsgenie answers with the
 * fixtures again after it.
 */
const get = async (p: string): Promise<Json> => (await target.callOk('GET', p)).data;

/**
 * A pass-through to `vigil` that records what the import asks of it, in order: for asserting what is done
 * before what, which Vigil's state after the run does not show.
 */
async function recordingProxy(vigil: TestServer): Promise<{
  url: string;
  requests: { method: string; path: string; body: Json }[];
  close(): Promise<void>;
}> {
  const requests: { method: string; path: string; body: Json }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const body = Buffer.concat(chunks).toString('utf8');
        requests.push({
          method: req.method ?? '',
          path: req.url ?? '',
          body: body ? JSON.parse(body) : undefined,
        });
        const answer = await fetch(vigil.url + (req.url ?? '/'), {
          method: req.method,
          headers: {
            authorization: req.headers.authorization ?? '',
            ...(body ? { 'content-type': 'application/json' } : {}),
          },
          body: body || undefined,
        });
        res
          .writeHead(answer.status, {
            'content-type': answer.headers.get('content-type') ?? 'application/json',
          })
          .end(await answer.text());
      })();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('vigil import opsgenie, from Opsgenie’s documented answers', () => {
  it('imports what Vigil has, skips what it lacks with the reason, pages and waits out a 429', async () => {
    opsgenie.rateLimitOnce.add('/v2/teams');
    // Global policies already in Vigil: one Opsgenie also has (with other content), one only Vigil has.
    await target.callOk('POST', '/v2/policies', { type: 'alert', name: 'Route DB to SRE', message: 'old' });
    await target.callOk('POST', '/v2/policies', { type: 'alert', name: 'Vigil only' });
    const run = await importIt();
    const all = [...run.progress, ...run.out].join('\n');
    assert.equal(run.error, undefined, run.error?.message);
    assert.equal(run.code, 0, all);

    // Both pages of users were read, the second through paging.next; the 429 was waited out.
    assert.ok(
      opsgenie.requests.some((r) => r.url.startsWith('/v2/users?limit=2&offset=2')),
      all,
    );
    assert.equal(opsgenie.requests.filter((r) => r.url === '/v2/teams').length, 2);
    assert.deepEqual(
      opsgenie.requests.filter((r) => r.method !== 'GET'),
      [],
      'Opsgenie is only read',
    );

    const john = await get('/v2/users/john.doe@opsgenie.example');
    assert.equal(john.role.name, 'Admin', 'an Opsgenie owner becomes an admin');
    assert.equal(john.timeZone, 'Europe/Istanbul');
    const jane = await get('/v2/users/jane.doe@opsgenie.example');
    assert.equal(jane.fullName, 'jane doe');
    // Opsgenie's tags and address come along.
    assert.deepEqual(jane.tags, ['tag1', 'tag3']);
    assert.deepEqual(jane.userAddress, {
      country: 'US',
      state: 'Indiana',
      city: 'Terre Haute',
      line: '567 Stratford Park',
      zipCode: '47802',
    });
    assert.equal((await get('/v2/users/sam.stakeholder@opsgenie.example')).role.name, 'User');

    // Custom user roles came before the users who hold them, as Opsgenie has them.
    const roles = await get('/v2/roles');
    assert.deepEqual(
      roles
        .map((r: Json) => [
          r.name,
          r.extendedRole,
          [...r.grantedRights].sort(),
          [...r.disallowedRights].sort(),
        ])
        .sort(),
      [
        [
          'Responder Plus',
          'user',
          ['alert-delete', 'logs-page-access'],
          ['alert-escalate', 'alert-update-priority'],
        ],
        ['Watcher', 'observer', ['who-is-on-call-show-all'], []],
      ],
    );
    assert.ok(run.progress.includes('custom user role Responder Plus: created'), all);
    // A right Vigil does not know, and a role Vigil refuses (a right both granted and disallowed): skipped.
    assert.ok(
      run.progress.includes(
        'custom user role Legacy Billing: skipped: Vigil does not know the rights status-page-edit; its holders are made users',
      ),
      all,
    );
    assert.match(
      all,
      /custom user role Closer: skipped: Vigil refused it: Vigil answered 422 .*alert-close.*; its holders are made users/,
    );
    const olivia = await get('/v2/users/olivia.ops@opsgenie.example');
    assert.deepEqual(
      [olivia.role.name, olivia.role.id, olivia.tags, olivia.skypeUsername, olivia.userAddress],
      [
        'Responder Plus',
        roles.find((r: Json) => r.name === 'Responder Plus').id,
        ['oncall', 'dublin'],
        'olivia.ops',
        { country: 'IE', state: '', city: 'Dublin', line: '1 Quay Street', zipCode: 'D02' },
      ],
    );
    // The holder of the skipped role is a user, and the report says why.
    assert.equal((await get('/v2/users/bill.ledger@opsgenie.example')).role.name, 'User');
    assert.ok(
      run.progress.includes(
        'user bill.ledger@opsgenie.example: created (made a user: its custom role Legacy Billing was not imported)',
      ),
      all,
    );

    const contacts = await get('/v2/users/jane.doe@opsgenie.example/contacts');
    // Answered as Opsgenie wrote them; paged in E.164.
    assert.deepEqual(contacts.map((c: Json) => [c.method, c.to, c.status.enabled]).sort(), [
      ['email', 'jane.doe@opsgenie.example', true],
      ['sms', '1-9999999999', true],
      ['voice', '1-9999999999', false],
    ]);
    const paged = await target.app.context.db
      .selectFrom('contact_methods')
      .select('address')
      .where(
        'id',
        'in',
        contacts.filter((c: Json) => c.method !== 'email').map((c: Json) => c.id),
      )
      .execute();
    assert.deepEqual(
      paged.map((c) => c.address),
      ['+19999999999', '+19999999999'],
    );
    assert.match(
      all,
      /contact method mobile Jane's iPhone of jane.doe@opsgenie.example: skipped: Opsgenie's mobile-app/,
    );

    const rules = await get('/v2/users/jane.doe@opsgenie.example/notification-rules');
    // The first enabled rule that matches applies: Jane's come in Opsgenie's order, and Vigil's default
    // for a new user ("New alert", every alert by email at once), which she lacks, is not above them.
    assert.deepEqual(
      rules.filter((r: Json) => r.actionType === 'create-alert').map((r: Json) => [r.order, r.name]),
      [
        [0, 'New Alert Rule'],
        [1, 'Working hours'],
      ],
    );
    assert.ok(
      run.progress.includes(
        `notification rule "New alert" of jane.doe@opsgenie.example: deleted (Vigil's default for a new user, which Opsgenie does not have: their Opsgenie rules alone page them)`,
      ),
      all,
    );
    // A user Opsgenie gives no rules keeps Vigil's default.
    assert.deepEqual(
      (await get('/v2/users/john.doe@opsgenie.example/notification-rules')).map((r: Json) => r.name),
      ['New alert'],
    );
    assert.ok(
      run.out.includes('  notification rules: 2 created, 0 updated, 1 deleted, 0 unchanged, 1 skipped'),
      all,
    );
    const imported = rules.find((r: Json) => r.name === 'New Alert Rule');
    const rule = await get(`/v2/users/jane.doe@opsgenie.example/notification-rules/${imported.id}`);
    assert.equal(rule.criteria.type, 'match-any-condition');
    assert.deepEqual(
      rule.criteria.conditions.map((c: Json) => [c.field, c.key ?? null, c.operation, c.expectedValue]),
      [
        ['message', null, 'contains', 'critical'],
        ['extra-properties', 'env', 'equals', 'prod'],
      ],
    );
    assert.deepEqual(
      rule.steps.map((s: Json) => [s.contact.method, s.contact.to, s.sendAfter.timeAmount]),
      [
        ['email', 'jane.doe@opsgenie.example', 0],
        // A step names its contact as the contact was written.
        ['sms', '1-9999999999', 60],
      ],
    );
    assert.ok(!rules.some((r: Json) => r.name === 'On-call starts'));
    // A rule's time restriction comes along, read in the user's time zone as in Opsgenie.
    const workingHours = rules.find((r: Json) => r.name === 'Working hours');
    assert.ok(workingHours, 'the rule with a time restriction is imported');
    const workingHoursRule = await get(
      `/v2/users/jane.doe@opsgenie.example/notification-rules/${workingHours.id}`,
    );
    assert.deepEqual(workingHoursRule.timeRestriction, {
      type: 'time-of-day',
      restriction: { startHour: 9, startMin: 0, endHour: 17, endMin: 0 },
    });
    // A rule's repeat comes along as given: Vigil repeats the steps as Opsgenie does (a disabled one is kept off).
    assert.deepEqual(workingHoursRule.repeat, { loopAfter: 5, enabled: true });
    assert.deepEqual(rule.repeat, { loopAfter: 2, enabled: false });
    assert.match(
      all,
      /notification rule "On-call starts" of jane.doe@opsgenie.example: skipped: .*not schedule-start/,
    );
    assert.match(all, /notification rule "Working hours" of jane.doe@opsgenie.example: created/);

    const team = await get('/v2/teams/SRE?identifierType=name');
    assert.deepEqual(
      team.members.map((m: Json) => [m.user.id, m.role]).sort(),
      [
        [jane.id, 'Responder'],
        [john.id, 'admin'],
      ].sort(),
    );
    // The team's custom role came first, with the rights Opsgenie grants it (edit-services kept).
    const [responder, ...otherRoles] = await get('/v2/teams/SRE/roles?teamIdentifierType=name');
    assert.equal(otherRoles.length, 0);
    assert.equal(responder.name, 'Responder');
    assert.deepEqual(
      responder.rights.filter((r: Json) => r.granted).map((r: Json) => r.right),
      [
        'access-logs',
        'edit-heartbeats',
        'edit-maintenance',
        'edit-schedules',
        'edit-routing-rules',
        'edit-services',
      ],
    );
    assert.ok(run.progress.includes('team role SRE/Responder: created'), all);

    const schedule = await get('/v2/schedules/SRE_Schedule?identifierType=name');
    assert.equal(schedule.timezone, 'Europe/Kirov');
    // Opsgenie's schedules are cumulative: every rotation's participant is on call at once.
    assert.equal(schedule.rotationsCombine, 'all');
    assert.equal(schedule.ownerTeam.id, team.id);
    const [rotation] = schedule.rotations;
    assert.deepEqual(
      [rotation.name, rotation.type, rotation.length, rotation.startDate, rotation.endDate],
      ['First Rotation', 'hourly', 6, '2017-02-06T05:00:00Z', '2027-02-23T06:00:00Z'],
    );
    assert.deepEqual(
      rotation.participants.map((p: Json) => p.id),
      [john.id, jane.id],
    );
    assert.deepEqual(rotation.timeRestriction, {
      type: 'time-of-day',
      restriction: { startHour: 2, startMin: 0, endHour: 14, endMin: 0 },
    });
    // A team's turn and a turn of nobody (Opsgenie's none) come over as they are.
    const teamRotation = (await get('/v2/schedules/Team_Rotation?identifierType=name')).rotations[0];
    assert.deepEqual(
      teamRotation.participants.map((p: Json) => [p.type, p.id, p.name]),
      [
        ['team', team.id, 'SRE'],
        ['none', undefined, undefined],
      ],
    );
    assert.ok(run.progress.includes('schedule Team_Rotation: created'), all);

    const overrides = await get(`/v2/schedules/${schedule.id}/overrides`);
    assert.deepEqual(
      overrides.map((o: Json) => [
        o.alias,
        o.user.type === 'none' ? 'none' : o.user.id,
        o.startDate,
        o.rotations.map((r: Json) => r.id),
      ]),
      [
        ['b3a2c1d0-e9f8-4a7b-8c6d-5e4f3a2b1c0d', jane.id, '2036-12-24T09:00:00Z', [rotation.id]],
        // Opsgenie's `none`: nobody on call over the new year, in Vigil as in Opsgenie.
        ['quiet-new-year', 'none', '2036-12-31T22:00:00Z', []],
      ],
    );
    assert.match(all, /schedule override old-cover in SRE_Schedule: skipped: it is over/);

    const escalation = await get('/v2/escalations/SRE_Escalation?identifierType=name');
    assert.deepEqual(
      escalation.rules.map((r: Json) => [r.notifyType, r.delay.timeAmount, r.recipient.type, r.recipient.id]),
      [
        ['default', 0, 'schedule', schedule.id],
        ['next', 5, 'schedule', schedule.id],
        ['default', 10, 'user', john.id],
        ['admins', 60, 'team', team.id],
      ],
    );
    assert.equal(escalation.repeat.waitInterval, 10);
    assert.match(all, /escalation "?Random_Escalation"?: skipped: a rule notifies "random"/);

    // A schedule whose rotations name escalations is made with the schedules, each escalation's turn set
    // once the escalations are: every rotation in Opsgenie's order, its participants in theirs.
    const cover = await get('/v2/schedules/Escalation_Cover?identifierType=name');
    assert.deepEqual(
      cover.rotations.map((r: Json) => [
        r.name,
        r.participants.map((p: Json) => [p.type, p.id, p.type === 'user' ? p.username : p.name]),
      ]),
      [
        ['Days', [['user', john.id, 'john.doe@opsgenie.example']]],
        [
          'Nights',
          [
            ['escalation', escalation.id, 'SRE_Escalation'],
            ['user', jane.id, 'jane.doe@opsgenie.example'],
            ['none', undefined, undefined],
          ],
        ],
        // Random_Escalation was skipped: its turn has nobody on call, the rotation's other turn stays.
        [
          'Random turns',
          [
            ['user', john.id, 'john.doe@opsgenie.example'],
            ['none', undefined, undefined],
          ],
        ],
      ],
    );
    assert.deepEqual(cover.rotations[1].timeRestriction, {
      type: 'time-of-day',
      restriction: { startHour: 20, startMin: 0, endHour: 8, endMin: 0 },
    });
    assert.ok(run.progress.includes('schedule Escalation_Cover: created'), all);
    assert.ok(run.progress.includes('schedule rotation Nights in Escalation_Cover: updated'), all);
    assert.ok(
      run.out.includes(
        '  schedule rotation Random turns in Escalation_Cover: skipped: escalation Random_Escalation was not imported: nobody is on call in its turn (none) until it is set in Vigil',
      ),
      all,
    );
    // The override of the rotation was imported before the escalation was set: it still names it.
    const coverOverrides = await get(`/v2/schedules/${cover.id}/overrides`);
    assert.deepEqual(
      coverOverrides.map((o: Json) => [o.alias, o.user.id, o.rotations.map((r: Json) => r.id)]),
      [['jane-covers-nights', jane.id, [cover.rotations[1].id]]],
    );

    const routing = await get(`/v2/teams/${team.id}/routing-rules`);
    const business = routing.find((r: Json) => r.name === 'Business hours');
    assert.deepEqual([business.notify.type, business.notify.id], ['schedule', schedule.id]);
    assert.equal(business.timezone, 'America/Los_Angeles');
    assert.deepEqual(business.timeRestriction.restrictions, [
      { startDay: 'monday', startHour: 8, startMin: 0, endDay: 'friday', endHour: 18, endMin: 30 },
    ]);
    assert.deepEqual(
      business.criteria.conditions.map((c: Json) => [c.field, c.not, c.operation, c.expectedValue]),
      [
        ['priority', false, 'equals', 'P1'],
        ['tags', true, 'contains', 'test'],
      ],
    );
    const fallback = routing.find((r: Json) => r.isDefault);
    assert.deepEqual([fallback.notify.type, fallback.notify.id], ['escalation', escalation.id]);

    const heartbeat = await get('/v2/heartbeats/web-front');
    assert.deepEqual(
      [heartbeat.interval, heartbeat.intervalUnit, heartbeat.ownerTeam.id],
      [10, 'minutes', team.id],
    );

    const integrations = await get('/v2/integrations');
    assert.deepEqual(integrations.map((i: Json) => i.name).sort(), ['Mail Alerts', 'SRE API']);
    const sreApi = integrations.find((i: Json) => i.name === 'SRE API');
    assert.equal(sreApi.allowDeleteAccess, false);
    assert.match(all, /integration "?Default API"?: skipped: it is global in Opsgenie.*--team-for-global/);
    // Of another Opsgenie type, Datadog is imported as the API ones are: global, it needs a team.
    assert.match(all, /integration "?Datadog"?: skipped: it is global in Opsgenie.*--team-for-global/);
    // The same key works in Vigil: senders change only the host.
    const alert = await target.call(
      'POST',
      '/v2/alerts',
      { message: 'from a sender that kept its key' },
      SRE_API_KEY,
    );
    assert.equal(alert.status, 202, JSON.stringify(alert.body));
    for (const line of [...run.progress, ...run.out])
      assert.ok(!line.includes(SRE_API_KEY) && !line.includes(OPSGENIE_KEY));

    // The integration's actions, responders mapped to the Vigil team and user.
    const actions = await get(`/v2/integrations/${sreApi.id}/actions`);
    assert.deepEqual(
      actions.create.map((a: Json) => [a.name, a.order]),
      [
        ['Page SRE on P1', 0],
        ['Create Alert', 1],
      ],
    );
    const page = actions.create[0];
    assert.deepEqual(
      [page.message, page.priority, page.tags, page.extraProperties, page.alertActions],
      ['[SRE] {{message}}', 'P1', ['sre', '{{tags}}'], { owner: 'sre' }, ['Open runbook']],
    );
    assert.equal(page.ignoreRespondersFromPayload, true);
    assert.deepEqual(
      page.responders.map((r: Json) => [r.type, r.id]),
      [
        ['team', team.id],
        ['user', jane.id],
      ],
    );
    assert.deepEqual(
      page.filter.conditions.map((c: Json) => [c.field, c.key ?? null, c.operation, c.expectedValue]),
      [
        ['priority', null, 'equals', 'P1'],
        ['extra-properties', 'env', 'equals', 'prod'],
      ],
    );
    assert.deepEqual(
      actions.ignore.map((a: Json) => [
        a.name,
        a.filter.conditionMatchType,
        a.filter.conditions[0].expectedValue,
      ]),
      [['Ignore test alerts', 'match-any-condition', '[test]']],
    );
    assert.equal(actions.close[0].note, 'Closed by {{source}}');
    assert.deepEqual(actions.addNote, []);
    assert.ok(run.progress.includes('integration actions SRE API: created'), all);

    // The Email integration keeps its username (as Vigil takes it, in lower case) and suppressNotifications;
    // its address is Vigil's, and the report gives it so mail can be forwarded there.
    const mail = await get(`/v2/integrations/${integrations.find((i: Json) => i.name === 'Mail Alerts').id}`);
    assert.deepEqual(
      [mail.type, mail.emailUsername, mail.suppressNotifications, mail.enabled, mail.ownerTeam.id],
      ['Email', 'sre.mail', true, true, team.id],
    );
    assert.ok(mail.emailAddress.startsWith('sre.mail@'), mail.emailAddress);
    assert.ok(
      run.progress.includes(`integration Mail Alerts: created (receives mail at ${mail.emailAddress})`),
      all,
    );
    assert.ok(
      run.out.some((l) => l.includes(`Email integration Mail Alerts receives mail at ${mail.emailAddress}`)),
      run.out.join('\n'),
    );
    const mailActions = await get(`/v2/integrations/${mail.id}/actions`);
    assert.deepEqual(
      [
        mailActions.ignore.map((a: Json) => [a.name, a.filter.conditions[0].expectedValue]),
        mailActions.create.map((a: Json) => [
          a.name,
          a.message,
          a.priority,
          a.tags,
          a.appendAttachments,
          a.responders.map((r: Json) => [r.type, r.id]),
        ]),
      ],
      [
        [['Ignore out of office', 'Out of office']],
        [['Create Alert', '[mail] {{message}}', 'P3', ['email'], true, [['team', team.id]]]],
      ],
    );
    assert.ok(run.progress.includes('integration actions Mail Alerts: created'), all);

    // Global alert policies in Opsgenie's order, the one only Vigil has after them.
    const globalPolicies = await get('/v2/policies/alert');
    assert.deepEqual(
      globalPolicies.map((p: Json) => p.name),
      ['Raise prod to P1', 'Route DB to SRE', 'Night shift', 'Vigil only'],
    );
    const raise = await get(`/v2/policies/${globalPolicies[0].id}`);
    assert.deepEqual(
      [raise.priority, raise.continue, raise.tags, raise.details, raise.policyDescription],
      ['P1', true, ['urgent'], { environment: 'production' }, 'Production alerts are urgent'],
    );
    assert.deepEqual(
      raise.filter.conditions.map((c: Json) => [c.field, c.operation, c.expectedValue]),
      [
        ['tags', 'contains', 'prod'],
        ['source', 'matches', '.*prod.*'],
      ],
    );
    const routeDb = await get(`/v2/policies/${globalPolicies[1].id}`);
    assert.equal(routeDb.message, '[DB] {{message}}', 'the policy Vigil had was updated');
    assert.deepEqual(
      routeDb.responders.map((r: Json) => [r.type, r.id]),
      [['team', team.id]],
    );
    // Its time restriction comes along (read in UTC: Opsgenie's account zone is not in its answers).
    const nightShift = await get(`/v2/policies/${globalPolicies[2].id}`);
    assert.deepEqual(
      [nightShift.enabled, nightShift.priority, nightShift.timeRestrictions, nightShift.timezone],
      [
        false,
        'P4',
        {
          type: 'time-of-day',
          restriction: { startHour: 22, startMin: 0, endHour: 6, endMin: 0 },
        },
        'UTC',
      ],
    );
    const teamPolicies = await get(`/v2/policies/alert?teamId=${team.id}`);
    assert.deepEqual(
      teamPolicies.map((p: Json) => p.name),
      ['Tag SRE alerts'],
    );
    const tagSre = await get(`/v2/policies/${teamPolicies[0].id}?teamId=${team.id}`);
    assert.deepEqual(
      [tagSre.tags, tagSre.responders.map((r: Json) => [r.type, r.id])],
      [['sre'], [['user', jane.id]]],
    );
    const [quiet, flapping, ...otherNotification] = await get(`/v2/policies/notification?teamId=${team.id}`);
    assert.equal(otherNotification.length, 0);
    const quietPolicy = await get(`/v2/policies/${quiet.id}?teamId=${team.id}`);
    assert.deepEqual(
      [
        quietPolicy.name,
        quietPolicy.suppress,
        quietPolicy.delayAction,
        quietPolicy.autoCloseAction,
        quietPolicy.filter.conditions.map((c: Json) => c.expectedValue),
      ],
      [
        'Quiet low priority',
        false,
        { delayOption: 'for-duration', duration: { timeAmount: 30, timeUnit: 'minutes' } },
        { duration: { timeAmount: 1, timeUnit: 'days' } },
        ['P5'],
      ],
    );
    const flappingPolicy = await get(`/v2/policies/${flapping.id}?teamId=${team.id}`);
    assert.deepEqual(flappingPolicy.deduplicationAction, {
      deduplicationActionType: 'frequency-based',
      count: 3,
      duration: { timeAmount: 10, timeUnit: 'minutes' },
    });
    // An alert made with the integration's key goes through its action and the policies.
    const sent = await target.call(
      'POST',
      '/v2/alerts',
      { message: 'disk full', priority: 'P1', tags: ['prod'], details: { env: 'prod' } },
      SRE_API_KEY,
    );
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
    const { alertId } = await get(`/v2/alerts/requests/${sent.body.requestId}`);
    const shaped = await get(`/v2/alerts/${alertId}`);
    assert.equal(shaped.message, '[SRE] disk full', 'shaped by the action Page SRE on P1');
    assert.ok(shaped.tags.includes('sre') && shaped.tags.includes('urgent'), JSON.stringify(shaped.tags));
    assert.equal(shaped.details.environment, 'production', 'changed by the policy Raise prod to P1');

    const [maintenance] = await get('/v1/maintenance?type=non-expired');
    const window = await get(`/v1/maintenance/${maintenance.id}`);
    // Its rule enabling the disabled policy "Night shift" for its time comes too, as Opsgenie has it.
    const nightShiftPolicy = (await get('/v2/policies/alert')).find((p: Json) => p.name === 'Night shift');
    assert.equal(nightShiftPolicy?.enabled, false);
    assert.deepEqual(
      window.rules.map((r: Json) => [r.entity.type, r.entity.id, r.state]),
      [
        ['integration', sreApi.id, 'disabled'],
        ['policy', nightShiftPolicy.id, 'enabled'],
      ],
    );
    assert.equal(window.time.startDate, '2036-12-30T01:00:00.000Z');
    assert.match(all, /maintenance .*: created$/m);
  });

  it('a second run finds everything in place', async () => {
    const coverPath = '/v2/schedules/Escalation_Cover?identifierType=name';
    const coverBefore = await get(coverPath);
    const run = await importIt();
    assert.equal(run.code, 0, [...run.progress, ...run.out].join('\n'));
    const changed = run.progress
      .slice(1)
      .filter((l) => !/: unchanged(?: \(.*\))?$/.test(l) && !l.includes(': skipped: '));
    assert.deepEqual(changed, []);
    assert.equal((await get('/v2/integrations')).length, 2);
    assert.equal((await get('/v2/roles')).length, 2);
    assert.equal((await get('/v1/maintenance?type=non-expired')).length, 1);
    assert.equal((await get('/v2/users/jane.doe@opsgenie.example/contacts')).length, 3);
    assert.ok(run.progress.includes('integration actions SRE API: unchanged'), run.progress.join('\n'));
    for (const line of [
      'custom user role Responder Plus: unchanged',
      'custom user role Watcher: unchanged',
      'user olivia.ops@opsgenie.example: unchanged',
      'user jane.doe@opsgenie.example: unchanged',
      'integration Mail Alerts: unchanged',
      'integration actions Mail Alerts: unchanged',
    ])
      assert.ok(run.progress.includes(line), `${line}\n${run.progress.join('\n')}`);
    // The address is said again, for whoever runs it only now.
    assert.ok(
      run.out.some((l) => l.includes('Email integration Mail Alerts receives mail at sre.mail@')),
      run.out.join('\n'),
    );
    assert.ok(run.progress.includes('team role SRE/Responder: unchanged'), run.progress.join('\n'));
    assert.ok(run.progress.includes('alert policy "Raise prod to P1": unchanged'), run.progress.join('\n'));
    assert.ok(
      run.progress.includes('alert policy "Tag SRE alerts" of SRE: unchanged'),
      run.progress.join('\n'),
    );
    assert.ok(
      run.progress.includes('notification policy "Quiet low priority" of SRE: unchanged'),
      run.progress.join('\n'),
    );
    assert.ok(
      run.progress.includes('notification policy "Deduplicate flapping" of SRE: unchanged'),
      run.progress.join('\n'),
    );
    assert.ok(run.progress.includes('alert policy "Night shift": unchanged'), run.progress.join('\n'));
    // Jane's rules are where the first run put them: nothing moves, nothing is deleted again.
    for (const line of [
      'notification rule "New Alert Rule" of jane.doe@opsgenie.example: unchanged',
      'notification rule "Working hours" of jane.doe@opsgenie.example: unchanged',
    ])
      assert.ok(run.progress.includes(line), `${line}\n${run.progress.join('\n')}`);
    assert.deepEqual(
      (await get('/v2/users/jane.doe@opsgenie.example/notification-rules')).map((r: Json) => r.name),
      ['New Alert Rule', 'Working hours'],
    );
    // A schedule with escalations in its rotations is not replaced to be set again: nothing doubles.
    for (const line of [
      'schedule Escalation_Cover: unchanged',
      'schedule rotation Nights in Escalation_Cover: unchanged',
      'schedule rotation Random turns in Escalation_Cover: skipped: escalation Random_Escalation was not imported: its turn is left as Vigil has it',
    ])
      assert.ok(run.progress.includes(line), `${line}\n${run.progress.join('\n')}`);
    // The same rotations (ids too) and participants.
    assert.deepEqual(await get(coverPath), coverBefore);
    assert.equal(coverBefore.rotations.length, 3);
    assert.equal((await get(`/v2/schedules/${coverBefore.id}/overrides`)).length, 1);
    assert.deepEqual(
      (await get('/v2/policies/alert')).map((p: Json) => p.name),
      ['Raise prod to P1', 'Route DB to SRE', 'Night shift', 'Vigil only'],
    );
    assert.equal(opsgenie.requests.filter((r) => r.method !== 'GET').length, 0, 'Opsgenie is only read');
  });

  it('a custom role, a user’s profile and an Email integration changed in Opsgenie are updated', async () => {
    const roles = JSON.parse(await readFile(path.join(fixtures, 'roles.json'), 'utf8'));
    const users = JSON.parse(await readFile(path.join(fixtures, 'users-page-2.json'), 'utf8'));
    const mail = JSON.parse(await readFile(path.join(fixtures, 'integration-mail-alerts.json'), 'utf8'));
    const olivia = users.data.find((u: Json) => u.username === 'olivia.ops@opsgenie.example');
    opsgenie.instead.set('/v2/roles', {
      ...roles,
      data: [
        // Rights emptied in Opsgenie are emptied in Vigil too (its PUT replaces the role).
        {
          ...roles.data[0],
          extendedRole: 'stakeholder',
          grantedRights: ['alert-close'],
          disallowedRights: [],
        },
      ],
    });
    opsgenie.instead.set('/v2/users', {
      data: [
        {
          ...olivia,
          // A tag Vigil does not take (over 100 characters) is left out, and said; the user is updated.
          tags: ['oncall', 'x'.repeat(101), 'oncall'],
          skypeUsername: 'olivia.o',
          userAddress: { country: 'IE' },
        },
      ],
    });
    opsgenie.instead.set(`/v2/integrations/${MAIL_ALERTS}`, {
      ...mail,
      data: { ...mail.data, suppressNotifications: false },
    });
    try {
      const run = await importIt();
      const all = [...run.progress, ...run.out].join('\n');
      assert.equal(run.code, 0, all);
      assert.ok(run.progress.includes('custom user role Responder Plus: updated'), all);
      const role = (await get('/v2/roles')).find((r: Json) => r.name === 'Responder Plus');
      assert.deepEqual(
        [role.extendedRole, role.grantedRights, role.disallowedRights],
        ['stakeholder', ['alert-close'], []],
      );
      assert.ok(
        run.progress.includes(
          'user olivia.ops@opsgenie.example: updated (tags, skypeUsername, userAddress; 1 tag(s) Vigil does not take left out)',
        ),
        all,
      );
      const user = await get('/v2/users/olivia.ops@opsgenie.example');
      assert.deepEqual(
        [user.role.name, user.tags, user.skypeUsername, user.userAddress],
        [
          'Responder Plus',
          ['oncall'],
          'olivia.o',
          { country: 'IE', state: '', city: '', line: '', zipCode: '' },
        ],
      );
      assert.match(all, /integration Mail Alerts: updated \(receives mail at sre\.mail@/);
      const integration = (await get('/v2/integrations')).find((i: Json) => i.name === 'Mail Alerts');
      assert.equal(integration.suppressNotifications, false);
      assert.equal((await get('/v2/integrations')).length, 2);
    } finally {
      opsgenie.instead.clear();
    }
  });

  it('a global integration goes to the team named with --team-for-global, keeping its key', async () => {
    const dry = await importIt('--team-for-global', 'SRE', '--dry-run');
    assert.ok(
      dry.progress.includes(
        'integration Default API: would be created (with the same API key as in Opsgenie)',
      ),
      dry.progress.join('\n'),
    );
    assert.equal((await get('/v2/integrations')).length, 2, 'a dry run makes nothing');
    const run = await importIt('--team-for-global', 'SRE');
    assert.equal(run.code, 0, [...run.progress, ...run.out].join('\n'));
    const read = await target.call('GET', '/v2/alerts', undefined, 'eb243592-faa2-4ba2-a551-1afdf565c889');
    assert.equal(read.status, 200, JSON.stringify(read.body));
    // Its action filters on recipients, which only Vigil's policies do: the actions are skipped, the
    // integration stays.
    assert.ok(
      run.progress.includes(
        'integration actions Default API: skipped: its create action "Route by recipient" has a condition on recipients, which only Vigil\'s policies have',
      ),
      run.progress.join('\n'),
    );
    const made = (await get('/v2/integrations')).find((i: Json) => i.name === 'Default API');
    const defaults = await get(`/v2/integrations/${made.id}/actions`);
    assert.deepEqual(
      defaults.create.map((a: Json) => a.filter.conditionMatchType),
      ['match-all'],
      'Vigil keeps its defaults',
    );
    // An integration of another Opsgenie type (Datadog) keeps its type name and its key, as an API one.
    assert.ok(
      run.progress.includes('integration Datadog: created (with the same API key as in Opsgenie)'),
      run.progress.join('\n'),
    );
    const datadog = (await get('/v2/integrations')).find((i: Json) => i.name === 'Datadog');
    assert.deepEqual([datadog.type, datadog.enabled, datadog.ownerTeam.name], ['Datadog', false, 'SRE']);
    await target.callOk('POST', `/v2/integrations/${datadog.id}/enable`);
    const sent = await target.call(
      'POST',
      '/v2/alerts',
      { message: 'from Datadog, with its Opsgenie key' },
      '5d1c9b7e-3a2f-4e8d-b6c4-0f9e8d7c6b5a',
    );
    assert.equal(sent.status, 202, JSON.stringify(sent.body));
  });

  it('an Email address Vigil already gives another integration (409) skips that one alone, said why', async () => {
    const list = JSON.parse(await readFile(path.join(fixtures, 'integrations.json'), 'utf8'));
    const mail = JSON.parse(await readFile(path.join(fixtures, 'integration-mail-alerts.json'), 'utf8'));
    const mailActions = JSON.parse(
      await readFile(path.join(fixtures, 'integration-actions-mail-alerts.json'), 'utf8'),
    );
    // Made in Vigil before the import (a trial, say): they hold addresses Opsgenie's integrations want.
    const { data: inbox } = await target.callOk('POST', '/v2/integrations', {
      type: 'Email',
      name: 'Vigil Inbox',
      ownerTeam: { name: 'SRE' },
      emailUsername: 'ops.inbox',
    });
    const { data: pager } = await target.callOk('POST', '/v2/integrations', {
      type: 'Email',
      name: 'Vigil Pager',
      ownerTeam: { name: 'SRE' },
      emailUsername: 'pager.mail',
    });
    const vigilMail = (await get('/v2/integrations')).find((i: Json) => i.name === 'Mail Alerts');
    const beforeMail = await get(`/v2/integrations/${vigilMail.id}`);
    const beforeMailActions = await get(`/v2/integrations/${vigilMail.id}/actions`);
    // In Opsgenie, Mail Alerts moved to the address Vigil Pager has, and two Email integrations were added:
    // Ops Inbox at the address Vigil Inbox has, and Night Mail at a free one.
    const [defaultApi, sreApi, mailAlerts, datadog] = list.data;
    const opsInbox = '8b9c0d1e-2f3a-4b4c-9d5e-6f7a8b9c0d1e';
    const nightMail = '9c0d1e2f-3a4b-4c5d-8e6f-7a8b9c0d1e2f';
    const summary = (id: string, name: string) => ({ ...mailAlerts, id, name });
    opsgenie.instead.set('/v2/integrations', {
      ...list,
      data: [
        defaultApi,
        sreApi,
        mailAlerts,
        summary(opsInbox, 'Ops Inbox'),
        summary(nightMail, 'Night Mail'),
        datadog,
      ],
    });
    opsgenie.instead.set(`/v2/integrations/${MAIL_ALERTS}`, {
      ...mail,
      data: { ...mail.data, emailUsername: 'Pager.Mail', suppressNotifications: false },
    });
    for (const [id, name, emailUsername] of [
      [opsInbox, 'Ops Inbox', 'Ops.Inbox'],
      [nightMail, 'Night Mail', 'night.mail'],
    ]) {
      opsgenie.instead.set(`/v2/integrations/${id}`, {
        ...mail,
        data: { ...mail.data, id, name, emailUsername },
      });
      opsgenie.instead.set(`/v2/integrations/${id}/actions`, {
        ...mailActions,
        data: { ...mailActions.data, _parent: { ...mailActions.data._parent, id, name } },
      });
    }
    try {
      const advice = (emailUsername: string) =>
        `another Email integration of Vigil already has the emailUsername ${emailUsername}: give that integration another emailUsername (or delete it), or change this one's in Opsgenie, then run the import again`;
      const taken = (emailUsername: string) =>
        `emailUsername [${emailUsername}] is already the address of another Email integration in Vigil: choose another.`;
      const integrationsBefore = await get('/v2/integrations');
      // A dry run foresees both 409s from the addresses Vigil lists, in the real run's words.
      const dry = await importIt('--dry-run');
      const dryAll = [...dry.progress, ...dry.out].join('\n');
      assert.equal(dry.code, 0, dryAll);
      for (const line of [
        `integration Mail Alerts: skipped: ${advice('pager.mail')}; Vigil's Mail Alerts is left as it was, receiving mail at ${beforeMail.emailAddress} (Vigil's Vigil Pager receives mail at it)`,
        `integration Ops Inbox: skipped: ${advice('ops.inbox')} (Vigil's Vigil Inbox receives mail at it)`,
        "integration Night Mail: would be created (receives mail at night.mail@<Vigil's inbound email domain, VIGIL_INBOUND_EMAIL_DOMAIN>)",
      ])
        assert.ok(dry.progress.includes(line), `${line}\n${dryAll}`);
      for (const line of [
        `  - Email integration Mail Alerts would be skipped: ${advice('pager.mail')}.`,
        `  - Email integration Ops Inbox would be skipped: ${advice('ops.inbox')}.`,
      ])
        assert.ok(dry.out.includes(line), `${line}\n${dryAll}`);
      assert.deepEqual(await get('/v2/integrations'), integrationsBefore, 'a dry run changes nothing');

      const run = await importIt();
      const all = [...run.progress, ...run.out].join('\n');
      assert.equal(run.error, undefined, run.error?.message);
      // Skipped, not failed: each waits on someone freeing the address; the rest of the import is done.
      assert.equal(run.code, 0, all);
      assert.ok(!run.progress.some((l) => l.includes(': failed')), all);
      // A dry run does not foresee Vigil's 422 to a custom role granting and disallowing one right.
      const foreseen = (progress: string[]) =>
        outcomesOf(progress).filter((o) => !o.startsWith('custom user role Closer: '));
      assert.deepEqual(foreseen(run.progress), foreseen(dry.progress), 'as the dry run said');
      // What to do is listed again under the next steps.
      const nextSteps = run.out.slice(run.out.indexOf('Next steps:'));
      for (const line of [
        `  - Email integration Mail Alerts was skipped: ${advice('pager.mail')}.`,
        `  - Email integration Ops Inbox was skipped: ${advice('ops.inbox')}.`,
      ])
        assert.ok(nextSteps.includes(line), `${line}\n${all}`);
      for (const line of [
        `integration Mail Alerts: skipped: ${advice('pager.mail')}; Vigil's Mail Alerts is left as it was, receiving mail at ${beforeMail.emailAddress} (Vigil answered 409 to PATCH /v2/integrations/${vigilMail.id}: ${taken('pager.mail')})`,
        `integration Ops Inbox: skipped: ${advice('ops.inbox')} (Vigil answered 409 to POST /v2/integrations: ${taken('ops.inbox')})`,
        `integration SRE API: unchanged (left out, as Vigil's integrations have none of their own: its responders (team SRE); set them on its create actions, in Opsgenie before running the import again (it sets the actions as Opsgenie has them), or in Vigil after the last run)`,
        'integration actions SRE API: unchanged',
        'integration actions Night Mail: created',
        // What comes after the integrations is imported too.
        'alert policy "Tag SRE alerts" of SRE: unchanged',
        'heartbeat web-front: unchanged',
      ])
        assert.ok(run.progress.includes(line), `${line}\n${all}`);
      assert.ok(run.out.includes('  integrations: 1 created, 0 updated, 1 unchanged, 4 skipped'), all);
      // Nothing is said of actions of the skipped ones, nor an address for Ops Inbox, which Vigil lacks.
      assert.ok(!/integration actions (Ops Inbox|Mail Alerts)/.test(all), all);
      assert.ok(!all.includes('Email integration Ops Inbox receives mail'), all);

      // Vigil: the integrations holding the addresses are as they were, Mail Alerts too (its
      // suppressNotifications not changed either: the PATCH is refused whole), Ops Inbox was not made.
      const integrations = await get('/v2/integrations');
      assert.deepEqual(integrations.map((i: Json) => i.name).sort(), [
        'Datadog',
        'Default API',
        'Mail Alerts',
        'Night Mail',
        'SRE API',
        'Vigil Inbox',
        'Vigil Pager',
      ]);
      assert.deepEqual(await get(`/v2/integrations/${vigilMail.id}`), beforeMail);
      assert.deepEqual(await get(`/v2/integrations/${vigilMail.id}/actions`), beforeMailActions);
      for (const [holder, name, emailUsername] of [
        [inbox, 'Vigil Inbox', 'ops.inbox'],
        [pager, 'Vigil Pager', 'pager.mail'],
      ]) {
        const now = await get(`/v2/integrations/${holder.id}`);
        assert.deepEqual([now.name, now.emailUsername, now.enabled], [name, emailUsername, true]);
      }
      const night = await get(
        `/v2/integrations/${integrations.find((i: Json) => i.name === 'Night Mail').id}`,
      );
      assert.deepEqual(
        [night.emailUsername, night.suppressNotifications, night.ownerTeam.name],
        ['night.mail', true, 'SRE'],
      );
      assert.ok(
        run.progress.includes(`integration Night Mail: created (receives mail at ${night.emailAddress})`),
        all,
      );
      assert.deepEqual(
        (await get(`/v2/integrations/${night.id}/actions`)).create.map((a: Json) => a.message),
        ['[mail] {{message}}'],
      );

      // Done as the report says, the next run brings both.
      await target.callOk('DELETE', `/v2/integrations/${inbox.id}`);
      await target.callOk('PATCH', `/v2/integrations/${pager.id}`, { emailUsername: 'pager.old' });
      const dryAgain = await importIt('--dry-run');
      assert.match(dryAgain.progress.join('\n'), /integration Ops Inbox: would be created/);
      const again = await importIt();
      const againAll = [...again.progress, ...again.out].join('\n');
      assert.equal(again.code, 0, againAll);
      assert.deepEqual(foreseen(again.progress), foreseen(dryAgain.progress), 'as the dry run said');
      assert.ok(!againAll.includes('skipped: another Email integration'), againAll);
      assert.match(againAll, /integration Mail Alerts: updated \(receives mail at pager\.mail@/);
      assert.match(againAll, /integration Ops Inbox: created \(receives mail at ops\.inbox@/);
      const moved = await get(`/v2/integrations/${vigilMail.id}`);
      assert.deepEqual([moved.emailUsername, moved.suppressNotifications], ['pager.mail', false]);
      const opsInboxMade = (await get('/v2/integrations')).find((i: Json) => i.name === 'Ops Inbox');
      assert.equal((await get(`/v2/integrations/${opsInboxMade.id}`)).emailUsername, 'ops.inbox');
    } finally {
      opsgenie.instead.clear();
      // The tests after this one start from the fixtures' integrations.
      for (const i of await get('/v2/integrations'))
        if (['Ops Inbox', 'Night Mail', 'Vigil Inbox', 'Vigil Pager'].includes(i.name))
          await target.callOk('DELETE', `/v2/integrations/${i.id}`);
      await target.callOk('PATCH', `/v2/integrations/${vigilMail.id}`, {
        emailUsername: beforeMail.emailUsername,
        suppressNotifications: beforeMail.suppressNotifications,
      });
    }
  });

  it('an object Vigil refuses fails alone: the others are made, and the exit code is 1', async () => {
    const heartbeats = JSON.parse(await readFile(path.join(fixtures, 'heartbeats.json'), 'utf8'));
    const good = heartbeats.data.heartbeats[0];
    opsgenie.instead.set('/v2/heartbeats', {
      ...heartbeats,
      data: {
        heartbeats: [
          { ...good, name: 'hourly-export', alertTags: ['x'.repeat(60)] },
          { ...good, name: 'queue-worker', interval: 2, intervalUnit: 'hours' },
        ],
      },
    });
    try {
      const run = await importIt();
      assert.equal(run.code, 1, [...run.progress, ...run.out].join('\n'));
      assert.ok(
        run.progress.some((l) => l.startsWith('heartbeat hourly-export: failed: Vigil answered 422')),
        run.progress.join('\n'),
      );
      assert.ok(run.progress.includes('heartbeat queue-worker: created'), run.progress.join('\n'));
      assert.ok(
        run.out.some((l) =>
          l.startsWith('  heartbeats: 1 created, 0 updated, 0 unchanged, 0 skipped, 1 failed'),
        ),
        run.out.join('\n'),
      );
      // Failed, not skipped: Vigil refused what the import did not expect it to, so no next step names it.
      assert.ok(
        run.out.some((l) => l.startsWith('  heartbeat hourly-export: failed: Vigil answered 422')),
        run.out.join('\n'),
      );
      assert.ok(
        !run.out.slice(run.out.indexOf('Next steps:')).some((l) => l.includes('hourly-export')),
        run.out.join('\n'),
      );
      assert.equal((await get('/v2/heartbeats/queue-worker')).interval, 2);
      assert.equal((await target.call('GET', '/v2/heartbeats/hourly-export')).status, 404);
    } finally {
      opsgenie.instead.clear();
    }
  });

  it("a heartbeat's owner team cleared in Opsgenie is cleared in Vigil, and the run after finds it unchanged", async () => {
    await inFreshVigil(opsgenie, async (vigil) => {
      const first = await importInto(vigil);
      assert.ok(first.progress.includes('heartbeat web-front: created'), first.progress.join('\n'));
      const webFrontPath = '/v2/heartbeats/web-front';
      assert.equal((await vigil.callOk('GET', webFrontPath)).data.ownerTeam?.name, 'SRE');

      const heartbeats = JSON.parse(await readFile(path.join(fixtures, 'heartbeats.json'), 'utf8'));
      const { ownerTeam: _cleared, ...webFront } = heartbeats.data.heartbeats[0];
      // A tag twice in Opsgenie is kept once in Vigil: no difference to update on each run.
      const alertTags = [...webFront.alertTags, webFront.alertTags[0]];
      opsgenie.instead.set('/v2/heartbeats', {
        ...heartbeats,
        data: { heartbeats: [{ ...webFront, alertTags }] },
      });
      const cleared = await importInto(vigil);
      assert.ok(cleared.progress.includes('heartbeat web-front: updated'), cleared.progress.join('\n'));
      const got = (await vigil.callOk('GET', webFrontPath)).data as Json;
      assert.equal(got.ownerTeam, undefined);
      assert.deepEqual([...got.alertTags].sort(), ['tag1', 'tag2']);

      const again = await importInto(vigil);
      assert.ok(again.progress.includes('heartbeat web-front: unchanged'), again.progress.join('\n'));
      assert.ok(
        again.out.some((l) => l.startsWith('  heartbeats: 0 created, 0 updated, 1 unchanged')),
        again.out.join('\n'),
      );
    });
  });

  it('escalations in rotations changed in Opsgenie: a dry run says so and makes nothing, a run sets them', async () => {
    const schedules = JSON.parse(await readFile(path.join(fixtures, 'schedules.json'), 'utf8'));
    const cover = schedules.data.find((s: Json) => s.name === 'Escalation_Cover');
    const [days, nights, random] = cover.rotations;
    const [sreEscalation, janeTurn, noneTurn] = nights.participants;
    const onlyId = '0a1b2c3d-4e5f-4a6b-9c7d-8e9f0a1b2c3d';
    opsgenie.instead.set('/v2/schedules', {
      ...schedules,
      data: [
        ...schedules.data.map((s: Json) =>
          s === cover
            ? {
                ...cover,
                // The escalation's turn moved after Jane's.
                rotations: [days, { ...nights, participants: [janeTurn, sreEscalation, noneTurn] }, random],
              }
            : s,
        ),
        {
          id: onlyId,
          name: 'Escalation_Only',
          timezone: 'UTC',
          enabled: true,
          rotations: [
            {
              id: '1b2c3d4e-5f6a-4b7c-8d9e-0f1a2b3c4d5e',
              name: 'Escalation week',
              startDate: '2017-02-06T05:00:00Z',
              type: 'weekly',
              length: 1,
              participants: [sreEscalation],
            },
          ],
        },
      ],
    });
    opsgenie.instead.set(`/v2/schedules/${onlyId}/overrides`, { data: [] });
    const coverPath = '/v2/schedules/Escalation_Cover?identifierType=name';
    const onlyPath = '/v2/schedules/Escalation_Only?identifierType=name';
    try {
      const before = await get(coverPath);
      const dry = await importIt('--dry-run');
      const dryAll = [...dry.progress, ...dry.out].join('\n');
      assert.equal(dry.code, 0, dryAll);
      for (const line of [
        'schedule Escalation_Cover: would be updated',
        'schedule rotation Nights in Escalation_Cover: would be updated',
        'schedule Escalation_Only: would be created',
        'schedule rotation Escalation week in Escalation_Only: would be updated',
      ])
        assert.ok(dry.progress.includes(line), `${line}\n${dryAll}`);
      assert.deepEqual(await get(coverPath), before, 'a dry run changes nothing');
      assert.equal((await target.call('GET', onlyPath)).status, 404, 'a dry run makes nothing');

      const run = await importIt();
      const all = [...run.progress, ...run.out].join('\n');
      assert.equal(run.code, 0, all);
      for (const line of [
        'schedule Escalation_Cover: updated',
        'schedule rotation Nights in Escalation_Cover: updated',
        'schedule Escalation_Only: created',
        'schedule rotation Escalation week in Escalation_Only: updated',
      ])
        assert.ok(run.progress.includes(line), `${line}\n${all}`);
      const escalation = await get('/v2/escalations/SRE_Escalation?identifierType=name');
      const jane = await get('/v2/users/jane.doe@opsgenie.example');
      const after = await get(coverPath);
      assert.deepEqual(
        after.rotations.map((r: Json) => r.name),
        ['Days', 'Nights', 'Random turns'],
      );
      assert.deepEqual(
        after.rotations[1].participants.map((p: Json) => [p.type, p.id]),
        [
          ['user', jane.id],
          ['escalation', escalation.id],
          ['none', undefined],
        ],
      );
      // Nights was changed in place (its id kept), so its override stayed on it.
      assert.deepEqual(
        (await get(`/v2/schedules/${after.id}/overrides`)).map((o: Json) => [
          o.alias,
          o.rotations.map((r: Json) => r.id),
        ]),
        [['jane-covers-nights', [after.rotations[1].id]]],
      );
      const only = await get(onlyPath);
      assert.deepEqual(
        only.rotations.map((r: Json) => [r.name, r.participants.map((p: Json) => [p.type, p.id, p.name])]),
        [['Escalation week', [['escalation', escalation.id, 'SRE_Escalation']]]],
      );

      const again = await importIt();
      assert.equal(again.code, 0, [...again.progress, ...again.out].join('\n'));
      assert.deepEqual(
        again.progress
          .slice(1)
          .filter((l) => !/: unchanged(?: \(.*\))?$/.test(l) && !l.includes(': skipped: ')),
        [],
      );
      assert.deepEqual(await get(coverPath), after);
      assert.equal((await get('/v2/schedules')).filter((s: Json) => s.name === 'Escalation_Only').length, 1);
    } finally {
      opsgenie.instead.clear();
    }
  });

  it('routing rules end in Opsgenie’s order, the ones only Vigil has after them', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      const first = await importInto(vigil);
      assert.equal(first.code, 0, [...first.progress, ...first.out].join('\n'));
      // Vigil's team has a rule of its own, tried before the imported one.
      await vigil.callOk('POST', '/v2/teams/SRE/routing-rules?teamIdentifierType=name', {
        name: 'Vigil only',
        order: 0,
        notify: { type: 'none' },
      });
      // In Opsgenie, a new rule now comes before Business hours, and another after it.
      const rules = JSON.parse(await readFile(path.join(fixtures, 'routing-rules-sre.json'), 'utf8'));
      const [business, fallback] = rules.data;
      const like = (id: string, name: string) => ({ ...business, id, name });
      opsgenie.instead.set(`/v2/teams/${SRE}/routing-rules`, {
        ...rules,
        data: [
          like('1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', 'Nights'),
          business,
          like('2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a', 'Weekends'),
          fallback,
        ].map((r, order) => ({ ...r, order })),
      });
      const names = async () =>
        (await vigil.callOk('GET', '/v2/teams/SRE/routing-rules?teamIdentifierType=name')).data
          .filter((r: Json) => !r.isDefault)
          .map((r: Json) => r.name);
      const expected = [
        'routing rule "Nights" of SRE: created',
        'routing rule "Business hours" of SRE: updated (moved to place 2, as in Opsgenie)',
        'routing rule "Weekends" of SRE: created',
        'routing rule default rule of SRE: unchanged',
      ];

      const dry = await importInto(vigil, '--dry-run');
      const dryLines = dry.progress.map((l) => l.replace(': would be ', ': '));
      for (const line of expected) assert.ok(dryLines.includes(line), `${line}\n${dry.progress.join('\n')}`);
      assert.deepEqual(await names(), ['Vigil only', 'Business hours'], 'a dry run moves nothing');

      const run = await importInto(vigil);
      const all = [...run.progress, ...run.out].join('\n');
      assert.equal(run.code, 0, all);
      for (const line of expected) assert.ok(run.progress.includes(line), `${line}\n${all}`);
      assert.deepEqual(await names(), ['Nights', 'Business hours', 'Weekends', 'Vigil only']);

      const again = await importInto(vigil);
      assert.deepEqual(
        again.progress.filter((l) => l.startsWith('routing rule ') && !l.endsWith(': unchanged')),
        [],
        'in place: nothing moves again',
      );
      assert.deepEqual(await names(), ['Nights', 'Business hours', 'Weekends', 'Vigil only']);
    }));

  it('a new team’s members come in Opsgenie’s order, holders of its own roles among them', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      const team = JSON.parse(await readFile(path.join(fixtures, 'team-sre.json'), 'utf8'));
      const [john, jane] = team.data.members;
      const member = (id: string, username: string, role: string) => ({ user: { id, username }, role });
      // The first member holds the team's role; Bill one the team does not have (he is made a user).
      opsgenie.instead.set(`/v2/teams/${SRE}`, {
        ...team,
        data: {
          ...team.data,
          members: [
            jane,
            john,
            member('6e3c80b5-9b7f-4d4c-9a0c-1f5b6c7d8e9f', 'bill.ledger@opsgenie.example', 'Auditor'),
            member('5d2b7fa4-8a6e-4c3b-8f9b-0e4a5b6c7d8e', 'olivia.ops@opsgenie.example', 'user'),
          ],
        },
      });
      const run = await importInto(vigil);
      const all = [...run.progress, ...run.out].join('\n');
      assert.equal(run.code, 0, all);
      assert.ok(
        run.progress.includes(
          'team SRE: created (made users, their role not imported: bill.ledger@opsgenie.example (Auditor))',
        ),
        all,
      );
      const members = async () =>
        (await vigil.callOk('GET', '/v2/teams/SRE?identifierType=name')).data.members.map((m: Json) => [
          m.user.username,
          m.role,
        ]);
      const expected = [
        ['jane.doe@opsgenie.example', 'Responder'],
        ['john.doe@opsgenie.example', 'admin'],
        ['bill.ledger@opsgenie.example', 'user'],
        ['olivia.ops@opsgenie.example', 'user'],
      ];
      assert.deepEqual(await members(), expected);

      const again = await importInto(vigil);
      assert.ok(
        again.progress.some((l) => l.startsWith('team SRE: unchanged')),
        again.progress.join('\n'),
      );
      assert.deepEqual(await members(), expected);
    }));

  it('users made by the run get their contacts and rules, Vigil’s defaults changed as in Opsgenie', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      const base = `/v2/users/${JANE}`;
      const contacts = JSON.parse(await readFile(path.join(fixtures, 'contacts-jane.json'), 'utf8'));
      const rules = JSON.parse(await readFile(path.join(fixtures, 'notification-rules-jane.json'), 'utf8'));
      const newAlertId = '3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a6b';
      // Jane's email contact is off in Opsgenie, and her rule "New alert" (Vigil gives every new user
      // one by that name, with that email) pages her by SMS after 5 minutes.
      opsgenie.instead.set(`${base}/contacts`, {
        ...contacts,
        data: contacts.data.map((c: Json) =>
          c.method === 'email' ? { ...c, status: { enabled: false, disabledReason: 'Disabled by user' } } : c,
        ),
      });
      opsgenie.instead.set(`${base}/notification-rules`, {
        ...rules,
        data: [
          ...rules.data,
          { id: newAlertId, name: 'New alert', actionType: 'create-alert', order: 3, enabled: true },
        ],
      });
      opsgenie.instead.set(`${base}/notification-rules/${newAlertId}`, {
        data: {
          id: newAlertId,
          name: 'New alert',
          actionType: 'create-alert',
          order: 3,
          criteria: { type: 'match-all' },
          steps: [
            {
              sendAfter: { timeAmount: 5, timeUnit: 'minutes' },
              contact: { method: 'sms', to: '1-9999999999' },
              enabled: true,
            },
          ],
          enabled: true,
        },
      });
      const expected = [
        'contact method email jane.doe@opsgenie.example of jane.doe@opsgenie.example: updated (disabled)',
        'notification rule "New alert" of jane.doe@opsgenie.example: updated',
      ];
      const dry = await importInto(vigil, '--dry-run');
      const dryLines = dry.progress.map((l) => l.replace(': would be ', ': '));
      for (const line of expected) assert.ok(dryLines.includes(line), `${line}\n${dry.progress.join('\n')}`);

      const run = await importInto(vigil);
      const all = [...run.progress, ...run.out].join('\n');
      assert.equal(run.code, 0, all);
      for (const line of expected) assert.ok(run.progress.includes(line), `${line}\n${all}`);
      const jane = '/v2/users/jane.doe@opsgenie.example';
      const email = (await vigil.callOk('GET', `${jane}/contacts`)).data.filter(
        (c: Json) => c.method === 'email',
      );
      assert.deepEqual(
        email.map((c: Json) => [c.to, c.status.enabled]),
        [['jane.doe@opsgenie.example', false]],
      );
      const newAlert = (await vigil.callOk('GET', `${jane}/notification-rules`)).data.filter(
        (r: Json) => r.name === 'New alert',
      );
      assert.equal(newAlert.length, 1, 'Vigil’s own rule was changed, not another one made');
      const rule = (await vigil.callOk('GET', `${jane}/notification-rules/${newAlert[0].id}`)).data;
      assert.deepEqual(
        rule.steps.map((s: Json) => [s.contact.method, s.contact.to, s.sendAfter.timeAmount]),
        [['sms', '1-9999999999', 5]],
      );
      // Her last rule in Opsgenie is her last in Vigil: the match-all one does not shadow the others.
      const createAlertNames = async () =>
        (await vigil.callOk('GET', `${jane}/notification-rules`)).data
          .filter((r: Json) => r.actionType === 'create-alert')
          .map((r: Json) => r.name);
      assert.deepEqual(await createAlertNames(), ['New Alert Rule', 'Working hours', 'New alert']);

      const again = await importInto(vigil);
      for (const line of expected) {
        const unchanged = line.replace(/: updated.*$/, ': unchanged');
        assert.ok(again.progress.includes(unchanged), `${unchanged}\n${again.progress.join('\n')}`);
      }
      assert.deepEqual(await createAlertNames(), ['New Alert Rule', 'Working hours', 'New alert']);
    }));

  it('a user’s rules end in Opsgenie’s order, the ones only Vigil has after them', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      const first = await importInto(vigil);
      assert.equal(first.code, 0, [...first.progress, ...first.out].join('\n'));
      const jane = '/v2/users/jane.doe@opsgenie.example';
      // Jane adds a rule of her own in Vigil, tried first; in Opsgenie, Working hours now comes first.
      await vigil.callOk('POST', `${jane}/notification-rules`, {
        name: 'Vigil only',
        actionType: 'create-alert',
        order: 0,
        criteria: { type: 'match-all' },
      });
      const rules = JSON.parse(await readFile(path.join(fixtures, 'notification-rules-jane.json'), 'utf8'));
      opsgenie.instead.set(`/v2/users/${JANE}/notification-rules`, {
        ...rules,
        data: rules.data.map((r: Json) => ({ ...r, order: 2 - r.order })),
      });
      const names = async () =>
        (await vigil.callOk('GET', `${jane}/notification-rules`)).data
          .filter((r: Json) => r.actionType === 'create-alert')
          .map((r: Json) => r.name);
      const expected = [
        'notification rule "Working hours" of jane.doe@opsgenie.example: updated (moved to place 1, as in Opsgenie)',
        'notification rule "New Alert Rule" of jane.doe@opsgenie.example: updated (the step to its mobile contact left out; moved to place 2, as in Opsgenie)',
      ];

      const dry = await importInto(vigil, '--dry-run');
      const dryLines = dry.progress.map((l) => l.replace(': would be ', ': '));
      for (const line of expected) assert.ok(dryLines.includes(line), `${line}\n${dry.progress.join('\n')}`);
      assert.deepEqual(
        await names(),
        ['Vigil only', 'New Alert Rule', 'Working hours'],
        'a dry run moves nothing',
      );

      const run = await importInto(vigil);
      const all = [...run.progress, ...run.out].join('\n');
      assert.equal(run.code, 0, all);
      for (const line of expected) assert.ok(run.progress.includes(line), `${line}\n${all}`);
      // She was in Vigil before this run: her own rule stays, after Opsgenie's.
      assert.deepEqual(await names(), ['Working hours', 'New Alert Rule', 'Vigil only']);

      const again = await importInto(vigil);
      assert.deepEqual(
        again.progress.filter((l) => l.startsWith('notification rule ') && !/: (unchanged|skipped)/.test(l)),
        [],
        'in place: nothing moves again',
      );
      assert.deepEqual(await names(), ['Working hours', 'New Alert Rule', 'Vigil only']);
    }));

  it('a blocked Opsgenie user is made blocked, before any of their contacts, rules or teams', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      const page = JSON.parse(await readFile(path.join(fixtures, 'users-page-1.json'), 'utf8'));
      // Jane has left: blocked in Opsgenie, her contacts, rules and SRE membership still there.
      opsgenie.instead.set('/v2/users', {
        data: page.data.map((u: Json) => (u.id === JANE ? { ...u, blocked: true } : u)),
      });
      const line = 'user jane.doe@opsgenie.example: created (blocked, as in Opsgenie)';
      const dry = await importInto(vigil, '--dry-run');
      assert.ok(
        dry.progress.includes(line.replace(': created', ': would be created')),
        dry.progress.join('\n'),
      );

      const proxy = await recordingProxy(vigil);
      try {
        const run = await runImport(['--api-url', opsgenie.url, '--api-key', OPSGENIE_KEY], {
          VIGIL_URL: proxy.url,
          VIGIL_API_KEY: vigil.key,
        });
        const all = [...run.progress, ...run.out].join('\n');
        assert.equal(run.code, 0, all);
        assert.ok(run.progress.includes(line), all);
        const jane = (await vigil.callOk('GET', '/v2/users/jane.doe@opsgenie.example')).data;
        assert.equal(jane.blocked, true);
        const john = (await vigil.callOk('GET', '/v2/users/john.doe@opsgenie.example')).data;
        assert.equal(john.blocked, false, 'only the blocked one');
        // Blocked at once: the request after the one making her blocks her, before anything else of hers.
        const made = proxy.requests.findIndex(
          (r) => r.method === 'POST' && r.path === '/v2/users' && r.body?.username === jane.username,
        );
        assert.ok(made >= 0, JSON.stringify(proxy.requests));
        assert.deepEqual(proxy.requests[made + 1], {
          method: 'PATCH',
          path: `/v2/users/${jane.id}`,
          body: { blocked: true },
        });
        // Her contacts and membership are imported all the same, so unblocking her in Vigil restores her.
        assert.ok(
          (await vigil.callOk('GET', '/v2/users/jane.doe@opsgenie.example/contacts')).data.length > 0,
        );

        const again = await importInto(vigil);
        assert.ok(
          again.progress.includes('user jane.doe@opsgenie.example: unchanged'),
          again.progress.join('\n'),
        );
      } finally {
        await proxy.close();
      }
    }));

  it('an integration action ignoring recipients (Opsgenie’s older name) ignores the request’s responders', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      const actionsPath = '/v2/integrations/3d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a/actions';
      const actions = JSON.parse(
        await readFile(path.join(fixtures, 'integration-actions-sre-api.json'), 'utf8'),
      );
      const withPage = (flags: Json) => ({
        ...actions,
        data: {
          ...actions.data,
          create: actions.data.create.map((a: Json) => {
            if (a.name !== 'Page SRE on P1') return a;
            const { ignoreRespondersFromPayload: _, ...rest } = a;
            return { ...rest, ...flags };
          }),
        },
      });
      const page = async () => {
        const sreApi = (await vigil.callOk('GET', '/v2/integrations')).data.find(
          (i: Json) => i.name === 'SRE API',
        );
        const got = (await vigil.callOk('GET', `/v2/integrations/${sreApi.id}/actions`)).data;
        return got.create.find((a: Json) => a.name === 'Page SRE on P1');
      };
      // Made as Opsgenie had it first: the request's responders merged.
      opsgenie.instead.set(actionsPath, withPage({ ignoreRespondersFromPayload: false }));
      const first = await importInto(vigil);
      assert.equal(first.code, 0, [...first.progress, ...first.out].join('\n'));
      assert.equal((await page()).ignoreRespondersFromPayload, false);

      // Then Opsgenie answers the flag by its older name: the actions differ, and are set.
      opsgenie.instead.set(actionsPath, withPage({ ignoreRecipientsFromPayload: true }));
      const run = await importInto(vigil);
      const all = [...run.progress, ...run.out].join('\n');
      assert.equal(run.code, 0, all);
      assert.ok(run.progress.includes('integration actions SRE API: updated'), all);
      assert.equal((await page()).ignoreRespondersFromPayload, true);

      const again = await importInto(vigil);
      assert.ok(again.progress.includes('integration actions SRE API: unchanged'), again.progress.join('\n'));
    }));

  it('an API integration’s own responders and payload flags, which Vigil lacks, are said left out, with what to do', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      const integration = JSON.parse(await readFile(path.join(fixtures, 'integration-sre-api.json'), 'utf8'));
      opsgenie.instead.set('/v2/integrations/3d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a', {
        ...integration,
        data: {
          ...integration.data,
          responders: [
            ...integration.data.responders,
            { type: 'user', id: JANE, username: 'jane.doe@opsgenie.example' },
          ],
          ignoreRecipientsFromPayload: true,
        },
      });
      const leftOut =
        "left out, as Vigil's integrations have none of their own: its responders (team SRE, user jane.doe@opsgenie.example), ignoreRespondersFromPayload; set them on its create actions, in Opsgenie before running the import again (it sets the actions as Opsgenie has them), or in Vigil after the last run";
      const run = await importInto(vigil);
      const all = [...run.progress, ...run.out].join('\n');
      assert.equal(run.code, 0, all);
      assert.ok(
        run.progress.includes(
          `integration SRE API: created (with the same API key as in Opsgenie; ${leftOut})`,
        ),
        all,
      );
      // Listed again in the report's closing part, with what was imported with something left out.
      const changes = run.out.slice(run.out.indexOf('Imported with changes:'));
      assert.ok(
        changes.includes(`  integration SRE API: with the same API key as in Opsgenie; ${leftOut}`),
        all,
      );

      // A later run, with nothing to change, says it again.
      const again = await importInto(vigil);
      assert.ok(
        again.progress.includes(`integration SRE API: unchanged (${leftOut})`),
        again.progress.join('\n'),
      );
    }));

  it('a Vigil URL that is not one is refused with the option to fix, before anything is read', async () => {
    for (const bad of ['vigil.example.com', 'ftp://vigil.example.com', 'http://']) {
      const run = await runImport(['--api-url', opsgenie.url, '--api-key', OPSGENIE_KEY], {
        VIGIL_URL: bad,
        VIGIL_API_KEY: target.key,
      });
      assert.equal(run.code, 1);
      assert.equal(run.error?.message, `--vigil-url (or VIGIL_URL) must be an http(s) URL, not '${bad}'.`);
    }
  });

  it('a refused Opsgenie key says which key to use, and nothing is made', async () => {
    const before = (await get('/v2/users?limit=500')).length;
    const run = await runImport(['--api-url', opsgenie.url, '--api-key', 'wrong'], {
      VIGIL_URL: target.url,
      VIGIL_API_KEY: target.key,
    });
    assert.equal(run.code, 1);
    assert.ok(
      run.out.includes(
        'The import stopped: Opsgenie: the API key was refused: use an Opsgenie API key with read access (Settings > API key management).',
      ),
      run.out.join('\n'),
    );
    assert.equal((await get('/v2/users?limit=500')).length, before);
  });
});

describe('vigil import opsgenie, run again', () => {
  const SRE_API = '3d4e5f6a-7b8c-4d9e-8f0a-1b2c3d4e5f6a';
  /** Opsgenie's maintenances, in this order: all indefinite and without a description, so of one key. */
  const serveWindows = (windows: { id: string; rules: Json[] }[]) => {
    opsgenie.instead.set('/v1/maintenance', {
      data: windows.map((w) => ({ id: w.id, status: 'active', time: { type: 'indefinitely' } })),
    });
    for (const w of windows)
      opsgenie.instead.set(`/v1/maintenance/${w.id}`, {
        data: { id: w.id, status: 'active', rules: w.rules, time: { type: 'indefinitely' } },
      });
  };
  const disabling = (integration: string) => ({
    state: 'disabled',
    entity: { id: integration, type: 'integration' },
  });
  /** Vigil's maintenances not yet over: id → what each disables or enables, as `type id state`. */
  const vigilWindows = async (vigil: TestServer) => {
    const list = (await vigil.callOk('GET', '/v1/maintenance?type=non-expired')).data;
    const each = await Promise.all(
      list.map(async (m: Json) => (await vigil.callOk('GET', `/v1/maintenance/${m.id}`)).data),
    );
    return new Map<string, string[]>(
      each.map((m: Json) => [
        m.id,
        m.rules.map((r: Json) => `${r.entity.type} ${r.entity.id} ${r.state}`).sort(),
      ]),
    );
  };
  /** A run's maintenance lines, a dry run's "would be created" read as "created". */
  const maintenanceLines = (run: { progress: string[] }) =>
    outcomesOf(run.progress).filter((l) => l.startsWith('maintenance '));
  /** A run through a proxy recording what it asks of Vigil: its maintenance lines, and maintenance writes. */
  const runRecordingMaintenance = async (vigil: TestServer) => {
    const proxy = await recordingProxy(vigil);
    try {
      const run = await runImport(['--api-url', opsgenie.url, '--api-key', OPSGENIE_KEY], {
        VIGIL_URL: proxy.url,
        VIGIL_API_KEY: vigil.key,
      });
      assert.equal(run.code, 0, [...run.progress, ...run.out].join('\n'));
      return {
        lines: maintenanceLines(run),
        writes: proxy.requests
          .filter((r) => r.method !== 'GET' && r.path.startsWith('/v1/maintenance'))
          .map((r) => `${r.method} ${r.path}`),
      };
    } finally {
      await proxy.close();
    }
  };

  it('two maintenances alike but for their rules each keep their own, run after run', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      const windows = [
        { id: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', integration: SRE_API },
        { id: '2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a', integration: MAIL_ALERTS },
      ];
      // Opsgenie's description is optional: two indefinite windows without one have the same key.
      serveWindows(windows.map((w) => ({ id: w.id, rules: [disabling(w.integration)] })));
      const first = await importInto(vigil);
      assert.equal(first.code, 0, [...first.progress, ...first.out].join('\n'));
      const integrations = (await vigil.callOk('GET', '/v2/integrations')).data;
      const idOf = (name: string) => integrations.find((i: Json) => i.name === name)?.id;
      /** What each of Vigil's maintenances disables. */
      const disabled = async () => {
        const list = (await vigil.callOk('GET', '/v1/maintenance?type=non-expired')).data;
        const each = await Promise.all(
          list.map(async (m: Json) => (await vigil.callOk('GET', `/v1/maintenance/${m.id}`)).data),
        );
        return each.map((m: Json) => m.rules.map((r: Json) => r.entity.id)).sort();
      };
      const expected = [[idOf('SRE API')], [idOf('Mail Alerts')]].sort();
      assert.deepEqual(await disabled(), expected);

      for (const run of ['second', 'third']) {
        const again = await importInto(vigil);
        assert.deepEqual(
          again.progress.filter((l) => l.startsWith('maintenance ')),
          windows.map((w) => `maintenance "" (${w.id}): unchanged`),
          `${run} run:\n${again.progress.join('\n')}`,
        );
        assert.deepEqual(await disabled(), expected, `${run} run: each integration still in its own`);
      }
    }));

  it('a new maintenance alike an imported one and listed first is made, never taking the imported one’s', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      const OLD = { id: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', rules: [disabling(SRE_API)] };
      const NEW = { id: '3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a6b', rules: [disabling(MAIL_ALERTS)] };
      serveWindows([OLD]);
      const first = await importInto(vigil);
      assert.equal(first.code, 0, [...first.progress, ...first.out].join('\n'));
      const before = await vigilWindows(vigil);
      assert.equal(before.size, 1);

      serveWindows([NEW, OLD]);
      const expected = [`maintenance "" (${NEW.id}): created`, `maintenance "" (${OLD.id}): unchanged`];
      const dry = await importInto(vigil, '--dry-run');
      assert.deepEqual(maintenanceLines(dry), expected, dry.progress.join('\n'));
      const second = await runRecordingMaintenance(vigil);
      assert.deepEqual(second.lines, expected);
      // The old one's integration stays in maintenance throughout: its maintenance is not written to.
      assert.deepEqual(second.writes, ['POST /v1/maintenance']);
      const after = await vigilWindows(vigil);
      const mailAlerts = (await vigil.callOk('GET', '/v2/integrations')).data.find(
        (i: Json) => i.name === 'Mail Alerts',
      );
      assert.deepEqual(
        [...after.values()].sort(),
        [...before.values(), [`integration ${mailAlerts.id} disabled`]].sort(),
      );
      for (const [id, rules] of before) assert.deepEqual(after.get(id), rules, 'the old one keeps its id');
    }));

  it('a new maintenance alike one that could not be read this run takes nothing, and waits for a run that reads both', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      const OLD = { id: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', rules: [disabling(SRE_API)] };
      const NEW = { id: '3e4f5a6b-7c8d-4e9f-8a0b-1c2d3e4f5a6b', rules: [disabling(MAIL_ALERTS)] };
      serveWindows([OLD]);
      const first = await importInto(vigil);
      assert.equal(first.code, 0, [...first.progress, ...first.out].join('\n'));
      const before = await vigilWindows(vigil);

      serveWindows([NEW, OLD]);
      opsgenie.failing.add(`/v1/maintenance/${OLD.id}`);
      const second = await importInto(vigil);
      assert.equal(second.code, 1, 'the window not read fails the run');
      const lines = second.progress.filter((l) => l.startsWith('maintenance '));
      assert.ok(
        lines.some(
          (l) => l.startsWith(`maintenance "" (${NEW.id}): skipped`) && l.includes('run the import again'),
        ),
        lines.join('\n'),
      );
      // The old one's maintenance was not handed to the new one: its integration stays in maintenance.
      assert.deepEqual(await vigilWindows(vigil), before);

      opsgenie.failing.clear();
      const third = await importInto(vigil);
      assert.deepEqual(
        maintenanceLines(third),
        [`maintenance "" (${NEW.id}): created`, `maintenance "" (${OLD.id}): unchanged`],
        third.progress.join('\n'),
      );
    }));

  it('of two maintenances alike, the one whose rules changed is updated and the other left as it is', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      const NIGHT_SHIFT = 'ac3f5e4a-7d6f-4a8b-9c2d-3e4f5a6b7c8d';
      const changing = { id: '1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f', rules: [disabling(SRE_API)] };
      const same = { id: '2d3e4f5a-6b7c-4d8e-9f0a-1b2c3d4e5f6a', rules: [disabling(MAIL_ALERTS)] };
      serveWindows([changing, same]);
      const first = await importInto(vigil);
      assert.equal(first.code, 0, [...first.progress, ...first.out].join('\n'));
      const before = await vigilWindows(vigil);

      // The changed one listed first, the other's maintenance first in Vigil's list (the newest).
      serveWindows([
        {
          ...changing,
          rules: [...changing.rules, { state: 'enabled', entity: { id: NIGHT_SHIFT, type: 'policy' } }],
        },
        same,
      ]);
      const expected = [`maintenance "" (${changing.id}): updated`, `maintenance "" (${same.id}): unchanged`];
      const dry = await importInto(vigil, '--dry-run');
      assert.deepEqual(maintenanceLines(dry), expected, dry.progress.join('\n'));
      const second = await runRecordingMaintenance(vigil);
      assert.deepEqual(second.lines, expected);
      const integrations = (await vigil.callOk('GET', '/v2/integrations')).data;
      const disables = (name: string) =>
        `integration ${integrations.find((i: Json) => i.name === name).id} disabled`;
      const idWith = (rules: string[]) => [...before].find(([, r]) => r.join() === rules.join())?.[0];
      const changedId = idWith([disables('SRE API')]);
      const sameId = idWith([disables('Mail Alerts')]);
      assert.deepEqual(second.writes, [`PATCH /v1/maintenance/${changedId}`]);
      const nightShift = (await vigil.callOk('GET', '/v2/policies/alert')).data.find(
        (p: Json) => p.name === 'Night shift',
      );
      const after = await vigilWindows(vigil);
      assert.deepEqual(
        after.get(changedId ?? ''),
        [disables('SRE API'), `policy ${nightShift.id} enabled`].sort(),
      );
      assert.deepEqual(
        after.get(sameId ?? ''),
        [disables('Mail Alerts')],
        'the unchanged one keeps its rules',
      );
    }));

  it('a run stopped before a new user’s rules leaves Vigil’s default for the next to delete, never a person’s own', () =>
    inFreshVigil(opsgenie, async (vigil) => {
      const JOHN = 'b5b92115-bfe7-43eb-8c2a-e467f2e5ddc4';
      const jane = '/v2/users/jane.doe@opsgenie.example';
      const john = '/v2/users/john.doe@opsgenie.example';
      const createAlertNames = async (user: string) =>
        (await vigil.callOk('GET', `${user}/notification-rules`)).data
          .filter((r: Json) => r.actionType === 'create-alert')
          .map((r: Json) => r.name);
      // John was in Vigil before, his "New alert" changed by him (a minute's wait); Opsgenie has a rule of
      // his too.
      await vigil.callOk('POST', '/v2/users', {
        username: 'john.doe@opsgenie.example',
        fullName: 'john doe',
        role: { name: 'user' },
      });
      const [johnsOwn] = (await vigil.callOk('GET', `${john}/notification-rules`)).data;
      await vigil.callOk('PATCH', `${john}/notification-rules/${johnsOwn.id}`, {
        steps: [
          {
            contact: { method: 'email', to: 'john.doe@opsgenie.example' },
            sendAfter: { timeAmount: 1, timeUnit: 'minutes' },
          },
        ],
      });
      const johnsRule = '4f5a6b7c-8d9e-4f0a-9b1c-2d3e4f5a6b7c';
      opsgenie.instead.set(`/v2/users/${JOHN}/notification-rules`, {
        data: [{ id: johnsRule, name: 'Everything', actionType: 'create-alert', order: 0, enabled: true }],
      });
      opsgenie.instead.set(`/v2/users/${JOHN}/notification-rules/${johnsRule}`, {
        data: {
          id: johnsRule,
          name: 'Everything',
          actionType: 'create-alert',
          order: 0,
          criteria: { type: 'match-all' },
          steps: [
            {
              sendAfter: { timeAmount: 0, timeUnit: 'minutes' },
              contact: { method: 'email', to: 'john.doe@opsgenie.example' },
              enabled: true,
            },
          ],
          enabled: true,
        },
      });
      // The first run makes Jane, then cannot read her rules.
      opsgenie.failing.add(`/v2/users/${JANE}/notification-rules`);
      const first = await importInto(vigil);
      assert.equal(first.code, 1, [...first.progress, ...first.out].join('\n'));
      assert.ok(
        first.progress.some((l) =>
          l.startsWith(
            'notification rule (notification rules of jane.doe@opsgenie.example): failed: could not read them',
          ),
        ),
        first.progress.join('\n'),
      );
      assert.deepEqual(await createAlertNames(jane), ['New alert']);

      opsgenie.failing.clear();
      const second = await importInto(vigil);
      const all = [...second.progress, ...second.out].join('\n');
      assert.equal(second.code, 0, all);
      // Vigil's default, untouched, would email her for every alert her Opsgenie rules do not match.
      assert.ok(
        second.progress.includes(
          `notification rule "New alert" of jane.doe@opsgenie.example: deleted (Vigil's default for a new user, which Opsgenie does not have: their Opsgenie rules alone page them)`,
        ),
        all,
      );
      assert.deepEqual(await createAlertNames(jane), ['New Alert Rule', 'Working hours']);
      // John's "New alert" is his own: it stays, after Opsgenie's rule.
      assert.ok(!second.progress.some((l) => l.includes(`"New alert" of john.doe@opsgenie.example`)), all);
      assert.deepEqual(await createAlertNames(john), ['Everything', 'New alert']);

      const third = await importInto(vigil);
      assert.deepEqual(
        third.progress.filter((l) => l.startsWith('notification rule ') && !/: (unchanged|skipped)/.test(l)),
        [],
        third.progress.join('\n'),
      );
      assert.deepEqual(await createAlertNames(jane), ['New Alert Rule', 'Working hours']);
      assert.deepEqual(await createAlertNames(john), ['Everything', 'New alert']);
    }));
});
