import assert from 'node:assert/strict';
import { makeTestCertificate } from '../../testing/network.js';
import fs from 'node:fs/promises';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { httpsGet } from '../../http/outbound.js';
import { createTestSigningCertificate, signSnsMessage } from '../../testing/sns-signer.js';
import { CertificateNotServed, SnsCertificateStore } from './sns/certificates.js';
import { looksLikeSnsMessage, parseSnsMessage, type SnsMessage } from './sns/message.js';
import { signingCertUrlProblem, subscribeUrlProblem } from './sns/urls.js';
import { stringToSign, verifySnsMessage } from './sns/verify.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/sns/', import.meta.url));
const FIXTURE_FILES = [
  'test-subscription-confirmation.json',
  'test-unsubscribe-confirmation.json',
  'test-notification-no-subject.json',
  'test-notification-with-subject.json',
  'test-notification-signature-v2.json',
];
const FIXTURE_CERT = 'SimpleNotificationService-7506a1e35b36ef5a444dd1a8e7cc3ed8.pem';
const SNS_HOST = 'sns.us-west-2.amazonaws.com';

async function fixture(file: string): Promise<SnsMessage> {
  const parsed = parseSnsMessage(JSON.parse(await fs.readFile(path.join(FIXTURES, file), 'utf8')));
  assert.ok(parsed.ok, `${file} should parse`);
  return parsed.message;
}

/** A certificate store whose fetch must not be called. */
function spyStore(body: () => Promise<Buffer> = () => fs.readFile(path.join(FIXTURES, FIXTURE_CERT))) {
  const calls: string[] = [];
  const store = new SnsCertificateStore({
    fetch: (url) => {
      calls.push(url);
      return body();
    },
  });
  return { store, calls };
}

const atTimestamp = (message: SnsMessage, offsetMs = 0) => new Date(Date.parse(message.Timestamp) + offsetMs);

const fixtureStore = new SnsCertificateStore({ certDir: FIXTURES });

/** The fields SNS signs for each type, in signing order (written out here, independent of the module). */
function signedFields(message: SnsMessage): Array<keyof SnsMessage> {
  if (message.Type === 'Notification') {
    return [
      'Message',
      'MessageId',
      ...(message.Subject === undefined ? [] : ['Subject' as const]),
      'Timestamp',
      'TopicArn',
      'Type',
    ];
  }
  return ['Message', 'MessageId', 'SubscribeURL', 'Timestamp', 'Token', 'TopicArn', 'Type'];
}

function tampered(message: SnsMessage, field: keyof SnsMessage): SnsMessage {
  const copy: SnsMessage = { ...message };
  switch (field) {
    case 'Timestamp':
      copy.Timestamp = new Date(Date.parse(message.Timestamp) + 1).toISOString();
      break;
    case 'Type':
      copy.Type =
        message.Type === 'SubscriptionConfirmation'
          ? 'UnsubscribeConfirmation'
          : message.Type === 'UnsubscribeConfirmation'
            ? 'SubscriptionConfirmation'
            : 'SubscriptionConfirmation';
      break;
    case 'SubscribeURL':
      copy.SubscribeURL = `${message.SubscribeURL}&x=1`;
      break;
    default:
      (copy as unknown as Record<string, string>)[field] = `${String(message[field])}x`;
  }
  return copy;
}

