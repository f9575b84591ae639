import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, it } from 'node:test';
import {
  addUserWithKey,
  createAlert,
  startTestServer,
  waitFor,
  type TestServer,
  type TestUser,
} from '../testing/harness.js';
import { openLiveStream } from '../testing/live-stream.js';

/**
 * A live stream keeps its caller's alert scope a while (alerts/live-routes.ts `scopeNow`). A change of
 * who sees what (team members, a user's role, a custom role's rights, a user blocked) is announced
 * (migration 0067): the stream tells `more` and filters what follows against its caller as they are now,
 * rather than for up to a keep-alive against what they were.
 */

let server: TestServer;
const run = randomUUID().slice(0, 6);
const streams: AbortController[] = [];

interface Stream {
  /** Everything received so far. */
  text(): string;
  ended(): boolean;
}

async function openStream(key: string): Promise<Stream> {
  const stream = await openLiveStream(server.url, key, { track: streams });
  assert.equal(stream.status, 200);
  await waitFor('the stream to open', async () => stream.text().includes('event: position'));
  return stream;
}

const alertFor = (teamId: string, message: string) =>
  createAlert(server, { message: `${message} ${run}`, visibleTo: [{ type: 'team', id: teamId }] });

const lists = async (key: string, id: string) =>
  ((await server.callOk('GET', '/v2/alerts?limit=100', undefined, key)).data as { id: string }[]).some(
    (a) => a.id === id,
  );

/** Whether the stream named the alert, since `from` characters into it. */
const named = (stream: Stream, id: string, from = 0) => stream.text().slice(from).includes(id);

/** Whether the stream told `more` since `from`: the console reads its list again. */
const toldMore = (stream: Stream, from: number) => /"ids":\[\],"more":true/.test(stream.text().slice(from));

let nextTeam = 0;
async function team(members: TestUser[]): Promise<string> {
  const made = await server.callOk('POST', '/v2/teams', {
    name: `Scope ${nextTeam++} ${run}`,
    members: members.map((m) => ({ user: { username: m.username }, role: 'user' })),
  });
  return made.data.id as string;
}

/**
 * Has the stream keep its caller's scope: a change they see is told (read their scope), so that what
 * follows within SCOPE_MAX_AGE_MS would be filtered against it were who sees what not announced.
 */
async function keepScope(stream: Stream, seenTeam: string) {
  const id = await alertFor(seenTeam, 'seen');
  await waitFor('the seen alert told', async () => named(stream, id));
}

before(async () => {
  server = await startTestServer({});
});

after(async () => {
  for (const controller of streams) controller.abort();
  await server?.stop();
});

it('a user added to a team is told of its alerts at once', async () => {
  const user = await addUserWithKey(server, 'joins', run);
  const mine = await team([user]);
  const joined = await team([]);
  const stream = await openStream(user.key);
  await keepScope(stream, mine);

  const from = stream.text().length;
  await server.callOk('POST', `/v2/teams/${joined}/members`, {
    user: { username: user.username },
    role: 'user',
  });
  await waitFor('more told on joining', async () => toldMore(stream, from));
  const fresh = await alertFor(joined, 'for the joined team');
  assert.ok(await lists(user.key, fresh));
  await waitFor('the joined team alert told', async () => named(stream, fresh, from));
});

it('a user removed from a team is no longer told of its alerts', async () => {
  const user = await addUserWithKey(server, 'leaves', run);
  const mine = await team([user]);
  const left = await team([user]);
  const theirs = await alertFor(left, 'for the team left');
  const stream = await openStream(user.key);
  await keepScope(stream, mine);
  await server.callOk('PUT', `/v2/alerts/${theirs}/priority`, { priority: 'P2' });
  await waitFor('told while a member', async () => named(stream, theirs));

  const from = stream.text().length;
  await server.callOk('DELETE', `/v2/teams/${left}/members/${user.id}`);
  assert.equal(await lists(user.key, theirs), false);
  await server.callOk('PUT', `/v2/alerts/${theirs}/priority`, { priority: 'P1' });
  // Told after the one before, in the order they were committed: by then the other was filtered.
  const still = await alertFor(mine, 'still seen');
  await waitFor('a later alert they see told', async () => named(stream, still, from));
  assert.ok(toldMore(stream, from), stream.text().slice(from));
  assert.equal(named(stream, theirs, from), false, stream.text().slice(from));
});

it('a user made an admin is told of every alert, and one made a user again no longer', async () => {
  const user = await addUserWithKey(server, 'promoted', run);
  const mine = await team([user]);
  const others = await team([]);
  const stream = await openStream(user.key);
  await keepScope(stream, mine);

  let from = stream.text().length;
  await server.callOk('PATCH', `/v2/users/${user.id}`, { role: { name: 'Admin' } });
  const anyone = await alertFor(others, 'for another team');
  await waitFor('told as an admin', async () => named(stream, anyone, from));

  from = stream.text().length;
  await server.callOk('PATCH', `/v2/users/${user.id}`, { role: { name: 'User' } });
  await server.callOk('PUT', `/v2/alerts/${anyone}/priority`, { priority: 'P2' });
  const still = await alertFor(mine, 'still seen as a user');
  await waitFor('a later alert they see told', async () => named(stream, still, from));
  assert.equal(named(stream, anyone, from), false, stream.text().slice(from));
});

