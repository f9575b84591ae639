import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { startTestServer, type Json, type TestServer } from '../../testing/harness.js';
import { whenWaitedFor } from '../../testing/lock-waits.js';
import { escalationsRepository } from './repository.js';

let server: TestServer;
let orgId: string;
let teamId: string;
let scheduleId: string;
let aliceKey: string;
let bobKey: string;

async function keyFor(username: string): Promise<string> {
  const res = await server.call('POST', '/v2/api-keys', { name: `${username} key`, user: { username } });
  assert.equal(res.status, 201, JSON.stringify(res.body));
  return res.body.data.key;
}

function rule(overrides: Json = {}): Json {
  return {
    condition: 'if-not-acked',
    notifyType: 'default',
    delay: { timeAmount: 0 },
    recipient: { type: 'user', username: 'alice@example.com' },
    ...overrides,
  };
}

async function create(body: Json, key?: string) {
  return server.call('POST', '/v2/escalations', body, key);
}

/** The field a 422 names, asserting it is one. */
async function rejectedField(body: Json): Promise<string[]> {
  const res = await create(body);
  assert.equal(res.status, 422, JSON.stringify(res.body));
  return Object.keys(res.body.errors ?? {});
}

/**
 * Deletes the row `id` of `table` as a concurrent deletion would, while `request` runs: another
 * transaction locks the row first (deleteSchedule does so), waits inside PostgreSQL until the request waits
 * for that row, then deletes it and commits. Gives the request's answer. A request that never waits for
 * the row (one that does not lock what it names) fails the test after 10 seconds.
 */
async function deletedWhile<T>(
  table: 'schedules' | 'teams' | 'users',
  id: string,
  request: () => Promise<T>,
): Promise<T> {
  const other = new pg.Client({ connectionString: server.databaseUrl });
  await other.connect();
  try {
    await other.query('BEGIN');
    await other.query(`SET LOCAL lock_timeout = '30s'`);
    await other.query(`SELECT 1 FROM ${table} WHERE id = $1 FOR UPDATE`, [id]);
    const answer = request();
    await whenWaitedFor(other, { never: `the request never waited for the ${table} row`, seconds: 10 });
    await other.query(`DELETE FROM ${table} WHERE id = $1`, [id]);
    await other.query('COMMIT');
    return await answer;
  } finally {
    await other.end();
  }
}

