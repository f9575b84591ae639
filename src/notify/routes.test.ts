import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { redactUrl } from '../logger.js';
import {
  startTestServer,
  waitFor,
  type Json,
  type TestServer,
  acknowledgementRecorder,
} from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';
import { createActionLinks, loadLinkSecret, type ActionLinks } from './links.js';

/** The acknowledge / close links over HTTP, against the real server. */

const HOUR = 3_600_000;
const clock = new ShiftedClock();
let server: TestServer;
let links: ActionLinks;
let orgId: string;
const users: Record<string, string> = {};

const { consumer: recorder, acknowledged } = acknowledgementRecorder();

before(async () => {
  server = await startTestServer({ clock, consumers: [recorder] });
  // The same secret the server loaded: links made here are links the server made.
  links = createActionLinks(await loadLinkSecret(server.app.context.db), server.url, 72 * HOUR);
  for (const [username, fullName] of [
    ['alice@example.com', 'Alice Example'],
    ['bob@example.com', 'Bob Example'],
  ]) {
    const res = await server.call('POST', '/v2/users', { username, fullName, role: { name: 'User' } });
    assert.equal(res.status, 201, JSON.stringify(res.body));
  }
  const rows = await server.app.context.db.selectFrom('users').select(['id', 'username', 'org_id']).execute();
  for (const row of rows) users[row.username] = row.id;
  orgId = rows[0]?.org_id ?? '';
});
after(() => server.stop());

/**
 * An alert alice and bob may see: the engine makes a link only for someone it paged about the alert, and
 * a user sees only their own alerts (alerts/visibility.ts); these tests make the links themselves.
 */
async function createAlert(message: string): Promise<{ id: string; tinyId: string }> {
  const visibleTo = ['alice@example.com', 'bob@example.com'].map((username) => ({ type: 'user', username }));
  const res = await server.call('POST', '/v2/alerts', { message, priority: 'P2', visibleTo });
  assert.equal(res.status, 202, JSON.stringify(res.body));
  const status = await server.call('GET', `/v2/alerts/requests/${res.body.requestId}`);
  const id: string = status.body.data.alertId;
  return { id, tinyId: (await alert(id)).tinyId };
}

async function alert(id: string): Promise<Json> {
  const res = await server.call('GET', `/v2/alerts/${id}`);
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.data;
}

function link(
  alertId: string,
  action: 'acknowledge' | 'close',
  user = 'alice@example.com',
  now = clock.now(),
) {
  return links.url({ alertId, userId: users[user] ?? '', orgId, action }, now);
}

async function open(url: string, method: 'GET' | 'POST' = 'GET') {
  const response = await fetch(url, {
    method,
    redirect: 'manual',
    ...(method === 'POST'
      ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: '' }
      : {}),
  });
  return { status: response.status, headers: response.headers, html: await response.text() };
}