describe('SNS messages', () => {
  it('parses the genuine messages and names a missing field', async () => {
    for (const file of FIXTURE_FILES) {
      const message = await fixture(file);
      assert.ok(looksLikeSnsMessage(message));
    }
    const confirmation = JSON.parse(
      await fs.readFile(path.join(FIXTURES, 'test-subscription-confirmation.json'), 'utf8'),
    ) as Record<string, unknown>;
    const withoutToken = { ...confirmation, Token: undefined };
    assert.deepEqual(parseSnsMessage(withoutToken), {
      ok: false,
      reason: 'The SubscriptionConfirmation message has no Token: it must be a non-empty string.',
    });
    const emptyId = parseSnsMessage({ ...confirmation, MessageId: '' });
    assert.ok(!emptyId.ok && /MessageId/.test(emptyId.reason));
    const numericSignature = parseSnsMessage({ ...confirmation, Signature: 5 });
    assert.ok(!numericSignature.ok && /Signature/.test(numericSignature.reason));
    const badType = parseSnsMessage({ ...confirmation, Type: 'Other' });
    assert.ok(!badType.ok && /Type "Other"/.test(badType.reason));
    const badSubject = parseSnsMessage({
      ...confirmation,
      Type: 'Notification',
      UnsubscribeURL: 'x',
      Subject: 1,
    });
    assert.ok(!badSubject.ok && /Subject/.test(badSubject.reason));
    for (const notObject of [null, 'text', [], 42]) assert.equal(parseSnsMessage(notObject).ok, false);
  });

  it('keeps unsigned extras and drops unknown keys', async () => {
    const raw = JSON.parse(
      await fs.readFile(path.join(FIXTURES, 'test-notification-no-subject.json'), 'utf8'),
    ) as Record<string, unknown>;
    const parsed = parseSnsMessage({
      ...raw,
      MessageAttributes: { a: { Type: 'String', Value: 'b' } },
      Extra: 1,
    });
    assert.ok(parsed.ok);
    assert.deepEqual(parsed.message.MessageAttributes, { a: { Type: 'String', Value: 'b' } });
    assert.equal((parsed.message as unknown as Record<string, unknown>).Extra, undefined);
  });

  it('tells SNS envelopes from bare EventBridge events', () => {
    assert.ok(looksLikeSnsMessage({ Type: 'Notification', MessageId: 'm', TopicArn: 't' }));
    assert.ok(!looksLikeSnsMessage({ Type: 'Notification', MessageId: 'm' }));
    assert.ok(!looksLikeSnsMessage({ Type: 'Other', MessageId: 'm', TopicArn: 't' }));
    assert.ok(
      !looksLikeSnsMessage({
        version: '0',
        id: 'e',
        'detail-type': 'Security Hub Findings - Imported',
        source: 'aws.securityhub',
        detail: { findings: [] },
      }),
    );
    assert.ok(!looksLikeSnsMessage(null));
    assert.ok(!looksLikeSnsMessage('Notification'));
  });

  it('builds the string to sign in AWS order, with Subject only when present', async () => {
    const withSubject = await fixture('test-notification-with-subject.json');
    assert.equal(
      stringToSign(withSubject),
      'Message\nHello! This message has a subject.\n' +
        'MessageId\n26858270-545e-5848-82a2-e05566af3dcf\n' +
        'Subject\nMy message subject\n' +
        'Timestamp\n2026-03-06T19:53:21.424Z\n' +
        'TopicArn\narn:aws:sns:us-west-2:131990247566:dongie-standard-topic\n' +
        'Type\nNotification\n',
    );
    const noSubject = await fixture('test-notification-no-subject.json');
    assert.ok(!stringToSign(noSubject).includes('Subject'));
    const confirmation = await fixture('test-subscription-confirmation.json');
    const c = confirmation;
    assert.equal(
      stringToSign(confirmation),
      `Message\n${c.Message}\nMessageId\n${c.MessageId}\nSubscribeURL\n${c.SubscribeURL}\n` +
        `Timestamp\n${c.Timestamp}\nToken\n${c.Token}\nTopicArn\n${c.TopicArn}\nType\nSubscriptionConfirmation\n`,
    );
  });

  it('accepts only SNS hosts over https for certificates and SubscribeURLs', () => {
    assert.equal(signingCertUrlProblem(`https://${SNS_HOST}/${FIXTURE_CERT}`), undefined);
    assert.equal(
      signingCertUrlProblem('https://sns.cn-north-1.amazonaws.com.cn/SimpleNotificationService-x.pem'),
      undefined,
    );
    const refused: Array<[string, RegExp]> = [
      [`http://${SNS_HOST}/a.pem`, /must use https/],
      [
        `https://${SNS_HOST}.evil.com/a.pem`,
        /host sns\.us-west-2\.amazonaws\.com\.evil\.com is not an SNS host/,
      ],
      ['https://s3.amazonaws.com/a.pem', /not an SNS host/],
      ['https://evil.example.com/a.pem', /host evil\.example\.com is not an SNS host/],
      ['https://sns.amazonaws.com/a.pem', /not an SNS host/],
      ['https://sns.us_west.amazonaws.com/a.pem', /not an SNS host/],
      [`https://${SNS_HOST}:8443/a.pem`, /not an SNS host/],
      [`https://user@${SNS_HOST}/a.pem`, /user name/],
      [`https://${SNS_HOST}/a.txt`, /must end in \.pem/],
      [`https://${SNS_HOST}/a.pem?x=1`, /must end in \.pem/],
      [`https://${SNS_HOST}/a.pem/`, /must end in \.pem/],
      ['not a url', /not a valid URL/],
    ];
    for (const [url, reason] of refused) assert.match(signingCertUrlProblem(url) ?? 'accepted', reason, url);

    assert.equal(subscribeUrlProblem(`https://${SNS_HOST}/?Action=ConfirmSubscription&Token=x`), undefined);
    assert.equal(
      subscribeUrlProblem('https://sns.cn-northwest-1.amazonaws.com.cn/?Action=ConfirmSubscription'),
      undefined,
    );
    assert.match(
      subscribeUrlProblem(`http://${SNS_HOST}/?Action=ConfirmSubscription`) ?? '',
      /must use https/,
    );
    assert.match(
      subscribeUrlProblem('https://evil.example.com/?Action=ConfirmSubscription') ?? '',
      /not an SNS host/,
    );
    assert.match(subscribeUrlProblem(`https://${SNS_HOST}.evil.com/`) ?? '', /not an SNS host/);
  });
});

