import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import { OPSGENIE_KEY, startFakeOpsgenie, type FakeOpsgenie } from './fake-opsgenie.js';
import { emptyOpsgenie, runImport } from './test-cli.js';

/**
 * The users an import finds in Vigil already: it runs with a Vigil admin's API key, and Opsgenie may have
 * that admin (or another) as a mere User, or blocked. Lowering the key's own user would take the rights
 * the rest of the run needs (each user after them a 403 "Only organization admins can add users"), and
 * lowering any admin or owner is a decision for the operator: the import keeps their role, says so on
 * their line and under the next steps, in a dry run as in the run.
 */

let opsgenie: FakeOpsgenie;
let vigil: TestServer;

before(async () => {
  [opsgenie, vigil] = await Promise.all([startFakeOpsgenie(), startTestServer()]);
});

after(async () => {
  await Promise.all([opsgenie?.close(), vigil?.stop()]);
});

const ADA = 'ada.admin@opsgenie.example';
const BOB = 'bob.admin@opsgenie.example';
const CARL = 'carl.user@opsgenie.example';
const NEW1 = 'nina.new@opsgenie.example';
const NEW2 = 'ned.new@opsgenie.example';

function opsgenieUser(id: number, username: string, role: string, blocked = false): Json {
  return {
    id: `00000000-0000-4000-8000-${String(id).padStart(12, '0')}`,
    username,
    fullName: username.split('@')[0],
    role: { id: role, name: role },
    blocked,
    timeZone: 'Europe/London',
    locale: 'en_GB',
  };
}

/** An Opsgenie account of only these users: everything else it has is empty. */
function onlyUsers(users: Json[]): void {
  emptyOpsgenie(opsgenie, { '/v2/users': { data: users, totalCount: users.length } });
}

const importWith = (key: string, ...extra: string[]) =>
  runImport(['--api-url', opsgenie.url, '--api-key', OPSGENIE_KEY, ...extra], {
    VIGIL_URL: vigil.url,
    VIGIL_API_KEY: key,
  });

async function makeUser(username: string, role: string): Promise<void> {
  await vigil.callOk('POST', '/v2/users', {
    username,
    fullName: username.split('@')[0],
    role: { name: role },
    timeZone: 'Europe/London',
    locale: 'en_GB',
  });
}

/** An API key of `username`, made by the bootstrap owner. */
async function keyOf(username: string): Promise<string> {
  const made = await vigil.callOk('POST', '/v2/api-keys', {
    name: `import as ${username}`,
    user: { username },
  });
  return made.data.key as string;
}

const roleOf = async (username: string): Promise<string> =>
  (await vigil.callOk('GET', `/v2/users/${username}`)).data.role.name as string;

const userLines = (progress: string[]) =>
  progress.filter((l) => l.startsWith('user ')).map((l) => l.replace(': would be ', ': '));

describe('vigil import opsgenie: users Vigil has as admins', () => {
  it('never lowers the key’s own user, nor another admin, and says so in the dry run and the run', async () => {
    await makeUser(ADA, 'admin');
    await makeUser(BOB, 'admin');
    await makeUser(CARL, 'user');
    const adaKey = await keyOf(ADA);
    onlyUsers([
      opsgenieUser(1, ADA, 'User'),
      opsgenieUser(2, BOB, 'User'),
      opsgenieUser(3, CARL, 'Admin'),
      opsgenieUser(4, NEW1, 'User'),
      opsgenieUser(5, NEW2, 'User'),
    ]);
    const expected = [
      `user ${ADA}: unchanged (role not lowered: Vigil has them as admin, Opsgenie as User, and the import runs with their API key)`,
      `user ${BOB}: unchanged (role not lowered: Vigil has them as admin, Opsgenie as User; the import never lowers an admin's or owner's role)`,
      `user ${CARL}: updated (role)`,
      `user ${NEW1}: created`,
      `user ${NEW2}: created`,
    ];

    const dry = await importWith(adaKey, '--dry-run');
    const dryAll = [...dry.progress, ...dry.out].join('\n');
    assert.equal(dry.code, 0, dryAll);
    assert.deepEqual(userLines(dry.progress), expected, dryAll);
    const nextSteps = (out: string[]) => out.slice(out.indexOf('Next steps:'));
    for (const who of [ADA, BOB])
      assert.ok(
        nextSteps(dry.out).some((l) => l.includes(`Lower ${who}'s role in Vigil from admin to User`)),
        dryAll,
      );

    const run = await importWith(adaKey);
    const all = [...run.progress, ...run.out].join('\n');
    assert.equal(run.code, 0, all);
    assert.deepEqual(userLines(run.progress), expected, all);
    assert.ok(
      nextSteps(run.out).some((l) => l.includes(`Lower ${ADA}'s role in Vigil from admin to User`)),
      all,
    );
    assert.deepEqual(
      [await roleOf(ADA), await roleOf(BOB), await roleOf(CARL), await roleOf(NEW1), await roleOf(NEW2)],
      ['Admin', 'Admin', 'Admin', 'User', 'User'],
    );
    // Ada's key still acts as an admin.
    await vigil.callOk(
      'POST',
      '/v2/users',
      { username: 'x@opsgenie.example', fullName: 'x', role: { name: 'user' } },
      adaKey,
    );
  });

  it('never blocks the key’s own user, while another blocked in Opsgenie is blocked', async () => {
    const EVE = 'eve.admin@opsgenie.example';
    const FAY = 'fay.admin@opsgenie.example';
    await makeUser(EVE, 'admin');
    await makeUser(FAY, 'admin');
    const eveKey = await keyOf(EVE);
    const NEW3 = 'nora.new@opsgenie.example';
    onlyUsers([
      opsgenieUser(11, EVE, 'Admin', true),
      opsgenieUser(12, FAY, 'Admin', true),
      opsgenieUser(13, NEW3, 'User'),
    ]);
    const expected = [
      `user ${EVE}: unchanged (not blocked as in Opsgenie: the import runs with their API key)`,
      `user ${FAY}: updated (blocked)`,
      `user ${NEW3}: created`,
    ];
    const dry = await importWith(eveKey, '--dry-run');
    assert.deepEqual(userLines(dry.progress), expected, [...dry.progress, ...dry.out].join('\n'));

    const run = await importWith(eveKey);
    const all = [...run.progress, ...run.out].join('\n');
    assert.equal(run.code, 0, all);
    assert.deepEqual(userLines(run.progress), expected, all);
    assert.ok(
      run.out.slice(run.out.indexOf('Next steps:')).some((l) => l.includes(`Block ${EVE} in Vigil`)),
      all,
    );
    const blocked = async (u: string) =>
      (await vigil.callOk('GET', `/v2/users/${u}`)).data.blocked as boolean;
    assert.deepEqual([await blocked(EVE), await blocked(FAY), await blocked(NEW3)], [false, true, false]);
  });
});
