import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { SnsMessage } from '../integrations/securityhub/sns/message.js';
import type { Clock } from '../work/clock.js';
import { startFakeSns, type FakeSns } from './fake-sns.js';
import { startTestServer, waitFor, type Json, type TestServer } from './harness.js';
import { createTestSigningCertificate, signSnsMessage } from './sns-signer.js';

/**
 * The Security Hub intake's end-to-end set-up: the real server, real PostgreSQL, SNS messages signed
 * with a test certificate (trusted through VIGIL_SNS_CERT_DIR), a local HTTPS server standing in for SNS
 * where SubscribeURLs point, and the team "SecOps" that integrations belong to.
 *
 * The functions are made before anything starts, so a test file can take them once at its top; they
 * work between `start()` (in `before`) and `stop()` (in `after`).
 */

const here = path.dirname(new URL(import.meta.url).pathname);
const fixtures = path.resolve(here, '../../test/fixtures/securityhub');

export interface IntakeIntegration {
  id: string;
  apiKey: string;
  endpointUrl: string;
  /** The endpoint's path and query, for `post`. */
  path: string;
}

/** What `start()` made, for tests that reach past the functions. */
export interface StartedIntake {
  server: TestServer;
  fakeSns: FakeSns;
  /** The directory VIGIL_SNS_CERT_DIR names, holding the signing certificate. */
  certDir: string;
  signer: { keyPem: string; certUrl: string };
}

export interface IntakeAnswer {
  status: number;
  body: Json;
}

export interface SecurityHubIntake {
  start(): Promise<StartedIntake>;
  /** Stops the server and the SNS stand-in and removes the certificate. */
  stop(): Promise<void>;
  /** A file under test/fixtures/securityhub. */
  readJson(p: string): Promise<Json>;
  /** Integration ids by key, so a delivery's outcome can be read from the payload log. */
  integrationByKey: Map<string, string>;
  addIntegration(body?: Json): Promise<IntakeIntegration>;
  /** POSTs as SNS does; a delivery answered `queued` is waited for and answered with its outcome. */
  post(pathAndQuery: string, body: string | object, headers?: Record<string, string>): Promise<IntakeAnswer>;
  /** A message on the topic (unless `fields` names another), signed with the test certificate. */
  signed(fields: Partial<SnsMessage> & { Type: SnsMessage['Type'] }): SnsMessage;
  notification(event: object, extra?: Partial<SnsMessage>): SnsMessage;
  /** Sends a SubscriptionConfirmation with a token the SNS stand-in will accept. */
  confirm(integration: IntakeIntegration, topic?: string): Promise<{ res: IntakeAnswer; token: string }>;
  /** The imported AFSBP EC2.7 finding event, its finding changed by `mutate`. */
  importedEvent(mutate?: (finding: Json) => void): Promise<Json>;
  alert(id: string): Promise<Json>;
}