describe('alert action links', () => {
  it('shows the alert on GET without acting, on a page that leaks nothing', async () => {
    const { id, tinyId } = await createAlert('Disk <full> on db-1');
    const page = await open(link(id, 'acknowledge'));
    assert.equal(page.status, 200);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
    assert.match(page.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
    assert.ok(page.html.includes('Disk &lt;full&gt; on db-1'));
    assert.ok(page.html.includes(`#${tinyId}`));
    assert.ok(page.html.includes('P2'));
    assert.match(page.html, /<form method="post"[^>]*>.*>Acknowledge<\/button><\/form>/);
    assert.doesNotMatch(page.html, /<script/i);

    // A mail scanner fetching the link twice changes nothing.
    await open(link(id, 'acknowledge'));
    const after = await alert(id);
    assert.equal(after.acknowledged, false);
    assert.equal(after.status, 'open');
  });

  it('acknowledges on POST as the person the link is for, and the activity log says who', async () => {
    const { id, tinyId } = await createAlert('Acknowledge me');
    const url = link(id, 'acknowledge');
    const page = await open(url, 'POST');
    assert.equal(page.status, 200, page.html);
    assert.equal(page.headers.get('cache-control'), 'no-store');
    assert.ok(page.html.includes(`Alert #${tinyId} acknowledged by Alice Example.`), page.html);

    const acked = await alert(id);
    assert.equal(acked.acknowledged, true);
    const logs = await server.call('GET', `/v2/alerts/${id}/logs?order=asc`);
    const ackLog = logs.body.data.find((l: Json) => l.type === 'acknowledge');
    assert.equal(ackLog?.log, 'Alert acknowledged by Alice Example');
    assert.equal(ackLog?.owner, 'Alice Example');

    const again = await open(url, 'POST');
    assert.equal(again.status, 200);
    assert.ok(again.html.includes(`Alert #${tinyId} is already acknowledged by Alice Example.`), again.html);
    const shown = await open(url);
    assert.ok(shown.html.includes('already acknowledged'));
    assert.doesNotMatch(shown.html, /<form/);
  });

  it('records an email link as the source, or the push notification a button was tapped on (via=push)', async () => {
    const email = await createAlert('From the email');
    assert.equal((await open(link(email.id, 'acknowledge'), 'POST')).status, 200);
    const push = await createAlert('From the push');
    assert.equal((await open(`${link(push.id, 'acknowledge')}?via=push`, 'POST')).status, 200);
    const sourceOf = (alertId: string) =>
      waitFor(
        'the acknowledgement event',
        async () => acknowledged.find((e) => e.alertId === alertId)?.source,
      );
    assert.equal(await sourceOf(email.id), 'email link');
    assert.equal(await sourceOf(push.id), 'push notification');

    // Only the sources Vigil names: the parameter is outside the signed token.
    const other = await createAlert('From elsewhere');
    const refused = await open(`${link(other.id, 'acknowledge')}?via=sms`, 'POST');
    assert.equal(refused.status, 400);
    assert.ok(refused.html.includes('This link is not valid'), refused.html);
    assert.equal((await alert(other.id)).acknowledged, false);
  });

  it('accepts a POST without a body too', async () => {
    const { id } = await createAlert('Bodyless');
    const response = await fetch(link(id, 'acknowledge'), { method: 'POST' });
    assert.equal(response.status, 200);
    assert.equal((await alert(id)).acknowledged, true);
  });

  it('closes, and says so when the alert was already closed', async () => {
    const { id, tinyId } = await createAlert('Close me');
    const page = await open(link(id, 'close', 'bob@example.com'), 'POST');
    assert.equal(page.status, 200);
    assert.ok(page.html.includes(`Alert #${tinyId} closed by Bob Example.`), page.html);
    assert.equal((await alert(id)).status, 'closed');

    const ack = await open(link(id, 'acknowledge'), 'POST');
    assert.equal(ack.status, 200);
    assert.ok(ack.html.includes(`Alert #${tinyId} is already closed by Bob Example.`), ack.html);
    assert.equal((await alert(id)).acknowledged, false);
    const closeAgain = await open(link(id, 'close'), 'POST');
    assert.ok(closeAgain.html.includes('is already closed by Bob Example'));
  });

  it('refuses an expired link with 410 and says what to do instead', async () => {
    const { id } = await createAlert('Too late');
    const url = link(id, 'acknowledge', 'alice@example.com', new Date(clock.now().getTime() - 73 * HOUR));
    for (const method of ['GET', 'POST'] as const) {
      const page = await open(url, method);
      assert.equal(page.status, 410);
      assert.ok(page.html.includes('This link has expired'));
      assert.ok(page.html.includes('/v2/alerts/{id}/acknowledge'));
      assert.equal(page.headers.get('cache-control'), 'no-store');
    }
    assert.equal((await alert(id)).acknowledged, false);
  });

  it('expires a link when the engine’s clock says so, not the wall clock', async () => {
    const { id } = await createAlert('Expires on the clock');
    const url = link(id, 'acknowledge');
    assert.equal((await open(url)).status, 200, 'fresh');
    clock.advance(71 * HOUR);
    assert.equal((await open(url)).status, 200, 'still within its 72 hours');
    clock.advance(2 * HOUR);
    const page = await open(url, 'POST');
    assert.equal(page.status, 410);
    assert.ok(page.html.includes('This link has expired'));
    assert.equal((await alert(id)).acknowledged, false);
  });

  it('refuses a tampered link with 400', async () => {
    const { id } = await createAlert('Tampered');
    const url = link(id, 'acknowledge');
    const at = url.length - 10;
    const tampered = url.slice(0, at) + (url[at] === 'A' ? 'B' : 'A') + url.slice(at + 1);
    for (const method of ['GET', 'POST'] as const) {
      const page = await open(tampered, method);
      assert.equal(page.status, 400);
      assert.ok(page.html.includes('This link is not valid'));
    }
    assert.equal((await open(`${server.url}/v1/alert-actions/nonsense`, 'POST')).status, 400);
    assert.equal((await alert(id)).acknowledged, false);
  });

  it("refuses a blocked person's link", async () => {
    const { id } = await createAlert('Blocked');
    const created = await server.call('POST', '/v2/users', {
      username: 'carol@example.com',
      fullName: 'Carol',
      role: { name: 'User' },
    });
    assert.equal(created.status, 201);
    const carol = await server.app.context.db
      .selectFrom('users')
      .select('id')
      .where('username', '=', 'carol@example.com')
      .executeTakeFirstOrThrow();
    users['carol@example.com'] = carol.id;
    const url = link(id, 'acknowledge', 'carol@example.com');
    const blocked = await server.call('PATCH', '/v2/users/carol@example.com', { blocked: true });
    assert.equal(blocked.status, 200, JSON.stringify(blocked.body));
    for (const method of ['GET', 'POST'] as const) {
      const page = await open(url, method);
      assert.equal(page.status, 403);
      assert.ok(page.html.includes('can no longer be used'));
    }
    assert.equal((await alert(id)).acknowledged, false);
  });

  it('says when the alert is gone', async () => {
    const url = links.url(
      { alertId: randomUUID(), userId: users['alice@example.com'] ?? '', orgId, action: 'close' },
      clock.now(),
    );
    assert.equal((await open(url)).status, 404);
    assert.equal((await open(url, 'POST')).status, 404);
  });

  it('keeps the token out of logged URLs', () => {
    assert.equal(redactUrl('/v1/alert-actions/v1.abcDEF_-?x=1'), '/v1/alert-actions/[REDACTED]?x=1');
  });
});