describe('verifySnsMessage', () => {
  for (const file of FIXTURE_FILES) {
    it(`verifies the genuine ${file}`, async () => {
      const message = await fixture(file);
      const result = await verifySnsMessage(message, {
        certificates: fixtureStore,
        now: atTimestamp(message),
        maxAgeSeconds: 3600,
      });
      assert.deepEqual(result, { ok: true });
    });

    it(`refuses ${file} with any signed field altered`, async () => {
      const message = await fixture(file);
      for (const field of signedFields(message)) {
        const result = await verifySnsMessage(tampered(message, field), {
          certificates: fixtureStore,
          now: atTimestamp(message),
          maxAgeSeconds: 3600,
        });
        assert.equal(result.ok, false, `altering ${field} must be refused`);
        // Turning a Notification into a confirmation fails earlier, on its missing SubscribeURL.
        if (!(field === 'Type' && message.Type === 'Notification')) {
          assert.ok(
            !result.ok && /Signature does not match/.test(result.reason),
            `${field}: ${JSON.stringify(result)}`,
          );
        }
      }
      const subject: SnsMessage =
        message.Subject === undefined ? { ...message, Subject: 'added' } : { ...message, Subject: undefined };
      if (message.Type === 'Notification') {
        const result = await verifySnsMessage(subject, {
          certificates: fixtureStore,
          now: atTimestamp(message),
          maxAgeSeconds: 3600,
        });
        assert.equal(result.ok, false, 'adding or removing Subject must be refused');
      }
      const badSignature = await verifySnsMessage(
        { ...message, Signature: message.Signature.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) },
        { certificates: fixtureStore, now: atTimestamp(message), maxAgeSeconds: 3600 },
      );
      assert.equal(badSignature.ok, false);
      const garbage = await verifySnsMessage(
        { ...message, Signature: '!!not base64!!' },
        { certificates: fixtureStore, now: atTimestamp(message), maxAgeSeconds: 3600 },
      );
      assert.equal(garbage.ok, false);
    });
  }

  it('ignores the unsigned fields', async () => {
    const message = await fixture('test-notification-no-subject.json');
    const result = await verifySnsMessage(
      { ...message, UnsubscribeURL: 'https://example.com/', MessageAttributes: { a: 1 } },
      { certificates: fixtureStore, now: atTimestamp(message), maxAgeSeconds: 3600 },
    );
    assert.deepEqual(result, { ok: true });
  });

  it('refuses unknown and mismatched SignatureVersions', async () => {
    const v1 = await fixture('test-notification-no-subject.json');
    const options = { certificates: fixtureStore, now: atTimestamp(v1), maxAgeSeconds: 3600 };
    const three = await verifySnsMessage({ ...v1, SignatureVersion: '3' }, options);
    assert.ok(!three.ok && /SignatureVersion "3" is not supported/.test(three.reason));
    const claimsTwo = await verifySnsMessage({ ...v1, SignatureVersion: '2' }, options);
    assert.ok(!claimsTwo.ok && /Signature does not match/.test(claimsTwo.reason));
    const v2 = await fixture('test-notification-signature-v2.json');
    const claimsOne = await verifySnsMessage(
      { ...v2, SignatureVersion: '1' },
      { ...options, now: atTimestamp(v2) },
    );
    assert.equal(claimsOne.ok, false);
  });

  it('refuses a bad SigningCertURL or SubscribeURL before fetching anything', async () => {
    const message = await fixture('test-subscription-confirmation.json');
    const { store, calls } = spyStore();
    const options = { certificates: store, now: atTimestamp(message), maxAgeSeconds: 3600 };
    for (const url of [
      `https://${SNS_HOST}.evil.com/${FIXTURE_CERT}`,
      `https://s3.amazonaws.com/${FIXTURE_CERT}`,
      `http://${SNS_HOST}/${FIXTURE_CERT}`,
      `https://${SNS_HOST}/${FIXTURE_CERT.replace('.pem', '.txt')}`,
    ]) {
      const result = await verifySnsMessage({ ...message, SigningCertURL: url }, options);
      assert.ok(!result.ok && /SigningCertURL/.test(result.reason), `${url}: ${JSON.stringify(result)}`);
    }
    const evilSubscribe = await verifySnsMessage(
      { ...message, SubscribeURL: 'https://evil.example.com/?Action=ConfirmSubscription' },
      options,
    );
    assert.ok(!evilSubscribe.ok && /SubscribeURL host evil\.example\.com/.test(evilSubscribe.reason));
    const badTimestamp = await verifySnsMessage({ ...message, Timestamp: 'yesterday' }, options);
    assert.ok(!badTimestamp.ok && /Timestamp/.test(badTimestamp.reason));
    assert.deepEqual(calls, []);
    // The same spy store fetches once the message is acceptable.
    assert.deepEqual(await verifySnsMessage(message, options), { ok: true });
    assert.equal(calls.length, 1);
  });

  it('refuses messages older than the maximum age, or from the future', async () => {
    const message = await fixture('test-notification-with-subject.json');
    const verify = (now: Date, maxAgeSeconds: number) =>
      verifySnsMessage(message, { certificates: fixtureStore, now, maxAgeSeconds });
    const old = await verify(atTimestamp(message, 3601_000), 3600);
    assert.ok(!old.ok && /3601 s old, older than the maximum of 3600 s/.test(old.reason));
    assert.deepEqual(await verify(atTimestamp(message, 3599_000), 3600), { ok: true });
    const future = await verify(atTimestamp(message, -6 * 60_000), 3600);
    assert.ok(!future.ok && /in the future/.test(future.reason));
    assert.deepEqual(await verify(atTimestamp(message, -4 * 60_000), 3600), { ok: true });
    // 0 turns the age check off: years later the message (and its now-expired certificate) still verifies.
    assert.deepEqual(await verify(new Date('2031-01-01T00:00:00Z'), 0), { ok: true });
  });

  it('gives a reason, not an exception, when the certificate cannot be had', async () => {
    const message = await fixture('test-notification-no-subject.json');
    const options = (certificates: SnsCertificateStore) => ({
      certificates,
      now: atTimestamp(message),
      maxAgeSeconds: 3600,
    });
    const down = spyStore(() => Promise.reject(new Error('connect ECONNREFUSED 1.2.3.4:443')));
    const refused = await verifySnsMessage(message, options(down.store));
    assert.ok(!refused.ok && /Could not get the signing certificate .*ECONNREFUSED/.test(refused.reason));

    const notPem = spyStore(() => Promise.resolve(Buffer.from('<html>hello</html>')));
    const html = await verifySnsMessage(message, options(notPem.store));
    assert.ok(!html.ok && /not a PEM certificate/.test(html.reason));

    const missing = await verifySnsMessage(
      { ...message, SigningCertURL: `https://${SNS_HOST}/SimpleNotificationService-missing.pem` },
      options(fixtureStore),
    );
    assert.ok(
      !missing.ok && missing.reason.includes(path.join(FIXTURES, 'SimpleNotificationService-missing.pem')),
    );
  });

  it('tells a certificate it could not fetch (worth a retry) from one it checked and refused', async () => {
    const message = await fixture('test-notification-no-subject.json');
    const verify = (body: () => Promise<Buffer>) =>
      verifySnsMessage(message, {
        certificates: spyStore(body).store,
        now: atTimestamp(message),
        maxAgeSeconds: 3600,
      });
    for (const error of [
      new Error('connect ECONNREFUSED 1.2.3.4:443'),
      new Error('GET https://sns.us-west-2.amazonaws.com/x.pem timed out after 5000 ms.'),
      new Error('GET https://sns.us-west-2.amazonaws.com/x.pem answered HTTP 502.'),
    ]) {
      const result = await verify(() => Promise.reject(error));
      assert.ok(!result.ok && result.retryable, `${error.message}: ${JSON.stringify(result)}`);
    }
    const notServed = await verify(() => Promise.reject(new CertificateNotServed('answered HTTP 404.')));
    assert.ok(!notServed.ok && !notServed.retryable, JSON.stringify(notServed));
    const notPem = await verify(() => Promise.resolve(Buffer.from('<html>hello</html>')));
    assert.ok(!notPem.ok && !notPem.retryable, JSON.stringify(notPem));
    const tampered = await verifySnsMessage(
      { ...message, Message: `${message.Message}x` },
      { certificates: fixtureStore, now: atTimestamp(message), maxAgeSeconds: 3600 },
    );
    assert.ok(!tampered.ok && !tampered.retryable, JSON.stringify(tampered));
  });

  describe('with certificates fetched over https', () => {
    let dir: string;
    let server: https.Server;
    let port: number;
    let store: SnsCertificateStore;
    const requested: string[] = [];

    before(async () => {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-sns-'));
      const tlsCert = await makeTestCertificate([SNS_HOST]);
      const ca = tlsCert.cert.toString('utf8');
      const genuine = await fs.readFile(path.join(FIXTURES, FIXTURE_CERT));
      server = https.createServer({ key: tlsCert.key, cert: ca }, (req, res) => {
        requested.push(req.url ?? '');
        if (req.url === `/${FIXTURE_CERT}`) res.writeHead(200).end(genuine);
        else if (req.url === '/SimpleNotificationService-moved.pem')
          res.writeHead(301, { location: 'https://evil.example.com/SimpleNotificationService-x.pem' }).end();
        else res.writeHead(404).end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as net.AddressInfo).port;
      const lookup: net.LookupFunction = (_hostname, options, callback) => {
        if (options.all) callback(null, [{ address: '127.0.0.1', family: 4 }]);
        else callback(null, '127.0.0.1', 4);
      };
      store = new SnsCertificateStore({
        // The real store fetches from port 443; point it at the local server instead.
        fetch: async (url) => {
          const local = new URL(url);
          local.port = String(port);
          const response = await httpsGet(local.toString(), { ca, lookup, env: {}, maxBytes: 64 * 1024 });
          if (response.status !== 200) throw new Error(`GET ${url} answered HTTP ${response.status}.`);
          return response.body;
        },
      });
    });

    after(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await fs.rm(dir, { recursive: true, force: true });
    });

    it('verifies a genuine message with the fetched certificate', async () => {
      const message = await fixture('test-notification-signature-v2.json');
      const result = await verifySnsMessage(message, {
        certificates: store,
        now: atTimestamp(message),
        maxAgeSeconds: 60,
      });
      assert.deepEqual(result, { ok: true });
      assert.deepEqual(requested, [`/${FIXTURE_CERT}`]);
    });

    it('refuses when the certificate URL redirects', async () => {
      const message = await fixture('test-notification-with-subject.json');
      const result = await verifySnsMessage(
        { ...message, SigningCertURL: `https://${SNS_HOST}/SimpleNotificationService-moved.pem` },
        { certificates: store, now: atTimestamp(message), maxAgeSeconds: 60 },
      );
      assert.ok(!result.ok, 'a redirect must be refused');
      assert.match(result.reason, /redirect/);
      assert.match(result.reason, /evil\.example\.com/);
    });
  });
});