export function securityHubIntake(options: {
  /** The TopicArn messages carry unless told otherwise. */
  topicArn: string;
  /** For the test server, with `env` added to the intake's own variables. */
  server?: { clock?: Clock; engineIntervalMs?: number; env?: Record<string, string> };
}): SecurityHubIntake {
  const TOPIC = options.topicArn;
  let started: StartedIntake | undefined;
  const running = (): StartedIntake => {
    assert.ok(started, 'the Security Hub intake is started (in before)');
    return started;
  };
  const integrationByKey = new Map<string, string>();

  const readJson = async (p: string): Promise<Json> =>
    JSON.parse(await fs.readFile(path.join(fixtures, p), 'utf8'));

  async function post(pathAndQuery: string, body: string | object, headers: Record<string, string> = {}) {
    const { server } = running();
    const response = await fetch(server.url + pathAndQuery, {
      method: 'POST',
      headers: {
        'content-type': 'text/plain; charset=UTF-8',
        'user-agent': 'Amazon Simple Notification Service Agent',
        ...headers,
      },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    const answer = { status: response.status, body: (await response.json()) as Json };
    // Notifications are stored, answered, then made into alerts by the workers: wait for the outcome.
    if (answer.body.verdict === 'queued') {
      const key = new URL(pathAndQuery, server.url).searchParams.get('apiKey') ?? headers['x-api-key'] ?? '';
      const integrationId = integrationByKey.get(key);
      assert.ok(integrationId, 'a known integration');
      const settled = await waitFor('the delivery to be processed', async () => {
        const payload = await server.call(
          'GET',
          `/v2/integrations/${integrationId}/payloads/${answer.body.payloadId}`,
        );
        return payload.body.data.verdict !== 'queued' ? payload.body.data : undefined;
      });
      answer.body = {
        ...answer.body,
        verdict: settled.verdict,
        reason: settled.reason ?? undefined,
        alertIds: settled.alertIds,
      };
    }
    return answer;
  }

  function signed(fields: Partial<SnsMessage> & { Type: SnsMessage['Type'] }): SnsMessage {
    const { signer } = running();
    const base = {
      MessageId: randomUUID(),
      TopicArn: TOPIC,
      Timestamp: new Date().toISOString(),
      Message: '',
      ...fields,
    };
    return signSnsMessage(
      base as Omit<SnsMessage, 'Signature' | 'SignatureVersion' | 'SigningCertURL'>,
      signer.keyPem,
      signer.certUrl,
      '2',
    );
  }

  return {
    async start() {
      const certDir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-certs-'));
      const made = await createTestSigningCertificate(certDir);
      const fakeSns = await startFakeSns();
      const server = await startTestServer({
        clock: options.server?.clock,
        engineIntervalMs: options.server?.engineIntervalMs,
        env: {
          VIGIL_SNS_CERT_DIR: certDir,
          VIGIL_PUBLIC_URL: 'https://vigil.example.com',
          ...options.server?.env,
        },
        outbound: { ca: fakeSns.ca, lookup: fakeSns.lookup, connectPort: fakeSns.port, env: {} },
      });
      started = { server, fakeSns, certDir, signer: { keyPem: made.keyPem, certUrl: made.certUrl } };
      const team = await server.call('POST', '/v2/teams', { name: 'SecOps' });
      assert.equal(team.status, 201);
      return started;
    },

    async stop() {
      const { server, fakeSns, certDir } = running();
      await server.stop();
      await fakeSns.close();
      await fs.rm(certDir, { recursive: true, force: true });
    },

    readJson,
    integrationByKey,

    async addIntegration(body: Json = {}) {
      const res = await running().server.call('POST', '/v2/integrations', {
        type: 'AmazonSecurityHub',
        name: `Security Hub ${randomUUID().slice(0, 8)}`,
        ownerTeam: { name: 'SecOps' },
        ...body,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const data = res.body.data;
      integrationByKey.set(data.apiKey, data.id);
      const url = new URL(data.endpointUrl);
      return {
        id: data.id,
        apiKey: data.apiKey,
        endpointUrl: data.endpointUrl,
        path: `${url.pathname}${url.search}`,
      };
    },

    post,
    signed,

    notification(event, extra = {}) {
      return signed({
        Type: 'Notification',
        Message: JSON.stringify(event),
        UnsubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe&SubscriptionArn=${TOPIC}:abc`,
        ...extra,
      });
    },

    async confirm(integration, topic = TOPIC) {
      const token = running().fakeSns.issueToken(topic);
      const message = signed({
        Type: 'SubscriptionConfirmation',
        TopicArn: topic,
        Token: token,
        Message: `You have chosen to subscribe to the topic ${topic}.`,
        SubscribeURL: `https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&TopicArn=${topic}&Token=${token}`,
      });
      return {
        res: await post(integration.path, message, { 'x-amz-sns-message-type': 'SubscriptionConfirmation' }),
        token,
      };
    },

    async importedEvent(mutate = () => {}) {
      const event = await readJson('events/source_layer_test_test_json_data_afsbp-ec2.7.json');
      mutate(event.detail.findings[0]);
      return event;
    },

    async alert(id) {
      const res = await running().server.call('GET', `/v2/alerts/${id}`);
      assert.equal(res.status, 200);
      return res.body.data;
    },
  };
}
