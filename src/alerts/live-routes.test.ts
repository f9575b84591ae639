import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestServer, waitFor, type TestServer } from '../testing/harness.js';
import { ShiftedClock } from '../work/clock.js';
import { ALERT_REPLAY_MARGIN_MS } from './live-replay.js';

/**
 * The console's event stream as a browser reads it: the feed's position at the opening, with each
 * change and with each keep-alive, and what was missed (`?replay=` for a new page, `?after=` a position
 * for a stream that follows another) told first.
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
  /** The last position received, in a `position` or an `alerts` event. */
  lastPosition(): string | undefined;
}

async function openStream(query = ''): Promise<Stream> {
  const controller = new AbortController();
  streams.push(controller);
  const response = await fetch(`${server.url}/api/console/events${query}`, {
    headers: { authorization: `GenieKey ${server.key}` },
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
    lastPosition: () => [...received.matchAll(/"([0-9a-f-]{36}\.\d+)"/g)].at(-1)?.[1],
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
  stream.text().includes(`event: alerts\ndata: {"ids":["${id}"],"more":false,"position":"`);

describe('the console event stream', () => {
  it('gives positions, and tells a new stream what it missed since one or in a time', async () => {
    const first = await openStream();
    assert.equal(first.status, 200);
    await waitFor('the first position', async () => first.lastPosition() !== undefined);
    // The process hears everything from when the first stream's wish was written: move past the margin.
    clock.advance(2 * ALERT_REPLAY_MARGIN_MS);

    const missed = await createdAlert('stream-missed');
    await waitFor('the first stream to be told', async () => announces(first, missed));
    clock.advance(1);

    const newPage = await openStream('?replay=1000');
    await waitFor('the new page to be told what it missed, then where it is', async () => {
      const text = newPage.text();
      return announces(newPage, missed) && text.lastIndexOf('event: position') > text.indexOf(missed);
    });
    // Its first position is where the replay began, so a drop in the middle of it loses nothing.
    const events = newPage.text().split('\n\n');
    const opening = events.findIndex((e) => e.startsWith('event: position'));
    assert.ok(opening >= 0 && opening < events.findIndex((e) => e.includes(missed)), newPage.text());

    // A stream that follows another, from the position the new page was left at (once told what it
    // missed, a moment later), hears only what came after it.
    const position = newPage.lastPosition();
    const resumed = await openStream(`?after=${encodeURIComponent(String(position))}`);
    await waitFor('the resumed stream to open', async () => resumed.lastPosition() !== undefined);
    const later = await createdAlert('stream-later');
    await waitFor('the resumed stream to be told', async () => announces(resumed, later));
    assert.ok(!resumed.text().includes(missed), resumed.text());

    // A position it did not give: it says to fetch everything.
    const unknown = await openStream('?after=somewhere-else.1');
    await waitFor('more', async () => unknown.text().includes('"more":true'));
  });

  it('refuses a replay that is not a number of milliseconds', async () => {
    for (const query of ['?replay=-1', '?replay=soon', '?replay=86400001']) {
      const stream = await openStream(query);
      assert.equal(stream.status, 422, `${query}: ${stream.text()}`);
    }
  });
});