before(async () => {
  server = await startTestServer();
  orgId = (await server.call('GET', '/v2/organization')).body.data.id;
  for (const username of ['alice@example.com', 'bob@example.com', 'carol@example.com']) {
    const res = await server.call('POST', '/v2/users', {
      username,
      fullName: username,
      role: { name: 'User' },
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  const team = await server.call('POST', '/v2/teams', {
    name: 'SecOps',
    members: [
      { user: { username: 'alice@example.com' }, role: 'admin' },
      { user: { username: 'bob@example.com' }, role: 'user' },
    ],
  });
  assert.equal(team.status, 201, JSON.stringify(team.body));
  teamId = team.body.data.id;
  const schedule = await server.app.context.db
    .insertInto('schedules')
    .values({ org_id: orgId, name: 'Primary', timezone: 'Europe/Berlin' })
    .returning('id')
    .executeTakeFirstOrThrow();
  scheduleId = schedule.id;
  aliceKey = await keyFor('alice@example.com');
  bobKey = await keyFor('bob@example.com');
});

after(async () => {
  await server.stop();
});

describe('escalation policies (/v2/escalations)', () => {
  it('creates a policy in Opsgenie shapes and stores delays in minutes', async () => {
    const created = await create({
      name: 'SecOps escalation',
      description: 'Pages the on-call, then the team admins',
      ownerTeam: { name: 'SecOps' },
      rules: [
        rule(),
        rule({
          notifyType: 'next',
          delay: { timeAmount: 5, timeUnit: 'minutes' },
          recipient: { type: 'schedule', name: 'primary' },
        }),
        rule({
          condition: 'if-not-closed',
          notifyType: 'admins',
          delay: { timeAmount: 1, timeUnit: 'hours' },
          recipient: { type: 'team', id: teamId },
        }),
      ],
      repeat: { waitInterval: 10, count: 2, closeAlertAfterAll: true },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.body.result, 'Created');
    assert.equal(created.body.data.name, 'SecOps escalation');
    const id = created.body.data.id;

    const got = await server.call('GET', `/v2/escalations/${id}`);
    assert.equal(got.status, 200);
    const alice = (await server.call('GET', '/v2/users/alice@example.com')).body.data.id;
    assert.deepEqual(got.body.data, {
      id,
      name: 'SecOps escalation',
      description: 'Pages the on-call, then the team admins',
      ownerTeam: { id: teamId, name: 'SecOps' },
      rules: [
        {
          condition: 'if-not-acked',
          notifyType: 'default',
          delay: { timeAmount: 0, timeUnit: 'minutes' },
          recipient: { type: 'user', id: alice, username: 'alice@example.com' },
        },
        {
          condition: 'if-not-acked',
          notifyType: 'next',
          delay: { timeAmount: 5, timeUnit: 'minutes' },
          recipient: { type: 'schedule', id: scheduleId, name: 'Primary' },
        },
        {
          condition: 'if-not-closed',
          notifyType: 'admins',
          delay: { timeAmount: 60, timeUnit: 'minutes' },
          recipient: { type: 'team', id: teamId, name: 'SecOps' },
        },
      ],
      repeat: { waitInterval: 10, count: 2, resetRecipientStates: false, closeAlertAfterAll: true },
    });

    const stored = await server.app.context.db
      .selectFrom('escalations')
      .select(['rules', 'repeat'])
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    assert.deepEqual(
      stored.rules.map((r) => r.delayMinutes),
      [0, 5, 60],
    );
    assert.deepEqual(stored.rules[2]?.recipient, { type: 'team', id: teamId });
    assert.equal(stored.repeat?.waitIntervalMinutes, 10);

    const users = await escalationsRepository.usingRecipient(server.app.context.db, orgId, {
      type: 'schedule',
      id: scheduleId,
    });
    assert.deepEqual(
      users.map((e) => e.name),
      ['SecOps escalation'],
    );

    const byName = await server.call('GET', '/v2/escalations/secops%20escalation?identifierType=name');
    assert.equal(byName.body.data.id, id);
    const list = await server.call('GET', '/v2/escalations');
    assert.ok(list.body.data.some((e: Json) => e.id === id && e.rules.length === 3));
  });

  it('updates a policy: rules replace the old ones, repeat null removes the repeat', async () => {
    const created = await create({
      name: 'To update',
      rules: [rule()],
      repeat: { waitInterval: 5, count: 1, resetRecipientStates: true },
    });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const id = created.body.data.id;
    const before = await server.call('GET', `/v2/escalations/${id}`);
    assert.equal(before.body.data.repeat.resetRecipientStates, true);
    assert.equal(before.body.data.ownerTeam, undefined);

    const patched = await server.call('PATCH', `/v2/escalations/${id}`, {
      name: 'Updated',
      ownerTeam: { id: teamId },
      rules: [rule({ delay: { timeAmount: 2, timeUnit: 'days' } })],
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    assert.deepEqual(patched.body.data, { id, name: 'Updated' });
    const after1 = (await server.call('GET', `/v2/escalations/Updated?identifierType=name`)).body.data;
    assert.equal(after1.rules.length, 1);
    assert.deepEqual(after1.rules[0].delay, { timeAmount: 2880, timeUnit: 'minutes' });
    assert.equal(after1.ownerTeam.name, 'SecOps');
    assert.equal(after1.repeat.count, 1, 'a PATCH without repeat keeps it');

    await server.call('PATCH', `/v2/escalations/${id}`, { repeat: null, ownerTeam: null });
    const after2 = (await server.call('GET', `/v2/escalations/${id}`)).body.data;
    assert.equal(after2.repeat, undefined);
    assert.equal(after2.ownerTeam, undefined);

    const dup = await create({ name: 'UPDATED', rules: [rule()] });
    assert.equal(dup.status, 409);
    assert.equal(
      (await server.call('PATCH', `/v2/escalations/${id}`, { name: 'SecOps escalation' })).status,
      409,
    );
  });

  it('names the field at fault in every validation error', async () => {
    assert.deepEqual(await rejectedField({ name: 'x', rules: [] }), ['rules']);
    assert.deepEqual(await rejectedField({ name: 'x', rules: Array.from({ length: 21 }, () => rule()) }), [
      'rules',
    ]);
    assert.deepEqual(await rejectedField({ name: 'x', rules: [rule({ notifyType: 'next' })] }), [
      'rules[0].notifyType',
    ]);
    assert.deepEqual(
      await rejectedField({
        name: 'x',
        rules: [rule(), rule({ notifyType: 'all', recipient: { type: 'schedule', id: scheduleId } })],
      }),
      ['rules[1].notifyType'],
    );
    assert.deepEqual(
      await rejectedField({
        name: 'x',
        rules: [rule({ notifyType: 'previous', recipient: { type: 'team', name: 'SecOps' } })],
      }),
      ['rules[0].notifyType'],
    );
    assert.deepEqual(
      await rejectedField({ name: 'x', rules: [rule({ delay: { timeAmount: 8, timeUnit: 'days' } })] }),
      ['rules[0].delay'],
    );
    assert.deepEqual(
      await rejectedField({
        name: 'x',
        rules: [rule({ delay: { timeAmount: 10 } }), rule({ delay: { timeAmount: 5 } })],
      }),
      ['rules[1].delay'],
    );
    assert.deepEqual(await rejectedField({ name: 'x', rules: [rule({ delay: { timeAmount: -1 } })] }), [
      'rules[0].delay.timeAmount',
    ]);
    assert.deepEqual(
      await rejectedField({ name: 'x', rules: [rule()], repeat: { waitInterval: 0, count: 21 } }),
      ['repeat.count'],
    );
    assert.deepEqual(
      await rejectedField({ name: 'x', rules: [rule()], repeat: { waitInterval: 1441, count: 1 } }),
      ['repeat.waitInterval'],
    );
    assert.deepEqual(
      await rejectedField({
        name: 'x',
        rules: [rule({ recipient: { type: 'user', username: 'nobody@example.com' } })],
      }),
      ['rules[0].recipient'],
    );
    assert.deepEqual(
      await rejectedField({
        name: 'x',
        rules: [rule(), rule({ recipient: { type: 'schedule', name: 'Nope' } })],
      }),
      ['rules[1].recipient'],
    );
    assert.deepEqual(
      await rejectedField({ name: 'x', rules: [rule({ recipient: { type: 'team', id: 'not-a-uuid' } })] }),
      ['rules[0].recipient'],
    );
    assert.deepEqual(await rejectedField({ name: 'x', rules: [rule({ recipient: { type: 'team' } })] }), [
      'rules[0].recipient',
    ]);
    assert.deepEqual(await rejectedField({ name: 'x', rules: [rule({ condition: 'if-not-seen' })] }), [
      'rules[0].condition',
    ]);
    assert.deepEqual(await rejectedField({ name: 'x', ownerTeam: { name: 'Nope' }, rules: [rule()] }), [
      'ownerTeam',
    ]);

    // The limits themselves are fine: a week's delay, equal delays, 20 repeats of a day's wait.
    const edge = await create({
      name: 'Edges',
      rules: [rule({ delay: { timeAmount: 10080 } }), rule({ delay: { timeAmount: 7, timeUnit: 'days' } })],
      repeat: { waitInterval: 1440, count: 20 },
    });
    assert.equal(edge.status, 201, JSON.stringify(edge.body));
    const list = await server.call('GET', '/v2/escalations');
    assert.ok(!list.body.data.some((e: Json) => e.name === 'x'), 'nothing invalid was stored');
  });

  it('lets org admins and the owner team’s admins change policies; anyone may read them', async () => {
    assert.equal((await create({ name: 'By Bob', rules: [rule()] }, bobKey)).status, 403);
    assert.equal(
      (await create({ name: 'By Bob', ownerTeam: { name: 'SecOps' }, rules: [rule()] }, bobKey)).status,
      403,
    );
    assert.equal((await create({ name: 'By Alice', rules: [rule()] }, aliceKey)).status, 403);
    const mine = await create({ name: 'By Alice', ownerTeam: { name: 'SecOps' }, rules: [rule()] }, aliceKey);
    assert.equal(mine.status, 201, JSON.stringify(mine.body));
    const id = mine.body.data.id;
    assert.equal(
      (await server.call('PATCH', `/v2/escalations/${id}`, { description: 'mine' }, aliceKey)).status,
      200,
    );
    assert.equal(
      (await server.call('PATCH', `/v2/escalations/${id}`, { ownerTeam: null }, aliceKey)).status,
      403,
    );
    assert.equal(
      (await server.call('PATCH', `/v2/escalations/${id}`, { description: 'his' }, bobKey)).status,
      403,
    );
    const orgLevel = await create({ name: 'Org level', rules: [rule()] });
    assert.equal(
      (await server.call('PATCH', `/v2/escalations/${orgLevel.body.data.id}`, { name: 'Mine' }, aliceKey))
        .status,
      403,
    );
    assert.equal(
      (await server.call('DELETE', `/v2/escalations/${orgLevel.body.data.id}`, undefined, aliceKey)).status,
      403,
    );
    assert.equal((await server.call('GET', '/v2/escalations', undefined, bobKey)).status, 200);
    assert.equal(
      (await server.call('GET', `/v2/escalations/${id}`, undefined, bobKey)).body.data.description,
      'mine',
    );
    assert.equal((await server.call('DELETE', `/v2/escalations/${id}`, undefined, aliceKey)).status, 200);
  });

  it('refuses to delete a policy a routing rule uses, naming the team and the rule', async () => {
    const created = await create({ name: 'In use', rules: [rule()] });
    const id = created.body.data.id;
    const routed = await server.call('POST', '/v2/teams/SecOps/routing-rules?teamIdentifierType=name', {
      name: 'Critical findings',
      criteria: {
        type: 'match-all-conditions',
        conditions: [{ field: 'priority', operation: 'equals', expectedValue: 'P1' }],
      },
      notify: { type: 'escalation', name: 'In use' },
    });
    assert.equal(routed.status, 201, JSON.stringify(routed.body));

    const refused = await server.call('DELETE', `/v2/escalations/${id}`);
    assert.equal(refused.status, 409);
    assert.match(refused.body.message, /In use/);
    assert.match(refused.body.message, /Critical findings/);
    assert.match(refused.body.message, /SecOps/);

    await server.call('DELETE', `/v2/teams/${teamId}/routing-rules/${routed.body.data.id}`);
    const asDefault = await server.call('PUT', `/v2/teams/${teamId}/routing-rules/default`, {
      notify: { type: 'escalation', id },
    });
    assert.equal(asDefault.status, 200, JSON.stringify(asDefault.body));
    const refusedAgain = await server.call('DELETE', `/v2/escalations/In%20use?identifierType=name`);
    assert.equal(refusedAgain.status, 409);
    assert.match(refusedAgain.body.message, /default rule of team \[SecOps\]/);

    await server.call('PUT', `/v2/teams/${teamId}/routing-rules/default`, { notify: { type: 'none' } });
    const deleted = await server.call('DELETE', `/v2/escalations/${id}`);
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.equal(deleted.body.result, 'Deleted');
    assert.equal((await server.call('GET', `/v2/escalations/${id}`)).status, 404);
  });

  it("lists a user's escalations: the policies whose rules notify them by name", async () => {
    const forCarol = await create({
      name: 'Carol first',
      rules: [rule({ recipient: { type: 'user', username: 'carol@example.com' } }), rule()],
    });
    assert.equal(forCarol.status, 201, JSON.stringify(forCarol.body));
    const carol = await server.call('GET', '/v2/users/carol@example.com/escalations');
    assert.equal(carol.status, 200);
    assert.deepEqual(
      carol.body.data.map((e: Json) => e.name),
      ['Carol first'],
    );
    const bob = await server.call('GET', '/v2/users/bob@example.com/escalations');
    assert.ok(!bob.body.data.some((e: Json) => e.name === 'Carol first'));
    assert.equal((await server.call('GET', '/v2/users/nobody@example.com/escalations')).status, 404);
  });

  it('a schedule or team deleted while a policy comes to name it: the policy waits, then is refused', async () => {
    const scheduleGone = (
      await server.callOk('POST', '/v2/schedules', { name: 'Deleted while named', timezone: 'UTC' })
    ).data.id;
    const created = await deletedWhile('schedules', scheduleGone, () =>
      create({
        name: 'Names a deleted schedule',
        rules: [rule({ recipient: { type: 'schedule', id: scheduleGone } })],
      }),
    );
    assert.equal(created.status, 422, JSON.stringify(created.body));
    assert.match(created.body.errors['rules[0].recipient'] ?? '', /No schedule/);
    assert.equal(
      (await server.call('GET', '/v2/escalations/Names%20a%20deleted%20schedule?identifierType=name')).status,
      404,
    );

    const policy = await create({ name: 'Changed to name deleted ones', rules: [rule()] });
    assert.equal(policy.status, 201, JSON.stringify(policy.body));
    const teamGone = (await server.callOk('POST', '/v2/teams', { name: 'Deleted while named' })).data.id;
    const scheduleAlsoGone = (
      await server.callOk('POST', '/v2/schedules', { name: 'Also deleted while named', timezone: 'UTC' })
    ).data.id;
    for (const [table, recipient] of [
      ['teams', { type: 'team', id: teamGone }],
      ['schedules', { type: 'schedule', name: 'Also deleted while named' }],
    ] as const) {
      const changed = await deletedWhile(table, recipient.type === 'team' ? teamGone : scheduleAlsoGone, () =>
        server.call('PATCH', `/v2/escalations/${policy.body.data.id}`, { rules: [rule({ recipient })] }),
      );
      assert.equal(changed.status, 422, `${table}: ${JSON.stringify(changed.body)}`);
      assert.match(changed.body.errors['rules[0].recipient'] ?? '', new RegExp(`No ${recipient.type}`));
    }
    const kept = await server.call('GET', `/v2/escalations/${policy.body.data.id}`);
    assert.deepEqual(
      kept.body.data.rules.map((r: Json) => r.recipient.type),
      ['user'],
    );
  });

  it('a user deleted while a policy comes to name them: the policy waits, then is refused', async () => {
    // Deleting a user an escalation names is refused; one named meanwhile must not slip past that check.
    const gone = (
      await server.callOk('POST', '/v2/users', {
        username: 'deleted-while-named@example.com',
        fullName: 'Deleted while named',
        role: { name: 'User' },
      })
    ).data.id;
    const created = await deletedWhile('users', gone, () =>
      create({ name: 'Names a deleted user', rules: [rule({ recipient: { type: 'user', id: gone } })] }),
    );
    assert.equal(created.status, 422, JSON.stringify(created.body));
    assert.match(created.body.errors['rules[0].recipient'] ?? '', /No user/);
  });

  it('keeps the schedule it names locked until the policy is saved, so deleting the schedule then sees it', async () => {
    const id = (await server.callOk('POST', '/v2/schedules', { name: 'Named while saved', timezone: 'UTC' }))
      .data.id;
    const holder = new pg.Client({ connectionString: server.databaseUrl });
    const deleter = new pg.Client({ connectionString: server.databaseUrl });
    await holder.connect();
    await deleter.connect();
    try {
      // Holds back every insert into escalations: the request resolves its rules, then waits to save them.
      await holder.query('BEGIN');
      await holder.query(`SET LOCAL lock_timeout = '30s'`);
      await holder.query('LOCK TABLE escalations IN SHARE MODE');
      const creating = create({
        name: 'Saved while its schedule is deleted',
        rules: [rule({ recipient: { type: 'schedule', id } })],
      });
      await whenWaitedFor(holder, { never: 'the request never waited to save the policy', seconds: 10 });
      // Meanwhile, deleteSchedule's lock on the schedule must wait for the policy, not slip in before it.
      await deleter.query('BEGIN');
      await assert.rejects(
        deleter.query('SELECT 1 FROM schedules WHERE id = $1 FOR UPDATE NOWAIT', [id]),
        /could not obtain lock/,
      );
      await deleter.query('ROLLBACK');
      await holder.query('COMMIT');
      const created = await creating;
      assert.equal(created.status, 201, JSON.stringify(created.body));
    } finally {
      await holder.end();
      await deleter.end();
    }
    const refused = await server.call('DELETE', `/v2/schedules/${id}`);
    assert.equal(refused.status, 409, JSON.stringify(refused.body));
    assert.match(refused.body.message, /escalation \[Saved while its schedule is deleted\]/);
  });

  it('answers 404 for escalations that do not exist', async () => {
    assert.equal(
      (await server.call('GET', '/v2/escalations/00000000-0000-0000-0000-000000000000')).status,
      404,
    );
    assert.equal((await server.call('GET', '/v2/escalations/SecOps%20escalation')).status, 404);
    assert.equal(
      (await server.call('PATCH', '/v2/escalations/nope?identifierType=name', { name: 'y' })).status,
      404,
    );
    assert.equal((await server.call('DELETE', '/v2/escalations/nope?identifierType=name')).status, 404);
  });
});
