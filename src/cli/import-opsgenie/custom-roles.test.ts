import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { createAlert, startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import { OPSGENIE_KEY, startFakeOpsgenie, type FakeOpsgenie } from './fake-opsgenie.js';
import { emptyOpsgenie, runImport } from './test-cli.js';

/**
 * A custom user role carrying Opsgenie's newer rights (those Terraform's provider accepts: see-alerts,
 * alert-update-message, incidents-access-all, postmortem-*, ...) is imported as it is, and its holders
 * hold it: they are not made plain users, who would have more power than the role gave them. What Vigil
 * enforces of it holds for them (a message change the role disallows is refused).
 */

let opsgenie: FakeOpsgenie;
let vigil: TestServer;

before(async () => {
  [opsgenie, vigil] = await Promise.all([startFakeOpsgenie(), startTestServer()]);
});

after(async () => {
  await Promise.all([opsgenie?.close(), vigil?.stop()]);
});

const HOLDER = 'rita.responder@opsgenie.example';

const RESTRICTED = {
  id: '0f0f0f0f-0000-4000-8000-000000000001',
  name: 'Restricted Responder',
  extendedRole: 'user',
  grantedRights: ['see-alerts', 'incidents-access-all', 'postmortem-access-published', 'alert-add-responder'],
  disallowedRights: [
    'alert-update-message',
    'alert-update-description',
    'alert-delete-note',
    'alert-update-note',
    'manage-roles',
    'incident-close',
    'incident-delete',
    'postmortem-create',
    'postmortem-delete',
  ],
};

/** An Opsgenie account of this one role and its holder: everything else it has is empty. */
function account(): void {
  emptyOpsgenie(opsgenie, {
    '/v2/roles': { data: [RESTRICTED] },
    '/v2/users': {
      data: [
        {
          id: '00000000-0000-4000-8000-000000000777',
          username: HOLDER,
          fullName: 'Rita Responder',
          role: { id: RESTRICTED.id, name: RESTRICTED.name },
          blocked: false,
          timeZone: 'Europe/London',
          locale: 'en_GB',
        },
      ],
      totalCount: 1,
    },
  });
}

const importOnce = (...extra: string[]) =>
  runImport(['--api-url', opsgenie.url, '--api-key', OPSGENIE_KEY, ...extra], {
    VIGIL_URL: vigil.url,
    VIGIL_API_KEY: vigil.key,
  });

describe('vigil import opsgenie: custom roles with the provider’s newer rights', () => {
  it('imports the role, gives it to its holder, and its disallowed message change is refused', async () => {
    account();
    const run = await importOnce();
    const all = [...run.progress, ...run.out].join('\n');
    assert.equal(run.code, 0, all);
    assert.ok(run.progress.includes(`custom user role ${RESTRICTED.name}: created`), all);
    assert.ok(run.progress.includes(`user ${HOLDER}: created`), all);

    const roles = (await vigil.callOk('GET', '/v2/roles')).data as Json[];
    const role = roles.find((r) => r.name === RESTRICTED.name);
    assert.ok(role, all);
    assert.deepEqual(
      [role.extendedRole, [...role.grantedRights].sort(), [...role.disallowedRights].sort()],
      ['user', [...RESTRICTED.grantedRights].sort(), [...RESTRICTED.disallowedRights].sort()],
    );
    const holder = (await vigil.callOk('GET', `/v2/users/${HOLDER}`)).data;
    assert.deepEqual(holder.role, { id: role.id, name: RESTRICTED.name });

    // The holder's key: the role Vigil gave them holds.
    const key = (await vigil.callOk('POST', '/v2/api-keys', { name: 'rita', user: { username: HOLDER } }))
      .data.key as string;
    const alertId = await createAlert(vigil, {
      message: 'imported role',
      visibleTo: [{ type: 'user', id: holder.id }],
    });
    const refused = await vigil.call('PUT', `/v2/alerts/${alertId}/message`, { message: 'renamed' }, key);
    assert.equal(refused.status, 403, JSON.stringify(refused.body));
    assert.match(refused.body.message, /alert-update-message/);

    // A second run finds it as it is.
    const again = await importOnce();
    const againAll = [...again.progress, ...again.out].join('\n');
    assert.equal(again.code, 0, againAll);
    assert.ok(again.progress.includes(`custom user role ${RESTRICTED.name}: unchanged`), againAll);
  });
});

describe('vigil import opsgenie: custom roles matched by name in any case', () => {
  it('updates the role Vigil has under the name in another case, and its holder holds it', async () => {
    // "Straße" and "STRASSE" are one name to Vigil (full case folding): a POST would be refused as taken.
    const opsgenieRole = {
      ...RESTRICTED,
      id: '0f0f0f0f-0000-4000-8000-000000000002',
      name: 'Straße Responder',
    };
    const made = await vigil.callOk('POST', '/v2/roles', {
      name: 'STRASSE RESPONDER',
      extendedRole: 'user',
      grantedRights: ['see-alerts'],
      disallowedRights: [],
    });
    const holderName = 'sam.strasse@opsgenie.example';
    emptyOpsgenie(opsgenie, {
      '/v2/roles': { data: [opsgenieRole] },
      '/v2/users': {
        data: [
          {
            id: '00000000-0000-4000-8000-000000000778',
            username: holderName,
            fullName: 'Sam Strasse',
            role: { id: opsgenieRole.id, name: 'straße responder' },
            blocked: false,
            timeZone: 'Europe/Berlin',
            locale: 'de_DE',
          },
        ],
        totalCount: 1,
      },
    });
    const run = await importOnce();
    const all = [...run.progress, ...run.out].join('\n');
    assert.equal(run.code, 0, all);
    assert.ok(run.progress.includes(`custom user role ${opsgenieRole.name}: updated`), all);

    const roles = (await vigil.callOk('GET', '/v2/roles')).data as Json[];
    const same = roles.filter((r) => /stra(ss|ß)e responder/i.test(String(r.name)));
    assert.deepEqual(
      same.map((r) => [r.id, r.name]),
      [[made.data.id, opsgenieRole.name]],
    );
    assert.deepEqual([...same[0].grantedRights].sort(), [...opsgenieRole.grantedRights].sort());
    const holder = (await vigil.callOk('GET', `/v2/users/${holderName}`)).data;
    assert.deepEqual(holder.role, { id: made.data.id, name: opsgenieRole.name });
  });
});