describe('SnsCertificateStore', () => {
  const certUrl = (name: string) => `https://${SNS_HOST}/${name}.pem`;
  const genuine = () => fs.readFile(path.join(FIXTURES, FIXTURE_CERT));

  it('shares one fetch between concurrent gets of a URL and caches the result', async () => {
    let calls = 0;
    const store = new SnsCertificateStore({
      fetch: async () => {
        calls++;
        await new Promise((resolve) => setTimeout(resolve, 20));
        return genuine();
      },
    });
    const certificates = await Promise.all(Array.from({ length: 5 }, () => store.get(certUrl('a'))));
    assert.equal(calls, 1);
    for (const certificate of certificates) assert.equal(certificate, certificates[0]);
    assert.equal(certificates[0]?.subject, 'CN=sns.amazonaws.com');
    await store.get(certUrl('a'));
    assert.equal(calls, 1);
    await store.get(certUrl('b'));
    assert.equal(calls, 2);
  });

  it('does not cache a failed fetch', async () => {
    let calls = 0;
    const store = new SnsCertificateStore({
      fetch: async () => {
        calls++;
        if (calls === 1) throw new Error('temporarily down');
        return genuine();
      },
    });
    await assert.rejects(store.get(certUrl('a')), /temporarily down/);
    assert.ok(await store.get(certUrl('a')));
    assert.equal(calls, 2);
  });

  it('expires entries after the TTL and evicts the least recently used beyond maxEntries', async () => {
    const fetched: string[] = [];
    const fetch = async (url: string) => {
      fetched.push(url);
      return genuine();
    };
    const short = new SnsCertificateStore({ fetch, ttlMs: 5 });
    await short.get(certUrl('a'));
    await new Promise((resolve) => setTimeout(resolve, 15));
    await short.get(certUrl('a'));
    assert.deepEqual(fetched, [certUrl('a'), certUrl('a')]);

    fetched.length = 0;
    const small = new SnsCertificateStore({ fetch, maxEntries: 2 });
    await small.get(certUrl('a'));
    await small.get(certUrl('b'));
    await small.get(certUrl('a')); // a is now the most recently used
    await small.get(certUrl('c')); // evicts b
    await small.get(certUrl('a'));
    await small.get(certUrl('b'));
    assert.deepEqual(fetched, [certUrl('a'), certUrl('b'), certUrl('c'), certUrl('b')]);
  });

  it('reads certDir by the URL’s last path segment and never fetches', async () => {
    let calls = 0;
    const store = new SnsCertificateStore({
      certDir: FIXTURES,
      fetch: async () => {
        calls++;
        return Buffer.alloc(0);
      },
    });
    const certificate = await store.get(`https://sns.eu-west-1.amazonaws.com/${FIXTURE_CERT}`);
    assert.equal(certificate.subject, 'CN=sns.amazonaws.com');
    await assert.rejects(store.get(certUrl('SimpleNotificationService-absent')), (error: Error) => {
      assert.ok(error.message.includes(path.join(FIXTURES, 'SimpleNotificationService-absent.pem')));
      return true;
    });
    await assert.rejects(store.get('https://evil.example.com/x.pem'), /not an SNS host/);
    assert.equal(calls, 0);
  });
});

