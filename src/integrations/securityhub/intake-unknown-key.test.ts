import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { securityHubIntake } from '../../testing/securityhub-intake.js';
import type { Json, TestServer } from '../../testing/harness.js';
import { UNKNOWN_KEY } from './outcome.js';

/**
 * The intake is public and its body may be 600 KiB: a delivery whose key names no Security Hub
 * integration is answered on arrival, before its body is read, with the answer it had once read.
 * Deliveries with a key, even a disabled integration's (the payload log records them), are read whole.
 */

const intake = securityHubIntake({ topicArn: 'arn:aws:sns:us-east-1:123456789012:early-refusal' });
const PATH = '/v1/json/integrations/webhooks/amazonsecurityhub';
const ANNOUNCED = 500 * 1024;

let server: TestServer;
before(async () => {
  ({ server } = await intake.start());
});
after(() => intake.stop());

interface Answer {
  status: number;
  body: Json;
  ms: number;
}

/** A POST announcing a 500 KiB body of which only `first` is sent (the rest with `finish`). */
function announce(pathAndQuery: string, headers: Record<string, string>, first: string) {
  const { hostname, port } = new URL(server.url);
  const socket = net.connect(Number(port), hostname);
  socket.on('error', () => {});
  const started = performance.now();
  const head = Object.entries({
    host: `${hostname}:${port}`,
    'content-type': 'text/plain; charset=UTF-8',
    ...headers,
    'content-length': String(ANNOUNCED),
  })
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('');
  socket.write(`POST ${pathAndQuery} HTTP/1.1\r\n${head}\r\n${first}`);
  let received = '';
  socket.on('data', (chunk: Buffer) => (received += chunk.toString('utf8')));

  return {
    /** The whole answer if it came within `waitMs`, else undefined. */
    async answer(waitMs: number): Promise<Answer | undefined> {
      const deadline = performance.now() + waitMs;
      while (performance.now() < deadline) {
        const [headPart = '', body = ''] = received.split('\r\n\r\n');
        const length = /\r\ncontent-length: (\d+)/i.exec(headPart)?.[1];
        if (length !== undefined && Buffer.byteLength(body) >= Number(length)) {
          return {
            status: Number(/^HTTP\/1\.1 (\d{3})/.exec(headPart)?.[1]),
            body: JSON.parse(body),
            ms: performance.now() - started,
          };
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
      return undefined;
    },
    finish: (rest: string) => socket.write(rest),
    close: () => socket.destroy(),
  };
}

/** An EventBridge event padded with whitespace to the announced size, cut after its first bytes. */
async function paddedEvent(): Promise<[string, string]> {
  const json = JSON.stringify(await intake.importedEvent());
  const whole = json + ' '.repeat(ANNOUNCED - Buffer.byteLength(json));
  return [whole.slice(0, 16), whole.slice(16)];
}

async function refusedAtOnce(pathAndQuery: string, headers: Record<string, string> = {}) {
  const request = announce(pathAndQuery, headers, '{"Type": "Notifi');
  try {
    const answer = await request.answer(1000);
    assert.ok(answer, `${pathAndQuery}: no answer within a second`);
    return answer;
  } finally {
    request.close();
  }
}

describe('the Security Hub intake, before the body arrives', () => {
  it('refuses a delivery without a key or with a key of no Security Hub integration at once, as it always did', async () => {
    const apiIntegration = await server.callOk('POST', '/v2/integrations', {
      type: 'API',
      name: 'Not Security Hub',
      ownerTeam: { name: 'SecOps' },
    });
    const cases: [string, Record<string, string>][] = [
      [PATH, {}],
      [`${PATH}?apiKey=`, {}],
      [`${PATH}?apiKey=not-a-key-of-anyone`, {}],
      [PATH, { 'x-api-key': 'not-a-key-of-anyone' }],
      [PATH, { authorization: 'GenieKey not-a-key-of-anyone' }],
      [PATH, { 'x-api-key': apiIntegration.data.apiKey }],
    ];
    for (const [pathAndQuery, headers] of cases) {
      const early = await refusedAtOnce(pathAndQuery, headers);
      const whole = await intake.post(pathAndQuery, { Type: 'Notification' }, headers);
      const what = `${pathAndQuery} ${JSON.stringify(headers)}`;
      assert.equal(early.status, 401, what);
      assert.equal(whole.status, 401, what);
      assert.deepEqual(
        { result: early.body.result, verdict: early.body.verdict, reason: early.body.reason },
        { result: 'Refused', verdict: 'refused', reason: UNKNOWN_KEY },
        what,
      );
      for (const field of ['result', 'verdict', 'reason', 'payloadId']) {
        assert.deepEqual(early.body[field], whole.body[field], `${what}: ${field}`);
      }
    }
  });

  it('answers a malformed query at once with the 422 it got once the body had arrived', async () => {
    const malformed = `${PATH}?apiKey=${'k'.repeat(201)}`;
    const early = await refusedAtOnce(malformed);
    const whole = await intake.post(malformed, { Type: 'Notification' });
    assert.equal(early.status, 422);
    assert.equal(whole.status, 422);
    assert.equal(early.body.message, whole.body.message);
    assert.deepEqual(early.body.errors, whole.body.errors);
  });

  it('reads the whole body of a delivery with a valid key, or a disabled integration’s, as before', async () => {
    const enabled = await intake.addIntegration({ verifySignatures: false });
    const disabled = await intake.addIntegration({ verifySignatures: false });
    await server.callOk('POST', `/v2/integrations/${disabled.id}/disable`);

    for (const [integration, verdict] of [
      [enabled, 'queued'],
      [disabled, 'ignored'],
    ] as const) {
      const [first, rest] = await paddedEvent();
      const request = announce(integration.path, { 'content-type': 'application/json' }, first);
      try {
        assert.equal(await request.answer(500), undefined, 'the body is waited for');
        request.finish(rest);
        const answer = await request.answer(10_000);
        assert.ok(answer, 'an answer once the body arrived');
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        assert.equal(answer.body.verdict, verdict);
        assert.ok(answer.body.payloadId, 'logged');
      } finally {
        request.close();
      }
    }
  });
});