it('a custom role given Access All Alerts has its holders told of every alert', async () => {
  const user = await addUserWithKey(server, 'custom', run);
  const mine = await team([user]);
  const others = await team([]);
  const role = await server.callOk('POST', '/v2/roles', {
    name: `Limited ${run}`,
    extendedRole: 'user',
    grantedRights: ['alert-acknowledge'],
  });
  await server.callOk('PATCH', `/v2/users/${user.id}`, { role: { name: `Limited ${run}` } });
  const stream = await openStream(user.key);
  await keepScope(stream, mine);

  const from = stream.text().length;
  await server.callOk('PUT', `/v2/roles/${role.data.id}`, {
    extendedRole: 'user',
    grantedRights: ['alert-acknowledge', 'alerts-access-all'],
  });
  const anyone = await alertFor(others, 'seen with the right');
  await waitFor('told with the right', async () => named(stream, anyone, from));
});

it('a blocked user is told of no alert more', async () => {
  const user = await addUserWithKey(server, 'blocked', run);
  const mine = await team([user]);
  const stream = await openStream(user.key);
  await keepScope(stream, mine);

  const from = stream.text().length;
  await server.callOk('PATCH', `/v2/users/${user.id}`, { blocked: true });
  const after = await alertFor(mine, 'after the block');
  await waitFor('the stream to end', async () => stream.ended());
  assert.equal(named(stream, after, from), false, stream.text().slice(from));
});

it('tells nothing to the streams of those whose sight did not change', async () => {
  const joining = await addUserWithKey(server, 'joining', run);
  const bystander = await addUserWithKey(server, 'bystander', run);
  const theirs = await team([bystander]);
  const joined = await team([]);
  const stream = await openStream(bystander.key);
  await keepScope(stream, theirs);
  const joiningStream = await openStream(joining.key);

  const from = stream.text().length;
  const joiningFrom = joiningStream.text().length;
  await server.callOk('POST', `/v2/teams/${joined}/members`, {
    user: { username: joining.username },
    role: 'user',
  });
  await waitFor('more told to the one who joined', async () => toldMore(joiningStream, joiningFrom));
  // Told after the membership's announcement, in the order they were committed.
  const later = await alertFor(theirs, 'after someone else joined');
  await waitFor('a later alert told to the bystander', async () => named(stream, later, from));
  assert.equal(toldMore(stream, from), false, stream.text().slice(from));
});

/**
 * An API integration of `ownerTeam`: its id and key, which opens a live stream as the console of its team
 * (allowConfigurationAccess: the Alert API alone does not reach the console's routes).
 */
async function integration(ownerTeam: string): Promise<{ id: string; key: string }> {
  const made = await server.callOk('POST', '/v2/integrations', {
    type: 'API',
    name: `Scope integration ${nextTeam++} ${run}`,
    ownerTeam: { id: ownerTeam },
    allowConfigurationAccess: true,
  });
  return { id: made.data.id as string, key: made.data.apiKey as string };
}

it("an integration's key moved to another team is told of its alerts, not the old team's", async () => {
  const bystander = await addUserWithKey(server, 'integration-bystander', run);
  const old = await team([bystander]);
  const moved = await team([]);
  const made = await integration(old);
  const stream = await openStream(made.key);
  await keepScope(stream, old);
  const bystanderStream = await openStream(bystander.key);

  const from = stream.text().length;
  const bystanderFrom = bystanderStream.text().length;
  await server.callOk('PATCH', `/v2/integrations/${made.id}`, { ownerTeam: { id: moved } });
  const theNew = await alertFor(moved, "for the integration's new team");
  const theOld = await alertFor(old, "for the integration's old team");
  // Seen before the move and after: told after the two before, in the order they were committed.
  const both = await createAlert(server, {
    message: `for both teams ${run}`,
    visibleTo: [
      { type: 'team', id: old },
      { type: 'team', id: moved },
    ],
  });
  await waitFor('an alert of both teams told', async () => named(stream, both, from));
  assert.ok(named(stream, theNew, from), stream.text().slice(from));
  assert.equal(named(stream, theOld, from), false, stream.text().slice(from));
  assert.ok(toldMore(stream, from), stream.text().slice(from));
  // Nothing to tell a user of the team the integration left: their sight did not change.
  await waitFor('the alert of both teams told to a user', async () =>
    named(bystanderStream, both, bystanderFrom),
  );
  assert.equal(toldMore(bystanderStream, bystanderFrom), false, bystanderStream.text().slice(bystanderFrom));
});

it("a disabled integration's key is told of no alert more", async () => {
  const its = await team([]);
  const made = await integration(its);
  const stream = await openStream(made.key);
  await keepScope(stream, its);

  const from = stream.text().length;
  await server.callOk('POST', `/v2/integrations/${made.id}/disable`);
  const after = await alertFor(its, 'after the integration was disabled');
  await waitFor('the stream to end', async () => stream.ended());
  assert.equal(named(stream, after, from), false, stream.text().slice(from));
});