describe('signSnsMessage', () => {
  let dir: string;
  let signer: { certPath: string; keyPem: string; certUrl: string };
  let store: SnsCertificateStore;

  before(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'vigil-sns-signer-'));
    signer = await createTestSigningCertificate(dir);
    store = new SnsCertificateStore({ certDir: dir });
  });

  after(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('writes the certificate where its URL says', async () => {
    assert.equal(signer.certPath, path.join(dir, 'SimpleNotificationService-test.pem'));
    assert.equal(signer.certUrl, 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem');
    assert.equal(signingCertUrlProblem(signer.certUrl), undefined);
    assert.deepEqual(await fs.readdir(dir), ['SimpleNotificationService-test.pem']);
  });

  for (const version of ['1', '2'] as const) {
    it(`round-trips SignatureVersion ${version} through verifySnsMessage`, async () => {
      const now = new Date();
      const notification = signSnsMessage(
        {
          Type: 'Notification',
          MessageId: 'f0b0b1c2-0000-4000-8000-000000000001',
          TopicArn: 'arn:aws:sns:us-east-1:123456789012:vigil',
          Subject: 'Security Hub finding',
          Message: JSON.stringify({ detail: { findings: [] } }),
          Timestamp: now.toISOString(),
          UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
        },
        signer.keyPem,
        signer.certUrl,
        version,
      );
      assert.equal(notification.SignatureVersion, version);
      assert.equal(notification.SigningCertURL, signer.certUrl);
      const options = { certificates: store, now, maxAgeSeconds: 3600 };
      assert.deepEqual(await verifySnsMessage(notification, options), { ok: true });
      assert.equal((await verifySnsMessage({ ...notification, Message: '{}' }, options)).ok, false);

      const confirmation = signSnsMessage(
        {
          Type: 'SubscriptionConfirmation',
          MessageId: 'f0b0b1c2-0000-4000-8000-000000000002',
          TopicArn: 'arn:aws:sns:us-east-1:123456789012:vigil',
          Token: 'token',
          Message: 'You have chosen to subscribe.',
          SubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=token',
          Timestamp: now.toISOString(),
        },
        signer.keyPem,
        signer.certUrl,
        version,
      );
      assert.deepEqual(await verifySnsMessage(confirmation, options), { ok: true });
    });
  }

  it('is refused when signed by another key or outside the certificate’s validity', async () => {
    const fields = {
      Type: 'Notification' as const,
      MessageId: 'm',
      TopicArn: 'arn:aws:sns:us-east-1:123456789012:vigil',
      Message: 'hello',
      Timestamp: new Date().toISOString(),
      UnsubscribeURL: 'https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe',
    };
    // Our key, but claiming the genuine SNS certificate.
    const forged = signSnsMessage(
      { ...fields, Timestamp: '2026-03-06T20:00:00.000Z' },
      signer.keyPem,
      `https://${SNS_HOST}/${FIXTURE_CERT}`,
    );
    const forgedResult = await verifySnsMessage(forged, {
      certificates: fixtureStore,
      now: new Date('2026-03-06T20:00:00Z'),
      maxAgeSeconds: 3600,
    });
    assert.ok(!forgedResult.ok && /Signature does not match/.test(forgedResult.reason));

    const beforeValidity = signSnsMessage(
      { ...fields, Timestamp: new Date(Date.now() - 3 * 86400_000).toISOString() },
      signer.keyPem,
      signer.certUrl,
    );
    const result = await verifySnsMessage(beforeValidity, { certificates: store, maxAgeSeconds: 0 });
    assert.ok(!result.ok && /not valid at the message Timestamp/.test(result.reason));
  });
});
