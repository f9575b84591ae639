import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, waitFor, type TestServer } from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';
import { ALERT_REPLAY_MARGIN_MS } from './live-replay.js';

/**
 * The console's event stream as a browser reads it: each message with the feed's position as its
 * `id:`, and what was missed (`?replay=` for a new page, `Last-Event-ID` when EventSource reconnects
 * by itself) told first.
 */

let server: TestServer;
const clock = new ShiftedClock();
const streams: AbortController[] = [];

before(async () => {
  server = await startTestServer({ role: 'api', clock });
});

after(async () => {
  for (const stream of streams) stream.abort();
  await server?.stop();
});

interface Stream {
  status: number;
  /** Everything received so far. */
  text(): string;
  /** The last `id:` received. */
  lastId(): string | undefined;
}

async function openStream(query = '', headers: Record<string, string> = {}): Promise<Stream> {
  const controller = new AbortController();
  streams.push(controller);
  const response = await fetch(`${server.url}/api/console/events${query}`, {
    headers: { authorization: `GenieKey ${server.key}`, ...headers },
    signal: controller.signal,
  });
  let received = '';
  if (response.ok && response.body)
    void (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of response.body as AsyncIterable<Uint8Array>) received += decoder.decode(chunk);
    })().catch(() => {});
  else received = await response.text();
  return {
    status: response.status,
    text: () => received,
    lastId: () => [...received.matchAll(/^id: (\d+)$/gm)].at(-1)?.[1],
  };
}

async function createdAlert(alias: string): Promise<string> {
  await server.callOk('POST', '/v2/alerts', { message: alias, alias });
  return waitFor(`alert ${alias}`, async () => {
    const got = await server.call('GET', `/v2/alerts/${alias}?identifierType=alias`);
    return got.status === 200 && (got.body.data.id as string);
  });
}

const announces = (stream: Stream, id: string) =>
  new RegExp(`^id: \\d+\\nevent: alerts\\ndata: \\{"ids":\\["${id}"\\],"more":false\\}$`, 'm').test(
    stream.text(),
  );

describe('the console event stream', () => {
  it('gives each message a position, and tells a new stream what it missed since one or in a time', async () => {
    const first = await openStream();
    assert.equal(first.status, 200);
    await waitFor('the first position', async () => first.lastId() !== undefined);
    // The process hears everything from when the first stream's wish was written: move past the margin.
    clock.advance(2 * ALERT_REPLAY_MARGIN_MS);

    const missed = await createdAlert('stream-missed');
    await waitFor('the first stream to be told', async () => announces(first, missed));
    const lastHeard = first.lastId();
    assert.ok(lastHeard && Number(lastHeard) <= clock.now().getTime());

    const newPage = await openStream('?replay=1000');
    await waitFor('the new page to be told what it missed', async () => announces(newPage, missed));
    assert.ok(newPage.text().indexOf(': connected') < newPage.text().indexOf(missed));

    // A browser resuming from a position past that alert and the margin hears only what comes after.
    clock.advance(2 * ALERT_REPLAY_MARGIN_MS);
    const plain = await openStream();
    await waitFor('its position', async () => plain.lastId() !== undefined);
    const position = plain.lastId();
    assert.ok(!plain.text().includes(missed), 'a plain stream tells only what comes');
    const resumed = await openStream('', { 'last-event-id': String(position) });
    await waitFor('the resumed stream to open', async () => resumed.text().includes(': connected'));
    const later = await createdAlert('stream-later');
    await waitFor('the resumed stream to be told', async () => announces(resumed, later));
    assert.ok(!resumed.text().includes(missed), resumed.text());

    // From before the process heard everything: it says to fetch everything.
    const tooOld = await openStream('', { 'last-event-id': '1' });
    await waitFor('more', async () => tooOld.text().includes('"more":true'));
  });

  it('refuses a replay that is not a number of milliseconds', async () => {
    for (const query of ['?replay=-1', '?replay=soon', '?replay=86400001']) {
      const stream = await openStream(query);
      assert.equal(stream.status, 422, `${query}: ${stream.text()}`);
    }
  });
});
